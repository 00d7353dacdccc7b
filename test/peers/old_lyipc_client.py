"""The old Python lyipc client's wire behaviour, as lytest and kqp() used it: one command per
connection, file names made absolute and quoted only when they hold a space, `\r\n`, a single
recv(1024) with a 3 s timeout, ERR raises; `reload view` falls back to `load` when the answer
says "Needs a layout".
Usage: python3 old_lyipc_client.py PORT COMMAND [ARG...]
  load FILE [MODE] | reload | kqp FILE (reload, else load) | lytest REF RUN (load REF 1, load RUN 2) | ping"""

import os
import socket
import sys


def send(port, message):
    connection = socket.create_connection(("127.0.0.1", port), timeout=3)
    connection.sendall((message + "\r\n").encode())
    connection.settimeout(3)
    try:
        reply = connection.recv(1024).decode()
    finally:
        connection.close()
    if reply.startswith("ERR"):
        raise RuntimeError(reply)
    return reply[4:]


def name(path):
    path = os.path.realpath(path)
    return '"%s"' % path if " " in path else path


port, command, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
if command == "load":
    print(send(port, "load %s%s" % (name(args[0]), " " + args[1] if len(args) > 1 else "")))
elif command == "reload":
    print(send(port, "reload view"))
elif command == "kqp":
    try:
        print(send(port, "reload view"))
    except RuntimeError as exc:
        if "Needs a layout" not in str(exc):
            raise
        print(send(port, "load %s" % name(args[0])))
elif command == "lytest":
    print(send(port, "load %s 1" % name(args[0])))
    print(send(port, "load %s 2" % name(args[1])))
else:
    print(send(port, command))
