"""PatchFit shortcuts that never fit the piece must stay near chance (red team S5-4, S5-4b; the
"near" redesign of 2026-12-05).

Each solver here is an attack a policy could learn instead of fitting the piece; none reads
``task.answer``:
  odd-one-out        the candidate found nowhere whole in the shown picture (least template-match
                     error): "same" distractors used to be cut from the picture itself, so it solved
                     30/30 at d = 0.25 and 0.5; they now come from a part of the scene not shown.
  not-found-beside   the candidate of which no part (8 % of its area or more) shows beside the hole:
                     the old "near" distractors were shifted by 25–60 % of the patch, so they showed
                     partly beside the hole while the true patch did not.
  twin-pair          a member of the two candidates most nearly each other's mirror, flip or half
                     turn: the old "near" set held the true patch and one turned copy of it (31/60
                     at d = 0.75, chance 10).
  twin-pair-hidden   of that pair, the one not found beside the hole.
  most-texture,      the candidate with the largest / smallest luminance spread, the most edges: the
  least-texture,     hole is the most structured of HOLE_TRIES places, so randomly placed distractors
  most-edges         lost to it (23–25/30 at d = 0.25–0.5); distractors are now placed alike.
  unlike-others      the candidate least like any shifted other candidate: overlapping distractors
                     set the piece apart (18–23/30 at d = 0–0.5); they now share no pixel.
  like-others        the candidate most like all the shifted others (the medoid): the old "near"
                     shifts surrounded the true patch (44/60 at d = 0.75); now the hole is drawn
                     uniformly from the cluster of places.
  most-isolated      the candidate whose nearest other candidate is farthest (no shift): distractors
                     had to differ from the true patch by DISTINCT_MAD but from each other by half.
  ring-colour        the candidate whose mean colour is nearest to that of the ring around the hole.
  from-this-picture  the candidate whose coarse colour histogram overlaps the shown picture's most,
                     the hole and PALETTE_MARGIN pixels around it left out (so it fits nothing):
                     "other" distractors, cut from another picture with its own palette, made it
                     solve 0.95–0.97 at d = 0–0.2 (red team s18 P1); every level now cuts them from
                     the same scene (d < 0.25 "same" too). With only the hole left out it is ring
                     colour again (about 0.5 at d = 0 against 1/3: the piece continues the colours
                     around it), and with 32 px left out it falls below chance at d = 0.2 (0.11:
                     the piece's colours are those of the part left out; "least overlap" 0.35 is
                     local colour too, red team s18 P3).
The "near" checks run at d = 0.75, 0.875 and 1. Colour against the ring is a (crude) way of
fitting and does pick the true patch well above chance for "other" and "same" distractors (cut
elsewhere): it is held to chance for "near" only, where every candidate shares the true patch's
content.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve

import rlvr
from rlvr.core import task_rngs
from rlvr.generators.patch_fit import SHEET_GAP, PatchFitGenerator

SEEDS = range(7000, 7040)
NEAR_SEEDS = range(7000, 7060)
NEAR_DIFFICULTIES = (0.75, 0.875, 1.0)


def grey(task) -> np.ndarray:
    return np.asarray(task.images[0].convert("L"), np.float64)


def colour(task) -> np.ndarray:
    return np.asarray(task.images[0].convert("RGB"), np.float64)


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


def least_visible_match_error(picture: np.ndarray, visible: np.ndarray, template: np.ndarray) -> float:
    """The least mean squared difference between ``template`` and the visible pixels of any window
    of ``picture`` (partly outside it too) that holds at least 8 % of the template's area visible."""
    ones = np.ones_like(template)
    flipped = template[::-1, ::-1]
    count = fftconvolve(visible, ones, mode="full")
    energy = fftconvolve(visible * picture**2, ones, mode="full") + fftconvolve(visible, flipped**2, mode="full")
    cross = fftconvolve(visible * picture, flipped, mode="full")
    seen = count >= 0.08 * template.size
    return float(((energy - 2 * cross) / np.maximum(count, 1))[seen].min()) if seen.any() else float("inf")


def odd_one_out(task) -> int:
    sheet = grey(task)
    picture = shown_picture(task, sheet)
    return int(np.argmax([least_match_error(picture, crop) for crop in candidate_crops(task, sheet)]))


def hidden_scores(task) -> list[float]:
    """Per candidate, how badly its best partly visible match beside the hole fits (within a patch
    side of the grey square)."""
    sheet = grey(task)
    side = task.params["picture_px"]
    left = (sheet.shape[1] - side) // 2
    x0, y0, x1, y1 = task.meta["hole_box"]
    reach = task.meta["patch_box"][2] - task.meta["patch_box"][0]
    wl, wt = max(left, x0 - reach), max(SHEET_GAP, y0 - reach)
    wr, wb = min(left + side, x1 + reach), min(SHEET_GAP + side, y1 + reach)
    window = sheet[wt:wb, wl:wr]
    visible = np.ones_like(window)
    visible[y0 - wt : y1 - wt, x0 - wl : x1 - wl] = 0
    return [least_visible_match_error(window, visible, crop) for crop in candidate_crops(task, sheet)]


