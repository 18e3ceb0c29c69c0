"""SWE benchmarks: task synthesis per source and verification cost, with the plain-pytest floor.

1. Synthesis    Tasks per minute, validation included, for each source:
                  synthetic d=0/0.5/1   in-process validation (the default)
                  synthetic + sandbox   the same tasks, each also run by pytest in the sandbox on
                                        the clean and the bug-injected tree (what validating every
                                        synthetic task in the sandbox would cost)
                  repo=                 the inflection 0.5.1 sdist (downloaded with pip, or
                                        ``--repo PATH``): baseline suite runs, then per task the
                                        mutants tried and the validation re-runs, all in the sandbox
                                        (first task with the baseline reported apart)
                  SWE-bench JSONL       tests/data/swe/synthetic_swebench.jsonl with local checkouts
2. Verification Seconds per verdict (p50, p90) of the reference patch and of the wrong response at
                d = 0, 0.5, 1, split into host work (parse, apply, checks, comparison) and the
                sandbox run (synthetic tasks: the host-judged call harness); next to it, on the
                same trees in the same run, the floor a harness without isolation pays:
                ``python -m pytest`` of the same node ids as a plain host subprocess (plugin
                autoload off), and the sandbox's fixed costs (``python -I -S -c pass`` and
                ``python -I -c "import pytest"``). Repo and SWE-bench verdicts (in-process pytest)
                are timed too.
   Before/after ``--before DIR`` (a pristine tree of an earlier commit, e.g. ``git archive HEAD``):
                the same verdict latencies measured on that tree (in a subprocess with
                ``PYTHONPATH=DIR``) and on this one, alternating twice, with the p50 ratio.
3. Agent steps  Latency of each SWEAgent-v0 tool (view, search, edit, bash, run_tests, submit).
4. Sandboxes    Seconds per reference verdict (synthetic, d = 0.5) with ``sandbox="bwrap"`` and with
                ``sandbox="docker"`` (a cold container per run), interleaved (``--sections sandboxes``).

    .venv/bin/python benchmarks/bench_swe.py [--n 20] [--repo PATH] [--before DIR]
                                             [--sections synthesis verification agent sandboxes]

Writes benchmarks/results/swe.json: the sections run replace the file's, the others are kept
(``measured`` gives each section's time). The machine is shared: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gymnasium as gym

import rlvr
from rlvr.generators.swe import SWEGenerator, write_swebench_fixture
from rlvr.verifiers import swe as swe_verifier

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "swe.json"
FIXTURE = ROOT / "tests" / "data" / "swe" / "synthetic_swebench.jsonl"


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "runs": len(samples),
        "p50_s": round(statistics.median(ordered), 4),
        "p90_s": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 4),
        "mean_s": round(statistics.fmean(ordered), 4),
    }


def per_minute(count: int, seconds: float) -> float:
    return round(60.0 * count / seconds, 1) if seconds > 0 else float("inf")


def fetch_inflection(target: Path) -> Path | None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-binary",
            ":all:",
            "--no-deps",
            "inflection==0.5.1",
            "-d",
            str(target),
            "-q",
        ],
        capture_output=True,
        timeout=300,
    )
    archives = list(target.glob("inflection-0.5.1.tar.gz"))
    if result.returncode != 0 or not archives:
        return None
    shutil.unpack_archive(str(archives[0]), str(target))
    return target / "inflection-0.5.1"


def bench_synthesis(n: int, repo: Path | None, repos_dir: Path) -> dict:
    out: dict = {}
    generator = SWEGenerator()
    verifier = swe_verifier.SWEVerifier()
    for difficulty in (0.0, 0.5, 1.0):
        generator.generate(10_000, difficulty)  # warm-up
        start = time.perf_counter()
        tasks = [generator.generate(seed, difficulty) for seed in range(n)]
        elapsed = time.perf_counter() - start
        out[f"synthetic d={difficulty}"] = {
            "tasks": n,
            "seconds": round(elapsed, 3),
            "tasks_per_minute": per_minute(n, elapsed),
        }
        start = time.perf_counter()
        for task in tasks[: max(3, n // 4)]:
            answer = task.answer
            ids = verifier.node_ids(answer)
            for files in (None, answer["files"]):
                root = Path(tempfile.mkdtemp())
                try:
                    if files is None:  # clean tree = bug-injected tree + reference fix
                        swe_verifier.write_tree(root, answer["files"])
                        swe_verifier.apply_patch_to_tree(
                            root, swe_verifier.render_patch(swe_verifier.parse_patch(answer["fix_patch"]))
                        )
                    else:
                        swe_verifier.write_tree(root, files)
                    swe_verifier.write_tree(root, answer["hidden_tests"])
                    swe_verifier.run_pytest_in_sandbox(verifier.sandbox(), root, ids)
                finally:
                    shutil.rmtree(root)
        sandboxed = time.perf_counter() - start
        count = max(3, n // 4)
        per_task = elapsed / n + sandboxed / count
        out[f"synthetic d={difficulty} + sandbox validation"] = {
            "tasks": count,
            "seconds_per_task": round(per_task, 3),
            "tasks_per_minute": round(60.0 / per_task, 1),
        }
    verifier.close()
    if repo is not None:
        start = time.perf_counter()
        repo_generator = SWEGenerator(repo=str(repo), validation_runs=2)
        repo_generator.repo.baseline()
        baseline_s = time.perf_counter() - start
        count = max(2, n // 10)
        start = time.perf_counter()
        for seed in range(count):
            repo_generator.generate(seed, 0.5)
        elapsed = time.perf_counter() - start
        out["repo= inflection-0.5.1"] = {
            "tasks": count,
            "baseline_s": round(baseline_s, 2),
            "seconds": round(elapsed, 2),
            "tasks_per_minute": per_minute(count, elapsed),
            "tests": len(repo_generator.repo.baseline()),
        }
    write_swebench_fixture([SWEGenerator().generate(seed, 0.5) for seed in (1, 2)], repos_dir)
    swebench = SWEGenerator(dataset=str(FIXTURE), repos_dir=str(repos_dir))
    start = time.perf_counter()
    for seed in range(n):
        swebench.generate(seed)
    elapsed = time.perf_counter() - start
    out["SWE-bench JSONL (local checkouts)"] = {
        "tasks": n,
        "seconds": round(elapsed, 3),
        "tasks_per_minute": per_minute(n, elapsed),
    }
    return out


def plain_pytest(root: Path, ids: list[str]) -> float:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *ids],
        cwd=root,
        env=env,
        capture_output=True,
        timeout=120,
    )
    return time.perf_counter() - start


def bench_verification(n: int, repo: Path | None, repos_dir: Path) -> dict:
    out: dict = {}
    generator = SWEGenerator()
    verifier = swe_verifier.SWEVerifier()
    sandbox = verifier.sandbox()
    fixed = {
        "python -I -S -c pass": [sandbox.python, "-I", "-S", "-c", "pass"],
        "python -I -c 'import pytest'": [sandbox.python, "-I", "-c", "import pytest"],
    }
    for name, argv in fixed.items():
        sandbox.run(argv)
        out[f"sandbox {name}"] = summary([timed(lambda: sandbox.run(argv)) for _ in range(20)])
    originals = {name: getattr(swe_verifier, name) for name in ("run_pytest_in_sandbox", "run_checks_in_sandbox")}
    sandbox_times: list[float] = []

    def timing(original):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                sandbox_times.append(time.perf_counter() - start)

        return run

    for name, original in originals.items():
        setattr(swe_verifier, name, timing(original))
    try:
        for difficulty in (0.0, 0.5, 1.0):
            totals, sandboxed, floors, wrong = [], [], [], []
            for seed in range(n):
                task = generator.generate(seed, difficulty)
                sandbox_times.clear()
                start = time.perf_counter()
                verdict = verifier.verify(task, generator.solve(task))
                totals.append(time.perf_counter() - start)
                sandboxed.append(sum(sandbox_times))
                assert verdict.correct, verdict
                start = time.perf_counter()
                assert not verifier.verify(task, generator.wrong_response(task)).correct
                wrong.append(time.perf_counter() - start)
                root = Path(tempfile.mkdtemp())
                try:
                    swe_verifier.write_tree(root, {**task.answer["files"], **task.answer["hidden_tests"]})
                    floors.append(plain_pytest(root, verifier.node_ids(task.answer)))
                finally:
                    shutil.rmtree(root)
            out[f"synthetic d={difficulty}"] = {
                "reference verdict": summary(totals),
                "of which sandbox run": summary(sandboxed),
                "host work (parse, apply, checks)": summary([t - s for t, s in zip(totals, sandboxed)]),
                "wrong verdict": summary(wrong),
                "plain host pytest, same tests (floor)": summary(floors),
                "ratio verdict / floor (p50)": round(statistics.median(totals) / statistics.median(floors), 2),
            }
    finally:
        for name, original in originals.items():
            setattr(swe_verifier, name, original)
    if repo is not None:
        repo_generator = SWEGenerator(repo=str(repo), validation_runs=1)
        task = repo_generator.generate(0, 0.5)
        out["repo= inflection-0.5.1"] = summary(
            [timed(lambda: verifier.verify(task, repo_generator.solve(task))) for _ in range(5)]
        )
        out["repo= inflection-0.5.1"]["tests"] = len(verifier.node_ids(task.answer))
    write_swebench_fixture([SWEGenerator().generate(seed, 0.5) for seed in (1, 2)], repos_dir)
    swebench = SWEGenerator(dataset=str(FIXTURE), repos_dir=str(repos_dir))
    local = swe_verifier.SWEVerifier(repos_dir=str(repos_dir))
    tasks = [swebench.generate(i) for i in range(2)]
    out["SWE-bench JSONL (local checkout)"] = summary(
        [timed(lambda t=t: local.verify(t, swebench.solve(t))) for t in tasks * 3]
    )
    verifier.close()
    return out


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def verdict_latency(n: int) -> dict:
    """Seconds per verdict (reference and wrong response) at d = 0, 0.5, 1 with whatever ``rlvr``
    is importable: this tree, or an earlier one through PYTHONPATH."""
    generator = SWEGenerator()
    verifier = swe_verifier.SWEVerifier()
    out: dict = {}
    for difficulty in (0.0, 0.5, 1.0):
        reference, wrong = [], []
        for seed in range(n):
            task = generator.generate(seed, difficulty)
            start = time.perf_counter()
            assert verifier.verify(task, generator.solve(task)).correct
            reference.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert not verifier.verify(task, generator.wrong_response(task)).correct
            wrong.append(time.perf_counter() - start)
        out[f"synthetic d={difficulty}"] = {"reference": reference, "wrong": wrong}
    verifier.close()
    return out


def bench_sandboxes(n: int) -> dict:
    """Seconds per verdict of the reference patch on synthetic tasks at d = 0.5 with each sandbox the
    verifier can run the call harness in (``sandbox="bwrap"``, ``"docker"``: a cold container per
    run), task by task interleaved so both see the same load; a sandbox that cannot run is noted."""
    generator = SWEGenerator()
    samples: dict[str, list[float]] = {"bwrap": [], "docker": []}
    verifiers = {name: swe_verifier.SWEVerifier(sandbox=name) for name in samples}
    notes = {}
    for seed in range(n):
        task = generator.generate(seed, 0.5)
        response = generator.solve(task)
        for name, verifier in verifiers.items():
            if name in notes:
                continue
            start = time.perf_counter()
            verdict = verifier.verify(task, response)
            if not verdict.correct:
                notes[name] = f"not measured: the reference scored {verdict.reward} ({verdict.reason})"
                continue
            samples[name].append(time.perf_counter() - start)
    for verifier in verifiers.values():
        verifier.close()
    return {name: notes.get(name) or summary(values) for name, values in samples.items()}


def bench_before_after(n: int, before: Path) -> dict:
    """The verdict latencies of ``before`` (a subprocess with PYTHONPATH) and of this tree,
    alternating before/after twice so both see the same machine load."""
    samples: dict[str, dict] = {"before": {}, "after": {}}

    def merge(side: str, measured: dict) -> None:
        for key, kinds in measured.items():
            for kind, values in kinds.items():
                samples[side].setdefault(key, {}).setdefault(kind, []).extend(values)

    for _ in range(2):
        env = {**os.environ, "PYTHONPATH": str(before.resolve())}
        result = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--latency-json", "--n", str(n)],
            env=env,
            cwd=tempfile.gettempdir(),
            capture_output=True,
            timeout=1200,
            check=True,
        )
        merge("before", json.loads(result.stdout.decode().strip().splitlines()[-1]))
        merge("after", verdict_latency(n))
    out: dict = {"before tree": str(before), "tasks per difficulty and round": n, "rounds": 2}
    for key in samples["after"]:
        row = {}
        for kind in ("reference", "wrong"):
            b, a = summary(samples["before"][key][kind]), summary(samples["after"][key][kind])
            row[f"{kind} verdict before (in-process pytest)"] = b
            row[f"{kind} verdict after (host-judged)"] = a
            row[f"{kind} ratio after/before (p50)"] = round(a["p50_s"] / b["p50_s"], 2)
        out[key] = row
    return out


def bench_agent(rounds: int) -> dict:
    times: dict[str, list[float]] = {}
    env = gym.make("rlvr/SWEAgent-v0", difficulty=0.5, max_steps=50)
    for seed in range(rounds):
        _, info = env.reset(seed=seed)
        task = info["task"]
        bug = task.answer["bugs"][0]
        actions = {
            "view": {"tool": "view", "path": bug["path"]},
            "search": {"tool": "search", "query": "def ", "path": task.answer["package"]},
            "edit": {"tool": "edit", "path": "README.md", "old": "Run the tests", "new": "Run the tests"},
            "bash": {"tool": "bash", "command": "ls -R | head -20"},
            "run_tests": {"tool": "run_tests"},
        }
        for name, action in actions.items():
            start = time.perf_counter()
            env.step(json.dumps(action))
            times.setdefault(name, []).append(time.perf_counter() - start)
        start = time.perf_counter()
        env.step(rlvr.solve(task))
        times.setdefault("submit (reference diff)", []).append(time.perf_counter() - start)
    env.close()
    return {name: summary(samples) for name, samples in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="tasks per difficulty")
    parser.add_argument("--repo", type=Path, default=None, help="a local repository (default: the inflection sdist)")
    parser.add_argument(
        "--before", type=Path, default=None, help="a pristine earlier tree to compare verdict latency with"
    )
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["synthesis", "verification", "agent"],
        choices=["synthesis", "verification", "agent", "sandboxes"],
    )
    parser.add_argument("--latency-json", action="store_true", help=argparse.SUPPRESS)  # the --before subprocess
    args = parser.parse_args()
    if args.latency_json:
        print(json.dumps(verdict_latency(args.n)))
        return
    scratch = Path(tempfile.mkdtemp(prefix="bench-swe-"))
    try:
        repo = (
            (args.repo or fetch_inflection(scratch / "sdist"))
            if {"synthesis", "verification"} & set(args.sections)
            else None
        )
        repos_dir = scratch / "repos"
        results = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "host": {
                "node": platform.node(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_average": os.getloadavg(),
            },
        }
        if args.before is not None:
            results["verification before/after"] = bench_before_after(args.n, args.before)
        if "synthesis" in args.sections:
            results["synthesis"] = bench_synthesis(args.n, repo, repos_dir)
        if "verification" in args.sections:
            results["verification"] = bench_verification(args.n, repo, repos_dir)
        if "agent" in args.sections:
            results["agent_steps"] = bench_agent(max(3, args.n // 4))
        if "sandboxes" in args.sections:
            results["sandboxes"] = bench_sandboxes(args.n)
        results["host"]["load_average_after"] = os.getloadavg()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results = merge_results(json.loads(RESULTS.read_text()) if RESULTS.exists() else {}, results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


SECTIONS = ("verification before/after", "synthesis", "verification", "agent_steps", "sandboxes")


def merge_results(previous: dict, results: dict) -> dict:
    """This run's sections over the previous file's; ``measured`` says when each was measured."""
    measured = dict(previous.get("measured") or {s: previous["timestamp"] for s in SECTIONS if s in previous})
    measured.update({section: results["timestamp"] for section in SECTIONS if section in results})
    merged = {key: value for key, value in previous.items() if key in SECTIONS}
    merged.update(results)
    merged["measured"] = measured
    return merged


if __name__ == "__main__":
    main()
