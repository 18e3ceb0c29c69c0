"""How SetCover tasks are made: planted blocks, decoys and random subsets in random order, the
counting lower bound (met by the planted blocks or the greedy cover on default tasks, so no search
runs), the exact CP-SAT cover otherwise, the most-new-elements greedy, the no-search rules a
shaped instance is redrawn against (greedy and "largest disjoint subset next" from every start,
red team s11 H10, and the rarest-element greedy), wrong and hostile covers.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.set_cover``.
"""

from __future__ import annotations

import random

import numpy as np

from rlvr.core import Task
from rlvr.families.set_cover import FAMILY
from rlvr.generators.optimisation import (
    HEURISTIC,
    OPTIMAL,
    NumpyWords,
    OptimisationGenerator,
    cp_sat_meta,
    new_cp_model,
    reference_record,
    run_cp_sat,
    solver_meta,
)
from rlvr.verifiers.set_cover import evaluate_cover

OVERLAP_SHARE = 0.25  # a planted block borrows at most this share of the block size from the others
RESERVE = 2  # elements of each other block that a block's trap leaves out
MAX_DRAWS = 12  # shaped instances drawn while a shortcut rule is optimal; the last one is kept


def most_new_elements_greedy(elements: int, subsets: list[list[int]]) -> list[int]:
    """Repeatedly the subset covering most uncovered elements, ties to the lower index (subsets
    and the uncovered elements as bitsets)."""
    members = [sum(1 << e for e in set(subset)) for subset in subsets]
    uncovered = (1 << elements) - 1
    chosen = []
    while uncovered:
        best, gain = 0, -1
        for j, bits in enumerate(members):
            new = (bits & uncovered).bit_count()
            if new > gain:
                best, gain = j, new
        if not gain:
            raise ValueError("the subsets do not cover the universe")
        chosen.append(best)
        uncovered &= ~members[best]
    return sorted(chosen)


def disjoint_greedy(elements: int, subsets: list[list[int]], first: int) -> list[int]:
    """Red team s11 H10's rule from one start: ``first``, then repeatedly the largest subset
    disjoint from what is covered (ties to the lower index), then most-new-elements greedy
    until the universe is covered (ties to the lower index)."""
    members = [sum(1 << e for e in set(subset)) for subset in subsets]
    chosen, covered = [first], members[first]
    while True:
        free = [j for j, bits in enumerate(members) if bits and not bits & covered and j not in chosen]
        if not free:
            break
        best = max(free, key=lambda j: (members[j].bit_count(), -j))
        chosen.append(best)
        covered |= members[best]
    return _greedy_fill(elements, members, chosen, covered)


def greedy_from(elements: int, subsets: list[list[int]], first: int) -> list[int]:
    """``first``, then most-new-elements greedy (ties to the lower index) until covered."""
    members = [sum(1 << e for e in set(subset)) for subset in subsets]
    return _greedy_fill(elements, members, [first], members[first])


def _greedy_fill(elements: int, members: list[int], chosen: list[int], covered: int) -> list[int]:
    uncovered = ((1 << elements) - 1) & ~covered
    while uncovered:
        best = max(range(len(members)), key=lambda j: ((members[j] & uncovered).bit_count(), -j))
        if not members[best] & uncovered:
            raise ValueError("the subsets do not cover the universe")
        chosen.append(best)
        uncovered &= ~members[best]
    return chosen


def rarest_element_greedy(elements: int, subsets: list[list[int]]) -> list[int]:
    """Repeatedly the uncovered element in the fewest subsets (ties to the lower element), then
    the subset holding it that covers most uncovered elements (ties to the lower index)."""
    members = [sum(1 << e for e in set(subset)) for subset in subsets]
    frequency = [0] * elements
    for subset in subsets:
        for element in set(subset):
            frequency[element] += 1
    by_rarity = sorted(range(elements), key=lambda e: (frequency[e], e))
    uncovered, chosen = (1 << elements) - 1, []
    while uncovered:
        element = next(e for e in by_rarity if uncovered >> e & 1)
        holders = [j for j, bits in enumerate(members) if bits >> element & 1]
        if not holders:
            raise ValueError("the subsets do not cover the universe")
        best = max(holders, key=lambda j: ((members[j] & uncovered).bit_count(), -j))
        chosen.append(best)
        uncovered &= ~members[best]
    return sorted(chosen)


