"""The Marker Browser in one dock below the layout.

KLayout opens a Marker Browser per view, as a window over the layout, and when another view
becomes current it hides the browser of the view left and shows the one of the view entered.
So every browser goes into one panel inside one dock: the panel shows the current view's
browser, whichever view that is, and a new view adds no dock. The dock asks for room enough
for the browser's lists to show rows: with the browser's own size it got ~170 px, all of it
taken by the browser's choosers and buttons, and its lists none."""

import pya

DOCK_NAME = "lyipc_marker_browser"
PANEL_NAME = "lyipc_marker_panel"
BROWSER_NAME = "MarkerBrowserDialog"  # KLayout's object name for its Marker Browser
LISTS = ("directory_tree", "markers_list")  # the browser's category/cell tree and its marker list
# The height the dock asks for: the browser's choosers, labels, filter row and the dock's title
# take ~190 px, the rest shows about eight rows of its lists (four at 45% of KLayout's first
# 800 x 600 window). At most this share of the window, so that the layout keeps the larger part.
HEIGHT = 360
MAX_SHARE = 0.45
# The browser's bottom row (Configure, Close) and the line above it, by KLayout's names: in the
# dock its Close would leave an empty panel (the dock has its own close button), and the row
# takes 40 px from the lists. The same settings are under File > Setup > Browsers.
BUTTON_ROW = ("configure_pb", "line_2")


class Panel(pya.QWidget):
    """Holds the browsers. Its size hint is what the main window gives a dock until the user
    drags the dock's edge (then the user's size stays): tall enough for the lists, where the
    browser's own hint (~150 px) left them none. KLayout 0.28's Qt binding has no resizeDocks."""

    def sizeHint(self):
        hint = self.layout.sizeHint() if self.layout is not None else pya.QSize(0, 0)
        window = self.window()
        room = int(window.height * MAX_SHARE) if window is not None else HEIGHT
        return pya.QSize(hint.width, max(hint.height, min(HEIGHT, room)))


class MarkerDock:
    def __init__(self):
        self.window = None
        self.dock = None
        self.panel = None
        self.layout = None
        self.hidden = False  # the dock was hidden here (not by the user): the current view has no browser
        self.timer = None

    def take(self, window):
        """Moves the Marker Browsers KLayout shows as windows into the panel, shows the dock."""
        self.window = window
        self.make()
        for widget in pya.QApplication.topLevelWidgets():
            if widget.objectName == BROWSER_NAME and widget.isVisible():
                # Reparented into a layout it loses its window flags: a plain widget from now
                # on, which KLayout still shows and hides with its view.
                self.layout.addWidget(widget)
                hide_button_row(widget)
                open_markers_list(widget)
                widget.show()
        self.dock.show()
        self.hidden = False
        getattr(self.dock, "qt_raise", getattr(self.dock, "raise_", lambda: None))()  # when the user tabbed it with other docks

    def make(self):
        if self.dock is not None and not self.dock._destroyed():
            return
        self.follow_views()
        # One dock for the window, also when the server was started again in the same KLayout.
        for child in self.window.children():
            if child.objectName == DOCK_NAME and getattr(child, "widget", None) is not None and child.widget.objectName == PANEL_NAME:
                self.dock, self.panel, self.layout = child, child.widget, child.widget.layout
                return
        self.dock = pya.QDockWidget("Marker Browser", self.window)
        self.dock.objectName = DOCK_NAME
        self.panel = Panel(self.dock)
        self.panel.objectName = PANEL_NAME
        self.layout = pya.QVBoxLayout(self.panel)
        self.layout.setContentsMargins(0, 0, 0, 0)
        self.dock.setWidget(self.panel)
        self.window.addDockWidget(pya.Qt.BottomDockWidgetArea, self.dock)

    def follow_views(self):
        """KLayout shows and hides each view's browser when the current view changes; after it
        has (a timer: the change is still under way), the dock goes away for a view without a
        browser and comes back for a view with one."""
        if self.timer is not None:
            return
        self.timer = pya.QTimer()
        self.timer.setSingleShot(True)
        self.timer.timeout(self.follow_view)
        self.window.on_current_view_changed += lambda: self.timer.start(0)

    def follow_view(self):
        try:
            if self.dock is None or self.dock._destroyed():
                return
            has_browser = any(not browser.isHidden() for browser in find_all(self.panel, BROWSER_NAME))
            if has_browser and self.hidden:
                self.dock.show()
                self.hidden = False
            elif not has_browser and self.dock.isVisible():
                self.dock.hide()
                self.hidden = True
        except Exception:
            pass  # cosmetic: never an error out of the event loop

    def state(self, window):
        """For status: how many Marker Browser docks the window has, whether the dock is shown,
        and for the browser it shows (the current view's) the database and each list's place in
        the window [x, y, width, height] with the rows that fit in it. None without a dock."""
        docks = [child for child in window.children() if child.objectName == DOCK_NAME] if window is not None else []
        if not docks:
            return None
        shown = None
        for dock in docks:
            for browser in find_all(dock, BROWSER_NAME):
                if browser.isVisible():
                    shown = browser
        state = {"docks": len(docks), "visible": any(dock.isVisible() for dock in docks), "database": None, "lists": []}
        if shown is not None:
            state["database"] = text_of(shown, "rdb_cb")
            for name in LISTS:
                found = find(shown, name)
                if found is not None:
                    state["lists"].append(list_state(found, window, name))
        return state


def hide_button_row(browser):
    button, line = find(browser, BUTTON_ROW[0]), None
    for child in browser.children():
        if child.objectName == BUTTON_ROW[1] and hasattr(child, "hide"):
            line = child
    row = button.parentWidget() if button is not None else None
    if row is not None and line is not None and row.parentWidget() is browser:
        row.hide()
        line.hide()


def open_markers_list(browser):
    """The marker list and the info pane below it share a splitter too small for both (each
    wants 123 px): the list gets it all, the info pane is folded (a drag on the splitter opens it)."""
    pane = find(browser, LISTS[1])
    splitter = pane.parentWidget() if pane is not None else None
    while splitter is not None and not hasattr(splitter, "setSizes"):
        pane, splitter = splitter, splitter.parentWidget()
    if splitter is None:
        return
    index, total = splitter.indexOf(pane), sum(splitter.sizes)
    splitter.setSizes([max(total, 1) if i == index else 0 for i in range(splitter.count())])


def find(widget, name):
    """The descendant widget named `name` (pya has no findChildren on KLayout 0.28)."""
    for child in widget.children():
        if child.objectName == name and hasattr(child, "isVisible"):
            return child
        found = find(child, name)
        if found is not None:
            return found
    return None


def find_all(widget, name):
    found = []
    for child in widget.children():
        if child.objectName == name and hasattr(child, "isVisible"):
            found.append(child)
        found.extend(find_all(child, name))
    return found


def text_of(widget, name):
    combo = find(widget, name)
    return combo.currentText if combo is not None else None


def list_state(tree, window, name):
    viewport = tree.viewport
    corner = viewport.mapTo(window, pya.QPoint(0, 0))
    height = max(0, viewport.height) if tree.isVisible() else 0
    row = tree.sizeHintForRow(0)
    return {
        "name": name,
        "box": [corner.x, corner.y, max(0, viewport.width), height],
        "rows": height // row if row > 0 else 0,
    }
