"""How SetCover tasks are made: planted blocks, decoys and random subsets in random order, the
counting lower bound (met by the planted blocks or the greedy cover on default tasks, so no search
runs), the exact CP-SAT cover otherwise, the most-new-elements greedy, the no-search rules a
shaped instance is redrawn against (greedy and "largest disjoint subset next" from every start,
red team s11 H10, and the rarest-element greedy), wrong and hostile covers. Up to 64 elements
and 64 subsets (every default level) a shaped draw and its redraw test are one call compiled by
numba (``rlvr.generators.set_cover_draws``: the same draws and decisions as the Python functions
here, which serve larger instances).

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.set_cover``.
"""

from __future__ import annotations

import functools
import math
import random
from collections import Counter
from itertools import chain
from typing import NamedTuple

import numpy as np

from rlvr.core import DeferredNumpyRng, Task
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
from rlvr.generators.set_cover_draws import EVERY_START, REACHES, UNCOVERED, WORD_BITS, shaped_draw
from rlvr.verifiers.set_cover import evaluate_cover

OVERLAP_SHARE = 0.25  # a planted block borrows at most this share of the block size from the others
RESERVE = 2  # elements of each other block that a block's trap leaves out
MAX_DRAWS = 12  # shaped instances drawn while a shortcut rule is optimal; the last one is kept
COVER_SEARCH_NODES = 4096  # branches listing the small covers before every start is tested instead


def most_new_elements_greedy(elements: int, subsets: list[list[int]]) -> list[int]:
    """Repeatedly the subset covering most uncovered elements, ties to the lower index (subsets
    and the uncovered elements as bitsets)."""
    bit = [1 << e for e in range(elements)]
    return bitset_greedy(elements, [sum(map(bit.__getitem__, set(subset))) for subset in subsets])


def bitset_greedy(elements: int, members: list[int]) -> list[int]:
    """``most_new_elements_greedy`` of the subsets as bitsets (of ``elements`` bits)."""
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


def rarity_bitsets(elements: int, rows: list[list[int]]) -> tuple[list[int], Holders]:
    """The subsets as bitsets with the elements renumbered by rarity (fewest subsets, then the
    lower element), so that the rarest element of a set is its lowest bit, and the subsets
    holding each renumbered element."""
    frequency = Counter(chain.from_iterable(rows))
    bit = [0] * elements
    for rank, element in enumerate(sorted(range(elements), key=frequency.__getitem__)):  # ties: the lower
        bit[element] = 1 << rank
    masks = [sum(map(bit.__getitem__, row)) for row in rows]
    return masks, Holders(masks)


class Holders(dict):
    """The subsets holding an element, in index order (found when first asked for)."""

    def __init__(self, masks: list[int]) -> None:
        super().__init__()
        self.masks = masks

    def __missing__(self, element: int) -> list[int]:
        found = self[element] = [j for j, bits in enumerate(self.masks) if bits >> element & 1]
        return found


