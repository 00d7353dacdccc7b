"""The viewer server's settings: `lyipc.json` in KLAYOUT_HOME (written by `lyipc server install`),
overridden by environment variables (set by `lyipc viewer` and the tests). docs/protocol.md
lists them. Pure Python: no GUI needed, so it is checked in `klayout -b` too."""

import json
import os

from lyipc_shared import KLIVE_PORT, VIEWER_PORT as DEFAULT_PORT

SETTINGS_FILE = "lyipc.json"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MIN_TOKEN = 16  # characters: a token guards a port other machines can reach

DEFAULTS = {
    "autostart": False,
    "host": "127.0.0.1",
    "port": DEFAULT_PORT,
    "token": None,
    "allowRemoteV1": False,
    "klive": False,
    "klivePort": KLIVE_PORT,
    # Bytes of uploaded layouts the server keeps at once (its cache folder); one upload may not
    # exceed it either.
    "uploadQuota": 2 * 1024 ** 3,
    # Seconds a screenshot too heavy to draw on the GUI thread may take in a separate KLayout.
    "screenshotTimeout": 30,
}


class SettingsError(Exception):
    """A setting that cannot be used; the message says which and why."""


def klayout_home():
    """KLayout's own default: ~/.klayout, on Windows %USERPROFILE%\\KLayout."""
    return os.environ.get("KLAYOUT_HOME") or os.path.join(os.path.expanduser("~"), "KLayout" if os.name == "nt" else ".klayout")


def read_file(home):
    try:
        with open(os.path.join(home, SETTINGS_FILE)) as handle:
            values = json.load(handle)
    except (OSError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


def port_number(name, value):
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = -1
    if not 0 < port < 65536:
        raise SettingsError("%s: expected a TCP port from 1 to 65535, got %r" % (name, value))
    return port


def positive_number(name, value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise SettingsError("%s: expected %s above 0, got %r" % (name, what, value))
    return value


def load(home=None, env=None):
    """Defaults, then lyipc.json, then LYIPC_PORT / LYIPC_HOST / LYIPC_TOKEN / LYIPC_KLIVE_PORT."""
    env = os.environ if env is None else env
    home = home or klayout_home()
    values = dict(DEFAULTS)
    values.update((k, v) for k, v in read_file(home).items() if k in DEFAULTS)
    values["home"] = home
    if env.get("LYIPC_PORT"):
        values["port"] = env["LYIPC_PORT"]
    if env.get("LYIPC_HOST"):
        values["host"] = env["LYIPC_HOST"]
    if env.get("LYIPC_TOKEN"):
        values["token"] = env["LYIPC_TOKEN"]
    if env.get("LYIPC_KLIVE_PORT"):
        values["klive"] = True
        values["klivePort"] = env["LYIPC_KLIVE_PORT"]
    values["port"] = port_number("port", values["port"])
    values["klivePort"] = port_number("klivePort", values["klivePort"])
    values["uploadQuota"] = positive_number("uploadQuota", values["uploadQuota"], "a byte count")
    values["screenshotTimeout"] = positive_number("screenshotTimeout", values["screenshotTimeout"], "seconds")
    check_exposure(values)
    return values


def is_loopback(host):
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def check_exposure(values):
    """Anything reachable from another machine needs a token: refuse to listen without one."""
    if not is_loopback(values["host"]) and not values.get("token"):
        raise SettingsError(
            "listening on %s (not loopback) needs a token: set \"token\" in %s or LYIPC_TOKEN "
            "('lyipc server install --host ADDR' makes one)" % (values["host"], SETTINGS_FILE))
    if values.get("token") and len(str(values["token"])) < MIN_TOKEN:
        raise SettingsError("the token must have at least %d characters" % MIN_TOKEN)
