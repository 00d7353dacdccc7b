"""Errors that a job reports back to the runner with a stable code."""


class JobError(Exception):
    """A job could not be done. `code` is stable (see docs/worker-protocol.md); `path` names
    the offending file when there is one."""

    def __init__(self, code, message, path=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.path = path

    def to_json(self):
        error = {"code": self.code, "message": self.message}
        if self.path is not None:
            error["path"] = self.path
        return error


def klayout_message(exc):
    """KLayout's exception text without the ' in Layout.read' call-site suffix it appends."""
    text = str(exc).strip()
    for suffix in (" in Layout.read", " in Layout.write"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text
