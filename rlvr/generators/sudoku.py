"""How Sudoku puzzles are made: a randomly filled full grid, clues removed while the puzzle stays unique
and within the allowed techniques, the techniques it needs measured by a human-style solver.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.sudoku``; ``SudokuGenerator(render="image")`` makes SudokuImage-v0's tasks.

Candidates are bitmasks (bit d−1 = digit d possible). The logical solver applies, always the
easiest that makes progress: naked singles (level 0), hidden singles (1), box/line intersections
(2), naked pairs (3); a puzzle it cannot finish needs backtracking (4). ``count_solutions`` is a
depth-first search on the cell with fewest candidates, stopping at two solutions.
"""

from __future__ import annotations

import functools
import random
from typing import Any, NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from rlvr.core import Task, TaskGenerator, reveal_in_pieces, revealed_count
from rlvr.families.sudoku import BOXES, FAMILY, TECHNIQUES
from rlvr.generators.problem_forms import relabelled_by_first_appearance, sudoku_form
from rlvr.verifiers.sudoku import units

BACKTRACKING = TECHNIQUES.index("backtracking")
POPCOUNT = tuple(bin(mask).count("1") for mask in range(1 << 9))  # candidates in a mask of up to 9 digits
SEARCH_NODE_CAP = 200_000


class Geometry(NamedTuple):
    size: int
    box: tuple[int, int]
    units: tuple[tuple[int, ...], ...]
    peers: tuple[tuple[int, ...], ...]
    boxes: tuple[tuple[int, ...], ...]
    lines: tuple[tuple[int, ...], ...]


@functools.lru_cache(maxsize=8)
def geometry(size: int) -> Geometry:
    """Units, peers, boxes and lines of a size×size grid (cached)."""
    box = BOXES[size]
    all_units = tuple(tuple(u) for u in units(size, box))
    peers = tuple(tuple(sorted({p for u in all_units if c in u for p in u} - {c})) for c in range(size * size))
    return Geometry(size, box, all_units, peers, all_units[2 * size :], all_units[: 2 * size])


@functools.lru_cache(maxsize=1)
def every_grid(size: int) -> tuple[tuple[int, ...], ...]:
    """Every complete grid of side ``size`` in lexicographic order (288 for 4×4; only small
    sides are practical)."""
    geo = geometry(size)
    grid, found = [0] * (size * size), []

    def fill(cell: int) -> None:
        if cell == size * size:
            found.append(tuple(grid))
            return
        used = {grid[peer] for peer in geo.peers[cell] if peer < cell}
        for value in range(1, size + 1):
            if value not in used:
                grid[cell] = value
                fill(cell + 1)
        grid[cell] = 0

    fill(0)
    return tuple(found)


def full_grid(rng: random.Random, size: int) -> list[int]:
    """A random complete grid: one of the 288 4×4 grids drawn uniformly; a larger one filled by
    a depth-first search that takes an empty cell with the fewest candidates (drawn among ties)
    and tries its digits in a random order. Not the banded pattern shuffled, as before round 14:
    every grid of that pattern has the same three digit sets in each box's rows across a band
    (and columns across a stack), a rule no Sudoku states that let singles alone fill every
    puzzle (red team s14 A1); ties taken in reading order made the top band twice as often so
    (second pass R2-4: 11.7 % against 4–6 %) and 96 of the 4×4 grids half the draws."""
    if size == 4:
        grids = every_grid(4)
        return list(grids[rng.randrange(len(grids))])
    geo = geometry(size)
    grid = [0] * (size * size)
    cands = [(1 << size) - 1] * (size * size)

    def fill() -> bool:
        empty = [c for c in range(size * size) if not grid[c]]
        if not empty:
            return True
        fewest = min(POPCOUNT[cands[c]] for c in empty)
        ties = [c for c in empty if POPCOUNT[cands[c]] == fewest]
        cell = ties[rng.randrange(len(ties))]
        digits = [d + 1 for d in range(size) if cands[cell] >> d & 1]
        rng.shuffle(digits)
        for value in digits:
            bit = 1 << (value - 1)
            grid[cell] = value
            touched = [peer for peer in geo.peers[cell] if not grid[peer] and cands[peer] & bit]
            for peer in touched:
                cands[peer] &= ~bit
            if all(cands[peer] for peer in touched) and fill():
                return True
            for peer in touched:
                cands[peer] |= bit
            grid[cell] = 0
        return False

    fill()
    return grid


