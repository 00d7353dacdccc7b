"""Copies the viewer shows in place of a user's layout file that the running KLayout cannot read
whole: a GDS file written by KLayout 0.29 or later with meta data in its context cell, opened by
KLayout 0.28 (lyipc_context). Every file the viewer opens goes through `ShownCopies.open`: the
file itself when KLayout reads it, a streamed copy without the context cell only on exactly
that reader error.

The cellview reads the copy, but what the viewer answers names the user's file (`original`),
and a reload reads the user's file again, never the stale copy. A copy lives in one private
folder per KLayout process in the temp folder (never beside the user's file) and goes once no
cellview shows it: checked after the requests that replace or close layouts and every few
seconds (views closed in the window itself), when the server stops or KLayout ends, and, for a
KLayout that was killed, when the next server starts."""

import atexit
import os
import shutil
import time

import pya

from lyipc_context import CONTEXT_SKIPPED, BrokenStream, cannot_read_meta, klayout_version, without_context_cell
from lyipc_errors import JobError
from lyipc_scratch import SHOWN_COPIES, scratch_folder

SWEEP_MS = 5000
DISK_RESERVE = 1024 ** 3  # bytes a copy leaves free on its disk (or 5% of a smaller one)
# A gzipped copy is inflated and deflated again: some 30 MB/s, seconds for a large file. The
# window answers meanwhile, every so often, as it does while KLayout reads (its progress bar).
EVENTS_EVERY_S = 0.2


NEWER = object()  # what unless_newer returns for a file this KLayout cannot read whole


def unless_newer(action):
    """action()'s result, or NEWER when it failed on exactly the reader error of a context cell
    with meta data written by a newer KLayout; other errors go on."""
    try:
        return action()
    except Exception as exc:
        if not cannot_read_meta(str(exc)):
            raise
    return NEWER


class Copy:
    def __init__(self, original, path, note):
        self.original = original  # the user's file, absolute
        self.path = path  # what the cellview reads: the copy, or a link to the user's file
        self.note = note  # CONTEXT_SKIPPED, or None when the user's file is read whole


