"""Geometric XOR of two layouts, per layer, inside KLayout (pya only).

The runner validates options; this module trusts their types but not the files."""

import math
import time

import pya

from lyipc_errors import JobError, klayout_message
from lyipc_markers import MarkerDatabase
from lyipc_structure import Changes, structural_changes
from lyipc_windows import Fallback, changes_look_local, layer_windows

# Flat shapes per stored shape from which deep (hierarchical) processing pays off.
DEEP_MIN_REUSE = 2.0
# Flat shapes (A + B) on a layer from which tiles + threads beat one flat boolean.
TILED_MIN_SHAPES = 200000
# Tiles aim at about this many flat shapes each; fewer makes per-tile overhead dominate,
# more makes the merges inside a tile slow (measured on 450k-box layers).
TILE_TARGET_SHAPES = 4000
MODES = ("auto", "deep", "flat", "tiled")
# The full XOR engines; auto may also answer "structural" or "windowed" (lyipc_windows).
ENGINES = ("deep", "flat", "tiled")


def millis(start):
    return int(round((time.time() - start) * 1000))


def read_layout(path, side):
    layout = pya.Layout()
    try:
        layout.read(path)
    except Exception as exc:  # KLayout raises RuntimeError with the reader's message
        raise JobError("READ_ERROR", "%s: cannot read layout %s: %s" % (path, side, klayout_message(exc)), path)
    return layout


def clean_dbu(dbu):
    """0.0009999999999999998 (OASIS stores the dbu as a ratio) is 0.001: the same grid."""
    return float("%.12g" % dbu)


def layer_key(info):
    """Layers pair by layer/datatype; name-only layers (OASIS) pair by name."""
    if info.layer >= 0:
        return (info.layer, info.datatype)
    return (info.name,)


def layer_json(key, name):
    if len(key) == 2:
        entry = {"layer": key[0], "datatype": key[1], "key": "%d/%d" % key}
    else:
        entry = {"layer": None, "datatype": None, "key": key[0]}
    entry["name"] = name or None
    return entry


def layer_selected(key, include, exclude):
    def matches(spec):
        if len(key) != 2:
            return False
        return spec[0] == key[0] and (spec[1] is None or spec[1] == key[1])

    if include and not any(matches(s) for s in include):
        return False
    return not any(matches(s) for s in exclude or [])


# ---------------------------------------------------------------- top cells


def find_cell(layout, name, path, side, option):
    cell = layout.cell(name)
    if cell is None:
        tops = ", ".join(sorted(c.name for c in layout.top_cells())) or "none"
        raise JobError(
            "TOP_CELL_NOT_FOUND",
            "%s: no cell named '%s' in layout %s (%s; top cells: %s)" % (path, name, side, option, tops),
            path,
        )
    return cell


def pair_top_cells(la, lb, params):
    """Returns [(cell_a or None, cell_b or None)]: which cells are compared with which."""
    top_a, top_b = params.get("topA"), params.get("topB")
    if top_a or top_b:
        cell_a = find_cell(la, top_a, params["a"], "A", "--top-a") if top_a else None
        cell_b = find_cell(lb, top_b, params["b"], "B", "--top-b") if top_b else None
        if cell_a is None:
            cell_a = partner(la, cell_b.name, params["a"], "A", "--top-a")
        if cell_b is None:
            cell_b = partner(lb, cell_a.name, params["b"], "B", "--top-b")
        return [(cell_a, cell_b)]
    tops_a, tops_b = list(la.top_cells()), list(lb.top_cells())
    if len(tops_a) == 1 and len(tops_b) == 1:
        return [(tops_a[0], tops_b[0])]
    by_name_a = {c.name: c for c in tops_a}
    by_name_b = {c.name: c for c in tops_b}
    names = sorted(set(by_name_a) | set(by_name_b))
    return [(by_name_a.get(n), by_name_b.get(n)) for n in names]


def partner(layout, name, path, side, option):
    """The cell to compare with a named cell of the other layout: same name, else the only top."""
    cell = layout.cell(name)
    if cell is not None:
        return cell
    tops = list(layout.top_cells())
    if len(tops) == 1:
        return tops[0]
    raise JobError(
        "TOP_CELL_AMBIGUOUS",
        "%s: layout %s has no cell '%s' and %d top cells (%s); name one with %s"
        % (path, side, name, len(tops), ", ".join(sorted(c.name for c in tops)), option),
        path,
    )


# ---------------------------------------------------------------- one side of the comparison


