"""Geometric XOR of two layouts, per layer, inside KLayout (pya only).

The runner validates options; this module trusts their types but not the files."""

import os
import time

import pya

from lyipc_context import CONTEXT_SKIPPED, BrokenStream, cannot_read_meta, klayout_version, read_skipping_context
from lyipc_engines import choose_engine, full_xor, has_all_angle_edges, one_sided, placements_apart, same_polygons
from lyipc_errors import JobError, klayout_message
from lyipc_markers import MarkerDatabase
from lyipc_plan import invariant_disagreement, plan_layer, structure_pays, structural_changes_of
from lyipc_shared import ENGINE_MODES, MAX_MARKERS
from lyipc_structure import layer_key
from lyipc_windows import windowed_xor

STRUCTURE_CHOICES = ("auto", "always", "never")


def millis(start):
    return int(round((time.time() - start) * 1000))


def read_layout(path, side, strict=False):
    """(layout, note): the layout as read, and `note` when part of the file was left out (a
    context cell whose meta data the running KLayout cannot read, unless `strict`), else None."""
    note = None
    try:
        layout = read_file(path)
    except Exception as exc:  # KLayout raises RuntimeError with the reader's message
        message = klayout_message(exc)
        if not cannot_read_meta(message):
            raise JobError("READ_ERROR", "%s: cannot read layout %s: %s" % (path, side, reader_problem(message)), path)
        newer = "%s: cannot read layout %s: it was written by a newer KLayout (its context cell holds meta data that KLayout %s cannot read: %s)" % (
            path, side, klayout_version(), message)
        if strict:
            raise JobError("READ_ERROR", newer, path, "compare with KLayout 0.29 or later (--klayout PATH), write the file without context info "
                           "(SaveLayoutOptions.write_context_info = False), or compare without --strict-read (the context cell holds "
                           "PCell and library links and meta data, no geometry)")
        layout = read_without_context(path, newer)
        note = CONTEXT_SKIPPED
    problem = layout_problem(layout)
    if problem:
        raise JobError("READ_ERROR", "%s: cannot read layout %s: %s" % (path, side, problem), path)
    return layout, note


def read_file(path):
    layout = pya.Layout()
    layout.read(path)
    return layout


def read_without_context(path, newer):
    """The layout from a copy without its context cell; a READ_ERROR starting with `newer` when
    even that cannot be read."""
    try:
        return read_skipping_context(path, read_file)
    except BrokenStream as exc:
        reason = str(exc)
    except EnvironmentError as exc:
        problem = exc.strerror or str(exc)
        reason = "cannot make a copy without it (%s)" % ("%s: %s" % (exc.filename, problem) if exc.filename else problem)
    except Exception as exc:
        reason = reader_problem(klayout_message(exc))
    raise JobError("READ_ERROR", "%s, and without that cell: %s" % (newer, reason), path,
                   "compare with KLayout 0.29 or later (--klayout PATH), which reads that meta data")


# KLayout's own assertion texts for broken input, in words that name the broken part.
READER_ASSERTIONS = (("mag > 0.0 was not true", "a placement has a magnification of 0 or less"),)


def reader_problem(message):
    for assertion, meaning in READER_ASSERTIONS:
        if assertion in message:
            return "%s (KLayout: %s)" % (meaning, message)
    return message


# KLayout's coordinates are 32-bit integers; a placement that reaches past them (a huge
# magnification) leaves a cell's box at the limit, where no boolean can work.
COORDINATE_LIMIT = 2 ** 31 - 1


def reach(layout, scale=1.0):
    """The largest coordinate of any top cell, in database units times `scale`."""
    largest = 0
    for top in layout.top_cells():
        box = top.bbox()
        if not box.empty():
            largest = max(largest, abs(box.left), abs(box.bottom), abs(box.right), abs(box.top))
    return largest * scale


