"""SetCover's shaped draw and its redraw test, compiled by numba: from the draw's numpy values,
the instance of ``rlvr.generators.set_cover.draw_shaped`` (partition, borrowing, traps, shadows,
uniform rows, final order), then ``rarity_bitsets``, the decision of ``rule_reaches`` (the
rarest-element greedy, the covers of the planted size listed by branching on the rarest
element, the start-anywhere rules followed from their subsets) and ``bitset_greedy``, in one
call per draw.

Why by hand: a shaped instance is a few dozen subsets of at most 40 elements by default, and the
Python path spends its time on many tiny list and bitset operations (about 0.09 ms a draw at
d = 0.5 and 0.2 ms at d = 1, ~2 draws a task at d = 0.5; here 0.016 and 0.05 ms, the numpy draws
included); no library does this work at that size without the same per-call costs. Here the
bitsets are uint64 (subsets over elements, and covers over subset indices), so the path serves
instances of at most 64 elements and 64 subsets; the generator keeps the Python path for larger
explicit parameters. The numpy draws stay in Python, in the Python path's order (a permutation
of the elements, one key per row and element, a permutation of the blocks and one of the rows),
so the generator's stream, the instance and the decision are the same
(tests/test_set_cover_planting.py compares them draw by draw). Where the cover listing gives up
(a smaller cover, or out of branches) the caller tests every start with ``every_start_reaches``,
as the Python path does. One module, because numba's cache does not notice a change in another
file's compiled function that a cached one calls. Compiled once per installation and cached like
``rlvr.generators.job_shop_solver`` (``warm_up``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

KEEP = 0  # no rule the redraw rejects reaches the planted count: keep the draw
REACHES = 1  # some rule does: draw again
EVERY_START = 2  # the cover listing gave up (a smaller cover, or out of branches): test every start
UNCOVERED = 3  # the subsets do not cover the universe
WORD_BITS = 64  # the most elements, and subsets, of an instance here (uint64 bitsets)


def shaped_draw(
    nprng: np.random.Generator,
    elements: int,
    planted_count: int,
    overlap: int,
    traps: int,
    shadows: int,
    uniform_lengths: np.ndarray,
    reserve: int,
    nodes: int,
) -> tuple[int, list[list[int]], list[int], list[int]]:
    """One shaped draw from ``nprng`` and its redraw test: (the outcome — ``KEEP``, ``REACHES``,
    ``EVERY_START`` or ``UNCOVERED`` —, the subsets with their elements sorted, the planted
    blocks' positions, the most-new-elements greedy's sorted cover, empty when ``UNCOVERED``).
    The arguments are ``draw_shaped``'s layout (``set_cover.shaped_layout``): ``overlap``
    elements borrowed per block, ``traps`` and ``shadows``, the lengths of the uniform rows
    (int64; shadow bases, uniform decoys, random subsets), ``reserve`` (``RESERVE``) and the
    listing's branch budget (``COVER_SEARCH_NODES``). At most ``WORD_BITS`` elements and
    subsets."""
    count = planted_count + traps + shadows + uniform_lengths.shape[0]
    perm = nprng.permutation(elements)
    keys = nprng.random((count + traps + shadows, elements))
    owners = nprng.permutation(planted_count)
    order = nprng.permutation(count)
    packed = _shaped_draw(
        perm, keys, owners, order, planted_count, overlap, traps, shadows, uniform_lengths, reserve, nodes
    ).tolist()
    # the outcome, the row bounds (count + 1), the planted positions, the greedy's size and cover, the rows
    bounds = packed[1 : count + 2]
    greedy_at = count + 2 + planted_count
    return (
        packed[0],
        [packed[a:b] for a, b in zip(bounds, bounds[1:])],
        packed[count + 2 : greedy_at],
        packed[greedy_at + 1 : greedy_at + 1 + packed[greedy_at]],
    )


def warm_up() -> None:
    """Compile the routine now, or load it from numba's cache (``scripts/setup.sh``), for the
    read-only lengths that ``set_cover.shaped_layout`` passes."""
    lengths = np.array([5, 2], np.int64)
    lengths.flags.writeable = False
    shaped_draw(np.random.default_rng(0), 12, 3, 1, 3, 1, lengths, 2, 64)


@njit(cache=True, nogil=True)
def _popcount(x):
    """The set bits of a uint64."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, nogil=True)
