"""Optimisation-family benchmarks: generation and verification throughput of the ten NP-hard
envs, the difficulty curves (greedy gap and exact-solver effort against the knob), and
rlvr/GraphColoring-v0 side by side with reasoning-gym's ``graph_color``.

1. Generation    Tasks per second per problem at d = 0, 0.5, 1: ``rlvr.make_task(env, seed=i,
                 difficulty=d)`` for ``--n`` fresh seeds, single process, after a warm-up; the
                 median of ``--repeats`` runs. Every task includes its exact reference solve
                 (Held-Karp, branch and bound, bound checks, DP, MiniSat or CP-SAT), so this is
                 also the reference solver's throughput.
                 The slowest single task per level is reported too (the conformance budget).
1b. Baseline     ``--baseline DIR`` (an unpacked older tree, e.g. ``git archive d476769 | tar -x
                 -C /tmp/np_base``): the same generation loop in two worker processes, one
                 importing ``rlvr`` from DIR and one from this checkout, interleaved run by run
                 (alternating which goes first) so machine load falls on both. Both sides get
                 this tree's parameters for each level explicitly (some d = 0 rows grew since:
                 the same instance sizes are compared, not the same knob); the table is the
                 median tasks/s of each side and the median of the back-to-back pairs' ratios
                 (robust to load that swings between runs), per problem and level, and the
                 same pairs' ratio of process CPU time (``cpu_speedup``: on a loaded shared
                 machine a short wall-clock run swings with scheduling, its CPU time far
                 less). Written under ``generation_vs_baseline``.
2. Verification  Verdicts per second per problem at d = 0.5 and 1 over a mix of responses per
                 task: the reference (correct), the simple greedy (usually partial credit), the
                 wrong response (worse or infeasible) and a malformed answer.
3. Difficulty    For d = 0, 0.1, …, 1 and ``--curve-seeds`` seeds: the mean greedy gap
                 (1 − verifier reward of the family's simple greedy baseline) and the mean
                 exact-solver effort (``task.meta["effort"]``: CP-SAT deterministic seconds,
                 DP cells or states, search nodes or MiniSat conflicts). Plotted to
                 benchmarks/results/optimisation.png (effort normalised by its value at d = 1,
                 log scale).
4. Peer          reasoning-gym ``graph_color`` (random G(n, p) graph, a colour budget that
                 first-fit greedy is guaranteed to meet, JSON-map answer, decision scoring)
                 against rlvr/GraphColoring-v0 (G(n, p), exact chromatic number by CP-SAT,
                 list answer, ratio-to-optimum scoring) at matching vertex counts: generation
                 per second (their dataset object built outside the timed loop), scoring per
                 second of the reference answer, interleaved run by run so machine load falls on
                 both; plus the share of each side's tasks that first-fit greedy solves
                 (reasoning-gym: all, by construction).

Run in the peers venv (reasoning-gym is never installed in the project's own venv):
    benchmarks/.venv-peers/bin/pip install reasoning-gym ortools python-sat matplotlib -e .
    benchmarks/.venv-peers/bin/python benchmarks/bench_optimisation.py
Writes benchmarks/results/optimisation.json and benchmarks/results/optimisation.png.
Against a baseline tree (part 1b only; runs in the project's venv, both sides in it):
    git archive d476769 | tar -x -C /tmp/np_base
    .venv/bin/python benchmarks/bench_optimisation.py --baseline /tmp/np_base --n 200 --repeats 3
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import rlvr

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "optimisation.json"
PLOT = HERE / "results" / "optimisation.png"
ENV_IDS = [
    "rlvr/TSP-v0",
    "rlvr/GraphColoring-v0",
    "rlvr/MaxIndependentSet-v0",
    "rlvr/VertexCover-v0",
    "rlvr/Knapsack-v0",
    "rlvr/SubsetSum-v0",
    "rlvr/SetCover-v0",
    "rlvr/BinPacking-v0",
    "rlvr/Scheduling-v0",
    "rlvr/SAT-v0",
]
LEVELS = (0.0, 0.5, 1.0)
CURVE_POINTS = tuple(round(0.1 * i, 1) for i in range(11))
SEED_BASE = 1_000_000  # seeds the tests do not use, so caches cannot flatter the numbers


def short(env_id: str) -> str:
    return env_id.split("/")[1].rsplit("-", 1)[0]


# --------------------------------------------------------------------------------------------
# 1. Generation
# --------------------------------------------------------------------------------------------


def bench_generation(n: int, repeats: int) -> dict:
    rows = {}
    for env_id in ENV_IDS:
        rlvr.make_task(env_id, seed=0, difficulty=0.5)  # warm-up: imports, solver start
        levels = {}
        for difficulty in LEVELS:
            runs, slowest = [], 0.0
            for repeat in range(repeats):
                start = time.perf_counter()
                for i in range(n):
                    t0 = time.perf_counter()
                    rlvr.make_task(env_id, seed=SEED_BASE + repeat * n + i, difficulty=difficulty)
                    slowest = max(slowest, time.perf_counter() - t0)
                runs.append(n / (time.perf_counter() - start))
            levels[f"d={difficulty:g}"] = {
                "tasks_per_s": statistics.median(runs),
                "mean_ms": 1000 / statistics.median(runs),
                "slowest_ms": 1000 * slowest,
                "runs": runs,
            }
        rows[short(env_id)] = levels
        print(
            f"generate {short(env_id):18s}",
            "  ".join(f"{k} {v['tasks_per_s']:8.1f}/s (max {v['slowest_ms']:.0f} ms)" for k, v in levels.items()),
            flush=True,
        )
    return rows


# --------------------------------------------------------------------------------------------
# 1b. Generation against a baseline tree, in two interleaved worker processes
# --------------------------------------------------------------------------------------------


def generation_worker(root: str) -> None:
    """Serve timing requests on stdin, one JSON line each ({"env", "difficulty", "params",
    "seeds"}), with ``rlvr`` imported from ``root`` (the worker's PYTHONPATH puts it first);
    answer {"seconds", "cpu_seconds", "slowest"} per line (``cpu_seconds``: the worker's
    process CPU time, which other processes' load on a shared machine sways far less)."""
    if not str(Path(rlvr.__file__).resolve()).startswith(str(Path(root).resolve())):
        raise SystemExit(f"rlvr was imported from {rlvr.__file__}, not from {root}")
    for line in sys.stdin:
        request = json.loads(line)
        env_id, difficulty, params, seeds = request["env"], request["difficulty"], request["params"], request["seeds"]
        rlvr.make_task(env_id, seed=0, difficulty=difficulty, **params)  # warm-up: imports, solver start
        slowest, start, cpu_start = 0.0, time.perf_counter(), time.process_time()
        for seed in seeds:
            t0 = time.perf_counter()
            rlvr.make_task(env_id, seed=seed, difficulty=difficulty, **params)
            slowest = max(slowest, time.perf_counter() - t0)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "slowest": slowest}), flush=True)


