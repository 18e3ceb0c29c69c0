"""Canonical forms of problems: one JSON-able value per problem, whatever its presentation.

The generators' ``split_group`` methods (``rlvr.core.TaskGenerator``; ``rlvr.api`` module
docstring, "Splits" and "Uniqueness") use these where one problem can be shown in several ways:
its people, vertices or machines numbered otherwise, its digits renamed, its rows shuffled, its
grid turned or mirrored.

Contract of every function here:
- equal presentations give equal forms: the form is a function of the problem up to the
  relabellings named in its docstring (an isomorphism-invariant);
- equal forms mean one problem: two inputs with one form pose problems whose answers map onto
  each other by such a relabelling, except where a docstring names a fallback invariant (an
  input whose exact search would exceed its budget gets an invariant that two non-isomorphic
  inputs can share, which only ever puts two problems on one split side and counts them once);
- bounded: each is polynomial in the input, with a node budget on the only exponential search.

The exact forms for graphs and Knights & Knaves puzzles come from one individualisation-
refinement search (``canonical_form``): colour refinement to a stable partition, then every
choice of vertex to single out in the first cell that is not a singleton, refined again, down
to discrete partitions; the form is the least certificate over those leaves. Refinement and the
choice of cell depend only on the coloured structure, so isomorphic inputs have the same set of
leaf certificates and hence the same least one. Twins (vertices with the same neighbours) are
swapped by an automorphism, so only one of them is singled out per cell. For graphs of plain
integer edges (every generated one) the same search runs compiled (``graph_canonical``).
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from typing import Any

import numpy as np

from rlvr.generators.graph_canonical import least_certificate

LEAF_BUDGET = 512  # leaves of the individualisation-refinement search before the invariant fallback
COMMUTATIVE = frozenset({"and", "or", "iff"})  # Knights & Knaves connectives whose operands may swap
MEANING_RELABELLINGS = 720  # Knights & Knaves relabellings compared by meaning before the finer form
SUDOKU_GROUP_LIMIT = 256  # grid arrangements searched exactly; larger groups: digits renamed only


class BudgetExceeded(Exception):
    """The search met more than ``LEAF_BUDGET`` leaves."""


def refine(
    colours: list[int],
    signatures: Callable[[list[int]], list[Hashable]],
    trace: list | None = None,
) -> list[int]:
    """Colour refinement to a stable (equitable) colouring: each point's next colour is the rank
    of (its colour, its signature) among all points' pairs, ``signatures(colours)`` giving every
    point's in order, until no cell splits.
    Ranks order cells by the old colour first, so a refined cell keeps its place. ``trace``,
    when given, receives every round's sorted pairs (an isomorphism-invariant record)."""
    count = len(set(colours))
    while True:
        pairs = list(zip(colours, signatures(colours)))
        ranks = {pair: rank for rank, pair in enumerate(sorted(set(pairs)))}
        if trace is not None:
            trace.append(sorted(pairs))
        colours = [ranks[pair] for pair in pairs]
        if len(ranks) == count:
            return colours
        count = len(ranks)


def canonical_form(
    initial: list[int],
    signatures: Callable[[list[int]], list[Hashable]],
    certificate: Callable[[list[int]], Any],
    twins: Sequence[int] | None = None,
) -> Any:
    """The least ``certificate(labels)`` over the leaves of the individualisation-refinement
    search from the colouring ``initial`` (``labels[point]`` is the point's place, 0…n−1, in a
    discrete colouring). ``twins[point]``, when given, names a class of points that any two
    members of one cell may be swapped within (an automorphism): one per class is singled out.
    Raises BudgetExceeded past ``LEAF_BUDGET`` leaves."""
    best: list[Any] = []
    leaves = 0

    def search(colours: list[int]) -> None:
        nonlocal leaves
        colours = refine(colours, signatures)
        sizes: dict[int, int] = {}
        for colour in colours:
            sizes[colour] = sizes.get(colour, 0) + 1
        split = min((c for c, size in sizes.items() if size > 1), default=None)
        if split is None:
            leaves += 1
            if leaves > LEAF_BUDGET:
                raise BudgetExceeded
            found = certificate(colours)
            if not best or found < best[0]:
                best[:] = [found]
            return
        tried: set[int] = set()
        for point in range(len(colours)):
            if colours[point] != split or (twins is not None and twins[point] in tried):
                continue
            if twins is not None:
                tried.add(twins[point])
            search([2 * c + (p != point) for p, c in enumerate(colours)])

    search(list(initial))
    return best[0]


