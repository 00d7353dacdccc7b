"""Dirty windows: where, in top-cell coordinates, the two layouts can differ on one layer.

A point outside every window is covered by the same shapes in A and B: each shape reaches
the top through a chain of instances that exist on both sides, from a cell whose own shapes
match. So XOR-ing both layouts clipped to the windows gives exactly the full XOR, at a cost
that grows with the windows, not with the chip. When the windows are not small (a change in
a cell placed very often, a global shift) the full XOR is cheaper; `plan_layer` says so."""

import math
import random

import pya

from lyipc_engines import Difference, area_and_line_xor, strict

# Changed boxes times their placements that are mapped to the top, per layer, at most.
MAX_PLACED_BOXES = 20000
# A changed box mapped to the top costs the windowed XOR about as much as this many shapes cost
# a flat XOR (measured on a component library's straight_pn: a change in a cell placed 7,912
# times, mapped in 0.4-0.5 s, against a flat XOR of both sides' 15,824 shapes in 0.05 s): with
# more placed boxes than the layer's flat shapes / this, the full XOR is cheaper; below
# PLACED_BOXES_NEGLIGIBLE (~15 ms of mapping) either costs too little to matter.
PLACED_BOX_COST_IN_SHAPES = 20
PLACED_BOXES_NEGLIGIBLE = 1000
# Windows covering more than this share of the layer's extent make a full XOR the better deal.
MAX_AREA_SHARE = 0.2
# Own shapes of a cell above which the changed share is estimated by probes before the
# changed shapes are listed (listing costs ~1 us per shape; a global change would list all).
PROBE_FROM_SHAPES = 5000
PROBES = 64
MAX_CHANGED_PROBE_SHARE = 0.2
# Before the structural diff, big cells are probed more coarsely (16 squares); with more cells than this
# the changed shapes are listed per cell afterwards instead.
MAX_CELLS_TO_PROBE = 200
QUICK_PROBES = 16
# Windows are enlarged by this many database units so that no difference touches their edge.
MARGIN = 4


class Fallback(Exception):
    """The change is too large for windows; the message says why. `hierarchical` when the
    change sits in a cell placed very often: the one case where deep mode is worth trying."""

    def __init__(self, message, hierarchical=False):
        Exception.__init__(self, message)
        self.hierarchical = hierarchical


def layer_windows(key, changes, side_a, side_b, top_a, top_b, flat_shapes):
    """Region of merged windows in top coordinates for one layer of one top-cell pair
    (empty when nothing on the layer changed); raises Fallback when a full XOR is cheaper.
    `flat_shapes`: the layer's flat shape count, both sides."""
    li_a, li_b = side_a.layer_index(key), side_b.layer_index(key)
    local_a, local_b = {}, {}  # cell index -> Region of changed boxes in that cell's coordinates

    for cell in changes.cells_with_shape_changes(key):
        listed = cell.listed(key)
        changed_a, changed_b = listed if listed is not None else changed_shapes(cell.cell_a, li_a, cell.cell_b, li_b, key)
        add_local(local_a, cell.cell_a, changed_a)
        add_local(local_b, cell.cell_b, changed_b)
    for cell in changes.cells_with_instance_changes():
        if cell.unlisted_instances:
            # Most instances changed: the whole cell is dirty on this layer.
            add_local(local_a, cell.cell_a, boxes_region([layer_bbox(cell.cell_a, li_a)]))
            add_local(local_b, cell.cell_b, boxes_region([layer_bbox(cell.cell_b, li_b)]))
            continue
        add_local(local_a, cell.cell_a, boxes_region(instance_boxes(cell.instances_a, top_a.layout(), li_a)))
        add_local(local_b, cell.cell_b, boxes_region(instance_boxes(cell.instances_b, top_b.layout(), li_b)))

    placed = check_placements(local_a, side_a, top_a) + check_placements(local_b, side_b, top_b)
    if placed > PLACED_BOXES_NEGLIGIBLE and placed * PLACED_BOX_COST_IN_SHAPES > flat_shapes:
        raise Fallback("%s changed boxes placed in the top for %s flat shapes: a full XOR costs less"
                       % ("{:,}".format(placed), "{:,}".format(flat_shapes)))
    windows = pya.Region()
    for local, side, top in ((local_a, side_a, top_a), (local_b, side_b, top_b)):
        for ci, boxes in local.items():
            for trans in side.transforms(top, ci):
                windows.insert(boxes.transformed(trans))
    if windows.is_empty():
        return windows
    windows = windows.sized(MARGIN)
    windows.merge()
    extent = layer_bbox(top_a, li_a) + layer_bbox(top_b, li_b)
    share = windows.area() / float(max(extent.area(), 1))
    if share > MAX_AREA_SHARE:
        raise Fallback("changes spread over %d%% of the layer's extent" % min(100, round(100 * share)))
    return windows


