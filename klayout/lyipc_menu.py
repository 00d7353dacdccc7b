"""The installed server's entry point in KLayout: a Tools menu item (Ctrl+I) that starts and
stops the lyipc server, and autostart when lyipc.json in KLAYOUT_HOME says so. Run by the
autorun macro that `lyipc server install` writes (docs/protocol.md)."""

import json
import os

import pya

import lyipc_server

SETTINGS = "lyipc.json"
TITLE = "Inter-process communication server"


def settings(home):
    try:
        with open(os.path.join(home, SETTINGS)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


class ServerToggle:
    def __init__(self, home):
        self.options = settings(home)
        self.server = None
        self.action = pya.Action()
        self.action.title = TITLE
        self.action.shortcut = "Ctrl+I"
        self.action.checkable = True
        self.action.on_triggered(self.toggle)
        window = pya.Application.instance().main_window()
        if window is not None:
            window.menu().insert_item("tools_menu.end", "lyipc_server", self.action)

    def toggle(self):
        if self.server is None:
            self.start()
        else:
            self.stop()

    def start(self):
        try:
            self.server = lyipc_server.Server(port=self.options.get("port")).start()
            self.action.checked = True
            self.message("lyipc server listening on %s:%d" % (self.server.host, self.server.port))
        except RuntimeError as exc:
            self.server = None
            self.action.checked = False
            self.message(str(exc))

    def stop(self):
        self.server.stop()
        self.server = None
        self.action.checked = False
        self.message("lyipc server stopped")

    @staticmethod
    def message(text):
        window = pya.Application.instance().main_window()
        if window is not None:
            window.message(text, 5000)


def install(home):
    """Called once at KLayout's start-up; the toggle lives as long as KLayout."""
    toggle = ServerToggle(home)
    if toggle.options.get("autostart", False):
        toggle.start()
    lyipc_server.TOGGLE = toggle
    return toggle
