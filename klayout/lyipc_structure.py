"""Structural comparison before any XOR: where do two cell trees differ?

KLayout's LayoutDiff pairs the cells of both trees (by content, so renamed cells still pair)
and compares them cell by cell in C++: about 0.1 s for two 29 MB layouts. It tells which
cells have different shapes on which layer, and which instances exist on one side only.
Everything else is the same by construction; lyipc_windows turns the differences into the
windows the XOR has to look at."""

import pya

FLAGS = (
    pya.LayoutDiff.SmartCellMapping  # cells pair by content when their names differ
    | pya.LayoutDiff.FlattenArrayInsts  # an array equals its members placed one by one
    | pya.LayoutDiff.PathsAsPolygons
    | pya.LayoutDiff.NoProperties
    | pya.LayoutDiff.NoLayerNames
    | pya.LayoutDiff.NoTextOrientation
    | pya.LayoutDiff.NoTextDetails
    | pya.LayoutDiff.Verbose  # per-instance events; per-shape handlers are never registered here
)
# Not BoxesAsPolygons: it makes LayoutDiff about 25x slower on box-heavy layouts. A box on
# one side and the same rectangle as a polygon on the other is reported as a change, and the
# XOR in its window finds them equal.

# Texts and edges take no part in the XOR, so their differences are not changes.
GEOMETRY_EVENTS = ("on_begin_polygon_differences", "on_begin_box_differences", "on_begin_path_differences")
# Instances listed per cell before the rest of them only count: a cell whose instances mostly
# changed is dirty as a whole.
MAX_LISTED_INSTANCES = 2000
# Changed shapes listed during the diff, over all cells; beyond it lyipc_windows lists them
# per cell itself. Each one costs a call into Python (~1-2 us), which is why shapes are
# listed here only when the changes look local (lyipc_windows.changes_look_local).
MAX_LISTED_SHAPES = 50000


class CellChanges:
    """One pair of matched cells: layers whose own shapes differ, instances on one side only."""

    def __init__(self, cell_a, cell_b):
        self.cell_a = cell_a
        self.cell_b = cell_b
        self.layers = set()
        self.instances_a = []
        self.instances_b = []
        self.unlisted_instances = 0
        # Layer key -> [Region A, Region B] of bounding boxes of shapes on one side only,
        # when the diff listed them completely.
        self.listed_shapes = {}
        self.incomplete = set()

    def listed(self, key):
        """(Region A, Region B) of changed shapes on a layer, or None if they were not listed."""
        if key in self.incomplete or key not in self.listed_shapes:
            return None
        return tuple(self.listed_shapes[key])

    def instances_changed(self):
        return bool(self.instances_a or self.instances_b or self.unlisted_instances)


class Changes:
    """What differs below one pair of top cells. `blocker` is set when the diff cannot be
    used at all (then every layer needs a full XOR)."""

    def __init__(self):
        self.blocker = None
        self.cells = []
        self.one_sided_layers = set()

    def cells_with_shape_changes(self, key):
        return [c for c in self.cells if key in c.layers]

    def cells_with_instance_changes(self):
        return [c for c in self.cells if c.instances_changed()]


def structural_changes(top_a, top_b, layer_key, list_shapes):
    """Compares the trees below top_a and top_b (same grid assumed, see run_xor). With
    list_shapes, also lists the changed shapes (else lyipc_windows lists them per cell)."""
    changes = Changes()
    diff = pya.LayoutDiff()
    state = {"cell": None, "layer": None, "listed": 0}

    def begin_cell(cell_a, cell_b):
        state["cell"] = CellChanges(cell_a, cell_b)
        changes.cells.append(state["cell"])

    def begin_layer(info, index_a, index_b):
        state["layer"] = layer_key(info)

    def shapes_differ(*args):
        state["cell"].layers.add(state["layer"])

    def instance_only_in(side):
        def handler(instance, prop_id):
            cell = state["cell"]
            listed = cell.instances_a if side == "a" else cell.instances_b
            if len(cell.instances_a) + len(cell.instances_b) < MAX_LISTED_INSTANCES:
                listed.append(instance.dup())  # the event passes a temporary
            else:
                cell.unlisted_instances += 1
        return handler

    def shape_only_in(side):
        slot = 0 if side == "a" else 1

        def handler(shape, prop_id):
            cell, key = state["cell"], state["layer"]
            if state["listed"] >= MAX_LISTED_SHAPES:
                cell.incomplete.add(key)
                return
            state["listed"] += 1
            regions = cell.listed_shapes.get(key)
            if regions is None:
                regions = cell.listed_shapes[key] = [pya.Region(), pya.Region()]
            regions[slot].insert(shape if isinstance(shape, pya.Box) else shape.bbox())
        return handler

    def layer_on_one_side(info):
        changes.one_sided_layers.add(layer_key(info))

    def dbu_differs(dbu_a, dbu_b):
        changes.blocker = "the database units differ"

    diff.on_begin_cell = begin_cell
    diff.on_begin_layer = begin_layer
    for event in GEOMETRY_EVENTS:
        setattr(diff, event, shapes_differ)
    diff.on_instance_in_a_only = instance_only_in("a")
    diff.on_instance_in_b_only = instance_only_in("b")
    diff.on_layer_in_a_only = layer_on_one_side
    diff.on_layer_in_b_only = layer_on_one_side
    diff.on_dbu_differs = dbu_differs
    if list_shapes:
        for kind in ("polygon", "box", "path"):
            setattr(diff, "on_%s_in_a_only" % kind, shape_only_in("a"))
            setattr(diff, "on_%s_in_b_only" % kind, shape_only_in("b"))

    diff.compare(top_a, top_b, FLAGS)
    changes.cells = [c for c in changes.cells if c.layers or c.instances_changed()]
    return changes
