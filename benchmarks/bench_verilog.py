"""Benchmark the Verilog verifier (rlvr/Verilog-v0 and rlvr/VerilogEval-v0).

Measures, in one run:
  * latency p50/p99 of verifying one correct candidate with ``VerilogVerifier`` (screening,
    testbench generation, one bwrap sandbox run of ``iverilog && vvp`` of the candidate alone,
    host-side comparison; verdict cache off; VerilogEval: the reference run is cached per
    problem, as in training, and its first, uncached run is timed separately) against a bare
    ``sh -c "iverilog … && vvp …"`` of the same files in a temp dir, interleaved task by task so
    that machine load hits both alike; with ``--before FILE`` (a verilog.py of an older
    checkout, e.g. ``git archive HEAD``) that version's verifier is timed in the same
    interleaving, and its throughput and kill rate are measured too;
  * candidates per second with 1 and 2 worker threads (correct and wrong candidates alternating);
  * mutant kill rate against stimulus length: every single mutation of the golden modules of
    ``--kill-tasks`` tasks per family (one batched simulation per task), the fraction killed
    within the first k steps of the stimulus, and per task the shortest stimulus prefix that
    already kills every mutant the whole stimulus kills.

Prints tables and writes benchmarks/results/verilog.json.

    python benchmarks/bench_verilog.py [--tasks 40] [--seconds 10] [--kill-tasks 3] [--before FILE]
                                       [--verilog-eval DIR]

VerilogEval's problems come from ``--verilog-eval`` (default ``../shared/data/verilog-eval/
dataset_spec-to-rtl``, VerilogEval v2 from github.com/NVlabs/verilog-eval); without them its
latency row is left out.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rlvr
from rlvr.generators.verilog import FAMILIES, VerilogGenerator, measure_mutants, mutants
from rlvr.verifiers.verilog import VerilogVerifier, build_bench, extract_verilog

PREFIXES = (1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 160, 256, 512)
VERILOG_EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "verilog-eval" / "dataset_spec-to-rtl"


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def summary(ms: list[float]) -> dict:
    return {
        "runs": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def load_before(path: str):
    """The VerilogVerifier module of an older checkout's verilog.py, imported under another name
    (it uses this checkout's rlvr.core and sandbox)."""
    spec = importlib.util.spec_from_file_location("rlvr_verilog_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def bare_run(task, response: str) -> float:
    """Seconds for ``iverilog && vvp`` of exactly the files the verifier's candidate run compiles."""
    bench = build_bench(task.answer, "0bench0")
    with tempfile.TemporaryDirectory(prefix="rlvr-bench-verilog-") as tmp:
        for name, text in (*bench.data, ("tb.sv", bench.text), ("top.sv", extract_verilog(response))):
            Path(tmp, name).write_text(text)
        t0 = time.perf_counter()
        result = subprocess.run(
            ["sh", "-c", f"iverilog -g2012 -o sim.vvp -s {bench.top} tb.sv top.sv && vvp -n sim.vvp -none"],
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - t0
    if "RLVR0bench0 done" not in result.stdout:
        raise RuntimeError(f"bare run of {task.id} did not finish: {result.stdout[-300:]} {result.stderr[-300:]}")
    return elapsed


def timed(verifier, task, response: str) -> float:
    t0 = time.perf_counter()
    verdict = verifier.verify(task, response)
    elapsed = (time.perf_counter() - t0) * 1e3
    if not verdict.correct:
        raise RuntimeError(f"{task.id}: {verdict.reason}")
    return elapsed


def latency_rows(tasks: list, verifier: VerilogVerifier, before=None) -> dict:
    """Verifier (and the older one), bare toolchain and an empty sandbox run (/bin/true),
    interleaved per task. A task's uncached reference run (VerilogEval) is timed apart."""
    verified, old, bare, floor, first = [], [], [], [], []
    for task in tasks[:3] + tasks:  # the first three twice: the warm-up round is discarded below
        response = rlvr.solve(task)
        if task.answer["kind"] == "verilog-eval":
            first.append(timed(verifier, task, response))  # starts and waits for the reference run
        verified.append(timed(verifier, task, response))
        if before is not None:
            old.append(timed(before, task, response))
        bare.append(bare_run(task, response) * 1e3)
        t0 = time.perf_counter()
        verifier.sandbox.run(["true"])
        floor.append((time.perf_counter() - t0) * 1e3)
    verified, old, bare, floor, first = verified[3:], old[3:], bare[3:], floor[3:], first[3:]
    rows = {
        "verifier": summary(verified),
        "bare iverilog && vvp": summary(bare),
        "sandbox /bin/true": summary(floor),
        "overhead_p50_ms": round(percentile(verified, 50) - percentile(bare, 50), 2),
        "ratio_p50": round(percentile(verified, 50) / percentile(bare, 50), 2),
    }
    if first:
        rows["verifier, first candidate of a problem (reference run not cached)"] = summary(first)
    if old:
        rows["verifier before"] = summary(old)
        rows["after_over_before_p50"] = round(percentile(verified, 50) / percentile(old, 50), 2)
        if first:
            rows["first_candidate_over_before_p50"] = round(percentile(first, 50) / percentile(old, 50), 2)
    return rows


def throughput(pairs: list, workers: int, seconds: float, make=VerilogVerifier) -> dict:
    verifier = make(cache_size=0)
    stop = time.monotonic() + seconds
    counts = [0] * workers

    def loop(i: int) -> None:
        k = i
        while time.monotonic() < stop:
            task, response, expected = pairs[k % len(pairs)]
            if verifier.verify(task, response).correct != expected:
                raise RuntimeError(f"unexpected verdict on {task.id}")
            counts[i] += 1
            k += workers

    t0 = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(loop, range(workers)))
    elapsed = time.monotonic() - t0
    verifier.close()
    return {
        "workers": workers,
        "candidates": sum(counts),
        "seconds": round(elapsed, 2),
        "candidates_per_s": round(sum(counts) / elapsed, 2),
    }


def kill_before(kill_tasks: int, before) -> dict:
    """The older verifier's kill rate on the same mutants (its batched run compares each mutant
    with the golden module in one simulation)."""
    verifier = before.VerilogVerifier(cache_size=0)
    jobs = [(family, d, seed) for family in FAMILIES for d in (0.0, 0.5, 1.0) for seed in range(kill_tasks)]

    def run(job):
        family, d, seed = job
        task = rlvr.make_task("rlvr/Verilog-v0", seed=seed, difficulty=d, families=family)
        found = mutants(task)
        design = VerilogGenerator.design_of(task)
        sim = verifier.simulate_many(task.answer, [design.module("TopModule"), *[m.source for m in found]])
        return len(found), sum(1 for k in range(1, len(found) + 1) if sim.duts[k][0])

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(run, jobs))
    verifier.close()
    total, killed = sum(t for t, _ in outcomes), sum(k for _, k in outcomes)
    return {"tasks": len(outcomes), "mutants": total, "killed": killed, "kill_rate": round(killed / total, 4)}


def kill_curve(kill_tasks: int, verifier: VerilogVerifier) -> dict:
    jobs = [(family, d, seed) for family in FAMILIES for d in (0.0, 0.5, 1.0) for seed in range(kill_tasks)]

    def run(job):
        family, d, seed = job
        task = rlvr.make_task("rlvr/Verilog-v0", seed=seed, difficulty=d, families=family)
        results, _ = measure_mutants(task, verifier)
        per_step = 2 if task.answer["clock"] else 1
        return task, [
            (r.mutant.category, None if r.first_mismatch is None else r.first_mismatch // per_step) for r in results
        ]

    t0 = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(run, jobs))
    elapsed = time.monotonic() - t0
    total = sum(len(found) for _, found in outcomes)
    killed_steps = [step for _, found in outcomes for _, step in found if step is not None]
    curve = {str(k): round(sum(1 for s in killed_steps if s < k) / total, 4) for k in PREFIXES}
    curve["all"] = round(len(killed_steps) / total, 4)
    needed, lengths = [], []
    by_family: dict[str, list[int]] = collections.defaultdict(list)
    per_category = collections.Counter()
    per_category_killed = collections.Counter()
    for task, found in outcomes:
        steps = [s for _, s in found if s is not None]
        if steps:
            needed.append(max(steps) + 1)
            by_family[task.meta["family"]].append(max(steps) + 1)
        lengths.append(len(task.answer["vectors"]))
        for category, step in found:
            per_category[category] += 1
            per_category_killed[category] += step is not None
    return {
        "tasks": len(outcomes),
        "mutants": total,
        "killed": len(killed_steps),
        "seconds": round(elapsed, 1),
        "kill_rate_within_first_k_steps": curve,
        "kill_rate_by_category": {c: round(per_category_killed[c] / per_category[c], 4) for c in sorted(per_category)},
        "steps_needed_to_kill_all_killable": {
            "p50": percentile(needed, 50),
            "p90": percentile(needed, 90),
            "max": max(needed),
        },
        "stimulus_steps": {"p50": percentile(lengths, 50), "max": max(lengths)},
        "steps_needed_by_family_max": {f: max(v) for f, v in sorted(by_family.items())},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=40, help="tasks per latency row")
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput measurement")
    ap.add_argument("--kill-tasks", type=int, default=3, help="seeds per (family, difficulty) for the kill curve")
    ap.add_argument("--before", help="verilog.py of an older checkout to time alongside")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "verilog.json"))
    ap.add_argument("--verilog-eval", default=str(VERILOG_EVAL), help="VerilogEval v2 dataset_spec-to-rtl folder")
    args = ap.parse_args()

    before_module = load_before(args.before) if args.before else None
    verifier = VerilogVerifier(cache_size=0)
    before = before_module.VerilogVerifier(cache_size=0) if before_module else None
    load_at_start = os.getloadavg()
    generated = [
        rlvr.make_task("rlvr/Verilog-v0", seed=s, difficulty=d) for s in range(args.tasks // 2) for d in (0.5, 1.0)
    ]
    latency = {"Verilog-v0 (d 0.5 and 1.0)": latency_rows(generated, verifier, before)}
    if Path(args.verilog_eval).is_dir():
        evals = [
            rlvr.make_task("rlvr/VerilogEval-v0", seed=s * 7, dataset=args.verilog_eval) for s in range(args.tasks // 2)
        ]
        latency["VerilogEval-v0"] = latency_rows(evals, verifier, before)
    else:
        print(
            f"VerilogEval-v0 latency left out: no dataset at {args.verilog_eval} (--verilog-eval DIR)", file=sys.stderr
        )
    generator = VerilogGenerator()
    pairs = []
    for task in generated[:20]:
        pairs += [(task, rlvr.solve(task), True), (task, generator.wrong_response(task), False)]
    tput = {}
    for w in (1, 2):
        tput[f"Verilog-v0, {w} worker(s)"] = throughput(pairs, w, args.seconds)
        if before_module:
            tput[f"Verilog-v0, {w} worker(s), before"] = throughput(
                pairs, w, args.seconds, before_module.VerilogVerifier
            )
    kills = kill_curve(args.kill_tasks, verifier)
    if before_module:
        kills["before"] = kill_before(args.kill_tasks, before_module)
        before.close()
    verifier.close()

    print(
        f"\nVerilog verifier benchmark ({platform.node()}, {os.cpu_count()} CPUs, load {load_at_start[0]:.1f} at "
        "start, iverilog: "
        f"{subprocess.run(['iverilog', '-V'], capture_output=True, text=True).stdout.splitlines()[0]})\n"
    )
    print(f"{'latency of one correct candidate':48s} {'p50 ms':>8s} {'p99 ms':>8s}")
    for env, rows in latency.items():
        for name, row in rows.items():
            if isinstance(row, dict):
                print(f"{env + ': ' + name:48s} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f}")
        for name in ("ratio_p50", "after_over_before_p50", "first_candidate_over_before_p50"):
            if name in rows:
                print(f"{env + ': ' + name:48s} {rows[name]:8.2f}")
    print(f"\n{'throughput':48s} {'cand/s':>8s}")
    for name, row in tput.items():
        print(f"{name:48s} {row['candidates_per_s']:8.2f}")
    print(f"\nmutant kill rate vs stimulus steps ({kills['mutants']} mutants of {kills['tasks']} tasks):")
    print("  " + "  ".join(f"{k}:{v:.3f}" for k, v in kills["kill_rate_within_first_k_steps"].items()))
    print(f"  by category: {kills['kill_rate_by_category']}")
    if "before" in kills:
        print(f"  before: {kills['before']}")
    print(
        f"  steps needed to kill every killable mutant: {kills['steps_needed_to_kill_all_killable']} "
        f"(stimulus length {kills['stimulus_steps']})"
    )

    result = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {
            "node": platform.node(),
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": sys.version.split()[0],
            "load_average_at_start": [round(x, 2) for x in load_at_start],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "sandbox_backend": VerilogVerifier().sandbox.backend,
        "latency": latency,
        "throughput": tput,
        "mutant_kill": kills,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
