"""The full XOR engines (deep, flat, tiled), and which one auto picks for a layer by cost.

Every engine hands back the same thing: the differences as merged polygons in the common dbu,
so counts, areas and markers mean the same whatever ran. Deep mode merges its pieces
hierarchically where every placement keeps apart from the others (placements_apart): KLayout
then counts and measures the deep region as if flat without flattening it (3.6M difference
polygons of an array moved by 1 nm in milliseconds, where flattening and merging them took
12 s). Elsewhere its pieces are flattened and merged; the XOR layout keeps the hierarchy."""

import math

import pya

# Flat shapes per stored shape from which deep (hierarchical) processing can pay off...
DEEP_MIN_REUSE = 4.0
# ... and flat shapes (A + B) below which a flat boolean is cheaper anyway (measured: a flat
# XOR of 100k boxes takes ~0.1 s, deep mode's set-up about as long).
DEEP_MIN_FLAT = 100000
# A layer this repetitive (flat shapes per stored shape and stored instance, an array counting
# as one; at least DEEP_SURE_FLAT flat shapes), its placements apart (placements_apart), goes
# deep whatever changed: what deep mode works on is tiny next to the flat layer (a 300x300
# array moved by 1 nm: 0.3 s deep, 11 s flat per layer of 3.6M boxes). Below it, on a real
# fill layout (1.6M boxes from 9,161 instances, 175 per stored item), deep mode took 9-23 s
# where a flat XOR took 4 s; there deep mode must be shown to pay (see choose_engine).
DEEP_SURE_REUSE = 1000.0
DEEP_SURE_FLAT = 1000000
# Flat shapes (A + B) on a layer from which tiles + threads beat one flat boolean.
TILED_MIN_SHAPES = 200000
# Tiles aim at about this many flat shapes each; fewer makes per-tile overhead dominate,
# more makes the merges inside a tile slow (measured on 450k-box layers).
TILE_TARGET_SHAPES = 4000
# Deep mode on all-angle geometry (curves, bends, rings) splits differences into context
# pieces: measured on a 12.5 kB component of 180-degree bends, 1.5M pieces and 9.3 s where a
# flat XOR took 0.05 s. Stored edges checked for their angle before deep mode is chosen, at most.
MAX_ANGLE_CHECK_EDGES = 2000000
ENGINES = ("deep", "flat", "tiled")


def choose_engine(requested, counts, off_grid, all_angle, deep_worth_trying, apart):
    """(engine, reason) for a full XOR of one layer. `counts` = (stored shapes, flat shapes,
    a callable giving the stored instances below the tops) over both sides; `all_angle` and `apart` (see
    placements_apart) are callables, asked only when deep mode is otherwise the choice. Deep
    mode is a candidate only when `deep_worth_trying` (the structural diff found the change in
    a cell placed very often) or the layer is extremely repetitive with its placements apart:
    on real layouts with spread changes (arrays of DRC markers, curved photonics, fill) it
    cost up to 20x a flat XOR, so it must be shown to pay."""
    if requested != "auto":
        return requested, "requested"
    stored, flat, records = counts
    worth = deep_worth_trying and flat >= DEEP_MIN_REUSE * stored and flat >= DEEP_MIN_FLAT
    sure = not worth and flat >= DEEP_SURE_FLAT and flat >= DEEP_SURE_REUSE * (stored + records()) and apart()
    if stored and (worth or sure):
        if off_grid:
            note = "not deep: magnified or rotated placements, where deep mode rounds; "
        elif all_angle():
            note = "not deep: all-angle geometry, where deep mode splits differences into pieces; "
        else:
            return "deep", "hierarchical: %d stored shapes stand for %d" % (stored, flat)
    else:
        note = ""
    if flat >= TILED_MIN_SHAPES:
        return "tiled", "%s%d shapes: tiles on every thread" % (note, flat)
    return "flat", "%s%d shapes: one flat boolean" % (note, flat)


def has_all_angle_edges(sides):
    """True when a stored polygon of the layer has an edge that is neither Manhattan nor at
    45 degrees (or when there are too many edges to look at). `sides` = [(layout, cells, li)]."""
    edges = 0
    for layout, cells, li in sides:
        if li is None:
            continue
        for cell in cells:
            shapes = cell.shapes(li)
            if shapes.is_empty():
                continue
            region = pya.Region(shapes)
            region.merged_semantics = False
            cell_edges = region.edges()
            edges += cell_edges.count()
            if edges > MAX_ANGLE_CHECK_EDGES:
                return True
            if not cell_edges.with_angle(pya.Edges.OrthoDiagonalEdges, True).is_empty():
                return True
    return False


