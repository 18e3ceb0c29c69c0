"""Rotation: a picture, or each piece of it, was turned; say how far to turn it back upright.

Task        A square picture (``rlvr.generators.images``: a procedural scene by default, whose sky
            is always at the top; with ``image_source="photos"`` only photographs with a clear
            "up" are used) is shown turned. Three forms, chosen by the parameters:
            whole picture, right angles (rows = cols = 1, ``angles="right"``): the picture turned
                counter-clockwise by 90, 180 or 270 degrees (never 0); ``task.images[0]`` is it.
            pieces, right angles (rows·cols ≥ 2): the picture cut into rows×cols square pieces,
                each turned in place by 0, 90, 180 or 270 degrees (at least one turned);
                ``task.images[0]`` shows every piece in its true place on a grey sheet, under a
                white band with its number 1…n in reading order.
            whole picture, free angle (``angles="free"``, rows = cols = 1): the picture cut to
                its inscribed disc (so the frame gives nothing away) and turned by a whole
                number of degrees more than ``tolerance`` away from 0; ``task.images[0]`` is the
                disc on the grey sheet.
Answer      ``<answer>…</answer>`` holding, for each piece in number order (one number for a
            whole picture), the degrees it must be turned **clockwise** to stand upright again:
            0, 90, 180 or 270 for right angles; for a free angle a number in [0, 360) (whole or
            decimal, e.g. ``137`` or ``137.5``), right when within ``tolerance`` degrees of the
            truth (around the circle: 359 is 1 away from 0). Numbers are separated by spaces,
            commas or line breaks; each may carry a ``°`` sign.
            ``task.answer`` = {"angles": "right" | "free", "rows", "cols", "tolerance",
            "rotations": [true clockwise degrees per piece], "accepted": [[every clockwise turn
            that restores it] per piece]}. ``accepted`` holds more than the truth only when the
            piece looks the same turned (mean absolute difference ≤ 2 of 255).
            ``task.meta`` = {"picture", "piece_boxes" (pieces' boxes [left, top, right, bottom)
            in images[0]), "disc" ([centre x, centre y, radius] for a free angle)}.
Prompt      States the form, the answer format with an always-wrong example (0: "already
            upright"), the tolerance for free angles, and — for procedural scenes and photos —
            a caption of the picture (which says where the sky is).
Verifier    rlvr.verifiers.rotation.RotationVerifier(scoring="exact" | "fraction"): exact (default)
            1 when every piece is right; fraction = share of pieces right above what random
            turns reach (rlvr.verifiers.chance). Malformed answers
            (wrong count, not a number, not a right angle where one is asked, ≥ 360) score 0.
Solver      ``solve(task)`` writes ``task.answer["rotations"]`` out. The honest pixel solver
            (``rlvr.generators.pixel_solver.solve_rotation``) uses only the image: brightness
            "up" cues for whole pictures, edge compatibility between neighbouring pieces.
Hints       Pieces: the turns of pieces in number order, at most 75 % and never all, up to 6 pieces.
            One picture at right angles: an "upright" nudge, then wrong turns ruled out, one wrong
            turn left. A free angle: the nudge, then halves of the circle holding the answer,
            narrowing to no less than 4 tolerances.
Weakness    Scenes and photos are brighter toward the sky, so "turn it brighter half up" is a
            real cue, not only for a whole picture (d = 0: 0.99 against 1/3; the intended cue
            there, and the pixel solver's) but piece by piece, without matching any neighbours:
            0.55 / 0.53 of pieces right at d = .25 / .5 against 0.25, which ``scoring="fraction"``
            pays 0.053 / 0.19 on average (exact: 0.053 / 0 against 1/255 and 1/262,143; red team
            s19, 300 tasks a level). Fraction's chance level is that of random turns, not of
            this rule.

Difficulty  (rendered from the declaration below; rows = cols = 1 is the whole picture)
            d     rows  cols  angles  tolerance  picture_px  detail
            0     1     1     right   20         320         0.8
            0.25  2     2     right   20         320         0.8
            0.5   3     3     right   20         330         0.6
            0.75  1     1     free    15         320         0.7
            1     1     1     free    6          320         0.5
            ``tolerance`` counts only for free angles. Pixel solver solved (seeds 0–99,
            benchmarks/results/visual.json): 99 %, 100 %, 100 %, 32 %, 14 % at d = 0, 0.25, 0.5,
            0.75, 1; tests/test_visual.py checks that it falls from d = 0 to 0.5 to 1.
            Parameters: ``rows``, ``cols`` (1–8), ``angles`` ("right" or "free"; free only for a
            whole picture), ``tolerance`` (1–45 degrees, free angles only), ``picture_px``
            (96–640, the picture's longer side), ``detail`` (0.2–1). ``angles`` takes the value
            of the anchor at or below d; the numbers interpolate. Explicit parameters win.

Version history
            v0  (2026-11) first release. 2026-12: declared in rlvr.families; task bytes unchanged
                (tests/test_golden_tasks.py); overrides are checked by their declared types, so
                "3" and 3.0 now name the same task as 3. 2026-12-05: ``scoring="fraction"`` pays
                only the share above chance (a constant answer earned 0.11–0.29 under it).
                Task bytes unchanged.
                2026-12-06 (red team s12 F4, s12b S5): a photo, ``image_dir`` or dataset
                picture is on one side of the split, whatever crop or turn a task shows
                (``rlvr.families._pictures``, "Splits"; 5 of 5 photos were on both sides).
                ``image_dir`` and dataset tasks' meta and bytes change; photos and procedural
                tasks unchanged; a non-train split of the photos raises.
"""

from rlvr.families._pictures import PICTURE_OPTIONS
from rlvr.family import EnvDecl, Family
from rlvr.params import Choice, DifficultyTable, Float, Int

MAX_SIDE = 8  # pieces per row or column

FAMILY = Family(
    name="rotation",
    generator="rlvr.generators.rotation:RotationGenerator",
    verifier="rlvr.verifiers.rotation:RotationVerifier",
    table=DifficultyTable(
        {
            "rows": Int(1, MAX_SIDE, doc="rows of pieces (rows = cols = 1: the whole picture)"),
            "cols": Int(1, MAX_SIDE, doc="columns of pieces"),
            "angles": Choice("right", "free", doc="right angles, or any whole degree (free: a whole picture only)"),
            "tolerance": Int(1, 45, doc="degrees a free-angle answer may be off"),
            "picture_px": Int(96, 640, doc="the picture's longer side in pixels"),
            "detail": Float(0.2, 1.0, doc="how much the picture shows (low: a low-texture picture)"),
        },
        {
            0.0: {"rows": 1, "cols": 1, "angles": "right", "tolerance": 20, "picture_px": 320, "detail": 0.8},
            0.25: {"rows": 2, "cols": 2, "angles": "right", "tolerance": 20, "picture_px": 320, "detail": 0.8},
            0.5: {"rows": 3, "cols": 3, "angles": "right", "tolerance": 20, "picture_px": 330, "detail": 0.6},
            0.75: {"rows": 1, "cols": 1, "angles": "free", "tolerance": 15, "picture_px": 320, "detail": 0.7},
            1.0: {"rows": 1, "cols": 1, "angles": "free", "tolerance": 6, "picture_px": 320, "detail": 0.5},
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/Rotation-v0",
            "A picture or each of its pieces turned; answer the clockwise degrees that make it upright",
            visual=True,
        ),
    ),
    generator_options=PICTURE_OPTIONS,
    verifier_options={
        "scoring": "exact (default: 1 only when every piece is right) or fraction (share right above chance)",
    },
)
