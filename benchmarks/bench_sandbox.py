"""Benchmark the per-run overhead and throughput of rlvr.verifiers.sandbox.

Measures, in one run:
  * latency p50/p99 of one run of ``python -I -S -c pass``
      - bare ``subprocess.run`` (no sandbox, the floor),
      - the bwrap backend,
      - the unsafe-none backend (rlimits + process group, no isolation),
    plus ``/bin/true`` under bwrap (sandbox cost without interpreter start-up) and a
    fork of this warm interpreter (the lower bound of a warm-worker/fork-server design);
  * throughput (runs/s) of the bwrap backend with 1 and 2 worker threads.

Prints a table and writes benchmarks/results/sandbox.json.

    python benchmarks/bench_sandbox.py [--runs 300] [--seconds 5]
"""

from __future__ import annotations

import argparse
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

from rlvr.verifiers.sandbox import Sandbox, available_backends  # noqa: E402

PASS = ["-I", "-S", "-c", "pass"]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    idx = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[idx]


def latency(fn, runs: int, warmup: int = 10) -> dict:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    ms = [s * 1e3 for s in samples]
    return {
        "runs": runs,
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def throughput(fn, workers: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    counts = [0] * workers

    def loop(i: int) -> None:
        while time.monotonic() < stop:
            fn()
            counts[i] += 1

    t0 = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(loop, range(workers)))
    elapsed = time.monotonic() - t0
    return {"workers": workers, "runs": sum(counts), "seconds": round(elapsed, 2), "runs_per_s": round(sum(counts) / elapsed, 1)}


def warm_fork() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=300, help="samples per latency row")
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput measurement")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "sandbox.json"))
    args = ap.parse_args()

    backends = available_backends()
    tmp_root = tempfile.mkdtemp(prefix="rlvr-bench-sandbox-")
    unsafe = Sandbox("unsafe-none", allow_unsafe_unsandboxed=True, tmp_root=tmp_root)
    rows: dict[str, dict] = {}
    rows["bare subprocess.run python -I -S -c pass"] = latency(
        lambda: subprocess.run([sys.executable, *PASS], check=True), args.runs
    )
    rows["warm interpreter fork+wait (lower bound)"] = latency(warm_fork, args.runs)
    rows["unsafe-none: python -I -S -c pass"] = latency(lambda: _ok(unsafe.run([unsafe.python, *PASS])), args.runs)
    tput: dict[str, dict] = {}
    if "bwrap" in backends:
        box = Sandbox("bwrap", tmp_root=tmp_root)
        rows["bwrap: python -I -S -c pass"] = latency(lambda: _ok(box.run([box.python, *PASS])), args.runs)
        rows["bwrap: /bin/true"] = latency(lambda: _ok(box.run(["true"])), args.runs)
        for workers in (1, 2):
            tput[f"bwrap python -I -S -c pass, {workers} worker(s)"] = throughput(
                lambda: _ok(box.run([box.python, *PASS])), workers, args.seconds
            )
    for workers in (1, 2):
        tput[f"bare python -I -S -c pass, {workers} worker(s)"] = throughput(
            lambda: subprocess.run([sys.executable, *PASS], check=True), workers, args.seconds
        )
    os.rmdir(tmp_root)

    bare = rows["bare subprocess.run python -I -S -c pass"]["p50_ms"]
    print(f"\nsandbox benchmark  ({platform.node()}, {os.cpu_count()} CPUs, euid {os.geteuid()}, backends {backends})\n")
    print(f"{'latency of one run':48s} {'p50 ms':>8s} {'p99 ms':>8s} {'overhead p50':>13s}")
    for name, r in rows.items():
        print(f"{name:48s} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['p50_ms'] - bare:+12.2f}")
    print(f"\n{'throughput':48s} {'runs/s':>8s}")
    for name, r in tput.items():
        print(f"{name:48s} {r['runs_per_s']:8.1f}")

    result = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"node": platform.node(), "cpus": os.cpu_count(), "kernel": platform.release(),
                 "python": sys.version.split()[0], "euid": os.geteuid()},
        "backends": backends,
        "latency": rows,
        "throughput": tput,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}")


def _ok(res) -> None:
    if not res.ok:
        raise RuntimeError(f"benchmark run failed: {res}")


if __name__ == "__main__":
    main()
