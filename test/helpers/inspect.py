"""Test helper, run with: klayout -b -r inspect.py -rd layout=FILE -rd rdb=FILE
Prints one JSON object describing the files, for assertions on what lyipc wrote."""

import json

import pya

out = {}
if "layout" in globals() and layout:  # set by klayout -rd
    ly = pya.Layout()
    ly.read(layout)
    layers = {}
    for li, info in zip(ly.layer_indexes(), ly.layer_infos()):
        region = pya.Region()
        for top in ly.top_cells():
            region += pya.Region(top.begin_shapes_rec(li))
        region.merge()
        layers["%d/%d" % (info.layer, info.datatype)] = {
            "polygons": region.count(),
            "area": round(region.area() * ly.dbu * ly.dbu, 9),
        }
    out["layout"] = {
        "dbu": ly.dbu,
        "topCells": [c.name for c in ly.top_cells()],
        "cells": sorted(c.name for c in ly.each_cell()),
        "emptyCells": sorted(c.name for c in ly.each_cell() if c.is_empty()),
        "layers": layers,
    }
if "rdb" in globals() and rdb:
    db = pya.ReportDatabase("")
    db.load(rdb)
    categories = {}
    for category in db.each_category():
        categories[category.name()] = {"items": category.num_items(), "description": category.description}
    items = []
    for item in db.each_item():
        values = [str(v) for v in item.each_value()]
        items.append({"cell": db.cell_by_id(item.cell_id()).name(), "category": db.category_by_id(item.category_id()).name(), "values": values})
    out["rdb"] = {
        "topCell": db.top_cell_name,
        "originalFile": db.original_file,
        "categories": categories,
        "items": items,
    }
print(json.dumps(out))
