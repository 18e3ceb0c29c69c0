"""How ArcGrid tasks are made: the primitive library, random programs and inputs, the checks
against shortcuts and rules outside the library (``shortcut_problem``), and the enumeration
that proves the demonstrations pin down the test output (``check_demos``).

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.arc_grid``; ``ArcGridGenerator(render="image")`` makes ArcGridImage-v0's tasks.

Grids are 2-D ``numpy.int8`` arrays. A step is a tuple ``(primitive, *arguments)``, e.g.
``("translate", "left", 2, "wrap")``; ``apply_step`` runs one (None when the result would be
empty or larger than ``MAX_SIDE``). Connectivity (fill, count) uses Python integers as bit
boards: bit ``r·(cols+1) + c`` is cell (r, c), and the always-empty extra column stops a shift
by one from wrapping into the next row, so a flood fill is a handful of shifts and masks per
step of growth.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from rlvr.core import Task, TaskGenerator
from rlvr.families.arc_grid import FAMILY, MAX_SIDE, PRIMITIVES
from rlvr.verifiers.arc_grid import scaled, symmetries

Grid = np.ndarray
Step = tuple

AXES = ("left-right", "up-down", "diagonal", "anti-diagonal")
DIRECTIONS = ("up", "down", "left", "right")
OFFSETS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
EDGES = ("wrap", "clip")
COLOURS = tuple(range(1, 10))
PARAMETER_NAMES = {
    "recolour": ("source", "target"),
    "reflect": ("axis",),
    "rotate": ("turns",),
    "translate": ("direction", "distance", "edge"),
    "gravity": ("direction",),
    "fill": ("colour",),
    "scale": ("factor",),
    "count": ("layout",),
    "complete": (),
}
DIHEDRAL = frozenset({"reflect", "rotate"})  # two adjacent such steps are always one such step
ONCE = frozenset({"scale", "count"})
PALETTE_SIZE = 3
MAX_DRAWS = 60  # whole tasks drawn before giving up on the parameters
GRID_TRIES = 30  # inputs drawn per demo before redrawing the program
PAIR_TRIES = 8  # pairs drawn per demo for one with a new input and a new output
PAIR_SETS = 3  # sets of pairs drawn for one program before redrawing it (``shortcut_problem``)
TEST_TRIES = 12  # test pairs drawn for demos whose test output other fixed guesses give (``discriminating_test``)
RECOLOUR_WEIGHT = 2  # each recolour class is drawn as often as two others (``step_classes``)
CLASS_DRAWS = 6  # whole tasks drawn with one first-step class before another is chosen (``build``)


# ---------------------------------------------------------------------------- bit boards


def to_bits(mask: np.ndarray) -> int:
    """The boolean rows×cols ``mask`` as an integer (bit r·(cols+1) + c)."""
    rows, cols = mask.shape
    padded = np.zeros((rows, cols + 1), dtype=bool)
    padded[:, :cols] = mask
    return int.from_bytes(np.packbits(padded.ravel(), bitorder="little").tobytes(), "little")


def from_bits(value: int, rows: int, cols: int) -> np.ndarray:
    """The boolean rows×cols mask of a bit board."""
    cells = rows * (cols + 1)
    raw = np.frombuffer(value.to_bytes((cells + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:cells].reshape(rows, cols + 1)[:, :cols].astype(bool)


@functools.lru_cache(maxsize=1024)
def border_bits(rows: int, cols: int) -> int:
    mask = np.zeros((rows, cols), dtype=bool)
    mask[0, :] = mask[-1, :] = mask[:, 0] = mask[:, -1] = True
    return to_bits(mask)


def flood(seed: int, allowed: int, stride: int) -> int:
    """Every cell of ``allowed`` 4-connected to ``seed`` through ``allowed``."""
    reach = seed & allowed
    while True:
        grown = (reach | reach << 1 | reach >> 1 | reach << stride | reach >> stride) & allowed
        if grown == reach:
            return reach
        reach = grown


# ---------------------------------------------------------------------------- the primitives


def recolour(grid: Grid, source: int, target: int) -> Grid:
    """Every cell of colour ``source`` becomes ``target``."""
    return np.where(grid == source, np.int8(target), grid).astype(np.int8)


def reflect(grid: Grid, axis: str) -> Grid:
    """Mirror left-right, up-down, on the main diagonal or on the anti-diagonal."""
    if axis == "left-right":
        return np.ascontiguousarray(grid[:, ::-1])
    if axis == "up-down":
        return np.ascontiguousarray(grid[::-1, :])
    if axis == "diagonal":
        return np.ascontiguousarray(grid.T)
    return np.ascontiguousarray(grid[::-1, ::-1].T)


def rotate(grid: Grid, turns: int) -> Grid:
    """``turns`` clockwise quarter turns."""
    return np.ascontiguousarray(np.rot90(grid, -turns))


def translate(grid: Grid, direction: str, distance: int, edge: str) -> Grid:
    """Move every cell ``distance`` cells in ``direction``; ``wrap`` brings cells pushed out back
    on the other side, ``clip`` loses them and leaves background behind."""
    dr, dc = OFFSETS[direction]
    dr, dc = dr * distance, dc * distance
    if edge == "wrap":
        return np.roll(grid, (dr, dc), axis=(0, 1))
    rows, cols = grid.shape
    out = np.zeros_like(grid)
    if abs(dr) < rows and abs(dc) < cols:
        out[max(dr, 0) : rows + min(dr, 0), max(dc, 0) : cols + min(dc, 0)] = grid[
            max(-dr, 0) : rows - max(dr, 0), max(-dc, 0) : cols - max(dc, 0)
        ]
    return out


def gravity(grid: Grid, direction: str) -> Grid:
    """Every coloured cell slides toward ``direction`` until the edge or another coloured cell
    stops it; cells keep their order along each column (up/down) or row (left/right)."""
    axis = 0 if direction in ("up", "down") else 1
    key = grid != 0 if direction in ("down", "right") else grid == 0
    order = np.argsort(key, axis=axis, kind="stable")
    return np.take_along_axis(grid, order, axis=axis)


def enclosed(grid: Grid) -> np.ndarray:
    """Background cells that no path of background cells (4-connected) links to the border."""
    rows, cols = grid.shape
    background = to_bits(grid == 0)
    outside = flood(background & border_bits(rows, cols), background, cols + 1)
    return from_bits(background & ~outside, rows, cols)


def fill(grid: Grid, colour: int) -> Grid:
    """Enclosed background cells (``enclosed``) take ``colour``."""
    out = grid.copy()
    out[enclosed(grid)] = colour
    return out


def scale(grid: Grid, factor: int) -> Grid:
    """Every cell becomes a factor×factor block."""
    return np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)


def objects(grid: Grid) -> tuple[tuple[int, int, int, int], ...]:
    """The objects — 4-connected cells of one colour — as (row, column of the first cell in
    reading order, colour, cells), in reading order."""
    return objects_of(grid.shape, grid.astype(np.int8, copy=False).tobytes())


@functools.lru_cache(maxsize=4096)
def objects_of(shape: tuple[int, int], cells: bytes) -> tuple[tuple[int, int, int, int], ...]:
    """``objects`` of the int8 grid with these raw cells (cached: the checks count a grid many times)."""
    grid = np.frombuffer(cells, dtype=np.int8).reshape(shape)
    stride = shape[1] + 1
    found = []
    for colour in np.unique(grid[grid != 0]).tolist():
        remaining = to_bits(grid == colour)
        while remaining:
            first = remaining & -remaining
            component = flood(first, remaining, stride)
            remaining &= ~component
            r, c = divmod(first.bit_length() - 1, stride)
            found.append((r, c, colour, component.bit_count()))
    return tuple(sorted(found))


def count(grid: Grid, layout: str) -> Grid | None:
    """The objects' colours in reading order as a 1×k row or a k×1 column (None: no object)."""
    colours = [colour for _, _, colour, _ in objects(grid)]
    if not colours:
        return None
    bar = np.array([colours], dtype=np.int8)
    return bar if layout == "row" else np.ascontiguousarray(bar.T)


