"""Task generation throughput: rlvr environments side by side with reasoning-gym datasets.

Each comparison pairs one rlvr configuration with the reasoning-gym dataset a user would pick for
the same job, at matched sizes, and times both in the same process, single-threaded: tasks per
second over ``--n`` tasks (distinct seeds / indices), the best of ``--repeats`` rounds after a
short warm-up (the median is recorded too), each round timing rlvr and reasoning-gym in turn so
both see the same load on a shared machine. rlvr goes through the public ``rlvr.make_task``; reasoning-gym through
``create_dataset(...)[index]`` (the dataset object is built outside the timed loop). Rows labelled "generator
made once" time ``rlvr.make_generator(env).generate(seed, d, **params)`` with the generator made outside the
loop, the rlvr counterpart of the prepared dataset object.

Families (``--envs``, default: every family whose rlvr module imports)
  maze   rlvr/Maze-v0 at d = 0, 0.5, 1  vs  reasoning-gym ``maze`` with the same grid size and
         the same minimum shortest-path length where reasoning-gym can reach it (its 41×41 grids
         cannot reach 120 steps, so d = 1 is compared at 60, with an extra rlvr row at 60).
  math   rlvr/Math-v0 at d = 0, 0.5, 1 (its mix of kinds)  vs  reasoning-gym ``basic_arithmetic``
         with few / default / many terms and digits; then one kind at a time (``kinds=``) against
         the reasoning-gym dataset closest to it, each at its defaults: fraction_arithmetic (d=0.5:
         3 operands, one nested bracket) vs ``basic_arithmetic``, linear_equation (d=0) vs
         ``simple_equations``, number_theory (d=0; gcd, lcm, remainder, power remainder) vs ``gcd``,
         polynomial_expansion (d=0) vs ``polynomial_multiplication``; counting has no peer.
  graph_colouring  rlvr/GraphColoring-v0 at reasoning-gym's default size and d = 0, 0.5, 1  vs
         reasoning-gym ``graph_color`` with the same vertex count and edge probability.
  The maze family also pairs reasoning-gym's default maze configuration with rlvr d=0.

Differences the numbers do not hide (also written into the JSON as ``note``):
  maze   rlvr carves a perfect maze (randomised DFS), braids a fraction of dead ends and picks S
         and G by BFS to meet a minimum length and turn count; the answer is a move string and the
         Task carries the grid, endpoints, optimum, meta and a stable id. reasoning-gym fills a
         grid with random walls (70 % open), rejects samples whose BFS distance is outside
         [min_dist, max_dist], and asks only for the number of steps.

Run (reasoning-gym lives only in its own venv, next to an editable rlvr):
    python3 -m venv benchmarks/.venv-peers
    benchmarks/.venv-peers/bin/pip install reasoning-gym -e .
    benchmarks/.venv-peers/bin/python benchmarks/bench_generate.py --envs maze
Results merge into benchmarks/results/generate.json (one entry per family, each with the machine
and versions it was measured on, so running one family keeps the others' last results).

Rows (``bench_generate.py rows``): bytes per task (``Task.to_json``, mean and largest over
``--seeds`` seeds at d = 0, 0.5, 1) for every env (``--skip-bytes`` keeps the last ones), and
tasks per second of ``rlvr.generate(..., workers=1)`` and ``workers=2`` (``--workers-difficulty``),
with the load average before and after (the figures are only as good as the machine is idle), and
the CPU time of this process and of the pool's processes (``worker_scaling``). The worker server is
started first with every measured env's generator modules preloaded, as a process's first call
preloads its env's (``--no-preload``: the first env's only, so later envs' pool processes import
theirs); the server builds those envs' default generators too, and the timings wait for it.
Merged into benchmarks/results/generate.json as ``bytes_per_task`` and ``workers``.

Family runs record the load average too, and each rlvr row keeps the rate of the run it replaced
as ``previous``.

Ceiling (``bench_generate.py ceiling --envs ID …``): what the machine allows two workers, per env
(d = ``--difficulty``, the train split): the time per task of ``rlvr.generate(..., workers=1)``
alone (g) and while a second process runs the same loop on another CPU (g2, two forked plain
loops started together: no pool, no transport), and the least CPU per task a pool's caller
spends loading a chunk of those tasks in memory (l: unpickling the marshalled chunk with the
collector paused, the duplicate check). Two plain loops run 2g/g2 times one, the ceiling of any
two-process design; a pool returning tasks in memory on two CPUs cannot pass 2g/(g2 + l). Merged
into benchmarks/results/generate.json as ``ceiling``.

Sets (``bench_generate.py sets``): duplicate prompts in each env's raw seed stream at d=0 (up to
``--n`` tasks, cut at ``--budget-s`` seconds per env), and the peak RSS, time and bytes per task
of ``rlvr generate`` writing 10k and 100k tasks as JSON lines, Parquet and a HF dataset (one
child process each, measured with ``wait4``). Written to benchmarks/results/generate_sets.json.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "generate.json"
WARM_UP = 20


@dataclass(frozen=True)
class Side:
    """One thing to time: an rlvr env configuration or a reasoning-gym dataset configuration."""

    label: str
    config: dict


@dataclass(frozen=True)
class Level:
    name: str
    rlvr: list[Side]  # difficulty in config["difficulty"], overrides in the rest
    peer: Side | None
    note: str = ""
    peer_dataset: str | None = None  # the family's peer dataset unless named here


@dataclass(frozen=True)
class Family:
    name: str
    env_id: str
    module: str  # the rlvr module that must import for this family to run
    peer_dataset: str
    levels: list[Level]
    note: str = ""
    extra: dict = field(default_factory=dict)


def maze_family() -> Family:
    def peer(grid: int, min_dist: int) -> Side:
        return Side(
            f"maze {grid}×{grid}, dist ≥ {min_dist}",
            {"min_grid_size": grid, "max_grid_size": grid, "min_dist": min_dist, "max_dist": 4 * grid * grid},
        )

    return Family(
        name="maze",
        env_id="rlvr/Maze-v0",
        module="rlvr.generators.maze",
        peer_dataset="maze",
        levels=[
            Level(
                "rg default",
                [Side("d=0: 7×7 grid, path ≥ 4, turns ≥ 1", {"difficulty": 0.0})],
                Side("maze defaults: 5–10 grid, dist 5–10", {}),
                note="reasoning-gym's default maze configuration against rlvr's nearest size (d=0)",
            ),
            Level("d=0", [Side("d=0: 7×7 grid, path ≥ 4, turns ≥ 1", {"difficulty": 0.0})], peer(7, 4)),
            Level(
                "d=0.5",
                [Side("d=0.5: 17×17 grid, path ≥ 24, turns ≥ 8, 10% braided", {"difficulty": 0.5})],
                peer(17, 24),
            ),
            Level(
                "d=1",
                [
                    Side("d=1: 41×41 grid, path ≥ 120, turns ≥ 32, 25% braided", {"difficulty": 1.0}),
                    Side(
                        "d=1 with path ≥ 60, turns ≥ 0 (reasoning-gym's bound)",
                        {"difficulty": 1.0, "min_path_length": 60, "min_turns": 0},
                    ),
                ],
                peer(41, 60),
                note="reasoning-gym's random-wall 41×41 grids cannot reach a 120-step shortest path "
                "(it gives up after 1000 samples), so its bound here is 60 steps",
            ),
        ],
        note="rlvr: carved perfect maze + braiding, S/G chosen by BFS for length and turns, move-string answer, "
        "Task with grid/endpoints/optimum/meta/id. reasoning-gym: random walls (70% open) with rejection "
        "sampling on the BFS distance, answer is the step count only, no turn constraint.",
    )


def math_family() -> Family:
    def peer(terms: tuple[int, int], digits: tuple[int, int]) -> Side:
        return Side(
            f"basic_arithmetic {terms[0]}–{terms[1]} terms, {digits[0]}–{digits[1]} digits",
            {"min_terms": terms[0], "max_terms": terms[1], "min_digits": digits[0], "max_digits": digits[1]},
        )

    return Family(
        name="math",
        env_id="rlvr/Math-v0",
        module="rlvr.generators.math",
        peer_dataset="basic_arithmetic",
        levels=[
            Level(
                "d=0",
                [Side("d=0", {"difficulty": 0.0}), Side("d=0, generator made once", {"difficulty": 0.0, **PREPARED})],
                peer((2, 3), (1, 2)),
            ),
            Level("d=0.5", [Side("d=0.5", {"difficulty": 0.5})], peer((2, 6), (1, 4))),
            Level("d=1", [Side("d=1", {"difficulty": 1.0})], peer((5, 8), (3, 6))),
            Level(
                "fraction arithmetic",
                [
                    Side(
                        "kinds=fraction_arithmetic, d=0.5: 3 operands, 1 nested bracket",
                        {"difficulty": 0.5, "kinds": "fraction_arithmetic"},
                    ),
                    Side(
                        "the same, generator made once",
                        {"difficulty": 0.5, "kinds": "fraction_arithmetic", **PREPARED},
                    ),
                ],
                Side("basic_arithmetic defaults: 2–6 terms, 1–4 digits", {}),
                note="both: one arithmetic expression with an exact value; rlvr's operands are fractions",
            ),
            Level(
                "linear equation",
                [Side("kinds=linear_equation, d=0", {"difficulty": 0.0, "kinds": "linear_equation"})],
                Side("simple_equations defaults", {}),
                peer_dataset="simple_equations",
            ),
            Level(
                "number theory",
                [
                    Side(
                        "kinds=number_theory, d=0: gcd / lcm / remainder / power remainder",
                        {"difficulty": 0.0, "kinds": "number_theory"},
                    ),
                    Side("the same, generator made once", {"difficulty": 0.0, "kinds": "number_theory", **PREPARED}),
                ],
                Side("gcd defaults", {}),
                peer_dataset="gcd",
            ),
            Level(
                "polynomial expansion",
                [
                    Side(
                        "kinds=polynomial_expansion, d=0: (ax + b)(cx + d)",
                        {"difficulty": 0.0, "kinds": "polynomial_expansion"},
                    )
                ],
                Side("polynomial_multiplication defaults", {}),
                peer_dataset="polynomial_multiplication",
            ),
            Level(
                "counting",
                [Side("kinds=counting, d=0: committees and podiums", {"difficulty": 0.0, "kinds": "counting"})],
                None,
                note="reasoning-gym has no counting-by-formula dataset",
            ),
        ],
        note="rlvr/Math-v0 synthesises competition-style problems with exact answers (every kind in Python "
        "integers and fractions, its LaTeX as sympy prints it); reasoning-gym's basic_arithmetic makes one "
        "arithmetic expression; the d levels pair easy/default/hard configurations, not equal problems; the "
        "per-kind levels pair each kind with reasoning-gym's nearest dataset. Rows 'generator made once' call "
        "rlvr.make_generator(env).generate(seed, d, **params) with the generator made outside the timed loop, "
        "as the reasoning-gym dataset object is; the other rows go through rlvr.make_task per task.",
    )


def graph_colouring_family() -> Family:
    return Family(
        name="graph_colouring",
        env_id="rlvr/GraphColoring-v0",
        module="rlvr.generators.graph_coloring",
        peer_dataset="graph_color",
        levels=[
            Level(
                "rg default",
                [
                    Side(
                        "10 vertices, p = 0.1 (reasoning-gym's size)",
                        {"difficulty": 0.0, "vertices": 10, "edge_probability": 0.1},
                    )
                ],
                Side("graph_color defaults: 10 vertices, p = 0.1, 3 colours", {}),
            ),
            Level(
                "d=0",
                [Side("d=0: 8 vertices, p = 0.4", {"difficulty": 0.0})],
                Side(
                    "graph_color 8 vertices, p = 0.4, 4 colours",
                    {"min_num_vertices": 8, "max_num_vertices": 8, "edge_probability": 0.4, "num_colors": 4},
                ),
            ),
            Level(
                "d=0.5",
                [Side("d=0.5: 18 vertices, p = 0.45", {"difficulty": 0.5})],
                Side(
                    "graph_color 18 vertices, p = 0.45, 6 colours",
                    {"min_num_vertices": 18, "max_num_vertices": 18, "edge_probability": 0.45, "num_colors": 6},
                ),
            ),
            Level(
                "d=1",
                [Side("d=1: 30 vertices, p = 0.5", {"difficulty": 1.0})],
                Side(
                    "graph_color 30 vertices, p = 0.5, 9 colours",
                    {"min_num_vertices": 30, "max_num_vertices": 30, "edge_probability": 0.5, "num_colors": 9},
                ),
            ),
        ],
        note="rlvr proves the chromatic number (first fit, maximum clique, then MiniSat k-colourings) and asks for "
        "a colouring with that many colours; reasoning-gym draws a graph and asks for any colouring with a "
        "given number of colours (no optimum is computed).",
    )


FAMILIES: dict[str, Callable[[], Family]] = {
    "maze": maze_family,
    "math": math_family,
    "graph_colouring": graph_colouring_family,
}


def interleaved_rates(makers: list[Callable[[int], Any]], n: int, repeats: int) -> list[list[float]]:
    """Tasks per second of each ``make_one(i)`` in ``makers`` over ``repeats`` rounds of ``n``
    fresh indices, after a short warm-up; each round times every maker once, in turn, so all of
    them see the same load on a shared machine."""
    for make_one in makers:
        for i in range(WARM_UP):
            make_one(i)
    rates: list[list[float]] = [[] for _ in makers]
    for round_index in range(repeats):
        offset = WARM_UP + round_index * n
        for make_one, runs in zip(makers, rates):
            start = time.perf_counter()
            for i in range(offset, offset + n):
                make_one(i)
            runs.append(n / (time.perf_counter() - start))
    return rates


PREPARED = {"prepared": True}  # a Side config flag: time generator.generate, the generator made once


def rlvr_maker(env_id: str, side: Side) -> Callable[[int], Any]:
    import rlvr

    options = dict(side.config)
    difficulty = options.pop("difficulty")
    if options.pop("prepared", False):
        generator = rlvr.make_generator(env_id)
        return lambda i: generator.generate(i, difficulty, **options)
    return lambda i: rlvr.make_task(env_id, seed=i, difficulty=difficulty, **options)


def peer_maker(dataset: str, side: Side, n: int, repeats: int) -> Callable[[int], Any]:
    import reasoning_gym

    data = reasoning_gym.create_dataset(dataset, seed=0, size=WARM_UP + n * repeats, **side.config)
    return lambda i: data[i]


def row_of(side: Side, runs: list[float]) -> dict:
    """The best round counts (the one least slowed by other load); the median is kept beside it."""
    return {
        "label": side.label,
        "config": side.config,
        "tasks_per_s": max(runs),
        "median_tasks_per_s": statistics.median(runs),
        "runs": runs,
    }


def available(module: str) -> str | None:
    """None when ``module`` imports, else why not."""
    try:
        importlib.import_module(module)
        return None
    except Exception as error:  # a family not written yet, or a missing dependency
        return f"{type(error).__name__}: {error}"


def version_of(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def run_family(family: Family, n: int, repeats: int, peer_reason: str | None) -> dict:
    levels = []
    for level in family.levels:
        makers = [rlvr_maker(family.env_id, side) for side in level.rlvr]
        dataset = level.peer_dataset or family.peer_dataset
        with_peer = level.peer is not None and peer_reason is None
        if with_peer:
            makers.append(peer_maker(dataset, level.peer, n, repeats))
        rates = interleaved_rates(makers, n, repeats)
        rlvr_rows = [row_of(side, runs) for side, runs in zip(level.rlvr, rates)]
        peer_row = {**row_of(level.peer, rates[-1]), "dataset": dataset} if with_peer else None
        for row in rlvr_rows:
            row["ratio_to_peer"] = row["tasks_per_s"] / peer_row["tasks_per_s"] if peer_row else None
        levels.append({"level": level.name, "rlvr": rlvr_rows, "peer": peer_row, "note": level.note})
    return {
        "env_id": family.env_id,
        "peer": f"reasoning-gym {family.peer_dataset}",
        "note": family.note,
        "n": n,
        "repeats": repeats,
        "levels": levels,
        "peer_missing": peer_reason,
    }


def keep_previous(result: dict, earlier: dict | None) -> None:
    """Copy each row's rate from the earlier run of the family (same level and label) into the
    row as ``previous`` (rate and date), so the file shows before and after."""
    if not earlier:
        return
    when = (earlier.get("environment") or {}).get("measured")
    rates = {(level["level"], row["label"]): row["tasks_per_s"] for level in earlier["levels"] for row in level["rlvr"]}
    for level in result["levels"]:
        for row in level["rlvr"]:
            if (level["level"], row["label"]) in rates:
                row["previous"] = {"tasks_per_s": rates[(level["level"], row["label"])], "measured": when}


def print_table(name: str, result: dict) -> None:
    header = ("level", "rlvr configuration", "rlvr tasks/s", "reasoning-gym configuration", "rg tasks/s", "rlvr / rg")
    rows = []
    for level in result["levels"]:
        peer = level["peer"]
        for row in level["rlvr"]:
            rows.append(
                (
                    level["level"],
                    row["label"],
                    f"{row['tasks_per_s']:,.0f}",
                    peer["label"] if peer else "—",
                    f"{peer['tasks_per_s']:,.0f}" if peer else "—",
                    f"{row['ratio_to_peer']:.2f}×" if row["ratio_to_peer"] is not None else "—",
                )
            )
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    print(
        f"\n{name}: {result['env_id']} vs {result['peer']} (single process, n={result['n']}, best of "
        f"{result['repeats']})"
    )
    for line in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)))
    if result["peer_missing"]:
        print(f"reasoning-gym not available: {result['peer_missing']}")
    for level in result["levels"]:
        if level["note"]:
            print(f"note ({level['level']}): {level['note']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--envs", nargs="+", choices=sorted(FAMILIES), help="families to run (default: all whose rlvr module imports)"
    )
    parser.add_argument("--n", type=int, default=1000, help="tasks per timed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON file; results merge into it per family")
    args = parser.parse_args(argv)

    peer_reason = available("reasoning_gym")
    chosen = args.envs or sorted(FAMILIES)
    load_before = os.getloadavg()[0]
    results: dict[str, Any] = {}
    for name in chosen:
        family = FAMILIES[name]()
        missing = available(family.module)
        if missing:
            print(f"skipping {name}: {family.module} does not import ({missing})")
            continue
        results[name] = run_family(family, args.n, args.repeats, peer_reason)
        print_table(name, results[name])

    if not results:
        print("nothing ran")
        return 1
    environment = {
        "measured": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "rlvr": version_of("rlvr"),
        "reasoning_gym": version_of("reasoning-gym"),
        "numpy": version_of("numpy"),
        "networkx": version_of("networkx"),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    merged = json.loads(args.out.read_text()) if args.out.exists() else {}
    for name, result in results.items():
        result["environment"] = environment
        keep_previous(result, merged.get("families", {}).get(name))
    merged.setdefault("families", {}).update(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {args.out}")
    return 0


# --------------------------------------------------------------------------------------------
# Sets: duplicates per env at d=0 and peak memory of `rlvr generate` (issue 18; `... sets`)
# --------------------------------------------------------------------------------------------

SETS_RESULTS = Path(__file__).resolve().parent / "results" / "generate_sets.json"
DUPLICATE_ENVS = (
    "rlvr/Math-v0",
    "rlvr/Maze-v0",
    "rlvr/GraphColoring-v0",
    "rlvr/Knapsack-v0",
    "rlvr/Causal-v0",
    "rlvr/SubsetSum-v0",
    "rlvr/Game24-v0",
    "rlvr/Countdown-v0",
    "rlvr/Code-v0",
    "rlvr/StepOrder-v0",
    "rlvr/KnightsKnaves-v0",
)


def duplicates_at_zero(env_id: str, n: int, budget_s: float) -> dict:
    """Draw the raw seed stream (seeds 0, 1, …; ``split=None``, repeats kept) at d=0 until ``n``
    tasks or ``budget_s`` seconds, and count repeated prompts (``rlvr.api.content_key``) and
    repeated problems (``rlvr.api.problem_key``: what generated sets are unique by)."""
    import rlvr
    from rlvr.api import content_key, make_generator, problem_key

    generator = make_generator(env_id)
    prompts: set[bytes] = set()
    problems: set[bytes] = set()
    drawn = 0
    started = time.perf_counter()
    for task in rlvr.iter_generate(env_id, n, 0, 0.0, split=None, allow_duplicates=True):
        prompts.add(content_key(task))
        problems.add(problem_key(task, generator))
        drawn += 1
        if time.perf_counter() - started > budget_s:
            break
    return {
        "env_id": env_id,
        "drawn": drawn,
        "distinct": len(prompts),
        "duplicates": drawn - len(prompts),
        "duplicates_per_100k_drawn": round((drawn - len(prompts)) * 100_000 / drawn),
        "distinct_problems": len(problems),
        "problem_duplicates_per_100k_drawn": round((drawn - len(problems)) * 100_000 / drawn),
        "seconds": round(time.perf_counter() - started, 1),
    }


PEAK_OF_CHILD = """import sys
from rlvr.cli import main
status = main(sys.argv[1:])
hwm = next(line for line in open('/proc/self/status') if line.startswith('VmHWM'))
print('peak-kib', hwm.split()[1], file=sys.stderr)
sys.exit(status)
"""


def peak_rss(arguments: list[str]) -> tuple[float, float]:
    """(peak resident MiB, seconds) of ``rlvr ARGUMENTS`` in a fresh process: its own VmHWM, read
    at exit (``ru_maxrss`` of a child would include the parent's size at fork)."""
    import subprocess

    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK_OF_CHILD, *arguments], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"rlvr {' '.join(arguments)} failed: {done.stderr[-500:]}")
    kib = int(next(line for line in done.stderr.splitlines() if line.startswith("peak-kib")).split()[1])
    return kib / 1024, time.perf_counter() - started


