"""Pictures of layouts and of their differences, drawn by KLayout's own renderer (pya only).

The viewer server styles its "show the diff" view with these helpers, and the batch worker
renders the same styling into PNG files for reports, with no GUI (`pya.LayoutView()` works in
`klayout -b`).

Every report picture has a frame drawn into the layout view itself, as geometry of a scratch
layout shown on top: a title band naming the picture (A, B, XOR, overview), a legend of layer
to colour, a scale bar and the coordinates of the area shown. Text is polygons from KLayout's
TextGenerator: Qt's font machinery is not available in `klayout -b`."""

import math
import os
import time

import pya

try:
    import resource
except ImportError:  # not on Windows: no memory cap there
    resource = None

from lyipc_context import cannot_read_meta, read_skipping_context
from lyipc_errors import JobError
from lyipc_shared import PICTURE_HEIGHT, PICTURE_WIDTH

XOR_COLOUR = 0xFF2020
# Layer colours, far from each other and from the XOR red and the marker blue; a pair with more
# layers than these takes them again, in the same order.
PALETTE = (0x2CA02C, 0xFF8C00, 0x8E44AD, 0x00A5B5, 0x8C564B, 0xE377C2, 0xA8A800, 0x555555,
           0x0B3D91, 0x58D68D, 0xB8860B)
MARKER_COLOUR = 0x1F4FE0
INK = 0x1D2330
BAND = 0xF1F2F5
MAX_PIXELS = 4000  # picture width or height in reports, after scaling
MARKER_PX = 18  # smallest side of an overview marker on screen
MAX_MARKERS = 400
CLUSTER_PX = 24  # differences closer than this in the overview share a close-up
MAX_DIFF_POLYGONS = 200000  # above this, clusters come from each layer's extent
PICTURE_MEMORY = 1 << 30  # what drawing one pair's pictures may add to the worker's address space

# Frame bands, in pixels at scale 1.
TITLE_PX = 22
FOOT_PX = 24
LEGEND_PX = 118
TEXT_PX = 11
FOOT_TEXT_PX = 9
ADVANCE = 0.78  # the default font's advance per character, as a share of its height


def padded(box):
    """A view box around the differences `[l, b, r, t]` (µm): half their size again on each
    side, at least 1 µm, so the change is seen with what surrounds it."""
    margin = max(box[2] - box[0], box[3] - box[1]) * 0.5 + 1.0
    return pya.DBox(box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)


def layer_colour(index):
    return PALETTE[index % len(PALETTE)]


def style_diff(view, xor_cellview):
    """The XOR layers bright and solid on top; every other layer lightly hatched (context, not the story)."""
    layers = view.begin_layers()
    while not layers.at_end():
        node = layers.current()
        if node.source_cellview == xor_cellview:
            node.fill_color = node.frame_color = XOR_COLOUR
            node.dither_pattern = 0  # solid
            node.width = 2
        elif node.source_cellview >= 0:
            node.dither_pattern = 9
        layers.next()
    # Without an event loop (klayout -b) colour changes reach the drawing only through this.
    view.update_content()


# ---------------------------------------------------------------- differences


