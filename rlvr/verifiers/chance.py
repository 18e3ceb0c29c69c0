"""Partial credit above chance: how many right parts a uniformly random answer reaches.

Opt-in partial scorings (Jigsaw and Rotation ``scoring="fraction"``) pay for the parts of an
answer that are right. A random or constant answer gets some parts right by luck, and RL learns
whatever earns reward, so these scorings pay only what lies above the count a random answer
exceeds at most ``CHANCE_LEVEL`` of the time: ``credit_above_chance(right, total, q) =
max(0, (right − q) / (total − q))``, with q from ``chance_count`` (exact distributions, cached):

``right_turns``      each of ``pieces`` pieces independently right with probability 1/``turns``
                     (binomial);
``right_placements`` a uniformly random placement of ``pieces`` pieces (its fixed points: the
                     rencontres numbers), each fixed point also turned right with probability
                     1/``turns`` when pieces are turned;
``right_in_permutations`` ``count`` independent uniformly random placements of ``size`` items
                     each, their fixed points added (a Zebra grid that ignores the clues: one
                     permutation of the houses per attribute).
"""

from __future__ import annotations

import functools
import math

CHANCE_LEVEL = 0.05


def chance_count(distribution: list[float]) -> int:
    """The smallest q with P(right > q) ≤ CHANCE_LEVEL, for P(right = k) = distribution[k]."""
    above = sum(distribution)
    for q, probability in enumerate(distribution):
        above -= probability
        if above <= CHANCE_LEVEL + 1e-12:
            return q
    return len(distribution) - 1


@functools.cache
def right_turns(pieces: int, turns: int) -> int:
    """q for ``pieces`` independent guesses among ``turns`` equally likely turns."""
    p = 1 / turns
    return chance_count([math.comb(pieces, k) * p**k * (1 - p) ** (pieces - k) for k in range(pieces + 1)])


def fixed_points(size: int) -> list[float]:
    """P(k of ``size`` items stay in place) under a uniformly random permutation, k = 0…size."""
    derangements = [1, 0]  # !m, the placements of m items with none in place
    for m in range(2, size + 1):
        derangements.append((m - 1) * (derangements[-1] + derangements[-2]))
    total = math.factorial(size)
    return [math.comb(size, k) * derangements[size - k] / total for k in range(size + 1)]


@functools.cache
def right_placements(pieces: int, turns: int = 1) -> int:
    """q for a uniformly random placement of ``pieces`` pieces, each placed piece also needing
    the right one of ``turns`` turns (1: pieces are not turned)."""
    fixed = fixed_points(pieces)
    p = 1 / turns
    right = [
        sum(fixed[k] * math.comb(k, r) * p**r * (1 - p) ** (k - r) for k in range(r, pieces + 1))
        for r in range(pieces + 1)
    ]
    return chance_count(right)


@functools.cache
def right_in_permutations(count: int, size: int) -> int:
    """q for ``count`` independent uniformly random permutations of ``size`` items, right
    meaning an item in its place, summed over the permutations."""
    one = fixed_points(size)
    total = [1.0]
    for _ in range(count):
        total = [
            sum(total[j] * one[k - j] for j in range(max(0, k - size), min(k, len(total) - 1) + 1))
            for k in range(len(total) + size)
        ]
    return chance_count(total)


def credit_above_chance(right: int, total: int, chance: int) -> float:
    """max(0, (right − chance) / (total − chance)); 0 when chance already covers every part."""
    if chance >= total:
        return 0.0
    return max(0.0, (right - chance) / (total - chance))