def initial_candidates(grid: list[int], geo: Geometry) -> list[int]:
    full = (1 << geo.size) - 1
    cands = [0 if v else full for v in grid]
    for cell, value in enumerate(grid):
        if value:
            for peer in geo.peers[cell]:
                cands[peer] &= ~(1 << (value - 1))
    return cands


def logical_solve(
    puzzle: list[int], geo: Geometry, max_level: int = BACKTRACKING - 1, placed: list[int] | None = None
) -> tuple[bool, int]:
    """(solved, hardest level used) with techniques up to ``max_level``, easiest first. A
    solved puzzle is unique (every step is forced). ``placed``, when given, receives the
    cells in the order they are filled."""
    grid, cands, hardest = list(puzzle), initial_candidates(puzzle, geo), 0

    def place(cell: int, value: int) -> None:
        grid[cell], cands[cell] = value, 0
        if placed is not None:
            placed.append(cell)
        for peer in geo.peers[cell]:
            cands[peer] &= ~(1 << (value - 1))

    while True:
        empty = [c for c in range(len(grid)) if not grid[c]]
        if not empty:
            return True, hardest
        if any(cands[c] == 0 for c in empty):
            return False, hardest
        singles = [c for c in empty if cands[c] & (cands[c] - 1) == 0]
        if singles:
            for cell in singles:
                if not grid[cell] and cands[cell]:
                    place(cell, cands[cell].bit_length())
            continue
        if max_level >= 1 and hidden_single(geo, grid, cands, place):
            hardest = max(hardest, 1)
            continue
        if max_level >= 2 and intersections(geo, cands):
            hardest = max(hardest, 2)
            continue
        if max_level >= 3 and naked_pairs(geo, grid, cands):
            hardest = max(hardest, 3)
            continue
        return False, hardest


def hidden_single(geo: Geometry, grid: list[int], cands: list[int], place) -> bool:
    for unit in geo.units:
        for digit in range(geo.size):
            bit = 1 << digit
            spots = [c for c in unit if cands[c] & bit]
            if len(spots) == 1 and not any(grid[c] == digit + 1 for c in unit):
                place(spots[0], digit + 1)
                return True
    return False


def intersections(geo: Geometry, cands: list[int]) -> bool:
    """Pointing (a digit's spots in a box all on one line) and claiming (a line's spots all in
    one box): the digit leaves the rest of the other unit. True when something was removed."""
    changed = False
    for box in geo.boxes:
        box_set = set(box)
        for line in geo.lines:
            line_set = set(line)
            shared = box_set & line_set
            if not shared:
                continue
            for digit in range(geo.size):
                bit = 1 << digit
                in_shared = any(cands[c] & bit for c in shared)
                if not in_shared:
                    continue
                box_rest = any(cands[c] & bit for c in box_set - shared)
                line_rest = any(cands[c] & bit for c in line_set - shared)
                if not box_rest and line_rest:
                    for c in line_set - shared:
                        cands[c] &= ~bit
                    changed = True
                elif not line_rest and box_rest:
                    for c in box_set - shared:
                        cands[c] &= ~bit
                    changed = True
    return changed


def naked_pairs(geo: Geometry, grid: list[int], cands: list[int]) -> bool:
    changed = False
    for unit in geo.units:
        pairs = [c for c in unit if not grid[c] and POPCOUNT[cands[c]] == 2]
        for i, a in enumerate(pairs):
            for b in pairs[i + 1 :]:
                if cands[a] == cands[b]:
                    for c in unit:
                        if c not in (a, b) and cands[c] & cands[a]:
                            cands[c] &= ~cands[a]
                            changed = True
    return changed