def layer_bbox(cell, li):
    return cell.bbox_per_layer(li) if li is not None else pya.Box()


def boxes_region(boxes):
    region = pya.Region()
    for box in boxes:
        if not box.empty():
            region.insert(window_box(box))
    return region


def window_box(box):
    """A box that a Region keeps: grown by one dbu, since a Region drops boxes without area,
    and the box of a zero-area shape (a zero-width path) has none."""
    return box.enlarged(pya.Vector(1, 1))


def add_local(local, cell, region):
    if region.is_empty():
        return
    ci = cell.cell_index()
    if ci in local:
        local[ci] += region
    else:
        local[ci] = region


def instance_boxes(instances, layout, li):
    if li is None:
        return []
    return [inst.bbox_per_layer(layout, li) for inst in instances]


def check_placements(local, side, top):
    """Every changed box is mapped through every placement of its cell: bound that work, and
    say how many boxes that makes."""
    placed = 0
    for ci, boxes in local.items():
        boxes.merge()
        times = side.times_placed(top, ci)
        placed += boxes.count() * times
        if placed > MAX_PLACED_BOXES:
            name = side.layout.cell(ci).name
            raise Fallback("a change in cell %s, which is placed %s times" % (name, "{:,}".format(times)), hierarchical=True)
    return placed


# ---------------------------------------------------------------- changed shapes of one cell


def changed_shapes(cell_a, li_a, cell_b, li_b, key):
    """(Region A, Region B): bounding boxes of the own shapes of two matched cells on one
    layer that have no equal partner on the other side."""
    shapes_a = cell_a.shapes(li_a) if li_a is not None else None
    shapes_b = cell_b.shapes(li_b) if li_b is not None else None
    size_a = shapes_a.size() if shapes_a is not None else 0
    size_b = shapes_b.size() if shapes_b is not None else 0
    if size_a + size_b > PROBE_FROM_SHAPES:
        share = changed_probe_share(shapes_a, shapes_b, layer_bbox(cell_a, li_a) + layer_bbox(cell_b, li_b), size_a + size_b)
        if share > MAX_CHANGED_PROBE_SHARE:
            raise Fallback("most shapes of cell %s on layer %s changed" % (cell_a.name, "/".join(str(k) for k in key)))
    return list_changed_shapes(shapes_a, shapes_b)


def list_changed_shapes(shapes_a, shapes_b):
    """LayoutDiff on copies of just these two shape lists: C++ matches them, Python sees only
    the shapes on one side."""
    found = {"a": pya.Region(), "b": pya.Region()}
    layouts = []
    for side, shapes in (("a", shapes_a), ("b", shapes_b)):
        layout = pya.Layout()
        cell = layout.create_cell("C")
        target = cell.shapes(layout.layer(1, 0))
        if shapes is not None:
            target.insert(shapes)
        layouts.append(layout)

    def only_in(side):
        region = found[side]
        return lambda shape, prop_id: region.insert(window_box(shape if isinstance(shape, pya.Box) else shape.bbox()))

    diff = pya.LayoutDiff()
    for kind in ("polygon", "box", "path"):
        setattr(diff, "on_%s_in_a_only" % kind, only_in("a"))
        setattr(diff, "on_%s_in_b_only" % kind, only_in("b"))
    diff.compare(layouts[0], layouts[1], pya.LayoutDiff.Verbose | pya.LayoutDiff.NoProperties)
    return found["a"], found["b"]


