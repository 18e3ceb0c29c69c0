"""Knapsack's instance arithmetic, density greedy and exact branch and bound, compiled by numba.

Why by hand: a Knapsack task at the declared levels is 7–20 items, and its Python work —
the uniform draws, the values and capacity, the density greedy and a call into OR-Tools'
knapsack solver (about 5 µs of setup for a search of one) — cost more than the rest of the
task. Here they are one compiled call, with the same numbers, the same greedy and the same
(unique) optimal selection as the Python path they replace (tests/test_optimisation.py
compares them with ``MaterialDraws``, ``density_greedy`` and the DP). Compiled once per
installation and cached like ``rlvr.generators.job_shop_solver`` (``warm_up``).

``instance(words, ...)`` takes the task's seed-material words (``material_words``) and
returns everything ``KnapsackGenerator.build`` needs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

MASK32 = (1 << 32) - 1
NEEDS_WORDS = -1  # the words ran out (a rejected draw, about one in 2⁶⁴ / span): read more


def instance(
    words: np.ndarray,
    count: int,
    max_weight: int,
    correlation: float,
    fraction: float,
    exact_items: int,
    key_limit: int,
) -> tuple[list[int], list[int], int, list[int], list[int] | None] | None:
    """(weights, values, capacity, the density greedy's items, the exact items or None) from
    ``words`` (uint64), or None when they ran out. Weights and the values' random parts are
    uniform in 1…``max_weight`` (``MaterialDraws.integers``: Lemire's multiply-shift, a word
    redrawn while the product's low half is below 2⁶⁴ mod span), values (1 − correlation) · u
    + correlation · (weight + max_weight / 10) rounded half up (at least 1), capacity the
    fraction of the total weight rounded half up (at least the lightest item). The exact
    selection is solved here only for up to ``exact_items`` items whose keys (below) stay
    under ``key_limit``; otherwise None and the caller solves it."""
    outcome, capacity, packed = _instance(
        words, int(count), int(max_weight), float(correlation), float(fraction), int(exact_items), int(key_limit)
    )
    if outcome == NEEDS_WORDS:
        return None
    row = packed.tolist()  # weights, values, greedy flags, exact flags: one array out of the call
    greedy = [i for i, taken in enumerate(row[2 * count : 3 * count]) if taken]
    exact = [i for i, taken in enumerate(row[3 * count :]) if taken] if outcome else None
    return row[:count], row[count : 2 * count], int(capacity), greedy, exact


def branch_and_bound(weights: list[int], values: list[int], capacity: int) -> list[int]:
    """The items of the selection of greatest key Σ (value · 2^items − 2^item) within
    ``capacity`` (``_branch_and_bound`` from the empty selection): of the most valuable
    selections, the one of least Σ 2^item. The caller keeps Σ values · 2^items below 2⁵⁰."""
    count = len(weights)
    chosen = np.zeros(count, np.bool_)
    _branch_and_bound(
        np.array(weights, np.int64), np.array(values, np.int64), int(capacity), np.zeros(count, np.bool_), chosen
    )
    return np.flatnonzero(chosen).tolist()


def warm_up() -> None:
    """Compile the routines now, or load them from numba's cache (``scripts/setup.sh``)."""
    instance(np.arange(1, 17, dtype=np.uint64) << np.uint64(40), 8, 20, 0.5, 0.5, 24, 1 << 50)
    branch_and_bound([3, 4], [5, 6], 5)


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
def _instance(words, count, max_weight, correlation, fraction, exact_items, key_limit):
    span = np.uint64(max_weight)  # draws in [1, max_weight]: span max_weight
    threshold = (np.uint64(0) - span) % span  # 2⁶⁴ mod span
    drawn = np.zeros(2 * count, np.int64)
    position = 0
    for i in range(2 * count):
        while True:
            if position == words.shape[0]:
                return NEEDS_WORDS, 0, np.zeros(0, np.int64)
            word = words[position]
            position += 1
            if word * span >= threshold:  # the product's low half (uint64 arithmetic wraps)
                drawn[i] = 1 + np.int64(_high(word, span))
                break
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
    packed = np.zeros(4 * count, np.int64)
    for i in range(count):
        packed[i] = weights[i]
        packed[count + i] = values[i]
        packed[2 * count + i] = greedy[i]
        packed[3 * count + i] = chosen[i]
    return (1 if solved else 0), capacity, packed


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
