r"""Math benchmarks: rlvr's MathVerifier against math-verify called directly, and rlvr/Math-v0
task generation side by side with reasoning-gym's basic_arithmetic.

1. Verification  Two sets of (gold, response) pairs, each judged by
                   ours    rlvr.verifiers.math.MathVerifier().verify(task, response)
                           (native grammar in-process; math-verify in the worker process)
                   theirs  math_verify.verify(math_verify.parse(gold), math_verify.parse(pred))
                 one pair at a time, single-threaded, after a warm-up (the worker process started
                 once, as in training, and left idle 3 s to warm its LaTeX parser; 30 pairs), the
                 two sides interleaved
                 pair by pair (alternating which goes first), so load from other processes falls
                 on both alike; ``--verify-rounds`` > 1 repeats that and takes each pair's median.
                 Throughput = pairs / sum of latencies.
                 math500   every MATH-500 gold answer (../shared/data/math/math500.jsonl)
                           rendered several ways — itself, \frac ↔ \dfrac, spaces removed, ", "
                           after commas, \left( \right) around brackets, a/b for fractions, an
                           exact decimal for terminating fractions, a 6-place decimal otherwise
                           (and a too-coarse 2-place one, which should fail), thousands
                           separators for integers ≥ 1000 — plus one wrong answer per row (first
                           digit bumped); each response a sentence ending in ``$\boxed{…}$``;
                           theirs parses ``\boxed{gold}``. Reported: disagreements with theirs.
                 peer      ../shared/data/math/peer_grader_cases.jsonl (497 verdicts from 13
                           other graders' test suites), put to rlvr as
                           rlvr.verifiers.math_peer_cases describes; theirs gets the raw gold and
                           pred, as math-verify's own tests call it. Reported: agreement with the
                           expected verdict (all, unflagged), false accepts on unflagged cases.
                 Both: verdicts per second, p50 / p99 / max latency, the share decided without
                 the worker (native grammar, screening, extraction). ``--before PATH`` also
                 times a pristine rlvr tree (``git archive HEAD | tar -x -C PATH``) on the same
                 pairs in a child process right after, and reports before/after side by side.
2. Generation    Tasks per second (median of ``--repeats`` rounds over ``--n`` seeds, after a
                 warm-up, the sides timed in turn within each round so they share the machine's
                 load). Each side builds the task object its user gets, question and answer
                 included: ours rlvr.make_task("rlvr/Math-v0", seed=i, difficulty=d[, kinds=k])
                 for d = 0, 0.5, 1 — a frozen Task with prompt, gold answer and form, worked
                 steps, params and a stable id (its id, RNG and parameters made from the seed
                 each time; what depends only on the setting is worked out once per process) —
                 for the level's mix of kinds and for each arithmetic-style kind alone
                 (fraction_arithmetic, the closest to basic_arithmetic; number_theory;
                 counting); theirs reasoning_gym.create_dataset("basic_arithmetic", …)[i] (a
                 dict with question, answer and metadata, its own random.Random seeded per
                 index) with easy / default / hard term and digit ranges (the dataset object is
                 built outside the timed loop). The two make different problems: the ratio says
                 what the richer tasks cost, not who is faster at the same job.

Run both in the peers venv (reasoning-gym is never installed in the project's own venv):
    python3 -m venv benchmarks/.venv-peers
    benchmarks/.venv-peers/bin/pip install reasoning-gym -e .
    benchmarks/.venv-peers/bin/python benchmarks/bench_math.py
Writes benchmarks/results/math.json (``--part verify`` or ``--part generate`` runs one half and
keeps the other half's last result; ``--difficulties`` times some generation levels and keeps the
others' last result, with the ``timed_at`` of the run that timed them).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import math_verify

import rlvr
from rlvr.core import Task
from rlvr.generators.math import near_miss_text
from rlvr.verifiers.math import MathVerifier, parse_plain_number
from rlvr.verifiers.math_peer_cases import load_peer_cases, peer_gold, peer_response

HERE = Path(__file__).resolve().parent
SHARED_MATH = HERE.parent.parent / "shared" / "data" / "math"
MATH500 = SHARED_MATH / "math500.jsonl"
PEER_CASES = SHARED_MATH / "peer_grader_cases.jsonl"
RESULTS = HERE / "results" / "math.json"
WORKERLESS_PATHS = ("native", "fast", "screen", "extraction")
WORKER_SETTLE_S = 3.0
WORKER_WARM_UP = ("3", r"$\boxed{\lfloor 3.5 \rfloor}$")  # outside the native grammar: starts the worker


# --------------------------------------------------------------------------------------------
# 1. Verification
# --------------------------------------------------------------------------------------------


def decimal_text(value: Fraction) -> str | None:
    """The exact decimal of a terminating fraction, else None."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return None
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
    return f"{float(value):.{places}f}" if places else str(value.numerator)