def rule_reaches(elements: int, rows: list[list[int]], masks: list[int], holders: Holders, target: int) -> bool:
    """Whether a no-search rule the redraw rejects covers the universe with at most ``target``
    subsets: ``rarest_element_greedy``, or most-new-elements greedy or ``disjoint_greedy``
    started from any subset (``rows``: the subsets; ``masks`` and ``holders``: their
    ``rarity_bitsets``).

    A start-anywhere rule that reaches ``target`` has picked a cover of at most ``target``
    subsets, its start among them. So the covers of at most ``target`` subsets are listed
    first (branching on the rarest uncovered element); when they all have exactly ``target``
    subsets (none is smaller, so none holds a subset it does not need), the rules run only
    from starts in one of them, each run stopping once its picks lie in none (a greedy pick is
    the best allowed subset unless some subset beats it, larger subsets first). When a smaller
    cover exists, or the listing takes more than ``COVER_SEARCH_NODES`` branches, every start
    is tested by ``every_start_reaches``."""
    full = (1 << elements) - 1
    uncovered = full
    for _ in range(target):  # the rarest-element greedy, at most ``target`` picks
        best, gain = -1, -1
        for j in holders[(uncovered & -uncovered).bit_length() - 1]:
            new = (masks[j] & uncovered).bit_count()
            if new > gain:
                best, gain = j, new
        if best < 0:
            raise ValueError("the subsets do not cover the universe")
        uncovered &= ~masks[best]
        if not uncovered:
            return True
    covers: list[int] = []  # covers of exactly ``target`` subsets, as bitsets of subset indices
    nodes = [COVER_SEARCH_NODES]
    missed = [full ^ bits for bits in masks]  # what each subset leaves out
    largest = max(map(int.bit_count, masks))

    def search(rest: int, chosen: int, room: int) -> bool:
        """List the covers of ``rest`` by ``room`` more subsets; False on a cover by fewer or
        when out of branches."""
        for j in holders[(rest & -rest).bit_length() - 1]:
            left = rest & missed[j]
            if not left:
                if room > 1:
                    return False
                covers.append(chosen | 1 << j)
            elif room == 2 and left.bit_count() <= largest:  # the last subset holds all that is left
                nodes[0] -= 1
                for last in holders[(left & -left).bit_length() - 1]:
                    if not left & missed[last]:
                        covers.append(chosen | 1 << j | 1 << last)
            elif room > 2:
                nodes[0] -= 1
                if nodes[0] < 0 or not search(left, chosen | 1 << j, room - 1):
                    return False
        return nodes[0] >= 0

    if not search(full, 0, target):
        return every_start_reaches(_matrix(elements, rows), target)

    count = len(masks)
    sizes = [len(row) for row in rows]
    by_size = sorted(range(count), key=lambda j: -sizes[j])  # largest first, ties: the lower index
    starts = 0
    for cover in covers:
        starts |= cover
    for first in (j for j in range(count) if starts >> j & 1):
        for disjoint in (False, True):
            chosen, covered = 1 << first, masks[first]
            if covered == full:
                return True
            for _ in range(target - 1):
                allowed = 0  # the subsets that keep the picks inside a listed cover
                for cover in covers:
                    if not chosen & ~cover:
                        allowed |= cover
                allowed &= ~chosen
                if not allowed:
                    break
                best = -1
                if disjoint:  # the largest non-empty subset disjoint from what is covered
                    best = next((j for j in by_size if masks[j] and not masks[j] & covered), -1)
                    disjoint = best >= 0
                if best < 0:  # most new elements, ties to the lower index: the best allowed, if none beats it
                    uncovered, gain = full & ~covered, -1
                    rest = allowed
                    while rest:  # in index order
                        j = (rest & -rest).bit_length() - 1
                        rest &= rest - 1
                        new = (masks[j] & uncovered).bit_count()
                        if new > gain:
                            best, gain = j, new
                    for j in by_size:
                        if sizes[j] < gain:
                            break
                        new = (masks[j] & uncovered).bit_count()
                        if new > gain or (new == gain and j < best):
                            best = -1
                            break
                if best < 0 or not allowed >> best & 1:
                    break
                chosen |= 1 << best
                covered |= masks[best]
                if covered == full:
                    return True
    return False


def _matrix(elements: int, rows: list[list[int]]) -> np.ndarray:
    member = np.zeros((len(rows), elements), dtype=bool)
    for j, row in enumerate(rows):
        member[j, row] = True
    return member


