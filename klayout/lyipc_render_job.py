"""Draws one screenshot for the viewer server in a separate KLayout (lyipc_render):
klayout -b -r lyipc_render_job.py -rd scene=SCENE.json. Writes the PNG, then
{"ok": true} or {"error": ...} to the scene's result file."""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pya

from lyipc_process import die_with_parent


def draw(scene):
    view = pya.LayoutView()
    for key, value in scene["config"].items():
        if value:
            view.set_config(key, value)
    for cellview in scene["cellviews"]:
        index = view.load_layout(cellview["file"], True)
        if cellview.get("cell"):
            view.cellview(index).cell_name = cellview["cell"]
    view.load_layer_props(scene["lyp"])
    view.min_hier_levels, view.max_hier_levels = scene["levels"]
    view.zoom_box(pya.DBox(*scene["box"]))
    view.save_image(scene["out"], scene["width"], scene["height"])


def main():
    die_with_parent()
    with open(globals()["scene"]) as handle:
        scene = json.load(handle)
    if hasattr(signal, "alarm"):
        signal.alarm(int(scene["timeout"]) + 5)  # ends this KLayout even inside the drawing
    try:
        draw(scene)
        result = {"ok": True}
    except Exception as exc:
        result = {"error": str(exc)}
    with open(scene["result"], "w") as handle:
        json.dump(result, handle)
    os._exit(0)


main()
