"""Jigsaw: a picture cut into a rows×cols grid of square pieces, shuffled (and, at higher
difficulty, each piece turned); say where every piece belongs.

Task        A picture (``rlvr.generators.images``: a procedural scene by default, or photos, a
            folder, a dataset) of cols·piece_px × rows·piece_px pixels is cut into rows×cols
            square pieces. The pieces are shuffled (never left in order) and, when ``rotate``,
            each is turned by 0, 90, 180 or 270 degrees.
            ``task.images[0]`` is the composite a person (or the env's observation) sees: the
            shuffled pieces on a grey sheet, laid out in a rows×cols grid only for display,
            each under a white band with its number 1…n in reading order (the band sits above
            the piece and covers none of its pixels). With
            ``presentation="separate"`` the task also carries every piece alone:
            ``task.images[k]`` is piece k (k = 1…n, no label); ``images[0]`` stays the
            numbered composite so the single-image observation still shows the whole task.
Answer      ``<answer>…</answer>`` holding n entries, one per position of the rows×cols grid in
            reading order (top row left to right, then the next row down): the number of the
            piece that belongs there. With rotation each entry is ``piece:degrees``, the degrees
            (0, 90, 180 or 270) that piece must be turned **clockwise** to stand upright again,
            e.g. ``7:90``. Entries are separated by spaces, commas or line breaks; every piece
            number appears exactly once. Example for 2×2: ``<answer>3 1 4 2</answer>`` puts
            piece 3 top-left, 1 top-right, 4 bottom-left and 2 bottom-right.
            ``task.answer`` = {"rows", "cols", "rotate": bool, "solution": [piece number per
            position], "rotations": [clockwise degrees per position] (all 0 without rotation),
            "alternatives": [[position, piece, degrees], …]}. ``alternatives`` lists the other
            (piece, degrees) choices whose pixels match the true piece of a position (mean
            absolute difference ≤ 2 of 255, ``images.SAME_PIXELS_MAD``): pieces a person cannot tell
            apart are interchangeable. For procedural scenes the generator repaints, up to
            ``REPAINTS`` times, until no two pieces look alike, so it is almost always empty.
            ``task.meta`` = {"picture": the source's description, "piece_boxes": [[left, top,
            right, bottom) of piece k in images[0]] for k = 1…n, "presentation", "repaints"}.
Prompt      States the grid, whether pieces are turned, the numbering, the answer format with
            an example that is always wrong (every piece in place), and — for procedural scenes
            and photos — a caption of the whole picture, like the picture on a jigsaw's box.
Verifier    rlvr.verifiers.jigsaw.JigsawVerifier(scoring="exact" | "fraction" | "neighbours"):
            exact (default) 1 only when every position is right; fraction = share of positions
            holding the right piece (right way up) above what a random placement reaches
            (rlvr.verifiers.chance); neighbours = share of the 2·rows·cols −
            rows − cols adjacent position pairs whose two entries are true left/right or
            top/bottom neighbours (both right way up), also above chance. Malformed answers
            score 0.
Solver      ``solve(task)`` writes ``task.answer`` out, one grid row per line. The honest pixel
            solver (``rlvr.generators.pixel_solver.solve_jigsaw``) sees only the images and the
            piece boxes: it scores every pair of piece edges and places pieces greedily; its
            success rate (last column, seeds 0–99, benchmarks/results/visual.json) calibrates
            the table: it falls as d rises, and tests/test_visual.py checks that it does.
Hints       Placed pieces of the reference (with their turns), corners first, then the border, then
            the inside: at most 75 % of the positions and at least two left open, up to 6 pieces.

Difficulty  (rendered from the declaration below)
            d     rows  cols  piece_px  rotate  detail
            0     2     2     160       False   1.0
            0.25  3     3     120       False   1.0
            0.5   5     5     80        True    0.75
            0.75  6     7     64        True    0.6
            1     10    10    48        True    0.5
            fixed: presentation=composite
            Pixel solver solved (seeds 0–99, benchmarks/results/visual.json): 99 %, 100 %, 92 %,
            90 %, 43 % at d = 0, 0.25, 0.5, 0.75, 1.
            Parameters: ``rows``, ``cols`` (1–16, at least 2 pieces), ``piece_px`` (24–256),
            ``rotate`` (bool), ``detail`` (0.2–1: how much the picture shows; low detail is a
            low-texture picture), ``presentation`` ("composite" or "separate"). Integers
            interpolate between anchors; ``rotate`` and ``presentation`` take the value of the
            anchor at or below d. Explicit parameters win over the knob, e.g.
            ``gym.make("rlvr/Jigsaw-v0", rows=8, cols=8)``.

Version history
            v0  (2026-11) first release. 2026-12: declared in rlvr.families; task bytes unchanged
                (tests/test_golden_tasks.py); overrides are checked by their declared types, so
                "3" and 3.0 now name the same task as 3. 2026-12-05: ``scoring="fraction"`` and
                "neighbours" pay only the share above chance (the identity placement earned
                0.10–0.21 under them).
                Task bytes unchanged.
                2026-12-06 (red team s12 F4, s12b S5): a photo, ``image_dir`` or dataset
                picture is on one side of the split, whatever crop or turn a task shows
                (``rlvr.families._pictures``, "Splits"; 6 of 10 photos were on both sides).
                ``image_dir`` and dataset tasks' meta and bytes change; photos and procedural
                tasks unchanged; a non-train split of the photos raises.
                2026-12-06 (red team s15 B15-1): ``reward: majority`` keys an answer by the placement
                it reads (``parse_placement``), not its text. Task bytes unchanged.
"""

