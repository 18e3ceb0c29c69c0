"""Benchmark the code verifier: per-verification cost of the sandbox, throughput, HumanEval end to end.

Measures, in one run:
  * latency p50/p99 of one verification of a reference solution, per workload
    (synthetic function style, synthetic stdio style — both d=0.5, 10 tests with a 10^4-element
    stress input — and HumanEval assert style, problem 0), for
      - ``CodeVerifier()`` on bwrap (the default: warm sessions, rlvr.verifiers.sandbox.warm),
      - ``CodeVerifier(warm=False)`` on bwrap: a cold sandbox per session ("bwrap cold"),
      - ``CodeVerifier(sandbox="unsafe-none")``: the same harness and protocol, no isolation,
      - the floor: the same tests run unsandboxed by one bare ``python -I -S`` subprocess
        that execs the code and checks every test in-process (tests handed over already
        parsed; no fork per test, no relay, no second process for the checks);
    the overhead column is the p50 difference to the floor;
  * throughput (verifications/s) of the bwrap verifier over the three workloads in turn, with
    1 and 2 worker threads;
  * the 164 HumanEval canonical solutions end to end: seconds for the whole set with 1 and 2
    worker threads (and that all pass), warm (the default) and cold (``warm=False``), with the
    CPU per problem and the cores kept busy by this process tree (``warm.tree_cpu_s``: this
    process, what it reaped, every zygote and what it reaped; not the machine's /proc/stat).

Prints a table and writes benchmarks/results/code.json.  The machine's load average is recorded
before and after, as other work on a shared host moves these numbers.

    python benchmarks/bench_code.py [--runs 100] [--seconds 10]

Before/after: ``--baseline DIR`` (a pristine tree, e.g. ``git archive HEAD | tar -x -C DIR``)
measures instead the p50 of one verification of the reference per style (function, stdio,
assert: the three workloads above) with the baseline's rlvr and with this tree's, each in its
own worker process, the two interleaved request by request so that the machine's load hits both
alike; and the 164 HumanEval canonical solutions end to end with the baseline's verifier and
this tree's (default: warm), with 1 and 2 worker threads, the two versions alternating suite
by suite (``--suite-rounds`` rounds; the best round is reported, as the one least disturbed
by other load).  The result goes to the ``before_after`` entry of code.json (the other
entries are kept).

    python benchmarks/bench_code.py --baseline /tmp/rlvr_before_code [--runs 40] [--suite-rounds 2] [--humaneval-only]

``--humaneval-only`` (with ``--baseline``) skips the per-style p50 rows and measures only the
HumanEval suites.

``--verify-batch`` measures instead the library's parallel path on the same 164 solutions:
``rlvr.scoring.Scorer`` with the process backend (what ``rlvr.verify_batch`` uses), each
configuration in a fresh process whose CPU affinity is set before it starts -- 1 worker on 1
CPU, 2 workers on 2 CPUs left to float (``place_workers=False``), 2 workers on 2 CPUs placed
(the default when the workers fill the CPUs: each keeps to a CPU of its own) -- alternating for
``--suite-rounds`` rounds, each the median of three scorings after a warm-up one; problems per
second, into the ``verify_batch`` entry of code.json.

    python benchmarks/bench_code.py --verify-batch [--suite-rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rlvr.generators.code import CodeGenerator
from rlvr.verifiers.code import CodeVerifier, extract_code, parse_literal
from rlvr.verifiers.sandbox.warm import tree_cpu_s

ROOT = Path(__file__).resolve().parents[1]
HUMANEVAL = ROOT.parent / "shared" / "data" / "humaneval" / "HumanEval.jsonl.gz"  # openai/human-eval, not committed

# The floor: run every test of one task inside one bare interpreter, unsandboxed.  The host
# hands it the tests already parsed (pickled), so it pays for nothing but the work itself.
BARE_RUNNER = r"""
import io, pickle, sys
job = pickle.loads(sys.stdin.buffer.read())
def run():
    namespace = {"__name__": "solution"}
    if job["style"] == "assert":
        exec(job["setup_code"], namespace)
        exec(job["code"], namespace)
        exec(job["check_code"], namespace)
        namespace["check"](namespace[job["entry_point"]])
        return True
    if job["style"] == "function":
        exec(job["setup_code"], namespace)
        exec(job["code"], namespace)
        function = namespace[job["entry_point"]]
        return all(function(*args) == expected for args, expected in job["tests"])
    compiled = compile(job["code"], "solution.py", "exec")
    for stdin, expected in job["tests"]:
        saved = sys.stdin, sys.stdout
        sys.stdin, sys.stdout = io.StringIO(stdin), io.StringIO()
        try:
            exec(compiled, {"__name__": "__main__"})
            got = sys.stdout.getvalue()
        finally:
            sys.stdin, sys.stdout = saved
        if got.split() != expected.split():
            return False
    return True