def geometry_count(shapes):
    """Shapes that take part in the XOR: everything but texts."""
    n = shapes.size()
    if n:
        n -= sum(1 for _ in shapes.each(pya.Shapes.STexts))
    return n


class Side:
    """One input layout: its layers by key, its scaling to the common dbu, and shape counts
    computed from the hierarchy without flattening anything."""

    def __init__(self, layout, dbu):
        self.layout = layout
        same_grid = clean_dbu(layout.dbu) == dbu
        self.trans = pya.ICplxTrans() if same_grid else pya.ICplxTrans(layout.dbu / dbu)
        self.layers = {layer_key(i): (li, i.name) for li, i in zip(layout.layer_indexes(), layout.layer_infos())}
        self._placements = {}
        self._transforms = {}

    def placements(self, top):
        """[(cell, times placed under `top`)] for every cell below it (array members count one each)."""
        ci_top = top.cell_index()
        if ci_top not in self._placements:
            mult = {ci_top: 1}
            cells = []
            magnified = False
            for ci in self.layout.each_cell_top_down():
                m = mult.get(ci)
                if not m:
                    continue
                cell = self.layout.cell(ci)
                cells.append((cell, m))
                for inst in cell.each_inst():
                    child = inst.cell_index
                    mult[child] = mult.get(child, 0) + m * inst.size()
                    magnified = magnified or inst.is_complex()
            self._placements[ci_top] = (cells, mult, magnified)
        return self._placements[ci_top][0]

    def off_grid_placements(self, top):
        """True when a placement under `top` magnifies or rotates by an odd angle. Deep mode
        then maps shapes into child cells through the inverse transformation and rounds:
        measured here, its XOR area differs from the flat XOR (and strmxor -u's from strmxor's)."""
        self.placements(top)
        return self._placements[top.cell_index()][2]

    def times_placed(self, top, ci):
        self.placements(top)
        return self._placements[top.cell_index()][1].get(ci, 0)

    def transforms(self, top, ci):
        """Every placement of cell `ci` under `top` as a transformation into top coordinates
        (array members one by one). Callers bound the count with times_placed first."""
        ci_top = top.cell_index()
        memo = self._transforms.setdefault(ci_top, {ci_top: [pya.ICplxTrans()]})
        self.placements(top)
        under = self._placements[ci_top][1]

        def up(index):
            if index in memo:
                return memo[index]
            found = []
            for parent in self.layout.cell(index).each_parent_inst():
                parent_index = parent.parent_cell_index()
                if parent_index not in under:
                    continue  # a parent outside this top cell's tree
                members = list(parent.child_inst().cell_inst.each_cplx_trans())
                for outer in up(parent_index):
                    found.extend(outer * member for member in members)
            memo[index] = found
            return found

        return up(ci)

    def layer_index(self, key):
        return self.layers.get(key, (None,))[0]

    def counts(self, top, key):
        """(stored, flat) geometry counts of a layer under `top`."""
        li = self.layers.get(key, (None,))[0]
        if top is None or li is None:
            return 0, 0
        stored = flat = 0
        for cell, m in self.placements(top):
            n = geometry_count(cell.shapes(li))
            stored += n
            flat += n * m
        return stored, flat

    def source(self, top, key):
        """(cell, layer index, trans) to read a layer under `top` from, or None if there is none."""
        li = self.layers.get(key, (None,))[0]
        if top is None or li is None:
            return None
        return top, li, self.trans


# ---------------------------------------------------------------- engine modes


def choose_mode(requested, stored, flat, off_grid=False):
    if requested != "auto":
        return requested, "requested"
    if stored and flat >= DEEP_MIN_REUSE * stored and not off_grid:
        return "deep", "hierarchical: %d stored shapes stand for %d" % (stored, flat)
    if off_grid and flat >= TILED_MIN_SHAPES:
        return "tiled", "magnified or rotated placements, where deep mode rounds: %d shapes" % flat
    if off_grid:
        return "flat", "magnified or rotated placements, where deep mode rounds: %d shapes" % flat
    if flat >= TILED_MIN_SHAPES:
        return "tiled", "flat and large: %d shapes" % flat
    return "flat", "flat and small: %d shapes" % flat


def auto_tile_size(box_um, flat, threads):
    """Tile edge in um so that tiles hold about TILE_TARGET_SHAPES shapes, at least 2 per thread."""
    area = max(box_um.width(), 1e-3) * max(box_um.height(), 1e-3)
    tiles = max(2 * threads, int(math.ceil(flat / float(TILE_TARGET_SHAPES))))
    return max(1.0, math.sqrt(area / tiles))


