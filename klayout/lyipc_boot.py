"""Starts the lyipc viewer server in a KLayout GUI: klayout -rm klayout/lyipc_boot.py
(`lyipc viewer` and the tests do this; an installed server starts from its autorun macro).
Settings come from KLAYOUT_HOME's lyipc.json and LYIPC_* variables (lyipc_settings)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lyipc_server

# An installed server that autostarted already serves this KLayout: nothing more to start.
if lyipc_server.running_server() is None:
    try:
        # Module-level: the server must outlive this script, or Python collects it.
        lyipc_server.SERVER = lyipc_server.Server().start()
    except Exception as exc:  # a port in use, a bad setting: say so, never a dialog
        sys.stderr.write("lyipc server not started: %s\n" % exc)
        sys.stderr.flush()


def stop_on_sigterm():
    """A KLayout that lyipc started ends on SIGTERM, as a service should (KLayout itself ignores
    it). Python runs a signal handler only between its own steps, so a timer gives it some."""
    import signal

    import pya
    from lyipc_viewer import quit_soon

    def stop(signum, frame):
        quit_soon(0)

    try:
        signal.signal(signal.SIGTERM, stop)
    except (ValueError, OSError):  # not the main thread, or a platform without SIGTERM
        return
    timer = pya.QTimer()
    timer.timeout(lambda: None)
    timer.start(200)
    globals()["SIGTERM_TIMER"] = timer


if os.name == "posix":
    stop_on_sigterm()
