"""Errors reported back with a stable code, and the JSON-lines request/reply framing that the
worker and the viewer server share."""

import json
import traceback


class JobError(Exception):
    """A job could not be done. `code` is stable (see docs/worker-protocol.md); `path` names
    the offending file when there is one."""

    def __init__(self, code, message, path=None, hint=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.path = path
        self.hint = hint

    def to_json(self):
        error = {"code": self.code, "message": self.message}
        if self.path is not None:
            error["path"] = self.path
        if self.hint is not None:
            error["hint"] = self.hint
        return error


def klayout_message(exc):
    """KLayout's exception text without the ' in Layout.read' call-site suffix it appends."""
    text = str(exc).strip()
    for suffix in (" in Layout.read", " in Layout.write"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text


def answer(line, handle):
    """The reply object to one JSON-lines request: `handle(request)` gives the result. A
    JobError becomes its coded error, bad JSON BAD_REQUEST, anything else INTERNAL with the
    traceback, so no request goes unanswered."""
    request = parse(line)
    if isinstance(request, JobError):
        return {"id": None, "ok": False, "error": request.to_json()}
    return run(request.get("id"), lambda: handle(request))


# Arrays and objects one request may nest. Python's parser recurses: on Python 3.11 (KLayout
# 0.28 in Debian 12) it stops near its recursion limit of 1000, on 3.13 (KLayout 0.30 in
# Debian 13) only near 10000 levels. One limit of our own, well below the first, answers
# the same on both; no request of the protocols nests more than a few levels.
MAX_JSON_DEPTH = 512


def nested_deeper_than(value, limit):
    """True when `value` holds more than `limit` levels of arrays and objects (no recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def parse(line):
    """The request object of one JSON line, or a BAD_REQUEST JobError saying what is wrong with
    it: not JSON, nested too deeply (more than MAX_JSON_DEPTH levels), not an object, or an `id`
    that is not a string, a number or null (it is echoed in the reply)."""
    try:
        request = json.loads(line.decode("utf-8"))
    except ValueError as exc:
        return JobError("BAD_REQUEST", "not JSON: %s" % exc)
    except RecursionError:
        return JobError("BAD_REQUEST", "JSON nested too deeply")
    if nested_deeper_than(request, MAX_JSON_DEPTH):
        return JobError("BAD_REQUEST", "JSON nested too deeply")
    if not isinstance(request, dict):
        return JobError("BAD_REQUEST", "a request must be a JSON object")
    if not isinstance(request.get("id"), (str, int, float, type(None))):
        return JobError("BAD_REQUEST", "a request's id must be a string, a number or null")
    return request


def run(request_id, work):
    """The reply object for `work()`, framed as `answer` frames it."""
    try:
        return {"id": request_id, "ok": True, "result": work()}
    except JobError as exc:
        return {"id": request_id, "ok": False, "error": exc.to_json()}
    except ValueError as exc:  # bad numbers in parameters
        return {"id": request_id, "ok": False, "error": {"code": "BAD_REQUEST", "message": str(exc)}}
    except Exception as exc:
        return {
            "id": request_id,
            "ok": False,
            "error": {"code": "INTERNAL", "message": "%s: %s" % (type(exc).__name__, exc), "detail": traceback.format_exc()},
        }


class Later:
    """A result that comes later (a screenshot drawn by a separate KLayout): the server answers
    once `resolve(value or JobError)` is called."""

    def __init__(self):
        self.callbacks = []
        self.done = False
        self.outcome = None

    def then(self, callback):
        if self.done:
            callback(self.outcome)
        else:
            self.callbacks.append(callback)

    def resolve(self, outcome):
        if self.done:
            return
        self.done = True
        self.outcome = outcome
        for callback in self.callbacks:
            callback(outcome)