sys.stdout.write(repr(run()))
"""


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def summary(samples: list[float]) -> dict:
    ms = [s * 1e3 for s in samples]
    return {
        "runs": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def workloads() -> dict:
    synthetic = CodeGenerator()
    humaneval = CodeGenerator(dataset=HUMANEVAL)
    rows = {}
    for name, generator, task in (
        ("synthetic function d=0.5", synthetic, synthetic.generate(3, 0.5, style="function", input="ints")),
        ("synthetic stdio d=0.5", synthetic, synthetic.generate(3, 0.5, style="stdio", input="ints")),
        ("HumanEval/0 assert", humaneval, humaneval.generate(0)),
    ):
        rows[name] = (task, generator.solve(task))
    return rows


def bare_job(task, response) -> bytes:
    answer = task.answer
    job = {key: answer.get(key) or "" for key in ("style", "setup_code", "check_code", "entry_point")}
    job["code"] = extract_code(response)
    if answer["style"] == "function":
        job["tests"] = [(parse_literal(t["args"]), parse_literal(t["expected"])) for t in answer["tests"]]
    elif answer["style"] == "stdio":
        job["tests"] = [(t["input"], t["output"]) for t in answer["tests"]]
    return pickle.dumps(job)


def bare_run(job: bytes) -> None:
    done = subprocess.run([sys.executable, "-I", "-S", "-c", BARE_RUNNER], input=job, capture_output=True)
    if done.stdout != b"True":
        raise RuntimeError(f"the bare runner failed: {done.stderr[-500:]!r}")


def timed_verify(verifier: CodeVerifier, task, response) -> None:
    verdict = verifier.verify(task, response)
    if not verdict.correct:
        raise RuntimeError(f"reference failed: {verdict.reason}")


def latency(runs: int, sandboxed: CodeVerifier, unsafe: CodeVerifier, cold: CodeVerifier | None = None) -> dict:
    rows = {}
    for name, (task, response) in workloads().items():
        measured: dict[str, list[float]] = {"bwrap": [], "unsafe-none": [], "bare": []}
        calls = {
            "bwrap": lambda: timed_verify(sandboxed, task, response),
            "unsafe-none": lambda: timed_verify(unsafe, task, response),
            "bare": lambda job=bare_job(task, response): bare_run(job),
        }
        if cold is not None:
            measured["bwrap cold"] = []
            calls["bwrap cold"] = lambda: timed_verify(cold, task, response)
        for call in calls.values():  # warm-up
            call()
        for _ in range(runs):  # interleaved, so drift in the machine's load hits all three alike
            for key, call in calls.items():
                started = time.perf_counter()
                call()
                measured[key].append(time.perf_counter() - started)
        floor = statistics.median(measured["bare"]) * 1e3
        rows[name] = {key: summary(samples) for key, samples in measured.items()}
        for key in [key for key in rows[name] if key != "bare"]:
            rows[name][key]["overhead_p50_ms"] = round(rows[name][key]["p50_ms"] - floor, 2)
    return rows


def throughput(verifier: CodeVerifier, workers: int, seconds: float) -> dict:
    jobs = list(workloads().values())
    stop = time.monotonic() + seconds
    counts = [0] * workers

    def loop(index: int) -> None:
        position = index
        while time.monotonic() < stop:
            task, response = jobs[position % len(jobs)]
            timed_verify(verifier, task, response)
            counts[index] += 1
            position += 1

    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(loop, range(workers)))
    elapsed = time.monotonic() - started
    return {
        "workers": workers,
        "verifications": sum(counts),
        "seconds": round(elapsed, 2),
        "verifications_per_s": round(sum(counts) / elapsed, 1),
    }


def humaneval_suite(verifier: CodeVerifier, workers: int) -> dict:
    generator = CodeGenerator(dataset=HUMANEVAL)
    jobs = [(task, generator.solve(task)) for task in (generator.generate(row) for row in range(164))]
    cpu_before = tree_cpu_s()
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        verdicts = list(pool.map(lambda job: verifier.verify(*job), jobs))
    elapsed = time.monotonic() - started
    cpu = tree_cpu_s() - cpu_before
    return {
        "workers": workers,
        "problems": len(jobs),
        "passed": sum(v.correct for v in verdicts),
        "seconds": round(elapsed, 2),
        "per_problem_ms": round(elapsed / len(jobs) * 1e3, 1),
        "cpu_ms_per_problem": round(cpu / len(jobs) * 1e3, 2),
        "busy_cores": round(cpu / elapsed, 2),
    }


# One verifier in its own process, on the rlvr that PYTHONPATH names: answers each line naming a
# style with the seconds one verification of that style's reference took, and a line
# "humaneval WORKERS" with the seconds the 164 canonical solutions took with that many threads.
COMPARISON_WORKER = r"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
import rlvr
from rlvr.generators.code import CodeGenerator
from rlvr.verifiers.code import CodeVerifier
synthetic = CodeGenerator()
humaneval = CodeGenerator(dataset=sys.argv[1])
tasks = {"function": synthetic.generate(3, 0.5, style="function", input="ints"),
         "stdio": synthetic.generate(3, 0.5, style="stdio", input="ints"), "assert": humaneval.generate(0)}
jobs = {name: (task, (humaneval if name == "assert" else synthetic).solve(task)) for name, task in tasks.items()}
suite = [(task, humaneval.solve(task)) for task in (humaneval.generate(row) for row in range(164))]
verifier = CodeVerifier()
print(json.dumps({"rlvr": rlvr.__file__}), flush=True)
for line in sys.stdin:
    command = line.split()
    started = time.perf_counter()
    if command[0] == "humaneval":
        with ThreadPoolExecutor(int(command[1])) as pool:
            verdicts = list(pool.map(lambda job: verifier.verify(*job), suite))
        passed = sum(verdict.correct for verdict in verdicts)
        print(json.dumps({"seconds": time.perf_counter() - started, "passed": passed}), flush=True)
        continue
    verdict = verifier.verify(*jobs[command[0]])
    print(json.dumps({"seconds": time.perf_counter() - started, "correct": verdict.correct}), flush=True)
"""


