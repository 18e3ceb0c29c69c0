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
    ``concurrency`` requests are in flight, and at most ``concurrency`` answered samples wait
    for or undergo verification (a request slot is held until its reply gets one, so replies
    never pile up in memory faster than they are verified). The official ``openai`` client
    retries connection errors, timeouts, 408, 409, 429 and 5xx up to ``max_retries`` times with
    backoff, each try bounded by ``timeout`` seconds. A request that still fails scores reward 0 and counts in
    ``errors`` with its message kept; the run goes on, except that when the first
    ``stop_after_failed_connections`` replies (default 8, or every request if fewer; 0 turns
    the check off) all failed to connect, the run stops at once with ``EndpointUnreachable``:
    the server is down or the URL is wrong. A reply of the wrong shape is a failed request
    too ("malformed reply: …"; red team S6-1): a body that is no completion (JSON ``null``),
    a choice that is no object or has no message, ``message.content`` that is neither text
    nor null, ``finish_reason`` that is neither text nor null, ``usage`` present but not an
    object or its ``completion_tokens`` not an int in [0, ``MAX_COMPLETION_TOKENS``] (NaN,
    "many", -1, 10^30). Error
    messages keep the server's text with C0/C1 control characters written as ``\\xNN``
    (S6-2: printed raw, an error body could retitle, clear or write to the clipboard of the
    terminal), at most 500 characters.
Verification
    ``rlvr.verify`` (never raises) in ``verify_workers`` threads off the event loop, through
    ``rlvr.scoring``: a verification still running its verifier's deadline plus a grace after it
    started scores 0 with reason "verifier overran its deadline …" (its thread is abandoned:
    threads cannot be killed). The whole reply text is verified (the verifier's own
    ``max_response_chars`` bounds it), but a sample keeps at most ``max_kept_chars`` characters
    of it (default 100 000, about 25 000 tokens: its first and last halves around a
    "…[N characters left out]…" line; ``response_chars`` is the whole length), so n·k huge
    replies cannot exhaust memory or the samples file. A verdict that is ``not_judged``
    (``rlvr.core.Verdict.not_judged``: a Math answer that got no worker before its deadline,
    never looked at) is counted apart and left out of mean reward, pass@1, pass@k and format
    rate; a verdict that timed out is judged and stays a wrong answer.
Result
    ``{"config", "rows", "overall", "samples"}``. Each row is one (env, difficulty); ``overall``
    pools every task and request:
        tasks, k, samples      n, k and n·k
        mean_reward            mean reward over judged samples (None if none was judged)
        pass_at_1, pass_at_k   unbiased estimator 1 - C(m-c, j)/C(m, j) per task (c correct of
                               its m judged samples: m = k unless some were not judged),
                               averaged over the tasks with m >= j, for j = 1 and j = k (None
                               if no task has that many)
        not_judged             samples whose verdict is ``not_judged`` (left out above)
        format_ok, truncated   fraction of judged samples parsed by the verifier; fraction of
                               all samples finished by length
        errors, first_error    samples whose request failed after retries, and the first message
        completion_tokens      mean ``usage.completion_tokens`` of answered samples (None if the
                               server sends no usage)
        generate_s             seconds spent making the tasks and their messages
        wall_s, requests_per_s seconds from the first request to the last verdict; samples/wall_s
    ``samples`` holds one dict per request: task_id, env_id, difficulty, seed, sample,
    response (at most ``max_kept_chars``), response_chars, reward, correct, format_ok,
    not_judged, reason, finish_reason, completion_tokens, error.
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
import re
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
    response_chars: int
    reward: float
    correct: bool
    format_ok: bool
    not_judged: bool
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