from rlvr.families._pictures import PICTURE_OPTIONS
from rlvr.family import EnvDecl, Family
from rlvr.params import Choice, DifficultyTable, Flag, Float, Int

MAX_SIDE = 16  # pieces per row or column

FAMILY = Family(
    name="jigsaw",
    generator="rlvr.generators.jigsaw:JigsawGenerator",
    verifier="rlvr.verifiers.jigsaw:JigsawVerifier",
    table=DifficultyTable(
        {
            "rows": Int(1, MAX_SIDE, doc="rows of pieces"),
            "cols": Int(1, MAX_SIDE, doc="columns of pieces (rows·cols ≥ 2)"),
            "piece_px": Int(24, 256, doc="side of a square piece in pixels"),
            "rotate": Flag(doc="whether every piece is also turned by 0, 90, 180 or 270 degrees"),
            "detail": Float(0.2, 1.0, doc="how much the picture shows (low: a low-texture picture)"),
            "presentation": Choice("composite", "separate", doc="separate: every piece also comes as its own image"),
        },
        {
            0.0: {"rows": 2, "cols": 2, "piece_px": 160, "rotate": False, "detail": 1.0, "presentation": "composite"},
            0.25: {"rows": 3, "cols": 3, "piece_px": 120, "rotate": False, "detail": 1.0, "presentation": "composite"},
            0.5: {"rows": 5, "cols": 5, "piece_px": 80, "rotate": True, "detail": 0.75, "presentation": "composite"},
            0.75: {"rows": 6, "cols": 7, "piece_px": 64, "rotate": True, "detail": 0.6, "presentation": "composite"},
            1.0: {"rows": 10, "cols": 10, "piece_px": 48, "rotate": True, "detail": 0.5, "presentation": "composite"},
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/Jigsaw-v0",
            "Shuffled (and, harder, turned) picture pieces; answer the piece number for each grid position",
            visual=True,
        ),
    ),
    generator_options=PICTURE_OPTIONS,
    verifier_options={
        "scoring": "exact (default: 1 only when every position is right), fraction (share right above chance) or "
        "neighbours (share of adjacent position pairs that are true neighbours)",
    },
)
