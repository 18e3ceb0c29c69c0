"""How TSP tasks are made: random Euclidean cities, the rounded distance table, the exact tour (the
Held-Karp dynamic programme up to ``HELD_KARP_MAX_CITIES`` cities in full below
``PRUNED_FROM_CITIES``; from there on a 2-opt/Or-opt tour when the Held-Karp 1-tree bound proves
it shortest, else the dynamic programme restricted to the states a lower bound leaves within that
tour's length; CP-SAT beyond, 2-opt fallback), cities redrawn while the tour in index order is as
short as the reference, the nearest-neighbour baseline, wrong and hostile tours.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.tsp``.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterator

import numpy as np

from rlvr.core import Task
from rlvr.families.tsp import FAMILY
from rlvr.generators.optimisation import (
    HEURISTIC,
    OPTIMAL,
    OptimisationGenerator,
    cp_sat_meta,
    new_cp_model,
    reference_record,
    run_cp_sat,
    solver_meta,
)
from rlvr.verifiers.tsp import evaluate_tour, tour_length


def distance_matrix(coordinates: list[tuple[int, int]]) -> list[list[int]]:
    """Euclidean distances rounded to the nearest integer, exactly (no ties can occur: a
    squared distance s is an integer, so √s is never a half-integer): r = ⌊√s⌋ from the float
    square root, corrected by one either way where rounding put it off, then r + 1 when
    s − r² > r."""
    points = np.asarray(coordinates, dtype=np.int64).reshape(-1, 2)
    squared = ((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
    root = np.floor(np.sqrt(squared)).astype(np.int64)
    root -= root * root > squared
    root += (root + 1) * (root + 1) <= squared
    return (root + (squared - root * root > root)).tolist()


def nearest_neighbour_tour(distances: list[list[int]], start: int = 0) -> list[int]:
    count = len(distances)
    tour, unvisited = [start], set(range(count)) - {start}
    while unvisited:
        here = tour[-1]
        nearest = min(unvisited, key=lambda city: (distances[here][city], city))
        tour.append(nearest)
        unvisited.remove(nearest)
    return tour


def two_opt(distances: list[list[int]], tour: list[int]) -> list[int]:
    """First-improvement 2-opt to a local optimum (deterministic scan order)."""
    tour = list(tour)
    count = len(tour)
    improved = True
    while improved:
        improved = False
        for i in range(count - 1):
            for j in range(i + 2, count if i > 0 else count - 1):
                a, b, c, d = tour[i], tour[i + 1], tour[j], tour[(j + 1) % count]
                if distances[a][c] + distances[b][d] < distances[a][b] + distances[c][d]:
                    tour[i + 1 : j + 1] = reversed(tour[i + 1 : j + 1])
                    improved = True
    return tour


def or_opt(distances: list[list[int]], tour: list[int]) -> list[int]:
    """First-improvement Or-opt to a local optimum (deterministic scan order): a run of one to
    three consecutive cities whose removal shortens the tour moves, either way round, into
    another edge of the tour where it adds less than it saved (distances are symmetric). City
    0 keeps the first place."""
    tour = list(tour)
    count = len(tour)
    improved = True
    while improved:
        improved = False
        for size in (1, 2, 3):
            for i in range(1, count - size + 1):
                head, tail, before, after = tour[i], tour[i + size - 1], tour[i - 1], tour[(i + size) % count]
                saved = distances[before][head] + distances[tail][after] - distances[before][after]
                if saved <= 0:
                    continue
                from_head, from_tail = distances[head], distances[tail]
                for k in range(count):  # the edge from tour[k] to the next city
                    if i - 1 <= k < i + size:  # the run's own edges
                        continue
                    left, right = tour[k], tour[(k + 1) % count]
                    across = distances[left][right]
                    if from_head[left] + from_tail[right] - across < saved:
                        run = tour[i : i + size]
                    elif from_tail[left] + from_head[right] - across < saved:
                        run = tour[i : i + size][::-1]
                    else:
                        continue
                    if k < i:
                        tour = tour[: k + 1] + run + tour[k + 1 : i] + tour[i + size :]
                    else:
                        tour = tour[:i] + tour[i + size : k + 1] + run + tour[k + 1 :]
                    improved = True
                    break
    return tour


def local_search(distances: list[list[int]], tour: list[int]) -> list[int]:
    """2-opt, then Or-opt and 2-opt in turn while Or-opt shortens the tour: a local optimum of
    both (city 0 stays first)."""
    tour = two_opt(distances, tour)
    length = tour_length(distances, tour)
    while True:
        moved = or_opt(distances, tour)
        if tour_length(distances, moved) == length:
            return tour
        tour = two_opt(distances, moved)
        length = tour_length(distances, tour)


HELD_KARP_MAX_CITIES = 15  # 2^14 × 14 states; CP-SAT beyond
PRUNED_FROM_CITIES = 13  # from here on the bounded Held-Karp (fewer states, more numpy calls) is faster
UNREACHED = 1 << 30  # the cost of a (subset, last city) state that no path reaches (int32 with room to add)
PENALTY_STEPS = 10  # subgradient steps tuning the bound's city penalties
BOUNDED_SOLVER = "Held-Karp 1-tree bound on a local-search tour, else bounded dynamic programming"
ONE_TREE_STEPS = 20  # subgradient steps of the 1-tree bound before the bounded Held-Karp takes over
ONE_TREE_STEP_SCALE, ONE_TREE_STEP_DECAY = 2.0, 0.95  # Polyak's step times 2, times 0.95 at every step
RESTART_STRIDE = 4  # an unproved tour: local search again from nearest neighbour at every fourth city
COST_BITS = 18  # a path cost packs in 18 bits (at most 15 cities × 14 143 < 2^18) ...
ROW_BITS = 15  # ... and a predecessor's row in 15 (at most 14 · C(13, 6) = 24 024 states a subset size)


@functools.cache
def subset_layers(others: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Held-Karp's transitions over subsets of ``others`` cities, by subset size 2…others:
    (subset, last city in it, the subset without that city) for every pair, as flat arrays."""
    masks = np.arange(1 << others, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(others)) & 1
    sizes = bits.sum(axis=1)
    layers = []
    for size in range(2, others + 1):
        members = masks[sizes == size]
        row, last = np.nonzero(bits[members])
        subset = members[row]
        layers.append((subset, last, subset ^ (1 << last)))
    return layers


