r"""Math benchmarks: rlvr's MathVerifier against math-verify called directly, and rlvr/Math-v0
task generation side by side with reasoning-gym's basic_arithmetic.

1. Verification  The same (gold, response) pairs go through
                   ours    rlvr.verifiers.math.MathVerifier().verify(task, response)
                           (Fraction fast path in-process; math-verify in the worker process)
                   theirs  math_verify.verify(math_verify.parse("\boxed{gold}"), math_verify.parse(response))
                 one pair at a time, single-threaded, after a warm-up, the two sides interleaved
                 pair by pair (alternating which goes first), so load from other processes falls
                 on both alike; ``--verify-rounds`` > 1 repeats that and takes each pair's median
                 (warm parser caches on both sides). Throughput = pairs / sum of latencies. Pairs: every MATH-500
                 gold answer (benchmarks/data/math/math500.jsonl) rendered several ways —
                 itself, \frac ↔ \dfrac, spaces removed, ", " after commas, \left( \right)
                 around brackets, a/b for fractions, an exact decimal for terminating fractions,
                 a 6-place decimal otherwise (and a too-coarse 2-place one, which should fail),
                 thousands separators for integers ≥ 1000 — plus one wrong answer per row
                 (first digit bumped). Each response is a sentence
                 ending in ``$\boxed{…}$``. Reported: verdicts per second, p50 / p99 latency,
                 how many verdicts came from our fast path, and every pair where the two
                 disagree (with reasons).
2. Generation    Tasks per second (median of ``--repeats`` runs over ``--n`` seeds, after a
                 warm-up): rlvr.make_task("rlvr/Math-v0", seed=i, difficulty=d) for d = 0, 0.5, 1
                 — all kinds of the level, and fraction_arithmetic only, the closest kind to
                 basic_arithmetic — next to reasoning_gym.create_dataset("basic_arithmetic",
                 …)[i] with easy / default / hard term and digit ranges (the dataset object is
                 built outside the timed loop). The two make different problems: the ratio says
                 what the richer tasks cost, not who is faster at the same job.

Run both in the peers venv (reasoning-gym is never installed in the project's own venv):
    python3 -m venv benchmarks/.venv-peers
    benchmarks/.venv-peers/bin/pip install reasoning-gym -e .
    benchmarks/.venv-peers/bin/python benchmarks/bench_math.py
Writes benchmarks/results/math.json (``--part verify`` or ``--part generate`` runs one half and
keeps the other half's last result).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

import math_verify

import rlvr
from rlvr.core import Task
from rlvr.generators.math import near_miss_text
from rlvr.verifiers.math import MathVerifier, parse_plain_number

HERE = Path(__file__).resolve().parent
MATH500 = HERE / "data" / "math" / "math500.jsonl"
RESULTS = HERE / "results" / "math.json"


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


def bench_verify(rounds: int) -> dict:
    rows = [json.loads(line) for line in MATH500.read_text().splitlines() if line.strip()]
    pairs = [(row["answer"], kind, answer) for row in rows for kind, answer in renderings(row["answer"])]
    tasks = [Task(f"math500/{i}", "rlvr/Math-v0", "math", "", {"gold": gold, "form": "any"}, 0.5, 0) for i, (gold, _, _) in enumerate(pairs)]
    responses = [response_for(answer) for _, _, answer in pairs]

    verifier = MathVerifier()

    def ours_once(index: int):
        return verifier.verify(tasks[index], responses[index])

    def theirs_once(index: int) -> bool:
        return bool(math_verify.verify(math_verify.parse(f"\\boxed{{{pairs[index][0]}}}"), math_verify.parse(responses[index])))

    for index in range(min(30, len(pairs))):  # warm-up: worker start, parser caches
        ours_once(index)
        theirs_once(index)
    # Interleaved, alternating which side goes first, so load from other processes on the
    # machine falls on both sides alike; each pair's latency is its median over the rounds.
    ours_rounds = [[] for _ in pairs]
    theirs_rounds = [[] for _ in pairs]
    ours, theirs = [None] * len(pairs), [None] * len(pairs)
    for round_index in range(rounds):
        for index in range(len(pairs)):
            sides = [("ours", ours_once), ("theirs", theirs_once)]
            if (index + round_index) % 2:
                sides.reverse()
            for name, run in sides:
                t0 = time.perf_counter()
                outcome = run(index)
                elapsed = time.perf_counter() - t0
                if name == "ours":
                    ours_rounds[index].append(elapsed)
                    ours[index] = outcome
                else:
                    theirs_rounds[index].append(elapsed)
                    theirs[index] = outcome
    verifier.close()
    ours_latency = [statistics.median(r) for r in ours_rounds]
    theirs_latency = [statistics.median(r) for r in theirs_rounds]
    ours_total, theirs_total = sum(ours_latency), sum(theirs_latency)

    disagreements = [
        {"gold": gold, "kind": kind, "answer": answer, "ours": verdict.correct, "theirs": other,
         "our_reason": verdict.reason, "our_path": verdict.details.get("path")}
        for (gold, kind, answer), verdict, other in zip(pairs, ours, theirs) if verdict.correct != other
    ]
    by_kind: dict[str, dict] = {}
    for (_, kind, _), verdict, other in zip(pairs, ours, theirs):
        entry = by_kind.setdefault(kind, {"pairs": 0, "ours_correct": 0, "theirs_correct": 0})
        entry["pairs"] += 1
        entry["ours_correct"] += verdict.correct
        entry["theirs_correct"] += other
    fast = sum(v.details.get("path") == "fast" for v in ours)
    result = {
        "pairs": len(pairs),
        "gold_answers": len(rows),
        "rounds": rounds,
        "ours": summary(ours_total, ours_latency),
        "math_verify_direct": summary(theirs_total, theirs_latency),
        "throughput_ratio_ours_over_direct": round(len(pairs) / ours_total / (len(pairs) / theirs_total), 2),
        "p50_ratio_direct_over_ours": round(percentile(theirs_latency, 0.5) / percentile(ours_latency, 0.5), 2),
        "ours_fast_path_verdicts": fast,
        "ours_fast_path_median_ms": round(1000 * statistics.median(l for l, v in zip(ours_latency, ours) if v.details.get("path") == "fast"), 4),
        "ours_worker_median_ms": round(1000 * statistics.median(l for l, v in zip(ours_latency, ours) if v.details.get("path") != "fast"), 3),
        "direct_median_ms_on_the_worker_pairs": round(1000 * statistics.median(l for l, v in zip(theirs_latency, ours) if v.details.get("path") != "fast"), 3),
        "direct_median_ms_on_the_fast_pairs": round(1000 * statistics.median(l for l, v in zip(theirs_latency, ours) if v.details.get("path") == "fast"), 3),
        "by_kind": by_kind,
        "disagreements": len(disagreements),
        "disagreement_examples": disagreements[:40],
    }
    return result


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

PEER_LEVELS = {
    0.0: {"min_terms": 2, "max_terms": 3, "min_digits": 1, "max_digits": 2},
    0.5: {"min_terms": 2, "max_terms": 6, "min_digits": 1, "max_digits": 4},
    1.0: {"min_terms": 5, "max_terms": 8, "min_digits": 3, "max_digits": 6},
}


def median_rate(make_one, n: int, repeats: int, warm_up: int = 20) -> float:
    for i in range(warm_up):
        make_one(n * repeats + i)
    rates = []
    for r in range(repeats):
        start = time.perf_counter()
        for i in range(n):
            make_one(r * n + i)
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def bench_generate(n: int, repeats: int) -> dict:
    import reasoning_gym

    levels = []
    for difficulty, peer_config in PEER_LEVELS.items():
        ours_all = median_rate(lambda seed: rlvr.make_task("rlvr/Math-v0", seed=seed, difficulty=difficulty), n, repeats)
        ours_fractions = median_rate(
            lambda seed: rlvr.make_task("rlvr/Math-v0", seed=seed, difficulty=difficulty, kinds="fraction_arithmetic"), n, repeats)
        dataset = reasoning_gym.create_dataset("basic_arithmetic", size=n * repeats + 100, seed=0, **peer_config)
        peer = median_rate(lambda index: dataset[index], n, repeats)
        levels.append({
            "difficulty": difficulty,
            "rlvr_all_kinds_per_s": round(ours_all, 1),
            "rlvr_fraction_arithmetic_per_s": round(ours_fractions, 1),
            "basic_arithmetic_config": peer_config,
            "basic_arithmetic_per_s": round(peer, 1),
            "ratio_rlvr_all_over_peer": round(ours_all / peer, 3),
            "ratio_rlvr_fractions_over_peer": round(ours_fractions / peer, 3),
        })
    return {"n": n, "repeats": repeats, "levels": levels,
            "note": "Different problems: rlvr/Math-v0 makes sympy-checked competition-style tasks (10 kinds; each Task "
                    "carries its gold, form, worked steps and a stable id); basic_arithmetic makes one integer "
                    "arithmetic expression. fraction_arithmetic is rlvr's closest kind."}


# --------------------------------------------------------------------------------------------


def machine() -> dict:
    versions = {}
    for package in ("sympy", "math-verify", "latex2sympy2_extended", "reasoning_gym", "rlvr"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(), "versions": versions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=("all", "verify", "generate"), default="all")
    parser.add_argument("--n", type=int, default=300, help="tasks per generation run")
    parser.add_argument("--repeats", type=int, default=3, help="generation runs per configuration")
    parser.add_argument("--verify-rounds", type=int, default=1,
                        help="verification rounds; later rounds hit math-verify's parse caches on both sides")
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = machine()
    results["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    if args.part in ("all", "verify"):
        results["verify"] = bench_verify(args.verify_rounds)
        print(json.dumps({k: v for k, v in results["verify"].items() if k != "disagreement_examples"}, indent=2))
        for example in results["verify"]["disagreement_examples"][:12]:
            print("  disagree:", json.dumps(example, ensure_ascii=False))
    if args.part in ("all", "generate"):
        results["generate"] = bench_generate(args.n, args.repeats)
        print(json.dumps(results["generate"], indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