class Worker:
    """A generation worker process importing ``rlvr`` from ``root``."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(root),
            env={**os.environ, "PYTHONPATH": str(root)},
        )

    def time(self, env_id: str, difficulty: float, params: dict, seeds: list[int]) -> dict:
        request = {"env": env_id, "difficulty": difficulty, "params": params, "seeds": seeds}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"generation worker exited with {self.process.wait()}")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def bench_generation_vs_baseline(
    baseline: Path, n: int, repeats: int, env_ids: list[str], difficulties: tuple[float, ...] = LEVELS
) -> dict:
    sides = {"baseline": Worker(baseline), "now": Worker(HERE.parent)}
    rows = {}
    try:
        for env_id in env_ids:
            levels = {}
            for difficulty in difficulties:
                params = rlvr.make_task(env_id, seed=0, difficulty=difficulty).params  # this tree's sizes
                rates: dict[str, list[float]] = {side: [] for side in sides}
                cpu_rates: dict[str, list[float]] = {side: [] for side in sides}
                slowest = dict.fromkeys(sides, 0.0)
                for repeat in range(repeats):
                    seeds = list(range(SEED_BASE + repeat * n, SEED_BASE + (repeat + 1) * n))
                    order = list(sides) if repeat % 2 == 0 else list(sides)[::-1]
                    for side in order:
                        timing = sides[side].time(env_id, difficulty, params, seeds)
                        rates[side].append(n / timing["seconds"])
                        cpu_rates[side].append(n / timing["cpu_seconds"])
                        slowest[side] = max(slowest[side], timing["slowest"])
                baseline_rate, now_rate = statistics.median(rates["baseline"]), statistics.median(rates["now"])
                paired = [now / base for now, base in zip(rates["now"], rates["baseline"])]
                cpu_paired = [now / base for now, base in zip(cpu_rates["now"], cpu_rates["baseline"])]
                levels[f"d={difficulty:g}"] = {
                    "params": params,
                    "baseline_tasks_per_s": baseline_rate,
                    "now_tasks_per_s": now_rate,
                    "speedup": statistics.median(paired),  # of back-to-back pairs: robust to load swings
                    "speedup_range": [min(paired), max(paired)],
                    "cpu_speedup": statistics.median(cpu_paired),  # the same pairs by process CPU time
                    "cpu_speedup_range": [min(cpu_paired), max(cpu_paired)],
                    "baseline_slowest_ms": 1000 * slowest["baseline"],
                    "now_slowest_ms": 1000 * slowest["now"],
                    "runs": rates,
                }
            rows[short(env_id)] = levels
            print(
                f"vs base  {short(env_id):18s}",
                "  ".join(
                    f"{k} {v['baseline_tasks_per_s']:7.0f} → {v['now_tasks_per_s']:7.0f}/s "
                    f"(×{v['speedup']:.1f}, CPU ×{v['cpu_speedup']:.1f})"
                    for k, v in levels.items()
                ),
                flush=True,
            )
    finally:
        for worker in sides.values():
            worker.close()
    return rows


# --------------------------------------------------------------------------------------------
# 2. Verification
# --------------------------------------------------------------------------------------------


def bench_verification(n: int, repeats: int) -> dict:
    rows = {}
    for env_id in ENV_IDS:
        generator, verifier = rlvr.make_generator(env_id), rlvr.make_verifier(env_id)
        levels = {}
        for difficulty in (0.5, 1.0):
            pairs = []
            for i in range(n):
                task = rlvr.make_task(env_id, seed=SEED_BASE + i, difficulty=difficulty)
                for response in (
                    generator.solve(task),
                    generator.greedy_response(task),
                    generator.wrong_response(task),
                    "<answer>[0, 1.5, x]</answer>",
                ):
                    pairs.append((task, response))
            runs = []
            for _ in range(repeats):
                start = time.perf_counter()
                for task, response in pairs:
                    verifier.verify(task, response)
                runs.append(len(pairs) / (time.perf_counter() - start))
            levels[f"d={difficulty:g}"] = {"verdicts_per_s": statistics.median(runs), "pairs": len(pairs), "runs": runs}
        rows[short(env_id)] = levels
        print(
            f"verify   {short(env_id):18s}",
            "  ".join(f"{k} {v['verdicts_per_s']:9.0f}/s" for k, v in levels.items()),
            flush=True,
        )
    return rows


# --------------------------------------------------------------------------------------------
# 3. Difficulty curves
# --------------------------------------------------------------------------------------------


def bench_curves(seeds: int) -> dict:
    rows = {}
    for env_id in ENV_IDS:
        generator, verifier = rlvr.make_generator(env_id), rlvr.make_verifier(env_id, partial=True)  # the quality ratio
        points = []
        unit = ""
        for difficulty in CURVE_POINTS:
            gaps, efforts, optimal = [], [], 0
            for i in range(seeds):
                task = rlvr.make_task(env_id, seed=SEED_BASE + i, difficulty=difficulty)
                gaps.append(1.0 - verifier.verify(task, generator.greedy_response(task)).reward)
                efforts.append(float(task.meta["effort"]))
                optimal += task.meta["status"] == "optimal"
                unit = task.meta["effort_unit"]
            points.append(
                {
                    "difficulty": difficulty,
                    "greedy_gap": float(np.mean(gaps)),
                    "greedy_gap_stderr": float(np.std(gaps) / np.sqrt(seeds)),
                    "effort": float(np.mean(efforts)),
                    "optimal_share": optimal / seeds,
                }
            )
        rows[short(env_id)] = {"effort_unit": unit, "points": points}
        print(
            f"curve    {short(env_id):18s} gap",
            " ".join(f"{p['greedy_gap']:.3f}" for p in points),
            f"| effort ×{points[-1]['effort'] / max(points[0]['effort'], 1e-12):.3g} ({unit})",
            flush=True,
        )
    return rows


def plot_curves(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (gap_axis, effort_axis) = plt.subplots(1, 2, figsize=(13, 5.2))
    for name, row in curves.items():
        x = [p["difficulty"] for p in row["points"]]
        gaps = [p["greedy_gap"] for p in row["points"]]
        top = row["points"][-1]["effort"] or 1.0
        efforts = [max(p["effort"] / top, 1e-7) for p in row["points"]]
        gap_axis.plot(x, gaps, marker="o", markersize=3, label=name)
        effort_axis.plot(x, efforts, marker="o", markersize=3, label=f"{name} ({row['effort_unit']})")
    gap_axis.set_xlabel("difficulty knob d")
    gap_axis.set_ylabel("greedy gap = 1 − reward of the simple greedy")
    gap_axis.set_title("Simple greedy baseline: mean gap to the reference")
    gap_axis.grid(alpha=0.3)
    gap_axis.legend(fontsize=7)
    effort_axis.set_yscale("log")
    effort_axis.set_xlabel("difficulty knob d")
    effort_axis.set_ylabel("mean solver effort / its value at d = 1")
    effort_axis.set_title("Exact solver effort (CP-SAT det. seconds, DP cells/states, nodes, SAT conflicts)")
    effort_axis.grid(alpha=0.3, which="both")
    effort_axis.legend(fontsize=6)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# --------------------------------------------------------------------------------------------
# 4. reasoning-gym graph_color side by side
# --------------------------------------------------------------------------------------------

PEER_LEVELS = (  # (our difficulty, their config): same vertex count, their curriculum's colour budgets
    (0.0, {"min_num_vertices": 6, "max_num_vertices": 6, "num_colors": 5}),
    (0.5, {"min_num_vertices": 18, "max_num_vertices": 18, "num_colors": 4}),
    (1.0, {"min_num_vertices": 30, "max_num_vertices": 30, "num_colors": 3}),
)


def bench_peer(n: int, repeats: int) -> dict:
    from reasoning_gym.algorithmic.graph_color import GraphColorConfig, GraphColorDataset

    env_id = "rlvr/GraphColoring-v0"
    generator, verifier = rlvr.make_generator(env_id), rlvr.make_verifier(env_id)
    rows = []
    for difficulty, config in PEER_LEVELS:
        ours_gen, theirs_gen, ours_score, theirs_score = [], [], [], []
        for repeat in range(repeats):
            seeds = range(SEED_BASE + repeat * n, SEED_BASE + (repeat + 1) * n)
            dataset = GraphColorDataset(GraphColorConfig(seed=SEED_BASE + repeat, size=n, **config))
            order = (0, 1) if repeat % 2 == 0 else (1, 0)
            for side in order:
                start = time.perf_counter()
                if side == 0:
                    tasks = [rlvr.make_task(env_id, seed=s, difficulty=difficulty) for s in seeds]
                    ours_gen.append(n / (time.perf_counter() - start))
                else:
                    entries = [dataset[i] for i in range(n)]
                    theirs_gen.append(n / (time.perf_counter() - start))
            responses = [generator.solve(t) for t in tasks]
            answers = [json.dumps(e["metadata"]["possible_answer"]) for e in entries]
            for side in order:
                start = time.perf_counter()
                if side == 0:
                    assert all(verifier.verify(t, r).correct for t, r in zip(tasks, responses))
                    ours_score.append(n / (time.perf_counter() - start))
                else:
                    assert all(dataset.score_answer(a, e) == 1.0 for a, e in zip(answers, entries))
                    theirs_score.append(n / (time.perf_counter() - start))
        first_fit_solves = float(np.mean([verifier.verify(t, generator.greedy_response(t)).correct for t in tasks]))
        row = {
            "rlvr": {
                "difficulty": difficulty,
                "vertices": tasks[0].params["vertices"],
                "edge_probability": tasks[0].params["edge_probability"],
                "tasks_per_s": statistics.median(ours_gen),
                "verdicts_per_s": statistics.median(ours_score),
                "mean_edges": float(np.mean([len(t.answer["instance"]["edges"]) for t in tasks])),
                "first_fit_correct_share": first_fit_solves,
            },
            "reasoning_gym": {
                "config": config,
                "edge_probability": GraphColorConfig().edge_probability,
                "tasks_per_s": statistics.median(theirs_gen),
                "verdicts_per_s": statistics.median(theirs_score),
                "mean_edges": float(np.mean([len(e["metadata"]["puzzle"]["edges"]) for e in entries])),
                "first_fit_correct_share": 1.0,
            },
        }
        row["generation_ratio_rlvr_to_peer"] = row["rlvr"]["tasks_per_s"] / row["reasoning_gym"]["tasks_per_s"]
        row["scoring_ratio_rlvr_to_peer"] = row["rlvr"]["verdicts_per_s"] / row["reasoning_gym"]["verdicts_per_s"]
        rows.append(row)
        print(
            f"peer d={difficulty:g} {config['max_num_vertices']} vertices: generate ours "
            f"{row['rlvr']['tasks_per_s']:.0f}/s vs graph_color {row['reasoning_gym']['tasks_per_s']:.0f}/s "
            f"(×{row['generation_ratio_rlvr_to_peer']:.3f}); score ours {row['rlvr']['verdicts_per_s']:.0f}/s vs "
            f"{row['reasoning_gym']['verdicts_per_s']:.0f}/s (×{row['scoring_ratio_rlvr_to_peer']:.2f}); first fit "
            f"solves {first_fit_solves:.0%} of ours",
            flush=True,
        )
    return {"peer": f"reasoning-gym {importlib.metadata.version('reasoning-gym')} graph_color", "levels": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="tasks per generation / verification run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--curve-seeds", type=int, default=40)
    parser.add_argument("--peer-n", type=int, default=200)
    parser.add_argument("--part", choices=("all", "generate", "verify", "curves", "peer"), default="all")
    parser.add_argument("--baseline", type=Path, help="an older tree: time generation against it (part 1b) only")
    parser.add_argument("--envs", nargs="*", default=ENV_IDS, help="the envs part 1b times (default: all ten)")
    parser.add_argument(
        "--levels", nargs="*", type=float, default=LEVELS, help="the difficulties part 1b times (default: 0 0.5 1)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        generation_worker(args.worker)
        return
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "ortools": importlib.metadata.version("ortools"),
        "python-sat": importlib.metadata.version("python-sat"),
        "note": "single process, shared 2-core machine: absolute numbers are noisy, ratios less so",
    }
    if args.baseline:
        results["generation_vs_baseline"] = {
            "baseline": str(args.baseline),
            "n": args.n,
            "repeats": args.repeats,
            "problems": {
                **results.get("generation_vs_baseline", {}).get("problems", {}),
                **bench_generation_vs_baseline(
                    args.baseline.resolve(), args.n, args.repeats, args.envs, tuple(args.levels)
                ),
            },
        }
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {RESULTS}")
        return
    if args.part in ("all", "generate"):
        results["generation"] = {
            "n": args.n,
            "repeats": args.repeats,
            "problems": bench_generation(args.n, args.repeats),
        }
    if args.part in ("all", "verify"):
        results["verification"] = {
            "n_tasks": args.n // 2,
            "repeats": args.repeats,
            "responses": ["reference", "greedy", "wrong_response", "malformed"],
            "problems": bench_verification(args.n // 2, args.repeats),
        }
    if args.part in ("all", "curves"):
        curves = bench_curves(args.curve_seeds)
        results["difficulty_curves"] = {"seeds": args.curve_seeds, "points": list(CURVE_POINTS), "problems": curves}
        plot_curves(curves, PLOT)
    if args.part in ("all", "peer"):
        results["graph_color_peer"] = {
            "n": args.peer_n,
            "repeats": args.repeats,
            **bench_peer(args.peer_n, args.repeats),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}" + (f" and {PLOT}" if args.part in ("all", "curves") else ""))


if __name__ == "__main__":
    main()
