"""Numbers drawn from a task's seed material and the work done on them, compiled by numba:
Knapsack's whole instance (draws, values, capacity, density greedy, and the exact selection by
a branch and bound), SubsetSum's (numbers, planted subset, the greedy screen and its redraws),
and SAT's clause indices and Johnson's greedy on the clauses.

Why by hand: these tasks are a few dozen numbers, and their Python work — the draws, the
greedies, a call into OR-Tools' knapsack solver (about 5 µs of setup for a search of one) —
cost more than the rest of the task (SAT's: the index draws and the greedy were a third of a
task at d = 1, beside MiniSat's search). Here each family's is one compiled call with the same
numbers, greedy results and (unique) reference as the Python path it replaced
(tests/test_optimisation.py compares them with ``MaterialDraws``, the Python greedies and the
DP). The draws follow ``MaterialDraws``: the little-endian 64-bit words of SHAKE-256 of the
material's 8 little-endian bytes (read here as bytes, whole 136-byte blocks of the hash at a
time, and further when a draw runs short), an integer in [0, span) Lemire's multiply-shift of
the next word, redrawn while the product's low half is below 2⁶⁴ mod span. A call hands back
one int64 array (its ``tolist`` is the cheapest way out of compiled code) holding the numbers
and the chosen indices. One module, because numba's cache does not notice a change in another
file's compiled function that a cached one calls. Compiled once per installation and cached
like ``rlvr.generators.job_shop_solver`` (``warm_up``).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from numba import njit

MASK32 = (1 << 32) - 1
NEEDS_WORDS = -1  # the words ran out (a rejected draw, about one in 2⁶⁴ / span): read more
BLOCK_WORDS = 17  # SHAKE-256 hashes 136 bytes a block: reading fewer words costs the same


def material_stream(material: int, words: int) -> bytes:
    """At least the first ``words`` words of ``MaterialDraws``' stream for ``material``, as
    little-endian bytes: a whole number of hash blocks (a longer read extends a shorter)."""
    return hashlib.shake_256(material.to_bytes(8, "little")).digest(8 * BLOCK_WORDS * -(-words // BLOCK_WORDS))


def knapsack_instance(
    material: int,
    count: int,
    max_weight: int,
    correlation: float,
    fraction: float,
    exact_items: int,
    key_limit: int,
) -> tuple[list[int], int, list[int], int, list[int] | None, int]:
    """(the items' weights and values interleaved [w₀, v₀, w₁, v₁, …], capacity, the density
    greedy's items, their value, the exact items or None, their value) of ``material``'s
    draws. Weights and the values' random parts are uniform in 1…``max_weight``
    (``MaterialDraws.integers``), values (1 − correlation) · u + correlation · (weight +
    max_weight / 10) rounded half up (at least 1), capacity the fraction of the total weight
    rounded half up (at least the lightest item). The exact selection is solved here only for
    up to ``exact_items`` items whose keys (``_branch_and_bound``) stay under ``key_limit``;
    otherwise None (value 0) and the caller solves it."""
    words = 2 * count
    while True:  # more words only after a rejected draw (about span / 2⁶⁴ a word)
        solved, capacity, greedy_value, exact_value, greedy_end, packed = _knapsack(
            material_stream(material, words), count, max_weight, correlation, fraction, exact_items, key_limit
        )
        if solved != NEEDS_WORDS:
            break
        words *= 4
    row = packed.tolist()  # the pairs, then the greedy's items, then the exact items
    pairs_end = 2 * count
    exact = row[greedy_end:] if solved else None
    return row[:pairs_end], capacity, row[pairs_end:greedy_end], greedy_value, exact, exact_value


def knapsack_branch_and_bound(weights: list[int], values: list[int], capacity: int) -> list[int]:
    """The items of the selection of greatest key Σ (value · 2^items − 2^item) within
    ``capacity`` (``_branch_and_bound`` from the empty selection): of the most valuable
    selections, the one of least Σ 2^item. The caller keeps Σ values · 2^items below 2⁵⁰."""
    count = len(weights)
    chosen = np.zeros(count, np.bool_)
    _branch_and_bound(
        np.array(weights, np.int64), np.array(values, np.int64), int(capacity), np.zeros(count, np.bool_), chosen
    )
    return np.flatnonzero(chosen).tolist()


def subset_sum_instance(
    material: int, count: int, max_number: int, screen_from: int, redraws: int
) -> tuple[list[int], list[int], int, int]:
    """(numbers, the planted subset's indices, target, the largest-first greedy's sum) of
    ``material``'s draws. Up to ``redraws`` attempts: every 8th draws ``count`` numbers uniform
    in 1…``max_number``; each plants a subset (every index with probability ½ from the next
    ⌈count / 64⌉ words, bit i of word i // 64; an empty draw takes one uniform index, a full one
    drops one) whose sum is the target, and from ``screen_from`` numbers is kept only if no
    greedy (``_greedy_reaches``) hits its target (else the last attempt is kept)."""
    words = count + count // 64 + 4  # one attempt and a few more: most tasks need no more
    while True:  # the words ran out: read further
        target, greedy_sum, packed = _subset_sum(
            material_stream(material, words), count, max_number, screen_from, redraws
        )
        if target != NEEDS_WORDS:
            break
        words *= 4
    row = packed.tolist()  # numbers, then the planted indices
    return row[:count], row[count:], target, greedy_sum


def uniform_integers(material: int, position: int, count: int, span: int) -> tuple[np.ndarray, int]:
    """(``count`` integers uniform in [0, ``span``) as an int64 array, the next position): the
    draws ``MaterialDraws.integers(0, span − 1, count)`` makes after ``position`` words of
    ``material``'s stream were taken (1 ≤ span < 2⁶³)."""
    words = position + count + 4  # a few more for rejections (about span / 2⁶⁴ a word)
    while True:
        drawn, end = _uniform(material_stream(material, words), position, count, span)
        if end != NEEDS_WORDS:
            return drawn, end
        words *= 4


def johnson_greedy(variables: int, clauses: np.ndarray) -> tuple[list[int], int]:
    """(assignment, clauses it satisfies) of Johnson's greedy on ``clauses`` (a (count, 3)
    integer array, each row distinct variables in increasing order): x1, x2, … in turn, true
    when at least as many still-unsatisfied clauses hold x_k as hold ¬x_k, else false."""
    assignment, satisfied = _johnson(variables, clauses)
    return assignment.tolist(), int(satisfied)


def warm_up() -> None:
    """Compile the routines now, or load them from numba's cache (``scripts/setup.sh``)."""
    knapsack_instance(1, 8, 20, 0.5, 0.5, 24, 1 << 50)
    knapsack_branch_and_bound([3, 4], [5, 6], 5)
    subset_sum_instance(1, 8, 20, 8, 4)
    uniform_integers(1, 0, 3, 10)
    for dtype in (np.int32, np.int64):  # SAT's clause table rows, and decoded or planted clauses
        johnson_greedy(3, np.array([[1, 2, -3]], dtype))


@njit(cache=True, nogil=True)
def _word(stream, position):
    """The little-endian 64-bit word at ``position`` of the bytes ``stream``."""
    word = np.uint64(0)
    start = 8 * position
    for k in range(8):
        word |= np.uint64(stream[start + k]) << np.uint64(8 * k)
    return word


@njit(cache=True, nogil=True)
def _high(a, b):
    """The high 64 bits of the 128-bit product of two uint64 (from 32-bit halves)."""
    mask = np.uint64(MASK32)
    shift = np.uint64(32)
    a_low, a_high = a & mask, a >> shift
    b_low, b_high = b & mask, b >> shift
    low_low = a_low * b_low
    middle = a_high * b_low + (low_low >> shift)
    middle_low, middle_high = middle & mask, middle >> shift
    middle_low += a_low * b_high
    return a_high * b_high + middle_high + (middle_low >> shift)


@njit(cache=True, nogil=True)
def _below(stream, position, span):
    """(an integer uniform in [0, span) from the words of ``stream`` at ``position``, the next
    position), or (−1, position) when the words ran out."""
    top = np.uint64(span)
    threshold = (np.uint64(0) - top) % top  # 2⁶⁴ mod span
    while position < len(stream) // 8:
        word = _word(stream, position)
        position += 1
        if word * top >= threshold:  # the product's low half (uint64 arithmetic wraps)
            return np.int64(_high(word, top)), position
    return np.int64(-1), position


@njit(cache=True, nogil=True)
def _knapsack(stream, count, max_weight, correlation, fraction, exact_items, key_limit):
    """(1 when solved exactly else 0, capacity, the greedy's value, the exact value, where the
    exact items start, the pairs then the greedy's and the exact items) or (``NEEDS_WORDS``, …)
    when the words ran out (``knapsack_instance``)."""
    drawn = np.zeros(2 * count, np.int64)
    position = 0
    for i in range(2 * count):
        value, position = _below(stream, position, max_weight)
        if value < 0:
            return NEEDS_WORDS, 0, 0, 0, 0, np.zeros(0, np.int64)
        drawn[i] = 1 + value
    weights = drawn[:count].copy()
    keep = 1.0 - correlation
    shift = max_weight / 10
    values = np.zeros(count, np.int64)
    total_weight = 0
    lightest = weights[0]
    for i in range(count):
        value = np.int64(math.floor(keep * drawn[count + i] + correlation * (weights[i] + shift) + 0.5))
        values[i] = value if value > 1 else 1
        total_weight += weights[i]
        if weights[i] < lightest:
            lightest = weights[i]
    capacity = np.int64(math.floor(fraction * total_weight + 0.5))
    if capacity < lightest:
        capacity = lightest
    density = np.zeros(count)
    for i in range(count):
        density[i] = -values[i] / weights[i]
    greedy = np.zeros(count, np.bool_)
    room = capacity
    for i in np.argsort(density, kind="mergesort"):  # stable: ties to the lower index
        if weights[i] <= room:
            greedy[i] = True
            room -= weights[i]
    chosen = np.zeros(count, np.bool_)
    total_value = 0
    for i in range(count):
        total_value += values[i]
    solved = count <= exact_items and total_value << count < key_limit
    if solved:
        _branch_and_bound(weights, values, capacity, greedy, chosen)
    packed = np.zeros(4 * count, np.int64)  # the pairs, the greedy's items, the exact items
    end = 2 * count
    greedy_value = exact_value = 0
    for i in range(count):
        packed[2 * i] = weights[i]
        packed[2 * i + 1] = values[i]
        if greedy[i]:
            packed[end] = i
            end += 1
            greedy_value += values[i]
    greedy_end = end
    if solved:
        for i in range(count):
            if chosen[i]:
                packed[end] = i
                end += 1
                exact_value += values[i]
    return (1 if solved else 0), capacity, greedy_value, exact_value, greedy_end, packed[:end]


@njit(cache=True, nogil=True)
def _branch_and_bound(weights, values, capacity, start, chosen):
    """The selection of greatest key Σ (value · 2^items − 2^item) within ``capacity`` into
    ``chosen``: of the most valuable selections, the one of least Σ 2^item (unique, so any
    exact solver finds it: the one OR-Tools' knapsack solver and the DP over capacities find).
    Depth-first over the items by key per weight (include first), from ``start`` (a feasible
    selection); a subtree is cut when its LP bound (the rest filled fractionally) is below the
    best key + ½: keys stay below 2⁵⁰, so the bound's rounding (< ¼) cannot cut a better one."""
    count = weights.shape[0]
    scale = np.int64(1) << count
    keys = np.zeros(count, np.int64)
    ratio = np.zeros(count)
    for i in range(count):
        keys[i] = values[i] * scale - (np.int64(1) << i)
        ratio[i] = -keys[i] / weights[i]
    order = np.argsort(ratio, kind="mergesort")
    best = 0
    for i in range(count):
        if start[i]:
            best += keys[i]
            chosen[i] = True
    taking = np.zeros(count, np.bool_)
    step = np.zeros(count + 1, np.int64)  # per depth: 0 take the item next, 1 leave it next, 2 done
    depth = 0
    room = capacity
    key = 0
    while depth >= 0:
        if depth == count:
            if key > best:
                best = key
                for i in range(count):
                    chosen[i] = False
                for d in range(count):
                    if taking[d]:
                        chosen[order[d]] = True
            depth -= 1
            continue
        item = order[depth]
        if step[depth] == 0:
            step[depth] = 1
            if weights[item] <= room:
                bound = key + keys[item] + _fractional_fill(weights, keys, order, depth + 1, room - weights[item])
                if bound >= best + 0.5:
                    taking[depth] = True
                    room -= weights[item]
                    key += keys[item]
                    depth += 1
                    step[depth] = 0
            continue
        if step[depth] == 1:
            step[depth] = 2
            if taking[depth]:  # undo the take
                taking[depth] = False
                room += weights[item]
                key -= keys[item]
            if key + _fractional_fill(weights, keys, order, depth + 1, room) >= best + 0.5:
                depth += 1
                step[depth] = 0
            continue
        depth -= 1


@njit(cache=True, nogil=True)
def _fractional_fill(weights, keys, order, first, room):
    """The LP bound of the items ``order[first:]`` within ``room``: whole items while they fit,
    then the next one's share (a float)."""
    bound = 0.0
    for d in range(first, order.shape[0]):
        item = order[d]
        if weights[item] <= room:
            room -= weights[item]
            bound += keys[item]
        else:
            return bound + keys[item] * (room / weights[item])
    return bound


@njit(cache=True, nogil=True)
def _subset_sum(stream, count, max_number, screen_from, redraws):
    """(target, the largest-first greedy's sum, the numbers then the planted indices), or
    (``NEEDS_WORDS``, 0, an empty array) when the words ran out (``subset_sum_instance``)."""
    numbers = np.zeros(count, np.int64)
    ordered = np.zeros(count, np.int64)
    planted = np.zeros(count, np.bool_)
    empty = np.zeros(0, np.int64)
    words = len(stream) // 8
    target = 0
    position = 0
    for attempt in range(redraws):
        if attempt % 8 == 0:
            for i in range(count):
                value, position = _below(stream, position, max_number)
                if value < 0:
                    return NEEDS_WORDS, 0, empty
                numbers[i] = 1 + value
            ordered[:] = np.sort(numbers)
        blocks = (count + 63) // 64
        if position + blocks > words:
            return NEEDS_WORDS, 0, empty
        taken = 0
        for i in range(count):
            planted[i] = (_word(stream, position + i // 64) >> np.uint64(i % 64)) & np.uint64(1) == 1
            taken += planted[i]
        position += blocks
        if taken == 0 or taken == count:  # empty: take one index; full: drop one
            index, position = _below(stream, position, count)
            if index < 0:
                return NEEDS_WORDS, 0, empty
            planted[index] = taken == 0
        target = 0
        for i in range(count):
            if planted[i]:
                target += numbers[i]
        if count < screen_from or not _greedy_reaches(numbers, ordered, target):
            break
    greedy_sum = 0  # largest first, each number that still fits under the target
    for i in range(count - 1, -1, -1):
        if greedy_sum + ordered[i] <= target:
            greedy_sum += ordered[i]
    packed = np.zeros(2 * count, np.int64)
    end = count
    for i in range(count):
        packed[i] = numbers[i]
        if planted[i]:
            packed[end] = i
            end += 1
    return target, greedy_sum, packed[:end]


@njit(cache=True, nogil=True)
def _greedy_reaches(numbers, ordered, target):
    """Whether a greedy with no search hits the target: taking the numbers largest first,
    smallest first, in the listed order or in reverse, each that still fits, toward the target
    or toward the total minus it (the numbers left out). Red team S11-H2: largest first solved
    69 % of d = 0 tasks and 17 % at d = 0.25 (a random subset 5 % / 0.3 %); S11b-K3: with the
    complement and index orders too, 92 % / 29 %."""
    count = numbers.shape[0]
    rest = -target
    for i in range(count):
        rest += numbers[i]
    for goal in (target, rest):
        for order in range(4):
            total = 0
            for step in range(count):
                if order == 0:
                    number = ordered[count - 1 - step]
                elif order == 1:
                    number = ordered[step]
                elif order == 2:
                    number = numbers[step]
                else:
                    number = numbers[count - 1 - step]
                if total + number <= goal:
                    total += number
                    if total == goal:
                        return True
            if total == goal:
                return True
    return False


@njit(cache=True, nogil=True)
def _uniform(stream, position, count, span):
    """(``count`` integers uniform in [0, span) from the words of ``stream`` at ``position``,
    the next position), or (…, ``NEEDS_WORDS``) when the words ran out (``uniform_integers``)."""
    drawn = np.zeros(count, np.int64)
    for i in range(count):
        value, position = _below(stream, position, span)
        if value < 0:
            return drawn, NEEDS_WORDS
        drawn[i] = value
    return drawn, position


@njit(cache=True, nogil=True)
def _johnson(variables, clauses):
    """(assignment, satisfied count) of Johnson's greedy (``johnson_greedy``). A clause is
    still unsatisfied at x_k exactly when every literal before its one on x_k was set false,
    so each clause waits in the list of its next literal (``first``/``after``: linked lists
    per literal, negative literals below ``variables``), with ``waiting`` counting each list,
    and moves on to its next literal only when x_k's value falsifies the one it waits on."""
    count, size = clauses.shape
    first = np.full(2 * variables + 1, -1, np.int64)  # per literal + variables: its first waiting clause
    waiting = np.zeros(2 * variables + 1, np.int64)
    after = np.zeros(count, np.int64)  # the next clause in the same list
    next_at = np.ones(count, np.int64)  # the position of the clause's literal after the one it waits on
    for c in range(count):
        literal = clauses[c, 0] + variables
        after[c] = first[literal]
        first[literal] = c
        waiting[literal] += 1
    assignment = np.zeros(variables, np.int64)
    satisfied = 0
    for variable in range(1, variables + 1):
        true_side, false_side = variables + variable, variables - variable
        if waiting[true_side] >= waiting[false_side]:
            assignment[variable - 1] = variable
            satisfied += waiting[true_side]
            falsified = false_side
        else:
            assignment[variable - 1] = -variable
            satisfied += waiting[false_side]
            falsified = true_side
        c = first[falsified]
        while c >= 0:
            following = after[c]
            if next_at[c] < size:
                literal = clauses[c, next_at[c]] + variables
                next_at[c] += 1
                after[c] = first[literal]
                first[literal] = c
                waiting[literal] += 1
            c = following
    return assignment, satisfied
