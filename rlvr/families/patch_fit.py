"""PatchFit: a square patch was cut out of a picture; choose, among k lettered candidates, the one
that fills the hole.

Task        A square picture (``rlvr.generators.images``; a procedural scene by default) loses a
            square patch of ``patch_frac`` × its side, placed where the patch shows much
            structure (the best of ``HOLE_TRIES`` random places; see below). The hole shown is
            the patch plus a band of ``gap_frac`` × the patch side on every side (0 at d = 0),
            so the patch's own border pixels never touch the picture around the hole; the hole
            stays at least ``HOLE_MARGIN`` pixels from every edge. ``task.images[0]`` shows the picture
            with the hole filled grey and outlined in red *inside* the hole (no pixel around the
            hole is covered; with a band, a thin darker line marks where the patch sat), and
            under it the k candidates at the picture's scale, each under a white band with its
            letter A, B, C, …. One candidate is the cut-out patch; the others are distractors,
            by ``distractors``:
            "other"  patches of another picture (another picture of the collection on the
                     task's side of the split, else another procedural scene), no two of them
                     sharing a pixel;
            "same"   patches of the same scene that the picture shown does not contain: the
                     scene is drawn as two squares side by side, half a patch side apart
                     (``hidden_offset_px``); the picture is one of them, and the distractors
                     are cut from the other, which is never shown. So no candidate can be
                     found in the picture: only the hole's borders tell the piece (same
                     palette, same kind of scene). Photo sources crop the wider view likewise.
            "near"   patches of the same picture a few pixels from the hole, inside the grey
                     square: the hole and the distractors are k random places within a square
                     of side the band (so each lies within the band of every other on both
                     axes), and the hole is one of them drawn uniformly. They share most of
                     the true patch's content, none of them shows beside the hole, and only
                     the hole's surroundings tell them apart. Where the band (or a picture
                     too small for the hole and its band) leaves room for fewer than k
                     distinct ones, other pictures' patches fill up (all of them at gap 0).
            "other" and "same" distractors are placed like the hole (the most structured of
            ``HOLE_TRIES`` random places), one after another, no two sharing a pixel; the hole
            is itself the r-th such pick in the picture, r uniform below k, and the r-th pick
            of the distractors' source is left out, so the candidates' textures are drawn alike
            (neither the most textured candidate nor the one unlike the others is the piece
            more often than by chance). Every distractor differs from the true patch by a mean
            absolute difference of at least ``DISTINCT_MAD`` (of 255) and from every other
            candidate by at least half that ("near": every candidate from every other by
            ``DISTINCT_MAD``), so exactly one candidate is right.
Answer      ``<answer>…</answer>`` holding one capital letter, the candidate that fills the hole
            as it is (not turned or mirrored). ``task.answer`` = {"choice": letter, "labels":
            "ABC…", "accepted": [letters]} (accepted is the choice alone: candidates are
            distinct by construction). ``task.meta`` = {"picture", "hole_box", "patch_box" and
            "candidate_boxes" ([left, top, right, bottom) in images[0]), "distractor_kinds" per
            candidate ("true", "other", "same", "near")}.
Prompt      States the hole's size and position in the picture (pixels from the top-left), the
            band, the number of candidates and the answer format in words: no example letter,
            since any letter among the labels is a real guess that an echoed prompt would make.
Verifier    rlvr.verifiers.patch_fit.PatchFitVerifier: reward 1 for the right letter, else 0;
            anything but one capital letter among the labels is a format error.
Solver      ``solve(task)`` answers ``task.answer["choice"]``. The honest pixel solver
            (``rlvr.generators.pixel_solver.solve_patch_fit``) picks the candidate whose border
            best continues the pixels around the hole, extrapolated across the band.
Hints       A nudge (the piece continues the lines at the hole's edges), then one wrong candidate
            ruled out per piece with its reason, easiest kinds first, at least two candidates left.

Weakness    Colour: for "other" and "same" (d < 0.75) the candidate whose mean colour is nearest
            to the ring around the hole is the piece 41/60 and 34/60 at d = 0.25 and 0.5 (chance
            15 and 12): the piece continues the colours around it, distractors cut elsewhere do
            not. It is a crude way of fitting, not a blind shortcut. For "near" it is at chance.
            Height is a form of it: "same" distractors are cut at any height of the unshown
            square, and a scene's colours follow height (sky, ground), so matching a candidate's
            rows to the picture's rows at the hole's height, 32 px around the hole left out,
            finds the piece 0.66 at d = 0 (chance 0.33), 0.55 and 0.51 at d = 0.25 and 0.5
            (ring colour 0.82 / 0.77 / 0.74 on the same seeds; red team s18 P2): cutting them at
            the hole's height needs a far wider unshown strip than one square.
            "near" is hard for the border-continuation solver: the distractors sit within the
            band of the true patch, so telling them apart means extrapolating the surroundings
            across the band (its rates below). Shifting them farther would show them beside the
            hole ("the candidate not found beside the hole"), keeping the hole at the middle of
            the shifts makes it the medoid, and a turned copy of the piece makes "one of the twin
            pair" win: the 2026-12-05 design gives up solver accuracy to close all three.
            ``distractors="other"`` (an option, no longer a level) cuts them from another
            picture with its own palette: "the candidate whose colours are this picture's" finds
            the piece 0.95–0.97 of the time without looking at the hole (red team s18 P1).
Difficulty  (rendered from the declaration below; patch_frac is the patch side as a fraction of
            the picture side, gap_frac the band as a fraction of the patch side)
            d     candidates  distractors  patch_frac  gap_frac  detail
            0     3           same         0.3         0.0       1.0
            0.25  4           same         0.28        0.05      0.9
            0.5   5           same         0.25        0.1       0.8
            0.75  6           near         0.22        0.15      0.7
            1     8           near         0.2         0.25      0.55
            fixed: picture_px=320
            Pixel solver solved (seeds 0–99): 100 %, 100 %, 96 %, 26 %, 22 % at d = 0, 0.25,
            0.5, 0.75, 1 (chance 17 % and 12.5 % at d = 0.75 and 1; before the 2026-12-05 "near"
            redesign: 86 % and 48 %; before the 2026-12 "same" scenes: 100 %, 99 %, 98 % at
            d = 0–0.5).
            Parameters: ``candidates`` (2–12), ``distractors`` ("other", "same", "near"),
            ``patch_frac`` (0.08–0.45), ``gap_frac`` (0–0.5), ``detail`` (0.2–1),
            ``picture_px`` (128–640).
            ``distractors`` takes the value of the anchor at or below d; numbers interpolate.

Version history
            v0  (2026-11) first release. 2026-12: declared in rlvr.families; task bytes unchanged
                (tests/test_golden_tasks.py); overrides are checked by their declared types, so
                "3" and 3.0 now name the same task as 3.
                2026-12 (red team S5-4; task bytes of "same" and "other" tasks changed, d < 0.75,
                re-pinned; "near" tasks unchanged): "same" distractors were cut from the picture
                shown, so "the candidate found nowhere in the picture" solved 30/30 at d = 0.25
                and 0.5; they now come from a square of the same scene that is not shown. The
                hole was the most structured of 6 places and distractors were placed at random,
                so "the most textured candidate" solved 21–25/30 at d = 0–0.5, and distractors
                could overlap each other, so "the candidate unlike the others" solved 18–23/30;
                distractors are now placed like the hole, apart from each other, with the hole's
                rank among the picks uniform (tests/test_patch_fit_shortcuts.py).
                2026-12-05 (task bytes of "near" tasks changed, d ≥ 0.75, re-pinned; "same" and
                "other" tasks unchanged): "near" held the true patch, one mirrored / flipped /
                turned copy of it and patches shifted by 25–60 % of the patch side around it, so
                "one of the twin pair" solved 31/60 at d = 0.75 (chance 10), "the candidate most
                like the others" (the medoid of the shifts) 44/60, and "the candidate of which no
                part shows beside the hole" 20/60. The twin is gone; the hole and the shifted
                patches are now k places drawn alike within a square of side the band, the hole
                one of them uniformly, so no candidate shows beside the hole and none is central;
                every pair differs by DISTINCT_MAD. Eleven shortcut solvers are held near chance
                at d = 0.75, 0.875, 1 (tests/test_patch_fit_shortcuts.py). The pixel solver's
                rates at d ≥ 0.75 fell (see Difficulty).
                2026-12-06 (red team s12 F4, s12b S5): a photo, ``image_dir`` or dataset
                picture is on one side of the split, whatever crop or turn a task shows
                (``rlvr.families._pictures``, "Splits"; 7 of 10 photos were on both sides).
                ``image_dir`` and dataset tasks' meta and bytes change; photos and procedural
                tasks unchanged; a non-train split of the photos raises.
                2026-12-06 (red team s12b S4): "other" distractors are cut only from a picture
                on the task's own side of the split, never a copy of its own picture (2 of 40
                train tasks of an ``image_dir`` showed patches of held-out pictures, 36 of 40
                test tasks patches of train ones; now 0 and 0), else from a fresh scene as with
                a one-picture source. ``image_dir`` and dataset tasks whose first draw was on
                the other side change; photos (all on the train side) and procedural tasks do
                not.
                2026-12-07 (red team s18 P1; task bytes at d < 0.25 changed, re-pinned): the
                levels below 0.25 cut their distractors from another picture ("other"), whose
                palette gave them away: the candidate whose coarse colour histogram overlaps the
                shown picture's most was the piece 0.95–0.97 at d = 0–0.2 (chance 1/3, 1/4).
                Every level now cuts them from the same scene ("same" from d = 0); that rule,
                the hole's surroundings left out, is at chance (tests/test_patch_fit_shortcuts.py);
                "other" stays an option.
"""

