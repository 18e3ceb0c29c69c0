"""Reward-hacking attacks and the audit that runs them (``rlvr audit``).

The policy being trained is an adversary: any response that scores without solving the task
will be found and learned. This module holds the attacks that apply to every env, runs them
together with each family's own (``generator.attacks(task)``), and reports what scored and what
overran its deadline.

Generic attacks   Responses that solve nothing whatever the env: empty and blank text, the
                  prompt echoed back, another seed's reference, the reference hidden inside an
                  unclosed or closed ``<think>`` block, the wrong answer and the reference fused
                  into one hedged answer, every option letter at once, oversize and deeply
                  nested text, odd Unicode (direction overrides, zero-width and full-width
                  characters, lone surrogates), tag injection, and values that are not text.
                  They are built from the task, its reference and its wrong response, so they
                  apply to envs users register themselves.
Family attacks    ``generator.attacks(task) -> list[(name, response)]``: what a policy would try
                  in that family (reaching the reference, spoofing a report, format tricks…).
Audit             ``audit(env_id, n, seed, difficulties)`` (a registered env) or
                  ``audit_pair(generator, verifier, …)`` (any pair, a family of your own
                  included) verifies every attack on ``n`` tasks per difficulty, ``workers``
                  calls at once (2 by default), each bounded by ``rlvr.scoring``'s watchdog
                  threads from its own start; a row per attack gives the
                  tasks tried, the highest reward, the slowest call and the calls that overran
                  ``deadline_s × 1.25 + 2 s`` (abandoned there), raised, or returned no
                  Verdict. ``AuditReport.passed`` is False when any attack scores above
                  ``max_reward`` (0 unless an opt-in partial-credit option sets a documented
                  cap) or any call overran, raised or returned no Verdict.
Chance            Two generic attacks can be right by coincidence: another seed's reference (a
                  satisfying assignment of an easy formula often satisfies another) and the
                  prompt echoed back (a format example such as ``<answer>B</answer>`` is a real
                  guess among k options). They are skipped where the two references are the same
                  text, and fail the audit only when they score on more than half of the tasks —
                  what a verifier that ignores the task, rather than luck, would do.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rlvr.core import Task, Verdict
from rlvr.scoring import DeadlineThreads

OVERRUN_FACTOR = 1.25
OVERRUN_SLACK_S = 2.0
OTHER_SEED_OFFSET = 7_919  # a seed far from the task's own, still deterministic
CHANCE_ATTACKS = frozenset({"another-seed-reference", "prompt-echo", "prompt-echo-answer"})
CHANCE_MAX_SHARE = 0.5
AUDIT_TASKS_IN_FLIGHT = 3  # tasks whose attacks may be queued or running at once


def _inside_answer(response: str) -> str:
    """The body of the last ``<answer>`` block of a reference-style response, else the text."""
    start = response.rfind("<answer>")
    end = response.rfind("</answer>")
    if start != -1 and end > start:
        return response[start + len("<answer>") : end]
    return response


def generic_attacks(task: Task, reference: str, wrong: str, other_reference: str | None) -> list[tuple[str, Any]]:
    """The attacks that apply to every env, as (name, response) pairs."""
    body = _inside_answer(reference)
    wrong_body = _inside_answer(wrong)
    attacks: list[tuple[str, Any]] = [
        ("empty", ""),
        ("blank", " \n\t\r\n "),
        ("prompt-echo", task.prompt),
        ("prompt-echo-answer", f"<answer>{task.prompt}</answer>"),
        ("reference-in-open-think", f"<think>{reference}"),
        ("reference-in-think", f"<think>{reference}</think>"),
        ("reference-then-open-think", f"{reference}<think>"),
        ("hedge-wrong-or-reference", f"<answer>{wrong_body} or {body}</answer>"),
        ("hedge-reference-or-wrong", f"<answer>{body} or {wrong_body}</answer>"),
        ("all-option-letters", "<answer>A, B, C, D, E, F, G, H</answer> \\boxed{A}\\boxed{B}\\boxed{C}\\boxed{D}"),
        ("nested-answer-tags", f"<answer><answer>{wrong_body}</answer>{body}</answer>"),
        ("oversize-ten-megabytes", "<answer>" + "1" * 10_000_000 + "</answer>"),
        (
            "oversize-reference-padding",
            "<answer>" + (body + " ") * max(1, 2_000_000 // max(1, len(body) + 1)) + "</answer>",
        ),
        ("deep-parentheses", "<answer>" + "(" * 200_000 + "1" + ")" * 200_000 + "</answer>"),
        # openers never closed: a lazy regex scanning to the end from each is quadratic (red team s14 C2)
        ("unclosed-fences", "`" * 600_000),
        ("unclosed-tags", "<tool_call>\n<answer>\n```json\n" * 20_000),
        ("deep-brackets", "<answer>" + "[" * 200_000 + "]" * 200_000 + "</answer>"),
        ("deep-braces", "\\boxed{" + "{" * 100_000 + "1" + "}" * 100_000 + "}"),
        ("unicode-direction-override", f"<answer>\u202e{wrong_body[::-1]}\u202c</answer>"),
        ("unicode-zero-width-wrong", "<answer>" + "\u200b".join(wrong_body) + "</answer>"),
        ("unicode-fullwidth-wrong", "<answer>" + wrong_body.translate(_FULLWIDTH) + "</answer>"),
        ("lone-surrogates", "<answer>\ud800\udfff\ud83d</answer>"),
        ("null-bytes", "<answer>\x00" * 64 + "</answer>"),
        ("control-characters", "<answer>" + "".join(chr(c) for c in range(32)) * 100 + "</answer>"),
        ("bytes-reference", reference.encode("utf-8", "surrogatepass")),
        ("none", None),
        ("integer", 1),
        ("list-of-reference", [reference]),
        ("dict-answer", {"answer": body}),
    ]
    if other_reference is not None and other_reference != reference:
        attacks.append(("another-seed-reference", other_reference))
    return attacks


_FULLWIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


@dataclass
class AttackRow:
    """What one attack did over the audited tasks."""

    attack: str
    tasks: int = 0
    max_reward: float = 0.0
    max_seconds: float = 0.0
    overruns: int = 0  # calls that overran the budget, raised, or returned no Verdict
    scored: int = 0  # tasks where it earned more than allowed
    example: str = ""  # the first task id and reason where it scored or overran

    @property
    def failed(self) -> bool:
        """Overran anywhere, or scored — for a chance attack, on more than half of its tasks."""
        if self.overruns:
            return True
        if self.attack in CHANCE_ATTACKS:
            return self.scored > CHANCE_MAX_SHARE * self.tasks
        return self.scored > 0


@dataclass
class AuditReport:
    env_id: str
    rows: list[AttackRow] = field(default_factory=list)
    tasks: int = 0
    max_reward_allowed: float = 0.0

    @property
    def scored(self) -> int:
        """Attacks that failed by scoring (chance attacks only above their share)."""
        return sum(1 for row in self.rows if row.failed and not row.overruns)

    @property
    def overran(self) -> int:
        return sum(1 for row in self.rows if row.overruns)

    @property
    def passed(self) -> bool:
        return not any(row.failed for row in self.rows)

    def table(self) -> str:
        header = ["attack", "tasks", "scored", "max reward", "max seconds", "overruns"]
        lines = [
            [
                row.attack + (" (chance)" if row.attack in CHANCE_ATTACKS else ""),
                str(row.tasks),
                str(row.scored),
                f"{row.max_reward:.3f}",
                f"{row.max_seconds:.2f}",
                str(row.overruns),
            ]
            for row in self.rows
        ]
        widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
        out = ["  ".join(c.ljust(w) for c, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
        out += ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines]
        for row in self.rows:
            if row.example:
                out.append(f"{'!' if row.failed else '~'} {row.attack}: {row.example}")
        out.append(f"{len(self.rows)} attacks × {self.tasks} tasks: {self.scored} scored, {self.overran} overran")
        return "\n".join(out)


def _submit_timed(
    threads: DeadlineThreads, verify: Callable[[Task, Any], Verdict], task: Task, responses: list, budget_s: float
) -> Callable[[], list[tuple[Verdict | None, float, str]]]:
    """Queue a call per response on the audit's watchdog threads (``rlvr.scoring``'s) and return
    what collects their (verdict, seconds, fault), in order. Seconds count from a call's own start,
    so a call queued behind others is not charged for the wait. ``fault`` is "" or what the
    verifier did wrong: it overran ``budget_s`` (its thread is abandoned, verdict None), raised,
    or returned something other than a Verdict."""
    overran = object()
    spans: list[list[float]] = [[] for _ in responses]

    def call(index: int, response: Any) -> Any:
        spans[index].append(time.monotonic())
        try:
            return verify(task, response)
        finally:
            spans[index].append(time.monotonic())

    def timed_out(index: int) -> Any:
        spans[index].append(time.monotonic())
        return overran

    pending = [
        threads.submit(lambda i=i, r=r: call(i, r), budget_s, on_timeout=lambda i=i: timed_out(i))
        for i, r in enumerate(responses)
    ]

    def collect() -> list[tuple[Verdict | None, float, str]]:
        results = []
        for span, future in zip(spans, pending):
            try:
                verdict, error = future.result(), None
            except Exception as raised:
                verdict, error = None, raised
            seconds = span[1] - span[0] if len(span) >= 2 else 0.0
            if error is not None:
                results.append((None, seconds, f"raised {type(error).__name__}: {str(error)[:100]}"))
            elif verdict is overran:
                results.append((None, seconds, f"took over {seconds:.1f}s (budget {budget_s:.1f}s)"))
            elif not isinstance(verdict, Verdict):
                results.append((None, seconds, f"returned {type(verdict).__name__}, not a Verdict"))
            elif seconds > budget_s:
                results.append((verdict, seconds, f"took {seconds:.1f}s (budget {budget_s:.1f}s)"))
            else:
                results.append((verdict, seconds, ""))
        return results

    return collect


def audit(
    env_id: str,
    n: int = 3,
    seed: int = 0,
    difficulties: tuple[float, ...] = (0.0, 0.5, 1.0),
    max_reward: float = 0.0,
    generator_options: dict | None = None,
    verifier_options: dict | None = None,
    attack_filter: str | None = None,
    workers: int = 2,
) -> AuditReport:
    """Run every generic and family attack on ``n`` tasks per difficulty of the registered env ``env_id``.

    ``max_reward`` is the highest reward an attack may earn (0 by default; an opt-in
    partial-credit option documents its own cap). ``attack_filter`` keeps attacks whose name
    contains it. ``workers`` calls run at once (verifiers are thread-safe; a sandboxed one
    waits on its child, so two calls use two cores). Never raises for what the verifier does.
    """
    import rlvr

    generator = rlvr.make_generator(env_id, **dict(generator_options or {}))
    verifier = rlvr.make_verifier(env_id, **dict(verifier_options or {}))
    return audit_pair(
        generator, verifier, n, seed, difficulties, max_reward, attack_filter, name=env_id, workers=workers
    )


def audit_pair(
    generator: Any,
    verifier: Any,
    n: int = 3,
    seed: int = 0,
    difficulties: tuple[float, ...] = (0.0, 0.5, 1.0),
    max_reward: float = 0.0,
    attack_filter: str | None = None,
    name: str | None = None,
    workers: int = 2,
) -> AuditReport:
    """The audit of any generator and verifier pair — a family of your own included.

    ``generator`` needs ``generate(seed, difficulty)``, ``solve(task)`` and
    ``wrong_response(task)`` (``attacks(task)`` is optional); ``verifier`` needs
    ``verify(task, response)``, callable from ``workers`` threads at once, and may set
    ``deadline_s`` (default 5 s).
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    if workers < 1:
        raise ValueError(f"workers must be positive, got {workers}")
    budget_s = float(getattr(verifier, "deadline_s", 5.0)) * OVERRUN_FACTOR + OVERRUN_SLACK_S
    report = AuditReport(name or type(generator).__name__, max_reward_allowed=max_reward)
    rows: dict[str, AttackRow] = {}

    def tally(task: Task, names: list[str], collect: Callable[[], list]) -> None:
        for attack, (verdict, seconds, fault) in zip(names, collect()):
            row = rows.setdefault(attack, AttackRow(attack))
            row.tasks += 1
            row.max_seconds = max(row.max_seconds, seconds)
            reward = verdict.reward if verdict is not None else 0.0
            row.max_reward = max(row.max_reward, reward)
            if fault:
                row.overruns += 1
                row.example = row.example or f"{task.id} {fault}"
            if reward > max_reward or (verdict is not None and verdict.correct):
                row.scored += 1
                row.example = row.example or f"{task.id} reward {reward:.3f}: {verdict.reason[:120]}"

    # a few tasks' calls in flight at once, so one slow attack does not hold up the next task's
    # (a task's attacks hold ~13 MB of oversize text: the window bounds memory)
    in_flight: collections.deque = collections.deque()
    threads = DeadlineThreads(workers, name="rlvr-audit")
    try:
        for difficulty in difficulties:
            for offset in range(n):
                task = generator.generate(seed + offset, difficulty)
                other = generator.generate(seed + offset + OTHER_SEED_OFFSET, difficulty)
                reference = generator.solve(task)
                attacks = generic_attacks(task, reference, generator.wrong_response(task), generator.solve(other))
                attacks += list(getattr(generator, "attacks", lambda _task: [])(task))
                attacks = [(name, response) for name, response in attacks if not attack_filter or attack_filter in name]
                report.tasks += 1
                collect = _submit_timed(threads, verifier.verify, task, [r for _, r in attacks], budget_s)
                in_flight.append((task, [name for name, _ in attacks], collect))
                del attacks
                while len(in_flight) > AUDIT_TASKS_IN_FLIGHT:
                    tally(*in_flight.popleft())
        while in_flight:
            tally(*in_flight.popleft())
    finally:
        threads.close()
    report.rows = sorted(rows.values(), key=lambda row: row.attack)
    return report
