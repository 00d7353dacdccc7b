"""What gdsfactory 7's klive.show() (what Component.show() called, gdsfactory/show.py) does on
the wire and with the answer, reimplemented from its published source (no code copied), for tests against the real KLayout
GUI. Source: gdsfactory/gdsfactory, gdsfactory/klive.py at tag v7.27.0 (commit
32f29d8373e7dbf6e108824a2b85683face74463; the file's last change in 7.x: fc1de0f):

- lines 31-41: the request is {"gds": abspath, "keep_position": True, "technology": null}
  (null unless one is given); a file that does not exist raises ValueError first.
- lines 42-51: connect to 127.0.0.1:8082 (here: PORT) with a 0.5 s timeout, send the JSON and
  "\\n", then a 5 s timeout. Not connected: warnings.warn("Could not connect to klive server.
  Is klayout open and klive plugin installed?").
- lines 53-60: a single recv(1024), decoded as UTF-8, logged at info level as "Message from
  klive: {msg}" (no version check). No reply in 5 s: line 58 calls warnings.warn.warning,
  which does not exist, so show() raises AttributeError instead of warning.

Usage: python3 gdsfactory7_klive.py PORT GDS
Prints the log line ("INFO Message from klive: ..."); exit 1 with AttributeError when no reply
came, as show() would raise."""

import json
import os
import socket
import sys


def show(port, gds):
    if not os.path.isfile(gds):
        raise ValueError("%s does not exist" % gds)
    request = {"gds": os.path.abspath(gds), "keep_position": True, "technology": None}
    try:
        connection = socket.create_connection(("127.0.0.1", port), timeout=0.5)
        connection.sendall((json.dumps(request) + "\n").encode())
        connection.settimeout(5)
    except OSError:
        print("WARNING Could not connect to klive server. Is klayout open and klive plugin installed?")
        return 3
    try:
        print("INFO Message from klive: %s" % connection.recv(1024).decode("utf-8"))
    except OSError:
        raise AttributeError("'function' object has no attribute 'warning'")
    finally:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(show(int(sys.argv[1]), sys.argv[2]))