def held_karp(distances: list[list[int]]) -> tuple[int, list[int]]:
    """A shortest tour from city 0, exactly, by the Held-Karp dynamic programme (numpy, one
    vectorised step per subset size): (length, tour). cost[S, j] is the shortest path from
    city 0 through the cities of S ending at j ∈ S (cities 1…n−1 as bits 0…n−2); the tour is
    read back from the last city, each step taking the lowest-numbered predecessor that
    attains the cost (so the same tour everywhere). Path lengths fit int32 (at most 15
    cities of distance ≤ 14 143 below ``UNREACHED``)."""
    table = np.asarray(distances, dtype=np.int32)
    others = len(distances) - 1
    into = np.ascontiguousarray(table[1:, 1:].T)  # into[j, k]: the distance from city k + 1 to city j + 1
    cost = np.full((1 << others, others), UNREACHED, dtype=np.int32)
    singles = np.arange(others)
    cost[1 << singles, singles] = table[0, 1:]
    for subset, last, rest in subset_layers(others):
        paths = cost[rest]
        paths += into[last]
        cost[subset, last] = paths.min(axis=1)
    everything = (1 << others) - 1
    closing = cost[everything] + table[1:, 0]
    last = int(closing.argmin())
    length = int(closing[last])
    tour, subset = [], everything
    while subset:
        tour.append(last + 1)
        subset ^= 1 << last
        if subset:
            last = int((cost[subset] + into[last]).argmin())
    return length, [0, *reversed(tour)]


