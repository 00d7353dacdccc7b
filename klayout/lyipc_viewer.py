"""What the viewer server does to the KLayout GUI: load, reload, status, screenshot, markers,
zoom, close. Every operation runs on the GUI thread between events and opens no dialog."""

import base64
import os
import tempfile

import pya

from lyipc_errors import JobError, Later
from lyipc_files import check_layout, check_picture_target
from lyipc_marker_dock import BROWSER_NAME, MarkerDock
from lyipc_pictures import padded, style_diff
from lyipc_render import GUI_BUDGET_US, MAX_GUI_PIXELS, Drawing, Scene, check_size, drawing_estimate
from lyipc_shown_copies import ShownCopies
from lyipc_side_files import check_side_file

LOAD_MODES = {"replace": 0, "new": 1, "add": 2}


class ViewerError(JobError):
    """A request the viewer cannot carry out, with a stable code (docs/protocol.md)."""


# Tip dialogs KLayout opens when it enters its event loop (MainWindow::about_to_exec), after
# autorun macros and -rm scripts have run; a tip whose key is in "tip-window-hidden" is skipped.
START_UP_TIPS = ("only-top-level-shown-by-default", "editor-mode", "no-stipple", "show-markers", "hide-empty-layers")


def quiet_gui(app):
    """Settings without which KLayout opens modal dialogs that would block every client: the
    start-up tips (in a fresh configuration: "started in viewer mode"), the first-load hierarchy
    tip and the "file changed on disk, reload?" prompt."""
    app.set_config("full-hierarchy-new-cell", "true")
    app.set_config("layout-file-watcher-enabled", "false")
    hidden = app.get_config("tip-window-hidden") or ""
    listed = set(entry.split("=")[0].strip() for entry in hidden.split(",") if entry.strip())
    missing = [key for key in START_UP_TIPS if key not in listed]
    if missing:
        app.set_config("tip-window-hidden", ",".join([hidden] + missing) if hidden else ",".join(missing))


