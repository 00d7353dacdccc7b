"""What each v2 method accepts, checked before the viewer is touched: a caller's wrong type is
BAD_REQUEST naming the parameter, never a Python error deep in KLayout's API (INTERNAL is for
bugs). Unknown parameters are ignored, so newer clients still talk to older servers.

Also the guard for side files a client names (marker databases, layer properties): they are
text, and a gzip-compressed one is inflated with a cap, so a "gzip bomb" is refused in
milliseconds instead of holding the GUI while KLayout inflates gigabytes."""

import zlib

from lyipc_errors import JobError

# Bytes a compressed side file may inflate to. Marker databases that lyipc writes are far
# smaller (their markers are capped); a user's DRC report of this size still loads.
MAX_INFLATED = 256 * 1024 * 1024
_CHUNK = 1024 * 1024


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# kind -> (test, what a good value looks like)
KINDS = {
    "path": (lambda v: isinstance(v, str) and v != "", "a non-empty string (a file path)"),
    "string": (lambda v: isinstance(v, str), "a string"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "index": (lambda v: _is_int(v) and v >= 0, "an index (an integer >= 0)"),
    "pixels": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "size": (lambda v: _is_int(v) and v > 0, "a byte count (a positive integer)"),
    "box": (lambda v: isinstance(v, list) and len(v) == 4 and all(_is_number(x) for x in v), "[left, bottom, right, top] in µm"),
    "mode": (lambda v: v in ("replace", "new", "add"), "replace, new or add"),
    "names": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of strings"),
}

_LOAD = {"path": "path", "mode": "mode", "keepView": "bool", "cell": "string", "lyp": "path", "rdb": "path"}

SCHEMAS = {
    "hello": {"token": "string"},
    "ping": {},
    "load": _LOAD,
    "upload": dict(_LOAD, path=None, name="string", size="size", source="string", store="bool", reload="bool"),
    "reload": {"path": "path", "view": "index"},
    "status": {},
    "screenshot": {"width": "pixels", "height": "pixels", "view": "index", "path": "path"},
    "markers": {"path": "path", "view": "index", "cellview": "index"},
    "zoom": {"box": "box", "view": "index"},
    "close": {"view": "index"},
    "quit": {"force": "bool"},
    "show_diff": {"a": "path", "b": "path", "xor": "path", "rdb": "path", "box": "box", "title": "string", "key": "string", "names": "names"},
}

REQUIRED = {
    "load": ("path",),
    "upload": ("size",),
    "markers": ("path",),
    "show_diff": ("a", "b", "xor"),
}


def check_params(method, params):
    """Raises BAD_REQUEST for a missing required parameter or one of the wrong type. `null`
    counts as not given: clients send it for "the default"."""
    schema = SCHEMAS.get(method, {})
    for name in REQUIRED.get(method, ()):
        if params.get(name) is None:
            raise JobError("BAD_REQUEST", "%s: parameter %r is required" % (method, name))
    for name, kind in schema.items():
        value = params.get(name)
        if kind is None or value is None:
            continue
        test, wanted = KINDS[kind]
        if not test(value):
            raise JobError("BAD_REQUEST", "%s: parameter %r must be %s, got %s" % (method, name, wanted, _shown(value)))


def _shown(value):
    text = repr(value) if not isinstance(value, (dict, list)) else "%s of %d" % (type(value).__name__, len(value))
    return text if len(text) <= 60 else text[:57] + "..."


def check_text_file(path, what):
    """LOAD_FAILED unless `path` looks like a text file KLayout can read as `what`: no NUL bytes
    at its start, and, when gzip-compressed, inflating to at most MAX_INFLATED bytes."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(2)
            if head == b"\x1f\x8b":
                handle.seek(0)
                _check_inflated(handle, path, what)
                return
            head += handle.read(_CHUNK - 2)
    except OSError as exc:
        raise JobError("LOAD_FAILED", "%s: cannot read %s: %s" % (path, what, exc.strerror or exc), path)
    _check_text(head, path, what)


def _check_text(start, path, what):
    if b"\0" in start[:_CHUNK]:
        raise JobError("LOAD_FAILED", "%s: not a %s (binary data)" % (path, what), path)


def _check_inflated(handle, path, what):
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    first = True
    while True:
        data = handle.read(_CHUNK)
        if not data:
            return
        while data:
            try:
                out = inflater.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise JobError("LOAD_FAILED", "%s: not a readable gzip file (%s)" % (path, exc), path)
            if first and out:
                _check_text(out, path, what)  # a bomb of zeros stops here, after one chunk
                first = False
            total += len(out)
            if total > MAX_INFLATED:
                raise JobError("LOAD_FAILED", "%s: inflates to more than %d MB; refused as a %s" % (path, MAX_INFLATED // (1024 * 1024), what), path)
            data = inflater.unconsumed_tail
            if inflater.eof:
                # Concatenated gzip members: start over on the next; anything else is padding.
                data = inflater.unused_data
                if not data.startswith(b"\x1f\x8b"):
                    return
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
