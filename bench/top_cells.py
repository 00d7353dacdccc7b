"""Benchmark helper, run with: klayout -b -r bench/top_cells.py -rd files=LIST -rd output=FILE
Reads each layout named in LIST (one path a line) and writes {path: [top cell names]} as JSON,
or {path: null} for a file this KLayout cannot read."""

import json

import pya

found = {}
with open(globals()["files"]) as listing:
    for line in listing:
        name = line.strip()
        if not name:
            continue
        layout = pya.Layout()
        try:
            layout.read(name)
            found[name] = [c.name for c in layout.top_cells()]
        except Exception:
            found[name] = None
with open(globals()["output"], "w") as out:
    json.dump(found, out)