class Viewer:
    def __init__(self, app=None):
        self.app = app or pya.Application.instance()
        quiet_gui(self.app)
        self.kept = []  # objects KLayout uses that Python must not collect (libraries, netlists)
        self.view_markers = {}  # view index -> its pya.Marker objects (drawn while referenced)
        self.diff_views = {}  # show_diff's key (the pair) -> the view showing it
        self.marker_dock = MarkerDock()  # the Marker Browser, below the layout
        self.renderer = None  # draws heavy screenshots in a separate KLayout (the server sets it)
        self.screenshot_timeout = 30
        self.shown = ShownCopies()  # copies shown in place of files this KLayout cannot read whole

    @property
    def window(self):
        return self.app.main_window()

    @property
    def klayout_version(self):
        return self.app.version().split()[-1]

    def keep(self, obj):
        self.kept.append(obj)

    def views_showing(self, path):
        """(view index, cellview index) of every cellview showing this file (itself, or a copy
        of it: lyipc_shown_copies)."""
        window = self.window
        path = os.path.abspath(path)
        found = []
        for index in range(window.views()):
            view = window.view(index)
            for cellview in range(view.cellviews()):
                if os.path.abspath(self.shown.original(view.cellview(cellview))) == path:
                    found.append((index, cellview))
        return found

    def open_layout(self, path, mode):
        """The one way the viewer opens a user's layout file (window.load_layout with a LOAD_MODES
        value): a copy without the context cell when this KLayout cannot read its meta data."""
        window = self.window
        return self.shown.open(path, lambda name: window.load_layout(name, mode))

    def reload_file(self, path):
        """Reloads every cellview showing this file, in place; returns how many."""
        shown = self.views_showing(path)
        for index in sorted(set(view for view, _ in shown)):
            self.reload_view(self.window.view(index), path)
        return len(shown)

    def has_view(self):
        return self.window.current_view() is not None

    def view(self, index=None):
        window = self.window
        if index is None:
            view = window.current_view()
            if view is None:
                raise ViewerError("NO_VIEW", "no layout is open")
            return view
        if not 0 <= int(index) < window.views():
            raise ViewerError("NO_VIEW", "no view %s (%d open)" % (index, window.views()))
        return window.view(int(index))

    # ------------------------------------------------------------ operations

    def load(self, params):
        path = params.get("path")
        check_layout(path)
        # Side files are checked, and the marker database read, before the layout is loaded:
        # a request that fails leaves the window as it was.
        if params.get("lyp"):
            check_side_file(params["lyp"], "lyp")
        rdb = read_markers(params["rdb"]) if params.get("rdb") else None
        mode = params.get("mode") or "replace"
        if mode not in LOAD_MODES:
            raise ViewerError("BAD_REQUEST", "mode must be replace, new or add, got %r" % mode)
        if mode != "new" and not self.has_view():
            mode = "new"
        window = self.window
        previous = self.view().box() if params.get("keepView") and self.has_view() else None
        try:
            cellview = self.open_layout(path, LOAD_MODES[mode])
        except JobError:
            raise
        except Exception as exc:
            raise ViewerError("LOAD_FAILED", "%s: %s" % (path, exc))
        self.shown.sweep(window)  # the copy a replaced cellview showed
        view = window.current_view()
        if params.get("cell"):
            self.show_cell({"cell": params["cell"], "cellview": cellview.index()})
        view.max_hier()
        if params.get("lyp"):
            try:
                view.load_layer_props(params["lyp"])
            except Exception as exc:
                raise ViewerError("LOAD_FAILED", "%s: not a layer properties file: %s" % (params["lyp"], exc), params["lyp"])
        if rdb is not None:
            self.show_markers(view, rdb, cellview.index())
        if previous is not None:
            view.zoom_box(previous)
        return {"view": window.current_view_index, "cellview": cellview.index()}

    def show_diff(self, params):
        """A comparison in one view: A, B and the XOR result as three cellviews, the XOR layers
        bright and solid on top of A and B drawn faintly, layers named "A 1/0", "B 1/0",
        "XOR 1/0" (`names`), the marker database in the Marker Browser docked below the layout,
        zoomed to the differences. The same pair (`key`) shown again reuses its view."""
        for key in ("a", "b", "xor"):
            check_layout(params.get(key))
        # The markers are an extra: a database that is missing, too large or unreadable is
        # skipped, said so. It is read before anything is shown.
        markers_skipped = None
        rdb = None
        if params.get("rdb"):
            try:
                rdb = read_markers(params["rdb"])
            except JobError as exc:
                markers_skipped = exc.message
        window = self.window
        reuse = self.diff_view_index(params.get("key"))
        try:
            if reuse is not None:
                window.select_view(reuse)
                cellview_a = self.open_layout(params["a"], 0)  # replaces what the view showed
            else:
                cellview_a = self.open_layout(params["a"], 1)
            cellview_b = self.open_layout(params["b"], 2)
            cellview_xor = self.open_layout(params["xor"], 2)
        except JobError:
            raise
        except Exception as exc:
            raise ViewerError("LOAD_FAILED", str(exc))
        self.shown.sweep(window)
        view = window.current_view()
        if params.get("key"):
            self.diff_views[params["key"]] = view
        for index in reversed(range(view.num_rdbs())):
            view.remove_rdb(index)  # the previous comparison's markers
        view.max_hier()
        style_diff(view, cellview_xor.index())
        names = params.get("names") or ["A", "B", "XOR"]
        name_layers(view, dict(zip((cellview_a.index(), cellview_b.index(), cellview_xor.index()), names)))
        if rdb is not None:
            self.show_markers(view, rdb, cellview_xor.index())
        box = params.get("box")
        if box:
            view.zoom_box(padded(box))
        view.set_title(params.get("title") or "lyipc-diff")
        result = {"view": window.current_view_index, "cellviews": [cellview_a.index(), cellview_b.index(), cellview_xor.index()], "reused": reuse is not None}
        if markers_skipped:
            result["markersSkipped"] = markers_skipped
        return result

    def diff_view_index(self, key):
        """The index of the view that shows the pair `key`, if it is still open."""
        view = self.diff_views.get(key) if key else None
        if view is None:
            return None
        window = self.window
        for index in range(window.views()):
            if window.view(index) is view:
                return index
        del self.diff_views[key]
        return None

    def reload(self, params):
        """In place: viewbox, layer list and hidden cells stay, layers new in the file are added.
        With `path`, the cellviews showing that file (in every view, unless `view` is given);
        else every cellview of the view. NOT_SHOWN when no cellview shows `path`."""
        path = params.get("path")
        if path and params.get("view") is None:
            reloaded = self.reload_file(path)
        else:
            reloaded = self.reload_view(self.view(params.get("view")), path)
        if path and not reloaded:
            raise ViewerError("NOT_SHOWN", "%s is not shown in the viewer" % path)
        return {"view": self.window.current_view_index, "reloaded": reloaded}

    def reload_view(self, view, path=None):
        """Per cellview, so that KLayout's "Select Layouts To Reload" dialog never appears. A
        cellview showing a copy reads the user's file again (lyipc_shown_copies)."""
        box = view.box()
        chosen = []
        for index in range(view.cellviews()):
            filename = self.shown.original(view.cellview(index))
            if path and os.path.abspath(filename) != os.path.abspath(path):
                continue
            if filename:
                check_layout(filename)  # it may have become something else since it was loaded
            chosen.append(index)
        for index in chosen:
            try:
                self.shown.reload(view, index)
            except JobError:
                raise
            except Exception as exc:  # KLayout's reader: the file is no longer what it was
                raise ViewerError("LOAD_FAILED", "%s: %s" % (self.shown.original(view.cellview(index)), exc))
            show_a_top_cell(view.cellview(index))
        view.add_missing_layers()
        view.zoom_box(box)
        return len(chosen)

    def show_cell(self, params):
        view = self.view()
        index = params.get("cellview")
        if index is None:
            # Not active_cellview_index: a method before KLayout 0.30, a property since.
            index = view.active_cellview().index()
        cellview = view.cellview(index)
        cell = cellview.layout().cell(params["cell"])
        if cell is None:
            raise ViewerError("NO_CELL", "no cell named %r" % params["cell"])
        cellview.cell = cell
        return None

    def message(self, text):
        self.window.message(text, 5000)

    def status(self, params):
        window = self.window
        views = []
        for index in range(window.views()):
            view = window.view(index)
            box = view.box()
            views.append({
                "index": index,
                "title": view.title,
                "current": index == window.current_view_index,
                "viewbox": [box.left, box.bottom, box.right, box.top],
                "layers": sum(1 for _ in view.each_layer()),
                "layerNames": [node.name for node in view.each_layer() if node.name],
                "cellviews": [self.cellview_json(view.cellview(i)) for i in range(view.cellviews())],
                "markerDatabases": [view.rdb(i).name() for i in range(view.num_rdbs())],
            })
        modal = pya.QApplication.activeModalWidget()
        return {"views": views, "klayout": self.klayout_version, "modal": modal.windowTitle if modal is not None else None, "markerBrowser": self.marker_browser(), "markerBrowserDock": self.marker_dock_state()}

    def screenshot(self, params):
        """The picture in the window when KLayout can draw it there within a fraction of a
        second (lyipc_render); else a Later, resolved once a separate KLayout has drawn it."""
        whole = params.get("window") is True  # the main window with its docks (lyipc_params checked the type)
        view = None if whole else self.view(params.get("view"))
        width, height = params.get("width") or 800, params.get("height") or 600
        check_size(width, height)
        target = params.get("path")
        if target:
            check_picture_target(target)
            if self.views_showing(target):
                raise ViewerError("BAD_REQUEST", "screenshot: %s is a layout shown in the viewer; refusing to overwrite it" % target, target)
        try:
            # The picture is written beside its target under a hidden name, then renamed: a
            # reader never sees half of it.
            handle, temp = tempfile.mkstemp(prefix=".lyipc-screenshot-", suffix=".png", dir=os.path.dirname(target) if target else None)
            os.close(handle)
        except OSError as exc:
            raise ViewerError("WRITE_ERROR", "%s: cannot write the screenshot: %s" % (target, exc.strerror or exc), target)
        try:
            if whole:
                return self.window_picture(temp, target)
            if width * height <= MAX_GUI_PIXELS and drawing_estimate(view, width, height) <= GUI_BUDGET_US:
                try:
                    view.save_image(temp, width, height)
                except Exception as exc:
                    raise ViewerError("WRITE_ERROR", "%s: cannot write the screenshot: %s" % (target or temp, exc), target)
                return self.picture(temp, target, width, height)
            scene = Scene(view, width, height)
        except Exception:
            remove_quietly(temp)
            raise
        later = Later()

        def drawn(outcome):
            if isinstance(outcome, JobError):
                remove_quietly(temp)
                later.resolve(outcome)
                return
            try:
                later.resolve(dict(self.picture(temp, target, width, height), separately=True))
            except JobError as exc:
                later.resolve(exc)

        self.renderer.draw(Drawing(scene, temp, self.screenshot_timeout, drawn))
        return later

    def window_picture(self, temp, target):
        """The whole main window as it is on screen, docks and all, at its own size: Qt draws
        the widgets again into a picture, which costs what a repaint of the window does."""
        pixmap = self.window.grab()
        if not pixmap.save(temp, "PNG"):
            raise ViewerError("WRITE_ERROR", "%s: cannot write the screenshot" % (target or temp), target)
        return self.picture(temp, target, pixmap.width(), pixmap.height())

    @staticmethod
    def picture(temp, target, width, height):
        """The answer for a PNG written to `temp`: moved to `target`, or sent inline."""
        try:
            if target:
                os.replace(temp, target)
                return {"path": target, "width": width, "height": height}
            with open(temp, "rb") as png:
                data = png.read()
        except OSError as exc:
            remove_quietly(temp)
            raise ViewerError("WRITE_ERROR", "%s: cannot write the screenshot: %s" % (target or temp, exc.strerror or exc), target)
        remove_quietly(temp)
        return {"png": base64.b64encode(data).decode("ascii"), "width": width, "height": height}

    def markers(self, params):
        view = self.view(params.get("view"))
        cellview = params.get("cellview")
        if cellview is not None and not cellview < view.cellviews():
            raise ViewerError("BAD_REQUEST", "markers: no cellview %d in this view (%d)" % (cellview, view.cellviews()))
        rdb = read_markers(params.get("path"))
        return {"rdb": self.show_markers(view, rdb, cellview)}

    def show_markers(self, view, rdb, cellview=None):
        """A marker database read by read_markers, in the view's Marker Browser; its index."""
        index = view.add_rdb(rdb)
        view.show_rdb(index, view.active_cellview().index() if cellview is None else cellview)
        self.dock_marker_browser()
        return index

    def dock_marker_browser(self):
        """Cosmetic: never fails a request."""
        try:
            self.marker_dock.take(self.window)
        except Exception:
            pass

    def marker_browser(self):
        """"docked", "window" (floating over the layout) or None (not shown): for status."""
        for widget in pya.QApplication.topLevelWidgets():
            if widget.objectName == BROWSER_NAME and widget.isVisible():
                return "window"
        state = self.marker_dock_state()
        return "docked" if state and state["visible"] and state["database"] is not None else None

    def marker_dock_state(self):
        """Read from KLayout's own widgets, which another KLayout may name otherwise: null then,
        never a failed status."""
        try:
            return self.marker_dock.state(self.window)
        except Exception:
            return None

    def draw_markers(self, view, markers):
        """Shapes from parse_markers drawn over the view until the next markers for it."""
        drawn = []
        for shape, style in markers:
            marker = pya.Marker(view)
            marker.set(shape)
            for key, value in style.items():
                setattr(marker, key, value)
            drawn.append(marker)
        self.view_markers[self.window.index_of(view)] = drawn

    def zoom(self, params):
        view = self.view(params.get("view"))
        box = params.get("box")
        if box:
            view.zoom_box(pya.DBox(*[float(v) for v in box]))
        else:
            view.zoom_fit()
        return None

    def quit(self, params):
        """Ends KLayout once the reply is out. Layouts with unsaved edits are not thrown away:
        NOT_SAVED names them, unless `force`."""
        window = self.window
        unsaved = []
        for index in range(window.views()):
            view = window.view(index)
            for cv in range(view.cellviews()):
                cellview = view.cellview(cv)
                if getattr(cellview, "is_dirty", lambda: False)():
                    unsaved.append(self.shown.original(cellview) or cellview.name)
        if unsaved and not params.get("force"):
            raise ViewerError("NOT_SAVED", "unsaved changes in %s; save them, or quit with force" % ", ".join(unsaved))
        quit_soon()
        return None

    def close(self, params):
        window = self.window
        index = params.get("view")
        if index is None:
            index = window.current_view_index
        self.view(index)
        window.select_view(int(index))
        window.close_current_view()
        self.shown.sweep(window)
        return None

    def cellview_json(self, cellview):
        layout = cellview.layout()
        return {
            "file": self.shown.original(cellview),
            "name": cellview.name,
            "topCells": [c.name for c in layout.top_cells()],
            "cell": cellview.cell_name,
            "dbu": layout.dbu,
            # Said when the cellview shows a copy without the file's context cell.
            "readNote": self.shown.note(cellview),
        }


