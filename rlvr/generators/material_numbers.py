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
material's 8 little-endian bytes, an integer in [0, span) Lemire's multiply-shift of the next
word, redrawn while the product's low half is below 2⁶⁴ mod span. The hash runs here too
(``_stream``: Keccak-f[1600] as FIPS 202 defines it, whose squeezed lanes are the stream's
words), because hashlib's call costs more than a small task's whole compiled work (creating
the hash object and the bytes of a 136-byte digest: ~0.75 µs where the permutation here takes
~0.3) and cannot be made from compiled code; tests check its words against hashlib's. A call
hands back one int64 array (its ``tolist`` is the cheapest way out of compiled code) holding
the numbers and the chosen indices. One module, because numba's cache does not notice a change in another
file's compiled function that a cached one calls. Compiled once per installation and cached
like ``rlvr.generators.job_shop_solver`` (``warm_up``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

MASK32 = (1 << 32) - 1
SIGN_BIT = 1 << 63
WORD = 1 << 64
RATE = 17  # the 64-bit lanes SHAKE-256 hands out per permutation (its 136-byte rate)
CURSOR = 25  # a stream's slot after Keccak's 25 lanes: the next lane of the block to hand out
TAKEN = 26  # and the next: the words handed out so far
# Keccak-f[1600]'s round constants (FIPS 202, ι)
ROUND_CONSTANTS = np.array(
    [
        0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
        0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
        0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
        0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
        0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
        0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
    ],
    np.uint64,
)  # fmt: skip


def signed(material: int) -> int:
    """The 64-bit ``material`` as the int64 holding the same bits: the one type the compiled
    calls take it as (a value of 2⁶³ or more would make numba compile each again for uint64)."""
    return material - WORD if material >= SIGN_BIT else material


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
    solved, capacity, greedy_value, exact_value, greedy_end, packed = _knapsack(
        signed(material), count, max_weight, correlation, fraction, exact_items, key_limit
    )
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
    target, greedy_sum, packed = _subset_sum(signed(material), count, max_number, screen_from, redraws)
    row = packed.tolist()  # numbers, then the planted indices
    return row[:count], row[count:], target, greedy_sum


def uniform_integers(material: int, position: int, count: int, span: int) -> tuple[np.ndarray, int]:
    """(``count`` integers uniform in [0, ``span``) as an int64 array, the next position): the
    draws ``MaterialDraws.integers(0, span − 1, count)`` makes after ``position`` words of
    ``material``'s stream were taken (1 ≤ span < 2⁶³)."""
    return _uniform(signed(material), position, count, span)


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
def _stream(material):
    """The stream of ``material`` (an int64 holding its 64 bits): a uint64 array of Keccak's 25
    lanes after SHAKE-256 absorbed the material's 8 little-endian bytes (lane 0, then the
    domain bits 1111 and the padding's first 1 in byte 8, its last 1 in byte 135) and the first
    permutation; at ``CURSOR`` the next lane to hand out (``_next_word``), at ``TAKEN`` the words
    handed out."""
    stream = np.zeros(TAKEN + 1, np.uint64)
    stream[0] = np.uint64(material)
    stream[1] = np.uint64(0x1F)
    stream[RATE - 1] = np.uint64(0x80) << np.uint64(56)
    _permute(stream)
    return stream


@njit(cache=True, nogil=True)
def _next_word(stream):
    """The stream's next 64-bit word: the next of the block's ``RATE`` lanes, after a
    permutation once the block is used up."""
    lane = stream[CURSOR]
    if lane == np.uint64(RATE):
        _permute(stream)
        lane = np.uint64(0)
    stream[CURSOR] = lane + np.uint64(1)
    stream[TAKEN] += np.uint64(1)
    return stream[lane]


@njit(cache=True, nogil=True, inline="always")
def _rotate(lane, bits):
    return (lane << np.uint64(bits)) | (lane >> np.uint64(64 - bits))


@njit(cache=True, nogil=True)
def _permute(state):
    """Keccak-f[1600] on the first 25 lanes of ``state`` (lane x + 5y), in place: 24 rounds of
    θ, ρ and π (each lane (x, y) turned by its offset onto (y, 2x + 3y)), χ and ι, unrolled
    over the lanes so that they stay in registers."""
    a00, a01, a02, a03, a04 = state[0], state[1], state[2], state[3], state[4]
    a05, a06, a07, a08, a09 = state[5], state[6], state[7], state[8], state[9]
    a10, a11, a12, a13, a14 = state[10], state[11], state[12], state[13], state[14]
    a15, a16, a17, a18, a19 = state[15], state[16], state[17], state[18], state[19]
    a20, a21, a22, a23, a24 = state[20], state[21], state[22], state[23], state[24]
    for r in range(24):
        c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20
        c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21
        c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22
        c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23
        c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24
        d0 = c4 ^ _rotate(c1, 1)
        d1 = c0 ^ _rotate(c2, 1)
        d2 = c1 ^ _rotate(c3, 1)
        d3 = c2 ^ _rotate(c4, 1)
        d4 = c3 ^ _rotate(c0, 1)
        b00 = a00 ^ d0
        b10 = _rotate(a01 ^ d1, 1)
        b20 = _rotate(a02 ^ d2, 62)
        b05 = _rotate(a03 ^ d3, 28)
        b15 = _rotate(a04 ^ d4, 27)
        b16 = _rotate(a05 ^ d0, 36)
        b01 = _rotate(a06 ^ d1, 44)
        b11 = _rotate(a07 ^ d2, 6)
        b21 = _rotate(a08 ^ d3, 55)
        b06 = _rotate(a09 ^ d4, 20)
        b07 = _rotate(a10 ^ d0, 3)
        b17 = _rotate(a11 ^ d1, 10)
        b02 = _rotate(a12 ^ d2, 43)
        b12 = _rotate(a13 ^ d3, 25)
        b22 = _rotate(a14 ^ d4, 39)
        b23 = _rotate(a15 ^ d0, 41)
        b08 = _rotate(a16 ^ d1, 45)
        b18 = _rotate(a17 ^ d2, 15)
        b03 = _rotate(a18 ^ d3, 21)
        b13 = _rotate(a19 ^ d4, 8)
        b14 = _rotate(a20 ^ d0, 18)
        b24 = _rotate(a21 ^ d1, 2)
        b09 = _rotate(a22 ^ d2, 61)
        b19 = _rotate(a23 ^ d3, 56)
        b04 = _rotate(a24 ^ d4, 14)
        a00 = b00 ^ (~b01 & b02) ^ ROUND_CONSTANTS[r]
        a01 = b01 ^ (~b02 & b03)
        a02 = b02 ^ (~b03 & b04)
        a03 = b03 ^ (~b04 & b00)
        a04 = b04 ^ (~b00 & b01)
        a05 = b05 ^ (~b06 & b07)
        a06 = b06 ^ (~b07 & b08)
        a07 = b07 ^ (~b08 & b09)
        a08 = b08 ^ (~b09 & b05)
        a09 = b09 ^ (~b05 & b06)
        a10 = b10 ^ (~b11 & b12)
        a11 = b11 ^ (~b12 & b13)
        a12 = b12 ^ (~b13 & b14)
        a13 = b13 ^ (~b14 & b10)
        a14 = b14 ^ (~b10 & b11)
        a15 = b15 ^ (~b16 & b17)
        a16 = b16 ^ (~b17 & b18)
        a17 = b17 ^ (~b18 & b19)
        a18 = b18 ^ (~b19 & b15)
        a19 = b19 ^ (~b15 & b16)
        a20 = b20 ^ (~b21 & b22)
        a21 = b21 ^ (~b22 & b23)
        a22 = b22 ^ (~b23 & b24)
        a23 = b23 ^ (~b24 & b20)
        a24 = b24 ^ (~b20 & b21)
    state[0], state[1], state[2], state[3], state[4] = a00, a01, a02, a03, a04
    state[5], state[6], state[7], state[8], state[9] = a05, a06, a07, a08, a09
    state[10], state[11], state[12], state[13], state[14] = a10, a11, a12, a13, a14
    state[15], state[16], state[17], state[18], state[19] = a15, a16, a17, a18, a19
    state[20], state[21], state[22], state[23], state[24] = a20, a21, a22, a23, a24


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
def _below(stream, span):
    """An integer uniform in [0, span) from the stream's next words."""
    top = np.uint64(span)
    threshold = (np.uint64(0) - top) % top  # 2⁶⁴ mod span
    while True:
        word = _next_word(stream)
        if word * top >= threshold:  # the product's low half (uint64 arithmetic wraps)
            return np.int64(_high(word, top))


@njit(cache=True, nogil=True)
def _knapsack(material, count, max_weight, correlation, fraction, exact_items, key_limit):
    """(1 when solved exactly else 0, capacity, the greedy's value, the exact value, where the
    exact items start, the pairs then the greedy's and the exact items) (``knapsack_instance``)."""
    stream = _stream(material)
    drawn = np.zeros(2 * count, np.int64)
    for i in range(2 * count):
        drawn[i] = 1 + _below(stream, max_weight)
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
def _subset_sum(material, count, max_number, screen_from, redraws):
    """(target, the largest-first greedy's sum, the numbers then the planted indices)
    (``subset_sum_instance``). One array holds the numbers, their sorted copy and the planted
    marks, then the answer (small tasks notice each allocation)."""
    stream = _stream(material)
    work = np.empty(4 * count, np.int64)
    numbers, ordered, planted = work[:count], work[count : 2 * count], work[2 * count : 3 * count]
    target = 0
    for attempt in range(redraws):
        if attempt % 8 == 0:
            for i in range(count):
                numbers[i] = 1 + _below(stream, max_number)
            _sorted_copy(numbers, ordered)
        taken = 0
        for block in range(0, count, 64):
            word = _next_word(stream)
            for i in range(block, min(block + 64, count)):
                planted[i] = (word >> np.uint64(i - block)) & np.uint64(1)
                taken += planted[i]
        if taken == 0 or taken == count:  # empty: take one index; full: drop one
            planted[_below(stream, count)] = 1 if taken == 0 else 0
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
    end = 3 * count  # the planted indices after the marks, then moved after the numbers
    for i in range(count):
        if planted[i]:
            work[end] = i
            end += 1
    chosen = end - 3 * count
    ordered[:chosen] = work[3 * count : end]
    return target, greedy_sum, work[: count + chosen]


@njit(cache=True, nogil=True)
def _sorted_copy(values, into):
    """``values`` sorted into ``into``: by insertion up to 32 values (no allocation), else
    numpy's sort."""
    count = values.shape[0]
    if count > 32:
        into[:] = np.sort(values)
        return
    for i in range(count):
        value = values[i]
        j = i
        while j > 0 and into[j - 1] > value:
            into[j] = into[j - 1]
            j -= 1
        into[j] = value


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
def _uniform(material, position, count, span):
    """(``count`` integers uniform in [0, span) from the words of ``material``'s stream after
    its first ``position``, the next position) (``uniform_integers``)."""
    stream = _stream(material)
    for _ in range(position):
        _next_word(stream)
    drawn = np.zeros(count, np.int64)
    for i in range(count):
        drawn[i] = _below(stream, span)
    return drawn, np.int64(stream[TAKEN])


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
