"""How rotation tasks are made: turn the picture, its pieces or its disc; and their attacks.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.rotation``; pictures come from ``rlvr.generators.images``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from rlvr.core import Task, reveal_in_pieces, revealed_count
from rlvr.families.rotation import FAMILY
from rlvr.generators.images import (
    RIGHT_ANGLES,
    SHEET_COLOUR,
    ImagePuzzleGenerator,
    cut_grid,
    lookalikes,
    tile_pieces,
    turn_ccw,
)

DISC_MARGIN = 8
HINT_SHARE = 0.75  # a full hint gives at most this share of the pieces' turns (never all)
HINT_WINDOW = 4  # a free angle's hint narrows it to no less than this many tolerances
UPRIGHT_NUDGE = "In the upright picture any writing reads left to right and the sky, if there is one, is at the top."


def circular_distance(a: float, b: float) -> float:
    """Degrees between two angles around the circle (0–180)."""
    gap = abs(float(a) - float(b)) % 360.0
    return min(gap, 360.0 - gap)


def disc_view(picture: Image.Image, degrees: float) -> tuple[Image.Image, list[float]]:
    """The picture's inscribed disc turned counter-clockwise by ``degrees`` (bicubic), on the grey
    sheet with a margin; and the disc as [centre x, centre y, radius] in the returned image."""
    side = picture.width
    turned = picture.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=SHEET_COLOUR)
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, side - 1, side - 1), fill=255)
    sheet = Image.new("RGB", (side + 2 * DISC_MARGIN, side + 2 * DISC_MARGIN), SHEET_COLOUR)
    sheet.paste(turned, (DISC_MARGIN, DISC_MARGIN), mask)
    return sheet, [DISC_MARGIN + side / 2, DISC_MARGIN + side / 2, side / 2]


class RotationGenerator(ImagePuzzleGenerator):
    declaration = FAMILY

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        rows, cols, angles = params["rows"], params["cols"], params["angles"]
        tolerance, picture_px, detail = params["tolerance"], params["picture_px"], params["detail"]
        if angles == "free" and rows * cols > 1:
            raise ValueError(f"free angles are for a whole picture: set rows = cols = 1, got {rows}×{cols}")
        piece_px = picture_px // max(rows, cols)
        picture, described = self.draw_picture(
            nprng, cols * piece_px, rows * piece_px, detail, piece_px, (rows, cols), upright=True
        )
        meta = {"picture": described}
        n = rows * cols

        if angles == "free":
            turned_by = int(nprng.integers(tolerance + 1, 360 - tolerance))  # counter-clockwise
            image, disc = disc_view(picture, turned_by)
            rotations, accepted = [turned_by], [[turned_by]]
            meta["disc"] = disc
            meta["piece_boxes"] = [
                [DISC_MARGIN, DISC_MARGIN, DISC_MARGIN + picture.width, DISC_MARGIN + picture.height]
            ]
        else:
            pieces = cut_grid(picture, rows, cols)
            symmetric = {}
            for p, q, k in lookalikes(picture, rows, cols, RIGHT_ANGLES):
                if p == q:
                    symmetric.setdefault(p, set()).add(k)
            for _ in range(64):
                turned_by = [
                    int(nprng.choice(RIGHT_ANGLES[1:])) if n == 1 else int(nprng.choice(RIGHT_ANGLES)) for _ in range(n)
                ]
                accepted = [
                    sorted({(t + k) % 360 for k in symmetric.get(p, set()) | {0}}) for p, t in enumerate(turned_by)
                ]
                if not all(0 in a for a in accepted):
                    break
            else:
                raise ValueError("the picture looks the same every way round: no rotation task can be made from it")
            rotations = turned_by
            shown = [turn_ccw(piece, t) for piece, t in zip(pieces, turned_by)]
            if n == 1:
                image = shown[0]
                meta["piece_boxes"] = [[0, 0, image.width, image.height]]
            else:
                image, meta["piece_boxes"] = tile_pieces(shown, cols, [str(k) for k in range(1, n + 1)])
        answer = {
            "angles": angles,
            "rows": rows,
            "cols": cols,
            "tolerance": tolerance,
            "rotations": rotations,
            "accepted": accepted,
        }
        return {
            "prompt": self.describe(rows, cols, angles, tolerance, described.get("caption")),
            "answer": answer,
            "images": [image],
            "meta": meta,
        }

    def describe(self, rows: int, cols: int, angles: str, tolerance: int, caption: str | None = None) -> str:
        text = self.instructions(rows, cols, angles, tolerance)
        if caption:
            first, _, rest = text.partition("\n")
            text = f"{first}\nThe picture is {caption}.\n{rest}"
        return text

    def instructions(self, rows: int, cols: int, angles: str, tolerance: int) -> str:
        n = rows * cols
        if angles == "free":
            return (
                "Rotation puzzle. The image shows a picture, cut to a circle, that was turned by some angle.\n"
                "How many degrees must it be turned clockwise to stand upright again?\n"
                "Answer with one number of degrees from 0 up to (not including) 360, whole or decimal, inside "
                f"<answer>…</answer>; an answer within {tolerance} degrees of the true angle counts as correct. "
                "For example <answer>0</answer> would say it is already upright (it is not)."
            )
        if n == 1:
            return (
                "Rotation puzzle. The image shows a picture that was turned by 90, 180 or 270 degrees.\n"
                "How many degrees must it be turned clockwise to stand upright again?\n"
                "Answer 90, 180 or 270 inside <answer>…</answer>. For example <answer>0</answer> would say it is "
                "already upright (it is not)."
            )
        example = " ".join("0" for _ in range(n))
        return (
            f"Rotation puzzle. A picture was cut into a grid of {rows}×{cols} square pieces and each piece was "
            "turned in place by 0, 90, 180 or 270 degrees (at least one was turned). The image shows every piece "
            f"in its true place, each under a white label with its number (1 to {n}, in reading order: the top row "
            "from left to right, then the next row down).\nFor each piece in number order, give how many degrees "
            "(0, 90, 180 or 270) it must be turned clockwise to stand upright again, so that the pieces join up "
            f"into the picture.\nAnswer with exactly {n} numbers separated by spaces inside <answer>…</answer>. "
            f"For example <answer>{example}</answer> would say no piece was turned (it is not so)."
        )

    def solve(self, task: Task) -> str:
        return "<answer>" + " ".join(_format_degrees(d) for d in task.answer["rotations"]) + "</answer>"

    def hints(self, task: Task) -> list[str]:
        """A free angle: a nudge, then halves of the circle that hold the answer, narrowing
        while the window stays at least ``HINT_WINDOW`` tolerances wide. One picture at right
        angles: a nudge, then wrong turns ruled out, leaving at least one wrong one. Pieces:
        the turns of pieces in number order, at most ``HINT_SHARE`` of them and never all."""
        answer = task.answer
        turns = [int(d) for d in answer["rotations"]]
        if answer["angles"] == "free":
            pieces, low, high = [UPRIGHT_NUDGE], 0.0, 360.0
            while (high - low) / 2 >= HINT_WINDOW * float(answer["tolerance"]):
                middle = (low + high) / 2
                low, high = (low, middle) if turns[0] < middle else (middle, high)
                pieces.append(
                    f"The clockwise turn that makes it upright is at least {low:g} and less than {high:g} degrees."
                )
            return pieces
        if len(turns) == 1:
            wrong = [d for d in RIGHT_ANGLES[1:] if d not in answer["accepted"][0]]
            return [UPRIGHT_NUDGE] + [f"Turning it {d} degrees clockwise does not make it upright." for d in wrong[:-1]]
        n = len(turns)
        facts = [f"{p + 1}→{turns[p]}" for p in range(revealed_count(n, HINT_SHARE))]
        return reveal_in_pieces(facts, "Clockwise turns of the pieces (piece→degrees)", total=n)

    def wrong_response(self, task: Task) -> str:
        """The true answer with one piece's turn changed to one that does not restore it (a free
        angle: the opposite direction)."""
        answer = task.answer
        rotations = [float(d) for d in answer["rotations"]]
        if answer["angles"] == "free":
            rotations[0] = (rotations[0] + 180.0) % 360.0
        else:
            piece, wrong = next(
                (p, d) for p, accepted in enumerate(answer["accepted"]) for d in (90, 180, 270, 0) if d not in accepted
            )
            rotations[piece] = float(wrong)
        return "<answer>" + " ".join(_format_degrees(d) for d in rotations) + "</answer>"

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries on a rotation: "already upright" (the prompt's
        example), every angle at once, numbers the tolerance must not stretch to (NaN,
        infinity, huge, negative, a wrong angle plus 360, radians), the angle as a range or
        with ± the tolerance, and each piece's every turn listed. A constant that happens to be
        right for this task is an answer, not an attack, and is left out."""
        answer = task.answer
        n = int(answer["rows"]) * int(answer["cols"])
        free = answer["angles"] == "free"
        wrong = [
            float(d) for d in self.wrong_response(task).rpartition("<answer>")[2].removesuffix("</answer>").split()
        ]

        def right(turns: list[float]) -> bool:
            if free:
                return circular_distance(turns[0], answer["rotations"][0]) <= float(answer["tolerance"])
            return all(int(t) in {int(a) for a in accepted} for t, accepted in zip(turns, answer["accepted"]))

        def text(turns) -> str:
            return " ".join(_format_degrees(t) for t in turns)

        constants = [
            ("already-upright", [0.0] * n),
            ("quarter-turn-everywhere", [90.0] * n),
            ("half-turn-everywhere", [180.0] * n),
            ("three-quarter-turn-everywhere", [270.0] * n),
        ]
        attacks = super().attacks(task)
        attacks += [(name, f"<answer>{text(turns)}</answer>") for name, turns in constants if not right(turns)]
        every_angle = " ".join(str(a) for a in range(0, 360, 2 * int(answer["tolerance"]) if free else 90))
        attacks += [
            ("every-angle", f"<answer>{every_angle}</answer>"),
            ("every-turn-per-piece", "<answer>" + " ".join("0/90/180/270" for _ in range(n)) + "</answer>"),
            ("nan", "<answer>" + " ".join(["nan"] * n) + "</answer>"),
            ("infinity", "<answer>" + " ".join(["inf"] * n) + "</answer>"),
            ("huge", "<answer>" + " ".join(["9" * 30] * n) + "</answer>"),
            ("negative-wrong", "<answer>" + " ".join(_format_degrees(t - 360) for t in wrong) + "</answer>"),
            ("wrong-plus-full-turn", "<answer>" + " ".join(_format_degrees(t + 360) for t in wrong) + "</answer>"),
            (
                "wrong-in-radians",
                "<answer>" + " ".join(f"{t * 3.141592653589793 / 180:.4f}" for t in wrong) + "</answer>",
            ),
            ("scientific-wrong", "<answer>" + " ".join(f"{t:.3e}" for t in wrong) + "</answer>"),
            ("range-of-angles", "<answer>" + " ".join("0-359" for _ in range(n)) + "</answer>"),
            (
                "plus-minus-tolerance",
                "<answer>" + " ".join(f"{_format_degrees(t)}±{answer['tolerance']}" for t in wrong) + "</answer>",
            ),
            ("too-many-numbers", f"<answer>{text(wrong + wrong)}</answer>"),
            ("fraction-of-turn", "<answer>" + " ".join("1/4" for _ in range(n)) + "</answer>"),
            ("counter-clockwise-word", f"<answer>{text(wrong)} counter-clockwise</answer>"),
        ]
        if not free:
            attacks.append(
                (
                    "free-angle-where-right-asked",
                    "<answer>" + " ".join(_format_degrees(t + 45) for t in wrong) + "</answer>",
                )
            )
        return attacks


def _format_degrees(degrees: float) -> str:
    return str(int(degrees)) if float(degrees).is_integer() else f"{float(degrees):g}"
