"""Evaluation requests per second of ``rlvr eval`` against a local OpenAI-compatible server.

Setup: ``rlvr.integrations.reference_server`` runs in its own process (as a model server would)
and replays reference answers, in three scenarios (``--k`` samples per task):
  maze             rlvr/Maze-v0 at d=0, ``--n`` tasks: short prompts, one-word answers, no delay:
                   the ceiling of client and server together on this machine.
  rotation         rlvr/Rotation-v0 at d=0, ``--n-visual`` tasks: one 320×320 PNG (about 100 KiB
                   of base64) per request, no delay.
  maze+50ms        Maze-v0, ``--n-visual`` tasks, every answer held back 50 ms (``delay_s``) as a
                   stand-in for generation: the ideal is concurrency / 0.05 s until the ceiling.

For each scenario and each concurrency 1, 4, 16, 64:
  rlvr      ``rlvr.integrations.openai_eval.evaluate`` (AsyncOpenAI, a semaphore, verification in
            a thread pool); requests/s as it reports it: n·k requests over the seconds from the
            first request to the last verdict, task generation excluded.
  baseline  what a user would write without it: a ``ThreadPoolExecutor`` of that many threads
            sharing one sync ``openai.OpenAI`` client, each job one ``chat.completions.create``
            then ``rlvr.verify``; messages built before the clock starts, the same requests.
The median of ``--repeats`` runs; every run must score pass@1 = 1 (the server replays reference
answers), which checks that both sides sent what the server expects.

Run: ``.venv/bin/python benchmarks/bench_eval.py`` (about 2 minutes on 2 cores); results go to
benchmarks/results/eval.json. Client and server share the machine's 2 cores: compare within a run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openai

import rlvr
from rlvr.integrations.openai_eval import chat_messages, evaluate

CONCURRENCY = (1, 4, 16, 64)
TEXT_ENV, VISUAL_ENV = "rlvr/Maze-v0", "rlvr/Rotation-v0"


DELAY_S = 0.05


def start_server(n: int, delay_s: float) -> tuple[subprocess.Popen, str]:
    """A reference server for seeds 0 … n-1 of both envs at d=0, in a child process; its base URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rlvr.integrations.reference_server",
            "--env",
            TEXT_ENV,
            "--env",
            VISUAL_ENV,
            "-n",
            str(n),
            "--difficulty",
            "0",
            "--port",
            "0",
            "--delay-s",
            str(delay_s),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    return process, process.stdout.readline().strip()


def rlvr_side(url: str, env_id: str, n: int, k: int, concurrency: int) -> float:
    overall = evaluate(url, "reference", [env_id], n, k=k, difficulties=[0.0], concurrency=concurrency, max_tokens=64)[
        "overall"
    ]
    assert overall["pass_at_1"] == 1.0 and overall["errors"] == 0, overall
    return overall["requests_per_s"]


def baseline_side(url: str, env_id: str, n: int, k: int, concurrency: int) -> float:
    client = openai.OpenAI(base_url=url, api_key="EMPTY", max_retries=3, timeout=120)
    tasks = rlvr.generate(env_id, n, seed=0, difficulty=0.0)
    jobs = [(task, chat_messages(task, None)) for task in tasks for _ in range(k)]

    def one(job) -> bool:
        task, messages = job
        completion = client.chat.completions.create(
            model="reference", messages=messages, temperature=1.0, max_tokens=64
        )
        return rlvr.verify(task, completion.choices[0].message.content or "").correct

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        correct = list(pool.map(one, jobs))
    elapsed = time.perf_counter() - started
    client.close()
    assert all(correct)
    return len(jobs) / elapsed


def median_rate(side, repeats: int, *args) -> float:
    return round(statistics.median(side(*args) for _ in range(repeats)), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="Maze-v0 tasks")
    ap.add_argument("--n-visual", type=int, default=25, help="Rotation-v0 tasks")
    ap.add_argument("--k", type=int, default=4, help="samples per task")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "eval.json"))
    args = ap.parse_args()

    servers = {delay: start_server(max(args.n, args.n_visual), delay) for delay in (0.0, DELAY_S)}
    scenarios = [
        ("maze", TEXT_ENV, args.n, 0.0),
        ("rotation", VISUAL_ENV, args.n_visual, 0.0),
        ("maze+50ms", TEXT_ENV, args.n_visual, DELAY_S),
    ]
    rows = []
    try:
        for name, env_id, n, delay in scenarios:
            url = servers[delay][1]
            rlvr_side(url, env_id, n, 1, 4)  # warm-up: imports, verifier caches
            for concurrency in CONCURRENCY:
                ours = median_rate(rlvr_side, args.repeats, url, env_id, n, args.k, concurrency)
                theirs = median_rate(baseline_side, args.repeats, url, env_id, n, args.k, concurrency)
                rows.append(
                    {
                        "scenario": name,
                        "env_id": env_id,
                        "difficulty": 0.0,
                        "delay_s": delay,
                        "requests": n * args.k,
                        "concurrency": concurrency,
                        "rlvr_requests_per_s": ours,
                        "baseline_requests_per_s": theirs,
                        "ratio": round(ours / theirs, 2),
                    }
                )
                print(
                    f"{name:10s} concurrency {concurrency:3d}: rlvr {ours:7.1f} req/s   thread-pool baseline "
                    f"{theirs:7.1f} req/s   {ours / theirs:.2f}×",
                    flush=True,
                )
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait()

    result = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {
            "node": platform.node(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "openai": openai.__version__,
        },
        "setup": {"n": args.n, "n_visual": args.n_visual, "k": args.k, "repeats": args.repeats, "delay_s": DELAY_S},
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