def show_a_top_cell(cellview):
    """A reloaded file whose shown cell is gone (a top cell renamed): KLayout 0.30 then shows no
    cell at all, an empty view; its first top cell instead, as on loading."""
    if not cellview.cell_name:
        tops = cellview.layout().top_cells()
        if tops:
            cellview.cell = tops[0]


def remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


_QUIT_TIMER = []


def quit_soon(delay_ms=100):
    """Leaves KLayout's event loop after `delay_ms`, so that a reply written now still goes out."""
    timer = pya.QTimer()
    timer.setSingleShot(True)
    timer.timeout(lambda: pya.Application.instance().exit(0))
    timer.start(delay_ms)
    _QUIT_TIMER.append(timer)  # referenced until it fires


def read_markers(path):
    """A marker database read from `path`, not yet shown: LOAD_FAILED when KLayout cannot read it."""
    check_side_file(path, "rdb")
    rdb = pya.ReportDatabase("")
    try:
        rdb.load(path)
    except Exception as exc:
        raise ViewerError("LOAD_FAILED", "%s: not a marker database: %s" % (path, exc), path)
    return rdb


MAX_MARKERS = 10000  # klive's marker shapes per view: each is a Python object the window draws
MARKER_SHAPES = ("DBox", "DPolygon", "DSimplePolygon", "DPath", "DText", "DEdge", "Box", "Polygon", "SimplePolygon", "Path", "Text", "Edge")
# pya.Marker's style attributes, all integers (colours 0xRRGGBB; dismissable a bool). None, as
# kfactory's MarkerConfig allows (src/kfactory/typings.py line 188, gdsfactory/kfactory commit
# 644ebb6), leaves KLayout's default.
MARKER_STYLE = ("color", "frame_color", "line_width", "line_style", "vertex_size", "halo", "dither_pattern", "dismissable")
_STYLE_RANGE = (-(2**31), 2**32 - 1)  # what KLayout's C++ setters take without overflowing


