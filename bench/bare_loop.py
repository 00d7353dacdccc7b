"""The floor under any tool built on KLayout's XOR (bench/suite.mjs --real): one KLayout, already
running, reads each pair of `-rd list=FILE` (lines "A<TAB>B"), asks LayoutDiff whether they
differ and, if they do, XORs every layer flat; nothing is written, nothing is reported but the
time. What lyipc adds on top of this (outputs, markers, the run around it) is its overhead."""

import time

import pya


def region(layout, li):
    found = pya.Region()
    if li is not None:
        for top in layout.top_cells():
            found.insert(pya.Region(top.begin_shapes_rec(li)))
    return found


started = time.time()
pairs = differ = 0
with open(list) as listing:  # list: set with klayout -rd
    for line in listing:
        a, b = line.rstrip("\n").split("\t")
        la, lb = pya.Layout(), pya.Layout()
        try:
            la.read(a)
            lb.read(b)
        except RuntimeError:
            continue  # unreadable by this KLayout: lyipc reports it, strmxor fails on it
        pairs += 1
        if pya.LayoutDiff().compare(la, lb, pya.LayoutDiff.Silent):
            continue
        infos = set((i.layer, i.datatype) for i in la.layer_infos()) | set((i.layer, i.datatype) for i in lb.layer_infos())
        layers = 0
        for layer, datatype in infos:
            if not (region(la, la.find_layer(layer, datatype)) ^ region(lb, lb.find_layer(layer, datatype))).is_empty():
                layers += 1
        differ += layers > 0
print("BARE_LOOP pairs=%d differ=%d ms=%d" % (pairs, differ, round((time.time() - started) * 1000)))
