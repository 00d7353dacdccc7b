"""Sends one layout to a klive server the way gdsfactory's and kfactory's show() do: connect
with a 0.5 s timeout, one JSON line, then a single recv(1024) with a 5 s timeout.
Usage: python3 kfactory_show.py PORT '{"gds": "/abs/chip.gds", ...}'
Prints the reply; exit 3 when no reply came ("klive didn't send data")."""

import json
import socket
import sys

port, request = int(sys.argv[1]), json.loads(sys.argv[2])
connection = socket.create_connection(("127.0.0.1", port), timeout=0.5)
connection.sendall((json.dumps(request) + "\n").encode())
connection.settimeout(5)
try:
    sys.stdout.write(connection.recv(1024).decode("utf-8"))
except OSError:
    sys.stdout.write("klive didn't send data, closing")
    sys.exit(3)
finally:
    connection.close()
