"""Visual puzzles (rlvr/Jigsaw-v0, rlvr/Rotation-v0, rlvr/PatchFit-v0): generation and verification
throughput, image bytes, and the honest pixel solver's success rate per difficulty.

For each env at d = 0, 0.25, 0.5, 0.75, 1 (single process, single thread):
  tasks/s          ``rlvr.make_task`` over ``--n`` distinct seeds (the median of ``--repeats`` runs)
  png_bytes        mean PNG bytes of all of a task's images (what a Parquet row stores)
  json_ms          mean ``Task.to_json()`` time (PNG encoding + base64), what ``rlvr generate``
                   adds per task on top of generation
  composite        the size of ``task.images[0]`` for seed 0
  verify/s         ``verifier.verify`` on the reference response and on ``wrong_response``
                   (half each), over the same tasks
  pixel solver     ``rlvr.generators.pixel_solver`` success rate over ``--calibration-seeds`` seeds
                   (seeds 0…N−1, the same seeds at every d) and its mean time per task; it must
                   fall as d rises — the difficulty calibration
With scikit-image installed, the same generation timing at d = 0.5 with ``image_source="photos"``.

Side by side, in the same run: ``baseline`` — the least a user could write for a jigsaw task
without rlvr: one fixed picture (generated once, outside the timing), cut into an r×c grid with
numpy, the pieces shuffled and pasted into a grid, the result PNG-encoded. No scene painting, no
labels, no look-alike checks, no prompt; rlvr's side is ``make_task`` plus PNG-encoding its images
(a storable task on both sides). Ratios rlvr/baseline are reported for 2×2 and 10×10.

Run: ``.venv/bin/python benchmarks/bench_visual.py`` (about 4 minutes on 2 cores); results go to
benchmarks/results/visual.json. The machine is shared: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

import rlvr
from rlvr.core import image_to_png
from rlvr.generators import pixel_solver
from rlvr.generators.images import paint_scene

RESULTS = Path(__file__).resolve().parent / "results" / "visual.json"
DIFFICULTIES = (0.0, 0.25, 0.5, 0.75, 1.0)
ENVS = {
    "rlvr/Jigsaw-v0": pixel_solver.solve_jigsaw,
    "rlvr/Rotation-v0": pixel_solver.solve_rotation,
    "rlvr/PatchFit-v0": pixel_solver.solve_patch_fit,
}


def median_rate(make: callable, n: int, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            make(i)
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def baseline_jigsaw(picture: np.ndarray, rows: int, cols: int, seed: int) -> bytes:
    """Cut, shuffle, paste and PNG-encode: the bare minimum of a jigsaw task."""
    rng = np.random.default_rng(seed)
    side_h, side_w = picture.shape[0] // rows, picture.shape[1] // cols
    pieces = [
        picture[r * side_h : (r + 1) * side_h, c * side_w : (c + 1) * side_w] for r in range(rows) for c in range(cols)
    ]
    order = rng.permutation(len(pieces))
    shuffled = np.concatenate(
        [np.concatenate([pieces[order[r * cols + c]] for c in range(cols)], axis=1) for r in range(rows)], axis=0
    )
    buffer = io.BytesIO()
    Image.fromarray(shuffled).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def measure_level(env_id: str, difficulty: float, n: int, repeats: int, seeds: int, options: dict) -> dict:
    generator = rlvr.make_generator(env_id, **options)
    verifier = rlvr.make_verifier(env_id)
    rlvr.make_task(env_id, seed=10_000, difficulty=difficulty, **options)  # warm-up (imports, caches)
    rate = median_rate(lambda i: rlvr.make_task(env_id, seed=i, difficulty=difficulty, **options), n, repeats)
    tasks = [rlvr.make_task(env_id, seed=i, difficulty=difficulty, **options) for i in range(n)]
    png_bytes = statistics.mean(sum(len(image_to_png(im)) for im in t.images) for t in tasks)
    start = time.perf_counter()
    for t in tasks:
        t.to_json()
    json_ms = (time.perf_counter() - start) / n * 1000
    responses = [generator.solve(t) if i % 2 == 0 else generator.wrong_response(t) for i, t in enumerate(tasks)]
    reps = max(1, 2000 // n)
    start = time.perf_counter()
    for _ in range(reps):
        verdicts = [verifier.verify(t, r) for t, r in zip(tasks, responses)]
    verify_rate = reps * n / (time.perf_counter() - start)
    assert all(v.correct == (i % 2 == 0) for i, v in enumerate(verdicts)), "reference / wrong responses misjudged"
    row = {
        "difficulty": difficulty,
        "params": dict(tasks[0].params.items()),
        "tasks_per_s": round(rate, 1),
        "png_bytes_per_task": int(png_bytes),
        "json_ms_per_task": round(json_ms, 2),
        "composite_px": list(tasks[0].images[0].size),
        "verifications_per_s": round(verify_rate, 0),
    }
    if seeds:
        solve = ENVS[env_id]
        solved, start = 0, time.perf_counter()
        solve_time = 0.0
        for seed in range(seeds):
            task = rlvr.make_task(env_id, seed=seed, difficulty=difficulty, **options)
            begin = time.perf_counter()
            response = solve(task)
            solve_time += time.perf_counter() - begin
            solved += verifier.verify(task, response).correct
        row["pixel_solver_solved"] = round(solved / seeds, 3)
        row["pixel_solver_ms_per_task"] = round(solve_time / seeds * 1000, 1)
    return row


def version_of(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="tasks per timing run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calibration-seeds", type=int, default=100)
    parser.add_argument("--envs", nargs="*", default=list(ENVS))
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)

    result: dict = {
        "measured": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "rlvr": version_of("rlvr"),
        "numpy": version_of("numpy"),
        "pillow": version_of("pillow"),
        "scikit_image": version_of("scikit-image"),
        "n": args.n,
        "repeats": args.repeats,
        "calibration_seeds": args.calibration_seeds,
        "envs": {},
    }
    for env_id in args.envs:
        rows = []
        for d in DIFFICULTIES:
            row = measure_level(env_id, d, args.n, args.repeats, args.calibration_seeds, {})
            rows.append(row)
            print(
                f"{env_id:<18} d={d:<4} {row['tasks_per_s']:>7.1f} tasks/s  "
                f"{row['png_bytes_per_task'] / 1024:>6.0f} KiB  json {row['json_ms_per_task']:>5.1f} ms  "
                f"{row['verifications_per_s']:>8.0f} verify/s  pixel solver "
                f"{row.get('pixel_solver_solved', float('nan')):.2f} ({row.get('pixel_solver_ms_per_task', 0):.0f} "
                "ms)",
                flush=True,
            )
        entry = {"levels": rows}
        if importlib.util.find_spec("skimage") is not None:
            photos = measure_level(env_id, 0.5, args.n, args.repeats, 0, {"image_source": "photos"})
            entry["photos_d0.5"] = photos
            print(
                f"{env_id:<18} photos d=0.5 {photos['tasks_per_s']:>7.1f} tasks/s  "
                f"{photos['png_bytes_per_task'] / 1024:>6.0f} KiB",
                flush=True,
            )
        result["envs"][env_id] = entry

    baseline = {}
    for rows_cols, difficulty in (((2, 2), 0.0), ((10, 10), 1.0)):
        size = rlvr.make_task("rlvr/Jigsaw-v0", seed=0, difficulty=difficulty).params["piece_px"] * rows_cols[0]
        picture = np.asarray(paint_scene(np.random.default_rng(0), size, size)[0])
        rate = median_rate(lambda i: baseline_jigsaw(picture, *rows_cols, i), args.n, args.repeats)
        ours = median_rate(
            lambda i: [
                image_to_png(im) for im in rlvr.make_task("rlvr/Jigsaw-v0", seed=i, difficulty=difficulty).images
            ],
            args.n,
            args.repeats,
        )
        label = f"{rows_cols[0]}x{rows_cols[1]}"
        baseline[label] = {
            "baseline_tasks_per_s": round(rate, 1),
            "rlvr_tasks_per_s": round(ours, 1),
            "rlvr_over_baseline": round(ours / rate, 3),
            "rlvr_difficulty": difficulty,
        }
        print(
            f"baseline jigsaw {label}: {rate:.1f} tasks/s; rlvr/Jigsaw-v0 d={difficulty}: {ours:.1f} tasks/s "
            f"(ratio {ours / rate:.2f})",
            flush=True,
        )
    result["baseline_jigsaw"] = baseline
    result["baseline_note"] = (
        "baseline: a fixed picture of the same size (320×320 for 2×2, 480×480 for 10×10) cut with numpy, shuffled, "
        "pasted and PNG-encoded (no scene painting, labels, look-alike checks or prompt); rlvr: make_task plus PNG "
        "encoding of its images; both timed in the same run"
    )
    if not args.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