def changes_look_local(top_a, top_b, side_a, side_b):
    """Whether the structural diff may list every changed shape as it goes (cheapest when
    few changed) rather than leave it to changed_shapes per cell (bounded when many changed):
    no big cell of a same-named pair seems changed all over."""
    cells_a = side_a.placements(top_a)
    if len(cells_a) > MAX_CELLS_TO_PROBE:
        return False
    cells_b = dict((cell.name, cell) for cell, _ in side_b.placements(top_b))
    keys = set(side_a.layers) | set(side_b.layers)
    for cell_a, _ in cells_a:
        cell_b = cells_b.get(cell_a.name)
        if cell_b is None:
            continue
        for key in keys:
            li_a, li_b = side_a.layer_index(key), side_b.layer_index(key)
            shapes_a = cell_a.shapes(li_a) if li_a is not None else None
            shapes_b = cell_b.shapes(li_b) if li_b is not None else None
            total = (shapes_a.size() if shapes_a is not None else 0) + (shapes_b.size() if shapes_b is not None else 0)
            if total <= PROBE_FROM_SHAPES:
                continue
            box = layer_bbox(cell_a, li_a) + layer_bbox(cell_b, li_b)
            if changed_probe_share(shapes_a, shapes_b, box, total, QUICK_PROBES) > MAX_CHANGED_PROBE_SHARE:
                return False
    return True


def changed_probe_share(shapes_a, shapes_b, box, total, probes=PROBES):
    """Share of small probe squares, spread over the cell, in which A's and B's shapes differ,
    among those that hold any shape (so sparse layers are not underrated). Decides only what
    is cheaper, never the result."""
    if box.empty():
        return 0.0
    rnd = random.Random(box.left * 31 + box.bottom)  # deterministic: same inputs, same path
    # A probe is sized to hold a few shapes on average.
    side = max(1, int(math.sqrt(float(box.width()) * box.height() * 4.0 / total)))
    changed = occupied = 0
    for _ in range(probes):
        x = rnd.randint(box.left, max(box.left, box.right - side))
        y = rnd.randint(box.bottom, max(box.bottom, box.top - side))
        probe = pya.Box(x, y, x + side, y + side)
        found_a, found_b = probe_shapes(shapes_a, probe), probe_shapes(shapes_b, probe)
        if found_a or found_b:
            occupied += 1
            changed += found_a != found_b
    return changed / float(occupied) if occupied else 0.0


PROBE_KINDS = pya.Shapes.SBoxes | pya.Shapes.SPolygons | pya.Shapes.SPaths
# Everything but texts: what the flat shape counts count (lyipc_xor.geometry_count).
GEOMETRY_KINDS = pya.Shapes.SAll & ~pya.Shapes.STexts


def probe_shapes(shapes, probe):
    """The shapes touching a probe as LayoutDiff sees them: a box, a path and the same outline
    as a polygon all differ (a writer that turned every box into a polygon is a global change)."""
    if shapes is None:
        return []
    return sorted(probe_key(s) for s in shapes.each_touching(PROBE_KINDS, probe))


def probe_key(shape):
    """A shape's kind and hash (computed in C++: a shape of 100k points, which an outline
    merged by a boolean may have, would take milliseconds to turn into text)."""
    if shape.is_box():
        return ("b", shape.box.hash())
    if shape.is_path():
        return ("w", shape.path.hash())
    return ("p", shape.polygon.hash())


# ---------------------------------------------------------------- the windowed XOR


def windowed_xor(source_a, source_b, windows):
    """(Difference, (shapes of A, shapes of B) that reach into the windows): the XOR of the
    shapes of both layers that touch a window, which is the whole XOR (docs/incremental-xor.md):
    every changed shape lies in a window, and a shape that touches none is in both layouts.
    Shapes are taken whole, not clipped, so the boolean meets the same edges as a full XOR (on
    all-angle geometry it may still round an intersection 1 dbu apart, as any two engines do).
    The counts let the caller check the claim against the flat counts."""
    inside = []
    regions = []
    for cell, li, trans in (source_a, source_b):
        shapes = pya.RecursiveShapeIterator(cell.layout(), cell, li, windows, False)
        shapes.shape_flags = GEOMETRY_KINDS
        region = strict(pya.Region(shapes, trans))
        inside.append(region.count())
        regions.append(region)
    return Difference(*area_and_line_xor(regions[0], regions[1])), tuple(inside)