def region_of(source, mode, dss):
    if source is None:
        return pya.Region()
    cell, li, trans = source
    if mode == "deep":
        return pya.Region(cell.begin_shapes_rec(li), dss, trans)
    return pya.Region(cell.begin_shapes_rec(li), trans)


def xor_pair(source_a, source_b, mode, ctx):
    """XOR of one layer of one top-cell pair, in the common dbu. Returns a Region."""
    if mode == "tiled":
        return tiled_xor(source_a, source_b, ctx)
    a = region_of(source_a, mode, ctx["dss"])
    b = region_of(source_b, mode, ctx["dss"])
    if source_a is None or source_b is None:
        # Only one side: the difference is that side, merged like a boolean result.
        return (a if source_b is None else b).merged()
    return a ^ b


def tiled_xor(source_a, source_b, ctx):
    tp = pya.TilingProcessor()
    box = pya.Box()
    for name, source in (("a", source_a), ("b", source_b)):
        if source is None:
            tp.input(name, pya.Region())
            continue
        cell, li, trans = source
        # The tiling processor scales every input from its layout's dbu to tp.dbu itself.
        tp.input(name, cell.begin_shapes_rec(li))
        box += trans * cell.bbox_per_layer(li)
    tile = ctx["tileSize"] or auto_tile_size(box.to_dtype(ctx["dbu"]), ctx["flat"], ctx["threads"])
    ctx["tileUsed"] = tile
    out = pya.Region()
    tp.output("o", out)
    tp.dbu = ctx["dbu"]
    tp.tile_size(tile, tile)
    tp.threads = ctx["threads"]
    tp.queue("_output(o, a ^ b)")
    tp.execute("lyipc-diff XOR")
    # Tiles cut difference polygons; merging heals the cuts so counts match a flat XOR.
    out.merge()
    return out


