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
    try:
        request = json.loads(line.decode("utf-8"))
    except ValueError as exc:
        return {"id": None, "ok": False, "error": {"code": "BAD_REQUEST", "message": "not JSON: %s" % exc}}
    if not isinstance(request, dict):
        return {"id": None, "ok": False, "error": {"code": "BAD_REQUEST", "message": "a request must be a JSON object"}}
    return run(request.get("id"), lambda: handle(request))


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
