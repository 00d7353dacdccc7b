"""What each v2 method accepts, checked before the viewer is touched: a caller's wrong type is
BAD_REQUEST naming the parameter, never a Python error deep in KLayout's API (INTERNAL is for
bugs). Unknown parameters are ignored, so newer clients still talk to older servers."""

import math

from lyipc_errors import JobError

# A coordinate in µm: KLayout's 32-bit database units reach 2.1e9 µm at most (dbu 1 µm).
MAX_COORDINATE = 2.0e9


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_box(value):
    """[left, bottom, right, top]: finite, ordered, within what a layout can hold."""
    if not (isinstance(value, list) and len(value) == 4 and all(_is_number(x) for x in value)):
        return False
    if not all(math.isfinite(x) and abs(x) <= MAX_COORDINATE for x in value):
        return False
    return value[0] <= value[2] and value[1] <= value[3]


# kind -> (test, what a good value looks like)
KINDS = {
    "path": (lambda v: isinstance(v, str) and v != "", "a non-empty string (a file path)"),
    "string": (lambda v: isinstance(v, str), "a string"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "index": (lambda v: _is_int(v) and v >= 0, "an index (an integer >= 0)"),
    "pixels": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "size": (lambda v: _is_int(v) and v > 0, "a byte count (a positive integer)"),
    "box": (_is_box, "[left, bottom, right, top] in µm: finite, left <= right, bottom <= top, within ±2e9"),
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
    "screenshot": {"width": "pixels", "height": "pixels", "view": "index", "path": "path", "window": "bool"},
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