def split_slivers(region, tolerance_dbu):
    """(real, slivers): slivers are difference polygons no wider than the tolerance anywhere."""
    half = int(tolerance_dbu // 2)
    if half <= 0 or region.is_empty():
        return region, pya.Region()
    core = region.sized(-half)
    return region.interacting(core), region.not_interacting(core)


def um_box(box, dbu):
    if box.empty():
        return None
    d = box.to_dtype(dbu)
    return [round(d.left, 6), round(d.bottom, 6), round(d.right, 6), round(d.top, 6)]


# ---------------------------------------------------------------- output layout


class XorLayout:
    """Differences on their original layer numbers, one top cell per compared pair; built
    only when something differs, pruned of empty cells before writing."""

    def __init__(self, dbu):
        self.dbu = dbu
        self.layout = None
        self.cells = {}

    def add(self, cell_name, key, region):
        if region.is_empty():
            return
        if self.layout is None:
            self.layout = pya.Layout()
            self.layout.dbu = self.dbu
        if cell_name not in self.cells:
            self.cells[cell_name] = self.layout.create_cell(cell_name).cell_index()
        info = pya.LayerInfo(key[0], key[1]) if len(key) == 2 else pya.LayerInfo(key[0])
        li = self.layout.layer(info)
        ci = self.cells[cell_name]
        if region.is_deep():
            region.insert_into(self.layout, ci, li)
        else:
            self.layout.cell(ci).shapes(li).insert(region)

    def write(self, path):
        layout = self.layout
        for ci in list(layout.each_cell_bottom_up()):
            cell = layout.cell(ci)
            if cell is not None and cell.is_empty():
                layout.delete_cell(ci)
        options = pya.SaveLayoutOptions()
        options.set_format_from_filename(path)
        try:
            layout.write(path, options)
        except Exception as exc:
            raise JobError("WRITE_ERROR", "%s: cannot write XOR layout: %s" % (path, klayout_message(exc)), path)


# ---------------------------------------------------------------- the job


def run_xor(params):
    started = time.time()
    mode_requested = params.get("mode") or "auto"
    if mode_requested not in MODES:
        raise JobError("BAD_REQUEST", "unknown mode '%s'" % mode_requested)
    threads = max(1, int(params.get("threads") or 1))
    tolerance = float(params.get("tolerance") or 0.0)
    max_markers = int(params["maxMarkers"]) if params.get("maxMarkers") is not None else 1000

    la = read_layout(params["a"], "A")
    lb = read_layout(params["b"], "B")
    read_ms = millis(started)

    dbu = clean_dbu(min(la.dbu, lb.dbu))
    side_a, side_b = Side(la, dbu), Side(lb, dbu)
    pairs = pair_top_cells(la, lb, params)
    keys = [k for k in set(side_a.layers) | set(side_b.layers)
            if layer_selected(k, params.get("layers"), params.get("ignoreLayers"))]
    keys.sort(key=lambda k: (len(k) != 2, k))

    xor_started = time.time()
    # auto first asks LayoutDiff where the layouts differ (lyipc_structure); a forced mode
    # runs its engine on every layer.
    changes = None
    if mode_requested == "auto":
        changes = [pair_changes(ca, cb, side_a, side_b) for ca, cb in pairs]
    structure_ms = millis(xor_started)
    dss = pya.DeepShapeStore()
    dss.threads = threads
    out = XorLayout(dbu)
    markers = MarkerDatabase(dbu, max_markers, "lyipc-diff: %s vs %s" % (params["a"], params["b"]))
    layers = []
    for key in keys:
        layer = compare_layer(key, side_a, side_b, pairs, out, markers, {
            "changes": changes, "mode": mode_requested, "dss": dss, "dbu": dbu, "threads": threads,
            "tileSize": params.get("tileSize"), "tolerance": tolerance,
        })
        if layer is not None:
            layers.append(layer)
    xor_ms = millis(xor_started)

    identical = not any(l["xorCount"] for l in layers)
    write_started = time.time()
    wrote = {"out": False, "rdb": False}
    if not identical:
        if params.get("out") and out.layout is not None:
            out.write(params["out"])
            wrote["out"] = True
        if params.get("rdb"):
            try:
                markers.save(params["rdb"], params.get("outFinal"))
            except Exception as exc:
                raise JobError("WRITE_ERROR", "%s: cannot write marker database: %s"
                               % (params["rdb"], klayout_message(exc)), params["rdb"])
            wrote["rdb"] = True

    return {
        "identical": identical,
        "a": {"dbu": clean_dbu(la.dbu), "topCells": [c.name for c in la.top_cells()]},
        "b": {"dbu": clean_dbu(lb.dbu), "topCells": [c.name for c in lb.top_cells()]},
        "dbu": dbu,
        "topCells": [pair_json(ca, cb) for ca, cb in pairs],
        "layers": layers,
        "wrote": wrote,
        "timings": {"readMs": read_ms, "structureMs": structure_ms, "xorMs": xor_ms, "writeMs": millis(write_started)},
    }


# ---------------------------------------------------------------- incremental (auto)


def pair_changes(ca, cb, side_a, side_b):
    if ca is None or cb is None:
        return None  # an unmatched top cell: all its geometry is a difference
    dbu_a, dbu_b = clean_dbu(side_a.layout.dbu), clean_dbu(side_b.layout.dbu)
    if dbu_a != dbu_b:
        # LayoutDiff compares raw coordinates; on two grids nothing can be concluded.
        changes = Changes()
        changes.blocker = "the database units differ (%g and %g um)" % (dbu_a, dbu_b)
        return changes
    return structural_changes(ca, cb, layer_key, changes_look_local(ca, cb, side_a, side_b))


def plan_layer(key, pairs, side_a, side_b, changes):
    """How auto compares one layer: ("structural", reason), ("windowed", reason, windows per
    pair) or ("full", reason) when the structural diff cannot narrow the XOR down."""
    windows = []
    for (ca, cb), pair in zip(pairs, changes):
        if pair is None:
            name = (ca or cb).name
            return ("full", "top cell %s has no partner" % name)
        if pair.blocker:
            return ("full", pair.blocker)
        if key in pair.one_sided_layers:
            return ("full", "the layer exists in one layout only")
        try:
            windows.append(layer_windows(key, pair, side_a, side_b, ca, cb))
        except Fallback as exc:
            return ("full", str(exc))
    count = sum(w.count() for w in windows)
    if count == 0:
        return ("structural", "LayoutDiff found the same shapes in every cell and the same instances")
    cells = sum(len(p.cells) for p in changes)
    return ("windowed", "LayoutDiff found changes in %s; XOR only in %s around them"
            % (plural(cells, "cell"), plural(count, "window")), windows)


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def windowed_xor(source_a, source_b, windows):
    """The XOR of both layers clipped to the windows: outside them the layouts agree."""
    def clipped(source):
        if source is None:
            return pya.Region()
        cell, li, trans = source
        shapes = pya.RecursiveShapeIterator(cell.layout(), cell, li, windows, False)
        return pya.Region(shapes, trans) & windows
    return clipped(source_a) ^ clipped(source_b)


def compare_layer(key, side_a, side_b, pairs, out, markers, ctx):
    """XOR one layer over all top-cell pairs; adds differences to `out` and `markers`.
    Returns the layer's result entry, or None when neither side has geometry on it."""
    started = time.time()
    plan = plan_layer(key, pairs, side_a, side_b, ctx["changes"]) if ctx["changes"] is not None else None
    proven = plan is not None and plan[0] == "structural"
    stored = flat_a = flat_b = 0
    for ca, cb in pairs:
        s, f = side_a.counts(ca, key)
        stored, flat_a = stored + s, flat_a + f
        if not proven:  # proven equal: B's counts are A's, no need to walk B
            s, f = side_b.counts(cb, key)
            stored, flat_b = stored + s, flat_b + f
    if proven:
        flat_b = flat_a
    if flat_a == 0 and flat_b == 0:
        return None  # declared but empty (or texts only) on both sides
    if plan is not None and plan[0] in ("structural", "windowed"):
        mode, reason = plan[0], plan[1]
    else:
        off_grid = any((ca is not None and side_a.off_grid_placements(ca)) or (cb is not None and side_b.off_grid_placements(cb))
                       for ca, cb in pairs)
        mode, reason = choose_mode(ctx["mode"], stored, flat_a + flat_b, off_grid)
    fallback = plan[1] if plan is not None and plan[0] == "full" else None
    ctx = dict(ctx, flat=flat_a + flat_b)
    dbu = ctx["dbu"]
    tolerance_dbu = ctx["tolerance"] / dbu
    entry = layer_json(key, side_a.layers.get(key, (0, None))[1] or side_b.layers.get(key, (0, None))[1])
    category = entry["key"]
    xor_count = xor_area = sliver_count = sliver_area = written = omitted = 0
    bbox = pya.Box()
    windows = 0
    for index, (ca, cb) in enumerate(pairs):
        source_a, source_b = side_a.source(ca, key), side_b.source(cb, key)
        if mode == "structural" or (source_a is None and source_b is None):
            continue
        cell_name = (ca or cb).name
        if mode == "windowed":
            pair_windows = plan[2][index]
            if pair_windows.is_empty():
                continue
            windows += pair_windows.count()
            difference = windowed_xor(source_a, source_b, pair_windows)
        else:
            difference = xor_pair(source_a, source_b, mode, ctx)
        real, slivers = split_slivers(difference, tolerance_dbu)
        n = real.count()
        if n:
            xor_count += n
            xor_area += real.area()
            bbox += real.bbox()
            out.add(cell_name, key, real)
            w, o = markers.add(cell_name, category, "XOR differences on layer %s" % category, real)
            written, omitted = written + w, omitted + o
        ns = slivers.count()
        if ns:
            sliver_count += ns
            sliver_area += slivers.area()
            markers.add(cell_name, category + " below tolerance",
                        "Differences on layer %s no wider than the tolerance (%g um)" % (category, ctx["tolerance"]),
                        slivers)
    markers.note_omitted(category, omitted)
    if flat_b == 0:
        status = "only-in-a"
    elif flat_a == 0:
        status = "only-in-b"
    else:
        status = "different" if xor_count else "same"
    entry.update({
        "status": status,
        "countA": flat_a,
        "countB": flat_b,
        "xorCount": xor_count,
        "xorArea": round(xor_area * dbu * dbu, 9),
        "bbox": um_box(bbox, dbu),
        "sliverCount": sliver_count,
        "sliverArea": round(sliver_area * dbu * dbu, 9),
        "mode": mode,
        "modeReason": reason,
        "tileSize": round(ctx["tileUsed"], 6) if "tileUsed" in ctx else None,
        "windows": windows if mode == "windowed" else None,
        "fallback": fallback,
        "markers": written,
        "markersOmitted": omitted,
        "ms": millis(started),
    })
    return entry


def pair_json(ca, cb):
    if ca is not None and cb is not None:
        return {"a": ca.name, "b": cb.name, "status": "compared"}
    if ca is not None:
        return {"a": ca.name, "b": None, "status": "only-in-a"}
    return {"a": None, "b": cb.name, "status": "only-in-b"}