def renderings(gold: str) -> list[tuple[str, str]]:
    """(kind, answer) pairs: equivalent renderings of ``gold`` and one wrong answer."""
    found = {"gold": gold}
    if r"\frac" in gold or r"\dfrac" in gold:
        found["dfrac swap"] = gold.replace(r"\dfrac", "\0").replace(r"\frac", r"\dfrac").replace("\0", r"\frac")
    if " " in gold:
        found["no spaces"] = gold.replace(" ", "")
    if "," in gold:
        found["comma spacing"] = re.sub(r",\s*", ", ", gold)
    if re.search(r"(?<!\\left)\(", gold) and r"\left" not in gold:
        found["left/right"] = gold.replace("(", r"\left(").replace(")", r"\right)")
    number = parse_plain_number(gold)
    if number is not None:
        value = number.value
        if value.denominator != 1:
            found["a/b"] = f"{value.numerator}/{value.denominator}"
            exact = decimal_text(value)
            found["decimal"] = exact if exact is not None else f"{float(value):.6f}"
            if exact is None:  # too coarse: math-verify compares at 6 places, so both should say no
                found["2-place decimal"] = f"{float(value):.2f}"
        elif abs(value) >= 1000:
            found["thousands"] = f"{value.numerator:,}"
    found["wrong"] = near_miss_text(gold)
    seen, pairs = set(), []
    for kind, answer in found.items():
        if kind == "wrong" or answer not in seen:
            seen.add(answer)
            pairs.append((kind, answer))
    return pairs


def response_for(answer: str) -> str:
    return f"Putting the pieces together, the final answer is $\\boxed{{{answer}}}$."


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


@dataclass
class PairSet:
    """Pairs to judge: ours as (gold, response), theirs as (gold text, pred text) for math-verify."""

    name: str
    ours: list  # (gold, response)
    theirs: list  # (gold, pred)
    labels: list  # a short kind per pair (rendering kind, or the peer case id)
    expected: list  # the expected verdict, or None (math500: none; agreement is with theirs)
    flagged: list  # peer: the case carries a convention flag


def math500_pairs() -> PairSet:
    rows = [json.loads(line) for line in MATH500.read_text().splitlines() if line.strip()]
    pairs = [(row["answer"], kind, answer) for row in rows for kind, answer in renderings(row["answer"])]
    return PairSet(
        "math500",
        [(gold, response_for(answer)) for gold, _, answer in pairs],
        [(f"\\boxed{{{gold}}}", response_for(answer)) for gold, _, answer in pairs],
        [kind for _, kind, _ in pairs],
        [None] * len(pairs),
        [False] * len(pairs),
    )


def peer_pairs() -> PairSet:
    cases = load_peer_cases(PEER_CASES)
    return PairSet(
        "peer",
        [(peer_gold(c), peer_response(c)) for c in cases],
        [(c.gold, c.pred) for c in cases],
        [c.id for c in cases],
        [c.expected for c in cases],
        [c.flag is not None for c in cases],
    )