def count_solutions(puzzle: list[int], geo: Geometry, limit: int = 2) -> tuple[int, int, list[int] | None]:
    """(solutions found up to ``limit``, search nodes, the first solution) by depth-first search
    on the empty cell with the fewest candidates."""
    nodes, first = 0, None

    def dfs(grid: list[int], cands: list[int]) -> int:
        nonlocal nodes, first
        nodes += 1
        if nodes > SEARCH_NODE_CAP:
            return limit
        empty = [c for c in range(len(grid)) if not grid[c]]
        if not empty:
            if first is None:
                first = list(grid)
            return 1
        cell = min(empty, key=lambda c: POPCOUNT[cands[c]])
        found, mask = 0, cands[cell]
        while mask and found < limit:
            bit = mask & -mask
            mask ^= bit
            value = bit.bit_length()
            next_grid, next_cands = list(grid), list(cands)
            next_grid[cell], next_cands[cell] = value, 0
            dead = False
            for peer in geo.peers[cell]:
                next_cands[peer] &= ~bit
                if not next_grid[peer] and not next_cands[peer]:
                    dead = True
                    break
            if not dead:
                found += dfs(next_grid, next_cands)
        return found

    count = dfs(list(puzzle), initial_candidates(puzzle, geo))
    return min(count, limit), nodes, first


def hardest_technique(puzzle: list[int], geo: Geometry) -> int:
    """The level of the hardest technique a solution needs (``BACKTRACKING`` if logic stalls)."""
    solved, hardest = logical_solve(puzzle, geo)
    return hardest if solved else BACKTRACKING


def remove_clues(rng: random.Random, solution: list[int], geo: Geometry, max_level: int, min_clues: int) -> list[int]:
    """Empty cells in random order while the puzzle stays uniquely solvable with techniques up
    to ``max_level`` (any, for backtracking) and keeps at least ``min_clues`` givens."""
    puzzle = list(solution)
    order = list(range(len(puzzle)))
    rng.shuffle(order)
    clues = len(puzzle)
    for cell in order:
        if clues <= min_clues:
            break
        value, puzzle[cell] = puzzle[cell], 0
        seen = {puzzle[p] for p in geo.peers[cell]}
        if len(seen - {0}) == geo.size - 1:  # a naked single at once: the rest is the puzzle that was solvable
            clues -= 1
            continue
        solved, _ = logical_solve(
            puzzle, geo, 1 if max_level == BACKTRACKING else max_level
        )  # singles: a cheap uniqueness proof
        if not solved and (max_level < BACKTRACKING or count_solutions(puzzle, geo)[0] != 1):
            puzzle[cell] = value
            continue
        clues -= 1
    return puzzle


