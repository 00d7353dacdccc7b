"""Structural comparison before any XOR: where can two cell trees differ?

KLayout's LayoutDiff compares two trees cell pair by cell pair in C++ (about 0.1 s for two
29 MB layouts): which cells have different own shapes on which layer, which instances exist on
one side only. lyipc_windows turns those places into the windows the XOR has to look at.

The windows are only complete if the cells are paired the right way, so lyipc pairs them
itself rather than leaving it to LayoutDiff's fuzzy "smart" mapping (which may pair a top cell
with a child of the other side, or leave a cell out):
- the two top cells with each other, always;
- then cells placed at the same places below the tops (KLayout's geometric cell mapping, so
  renamed cells still pair), then cells of the same name;
- every pairing one to one; every other cell is on one side only.
LayoutDiff then compares exactly these pairs (by giving paired B cells their A partner's name
for the length of the diff). Why that makes the windows complete: docs/incremental-xor.md."""

import pya

from lyipc_windows import window_box

FLAGS = (
    pya.LayoutDiff.FlattenArrayInsts  # an array equals its members placed one by one
    | pya.LayoutDiff.NoProperties
    | pya.LayoutDiff.NoLayerNames
    | pya.LayoutDiff.NoTextOrientation
    | pya.LayoutDiff.NoTextDetails
    | pya.LayoutDiff.Verbose  # per-instance events; per-shape handlers only when listing shapes
)
# Not BoxesAsPolygons: it makes LayoutDiff about 25x slower on box-heavy layouts. A box on
# one side and the same rectangle as a polygon on the other is reported as a change, and the
# XOR in its window finds them equal. Not PathsAsPolygons either, for the same reason: on a
# real layout of 2.3M paths (among 3.9M shapes) it made LayoutDiff 4x slower (14.4 s, 3.3 s
# without), slower than strmxor's whole XOR; a path and its outline as a polygon are a change
# whose window XORs to nothing.
# Not SmartCellMapping: cells are paired here (module docstring).

# Texts and edges take no part in the XOR, so their differences are not changes.
GEOMETRY_EVENTS = ("on_begin_polygon_differences", "on_begin_box_differences", "on_begin_path_differences")
# Instances listed per cell before the rest of them only count: a cell whose instances mostly
# changed is dirty as a whole.
MAX_LISTED_INSTANCES = 2000
# Changed shapes listed during the diff, over all cells; beyond it lyipc_windows lists them
# per cell itself. Each one costs a call into Python (~1-2 us), which is why shapes are
# listed here only when the changes look local (lyipc_windows.changes_look_local).
MAX_LISTED_SHAPES = 50000
# KLayout's geometric cell mapping collects every placement of a cell below the top; past
# this many placements in all, cells are paired by name only (slower windows, same answer).
MAX_GEOMETRY_MAPPING_PLACEMENTS = 2000000


def layer_key(info):
    """Layers pair by layer/datatype; name-only layers (OASIS) pair by name."""
    if info.layer >= 0:
        return (info.layer, info.datatype)
    return (info.name,)


class CellChanges:
    """One pair of cells: layers whose own shapes differ, instances on one side only."""

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
        # Cells below the tops without a partner; their placements are changed instances.
        self.cells_a_only = []
        self.cells_b_only = []
        self.pairs = 0

    def cells_with_shape_changes(self, key):
        return [c for c in self.cells if key in c.layers]

    def cells_with_instance_changes(self):
        return [c for c in self.cells if c.instances_changed()]


def below(top):
    """Indexes of `top` and every cell it places, directly or not."""
    cells = set(top.called_cells())
    cells.add(top.cell_index())
    return cells


def pair_cells(top_a, top_b, placements):
    """{cell index in A: cell index in B}, one to one, tops with each other first."""
    layout_a, layout_b = top_a.layout(), top_b.layout()
    cells_a, cells_b = below(top_a), below(top_b)
    pairs = {top_a.cell_index(): top_b.cell_index()}
    taken = {top_b.cell_index()}

    def pair(ci_a, ci_b):
        if ci_a in cells_a and ci_b in cells_b and ci_a not in pairs and ci_b not in taken:
            pairs[ci_a] = ci_b
            taken.add(ci_b)

    # Pairing by geometry helps only where names do not pair every cell (renamed cells); any
    # one-to-one pairing is a proof, since LayoutDiff then compares exactly those pairs. It
    # costs ~40 ms on 90,000 placements, an eighth of a local change's whole comparison.
    names_a = set(layout_a.cell_name(ci) for ci in cells_a if ci != top_a.cell_index())
    names_b = set(layout_b.cell_name(ci) for ci in cells_b if ci != top_b.cell_index())
    if names_a != names_b and placements <= MAX_GEOMETRY_MAPPING_PLACEMENTS:
        mapping = pya.CellMapping()
        mapping.from_geometry(layout_a, top_a.cell_index(), layout_b, top_b.cell_index())
        for ci_b, ci_a in sorted(mapping.table().items()):
            pair(ci_a, ci_b)
    by_name_b = dict((layout_b.cell_name(ci), ci) for ci in cells_b if ci not in taken)
    for ci_a in sorted(cells_a):
        ci_b = by_name_b.get(layout_a.cell_name(ci_a))
        if ci_b is not None:
            pair(ci_a, ci_b)
    return pairs, cells_a, cells_b