def complete(grid: Grid) -> Grid:
    """Fill the background holes of a periodic pattern: the first tile size (by area, then rows)
    of at most half the grid each way whose every cell has one colour among the coloured cells
    that repeat it. Grids less than half coloured, without a hole or without such a tile stay
    as they are."""
    rows, cols = grid.shape
    known = int(np.count_nonzero(grid))
    if known == rows * cols or 2 * known < rows * cols:
        return grid.copy()
    for tile_rows, tile_cols in tile_sizes(rows, cols):
        padded_rows, padded_cols = -(-rows // tile_rows) * tile_rows, -(-cols // tile_cols) * tile_cols
        padded = np.zeros((padded_rows, padded_cols), dtype=np.int8)
        padded[:rows, :cols] = grid
        classes = padded.reshape(padded_rows // tile_rows, tile_rows, padded_cols // tile_cols, tile_cols)
        classes = classes.transpose(1, 3, 0, 2).reshape(tile_rows, tile_cols, -1)
        highest = classes.max(axis=2)
        lowest = np.where(classes == 0, 10, classes).min(axis=2)
        if highest.min() > 0 and np.array_equal(highest, lowest):
            return np.tile(highest, (padded_rows // tile_rows, padded_cols // tile_cols))[:rows, :cols].astype(np.int8)
    return grid.copy()


@functools.lru_cache(maxsize=1024)
def tile_sizes(rows: int, cols: int) -> tuple[tuple[int, int], ...]:
    sizes = [(r, c) for r in range(1, max(1, rows // 2) + 1) for c in range(1, max(1, cols // 2) + 1)]
    return tuple(sorted(sizes, key=lambda rc: (rc[0] * rc[1], rc[0])))


FUNCTIONS = {
    "recolour": recolour,
    "reflect": reflect,
    "rotate": rotate,
    "translate": translate,
    "gravity": gravity,
    "fill": fill,
    "scale": scale,
    "count": count,
    "complete": complete,
}


def apply_step(grid: Grid, step: Step) -> Grid | None:
    """One primitive applied; None when it has no result (count of an empty grid) or the result
    is larger than ``MAX_SIDE`` either way."""
    out = FUNCTIONS[step[0]](grid, *step[1:])
    if out is None or out.shape[0] > MAX_SIDE or out.shape[1] > MAX_SIDE:
        return None
    return out


def run(grid: Grid, program: list[Step]) -> Grid | None:
    for step in program:
        grid = apply_step(grid, step)
        if grid is None:
            return None
    return grid


def step_to_dict(step: Step) -> dict:
    return {"primitive": step[0], **dict(zip(PARAMETER_NAMES[step[0]], step[1:]))}


def step_from_dict(entry: dict) -> Step:
    return (entry["primitive"], *(entry[name] for name in PARAMETER_NAMES[entry["primitive"]]))


def library_steps(colours: list[int]) -> list[Step]:
    """Every step of the library; recolour only from ``colours`` (the others change nothing)."""
    steps: list[Step] = [("recolour", a, b) for a in colours for b in COLOURS if b != a]
    steps += [("reflect", axis) for axis in AXES]
    steps += [("rotate", turns) for turns in (1, 2, 3)]
    steps += [("translate", d, k, e) for d in DIRECTIONS for k in (1, 2) for e in EDGES]
    steps += [("gravity", d) for d in DIRECTIONS]
    steps += [("fill", c) for c in COLOURS]
    steps += [("scale", 2), ("scale", 3), ("count", "row"), ("count", "column"), ("complete",)]
    return steps


def library_size(colours: int) -> int:
    """How many steps ``library_steps`` has for a state with ``colours`` colours."""
    return 8 * colours + len(AXES) + 3 + 16 + 4 + 9 + 5


class Target:
    """A grid some step should produce, with what ``steps_reaching`` reads from it precomputed."""

    def __init__(self, grid: Grid):
        self.grid, self.shape, self.bytes = grid, grid.shape, grid.tobytes()
        self.counts = np.bincount(grid.ravel(), minlength=10)
        self.has_background = bool(self.counts[0])
        self.empty_rows, self.empty_cols = ~grid.any(axis=1), ~grid.any(axis=0)

    def equals(self, grid: Grid | None) -> bool:
        return grid is not None and grid.shape == self.shape and grid.tobytes() == self.bytes


def steps_reaching(grid: Grid, target: Target) -> list[Step]:
    """The library steps that could turn ``grid`` into ``target``: every other step is ruled out
    by shape or colour counts (reflections, turns, wrapping moves and gravity keep the colour
    counts; a clipping move only loses cells and leaves empty lines behind; complete leaves no
    background), and recolour and fill have their one possible argument read off the difference."""
    same = grid.shape == target.shape
    turned = grid.shape == target.shape[::-1]
    steps: list[Step] = []
    if same or turned:
        counts = np.bincount(grid.ravel(), minlength=10)
        kept = np.array_equal(counts, target.counts)
        if kept and same:
            steps += [("reflect", "left-right"), ("reflect", "up-down"), ("rotate", 2)]
            steps += [("translate", d, k, "wrap") for d in DIRECTIONS for k in (1, 2)]
            steps += [("gravity", d) for d in DIRECTIONS]
        if kept and turned:
            steps += [("reflect", "diagonal"), ("reflect", "anti-diagonal"), ("rotate", 1), ("rotate", 3)]
    if same:
        if (target.counts[1:] <= counts[1:]).all():
            for k in (1, 2):
                lines = {
                    "down": target.empty_rows[:k],
                    "up": target.empty_rows[-k:],
                    "right": target.empty_cols[:k],
                    "left": target.empty_cols[-k:],
                }
                steps += [("translate", d, k, "clip") for d in DIRECTIONS if lines[d].all()]
        differ = grid != target.grid
        if differ.any():
            before, after = grid[differ], target.grid[differ]
            if before.min() == before.max() and after.min() == after.max() and after[0] != 0:
                steps.append(("recolour", int(before[0]), int(after[0])) if before[0] != 0 else ("fill", int(after[0])))
        if counts[0] and not target.has_background:
            steps.append(("complete",))
    for factor in (2, 3):
        if target.shape == (grid.shape[0] * factor, grid.shape[1] * factor):
            steps.append(("scale", factor))
    if target.shape[0] == 1:
        steps.append(("count", "row"))
    if target.shape[1] == 1:
        steps.append(("count", "column"))
    return steps


# ---------------------------------------------------------------------------- the uniqueness check


def state_key(grids: tuple[Grid, ...]) -> tuple:
    return tuple((g.shape, g.tobytes()) for g in grids)


@dataclass
class Check:
    """What the enumeration found: ``problem`` is None for a well-posed task."""

    problem: str | None
    alternatives_checked: int
    first_demo_consistent: int


def check_demos(inputs: list[Grid], outputs: list[Grid], test_input: Grid, test_output: Grid, length: int) -> Check:
    """Enumerate every library program of at most ``length`` steps on the demos and the test
    input together, and stop at the first one that maps every demo input to its output and is
    shorter than ``length`` or gives another test output.

    A state is the tuple of all the task's grids after a program prefix. Prefixes of up to
    ``length`` − 2 steps are expanded breadth-first into states, and a state seen before, at
    any depth, is not expanded again (whatever follows it was enumerated from its first
    sighting). Each state is finished by every last step that ``steps_reaching`` allows
    toward the first demo's output. The prefixes of ``length`` − 1 steps are tried on the
    first demo's grid alone; only one that some last step maps onto its output becomes a full
    (deduplicated) state. ``alternatives_checked`` adds the library's size at every finished
    state and at every such one-grid prefix: the programs ruled in or out."""
    demos = len(inputs)
    root = tuple(inputs) + (test_input,)
    seen = {state_key(root)}
    checked = first_consistent = 0
    targets = [Target(grid) for grid in outputs] + [Target(test_output)]

    def finish(state: tuple[Grid, ...], steps: int) -> str | None:
        nonlocal first_consistent
        for step in steps_reaching(state[0], targets[0]):
            if not targets[0].equals(apply_step(state[0], step)):
                continue
            first_consistent += 1
            if not all(targets[i].equals(apply_step(state[i], step)) for i in range(1, demos)):
                continue
            if steps < length:
                return f"a {steps}-step program explains the demos"
            if not targets[demos].equals(apply_step(state[demos], step)):
                return "another program explains the demos with a different test output"
        return None

    frontier = [root]
    for prefix in range(length - 1):
        for state in frontier:
            checked += library_size(len(colours_of(state)))
            problem = finish(state, prefix + 1)
            if problem:
                return Check(problem, checked, first_consistent)
        if prefix < length - 2:
            frontier = expand(frontier, seen)
    if length == 1:
        checked += library_size(len(colours_of(root)))
        return Check(finish(root, 1), checked, first_consistent)
    for state in frontier:
        colours = colours_of(state)
        for step in library_steps(colours):
            first = apply_step(state[0], step)
            if first is None:
                continue
            checked += library_size(len(colours))
            if not any(targets[0].equals(apply_step(first, last)) for last in steps_reaching(first, targets[0])):
                continue
            grids = [first]
            for grid in state[1:]:
                grids.append(apply_step(grid, step))
                if grids[-1] is None:
                    break
            else:
                key = state_key(grids)
                if key not in seen:
                    seen.add(key)
                    problem = finish(tuple(grids), length)
                    if problem:
                        return Check(problem, checked, first_consistent)
    return Check(None, checked, first_consistent)


def colours_of(state: tuple[Grid, ...]) -> list[int]:
    """The colours other than background in any grid of the state."""
    return [c for c in np.unique(np.concatenate([g.ravel() for g in state])).tolist() if c]


def expand(frontier: list[tuple[Grid, ...]], seen: set) -> list[tuple[Grid, ...]]:
    """The states one library step after each of ``frontier``, less those in ``seen`` (which
    gains them)."""
    following = []
    for state in frontier:
        for step in library_steps(colours_of(state)):
            grids = []
            for grid in state:
                out = apply_step(grid, step)
                if out is None:
                    break
                grids.append(out)
            else:
                key = state_key(grids)
                if key not in seen:
                    seen.add(key)
                    following.append(tuple(grids))
    return following


# ---------------------------------------------------------------------------- shortcuts and rules outside the library


def same_grid(a: Grid | None, b: Grid) -> bool:
    return a is not None and a.shape == b.shape and a.tobytes() == b.tobytes()


def trace(grid: Grid, program: list[Step]) -> list[Grid]:
    """The grid before each step of ``program`` and, last, its output (the program must run)."""
    grids = [grid]
    for step in program:
        grids.append(apply_step(grids[-1], step))
    return grids


def bounding_box(grid: Grid) -> Grid | None:
    """The smallest rectangle holding every coloured cell (None: no coloured cell)."""
    rows, cols = np.flatnonzero(grid.any(axis=1)), np.flatnonzero(grid.any(axis=0))
    if not len(rows):
        return None
    return np.ascontiguousarray(grid[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


def whole_task_rules(outputs: list[Grid]) -> list[tuple[str, Any]]:
    """Natural rules outside the library, each a function of the input grid alone: clear the
    grid, crop to the bounding box of the coloured cells, the identity, and paint every coloured
    cell the one colour of the first demo's output (a constant output is ruled out separately:
    the demos' outputs are pairwise different)."""
    rules: list[tuple[str, Any]] = [
        ("clear-the-grid", np.zeros_like),
        ("crop-to-bounding-box", bounding_box),
        ("identity", np.copy),
    ]
    painted = np.unique(outputs[0][outputs[0] != 0]).tolist()
    if len(painted) == 1:
        rules.append(
            ("recolour-all-to-one", lambda grid: np.where(grid != 0, np.int8(painted[0]), grid).astype(np.int8))
        )
    return rules


COUNT_ORDERS = {  # each maps (the grid's ``objects``, the grid) to the listed colours
    "column-major": lambda found, grid: [o[2] for o in objects(np.ascontiguousarray(grid.T))],
    "reverse-reading": lambda found, grid: [o[2] for o in found][::-1],
    "colour-ascending": lambda found, grid: sorted(o[2] for o in found),
    "colour-descending": lambda found, grid: sorted((o[2] for o in found), reverse=True),
    "largest-first": lambda found, grid: [o[2] for o in sorted(found, key=lambda o: -o[3])],
    "smallest-first": lambda found, grid: [o[2] for o in sorted(found, key=lambda o: o[3])],
    "distinct-colours": lambda found, grid: list(dict.fromkeys(o[2] for o in found)),
}


def ordered_count(order: str, layout: str):
    """``count`` listing the objects in another order (``COUNT_ORDERS``; ties keep reading order)."""

    def variant(grid: Grid) -> Grid | None:
        found = objects(grid)
        if not found:
            return None
        bar = np.array([COUNT_ORDERS[order](found, grid)], dtype=np.int8)
        return bar if layout == "row" else np.ascontiguousarray(bar.T)

    return variant


SYMMETRIES = {"left-right": lambda g: g[:, ::-1], "up-down": lambda g: g[::-1, :], "half-turn": lambda g: g[::-1, ::-1]}


def mirror_complete(symmetry: str):
    """Fill the background holes from their mirror images: fits only a grid whose coloured cells
    agree with their coloured mirror cells and whose every hole has a coloured mirror cell."""

    def variant(grid: Grid) -> Grid | None:
        mirrored = SYMMETRIES[symmetry](grid)
        both = (grid != 0) & (mirrored != 0)
        if not np.array_equal(grid[both], mirrored[both]):
            return None
        out = np.where(grid == 0, mirrored, grid).astype(np.int8)
        return out if out.all() else None

    return variant


def step_variants(step: Step) -> list[tuple[str, Any]]:
    """Natural readings of one step that the library lacks: recolour every coloured cell (not
    only the source colour), count in another order, complete by mirror symmetry."""
    if step[0] == "recolour":
        target = np.int8(step[2])
        return [("recolour-every-colour", lambda grid: np.where(grid != 0, target, grid).astype(np.int8))]
    if step[0] == "count":
        return [(f"count-{order}", ordered_count(order, step[1])) for order in COUNT_ORDERS]
    if step[0] == "complete":
        return [(f"complete-by-{symmetry}", mirror_complete(symmetry)) for symmetry in SYMMETRIES]
    return []


def shortcut_problem(
    program: list[Step], inputs: list[Grid], outputs: list[Grid], test_input: Grid, test_output: Grid
) -> str | None:
    """Why the task could be answered without the hidden program, or None. Refused: two demos
    with the same output; a test output equal to a demo's output; a count whose demos never
    show two colours though the test's count has two, or show only one-cell objects; a recolour
    whose demos never hold a colour other than the source though the test's grid does; and any
    rule outside the library (``whole_task_rules``, or one step replaced by a ``step_variants``
    reading) that maps every demo input to its output but the test input elsewhere."""
    keys = {(g.shape, g.tobytes()) for g in outputs}
    if len(keys) < len(outputs):
        return "two demos have the same output"
    if (test_output.shape, test_output.tobytes()) in keys:
        return "the test output equals a demo's output"

    def result(rule, grid: Grid, rest: list[Step]) -> Grid | None:
        out = rule(grid)
        return out if out is None or not rest else run(out, rest)

    def explains(rule, grids_in: list[Grid], rest: list[Step]) -> bool:
        return all(same_grid(result(rule, grid_in, rest), grid_out) for grid_in, grid_out in zip(grids_in, outputs))

    for name, rule in whole_task_rules(outputs):
        if explains(rule, inputs, []) and not same_grid(rule(test_input), test_output):
            return f"the rule {name} explains the demos with a different test output"
    if not any(step[0] in ("count", "recolour", "complete") for step in program):
        return None
    traces = [trace(grid, program) for grid in inputs]
    test_trace = trace(test_input, program)
    for index, step in enumerate(program):
        before = [grids[index] for grids in traces]
        if step[0] == "count":
            counted = [objects(grid) for grid in before]
            if all(size == 1 for found in counted for _, _, _, size in found):
                return "every object the demos count is a single cell"
            if len({o[2] for o in objects(test_trace[index])}) > 1 and all(
                len({o[2] for o in found}) < 2 for found in counted
            ):
                return "no demo counts objects of two colours"
        if step[0] == "recolour":
            kept = {0, step[1]}
            if set(np.unique(test_trace[index]).tolist()) - kept and not any(
                set(np.unique(grid).tolist()) - kept for grid in before
            ):
                return "no demo shows a colour the recolour leaves alone"
        rest = program[index + 1 :]
        for name, rule in step_variants(step):
            if explains(rule, before, rest) and not same_grid(result(rule, test_trace[index], rest), test_output):
                return f"the step {step[0]} read as {name} explains the demos with a different test output"
    return None


def blind_guesses(test_input: Grid, test_output: Grid) -> set[Step]:
    """The fixed guesses — transformations a policy could apply to the test input without
    reading the demos — that give the test output: every library step with any arguments
    (recolour and fill with all nine colours), paint every coloured cell colour b
    (``("paint", b)``), crop to the bounding box (``("crop",)``) and clear the grid
    (``("clear",)``). The identity never does: every step changes every input."""
    target = Target(test_output)
    hits = {step for step in steps_reaching(test_input, target) if target.equals(apply_step(test_input, step))}
    if test_output.shape == test_input.shape:
        coloured = test_input != 0
        hits.update(("paint", b) for b in COLOURS if target.equals(np.where(coloured, np.int8(b), test_input)))
        if not test_output.any():
            hits.add(("clear",))
    if target.equals(bounding_box(test_input)):
        hits.add(("crop",))
    return hits


def blind_share(program: list[Step], test_input: Grid, test_output: Grid) -> float:
    """The chance ``build`` keeps a task whose test output these fixed guesses
    (``blind_guesses``) give: for a one-step program 1 / (1 + the guesses other than its own
    step), so a step class whose outputs other guesses share is drawn proportionally less often
    and no guess solves more than about one class's share of the tasks; for a longer program 0
    when any guess gives it (a fixed guess never solves a multi-step task), else 1."""
    hits = blind_guesses(test_input, test_output)
    if len(program) > 1:
        return 0.0 if hits else 1.0
    step = program[0]
    if step[0] == "recolour" and ("paint", step[2]) in hits:
        return 0.0
    return 1 / (1 + len(hits - {step}))


# ---------------------------------------------------------------------------- drawing tasks


def kinds_allowed(kinds: list[str], program_kinds: list[str], side: int) -> list[str]:
    """The primitives the family's rules allow next after ``program_kinds`` (complete only
    first, no primitive twice in a row, reflect/rotate never adjacent, scale and count once,
    scale only while a doubled ``side`` stays within ``MAX_SIDE``)."""
    previous = program_kinds[-1] if program_kinds else None
    return [
        k
        for k in kinds
        if k != previous
        and not (k == "complete" and program_kinds)
        and not (k in DIHEDRAL and previous in DIHEDRAL)
        and not (k in ONCE and k in program_kinds)
        and not (k == "scale" and side * 2 > MAX_SIDE)
    ]


def completable(kinds: list[str], program_kinds: list[str], length: int, side: int) -> bool:
    """Whether the rules let ``program_kinds`` grow to ``length`` steps."""
    if len(program_kinds) == length:
        return True
    return any(
        completable(kinds, program_kinds + [k], length, side * (2 if k == "scale" else 1))
        for k in kinds_allowed(kinds, program_kinds, side)
    )


def step_classes(kinds: list[str], program_kinds: list[str], side: int) -> list[Step]:
    """The steps the rules allow next (``kinds_allowed``), every parameter choice one class:
    a recolour is ``("recolour", None, target)`` (its source is drawn later, from the task's
    colours), so recolour and fill have nine classes each (one per colour they paint), translate
    16, reflect and gravity four, rotate three, scale two (those that stay within ``MAX_SIDE``),
    count two and complete one."""
    classes: list[Step] = []
    for kind in kinds_allowed(kinds, program_kinds, side):
        if kind == "recolour":
            classes += [(kind, None, target) for target in COLOURS for _ in range(RECOLOUR_WEIGHT)]
        elif kind == "reflect":
            classes += [(kind, axis) for axis in AXES]
        elif kind == "rotate":
            classes += [(kind, turns) for turns in (1, 2, 3)]
        elif kind == "translate":
            classes += [(kind, d, k, e) for d in DIRECTIONS for k in (1, 2) for e in EDGES]
        elif kind == "gravity":
            classes += [(kind, d) for d in DIRECTIONS]
        elif kind == "fill":
            classes += [(kind, colour) for colour in COLOURS]
        elif kind == "scale":
            classes += [(kind, factor) for factor in (2, 3) if side * factor <= MAX_SIDE]
        elif kind == "count":
            classes += [(kind, layout) for layout in ("row", "column")]
        else:
            classes.append((kind,))
    return classes


def grown_side(side: int, step: Step) -> int:
    return side * step[1] if step[0] == "scale" else side


def completable_classes(kinds: list[str], program_kinds: list[str], length: int, side: int) -> list[Step]:
    """The ``step_classes`` after which the rules still let the program grow to ``length`` steps."""
    return [
        c
        for c in step_classes(kinds, program_kinds, side)
        if completable(kinds, program_kinds + [c[0]], length, grown_side(side, c))
    ]


def draw_class(rng: random.Random, classes: list[Step], length: int) -> Step:
    """One of ``classes``: uniformly for a one-step program, whose step a fixed guess could
    otherwise learn; for a longer one (which no fixed guess answers: ``blind_share``) a
    primitive uniformly, then one of its classes."""
    if length > 1:
        kind = rng.choice(sorted({c[0] for c in classes}, key=PRIMITIVES.index))
        classes = [c for c in classes if c[0] == kind]
    return rng.choice(classes)


def draw_program(
    rng: random.Random, kinds: list[str], length: int, size: int, palette: list[int], first: Step | None = None
) -> list[Step] | None:
    """A random program of ``length`` steps under the family's rules, each step drawn by
    ``draw_class`` from the classes (``step_classes``) that can still be completed, the first
    one ``first`` when given (a class from ``completable_classes`` of the empty program); a
    recolour's source is one of the task's colours so far other than its target. None when the
    kinds cannot make one."""
    program: list[Step] = []
    colours = list(palette)
    side = size
    for position in range(length):
        classes = completable_classes(kinds, [step[0] for step in program], length, side)
        if not classes:
            return None
        step = first if position == 0 and first is not None else draw_class(rng, classes, length)
        if step[0] == "recolour":
            step = (step[0], rng.choice([c for c in colours if c != step[2]]), step[2])
        if step[0] in ("recolour", "fill"):
            colours.append(step[-1])
        side = grown_side(side, step)
        program.append(step)
    return program


def side_range(size: int, least: int = 3) -> tuple[int, int]:
    return max(least, size - size // 3), max(least, size)


def grow_blob(rng: random.Random, height: int, width: int, start: tuple[int, int]) -> list[tuple[int, int]]:
    """A random 4-connected shape inside a height×width box, grown cell by cell from ``start``."""
    target = rng.randint(1, height * width)
    cells = [start]
    taken = set(cells)
    while len(cells) < target:
        r, c = rng.choice(cells)
        dr, dc = OFFSETS[rng.choice(DIRECTIONS)]
        nr, nc = r + dr, c + dc
        if 0 <= nr < height and 0 <= nc < width and (nr, nc) not in taken:
            taken.add((nr, nc))
            cells.append((nr, nc))
    return cells


def ring(height: int, width: int) -> list[tuple[int, int]]:
    return [(r, c) for r in range(height) for c in range(width) if r in (0, height - 1) or c in (0, width - 1)]


def draw_objects(
    rng: random.Random, size: int, count_wanted: int, palette: list[int], forced: list[int], ring_share: float
) -> tuple[Grid, int]:
    """A grid with up to ``count_wanted`` shapes that do not touch (not even diagonally); shapes
    picked at random among those placed take the ``forced`` colours (not the first ones drawn,
    which have the most room: a recolour's source would be the largest shape's colour).
    Returns (grid, shapes placed)."""
    low, high = side_range(size)
    rows, cols = rng.randint(low, high), rng.randint(low, high)
    grid = np.zeros((rows, cols), dtype=np.int8)
    blocked = np.zeros((rows + 2, cols + 2), dtype=bool)  # cells next to a shape, padded by one
    shapes: list[list[tuple[int, int]]] = []  # the cells of each shape placed
    for _ in range(count_wanted):
        colour = rng.choice(palette)
        for _ in range(20):
            if rows >= 3 and cols >= 3 and rng.random() < ring_share:
                height, width = rng.randint(3, min(5, rows)), rng.randint(3, min(5, cols))
                top, left = rng.randint(0, rows - height), rng.randint(0, cols - width)
                cells = ring(height, width)
            else:
                height, width = rng.randint(1, min(4, rows)), rng.randint(1, min(4, cols))
                top, left = rng.randint(0, rows - height), rng.randint(0, cols - width)
                start = (rng.randrange(height), rng.randrange(width))
                if blocked[top + start[0] + 1, left + start[1] + 1]:  # a blob here would fail: skip growing it
                    continue
                cells = grow_blob(rng, height, width, start)
            if any(blocked[top + r + 1, left + c + 1] for r, c in cells):
                continue
            for r, c in cells:
                grid[top + r, left + c] = colour
                blocked[top + r : top + r + 3, left + c : left + c + 3] = True
            shapes.append([(top + r, left + c) for r, c in cells])
            break
    for colour, shape in zip(forced, rng.sample(shapes, min(len(forced), len(shapes)))):
        for r, c in shape:
            grid[r, c] = colour
    return grid, len(shapes)


def draw_pattern(rng: random.Random, size: int, palette: list[int]) -> tuple[Grid, int] | None:
    """A periodic pattern (a random tile of 2–3 colours repeated) with a rectangle of at most a
    quarter of the grid blanked, such that ``complete`` restores it. Returns (grid, blanked cells)."""
    low, high = side_range(size, least=4)
    rows, cols = rng.randint(low, high), rng.randint(low, high)
    tile_rows, tile_cols = rng.randint(1, min(4, rows // 2)), rng.randint(1, min(4, cols // 2))
    if tile_rows * tile_cols < 2:
        tile_rows, tile_cols = (1, 2) if rng.random() < 0.5 else (2, 1)
    colours = rng.sample(palette, rng.randint(2, len(palette)))
    tile = np.array([[rng.choice(colours) for _ in range(tile_cols)] for _ in range(tile_rows)], dtype=np.int8)
    if len(np.unique(tile)) < 2:
        return None
    full = np.tile(tile, (-(-rows // tile_rows), -(-cols // tile_cols)))[:rows, :cols]
    height, width = rng.randint(1, max(1, rows // 2)), rng.randint(1, max(1, cols // 2))
    if height * width < 2:
        return None
    top, left = rng.randint(0, rows - height), rng.randint(0, cols - width)
    masked = full.copy()
    masked[top : top + height, left : left + width] = 0
    if not np.array_equal(complete(masked), full):
        return None
    return masked, height * width


def draw_pair(
    rng: random.Random, program: list[Step], size: int, objects_wanted: int, palette: list[int]
) -> tuple[Grid, Grid, int, int] | None:
    """An input every step of ``program`` changes, and its output: (input, output, shapes,
    blanked cells); None after ``GRID_TRIES`` inputs."""
    kinds = [step[0] for step in program]
    forced = [program[0][1]] if kinds[0] == "recolour" else []
    ring_share = 0.5 if "fill" in kinds else 0.15
    for _ in range(GRID_TRIES):
        if kinds[0] == "complete":
            drawn = draw_pattern(rng, size, palette)
            if drawn is None:
                continue
            grid, blanked = drawn
            shapes = 0
        else:
            grid, shapes = draw_objects(rng, size, objects_wanted, palette, forced, ring_share)
            blanked = 0
        current = grid
        for step in program:
            following = apply_step(current, step)
            if following is None or (following.shape == current.shape and np.array_equal(following, current)):
                break
            current = following
        else:
            if not (current.shape == grid.shape and np.array_equal(current, grid)):
                return grid, current, shapes, blanked
    return None


def draw_pairs(
    rng: random.Random, program: list[Step], size: int, objects_wanted: int, palette: list[int], wanted: int
) -> list[tuple[Grid, Grid, int, int]] | None:
    """``wanted`` pairs (``draw_pair``) whose inputs are pairwise different and whose outputs
    are too; a pair that repeats an earlier input or output is redrawn, up to ``PAIR_TRIES``
    times. None when the program makes no input or too few different ones."""
    pairs: list[tuple[Grid, Grid, int, int]] = []
    seen: set = set()
    for _ in range(wanted):
        for _ in range(PAIR_TRIES):
            pair = draw_pair(rng, program, size, objects_wanted, palette)
            if pair is None:
                return None
            keys = (("in", pair[0].shape, pair[0].tobytes()), ("out", pair[1].shape, pair[1].tobytes()))
            if not any(key in seen for key in keys):
                seen.update(keys)
                pairs.append(pair)
                break
        else:
            return None
    return pairs


def discriminating_test(
    rng: random.Random,
    program: list[Step],
    size: int,
    objects_wanted: int,
    palette: list[int],
    pairs: list[tuple[Grid, Grid, int, int]],
    demos: int,
) -> tuple[tuple[Grid, Grid, int, int], float]:
    """The test pair (``pairs[demos]``, which passes ``shortcut_problem``) or, when other fixed
    guesses give its output, the first of up to ``TEST_TRIES`` newly drawn test pairs that
    passes ``shortcut_problem`` and that no other fixed guess answers, else the one with the
    best ``blind_share``; returned with its share."""
    inputs, outputs = [p[0] for p in pairs[:demos]], [p[1] for p in pairs[:demos]]
    test = pairs[demos]
    share = blind_share(program, test[0], test[1])
    for _ in range(TEST_TRIES):
        if share == 1:
            break
        other = draw_pair(rng, program, size, objects_wanted, palette)
        if other is None:
            break
        if shortcut_problem(program, inputs, outputs, other[0], other[1]) is None:
            other_share = blind_share(program, other[0], other[1])
            if other_share > share:
                test, share = other, other_share
    return test, share


# ---------------------------------------------------------------------------- the generator


class ArcGridGenerator(TaskGenerator):
    """ARC-style grid tasks; ``render`` is "text" (ArcGrid-v0: grids as digits in the prompt) or
    "image" (ArcGridImage-v0: the grids drawn, the prompt explaining the palette)."""

    declaration = FAMILY

    def __init__(self, render: str = "text"):
        if render not in ("text", "image"):
            raise ValueError(f"render must be text or image, got {render!r}")
        self.render = render

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        """Draw a first-step class (``draw_class`` of ``completable_classes``), then whole tasks
        with it: palette, program, pairs (``draw_pairs``, ``shortcut_problem``), a test pair that
        no other fixed guess answers (``discriminating_test``; failing that the task is kept with
        its ``blind_share``), and the uniqueness check. The class is drawn again after
        ``CLASS_DRAWS`` tasks or when a task is dropped for its share, so a class that the checks
        often refuse keeps most of its share of the tasks."""
        size, length, objects_wanted, demos = params["size"], params["primitives"], params["objects"], params["demos"]
        kinds = [kind for kind in PRIMITIVES if kind in params["library"].split(",")]
        firsts = completable_classes(kinds, [], length, size)
        if not firsts:
            raise ValueError(
                f"library {params['library']} cannot make a {length}-step program under the family's "
                "rules (no primitive twice in a row, reflect/rotate not adjacent, scale and count once, "
                "complete first)"
            )
        draws = 0
        first = None
        for _ in range(MAX_DRAWS):
            if draws % CLASS_DRAWS == 0:
                first = None
            draws += 1
            palette = rng.sample(COLOURS, PALETTE_SIZE)
            first = first or draw_class(rng, firsts, length)
            program = draw_program(rng, kinds, length, size, palette, first)
            several = program[0][0] == "recolour" or any(step[0] == "count" for step in program)
            wanted = max(objects_wanted, 2) if several else objects_wanted
            share = 0.0
            for _ in range(PAIR_SETS):
                pairs = draw_pairs(rng, program, size, wanted, palette, demos + 1)
                if pairs is None:
                    break
                inputs, outputs = [p[0] for p in pairs[:demos]], [p[1] for p in pairs[:demos]]
                if shortcut_problem(program, inputs, outputs, pairs[demos][0], pairs[demos][1]) is None:
                    pairs[demos], share = discriminating_test(rng, program, size, wanted, palette, pairs, demos)
                    break
            if share < 1 and not (share and rng.random() < share):
                if share:  # other fixed guesses give this class's test outputs: draw it less often
                    first = None
                continue
            test_input, test_output = pairs[demos][0], pairs[demos][1]
            check = check_demos(inputs, outputs, test_input, test_output, length)
            if check.problem is None:
                break
        else:
            raise ValueError(
                f"no well-posed task within {MAX_DRAWS} draws for size={size}, primitives={length}, "
                f"library={params['library']}; widen the library or lower primitives"
            )
        answer = {
            "test_input": test_input.tolist(),
            "output": test_output.tolist(),
            "program": [step_to_dict(step) for step in program],
        }
        meta = {
            "program": [step_to_dict(step) for step in program],
            "demos": [{"input": a.tolist(), "output": b.tolist()} for a, b in zip(inputs, outputs)],
            "grid": list(test_input.shape),
            "output_shape": list(test_output.shape),
            "objects": [p[2] for p in pairs],
            "masked_cells": [p[3] for p in pairs],
            "alternatives_checked": check.alternatives_checked,
            "program_cells": len(program) * int(test_input.size),
            "first_demo_consistent": check.first_demo_consistent,
            "draws": draws,
        }
        if self.render == "image":
            return {
                "prompt": describe_picture(inputs, outputs, test_input),
                "answer": answer,
                "meta": meta,
                "images": [draw_image(inputs, outputs, test_input)],
            }
        return {"prompt": describe_text(inputs, outputs, test_input), "answer": answer, "meta": meta}

    def reference_output(self, task: Task) -> Grid:
        """The stored program applied to the test input."""
        program = [step_from_dict(entry) for entry in task.answer["program"]]
        return run(np.array(task.answer["test_input"], dtype=np.int8), program)

    def solve(self, task: Task) -> str:
        return f"<answer>\n{format_grid(self.reference_output(task).tolist())}\n</answer>"

    def hints(self, task: Task) -> list[str]:
        """The program's length, then each step in words, then the output's shape, then the
        output's rows: the first half, then all but the last (of a one-row output, all but its
        last cell)."""
        program = task.answer["program"]
        output = task.answer["output"]
        rows, cols = len(output), len(output[0])
        pieces = [
            f"The transformation is {len(program)} step{'s' if len(program) > 1 else ''} applied in order, each "
            "one of: recolour, reflect, rotate, translate, gravity, fill enclosed background, scale up, count "
            "objects, complete a periodic pattern."
        ]
        pieces += [f"Step {number}: {describe_step(step)}." for number, step in enumerate(program, start=1)]
        pieces.append(
            f"The test output has {rows} row{'s' if rows > 1 else ''} and {cols} column{'s' if cols > 1 else ''}."
        )
        if rows > 1:
            for shown in sorted({max(1, rows // 2), rows - 1}):
                pieces.append(
                    f"The first {shown} row{'s' if shown > 1 else ''} of the test output:\n"
                    + format_grid(output[:shown])
                )
        elif cols > 1:
            pieces.append(f"The first {cols - 1} cells of the test output's row: " + " ".join(map(str, output[0][:-1])))
        return pieces

    def wrong_response(self, task: Task) -> str:
        """A near miss: the output with its first cell's colour changed."""
        grid = [list(row) for row in task.answer["output"]]
        grid[0][0] = (grid[0][0] + 1) % 10
        return f"<answer>\n{format_grid(grid)}\n</answer>"

    def split_group(self, task: Task) -> Any:
        """The test grid and its answer: the same test pair with other demonstrations (or drawn
        as text and as a picture) is on one side."""
        return ["arc-grid", task.answer["test_input"], task.answer["output"]]

    def split_exposures(self, task: Task) -> list:
        """The demonstration pairs, each as the group of a task whose test pair it is (red team
        s21 B3: 24 of 200 d = 0 test pairs were shown as a demonstration by a 2,000-task train
        set)."""
        return [["arc-grid", demo["input"], demo["output"]] for demo in task.meta["demos"]]

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries on ArcGrid: the test input echoed; every demo's
        output echoed (the generator refuses a test output equal to one, so these always score
        0); the test input put through a transformation guessed without the demos (count,
        complete, fill, gravity, crop to the bounding box, clear, paint every coloured cell the
        demos' output colour, a fixed turn or flip, a 2× or 3× blow-up: kept where it is not
        the answer, i.e. where the program is something else); an all-background or one-colour
        grid of the right shape, the output with one cell changed, transposed, with a row or
        column added or missing, rows joined into one line, two grids hedged in one answer or in
        two answer blocks, cells as colour names or numbers above 9, the program's name instead
        of a grid, and huge grids."""
        output = [list(row) for row in task.answer["output"]]
        rows, cols = len(output), len(output[0])
        test_input = [list(row) for row in task.answer["test_input"]]
        demo_outputs = [demo["output"] for demo in task.meta.get("demos", ())]
        changed = [list(row) for row in output]
        changed[rows - 1][cols - 1] = (changed[rows - 1][cols - 1] + 1) % 10
        input_changed = [list(row) for row in test_input]
        input_changed[0][0] = (input_changed[0][0] + 1) % 10
        colour = max((v for row in output for v in row if v), default=1)
        grids = [
            ("echo-test-input", test_input),
            ("test-input-one-cell-changed", input_changed),
            ("all-background", [[0] * cols for _ in range(rows)]),
            ("one-colour", [[colour] * cols for _ in range(rows)]),
            ("one-cell-changed", changed),
            ("transposed", [list(col) for col in zip(*output)]),
            ("extra-row", output + [output[-1]]),
            ("extra-column", [row + [row[-1]] for row in output]),
            ("missing-row", output[:-1] or [[0] * cols]),
            ("missing-column", [row[:-1] or [0] for row in output]),
        ]
        grid_in = np.array(test_input, dtype=np.int8)
        demo_colours = Counter(v for grid in demo_outputs for row in grid for v in row if v)
        painted = demo_colours.most_common(1)[0][0] if demo_colours else 1
        guesses = [
            ("count-row", ("count", "row")),
            ("count-column", ("count", "column")),
            ("complete", ("complete",)),
            ("fill", ("fill", painted)),
            ("gravity-down", ("gravity", "down")),
        ]
        blind = [(name, apply_step(grid_in, step)) for name, step in guesses]
        blind += [
            ("crop-to-bounding-box", bounding_box(grid_in)),
            ("clear-the-grid", np.zeros_like(grid_in)),
            ("recolour-all-to-one", np.where(grid_in != 0, np.int8(painted), grid_in)),
        ]
        grids += [(f"apply-to-test-alone-{name}", guess.tolist()) for name, guess in blind if guess is not None]
        grids += [(f"fixed-symmetry-{k}-of-test-input", image) for k, image in enumerate(symmetries(test_input)[1:], 1)]
        grids += [(f"test-input-blown-up-{k}", scaled(test_input, k)) for k in (2, 3)]
        attacks = [
            (f"echo-demo-output-{number}", f"<answer>\n{format_grid(grid)}\n</answer>")
            for number, grid in enumerate(demo_outputs, start=1)
        ]
        attacks += [(name, f"<answer>\n{format_grid(grid)}\n</answer>") for name, grid in grids if grid != output]
        right, wrong = format_grid(output), format_grid(changed)
        if rows > 1:
            attacks.append(("rows-joined", f"<answer>{' '.join(right.splitlines())}</answer>"))
        attacks += [
            ("hedge-two-grids", f"<answer>\n{right}\n\n{wrong}\n</answer>"),
            ("hedge-wrong-then-right", f"<answer>\n{wrong}\nor\n{right}\n</answer>"),
            ("right-then-wrong-blocks", f"<answer>\n{right}\n</answer> or maybe <answer>\n{wrong}\n</answer>"),
            (
                "colour-names",
                "<answer>\n" + "\n".join(" ".join(COLOUR_NAMES[v] for v in row) for row in output) + "\n</answer>",
            ),
            (
                "numbers-above-nine",
                "<answer>\n" + "\n".join(" ".join(str(v + 10) for v in row) for row in output) + "\n</answer>",
            ),
            ("program-name", f"<answer>{' then '.join(step['primitive'] for step in task.answer['program'])}</answer>"),
            ("huge-grid", "<answer>\n" + "\n".join(["0 " * 2_000] * 2_000) + "\n</answer>"),
            ("many-rows", "<answer>\n" + "0\n" * 200_000 + "</answer>"),
            ("wildcards", "<answer>\n" + "\n".join(" ".join("?" for _ in row) for row in output) + "\n</answer>"),
        ]
        return attacks


# ---------------------------------------------------------------------------- prompts and pictures


COLOUR_NAMES = ("black", "blue", "red", "green", "yellow", "grey", "magenta", "orange", "light-blue", "maroon")
ARC_RGB = (
    (0, 0, 0),
    (0, 116, 217),
    (255, 65, 54),
    (46, 204, 64),
    (255, 220, 0),
    (170, 170, 170),
    (240, 18, 190),
    (255, 133, 27),
    (127, 219, 255),
    (135, 12, 37),
)


def format_grid(grid: list[list[int]]) -> str:
    """One line per row, cells as digits separated by spaces."""
    return "\n".join(" ".join(str(v) for v in row) for row in grid)


def describe_step(step: dict) -> str:
    """One step of a stored program (``step_to_dict``) in words."""
    kind = step["primitive"]
    if kind == "recolour":
        return f"every cell of colour {step['source']} becomes colour {step['target']}"
    if kind == "reflect":
        return {
            "left-right": "mirror the grid left to right",
            "up-down": "mirror the grid top to bottom",
            "diagonal": "mirror the grid on its main diagonal (transpose)",
            "anti-diagonal": "mirror the grid on its anti-diagonal",
        }[step["axis"]]
    if kind == "rotate":
        return f"rotate the grid {90 * step['turns']} degrees clockwise"
    if kind == "translate":
        edge = "wrapping around the edges" if step["edge"] == "wrap" else "cells pushed off the grid are lost"
        return (
            f"move everything {step['distance']} cell{'s' if step['distance'] > 1 else ''} {step['direction']}, {edge}"
        )
    if kind == "gravity":
        return f"every coloured cell slides {step['direction']} until the edge or another coloured cell stops it"
    if kind == "fill":
        return f"background cells enclosed by coloured cells become colour {step['colour']}"
    if kind == "scale":
        return f"every cell becomes a {step['factor']}×{step['factor']} block"
    if kind == "count":
        return (
            f"list the objects (4-connected cells of one colour) in reading order as a "
            f"{'row' if step['layout'] == 'row' else 'column'} of their colours"
        )
    return "complete the periodic pattern: fill the background holes with the repeating tile"


def shape_text(grid: Grid) -> str:
    return f"{grid.shape[0]}×{grid.shape[1]}"


INTRO = (
    "Each example shows an input grid and the output grid that one fixed transformation makes from it. Find "
    "the transformation and apply it to the test input. Cells hold colours 0–9; 0 is the background."
)
ANSWER = (
    "Put your final answer inside <answer>…</answer> as the test output grid: one line per row, each cell a "
    "digit 0–9 (spaces between digits are optional), with exactly the output's number of rows and columns."
)


def describe_text(inputs: list[Grid], outputs: list[Grid], test_input: Grid) -> str:
    """ArcGrid-v0's prompt: the grids as rows of digits."""
    parts = [INTRO + " Grids are written one row per line, cells separated by spaces.\n"]
    for number, (grid_in, grid_out) in enumerate(zip(inputs, outputs), start=1):
        parts.append(
            f"Example {number}\nInput ({shape_text(grid_in)}):\n{format_grid(grid_in.tolist())}\n"
            f"Output ({shape_text(grid_out)}):\n{format_grid(grid_out.tolist())}\n"
        )
    parts.append(f"Test input ({shape_text(test_input)}):\n{format_grid(test_input.tolist())}\n")
    parts.append(ANSWER)
    return "\n".join(parts)


def describe_picture(inputs: list[Grid], outputs: list[Grid], test_input: Grid) -> str:
    """ArcGridImage-v0's prompt: how to read the picture (``task.images[0]``)."""
    mapping = ", ".join(f"{digit} {name}" for digit, name in enumerate(COLOUR_NAMES))
    sizes = "; ".join(
        f"example {n}: input {shape_text(a)}, output {shape_text(b)}"
        for n, (a, b) in enumerate(zip(inputs, outputs), start=1)
    )
    return (
        f"{INTRO}\n\nThe image shows {len(inputs)} examples, one per row, each with its input grid on the left and "
        f"its output grid on the right of the arrow; the last row shows the test input. Every cell is a coloured "
        f"square, separated by grey grid lines. Colours stand for digits: {mapping}. Grid sizes (rows×columns): "
        f"{sizes}; test input: {shape_text(test_input)}.\n\n{ANSWER}"
    )


GRID_LINE_INDEX = len(ARC_RGB)  # the lines' grey in grid_picture's palette
GRID_PALETTE = [level for colour in (*ARC_RGB, (85, 85, 85)) for level in colour]
IMAGE_GRID_PX = 180  # the largest grid is drawn about this many pixels wide
LABEL_PX, GAP_PX, ARROW_PX, MARGIN_PX = 18, 10, 36, 8


def grid_picture(grid: Grid, cell: int) -> Image.Image:
    """The grid as coloured cell squares with 1-pixel grey lines between and around them (a
    cell's first row and column, and the picture's last row and column). Drawn as palette
    indices (the ten colours, then the lines' grey) and made RGB by Pillow: the same pixels as
    masking an RGB array, 6-14× faster."""
    rows, cols = grid.shape
    pixels = np.full((rows * cell + 1, cols * cell + 1), GRID_LINE_INDEX, dtype=np.uint8)
    cells = grid.astype(np.uint8).repeat(cell, axis=0).repeat(cell, axis=1)
    inside = np.arange(rows * cell) % cell != 0, np.arange(cols * cell) % cell != 0
    interior = pixels[: rows * cell, : cols * cell]
    np.copyto(interior, cells, where=inside[0][:, None] & inside[1][None, :])
    picture = Image.fromarray(pixels, "P")
    picture.putpalette(GRID_PALETTE)
    return picture.convert("RGB")


def draw_image(inputs: list[Grid], outputs: list[Grid], test_input: Grid) -> Image.Image:
    """One row per example (input, arrow, output) and a last row with the test input."""
    largest = max(max(g.shape) for g in [*inputs, *outputs, test_input])
    cell = max(4, min(24, IMAGE_GRID_PX // largest))
    rows = [(f"Example {n}", a, b) for n, (a, b) in enumerate(zip(inputs, outputs), start=1)] + [
        ("Test", test_input, None)
    ]
    left_width = max(g.shape[1] for g in [*inputs, test_input]) * cell + 1
    right_width = max(g.shape[1] for g in outputs) * cell + 1
    width = 2 * MARGIN_PX + left_width + ARROW_PX + right_width
    heights = [LABEL_PX + max(a.shape[0], b.shape[0] if b is not None else 0) * cell + 1 + GAP_PX for _, a, b in rows]
    image = Image.new("RGB", (width, 2 * MARGIN_PX + sum(heights)), (255, 255, 255))
    pen = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    top = MARGIN_PX
    for (label, grid_in, grid_out), height in zip(rows, heights):
        pen.text((MARGIN_PX, top), label, fill=(0, 0, 0), font=font)
        image.paste(grid_picture(grid_in, cell), (MARGIN_PX, top + LABEL_PX))
        middle = top + LABEL_PX + grid_in.shape[0] * cell // 2
        arrow_left, arrow_right = MARGIN_PX + left_width + 6, MARGIN_PX + left_width + ARROW_PX - 8
        pen.line([(arrow_left, middle), (arrow_right - 6, middle)], fill=(0, 0, 0), width=2)
        pen.polygon(
            [(arrow_right - 6, middle - 5), (arrow_right, middle), (arrow_right - 6, middle + 5)], fill=(0, 0, 0)
        )
        if grid_out is not None:
            image.paste(grid_picture(grid_out, cell), (MARGIN_PX + left_width + ARROW_PX, top + LABEL_PX))
        else:
            pen.text((MARGIN_PX + left_width + ARROW_PX, middle - 8), "?", fill=(0, 0, 0), font=font)
        top += height
    return image