def graph_form(vertices: int, edges: Sequence[Sequence[int]]) -> list:
    """An undirected simple graph up to renumbering its vertices: ``["exact", n, edges]`` with
    the edges as sorted codes ``a·n + b`` (a < b) of the least relabelling the search finds, or
    ``["refined", n, trace]`` (colour refinement's record, the 1-dimensional Weisfeiler–Leman
    invariant) when the search would pass ``LEAF_BUDGET`` leaves. A graph whose edges are pairs
    of integers in 0…n − 1 (every generated one) is searched by the compiled
    ``graph_canonical.least_certificate``, which finds the same codes; others (a hand-made
    task's floats or negative vertex numbers) here."""
    plain = _integer_pairs(vertices, edges)
    if plain is not None:
        try:
            codes = least_certificate(vertices, plain, LEAF_BUDGET)
        except ValueError:  # a vertex number out of range: as before (Python's negative indices)
            plain = None
        else:
            if codes is not None:
                return ["exact", vertices, codes]
    pairs = {(u, v) if u < v else (v, u) for u, v in (map(int, edge) for edge in edges) if u != v}
    neighbour_sets: list[set[int]] = [set() for _ in range(vertices)]
    for u, v in pairs:
        neighbour_sets[u].add(v)
        neighbour_sets[v].add(u)
    neighbours = [list(n) for n in neighbour_sets]

    def signatures(colours: list[int]) -> list[tuple]:  # each vertex's neighbours' colours
        colour_of = colours.__getitem__
        return [tuple(sorted(map(colour_of, near))) for near in neighbours]

    def certificate(labels: list[int]) -> tuple:
        codes = []
        for u, v in pairs:
            a, b = labels[u], labels[v]
            codes.append(a * vertices + b if a < b else b * vertices + a)
        codes.sort()
        return tuple(codes)

    open_sets = [frozenset(n) for n in neighbour_sets]
    sharing = Counter(open_sets)
    classes: dict[tuple, int] = {}
    twins = [  # open twins share their neighbours; closed twins, adjacent, their neighbours and themselves
        classes.setdefault(("open", s) if sharing[s] > 1 else ("closed", s | {v}), len(classes))
        for v, s in enumerate(open_sets)
    ]
    if plain is None:
        try:
            return ["exact", vertices, list(canonical_form([0] * vertices, signatures, certificate, twins))]
        except BudgetExceeded:
            pass
    trace: list = []
    refine([0] * vertices, signatures, trace)
    return ["refined", vertices, trace]


MAX_COMPILED_VERTICES = 1024  # beyond (no family draws more than 150), the search's tables stay in Python


def _integer_pairs(vertices: int, edges: Sequence[Sequence[int]]) -> np.ndarray | None:
    """``edges`` as a (m, 2) int64 array where they are pairs of integers and ``vertices`` is
    at most ``MAX_COMPILED_VERTICES``; else None."""
    if not 0 <= vertices <= MAX_COMPILED_VERTICES:
        return None
    if len(edges) == 0:
        return np.empty((0, 2), np.int64)
    try:
        array = np.array(edges)
    except ValueError:  # ragged
        return None
    if array.dtype.kind not in "iu" or array.ndim != 2 or array.shape[1] != 2:
        return None
    return array.astype(np.int64, copy=False)


def statement_form(statement: Any, name: Callable[[int], str]) -> str:
    """A Knights & Knaves statement tree as text with person ``i`` written ``name(i)`` and the
    operands of ``and``, ``or`` and ``iff`` in sorted order (either order says the same)."""
    kind = statement[0]
    if kind == "is":
        return f"is({name(statement[1])},{statement[2]})"
    if kind == "count":
        return f"count({statement[1]})"
    if kind == "not":
        return f"not({statement_form(statement[1], name)})"
    if kind == "says":
        return f"says({name(statement[1])},{statement_form(statement[2], name)})"
    left, right = statement_form(statement[1], name), statement_form(statement[2], name)
    if kind in COMMUTATIVE and right < left:
        left, right = right, left
    return f"{kind}({left},{right})"