def judge_ours(verifier, pair) -> tuple[bool, str]:
    gold, response = pair
    task = Task("bench/math", "rlvr/Math-v0", "math", "", {"gold": gold, "form": "any"}, 0.5, 0)
    verdict = verifier.verify(task, response)
    return verdict.correct, str(verdict.details.get("path"))


def judge_theirs(pair) -> bool:
    gold, pred = pair
    try:
        return bool(math_verify.verify(math_verify.parse(gold), math_verify.parse(pred)))
    except Exception:  # math-verify raises on a few inputs; that is a "no"
        return False


def time_pairs(pair_set: PairSet, rounds: int, with_theirs: bool) -> dict:
    """Each pair's median latency and last verdict for ours (and theirs), interleaved."""
    verifier = MathVerifier()
    n = len(pair_set.ours)
    judge_ours(verifier, WORKER_WARM_UP)  # warm-up: the worker process starts once per verifier, not per pair
    time.sleep(WORKER_SETTLE_S)  # and warms its LaTeX parser while idle, as between training batches
    for index in range(min(30, n)):  # warm-up: parser caches
        judge_ours(verifier, pair_set.ours[index])
        if with_theirs:
            judge_theirs(pair_set.theirs[index])
    latency = {"ours": [[] for _ in range(n)], "theirs": [[] for _ in range(n)]}
    verdicts = {"ours": [None] * n, "theirs": [None] * n}
    for round_index in range(rounds):
        for index in range(n):
            sides = [("ours", lambda: judge_ours(verifier, pair_set.ours[index]))]
            if with_theirs:
                sides.append(("theirs", lambda: judge_theirs(pair_set.theirs[index])))
            if (index + round_index) % 2:
                sides.reverse()
            for name, run in sides:
                t0 = time.perf_counter()
                verdicts[name][index] = run()
                latency[name][index].append(time.perf_counter() - t0)
    verifier.close()
    return {
        name: {"latency": [statistics.median(r) for r in latency[name]], "verdicts": verdicts[name]}
        for name in (("ours", "theirs") if with_theirs else ("ours",))
    }


def describe(pair_set: PairSet, latency: list, correct: list, paths: list | None) -> dict:
    out = summary(sum(latency), latency)
    if paths is not None:
        out["decided_without_worker"] = sum(p in WORKERLESS_PATHS for p in paths)
        out["native_path"] = sum(p == "native" for p in paths)
    out["cases_over_1s"] = sum(l > 1.0 for l in latency)
    if pair_set.expected[0] is not None:
        rows = list(zip(correct, pair_set.expected, pair_set.flagged))
        unflagged = [(c, e) for c, e, f in rows if not f]
        out["agreement_all"] = round(sum(c == e for c, e, _ in rows) / len(rows), 4)
        out["agreement_unflagged"] = round(sum(c == e for c, e in unflagged) / len(unflagged), 4)
        out["false_accepts_unflagged"] = sum(c and not e for c, e in unflagged)
    return out


def bench_verify(rounds: int, before: Path | None) -> dict:
    result = {"rounds": rounds}
    for pair_set in (math500_pairs(), peer_pairs()):
        timed = time_pairs(pair_set, rounds, with_theirs=True)
        ours_correct = [v[0] for v in timed["ours"]["verdicts"]]
        ours_paths = [v[1] for v in timed["ours"]["verdicts"]]
        theirs_correct = timed["theirs"]["verdicts"]
        entry = {
            "pairs": len(pair_set.ours),
            "ours": describe(pair_set, timed["ours"]["latency"], ours_correct, ours_paths),
            "math_verify_direct": describe(pair_set, timed["theirs"]["latency"], theirs_correct, None),
        }
        entry["throughput_ratio_ours_over_direct"] = round(
            entry["ours"]["verdicts_per_second"] / entry["math_verify_direct"]["verdicts_per_second"], 2
        )
        if before is not None:
            old = time_before(before, pair_set, rounds)
            entry["ours_before"] = describe(pair_set, old["latency"], old["correct"], old["paths"])
            entry["throughput_ratio_after_over_before"] = round(
                entry["ours"]["verdicts_per_second"] / entry["ours_before"]["verdicts_per_second"], 2
            )
        disagreements = [
            {
                "case": label,
                "gold": gold[:80],
                "response": response[-80:],
                "ours": o,
                "theirs": t,
                "expected": e,
                "our_path": p,
            }
            for label, (gold, response), o, t, e, p in zip(
                pair_set.labels, pair_set.ours, ours_correct, theirs_correct, pair_set.expected, ours_paths
            )
            if (o != e if e is not None else o != t)
        ]
        entry["ours_differs_from_" + ("expected" if pair_set.expected[0] is not None else "math_verify")] = len(
            disagreements
        )
        entry["examples"] = disagreements[:40]
        result[pair_set.name] = entry
    return result


