"""Generates the benchmark layouts into bench/.data (not committed):
    klayout -b -r bench/generate.py

hier_a.gds / hier_b.gds  ~29 MB each: a 300x300 array of a 60-box cell (20 boxes on each of
                         layers 1-3) plus 450,000 flat boxes on layer 4; B = A plus one box.
flat_a.gds / flat_b.gds  ~29 MB each: 112,500 random boxes on each of layers 1-4, all in the
                         top cell; B = A plus one box on layer 2.
hier_a_copy.gds          a byte-identical copy of hier_a.gds."""

import os
import random
import shutil

import pya

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".data")


def hierarchical(path, extra_box):
    layout = pya.Layout()
    layout.dbu = 0.001
    top = layout.create_cell("TOP")
    unit = layout.create_cell("UNIT")
    layers = [layout.layer(n, 0) for n in (1, 2, 3, 4)]
    rnd = random.Random(1)
    for k in range(60):
        x, y = rnd.randint(0, 9000), rnd.randint(0, 9000)
        unit.shapes(layers[k % 3]).insert(pya.Box(x, y, x + rnd.randint(100, 1000), y + rnd.randint(100, 1000)))
    top.insert(pya.CellInstArray(unit.cell_index(), pya.Trans(), pya.Vector(10000, 0), pya.Vector(0, 10000), 300, 300))
    flat = top.shapes(layers[3])
    for _ in range(450000):
        x, y = rnd.randint(0, 3000000), rnd.randint(0, 3000000)
        flat.insert(pya.Box(x, y, x + rnd.randint(200, 2000), y + rnd.randint(200, 2000)))
    if extra_box:
        flat.insert(pya.Box(1500000, 1500000, 1500700, 1500900))
    layout.write(path)


def flat(path, extra_box):
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


if not os.path.isdir(DATA):
    os.makedirs(DATA)
for name, make, extra in (
    ("hier_a.gds", hierarchical, False),
    ("hier_b.gds", hierarchical, True),
    ("flat_a.gds", flat, False),
    ("flat_b.gds", flat, True),
):
    target = os.path.join(DATA, name)
    if not os.path.exists(target):
        make(target, extra)
        print("wrote", target)
shutil.copyfile(os.path.join(DATA, "hier_a.gds"), os.path.join(DATA, "hier_a_copy.gds"))
