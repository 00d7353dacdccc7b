"""Starts the lyipc viewer server in a KLayout GUI: klayout -rm klayout/lyipc_boot.py
(`lyipc viewer` and the tests do this; an installed server starts from its autorun macro)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lyipc_server  # noqa: E402

# Module-level: the server must outlive this script, or Python collects it.
lyipc_server.SERVER = lyipc_server.Server().start()
