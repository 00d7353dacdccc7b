"""klive-compatible requests, so that gdsfactory's and kfactory's `show()` work with this server.

klive (the KLayout package those tools talk to) takes one JSON object + newline per connection
on 127.0.0.1:8082 and answers one JSON object with no newline. Its fields: `gds` (required),
`keep_position`, `technology`, `lyrdb`, `l2n`, `libraries`, `markers`. A file already open is
reloaded in place (`type: "reload"`), else opened in a new view (`type: "open"`). Unlike klive,
a request that fails gets an answer too (`type: "error"`), so the client never waits in vain."""

import json

import pya

from lyipc_errors import JobError, parse
from lyipc_files import check_layout
from lyipc_side_files import check_side_file
from lyipc_version import VERSION
from lyipc_viewer import ViewerError

# The klive protocol version answered: kfactory warns about klive older than 0.4.1.
KLIVE_VERSION = "0.4.3"
# Clients read the reply with a single recv(1024): keep it below that.
MAX_REPLY = 1000


def handle_klive(line, viewer):
    """Runs one klive request and returns the reply bytes; never raises."""
    reply = {"version": KLIVE_VERSION, "klayout_version": viewer.klayout_version, "server": "lyipc " + VERSION}
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
    check_layout(path)
    for key, kind in (("lyrdb", "rdb"), ("l2n", "l2n")):
        if request.get(key):
            check_side_file(request[key], kind)  # before anything is shown, not after
    register_libraries(viewer, request.get("libraries"))
    window = viewer.window
    shown = viewer.views_showing(path)
    if shown:
        kind = "reload"
        view_index, cellview_index = shown[0]
        window.current_view_index = view_index
        viewer.reload_file(path)
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
    if request.get("lyrdb"):
        viewer.markers({"path": request["lyrdb"], "cellview": cellview_index})
    if request.get("l2n"):
        show_netlist(view, request["l2n"], cellview_index)
    if request.get("markers"):
        viewer.draw_markers(view, request["markers"])
    result = {"type": kind}
    if info:
        result["info"] = "; ".join(info)
    return result


def register_libraries(viewer, libraries):
    for entry in libraries or []:
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("file"):
            raise ViewerError("BAD_REQUEST", 'libraries: expected a list of {"name", "file"}')
        if not isinstance(entry["name"], str) or not isinstance(entry["file"], str):
            raise ViewerError("BAD_REQUEST", 'libraries: "name" and "file" must be strings')
        check_layout(entry["file"], "library file")
        library = pya.Library()
        try:
            library.layout().read(entry["file"])
        except Exception as exc:
            raise ViewerError("LOAD_FAILED", "%s: %s" % (entry["file"], exc), entry["file"])
        library.register(entry["name"])
        viewer.keep(library)  # a library Python no longer references is collected


def show_netlist(view, path, cellview_index):
    database = pya.LayoutToNetlist()
    try:
        database.read(path)
    except Exception as exc:
        raise ViewerError("LOAD_FAILED", "%s: not a netlist database: %s" % (path, exc), path)
    view.show_l2ndb(view.add_l2ndb(database), cellview_index)