def every_start_reaches(member: np.ndarray, target: int) -> bool:
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
    small, larger = divmod(elements, planted_count)  # numpy's array_split sizes
    parts = _split(nprng.permutation(elements).tolist(), [small + 1] * larger + [small] * (planted_count - larger))
    subsets = [sorted(part) for part in parts]
    sizes = [
        (count, min(elements, max(1, math.floor(size + 0.5))))
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


class ShapedLayout(NamedTuple):
    """What a shaped draw's parameters fix (``draw_shaped``): the partition's part sizes
    (numpy's array_split sizes), the elements each block borrows, the traps, the shadows, the
    rows in all, and the lengths of the uniform rows (read-only int64: the shadows' bases, a
    block's size; the other decoys; the random subsets)."""

    sizes: tuple[int, ...]
    overlap: int
    traps: int
    shadows: int
    count: int
    uniform_lengths: np.ndarray


@functools.lru_cache(maxsize=256)
def shaped_layout(elements: int, planted_count: int, decoys: int, decoy_size: float, randoms: int) -> ShapedLayout:
    """The ``ShapedLayout`` of ``draw_shaped``'s parameters (the same object for the same
    parameters: treat it as read-only)."""
    small, larger = divmod(elements, planted_count)
    sizes = (small + 1,) * larger + (small,) * (planted_count - larger)
    block = elements / planted_count
    half = min(elements, max(1, math.floor(0.5 * block + 0.5)))

    def decoy_length(overlap: int) -> int:
        return min(elements, max(sizes[0] + overlap + 1, math.floor(decoy_size * block + 0.5)))

    overlap = 0
    for candidate in range(int(OVERLAP_SHARE * block), 0, -1):
        largest = sorted([size + candidate for size in sizes] + [decoy_length(candidate)] * 2 + [half], reverse=True)
        if sum(largest[: planted_count - 1]) < elements:
            overlap = candidate
            break
    traps = min(decoys, planted_count)
    shadows = min(traps, (decoys - traps) // 2)  # uniform decoys with a decoy drawn outside them
    count = planted_count + decoys + randoms
    # the uniform rows: the shadows' bases (a block's size), the other decoys and the random subsets
    lengths = [sizes[0] + overlap] * shadows + [decoy_length(overlap)] * (decoys - traps - 2 * shadows)
    lengths += [half] * (count - planted_count - traps - shadows - len(lengths))
    uniform_lengths = np.array(lengths, dtype=np.int64)
    uniform_lengths.flags.writeable = False
    return ShapedLayout(sizes, overlap, traps, shadows, count, uniform_lengths)


def draw_shaped(
    nprng: np.random.Generator, elements: int, planted_count: int, decoys: int, decoy_size: float, randoms: int
) -> tuple[list[list[int]], list[int]]:
    """A shaped instance (red team s11 H10): planted blocks that overlap, decoys, and random
    subsets of half the block size, in random order; the subsets (their elements in no order)
    and the planted blocks' positions.

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
    the blocks.

    The draws are numpy's: a permutation (the partition), one uniform key per (row, element),
    a permutation (the trap owners) and one of the rows. A row takes the elements of smallest
    key among those it may hold: the rows × elements keys are sorted once, row by row."""
    sizes, overlap, traps, shadows, count, uniform_lengths = shaped_layout(
        elements, planted_count, decoys, decoy_size, randoms
    )
    parts = _split(nprng.permutation(elements).tolist(), sizes)
    part_of = [0] * elements
    for part, members in enumerate(parts):
        for element in members:
            part_of[element] = part
    # one key per (row, element): borrowing (block rows), decoys and random subsets, then the
    # elements the traps and shadows leave out; each row's elements by key
    uniform = planted_count + traps + shadows  # the first uniform row
    order_by_key = np.argsort(nprng.random((count + traps + shadows, elements)), axis=1, kind="stable")
    by_key, reserve_by_key = order_by_key[:uniform].tolist(), order_by_key[count:].tolist()  # uniform rows: below
    bit = [1 << element for element in range(elements)]
    blocks = parts
    borrowed = [False] * elements
    for i in range(planted_count if overlap else 0):  # overlap ≥ 1 leaves room: parts of 4 or more
        taken = [e for e in by_key[i] if part_of[e] != i and not borrowed[e]][:overlap]
        for element in taken:
            borrowed[element] = True
        blocks[i] += taken
    masks = [sum(map(bit.__getitem__, row)) for row in blocks]
    owners = nprng.permutation(planted_count)[:traps].tolist()
    # a trap's size: one more than any other block has beyond its own
    reach = [1 + max((other & ~mine).bit_count() for other in masks) for mine in masks]
    lengths = uniform_lengths.tolist()
    uniform_rows = [
        row[:length] for row, length in zip(order_by_key[uniform:count, : max(lengths, default=0)].tolist(), lengths)
    ]
    full = (1 << elements) - 1
    outside = [full & ~masks[i] for i in owners]
    outside += [full & ~sum(map(bit.__getitem__, row)) for row in uniform_rows[:shadows]]
    lengths = [reach[i] for i in owners] + [max(reach)] * shadows
    # each trap leaves out ``spare`` elements of every other block that no other block holds, so
    # no block covers what its block and its trap leave; a shadow leaves out as many elements
    room = [(outside[t].bit_count() - lengths[t]) // (planted_count - 1) for t in range(traps)]
    spare = max(0, min([RESERVE, *room]))
    if spare and traps:
        for t, owner in enumerate(owners):  # the lone elements of each other block with the smallest keys
            left = [spare] * planted_count
            left[owner] = 0
            wanted = spare * (planted_count - 1)
            for element in reserve_by_key[t]:
                part = part_of[element]
                if left[part] and not borrowed[element]:
                    outside[t] &= ~bit[element]
                    left[part] -= 1
                    wanted -= 1
                    if not wanted:
                        break
        for s in range(traps, traps + shadows):
            keep = [e for e in reserve_by_key[s] if outside[s] >> e & 1][: spare * (planted_count - 1)]
            outside[s] &= ~sum(map(bit.__getitem__, keep))
    rows = blocks
    for r, (region, length) in enumerate(zip(outside, lengths)):
        rows.append([e for e in by_key[planted_count + r] if region >> e & 1][:length])
    rows += uniform_rows
    order = nprng.permutation(count).tolist()
    return [rows[i] for i in order], [k for k, i in enumerate(order) if i < planted_count]


def redrawn_shaped(
    nprng: np.random.Generator, elements: int, planted_count: int, decoys: int, decoy_size: float, randoms: int
) -> tuple[list[list[int]], list[int], list[int], int]:
    """Shaped instances (``draw_shaped``) drawn while a no-search rule reaches the planted count
    (``rule_reaches``; greedy is greedy started from its first subset), at most ``MAX_DRAWS``,
    the last kept: (its subsets, each sorted, the planted blocks' positions, the
    most-new-elements greedy cover, the draws). Up to 64 elements and 64 subsets, each draw and
    its test are one compiled call (``set_cover_draws.shaped_draw``: the same draws, instance
    and decision), with ``every_start_reaches`` where the cover listing gives up."""
    layout = shaped_layout(elements, planted_count, decoys, decoy_size, randoms)
    compiled = elements <= WORD_BITS and layout.count <= WORD_BITS
    draws = 0
    while draws < MAX_DRAWS:
        draws += 1
        if compiled:
            outcome, subsets, planted, greedy = shaped_draw(
                nprng,
                elements,
                planted_count,
                layout.overlap,
                layout.traps,
                layout.shadows,
                layout.uniform_lengths,
                RESERVE,
                COVER_SEARCH_NODES,
            )
            if outcome == UNCOVERED:
                raise ValueError("the subsets do not cover the universe")
            reaches = outcome == REACHES or (
                outcome == EVERY_START and every_start_reaches(_matrix(elements, subsets), planted_count)
            )
        else:
            rows, planted = draw_shaped(nprng, elements, planted_count, decoys, decoy_size, randoms)
            masks, holders = rarity_bitsets(elements, rows)
            reaches = rule_reaches(elements, rows, masks, holders, planted_count)
        if not reaches:
            break
    if not compiled:
        subsets = [sorted(row) for row in rows]
        greedy = bitset_greedy(elements, masks)  # the renumbering changes no choice
    return subsets, planted, greedy, draws


def _split(values: list[int], sizes: list[int]) -> list[list[int]]:
    starts = [0]
    for size in sizes:
        starts.append(starts[-1] + size)
    return [values[a:b] for a, b in zip(starts, starts[1:])]


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
        extra = {}
        if isinstance(nprng, DeferredNumpyRng):  # the generator itself: no lookup per draw
            nprng = nprng.generator
        if shaped:
            subsets, planted, greedy, draws = redrawn_shaped(
                nprng, elements, planted_count, decoys, decoy_size, randoms
            )
            extra["draws"] = draws  # instances drawn (shaped instances only)
        else:
            draws = 1
            subsets, planted = draw_partition(nprng, elements, planted_count, decoys, decoy_size, randoms)
            greedy = most_new_elements_greedy(elements, subsets)
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
        # a list of ints prints as its items joined by ", " within brackets
        listing = "\n".join(f"S{j} = {{{str(subset)[1:-1]}}}" for j, subset in enumerate(subsets))
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
