"""Screenshots that never hold the window: KLayout draws a picture on the GUI thread, all of it,
with no way to stop (4.9M overlapping boxes: 95 s at 800 x 600). So the drawing work is
estimated first, from the shapes in the picture, and only a picture that stays within a
fraction of a second is drawn in the GUI. A heavier one is drawn by a separate `klayout -b`
from the same files, layer list and viewbox, while the window goes on serving; it has a time
limit, beyond which the answer is TOO_LARGE.

The estimate is an upper bound per shape: every shape is assumed to cover the whole picture
(that is what makes drawing slow), every polygon point to span its height. Measured on
KLayout 0.28.5 (2 cores): ~10 µs per shape plus 0.02 µs per shape and pixel of the picture,
up to ~1 µs per polygon point at 800 x 600, 0.05 µs per pixel for the picture itself."""

import json
import os
import shutil
import subprocess
import tempfile

import pya

from lyipc_errors import JobError
from lyipc_scratch import RENDERINGS, scratch_folder

MAX_SIDE = 10000  # pixels, width or height
MAX_PIXELS = 25000000  # width x height (5000 x 5000); the PNG of a dense picture grows with it
GUI_BUDGET_US = 300000  # estimated drawing time a picture may take on the GUI thread
MAX_GUI_PIXELS = 2000000  # larger pictures are drawn elsewhere whatever they show
RUNNING_AT_ONCE = 2  # separate KLayouts drawing at the same time; more wait their turn

US_PER_PIXEL = 0.05
US_PER_SHAPE = 10.0
US_PER_SHAPE_PIXEL = 2e-5
US_PER_POINT = 0.1
US_PER_POINT_ROW = 0.0025  # per pixel of the picture's longer side

JOB_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lyipc_render_job.py")
# View settings the separate KLayout takes over, so its picture looks like the window's.
COPIED_CONFIG = ("background-color", "text-visible", "text-color", "default-text-size", "grid-visible", "cell-box-visible", "inst-color")


def check_size(width, height):
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise JobError("TOO_LARGE", "screenshot: %d x %d pixels; at most %d on a side and %d in all (e.g. 5000 x 5000)" % (width, height, MAX_SIDE, MAX_PIXELS))


def drawing_estimate(view, width, height, budget_us=GUI_BUDGET_US):
    """Microseconds KLayout may need at most to draw `view` at width x height; counting stops
    once past `budget_us`, so the estimate itself stays within a few tens of milliseconds."""
    pixels = width * height
    cost = US_PER_PIXEL * pixels
    per_shape = US_PER_SHAPE + US_PER_SHAPE_PIXEL * pixels
    per_point = US_PER_POINT + US_PER_POINT_ROW * max(width, height)
    for layout, cell, layers, region in _drawn_layers(view):
        shapes = pya.RecursiveShapeIterator(layout, cell, layers, region, False)
        while not shapes.at_end():
            shape = shapes.shape()
            cost += per_shape
            if shape.is_polygon() or shape.is_simple_polygon():
                cost += per_point * shape.polygon.num_points()
            elif shape.is_path():
                cost += per_point * shape.path.num_points()
            if cost > budget_us:
                return cost
            shapes.next()
    return cost


def _drawn_layers(view):
    """(layout, cell, layer indexes, the viewbox in database units) per cellview the layer
    list draws from."""
    by_cellview = {}
    nodes = view.begin_layers()
    while not nodes.at_end():
        node = nodes.current()
        if node.cellview() >= 0 and node.layer_index() >= 0:
            by_cellview.setdefault(node.cellview(), set()).add(node.layer_index())
        nodes.next()
    box = view.box()
    for index, layers in sorted(by_cellview.items()):
        if index >= view.cellviews():
            continue
        cellview = view.cellview(index)
        if not cellview.is_valid():
            continue
        layout = cellview.layout()
        # The context cell is what is drawn (the current cell may be one it descends to).
        cell = cellview.ctx_cell() or cellview.cell
        if cell is not None:
            yield layout, cell, sorted(layers), box.to_itype(layout.dbu)


class Scene:
    """What a separate KLayout needs to draw what `view` shows: its files, cells, layer list,
    viewbox and hierarchy levels."""

    def __init__(self, view, width, height):
        self.cellviews = []
        for index in range(view.cellviews()):
            cellview = view.cellview(index)
            path = cellview.filename()
            if not path or not os.path.isfile(path):
                raise JobError("TOO_LARGE", "screenshot: too much to draw in the window, and cellview %d (%s) has no file a separate KLayout could draw from" % (index, cellview.name))
            if getattr(cellview, "is_dirty", lambda: False)():
                raise JobError("TOO_LARGE", "screenshot: too much to draw in the window, and %s has unsaved edits a separate KLayout would not see" % path)
            self.cellviews.append({"file": path, "cell": cellview.cell_name})
        box = view.box()
        self.box = [box.left, box.bottom, box.right, box.top]
        self.levels = [view.min_hier_levels, view.max_hier_levels]
        self.config = dict((key, view.get_config(key)) for key in COPIED_CONFIG)
        if self.config["background-color"] in ("", "auto"):
            self.config["background-color"] = background(view)
        self.width, self.height = width, height
        handle, path = tempfile.mkstemp(suffix=".lyp")
        os.close(handle)
        try:
            view.save_layer_props(path)
            with open(path) as saved:
                self.layer_properties = saved.read()
        finally:
            os.remove(path)


