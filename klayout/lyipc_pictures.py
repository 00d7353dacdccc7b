"""Pictures of layouts and of their differences, drawn by KLayout's own renderer (pya only).

The viewer server styles its "show the diff" view with these helpers, and the batch worker
renders the same styling into PNG files for reports, with no GUI (`pya.LayoutView()` works in
`klayout -b`)."""

import os

import pya

from lyipc_errors import JobError

XOR_COLOUR = 0xFF2020
MAX_PIXELS = 4000  # picture width or height in reports


def padded(box):
    """A view box around the differences `[l, b, r, t]` (µm): half their size again on each
    side, at least 1 µm, so the change is seen with what surrounds it."""
    margin = max(box[2] - box[0], box[3] - box[1]) * 0.5 + 1.0
    return pya.DBox(box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)


def style_diff(view, xor_cellview):
    """The XOR layers bright and solid on top; every other layer lightly hatched (context, not the story)."""
    layers = view.begin_layers()
    while not layers.at_end():
        node = layers.current()
        if node.source_cellview == xor_cellview:
            node.fill_color = node.frame_color = XOR_COLOUR
            node.dither_pattern = 0  # solid
            node.width = 2
        else:
            node.dither_pattern = 9
        layers.next()
    # Without an event loop (klayout -b) colour changes reach the drawing only through this.
    view.update_content()


def render_picture(picture, box, width, height):
    view = pya.LayoutView()
    view.set_config("background-color", "#ffffff")
    view.set_config("grid-visible", "false")
    try:
        for path in picture["layouts"]:
            view.load_layout(path, True)
        if picture.get("xor"):
            view.load_layout(picture["xor"], True)
            style_diff(view, view.cellviews() - 1)
    except Exception as exc:
        raise JobError("READ_ERROR", "cannot draw %s: %s" % (", ".join(picture["layouts"]), exc))
    view.max_hier()
    if box:
        view.zoom_box(padded(box))
    else:
        view.zoom_fit()
    # A hidden name, renamed once whole: a reader never sees half a picture.
    final = picture["out"]
    partial = os.path.join(os.path.dirname(final), ".%s.part.png" % os.path.basename(final))
    try:
        view.save_image_with_options(partial, width, height, 0, 2, 0, pya.DBox(), False)
        os.replace(partial, final)
    except Exception as exc:
        if os.path.exists(partial):
            os.remove(partial)
        raise JobError("WRITE_ERROR", "cannot write picture %s: %s" % (final, exc), final)
    return final


def run_render(params):
    """`render` op: one PNG per entry of `pictures` ({out, layouts, xor}), every picture showing
    the same area (`box` in µm, padded; null = the whole layout)."""
    width = int(params.get("width") or 480)
    height = int(params.get("height") or 360)
    if not (16 <= width <= MAX_PIXELS and 16 <= height <= MAX_PIXELS):
        raise JobError("BAD_REQUEST", "picture size must be 16..%d pixels, got %dx%d" % (MAX_PIXELS, width, height))
    box = params.get("box")
    return {"pictures": [render_picture(picture, box, width, height) for picture in params.get("pictures") or []]}
