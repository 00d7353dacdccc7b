"""Checks on the files a request names, made before KLayout touches them, in milliseconds on the
GUI thread: KLayout reads on that thread, so whatever it is given must be bounded first.

- Only regular files: a FIFO or a device would block the window on open or read forever.
- Layouts: the head (inflated, when gzip-compressed) must be a format KLayout reads. A file of
  zeros would otherwise keep every reader's format detection scanning it for many seconds.
- Side files (marker databases, layer properties, netlists): see lyipc_side_files.
- Screenshot targets: a regular file that is a PNG already, or nothing yet."""

import errno
import os
import stat
import zlib

from lyipc_errors import JobError

HEAD = 64 * 1024  # bytes of a layout's (inflated) head that decide its format
_CHUNK = 1024 * 1024

# Format signatures at offset 0 (KLayout's readers detect them the same way).
BINARY_SIGNATURES = (
    b"\x00\x06\x00\x02",  # GDSII: the HEADER record
    b"%SEMI-OASIS",  # OASIS
    b"LStream_1.0",  # KLayout 0.30's own format
    b"AutoCAD Binary DXF",
)


class TooLarge(JobError):
    def __init__(self, message, path):
        JobError.__init__(self, "TOO_LARGE", message, path)


def _describe(mode):
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def regular_file(path, what="file"):
    """FILE_NOT_FOUND unless `path` is an existing regular file (symlinks followed); returns its
    size. Never opens it."""
    if not isinstance(path, str) or not path or "\0" in path:
        raise JobError("BAD_REQUEST", "%s: expected a path, got %r" % (what, path))
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise JobError("FILE_NOT_FOUND", "%s: no such file on the viewer's machine" % path, path)
        raise JobError("FILE_NOT_FOUND", "%s: cannot reach the %s on the viewer's machine: %s" % (path, what, exc.strerror or exc), path)
    if not stat.S_ISREG(info.st_mode):
        raise JobError("FILE_NOT_FOUND", "%s: %s, not a %s; only regular files are read" % (path, _describe(info.st_mode), what), path)
    return info.st_size


def open_regular(path, what):
    """A file object for reading a regular file. O_NONBLOCK: if the path became a FIFO since it
    was checked, opening it does not wait for a writer, and fstat refuses it."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise JobError("LOAD_FAILED", "%s: cannot read the %s: %s" % (path, what, exc.strerror or exc), path)
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise JobError("FILE_NOT_FOUND", "%s: not a regular file; only regular files are read" % path, path)
    return os.fdopen(handle, "rb")


def _inflated_head(handle, limit):
    """Up to `limit` bytes of a gzip stream's content, reading at most a bounded input."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = b""
    read = 0
    while len(out) < limit and read < 16 * _CHUNK:
        data = handle.read(_CHUNK)
        if not data:
            break
        read += len(data)
        out += inflater.decompress(data, limit - len(out))
        while inflater.unconsumed_tail and len(out) < limit:
            out += inflater.decompress(inflater.unconsumed_tail, limit - len(out))
        if inflater.eof:
            break
    return out


def check_layout(path, what="layout"):
    """LOAD_FAILED unless `path` is a regular file whose head is a layout format KLayout reads:
    a known binary signature, or text (CIF, DXF, GDS2 text, LEF/DEF, MAG, ...) with a line
    break in its first 64 KiB."""
    regular_file(path, what)
    with open_regular(path, what) as handle:
        try:
            head = handle.read(HEAD)
            if head.startswith(b"\x1f\x8b"):
                handle.seek(0)
                head = _inflated_head(handle, HEAD)
        except (OSError, zlib.error) as exc:
            raise JobError("LOAD_FAILED", "%s: cannot read the %s: %s" % (path, what, exc), path)
    if not head:
        raise JobError("LOAD_FAILED", "%s: empty file, not a %s" % (path, what), path)
    if any(head.startswith(signature) for signature in BINARY_SIGNATURES):
        return
    if b"\0" in head:
        raise JobError("LOAD_FAILED", "%s: not a %s format KLayout reads (binary data with no known signature)" % (path, what), path)
    if len(head) >= HEAD and b"\n" not in head and b"\r" not in head:
        raise JobError("LOAD_FAILED", "%s: not a %s format KLayout reads (no line break in its first %d KiB)" % (path, what, HEAD // 1024), path)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_picture_target(path):
    """BAD_REQUEST unless a PNG may be written to `path`: absolute, in an existing folder, and
    either nothing there yet or a regular file that is a PNG already (a picture is replaced,
    nothing else is ever overwritten: not a layout, not a FIFO that would block the window)."""
    if not os.path.isabs(path):
        raise JobError("BAD_REQUEST", "screenshot: path must be absolute (the viewer's working folder is not the client's), got %r" % path)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise JobError("WRITE_ERROR", "%s: cannot write the screenshot: no folder %s" % (path, folder), path)
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return
        raise JobError("WRITE_ERROR", "%s: cannot write the screenshot: %s" % (path, exc.strerror or exc), path)
    if not stat.S_ISREG(info.st_mode):
        raise JobError("BAD_REQUEST", "screenshot: %s is %s; a screenshot is written to a new file or over a PNG only" % (path, _describe(info.st_mode)), path)
    try:
        with open_regular(path, "file") as handle:
            head = handle.read(len(PNG_SIGNATURE))
    except JobError:
        head = b""
    if info.st_size and head != PNG_SIGNATURE:
        raise JobError("BAD_REQUEST", "screenshot: %s exists and is not a PNG picture; refusing to overwrite it" % path, path)