def not_found_beside_hole(task) -> int:
    return int(np.argmax(hidden_scores(task)))


TURNS = (lambda a: a[:, ::-1], lambda a: a[::-1, :], lambda a: a[::-1, ::-1])


def closest_twins(task) -> tuple[int, int]:
    crops = candidate_crops(task, colour(task))
    pairs = [(i, j) for i in range(len(crops)) for j in range(i + 1, len(crops))]
    return min(pairs, key=lambda ij: min(np.abs(turn(crops[ij[0]]) - crops[ij[1]]).mean() for turn in TURNS))


def twin_pair(task) -> int:
    return closest_twins(task)[0]


def twin_pair_hidden(task) -> int:
    i, j = closest_twins(task)
    scores = hidden_scores(task)
    return i if scores[i] >= scores[j] else j


def most_texture(task) -> int:
    return int(np.argmax([crop.std() for crop in candidate_crops(task, grey(task))]))


def least_texture(task) -> int:
    return int(np.argmin([crop.std() for crop in candidate_crops(task, grey(task))]))


def most_edges(task) -> int:
    crops = candidate_crops(task, grey(task))
    return int(np.argmax([np.abs(np.diff(c, axis=0)).mean() + np.abs(np.diff(c, axis=1)).mean() for c in crops]))


def least_overlap_error(a: np.ndarray, b: np.ndarray) -> float:
    """The least mean squared difference of ``a`` and ``b`` over every shift where they overlap by
    at least a quarter of their area."""
    ones = np.ones_like(a)
    count = fftconvolve(ones, ones, mode="full")
    energy = fftconvolve(a**2, ones, mode="full") + fftconvolve(ones, (b**2)[::-1, ::-1], mode="full")
    cross = fftconvolve(a, b[::-1, ::-1], mode="full")
    overlapping = count >= a.size / 4
    return float(((energy - 2 * cross) / np.maximum(count, 1))[overlapping].min())


def overlap_errors(task) -> np.ndarray:
    crops = candidate_crops(task, grey(task))
    errors = np.full((len(crops), len(crops)), np.inf)
    for i in range(len(crops)):
        for j in range(i + 1, len(crops)):
            errors[i, j] = errors[j, i] = least_overlap_error(crops[i], crops[j])
    return errors


def unlike_the_others(task) -> int:
    return int(np.argmax(overlap_errors(task).min(axis=1)))


def like_the_others(task) -> int:
    errors = overlap_errors(task)
    np.fill_diagonal(errors, 0.0)
    return int(np.argmin(errors.sum(axis=1)))


def most_isolated(task) -> int:
    crops = candidate_crops(task, colour(task))
    return int(
        np.argmax([min(np.abs(a - b).mean() for j, b in enumerate(crops) if j != i) for i, a in enumerate(crops)])
    )


def ring_colour(task) -> int:
    """The candidate whose mean colour is nearest to that of the 8-pixel ring around the hole."""
    sheet = colour(task)
    x0, y0, x1, y1 = task.meta["hole_box"]
    outer = sheet[y0 - 8 : y1 + 8, x0 - 8 : x1 + 8]
    ring = (outer.sum((0, 1)) - sheet[y0:y1, x0:x1].sum((0, 1))) / (outer[..., 0].size - (y1 - y0) * (x1 - x0))
    return int(np.argmin([np.abs(crop.mean((0, 1)) - ring).sum() for crop in candidate_crops(task, sheet)]))


NEAR_SHORTCUTS = {
    "odd-one-out": odd_one_out,
    "not-found-beside-hole": not_found_beside_hole,
    "twin-pair": twin_pair,
    "twin-pair-hidden": twin_pair_hidden,
    "most-texture": most_texture,
    "least-texture": least_texture,
    "most-edges": most_edges,
    "unlike-others": unlike_the_others,
    "like-others": like_the_others,
    "most-isolated": most_isolated,
    "ring-colour": ring_colour,
}


PALETTE_MARGIN = 32


