"""What kfactory's show() does on the wire and with the answer, reimplemented from its published source (no code copied), for
tests against the real KLayout GUI. Source: gdsfactory/kfactory, src/kfactory/kcell.py at commit
644ebb6991bfcdd805f18d752161b7fecb99017e (gdsfactory 8 and later call this show() too):

- lines 3747-3792: the request is a JSON object with "gds", "keep_position" (True by default)
  and "libraries" (a list, empty for a file path), plus "lyrdb", "l2n", "technology" and
  "markers" ([class name, to_s(), config]) when given. Here the request comes whole from the
  command line.
- lines 3794-3806: connect to 127.0.0.1:8082 (here: PORT) with a 0.5 s timeout, send the JSON
  and "\\n", then a 5 s timeout and a single recv(1024), decoded as UTF-8. Not connected: the
  warning "Could not connect to klive server".
- lines 3807-3843: json.loads; `type` "open" or "reload" is logged at info level as
  "klive v{version}: Opened file '{file}'" / "Reloaded file" (with ", Messages: {info}" when
  there is an `info`); any other type (an error) is logged nowhere. A reply without `type`
  raises KeyError out of show().
- lines 3844-3855: the version check, reversed: semver Version(0, 4, 1).compare(version) >= 0
  is "ok", so any `version` above 0.4.1 gives the warning
  "klive is out of date. Installed:{version}/Recommended:0.4.1. Please update it in KLayout".
- lines 3856-3875: only when "ok", `klayout_version` is parsed as semver too (a version
  semver cannot parse raises ValueError out of show()); the rest compares the client's own
  KLayout and is left out here.
- lines 3877-3880: a reply that is not JSON is logged as "Message from klive: {msg}"; no reply
  in 5 s: the warning "klive didn't send data, closing".

Usage: python3 kfactory_show.py PORT '{"gds": "/abs/chip.gds", ...}'
Prints the reply on stdout and kfactory's log lines ("INFO ...", "WARNING ...") on stderr;
exit 3 when no reply came, 1 when show() would have raised."""

import json
import re
import socket
import sys

RECOMMENDED = (0, 4, 1)
# semver's Version.parse: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], nothing else.
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def semver(text):
    """(major, minor, patch, release?) ordered as semver orders them (a pre-release comes
    before its release; pre-releases among themselves are not ordered here)."""
    match = SEMVER.match(text)
    if not match:
        raise ValueError("%s is not valid SemVer string" % text)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4) is None)


def log(level, text):
    sys.stderr.write("%s %s\n" % (level, text))


def show(port, request):
    try:
        connection = socket.create_connection(("127.0.0.1", port), timeout=0.5)
        connection.sendall((json.dumps(request) + "\n").encode())
        connection.settimeout(5)
    except OSError:
        log("WARNING", "Could not connect to klive server")
        return 3
    try:
        message = connection.recv(1024).decode("utf-8")
    except OSError:
        log("WARNING", "klive didn't send data, closing")
        return 3
    finally:
        connection.close()
    sys.stdout.write(message)
    try:
        reply = json.loads(message)
    except ValueError:
        log("INFO", "Message from klive: %s" % message)
        return 0
    kind = reply["type"]
    if kind in ("open", "reload"):
        text = "klive v%s: %s file '%s'" % (reply["version"], "Opened" if kind == "open" else "Reloaded", reply["file"])
        log("INFO", text + (", Messages: %s" % reply["info"] if reply.get("info") else ""))
    if semver(reply["version"]) > RECOMMENDED + (True,):
        log("WARNING", "klive is out of date. Installed:%s/Recommended:%s. Please update it in KLayout" % (reply["version"], ".".join(map(str, RECOMMENDED))))
    else:
        semver(reply["klayout_version"])
    return 0


if __name__ == "__main__":
    sys.exit(show(int(sys.argv[1]), json.loads(sys.argv[2])))