def layout_problem(layout):
    """What KLayout reads without complaint but no comparison can use: a database unit that is
    not a positive number (the GDS UNITS record), geometry beyond KLayout's coordinate range (a
    placement magnified too much), a cell name that is not UTF-8 (pya cannot return it)."""
    dbu = layout.dbu
    if not (dbu > 0 and dbu < float("inf")):
        return "its database unit is %r; a layout needs a positive one (a broken UNITS record?)" % dbu
    if reach(layout) >= COORDINATE_LIMIT:
        return "its geometry reaches beyond KLayout's coordinate range (+-2^31 database units; a placement magnified too much?)"
    # each_cell: after reading some files the cell indices have gaps (layout.cell(i) raises).
    for cell in layout.each_cell():
        try:
            cell.name
        except RuntimeError as exc:
            if "codec" not in str(exc):
                raise
            return "cell #%d has a name that is not valid UTF-8 (%s)" % (cell.cell_index(), klayout_message(exc))
    return None


def clean_dbu(dbu):
    """0.0009999999999999998 (OASIS stores the dbu as a ratio) is 0.001: the same grid."""
    return float("%.12g" % dbu)


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
    """Returns ([(cell_a or None, cell_b or None)], [their topCells entries]): which cells are
    compared with which. Tops pair by name; when both sides keep tops without a partner (a
    renamed design next to unchanged test structures), those are compared as one, as a flat
    XOR of all top cells would: the only one of each side, or a cell placing all of them."""
    top_a, top_b = params.get("topA"), params.get("topB")
    if top_a or top_b:
        cell_a = find_cell(la, top_a, params["a"], "A", "--top-a") if top_a else None
        cell_b = find_cell(lb, top_b, params["b"], "B", "--top-b") if top_b else None
        if cell_a is None:
            cell_a = partner(la, cell_b.name, params["a"], "A", "--top-a")
        if cell_b is None:
            cell_b = partner(lb, cell_a.name, params["b"], "B", "--top-b")
        return [(cell_a, cell_b)], [pair_json(cell_a, cell_b)]
    tops_a, tops_b = list(la.top_cells()), list(lb.top_cells())
    if len(tops_a) == 1 and len(tops_b) == 1:
        return [(tops_a[0], tops_b[0])], [pair_json(tops_a[0], tops_b[0])]
    by_name_a = {c.name: c for c in tops_a}
    by_name_b = {c.name: c for c in tops_b}
    left_a = sorted(n for n in by_name_a if n not in by_name_b)
    left_b = sorted(n for n in by_name_b if n not in by_name_a)
    if not (left_a and left_b):
        names = sorted(set(by_name_a) | set(by_name_b))
        pairs = [(by_name_a.get(n), by_name_b.get(n)) for n in names]
        return pairs, [pair_json(ca, cb) for ca, cb in pairs]
    pairs = [(by_name_a[n], by_name_b[n]) for n in sorted(set(by_name_a) & set(by_name_b))]
    entries = [pair_json(ca, cb) for ca, cb in pairs]
    rest_a = union_cell(la, [by_name_a[n] for n in left_a])
    rest_b = union_cell(lb, [by_name_b[n] for n in left_b])
    pairs.append((rest_a, rest_b))
    entries.append({"a": rest_a.name, "b": rest_b.name, "status": "compared", "unpaired": {"a": left_a, "b": left_b}})
    return pairs, entries


def union_cell(layout, tops):
    """The one top of `tops`, or a new cell placing each of them unchanged, named after them
    ("X+Y"): what the XOR layout and the markers call their union. Made in the layout as read,
    which is never written."""
    if len(tops) == 1:
        return tops[0]
    name = "+".join(c.name for c in tops)
    while layout.cell(name) is not None:
        name += "_"
    cell = layout.create_cell(name)
    for top in tops:
        cell.insert(pya.CellInstArray(top.cell_index(), pya.Trans()))
    return cell


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
        self._counts = {}

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

    def total_placements(self, top):
        """Cells below `top` times their placements: what a walk over every placement costs."""
        return sum(m for _, m in self.placements(top))

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
        li = self.layer_index(key)
        if top is None or li is None:
            return 0, 0
        memo = (top.cell_index(), li)
        if memo not in self._counts:
            stored = flat = 0
            for cell, m in self.placements(top):
                n = geometry_count(cell.shapes(li))
                stored += n
                flat += n * m
            self._counts[memo] = (stored, flat)
        return self._counts[memo]

    def source(self, top, key):
        """(cell, layer index, trans) to read a layer under `top` from, or None if there is none."""
        li = self.layer_index(key)
        if top is None or li is None:
            return None
        return top, li, self.trans


