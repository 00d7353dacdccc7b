"""klive-compatible requests, so that gdsfactory's and kfactory's `show()` work with this server.

klive (the KLayout package those tools talk to) takes one JSON object + newline per connection
on 127.0.0.1:8082 and answers one JSON object with no newline. Its fields: `gds` (required),
`keep_position`, `technology`, `lyrdb`, `l2n`, `libraries`, `markers`. A file already open is
reloaded in place (`type: "reload"`), else opened in a new view (`type: "open"`). Unlike klive,
a request that fails gets an answer too (`type: "error"`), so the client never waits in vain,
and it fails before anything in the window changed: every file is read and every field checked
first, then the layout is shown."""

import json

import pya

from lyipc_context import cannot_read_meta, read_skipping_context
from lyipc_errors import JobError, parse
from lyipc_files import check_layout
from lyipc_side_files import check_side_file
from lyipc_version import VERSION
from lyipc_viewer import ViewerError, parse_markers, read_markers

# The klive version answered. kfactory's show() compares it reversed: since 1.14.3 (commit
# 2629d27) it warns "klive is out of date" for any version above 0.4.1
# (`Version(0, 4, 1).compare(version) >= 0`, src/kfactory/kcell.py lines 3845-3855, commit
# 644ebb6), and from 0.17.7 (commit f5d4a96) until then it warned below 0.3.3. SiEPIC-Tools'
# klive.py (SiEPIC/utils/klive.py lines 62-64, commit 2fe876a) and gdsfactory 7's
# (gdsfactory/klive.py lines 53-56, v7.27.0) only print the reply. 0.4.1 is the one version no
# client warns about; every field kfactory sends (markers came with klive 0.4.2) is taken anyway.
KLIVE_VERSION = "0.4.1"
# Clients read the reply with a single recv(1024): keep it below that.
MAX_REPLY = 1000


def reply_base(viewer):
    """What every reply carries, errors included: kfactory reads `version` from any reply and
    raises KeyError without it (src/kfactory/kcell.py line 3845, commit 644ebb6), then parses
    `klayout_version` (line 3857)."""
    return {"version": KLIVE_VERSION, "klayout_version": viewer.klayout_version, "server": "lyipc " + VERSION}


def refusal(viewer, message):
    """The reply bytes to a connection refused before its request was read."""
    return encode(dict(reply_base(viewer), type="error", error=message))


def handle_klive(line, viewer):
    """Runs one klive request and returns the reply bytes; never raises."""
    reply = reply_base(viewer)
    try:
        request = parse(line)
        if isinstance(request, JobError):
            raise request
        if not isinstance(request.get("gds"), str) or not request["gds"]:
            raise ViewerError("BAD_REQUEST", 'expected a JSON object with "gds": the path of a layout file')
        reply["file"] = request["gds"]
        check_fields(request)
        reply.update(show(viewer, request))
    except JobError as exc:
        reply.update(type="error", error=exc.message)
    except Exception as exc:  # a bug must still be answered
        reply.update(type="error", error="%s: %s" % (type(exc).__name__, exc))
    return encode(reply)


def encode(reply):
    """JSON below MAX_REPLY bytes: the echoed file name is shortened first, the messages last."""
    data = json.dumps(reply).encode("utf-8")
    for key in ("file", "info", "error"):
        while len(data) > MAX_REPLY and len(reply.get(key) or "") > 3:
            text = reply[key].rstrip(".")
            keep = max(0, len(text) - (len(data) - MAX_REPLY) - 3)
            reply[key] = text[:keep] + "..."
            data = json.dumps(reply).encode("utf-8")
    return data


# The optional fields and the JSON types they take.
FIELDS = {"keep_position": (bool, int, type(None)), "technology": (str, type(None)), "lyrdb": (str, type(None)), "l2n": (str, type(None)), "libraries": (list, type(None)), "markers": (list, type(None))}


def check_fields(request):
    for name, types in FIELDS.items():
        if not isinstance(request.get(name), types):
            raise ViewerError("BAD_REQUEST", "%s: expected %s, got %s" % (name, " or ".join(t.__name__ for t in types if t is not type(None)), type(request.get(name)).__name__))


def show(viewer, request):
    path = request["gds"]
    # Everything that can fail, before anything in the window changes.
    check_layout(path)
    libraries = read_libraries(request.get("libraries"))
    rdb = read_markers(request["lyrdb"]) if request.get("lyrdb") else None
    netlist = read_netlist(request["l2n"]) if request.get("l2n") else None
    markers = parse_markers(request["markers"]) if request.get("markers") else None
    for name, library in libraries:
        library.register(name)
        viewer.keep(library)  # a library Python no longer references is collected
    window = viewer.window
    shown = viewer.views_showing(path)
    if shown:
        kind = "reload"
        view_index, cellview_index = shown[0]
        viewer.reload_file(path)
        window.current_view_index = view_index
    else:
        kind = "open"
        keep = request.get("keep_position") and viewer.has_view()
        loaded = viewer.load({"path": path, "mode": "new", "keepView": bool(keep)})
        cellview_index = loaded["cellview"]
    view = window.current_view()
    info = []
    technology = request.get("technology")
    if technology:
        if pya.Technology.has_technology(technology):
            view.cellview(cellview_index).technology = technology
        else:
            info.append("technology %s is not installed in this KLayout" % technology)
    if rdb is not None:
        viewer.show_markers(view, rdb, cellview_index)
    if netlist is not None:
        view.show_l2ndb(view.add_l2ndb(netlist), cellview_index)
    if markers:
        viewer.draw_markers(view, markers)
    result = {"type": kind}
    if info:
        result["info"] = "; ".join(info)
    return result


def read_libraries(libraries):
    """(name, pya.Library) for each `{"name", "file"}`, read but not registered yet."""
    read = []
    for entry in libraries or []:
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("file"):
            raise ViewerError("BAD_REQUEST", 'libraries: expected a list of {"name", "file"}')
        if not isinstance(entry["name"], str) or not isinstance(entry["file"], str):
            raise ViewerError("BAD_REQUEST", 'libraries: "name" and "file" must be strings')
        check_layout(entry["file"], "library file")
        read.append((entry["name"], read_library(entry["file"])))
    return read


def read_library(path):
    """A library's layout, read like the viewer's layouts: without a context cell whose meta
    data this KLayout cannot read (the copy goes at once: the library is in memory)."""
    library = pya.Library()
    try:
        library.layout().read(path)
        return library
    except Exception as exc:
        if not cannot_read_meta(str(exc)):
            raise ViewerError("LOAD_FAILED", "%s: %s" % (path, exc), path)
    library = pya.Library()  # the failed read may have left cells behind
    try:
        read_skipping_context(path, library.layout().read)
    except Exception as exc:
        raise ViewerError("LOAD_FAILED", "%s: written by a newer KLayout, and not readable without its context cell either: %s" % (path, exc), path)
    return library


def read_netlist(path):
    """A netlist database, read but not shown. KLayout's reader skips what it does not know
    and raises for little else, so the file's header is checked first (check_side_file) and
    the result must hold a circuit: KLayout reads none back from a database without one."""
    check_side_file(path, "l2n")
    database = pya.LayoutToNetlist()
    try:
        database.read(path)
    except Exception as exc:
        raise ViewerError("LOAD_FAILED", "%s: not a netlist database: %s" % (path, exc), path)
    netlist = database.netlist()
    if netlist is None or not any(True for _ in netlist.each_circuit()):
        raise ViewerError("LOAD_FAILED", "%s: a netlist database without a circuit (cut short?); nothing to show" % path, path)
    return database
