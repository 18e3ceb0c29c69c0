"""Sudoku: fill a grid so every row, column and box holds each digit once (text or image).

Task        A 4×4 (2×2 boxes), 6×6 (2×3) or 9×9 (3×3) puzzle with exactly one solution. A random
            full grid (a banded pattern with digits relabelled and rows, bands, columns and
            stacks shuffled) loses clues in random order; a clue is removed only when the puzzle
            stays solvable by the techniques allowed (``technique``: naked singles → hidden
            singles → box/line intersections → naked pairs, each step forced, so the solution is
            unique) or, for ``backtracking``, when a depth-first search still finds exactly one
            solution; removal stops at ``min_clues`` givens. Of ``draws`` puzzles made this way
            the one needing the hardest technique is kept. The generator proves uniqueness again
            before returning.
            rlvr/Sudoku-v0       the grid as text, 0 for an empty cell.
            rlvr/SudokuImage-v0  the same puzzle (same seed) drawn: givens in black, thick box
                                 lines; ``task.images[0]``.
Answer      ``<answer>…</answer>`` holding the completed grid, one line per row, digits separated
            by spaces (or not, or by ``|``/commas; box-rule lines of ``-+=|`` are skipped).
            ``task.answer`` = {"size", "box" [rows, cols], "puzzle" (row-major, 0 empty),
            "solution"}; ``task.meta`` = {"clues", "technique" (the hardest one a human-style
            solver needs, "backtracking" when logic stalls), "search_nodes" (of the
            fewest-candidates depth-first search proving uniqueness)}.
Verifier    rlvr.verifiers.sudoku.SudokuVerifier: exactly n rows of n digits 1…n; every given
            kept; every row, column and box a permutation. It checks the rules, not equality
            with the stored solution (which is the only grid that passes).
Solver      The stored solution (the full grid the clues came from).
Hints       Empty cells with their digits in the order a human-style solver fills them, up to 6
            pieces, at most 80 % of the empty cells.

Difficulty  (rendered from the declaration below)
            d     size  technique       min_clues  draws
            0     4     naked-singles   4          1
            0.25  6     hidden-singles  10         1
            0.5   9     hidden-singles  30         1
            0.75  9     naked-pairs     24         2
            1     9     backtracking    17         4
            Difficulty is measured by technique, not only clue count: the share of puzzles whose
            hardest needed technique is above hidden singles rises with d, and at d = 1 most
            need intersections, pairs or backtracking (tests/test_sudoku.py; README table).

Version history
            v0  (2026-12) first release (Sudoku-v0 and SudokuImage-v0).
                2026-12-05 (session 8): split side by the puzzle up to renamed digits and, on 4×4 grids,
                the generator's row/column/band/stack shuffles and the transpose, one group for
                Sudoku-v0 and SudokuImage-v0; uniqueness by the puzzle with digits renamed (red team
                S8-3/S8-4: 86 % of d = 0 test puzzles were train puzzles renamed): split streams
                re-pinned; raw-stream bytes unchanged.
                2026-12-06 (round 14): full grids filled by a randomised search instead of one
                banded pattern shuffled, whose band structure (the same digit sets in each box's
                row segments across a band) let singles alone fill every d = .75 and 1 puzzle
                (red team s14 A1); 4×4 grids drawn uniformly from all 288 (96 before), larger ones
                with ties of the search drawn at random (ties in reading order made the top band
                keep that structure twice as often: second pass R2-4). Every task's bytes changed
                (re-pinned); generation about 15–20 % slower from d = .5 (d = 0 unchanged).
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import Choice, DifficultyTable, Int

TECHNIQUES = ("naked-singles", "hidden-singles", "intersections", "naked-pairs", "backtracking")
BOXES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}  # grid size → box rows × box columns

FAMILY = Family(
    name="sudoku",
    generator="rlvr.generators.sudoku:SudokuGenerator",
    verifier="rlvr.verifiers.sudoku:SudokuVerifier",
    table=DifficultyTable(
        {
            "size": Choice(*BOXES, doc="grid side (boxes 2×2, 2×3, 3×3)"),
            "technique": Choice(*TECHNIQUES, doc="hardest technique a clue removal may make necessary"),
            "min_clues": Int(0, 81, doc="stop removing clues at this many givens"),
            "draws": Int(1, 16, doc="puzzles made; the one needing the hardest technique is kept"),
        },
        {
            0.0: {"size": 4, "technique": "naked-singles", "min_clues": 4, "draws": 1},
            0.25: {"size": 6, "technique": "hidden-singles", "min_clues": 10, "draws": 1},
            0.5: {"size": 9, "technique": "hidden-singles", "min_clues": 30, "draws": 1},
            0.75: {"size": 9, "technique": "naked-pairs", "min_clues": 24, "draws": 2},
            1.0: {"size": 9, "technique": "backtracking", "min_clues": 17, "draws": 4},
        },
    ),
    envs=(
        EnvDecl("rlvr/Sudoku-v0", "Complete a Sudoku (4×4, 6×6 or 9×9) with a unique solution; answer the filled grid"),
        EnvDecl(
            "rlvr/SudokuImage-v0",
            "The Sudoku drawn as an image; answer the filled grid",
            visual=True,
            generator_kwargs={"render": "image"},
        ),
    ),
)
