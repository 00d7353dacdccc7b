"""The naive way, one `klayout -b` per pair (bench/suite.mjs): read both layouts, XOR every layer
flat, print how many layers differ. `-rd a=A -rd b=B`."""

import pya

la, lb = pya.Layout(), pya.Layout()
la.read(a)  # a, b: set with klayout -rd
lb.read(b)
keys = set((info.layer, info.datatype) for info in la.layer_infos()) | set((info.layer, info.datatype) for info in lb.layer_infos())
differ = 0
for layer, datatype in sorted(keys):
    ia, ib = la.find_layer(layer, datatype), lb.find_layer(layer, datatype)
    ra = pya.Region(la.top_cell().begin_shapes_rec(ia)) if ia is not None else pya.Region()
    rb = pya.Region(lb.top_cell().begin_shapes_rec(ib)) if ib is not None else pya.Region()
    if not (ra ^ rb).is_empty():
        differ += 1
print("LAYERS_DIFFER %d" % differ)