def mentioned_people(statement: Any) -> set[int]:
    kind = statement[0]
    if kind == "is":
        return {statement[1]}
    if kind == "count":
        return set()
    if kind == "not":
        return mentioned_people(statement[1])
    if kind == "says":
        return {statement[1]} | mentioned_people(statement[2])
    return mentioned_people(statement[1]) | mentioned_people(statement[2])


def knights_knaves_form(statements: Sequence[Sequence[Any]], roles: Sequence[str]) -> list:
    """A Knights & Knaves puzzle (``[speaker, statement]`` pairs over people 0…n−1, and each
    person's role) up to the people's names and numbering, the order of its statements and of
    the operands of symmetric connectives: ``["exact", n, statements, roles]`` with people
    renumbered by the least relabelling, or ``["refined", n, trace]`` past ``LEAF_BUDGET``."""
    people = len(roles)
    involving: list[list[tuple[int, Any]]] = [[] for _ in range(people)]
    for speaker, statement in statements:
        for person in mentioned_people(statement) | {speaker}:
            involving[person].append((speaker, statement))

    def signature(person: int, colours: list[int]) -> tuple:
        def name(other: int) -> str:
            return "self" if other == person else f"c{colours[other]}"

        return tuple(sorted(f"{name(speaker)}:{statement_form(s, name)}" for speaker, s in involving[person]))

    def signatures(colours: list[int]) -> list[tuple]:
        return [signature(person, colours) for person in range(people)]

    def certificate(labels: list[int]) -> tuple:
        def name(person: int) -> str:
            return str(labels[person])

        return (
            tuple(sorted(f"{name(speaker)}:{statement_form(s, name)}" for speaker, s in statements)),
            tuple(role for _, role in sorted(zip(labels, roles))),
        )

    initial = [0 if role == "knave" else 1 for role in roles]
    try:
        said, told = canonical_form(initial, signatures, certificate)
        return ["exact", people, list(said), list(told)]
    except BudgetExceeded:
        trace: list = []
        refine(initial, signatures, trace)
        return ["refined", people, trace]


def knights_knaves_meaning_form(
    people: int, said: Sequence[tuple[int, np.ndarray]], roles: Sequence[str]
) -> list | None:
    """A Knights & Knaves puzzle up to what it says and its people's numbering: each statement
    ``(speaker, truth table)`` (a boolean vector over the 2ⁿ role assignments, bit i of an index
    set when person i is a knight) as the constraint it puts on the roles — the assignments
    where the speaker is a knight exactly when the statement is true — and the puzzle as the set
    of those constraints, the ones every assignment meets left out. So "X is not a knave" and
    "X is a knight", De Morgan's rewrites, a statement made twice, "A says B is a knight" and
    "B says A is a knight" (both: A and B alike) and "X says X is a knight" (nothing) change
    nothing. ``["constraints", n, [table as hex, …], roles]`` for the least of the relabellings
    that keep each person's class (role, and per constraint how many assignments turn on their
    role and how many meet it); None where those relabellings number more than
    ``MEANING_RELABELLINGS`` (the caller falls back to a finer form)."""
    assignments = np.arange(1 << people)
    speakers = np.array([int(speaker) for speaker, _ in said], dtype=np.int64).reshape(-1, 1)
    tables = np.array([np.asarray(table, dtype=bool) for _, table in said], dtype=bool)
    tables = tables.reshape(len(said), len(assignments))
    every = ((assignments >> speakers) & 1).astype(bool) == tables  # per statement, the assignments it allows
    found: dict[bytes, np.ndarray] = {}
    for constraint in every[~every.all(axis=1)]:
        found.setdefault(constraint.tobytes(), constraint)
    constraints = np.array(list(found.values()), dtype=bool).reshape(len(found), len(assignments))
    met = constraints.sum(axis=1).tolist()  # per constraint, the assignments meeting it

    def invariant(person: int) -> tuple:
        turned = assignments ^ (1 << person)
        flips = (constraints != constraints[:, turned]).sum(axis=1).tolist()
        return roles[person], tuple(sorted(zip(flips, met)))

    cells: dict[tuple, list[int]] = {}
    for person in range(people):
        cells.setdefault(invariant(person), []).append(person)
    ordered = [cells[key] for key in sorted(cells)]
    if math.prod(math.factorial(len(cell)) for cell in ordered) > MEANING_RELABELLINGS:
        return None
    bits = [(assignments >> person) & 1 for person in range(people)]
    best: tuple | None = None
    placed = np.zeros_like(constraints)
    for choice in itertools.product(*(itertools.permutations(cell) for cell in ordered)):
        label = [0] * people
        for place, person in enumerate(itertools.chain.from_iterable(choice)):
            label[person] = place
        moved = sum(bits[person] << label[person] for person in range(people))  # each assignment's new index
        placed[:, moved] = constraints
        packed = np.packbits(placed, axis=1, bitorder="little")
        certificate = tuple(sorted(row.tobytes() for row in packed))
        if best is None or certificate < best:
            best = certificate
    return [
        "constraints",
        people,
        [table.hex() for table in best],
        [roles[person] for person in itertools.chain.from_iterable(ordered)],  # one role per cell
    ]