def two_neighbour_terms(table: np.ndarray, penalties: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per city, under the penalised distances d(u, v) + π_u + π_v: half its two shortest edges
    less 2π (a city a path passes through) and half its shortest edge less π (a path's end).
    A path's length is at least the sum of these over its cities: each edge is counted by
    both its ends, and every penalty comes back out (a city of degree k adds kπ)."""
    penalised = table + penalties[:, None] + penalties[None, :]
    np.fill_diagonal(penalised, np.inf)
    shortest = np.partition(penalised, 1, axis=1)[:, :2]
    return shortest.sum(axis=1) / 2 - 2 * penalties, shortest[:, 0] / 2 - penalties


def city_penalties(table: np.ndarray, upper_bound: int) -> np.ndarray:
    """Penalties π that raise the two-neighbour bound (each city's two shortest penalised edges,
    halved, summed, less 2Σπ: a lower bound on every tour for any π) by ``PENALTY_STEPS``
    subgradient steps with Polyak's step length towards ``upper_bound``; the best π seen."""
    count = len(table)
    penalties = best_penalties = np.zeros(count)
    best = -np.inf
    for _ in range(PENALTY_STEPS):
        penalised = table + penalties[:, None] + penalties[None, :]
        np.fill_diagonal(penalised, np.inf)
        nearest = np.argpartition(penalised, 1, axis=1)[:, :2]
        bound = penalised[np.arange(count)[:, None], nearest].sum() / 2 - 2 * penalties.sum()
        if bound > best:
            best, best_penalties = bound, penalties
        excess = np.bincount(nearest.ravel(), minlength=count) / 2 - 1  # (own 2 + times picked) / 2 − 2
        norm = float(excess @ excess)
        if norm == 0 or bound >= upper_bound:
            break
        penalties = penalties + (upper_bound - bound) / (2 * norm) * excess
    return best_penalties


def held_karp_bounded(distances: list[list[int]], upper_bound: int) -> tuple[int, list[int]]:
    """``held_karp``'s result (the same length and the same tour), given the length U =
    ``upper_bound`` of some tour, with the states that cannot lie on a tour as short left out.
    A state (S, j) is kept only when its path cost plus the rest (a path from j through every
    city outside S back to 0) can be at most U. Up to half the cities the rest is bounded below
    by the two-neighbour bound of its cities and ends, with subgradient penalties; from there on
    it is looked up: reversed, the rest is a path from 0 through the cities outside S ending at
    j, a state of a smaller subset already kept (distances are symmetric), and one not kept
    cannot complete a shortest tour. Every state of a shortest tour is kept with its exact cost
    (its rest is within bound or is itself such a state, and its best predecessor is kept), and
    a kept state's cost is never below its true one, so each state keeps ``held_karp``'s
    read-back choice: the lowest-numbered predecessor attaining its cost. A subset size's states
    are (subset, last city) keys in a sorted array, merged by one sort of key, cost and
    predecessor (its row in the previous size's array, rows being in city order) packed in one
    integer."""
    table = np.asarray(distances, dtype=np.int64)
    count, others = len(distances), len(distances) - 1
    floats = table.astype(np.float64)
    through, end = two_neighbour_terms(floats, city_penalties(floats, upper_bound))
    slack = upper_bound - end[0] + 1e-6 * (1 + upper_bound)  # city 0 ends every path; a margin for rounding
    through, end = through[1:], end[1:]  # cities 1…n−1 as 0…n−2
    into = table[1:, 1:]
    step = into - through + end  # the bound's change when a path at j moves on to k: d(j, k) − through_k + end_k
    bits = np.int64(1) << np.arange(others, dtype=np.int64)
    costs = table[0, 1:]
    rests = through.sum() - through  # per state: the bound's terms of the cities outside its subset
    keep = costs + rests + end <= slack
    subsets, lasts, costs, rests = bits[keep], np.arange(others)[keep], costs[keep], rests[keep]
    layers = [(lasts, np.zeros(len(lasts), dtype=np.int64))]  # per subset size: last cities, predecessor rows
    prefixes = [(subsets * others + lasts, costs)]  # per subset size below halfway: sorted keys, path costs
    everything = (1 << others) - 1
    halfway = (others + 3) // 2  # from this size on, every rest is a path of a smaller size: looked up
    for size in range(2, count):
        alive = (costs + rests)[:, None] + step[lasts] <= slack
        alive &= (subsets[:, None] & bits) == 0
        row, city = np.nonzero(alive)
        grown = subsets[row] | bits[city]
        extended = costs[row] + into[lasts[row], city]
        if size >= halfway:  # the rest, reversed, is a kept path from 0 through the cities left and ``city``
            keys, rest_costs = prefixes[others - size]
            wanted = ((everything ^ grown) | bits[city]) * others + city
            position = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
            ahead = (keys[position] == wanted) & (extended + rest_costs[position] <= upper_bound)
            row, city, grown, extended = row[ahead], city[ahead], grown[ahead], extended[ahead]
        packed = np.sort(((grown * others + city) << (COST_BITS + ROW_BITS)) | (extended << ROW_BITS) | row)
        keys = packed >> (COST_BITS + ROW_BITS)
        first = np.empty(len(keys), dtype=bool)
        first[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        keys, packed = keys[first], packed[first]
        predecessors = packed & ((1 << ROW_BITS) - 1)
        subsets, lasts = keys // others, keys % others
        costs, rests = (packed >> ROW_BITS) & ((1 << COST_BITS) - 1), rests[predecessors] - through[lasts]
        layers.append((lasts, predecessors))
        if size < halfway:
            prefixes.append((keys, costs))
    closing = costs + table[1:, 0][lasts]  # one subset left, every city: keys in city order
    position = int(closing.argmin())
    tour = []
    for lasts, predecessors in reversed(layers):
        tour.append(int(lasts[position]) + 1)
        position = int(predecessors[position])
    return int(closing.min()), [0, *reversed(tour)]


def one_tree(distances: list[list[int]], penalties: list[float]) -> tuple[float, list[int]]:
    """The least 1-tree under the penalised distances d(u, v) + π_u + π_v (a spanning tree of
    cities 1…n−1 by Prim's algorithm, plus city 0's two shortest edges), less 2Σπ: (that
    length, every city's degree in it). Every tour is a 1-tree in which each city has degree
    2, so the length is a lower bound on every tour for any π (Held and Karp). Hand-written:
    at 15 cities scipy's ``minimum_spanning_tree`` alone takes about 15 times as long."""
    count = len(distances)
    nearest, parent, degree = [math.inf] * count, [1] * count, [0] * count
    outside, city, length = list(range(2, count)), 1, 0.0
    while outside:  # the tree's last city updates every city's nearest tree edge; the nearest joins
        row, penalty = distances[city], penalties[city]
        joining, shortest = -1, math.inf
        for other in outside:
            edge, known = row[other] + penalty + penalties[other], nearest[other]
            if edge < known:
                nearest[other] = known = edge
                parent[other] = city
            if known < shortest:
                joining, shortest = other, known
        city = joining
        outside.remove(city)
        length += shortest
        degree[city] += 1
        degree[parent[city]] += 1
    home = distances[0]
    a, b = sorted(range(1, count), key=lambda k: home[k] + penalties[k])[:2]
    length += home[a] + home[b] + 2 * penalties[0] + penalties[a] + penalties[b]
    degree[0], degree[a], degree[b] = 2, degree[a] + 1, degree[b] + 1
    return length - 2 * sum(penalties), degree


def one_tree_proves(distances: list[list[int]], upper_bound: int, penalties: list[float]) -> bool:
    """Whether the 1-tree bound, its penalties π (``penalties``, updated in place: a later call
    goes on from them) tuned by up to ``ONE_TREE_STEPS`` subgradient steps (π_v += λ (U −
    bound) / ‖g‖² · g_v with g_v = degree − 2: Polyak's step towards U = ``upper_bound``
    scaled by λ, 2 at first and 0.95 times the last one after), exceeds U − 1: tour lengths
    being integers, no tour is then shorter than U, so a tour of length U is a shortest one.
    A margin of 10⁻⁶(1 + U) absorbs rounding."""
    scale = ONE_TREE_STEP_SCALE
    for _ in range(ONE_TREE_STEPS):
        bound, degree = one_tree(distances, penalties)
        if bound > upper_bound - 1 + 1e-6 * (1 + upper_bound):
            return True
        excess = [d - 2 for d in degree]
        norm = sum(e * e for e in excess)
        if norm == 0:  # the 1-tree is a tour, of length at most U − 1: shorter than U
            return False
        step, scale = scale * (upper_bound - bound) / norm, scale * ONE_TREE_STEP_DECAY
        penalties[:] = [p + step * e for p, e in zip(penalties, excess)]
    return False


def shortest_tour(distances: list[list[int]], greedy: list[int]) -> tuple[int, list[int]]:
    """A shortest tour from city 0, exactly, for ``PRUNED_FROM_CITIES`` cities or more. Nearest
    neighbour from city 0 improved by ``local_search`` is the tour when the 1-tree bound proves
    its length U shortest (``one_tree_proves``). Otherwise nearest neighbour from every
    ``RESTART_STRIDE``-th further city (rotated to start at 0) is improved the same way, and
    each one shorter than the best so far becomes the tour, the bound going on from its
    penalties towards the new U, until one is proved (together about 5 instances in 6 at 15
    cities). Failing that, ``held_karp_bounded`` with the shortest U found."""
    tour = local_search(distances, nearest_neighbour_tour(distances))
    length, penalties = tour_length(distances, tour), [0.0] * len(distances)
    if one_tree_proves(distances, length, penalties):
        return length, tour
    for start in range(RESTART_STRIDE, len(distances), RESTART_STRIDE):
        path = nearest_neighbour_tour(distances, start)
        other = local_search(distances, path[path.index(0) :] + path[: path.index(0)])
        if tour_length(distances, other) < length:
            tour, length = other, tour_length(distances, other)
            if one_tree_proves(distances, length, penalties):
                return length, tour
    return held_karp_bounded(distances, length)


def solve_exact(distances: list[list[int]]):
    """CP-SAT on the circuit formulation: (run, tour or None)."""
    count = len(distances)
    model = new_cp_model()
    arcs, literals = [], {}
    for i in range(count):
        for j in range(count):
            if i != j:
                literal = model.new_bool_var(f"arc_{i}_{j}")
                literals[i, j] = literal
                arcs.append((i, j, literal))
    model.add_circuit(arcs)
    model.minimize(sum(distances[i][j] * literal for (i, j), literal in literals.items()))
    run = run_cp_sat(model, linearization_level=2)
    if not run.found:
        return run, None
    successor = {i: j for (i, j), literal in literals.items() if run.solver.boolean_value(literal)}
    tour = [0]
    while len(tour) < count:
        tour.append(successor[tour[-1]])
    return run, tour


def render_prompt(coordinates: list[tuple[int, int]], distances: list[list[int]]) -> str:
    count = len(coordinates)
    index_width = len(str(count - 1))
    width = max(index_width, len(str(max(map(max, distances)))))  # distances are non-negative
    places = "  ".join(f"{i}: ({x}, {y})" for i, (x, y) in enumerate(coordinates))
    row_format = " ".join([f"{{:>{width}}}"] * count)
    header = " " * (index_width + 1) + row_format.format(*range(count))
    rows = [f"{i:>{index_width}}:" + row_format.format(*row) for i, row in enumerate(distances)]
    return (
        f"Travelling salesman problem. Visit each of the {count} cities exactly once and return to the starting city, "
        f"with the smallest possible total distance.\n\n"
        f"City coordinates (index: (x, y)):\n{places}\n\n"
        f"The distance between two cities is their Euclidean distance rounded to the nearest integer. "
        f"Distance table (row i, column j = distance from city i to city j):\n{header}\n" + "\n".join(rows) + "\n\n"
        f"Give the tour as the list of all {count} city indices in visiting order, each exactly once (the return "
        "to the first city is implied). Put only the list inside <answer>…</answer>, in the form <answer>[0, 2, 3, "
        f"1, …]</answer> (this shows the form only; write out all {count} cities)"
    )


MAX_DRAWS = 60  # instances drawn at most while the index-order tour is as short as the reference


class TSPGenerator(OptimisationGenerator):
    declaration = FAMILY
    sense = "min"
    objective_name = "tour length"
    hint_withheld = 2  # the last two cities' order stays a choice

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        return "Cities of the reference tour in visiting order", [str(c) for c in task.answer["reference"]["solution"]]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        count, grid = params["cities"], params["grid"]
        if (grid + 1) ** 2 < count:
            raise ValueError(f"cities must be at most (grid + 1)² = {(grid + 1) ** 2} for grid={grid}, got {count}")
        draws = 0
        while draws < MAX_DRAWS:
            draws += 1
            cells = nprng.choice((grid + 1) ** 2, size=count, replace=False)
            coordinates = [(int(c) // (grid + 1), int(c) % (grid + 1)) for c in cells]
            distances = distance_matrix(coordinates)
            length, tour, status, meta = self.reference_tour(distances)
            # three cities have one tour only; otherwise the index order (any rotation, either
            # direction) must be longer than the reference, or a constant answer would score
            if count <= 3 or tour_length(distances, list(range(count))) > length:
                break
        if draws > 1:
            meta["instances_drawn"] = draws
        return {
            "prompt": render_prompt(coordinates, distances),
            "answer": {
                "instance": {"coordinates": [list(c) for c in coordinates], "distances": distances},
                "reference": reference_record(tour, length, status),
            },
            "meta": meta,
        }

    def reference_tour(self, distances: list[list[int]]) -> tuple[int, list[int], str, dict]:
        """(length, tour, status, meta) of the exact solve: Held-Karp up to
        ``HELD_KARP_MAX_CITIES`` cities (from ``PRUNED_FROM_CITIES`` on ``shortest_tour``: a
        local-search tour the 1-tree bound proves, else the bounded dynamic programme; either
        way ``effort`` stays the DP's full state count, a measure of the instance, not of the
        work the bounds saved), CP-SAT beyond (2-opt on nearest neighbour when it finds no
        tour)."""
        count = len(distances)
        greedy = nearest_neighbour_tour(distances)
        if count <= HELD_KARP_MAX_CITIES:
            pruned = count >= PRUNED_FROM_CITIES
            (length, tour), status = shortest_tour(distances, greedy) if pruned else held_karp(distances), OPTIMAL
            meta = solver_meta(
                BOUNDED_SOLVER if pruned else "Held-Karp dynamic programming (numpy)",
                status,
                length,
                tour_length(distances, greedy),
                effort=(count - 1) << (count - 2),
                effort_unit="DP states",
            )
        else:
            run, tour = solve_exact(distances)
            status = run.status
            if tour is None:
                tour, status = two_opt(distances, greedy), HEURISTIC
            length = tour_length(distances, tour)
            meta = cp_sat_meta(run, status, length, tour_length(distances, greedy))
        return length, tour, status, meta

    def greedy_solution(self, task: Task) -> list[int]:
        return nearest_neighbour_tour(task.answer["instance"]["distances"])

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        return evaluate_tour(task.answer["instance"]["distances"], solution).objective

    def wrong_candidates(self, task: Task) -> Iterator[list[int]]:
        """2-opt reversals of the reference (feasible; the first longer one is used), then the
        reference with its last city dropped (infeasible)."""
        tour = list(task.answer["reference"]["solution"])
        for i in range(1, len(tour) - 1):
            for j in range(i + 1, len(tour)):
                yield tour[:i] + tour[i : j + 1][::-1] + tour[j + 1 :]
        yield tour[:-1]

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """The cities in index order (as given, reversed, rotated: ``build`` makes that tour
        longer than the reference), a city repeated in place of another, the tour without its
        last city (shorter, infeasible), every city at once twice (too long), one city only."""
        count = len(task.answer["instance"]["distances"])
        tour = list(task.answer["reference"]["solution"])
        return [
            ("identity-tour", list(range(count))),
            ("reversed-identity-tour", list(range(count))[::-1]),
            ("rotated-identity-tour", list(range(1, count)) + [0]),
            ("city-repeated", tour[:-1] + tour[:1]),
            ("tour-missing-a-city", tour[:-1]),
            ("constant-city", [0] * count),
            ("single-city", [0]),
            ("empty-tour", []),
        ]