def difference_boxes(xor_path, whole, content_px):
    """(markers, clusters) from the XOR layout, in µm: marker boxes at the overview's scale (one
    per group of differences closer than 2 * MARKER_PX on screen, so frames never overlap) and
    close-up clusters (groups closer than CLUSTER_PX), largest first. `whole` is the overview's
    box, `content_px` its drawing width in pixels."""
    layout = pya.Layout()
    layout.read(xor_path)
    top = layout.top_cells()
    if not top:
        return [], []
    scale = max(whole.width(), whole.height()) / float(content_px)  # µm per pixel
    # Each difference stands as its bounding box: grouping needs no more, and sizing the
    # polygons themselves (thousands of many-vertex arcs, by hundreds of µm) took minutes and GBs.
    boxes = pya.Region()
    boxes.merged_semantics = False  # one box per polygon as stored, no merge first
    fallback = []
    for cell in top:
        for li in layout.layer_indexes():
            layer = pya.Region(cell.begin_shapes_rec(li))
            layer.merged_semantics = False
            if boxes.count() <= MAX_DIFF_POLYGONS:
                boxes += layer.extents()
            box = cell.dbbox_per_layer(li)
            if not box.empty():
                fallback.append(box)
    dbu = layout.dbu
    if boxes.count() > MAX_DIFF_POLYGONS:
        # Too many to group one by one: each layer's extent stands for its differences.
        boxes = sorted(fallback, key=lambda b: -b.area())
        return boxes[:MAX_MARKERS], boxes
    boxes = boxes.merged()  # overlapping and touching boxes are one group at any reach
    markers = groups(boxes, scale * MARKER_PX, dbu)  # frames of neighbours never overlap
    while len(markers) > MAX_MARKERS:
        scale *= 2
        markers = groups(boxes, scale * MARKER_PX, dbu)
    clusters = groups(boxes, max(whole.width(), whole.height()) / float(content_px) * CLUSTER_PX / 2.0, dbu)
    return markers, sorted(clusters, key=lambda b: -(b.width() + 1e-9) * (b.height() + 1e-9))