class ComparisonWorker:
    def __init__(self, tree: Path):
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", COMPARISON_WORKER, str(HUMANEVAL)],
            env=env,
            cwd="/",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.rlvr = json.loads(self.process.stdout.readline())["rlvr"]
        if not self.rlvr.startswith(str(tree)):
            raise RuntimeError(f"the worker for {tree} imported {self.rlvr}")

    def verify(self, style: str) -> float:
        answer = self._ask(style)
        if not answer["correct"]:
            raise RuntimeError(f"the reference failed ({style}, {self.rlvr})")
        return answer["seconds"]

    def humaneval(self, workers: int) -> dict:
        """The 164 canonical solutions with ``workers`` threads: {"seconds", "passed"}."""
        return self._ask(f"humaneval {workers}")

    def _ask(self, line: str) -> dict:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def before_after(baseline: Path, runs: int, suite_rounds: int, humaneval_only: bool = False) -> dict:
    workers = {"before": ComparisonWorker(baseline), "after": ComparisonWorker(ROOT)}
    styles = () if humaneval_only else ("function", "stdio", "assert")
    samples = {style: {version: [] for version in workers} for style in styles}
    suites = {threads: {version: [] for version in workers} for threads in (1, 2)}
    try:
        for round_number in range(runs + 2 if styles else 0):  # two warm-up rounds
            for style in styles:
                order = list(workers) if round_number % 2 else list(reversed(workers))
                for version in order:
                    seconds = workers[version].verify(style)
                    if round_number >= 2:
                        samples[style][version].append(seconds)
        for round_number in range(suite_rounds):
            for threads in (1, 2):
                order = list(workers) if round_number % 2 else list(reversed(workers))
                for version in order:
                    suites[threads][version].append(workers[version].humaneval(threads))
    finally:
        for worker in workers.values():
            worker.close()
    rows = {}
    for style, by_version in samples.items():
        rows[style] = {version: summary(values) for version, values in by_version.items()}
        rows[style]["ratio_p50"] = round(rows[style]["after"]["p50_ms"] / rows[style]["before"]["p50_ms"], 3)
    humaneval = {}
    for threads, by_version in suites.items():
        row = {}
        for version, rounds in by_version.items():
            best = min(rounds, key=lambda one: one["seconds"])
            row[version] = {
                "seconds": round(best["seconds"], 2),
                "passed": best["passed"],
                "rounds_s": [round(one["seconds"], 2) for one in rounds],
            }
        row["speedup"] = round(row["before"]["seconds"] / row["after"]["seconds"], 2)
        humaneval[f"{threads} worker(s)"] = row
    return {"baseline": str(baseline), "runs": runs, "styles": rows, "humaneval": humaneval}