class ShownCopies:
    def __init__(self):
        self.copies = {}  # a copy's absolute path -> Copy
        # User's files a cellview reads itself, but whose last reload was read from a copy.
        self.read_from_copy = set()
        self.folder = None
        self.loading = 0  # a copy is being read: KLayout processes events (and timers) meanwhile
        self.timer = None

    # ------------------------------------------------------------ opening

    def open(self, path, load):
        """load(name) for the user's file `path`: `name` is `path`, or, when this KLayout
        cannot read the file's context meta data, a copy without that cell. Returns what load
        returns (a CellView). A failed load changes nothing in the window (KLayout adds or
        replaces cellviews only once a file is read), so the copy is made only after it."""
        cellview = unless_newer(lambda: load(path))
        if cellview is not NEWER:
            self.read_from_copy.discard(os.path.abspath(path))
            return cellview
        cellview, copy = self.read_stripped(path, load, keep=True)
        self.copies[os.path.abspath(copy)] = Copy(os.path.abspath(path), copy, CONTEXT_SKIPPED)
        # The window's title and the layer list name the cellview: the user's file, not "layout.gds".
        cellview.name = os.path.basename(path)
        self.watch()
        return cellview

    def read_stripped(self, path, read, keep):
        """(read(copy), copy) on a copy of `path` without its context cell; the copy's folder
        stays when `keep`, else goes once it is read (the layout is in memory by then).
        LOAD_FAILED, naming the file, when the copy cannot be made or read."""
        self.loading += 1
        try:
            folder, copy = self.strip(path)
            try:
                result = read(copy)
            except Exception as exc:
                shutil.rmtree(folder, ignore_errors=True)
                raise JobError("LOAD_FAILED", "%s: written by a newer KLayout, and not readable without its context cell either: %s" % (path, exc), path)
            if not keep:
                shutil.rmtree(folder, ignore_errors=True)
            return result, copy
        finally:
            self.loading -= 1

    def strip(self, path):
        """(folder, copy) of `path` without its context cell, in this process' private folder:
        LOAD_FAILED, naming the file and the cause, when it cannot be made."""
        newer = "%s: written by a newer KLayout (its context cell holds meta data that KLayout %s cannot read)" % (path, klayout_version())
        try:
            parent = self.ensure_folder()
            disk = shutil.disk_usage(parent)
            size = os.path.getsize(path)
            if size > disk.free - min(DISK_RESERVE, disk.total // 20):
                raise JobError("LOAD_FAILED", "%s, and a copy without that cell (%d bytes) does not fit in %s (%d bytes free)" % (newer, size, parent, disk.free), path)
            return without_context_cell(path, parent, answering_window())
        except (BrokenStream, OSError) as exc:
            raise JobError("LOAD_FAILED", "%s, and a copy without that cell cannot be made: %s" % (newer, getattr(exc, "strerror", None) or exc), path)

    def ensure_folder(self):
        if self.folder is None or not os.path.isdir(self.folder):
            self.folder = scratch_folder(SHOWN_COPIES)
            atexit.register(shutil.rmtree, self.folder, True)
        return self.folder

    # ------------------------------------------------------------ what a cellview shows

    def shown_as(self, cellview):
        """The Copy a cellview reads, or None when it reads its file itself."""
        filename = cellview.filename()
        return self.copies.get(os.path.abspath(filename)) if filename else None

    def original(self, cellview):
        """The user's file a cellview shows (its own file name when it is no copy)."""
        copy = self.shown_as(cellview)
        return copy.original if copy is not None else cellview.filename()

    def note(self, cellview):
        copy = self.shown_as(cellview)
        if copy is not None:
            return copy.note
        filename = cellview.filename()
        return CONTEXT_SKIPPED if filename and os.path.abspath(filename) in self.read_from_copy else None

    # ------------------------------------------------------------ reloading

    def reload(self, view, index):
        """Reloads cellview `index` of `view` in place. A copy's cellview reads the user's file
        as it is now: through a link at the copy's place, so that a file KLayout now reads whole
        is read whole; on exactly the context reader error, a new copy without that cell. Raises
        JobError (LOAD_FAILED) or KLayout's error."""
        copy = self.shown_as(view.cellview(index))
        if copy is None:
            self.reload_file(view, index)
            return
        self.loading += 1
        try:
            self.point_at(copy, copy.original)
            if unless_newer(lambda: view.reload_layout(index)) is not NEWER:
                copy.note = None
                return
            # KLayout read up to the context cell's meta data only (the cellview is empty now).
            folder, stripped = self.strip(copy.original)
            try:
                os.replace(stripped, copy.path)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            view.reload_layout(index)
            copy.note = CONTEXT_SKIPPED
        finally:
            self.loading -= 1

    def reload_file(self, view, index):
        """A cellview that reads the user's file itself. When the file was since rewritten by a
        newer KLayout, KLayout's reload empties the cellview and fails: its layout is then read
        from a copy without the context cell (removed at once: the layout is in memory), and the
        cellview keeps naming the user's file."""
        cellview = view.cellview(index)
        path = os.path.abspath(cellview.filename())
        cell = cellview.cell_name
        if unless_newer(lambda: view.reload_layout(index)) is not NEWER:
            self.read_from_copy.discard(path)
            return
        self.read_stripped(path, lambda stripped: view.cellview(index).layout().read(stripped), keep=False)
        self.read_from_copy.add(path)
        cellview = view.cellview(index)
        shown = cellview.layout().cell(cell) if cell else None
        tops = cellview.layout().top_cells()
        if shown is not None or tops:
            cellview.cell = shown or tops[0]

    @staticmethod
    def point_at(copy, target):
        """The copy's place becomes a link to `target` (atomically: a new link renamed over it)."""
        link = copy.path + ".link"
        try:
            if os.path.lexists(link):
                os.remove(link)
            os.symlink(target, link)
            os.replace(link, copy.path)
        except OSError as exc:
            raise JobError("LOAD_FAILED", "%s: cannot reload it through %s: %s" % (target, copy.path, exc.strerror or exc), target)

    # ------------------------------------------------------------ removing

    def watch(self):
        """Sweeps every few seconds while there are copies: a view closed in the window itself
        sends no request."""
        if self.timer is None:
            self.timer = pya.QTimer()
            self.timer.timeout(self.sweep)
        if not self.timer.isActive():
            self.timer.start(SWEEP_MS)

    def sweep(self, window=None):
        """Removes the copies no cellview shows. Never while a copy is being read."""
        if self.loading or not (self.copies or self.read_from_copy):
            return
        window = window or pya.Application.instance().main_window()
        shown = set()
        for index in range(window.views()):
            view = window.view(index)
            for cellview in range(view.cellviews()):
                filename = view.cellview(cellview).filename()
                if filename:
                    shown.add(os.path.abspath(filename))
        self.read_from_copy &= shown
        for path in [path for path in self.copies if path not in shown]:
            del self.copies[path]
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)  # never follows the link
        if not self.copies and self.timer is not None:
            self.timer.stop()

    def remove_all(self):
        """Every copy and the folder (the server stops)."""
        if self.timer is not None:
            self.timer.stop()
        self.copies = {}
        self.read_from_copy = set()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def answering_window():
    """A tick for lyipc_context's copy: lets KLayout process events every EVENTS_EVERY_S."""
    app = pya.Application.instance()
    last = [time.time()]

    def tick():
        now = time.time()
        if now - last[0] >= EVENTS_EVERY_S:
            last[0] = now
            app.process_events()

    return tick