def colour_histogram(pixels: np.ndarray) -> np.ndarray:
    """The share of pixels in each of 8 × 8 × 8 RGB bins."""
    bins = (pixels.reshape(-1, 3).astype(np.int64) // 32) @ np.array([64, 8, 1])
    counts = np.bincount(bins, minlength=512).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def from_this_picture(task) -> int:
    """The candidate whose colour histogram overlaps most that of the shown picture without the
    hole and PALETTE_MARGIN pixels around it."""
    sheet = colour(task)
    picture = shown_picture(task, sheet)
    left = (sheet.shape[1] - picture.shape[1]) // 2  # the picture's place on the sheet (shown_picture)
    x0, y0, x1, y1 = task.meta["hole_box"]
    x0, x1, y0, y1 = (
        x0 - left - PALETTE_MARGIN,
        x1 - left + PALETTE_MARGIN,
        y0 - SHEET_GAP - PALETTE_MARGIN,
        y1 - SHEET_GAP + PALETTE_MARGIN,
    )
    keep = np.ones(picture.shape[:2], bool)
    keep[max(0, y0) : y1, max(0, x0) : x1] = False
    shown = colour_histogram(picture[keep])
    return int(np.argmax([np.minimum(colour_histogram(crop), shown).sum() for crop in candidate_crops(task, sheet)]))


def right_index(task) -> int:
    return task.answer["labels"].index(task.answer["choice"])


def assert_near_chance(name: str, batch: list, solver) -> None:
    """At most 2.5 binomial standard deviations above chance."""
    hits = sum(solver(task) == right_index(task) for task in batch)
    chance = 1 / len(batch[0].answer["labels"])
    bound = len(batch) * chance + 2.5 * np.sqrt(len(batch) * chance * (1 - chance))
    assert hits <= bound, f"{name} solved {hits}/{len(batch)} at d={batch[0].difficulty} (chance {chance:.2f})"


@pytest.fixture(scope="module")
def tasks() -> dict[float, list]:
    return {d: [rlvr.make_task("rlvr/PatchFit-v0", seed=s, difficulty=d) for s in SEEDS] for d in (0.0, 0.25, 0.5)}


@pytest.fixture(scope="module")
def near_tasks() -> dict[float, list]:
    return {
        d: [rlvr.make_task("rlvr/PatchFit-v0", seed=s, difficulty=d) for s in NEAR_SEEDS] for d in NEAR_DIFFICULTIES
    }


@pytest.mark.parametrize("difficulty", [0.0, 0.25, 0.5])
def test_odd_one_out_is_near_chance(tasks, difficulty):
    batch = tasks[difficulty]
    assert all(task.params["distractors"] == "same" for task in batch)
    assert_near_chance("odd-one-out", batch, odd_one_out)


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
    assert_near_chance("most-texture", tasks[difficulty], most_texture)


@pytest.mark.parametrize("difficulty", [0.25, 0.5])
def test_unlike_the_others_is_near_chance(tasks, difficulty):
    assert_near_chance("unlike-others", tasks[difficulty], unlike_the_others)


@pytest.mark.parametrize("difficulty", [0.0, 0.25, 0.5])
def test_which_picture_a_candidate_comes_from_is_no_clue(tasks, difficulty):
    assert_near_chance("from-this-picture", tasks[difficulty], from_this_picture)


def test_other_picture_distractors_are_the_option_the_palette_finds():
    """The "other" option is kept (its palette cue is documented): the same rule finds the piece
    on most of its tasks, so the check above has the power to see it."""
    batch = [rlvr.make_task("rlvr/PatchFit-v0", seed=s, difficulty=0.0, distractors="other") for s in SEEDS[:20]]
    assert sum(from_this_picture(task) == right_index(task) for task in batch) >= 14


@pytest.mark.parametrize("name", sorted(NEAR_SHORTCUTS))
def test_near_shortcuts_are_near_chance(near_tasks, name):
    for difficulty in NEAR_DIFFICULTIES:
        batch = near_tasks[difficulty]
        assert all(task.params["distractors"] == "near" for task in batch)
        assert_near_chance(name, batch, NEAR_SHORTCUTS[name])


@pytest.mark.parametrize("difficulty", NEAR_DIFFICULTIES)
def test_near_distractors_lie_inside_the_grey_square(near_tasks, difficulty):
    """Each "near" candidate is the picture's patch at an offset of at most the band on both axes
    from the hole's, and all of them lie within the band of each other: whichever were the hole,
    none of the others would show beside it."""
    generator = PatchFitGenerator()
    for task in near_tasks[difficulty][:12]:
        p = task.params
        x0, y0, x1, y1 = task.meta["patch_box"]
        hx, hy = x0 - (task.images[0].width - p["picture_px"]) // 2, y0 - SHEET_GAP
        size, gap = x1 - x0, task.meta["patch_box"][0] - task.meta["hole_box"][0]
        _, nprng = task_rngs(generator.family, task.seed, task.difficulty)
        picture = np.asarray(generator.draw_picture(nprng, p["picture_px"], p["picture_px"], p["detail"], size)[0])
        places = []
        for crop in candidate_crops(task, np.asarray(task.images[0].convert("RGB"))):
            found = [
                (dx, dy)
                for dx in range(-gap, gap + 1)
                for dy in range(-gap, gap + 1)
                if np.array_equal(picture[hy + dy : hy + dy + size, hx + dx : hx + dx + size], crop)
            ]
            assert found, (task.seed, "a candidate is not cut from within the grey square")
            places.append(found[0])
        spans = np.ptp(np.array(places), axis=0)
        assert spans.max() <= gap, (task.seed, places)
