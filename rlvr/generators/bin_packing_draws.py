"""BinPacking's two-bin plant (d = 0), compiled by numba: the two planted bins of
``rlvr.generators.bin_packing.planted_bin`` and their redraw (red team S8-8: where many splits of
the items fit, one packing fixed per item count, sizes unread, was right on 0.40 of d = 0 tasks)
in one call, from the generator's own words.

The redraw: the fills and cuts are drawn again (same item counts, at most ``tries`` draws in
all) while the position-guess odds — the best chance that one packing into two bins fixed by
item position (indices chosen without reading the sizes; the second bin may be empty) fits the
items shuffled uniformly: the most, over bin sizes k, of the k-item bins that fit with the rest
fitting too, over C(items, k) — are above the target, the larger of ``limit`` and the planted
split's own odds (one split: 1 in C(items, items of a bin), e.g. 1 in 3 for 2 + 2 items); the
draw with the lowest odds stands (the first on a tie).

Why by hand: the redraw runs about 18 times a d = 0 task, and in Python each round was two
``planted_bin`` calls (an ``integers`` and a ``choice`` each, a few microseconds of call overhead
apiece for one to six 32-bit words) and a matrix product over the 2^n subsets of at most 8
items: about 0.6 ms a task, where the work itself is a few hundred word multiplications and
256-subset sums. No library call does that without the same per-call overhead. Here the words
are read ahead with ``random_raw`` and the numpy draws replayed as
``rlvr.generators.optimisation.NumpyWords`` does (numpy's 32-bit Lemire draw for ``integers``,
its Floyd sample and the draws of its shuffle for ``choice(…, replace=False)``, the words a
rejection takes included); afterwards the generator is put where numpy's calls would have left
it. The odds are integer counts divided in double, compared as the Python redraw did, so the
plant and the stream are the same (tests/test_optimisation.py replays the redraw in Python with
``planted_bin`` and compares, generator state included). One module, because numba's cache does
not notice a change in another file's compiled function that a cached one calls. Compiled once
per installation and cached like ``rlvr.generators.job_shop_solver`` (``warm_up``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

ITEMS_PER_BIN = (2, 4)  # items a planted bin is cut into (drawn); bin_packing.planted_bin uses it too
MAX_ITEMS = 2 * ITEMS_PER_BIN[1]  # the most items of a two-bin plant
READ_AHEAD = 400  # 64-bit outputs read at once: 800 words, 63 redraws' worst case without rejections
UINT32 = (1 << 32) - 1
OUT_OF_WORDS = -1  # the packed result's first entry when the words read ahead ran out
MAX_READ = 1 << 16  # outputs read ahead at most: 160× 63 redraws' worst case (a word is rejected ≤ 1 in 4,000)


def two_bin_plant(nprng: np.random.Generator, capacity: int, waste: float, tries: int, limit: float) -> list[list[int]]:
    """The item sizes of the two planted bins that ``planted_bin`` (twice, item counts drawn)
    and the redraw (module docstring: at most ``tries`` draws in all, odds target at least
    ``limit``) give from ``nprng``, leaving ``nprng`` where those numpy calls leave it. For
    ``capacity`` < 2³¹ (numpy's 32-bit draws; ``choice``'s Floyd sample for its ≤ 3 cuts): the
    family declares at most 10⁶."""
    bit_generator = nprng.bit_generator
    saved = bit_generator.state
    buffered = int(saved["has_uint32"])
    first = np.uint64(saved["uinteger"] if buffered else 0)
    waste_top = int(np.floor(waste * capacity))
    raw = bit_generator.random_raw(READ_AHEAD)
    packed = _two_bin_plant(raw, buffered, first, capacity, waste_top, tries, limit)
    while packed[0] == OUT_OF_WORDS:  # rejections took more words than were read ahead: read further
        if raw.shape[0] >= MAX_READ:
            raise RuntimeError(f"two_bin_plant read {2 * raw.shape[0]} words without finishing: a draw never ends")
        raw = np.concatenate((raw, bit_generator.random_raw(raw.shape[0])))
        packed = _two_bin_plant(raw, buffered, first, capacity, waste_top, tries, limit)
    position, first_items, second_items = (int(v) for v in packed[:3])
    sizes = packed[3 : 3 + first_items + second_items].tolist()
    # put the generator where numpy's draws leave it: the outputs used; the high half of the last
    # one buffered when its low half was the last word used, else kept as spent (numpy's next_uint32)
    from_outputs = max(0, position - buffered)  # words taken from the read-ahead outputs
    bit_generator.state = saved
    bit_generator.random_raw(-(-from_outputs // 2))
    state = bit_generator.state
    state["has_uint32"] = from_outputs % 2
    if from_outputs:
        state["uinteger"] = int(raw[(from_outputs - 1) // 2] >> np.uint64(32))
    bit_generator.state = state
    return [sizes[:first_items], sizes[first_items:]]


def warm_up() -> None:
    """Compile the routine now, or load it from numba's cache (``scripts/setup.sh``)."""
    two_bin_plant(np.random.default_rng(0), 20, 0.2, 64, 0.1)


