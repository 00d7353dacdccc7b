"""Any client at all: sends the bytes of a file to 127.0.0.1:PORT and prints what comes back,
until the server closes the connection, LINES newline-ended lines came (0: no limit), or 5 s
passed. The tests run it as another user of the machine.
Usage: python3 raw_client.py PORT FILE [LINES]"""

import socket
import sys

port, path = int(sys.argv[1]), sys.argv[2]
lines = int(sys.argv[3]) if len(sys.argv) > 3 else 0
with open(path, "rb") as handle:
    data = handle.read()
connection = socket.create_connection(("127.0.0.1", port), timeout=5)
connection.sendall(data)
received = b""
try:
    while not lines or received.count(b"\n") < lines:
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
except OSError:
    pass  # a reset after the reply, or silence: print what came
connection.close()
sys.stdout.buffer.write(received)
