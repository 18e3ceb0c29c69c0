"""ArcGrid verifier: read the answer grid, check its shape, compare it cell for cell.

Input       A ``Task`` of rlvr.generators.arc_grid (text or image env): ``task.answer`` =
            {"output": the test output as a list of rows of ints 0–9, …}; and the model's whole
            response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Parsing     Lines that are blank or a ``` fence are skipped; every other line is one row: ASCII
            digits 0–9 either all separated by spaces or tabs, or written together ("0120"). Anything else on a
            line (letters, numbers above 9, commas, ``?``, other scripts' digits) is a format error. The grid must
            have exactly the output's number of rows and every row exactly its number of columns (strict shape).
Correct     Equal to the stored test output in every cell: reward 1. The generator proved that
            every library program short enough to explain the demos gives this output, so the
            grid itself is the whole answer; formatting is the only freedom. Otherwise reward 0
            with a one-line reason (shape, or how many cells differ and the first one).
            ``partial=True``: a right-shaped wrong grid earns the cells it gets right beyond
            what the best do-nothing grid gets (one colour everywhere, or the test input
            echoed, turned, flipped or blown up 2 or 3 times): (right − b) / (cells − b), at
            least 0 and below 1 (at least one cell differs), so those trivial guesses earn nothing.
Bounds      At most ``MAX_ANSWER_CHARS`` characters and ``MAX_SIDE`` rows are read; linear work.
"""

from __future__ import annotations

import re
from typing import Any

from rlvr.core import SafeVerifier, Task, Verdict, answer_value_key, extract_answer, flag_option
from rlvr.families.arc_grid import MAX_SIDE

MAX_ANSWER_CHARS = 4 * MAX_SIDE * MAX_SIDE + 200
FENCE = re.compile(r"```[A-Za-z]*")
SPACED = re.compile(r"[0-9](?:[ \t]+[0-9])*")
JOINED = re.compile(r"[0-9]+")


def read_grid(block: str, rows: int, cols: int) -> tuple[list[list[int]] | None, str]:
    """(the grid, "read") or (None, what is wrong); at most ``rows`` rows are read."""
    if len(block) > MAX_ANSWER_CHARS:
        return None, f"answer longer than {MAX_ANSWER_CHARS} characters"
    grid = []
    for line in block.splitlines():
        text = line.strip()
        if not text or FENCE.fullmatch(text):
            continue
        if SPACED.fullmatch(text):
            row = [int(cell) for cell in text.split()]
        elif JOINED.fullmatch(text):
            row = [int(cell) for cell in text]
        else:
            return None, f"row {len(grid) + 1} is not digits 0-9: {text[:40]!r}"
        if len(row) != cols:
            return None, f"row {len(grid) + 1} has {len(row)} cells, expected {cols}"
        grid.append(row)
        if len(grid) > rows:
            return None, f"more than {rows} rows"
    if len(grid) != rows:
        return None, f"{len(grid)} rows, expected {rows}"
    return grid, "read"


class ArcGridVerifier(SafeVerifier):
    """Judges an ArcGrid answer grid (module docstring); never raises."""

    deadline_s = 1.0

    def __init__(self, partial: bool = False):
        self.partial = flag_option("partial", partial)

    def canonical_answer(self, task: Task, response: Any) -> str | None:
        """The grid read (``read_grid``), as ``reward: majority``'s key: spaced and joined rows agree."""
        expected = task.answer["output"]
        return answer_value_key(
            response, lambda block: read_grid(block, len(expected), len(expected[0]))[0], self.max_response_chars
        )

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block")
        expected = task.answer["output"]
        rows, cols = len(expected), len(expected[0])
        grid, reason = read_grid(block, rows, cols)
        if grid is None:
            return Verdict.fail(f"unreadable or misshapen grid: {reason}")
        wrong = [(r, c) for r in range(rows) for c in range(cols) if grid[r][c] != expected[r][c]]
        if not wrong:
            return Verdict.success("the grid equals the test output")
        r, c = wrong[0]
        reason = f"{len(wrong)} of {rows * cols} cells differ (first at row {r + 1}, column {c + 1})"
        if not self.partial:
            return Verdict.fail(reason, format_ok=True, cells_wrong=len(wrong))
        credit = credit_above(rows * cols - len(wrong), trivial_right(task, expected), rows * cols)
        return Verdict(credit, False, True, f"{reason}; partial credit {credit:.3f}", {"cells_wrong": len(wrong)})


def trivial_right(task: Task, expected: list[list[int]]) -> int:
    """Cells the best do-nothing grid gets right: one colour everywhere (the output's commonest),
    or the test input echoed, turned or flipped (its eight symmetries) or blown up two or three
    times, when that has the output's shape -- none reads a demonstration (red team s13 F4: a
    fixed turn earned 0.03–0.05 mean credit without one cell of insight; s13b G2: a fixed 2×
    blow-up 0.04–0.06)."""
    cells = [value for row in expected for value in row]
    best = max(cells.count(colour) for colour in set(cells))
    given = task.answer.get("test_input")
    if not given:
        return best
    scales = [k for k in range(2, 4) if len(given) * k == len(expected) and len(given[0]) * k == len(expected[0])]
    for image in symmetries(given) + [scaled(given, k) for k in scales]:
        if len(image) == len(expected) and all(len(a) == len(b) for a, b in zip(image, expected)):
            best = max(best, sum(a == b for row_a, row_b in zip(image, expected) for a, b in zip(row_a, row_b)))
    return best


def scaled(grid: list[list[int]], k: int) -> list[list[int]]:
    """``grid`` blown up ``k`` times: each cell a k × k block."""
    return [[value for value in row for _ in range(k)] for row in grid for _ in range(k)]


def symmetries(grid: list[list[int]]) -> list[list[list[int]]]:
    """The eight images of ``grid`` under turns and flips (the identity first)."""
    images = []
    image = [list(row) for row in grid]
    for _ in range(4):
        images += [image, [row[::-1] for row in image]]
        image = [list(row) for row in zip(*image[::-1])]  # a quarter turn clockwise
    return images


def credit_above(right: int, baseline: int, total: int) -> float:
    """(right − baseline) / (total − baseline), at least 0: only what beats a do-nothing grid pays."""
    return max(0.0, (right - baseline) / (total - baseline)) if total > baseline else 0.0