def relabelled_by_first_appearance(values: Sequence[int]) -> list[int]:
    """Non-zero values renamed 1, 2, … in order of first appearance (0 stays 0)."""
    names: dict[int, int] = {}
    return [names.setdefault(v, len(names) + 1) if v else 0 for v in values]


@functools.lru_cache(maxsize=8)
def sudoku_arrangements(size: int, box_rows: int, box_cols: int) -> np.ndarray | None:
    """Every cell order the Sudoku generator's shuffles reach (bands and the rows within each,
    stacks and the columns within each; the transpose too when boxes are square), as an array
    of cell indices, one row per arrangement; None when there are more than SUDOKU_GROUP_LIMIT."""

    def line_orders(blocks: int, width: int) -> list[list[int]]:
        inner = list(itertools.permutations(range(width)))
        return [
            [block * width + line for block, within in zip(order, lines) for line in within]
            for order in itertools.permutations(range(blocks))
            for lines in itertools.product(inner, repeat=blocks)
        ]

    square = box_rows == box_cols
    bands, stacks = size // box_rows, size // box_cols
    if _orders(bands, box_rows) * _orders(stacks, box_cols) * (2 if square else 1) > SUDOKU_GROUP_LIMIT:
        return None
    rows, cols = line_orders(bands, box_rows), line_orders(stacks, box_cols)
    found = [[r * size + c for r in row_order for c in col_order] for row_order in rows for col_order in cols]
    if square:
        found += [[c * size + r for r in row_order for c in col_order] for row_order in rows for col_order in cols]
    arrangements = np.array(found, dtype=np.intp)
    arrangements.flags.writeable = False  # cached: shared by every call
    return arrangements


def _orders(blocks: int, width: int) -> int:
    """How many line orders shuffling ``blocks`` blocks of ``width`` lines each reaches."""
    return math.factorial(blocks) * math.factorial(width) ** blocks


def sudoku_form(size: int, box: Sequence[int], puzzle: Sequence[int]) -> list:
    """A Sudoku puzzle up to renaming its digits and, where the generator's group of shuffles
    has at most SUDOKU_GROUP_LIMIT arrangements (4×4: 128), up to those shuffles: the least
    arrangement with digits renamed by first appearance. Larger grids: digits renamed only."""
    arrangements = sudoku_arrangements(int(size), int(box[0]), int(box[1]))
    if arrangements is None:
        return ["digits", relabelled_by_first_appearance(puzzle)]
    grids = np.asarray(puzzle, dtype=np.int8)[arrangements]  # one row per arrangement
    count, cells = grids.shape
    present = grids[:, :, None] == np.arange(1, size + 1, dtype=np.int8)  # (arrangement, cell, digit)
    first = present.argmax(axis=1)  # the cell where each digit first appears (0 for an absent digit: fixed next)
    first[~present[np.arange(count)[:, None], first, np.arange(size)]] = cells
    names = np.zeros((count, size + 1), dtype=np.int64)
    names[:, 1:] = np.argsort(np.argsort(first, axis=1), axis=1) + 1
    renamed = np.take_along_axis(names, grids.astype(np.intp), axis=1)
    if (size + 1) ** cells < 2**62:  # each arrangement as one base-(size + 1) number: the least is the least row
        least = renamed[np.argmin(renamed @ ((size + 1) ** np.arange(cells - 1, -1, -1, dtype=np.int64)))]
    else:
        least = renamed[np.lexsort(renamed.T[::-1])[0]]
    return ["shuffles", [int(v) for v in least]]