def background(view):
    """The colour the window draws behind the layout ("auto" follows the GUI's palette, which a
    batch KLayout does not have): the most common pixel of a tiny picture of an empty place."""
    empty = pya.DBox(1.5e9, 1.5e9, 1.5e9 + 1, 1.5e9 + 1)
    image = view.get_image_with_options(8, 8, 0, 0, 0, empty, False)
    pixels = [image.pixel(x, y) & 0xFFFFFF for x in range(8) for y in range(8)]
    return "#%06x" % max(set(pixels), key=pixels.count)


class Drawing:
    """One picture drawn by a separate `klayout -b`; `on_done(result or JobError)` is called on
    the GUI thread when it is written, failed or ran out of time."""

    def __init__(self, scene, out, timeout_s, on_done):
        self.scene = scene
        self.out = out
        self.timeout_s = timeout_s
        self.on_done = on_done
        self.folder = None
        self.process = None
        self.deadline = None
        self.finished = False

    def start(self, now):
        self.folder = scratch_folder(RENDERINGS)  # 0700: the scene names files
        scene = self.scene
        lyp = os.path.join(self.folder, "layers.lyp")
        description = {
            "cellviews": scene.cellviews, "box": scene.box, "levels": scene.levels, "config": scene.config,
            "width": scene.width, "height": scene.height, "lyp": lyp, "out": self.out,
            "result": os.path.join(self.folder, "result.json"), "timeout": self.timeout_s,
        }
        with open(lyp, "w") as handle:
            handle.write(scene.layer_properties)
        path = os.path.join(self.folder, "scene.json")
        with open(path, "w") as handle:
            json.dump(description, handle)
        klayout = pya.QCoreApplication.applicationFilePath()
        self.process = subprocess.Popen(
            [klayout, "-b", "-r", JOB_SCRIPT, "-rd", "scene=%s" % path],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
        self.deadline = now + self.timeout_s

    def poll(self, now):
        """True once done (on_done called)."""
        if self.process.poll() is None:
            if now < self.deadline:
                return False
            self.stop()
            self.finish(JobError("TOO_LARGE", "screenshot: drawing this view takes more than %g s (screenshotTimeout in lyipc.json); zoom in or hide layers" % self.timeout_s))
            return True
        try:
            with open(os.path.join(self.folder, "result.json")) as handle:
                result = json.load(handle)
        except (OSError, ValueError):
            result = {"error": "the drawing KLayout ended with code %s and no result" % self.process.returncode}
        if result.get("error"):
            self.finish(JobError("WRITE_ERROR", "screenshot: %s" % result["error"]))
        else:
            self.finish({"drawnApart": True})
        return True

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def finish(self, outcome):
        if self.finished:
            return
        self.finished = True
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.on_done(outcome)


class Renderer:
    """Runs Drawings, at most RUNNING_AT_ONCE at a time, polled by a timer on the GUI thread."""

    def __init__(self, clock):
        self.clock = clock
        self.waiting = []
        self.running = []
        self.timer = pya.QTimer()
        self.timer.timeout(self.tick)

    def draw(self, drawing):
        self.waiting.append(drawing)
        self.tick()

    def tick(self):
        now = self.clock()
        still = []
        for drawing in self.running:
            try:
                if not drawing.poll(now):
                    still.append(drawing)
            except Exception as exc:  # never raised into Qt's event loop
                drawing.stop()
                drawing.finish(JobError("INTERNAL", "screenshot: %s: %s" % (type(exc).__name__, exc)))
        self.running = still
        while self.waiting and len(self.running) < RUNNING_AT_ONCE:
            drawing = self.waiting.pop(0)
            try:
                drawing.start(now)
            except (OSError, ValueError) as exc:
                drawing.finish(JobError("WRITE_ERROR", "screenshot: cannot start a KLayout to draw it: %s" % exc))
                continue
            self.running.append(drawing)
        if self.running and not self.timer.isActive():
            self.timer.start(50)
        elif not self.running:
            self.timer.stop()

    def stop(self):
        self.timer.stop()
        for drawing in self.waiting + self.running:
            drawing.stop()
            drawing.finish(JobError("VIEWER_STOPPED", "screenshot: the viewer server stopped"))
        self.waiting, self.running = [], []
