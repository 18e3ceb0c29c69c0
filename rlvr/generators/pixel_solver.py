"""Honest pixel solvers for the visual puzzles: they see only what a model sees (the task's images
and the documented layout boxes in ``task.meta``), never ``task.answer``. Their success rates
calibrate the difficulty tables: they must fall as the knob rises.

Edge cost   For piece a left of piece b, each side predicts the other's first column by linear
            extrapolation of its own last two (a: 2·a[-1] − a[-2] against b[0]; b: 2·b[0] − b[1]
            against a[-1]); the cost is the mean absolute prediction error over both sides, all
            rows and channels. Top/bottom pairs use rows. Turned pieces are handled as 4·n
            oriented pieces (each piece turned clockwise by 0, 90, 180, 270). Costs are divided by
            the runner-up costs of both pieces (a pair is cheap only when it beats the others).
Uprightness A picture's "this way up" score: how much brighter its top third is than its
            bottom third — true of the procedural scenes (sky above ground; it picks the upright
            one of four turns for 97–100 % of scenes) and of many outdoor photographs.
Jigsaw      ``solve_jigsaw``: for every choice of top-left oriented piece, fill the grid in
            reading order, each time taking the unused piece with the lowest summed cost to its
            left and upper neighbours; keep the cheapest filling. With turned pieces the whole
            filling turned 90/180/270 degrees costs the same, so the turn of the whole grid
            (only 0/180 when rows ≠ cols) is chosen by uprightness.
Rotation    ``solve_rotation``: one picture turned by a multiple of 90 → the most upright of the
            three turns the prompt allows (90, 180, 270); free angles → the most upright angle in 2-degree steps of
            the disc's inscribed square; turned pieces in place → iterated conditional modes over the pieces'
            turns, minimising the summed edge cost to the four neighbours, from the most
            upright start.
PatchFit    ``solve_patch_fit``: the candidate whose outermost pixel lines are best predicted by
            the two pixel lines just outside the hole, extrapolated linearly across the grey band
            (at most 1.5 of their own step), summed over the four sides.
"""

from __future__ import annotations

import string

import numpy as np
from PIL import Image

from rlvr.core import Task

RIGHT_ANGLES = (0, 90, 180, 270)


# --------------------------------------------------------------------------------------------
# Pixels of a task
# --------------------------------------------------------------------------------------------


def piece_pixels(task: Task) -> list[np.ndarray]:
    """The numbered pieces as float arrays, in number order: the separate piece images when the
    task has them, else crops of the composite at ``task.meta["piece_boxes"]``."""
    boxes = task.meta["piece_boxes"]
    if len(task.images) == len(boxes) + 1:
        return [np.asarray(image.convert("RGB"), np.float32) for image in task.images[1:]]
    sheet = task.images[0].convert("RGB")
    return [np.asarray(sheet.crop(tuple(box)), np.float32) for box in boxes]


