"""Benchmark the Verilog verifier (rlvr/Verilog-v0 and rlvr/VerilogEval-v0).

Measures, in one run:
  * latency p50/p99 of verifying one correct candidate with ``VerilogVerifier`` (screening,
    testbench generation, one bwrap sandbox run of ``iverilog && vvp``, parsing; verdict cache
    off) against a bare ``sh -c "iverilog … && vvp …"`` of the same files in a temp dir, the two
    interleaved task by task so that machine load hits both alike;
  * candidates per second with 1 and 2 worker threads (correct and wrong candidates alternating);
  * mutant kill rate against stimulus length: every single mutation of the golden modules of
    ``--kill-tasks`` tasks per family (one batched simulation per task), the fraction killed
    within the first k steps of the stimulus, and per task the shortest stimulus prefix that
    already kills every mutant the whole stimulus kills.

Prints tables and writes benchmarks/results/verilog.json.

    python benchmarks/bench_verilog.py [--tasks 40] [--seconds 10] [--kill-tasks 3]
"""

from __future__ import annotations

import argparse
import collections
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

import rlvr  # noqa: E402
from rlvr.generators.verilog import FAMILIES, VerilogGenerator, measure_mutants  # noqa: E402
from rlvr.verifiers.verilog import VerilogVerifier, build_bench, extract_verilog  # noqa: E402