def memory_of_outputs(
    env_id: str, difficulty: float, counts: list[int], formats: list[str], directory: Path
) -> list[dict]:
    """Peak RSS of ``rlvr generate`` writing ``count`` tasks in each format."""
    rows = []
    suffix = {"jsonl": ".jsonl", "parquet": ".parquet", "verl": ".parquet", "hf": ""}
    for file_format in formats:
        for count in counts:
            target = directory / f"{file_format}-{count}{suffix[file_format]}"
            mib, seconds = peak_rss(
                [
                    "generate",
                    env_id,
                    "--difficulty",
                    str(difficulty),
                    "-n",
                    str(count),
                    "-o",
                    str(target),
                    "--format",
                    file_format,
                    "-q",
                ]
            )
            size = sum(p.stat().st_size for p in target.rglob("*")) if target.is_dir() else target.stat().st_size
            rows.append(
                {
                    "format": file_format,
                    "tasks": count,
                    "peak_rss_mib": round(mib, 1),
                    "seconds": round(seconds, 1),
                    "bytes_per_task": round(size / count),
                }
            )
            print(
                f"  {file_format:<8} {count:>7,} tasks  peak RSS {mib:7.1f} MiB  {seconds:6.1f} s  "
                f"{size / count:8.0f} B/task"
            )
    return rows


