"""How PatchFit tasks are made: cut the hole, gather distinct distractors, lay out the sheet; and
their attacks.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.patch_fit``; pictures come from ``rlvr.generators.images``.
"""

from __future__ import annotations

import random
import string
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from rlvr.core import Task
from rlvr.families.patch_fit import FAMILY
from rlvr.generators.images import ImagePuzzleGenerator, luminance, mean_abs_difference, tile_pieces

HOLE_MARGIN = 6
HOLE_TRIES = 6
HOLE_OUTLINE = (220, 30, 30)
HOLE_FILL = (128, 128, 128)
PATCH_OUTLINE = (96, 96, 96)
DISTINCT_MAD = 8.0
DISTRACTOR_TRIES = 60
HIDDEN_GUTTER_FRAC = 0.5
PLACE_ROUNDS = 8
SHEET_GAP = 10
LABELS = string.ascii_uppercase
# why a distractor is not the cut-out piece, by its kind, easiest to see first
DISTRACTOR_REASONS = {
    "other": "it comes from a different picture",
    "same": "it comes from the same scene, beyond the edge of the picture shown",
    "near": "it is cut from the same spot shifted by a few pixels, into the grey band",
}


def hidden_offset_px(side: int, patch_px: int) -> int:
    """How far apart the two squares of a "same" scene are: the scene is drawn this much wider
    than the picture shown, which is its left or right square; the other square, beyond a gutter
    of ``HIDDEN_GUTTER_FRAC`` patch sides, is never shown and holds the distractors."""
    return side + int(round(patch_px * HIDDEN_GUTTER_FRAC))


def spread(pixels: np.ndarray, x: int, y: int, patch_px: int) -> float:
    """The luminance spread (standard deviation) of the patch of ``pixels`` at (x, y)."""
    return float(luminance(pixels[y : y + patch_px, x : x + patch_px].astype(np.float32)).std())