def job_shop_form(jobs: Sequence[Sequence[Sequence[int]]]) -> list:
    """A job-shop instance (each job a list of [machine, duration]) up to the order of its jobs
    and, when every job visits every machine once, the machines' numbering: the least sorted job
    list over the relabellings that number machines in the order one job visits them (an
    isomorphism maps those relabellings onto each other's), else the jobs sorted."""
    listed = [[(int(m), int(d)) for m, d in job] for job in jobs]
    machines = sorted({m for job in listed for m, _ in job})
    if not listed or any(sorted(m for m, _ in job) != machines for job in listed):
        return ["jobs", sorted([list(op) for op in job] for job in listed)]
    best = None
    for anchor in listed:
        number = {m: i for i, (m, _) in enumerate(anchor)}
        form = sorted([[number[m], d] for m, d in job] for job in listed)
        if best is None or form < best:
            best = form
    return ["machines-renamed", len(machines), best]


def zebra_form(answer: dict, symmetric_kinds: Collection[str]) -> list:
    """A Zebra puzzle (``task.answer``) up to its values' and attributes' names, the order of its
    attributes and of its clues, and the row of houses read from the other end: every value
    renamed to (its attribute's place, the house the solution puts it in), the clues as a sorted
    list (the items of ``symmetric_kinds``, and the two outer items of ``between``, in sorted
    order), and the question; the least such form over the mirror (houses numbered from the
    right: "directly left of" and "left of" read with their items swapped) and the orders of the
    attributes that keep each attribute's part in the clues (``_zebra_attribute_orders``).
    Equal forms have answers that map onto each other by renaming and mirroring."""
    attributes = list(answer["attributes"])
    index = {attribute: i for i, attribute in enumerate(attributes)}
    houses = int(answer["houses"])
    house_of = {
        (attribute, value): house
        for attribute in attributes
        for house, value in enumerate(answer["solution"][attribute])
    }

    def item(named: Sequence[str]) -> tuple[int, int]:
        return index[named[0]], house_of[(named[0], named[1])]

    clues = []
    for clue in answer["clues"]:
        kind, rest = clue[0], clue[1:]
        clues.append(
            (kind, [item(x) for x in rest if isinstance(x, list)], [x for x in rest if not isinstance(x, list)])
        )
    question = answer["question"]
    asked = (
        ("cell", item(question["subject"]), index.get(question["target"], question["target"]))
        if question["kind"] == "cell"
        else (question["kind"],)
    )
    forms = []
    for mirrored in (False, True):
        if mirrored:
            clues = [
                (
                    kind,
                    [(a, houses - 1 - h) for a, h in items][:: -1 if kind in ("directly_left", "left_of") else 1],
                    [houses + 1 - number for number in numbers] if kind in ("at_house", "not_at_house") else numbers,
                )
                for kind, items, numbers in clues
            ]
            if asked[0] == "cell":
                asked = ("cell", (asked[1][0], houses - 1 - asked[1][1]), asked[2])
        for order in _zebra_attribute_orders(len(attributes), clues, asked, symmetric_kinds):
            forms.append(_zebra_renamed(houses, len(attributes), clues, asked, order, symmetric_kinds))
    return min(forms, key=lambda form: json.dumps(form))


ZEBRA_ORDERS = 120  # attribute orders compared per side of the mirror before ties are left as listed


def _zebra_attribute_orders(
    count: int, clues: list[tuple[str, list[tuple[int, int]], list]], asked: tuple, symmetric_kinds: Collection[str]
) -> Iterator[list[int]]:
    """Orders of the attributes (``order[a]`` = attribute a's new place) by each attribute's part
    in the clues and question, a description that renaming attributes keeps (for each clue it is
    in: the kind, its item's place where the kind is not symmetric, its values' houses, which of
    the clue's other items share its attribute), every order of the attributes that tie; past
    ``ZEBRA_ORDERS`` orders, ties keep their listed order (a finer key, never a coarser one)."""
    parts: list[list] = [[] for _ in range(count)]
    for kind, items, numbers in clues:
        for place, (attribute, house) in enumerate(items):
            others = sorted((h, a == attribute) for i, (a, h) in enumerate(items) if i != place)
            role = -1 if kind in symmetric_kinds or (kind == "between" and place) else place
            parts[attribute].append((kind, role, house, others, numbers))
    if asked[0] == "cell":
        parts[asked[1][0]].append(("subject", asked[1][1]))
        if isinstance(asked[2], int):
            parts[asked[2]].append(("target",))
    keys = [json.dumps(sorted(part, key=json.dumps)) for part in parts]
    ties: dict[str, list[int]] = {}
    for attribute in sorted(range(count), key=keys.__getitem__):
        ties.setdefault(keys[attribute], []).append(attribute)
    cells = list(ties.values())
    if math.prod(math.factorial(len(cell)) for cell in cells) > ZEBRA_ORDERS:
        cells = [[attribute] for cell in cells for attribute in cell]
    for choice in itertools.product(*(itertools.permutations(cell) for cell in cells)):
        order = [0] * count
        for place, attribute in enumerate(itertools.chain.from_iterable(choice)):
            order[attribute] = place
        yield order