def groups(boxes, reach_um, dbu):
    """Boxes (µm) around the groups of differences whose boxes (a Region of boxes, dbu) come
    within 2 * reach_um of each other. Boxes grown by the reach merge into groups; the reach
    grows in steps from a small one, so that each merge meets few boxes at once (thousands of
    boxes grown by the full reach all overlap, and merging them took seconds)."""
    reach = max(1, int(round(reach_um / dbu)))
    found = boxes.extents()
    found.merged_semantics = False
    steps = [reach]
    while steps[-1] > 16 and len(steps) < 12:
        steps.append(steps[-1] // 4)
    for step in reversed(steps):
        found = closed(found, step)
    result = []
    for polygon in found.each():
        box = polygon.bbox()
        result.append(pya.DBox(box.left * dbu, box.bottom * dbu, box.right * dbu, box.top * dbu))
    return result


def closed(found, reach):
    """The boxes of `found` (each its own, dbu) that come within 2 * reach, merged into one box
    per group; a group's box may reach another group, so merged again until none do."""
    grown = found.sized(reach)
    while True:
        count = grown.count()
        grown = grown.merged().extents()
        grown.merged_semantics = False
        if grown.count() == count:
            break
    return grown.sized(-reach)


# ---------------------------------------------------------------- the frame


class Frame:
    """Where the layout goes in a picture shown at `width` x `height` pixels (the PNG has `scale`
    times as many), and the view box that puts the bands (title above, scale bar below, legend
    on the right) around it. Every measure here is in shown pixels."""

    def __init__(self, area, width, height, scale, legend, within=None):
        self.scale = scale
        self.width, self.height = width, height
        self.title = TITLE_PX
        self.foot = FOOT_PX
        # The legend takes a quarter of a small picture at most.
        legend_width = min(LEGEND_PX, max(84, int(width * 0.25)))
        self.legend = legend_width if legend and width >= 2 * legend_width else 0
        content_w = width - self.legend
        content_h = height - self.title - self.foot
        self.content_px = (content_w, content_h)
        # The area, widened to the content's aspect ratio, centred.
        self.um = max(area.width() / float(content_w), area.height() / float(content_h), 1e-9)  # per shown pixel
        cx, cy = area.center().x, area.center().y
        if within is not None:
            # A close-up stays inside the overview's drawing: moved in where the aspect ratio widened it out.
            half_w, half_h = content_w * self.um / 2, content_h * self.um / 2
            cx = min(max(cx, within.left + half_w), within.right - half_w) if 2 * half_w <= within.width() else within.center().x
            cy = min(max(cy, within.bottom + half_h), within.top - half_h) if 2 * half_h <= within.height() else within.center().y
        self.content = pya.DBox(cx - content_w * self.um / 2, cy - content_h * self.um / 2,
                                cx + content_w * self.um / 2, cy + content_h * self.um / 2)
        self.view = pya.DBox(self.content.left, self.content.bottom - self.foot * self.um,
                             self.content.right + self.legend * self.um, self.content.top + self.title * self.um)

    def at(self, x, y):
        """A point given in pixels from the picture's top-left corner, in µm."""
        return pya.DPoint(self.view.left + x * self.um, self.view.top - y * self.um)


class Drawing:
    """The scratch layout of a frame: one layer per colour, text as polygons. Positions and
    sizes in shown pixels from the top-left corner."""

    def __init__(self, view, frame, reuse=None):
        self.view = view
        self.frame = frame
        if reuse is not None:
            # The previous picture's scratch layout, emptied: a new cellview per picture cost a
            # fifth of each picture's time.
            self.cellview, self.layout, self.cell = reuse.cellview, reuse.layout, reuse.cell
            self.colours, self.generator = reuse.colours, reuse.generator
            self.cell.clear_shapes()
            return
        index = view.create_layout(True)
        self.cellview = view.cellview(index)
        self.layout = self.cellview.layout()
        self.layout.dbu = 0.001
        self.cell = self.layout.create_cell("LYIPC_FRAME")
        self.cellview.cell = self.cell
        self.colours = {}
        self.generator = pya.TextGenerator.default_generator()

    def layer(self, colour, solid=True, width=1):
        key = (colour, solid, width)
        if key not in self.colours:
            number = 9000 + len(self.colours)
            self.colours[key] = (self.layout.layer(number, 0), number, solid, width)
        return self.colours[key][0]

    def box(self, box, colour, solid=True, width=1):
        self.cell.shapes(self.layer(colour, solid, width)).insert(box)

    def rect(self, x, y, w, h, colour, solid=True, width=1):
        self.box(pya.DBox(self.frame.at(x, y + h), self.frame.at(x + w, y)), colour, solid, width)

    def text(self, text, x, y, height=TEXT_PX, colour=INK, max_width=None):
        """Text with its top-left corner at (x, y), cut with "..." to fit `max_width`."""
        char = height * ADVANCE
        if max_width is not None and len(text) * char > max_width:
            text = text[:max(1, int(max_width / char) - 3)] + "..."
        text = text.encode("ascii", "replace").decode("ascii")
        region = self.generator.text(text, self.layout.dbu, height * self.frame.um / 0.8)  # the font is 0.8 high
        origin = self.frame.at(x, y + height)
        shift = pya.Trans(int(round(origin.x / self.layout.dbu)), int(round(origin.y / self.layout.dbu)))
        self.cell.shapes(self.layer(colour)).insert(region.transformed(shift))

    def show(self):
        """The frame's layers on top of everything else, in their colours (KLayout paints the
        layer list from first to last, so the last is on top)."""
        for (colour, _, _), (_, number, solid, width) in sorted(self.colours.items(), key=lambda item: item[1][1]):
            node = pya.LayerPropertiesNode()
            node.source = "%d/0@%d" % (number, self.cellview.index() + 1)
            node.fill_color = node.frame_color = colour
            node.dither_pattern = 0 if solid else 1  # 1: hollow
            node.width = width
            self.view.insert_layer(self.view.end_layers(), node)


def nice_length(um):
    """The largest 1, 2 or 5 x 10^n not above `um`."""
    if um <= 0:
        return 0
    power = 10 ** math.floor(math.log10(um))
    for step in (5, 2, 1):
        if step * power <= um:
            return step * power
    return power


def number(value, places=4):
    """Coordinates as people write them: up to `places` decimals, no trailing zeros."""
    text = ("%.*f" % (places, value)).rstrip("0").rstrip(".") if places else "%d" % round(value)
    return "0" if text in ("-0", "") else text


def length_text(um):
    if um >= 1000:
        return "%s mm" % number(um / 1000.0)
    if um < 1:
        return "%s nm" % number(um * 1000.0)
    return "%s um" % number(um)


def draw_frame(view, frame, title, legend, markers, reuse=None):
    drawing = Drawing(view, frame, reuse)
    w, h = frame.width, frame.height
    foot_top = h - frame.foot
    # Bands over whatever geometry reaches into them.
    drawing.rect(0, 0, w, frame.title, BAND)
    drawing.rect(0, foot_top, w, frame.foot, BAND)
    if frame.legend:
        drawing.rect(w - frame.legend, frame.title, frame.legend, foot_top - frame.title, 0xFFFFFF)
        drawing.rect(w - frame.legend, frame.title, 1, foot_top - frame.title, 0xD8DBE2)
    drawing.text(title, 6, 5, TEXT_PX + 1, max_width=w - 12)
    # Scale bar: a round length of at most a quarter of the width, bottom left.
    bar = nice_length(frame.content.width() / 4.0)
    bar_px = bar / frame.um
    drawing.rect(8, foot_top + 14, bar_px, 3, INK)
    drawing.rect(8, foot_top + 10, 1.5, 7, INK)
    drawing.rect(8 + bar_px - 1.5, foot_top + 10, 1.5, 7, INK)
    drawing.text(length_text(bar), 8 + bar_px + 6, foot_top + 8, FOOT_TEXT_PX)
    c = frame.content
    places = min(4, max(0, int(math.ceil(-math.log10(frame.um)))))
    where = "x %s .. %s  y %s .. %s um" % tuple(number(v, places) for v in (c.left, c.right, c.bottom, c.top))
    start = 8 + bar_px + 60
    size = min(FOOT_TEXT_PX, max(6, (w - start - 6) / (len(where) * ADVANCE)))  # smaller type rather than cut
    drawing.text(where, max(start, w - len(where) * size * ADVANCE - 6), foot_top + 8 + (FOOT_TEXT_PX - size) / 2, size)
    if frame.legend:
        left = w - frame.legend + 8
        top = frame.title + 8
        room = int((foot_top - frame.title - 16) // 16)
        shown = legend if len(legend) <= room else legend[:max(0, room - 1)] + [(None, "+%d more" % (len(legend) - room + 1), True)]
        for row, (colour, label, solid) in enumerate(shown):
            y = top + row * 16
            if colour is not None:
                drawing.rect(left, y, 12, 12, colour, solid, 1 if solid else 2)
            drawing.text(label, left + 18, y + 1, TEXT_PX - 1, max_width=frame.legend - 30)
    for box in markers:
        # Never smaller than MARKER_PX on screen, so a 0.1 um change in a 1 mm layout is seen.
        half_w = max(box.width(), MARKER_PX * frame.um) / 2.0 + 5 * frame.um  # clear of what it frames
        half_h = max(box.height(), MARKER_PX * frame.um) / 2.0 + 5 * frame.um
        centre = box.center()
        drawing.box(pya.DBox(centre.x - half_w, centre.y - half_h, centre.x + half_w, centre.y + half_h), MARKER_COLOUR, False, 3)
    drawing.show()
    return drawing


def layer_legend(view, skip_cellviews=()):
    """(colour, "1/0", solid) per layer shown, in the view's order, each layer once."""
    entries = []
    seen = set()
    layers = view.begin_layers()
    while not layers.at_end():
        node = layers.current()
        if node.source_cellview not in skip_cellviews and node.source_cellview >= 0:
            name = "%d/%d" % (node.source_layer, node.source_datatype) if node.source_layer >= 0 else node.source_name
            if name not in seen:
                seen.add(name)
                entries.append((node.eff_fill_color(True) & 0xFFFFFF, name, False))
        layers.next()
    return entries


# ---------------------------------------------------------------- rendering


def new_view():
    view = pya.LayoutView()
    view.set_config("background-color", "#ffffff")
    view.set_config("grid-visible", "false")
    view.set_config("text-visible", "false")  # layout texts would clutter small pictures
    return view


def load(view, paths):
    try:
        for path in paths:
            load_one(view, path)
    except Exception as exc:
        raise JobError("READ_ERROR", "cannot draw %s: %s" % (", ".join(paths), exc))


def load_one(view, path):
    """As the comparison read it: without a context cell whose meta data this KLayout cannot
    read (a failed load_layout adds no cellview, so the indices stay A, B, XOR)."""
    try:
        view.load_layout(path, True)
    except Exception as exc:
        if not cannot_read_meta(str(exc)):
            raise
        read_skipping_context(path, lambda copy: view.load_layout(copy, True))


def write_indexed(view, path, size, oversampling, frame):
    """The picture as an 8-bit palette PNG: a drawing without antialiasing has few colours, and
    the palette PNG is written in a sixth of the time of a true-colour one (the encoding was most
    of a picture's cost). False where KLayout has no Qt bindings: the caller writes true colour."""
    if oversampling != 1 or not hasattr(pya, "QImage") or not hasattr(view, "get_image_with_options"):
        return False
    image = view.get_image_with_options(size[0], size[1], 0, oversampling, 1.0 / frame.scale, frame.view, False)
    indexed = image.convertToFormat(pya.QImage.Format_Indexed8, pya.Qt.ThresholdDither)
    if not indexed.save(path, "PNG"):
        raise IOError("cannot write %s" % path)
    return True


def save(view, frame, final):
    """A hidden name, renamed once whole: a reader never sees half a picture."""
    partial = os.path.join(os.path.dirname(final), ".%s.part.png" % os.path.basename(final))
    try:
        # A picture drawn at twice its shown size needs no oversampling on top (4x the pixels to draw for no visible gain).
        oversampling = 1 if frame.scale >= 2 else 2
        size = (int(frame.width * frame.scale), int(frame.height * frame.scale))
        if not write_indexed(view, partial, size, oversampling, frame):
            view.save_image_with_options(partial, size[0], size[1], 0, oversampling, 1.0 / frame.scale, frame.view, False)
        os.replace(partial, final)
    except Exception as exc:
        if os.path.exists(partial):
            os.remove(partial)
        raise JobError("WRITE_ERROR", "cannot write picture %s: %s" % (final, exc), final)
    return final


class Scene:
    """One view with the layouts of a comparison loaded once (A, B and optionally the XOR), shown
    picture by picture: the layer list is rebuilt for each (which cellviews, which styling) and
    each picture's frame lives in a scratch cellview, emptied for the next picture."""

    def __init__(self, layouts, xor=None):
        self.view = new_view()
        load(self.view, layouts + ([xor] if xor else []))
        self.view.max_hier()
        self.xor = len(layouts) if xor else None
        self.drawing = None  # the frames' scratch layout, made once and emptied for each picture
        self.nodes = []
        layers = self.view.begin_layers()
        while not layers.at_end():
            self.nodes.append(layers.current().dup())
            layers.next()
        # One colour per layer in every picture of the pair, B's the same as A's, from a fixed
        # palette in layer order: neighbours such as 1/0 and 1/10 get colours told apart.
        keys = sorted({(node.source_layer, node.source_datatype, node.source_name) for node in self.nodes if node.source_cellview != self.xor})
        for node in self.nodes:
            if node.source_cellview != self.xor:
                colour = layer_colour(keys.index((node.source_layer, node.source_datatype, node.source_name)))
                node.fill_color = node.frame_color = colour

    def whole(self):
        """The box of everything loaded, as zoom-to-fit shows it."""
        self.view.zoom_fit()
        return self.view.box()

    def render(self, picture, box, width, height, scale):
        """One framed picture of the cellviews `picture["show"]` (indices), with the XOR on top
        when `picture["xor"]`; `box` the area (µm) or None for everything."""
        view = self.view
        if self.drawing is not None:
            self.drawing.cell.clear_shapes()  # the last frame must not count in zoom-to-fit
        view.clear_layers()
        shown = set(picture["show"]) | ({self.xor} if picture.get("xor") else set())
        for node in self.nodes:
            if node.source_cellview in shown:
                view.insert_layer(view.end_layers(), node.dup())
        whole = self.whole()
        overview = Frame(whole, width, height, scale, legend=True).content
        # A close-up shows its group with some room around it, never more than the overview.
        area = whole if box is None else padded(box) & whole
        if area.empty():
            area = padded(box)
        legend = layer_legend(view, skip_cellviews=(self.xor,))
        if picture.get("xor"):
            style_diff(view, self.xor)
            legend = [(XOR_COLOUR, "XOR", True), (None, "A, B:", True)] + legend
        markers = [pya.DBox(*m) for m in picture.get("markers") or []]
        if markers:
            legend = [(MARKER_COLOUR, "changed", False)] + legend
        frame = Frame(area, width, height, scale, legend=True, within=None if box is None else overview)
        self.drawing = draw_frame(view, frame, picture.get("title") or "", legend, markers, self.drawing)
        view.update_content()
        return save(view, frame, picture["out"])


def render_picture(picture, box, width, height, scale):
    """One framed picture: `picture` {out, layouts, xor?, title?, markers?}; `box` the area
    (µm) or None for the whole layout."""
    scene = Scene(picture["layouts"], picture.get("xor"))
    return scene.render(dict(picture, show=range(len(picture["layouts"]))), box, width, height, scale)


def check_size(width, height, scale):
    if not (16 <= width * scale <= MAX_PIXELS and 16 <= height * scale <= MAX_PIXELS) or scale not in (1, 2):
        raise JobError("BAD_REQUEST", "picture size must be 16..%d pixels (scale 1 or 2), got %dx%d at %sx" % (MAX_PIXELS, width, height, scale))


def run_render(params):
    """`render` op: one PNG per entry of `pictures` ({out, layouts, xor, title}), every picture
    showing the same area (`box` in µm, padded; null = the whole layout)."""
    width = int(params.get("width") or PICTURE_WIDTH)
    height = int(params.get("height") or PICTURE_HEIGHT)
    scale = int(params.get("scale") or 1)
    check_size(width, height, scale)
    box = params.get("box")
    return {"pictures": [render_picture(picture, box, width, height, scale) for picture in params.get("pictures") or []]}


class Skipped(Exception):
    """The pictures of a pair are given up, the comparison stands: `text` says why."""

    def __init__(self, text):
        Exception.__init__(self, text)
        self.text = text


def budget_text(seconds):
    return "pictures skipped: too many differences to draw in %s s" % number(seconds, 1)


class Budget:
    """A deadline checked between the steps of drawing (a KLayout call itself cannot be
    interrupted: the caller ends the worker if one overruns)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds if seconds else None

    def check(self):
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise Skipped(budget_text(self.seconds))


class MemoryCap:
    """While drawing, the worker's address space may grow by `limit` bytes at most: an
    allocation beyond fails (KLayout raises RuntimeError std::bad_alloc) instead of taking the
    machine's memory. The earlier limit is restored after."""

    def __init__(self, limit):
        self.limit = limit
        self.saved = None

    def __enter__(self):
        if resource is None or not self.limit:
            return self
        try:
            with open("/proc/self/statm") as handle:
                used = int(handle.read().split()[0]) * resource.getpagesize()
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            cap = used + self.limit
            if (soft == resource.RLIM_INFINITY or soft > cap) and (hard == resource.RLIM_INFINITY or hard >= cap):
                resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
                self.saved = (soft, hard)
        except (OSError, ValueError):
            pass  # no /proc (macOS): drawn without a cap
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            resource.setrlimit(resource.RLIMIT_AS, self.saved)
        return False


def out_of_memory(exc):
    return isinstance(exc, MemoryError) or "bad_alloc" in str(exc)


def run_render_diff(params):
    """`render_diff` op: the pictures of one comparison that found differences.

    - `overview`: the whole of A and B with the XOR, every group of differences framed;
    - `a`, `b`, `xor`: A, B and the XOR zoomed to the largest group of differences;
    - `closeups`: the XOR zoomed to each further group, as many as names are given.
    Names come in `out` ({overview, a, b, xor, closeups: [...]}); answers the close-up boxes and
    which files were written. With `budget` (seconds) the drawing stops between steps once
    over it, and with `memory` (bytes, default 1 GB) no allocation may take the worker beyond
    that much more: either way the answer is `skipped` (why) and no picture is kept."""
    budget = Budget(float(params.get("budget") or 0))
    memory = params.get("memory")
    written = []
    try:
        with MemoryCap(PICTURE_MEMORY if memory is None else int(memory)):
            return render_diff(params, budget, written)
    except Skipped as exc:
        skipped = exc.text
    except Exception as exc:
        if not out_of_memory(exc):
            raise
        skipped = "pictures skipped: drawing them needs more than %d MB" % ((PICTURE_MEMORY if memory is None else int(memory)) >> 20)
    for path in written:
        if os.path.exists(path):
            os.remove(path)
    return {"skipped": skipped}


def render_diff(params, budget, written_files):
    width = int(params.get("width") or PICTURE_WIDTH)
    height = int(params.get("height") or PICTURE_HEIGHT)
    scale = int(params.get("scale") or 1)
    check_size(width, height, scale)
    a, b, xor = params["a"], params["b"], params["xor"]
    out = params["out"]
    titles = params.get("titles") or {}
    # A, B and the XOR read once for every picture of the pair.
    scene = Scene([a, b], xor)
    whole = scene.whole()
    frame = Frame(whole, width, height, scale, legend=True)
    budget.check()
    try:
        markers, clusters = difference_boxes(xor, whole, frame.content_px[0])
    except Exception as exc:
        if out_of_memory(exc):
            raise
        raise JobError("READ_ERROR", "cannot read the XOR layout %s: %s" % (xor, exc), xor)
    closeups = clusters[: 1 + len(out.get("closeups") or [])]
    written = {"overview": None, "a": None, "b": None, "xor": None, "closeups": []}
    boxes = [[c.left, c.bottom, c.right, c.top] for c in closeups]
    title = titles.get("pair") or ""
    groups_text = "%d group%s of differences" % (len(clusters), "" if len(clusters) == 1 else "s")

    def render(picture, box):
        budget.check()
        written_files.append(picture["out"])
        return scene.render(picture, box, width, height, scale)

    written["overview"] = render({"out": out["overview"], "show": [0, 1], "xor": True, "title": "Overview, %s: %s" % (groups_text, title),
                                  "markers": [[m.left, m.bottom, m.right, m.top] for m in markers]}, None)
    if boxes:
        first = boxes[0]
        written["a"] = render({"out": out["a"], "show": [0], "title": "A: %s" % (titles.get("a") or "reference")}, first)
        written["b"] = render({"out": out["b"], "show": [1], "title": "B: %s" % (titles.get("b") or "output")}, first)
        written["xor"] = render({"out": out["xor"], "show": [0, 1], "xor": True, "title": closeup_title(1, len(boxes), title)}, first)
        for index, (name, box) in enumerate(zip(out.get("closeups") or [], boxes[1:])):
            written["closeups"].append(render({"out": name, "show": [0, 1], "xor": True, "title": closeup_title(index + 2, len(boxes), title)}, box))
    return {"written": written, "boxes": boxes, "groups": len(clusters)}


def closeup_title(index, count, pair):
    """The caption the report gives the same picture: "close-up 2 of 4" counts the close-ups drawn."""
    return "XOR close-up %d of %d: %s" % (index, count, pair)