def sets_main(argv: list[str]) -> int:
    import tempfile

    parser = argparse.ArgumentParser(
        prog="bench_generate.py sets", description="duplicates at d=0 and peak RSS of rlvr generate"
    )
    parser.add_argument("--n", type=int, default=100_000, help="tasks drawn per env for the duplicate count")
    parser.add_argument("--budget-s", type=float, default=15.0, help="stop drawing an env after this many seconds")
    parser.add_argument("--envs", nargs="*", default=list(DUPLICATE_ENVS))
    parser.add_argument("--memory-env", default="rlvr/Knapsack-v0")
    parser.add_argument("--memory-difficulty", type=float, default=0.5)
    parser.add_argument("--memory-counts", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--formats", nargs="*", default=["jsonl", "parquet", "hf"])
    parser.add_argument("--out", type=Path, default=SETS_RESULTS)
    args = parser.parse_args(argv)
    if args.envs:
        print(f"duplicates in the raw seed stream at d=0 (up to {args.n:,} tasks or {args.budget_s:g} s per env)")
    duplicates = []
    for env_id in args.envs:
        row = duplicates_at_zero(env_id, args.n, args.budget_s)
        duplicates.append(row)
        print(
            f"  {env_id:<24} {row['drawn']:>7,} drawn  {row['distinct']:>7,} distinct prompts  "
            f"{row['distinct_problems']:>7,} distinct problems  "
            f"{row['problem_duplicates_per_100k_drawn']:>7,} repeated problems per 100k drawn  ({row['seconds']} s)"
        )
    print(f"peak RSS of rlvr generate {args.memory_env} d={args.memory_difficulty:g}")
    with tempfile.TemporaryDirectory() as directory:
        memory = (
            []
            if not args.formats
            else memory_of_outputs(
                args.memory_env, args.memory_difficulty, args.memory_counts, args.formats, Path(directory)
            )
        )
    result = json.loads(args.out.read_text()) if args.out.exists() else {}
    if duplicates:
        result["duplicates_at_d0"] = duplicates
    if memory:  # rows of other formats or counts measured earlier are kept
        earlier = result.get("memory", {})
        same = earlier.get("env_id") == args.memory_env and earlier.get("difficulty") == args.memory_difficulty
        rows = {(r["format"], r["tasks"]): r for r in (earlier.get("rows", []) if same else [])}
        rows.update({(r["format"], r["tasks"]): r for r in memory})
        result["memory"] = {
            "env_id": args.memory_env,
            "difficulty": args.memory_difficulty,
            "rows": list(rows.values()),
        }
    result.setdefault("environment", {}).update(
        {
            "measured": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "rlvr": version_of("rlvr"),
        }
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


# --------------------------------------------------------------------------------------------
# Rows: bytes per task and 1 vs 2 worker processes per env (issue 18; `... rows`)
# --------------------------------------------------------------------------------------------

ROW_LEVELS = (0.0, 0.5, 1.0)


def text_env_ids() -> list[str]:
    import rlvr

    return [row["id"] for row in rlvr.list_envs() if not row["id"].endswith("Eval-v0")]


def bytes_per_task(env_id: str, seeds: int) -> dict:
    """Mean and largest canonical JSON size (``Task.to_json``) over ``seeds`` seeds per level."""
    import rlvr

    levels = {}
    for difficulty in ROW_LEVELS:
        sizes = [
            len(rlvr.make_task(env_id, seed=seed, difficulty=difficulty).to_json().encode()) for seed in range(seeds)
        ]
        levels[f"d={difficulty:g}"] = {"mean": round(statistics.mean(sizes)), "max": max(sizes)}
    return levels


def written_run(env_id: str, count: int, difficulty: float, workers: int, file_format: str) -> None:
    """What ``rlvr generate ENV -n count --workers w -o FILE --format file_format`` does, in this
    process: the rows made where the tasks are (``encode``; JSON lines joined there in blocks),
    streamed into a temporary file."""
    import tempfile

    import rlvr
    from rlvr.cli import block_encoder, plan_output, row_encoder, write_tasks

    with tempfile.TemporaryDirectory(prefix="bench-rows-") as directory:
        suffix = "jsonl" if file_format == "jsonl" else "parquet"
        output = plan_output("-o", f"{directory}/out.{suffix}", file_format)
        joined = block_encoder(output)
        rows = rlvr.iter_generate(
            env_id, count, 0, difficulty, workers, allow_duplicates=True, encode=joined or row_encoder(output)
        )
        write_tasks(rows, output, encoded=True, blocks=joined is not None)


def pool_processes_cpu_s() -> float:
    """CPU seconds of the forkserver's finished children (the pool processes, reaped by the
    forkserver, which the kernel then counts in its children's time), or 0 with no forkserver."""
    import multiprocessing.forkserver

    pid = getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None)
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime + cstime


MAX_SCALING_TASKS = 500_000  # ~8 s of the cheapest env (SubsetSum, ~17 µs a task in memory); ~1 GB of its tasks


def worker_scaling(env_id: str, difficulty: float, target_s: float, write: str | None = None) -> dict:
    """Tasks per second of ``rlvr.generate(env_id, count, …, workers=w)`` for w = 1 and 2 (the
    train split, repeats allowed so no env runs out), over enough positions for about
    ``target_s`` seconds of single-process work (at most ``MAX_SCALING_TASKS``: the cap was
    50,000 until session 25, which cut the cheapest envs' runs to 0.8-1.5 s, where a pool's
    start and its last chunk weigh more than in any other env's); with ``write`` (a format), of writing them to
    a file as ``rlvr generate`` does instead (``written_run``). Each call starts its own pool, as
    a user's does: with 2 workers, two pool processes (each imports the env's generator module
    unless the forkserver preloaded it, and builds its generator) while this process loads their
    chunks; ``pool_start_s`` is a two-task, two-worker call's time less one task's. On a shared
    machine the rates follow the other load, so CPU time is recorded too: ``cpu_bound_speedup``
    = c1 / ((p + q) / 2), with c1 the one-worker run's CPU time (all in this process), p this
    process's and q the pool's CPU time in the two-worker run (its start included): the speedup
    two otherwise idle cores would allow if nothing waited."""
    import rlvr

    rlvr.make_task(env_id, seed=10_000_000, difficulty=difficulty)  # the parent's generator, built
    probe_started = time.perf_counter()
    rlvr.generate(env_id, 10, 10_000_001, difficulty, workers=1, allow_duplicates=True)
    per_task = (time.perf_counter() - probe_started) / 10
    count = max(40, min(MAX_SCALING_TASKS, int(target_s / max(per_task, 1e-6))))
    start_started = time.perf_counter()
    rlvr.generate(env_id, 2, 20_000_000, difficulty, workers=2, allow_duplicates=True)
    pool_start = time.perf_counter() - start_started - per_task
    rates, seconds, cpu, pool_cpu = {}, {}, {}, {}
    for workers in (1, 2):
        pool_before = pool_processes_cpu_s()
        started, cpu_started = time.perf_counter(), time.process_time()
        if write:
            written_run(env_id, count, difficulty, workers, write)
        else:
            rlvr.generate(env_id, count, 0, difficulty, workers=workers, allow_duplicates=True)
        seconds[workers] = time.perf_counter() - started
        cpu[workers] = time.process_time() - cpu_started
        pool_cpu[workers] = pool_processes_cpu_s() - pool_before  # the pool was joined: its children reaped
        rates[workers] = count / seconds[workers]
    parent, pool = cpu[2], pool_cpu[2]
    return {
        "env_id": env_id,
        "difficulty": difficulty,
        "written_as": write,
        "tasks": count,
        "one_worker_tasks_per_s": round(rates[1], 1),
        "two_workers_tasks_per_s": round(rates[2], 1),
        "speedup": round(rates[2] / rates[1], 2),
        "pool_start_s": round(pool_start, 2),
        "one_worker_cpu_us_per_task": round(cpu[1] / count * 1e6, 1),
        "parent_cpu_us_per_task_with_two": round(parent / count * 1e6, 1),
        "pool_cpu_us_per_task_with_two": round(pool / count * 1e6, 1),
        "cpu_bound_speedup": round(2 * cpu[1] / max(parent + pool, 1e-9), 2),
    }


def rows_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="bench_generate.py rows", description="bytes per task and 1 vs 2 workers per env"
    )
    parser.add_argument("--envs", nargs="*", help="env ids (default: every registered env but the *Eval ones)")
    parser.add_argument("--seeds", type=int, default=8, help="seeds per level for the byte sizes")
    parser.add_argument("--workers-difficulty", type=float, default=0.5)
    parser.add_argument(
        "--target-s", type=float, default=2.0, help="single-process seconds of work per env for the scaling"
    )
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument(
        "--write",
        choices=("jsonl", "parquet", "verl", "hf"),
        help="time writing the tasks to a file of this format (rlvr generate's path) instead of rlvr.generate",
    )
    parser.add_argument("--skip-bytes", action="store_true", help="keep the byte sizes of an earlier run")
    parser.add_argument(
        "--no-preload",
        action="store_true",
        help="start the worker server with the first env's modules only (later envs' pool processes import theirs)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    envs = args.envs or text_env_ids()
    if not args.skip_workers and not args.no_preload:
        from rlvr.api import start_worker_server

        # as a process's first call preloads its env's modules, generators and first task's work
        start_worker_server((env_id, args.workers_difficulty) for env_id in envs)
    load_before = os.getloadavg()
    print(f"load average {load_before[0]:.1f} on {os.cpu_count()} CPUs")
    sizes = {}
    if not args.skip_bytes:
        print(f"bytes per task (Task.to_json, mean / max over {args.seeds} seeds)")
        print(f"  {'env':<26}" + "".join(f"{f'd={d:g} mean/max':>24}" for d in ROW_LEVELS))
    for env_id in envs if not args.skip_bytes else ():
        sizes[env_id] = bytes_per_task(env_id, args.seeds)
        print(
            f"  {env_id:<26}"
            + "".join(f"{row['mean'] / 1024:>14.1f} / {row['max'] / 1024:5.1f} KB" for row in sizes[env_id].values())
        )
    scaling = []
    if not args.skip_workers:
        import rlvr

        # the server builds every measured env's generators as it starts: wait for it, so the
        # first env's pool_start_s is a pool's start like the others'
        rlvr.generate(envs[0], 2, 30_000_000, args.workers_difficulty, workers=2, allow_duplicates=True)
        what = f"writing {args.write}" if args.write else "rlvr.generate"
        print(
            f"\n1 vs 2 worker processes at d={args.workers_difficulty:g}, {what} (ideal 2.0×; the machine's other "
            "load counts)"
        )
        for env_id in envs:
            row = worker_scaling(env_id, args.workers_difficulty, args.target_s, args.write)
            scaling.append(row)
            print(
                f"  {env_id:<26} {row['one_worker_tasks_per_s']:>10,.1f}/s  "
                f"{row['two_workers_tasks_per_s']:>10,.1f}/s  {row['speedup']:.2f}×  ({row['tasks']} tasks; a "
                f"two-worker pool starts in {row['pool_start_s']:.2f} s; CPU µs/task: 1 worker "
                f"{row['one_worker_cpu_us_per_task']:.0f}, 2 workers "
                f"{row['parent_cpu_us_per_task_with_two']:.0f} here + {row['pool_cpu_us_per_task_with_two']:.0f} "
                f"pool; CPU bound {row['cpu_bound_speedup']:.2f}×)"
            )
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.1f}")
    result = json.loads(args.out.read_text()) if args.out.exists() else {}
    measured = {
        "measured": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu_count": os.cpu_count(),
        "rlvr": version_of("rlvr"),
        "load_average_before": round(load_before[0], 2),
        "load_average_after": round(load_after[0], 2),
    }
    if sizes:
        result["bytes_per_task"] = {"seeds_per_level": args.seeds, "envs": sizes, **measured}
    if scaling:
        key = f"workers_writing_{args.write}" if args.write else "workers"
        result[key] = {
            "difficulty": args.workers_difficulty,
            "worker_server_preloaded": "first env only" if args.no_preload else "every env measured",
            "rows": scaling,
            **measured,
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")
    return 0


def _timed_generate(env_id: str, count: int, seed: int, difficulty: float, barrier: Any = None) -> float:
    """Seconds of ``rlvr.generate(env_id, count, seed, difficulty)`` in this process (one worker,
    the train split, repeats allowed), after a warm-up; with ``barrier``, started when the other
    process is ready too. Wall-clock time: what throughput is made of (this VM shows no steal
    time, and its CPU time swells with the other vCPU's load as its wall time does)."""
    import rlvr

    rlvr.generate(env_id, 200, seed + 90_000_000, difficulty, allow_duplicates=True)
    if barrier is not None:
        barrier.wait()
    started = time.perf_counter()
    rlvr.generate(env_id, count, seed, difficulty, allow_duplicates=True)
    return time.perf_counter() - started


def _side_by_side(env_id: str, count: int, seed: int, difficulty: float) -> float:
    """Seconds per process of two ``_timed_generate`` loops run at once in two forked processes
    (the longer of the two)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()

    def run(offset: int) -> None:
        results.put(_timed_generate(env_id, count, seed + offset, difficulty, barrier))

    processes = [context.Process(target=run, args=(offset,)) for offset in (0, 50_000_000)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return max(results.get(), results.get())


def _load_floor(env_id: str, count: int, difficulty: float) -> float:
    """CPU seconds per task the caller of a pool spends at least on a chunk of ``count`` tasks
    in memory: unpickling the chunk as it travels (``rlvr.api.marshalled``), the collector
    paused, and the duplicate check of their keys; the best of five, alone."""
    import gc
    import pickle

    import rlvr
    from rlvr.api import marshalled

    tasks = rlvr.generate(env_id, count, 70_000_000, difficulty, allow_duplicates=True)
    data = pickle.dumps(marshalled([(task, hashlib.sha256(task.id.encode()).digest()) for task in tasks]), 5)
    best = float("inf")
    for _ in range(5):
        gc.collect()
        gc.disable()
        started = time.process_time()
        seen: set[bytes] = set()
        items = pickle.loads(data)  # kept until timed: the caller keeps its tasks
        for _task, key in items:
            seen.add(key)
        best = min(best, time.process_time() - started)
        del items
        gc.enable()
    return best / count


def ceiling_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="bench_generate.py ceiling",
        description="what this machine allows two workers: two plain loops side by side, and the bound in memory",
    )
    parser.add_argument("--envs", nargs="+", required=True, help="env ids")
    parser.add_argument("--difficulty", type=float, default=0.5)
    parser.add_argument("--target-s", type=float, default=3.0, help="seconds of one loop per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (one loop, two side by side); medians")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows = []
    for env_id in args.envs:
        probe = _timed_generate(env_id, 300, 80_000_000, args.difficulty) / 300
        count = max(200, min(MAX_SCALING_TASKS, int(args.target_s / max(probe, 1e-6))))
        alone, together = [], []
        for round_ in range(args.rounds):
            alone.append(_timed_generate(env_id, count, round_ * count, args.difficulty) / count)
            together.append(_side_by_side(env_id, count, 10_000_000 + round_ * count, args.difficulty) / count)
        g, g2 = statistics.median(alone), statistics.median(together)
        load = _load_floor(env_id, min(count, 20_000), args.difficulty)
        row = {
            "env_id": env_id,
            "tasks": count,
            "alone_us_per_task": round(g * 1e6, 1),
            "side_by_side_us_per_task": round(g2 * 1e6, 1),
            "caller_load_us_per_task": round(load * 1e6, 1),
            "two_plain_loops": round(2 * g / g2, 2),
            "in_memory_bound": round(2 * g / (g2 + load), 2),
        }
        rows.append(row)
        print(
            f"  {env_id:<26} g {row['alone_us_per_task']:>9.1f} µs  "
            f"g2 {row['side_by_side_us_per_task']:>9.1f} µs "
            f"(+{100 * (g2 / g - 1):.0f} %)  l {row['caller_load_us_per_task']:.1f} µs  two plain loops "
            f"{row['two_plain_loops']:.2f}×  in-memory bound {row['in_memory_bound']:.2f}×",
            flush=True,
        )
    result = json.loads(args.out.read_text()) if args.out.exists() else {}
    result["ceiling"] = {
        "difficulty": args.difficulty,
        "rows": rows,
        "measured": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu_count": os.cpu_count(),
        "rlvr": version_of("rlvr"),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    SUBCOMMANDS = {"sets": sets_main, "rows": rows_main, "ceiling": ceiling_main}
    sys.exit(SUBCOMMANDS[sys.argv[1]](sys.argv[2:]) if sys.argv[1:2] and sys.argv[1] in SUBCOMMANDS else main())