class PatchFitGenerator(ImagePuzzleGenerator):
    declaration = FAMILY

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        k, kind, side = params["candidates"], params["distractors"], params["picture_px"]
        patch_frac, gap_frac, detail = params["patch_frac"], params["gap_frac"], params["detail"]
        patch_px = max(8, int(round(side * patch_frac)))
        gap = int(round(patch_px * gap_frac))
        margin = HOLE_MARGIN + gap

        def hole_places() -> list[tuple[int, int]]:
            """HOLE_TRIES random places where the hole may go."""
            return [
                (
                    int(nprng.integers(margin, side - patch_px - margin + 1)),
                    int(nprng.integers(margin, side - patch_px - margin + 1)),
                )
                for _ in range(HOLE_TRIES)
            ]

        def place(source: np.ndarray, left: int, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
            """The most structured of HOLE_TRIES random places of the square of ``source`` whose
            left edge is at x = ``left`` that share no pixel with those ``taken`` (drawn again,
            up to PLACE_ROUNDS times, until there are HOLE_TRIES of them); added to ``taken``.
            None if no such place was drawn."""
            places: list[tuple[int, int]] = []
            for _ in range(PLACE_ROUNDS):
                places += [
                    (left + x, y)
                    for x, y in hole_places()
                    if all(abs(left + x - tx) >= patch_px or abs(y - ty) >= patch_px for tx, ty in taken)
                ]
                if len(places) >= HOLE_TRIES:
                    break
            if not places:
                return None
            x, y = max(places[:HOLE_TRIES], key=lambda xy: spread(source, *xy, patch_px))
            taken.append((x, y))
            return x, y

        hidden = None  # "same": (the scene drawn, the left edge of its square that is not shown)
        if kind == "same":
            offset = hidden_offset_px(side, patch_px)
            scene, described = self.draw_picture(nprng, offset + side, side, detail, patch_px)
            window_x = offset if nprng.random() < 0.5 else 0
            hidden = np.asarray(scene), offset - window_x
            picture = scene.crop((window_x, 0, window_x + side, side))
        else:
            picture, described = self.draw_picture(nprng, side, side, detail, patch_px)
        pixels = np.asarray(picture)

        # The hole: the most structured of a few random places. Where the distractors are cut
        # one after another, each apart from the ones before (fewer structured places are left
        # for the later ones), the hole is the rank-th of such picks in the picture and the
        # rank-th pick of the distractors' source is left out: every candidate's texture is then
        # drawn alike and the true patch's rank among them is uniform. "near": the hole is one
        # of a cluster of places drawn alike (near_cluster).
        if kind == "near":
            (hx, hy), shifted = self.near_cluster(nprng, pixels, k, patch_px, gap)
        else:
            rank = int(nprng.integers(k))
            shown_taken: list[tuple[int, int]] = []
            hx, hy = place(pixels, 0, shown_taken)
            for _ in range(rank):
                hx, hy = place(pixels, 0, shown_taken) or (hx, hy)
        truth = pixels[hy : hy + patch_px, hx : hx + patch_px].copy()

        candidates, kinds = [truth], ["true"]

        def admit(patch: np.ndarray, label: str) -> bool:
            if mean_abs_difference(patch, truth) < DISTINCT_MAD:
                return False
            if any(mean_abs_difference(patch, other) < DISTINCT_MAD / 2 for other in candidates[1:]):
                return False
            candidates.append(patch)
            kinds.append(label)
            return True

        taken: list[tuple[int, int]] = []  # corners of the places cut from the hidden square or the other picture

        def admit_apart(source: np.ndarray, left: int, label: str) -> None:
            """A patch of ``source`` placed like the hole, sharing no pixel with the ones taken
            from it before (shifted copies of one object would set the distractors apart from
            the cut-out piece); the rank-th place is taken but left out."""
            xy = place(source, left, taken)
            if xy is None:
                return
            if len(taken) == rank + 1:
                return
            if not admit(source[xy[1] : xy[1] + patch_px, xy[0] : xy[0] + patch_px].copy(), label):
                taken.pop()

        if kind == "near":
            candidates += shifted
            kinds += ["near"] * len(shifted)
        other_pixels = None
        for _ in range(DISTRACTOR_TRIES):
            if len(candidates) == k:
                break
            if kind == "other":
                if other_pixels is None:
                    other_picture, _ = self.other_picture(nprng, side, side, detail, patch_px, described)
                    other_pixels = np.asarray(other_picture)
                admit_apart(other_pixels, 0, "other")
            elif hidden is not None:
                admit_apart(*hidden, "same")
            else:
                break  # "near": the cluster is drawn whole by near_cluster
        for attempt in range(DISTRACTOR_TRIES):  # a picture too plain for the asked kind: patches not shown
            if len(candidates) == k:
                break
            if hidden is not None and attempt % 2 == 0:
                admit_apart(*hidden, "same")
            else:
                other = np.asarray(self.other_picture(nprng, side, side, 1.0, patch_px, described)[0])
                xy = place(other, 0, [])
                admit(other[xy[1] : xy[1] + patch_px, xy[0] : xy[0] + patch_px].copy(), "other")
        if len(candidates) < k:
            raise ValueError(f"could not find {k - 1} distinct distractors: the pictures are too plain")

        order = [int(i) for i in nprng.permutation(k)]
        shown = [candidates[i] for i in order]
        shown_kinds = [kinds[i] for i in order]
        choice = LABELS[order.index(0)]
        labels = LABELS[:k]

        holed = picture.copy()
        draw = ImageDraw.Draw(holed)
        draw.rectangle(
            (hx - gap, hy - gap, hx + patch_px + gap - 1, hy + patch_px + gap - 1),
            fill=HOLE_FILL,
            outline=HOLE_OUTLINE,
            width=2,
        )
        if gap >= 3:  # where the patch sat, inside the grey band
            draw.rectangle((hx, hy, hx + patch_px - 1, hy + patch_px - 1), outline=PATCH_OUTLINE, width=1)
        sheet, candidate_boxes = tile_pieces([Image.fromarray(c) for c in shown], min(k, 4), list(labels))
        width = max(side + 2 * SHEET_GAP, sheet.width)
        composite = Image.new("RGB", (width, side + 2 * SHEET_GAP + sheet.height), sheet.getpixel((0, 0)))
        px = (width - side) // 2
        composite.paste(holed, (px, SHEET_GAP))
        sx, sy = (width - sheet.width) // 2, side + 2 * SHEET_GAP
        composite.paste(sheet, (sx, sy))
        candidate_boxes = [[b[0] + sx, b[1] + sy, b[2] + sx, b[3] + sy] for b in candidate_boxes]
        return {
            "prompt": self.describe(k, labels, side, patch_px, gap, hx, hy),
            "answer": {"choice": choice, "labels": labels, "accepted": [choice]},
            "images": [composite],
            "meta": {
                "picture": described,
                "hole_box": [
                    px + hx - gap,
                    SHEET_GAP + hy - gap,
                    px + hx + patch_px + gap,
                    SHEET_GAP + hy + patch_px + gap,
                ],
                "patch_box": [px + hx, SHEET_GAP + hy, px + hx + patch_px, SHEET_GAP + hy + patch_px],
                "candidate_boxes": candidate_boxes,
                "distractor_kinds": shown_kinds,
            },
        }

    def near_cluster(
        self, nprng: np.random.Generator, pixels: np.ndarray, k: int, patch_px: int, gap: int
    ) -> tuple[tuple[int, int], list[np.ndarray]]:
        """The hole and the "near" distractors, drawn alike: up to k random places inside a
        square of side ``gap`` pixels, less where the picture leaves no room (so each lies
        within ``gap`` of every other on both axes),
        each patch differing from every other by at least DISTINCT_MAD; the hole is one of them
        drawn uniformly, so every other patch lies inside the grey square (none shows beside
        the hole) and nothing but the hole's surroundings tells the true patch from the rest.
        The square is the most structured (at its middle) of HOLE_TRIES random places; one
        that holds fewer than k distinct patches gives way to a new draw, up to PLACE_ROUNDS.
        Returns the hole's corner and the other patches (fewer than k - 1 when no square held
        k: the caller fills up with other pictures' patches)."""
        side = pixels.shape[0]
        low = HOLE_MARGIN + gap  # the hole's margin
        box = min(gap, side - patch_px - 2 * low)
        high = side - patch_px - low - box
        best: list[tuple[tuple[int, int], np.ndarray]] = []
        for _ in range(PLACE_ROUNDS):
            corners = [
                (int(nprng.integers(low, high + 1)), int(nprng.integers(low, high + 1))) for _ in range(HOLE_TRIES)
            ]
            bx, by = max(corners, key=lambda xy: spread(pixels, xy[0] + box // 2, xy[1] + box // 2, patch_px))
            cluster: list[tuple[tuple[int, int], np.ndarray]] = []
            for _ in range(DISTRACTOR_TRIES):
                if len(cluster) == k:
                    break
                x, y = bx + int(nprng.integers(box + 1)), by + int(nprng.integers(box + 1))
                patch = pixels[y : y + patch_px, x : x + patch_px]
                if all(mean_abs_difference(patch, other) >= DISTINCT_MAD for _, other in cluster):
                    cluster.append(((x, y), patch.copy()))
            if len(cluster) > len(best):
                best = cluster
            if len(best) == k:
                break
        hole = int(nprng.integers(len(best)))
        return best[hole][0], [patch for i, (_, patch) in enumerate(best) if i != hole]

    def describe(self, k: int, labels: str, side: int, patch_px: int, gap: int, hx: int, hy: int) -> str:
        if gap:
            hole = (
                f"The patch, {patch_px}×{patch_px} pixels, sat in the middle of the grey square, which is {gap} "
                "pixels wider on every side (that grey band belongs to no candidate); the patch's top-left corner "
                f"was {hx} pixels from the left and {hy} from the top of the {side}×{side} picture.\n"
            )
        else:
            hole = (
                f"The hole is {patch_px}×{patch_px} pixels; its top-left corner is {hx} pixels from the left and "
                f"{hy} from the top of the {side}×{side} picture.\n"
            )
        return (
            "PatchFit puzzle. A square patch was cut out of the picture at the top of the image: the hole is the "
            "grey square with a red outline.\n"
            + hole
            + f"Below the picture are {k} candidate patches at the same scale as the hole, each under a white "
            "label with its letter "
            f"({labels[0]} to {labels[-1]}). Exactly one of them is the piece that was cut out; it fits the hole "
            "as shown, without turning or mirroring it.\nWhich candidate fills the hole? Answer with its capital "
            f"letter alone ({labels[0]} to {labels[-1]}, one letter and nothing else) inside <answer>…</answer>."
        )

    def solve(self, task: Task) -> str:
        return f"<answer>{task.answer['choice']}</answer>"

    def hints(self, task: Task) -> list[str]:
        """A nudge, then one wrong candidate ruled out per piece with the reason (the easiest
        kinds of distractor first), leaving at least two candidates."""
        labels, accepted = str(task.answer["labels"]), set(task.answer["accepted"])
        kinds = task.meta["distractor_kinds"]
        ranks = list(DISTRACTOR_REASONS)
        wrong = sorted(
            (label for label in labels if label not in accepted),
            key=lambda label: (ranks.index(kinds[labels.index(label)]), label),
        )
        pieces = [
            "The cut-out piece continues the lines and colours that meet the hole's edges; a distractor breaks "
            "them somewhere."
        ]
        return pieces + [
            f"Candidate {label} is not it: {DISTRACTOR_REASONS[kinds[labels.index(label)]]}."
            for label in wrong[: len(labels) - 2]
        ]

    def wrong_response(self, task: Task) -> str:
        """The first label that is not accepted."""
        return "<answer>" + next(c for c in task.answer["labels"] if c not in task.answer["accepted"]) + "</answer>"

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries on PatchFit: every letter at once (run together,
        spaced, listed with "or", one block each with a wrong letter last), the right letter
        decorated or lowercased beside a wrong one, a letter beyond the labels, the candidate's
        number instead of its letter, and "none of them"."""
        labels, accepted = str(task.answer["labels"]), set(task.answer["accepted"])
        wrong = next(c for c in labels if c not in accepted)
        right = task.answer["choice"]
        beyond = LABELS[len(labels)] if len(labels) < len(LABELS) else "Z"
        attacks = super().attacks(task)
        attacks += [
            ("every-letter", f"<answer>{labels}</answer>"),
            ("every-letter-spaced", "<answer>" + " ".join(labels) + "</answer>"),
            ("every-letter-commas", "<answer>" + ", ".join(labels) + "</answer>"),
            ("every-letter-or", "<answer>" + " or ".join(labels) + "</answer>"),
            ("every-letter-slash", "<answer>" + "/".join(labels) + "</answer>"),
            (
                "one-block-per-letter-wrong-last",
                "".join(f"<answer>{c}</answer>" for c in labels if c != wrong) + f"<answer>{wrong}</answer>",
            ),
            ("right-and-wrong", f"<answer>{right} {wrong}</answer>"),
            ("right-lowercase-with-wrong", f"<answer>{wrong}{right.lower()}</answer>"),
            ("letter-beyond-labels", f"<answer>{beyond}</answer>"),
            ("candidate-number", f"<answer>{labels.index(wrong) + 1}</answer>"),
            ("none-of-them", "<answer>none</answer>"),
            ("wrong-parenthesised", f"<answer>({wrong})</answer>"),
            ("wrong-with-period", f"<answer>{wrong}.</answer>"),
            ("wrong-fullwidth", "<answer>" + chr(ord(wrong) + 0xFEE0) + "</answer>"),
        ]
        return attacks
