"""Generates the benchmark layouts into bench/.data (not committed):
    klayout -b -r bench/generate.py

hier_a.gds / hier_b.gds  ~29 MB each: a 300x300 array of a 60-box cell (20 boxes on each of
                         layers 1-3) plus 450,000 flat boxes on layer 4; B = A plus one box.
flat_a.gds / flat_b.gds  ~29 MB each: 112,500 random boxes on each of layers 1-4, all in the
                         top cell; B = A plus one box on layer 2.
hier_cell.gds            hier_a with one box of the 60-box cell 1 um wider: a change in a
                         cell placed 90,000 times.
hier_shift.gds           hier_a with everything in the top cell moved 1 nm: a global change.
hier_a.oas, flat_a.oas   hier_a / flat_a written again as OASIS: no change, other bytes.
hier_a_copy.gds          a byte-identical copy of hier_a.gds.

`-rd only=NAME[,NAME]` makes only those (the viewer benchmark needs flat_a.gds alone)."""

import os
import random
import shutil

import pya

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".data")


def hierarchical(path, extra_box=False, wider_unit_box=False, shift=False):
    layout = pya.Layout()
    layout.dbu = 0.001
    top = layout.create_cell("TOP")
    unit = layout.create_cell("UNIT")
    layers = [layout.layer(n, 0) for n in (1, 2, 3, 4)]
    rnd = random.Random(1)
    for k in range(60):
        x, y = rnd.randint(0, 9000), rnd.randint(0, 9000)
        w, h = rnd.randint(100, 1000), rnd.randint(100, 1000)
        if wider_unit_box and k == 0:
            w += 1000
        unit.shapes(layers[k % 3]).insert(pya.Box(x, y, x + w, y + h))
    top.insert(pya.CellInstArray(unit.cell_index(), pya.Trans(), pya.Vector(10000, 0), pya.Vector(0, 10000), 300, 300))
    flat = top.shapes(layers[3])
    for _ in range(450000):
        x, y = rnd.randint(0, 3000000), rnd.randint(0, 3000000)
        flat.insert(pya.Box(x, y, x + rnd.randint(200, 2000), y + rnd.randint(200, 2000)))
    if extra_box:
        flat.insert(pya.Box(1500000, 1500000, 1500700, 1500900))
    if shift:
        top.transform(pya.Trans(pya.Vector(1, 0)))
    layout.write(path)


def flat(path, extra_box=False):
    layout = pya.Layout()
    layout.dbu = 0.001
    top = layout.create_cell("TOP")
    rnd = random.Random(2)
    for n in range(1, 5):
        shapes = top.shapes(layout.layer(n, 0))
        for _ in range(112500):
            x, y = rnd.randint(0, 3000000), rnd.randint(0, 3000000)
            shapes.insert(pya.Box(x, y, x + rnd.randint(200, 4000), y + rnd.randint(200, 4000)))
    if extra_box:
        top.shapes(layout.layer(2, 0)).insert(pya.Box(1500000, 1500000, 1500700, 1500900))
    layout.write(path)


def rewrite_as_oasis(source):
    def make(path):
        layout = pya.Layout()
        layout.read(os.path.join(DATA, source))
        layout.write(path)
    return make


if not os.path.isdir(DATA):
    os.makedirs(DATA)
# -rd only=... sets this global
wanted = set(globals()["only"].split(",")) if globals().get("only") else None
for name, make in (
    ("hier_a.gds", hierarchical),
    ("hier_b.gds", lambda path: hierarchical(path, extra_box=True)),
    ("hier_cell.gds", lambda path: hierarchical(path, wider_unit_box=True)),
    ("hier_shift.gds", lambda path: hierarchical(path, shift=True)),
    ("flat_a.gds", flat),
    ("flat_b.gds", lambda path: flat(path, extra_box=True)),
    ("hier_a.oas", rewrite_as_oasis("hier_a.gds")),
    ("flat_a.oas", rewrite_as_oasis("flat_a.gds")),
):
    target = os.path.join(DATA, name)
    if wanted is not None and name not in wanted:
        continue
    if not os.path.exists(target):
        make(target)
        print("wrote", target)
if wanted is None or "hier_a_copy.gds" in wanted:
    shutil.copyfile(os.path.join(DATA, "hier_a.gds"), os.path.join(DATA, "hier_a_copy.gds"))