def turn_cw(array: np.ndarray, degrees: int) -> np.ndarray:
    return np.rot90(array, k=-(degrees // 90) % 4, axes=(0, 1))


# --------------------------------------------------------------------------------------------
# Costs and cues
# --------------------------------------------------------------------------------------------


def side_by_side_costs(left_pieces: np.ndarray, right_pieces: np.ndarray) -> np.ndarray:
    """cost[i, j] of right_pieces[j] placed just right of left_pieces[i] (arrays N×H×W×3)."""
    a1, a2 = left_pieces[:, :, -1, :], left_pieces[:, :, -2, :]
    b1, b2 = right_pieces[:, :, 0, :], right_pieces[:, :, 1, :]
    predict_b = (2 * a1 - a2).reshape(len(a1), -1)
    predict_a = (2 * b1 - b2).reshape(len(b1), -1)
    a_flat, b_flat = a1.reshape(len(a1), -1), b1.reshape(len(b1), -1)
    forward = np.abs(predict_b[:, None, :] - b_flat[None, :, :]).mean(axis=2)
    backward = np.abs(predict_a[None, :, :] - a_flat[:, None, :]).mean(axis=2)
    return forward + backward


def edge_costs(pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(horizontal, vertical): h[i, j] = cost of j right of i; v[i, j] = cost of j below i; each
    divided by the mean of the second-lowest cost in its row and its column (how good i's and j's
    runner-up partners are), so a pair only looks cheap when it beats the alternatives."""
    horizontal = side_by_side_costs(pieces, pieces)
    # turned counter-clockwise, a piece's bottom row becomes its right column: "j below i" becomes
    # "j right of i", with the pixels along the edge in a matching order
    turned = np.rot90(pieces, k=1, axes=(1, 2))
    vertical = side_by_side_costs(turned, turned)
    return normalise_costs(horizontal), normalise_costs(vertical)


def normalise_costs(costs: np.ndarray) -> np.ndarray:
    costs = costs.copy()
    np.fill_diagonal(costs, np.inf)
    runner_up_row = np.sort(costs, axis=1)[:, 1][:, None]
    runner_up_col = np.sort(costs, axis=0)[1][None, :]
    return costs / (0.5 * (runner_up_row + runner_up_col) + 1e-3)


def uprightness(array: np.ndarray) -> float:
    """Higher when the picture is the right way up: how much brighter its top third is than its
    bottom third (0–1 of full scale)."""
    third = max(1, array.shape[0] // 3)
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    return float((array[:third] @ weights).mean() - (array[-third:] @ weights).mean()) / 255.0


# --------------------------------------------------------------------------------------------
# Jigsaw
# --------------------------------------------------------------------------------------------


def greedy_fill(
    horizontal: np.ndarray, vertical: np.ndarray, owner: np.ndarray, rows: int, cols: int
) -> tuple[list[int], float]:
    """The cheapest reading-order greedy filling over all top-left choices: (oriented pieces, cost).

    Every start is filled at once: row s of each array follows the filling that starts with
    oriented piece s."""
    count, n = len(owner), rows * cols
    same_owner = owner[:, None] == owner[None, :]
    starts = np.arange(count)
    placed = np.zeros((count, n), dtype=np.int64)
    placed[:, 0] = starts
    blocked = same_owner[starts].copy()
    cost = np.zeros(count)
    for position in range(1, n):
        r, c = divmod(position, cols)
        total = np.zeros((count, count))
        if c > 0:
            total += horizontal[placed[:, position - 1]]
        if r > 0:
            total += vertical[placed[:, position - cols]]
        total[blocked] = np.inf
        choice = np.argmin(total, axis=1)
        cost += total[starts, choice]
        placed[:, position] = choice
        blocked |= same_owner[choice]
    best = int(np.argmin(cost))
    return [int(o) for o in placed[best]], float(cost[best])


def solve_jigsaw(task: Task) -> str:
    """A response placing the pieces by edge compatibility alone."""
    rows, cols = int(task.params["rows"]), int(task.params["cols"])
    rotate = bool(task.params["rotate"])
    pieces = piece_pixels(task)
    turns = RIGHT_ANGLES if rotate else (0,)
    oriented = np.stack([turn_cw(p, t) for p in pieces for t in turns])
    owner = np.repeat(np.arange(len(pieces)), len(turns))
    turn_of = np.tile(np.array(turns), len(pieces))
    horizontal, vertical = edge_costs(oriented)
    placed, _ = greedy_fill(horizontal, vertical, owner, rows, cols)
    grid = [[(int(owner[o]), int(turn_of[o])) for o in placed[r * cols : (r + 1) * cols]] for r in range(rows)]
    if rotate:
        grid = most_upright_grid(grid, pieces, rows == cols)
    entries = [f"{k + 1}:{d}" if rotate else str(k + 1) for row in grid for k, d in row]
    return "<answer>" + " ".join(entries) + "</answer>"


def most_upright_grid(
    grid: list[list[tuple[int, int]]], pieces: list[np.ndarray], square: bool
) -> list[list[tuple[int, int]]]:
    """Of the grid and its whole-grid turns (90° steps if square, else 180°), the most upright."""
    candidates, current = [], grid
    for quarter in range(4):
        if square or quarter % 2 == 0:
            assembled = np.concatenate(
                [np.concatenate([turn_cw(pieces[k], d) for k, d in row], axis=1) for row in current], axis=0
            )
            candidates.append((uprightness(assembled), -quarter, current))
        # the whole grid turned 90° clockwise: positions rotate and every piece turns 90° more
        current = [[(k, (d + 90) % 360) for k, d in row] for row in zip(*current[::-1])]
    return max(candidates, key=lambda item: item[:2])[2]


# --------------------------------------------------------------------------------------------
# Rotation
# --------------------------------------------------------------------------------------------

FREE_ANGLE_STEP = 2
FREE_ANGLE_PX = 128
DP_MAX_STATES = 1024


def solve_rotation(task: Task) -> str:
    """A response turning the picture or its pieces upright by pixel cues alone."""
    rows, cols = int(task.params["rows"]), int(task.params["cols"])
    if task.params["angles"] == "free":
        return f"<answer>{best_free_angle(task.images[0], task.meta['disc'])}</answer>"
    pieces = piece_pixels(task)
    if rows * cols == 1:
        best = max((90, 180, 270), key=lambda d: uprightness(turn_cw(pieces[0], d)))
        return f"<answer>{best}</answer>"
    turns = piece_turns_by_edges(pieces, rows, cols)
    return "<answer>" + " ".join(str(t) for t in turns) + "</answer>"


def best_free_angle(image: Image.Image, disc: list[float]) -> int:
    """The clockwise turn (whole degrees) under which the disc's inscribed square looks most upright."""
    cx, cy, radius = disc
    box = (round(cx - radius), round(cy - radius), round(cx + radius), round(cy + radius))
    small = image.convert("RGB").resize((FREE_ANGLE_PX, FREE_ANGLE_PX), Image.Resampling.BOX, box=box)
    half = int(FREE_ANGLE_PX / 2 / np.sqrt(2)) - 1
    centre = FREE_ANGLE_PX // 2
    inner = (centre - half, centre - half, centre + half, centre + half)

    def score(degrees: int) -> float:
        turned = small.rotate(-degrees, resample=Image.Resampling.BILINEAR).crop(inner)
        return uprightness(np.asarray(turned, np.float32))

    coarse = max(range(0, 360, FREE_ANGLE_STEP), key=score)
    return max(((coarse + delta) % 360 for delta in range(-FREE_ANGLE_STEP + 1, FREE_ANGLE_STEP)), key=score)


def piece_turns_by_edges(pieces: list[np.ndarray], rows: int, cols: int) -> list[int]:
    """Clockwise turns (per piece, in place) minimising the summed edge cost between neighbours:
    exact dynamic programming over rows when 4^cols ≤ DP_MAX_STATES, else iterated conditional
    modes from each piece's best single guess."""
    n = rows * cols
    oriented = np.stack([turn_cw(p, t) for p in pieces for t in RIGHT_ANGLES])
    horizontal, vertical = edge_costs(oriented)
    h = horizontal.reshape(n, 4, n, 4)
    v = vertical.reshape(n, 4, n, 4)
    if 4**cols <= DP_MAX_STATES:
        states = np.array(np.meshgrid(*[np.arange(4)] * cols, indexing="ij")).reshape(cols, -1).T  # S×cols
        best_cost, back = None, []
        for r in range(rows):
            row = [r * cols + c for c in range(cols)]
            inside = np.zeros(len(states))
            for c in range(cols - 1):
                inside += h[row[c], states[:, c], row[c + 1], states[:, c + 1]]
            if best_cost is None:
                best_cost = inside
                continue
            above = [(r - 1) * cols + c for c in range(cols)]
            joint = np.zeros((len(states), len(states)))
            for c in range(cols):
                joint += v[above[c], :, row[c], :][states[:, c][:, None], states[:, c][None, :]]
            total = best_cost[:, None] + joint
            back.append(np.argmin(total, axis=0))
            best_cost = total.min(axis=0) + inside
        chosen = [int(np.argmin(best_cost))]
        for pointers in reversed(back):
            chosen.append(int(pointers[chosen[-1]]))
        chosen.reverse()
        return [RIGHT_ANGLES[int(a)] for state in chosen for a in states[state]]
    current = [int(np.argmax([uprightness(turn_cw(p, t)) for t in RIGHT_ANGLES])) for p in pieces]
    for _ in range(20):
        changed = False
        for p in range(n):
            r, c = divmod(p, cols)
            local = np.zeros(4)
            if c > 0:
                local += h[p - 1, current[p - 1], p, :]
            if c + 1 < cols:
                local += h[p, :, p + 1, current[p + 1]]
            if r > 0:
                local += v[p - cols, current[p - cols], p, :]
            if r + 1 < rows:
                local += v[p, :, p + cols, current[p + cols]]
            best = int(np.argmin(local))
            if best != current[p]:
                current[p], changed = best, True
        if not changed:
            break
    return [RIGHT_ANGLES[a] for a in current]


# --------------------------------------------------------------------------------------------
# PatchFit
# --------------------------------------------------------------------------------------------


def solve_patch_fit(task: Task) -> str:
    """A response naming the candidate whose border best continues the pixels around the hole:
    the ring of two pixel lines outside the hole predicts the candidate's outermost line by
    linear extrapolation across the grey band (if any) between the hole's edge and the patch."""
    sheet = np.asarray(task.images[0].convert("RGB"), np.float32)
    x0, y0, x1, y1 = task.meta["hole_box"]
    px0, py0, px1, py1 = task.meta["patch_box"]
    gap = px0 - x0
    ring = {  # two pixel lines outside each side of the hole, the nearest one last; along the patch's extent
        "left": sheet[py0:py1, x0 - 2 : x0].transpose(1, 0, 2),
        "right": sheet[py0:py1, x1 : x1 + 2][:, ::-1].transpose(1, 0, 2),
        "top": sheet[y0 - 2 : y0, px0:px1],
        "bottom": sheet[y1 : y1 + 2, px0:px1][::-1],
    }
    costs = []
    for box in task.meta["candidate_boxes"]:
        patch = sheet[box[1] : box[3], box[0] : box[2]]
        border = {"left": patch[:, 0], "right": patch[:, -1], "top": patch[0], "bottom": patch[-1]}
        total = 0.0
        for side, outside in ring.items():
            far, near = outside[0], outside[1]
            predicted = near + (near - far) * min(gap + 1, 3) * 0.5 if gap else 2 * near - far
            total += float(np.abs(predicted - border[side]).mean())
        costs.append(total)
    return f"<answer>{string.ascii_uppercase[int(np.argmin(costs))]}</answer>"
