"""What the old Python lyipc client (0.2.14) sends and how it reads the answer, reimplemented from
its published source (no code copied), for tests against the real KLayout GUI. Source: atait/klayout-ipc, commit
9e52ed614745b5a721feb4d691e968fadf47906c ("Version bump 2.24 and release", version 0.2.14):

- lyipc/client/__init__.py lines 16-27 (`send`): one TCP connection per command to
  lyipc.PORT (11078; here the PORT argument) on socket.gethostbyname("localhost") when
  LYIPCTARGET is not set (lyipc/client/remotehost.py line 41), timeout 3 s, the command plus "\\r\\n", then a
  single recv(1024), decoded.
- lines 30-39 (`handle_query`): "ACK " -> the rest is returned; "ERR " -> the rest is the repr
  of a traceback, turned back with .encode("utf-8").decode("unicode_escape").strip("'"), and
  raised as ServerSideError(text + "^ Server-side error ^"); anything else -> None.
- lyipc/client/general.py lines 11-19 (`reload(fallback_file)`): send "reload view"; on a
  ServerSideError whose args[0] holds "needs a layout" (in lower case, line 15) it loads
  `fallback_file` when one is given and returns quietly when not; any other error is raised.
- lines 23-39 (`load(filename, mode)`): os.path.realpath, double quotes when the name holds a
  space, "load NAME" plus " MODE" when a mode is given.
- lyipc/client/command_line.py lines 16-31 (`cm_reload`, the `lyipc_reload` console script of
  setup.py line 21): `lyipc_reload FILE` is reload(FILE); with --fresh it is load(FILE).
- lyipc/client/dependent.py lines 36-57 (`klayout_quickplot`, what kqp() runs): after writing
  the file, reload(filename) (load when fresh=True).
- lytest (atait/lytest, commit c7d2c102e48a424878970eeb7fd34d9b328466aa, lytest/utest_buds.py
  lines 79-80) shows a failed comparison with load(ref, mode=1) then load(run, mode=2).

Usage: python3 old_lyipc_client.py PORT COMMAND [ARG...]
  load FILE [MODE] | lyipc_reload [FILE] | kqp FILE | lytest REF RUN | ping
Prints what the client's function returns (load: the text after "ACK "; reload: None); a
ServerSideError ends the program with its traceback (exit 1), as it would the user's script."""

import os
import socket
import sys


class ServerSideError(RuntimeError):
    pass


def send(port, message):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        sock.connect((socket.gethostbyname("localhost"), port))
        sock.sendall((message + "\r\n").encode())
        data = sock.recv(1024).decode()
    return handle_query(data)


def handle_query(answer):
    if answer.startswith("ACK "):
        return answer[4:]
    if answer.startswith("ERR "):
        text = answer[4:].encode("utf-8").decode("unicode_escape").strip("'")
        raise ServerSideError(text + "^ Server-side error ^")
    return None


def load(port, filename, mode=None):
    filename = os.path.realpath(filename)
    if " " in filename:
        filename = '"' + filename + '"'
    words = ["load", filename] + ([str(mode)] if mode is not None else [])
    return send(port, " ".join(words))


def reload(port, fallback_file=None):
    try:
        send(port, "reload view")
    except ServerSideError as err:
        if "needs a layout" not in err.args[0]:
            raise
        if fallback_file is not None:
            load(port, fallback_file)


def main(port, command, args):
    if command == "load":
        print(load(port, args[0], args[1] if len(args) > 1 else None))
    elif command in ("lyipc_reload", "kqp"):
        print(reload(port, args[0] if args else None))
    elif command == "lytest":
        print(load(port, args[0], 1))
        print(load(port, args[1], 2))
    else:
        print(send(port, command))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3:])
