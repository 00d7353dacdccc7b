"""What SiEPIC-Tools' klive.show() does on the wire and with the answer, reimplemented from its published
source, for tests against the real KLayout GUI. Source: SiEPIC/SiEPIC-Tools,
klayout_dot_config/python/SiEPIC/utils/klive.py at commit
2fe876ae8748289b48db628aece3a6bd759de059 (the file's last change: d3de212):

- lines 31-47: the request is {"gds": abspath, "keep_position": True, "technology": ""} (an
  empty technology unless one is given), plus "lyrdb": abspath when a marker database is given;
  files that do not exist raise ValueError before anything is sent.
- lines 50-55: connect to 127.0.0.1:8082 (here: PORT) with a 0.5 s timeout, send the JSON and
  "\\n", then a 5 s timeout. Not connected: it prints "Could not connect to klive server. Is
  klayout open and klive plugin installed?".
- lines 61-68: a single recv(1024), decoded as UTF-8, printed as "Message from klive: {msg}"
  whatever it holds (no version check); no reply in 5 s: "klive didn't send data, closing".

Usage: python3 siepic_klive.py PORT GDS [LYRDB]
Prints what show() prints; exit 3 when no reply came."""

import json
import os
import socket
import sys


def show(port, gds, lyrdb=None):
    if not os.path.isfile(gds):
        raise ValueError("%s does not exist" % gds)
    request = {"gds": os.path.abspath(gds), "keep_position": True, "technology": ""}
    if lyrdb:
        if not os.path.isfile(lyrdb):
            raise ValueError("%s does not exist" % lyrdb)
        request["lyrdb"] = os.path.abspath(lyrdb)
    try:
        connection = socket.create_connection(("127.0.0.1", port), timeout=0.5)
        connection.sendall((json.dumps(request) + "\n").encode())
        connection.settimeout(5)
    except OSError:
        print("Could not connect to klive server. Is klayout open and klive plugin installed?")
        return 3
    try:
        print("Message from klive: %s" % connection.recv(1024).decode("utf-8"))
    except OSError:
        print("klive didn't send data, closing")
        return 3
    finally:
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(show(int(sys.argv[1]), *sys.argv[2:4]))
