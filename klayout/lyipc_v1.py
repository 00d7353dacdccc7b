"""The original lyipc line protocol (v1), byte for byte, for old Python clients and lytest.

One line per connection (`\\r\\n` or `\\n`); the reply is `ACK None` or `ERR <repr>` with no
newline, then the server closes. Parsing and replies only: the viewer operations come in
as `ops` (lyipc_viewer), so this module runs without a GUI."""

import traceback

from lyipc_errors import JobError

ACK = b"ACK None"
LOAD_MODES = {0: "replace", 1: "new", 2: "add"}


class NeedsLayout(Exception):
    """`reload view` with no view open. The old client falls back to `load` only when the error
    text holds "needs a layout", in lower case (atait/klayout-ipc, lyipc/client/general.py line
    15, commit 9e52ed6); the original server passed on KLayout's own message from cm_reload,
    which these are the words of."""

    def __init__(self):
        Exception.__init__(self, "This function needs a layout but none was available")


def parse_load(argument):
    """`<file> [mode]`: the mode is the last token when it is an int; a name with spaces comes
    in double quotes."""
    tokens = argument.rsplit(" ", 1)
    mode = 0
    if len(tokens) == 2 and tokens[1].strip().lstrip("-").isdigit():
        argument, mode = tokens[0], int(tokens[1])
    name = argument.strip()
    if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
        name = name[1:-1]
    if mode not in LOAD_MODES:
        raise JobError("BAD_REQUEST", "load mode must be 0 (replace), 1 (new view) or 2 (add), got %d" % mode)
    return name, LOAD_MODES[mode]


def handle_line(line, ops):
    """Runs one v1 command and returns the reply bytes."""
    try:
        try:
            text = line.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise JobError("BAD_REQUEST", "the line is not UTF-8 text: %s" % exc)
        command, _, argument = text.partition(" ")
        if command == "load":
            path, mode = parse_load(argument)
            ops.load({"path": path, "mode": mode})
        elif command == "reload":
            if not ops.has_view():
                raise NeedsLayout()
            ops.reload({})
        elif command == "cellview":
            ops.show_cell({"cell": argument.strip()})
        elif command in ("ping", "kill"):
            pass  # answered at once (the old server opened a modal box for ping)
        else:
            ops.message(text)
        return ACK
    except Exception:
        # repr() of the traceback: one single-quoted line, as old clients expect.
        return ("ERR " + repr(traceback.format_exc())).encode("utf-8", "replace")