def time_before(root: Path, pair_set: PairSet, rounds: int) -> dict:
    """Our verifier from a pristine tree at ``root``, in a child process, on the same pairs."""
    payload = json.dumps({"pairs": pair_set.ours, "rounds": rounds})
    code = (
        "import json, sys, time, statistics; sys.path.insert(0, sys.argv[1])\n"
        "from rlvr.core import Task\nfrom rlvr.verifiers.math import MathVerifier\n"
        "data = json.loads(sys.stdin.read()); v = MathVerifier(); out = []\n"
        "def one(pair):\n"
        "    task = Task('bench/math', 'rlvr/Math-v0', 'math', '', {'gold': pair[0], 'form': 'any'}, 0.5, 0)\n"
        "    t0 = time.perf_counter(); verdict = v.verify(task, pair[1]); return time.perf_counter() - t0, verdict\n"
        "one(['3', '$\\\\boxed{2 + \\\\sin^2 x + \\\\cos^2 x}$'])\n"
        "for pair in data['pairs'][:30]: one(pair)\n"
        "for pair in data['pairs']:\n"
        "    runs = [one(pair) for _ in range(data['rounds'])]\n"
        "    out.append([statistics.median(r[0] for r in runs), runs[-1][1].correct, "
        "str(runs[-1][1].details.get('path'))])\nv.close(); print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)], input=payload, capture_output=True, text=True, check=True
    )
    rows = json.loads(done.stdout)
    return {"latency": [r[0] for r in rows], "correct": [r[1] for r in rows], "paths": [r[2] for r in rows]}


def summary(total: float, latency: list[float]) -> dict:
    return {
        "verdicts_per_second": round(len(latency) / total, 1),
        "p50_ms": round(1000 * percentile(latency, 0.5), 3),
        "p99_ms": round(1000 * percentile(latency, 0.99), 3),
        "max_ms": round(1000 * max(latency), 3),
        "total_s": round(total, 3),
    }


# --------------------------------------------------------------------------------------------
# 2. Generation
# --------------------------------------------------------------------------------------------

ARITHMETIC_KINDS = ("fraction_arithmetic", "number_theory", "counting")
PEER_LEVELS = {
    0.0: {"min_terms": 2, "max_terms": 3, "min_digits": 1, "max_digits": 2},
    0.5: {"min_terms": 2, "max_terms": 6, "min_digits": 1, "max_digits": 4},
    1.0: {"min_terms": 5, "max_terms": 8, "min_digits": 3, "max_digits": 6},
}


def interleaved_medians(makers: list, n: int, repeats: int, warm_up: int = 20) -> list[float]:
    """Median tasks per second of each ``make_one(i)`` in ``makers`` over ``repeats`` rounds of
    ``n`` indices, after a warm-up; each round times every maker once, in turn, so all of them
    see the same load on a shared machine."""
    for make_one in makers:
        for i in range(warm_up):
            make_one(n * repeats + i)
    rates: list[list[float]] = [[] for _ in makers]
    for r in range(repeats):
        for make_one, runs in zip(makers, rates):
            start = time.perf_counter()
            for i in range(n):
                make_one(r * n + i)
            runs.append(n / (time.perf_counter() - start))
    return [statistics.median(runs) for runs in rates]


