"""Random layouts and random edits for the incremental-XOR property test (pya only).

A layout has a few leaf cells with boxes, Manhattan and all-angle polygons and paths on four
layers, middle cells placing them, and a top cell placing both, with arrays, rotations,
mirrors and magnification. An edit changes B in one way a generator
or a designer would: some change the geometry, some only its representation."""

import pya

LAYERS = [(1, 0), (2, 0), (3, 0), (7, 1)]
SIMPLE_ORIENTATIONS = [pya.Trans.R0, pya.Trans.R90, pya.Trans.R180, pya.Trans.R270,
                       pya.Trans.M0, pya.Trans.M45, pya.Trans.M90, pya.Trans.M135]


def even(rnd, low, high):
    return 2 * rnd.randint(low // 2, high // 2)


def random_shape(rnd, size):
    """Boxes, L shapes, 45-degree triangles, 45-degree octagons and paths. Every coordinate is
    even, so every intersection of two edges (Manhattan or 45 degrees) is on the grid and the
    XOR is exact: all-angle edges meet between grid points, where any two XOR engines
    (strmxor's modes included) round differently."""
    x, y = even(rnd, 0, size), even(rnd, 0, size)
    w, h = even(rnd, 20, size // 3 + 20), even(rnd, 20, size // 3 + 20)
    kind = rnd.random()
    if kind < 0.45:
        return pya.Box(x, y, x + w, y + h)
    if kind < 0.6:  # an L
        return pya.Polygon([pya.Point(x, y), pya.Point(x + w, y), pya.Point(x + w, y + h // 2),
                            pya.Point(x + w // 2, y + h // 2), pya.Point(x + w // 2, y + h), pya.Point(x, y + h)])
    if kind < 0.75:  # 45 degrees
        return pya.Polygon([pya.Point(x, y), pya.Point(x + w, y), pya.Point(x + w, y + w)])
    if kind < 0.87:  # an octagon
        c = even(rnd, 10, min(w, h) // 3 + 10)
        return pya.Polygon([pya.Point(x + c, y), pya.Point(x + w - c, y), pya.Point(x + w, y + c),
                            pya.Point(x + w, y + h - c), pya.Point(x + w - c, y + h), pya.Point(x + c, y + h),
                            pya.Point(x, y + h - c), pya.Point(x, y + c)])
    points = [pya.Point(x, y), pya.Point(x + w, y), pya.Point(x + w, y + h)]
    if rnd.random() < 0.3:
        points[2] = pya.Point(x + w + h, y + h)  # a 45-degree segment
    # Square ends (extension = half width) keep the outline on the grid at 45 degrees too.
    return pya.Path(points[:rnd.randint(2, 3)], 4 * rnd.randint(3, 20), 2 * rnd.randint(0, 5), 2 * rnd.randint(0, 5))


def random_trans(rnd, span):
    """Placements on the grid: 8 orientations, magnification 1 or 2. Rotations by other angles
    put vertices off the grid, where any two XOR engines (strmxor included) round differently."""
    disp = pya.Vector(even(rnd, -span // 4, span), even(rnd, -span // 4, span))
    mag = 2.0 if rnd.random() < 0.15 else 1.0
    return pya.ICplxTrans(mag, 0.0, False, disp) * pya.ICplxTrans(pya.Trans(rnd.choice(SIMPLE_ORIENTATIONS)))


def insert_shapes(rnd, cell, layers, count, size):
    for _ in range(count):
        cell.shapes(rnd.choice(layers)).insert(random_shape(rnd, size))
    if rnd.random() < 0.2:
        cell.shapes(rnd.choice(layers)).insert(pya.Text("label", pya.Trans(pya.Vector(even(rnd, 0, size), 0))))


def place(rnd, parent, child, span):
    trans = random_trans(rnd, span)
    if rnd.random() < 0.3:
        a = pya.Vector(rnd.randint(1, 3) * 1500, even(rnd, -200, 200))
        b = pya.Vector(even(rnd, -200, 200), rnd.randint(1, 3) * 1500)
        parent.insert(pya.CellInstArray(child.cell_index(), trans, a, b, rnd.randint(1, 4), rnd.randint(1, 3)))
    else:
        parent.insert(pya.CellInstArray(child.cell_index(), trans))


def random_layout(rnd):
    layout = pya.Layout()
    layout.dbu = 0.001
    layers = [layout.layer(l, d) for l, d in LAYERS]
    leaves = []
    for i in range(rnd.randint(1, 4)):
        leaf = layout.create_cell("LEAF%d" % i)
        insert_shapes(rnd, leaf, layers, rnd.randint(1, 6), 1000)
        leaves.append(leaf)
    mids = []
    for i in range(rnd.randint(0, 3)):
        mid = layout.create_cell("MID%d" % i)
        for _ in range(rnd.randint(1, 4)):
            place(rnd, mid, rnd.choice(leaves), 4000)
        insert_shapes(rnd, mid, layers, rnd.randint(0, 3), 4000)
        mids.append(mid)
    top = layout.create_cell("TOP")
    for _ in range(rnd.randint(1, 6)):
        place(rnd, top, rnd.choice(leaves + mids), 20000)
    insert_shapes(rnd, top, layers, rnd.randint(1, 8), 20000)
    for cell in leaves + mids:
        if cell.parent_cells() == 0:
            place(rnd, top, cell, 20000)
    return layout


def prune_orphans(layout, top_index):
    """Flattening leaves cells nobody places; a tool writing B would drop them."""
    for cell in list(layout.top_cells()):
        if cell.cell_index() != top_index:
            layout.prune_cell(cell.cell_index(), -1)


def flatten_top(layout, top):
    """What top.flatten(True) does: every shape below the top copied into it, transformed; the
    instances gone (prune_orphans drops the cells left unplaced). KLayout 0.28.5's own flatten can
    crash on a layout one of whose cells was deleted before (seen with LYIPC_PROPERTY_SEED=366572:
    delete_cell, then placed_twice_now_once); the recursive shape iterator does not."""
    for li in layout.layer_indexes():
        found = []
        it = top.begin_shapes_rec(li)
        it.min_depth = 1  # the top's own shapes stay where they are
        while not it.at_end():
            found.append((it.shape(), it.trans()))
            it.next()
        shapes = top.shapes(li)
        for shape, trans in found:
            shapes.insert(shape, trans)
    top.clear_insts()


# ---------------------------------------------------------------- edits


def cells_with_shapes(layout):
    found = []
    for cell in layout.each_cell():
        for li in layout.layer_indexes():
            for shape in cell.shapes(li).each(pya.Shapes.SBoxes | pya.Shapes.SPolygons | pya.Shapes.SPaths):
                found.append((cell, li, shape))
    return found


def pick_shape(rnd, layout, kinds=None):
    found = [f for f in cells_with_shapes(layout) if kinds is None or kinds(f[2])]
    return rnd.choice(found) if found else None


def add_shape(rnd, layout):
    cell = rnd.choice(list(layout.each_cell()))
    cell.shapes(rnd.choice(list(layout.layer_indexes()))).insert(random_shape(rnd, 2000))
    return "add a shape to %s" % cell.name


def on_a_shape(rnd, layout, act, what):
    """Applies act(shapes, shape) to a random shape; returns `what` with its cell's name, or
    None when the layout has no shape."""
    picked = pick_shape(rnd, layout)
    if picked is None:
        return None
    cell, li, shape = picked
    act(cell.shapes(li), shape)
    return what % cell.name


def remove_shape(rnd, layout):
    return on_a_shape(rnd, layout, lambda shapes, shape: shapes.erase(shape), "remove a shape from %s")


def move_shape(rnd, layout):
    def move(shapes, shape):
        shape.transform(pya.Trans(pya.Vector(rnd.choice([-2, 2, 8, -250]), rnd.choice([0, 4, 120]))))
    return on_a_shape(rnd, layout, move, "move a shape in %s")


def change_instance(rnd, layout):
    found = [(cell, inst) for cell in layout.each_cell() for inst in cell.each_inst()]
    if not found:
        return None
    cell, inst = rnd.choice(found)
    if rnd.random() < 0.5:
        inst.transform(pya.Trans(pya.Vector(rnd.choice([2, -40, 900]), rnd.choice([0, 6]))))
        return "move an instance in %s" % cell.name
    inst.transform(pya.Trans(pya.Trans.R90))
    return "rotate an instance in %s" % cell.name


def edit_shared_cell(rnd, layout):
    """A change inside the cell with the most placements."""
    top = list(layout.top_cells())[0]
    counts = {}
    for ci in layout.each_cell_top_down():
        counts.setdefault(ci, 1 if ci == top.cell_index() else 0)
        for inst in layout.cell(ci).each_inst():
            counts[inst.cell_index] = counts.get(inst.cell_index, 0) + counts[ci] * inst.size()
    ci = max(counts, key=lambda c: (counts[c], -c))
    layout.cell(ci).shapes(rnd.choice(list(layout.layer_indexes()))).insert(random_shape(rnd, 1000))
    return "add a shape to %s, placed %d times" % (layout.cell(ci).name, counts[ci])


def refracture(rnd, layout):
    """Representation only: a box becomes two abutting boxes, a polygon its trapezoids."""
    picked = pick_shape(rnd, layout, lambda s: s.is_box() or s.is_polygon())
    if picked is None:
        return None
    cell, li, shape = picked
    shapes = cell.shapes(li)
    if shape.is_box():
        box = shape.box
        middle = (box.left + box.right) // 2  # even + even: on the grid at any half
        shapes.erase(shape)
        shapes.insert(pya.Box(box.left, box.bottom, middle, box.top))
        shapes.insert(pya.Box(middle, box.bottom, box.right, box.top))
        return "split a box in %s" % cell.name
    polygon = shape.polygon
    shapes.erase(shape)
    for part in polygon.decompose_trapezoids():
        shapes.insert(part)
    return "re-fracture a polygon in %s" % cell.name


def as_polygons(rnd, layout):
    """Representation only: boxes and paths of one cell become polygons."""
    cell = rnd.choice(list(layout.each_cell()))
    for li in layout.layer_indexes():
        shapes = cell.shapes(li)
        for shape in list(shapes.each(pya.Shapes.SBoxes | pya.Shapes.SPaths)):
            polygon = shape.polygon
            shapes.erase(shape)
            shapes.insert(polygon)
    return "boxes and paths of %s as polygons" % cell.name


def rename_cells(rnd, layout):
    for cell in list(layout.each_cell()):
        cell.name = "RENAMED_%s_%d" % (cell.name, rnd.randint(0, 99))
    return "rename every cell"


def flatten_subtree(rnd, layout):
    top = list(layout.top_cells())[0]
    instances = list(top.each_inst())
    if not instances:
        return None
    rnd.choice(instances).flatten()
    return "flatten one instance of the top cell"


def explode_array(rnd, layout):
    arrays = [(cell, inst) for cell in layout.each_cell() for inst in cell.each_inst() if inst.size() > 1]
    if not arrays:
        return None
    cell, inst = rnd.choice(arrays)
    inst.explode()
    return "array in %s as single instances" % cell.name


def duplicate_shape(rnd, layout):
    return on_a_shape(rnd, layout, lambda shapes, shape: shapes.insert(shape), "duplicate a shape in %s")


def global_shift(rnd, layout):
    top = list(layout.top_cells())[0]
    top.transform(pya.Trans(pya.Vector(rnd.choice([2, 10, 334]), 0)))
    return "shift everything"


# ---------------------------------------------------------------- restructuring edits
# Edits that change the cell tree, with or without changing the geometry: the structural diff
# must pair the tops, account for every cell and find every place that changed.


def top_of(layout):
    return list(layout.top_cells())[0]


def unflatten(rnd, layout):
    """Representation only: some shapes of the top cell move into a new child cell placed
    once at the origin (the reverse of flattening)."""
    top = top_of(layout)
    child = layout.create_cell("UNFLAT%d" % rnd.randint(0, 999))
    moved = 0
    for li in layout.layer_indexes():
        for shape in list(top.shapes(li).each(pya.Shapes.SBoxes | pya.Shapes.SPolygons | pya.Shapes.SPaths)):
            if rnd.random() < 0.5:
                child.shapes(li).insert(shape)
                top.shapes(li).erase(shape)
                moved += 1
    top.insert(pya.CellInstArray(child.cell_index(), pya.Trans()))
    return "%d top shapes into a new child cell placed once" % moved


def shapes_into_placed_child(rnd, layout):
    """The issue's case: the top's own shapes move into a child cell that is placed three
    times (one mirrored, one rotated); the top's copy goes."""
    top = top_of(layout)
    child = layout.create_cell("MOVED%d" % rnd.randint(0, 999))
    for li in layout.layer_indexes():
        for shape in list(top.shapes(li).each(pya.Shapes.SBoxes | pya.Shapes.SPolygons | pya.Shapes.SPaths)):
            child.shapes(li).insert(shape)
            top.shapes(li).erase(shape)
    for trans in (pya.Trans(), pya.Trans(pya.Trans.M0, 30000, 0), pya.Trans(pya.Trans.R90, 0, 30000)):
        top.insert(pya.CellInstArray(child.cell_index(), trans))
    return "the top's shapes into a child placed 3 times"


def child_shape_to_parent(rnd, layout):
    """A shape of a cell placed exactly once moves up into its parent, at the same place."""
    candidates = [(cell, inst) for cell in layout.each_cell() for inst in cell.each_inst() if inst.size() == 1
                  and layout.cell(inst.cell_index).parent_cells() == 1 and not layout.cell(inst.cell_index).is_empty()]
    candidates = [(cell, inst) for cell, inst in candidates if sum(1 for _ in layout.cell(inst.cell_index).each_parent_inst()) == 1]
    if not candidates:
        return None
    parent, inst = rnd.choice(candidates)
    child = layout.cell(inst.cell_index)
    found = [(li, s) for li in layout.layer_indexes() for s in child.shapes(li).each(pya.Shapes.SBoxes | pya.Shapes.SPolygons | pya.Shapes.SPaths)]
    if not found:
        return None
    li, shape = rnd.choice(found)
    parent.shapes(li).insert(shape.polygon.transformed(inst.cplx_trans))
    child.shapes(li).erase(shape)
    return "a shape of %s up into %s" % (child.name, parent.name)


def top_is_child_of_other(rnd, layout):
    """B's top becomes a flat copy of one of A's child cells: a top cell equal in content to a
    child of the other side (the rest of the design is gone)."""
    top = top_of(layout)
    children = [layout.cell(ci) for ci in top.called_cells()]
    if not children:
        return None
    child = rnd.choice(children)
    name = child.name
    for li in layout.layer_indexes():
        top.shapes(li).clear()
    top.clear_insts()
    top.insert(pya.CellInstArray(child.cell_index(), pya.Trans()))
    flatten_top(layout, top)
    return "the top holds only %s's content, flat" % name


def placed_twice_now_once(rnd, layout):
    """The issue's other case: a cell placed twice under the top; B flattens the top and one
    copy is gone."""
    top = top_of(layout)
    instances = [inst for inst in top.each_inst() if inst.size() == 1]
    if len(instances) < 2:
        return None
    rnd.choice(instances).delete()
    flatten_top(layout, top)
    return "one top instance deleted, the top flattened"


def cell_on_one_side(rnd, layout):
    """A new cell with shapes, placed in a random cell (a cell B has and A has not)."""
    parent = rnd.choice(list(layout.each_cell()))
    cell = layout.create_cell("NEW%d" % rnd.randint(0, 999))
    insert_shapes(rnd, cell, list(layout.layer_indexes()), rnd.randint(1, 3), 800)
    place(rnd, parent, cell, 4000)
    return "a new cell placed in %s" % parent.name


def delete_cell(rnd, layout):
    """A child cell and its placements removed (a cell A has and B has not)."""
    top = top_of(layout)
    children = [layout.cell(ci) for ci in top.called_cells()]
    if not children:
        return None
    cell = rnd.choice(children)
    name = cell.name
    layout.delete_cell(cell.cell_index())
    return "cell %s deleted with its placements" % name


def swap_instances(rnd, layout):
    """Two instances of different cells trade cells, each keeping its place."""
    found = [(cell, inst) for cell in layout.each_cell() for inst in cell.each_inst()]
    pairs = [(x, y) for x in found for y in found if x[0].cell_index() == y[0].cell_index() and x[1].cell_index != y[1].cell_index]
    if not pairs:
        return None
    (cell, one), (_, other) = rnd.choice(pairs)
    first, second = one.cell_index, other.cell_index
    one.cell_index = second
    other.cell_index = first
    return "two instances in %s swap their cells" % cell.name


def drop_array_member(rnd, layout):
    """One member of an array goes: the array is written as its members, one of them deleted."""
    arrays = [(cell, inst) for cell in layout.each_cell() for inst in cell.each_inst() if inst.size() > 1]
    if not arrays:
        return None
    cell, inst = rnd.choice(arrays)
    members = list(inst.cell_inst.each_cplx_trans())
    child = inst.cell_index
    inst.delete()
    drop = rnd.randrange(len(members))
    for index, trans in enumerate(members):
        if index != drop:
            cell.insert(pya.CellInstArray(child, trans))
    return "array member %d of %d in %s dropped" % (drop, len(members), cell.name)


def extra_level(rnd, layout):
    """Representation only: an instance is wrapped into a new cell placed at the origin."""
    found = [(cell, inst) for cell in layout.each_cell() for inst in cell.each_inst()]
    if not found:
        return None
    cell, inst = rnd.choice(found)
    wrapper = layout.create_cell("WRAP%d" % rnd.randint(0, 999))
    wrapper.insert(inst.cell_inst)
    inst.delete()
    cell.insert(pya.CellInstArray(wrapper.cell_index(), pya.Trans()))
    return "an instance in %s wrapped into a new cell" % cell.name


def zero_area_shapes(rnd, layout):
    """Zero-width paths and degenerate boxes, on a layer in use or on a new one (then the
    layer exists in B only and holds nothing but zero-area shapes)."""
    cell = rnd.choice(list(layout.each_cell()))
    li = layout.layer(77, 0) if rnd.random() < 0.5 else rnd.choice(list(layout.layer_indexes()))
    x, y = even(rnd, 0, 2000), even(rnd, 0, 2000)
    cell.shapes(li).insert(pya.Path([pya.Point(x, y), pya.Point(x + 400, y)], 0))
    cell.shapes(li).insert(pya.Box(x, y, x, y + 300))
    return "zero-area shapes in %s on %s" % (cell.name, layout.get_info(li))


EDITS = [add_shape, remove_shape, move_shape, change_instance, edit_shared_cell, refracture,
         as_polygons, rename_cells, flatten_subtree, explode_array, duplicate_shape, global_shift,
         unflatten, shapes_into_placed_child, child_shape_to_parent, top_is_child_of_other, placed_twice_now_once,
         cell_on_one_side, delete_cell, swap_instances, drop_array_member, extra_level, zero_area_shapes]


def random_edits(rnd, layout):
    """Applies 0 to 2 edits to `layout`; returns what was done."""
    top_index = list(layout.top_cells())[0].cell_index()
    done = []
    for _ in range(rnd.choice([0, 1, 1, 1, 2, 2])):
        what = rnd.choice(EDITS)(rnd, layout)
        if what:
            done.append(what)
    prune_orphans(layout, top_index)
    return done
