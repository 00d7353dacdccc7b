"""Property test of the incremental XOR: klayout -b -r check_cases.py -rd seed=N -rd cases=N
-rd folder=TMP -rd strmxor=PATH

For every case: a random layout A, B = A with random edits (restructuring ones included),
written as GDS or OASIS and sometimes on a finer grid. lyipc's auto mode (structural diff,
windows, fallbacks) must give the same per-layer verdict as strmxor (KLayout's own tool, as an
independent oracle: its summary, where a layer present in one layout only is a difference) and
the same difference area as strmxor's XOR layout (`-l`: such a layer output whole), and both
the same as lyipc's full flat XOR. Layers holding only texts are left out: strmxor reports one
present on one side, lyipc ignores texts by design. Zero-area shapes (zero-width paths,
degenerate boxes) on a layer both files have are invisible to strmxor's XOR: for them a plain
comparison of the flattened shapes is the oracle. Polygon counts are not compared: where two
difference polygons touch at a corner, KLayout may return them as one polygon or two,
depending on the other edges in the boolean operation. Prints one JSON line per failing case
and a summary line last."""

import json
import os
import random
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "klayout"))

import pya

import lyipc_structure
import lyipc_windows
from lyipc_xor import run_xor
from random_layouts import random_edits, random_layout

AREA_EPSILON = 1e-6  # um^2; areas are exact multiples of dbu^2, printed to 1e-9


def write(layout, path, dbu=None):
    options = pya.SaveLayoutOptions()
    options.set_format_from_filename(path)
    if dbu is not None:
        options.dbu = dbu  # the writer scales every coordinate to the new grid
    layout.write(path, options)