PREFIXES = (1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 160, 256, 512)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def summary(ms: list[float]) -> dict:
    return {"runs": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


def bare_run(task, response: str) -> float:
    """Seconds for ``iverilog && vvp`` of exactly the files the verifier would compile."""
    bench = build_bench(task.answer, "0bench0")
    with tempfile.TemporaryDirectory(prefix="rlvr-bench-verilog-") as tmp:
        for name, text in (*bench.data, ("tb.sv", bench.text), ("ref.sv", task.answer["ref"]), ("top.sv", extract_verilog(response))):
            Path(tmp, name).write_text(text)
        t0 = time.perf_counter()
        result = subprocess.run(["sh", "-c", f"iverilog -g2012 -o sim.vvp -s {bench.top} tb.sv ref.sv top.sv && vvp -n sim.vvp -none"],
                                cwd=tmp, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
    if "Mismatches: 0 " not in result.stdout and "dut 0 0 -1" not in result.stdout:
        raise RuntimeError(f"bare run of {task.id} did not pass: {result.stdout[-300:]} {result.stderr[-300:]}")
    return elapsed


def latency_rows(tasks: list, verifier: VerilogVerifier) -> dict:
    """Verifier, bare toolchain and an empty sandbox run (/bin/true), interleaved per task."""
    verified, bare, floor = [], [], []
    for task in tasks[:3] + tasks:  # the first three twice: the warm-up round is discarded below
        response = rlvr.solve(task)
        t0 = time.perf_counter()
        verdict = verifier.verify(task, response)
        verified.append((time.perf_counter() - t0) * 1e3)
        if not verdict.correct:
            raise RuntimeError(f"{task.id}: {verdict.reason}")
        bare.append(bare_run(task, response) * 1e3)
        t0 = time.perf_counter()
        verifier.sandbox.run(["true"])
        floor.append((time.perf_counter() - t0) * 1e3)
    verified, bare, floor = verified[3:], bare[3:], floor[3:]
    return {"verifier": summary(verified), "bare iverilog && vvp": summary(bare), "sandbox /bin/true": summary(floor),
            "overhead_p50_ms": round(percentile(verified, 50) - percentile(bare, 50), 2),
            "ratio_p50": round(percentile(verified, 50) / percentile(bare, 50), 2)}


def throughput(pairs: list, workers: int, seconds: float) -> dict:
    verifier = VerilogVerifier(cache_size=0)
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
    return {"workers": workers, "candidates": sum(counts), "seconds": round(elapsed, 2),
            "candidates_per_s": round(sum(counts) / elapsed, 2)}


def kill_curve(kill_tasks: int, verifier: VerilogVerifier) -> dict:
    jobs = [(family, d, seed) for family in FAMILIES for d in (0.0, 0.5, 1.0) for seed in range(kill_tasks)]

    def run(job):
        family, d, seed = job
        task = rlvr.make_task("rlvr/Verilog-v0", seed=seed, difficulty=d, families=family)
        results, _ = measure_mutants(task, verifier)
        per_step = 2 if task.answer["clock"] else 1
        return task, [(r.mutant.category, None if r.first_mismatch is None else r.first_mismatch // per_step) for r in results]

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
        "tasks": len(outcomes), "mutants": total, "killed": len(killed_steps), "seconds": round(elapsed, 1),
        "kill_rate_within_first_k_steps": curve,
        "kill_rate_by_category": {c: round(per_category_killed[c] / per_category[c], 4) for c in sorted(per_category)},
        "steps_needed_to_kill_all_killable": {"p50": percentile(needed, 50), "p90": percentile(needed, 90), "max": max(needed)},
        "stimulus_steps": {"p50": percentile(lengths, 50), "max": max(lengths)},
        "steps_needed_by_family_max": {f: max(v) for f, v in sorted(by_family.items())},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=40, help="tasks per latency row")
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput measurement")
    ap.add_argument("--kill-tasks", type=int, default=3, help="seeds per (family, difficulty) for the kill curve")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "verilog.json"))
    args = ap.parse_args()

    verifier = VerilogVerifier(cache_size=0)
    load_before = os.getloadavg()
    generated = [rlvr.make_task("rlvr/Verilog-v0", seed=s, difficulty=d) for s in range(args.tasks // 2) for d in (0.5, 1.0)]
    evals = [rlvr.make_task("rlvr/VerilogEval-v0", seed=s * 7) for s in range(args.tasks // 2)]
    latency = {"Verilog-v0 (d 0.5 and 1.0)": latency_rows(generated, verifier),
               "VerilogEval-v0": latency_rows(evals, verifier)}
    generator = VerilogGenerator()
    pairs = []
    for task in generated[:20]:
        pairs += [(task, rlvr.solve(task), True), (task, generator.wrong_response(task), False)]
    tput = {f"Verilog-v0, {w} worker(s)": throughput(pairs, w, args.seconds) for w in (1, 2)}
    kills = kill_curve(args.kill_tasks, verifier)
    verifier.close()

    print(f"\nVerilog verifier benchmark ({platform.node()}, {os.cpu_count()} CPUs, load {load_before[0]:.1f} at start, "
          f"iverilog: {subprocess.run(['iverilog', '-V'], capture_output=True, text=True).stdout.splitlines()[0]})\n")
    print(f"{'latency of one correct candidate':48s} {'p50 ms':>8s} {'p99 ms':>8s}")
    for env, rows in latency.items():
        for name in ("verifier", "bare iverilog && vvp", "sandbox /bin/true"):
            print(f"{env + ': ' + name:48s} {rows[name]['p50_ms']:8.1f} {rows[name]['p99_ms']:8.1f}")
        print(f"{env + ': ratio p50 (verifier / bare)':48s} {rows['ratio_p50']:8.2f}")
    print(f"\n{'throughput':48s} {'cand/s':>8s}")
    for name, row in tput.items():
        print(f"{name:48s} {row['candidates_per_s']:8.2f}")
    print(f"\nmutant kill rate vs stimulus steps ({kills['mutants']} mutants of {kills['tasks']} tasks):")
    print("  " + "  ".join(f"{k}:{v:.3f}" for k, v in kills["kill_rate_within_first_k_steps"].items()))
    print(f"  by category: {kills['kill_rate_by_category']}")
    print(f"  steps needed to kill every killable mutant: {kills['steps_needed_to_kill_all_killable']} "
          f"(stimulus length {kills['stimulus_steps']})")

    result = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"node": platform.node(), "cpus": os.cpu_count(), "kernel": platform.release(), "python": sys.version.split()[0],
                 "load_average_at_start": [round(x, 2) for x in load_before],
                 "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
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