# ---------------------------------------------------------------- output


def split_slivers(region, tolerance_dbu):
    """(real, slivers): slivers are difference polygons no wider than the tolerance anywhere."""
    half = int(tolerance_dbu // 2)
    if half <= 0 or region.is_empty():
        return region, pya.Region()
    core = region.sized(-half)
    return region.interacting(core), region.not_interacting(core)


# The width measurement may take a quarter of the time the layer's XOR took, at least
# WIDTH_MIN_BUDGET seconds; past it the widest width found so far is reported as a lower bound.
# Whether all differences are slivers (no wider than SLIVER_WIDTH database units) is always
# settled exactly, before that budget starts. The search starts at the widest polygon's
# 2 * area / perimeter (a lower bound of its width: what lies within w / 2 of the outline has
# at most perimeter * w / 2 of area), so on wide curved differences the first shrink is already
# a large, smoothed one; when that bound alone proves more than slivers, the budget counts from
# the first shrink. Starting at SLIVER_WIDTH instead, the first shrinks of a curved photonic
# layer (1,987 polygons, 582,420 points) each cost two thirds of its XOR and removed nothing.
# Measured over a photonic design history (621 differing layers), half the XOR time with no
# weighing of the first shrink made the widths cost 30% of the XORs; a quarter, weighed, 13%,
# with 131 widths reported as lower bounds.
WIDTH_MIN_BUDGET = 0.1
SLIVER_WIDTH = 5


def widest(regions, budget):
    """(width, exact): the widest of the difference polygons in `regions` (flat or deep), in
    database units. A rectangle's width is its shorter side. Other polygons are shrunk step by
    step until nothing is left (scaled by 2, so that integer steps resolve 1 dbu); each step
    shrinks what the last one left, so thin differences, mostly the bulk, drop out at the first
    step. Shrinking twice is shrinking once by the sum on Manhattan geometry; on all-angle edges
    the width comes out within a few dbu, within a sixteenth of it for wide ones. Past `budget`
    seconds of search beyond the shrinks that settle whether there is more than slivers, the
    search stops and `exact` is False: the width is then at least the one returned."""
    best, exact = 0, True
    for region in regions:
        if region.is_empty():
            continue
        region = region.dup()
        region.merged_semantics = False  # XOR outputs are merged: each polygon on its own
        rectangles, others = region.rectangles(), region.non_rectangles()
        rectangles.merged_semantics = others.merged_semantics = False
        if rectangles.is_deep():
            # Filters work on the hierarchy: a few dozen of them cost less than a flat walk.
            if not rectangles.is_empty():
                best = max(best, largest(lambda v: not rectangles.with_bbox_min(v, None, False).is_empty(), 1))
        else:
            for box in rectangles.each():  # ~2 us a polygon, less than a filter step costs
                box = box.bbox()
                best = max(best, min(box.width(), box.height()))
        others = others.with_bbox_min(best + 1, None, False)  # only these can be wider
        if others.is_deep() and not others.is_empty():
            # Shrinking on the hierarchy takes each cell's surroundings along: measured on
            # curved photonic layers, gigabytes and minutes. Flat, it is the XOR's own order.
            flat = pya.Region()
            flat.insert(others)
            others = flat
            others.merged_semantics = False
        if not others.is_empty() and exact:
            settled = max(best, SLIVER_WIDTH)
            hint = int(width_hint(others))
            width, exact, spent = shrunk_away(others.transformed(pya.ICplxTrans(2.0)), max(settled, hint), settled, best, hint, budget)
            best, budget = max(best, width), budget - spent
    return best, exact


# Polygons looked at for the hint, at most: ~3 us each, so a layer of millions of differences
# does not spend seconds on where to start (the hint only saves shrinks; any start is right).
WIDTH_HINT_POLYGONS = 100000


def width_hint(polygons):
    """The largest 2 * area / perimeter of a flat region's polygons (the first
    WIDTH_HINT_POLYGONS), in database units: about the width of a long strip, half that of a
    disk; a few ms for half a million points."""
    hint = 0.0
    for index, polygon in enumerate(polygons.each()):
        if index == WIDTH_HINT_POLYGONS:
            break
        perimeter = polygon.perimeter()
        if perimeter > 0:
            hint = max(hint, 2.0 * polygon.area() / perimeter)
    return hint


def shrunk_away(doubled, first, settled, known, proven, budget):
    """(1 + the largest shrink d that leaves something of `doubled`, a region scaled by 2:
    the width of its widest polygon, exact, seconds spent): searched from the step `first` by
    doubling, then bisection. `proven` is a lower bound of the width (area/perimeter). Once it
    is known whether the width is above `settled` (measured), or there is more than slivers
    anyway (`proven` or `known` above SLIVER_WIDTH), it goes on for `budget` seconds at most,
    and starts no shrink expected to end after that.
    A width of `known` is known to exist elsewhere: below it nothing is searched."""
    low, core_low, high, step = 0, doubled, None, max(1, first)
    since = None  # when the budget started: more than slivers known, or the width above `settled`
    while high is None or high - low > 1:
        # A long shrink of curved edges costs far more than a short one: the points that
        # deviate less than a sixteenth of it from their neighbours' line go first.
        source = core_low.smoothed((step - low) // 16) if step - low >= 32 else core_low
        deadline = None
        if low >= settled or max(known, proven) > SLIVER_WIDTH:
            since = since or time.time()
            deadline = since + budget
        core = shrunk_by(source, step - low, deadline)
        if core is None:
            return max(low + 1, proven), False, time.time() - since
        if core.is_empty():
            high = step
            if high <= known:
                return known, True, time.time() - (since or time.time())
        else:
            low, core_low = step, core
            core_low.merged_semantics = False
        step = step * 2 if high is None else (low + high) // 2
    return low + 1, True, time.time() - (since or time.time())


# What a shrink by hundreds of dbu cost a point of curved differences (after smoothing), at
# most, on the corpus: 110,378 points of a photonic design's waveguide layer, 1.0-1.5 s.
SHRINK_SECONDS_PER_POINT = 10e-6


def shrunk_by(region, distance, deadline):
    """The flat region shrunk by `distance`, or None if that is expected to end after
    `deadline` (a time.time() value, if any). A shrink cannot be stopped once started, so it is
    weighed by its points first."""
    if deadline is not None:
        limit, points = (deadline - time.time()) / SHRINK_SECONDS_PER_POINT, 0
        for polygon in region.each():
            points += polygon.num_points()
            if points > limit:
                return None
    return region.sized(-distance)


def largest(holds, low):
    """The largest integer d >= low for which holds(d), given holds(low) and that holds is
    true up to some d and false beyond: doubling steps, then bisection."""
    high, step = None, max(1, low * 2)
    while high is None or high - low > 1:
        if holds(step):
            low = step
        else:
            high = step
        step = step * 2 if high is None else (low + high) // 2
    return low


def um_box(box, dbu):
    if box.empty():
        return None
    d = box.to_dtype(dbu)
    return [round(d.left, 6), round(d.bottom, 6), round(d.right, 6), round(d.top, 6)]


class XorLayout:
    """Differences on their original layer numbers, one top cell per compared pair; built
    only when something differs, pruned of empty cells before writing."""

    def __init__(self, dbu):
        self.dbu = dbu
        self.layout = None
        self.cells = {}

    def add(self, cell_name, key, region):
        """Adds a Region (flat or deep); zero-area differences come as their 2 dbu strips."""
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
    if mode_requested not in ENGINE_MODES:
        raise JobError("BAD_REQUEST", "unknown mode '%s'" % mode_requested)
    structure = params.get("structure") or "auto"
    if structure not in STRUCTURE_CHOICES:
        raise JobError("BAD_REQUEST", "unknown structure choice '%s'" % structure)
    threads = max(1, int(params.get("threads") or 1))
    tolerance = float(params.get("tolerance") or 0.0)
    max_markers = int(params["maxMarkers"]) if params.get("maxMarkers") is not None else MAX_MARKERS

    strict = bool(params.get("strictRead"))
    la, note_a = read_layout(params["a"], "A", strict)
    lb, note_b = read_layout(params["b"], "B", strict)
    read_ms = millis(started)

    dbu = clean_dbu(min(la.dbu, lb.dbu))
    for layout, path, side in ((la, params["a"], "A"), (lb, params["b"], "B")):
        if reach(layout, layout.dbu / dbu) >= COORDINATE_LIMIT:
            raise JobError("READ_ERROR", "%s: cannot compare layout %s: on the other layout's database unit (%g um, its own is %g um) its "
                           "coordinates reach beyond KLayout's range (+-2^31)" % (path, side, dbu, layout.dbu), path)
    # Named before pairing, which may add a cell placing the unpaired tops.
    names_a, names_b = [c.name for c in la.top_cells()], [c.name for c in lb.top_cells()]
    pairs, pair_entries = pair_top_cells(la, lb, params)
    side_a, side_b = Side(la, dbu), Side(lb, dbu)
    keys = [k for k in set(side_a.layers) | set(side_b.layers)
            if layer_selected(k, params.get("layers"), params.get("ignoreLayers"))]
    keys.sort(key=lambda k: (len(k) != 2, k))

    xor_started = time.time()
    counts = dict((key, layer_counts(key, pairs, side_a, side_b)) for key in keys)
    # auto first asks LayoutDiff where the layouts differ (lyipc_plan), unless a full XOR of
    # every layer costs less than that; a forced mode runs its engine on every layer.
    changes = None
    cells = sum(len(side.placements(top)) for side, top in [(side_a, ca) for ca, _ in pairs] + [(side_b, cb) for _, cb in pairs]
                if top is not None)
    if mode_requested == "auto" and structure_pays(structure, counts, pairs, input_bytes(params), cells):
        changes = structural_changes_of(pairs, side_a, side_b, clean_dbu)
    structure_ms = millis(xor_started)
    settings = Settings(mode_requested, dbu, threads, params.get("tileSize"), tolerance, changes)
    out = XorLayout(dbu)
    markers = MarkerDatabase(dbu, max_markers, "lyipc-diff: %s vs %s" % (params["a"], params["b"]))
    layers = []
    for key in keys:
        layer = compare_layer(key, counts[key], side_a, side_b, pairs, out, markers, settings)
        if layer is not None:
            layers.append(layer)
    xor_ms = millis(xor_started)

    identical = all(l["status"] == "same" for l in layers)
    write_started = time.time()
    wrote = {"out": False, "rdb": False}
    if not identical:
        if params.get("out") and out.layout is not None:
            make_folder_of(params["out"])
            out.write(params["out"])
            wrote["out"] = True
        if params.get("rdb"):
            make_folder_of(params["rdb"])
            try:
                markers.save(params["rdb"], params.get("outFinal"))
            except Exception as exc:
                raise JobError("WRITE_ERROR", "%s: cannot write marker database: %s"
                               % (params["rdb"], klayout_message(exc)), params["rdb"])
            wrote["rdb"] = True

    return {
        "identical": identical,
        "a": {"dbu": clean_dbu(la.dbu), "topCells": names_a, "readNote": note_a},
        "b": {"dbu": clean_dbu(lb.dbu), "topCells": names_b, "readNote": note_b},
        "dbu": dbu,
        "topCells": pair_entries,
        "layers": layers,
        "wrote": wrote,
        "timings": {"readMs": read_ms, "structureMs": structure_ms, "xorMs": xor_ms, "writeMs": millis(write_started)},
    }


def make_folder_of(path):
    """The output's folder, made as it is written (never up front: a folder made for nothing
    would be removed again, maybe under another call writing into it)."""
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            raise JobError("WRITE_ERROR", "%s: cannot create output folder (%s)" % (folder, exc.strerror or exc), path)


def input_bytes(params):
    try:
        return os.path.getsize(params["a"]) + os.path.getsize(params["b"])
    except OSError:
        return 0


def layer_counts(key, pairs, side_a, side_b):
    """{stored, flatA, flatB} of a layer over all top-cell pairs; stored counts both sides."""
    stored = flat_a = flat_b = 0
    for ca, cb in pairs:
        s, f = side_a.counts(ca, key)
        stored, flat_a = stored + s, flat_a + f
        s, f = side_b.counts(cb, key)
        stored, flat_b = stored + s, flat_b + f
    return {"stored": stored, "flatA": flat_a, "flatB": flat_b}


# ---------------------------------------------------------------- one layer


class Settings(object):
    """What the job asks, the same for every layer (read-only), and KLayout's deep shape
    store, made when the first layer needs it and shared by all."""

    def __init__(self, mode, dbu, threads, tile_size, tolerance, changes):
        self.mode = mode
        self.dbu = dbu
        self.threads = threads
        self.tile_size = tile_size
        self.tolerance = tolerance
        self.changes = changes  # the structural diff's answer per top-cell pair, or None
        self._deep_store = None

    def deep_store(self):
        if self._deep_store is None:
            self._deep_store = pya.DeepShapeStore()
            self._deep_store.threads = self.threads
        return self._deep_store


def compare_layer(key, counts, side_a, side_b, pairs, out, markers, settings):
    """XOR one layer over all top-cell pairs; adds differences to `out` and `markers`.
    Returns the layer's result entry, or None when neither side has geometry on it."""
    started = time.time()
    if counts["flatA"] == 0 and counts["flatB"] == 0:
        return None  # declared but empty (or texts only) on both sides
    plan = plan_layer_xor(key, counts, side_a, side_b, pairs, settings)
    differences = layer_differences(key, counts, plan, side_a, side_b, pairs, settings)
    if differences is None:
        # The windowed XOR failed its own count check (never seen): the full XOR answers.
        plan = with_engine({"mode": None, "fallback": "the shape counts outside the windows disagree: XOR in full to be sure"},
                           key, counts, side_a, side_b, pairs, settings)
        differences = layer_differences(key, counts, plan, side_a, side_b, pairs, settings)

    one_side = counts["flatA"] == 0 or counts["flatB"] == 0
    tally = {"count": 0, "zeroArea": 0, "area": 0, "bbox": pya.Box(), "sliverCount": 0, "sliverArea": 0, "markers": 0, "omitted": 0}
    entry = layer_json(key, side_a.layers.get(key, (0, None))[1] or side_b.layers.get(key, (0, None))[1])
    real = []
    for cell_name, difference in differences:
        parts = without_slivers(difference, one_side, settings)
        record(parts, difference, cell_name, entry["key"], key, tally, out, markers, settings.tolerance)
        real.append(parts[0])
    markers.note_omitted(entry["key"], tally["omitted"])
    entry.update(layer_figures(counts, tally, plan, differences, settings.dbu))
    # Measured only where the XOR found differences (a layer in one file only is no XOR).
    entry["maxWidth"], entry["maxWidthExact"], entry["sliversOnly"] = None, None, False
    if tally["count"] and not one_side:
        width, exact = widest(real, max(WIDTH_MIN_BUDGET, (time.time() - started) / 4))
        entry["maxWidth"], entry["maxWidthExact"] = round(width * settings.dbu, 6), exact
        entry["sliversOnly"] = width <= SLIVER_WIDTH
    entry["ms"] = millis(started)
    return entry


def plan_layer_xor(key, counts, side_a, side_b, pairs, settings):
    """How the layer is compared: {mode, reason, windows?} with the engine chosen."""
    if counts["flatA"] == 0 or counts["flatB"] == 0:
        # All of one side is the difference: no boolean, no merge, in any mode (a forced mode
        # is reported as asked for). strmxor reports such a layer as missing on one side,
        # whatever it holds (zero-area shapes too).
        return {"mode": "flat" if settings.mode == "auto" else settings.mode,
                "reason": "in layout %s only: each of its shapes is a difference" % ("A" if counts["flatB"] == 0 else "B")}
    if settings.changes is not None:
        plan = plan_layer(key, counts, pairs, side_a, side_b, settings.changes)
    else:
        plan = {"mode": None}
    plan = with_engine(plan, key, counts, side_a, side_b, pairs, settings)
    if settings.mode == "auto" and plan["mode"] == "flat" and flattened_alike(key, counts, side_a, side_b, pairs):
        # Reported as flat (the layer was looked at flattened), like a layer in one file only.
        return dict(plan, samePolygons=True, reason="flattened, A and B hold the same polygons: no boolean needed")
    return plan


def flattened_alike(key, counts, side_a, side_b, pairs):
    """Whether under every pair of tops both sides hold the same polygons (same_polygons),
    tried only where every top has its partner and the flat counts and extents already agree
    (what differs there mostly differs in them too)."""
    if any(ca is None or cb is None for ca, cb in pairs) or invariant_disagreement(key, counts, pairs, side_a, side_b) is not None:
        return False
    for ca, cb in pairs:
        here_a, here_b = side_a.counts(ca, key)[1], side_b.counts(cb, key)[1]
        if here_a == 0 and here_b == 0:
            continue
        if here_a == 0 or here_b == 0 or not same_polygons(side_a.source(ca, key), side_b.source(cb, key)):
            return False
    return True


def with_engine(plan, key, counts, side_a, side_b, pairs, settings):
    """`plan`, with a full XOR's engine chosen when it names no mode yet."""
    if plan["mode"] is not None:
        return plan
    mode, reason = full_engine(key, counts, side_a, side_b, pairs, settings.mode, plan.get("deepWorthTrying", False))
    return dict(plan, mode=mode, reason=reason)


def full_engine(key, counts, side_a, side_b, pairs, requested, deep_worth_trying):
    """(engine, reason) of a full XOR of the layer (the requested mode, or auto's choice)."""
    off_grid = any((ca is not None and side_a.off_grid_placements(ca)) or (cb is not None and side_b.off_grid_placements(cb))
                   for ca, cb in pairs)

    sides = [(side.layout, [c for c, _ in side.placements(top)], side.layer_index(key))
             for side, top in [(side_a, ca) for ca, _ in pairs] + [(side_b, cb) for _, cb in pairs] if top is not None]

    def records():
        return sum(cell.child_instances() for _, cells, _ in sides for cell in cells)

    return choose_engine(requested, (counts["stored"], counts["flatA"] + counts["flatB"], records), off_grid,
                         lambda: has_all_angle_edges(sides), deep_worth_trying,
                         lambda: placements_apart([(cells, li) for _, cells, li in sides]))


def layer_differences(key, counts, plan, side_a, side_b, pairs, settings):
    """[(top cell name, Difference)] of one layer as the plan says. None when a windowed XOR
    fails its check."""
    found = []
    outside = [0, 0]  # shapes of A and B outside every window
    flat = counts["flatA"] + counts["flatB"]
    for index, (ca, cb) in enumerate(pairs):
        source_a, source_b = side_a.source(ca, key), side_b.source(cb, key)
        here_a, here_b = side_a.counts(ca, key)[1], side_b.counts(cb, key)[1]
        if plan["mode"] == "structural" or plan.get("samePolygons") or (here_a == 0 and here_b == 0):
            continue
        if here_a == 0 or here_b == 0:
            difference = one_sided(source_a if here_a else source_b)
        elif plan["mode"] == "windowed":
            difference, inside = windowed_xor(source_a, source_b, plan["windows"][index])
            outside[0] += here_a - inside[0]
            outside[1] += here_b - inside[1]
        else:
            difference = full_xor(plan["mode"], source_a, source_b, settings, flat)
        found.append(((ca or cb).name, difference))
    if plan["mode"] == "windowed" and outside[0] != outside[1]:
        # Outside the windows both layers hold the same shapes, one for one (the proof in
        # docs/incremental-xor.md); counts that say otherwise mean the windows missed something.
        return None
    return found


def without_slivers(difference, one_side, settings):
    """(real, lines, slivers, sliver lines) of one pair's difference: with a tolerance, parts no
    wider than it are slivers."""
    if one_side:
        return difference.polygons, difference.lines, pya.Region(), pya.Region()  # a layer missing on one side is never a sliver
    if settings.tolerance > 0:
        real, slivers = split_slivers(difference.polygons, settings.tolerance / settings.dbu)
        # A zero-area difference is no wider than any tolerance: a sliver as soon as there is one.
        return real, pya.Region(), slivers, difference.lines
    return difference.polygons, difference.lines, pya.Region(), pya.Region()


def record(parts, difference, cell_name, category, key, tally, out, markers, tolerance):
    """Counts one pair's difference into the layer's tally, the XOR layout and the markers.
    Deep regions stay deep: their counts and areas are as if flat, the XOR layout keeps the
    hierarchy, markers take their first polygons (see Difference)."""
    real, lines, slivers, sliver_lines = parts
    n = real.count() + lines.count()
    if n:
        tally["count"] += n
        tally["zeroArea"] += lines.count()
        tally["area"] += real.area()
        # A strip reaches 1 dbu beyond its line on each side.
        tally["bbox"] += real.bbox() + (lines.bbox().enlarged(pya.Vector(-1, -1)) if not lines.is_empty() else pya.Box())
        keep_hierarchy = difference.hierarchical is not None and slivers.is_empty()
        out.add(cell_name, key, difference.hierarchical if keep_hierarchy else real)
        out.add(cell_name, key, lines)
        description = "XOR differences on layer %s" % category
        add_markers(markers, cell_name, category, description, (real, lines), tally)
    ns = slivers.count() + sliver_lines.count()
    if ns:
        tally["sliverCount"] += ns
        tally["sliverArea"] += slivers.area()
        description = "Differences on layer %s no wider than the tolerance (%g um)" % (category, tolerance)
        add_markers(markers, cell_name, category + " below tolerance", description, (slivers, sliver_lines), None)


def layer_figures(counts, tally, plan, differences, dbu):
    """The layer's result figures (docs/worker-protocol.md) from its tally and plan."""
    if counts["flatB"] == 0:
        status = "only-in-a"
    elif counts["flatA"] == 0:
        status = "only-in-b"
    else:
        status = "different" if tally["count"] else "same"
    # The tile size comes back with each tiled difference (auto-sized per pair): the last one is reported.
    tile_sizes = [d.tile_size for _, d in differences if d.tile_size is not None]
    return {
        "status": status,
        "countA": counts["flatA"],
        "countB": counts["flatB"],
        "xorCount": tally["count"],
        "zeroAreaCount": tally["zeroArea"],
        "xorArea": round(tally["area"] * dbu * dbu, 9),
        "bbox": um_box(tally["bbox"], dbu),
        "sliverCount": tally["sliverCount"],
        "sliverArea": round(tally["sliverArea"] * dbu * dbu, 9),
        "mode": plan["mode"],
        "modeReason": plan["reason"],
        "tileSize": round(tile_sizes[-1], 6) if tile_sizes else None,
        "windows": sum(w.count() for w in plan["windows"]) if plan["mode"] == "windowed" else None,
        "fallback": plan.get("fallback"),
        "markers": tally["markers"],
        "markersOmitted": tally["omitted"],
    }


def add_markers(markers, cell_name, category, description, regions, tally):
    """Markers of each region in turn (one may be deep, the other flat: never joined, which
    would flatten the deep one); the written and omitted ones go into `tally` when given."""
    for region in regions:
        w, o = markers.add(cell_name, category, description, region)
        if tally is not None:
            tally["markers"] += w
            tally["omitted"] += o


def pair_json(ca, cb):
    if ca is not None and cb is not None:
        return {"a": ca.name, "b": cb.name, "status": "compared"}
    if ca is not None:
        return {"a": ca.name, "b": None, "status": "only-in-a"}
    return {"a": None, "b": cb.name, "status": "only-in-b"}