def strmxor_run(strmxor, args):
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [os.path.dirname(strmxor), env.get("LD_LIBRARY_PATH")]))
    return subprocess.run([strmxor] + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def strmxor_verdicts(strmxor, a, b):
    """Layer keys strmxor's summary lists as different (or missing on one side)."""
    run = strmxor_run(strmxor, [a, b])
    text = (run.stdout + run.stderr).decode(errors="replace")
    if run.returncode not in (0, 1) or (run.returncode == 1 and "Result summary" not in text):
        raise RuntimeError("strmxor failed (%d): %s" % (run.returncode, text))
    different = set()
    for line in text.split("\n"):
        match = re.match(r"^  (\S.*?) +(\S+) +(\d+|\(no such layer in (?:first|second) layout\))\s*$", line)
        if match and match.group(1) != "Layer":
            numbers = re.search(r"(\d+)/(\d+)\)?$", match.group(1))
            different.add("%s/%s" % numbers.groups() if numbers else match.group(1))
    return different


def strmxor_areas(strmxor, a, b, out):
    """{layer key: XOR area in um^2} from strmxor's output layout; {} when it found nothing."""
    if os.path.exists(out):
        os.remove(out)
    run = strmxor_run(strmxor, ["-s", "-l", a, b, out])
    if run.returncode not in (0, 1) or (run.returncode == 1 and not os.path.exists(out)):
        raise RuntimeError("strmxor failed (%d): %s" % (run.returncode, run.stderr.decode(errors="replace")))
    areas = {}
    if run.returncode == 0:
        return areas
    layout = pya.Layout()
    layout.read(out)
    for top in layout.top_cells():
        for li, info in zip(layout.layer_indexes(), layout.layer_infos()):
            area = pya.Region(top.begin_shapes_rec(li)).area() * layout.dbu * layout.dbu
            if area > 0:
                key = "%d/%d" % (info.layer, info.datatype)
                areas[key] = areas.get(key, 0.0) + area
    return areas


def lyipc_areas(result):
    """Areas of the layers present on both sides (a layer on one side only is counted shape
    by shape as drawn, strmxor -l merges it: their verdicts are compared, not their areas)."""
    return {layer["key"]: layer["xorArea"] for layer in result["layers"] if layer["xorArea"] > 0 and not layer["status"].startswith("only")}


def one_sided_layers(result):
    return set(layer["key"] for layer in result["layers"] if layer["status"].startswith("only"))


def lyipc_verdicts(result):
    return set(layer["key"] for layer in result["layers"] if layer["status"] != "same")


def geometry_layers(paths):
    """Layer keys with a shape other than a text in any of the layouts."""
    keys = set()
    for path in paths:
        layout = pya.Layout()
        layout.read(path)
        for li, info in zip(layout.layer_indexes(), layout.layer_infos()):
            for cell in layout.each_cell():
                if any(True for _ in cell.shapes(li).each(pya.Shapes.SAll & ~pya.Shapes.STexts)):
                    keys.add("%d/%d" % (info.layer, info.datatype))
                    break
    return keys


def zero_area_shapes(path):
    """{layer key: set of zero-area shapes of the flattened top cell}, each as the set of its
    segments (end points sorted): strmxor cannot see such shapes on a layer both files have,
    so this is the oracle for them (the generator adds them whole, never split)."""
    layout = pya.Layout()
    layout.read(path)
    found = {}
    top = layout.top_cells()[0]
    for li, info in zip(layout.layer_indexes(), layout.layer_infos()):
        shapes = set()
        it = top.begin_shapes_rec(li)
        while not it.at_end():
            shape = it.shape()
            if not shape.is_text():
                polygon = shape.polygon.transformed(it.trans())
                if polygon.area() == 0:
                    segments = frozenset(tuple(sorted([(e.p1.x, e.p1.y), (e.p2.x, e.p2.y)])) for e in polygon.each_edge() if e.p1 != e.p2)
                    if segments:
                        shapes.add(segments)
            it.next()
        if shapes:
            found["%d/%d" % (info.layer, info.datatype)] = shapes
    return found


def zero_area_verdicts(a, b):
    """Layer keys where one file has a zero-area shape the other has not."""
    za, zb = zero_area_shapes(a), zero_area_shapes(b)
    return set(key for key in set(za) | set(zb) if za.get(key, set()) != zb.get(key, set()))


def same_areas(x, y):
    return set(x) == set(y) and all(abs(x[k] - y[k]) <= AREA_EPSILON for k in x)


DEFAULTS = (lyipc_windows.MAX_CELLS_TO_PROBE, lyipc_windows.PROBE_FROM_SHAPES, lyipc_structure.MAX_LISTED_SHAPES)


def choose_paths(index):
    """Small layouts would always take the cheapest path; every fourth case takes each of the
    others: changed shapes listed per cell after the diff (probes included), and a diff that
    stops listing after two shapes. Every case runs the structural diff."""
    cells, probe_from, listed = DEFAULTS
    if index % 4 == 1:
        cells, probe_from = 0, 4
    elif index % 4 == 2:
        listed = 2
    lyipc_windows.MAX_CELLS_TO_PROBE, lyipc_windows.PROBE_FROM_SHAPES = cells, probe_from
    lyipc_structure.MAX_LISTED_SHAPES = listed



def run_case(rnd, index, folder, strmxor):
    layout_a = random_layout(rnd)
    layout_b = layout_a.dup()
    edits = random_edits(rnd, layout_b)
    a = os.path.join(folder, "a%d.gds" % index)
    b = os.path.join(folder, "b%d.%s" % (index, rnd.choice(["gds", "gds", "oas"])))
    write(layout_a, a)
    finer = rnd.random() < 0.1
    write(layout_b, b, 0.0005 if finer else None)
    if finer:
        edits.append("B on a 0.5 nm grid")
    if b.endswith(".oas"):
        edits.append("B as OASIS")

    choose_paths(index)
    # The random layouts are small: auto would XOR them in full without a structural diff.
    auto = run_xor({"a": a, "b": b, "mode": "auto", "structure": "always"})
    # ...and without it, as they are: a flat XOR where the same polygons do not settle a layer.
    small = run_xor({"a": a, "b": b, "mode": "auto"})
    full = run_xor({"a": a, "b": b, "mode": "flat"})
    oracle = strmxor_areas(strmxor, a, b, os.path.join(folder, "x%d.gds" % index))
    oracle = dict((k, v) for k, v in oracle.items() if k not in one_sided_layers(full))
    verdicts = (strmxor_verdicts(strmxor, a, b) & geometry_layers([a, b])) | zero_area_verdicts(a, b)
    problems = []
    if not same_areas(lyipc_areas(auto), oracle):
        problems.append("auto vs strmxor: areas")
    if not same_areas(lyipc_areas(full), oracle):
        problems.append("flat vs strmxor: areas")
    if not same_areas(lyipc_areas(small), oracle):
        problems.append("auto without the structural diff vs strmxor: areas")
    if lyipc_verdicts(auto) != verdicts:
        problems.append("auto vs strmxor: verdicts")
    if lyipc_verdicts(small) != verdicts:
        problems.append("auto without the structural diff vs strmxor: verdicts")
    if lyipc_verdicts(full) != verdicts:
        problems.append("flat vs strmxor: verdicts")
    if auto["identical"] != (not lyipc_verdicts(auto)):
        problems.append("auto: verdict and layers disagree")
    modes = [layer["mode"] for layer in auto["layers"]]
    same_polygons = sum(1 for layer in small["layers"] if layer["modeReason"].endswith("no boolean needed"))
    for path in (a, b):
        os.remove(path)
    return {
        "case": index,
        "edits": edits,
        "problems": problems,
        "modes": modes,
        "samePolygons": same_polygons,
        "auto": lyipc_areas(auto),
        "flat": lyipc_areas(full),
        "strmxor": oracle,
        "verdicts": {"auto": sorted(lyipc_verdicts(auto)), "flat": sorted(lyipc_verdicts(full)), "strmxor": sorted(verdicts)},
        "reasons": sorted(set(layer["modeReason"] for layer in auto["layers"] if layer["mode"] not in ("structural", "windowed"))),
    }


def main():
    seed = int(globals().get("seed", "1"))
    cases = int(globals().get("cases", "100"))
    folder = globals()["folder"]
    strmxor = globals()["strmxor"]
    started = time.time()
    modes = {}
    same_polygons = 0
    failures = 0
    for index in range(cases):
        # One generator per case: a failing case replays alone with its own seed.
        case_seed = seed * 100003 + index
        outcome = run_case(random.Random(case_seed), index, folder, strmxor)
        for mode in outcome["modes"]:
            modes[mode] = modes.get(mode, 0) + 1
        same_polygons += outcome["samePolygons"]
        if outcome["problems"]:
            failures += 1
            outcome["caseSeed"] = case_seed
            print(json.dumps({"failure": outcome}))
    print(json.dumps({"summary": {"seed": seed, "cases": cases, "failures": failures, "layerModes": modes, "samePolygonLayers": same_polygons,
                                  "seconds": round(time.time() - started, 1)}}))
    sys.stdout.flush()


main()