def bench_generate(n: int, repeats: int, difficulties: list[float]) -> dict:
    import reasoning_gym

    load_before = os.getloadavg()[0]
    levels = []
    for difficulty in difficulties:
        peer_config = PEER_LEVELS[difficulty]
        dataset = reasoning_gym.create_dataset("basic_arithmetic", size=n * repeats + 100, seed=0, **peer_config)
        rates = interleaved_medians(
            [
                lambda seed: rlvr.make_task("rlvr/Math-v0", seed=seed, difficulty=difficulty),
                *(
                    lambda seed, kind=kind: rlvr.make_task("rlvr/Math-v0", seed=seed, difficulty=difficulty, kinds=kind)
                    for kind in ARITHMETIC_KINDS
                ),
                lambda index: dataset[index],
            ],
            n,
            repeats,
        )
        ours = dict(zip(("all kinds", *ARITHMETIC_KINDS), rates[:-1]))
        peer = rates[-1]
        levels.append(
            {
                "difficulty": difficulty,
                "rlvr_per_s": {name: round(rate, 1) for name, rate in ours.items()},
                "basic_arithmetic_config": peer_config,
                "basic_arithmetic_per_s": round(peer, 1),
                "ratio_rlvr_over_peer": {name: round(rate / peer, 3) for name, rate in ours.items()},
            }
        )
    return {
        "timed_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "n": n,
        "repeats": repeats,
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "levels": levels,
        "note": "Different problems: rlvr/Math-v0 makes competition-style tasks with exact answers (10 kinds, "
        "computed in Python integers and fractions, LaTeX as sympy prints it; each Task carries its gold, form, "
        "worked steps and a stable id); basic_arithmetic makes one integer arithmetic expression. "
        "fraction_arithmetic is rlvr's closest kind; number_theory and counting are its other arithmetic-style "
        "kinds. Both sides build the object their user gets (rlvr.make_task's Task, the dataset's item dict); "
        "all sides run in turn within each round.",
    }


# --------------------------------------------------------------------------------------------


def machine() -> dict:
    versions = {}
    for package in ("sympy", "math-verify", "latex2sympy2_extended", "reasoning_gym", "rlvr"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "versions": versions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("all", "verify", "generate"), default="all")
    parser.add_argument("--n", type=int, default=300, help="tasks per generation run")
    parser.add_argument("--repeats", type=int, default=3, help="generation runs per configuration")
    parser.add_argument(
        "--difficulties",
        type=float,
        nargs="+",
        choices=sorted(PEER_LEVELS),
        default=sorted(PEER_LEVELS),
        help="generation levels to time (basic_arithmetic's hard level runs seconds per task now and then)",
    )
    parser.add_argument(
        "--verify-rounds",
        type=int,
        default=1,
        help="verification rounds; later rounds hit math-verify's parse caches on both sides",
    )
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="a pristine rlvr tree (git archive HEAD | tar -x -C PATH) to time on the same pairs",
    )
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = machine()
    results["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    if args.part in ("all", "verify"):
        results["verify"] = bench_verify(args.verify_rounds, args.before)
        for name in ("math500", "peer"):
            entry = results["verify"][name]
            print(name, json.dumps({k: v for k, v in entry.items() if k != "examples"}, indent=2))
            for example in entry["examples"][:12]:
                print("  differs:", json.dumps(example, ensure_ascii=False))
    if args.part in ("all", "generate"):
        earlier = results.get("generate", {})
        results["generate"] = bench_generate(args.n, args.repeats, args.difficulties)
        kept = [
            {"timed_at": earlier.get("timed_at"), **level}  # an earlier run's level, with when it ran
            for level in earlier.get("levels", [])
            if level["difficulty"] not in args.difficulties and "rlvr_per_s" in level
        ]
        results["generate"]["levels"] = sorted(kept + results["generate"]["levels"], key=lambda lv: lv["difficulty"])
        print(json.dumps(results["generate"], indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