@njit(cache=True, nogil=True)
def _word(raw, buffered, first, index):
    """Word ``index`` of the stream: the buffered half first (``buffered`` = 1), then the low
    and the high half of each output in ``raw``."""
    if buffered:
        if index == 0:
            return first
        index -= 1
    output = raw[index >> 1]
    if index & 1:
        return output >> np.uint64(32)
    return output & np.uint64(UINT32)


@njit(cache=True, nogil=True)
def _bounded(raw, buffered, first, position, top):
    """(a draw in [0, top] as numpy's ``integers(0, top + 1)`` makes it, the next word's
    position): Lemire's multiply-shift of one word, drawn again while the product's low half
    falls below (2³² − 1 − top) mod (top + 1); no word for top = 0. The draw is
    ``OUT_OF_WORDS`` when the words run out."""
    if top == 0:
        return 0, position
    available = buffered + 2 * raw.shape[0]
    span = np.uint64(top + 1)
    low = np.uint64(UINT32)
    if position >= available:
        return OUT_OF_WORDS, position
    product = _word(raw, buffered, first, position) * span
    position += 1
    if (product & low) < span:
        threshold = (low - np.uint64(top)) % span
        while (product & low) < threshold:
            if position >= available:
                return OUT_OF_WORDS, position
            product = _word(raw, buffered, first, position) * span
            position += 1
    return np.int64(product >> np.uint64(32)), position


@njit(cache=True, nogil=True)
def _planted_bin(raw, buffered, first, position, capacity, waste_top, parts, sizes, offset, cuts):
    """``planted_bin``'s draws: its item sizes written to ``sizes`` from ``offset``; returns
    (the item count, the parts drawn — ``parts`` itself when not negative —, the next word's
    position), the count ``OUT_OF_WORDS`` when the words run out (``cuts``: room for 3). The cuts are numpy's
    ``choice(np.arange(1, fill), size=items − 1, replace=False)``: Floyd's sample (a draw in
    [0, j] for j = fill − items … fill − 2; a value already taken takes j), then its shuffle's
    draws in [0, i] for i = items − 2 … 1, whose order sorting discards."""
    waste, position = _bounded(raw, buffered, first, position, waste_top)
    if waste < 0:
        return OUT_OF_WORDS, parts, position
    fill = capacity - waste
    if parts < 0:
        drawn, position = _bounded(raw, buffered, first, position, ITEMS_PER_BIN[1] - ITEMS_PER_BIN[0])
        if drawn < 0:
            return OUT_OF_WORDS, parts, position
        parts = ITEMS_PER_BIN[0] + drawn
    items = min(parts, fill)
    count = items - 1 if items > 1 else 0
    population = fill - 1
    for index in range(count):
        top = population - count + index
        value, position = _bounded(raw, buffered, first, position, top)
        if value < 0:
            return OUT_OF_WORDS, parts, position
        for taken in range(index):
            if cuts[taken] == value:
                value = top
                break
        cuts[index] = value
    for top in range(count - 1, 0, -1):
        value, position = _bounded(raw, buffered, first, position, top)
        if value < 0:
            return OUT_OF_WORDS, parts, position
    for index in range(1, count):  # sorted (insertion sort of at most 3 cuts)
        value = cuts[index]
        k = index
        while k > 0 and cuts[k - 1] > value:
            cuts[k] = cuts[k - 1]
            k -= 1
        cuts[k] = value
    previous = 0
    for index in range(count):
        sizes[offset + index] = cuts[index] + 1 - previous
        previous = cuts[index] + 1
    sizes[offset + count] = fill - previous
    return count + 1, parts, position


