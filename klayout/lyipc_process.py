"""Helpers for KLayout processes that lyipc starts (batch workers, screenshot renderers)."""

import os
import sys


def die_with_parent():
    """On Linux, ask the kernel to kill this process when the one that started it dies, even by
    SIGKILL, so an orphaned job never keeps running."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:
        pass
    if os.getppid() == 1:
        os._exit(3)
