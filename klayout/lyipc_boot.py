"""Starts the lyipc viewer server in a KLayout GUI: klayout -rm klayout/lyipc_boot.py
(`lyipc viewer` and the tests do this; an installed server starts from its autorun macro).
Settings come from KLAYOUT_HOME's lyipc.json and LYIPC_* variables (lyipc_settings)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lyipc_server  # noqa: E402

# An installed server that autostarted already serves this KLayout: nothing more to start.
if lyipc_server.running_server() is None:
    try:
        # Module-level: the server must outlive this script, or Python collects it.
        lyipc_server.SERVER = lyipc_server.Server().start()
    except Exception as exc:  # a port in use, a bad setting: say so, never a dialog
        sys.stderr.write("lyipc server not started: %s\n" % exc)
        sys.stderr.flush()