class SudokuGenerator(TaskGenerator):
    """Sudoku puzzles with a unique solution; ``render`` is "text" (Sudoku-v0) or "image"
    (SudokuImage-v0: the grid drawn, the prompt explaining the picture)."""

    declaration = FAMILY

    def __init__(self, render: str = "text"):
        if render not in ("text", "image"):
            raise ValueError(f"render must be text or image, got {render!r}")
        self.render = render

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        size, level = params["size"], TECHNIQUES.index(params["technique"])
        if params["min_clues"] > size * size:
            raise ValueError(f"min_clues must be at most {size * size} for a {size}×{size} grid")
        geo = geometry(size)
        drawn = []
        for _ in range(params["draws"]):
            solution = full_grid(rng, size)
            puzzle = remove_clues(rng, solution, geo, level, params["min_clues"])
            count, nodes, _ = count_solutions(puzzle, geo)
            assert count == 1  # unique by construction; the generator proves it again
            drawn.append((hardest_technique(puzzle, geo), nodes, puzzle, solution))
        needed, nodes, puzzle, solution = max(drawn, key=lambda item: item[:2])
        answer = {"size": size, "box": list(geo.box), "puzzle": puzzle, "solution": solution}
        meta = {"clues": sum(1 for v in puzzle if v), "technique": TECHNIQUES[needed], "search_nodes": nodes}
        if self.render == "image":
            return {
                "prompt": describe_picture(size, geo.box),
                "answer": answer,
                "meta": meta,
                "images": [draw(puzzle, geo)],
            }
        return {"prompt": describe_text(puzzle, geo), "answer": answer, "meta": meta}

    def solve(self, task: Task) -> str:
        return f"<answer>\n{format_grid(task.answer['solution'], task.answer['size'])}\n</answer>"

    def hints(self, task: Task) -> list[str]:
        """Empty cells with their digits in the order a human-style solver fills them (cells
        its techniques cannot reach after them, in reading order), a share per piece, at most
        80 % of the empty cells and never all."""
        size, puzzle, solution = task.answer["size"], task.answer["puzzle"], task.answer["solution"]
        order: list[int] = []
        logical_solve(puzzle, geometry(size), placed=order)
        empty = [cell for cell in range(size * size) if not puzzle[cell]]
        reached = set(order)
        order += [cell for cell in empty if cell not in reached]
        facts = [
            f"r{cell // size + 1}c{cell % size + 1}={solution[cell]}" for cell in order[: revealed_count(len(empty))]
        ]
        return reveal_in_pieces(
            facts, "Empty cells in solving order (rRcC=digit: row R, column C, from 1)", total=len(empty)
        )

    def split_group(self, task: Task) -> Any:
        """The puzzle up to renamed digits and, on 4×4 grids, the shuffles that keep a grid a
        Sudoku (rows within bands, bands, columns within stacks, stacks) and the transpose
        (``problem_forms.sudoku_form``): the same puzzle renamed or shuffled, or drawn as text
        and as a picture, is on one side."""
        answer = task.answer
        return ["sudoku", answer["size"], answer["box"], sudoku_form(answer["size"], answer["box"], answer["puzzle"])]

    def problem_key(self, task: Task) -> Any:
        """The puzzle with its digits renamed by first appearance (text and picture alike): finer
        than ``split_group``, whose shuffles leave the 4×4 level only about 36 puzzles (a set
        of more than that would run out), so a set may hold two shuffles of one puzzle but
        never one puzzle twice under other digits."""
        answer = task.answer
        return ["sudoku", answer["size"], answer["box"], relabelled_by_first_appearance(answer["puzzle"])]

    def wrong_response(self, task: Task) -> str:
        """A near miss: the solution with two non-given cells of one row swapped."""
        size, puzzle, grid = task.answer["size"], task.answer["puzzle"], list(task.answer["solution"])
        for row in range(size):
            free = [row * size + c for c in range(size) if not puzzle[row * size + c]]
            if len(free) >= 2:
                a, b = free[:2]
                grid[a], grid[b] = grid[b], grid[a]
                break
        return f"<answer>\n{format_grid(grid, size)}\n</answer>"

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries: the puzzle echoed (blanks as 0 or '.'), a Latin
        square that ignores the givens, the solution with a given changed, every row the same,
        only the missing digits, a transposed or shifted solution, extra rows, and the grid
        without its answer block."""
        size, puzzle, solution = task.answer["size"], list(task.answer["puzzle"]), list(task.answer["solution"])
        latin = [((r * BOXES[size][1] + r // BOXES[size][0] + c) % size) + 1 for r in range(size) for c in range(size)]
        transposed = [solution[c * size + r] for r in range(size) for c in range(size)]
        shifted = [solution[(i + size) % (size * size)] for i in range(size * size)]
        given = next(i for i, v in enumerate(puzzle) if v)
        changed = list(solution)
        changed[given] = changed[given] % size + 1
        grids = [
            ("puzzle-echo-zeros", format_grid(puzzle, size)),
            ("puzzle-echo-dots", format_grid(puzzle, size).replace("0", ".")),
            ("latin-square", format_grid(latin, size)),
            ("given-changed", format_grid(changed, size)),
            ("same-row", "\n".join([" ".join(map(str, range(1, size + 1)))] * size)),
            ("missing-digits-only", " ".join(str(solution[i]) for i, v in enumerate(puzzle) if not v)),
            ("transposed", format_grid(transposed, size)),
            ("rows-rotated", format_grid(shifted, size)),
            ("extra-row", format_grid(solution, size) + "\n" + " ".join(map(str, range(1, size + 1)))),
        ]
        attacks = [
            (name, f"<answer>\n{grid}\n</answer>") for name, grid in grids if _completes(grid, puzzle, size) is False
        ]
        attacks.append(("no-answer-block", format_grid(solution, size)))
        return attacks


def _completes(grid_text: str, puzzle: list[int], size: int) -> bool:
    """Whether an attack's grid is in fact a valid completion (then it is an answer, not a hack)."""
    from rlvr.verifiers.sudoku import first_broken_rule, read_grid

    grid, _ = read_grid(grid_text, size)
    return grid is not None and first_broken_rule(grid, puzzle, size, BOXES[size]) is None


