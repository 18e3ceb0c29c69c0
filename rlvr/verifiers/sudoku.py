"""Sudoku verifier: read the filled grid, check it keeps the givens and obeys the rules.

Input       A ``Task`` of rlvr.generators.sudoku (text or image env): ``task.answer`` = {"size":
            n (4, 6 or 9), "box": [box rows, box columns], "puzzle": [n·n ints, 0 = empty],
            "solution": [n·n ints]}; and the model's whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Parsing     The block must hold exactly n non-empty rows of n digits 1…n each; digits in a row
            may be separated by spaces, ``|`` or commas; lines made only of ``-``, ``+``, ``=``,
            ``|`` and spaces (box rules) are skipped. Anything else (letters, 0 or '.', a digit
            above n, a short or long row) is a format error.
Correct     Every given of the puzzle is kept and every row, column and box holds each digit
            once. The generator proved the solution unique, so this is the solution; the
            verifier checks the rules rather than comparing with it, so it cannot disagree with
            them. Reward 1 or 0 with a one-line reason naming the first broken rule.
Bounds      At most ``MAX_ANSWER_CHARS`` characters; linear work.
"""

from __future__ import annotations

import re

from rlvr.core import SafeVerifier, Task, Verdict, extract_answer

MAX_ANSWER_CHARS = 10_000
RULE_LINE = re.compile(r"[-+=|\s]*")
SEPARATORS = re.compile(r"[\s|,]+")


def units(size: int, box: tuple[int, int]) -> list[list[int]]:
    """Cell indices of every row, column and box of a size×size grid with box rows×columns."""
    rows = [[r * size + c for c in range(size)] for r in range(size)]
    cols = [[r * size + c for r in range(size)] for c in range(size)]
    box_rows, box_cols = box
    boxes = [
        [(br + r) * size + bc + c for r in range(box_rows) for c in range(box_cols)]
        for br in range(0, size, box_rows)
        for bc in range(0, size, box_cols)
    ]
    return rows + cols + boxes


def read_grid(block: str, size: int) -> tuple[list[int] | None, str]:
    """(the n·n digits, "read") or (None, what is wrong)."""
    if len(block) > MAX_ANSWER_CHARS:
        return None, f"answer longer than {MAX_ANSWER_CHARS} characters"
    rows = []
    for line in block.splitlines():
        if RULE_LINE.fullmatch(line):
            continue
        cells = [cell for cell in SEPARATORS.split(line.strip()) if cell]
        digits = list(cells[0]) if len(cells) == 1 else cells
        if len(digits) != size or not all(d.isdecimal() and len(d) == 1 and 1 <= int(d) <= size for d in digits):
            return None, f"row {len(rows) + 1} is not {size} digits from 1 to {size}: {line.strip()[:40]!r}"
        rows.append([int(d) for d in digits])
        if len(rows) > size:
            return None, f"more than {size} rows"
    if len(rows) != size:
        return None, f"{len(rows)} rows, expected {size}"
    return [d for row in rows for d in row], "read"


def first_broken_rule(grid: list[int], puzzle: list[int], size: int, box: tuple[int, int]) -> str | None:
    """None when ``grid`` completes ``puzzle`` by the rules, else a one-line reason."""
    for cell, given in enumerate(puzzle):
        if given and grid[cell] != given:
            return f"the given {given} at row {cell // size + 1}, column {cell % size + 1} was changed"
    names = ["row"] * size + ["column"] * size + ["box"] * size
    for number, (name, unit) in enumerate(zip(names, units(size, box))):
        if len({grid[cell] for cell in unit}) != size:
            return f"{name} {number % size + 1} repeats a digit"
    return None


class SudokuVerifier(SafeVerifier):
    """Judges a filled Sudoku grid (module docstring); never raises."""

    deadline_s = 1.0

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block")
        size, box, puzzle = int(task.answer["size"]), tuple(task.answer["box"]), list(task.answer["puzzle"])
        grid, reason = read_grid(block, size)
        if grid is None:
            return Verdict.fail(f"unreadable grid: {reason}")
        broken = first_broken_rule(grid, puzzle, size, box)
        if broken:
            return Verdict.fail(broken, format_ok=True)
        return Verdict.success("a valid completion of the puzzle")