def rarest_element_reaches(member: np.ndarray, target: int) -> bool:
    """Whether ``rarest_element_greedy`` covers the universe with at most ``target`` subsets
    (``member``: the subsets × elements Boolean matrix; at most ``target`` steps are run)."""
    frequency = member.sum(axis=0)
    rarity = frequency * member.shape[1] + np.arange(member.shape[1])  # fewest subsets, then lower element
    ones = member.astype(np.float32)
    uncovered = np.ones(member.shape[1], dtype=bool)
    for _ in range(target):
        element = int(np.where(uncovered, rarity, rarity.max() + 1).argmin())
        gains = np.where(member[:, element], ones @ uncovered.astype(np.float32), -1.0)
        uncovered &= ~member[int(gains.argmax())]
        if not uncovered.any():
            return True
    return False


def shortcut_reaches(member: np.ndarray, target: int) -> bool:
    """Whether most-new-elements greedy or ``disjoint_greedy``, started from any subset, covers
    the universe with at most ``target`` subsets. ``member`` is the subsets × elements Boolean
    matrix; every start runs at once (matrix products), and only ``target`` steps are followed,
    since a longer run cannot reach the target."""
    count = member.shape[0]
    ones = member.astype(np.float32)  # exact counts; float products run in BLAS
    sizes = member.sum(axis=1)
    rank = sizes * count + np.arange(count - 1, -1, -1)  # larger first, ties to the lower index
    overlaps = (ones @ ones.T) > 0
    # the disjoint phase, every start at once: rows are starts
    covered, blocked = member.copy(), overlaps.copy()
    length = np.ones(count, dtype=np.int64)
    chaining = np.ones(count, dtype=bool)
    for _ in range(target - 1):
        candidates = np.where(blocked, -1, rank[None, :])
        best = candidates.argmax(axis=1)
        chaining &= candidates.max(axis=1) >= 0
        if not chaining.any():
            break
        rows = np.flatnonzero(chaining)
        covered[rows] |= member[best[rows]]
        blocked[rows] |= overlaps[best[rows]]
        length[rows] += 1
    chaining &= (np.where(blocked, -1, rank[None, :]).max(axis=1) >= 0) & ~covered.all(axis=1)
    # starts still chaining after ``target`` subsets end above it; the others fill greedily
    states = [(covered[~chaining], target - length[~chaining])]
    states.append((member.copy(), np.full(count, target - 1)))  # plain greedy from each start
    return any(_greedy_reaches(member, ones, state, budget) for state, budget in states)


def _greedy_reaches(member: np.ndarray, ones: np.ndarray, covered: np.ndarray, budget: np.ndarray) -> bool:
    """Whether greedy, from any row's covered elements, covers the rest within that row's
    budget of further subsets (greedy's last step covers the rest exactly when some subset
    holds all of it, which is then a most-new-elements choice)."""
    complement = (~member).astype(np.float32).T
    while covered.shape[0]:
        if (covered.all(axis=1) & (budget >= 0)).any():
            return True
        missing = (~covered).astype(np.float32)
        last = budget == 1
        if last.any() and ((missing[last] @ complement) == 0).any():
            return True
        going = budget > 1
        covered, budget, missing = covered[going], budget[going] - 1, missing[going]
        if covered.shape[0]:
            covered = covered | member[(missing @ ones.T).argmax(axis=1)]
    return False


def counting_lower_bound(elements: int, subsets: list[list[int]]) -> int:
    """The fewest subsets whose sizes add up to at least ``elements``, largest first: no cover
    has fewer (its sizes add up to at least the universe's)."""
    covered = 0
    for count, size in enumerate(sorted((len(s) for s in subsets), reverse=True), start=1):
        covered += size
        if covered >= elements:
            return count
    raise ValueError("the subsets do not cover the universe")