#: (name, workers, CPUs, place_workers) of ``--verify-batch``
VERIFY_BATCH_CONFIGS = (
    ("1 worker, 1 CPU", 1, 1, None),
    ("2 workers, 2 CPUs, floating", 2, 2, False),
    ("2 workers, 2 CPUs, placed", 2, 2, None),
)


def verify_batch_child(spec: dict) -> None:
    """In a fresh process (affinity set by the parent): the 164 canonical solutions scored by a
    process-backend Scorer, once to warm up, then three times; prints the median problems/s."""
    from rlvr.scoring import Scorer

    generator = CodeGenerator(dataset=HUMANEVAL)
    jobs = [(task, generator.solve(task)) for task in (generator.generate(row) for row in range(164))]
    with Scorer(spec["workers"], "process", place_workers=spec["place"]) as scorer:
        placed = scorer._places_workers()
        scorer.score(jobs)
        rates, passed = [], 0
        for _ in range(3):
            started = time.monotonic()
            verdicts = scorer.score(jobs)
            rates.append(len(jobs) / (time.monotonic() - started))
            passed = sum(v.correct for v in verdicts)
    print(json.dumps({"per_s": round(statistics.median(rates), 1), "passed": passed, "placed": placed}))


def verify_batch(rounds: int) -> dict:
    """``VERIFY_BATCH_CONFIGS`` alternating for ``rounds`` rounds; per configuration problems/s
    each round, and the per-core ratios against 1 worker on 1 CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--verify-batch needs at least 2 CPUs")
    load = os.getloadavg()
    rows: dict[str, list[dict]] = {name: [] for name, *_ in VERIFY_BATCH_CONFIGS}
    for _ in range(rounds):
        for name, workers, count, place in VERIFY_BATCH_CONFIGS:
            chosen = set(cpus[:count])
            done = subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--verify-batch-child",
                    json.dumps({"workers": workers, "place": place}),
                ],
                preexec_fn=lambda chosen=chosen: os.sched_setaffinity(0, chosen),
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"verify-batch child failed ({name}): {done.stderr[-2000:]}")
            rows[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    one = [row["per_s"] for row in rows["1 worker, 1 CPU"]]
    return {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average_at_start": [round(value, 2) for value in load],
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "configs": rows,
        "per_core": {
            name: [round(row["per_s"] / base, 2) for row, base in zip(rows[name], one)]
            for name in rows
            if name != "1 worker, 1 CPU"
        },
    }


def save_entry(out: Path, key: str, value: dict) -> None:
    """Write ``value`` under ``key`` of the results file ``out``, keeping its other entries."""
    saved = json.loads(out.read_text()) if out.exists() else {}
    saved[key] = value
    out.write_text(json.dumps(saved, indent=2) + "\n")
    print(f"\nwrote {out} ({key})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100, help="samples per latency row")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput measurement")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "code.json"))
    parser.add_argument("--baseline", type=Path, help="a pristine tree: compare its verifier's p50 with this tree's")
    parser.add_argument("--suite-rounds", type=int, default=2, help="HumanEval suites per version with --baseline")
    parser.add_argument(
        "--humaneval-only", action="store_true", help="with --baseline: only the HumanEval suites, no per-style p50"
    )
    parser.add_argument("--verify-batch", action="store_true", help="the process-backend Scorer on HumanEval")
    parser.add_argument("--verify-batch-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not HUMANEVAL.is_file():
        sys.exit(f"bench_code needs HumanEval at {HUMANEVAL} (HumanEval.jsonl.gz from github.com/openai/human-eval)")
    if args.verify_batch_child:
        verify_batch_child(json.loads(args.verify_batch_child))
        return
    if args.verify_batch:
        result = verify_batch(args.suite_rounds)
        load = f"load {result['load_average_at_start']} -> {result['load_average_at_end']}"
        print(f"\nverify_batch on HumanEval's 164  ({load})")
        for name, runs in result["configs"].items():
            print(f"{name:32s} problems/s {[row['per_s'] for row in runs]}  placed {runs[0]['placed']}")
        for name, ratios in result["per_core"].items():
            print(f"{name:32s} per core {ratios}")
        save_entry(Path(args.out), "verify_batch", result)
        return

    if args.baseline is not None:
        load_before = os.getloadavg()
        comparison = before_after(args.baseline.resolve(), args.runs, args.suite_rounds, args.humaneval_only)
        comparison["load_average_before"] = [round(x, 2) for x in load_before]
        comparison["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        comparison["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        print(
            f"\n{'p50 of one verification (reference)':40s} {'before ms':>10s} {'after ms':>10s} {'after/before':>13s}"
        )
        for style, row in comparison["styles"].items():
            print(
                f"{style:40s} {row['before']['p50_ms']:10.2f} {row['after']['p50_ms']:10.2f} {row['ratio_p50']:13.3f}"
            )
        print(f"\n{'HumanEval 164 canonical, best round':40s} {'before s':>10s} {'after s':>10s} {'speedup':>13s}")
        for name, row in comparison["humaneval"].items():
            print(
                f"{name:40s} {row['before']['seconds']:10.2f} {row['after']['seconds']:10.2f} "
                f"{row['speedup']:12.2f}x  (passed {row['before']['passed']}/{row['after']['passed']})"
            )
        save_entry(Path(args.out), "before_after", comparison)
        return

    load_before = os.getloadavg()
    sandboxed = CodeVerifier()
    unsafe = CodeVerifier(sandbox="unsafe-none", allow_unsafe_unsandboxed=True)
    cold = CodeVerifier(warm=False)
    rows = latency(args.runs, sandboxed, unsafe, cold)
    rates = {f"{workers} worker(s)": throughput(sandboxed, workers, args.seconds) for workers in (1, 2)}
    rates.update({f"{workers} worker(s), cold": throughput(cold, workers, args.seconds) for workers in (1, 2)})
    suite = {f"{workers} worker(s)": humaneval_suite(sandboxed, workers) for workers in (1, 2)}
    suite.update({f"{workers} worker(s), cold": humaneval_suite(cold, workers) for workers in (1, 2)})
    load_after = os.getloadavg()

    print(
        f"\ncode verifier benchmark  ({platform.node()}, {os.cpu_count()} CPUs, load {load_before[0]:.2f} → "
        f"{load_after[0]:.2f})\n"
    )
    print(
        f"{'one verification (reference solution)':40s} {'runner':12s} {'p50 ms':>8s} {'p99 ms':>8s} "
        f"{'overhead p50':>13s}"
    )
    for name, by_runner in rows.items():
        for runner, r in by_runner.items():
            extra = f"{r['overhead_p50_ms']:+12.2f}" if "overhead_p50_ms" in r else ""
            print(f"{name:40s} {runner:12s} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {extra:>13s}")
    print(f"\n{'throughput, bwrap, the three workloads in turn':48s} {'verifications/s':>16s}")
    for name, r in rates.items():
        print(f"{name:48s} {r['verifications_per_s']:16.1f}")
    print(
        f"\n{'HumanEval canonical solutions, end to end':48s} {'seconds':>8s} {'passed':>7s} "
        f"{'CPU ms/problem':>15s} {'busy cores':>11s}"
    )
    for name, r in suite.items():
        print(
            f"{name:48s} {r['seconds']:8.2f} {r['passed']:>4d}/164 {r['cpu_ms_per_problem']:15.2f} "
            f"{r['busy_cores']:11.2f}"
        )

    result = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {
            "node": platform.node(),
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": sys.version.split()[0],
            "euid": os.geteuid(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        "latency": rows,
        "throughput": rates,
        "humaneval": suite,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
