"""Property test of the incremental XOR: klayout -b -r check_cases.py -rd seed=N -rd cases=N
-rd folder=TMP -rd strmxor=PATH

For every case: a random layout A, B = A with random edits, written as GDS or OASIS and
sometimes on a finer grid. lyipc's auto mode (structural diff, windows, fallbacks) must give
the same per-layer verdict and difference area as strmxor (KLayout's own tool, as an
independent oracle) and the same as lyipc's full flat XOR. Polygon counts are not compared:
where two difference polygons touch at a corner, KLayout may return them as one polygon or
two, depending on the other edges in the boolean operation. Prints one JSON line per failing
case and a summary line last."""

import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "klayout"))

import pya  # noqa: E402

import lyipc_structure  # noqa: E402
import lyipc_windows  # noqa: E402
from lyipc_xor import run_xor  # noqa: E402
from random_layouts import random_edits, random_layout  # noqa: E402

AREA_EPSILON = 1e-6  # um^2; areas are exact multiples of dbu^2, printed to 1e-9


def write(layout, path, dbu=None):
    options = pya.SaveLayoutOptions()
    options.set_format_from_filename(path)
    if dbu is not None:
        options.dbu = dbu  # the writer scales every coordinate to the new grid
    layout.write(path, options)


def strmxor_areas(strmxor, a, b, out):
    """{layer key: XOR area in um^2} from strmxor's output layout; {} when it found nothing."""
    if os.path.exists(out):
        os.remove(out)
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [os.path.dirname(strmxor), env.get("LD_LIBRARY_PATH")]))
    run = subprocess.run([strmxor, "-s", "-l", a, b, out], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
    return {layer["key"]: layer["xorArea"] for layer in result["layers"] if layer["xorCount"] > 0}


def same_areas(x, y):
    return set(x) == set(y) and all(abs(x[k] - y[k]) <= AREA_EPSILON for k in x)


DEFAULTS = (lyipc_windows.MAX_CELLS_TO_PROBE, lyipc_windows.PROBE_FROM_SHAPES, lyipc_structure.MAX_LISTED_SHAPES)


def choose_paths(index):
    """Small layouts would always take the cheapest path; every fourth case takes each of the
    others: changed shapes listed per cell after the diff (probes included), and a diff that
    stops listing after two shapes."""
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
    auto = run_xor({"a": a, "b": b, "mode": "auto"})
    full = run_xor({"a": a, "b": b, "mode": "flat"})
    oracle = strmxor_areas(strmxor, a, b, os.path.join(folder, "x%d.gds" % index))
    problems = []
    if not same_areas(lyipc_areas(auto), oracle):
        problems.append("auto vs strmxor")
    if not same_areas(lyipc_areas(full), oracle):
        problems.append("flat vs strmxor")
    modes = [layer["mode"] for layer in auto["layers"]]
    for path in (a, b):
        os.remove(path)
    return {
        "case": index,
        "edits": edits,
        "problems": problems,
        "modes": modes,
        "auto": lyipc_areas(auto),
        "flat": lyipc_areas(full),
        "strmxor": oracle,
        "reasons": sorted(set(layer["modeReason"] for layer in auto["layers"] if layer["mode"] not in ("structural", "windowed"))),
    }


def main():
    seed = int(globals().get("seed", "1"))
    cases = int(globals().get("cases", "100"))
    folder = globals()["folder"]
    strmxor = globals()["strmxor"]
    started = time.time()
    modes = {}
    failures = 0
    for index in range(cases):
        # One generator per case: a failing case replays alone with its own seed.
        case_seed = seed * 100003 + index
        outcome = run_case(random.Random(case_seed), index, folder, strmxor)
        for mode in outcome["modes"]:
            modes[mode] = modes.get(mode, 0) + 1
        if outcome["problems"]:
            failures += 1
            outcome["caseSeed"] = case_seed
            print(json.dumps({"failure": outcome}))
    print(json.dumps({"summary": {"seed": seed, "cases": cases, "failures": failures, "layerModes": modes,
                                  "seconds": round(time.time() - started, 1)}}))
    sys.stdout.flush()


main()
