"""Bulk generation and verification throughput: the local process pool versus Ray, 1 and 2 workers.

Workloads (``--n`` scales every count; defaults below)
  generate  rlvr/Maze-v0 d=0.5 (400 tasks), rlvr/Jigsaw-v0 d=0.5 (200 tasks, images)
  verify    rlvr/Maze-v0 d=0.5 (400 pairs, cheap verdicts: the transport cost shows),
            rlvr/Math-v0 d=0.5 (300 pairs, the maths verifier with its worker process),
            rlvr/Code-v0 d=0.5 (160 pairs, each a bubblewrap sandbox run)
  Responses alternate the reference solution and the generator's wrong response.

Backends, each through the public API (``rlvr.generate`` / ``rlvr.verify_batch``)
  process   ``backend="process"``: 1 worker runs in the calling process; 2 workers is a fresh
            forkserver pool per call (its start-up is part of every call, as for a user).
  ray       ``backend="ray"`` on a local Ray started here with one CPU per core; the time of
            ``ray.init`` and of the first call (cold worker processes) are reported apart.
  Items per second: the median of ``--repeats`` calls after one warm-up call. The process
  rows run before Ray starts, so Ray's idle daemons do not slow them. Every Ray result is
  checked against the process result (tasks byte-identical, verdicts equal).

Design check (2 workers, Maze generation and Math verification): the same chunks sent to two
actors, made per call or kept warm across calls, against the stateless remote functions that
``rlvr.integrations.ray_backend`` uses, all three measured back to back.

Prints a table and writes benchmarks/results/scale.json.

    python benchmarks/bench_scale.py [--n 1.0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rlvr
from rlvr.integrations import ray_backend

GENERATE = [("rlvr/Maze-v0", 0.5, 400), ("rlvr/Jigsaw-v0", 0.5, 200)]
VERIFY = [("rlvr/Maze-v0", 0.5, 400), ("rlvr/Math-v0", 0.5, 300), ("rlvr/Code-v0", 0.5, 160)]
WORKERS = (1, 2)


def median_rate(call: Callable[[], Any], items: int, repeats: int) -> tuple[float, Any]:
    """Items per second of ``call`` (median of ``repeats`` after one warm-up) and its result."""
    result = call()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return items / statistics.median(seconds), result


def verification_pairs(env_id: str, difficulty: float, n: int) -> tuple[list, list]:
    tasks = rlvr.generate(env_id, n, seed=0, difficulty=difficulty)
    generator = rlvr.make_generator(env_id)
    return tasks, [rlvr.solve(t) if i % 2 == 0 else generator.wrong_response(t) for i, t in enumerate(tasks)]


def workloads(scale: float) -> list[dict]:
    """Each workload: a name, an item count and ``run(backend, workers)``."""
    rows = []
    for env_id, difficulty, n in GENERATE:
        n = max(4, round(n * scale))
        rows.append(
            {
                "name": f"generate {env_id} d={difficulty}",
                "items": n,
                "run": lambda backend, workers, e=env_id, d=difficulty, n=n: rlvr.generate(
                    e, n, 0, d, workers, backend=backend
                ),
            }
        )
    for env_id, difficulty, n in VERIFY:
        tasks, responses = verification_pairs(env_id, difficulty, max(4, round(n * scale)))
        rows.append(
            {
                "name": f"verify {env_id} d={difficulty}",
                "items": len(tasks),
                "run": lambda backend, workers, t=tasks, r=responses: rlvr.verify_batch(t, r, workers, backend),
            }
        )
    return rows


def comparable(result: list) -> list:
    """Tasks by their bytes, verdicts by reward and correctness (code verdicts carry timings)."""
    return [item.to_json() if isinstance(item, rlvr.Task) else (item.reward, item.correct) for item in result]


def actor_rows(ray, scale: float, repeats: int) -> dict:
    """Items per second of two actors doing the same chunks as ``ray_backend``, made per call or
    made once, next to ``backend="ray"`` itself measured in the same stretch of time."""

    @ray.remote(num_cpus=1)
    class Worker:
        def generate(self, env_id, seeds, difficulty):
            return ray_backend.generate_seeds(env_id, seeds, difficulty, {})

        def verify(self, pairs):
            return ray_backend.verify_pairs(pairs)

    def run(actors, method, jobs):
        pool = ray.util.ActorPool(actors)
        return [
            item for part in pool.map(lambda actor, job: getattr(actor, method).remote(*job), jobs) for item in part
        ]

    def per_call(method, jobs):
        actors = [Worker.remote() for _ in range(2)]
        try:
            return run(actors, method, jobs)
        finally:
            for actor in actors:
                ray.kill(actor)

    n = max(4, round(400 * scale))
    size = ray_backend.chunk_size_for(n, 2)
    maze_jobs = [("rlvr/Maze-v0", range(s, min(s + size, n)), 0.5) for s in range(0, n, size)]
    tasks, responses = verification_pairs("rlvr/Math-v0", 0.5, max(4, round(300 * scale)))
    pairs = list(zip(tasks, responses))
    size = ray_backend.chunk_size_for(len(pairs), 2)
    math_jobs = [(pairs[s : s + size],) for s in range(0, len(pairs), size)]
    cases = [
        ("generate rlvr/Maze-v0 d=0.5", "generate", maze_jobs, n),
        ("verify rlvr/Math-v0 d=0.5", "verify", math_jobs, len(pairs)),
    ]
    functions = {
        "generate": lambda: rlvr.generate("rlvr/Maze-v0", n, 0, 0.5, 2, backend="ray"),
        "verify": lambda: rlvr.verify_batch(tasks, responses, 2, "ray"),
    }
    rows = {
        name: {
            "functions": round(median_rate(functions[method], items, repeats)[0], 1),
            "actors made per call": round(median_rate(lambda: per_call(method, jobs), items, repeats)[0], 1),
        }
        for name, method, jobs, items in cases
    }
    warm = [Worker.remote() for _ in range(2)]  # each holds a CPU for its lifetime: made after the per-call rows
    for name, method, jobs, items in cases:
        rows[name]["actors kept warm"] = round(median_rate(lambda: run(warm, method, jobs), items, repeats)[0], 1)
    for actor in warm:
        ray.kill(actor)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=float, default=1.0, help="scale every workload's item count")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per row (after one warm-up)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "scale.json"))
    args = ap.parse_args()

    rows = workloads(args.n)
    rates: dict[str, dict[str, float]] = {row["name"]: {} for row in rows}
    reference = {}
    for row in rows:
        for workers in WORKERS:
            rate, reference[row["name"]] = median_rate(
                lambda: row["run"]("process", workers), row["items"], args.repeats
            )
            rates[row["name"]][f"process {workers}"] = round(rate, 1)

    ray = ray_backend.import_ray()
    start = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    ray_start_s = time.perf_counter() - start
    start = time.perf_counter()
    rows[0]["run"]("ray", 2)
    first_call_s = time.perf_counter() - start
    for row in rows:
        for workers in WORKERS:
            rate, result = median_rate(lambda: row["run"]("ray", workers), row["items"], args.repeats)
            if comparable(result) != comparable(reference[row["name"]]):
                raise SystemExit(f"{row['name']}: Ray results differ from the process backend's")
            rates[row["name"]][f"ray {workers}"] = round(rate, 1)
    actors = actor_rows(ray, args.n, args.repeats)
    ray.shutdown()

    columns = [f"{backend} {workers}" for backend in ("process", "ray") for workers in WORKERS]
    print(f"\nscale benchmark  ({platform.node()}, {os.cpu_count()} CPUs, ray {ray.__version__})  items per second\n")
    print(f"{'workload':36s} {'n':>5s} " + " ".join(f"{c + 'w':>11s}" for c in columns))
    for row in rows:
        print(f"{row['name']:36s} {row['items']:5d} " + " ".join(f"{rates[row['name']][c]:11.1f}" for c in columns))
    print(f"\nray.init {ray_start_s:.2f} s; first Ray call (cold workers, {rows[0]['name']}) {first_call_s:.2f} s")
    print(f"\n{'2 workers, design check':36s} {'functions':>11s} {'actors/call':>11s} {'warm actors':>11s}")
    for name, row in actors.items():
        print(
            f"{name:36s} {row['functions']:11.1f} {row['actors made per call']:11.1f} {row['actors kept warm']:11.1f}"
        )

    result = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {
            "node": platform.node(),
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": sys.version.split()[0],
            "ray": ray.__version__,
        },
        "unit": "items per second, median of repeats after one warm-up; keys are '<backend> <workers>'",
        "repeats": args.repeats,
        "items": {row["name"]: row["items"] for row in rows},
        "throughput": rates,
        "ray_init_s": round(ray_start_s, 2),
        "ray_first_call_s": round(first_call_s, 2),
        "design_check_2_workers": actors,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