def _lowest(x):
    """The index of the lowest set bit of a non-zero uint64."""
    return _popcount((x & (~x + np.uint64(1))) - np.uint64(1))


@njit(cache=True, nogil=True)
def _bit(index):
    return np.uint64(1) << np.uint64(index)


@njit(cache=True, nogil=True)
def _appended(covers, size, cover):
    """``covers`` (``size`` used) with ``cover`` added, grown when full."""
    if size == covers.shape[0]:
        grown = np.empty(2 * size, np.uint64)
        grown[:size] = covers
        covers = grown
    covers[size] = cover
    return covers


@njit(cache=True, nogil=True)
def _shaped_draw(perm, keys, owners, order, planted, overlap, traps, shadows, uniform_lengths, reserve, nodes):
    """The packed outcome, rows and greedy cover of ``shaped_draw`` (``draw_shaped``'s steps on
    its draws: ``perm`` the partition, ``keys`` one per row and element, ``owners`` the trap
    owners, ``order`` the rows' final order)."""
    elements = perm.shape[0]
    count = order.shape[0]
    uniform = planted + traps + shadows  # the first uniform row
    full = ~np.uint64(0) if elements == 64 else _bit(elements) - np.uint64(1)
    # each row's elements by key (an insertion sort, stable: equal keys by element)
    by_key = np.empty(keys.shape, np.int64)
    sorted_keys = np.empty(elements)
    for r in range(keys.shape[0]):
        for e in range(elements):
            key = keys[r, e]
            k = e
            while k > 0 and sorted_keys[k - 1] > key:
                sorted_keys[k] = sorted_keys[k - 1]
                by_key[r, k] = by_key[r, k - 1]
                k -= 1
            sorted_keys[k] = key
            by_key[r, k] = e
    # the partition (numpy's array_split sizes) and the borrowing
    small = elements // planted
    larger = elements - small * planted
    rows = np.zeros(count, np.uint64)  # in draw order, as bitsets of the elements
    part_of = np.empty(elements, np.int64)
    start = 0
    for i in range(planted):
        size = small + 1 if i < larger else small
        for k in range(start, start + size):
            part_of[perm[k]] = i
            rows[i] |= _bit(perm[k])
        start += size
    borrowed = np.zeros(elements, np.bool_)
    if overlap:
        for i in range(planted):
            taken = 0
            for k in range(elements):
                if taken == overlap:
                    break
                e = by_key[i, k]
                if part_of[e] != i and not borrowed[e]:
                    borrowed[e] = True
                    rows[i] |= _bit(e)
                    taken += 1
    # a trap's size: one more than any other block has beyond its own
    reach = np.zeros(planted, np.int64)
    for i in range(planted):
        for j in range(planted):
            reach[i] = max(reach[i], _popcount(rows[j] & ~rows[i]))
        reach[i] += 1
    for u in range(uniform_lengths.shape[0]):
        r = uniform + u
        for k in range(min(uniform_lengths[u], elements)):
            rows[r] |= _bit(by_key[r, k])
    outside = np.empty(traps + shadows, np.uint64)
    lengths = np.empty(traps + shadows, np.int64)
    for t in range(traps):
        outside[t] = full & ~rows[owners[t]]
        lengths[t] = reach[owners[t]]
    for s in range(shadows):
        outside[traps + s] = full & ~rows[uniform + s]
        lengths[traps + s] = reach.max()
    spare = reserve
    for t in range(traps):
        spare = min(spare, (_popcount(outside[t]) - lengths[t]) // (planted - 1))
    spare = max(0, spare)
    if spare and traps:
        left = np.empty(planted, np.int64)
        for t in range(traps):  # the lone elements of each other block with the smallest keys
            left[:] = spare
            left[owners[t]] = 0
            wanted = spare * (planted - 1)
            for k in range(elements):
                e = by_key[count + t, k]
                if left[part_of[e]] and not borrowed[e]:
                    outside[t] &= ~_bit(e)
                    left[part_of[e]] -= 1
                    wanted -= 1
                    if not wanted:
                        break
        for s in range(traps, traps + shadows):
            kept = 0
            for k in range(elements):
                if kept == spare * (planted - 1):
                    break
                e = by_key[count + s, k]
                if outside[s] & _bit(e):
                    outside[s] &= ~_bit(e)
                    kept += 1
    for t in range(traps + shadows):
        r = planted + t
        taken = 0
        for k in range(elements):
            if taken == lengths[t]:
                break
            e = by_key[r, k]
            if outside[t] & _bit(e):
                rows[r] |= _bit(e)
                taken += 1
    # the final order, and the elements renumbered by rarity (fewest subsets, then the lower)
    subsets = np.empty(count, np.uint64)
    frequency = np.zeros(elements, np.int64)
    for j in range(count):
        subsets[j] = rows[order[j]]
        rest = subsets[j]
        while rest:
            frequency[_lowest(rest)] += 1
            rest &= rest - np.uint64(1)
    rank_of = np.empty(elements, np.int64)
    rank_of[np.argsort(frequency, kind="mergesort")] = np.arange(elements)
    masks = np.zeros(count, np.uint64)
    holders = np.zeros(elements, np.uint64)  # the subsets holding each renumbered element
    for j in range(count):
        rest = subsets[j]
        while rest:
            rank = rank_of[_lowest(rest)]
            rest &= rest - np.uint64(1)
            masks[j] |= _bit(rank)
            holders[rank] |= _bit(j)
    outcome = _rule_outcome(masks, holders, full, planted, nodes)
    # packed: the outcome, the row bounds, the planted positions, the greedy cover, the rows
    greedy = _greedy(masks, full)
    greedy_size = _popcount(greedy)
    rows_at = 1 + count + 1 + planted + 1 + greedy_size
    size = rows_at
    for j in range(count):
        size += _popcount(subsets[j])
    packed = np.empty(size, np.int64)
    packed[0] = outcome
    at = rows_at
    for j in range(count):
        packed[1 + j] = at
        rest = subsets[j]
        while rest:
            packed[at] = _lowest(rest)
            rest &= rest - np.uint64(1)
            at += 1
    packed[1 + count] = at
    at = count + 2
    for j in range(count):
        if order[j] < planted:
            packed[at] = j
            at += 1
    packed[at] = greedy_size
    at += 1
    for j in range(count):
        if greedy & _bit(j):
            packed[at] = j
            at += 1
    return packed


@njit(cache=True, nogil=True)
def _greedy(masks, full):
    """``bitset_greedy``'s cover as a bitset of subset indices (none when the subsets do not
    cover the universe)."""
    uncovered = full
    chosen = np.uint64(0)
    while uncovered:
        best, gain = 0, -1
        for j in range(masks.shape[0]):
            new = _popcount(masks[j] & uncovered)
            if new > gain:
                best, gain = j, new
        if not gain:
            return np.uint64(0)
        chosen |= _bit(best)
        uncovered &= ~masks[best]
    return chosen


@njit(cache=True, nogil=True)
def _rule_outcome(masks, holders, full, target, nodes):
    """``rule_reaches``' decision (``REACHES`` or ``KEEP``), or ``EVERY_START`` where it tests
    every start, or ``UNCOVERED``: ``masks`` the subsets over the elements renumbered by
    rarity, ``holders`` the subsets holding each renumbered element."""
    uncovered = full
    for _ in range(target):  # the rarest-element greedy, at most ``target`` picks
        best, gain = -1, -1
        rest = holders[_lowest(uncovered)]
        while rest:
            j = _lowest(rest)
            rest &= rest - np.uint64(1)
            new = _popcount(masks[j] & uncovered)
            if new > gain:
                best, gain = j, new
        if best < 0:
            return UNCOVERED
        uncovered &= ~masks[best]
        if not uncovered:
            return REACHES
    count = masks.shape[0]
    missed = np.empty(count, np.uint64)  # what each subset leaves out
    sizes = np.empty(count, np.int64)
    for j in range(count):
        missed[j] = full ^ masks[j]
        sizes[j] = _popcount(masks[j])
    largest = sizes.max()
    # the covers of exactly ``target`` subsets (bitsets of subset indices), depth first on the
    # rarest uncovered element; each level: what is left, the subsets chosen, the holders to try
    covers = np.empty(64, np.uint64)
    found = 0
    budget = nodes
    rests = np.empty(target, np.uint64)
    chosens = np.empty(target, np.uint64)
    tries = np.empty(target, np.uint64)
    depth = 0
    rests[0], chosens[0], tries[0] = full, np.uint64(0), holders[0]
    while depth >= 0:
        if not tries[depth]:  # this level's holders are done
            if budget < 0:
                return EVERY_START
            depth -= 1
            continue
        j = _lowest(tries[depth])
        tries[depth] &= tries[depth] - np.uint64(1)
        room = target - depth
        left = rests[depth] & missed[j]
        if not left:
            if room > 1:  # a cover by fewer subsets
                return EVERY_START
            covers = _appended(covers, found, chosens[depth] | _bit(j))
            found += 1
        elif room == 2 and _popcount(left) <= largest:  # the last subset holds all that is left
            budget -= 1
            rest = holders[_lowest(left)]
            while rest:
                last = _lowest(rest)
                rest &= rest - np.uint64(1)
                if not (left & missed[last]):
                    covers = _appended(covers, found, chosens[depth] | _bit(j) | _bit(last))
                    found += 1
        elif room > 2:
            budget -= 1
            if budget < 0:
                return EVERY_START
            depth += 1
            rests[depth], chosens[depth], tries[depth] = left, chosens[depth - 1] | _bit(j), holders[_lowest(left)]
    # the start-anywhere rules, from the subsets of a listed cover, while their picks stay in one
    by_size = np.empty(count, np.int64)  # largest first, ties to the lower index
    for j in range(count):
        k = j
        while k > 0 and sizes[by_size[k - 1]] < sizes[j]:
            by_size[k] = by_size[k - 1]
            k -= 1
        by_size[k] = j
    starts = np.uint64(0)
    for c in range(found):
        starts |= covers[c]
    while starts:
        first = _lowest(starts)
        starts &= starts - np.uint64(1)
        for phase in range(2):
            disjoint = phase == 1
            chosen, covered = _bit(first), masks[first]
            if covered == full:
                return REACHES
            for _ in range(target - 1):
                allowed = np.uint64(0)  # the subsets that keep the picks inside a listed cover
                for c in range(found):
                    if not (chosen & ~covers[c]):
                        allowed |= covers[c]
                allowed &= ~chosen
                if not allowed:
                    break
                best = -1
                if disjoint:  # the largest non-empty subset disjoint from what is covered
                    for j in by_size:
                        if masks[j] and not (masks[j] & covered):
                            best = j
                            break
                    disjoint = best >= 0
                if best < 0:  # most new elements, ties to the lower index: the best allowed, if none beats it
                    uncovered, gain = full & ~covered, -1
                    rest = allowed
                    while rest:  # in index order
                        j = _lowest(rest)
                        rest &= rest - np.uint64(1)
                        new = _popcount(masks[j] & uncovered)
                        if new > gain:
                            best, gain = j, new
                    for j in by_size:
                        if sizes[j] < gain:
                            break
                        new = _popcount(masks[j] & uncovered)
                        if new > gain or (new == gain and j < best):
                            best = -1
                            break
                if best < 0 or not (allowed & _bit(best)):
                    break
                chosen |= _bit(best)
                covered |= masks[best]
                if covered == full:
                    return REACHES
    return KEEP
