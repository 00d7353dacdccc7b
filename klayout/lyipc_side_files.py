"""Bounds on the side files a request names (marker databases, layer properties, netlists),
checked before KLayout reads them. KLayout reads them on the GUI thread, all at once, so the
densest file within these bounds must stay well under a second there. Measured in the GUI of
KLayout 0.28.5 (2 cores), the costs that set them:

- text: ~30 ns a byte for whitespace and plain text, ~70 ns for numbers (polygon points);
- XML elements: ~0.5 µs each, whatever their name (an unknown one costs as much as an item);
- empty or same-named cells in a marker database: quadratic (20 000: 0.3 s; 4.8M: 89 s);
- nesting: KLayout's XML reader recurses per level and crashes (SIGSEGV) at 20 000-40 000;
- entity declarations: a few bytes expand to thousands of elements;
- Calibre's RVE format (ReportDatabase.load reads it too): ~0.7 µs a line; KLayouts after
  0.28 also open `<file>.waived` beside it, where a FIFO would block them;
- netlists: ~1.4 µs per record (a parenthesis) at most;
- layers: each drawn layer costs ~0.3 ms of every redraw (5000 layers: 1.6 s), and a layer's
  name is laid out whole (a name of 2 MB: 1.5 s).

Counts are made with bytes.count over the whole (inflated) file, which it holds in memory: a
few milliseconds for the largest allowed."""

import os
import re
import zlib
from itertools import islice

from lyipc_errors import JobError
from lyipc_files import TooLarge, open_regular, regular_file

_MiB = 1024 * 1024
_CHUNK = _MiB


class SideFile:
    def __init__(self, what, max_bytes, counted=(), longest_text=None):
        self.what = what
        self.max_bytes = max_bytes
        # (element names, the most of them, what they are, an element within which they are
        # something else or None): elements that make costly objects.
        self.counted = counted
        # Bytes of one element's text: a layer's name is laid out whole in the layer list at
        # every redraw (2 MB: 1.5 s).
        self.longest_text = longest_text


SIDE_FILES = {
    # An item's <cell> only names its cell: only the <cell> elements outside <items> make cells.
    "rdb": SideFile("marker database", 8 * _MiB, ((("item",), 50000, "items", None), (("cell",), 10000, "cells", "items"))),
    "lyp": SideFile("layer properties file", 2 * _MiB, ((("properties", "group-members"), 1000, "layers", None),), longest_text=4096),
    "l2n": SideFile("netlist database", 4 * _MiB),
}
MAX_ELEMENTS = 300000
MAX_NESTING = 2000
MAX_SECTIONS = 10000  # comments, CDATA sections, processing instructions
MAX_RVE_LINES = 200000
MAX_L2N_RECORDS = 250000
_LINE_BREAK = re.compile(rb"\r\n?|\n")
_WINDOW = 4096  # bytes per step of the nesting count; its start tags are at most a third of it


def check_side_file(path, kind):
    """For a marker database (`rdb`), layer properties (`lyp`) or netlist (`l2n`): a regular
    text file within its kind's bounds. LOAD_FAILED for binary data, a broken gzip stream or a
    declaration (DOCTYPE); TOO_LARGE beyond a bound: refused in milliseconds instead of holding
    the window for seconds, or crashing KLayout."""
    spec = SIDE_FILES[kind]
    data = _read(path, spec)
    if kind == "l2n":
        _check_l2n_header(path, spec, data)
        _at_most(path, spec, data.count(b"("), MAX_L2N_RECORDS, "records")
        return
    _check_xml(path, spec, data)
    if kind == "rdb" and not _reads_as_xml(data):
        # KLayout takes it for Calibre's RVE format, one record or point per line.
        _at_most(path, spec, _lines(data), MAX_RVE_LINES, "lines")
        waivers = path + ".waived"
        if os.path.lexists(waivers):
            _at_most(waivers, spec, _lines(_read(waivers, spec)), MAX_RVE_LINES, "lines")


# KLayout writes this first line in every netlist database and tells them from LVS databases
# by it. Its reader needs no header and skips words it does not know, so text that is no
# netlist at all reads without an error, as an empty database.
L2N_HEADER = b"#%l2n-klayout"
LVSDB_HEADER = b"#%lvsdb-klayout"


