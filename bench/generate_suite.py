"""Writes the directory benchmark's trees (bench/suite.mjs): `klayout -b -r generate_suite.py
-rd out=DIR -rd pairs=200`. A realistic regression run of a generator library: most outputs
have the same geometry as their reference but other bytes (GDS library name and timestamps
differ when files are written again), a few are byte-identical copies, a few really changed.
Deterministic: the same files every time."""

import os
import random

import pya

OUT = globals().get("out") or "bench/.data/suite"
PAIRS = int(globals().get("pairs") or 200)
DIFFERENT_EVERY = 20  # 1 in 20 pairs differs (10 of 200)
BYTE_COPY_EVERY = 10  # 1 in 10 of the rest is a byte-identical copy


def component(index, changed):
    rng = random.Random(index)
    layout = pya.Layout()
    layout.dbu = 0.001
    top = layout.create_cell("COMP_%03d" % index)
    unit = layout.create_cell("UNIT_%03d" % index)
    layers = [layout.layer(layer, 0) for layer in (1, 2, 3, 4)]
    for _ in range(40):
        x, y = rng.randint(0, 9000), rng.randint(0, 9000)
        unit.shapes(layers[rng.randint(0, 3)]).insert(pya.Box(x, y, x + rng.randint(200, 900), y + rng.randint(200, 900)))
    top.insert(pya.CellInstArray(unit.cell_index(), pya.Trans(), pya.Vector(10000, 0), pya.Vector(0, 10000), 4, 4))
    for _ in range(150):
        x, y = rng.randint(0, 40000), rng.randint(0, 40000)
        top.shapes(layers[rng.randint(0, 3)]).insert(pya.Box(x, y, x + rng.randint(100, 2000), y + rng.randint(100, 600)))
    top.shapes(layers[0]).insert(pya.Path([pya.Point(0, 0), pya.Point(20000, 0), pya.Point(20000, 20000)], 500))
    if changed:
        top.shapes(layers[1 + index % 3]).insert(pya.Box(41000, 41000, 41500, 41300))
    return layout


def write(layout, path, libname):
    options = pya.SaveLayoutOptions()
    options.gds2_libname = libname
    os.makedirs(os.path.dirname(path), exist_ok=True)
    layout.write(path, options)


for index in range(PAIRS):
    relative = os.path.join("block_%d" % (index % 8), "comp_%03d.gds" % index)
    reference = os.path.join(OUT, "ref", relative)
    output = os.path.join(OUT, "run", relative)
    differs = index % DIFFERENT_EVERY == DIFFERENT_EVERY - 1
    write(component(index, False), reference, "REFERENCE")
    if not differs and index % BYTE_COPY_EVERY == 0:
        os.makedirs(os.path.dirname(output), exist_ok=True)
        with open(reference, "rb") as source, open(output, "wb") as copy:
            copy.write(source.read())
    else:
        write(component(index, differs), output, "OUTPUT")
