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
            orders, τ = 1 − 2 · discordant pairs / all pairs, paid above chance:
            max(0, (τ − q) / (1 − q)), q the τ that a uniformly random order of that many
            labels exceeds with probability at most 5 % (``chance_tau``, exact, from the
            distribution of inversions). An order that ignores the steps earns at most a few
            hundredths on average (clipping τ at 0 still paid alphabetical order 0.10–0.19);
            with 4 labels only the exact order scores. Below 1 unless the order is exact (any
            other permutation has a discordant pair).
Bounds      At most ``MAX_ANSWER_CHARS`` characters and ``MAX_TOKENS`` tokens; linear work
            plus O(n²) pairs for n ≤ 12 labels.
"""

from __future__ import annotations

import functools
import math
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


CHANCE_LEVEL = 0.05  # kendall credit starts above the τ random orders exceed this often


@functools.cache
def chance_tau(labels: int) -> float:
    """The largest τ = 1 − 2k / pairs such that a uniformly random order of ``labels`` labels
    has fewer than k inversions with probability at most CHANCE_LEVEL (counts of permutations
    by inversions: the Mahonian numbers, built one label at a time)."""
    pairs = labels * (labels - 1) // 2
    counts = [1]
    for n in range(2, labels + 1):  # a new label adds 0 … n − 1 inversions
        counts = [sum(counts[k - j] for j in range(n) if 0 <= k - j < len(counts)) for k in range(len(counts) + n - 1)]
    total, below, k = math.factorial(labels), 0, 0
    while k < pairs and below + counts[k] <= CHANCE_LEVEL * total:
        below += counts[k]
        k += 1
    return 1.0 - 2 * k / pairs if pairs else 1.0


def kendall_reward(order: list[str], truth: list[str]) -> float:
    """Kendall's τ paid above chance: max(0, (τ − q) / (1 − q)) with q = ``chance_tau``; 1 for
    the exact order (module docstring)."""
    pairs = len(truth) * (len(truth) - 1) // 2
    if not pairs:
        return 1.0
    tau = 1.0 - 2 * discordant_pairs(order, truth) / pairs
    if tau >= 1.0:
        return 1.0
    floor = chance_tau(len(truth))
    return max(0.0, (tau - floor) / (1.0 - floor)) if floor < 1.0 else 0.0


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
