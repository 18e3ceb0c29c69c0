"""StepOrder verifier: read the labels in the answer, compare their order with the true one.

Input       A ``Task`` of rlvr.generators.step_order: ``task.answer`` = {"order": [labels in the
            true order]}; and the model's whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Reading     The block is cut into words, numbers and single characters. Numbers (numbering),
            the words "step", "steps", "then" and separators (whitespace, newlines, commas,
            semicolons, colons, full stops, brackets, arrows "->" "→" "=>" "⇒", dashes, "|", "/",
            "*", "•", ">") are ignored; every remaining word must be a single letter, read as a
            label (any case). Anything else — "or", a step's text, a symbol — is a format error.
Correct     The labels must be exactly the task's, each once. ``scoring="exact"``: 1 when they
            are in the true order, else 0. ``scoring="kendall"``: Kendall's tau between the two
            orders, τ = 1 − 2 · discordant pairs / all pairs, clipped at 0 (a random order has
            τ = 0 on average, and an order that ignores the steps earns little); below 1 unless
            the order is exact (any other permutation has a discordant pair).
Bounds      At most ``MAX_ANSWER_CHARS`` characters and ``MAX_TOKENS`` tokens; linear work
            plus O(n²) pairs for n ≤ 12 labels.
"""

from __future__ import annotations

import re
from itertools import combinations

from rlvr.core import SafeVerifier, Task, Verdict, extract_answer

MAX_ANSWER_CHARS = 2_000
MAX_TOKENS = 400
SCORINGS = ("exact", "kendall")
TOKEN = re.compile(r"[^\W\d_]+|\d+|\S", re.UNICODE)
FILLER_WORDS = frozenset({"step", "steps", "then"})
SEPARATORS = frozenset(",;:.()[]{}<>-–—=|/*•→⇒➔⟶↦\u2192")


class ReadError(ValueError):
    """The block is not a list of labels."""


def read_labels(block: str) -> list[str]:
    """The labels of an answer block, upper-cased, in the order written; ReadError otherwise."""
    if len(block) > MAX_ANSWER_CHARS:
        raise ReadError(f"answer longer than {MAX_ANSWER_CHARS} characters")
    labels = []
    for count, match in enumerate(TOKEN.finditer(block)):
        if count >= MAX_TOKENS:
            raise ReadError(f"more than {MAX_TOKENS} tokens")
        token = match.group()
        if token.isdigit() or token in SEPARATORS or token.lower() in FILLER_WORDS:
            continue
        if len(token) == 1 and token.isascii() and token.isalpha():
            labels.append(token.upper())
            continue
        raise ReadError(f"unexpected {token[:20]!r}: write only the step labels in order")
    return labels


def discordant_pairs(order: list[str], truth: list[str]) -> int:
    """Pairs of labels that ``order`` puts the other way round from ``truth`` (same label set)."""
    position = {label: index for index, label in enumerate(order)}
    return sum(position[a] > position[b] for a, b in combinations(truth, 2))


def kendall_reward(order: list[str], truth: list[str]) -> float:
    """Kendall's τ = 1 − 2 · discordant / all pairs, clipped to [0, 1]: a random order scores
    τ = 0 on average, so an order that ignores the steps (alphabetical, reversed) earns little."""
    pairs = len(truth) * (len(truth) - 1) // 2
    return min(1.0, max(0.0, 1.0 - 2 * discordant_pairs(order, truth) / pairs)) if pairs else 1.0


class StepOrderVerifier(SafeVerifier):
    """Judges a StepOrder answer (module docstring); never raises."""

    deadline_s = 1.0

    def __init__(self, scoring: str = "exact"):
        if scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {', '.join(SCORINGS)}, got {scoring!r}")
        self.scoring = scoring

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block")
        truth = [str(label) for label in task.answer["order"]]
        try:
            order = read_labels(block)
        except ReadError as error:
            return Verdict.fail(f"unreadable answer: {error}")
        unknown = sorted(set(order) - set(truth))
        if unknown:
            return Verdict.fail(f"label {unknown[0]} is not one of the steps ({', '.join(sorted(truth))})")
        repeated = sorted({label for label in order if order.count(label) > 1})
        if repeated:
            return Verdict.fail(f"label {repeated[0]} is given more than once")
        missing = sorted(set(truth) - set(order))
        if missing:
            return Verdict.fail(f"{len(missing)} step(s) missing, e.g. {missing[0]}")
        discordant = discordant_pairs(order, truth)
        details = {"order": order, "discordant_pairs": discordant}
        if order == truth:
            return Verdict.success(**details)
        reward = kendall_reward(order, truth) if self.scoring == "kendall" else 0.0
        return Verdict(min(reward, 1.0 - 1e-9), False, True, f"wrong order ({discordant} pair(s) reversed)", details)
