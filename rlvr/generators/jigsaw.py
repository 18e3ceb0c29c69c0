"""How jigsaw tasks are made: cut, shuffle, turn, lay out under numbers; and their attacks.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.jigsaw``; pictures come from ``rlvr.generators.images``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from rlvr.core import Task, reveal_in_pieces, revealed_count
from rlvr.families.jigsaw import FAMILY
from rlvr.generators.images import RIGHT_ANGLES, ImagePuzzleGenerator, cut_grid, lookalikes, tile_pieces, turn_ccw

REPAINTS = 4
HINT_SHARE = 0.75  # a full hint places at most this share of the pieces (never all but one)
SHUFFLE_TRIES = 64


class JigsawGenerator(ImagePuzzleGenerator):
    declaration = FAMILY

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        rows, cols, piece_px, detail = params["rows"], params["cols"], params["piece_px"], params["detail"]
        rotate, presentation = params["rotate"], params["presentation"]
        if rows * cols < 2:
            raise ValueError(f"a jigsaw needs at least 2 pieces, got rows={rows} × cols={cols}")
        n = rows * cols
        turns = RIGHT_ANGLES if rotate else (0,)

        repaints = 0
        while True:
            picture, described = self.draw_picture(
                nprng, cols * piece_px, rows * piece_px, detail, piece_px, (rows, cols), upright=rotate
            )
            alike = lookalikes(picture, rows, cols, turns)
            if not alike or described["source"] != "procedural" or repaints == REPAINTS:
                break
            repaints += 1

        for _ in range(SHUFFLE_TRIES):
            order = [int(i) for i in nprng.permutation(n)]  # slot s shows original piece order[s]
            turned_by = [int(nprng.choice(RIGHT_ANGLES)) if rotate else 0 for _ in range(n)]  # counter-clockwise
            slot_of = {original: slot for slot, original in enumerate(order)}
            solution = [slot_of[p] + 1 for p in range(n)]
            rotations = [turned_by[slot_of[p]] for p in range(n)]  # the clockwise turn that undoes it
            # original q turned clockwise by k looks like original p: at position p, the slot of q
            # turned clockwise by (k + its own turn) restores it too
            alternatives = sorted({(p, slot_of[q] + 1, (k + turned_by[slot_of[q]]) % 360) for p, q, k in alike})
            answer = {
                "rows": rows,
                "cols": cols,
                "rotate": rotate,
                "solution": solution,
                "rotations": rotations,
                "alternatives": [list(a) for a in alternatives],
            }
            accepted = accepted_entries(answer)
            if not all((k + 1, 0) in accepted[k] for k in range(n)):  # the pieces are not already in place
                break
        else:
            raise ValueError("every shuffle of this picture looks unshuffled: the picture is too uniform for a jigsaw")
        originals = cut_grid(picture, rows, cols)
        shown = [turn_ccw(originals[order[s]], turned_by[s]) for s in range(n)]
        composite, boxes = tile_pieces(shown, cols, [str(k) for k in range(1, n + 1)])
        images = [composite] + (shown if presentation == "separate" else [])
        return {
            "prompt": self.describe(rows, cols, rotate, presentation, described.get("caption")),
            "answer": answer,
            "images": images,
            "meta": {"picture": described, "piece_boxes": boxes, "presentation": presentation, "repaints": repaints},
        }

    def describe(self, rows: int, cols: int, rotate: bool, presentation: str, caption: str | None = None) -> str:
        n = rows * cols
        turned = " and every piece was also turned by 0, 90, 180 or 270 degrees" if rotate else ""
        lines = [
            f"Jigsaw puzzle. A picture was cut into a grid of {rows} row{'s' * (rows > 1)} × {cols} "
            f"column{'s' * (cols > 1)} of square pieces; the {n} pieces were shuffled{turned}.",
            f"The image shows the shuffled pieces, each under a white label with its number (1 to {n}, in reading "
            "order). They are set out in a grid only to display them: their places there mean nothing.",
        ]
        if caption:
            lines.insert(1, f"The whole picture is {caption}.")
        if presentation == "separate":
            lines.append(f"The pieces also come one by one as images 2 to {n + 1}: image k + 1 is piece k.")
        lines.append(
            f"Restore the picture. For each position of the {rows}×{cols} grid in reading order (the top row from "
            "left to right, then the next row down, ending bottom-right), give the number of the piece that "
            "belongs there."
        )
        if rotate:
            lines.append(
                "Write each entry as piece:degrees, where degrees (0, 90, 180 or 270) is how far that piece must "
                "be turned clockwise to stand upright again; for example 7:90 means piece 7, turned 90 degrees "
                "clockwise."
            )
        example = " ".join(f"{k}:0" if rotate else str(k) for k in range(1, n + 1))
        lines.append(
            f"Answer with exactly {n} entries separated by spaces (commas or line breaks also work), each piece "
            f"number once, inside <answer>…</answer>. For example <answer>{example}</answer> would say every piece "
            "is already in place" + (" and upright" if rotate else "") + " (it is not)."
        )
        return "\n".join(lines)

    def solve(self, task: Task) -> str:
        return (
            f"<answer>{format_jigsaw_answer(task.answer, task.answer['solution'], task.answer['rotations'])}</answer>"
        )

    def hints(self, task: Task) -> list[str]:
        """Positions with their reference pieces (and turns), corners first, then the other
        border positions, then the inside, each group in reading order: at most
        ``HINT_SHARE`` of the positions and never all but one (at least two stay open)."""
        answer = task.answer
        rows, cols, rotate = int(answer["rows"]), int(answer["cols"]), bool(answer["rotate"])
        n = rows * cols

        def border_rank(position: int) -> tuple[int, int]:
            row, col = divmod(position, cols)
            return -((row in (0, rows - 1)) + (col in (0, cols - 1))), position

        order = sorted(range(n), key=border_rank)[: revealed_count(n, HINT_SHARE, withheld=2)]
        if not order:
            return ["Neighbouring pieces continue each other's lines and colours across their shared edge."]
        facts = [
            f"r{p // cols + 1}c{p % cols + 1}="
            + (f"{answer['solution'][p]}:{answer['rotations'][p]}" if rotate else f"{answer['solution'][p]}")
            for p in order
        ]
        what = "piece:clockwise degrees" if rotate else "piece"
        return reveal_in_pieces(
            facts, f"Placed pieces, corners and border first (rRcC={what}: row R, column C, from 1)", total=n
        )

    def wrong_response(self, task: Task) -> str:
        """The true answer with two positions' entries swapped (two pieces that look different)."""
        answer = task.answer
        solution, rotations = list(answer["solution"]), list(answer["rotations"])
        accepted = accepted_entries(answer)
        n = len(solution)
        for i in range(n):
            for j in range(i + 1, n):
                if (solution[j], rotations[j]) not in accepted[i] or (solution[i], rotations[i]) not in accepted[j]:
                    solution[i], solution[j] = solution[j], solution[i]
                    rotations[i], rotations[j] = rotations[j], rotations[i]
                    return f"<answer>{format_jigsaw_answer(answer, solution, rotations)}</answer>"
        raise ValueError("every piece looks like every other: no wrong answer exists")

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries on a jigsaw: the pieces as shown (the prompt's own
        example), reversed or shifted placements, one piece everywhere, every piece at every
        position, numbering from 0, a piece beyond n, too many or too few entries, degrees that
        are not right angles or missing, and the placement hedged. A placement that happens to
        restore this picture (look-alike pieces) is an answer, not an attack, and is left out."""
        answer = task.answer
        n = int(answer["rows"]) * int(answer["cols"])
        rotate = bool(answer["rotate"])
        solution, rotations = list(answer["solution"]), list(answer["rotations"])
        accepted = accepted_entries(answer)

        def restores(pieces: list[int], turns: list[int]) -> bool:
            return all((k, d) in accepted[i] for i, (k, d) in enumerate(zip(pieces, turns)))

        identity, upright = list(range(1, n + 1)), [0] * n
        placements = [
            ("pieces-as-shown", identity, upright),
            ("pieces-reversed", identity[::-1], upright),
            ("solution-shifted", solution[1:] + solution[:1], rotations[1:] + rotations[:1]),
            ("solution-reversed", solution[::-1], rotations[::-1]),
        ]
        if rotate:
            placements += [
                ("right-places-no-turns", solution, upright),
                ("right-places-half-turn", solution, [(d + 180) % 360 for d in rotations]),
            ]
        attacks = super().attacks(task)
        attacks += [
            (name, f"<answer>{format_jigsaw_answer(answer, pieces, turns)}</answer>")
            for name, pieces, turns in placements
            if not restores(pieces, turns)
        ]

        def entries(pieces: list[int], turns: list[int]) -> str:
            return " ".join(f"{k}:{d}" if rotate else str(k) for k, d in zip(pieces, turns))

        wrong = self.wrong_response(task).rpartition("<answer>")[2].removesuffix("</answer>")
        attacks += [
            ("one-piece-everywhere", f"<answer>{entries([1] * n, upright)}</answer>"),
            (
                "every-piece-everywhere",
                "<answer>" + " ".join(entries(identity, upright) for _ in range(n)) + "</answer>",
            ),
            ("zero-based-numbers", f"<answer>{entries([k - 1 for k in solution], rotations)}</answer>"),
            ("piece-beyond-n", f"<answer>{entries(solution[:-1] + [n + 1], rotations)}</answer>"),
            ("too-many-entries", f"<answer>{entries(solution + solution[:1], rotations + rotations[:1])}</answer>"),
            ("too-few-entries", f"<answer>{entries(solution[:-1], rotations[:-1])}</answer>"),
            ("negative-piece", f"<answer>{entries([-solution[0]] + solution[1:], rotations)}</answer>"),
            ("decimal-pieces", "<answer>" + " ".join(f"{k}.0" for k in solution[::-1]) + "</answer>"),
            ("wrong-slash-hedge", f"<answer>{wrong} / {entries(solution, rotations)}</answer>"),
            ("every-turn-listed", "<answer>" + " ".join(f"{k}:0/90/180/270" for k in solution) + "</answer>"),
            ("quarter-turn-degrees", "<answer>" + " ".join(f"{k}:45" for k in solution) + "</answer>"),
            (
                "beyond-full-turn-degrees",
                "<answer>" + " ".join(f"{k}:{(d + 90) % 360 + 360}" for k, d in zip(solution, rotations)) + "</answer>",
            ),
        ]
        if not rotate:
            attacks.append(
                ("degrees-without-rotation", "<answer>" + " ".join(f"{k}:90" for k in solution) + "</answer>")
            )
        else:
            attacks.append(("pieces-without-degrees", "<answer>" + " ".join(str(k) for k in solution) + "</answer>"))
        return attacks


def accepted_entries(answer: dict) -> list[set[tuple[int, int]]]:
    """For each position, the (piece, clockwise degrees) entries that restore it."""
    accepted = [{(int(k), int(d))} for k, d in zip(answer["solution"], answer["rotations"])]
    for position, piece, degrees in answer.get("alternatives", ()):
        accepted[int(position)].add((int(piece), int(degrees)))
    return accepted


def format_jigsaw_answer(answer: dict, solution: list[int], rotations: list[int]) -> str:
    cols = int(answer["cols"])
    entries = [f"{k}:{d}" if answer["rotate"] else str(k) for k, d in zip(solution, rotations)]
    return "\n".join(" ".join(entries[r : r + cols]) for r in range(0, len(entries), cols))