from rlvr.families._pictures import PICTURE_OPTIONS
from rlvr.family import EnvDecl, Family
from rlvr.params import Choice, DifficultyTable, Float, Int

DISTRACTOR_KINDS = ("other", "same", "near")

FAMILY = Family(
    name="patch_fit",
    generator="rlvr.generators.patch_fit:PatchFitGenerator",
    verifier="rlvr.verifiers.patch_fit:PatchFitVerifier",
    table=DifficultyTable(
        {
            "candidates": Int(2, 12, doc="lettered candidate patches, exactly one of them right"),
            "distractors": Choice(*DISTRACTOR_KINDS, doc="where the wrong candidates come from"),
            "patch_frac": Float(0.08, 0.45, doc="the patch's side as a fraction of the picture's"),
            "gap_frac": Float(0.0, 0.5, doc="the grey band around the hole as a fraction of the patch side"),
            "detail": Float(0.2, 1.0, doc="how much the picture shows (low: a low-texture picture)"),
            "picture_px": Int(128, 640, doc="the picture's side in pixels"),
        },
        {
            0.0: {
                "candidates": 3,
                "distractors": "same",
                "patch_frac": 0.30,
                "gap_frac": 0.0,
                "detail": 1.0,
                "picture_px": 320,
            },
            0.25: {
                "candidates": 4,
                "distractors": "same",
                "patch_frac": 0.28,
                "gap_frac": 0.05,
                "detail": 0.9,
                "picture_px": 320,
            },
            0.5: {
                "candidates": 5,
                "distractors": "same",
                "patch_frac": 0.25,
                "gap_frac": 0.1,
                "detail": 0.8,
                "picture_px": 320,
            },
            0.75: {
                "candidates": 6,
                "distractors": "near",
                "patch_frac": 0.22,
                "gap_frac": 0.15,
                "detail": 0.7,
                "picture_px": 320,
            },
            1.0: {
                "candidates": 8,
                "distractors": "near",
                "patch_frac": 0.2,
                "gap_frac": 0.25,
                "detail": 0.55,
                "picture_px": 320,
            },
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/PatchFit-v0",
            "A square cut out of a picture; answer the letter of the candidate patch that fills the hole",
            visual=True,
        ),
    ),
    generator_options=PICTURE_OPTIONS,
)