class DiffNames:
    """Gives B's cells the names LayoutDiff pairs by, for the length of a `with` block: a
    paired cell its A partner's name, a cell on one side only a name no A cell has. Renames
    go through unique temporary names, so no two cells ever share a name (KLayout's name
    table would lose one), and are undone on the way out."""

    def __init__(self, layout_a, layout_b, pairs, cells_a, cells_b):
        self.layout_b = layout_b
        names_a = set(layout_a.cell_name(ci) for ci in cells_a)
        target = dict((ci_b, layout_a.cell_name(ci_a)) for ci_a, ci_b in pairs.items())
        for ci_b in cells_b:
            if ci_b not in target:
                target[ci_b] = self.fresh("lyipc-only-in-b-%d" % ci_b, names_a)
        wanted = set(target.values())
        # A cell outside the tree holding a wanted name must make room too.
        for cell in layout_b.each_cell():
            ci = cell.cell_index()
            if ci not in target and cell.name in wanted:
                target[ci] = self.fresh("lyipc-aside-%d" % ci, wanted | names_a)
        self.renames = dict((ci, name) for ci, name in target.items() if layout_b.cell_name(ci) != name)
        self.original = dict((ci, layout_b.cell_name(ci)) for ci in self.renames)

    @staticmethod
    def fresh(name, taken):
        while name in taken:
            name += "_"
        return name

    def _rename(self, names):
        for ci in names:
            self.layout_b.rename_cell(ci, "\x01lyipc-temporary-%d" % ci)
        for ci, name in names.items():
            self.layout_b.rename_cell(ci, name)

    def __enter__(self):
        self._rename(self.renames)
        return self

    def __exit__(self, *exc):
        self._rename(self.original)
        return False


def structural_changes(top_a, top_b, list_shapes, placements=0):
    """Compares the trees below top_a and top_b (same grid assumed, see run_xor). With
    list_shapes, also lists the changed shapes (else lyipc_windows lists them per cell).
    `placements` (cells times their placements, both sides) bounds the cell mapping's work."""
    changes = Changes()
    pairs, cells_a, cells_b = pair_cells(top_a, top_b, placements)
    diff = pya.LayoutDiff()
    state = {"cell": None, "layer": None, "listed": 0}
    seen_a, seen_b, compared = set(), set(), {}

    def begin_cell(cell_a, cell_b):
        state["cell"] = CellChanges(cell_a, cell_b)
        changes.cells.append(state["cell"])
        compared[cell_a.cell_index()] = cell_b.cell_index()

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
            regions[slot].insert(window_box(shape if isinstance(shape, pya.Box) else shape.bbox()))
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
    diff.on_cell_in_a_only = lambda cell: seen_a.add(cell.cell_index())
    diff.on_cell_in_b_only = lambda cell: seen_b.add(cell.cell_index())
    diff.on_layer_in_a_only = layer_on_one_side
    diff.on_layer_in_b_only = layer_on_one_side
    diff.on_dbu_differs = dbu_differs
    if list_shapes:
        for kind in ("polygon", "box", "path"):
            setattr(diff, "on_%s_in_a_only" % kind, shape_only_in("a"))
            setattr(diff, "on_%s_in_b_only" % kind, shape_only_in("b"))

    with DiffNames(top_a.layout(), top_b.layout(), pairs, cells_a, cells_b):
        diff.compare(top_a, top_b, FLAGS)

    # The windows are complete only if LayoutDiff compared exactly the pairs made here and
    # saw every other cell of both trees as one-sided: check, rather than trust.
    if changes.blocker is None:
        if compared != pairs:
            changes.blocker = "the structural diff paired %d cells where %d were paired" % (len(compared), len(pairs))
        elif seen_a | set(compared) != cells_a or seen_b | set(compared.values()) != cells_b:
            changes.blocker = "the structural diff did not account for every cell"
    changes.pairs = len(pairs)
    layout_a, layout_b = top_a.layout(), top_b.layout()
    changes.cells_a_only = [layout_a.cell(ci) for ci in sorted(seen_a)]
    changes.cells_b_only = [layout_b.cell(ci) for ci in sorted(seen_b)]
    changes.cells = [c for c in changes.cells if c.layers or c.instances_changed()]
    return changes