def _zebra_renamed(
    houses: int,
    count: int,
    clues: list[tuple[str, list[tuple[int, int]], list]],
    asked: tuple,
    order: list[int],
    symmetric_kinds: Collection[str],
) -> list:
    """``zebra_form``'s value for one side of the mirror and one order of the attributes."""
    renamed = []
    for kind, items, numbers in clues:
        placed = [[order[a], h] for a, h in items]
        if kind in symmetric_kinds:
            placed.sort()
        elif kind == "between":
            placed = placed[:1] + sorted(placed[1:])
        renamed.append([kind, placed, list(numbers)])
    renamed.sort()
    if asked[0] == "cell":
        target = order[asked[2]] if isinstance(asked[2], int) else asked[2]
        question: list = ["cell", [order[asked[1][0]], asked[1][1]], target]
    else:
        question = list(asked)
    return [houses, count, renamed, question]


def grid_maze_form(grid: Sequence[str], start: Sequence[int], goal: Sequence[int], marks: tuple[str, str]) -> list:
    """A grid maze (row strings; ``start`` and ``goal`` as [row, column], drawn in the grid with
    the characters ``marks`` = (start mark, goal mark)) up to the 8 symmetries of the rectangle
    (turns, mirrors, transposes) and the direction of travel (start and goal swapped): the least
    (rows, start, goal) over those 16 images, as ``[rows, start, goal]``. A symmetry maps the
    walls and renames the moves (U↔L, …); a swap reverses a path and inverts its moves: either
    maps one image's shortest paths one-to-one onto another's.

    Each image is compared as its rows joined by newlines, which orders images as their row
    tuples do while no row holds a character at or below the newline (a maze's never does; a
    grid with one is compared as row tuples): the S/G swap is then one ``translate`` per image."""
    rows = tuple(str(row) for row in grid)
    s, g = (int(start[0]), int(start[1])), (int(goal[0]), int(goal[1]))
    swap = str.maketrans({marks[0]: marks[1], marks[1]: marks[0]})
    images = _row_images(rows, s, g)
    joined = "\n".join(rows)
    if joined.count("\n") == len(rows) - 1 and _BELOW_NEWLINE.search(joined) is None:
        texts = [("\n".join(lines), s, g) for lines, s, g in images]
        least = min(min(texts), min((text.translate(swap), g, s) for text, s, g in texts))
        return [least[0].split("\n"), list(least[1]), list(least[2])]
    least = min(min(images), min((tuple(line.translate(swap) for line in lines), g, s) for lines, s, g in images))
    return [list(least[0]), list(least[1]), list(least[2])]


_BELOW_NEWLINE = re.compile("[\x00-\t]")


def _row_images(rows: tuple[str, ...], start: tuple[int, int], goal: tuple[int, int]) -> list[tuple]:
    """The 8 (rows, start, goal) images of a grid under the rectangle's symmetries: the grid and
    its transpose, each as it is, mirrored left to right, upside down, and both."""
    columns = tuple("".join(column) for column in zip(*rows))
    images = []
    for lines, (s, g) in ((rows, (start, goal)), (columns, (start[::-1], goal[::-1]))):
        height, width = len(lines), len(lines[0])
        mirrored = tuple(line[::-1] for line in lines)
        images += [
            (lines, s, g),
            (mirrored, (s[0], width - 1 - s[1]), (g[0], width - 1 - g[1])),
            (lines[::-1], (height - 1 - s[0], s[1]), (height - 1 - g[0], g[1])),
            (mirrored[::-1], (height - 1 - s[0], width - 1 - s[1]), (height - 1 - g[0], width - 1 - g[1])),
        ]
    return images