def _check_l2n_header(path, spec, data):
    if data.startswith(L2N_HEADER):
        return
    if data.startswith(LVSDB_HEADER):
        raise JobError("LOAD_FAILED", "%s: an LVS database (%s), not a %s (%s)" % (path, LVSDB_HEADER.decode("ascii"), spec.what, L2N_HEADER.decode("ascii")), path)
    raise JobError("LOAD_FAILED", "%s: not a %s (KLayout writes them with a first line %s)" % (path, spec.what, L2N_HEADER.decode("ascii")), path)


def _at_most(path, spec, found, limit, what):
    if found > limit:
        raise TooLarge("%s: more than %d %s; refused as a %s" % (path, limit, what, spec.what), path)


def _read(path, spec):
    """The file's text, inflated when gzip-compressed: TOO_LARGE past the kind's byte limit."""
    size = regular_file(path, spec.what)
    limit = spec.max_bytes
    with open_regular(path, spec.what) as handle:
        try:
            if handle.read(2) == b"\x1f\x8b":
                handle.seek(0)
                chunks = _gzip_chunks(handle, path, limit)
            else:
                if size > limit:
                    raise TooLarge("%s: %s MB, more than the %d MB a %s may have here" % (path, _megabytes(size), limit // _MiB, spec.what), path)
                handle.seek(0)
                chunks = iter(lambda: handle.read(_CHUNK), b"")
            parts = []
            total = 0
            for chunk in chunks:
                if not parts and b"\0" in chunk:
                    raise JobError("LOAD_FAILED", "%s: not a %s (binary data)" % (path, spec.what), path)
                total += len(chunk)
                if total > limit:
                    raise TooLarge("%s: inflates to more than %d MB; refused as a %s" % (path, limit // _MiB, spec.what), path)
                parts.append(chunk)
        except OSError as exc:
            raise JobError("LOAD_FAILED", "%s: cannot read the %s: %s" % (path, spec.what, exc.strerror or exc), path)
    return b"".join(parts)


def _megabytes(size):
    """7.6 (not 7 next to a limit of 2), 26 from 10 MB on."""
    return "%.1f" % (size / _MiB) if size < 10 * _MiB else "%d" % (size // _MiB)


def _gzip_chunks(handle, path, limit):
    """The inflated content in chunks, stopping a little past `limit` (the caller refuses)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    produced = 0
    while produced <= limit:
        data = handle.read(_CHUNK)
        if not data:
            return
        while data and produced <= limit:
            try:
                out = inflater.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise JobError("LOAD_FAILED", "%s: not a readable gzip file (%s)" % (path, exc), path)
            produced += len(out)
            yield out
            data = inflater.unconsumed_tail
            if inflater.eof:
                # Concatenated gzip members: start over on the next; anything else is padding.
                data = inflater.unused_data
                if not data.startswith(b"\x1f\x8b"):
                    return
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)


def _reads_as_xml(data):
    """Whether ReportDatabase.load reads it as its own XML format: "<report-database>" in its
    first 100 lines (counted here with every line break KLayout might see, so never more)."""
    end = -1
    for _ in range(100):
        end = data.find(b"\n", end + 1)
        if end < 0:
            end = len(data)
            break
    if data.find(b"\r", 0, end) >= 0:
        breaks = list(islice(_LINE_BREAK.finditer(data, 0, end), 100))
        if len(breaks) == 100:
            end = breaks[-1].start()
    return data.find(b"<report-database>", 0, end) >= 0


def _lines(data):
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


# --------------------------------------------------------------------------- XML

_SECTION_ENDS = ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>"))
# An empty element with no attributes: what text cannot fake (it holds no '<').
_EMPTY_TAG = re.compile(rb"<[^\s<>/=\"'!?]+\s*/>")


def _check_xml(path, spec, data):
    """Elements, the costly ones among them, and how deep they nest, all bounded. KLayout's
    reader takes `<item/>`, `<item >`, `<x:item>` for an item alike, so all are counted."""
    text = _markup(path, spec, data)
    tags = text.count(b"<")
    closing = text.count(b"</")
    _at_most(path, spec, tags - closing, MAX_ELEMENTS, "XML elements")
    _at_most(path, spec, closing, MAX_ELEMENTS, "XML end tags")
    for names, limit, what, not_within in spec.counted:
        found = sum(_count_elements(text, name, limit, _outside(text, not_within)) for name in names)
        _at_most(path, spec, found, limit, "%s (%s)" % (what, ", ".join("<%s>" % name for name in names)))
    if spec.longest_text and re.search(rb">[^<]{%d}" % (spec.longest_text + 1), text):
        raise TooLarge("%s: a text longer than %d bytes; refused as a %s" % (path, spec.longest_text, spec.what), path)
    if tags - closing > MAX_NESTING:
        _check_nesting(path, spec, text)


def _markup(path, spec, data):
    """`data` without its comments, CDATA sections and processing instructions (the XML
    declaration): what they hold is no markup, but would count as such. A declaration
    (DOCTYPE, ENTITY) is refused: an entity makes thousands of elements of a few bytes."""
    left = {opening: data.count(opening) for opening in (b"<!", b"<?")}
    if sum(left.values()) > MAX_SECTIONS:
        raise TooLarge("%s: more than %d comments or declarations; refused as a %s" % (path, MAX_SECTIONS, spec.what), path)
    ahead = dict.fromkeys(left, -1)  # the next of each found so far: every byte is searched once
    parts = []
    start = 0
    while True:
        for opening in left:
            if left[opening] and ahead[opening] < start:
                ahead[opening] = data.find(opening, start)
                if ahead[opening] < 0:
                    left[opening] = 0
        found = [ahead[opening] for opening in left if left[opening]]
        if not found:
            break
        at = min(found)
        left[data[at:at + 2]] -= 1
        for opening, closing in _SECTION_ENDS:
            if data.startswith(opening, at):
                end = data.find(closing, at + len(opening))
                if end < 0:
                    raise JobError("LOAD_FAILED", "%s: not a %s (%s... without its %s)" % (path, spec.what, opening.decode("ascii"), closing.decode("ascii")), path)
                break
        else:
            raise JobError("LOAD_FAILED", "%s: %r: declarations are not read in a %s" % (path, data[at:at + 20].decode("utf-8", "replace"), spec.what), path)
        parts.append(data[start:at])
        start = end + len(closing)
    if not parts:
        return data
    parts.append(data[start:])
    return b"".join(parts)


def _count_elements(text, name, limit, spans):
    """Start tags of `name` in the `spans` of `text`, also with a namespace prefix; counting
    stops past `limit`. The ':item>' of an end tag '</x:item>' counts too: more, never fewer.
    (A literal start lets the regular expression skip ahead: 8 MB in milliseconds.)"""
    found = 0
    for before in (b"<", b":"):
        pattern = re.compile(re.escape(before + name.encode("ascii")) + rb"[\s/>]")
        for start, end in spans:
            found += sum(1 for _ in islice(pattern.finditer(text, start, end), limit + 1 - found))
    return found


def _outside(text, name):
    """(start, end) spans of `text` outside the elements `name` (written as KLayout does,
    <name> .. </name>): the whole text when None, or when there are more than a few (then
    everything counts: more, never fewer)."""
    if name is None:
        return [(0, len(text))]
    opening, closing = b"<%s>" % name.encode("ascii"), b"</%s>" % name.encode("ascii")
    if text.count(opening) > 10:
        return [(0, len(text))]
    spans = []
    start = 0
    at = text.find(opening)
    while at >= 0:
        end = text.find(closing, at)
        if end < 0:
            break
        spans.append((start, at))
        start = end + len(closing)
        at = text.find(opening, start)
    spans.append((start, len(text)))
    return spans


def _check_nesting(path, spec, text):
    """TOO_LARGE where elements may nest deeper than MAX_NESTING. Step by step through the
    text, each step ending before a '<' (so it holds whole tags): the depth may rise within a
    step by at most its start tags. Where each '>' ends a tag (no '>' in text or values, as
    KLayout writes), '</' and '/>' are exact; elsewhere only attribute-free '<x/>' counts as
    empty: more depth, never less."""
    depth = 0
    start = 0
    size = len(text)
    while start < size:
        end = size
        whole = True  # the step holds whole tags (not one longer than a step, cut)
        if start + _WINDOW < size:
            cut = text.rfind(b"<", start + 1, start + _WINDOW)
            whole = cut > start
            end = cut if whole else start + _WINDOW
        tags = text.count(b"<", start, end)
        if tags:
            closing = text.count(b"</", start, end)
            if whole and text.count(b">", start, end) == tags:
                empty = text.count(b"/>", start, end)
            else:
                empty = len(_EMPTY_TAG.findall(text, start, end))
            opening = tags - closing - empty
            if depth + opening > MAX_NESTING:
                raise TooLarge("%s: elements nested more than %d deep; refused as a %s" % (path, MAX_NESTING, spec.what), path)
            depth = max(0, depth + opening - closing)
        start = end
