"""A GDS file's copy without its context cell, for a KLayout that cannot read the cell's meta data.

KLayout writes PCell and library links and, from 0.29 on, layout meta data into a first
structure named `$$$CONTEXT_INFO$$$`. That cell holds no geometry: the PCell and library
cells themselves follow with their shapes. KLayout 0.28's reader refuses the element 0.29 adds
to it, a BOUNDARY carrying the layout's meta data (KLayout/klayout, dbGDS2WriterBase.cc at
v0.30.0, write_context_cell): "Invalid record inside a context info cell" (dbGDS2ReaderBase.cc
at v0.28.5, read_context_info_cell, line 450). It treats that name specially only in the first
structure (do_read, line 283), so dropping the first structure when it is the context cell is
enough. The copy is streamed: records up to that cell's end one by one, the rest in chunks,
so memory stays small whatever the file's size. The user's file is only read."""

import gzip
import os
import shutil
import struct
import tempfile
import zlib

import pya

from lyipc_scratch import CONTEXT_COPIES, scratch_folder

# What KLayout before 0.29 says about the meta data 0.29 and later write into the context cell
# (the BOUNDARY element it refuses there). Other reader errors are not about the context.
NEWER_WRITER_MESSAGES = ("Invalid record inside a context info cell",)
# The first KLayout that reads that meta data.
META_READER = (0, 29)
# What a result says of a file read without its context cell.
CONTEXT_SKIPPED = "context meta data skipped: written by a newer KLayout"

CONTEXT_CELL = b"$$$CONTEXT_INFO$$$"
BGNSTR, STRNAME, ENDSTR, ENDLIB = 0x05, 0x06, 0x07, 0x04
CHUNK = 1024 * 1024


class BrokenStream(Exception):
    """The records before the context cell's end are not GDSII: the message says where."""


def klayout_version():
    return pya.Application.instance().version().split()[-1]


def version_tuple(text):
    parts = []
    for part in text.split("."):
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def cannot_read_meta(message):
    """True when KLayout's reader error says the running KLayout (older than 0.29) met the meta
    data a newer one wrote into the context cell. On 0.29 and later the same text means a
    context cell broken in another way: a read error like any other."""
    return version_tuple(klayout_version()) < META_READER and any(text in message for text in NEWER_WRITER_MESSAGES)


def read_skipping_context(path, read):
    """read(copy) on a copy of `path` without its context cell, the copy removed afterwards
    (the layout is in memory by then). Raises BrokenStream, OSError, or what `read` raises."""
    folder, copy = without_context_cell(path)
    try:
        return read(copy)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def is_gzip(path):
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def read_record(source, position):
    """(type, header + payload) of the next record, or None at the end of the stream."""
    head = source.read(4)
    if not head:
        return None
    if len(head) < 4:
        raise BrokenStream("the file ends inside a record header at byte %d" % position)
    length, kind = struct.unpack(">HB", head[:3])
    if length < 4:
        raise BrokenStream("a record at byte %d claims a length of %d bytes" % (position, length))
    payload = source.read(length - 4)
    if len(payload) < length - 4:
        raise BrokenStream("the file ends inside a record at byte %d" % position)
    return kind, head + payload


def copy_without_context(source, target, tick=None):
    """Copies the GDSII stream `source` to `target` without its first structure when that is the
    context cell. False, with the copy left unfinished, when the first structure is another one
    (there is nothing to drop: the copy would be the file). `tick()`, if given, is called after
    each chunk of the rest (the viewer lets its window answer meanwhile)."""
    position = 0
    while True:
        found = read_record(source, position)
        if found is None or found[0] == ENDLIB:
            return False
        kind, data = found
        position += len(data)
        if kind == BGNSTR:
            break
        target.write(data)
    name = read_record(source, position)
    if name is None:
        raise BrokenStream("the file ends after a BGNSTR record at byte %d" % position)
    if name[0] != STRNAME or name[1][4:].rstrip(b"\0") != CONTEXT_CELL:
        return False
    position += len(name[1])
    while True:
        found = read_record(source, position)
        if found is None:
            raise BrokenStream("the file ends inside the context cell at byte %d" % position)
        position += len(found[1])
        if found[0] == ENDSTR:
            break
    if tick is None:
        shutil.copyfileobj(source, target, CHUNK)
        return True
    chunk = source.read(CHUNK)
    while chunk:
        target.write(chunk)
        tick()
        chunk = source.read(CHUNK)
    return True


def without_context_cell(path, parent=None, tick=None):
    """(folder, copy): a new private folder (in `parent`, else the temp folder) holding `path`
    without its context cell (gzipped like the original, at the fastest level, so that the copy
    takes about the original's room).
    `tick` as for copy_without_context. The caller removes the folder. Raises BrokenStream (also when there is no context cell to
    drop: the copy would fail as the original did) or OSError."""
    # In the caller's folder (the viewer's, named and swept like this one), else one of this KLayout's own.
    folder = tempfile.mkdtemp(prefix=CONTEXT_COPIES, dir=parent) if parent else scratch_folder(CONTEXT_COPIES)
    try:
        compressed = is_gzip(path)
        copy = os.path.join(folder, "layout.gds.gz" if compressed else "layout.gds")
        opener = gzip.open if compressed else open
        try:
            with opener(path, "rb") as source:
                target = gzip.open(copy, "wb", compresslevel=1) if compressed else open(copy, "wb")
                with target:
                    dropped = copy_without_context(source, target, tick)
        except (EOFError, zlib.error) as exc:  # gzip data cut short or corrupt
            raise BrokenStream("gzip data: %s" % exc)
        if not dropped:
            raise BrokenStream("its first structure is not the context cell: there is nothing to leave out")
        return folder, copy
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