DEFAULT_MAX_KEPT_CHARS = 100_000
MAX_COMPLETION_TOKENS = 10**9  # more in one reply is a broken server, not a long answer
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every C0 and C1 control character (and DEL) written as ``\\xNN``: safe to
    print to a terminal, whatever escape sequences a server put in it."""
    return _CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def describe_error(error: BaseException) -> str:
    """``Type: message``, with the underlying cause (a refused connection, a timeout) when there
    is one; control characters escaped (``printable``), at most 500 characters."""
    text = f"{type(error).__name__}: {error}"
    if error.__cause__ is not None:
        text += f" ({type(error.__cause__).__name__}: {error.__cause__})"
    return printable(text)[:500]


def kept_text(text: str, max_chars: int) -> str:
    """``text`` if it has at most ``max_chars`` characters, else its first and last halves of
    that around a line saying how many characters were left out."""
    if len(text) <= max_chars:
        return text
    head, tail = max_chars - max_chars // 2, max_chars // 2
    return f"{text[:head]}\n…[{len(text) - head - tail} characters left out]…\n{text[len(text) - tail :]}"


def reply_of(completion: Any) -> Reply:
    """The text, finish reason and completion tokens of a chat completion, or a failed request
    when the server's reply has another shape (the openai client builds its response objects
    without validating them, so any field may hold any JSON value)."""
    from openai.types import CompletionUsage

    choices = getattr(completion, "choices", None)
    if choices is not None and not isinstance(choices, list):
        return Reply(error=f"malformed reply: choices is {type(choices).__name__}, not a list")
    if not choices:
        return Reply(error="the response has no choices")
    choice = choices[0]
    message = getattr(choice, "message", None)
    if message is None:
        return Reply(error=f"malformed reply: the first choice ({type(choice).__name__}) has no message")
    content, finish_reason = getattr(message, "content", None), getattr(choice, "finish_reason", None)
    if content is not None and not isinstance(content, str):
        return Reply(error=f"malformed reply: message.content is {type(content).__name__}, not text")
    if finish_reason is not None and not isinstance(finish_reason, str):
        return Reply(error=f"malformed reply: finish_reason is {type(finish_reason).__name__}, not text")
    usage = getattr(completion, "usage", None)
    if usage is not None and not isinstance(usage, CompletionUsage):
        return Reply(error=f"malformed reply: usage is {type(usage).__name__}, not an object")
    tokens = None if usage is None else getattr(usage, "completion_tokens", None)  # a server may leave it out
    if tokens is not None and not (type(tokens) is int and 0 <= tokens <= MAX_COMPLETION_TOKENS):
        return Reply(error=f"malformed reply: usage.completion_tokens is {printable(repr(tokens))[:40]}")
    return Reply(content or "", finish_reason, tokens)


async def request_completion(client: Any, body: dict) -> Reply:
    """One chat completion; an error left after retries, or a malformed reply, is returned."""
    import openai

    try:
        completion = await client.chat.completions.create(**body)
    except openai.OpenAIError as error:
        refused = isinstance(error, openai.APIConnectionError) and not isinstance(error, openai.APITimeoutError)
        return Reply(error=describe_error(error), connection_failed=refused)
    return reply_of(completion)


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
    verify_slots: asyncio.Semaphore,
    max_kept_chars: int,
) -> Sample:
    watch.check()
    async with semaphore:
        reply = await request_completion(client, settings.body(messages, task.id, sample))
        watch.record(reply)
        if reply.error is None:
            await verify_slots.acquire()  # the request slot stays held until the reply may be verified
    not_judged = False
    if reply.error is None:
        try:
            verdict = await asyncio.wrap_future(scorer.submit((task, reply.text, verifier_options)))
        finally:
            verify_slots.release()
        reward, correct, format_ok, reason = verdict.reward, verdict.correct, verdict.format_ok, verdict.reason
        not_judged = verdict.not_judged
    else:
        reward, correct, format_ok, reason = 0.0, False, False, "request failed"
    return Sample(
        task.id,
        task.env_id,
        task.difficulty,
        task.seed,
        sample,
        kept_text(reply.text, max_kept_chars),
        len(reply.text),
        reward,
        correct,
        format_ok,
        not_judged,
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
    judged = [s for s in samples if not s.not_judged]
    counts = [  # (judged samples, correct ones) per task
        (len(group), sum(s.correct for s in group))
        for group in ([s for s in task_samples if not s.not_judged] for task_samples in per_task.values())
    ]
    tokens = [s.completion_tokens for s in samples if s.completion_tokens is not None]
    errors = [s.error for s in samples if s.error is not None]

    def mean(values: list) -> float | None:
        return sum(values) / len(values) if values else None

    return {
        "tasks": len(per_task),
        "k": k,
        "samples": len(samples),
        "not_judged": len(samples) - len(judged),
        "mean_reward": mean([s.reward for s in judged]),
        "pass_at_1": mean([pass_at_k(m, c, 1) for m, c in counts if m >= 1]),
        "pass_at_k": mean([pass_at_k(m, c, k) for m, c in counts if m >= k]),
        "format_ok": mean([s.format_ok for s in judged]),
        "truncated": sum(s.finish_reason == "length" for s in samples) / (len(samples) or 1),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "completion_tokens": mean(tokens),
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
    verify_slots: asyncio.Semaphore,
    max_kept_chars: int,
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
        result = await sample_task(
            client,
            semaphore,
            scorer,
            settings,
            task,
            messages,
            sample,
            verifier_options,
            watch,
            verify_slots,
            max_kept_chars,
        )
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
    max_kept_chars: int = DEFAULT_MAX_KEPT_CHARS,
) -> dict:
    """Evaluate ``model`` at ``base_url``; the contract is the module docstring."""
    from openai import AsyncOpenAI
    from tqdm import tqdm

    if n < 1 or k < 1 or concurrency < 1:
        raise ValueError(f"n, k and concurrency must be at least 1, got n={n}, k={k}, concurrency={concurrency}")
    if max_kept_chars < 2:
        raise ValueError(f"max_kept_chars must be at least 2, got {max_kept_chars}")
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
        "max_kept_chars": max_kept_chars,
        "rlvr_version": rlvr.__version__,
    }
    for env_id in env_ids:  # a bad env id or option fails here, not after earlier groups have run
        rlvr.make_task(
            env_id, seed, difficulties[0], split=split, **group_options(env_id, env_options or {}).for_tasks()
        )
    settings = RequestSettings(model, temperature, max_tokens, top_p, system_prompt, seed, request_seed, extra_body)
    semaphore, verify_slots = asyncio.Semaphore(concurrency), asyncio.Semaphore(concurrency)
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
                        verify_slots,
                        max_kept_chars,
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
    header = [
        "env",
        "d",
        "tasks",
        "k",
        "reward",
        "pass@1",
        "pass@k",
        "format",
        "errors",
        "not judged",
        "tokens",
        "req/s",
        "wall s",
    ]

    def fraction(value: float | None, places: int) -> str:
        return "-" if value is None else f"{value:.{places}f}"

    def line(row: dict) -> list[str]:
        tokens = row["completion_tokens"]
        return [
            row["env_id"],
            "" if row["difficulty"] is None else f"{row['difficulty']:g}",
            str(row["tasks"]),
            str(row["k"]),
            fraction(row["mean_reward"], 3),
            fraction(row["pass_at_1"], 3),
            fraction(row["pass_at_k"], 3),
            fraction(row["format_ok"], 2),
            str(row["errors"]),
            str(row["not_judged"]),
            "" if tokens is None else f"{tokens:.0f}",
            f"{row['requests_per_s'] or 0:.1f}",
            f"{row['wall_s']:.1f}",
        ]

    return header, [*map(line, results["rows"]), line(results["overall"])]