def draw_partition(
    nprng: np.random.Generator, elements: int, planted_count: int, decoys: int, decoy_size: float, randoms: int
) -> tuple[list[list[int]], list[int]]:
    """Planted blocks partitioning the universe, ``decoys`` random subsets of ``decoy_size`` ×
    the block size and ``randoms`` of half of it, in random order; the subsets and the planted
    blocks' positions."""
    block = elements / planted_count
    subsets = [sorted(part.tolist()) for part in np.array_split(nprng.permutation(elements), planted_count)]
    sizes = [
        (count, min(elements, max(1, int(np.floor(size + 0.5)))))
        for count, size in ((decoys, decoy_size * block), (randoms, 0.5 * block))
    ]
    # numpy's choice(elements, size, replace=False) per subset, replayed exactly (2·size − 1 words each)
    words = NumpyWords(nprng, expected_words=sum(count * (2 * size - 1) for count, size in sizes))
    subsets += words.sorted_samples(elements, [size for count, size in sizes for _ in range(count)])
    words.close()
    return shuffled(nprng, subsets, planted_count)


def shuffled(nprng: np.random.Generator, subsets: list[list[int]], planted_count: int):
    """The subsets in random order and the new positions of the first ``planted_count``."""
    order = nprng.permutation(len(subsets)).tolist()
    return [subsets[i] for i in order], sorted(order.index(j) for j in range(planted_count))


