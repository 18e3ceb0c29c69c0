"""PatchFit shortcuts that never look at the hole must stay near chance (red team S5-4).

Each solver here is an attack a policy could learn instead of fitting the piece:
  odd-one-out   the candidate found nowhere in the shown picture (least template-match error):
                "same" distractors used to be cut from the picture itself, so it solved 30/30
                at d = 0.25 and 0.5; they now come from a part of the scene that is not shown.
  most-texture  the candidate with the largest luminance spread: the hole is the most
                structured of HOLE_TRIES places, so randomly placed distractors lost to it
                (23–25/30 at d = 0.25–0.5, 21/30 at d = 0); distractors are now placed alike.
  unlike-others the candidate least like any shifted other candidate: distractors placed at random
                could overlap each other (18–23/30 at d = 0–0.5); they now share no pixel.
The "near" distractors of d ≥ 0.75 are partly visible beside the hole by design and are not
covered here.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve

import rlvr
from rlvr.generators.patch_fit import SHEET_GAP

SEEDS = range(7000, 7040)


def grey(task) -> np.ndarray:
    return np.asarray(task.images[0].convert("L"), np.float64)


def shown_picture(task, sheet: np.ndarray) -> np.ndarray:
    side = task.params["picture_px"]
    left = (sheet.shape[1] - side) // 2
    return sheet[SHEET_GAP : SHEET_GAP + side, left : left + side]


def candidate_crops(task, sheet: np.ndarray) -> list[np.ndarray]:
    return [sheet[top:bottom, left:right] for left, top, right, bottom in task.meta["candidate_boxes"]]


def least_match_error(picture: np.ndarray, template: np.ndarray) -> float:
    """The least mean squared difference between ``template`` and any same-size window of ``picture``."""
    ones = np.ones_like(template)
    window_energy = fftconvolve(picture**2, ones, mode="valid")
    cross = fftconvolve(picture, template[::-1, ::-1], mode="valid")
    return float((window_energy - 2 * cross + (template**2).sum()).min()) / template.size


def odd_one_out(task) -> int:
    sheet = grey(task)
    picture = shown_picture(task, sheet)
    return int(np.argmax([least_match_error(picture, crop) for crop in candidate_crops(task, sheet)]))


def most_texture(task) -> int:
    return int(np.argmax([crop.std() for crop in candidate_crops(task, grey(task))]))


def least_overlap_error(a: np.ndarray, b: np.ndarray) -> float:
    """The least mean squared difference of ``a`` and ``b`` over every shift where they overlap by
    at least a quarter of their area."""
    ones = np.ones_like(a)
    count = fftconvolve(ones, ones, mode="full")
    energy = fftconvolve(a**2, ones, mode="full") + fftconvolve(ones, (b**2)[::-1, ::-1], mode="full")
    cross = fftconvolve(a, b[::-1, ::-1], mode="full")
    overlapping = count >= a.size / 4
    return float(((energy - 2 * cross) / np.maximum(count, 1))[overlapping].min())


def unlike_the_others(task) -> int:
    crops = candidate_crops(task, grey(task))
    return int(
        np.argmax([min(least_overlap_error(a, b) for j, b in enumerate(crops) if j != i) for i, a in enumerate(crops)])
    )


def right_index(task) -> int:
    return task.answer["labels"].index(task.answer["choice"])


@pytest.fixture(scope="module")
def tasks() -> dict[float, list]:
    return {d: [rlvr.make_task("rlvr/PatchFit-v0", seed=s, difficulty=d) for s in SEEDS] for d in (0.0, 0.25, 0.5)}


@pytest.mark.parametrize("difficulty", [0.25, 0.5])
def test_odd_one_out_is_near_chance(tasks, difficulty):
    batch = tasks[difficulty]
    assert all(task.params["distractors"] == "same" for task in batch)
    hits = sum(odd_one_out(task) == right_index(task) for task in batch)
    chance = len(batch) / len(batch[0].answer["labels"])
    assert hits <= chance + 2.5 * np.sqrt(chance), f"odd-one-out solved {hits}/{len(batch)} at d={difficulty}"


@pytest.mark.parametrize("difficulty", [0.25, 0.5])
def test_no_same_distractor_is_shown_in_the_picture(tasks, difficulty):
    """Not even approximately: every candidate differs from every window of the shown picture."""
    for task in tasks[difficulty][:15]:
        sheet = grey(task)
        picture = shown_picture(task, sheet)
        errors = [least_match_error(picture, crop) for crop in candidate_crops(task, sheet)]
        assert min(errors) > 4.0**2, (task.seed, errors)


@pytest.mark.parametrize("difficulty", [0.0, 0.25, 0.5])
def test_most_texture_is_near_chance(tasks, difficulty):
    batch = tasks[difficulty]
    hits = sum(most_texture(task) == right_index(task) for task in batch)
    chance = len(batch) / len(batch[0].answer["labels"])
    assert hits <= chance + 2.5 * np.sqrt(chance), f"most-texture solved {hits}/{len(batch)} at d={difficulty}"


@pytest.mark.parametrize("difficulty", [0.25, 0.5])
def test_unlike_the_others_is_near_chance(tasks, difficulty):
    batch = tasks[difficulty]
    hits = sum(unlike_the_others(task) == right_index(task) for task in batch)
    chance = len(batch) / len(batch[0].answer["labels"])
    assert hits <= chance + 2.5 * np.sqrt(chance), f"unlike-others solved {hits}/{len(batch)} at d={difficulty}"