def parse_markers(markers):
    """klive's `markers`: [[class name, to_s, config?], ...], e.g. ["DBox", "(0,0;1,1)"], as
    (shape, style) pairs, every entry checked before anything is drawn."""
    if not isinstance(markers, list):
        raise ViewerError("BAD_REQUEST", "markers: expected a list of [class, text, config?]")
    if len(markers) > MAX_MARKERS:
        raise ViewerError("TOO_LARGE", "markers: %d shapes, at most %d are drawn over a view" % (len(markers), MAX_MARKERS))
    parsed = []
    for entry in markers:
        if not isinstance(entry, list) or not 2 <= len(entry) <= 3 or entry[0] not in MARKER_SHAPES:
            raise ViewerError("BAD_REQUEST", "markers: expected [class, text, config?] with class one of %s" % ", ".join(MARKER_SHAPES))
        where = "markers: %s %s" % (entry[0], str(entry[1])[:60])
        config = entry[2] if len(entry) > 2 and entry[2] is not None else {}
        if not isinstance(config, dict):
            raise ViewerError("BAD_REQUEST", "%s: the style must be an object, got %s" % (where, type(config).__name__))
        try:
            shape = getattr(pya, entry[0]).from_s(str(entry[1]))
        except (TypeError, ValueError, RuntimeError, OverflowError) as exc:
            raise ViewerError("BAD_REQUEST", "%s: %s" % (where, exc))
        style = {}
        for key, value in config.items():
            if key not in MARKER_STYLE:
                raise ViewerError("BAD_REQUEST", "%s: unknown style %s (known: %s)" % (where, json_text(key), ", ".join(MARKER_STYLE)))
            if value is None:
                continue  # KLayout's default, as clients that fill every key send it
            if not isinstance(value, int) or not _STYLE_RANGE[0] <= value <= _STYLE_RANGE[1]:
                raise ViewerError("BAD_REQUEST", "%s: %s must be an integer, got %s" % (where, key, json_text(value)))
            style[key] = value
        parsed.append((shape, style))
    return parsed


def json_text(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def name_layers(view, labels):
    """Each layer of a cellview in `labels` named "<label> <layer>/<datatype>" in the layer list."""
    layers = view.begin_layers()
    while not layers.at_end():
        node = layers.current()
        label = labels.get(node.source_cellview)
        if label is not None and node.source_layer >= 0:
            node.name = "%s %d/%d" % (label, node.source_layer, node.source_datatype)
        layers.next()