def format_grid(grid: list[int], size: int) -> str:
    """One line per row, digits separated by spaces, 0 for an empty cell."""
    return "\n".join(" ".join(str(v) for v in grid[r * size : (r + 1) * size]) for r in range(size))


def rules(size: int, box: tuple[int, int]) -> str:
    return (
        f"Fill the {size}×{size} grid so that every row, every column and every {box[0]}×{box[1]} box contains "
        f"each digit from 1 to {size} exactly once, keeping the given digits."
    )


ANSWER = (
    "Put your final answer inside <answer>…</answer> as the completed grid: {size} lines of {size} digits "
    "separated by spaces, one line per row."
)


def describe_text(puzzle: list[int], geo: Geometry) -> str:
    return (
        f"Solve this Sudoku. {rules(geo.size, geo.box)} The puzzle has exactly one solution. Empty cells are shown "
        f"as 0; boxes are {geo.box[0]} rows by {geo.box[1]} columns.\n\n```\n{format_grid(puzzle, geo.size)}\n```\n"
        "\n" + ANSWER.format(size=geo.size)
    )


def describe_picture(size: int, box: tuple[int, int]) -> str:
    return (
        f"Solve the Sudoku in the image. {rules(size, box)} The puzzle has exactly one solution. The image shows "
        f"the {size}×{size} grid with the given digits; empty cells are blank and thick lines mark the "
        f"{box[0]}×{box[1]} boxes.\n\n" + ANSWER.format(size=size)
    )


CELL_PX = 56


def draw(puzzle: list[int], geo: Geometry) -> Image.Image:
    """The puzzle as a picture: givens in black, thin cell lines, thick box lines."""
    size, margin = geo.size, 8
    side = size * CELL_PX + 2 * margin
    image = Image.new("RGB", (side, side), (255, 255, 255))
    pen = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=int(CELL_PX * 0.6))
    for i in range(size + 1):
        width = 4 if i % geo.box[0] == 0 else 1
        y = margin + i * CELL_PX
        pen.line([(margin, y), (side - margin, y)], fill=(0, 0, 0), width=width)
        width = 4 if i % geo.box[1] == 0 else 1
        x = margin + i * CELL_PX
        pen.line([(x, margin), (x, side - margin)], fill=(0, 0, 0), width=width)
    for cell, value in enumerate(puzzle):
        if value:
            r, c = divmod(cell, size)
            centre = (margin + c * CELL_PX + CELL_PX / 2, margin + r * CELL_PX + CELL_PX / 2)
            pen.text(centre, str(value), fill=(0, 0, 0), font=font, anchor="mm")
    return image
