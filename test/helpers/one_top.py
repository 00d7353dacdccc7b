"""Test and benchmark helper, run with: klayout -b -r one_top.py -rd input=FILE -rd output=FILE
Writes a copy of a layout whose top cells are all placed, unchanged, in one new top cell:
strmxor needs one top cell, and on such copies it gives the flat XOR of all top cells."""

import pya

layout = pya.Layout()
layout.read(globals()["input"])  # set by klayout -rd
tops = list(layout.top_cells())
name = "ALL_TOP_CELLS"
while layout.cell(name) is not None:
    name += "_"
wrapper = layout.create_cell(name)
for top in tops:
    wrapper.insert(pya.CellInstArray(top.cell_index(), pya.Trans()))
layout.write(globals()["output"])
