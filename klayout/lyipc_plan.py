"""auto mode's plan for each layer: nothing to XOR (`structural`), an XOR only in windows
around the changes (`windowed`), or a full XOR (`fallback` says why).

A layer is skipped only on proof: LayoutDiff compared every cell of both trees, paired one to
one with the tops paired with each other (lyipc_structure), found no change on the layer, and
the flat shape counts and extents of both layers, computed here apart from the diff, agree."""

from lyipc_structure import Changes, structural_changes
from lyipc_windows import Fallback, changes_look_local, layer_windows

# A structural diff costs about as much as a flat XOR of this many shapes (measured on real
# layouts: LayoutDiff, its Python events and the windows' set-up); below it, auto XORs in full.
STRUCTURE_MIN_FLAT = 20000
# Shapes are a poor measure of an XOR's cost on curved geometry, where one polygon holds
# hundreds of points: from this many bytes of input (both files), at this many bytes per cell,
# the diff pays anyway (measured on 450 real pairs: photonic designs of 0.1-2 MB, 3-80 kB per
# cell, took 0.3-1.3 s to XOR in full and 0.01 s when the diff proved them unchanged; routing
# references of 0.3-0.6 MB in 600 cells of under 1.2 kB XOR in 0.1 s, less than pairing their
# cells costs).
STRUCTURE_MIN_BYTES = 50000
STRUCTURE_MIN_BYTES_PER_CELL = 2000
# Layers whose flat shape counts differ by more than this share differ almost everywhere: the
# structural diff cannot save their XOR (measured on real pairs of DRC results with millions of
# shapes, where it only added its own cost to the full XOR's).
NEAR_COUNT_SHARE = 0.2


def structure_pays(choice, counts, pairs, input_bytes, cells):
    """Whether to run the structural diff (`choice`: auto, always, never). In auto, only when
    it can save more than it costs: the layers it could spare an XOR (present on both sides,
    with shape counts within NEAR_COUNT_SHARE of each other) must hold some shapes, and either
    at least STRUCTURE_MIN_FLAT of them or inputs of at least STRUCTURE_MIN_BYTES with at least
    STRUCTURE_MIN_BYTES_PER_CELL per cell (`cells`: below the tops, both sides). Never when no
    pair of top cells has both sides."""
    if choice == "never" or not any(ca is not None and cb is not None for ca, cb in pairs):
        return False
    if choice == "always":
        return True
    near = sum(c["flatA"] + c["flatB"] for c in counts.values()
               if c["flatA"] and c["flatB"] and abs(c["flatA"] - c["flatB"]) <= NEAR_COUNT_SHARE * max(c["flatA"], c["flatB"]))
    heavy = input_bytes >= STRUCTURE_MIN_BYTES and input_bytes >= STRUCTURE_MIN_BYTES_PER_CELL * max(1, cells)
    return near > 0 and (near >= STRUCTURE_MIN_FLAT or heavy)


def structural_changes_of(pairs, side_a, side_b, clean_dbu):
    """Changes per top-cell pair (None for a top cell without partner)."""
    found = []
    for ca, cb in pairs:
        if ca is None or cb is None:
            found.append(None)  # an unmatched top cell: all its geometry is a difference
            continue
        dbu_a, dbu_b = clean_dbu(side_a.layout.dbu), clean_dbu(side_b.layout.dbu)
        if dbu_a != dbu_b:
            # LayoutDiff compares raw coordinates; on two grids nothing can be concluded.
            changes = Changes()
            changes.blocker = "the database units differ (%g and %g um)" % (dbu_a, dbu_b)
            found.append(changes)
            continue
        placements = side_a.total_placements(ca) + side_b.total_placements(cb)
        found.append(structural_changes(ca, cb, changes_look_local(ca, cb, side_a, side_b), placements))
    return found


def full(reason, hierarchical=False):
    """A full XOR; deep mode is considered only for a change in a cell placed very often
    (elsewhere, measured on real layouts, it cost up to 20x a flat XOR)."""
    return {"mode": None, "fallback": reason, "deepWorthTrying": hierarchical}


def plan_layer(key, counts, pairs, side_a, side_b, changes):
    """How auto compares one layer present on both sides (see the module docstring)."""
    windows = []
    for (ca, cb), pair in zip(pairs, changes):
        if pair is None:
            return full("top cell %s has no partner" % (ca or cb).name)
        if pair.blocker:
            return full(pair.blocker)
        if key in pair.one_sided_layers:
            return full("the layer exists in one layout only")
        try:
            windows.append(layer_windows(key, pair, side_a, side_b, ca, cb, counts["flatA"] + counts["flatB"]))
        except Fallback as exc:
            return full(str(exc), exc.hierarchical)
    count = sum(w.count() for w in windows)
    if count == 0:
        disagreement = invariant_disagreement(key, counts, pairs, side_a, side_b)
        if disagreement:
            return full("the structural diff found no change, but %s: XOR to be sure" % disagreement)
        return {"mode": "structural", "reason": "LayoutDiff found the same shapes in every cell and the same instances"}
    cells = sum(len(p.cells) for p in changes)
    return {"mode": "windowed", "windows": windows,
            "reason": "LayoutDiff found changes in %s; XOR only in %s around them" % (plural(cells, "cell"), plural(count, "window"))}


def invariant_disagreement(key, counts, pairs, side_a, side_b):
    """What contradicts "both flattened layers are the same", from figures the diff did not
    make: flat shape counts and the layer's extent under each pair of tops; None if nothing."""
    if counts["flatA"] != counts["flatB"]:
        return "the layer has %d shapes in A and %d in B" % (counts["flatA"], counts["flatB"])
    for ca, cb in pairs:
        box_a, box_b = extent(side_a, ca, key), extent(side_b, cb, key)
        if box_a != box_b:
            return "its extent is %s in A and %s in B" % (box_a, box_b)
    return None


def extent(side, top, key):
    li = side.layer_index(key)
    if top is None or li is None:
        return None
    return top.bbox_per_layer(li).transformed(side.trans)


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")