def draw_shaped(
    nprng: np.random.Generator, elements: int, planted_count: int, decoys: int, decoy_size: float, randoms: int
) -> tuple[list[list[int]], list[int], np.ndarray]:
    """A shaped instance (red team s11 H10): planted blocks that overlap, decoys, and random
    subsets of half the block size, in random order; the subsets, the planted blocks' positions
    and the subsets × elements Boolean membership matrix.

    Each block is a part of a random partition plus ``overlap`` elements of the other parts (an
    element is borrowed at most once): the largest overlap up to ``OVERLAP_SHARE`` × the part
    size that keeps the ``planted_count`` − 1 largest subsets smaller than the universe together,
    so the counting lower bound still proves the planted blocks optimal (none when no overlap
    does; every subset below is at most the size that check assumed). The decoys, in order:
    traps, one per block (blocks in random order), drawn outside their block with one element
    more than any other block has beyond it, so that after the block greedy and "the largest
    subset disjoint from what is covered" both take the trap; each leaves out ``spare`` (up to
    ``RESERVE``) elements of every other block that no other block holds, so no single subset
    need cover the rest. Then up to as many shadows, each drawn outside a base (a uniform subset
    of a block's size) with a trap's size, leaving out as many elements: low-overlap pairs that
    are not a block and its trap. The other decoys are uniform, one element larger than the
    largest block (at least ``decoy_size`` × the part size), so the largest subsets are not
    the blocks."""
    small, larger = divmod(elements, planted_count)
    sizes = [small + 1] * larger + [small] * (planted_count - larger)  # numpy's array_split sizes
    part_of = np.empty(elements, dtype=np.int64)
    part_of[nprng.permutation(elements)] = np.repeat(np.arange(planted_count), sizes)
    block = elements / planted_count
    half = min(elements, max(1, int(np.floor(0.5 * block + 0.5))))

    def decoy_length(overlap: int) -> int:
        return min(elements, max(sizes[0] + overlap + 1, int(np.floor(decoy_size * block + 0.5))))

    overlap = 0
    for candidate in range(int(OVERLAP_SHARE * block), 0, -1):
        largest = sorted([size + candidate for size in sizes] + [decoy_length(candidate)] * 2 + [half], reverse=True)
        if sum(largest[: planted_count - 1]) < elements:
            overlap = candidate
            break
    traps = min(decoys, planted_count)
    shadows = min(traps, (decoys - traps) // 2)  # uniform decoys with a decoy drawn outside them
    count = planted_count + decoys + randoms
    # one key per (row, element): borrowing (block rows), decoys and random subsets, then the
    # elements the traps and shadows leave out
    keys = nprng.random((count + traps + shadows, elements))
    inside = part_of[None, :] == np.arange(planted_count)[:, None]
    borrowed = np.zeros(elements, dtype=bool)
    for i in range(planted_count if overlap else 0):  # overlap ≥ 1 leaves room: parts of 4 or more
        taken = np.argpartition(np.where(inside[i] | borrowed, 2.0, keys[i]), overlap - 1)[:overlap]
        inside[i, taken] = borrowed[taken] = True
    owners = nprng.permutation(planted_count)[:traps]
    ones = inside.astype(np.float32)
    beyond = inside.sum(axis=1)[None, :] - ones @ ones.T  # [i, j]: elements of block j outside block i
    np.fill_diagonal(beyond, 0)
    reach = (beyond.max(axis=1) + 1).astype(np.int64)  # a trap's size: beats every other block after its own
    member = np.zeros((count, elements), dtype=bool)
    member[:planted_count] = inside
    # uniform rows: the shadows' bases (a block's size), the other decoys and the random subsets
    uniform = planted_count + traps + shadows
    lengths = np.full(count - uniform, decoy_length(overlap))
    lengths[:shadows] = sizes[0] + overlap
    lengths[decoys - traps - shadows :] = half
    _take_smallest(member[uniform:], keys[uniform:count], lengths)
    bases = member[uniform : uniform + shadows]
    outside = np.concatenate([~inside[owners], ~bases])
    lengths = np.concatenate([reach[owners], np.full(shadows, reach.max())])
    # each trap leaves out ``spare`` elements of every other block that no other block holds, so
    # no block covers what its block and its trap leave; a shadow leaves out as many elements
    room = (outside[:traps].sum(axis=1) - lengths[:traps]) // (planted_count - 1)
    spare = max(0, min([RESERVE, *room.tolist()]))
    reserve_keys = keys[count:]
    if spare and traps:
        # per trap, the elements grouped by part, lone elements of the other blocks first by key
        lone = (inside.sum(axis=0) == 1)[None, :] & ~inside[owners]
        grouped = np.argsort(part_of[None, :] * 4 + np.where(lone, reserve_keys[:traps], 2.0), axis=1)
        starts = np.cumsum([0, *sizes[:-1]])
        columns = [[starts[j] + r for j in range(planted_count) if j != i for r in range(spare)] for i in owners]
        picked = np.take_along_axis(grouped, np.array(columns), axis=1)
        keep = np.take_along_axis(lone, picked, axis=1)  # a part with fewer lone elements gives fewer
        outside[np.nonzero(keep)[0], picked[keep]] = False
        if shadows:
            shadow_keys = np.where(outside[traps:], reserve_keys[traps:], 2.0)
            picked = np.argsort(shadow_keys, axis=1)[:, : spare * (planted_count - 1)]
            outside[traps + np.arange(shadows)[:, None], picked] = False
    lengths = np.minimum(lengths, outside.sum(axis=1))
    rows = slice(planted_count, planted_count + traps + shadows)
    _take_smallest(member[rows], np.where(outside, keys[rows], 2.0), lengths)
    order = nprng.permutation(member.shape[0])
    member = member[order]
    flat, subsets, start = np.nonzero(member)[1].tolist(), [], 0
    for count in member.sum(axis=1).tolist():
        subsets.append(flat[start : start + count])
        start += count
    return subsets, np.flatnonzero(order < planted_count).tolist(), member


def _take_smallest(rows: np.ndarray, keys: np.ndarray, counts: np.ndarray) -> None:
    """Mark, in each row, the positions of that row's ``counts[row]`` smallest keys."""
    top = int(counts.max()) if rows.shape[0] else 0
    if top:
        order = np.argsort(keys, axis=1, kind="stable")[:, :top]
        keep = np.arange(top)[None, :] < counts[:, None]
        rows[np.nonzero(keep)[0], order[keep]] = True


def solve_exact(elements: int, subsets: list[list[int]]):
    model = new_cp_model()
    take = [model.new_bool_var(f"take_{j}") for j in range(len(subsets))]
    covering: list[list[int]] = [[] for _ in range(elements)]
    for j, subset in enumerate(subsets):
        for element in subset:
            covering[element].append(j)
    for element in range(elements):
        model.add_bool_or([take[j] for j in covering[element]])
    model.minimize(sum(take))
    run = run_cp_sat(model, linearization_level=2)
    if not run.found:
        return run, None
    return run, [j for j in range(len(subsets)) if run.solver.boolean_value(take[j])]


class SetCoverGenerator(OptimisationGenerator):
    declaration = FAMILY
    sense = "min"
    objective_name = "number of subsets"

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        return "Subsets of the reference cover", [f"S{i}" for i in task.answer["reference"]["solution"]]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        elements, planted_count = params["elements"], params["planted_sets"]
        decoys, decoy_size, randoms = params["decoy_sets"], params["decoy_size"], params["random_sets"]
        if planted_count > elements:
            raise ValueError(f"planted_sets must be at most elements = {elements}, got {planted_count}")
        shaped = planted_count >= 3 and decoy_size > 1  # decoys larger than a block: redraw shortcuts
        draws = 0
        while draws < MAX_DRAWS:
            draws += 1
            if not shaped:
                subsets, planted = draw_partition(nprng, elements, planted_count, decoys, decoy_size, randoms)
                break
            # greedy is greedy started from its first subset: shortcut_reaches covers it
            subsets, planted, member = draw_shaped(nprng, elements, planted_count, decoys, decoy_size, randoms)
            if not rarest_element_reaches(member, planted_count) and not shortcut_reaches(member, planted_count):
                break
        greedy = most_new_elements_greedy(elements, subsets)
        extra = {"draws": draws} if shaped else {}  # instances drawn (shaped instances only)
        fallback = min(planted, greedy, key=len)  # the planted blocks on a tie
        bound = counting_lower_bound(elements, subsets)
        if len(fallback) == bound:  # provably optimal: no search
            chosen, status = fallback, OPTIMAL
            meta = solver_meta(
                "lower bound met (planted blocks or greedy cover)",
                status,
                len(chosen),
                len(greedy),
                effort=0.0,
                effort_unit="CP-SAT deterministic seconds",
                search_branches=0,
                search_conflicts=0,
                lower_bound=bound,
                planted=planted,
                **extra,
            )
        else:
            run, chosen = solve_exact(elements, subsets)
            status = run.status
            if chosen is None or len(fallback) < len(chosen):
                chosen, status = fallback, HEURISTIC
            meta = cp_sat_meta(run, status, len(chosen), len(greedy), lower_bound=bound, planted=planted, draws=draws)
        listing = "\n".join(f"S{j} = {{{', '.join(map(str, subset))}}}" for j, subset in enumerate(subsets))
        prompt = (
            f"Set cover. The universe is the {elements} elements 0 to {elements - 1}. There are {len(subsets)} "
            f"subsets:\n{listing}\n\n"
            "Choose as few subsets as possible whose union is the whole universe (every element in at least one "
            "chosen "
            "subset).\nAnswer with the list of the chosen subset indices (the number after S), in any order. Put "
            "only the "
            f"list inside <answer>…</answer>, in the form <answer>[0, 3, 5, …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {
                "instance": {"elements": elements, "subsets": subsets},
                "reference": reference_record(chosen, len(chosen), status),
            },
            "meta": meta,
        }

    def greedy_solution(self, task: Task) -> list[int]:
        instance = task.answer["instance"]
        return most_new_elements_greedy(int(instance["elements"]), instance["subsets"])

    def objective_of(self, task: Task, solution: list[int]) -> float | None:
        instance = task.answer["instance"]
        return evaluate_cover(int(instance["elements"]), instance["subsets"], solution).objective

    def wrong_candidates(self, task: Task):
        """The reference plus one unused subset (one more), then the reference without its first
        subset (an optimal cover is minimal, so an element is left uncovered)."""
        chosen = list(task.answer["reference"]["solution"])
        unused = [j for j in range(len(task.answer["instance"]["subsets"])) if j not in set(chosen)]
        if unused:
            yield chosen + [unused[0]]
        yield chosen[1:]

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[int]]]:
        """No subset, every subset (feasible, most), the largest subset alone, the reference
        without one subset, and the no-search rules generation redraws against (shaped
        instances): the best over every start of red team s11 H10's disjoint greedy and of
        greedy, and the rarest-element greedy."""
        instance = task.answer["instance"]
        elements, subsets = int(instance["elements"]), instance["subsets"]
        chosen = list(task.answer["reference"]["solution"])
        largest = max(range(len(subsets)), key=lambda j: (len(subsets[j]), -j))
        starts = range(len(subsets))
        return [
            ("empty-cover", []),
            ("all-subsets", list(range(len(subsets)))),
            ("largest-subset", [largest]),
            ("reference-minus-one", chosen[1:]),
            ("disjoint-greedy-every-start", min((disjoint_greedy(elements, subsets, f) for f in starts), key=len)),
            ("greedy-every-start", min((greedy_from(elements, subsets, f) for f in starts), key=len)),
            ("rarest-element-greedy", rarest_element_greedy(elements, subsets)),
        ]