def placements_apart(sides):
    """True when, in every cell below the tops of each layout, the extents on the layer of the
    cell's own shapes, of each instance and of each array member keep apart from one another
    (not even touching). Deep mode's hierarchical merge, counted as if flat, then gave the flat
    merge on every real layout tried. Where placements of one layout overlap it did not:
    ring oscillators of overlapping cells, arrays of overlapping members and duplicate
    instances in KLayout's test data came out with counts and areas up to 1.8x the flat
    XOR's. Where members abut (cells sharing rails, as in memories) the merge collects the
    whole array's differences in the top cell: 1.6x a flat XOR. `sides` = [(cells, li)]."""
    for cells, li in sides:
        if li is None:
            continue
        for cell in cells:
            boxes = pya.Region()
            own = cell.shapes(li)
            if not own.is_empty():
                boxes.insert(pya.Region(own).bbox())
            for inst in cell.each_inst():
                box = inst.bbox_per_layer(li)
                if box.empty():
                    continue
                boxes.insert(box)
                if inst.is_regular_array() and inst.na * inst.nb > 1 and not members_apart(inst, li):
                    return False
            if boxes.count() > 1 and boxes.merged().count() != boxes.count():
                return False
    return True


def members_apart(inst, li):
    """Whether the members of an instance array keep apart on the layer."""
    box = inst.cell.bbox_per_layer(li).transformed(inst.cplx_trans)
    steps = [v for v, n in ((inst.a, inst.na), (inst.b, inst.nb)) if n > 1]
    if len(steps) == 2:
        steps += [inst.a + inst.b, inst.a - inst.b]
    return not any(box.touches(box.moved(step)) for step in steps)


def auto_tile_size(box_um, flat, threads):
    """Tile edge in um so that tiles hold about TILE_TARGET_SHAPES shapes, at least 2 per thread."""
    area = max(box_um.width(), 1e-3) * max(box_um.height(), 1e-3)
    tiles = max(2 * threads, int(math.ceil(flat / float(TILE_TARGET_SHAPES))))
    return max(1.0, math.sqrt(area / tiles))


def region_of(source, deep_store=None):
    cell, li, trans = source
    if deep_store is not None:
        return pya.Region(cell.begin_shapes_rec(li), deep_store, trans)
    return strict(pya.Region(cell.begin_shapes_rec(li), trans))


def same_polygons(source_a, source_b):
    """Whether two layers hold the same polygons once flattened (as sets: one drawn twice
    matches it drawn once). Then they cover the same points, their zero-area shapes are the
    same lines, and their XOR is empty without a boolean. KLayout compares polygons as it
    stores them (a box equals the same rectangle drawn as a polygon, a path its outline); any
    other drawing of the same area only answers no, and the boolean decides. Hash-based: on
    real small layouts a third of a flat XOR's time."""
    raw_a, raw_b = raw_region(source_a), raw_region(source_b)
    return raw_a.not_in(raw_b).is_empty() and raw_b.not_in(raw_a).is_empty()


def raw_region(source):
    """The layer's shapes flattened as drawn, never merged."""
    cell, li, trans = source
    region = pya.Region(cell.begin_shapes_rec(li), trans)
    region.merged_semantics = False
    return region


def strict(region):
    """Without strict handling, KLayout skips the boolean when one side is empty or the two
    do not overlap, and hands back input shapes unmerged (self-overlapping ones included):
    counts and areas would then depend on how the shapes were drawn."""
    region.strict_handling = True
    return region


class Difference:
    """A layer's XOR: `polygons` the merged difference polygons (a deep region when deep mode
    ran on placements that keep apart: counted and measured as if flat, written with its
    hierarchy); `lines` the zero-area differences as merged strips (see split_zero_area);
    `hierarchical` deep mode's pieces, written instead of the flattened `polygons`;
    `tile_size` in um when tiled mode ran."""

    def __init__(self, polygons, lines=None, hierarchical=None, tile_size=None):
        # Polygons that do not overlap (a boolean's output) or count one by one (a layer in
        # one file only): count, area and markers take them as they are, never merging again.
        polygons.merged_semantics = False
        self.polygons = polygons
        self.lines = lines if lines is not None else pya.Region()
        self.lines.merged_semantics = False
        self.hierarchical = hierarchical
        self.tile_size = tile_size


