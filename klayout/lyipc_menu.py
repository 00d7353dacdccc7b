"""The installed server's entry point in KLayout: a Tools menu item (Ctrl+I) that starts and
stops the lyipc server, and autostart when lyipc.json in KLAYOUT_HOME says so. Run by the
autorun macro that `lyipc server install` writes (docs/protocol.md)."""

import pya

import lyipc_server
import lyipc_settings

TITLE = "Inter-process communication server"


class ServerToggle:
    def __init__(self, home):
        self.home = home
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
            # Read at each start: a changed lyipc.json applies without restarting KLayout.
            self.server = lyipc_server.Server(lyipc_settings.load(self.home)).start()
            self.action.checked = True
            self.message(describe(self.server))
        except (RuntimeError, lyipc_settings.SettingsError) as exc:
            self.server = None
            self.action.checked = False
            self.message("lyipc server not started: %s" % exc)

    def stop(self):
        self.server.stop()
        self.server = None
        self.action.checked = False
        self.message("lyipc server stopped")

    @staticmethod
    def message(text):
        window = pya.Application.instance().main_window()
        if window is not None:
            window.message(text, 10000)
        print(text)


def describe(server):
    text = "lyipc server listening on %s:%d" % (server.host, server.port)
    if server.klive_port:
        text += ", klive on 127.0.0.1:%d" % server.klive_port
    if server.klive_error:
        text += " (klive listener not started: %s)" % server.klive_error
    return text


def install(home):
    """Called once at KLayout's start-up; the toggle lives as long as KLayout."""
    toggle = ServerToggle(home)
    if lyipc_settings.read_file(home).get("autostart", False):
        toggle.start()
    lyipc_server.TOGGLE = toggle
    return toggle
