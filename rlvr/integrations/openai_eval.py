"""Evaluate any OpenAI-compatible chat endpoint (vLLM, SGLang, a hosted API) on rlvr envs.

``evaluate(base_url, model, env_ids, n, k, difficulties, …) -> dict`` (``evaluate_async`` in a
running event loop); ``rlvr eval`` on the command line.

Tasks
    For every env id and every difficulty, ``n`` distinct tasks of the ``split`` stream
    (default ``"test"``: content disjoint from the train stream that ``rlvr generate`` and the
    training adapters use) from position ``seed`` on (``rlvr.generate``; ``split=None``: the
    raw seeds ``seed … seed+n-1``, e.g. every row of a benchmark dataset; ``env_options`` apply
    to every env: task parameters, generator and verifier options). The same arguments always select the same
    tasks. Groups (env, difficulty) run one after another, in the order given; each env makes its first task before
    any request is sent, so a bad env id or option fails at once.
Requests
    k samples per task, each its own ``chat.completions`` request (portable across servers):
    an optional system message, then one user message, the prompt as a string, or for a visual
    task (``Task.images`` non-empty) a list of a text part and one ``image_url`` part per image
    (``data:image/png;base64,…``). ``temperature``, ``max_tokens`` and ``top_p`` (when not None)
    are sent, ``seed`` too (a hash of eval seed, task id and sample index) unless
    ``request_seed=False``; ``extra_body`` is merged into every request body. At most
    ``concurrency`` requests are in flight. The official ``openai`` client retries connection
    errors, timeouts, 408, 409, 429 and 5xx up to ``max_retries`` times with backoff, each try
    bounded by ``timeout`` seconds. A request that still fails scores reward 0 and counts in
    ``errors`` with its message kept; the run goes on, except that when the first
    ``stop_after_failed_connections`` replies (default 8, or every request if fewer; 0 turns
    the check off) all failed to connect, the run stops at once with ``EndpointUnreachable``:
    the server is down or the URL is wrong.
Verification
    ``rlvr.verify`` (never raises) in ``verify_workers`` threads off the event loop, through
    ``rlvr.scoring``: a verification still running its verifier's deadline plus a grace after it
    started scores 0 with reason "verifier overran its deadline …" (its thread is abandoned:
    threads cannot be killed).
Result
    ``{"config", "rows", "overall", "samples"}``. Each row is one (env, difficulty); ``overall``
    pools every task and request:
        tasks, k, samples      n, k and n·k
        mean_reward            mean reward over samples
        pass_at_1, pass_at_k   unbiased estimator 1 - C(k-c, j)/C(k, j) per task (c correct of
                               its k samples), averaged over tasks, for j = 1 and j = k
        format_ok, truncated   fraction of samples parsed by the verifier; finished by length
        errors, first_error    samples whose request failed after retries, and the first message
        completion_tokens      mean ``usage.completion_tokens`` of answered samples (None if the
                               server sends no usage)
        generate_s             seconds spent making the tasks and their messages
        wall_s, requests_per_s seconds from the first request to the last verdict; samples/wall_s
    ``samples`` holds one dict per request: task_id, env_id, difficulty, seed, sample,
    response, reward, correct, format_ok, reason, finish_reason, completion_tokens, error.
    ``write_results`` saves all but the samples as JSON, ``write_samples`` the samples as JSONL;
    ``summary_table`` gives (header, rows) for a plain-text table. ``rlvr eval`` prints it, then
    the first error, and exits 1 when more than ``--max-error-rate`` of the requests failed.

Needs the ``eval`` extra (``pip install 'rlvr[eval]'``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import json
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import rlvr
from rlvr.api import group_options
from rlvr.core import Task, image_to_png
from rlvr.envs.registry import get_spec, split_options
from rlvr.scoring import Scorer


@dataclass(frozen=True)
class Sample:
    """One request and its verdict."""

    task_id: str
    env_id: str
    difficulty: float
    seed: int
    sample: int
    response: str
    reward: float
    correct: bool
    format_ok: bool
    reason: str
    finish_reason: str | None
    completion_tokens: int | None
    error: str | None


@dataclass(frozen=True)
class Reply:
    """What came back for one request: text, or the error that remained after retries."""

    text: str = ""
    finish_reason: str | None = None
    completion_tokens: int | None = None
    error: str | None = None
    connection_failed: bool = False  # no connection could be made (not a time-out, not an HTTP error)


class EndpointUnreachable(RuntimeError):
    """The first requests of a run all failed to connect."""


class ConnectionWatch:
    """Stops a run whose first ``probe`` replies all failed to connect."""

    def __init__(self, probe: int, base_url: str):
        self.probe, self.base_url = probe, base_url
        self.replies = self.failures = 0
        self.first_error: str | None = None
        self.tripped = False

    def check(self) -> None:
        if self.tripped:
            raise EndpointUnreachable(self.message())

    def record(self, reply: Reply) -> None:
        if self.replies >= self.probe:
            return
        self.replies += 1
        if reply.connection_failed:
            self.failures += 1
            self.first_error = self.first_error or reply.error
        self.tripped = self.failures == self.probe
        self.check()

    def message(self) -> str:
        return f"the first {self.probe} requests all failed to connect to {self.base_url} ({self.first_error})"


def pass_at_k(samples: int, correct: int, k: int) -> float:
    """Unbiased pass@k of one task: 1 - C(samples-correct, k) / C(samples, k)."""
    if not 0 < k <= samples or not 0 <= correct <= samples:
        raise ValueError(
            f"need 0 < k <= samples and 0 <= correct <= samples, got k={k}, samples={samples}, correct={correct}"
        )
    return 1.0 - math.comb(samples - correct, k) / math.comb(samples, k)


def request_seed_of(eval_seed: int, task_id: str, sample: int) -> int:
    """A 31-bit request seed, distinct per (eval seed, task, sample) and stable across processes."""
    digest = hashlib.sha256(f"{eval_seed}|{task_id}|{sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def user_content(task: Task) -> str | list[dict]:
    """The prompt, or for a visual task a text part and one PNG data-URL part per image."""
    if not task.images:
        return task.prompt
    images = [base64.b64encode(image_to_png(image)).decode("ascii") for image in task.images]
    return [
        {"type": "text", "text": task.prompt},
        *({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}} for data in images),
    ]


def chat_messages(task: Task, system_prompt: str | None) -> list[dict]:
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return [*system, {"role": "user", "content": user_content(task)}]


def describe_error(error: BaseException) -> str:
    """``Type: message``, with the underlying cause (a refused connection, a timeout) when there is one."""
    text = f"{type(error).__name__}: {error}"
    if error.__cause__ is not None:
        text += f" ({type(error.__cause__).__name__}: {error.__cause__})"
    return text[:500]


async def request_completion(client: Any, semaphore: asyncio.Semaphore, body: dict) -> Reply:
    """One chat completion under the concurrency limit; an error left after retries is returned."""
    import openai

    async with semaphore:
        try:
            completion = await client.chat.completions.create(**body)
        except openai.OpenAIError as error:
            refused = isinstance(error, openai.APIConnectionError) and not isinstance(error, openai.APITimeoutError)
            return Reply(error=describe_error(error), connection_failed=refused)
    if not completion.choices:
        return Reply(error="the response has no choices")
    choice = completion.choices[0]
    usage = completion.usage
    return Reply(choice.message.content or "", choice.finish_reason, usage.completion_tokens if usage else None)


@dataclass(frozen=True)
class RequestSettings:
    """Everything about a request that is not the task."""

    model: str
    temperature: float | None
    max_tokens: int | None
    top_p: float | None
    system_prompt: str | None
    seed: int
    request_seed: bool
    extra_body: dict | None

    def body(self, messages: list[dict], task_id: str, sample: int) -> dict:
        options = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "seed": request_seed_of(self.seed, task_id, sample) if self.request_seed else None,
            "extra_body": self.extra_body,
        }
        return {"model": self.model, "messages": messages, **{k: v for k, v in options.items() if v is not None}}


async def sample_task(
    client: Any,
    semaphore: asyncio.Semaphore,
    scorer: Scorer,
    settings: RequestSettings,
    task: Task,
    messages: list[dict],
    sample: int,
    verifier_options: dict,
    watch: ConnectionWatch,
) -> Sample:
    watch.check()
    reply = await request_completion(client, semaphore, settings.body(messages, task.id, sample))
    watch.record(reply)
    if reply.error is None:
        verdict = await asyncio.wrap_future(scorer.submit((task, reply.text, verifier_options)))
        reward, correct, format_ok, reason = verdict.reward, verdict.correct, verdict.format_ok, verdict.reason
    else:
        reward, correct, format_ok, reason = 0.0, False, False, "request failed"
    return Sample(
        task.id,
        task.env_id,
        task.difficulty,
        task.seed,
        sample,
        reply.text,
        reward,
        correct,
        format_ok,
        reason,
        reply.finish_reason,
        reply.completion_tokens,
        reply.error,
    )


def group_metrics(samples: Sequence[Sample], k: int, wall_s: float, generate_s: float) -> dict:
    """The metrics of a set of samples, k per task (see the module docstring)."""
    per_task: dict[str, list[Sample]] = {}
    for sample in samples:
        per_task.setdefault(sample.task_id, []).append(sample)
    correct_counts = [sum(s.correct for s in group) for group in per_task.values()]
    tokens = [s.completion_tokens for s in samples if s.completion_tokens is not None]
    errors = [s.error for s in samples if s.error is not None]
    count = len(samples) or 1
    tasks = len(per_task) or 1
    return {
        "tasks": len(per_task),
        "k": k,
        "samples": len(samples),
        "mean_reward": sum(s.reward for s in samples) / count,
        "pass_at_1": sum(pass_at_k(k, c, 1) for c in correct_counts) / tasks,
        "pass_at_k": sum(pass_at_k(k, c, k) for c in correct_counts) / tasks,
        "format_ok": sum(s.format_ok for s in samples) / count,
        "truncated": sum(s.finish_reason == "length" for s in samples) / count,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "completion_tokens": sum(tokens) / len(tokens) if tokens else None,
        "generate_s": round(generate_s, 3),
        "wall_s": round(wall_s, 3),
        "requests_per_s": round(len(samples) / wall_s, 2) if wall_s > 0 else None,
    }


async def evaluate_group(
    client: Any,
    semaphore: asyncio.Semaphore,
    scorer: Scorer,
    settings: RequestSettings,
    env_id: str,
    difficulty: float,
    n: int,
    k: int,
    env_options: dict,
    progress: Any,
    watch: ConnectionWatch,
    split: str | None = "test",
) -> tuple[dict, list[Sample]]:
    """The row and samples of one (env, difficulty)."""
    _, verifier_options, _ = split_options(get_spec(env_id), env_options)
    started = time.perf_counter()
    prepared = await asyncio.get_running_loop().run_in_executor(
        None,
        lambda: [
            (task, chat_messages(task, settings.system_prompt))
            for task in rlvr.generate(
                env_id,
                n,
                seed=settings.seed,
                difficulty=difficulty,
                split=split,
                **group_options(env_id, env_options).for_tasks(),
            )
        ],
    )
    generate_s = time.perf_counter() - started

    async def one(task: Task, messages: list[dict], sample: int) -> Sample:
        result = await sample_task(client, semaphore, scorer, settings, task, messages, sample, verifier_options, watch)
        progress.update()
        return result

    started = time.perf_counter()
    samples = await asyncio.gather(*(one(task, messages, i) for task, messages in prepared for i in range(k)))
    row = {
        "env_id": env_id,
        "difficulty": difficulty,
        **group_metrics(samples, k, time.perf_counter() - started, generate_s),
    }
    return row, samples


async def evaluate_async(
    base_url: str,
    model: str,
    env_ids: Sequence[str],
    n: int,
    k: int = 1,
    difficulties: Sequence[float] = (0.5,),
    seed: int = 0,
    concurrency: int = 16,
    max_retries: int = 3,
    timeout: float = 120.0,
    temperature: float | None = 1.0,
    max_tokens: int | None = 2048,
    top_p: float | None = None,
    system_prompt: str | None = None,
    api_key: str | None = None,
    env_options: dict | None = None,
    extra_body: dict | None = None,
    request_seed: bool = True,
    verify_workers: int | None = None,
    progress: bool = False,
    stop_after_failed_connections: int = 8,
    split: str | None = "test",
) -> dict:
    """Evaluate ``model`` at ``base_url``; the contract is the module docstring."""
    from openai import AsyncOpenAI
    from tqdm import tqdm

    if n < 1 or k < 1 or concurrency < 1:
        raise ValueError(f"n, k and concurrency must be at least 1, got n={n}, k={k}, concurrency={concurrency}")
    config = {
        "base_url": base_url,
        "model": model,
        "env_ids": list(env_ids),
        "n": n,
        "k": k,
        "difficulties": list(difficulties),
        "seed": seed,
        "concurrency": concurrency,
        "max_retries": max_retries,
        "timeout": timeout,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "top_p": top_p,
        "system_prompt": system_prompt,
        "env_options": env_options or {},
        "extra_body": extra_body,
        "request_seed": request_seed,
        "split": split,
        "rlvr_version": rlvr.__version__,
    }
    for env_id in env_ids:  # a bad env id or option fails here, not after earlier groups have run
        rlvr.make_task(
            env_id, seed, difficulties[0], split=split, **group_options(env_id, env_options or {}).for_tasks()
        )
    settings = RequestSettings(model, temperature, max_tokens, top_p, system_prompt, seed, request_seed, extra_body)
    semaphore = asyncio.Semaphore(concurrency)
    total = len(env_ids) * len(difficulties) * n * k
    watch = ConnectionWatch(min(max(0, stop_after_failed_connections), total), base_url)  # probe 0: never stops
    rows, samples = [], []
    started = time.perf_counter()
    client = AsyncOpenAI(
        base_url=base_url,
        api_key=api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
        max_retries=max_retries,
        timeout=timeout,
    )
    with Scorer(verify_workers, "thread") as scorer, tqdm(total=total, unit="req", disable=not progress) as bar:
        async with client:
            for env_id in env_ids:
                for difficulty in difficulties:
                    row, group = await evaluate_group(
                        client,
                        semaphore,
                        scorer,
                        settings,
                        env_id,
                        difficulty,
                        n,
                        k,
                        dict(env_options or {}),
                        bar,
                        watch,
                        split,
                    )
                    rows.append(row)
                    samples.extend(group)
    wall_s = time.perf_counter() - started
    generate_s = sum(row["generate_s"] for row in rows)
    overall = {"env_id": "all", "difficulty": None, **group_metrics(samples, k, wall_s - generate_s, generate_s)}
    return {"config": config, "rows": rows, "overall": overall, "samples": [asdict(s) for s in samples]}


@functools.wraps(evaluate_async, assigned=("__module__", "__annotations__"))
def evaluate(*args: Any, **kwargs: Any) -> dict:
    """``evaluate_async`` run to completion in a new event loop (not from inside a running one)."""
    return asyncio.run(evaluate_async(*args, **kwargs))


def write_results(results: dict, path: str | Path | TextIO) -> None:
    """Config, rows and overall (not the samples) as indented JSON, to a path or a text handle."""
    summary = {key: value for key, value in results.items() if key != "samples"}
    with _text_output(path) as handle:
        handle.write(json.dumps(summary, indent=2) + "\n")


def write_samples(results: dict, path: str | Path | TextIO) -> None:
    """One JSON object per request, in task and sample order, to a path or a text handle. A
    line whose text holds a lone surrogate (a server may send ``\\ud800``) is written with
    ASCII escapes, so it stays valid UTF-8 and reads back to the same string."""
    with _text_output(path) as handle:
        for sample in results["samples"]:
            line = json.dumps(sample, ensure_ascii=False)
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:
                line = json.dumps(sample)
            handle.write(line + "\n")


@contextlib.contextmanager
def _text_output(target: str | Path | TextIO) -> Iterator[TextIO]:
    if hasattr(target, "write"):
        yield target
        return
    with open(target, "w", encoding="utf-8") as handle:
        yield handle


def summary_table(results: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the per-group rows and the overall row, formatted for printing."""
    header = ["env", "d", "tasks", "k", "reward", "pass@1", "pass@k", "format", "errors", "tokens", "req/s", "wall s"]

    def line(row: dict) -> list[str]:
        tokens = row["completion_tokens"]
        return [
            row["env_id"],
            "" if row["difficulty"] is None else f"{row['difficulty']:g}",
            str(row["tasks"]),
            str(row["k"]),
            f"{row['mean_reward']:.3f}",
            f"{row['pass_at_1']:.3f}",
            f"{row['pass_at_k']:.3f}",
            f"{row['format_ok']:.2f}",
            str(row["errors"]),
            "" if tokens is None else f"{tokens:.0f}",
            f"{row['requests_per_s'] or 0:.1f}",
            f"{row['wall_s']:.1f}",
        ]

    return header, [*map(line, results["rows"]), line(results["overall"])]