def split_zero_area(region):
    """(the region for the area XOR, the strips of its zero-area shapes).

    Zero-area shapes (zero-width paths, boxes and polygons without area) cover no area, so the
    area XOR cannot see them. lyipc compares them apart, as strips 2 dbu wide along their lines
    with 1 dbu beyond each end: where one layout's strips and the other's differ, a line is
    covered by one side only. A shape drawn forth and back (a zero-width path's outline) makes
    one strip; the same line drawn as one path or as two pieces, or as a path and a degenerate
    box, the same strips. All in C++: real layouts hold millions of such shapes (KLayout writes
    edge-like results this way). When there are any, they are left out of the area XOR, which
    would only spend time merging them away."""
    raw = region.dup()
    raw.merged_semantics = False
    zero = raw.with_area(0, 1, False)
    if zero.is_empty():
        return region, pya.Region()
    zero.merged_semantics = False
    # Horizontal and vertical lines (and points): one box each. Others: a box per edge.
    straight = zero.with_bbox_min(0, False)
    straight.merged_semantics = False
    strips = straight.extents(1)
    bent = zero.with_bbox_min(0, True)
    if not bent.is_empty():
        edges = bent.edges()
        edges.merged_semantics = False
        strips += edges.extended(1, 1, 1, 1, False)
    positive = raw.with_area(1, None, False)
    positive.merged_semantics = True
    return strict(positive), strict(strips)


def line_xor(strips_a, strips_b):
    """Zero-area differences of two layers, as strips (see split_zero_area)."""
    if strips_a.is_empty() and strips_b.is_empty():
        return pya.Region()
    return strips_a ^ strips_b


def area_and_line_xor(region_a, region_b):
    """(area XOR, zero-area XOR) of two flat regions."""
    area_a, strips_a = split_zero_area(region_a)
    area_b, strips_b = split_zero_area(region_b)
    return area_a ^ area_b, line_xor(strips_a, strips_b)


def cells_below(source):
    """(cells of the source's tree, layer index), as placements_apart takes them."""
    cell, li, _ = source
    layout = cell.layout()
    return [layout.cell(ci) for ci in cell.called_cells()] + [cell], li


def has_zero_area_shapes(source):
    """Whether a cell below the source's cell holds a zero-area shape on the layer (stored
    shapes, not flattened: what deep mode looks at)."""
    cell, li, _ = source
    layout = cell.layout()
    for ci in list(cell.called_cells()) + [cell.cell_index()]:
        shapes = layout.cell(ci).shapes(li)
        if shapes.is_empty():
            continue
        region = pya.Region(shapes)
        region.merged_semantics = False
        if not region.with_area(0, 1, False).is_empty():
            return True
    return False


def full_xor(engine, source_a, source_b, settings, flat):
    """XOR of one layer of one top-cell pair over the whole layer; both sources present.
    `settings` gives dbu, threads, tile_size and deep_store(); `flat` is the layer's flat shape
    count (it sizes the tiles)."""
    if engine == "tiled":
        difference = tiled_xor(source_a, source_b, settings, flat)
        difference.lines = line_xor(split_zero_area(region_of(source_a))[1], split_zero_area(region_of(source_b))[1])
        difference.lines.merged_semantics = False
        return difference
    if engine == "deep":
        deep = region_of(source_a, settings.deep_store()) ^ region_of(source_b, settings.deep_store())
        lines = None
        if has_zero_area_shapes(source_a) or has_zero_area_shapes(source_b):
            lines = line_xor(split_zero_area(region_of(source_a))[1], split_zero_area(region_of(source_b))[1])
        if placements_apart([cells_below(source_a), cells_below(source_b)]):
            # The boolean's pieces meet at cell boundaries; a hierarchical merge joins them and
            # stays hierarchical (see placements_apart).
            return Difference(deep.merged(), lines)
        flat = pya.Region()
        flat.insert(deep)
        return Difference(flat.merged(), lines, hierarchical=deep)
    area, lines = area_and_line_xor(region_of(source_a), region_of(source_b))
    return Difference(area, lines)


def tiled_xor(source_a, source_b, settings, flat):
    """The XOR in tiles; the Difference carries the tile size used (given, or sized here)."""
    tp = pya.TilingProcessor()
    box = pya.Box()
    for name, (cell, li, trans) in (("a", source_a), ("b", source_b)):
        # The tiling processor scales every input from its layout's dbu to tp.dbu itself.
        tp.input(name, cell.begin_shapes_rec(li))
        box += trans * cell.bbox_per_layer(li)
    tile = settings.tile_size or auto_tile_size(box.to_dtype(settings.dbu), flat, settings.threads)
    out = pya.Region()
    tp.output("o", out)
    tp.dbu = settings.dbu
    tp.tile_size(tile, tile)
    tp.threads = settings.threads
    tp.queue("_output(o, a ^ b)")
    tp.execute("lyipc-diff XOR")
    # Tiles cut difference polygons; merging heals the cuts so counts match a flat XOR.
    out.merge()
    return Difference(out, tile_size=tile)


def one_sided(source):
    """A layer present under one top cell only: all of it is the difference, shape for shape
    as drawn. Nothing is merged: a merge costs what an XOR costs, and on some real geometry
    KLayout's merge never ends, where strmxor just reports the layer as missing."""
    return Difference(region_of(source))