@njit(cache=True, nogil=True)
def _comb(n, k):
    """C(n, k) for small n."""
    result = 1
    for i in range(k):
        result = result * (n - i) // (i + 1)
    return result


@njit(cache=True, nogil=True)
def _position_guess_odds(sizes, count, capacity, loads, found):
    """The position-guess odds (module docstring) of ``sizes[:count]``: the fitting splits counted by the first
    bin's item count over the subsets without the last item, each counted for its own size and
    its complement's (a split fits either way round; each load from the subset without its
    lowest item; ``loads`` holds 2^(count − 1) entries, ``found`` count + 1), each count over
    C(count, k) in double, the most."""
    total = 0
    for i in range(count):
        total += sizes[i]
    found[: count + 1] = 0
    loads[0] = 0
    if total <= capacity:  # the empty bin and its complement
        found[0] += 1
        found[count] += 1
    for subset in range(1, 1 << (count - 1)):
        lowest = subset & -subset
        item = 0
        while lowest > 1:
            lowest >>= 1
            item += 1
        load = loads[subset & (subset - 1)] + sizes[item]
        loads[subset] = load
        if load <= capacity and total - load <= capacity:
            members = 0
            rest = subset
            while rest:
                rest &= rest - 1
                members += 1
            found[members] += 1
            found[count - members] += 1
    best = 0.0
    for k in range(count + 1):
        odds = found[k] / _comb(count, k)
        if k == 0 or odds > best:
            best = odds
    return best


@njit(cache=True, nogil=True)
def _two_bin_plant(raw, buffered, first, capacity, waste_top, tries, limit):
    """The packed result of ``two_bin_plant``: [the next word's position, the two bins' item
    counts, the sizes], or [``OUT_OF_WORDS``] when the words read ahead ran out."""
    kept = np.empty(3 + MAX_ITEMS, np.int64)
    again = np.empty(MAX_ITEMS, np.int64)
    failed = np.full(1, OUT_OF_WORDS, np.int64)
    loads = np.empty(1 << (MAX_ITEMS - 1), np.int64)
    found = np.empty(MAX_ITEMS + 1, np.int64)
    cuts = np.empty(ITEMS_PER_BIN[1] - 1, np.int64)
    position = 0
    first_items, first_parts, position = _planted_bin(
        raw, buffered, first, position, capacity, waste_top, -1, kept, 3, cuts
    )
    if first_items < 0:
        return failed
    second_items, second_parts, position = _planted_bin(
        raw, buffered, first, position, capacity, waste_top, -1, kept, 3 + first_items, cuts
    )
    if second_items < 0:
        return failed
    kept[1], kept[2] = first_items, second_items
    count = first_items + second_items
    same = 2 if first_items == second_items else 1
    planted_only = max(same / _comb(count, first_items), same / _comb(count, second_items))
    target = max(planted_only, limit)
    lowest = _position_guess_odds(kept[3:], count, capacity, loads, found)
    for _ in range(tries - 1):
        if lowest <= target:
            break
        items_a, _, position = _planted_bin(
            raw, buffered, first, position, capacity, waste_top, first_parts, again, 0, cuts
        )
        if items_a < 0:
            return failed
        items_b, _, position = _planted_bin(
            raw, buffered, first, position, capacity, waste_top, second_parts, again, items_a, cuts
        )
        if items_b < 0:
            return failed
        odds = _position_guess_odds(again, items_a + items_b, capacity, loads, found)
        if odds < lowest:
            lowest = odds
            kept[1], kept[2] = items_a, items_b
            kept[3 : 3 + items_a + items_b] = again[: items_a + items_b]
    kept[0] = position
    return kept
