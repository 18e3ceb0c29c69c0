"""How StepOrder tasks are made: a window of steps from a corpus document, shuffled under labels.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.step_order``; corpora are read by ``rlvr.generators.corpus``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import random
import re
import string
from collections import Counter
from itertools import permutations
from typing import Any

import numpy as np

from rlvr.core import Task, TaskGenerator
from rlvr.families.step_order import FAMILY
from rlvr.generators.corpus import MAX_STEP_CHARS, Corpus, id_suffix, load_corpus, numbered_steps
from rlvr.verifiers.step_order import read_labels

MAX_DRAWS = 256  # windows drawn per task while looking for one that is usable and leaks no order
NUMBER = re.compile(r"\d+(?:\.\d+)?")
FRACTION = re.compile(r"^\s*\$?\s*-?\s*\\frac\{(\d+)\}\{(\d+)\}\s*\$?\s*$")


def normalised(step: str) -> str:
    return " ".join(step.casefold().split())


def usable_window(steps: tuple[str, ...]) -> bool:
    """No two steps with the same text (case and spacing aside), none over MAX_STEP_CHARS."""
    return len({normalised(s) for s in steps}) == len(steps) and all(len(s) <= MAX_STEP_CHARS for s in steps)


def numbers(text: str) -> list[float]:
    return [float(number) for number in NUMBER.findall(text)]


def result_size(result: str) -> float:
    """|value| of a step's result (the text after its last '='): a fraction's quotient, else its
    largest number (0 when it has none)."""
    fraction = FRACTION.match(result)
    if fraction:
        return int(fraction.group(1)) / int(fraction.group(2))
    return max(numbers(result), default=0.0)


SURFACE_KEYS = {  # what a policy can sort steps by without reading them (red team S10-G10)
    "largest number": lambda step: max(numbers(step), default=0.0),
    "smallest number": lambda step: min(numbers(step), default=0.0),
    "digit count": lambda step: sum(c.isdigit() for c in step),
    "length": len,
    "word count": lambda step: len(step.split()),
    "count of numbers": lambda step: len(numbers(step)),
    "largest number left of '='": lambda step: max(numbers(step.rpartition("=")[0]), default=0.0),
    "largest number of the result": lambda step: max(numbers(step.rpartition("=")[2]), default=0.0),
    "digits of the result": lambda step: sum(c.isdigit() for c in step.rpartition("=")[2]),
    "size of the result": lambda step: result_size(step.rpartition("=")[2]),
}


NULL_ORDERS = 1_000  # orders the family-wise threshold is measured over (every order up to 6 steps)
FAMILY_LEVEL = 0.05  # random orders of a window's steps that the τ test rejects, at most
LUCKY_TIE_BREAKS = 120  # a sort that is the true order on 1 tie-break in this many (or fewer) gives it away


@functools.cache
def null_orders(count: int) -> np.ndarray:
    """(orders, count) array: every order of ``count`` steps when there are at most NULL_ORDERS,
    else NULL_ORDERS orders drawn by a generator seeded with ``count`` (the same in every process)."""
    if math.factorial(count) <= NULL_ORDERS:
        return np.array(list(permutations(range(count))), dtype=np.intp).reshape(-1, count)
    rng = np.random.default_rng(count)
    return np.array([rng.permutation(count) for _ in range(NULL_ORDERS)], dtype=np.intp)


def largest_surface_tau(values: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """For each order (rows of ``orders``), the largest |Kendall τ| of a surface measure with
    position, times the number of pairs (an integer), over the measures ``values`` (keys ×
    steps); tied pairs count 0, so τ is the mean τ of sorting by the measure with ties broken
    at random."""
    signs = np.sign(values[:, None, :] - values[:, :, None]).astype(np.int64)  # [key, i, j]: sign(v_j - v_i)
    first, second = np.triu_indices(values.shape[1], 1)
    sums = signs[:, orders[:, first], orders[:, second]].sum(axis=2)  # [key, order]
    return np.abs(sums).max(axis=0)


def surface_leak(steps: tuple[str, ...]) -> str | None:
    """Why ``steps`` (in their true order) would give their order away by a surface measure
    (``SURFACE_KEYS``, ascending or descending), or None: a measure whose sort, under one in
    at most LUCKY_TIE_BREAKS breakings of its ties, is exactly the true order or its reverse
    (named by that measure; up to 6 steps any breaking, so any monotone measure), or
    the largest |τ| of any measure with the true order beyond the 95 % quantile of that same
    largest |τ| over random orders of the same steps ("surface orders together";
    ``null_orders``). The τ test is family-wise: it rejects at most FAMILY_LEVEL of random
    orders of any window however many measures there are (red team S10b-B1: ten measures each
    tested at the verifier's 5 % chance τ rejected 2/3 of shuffled windows). The exact test is
    not: with 20 sorts of 4-5 steps some sort is exact for 32-58 % of random orders, but
    letting through the windows that a sort orders exactly on a tie-break of even odds or
    1 in 6 made sorting by largest number exact 5-26 times as often as chance (fraction chains
    at 5-6 steps, their numbers growing along the order with ties). From 7 steps a measure
    with two values (a result's digits) is monotone in many random orders, and its sort is
    exact on one tie-break in 5040 or fewer: such windows pass."""
    values = []
    for name, key in SURFACE_KEYS.items():
        row = [float(key(step)) for step in steps]
        values.append(row)
        if len(set(row)) == 1:
            continue  # sorting by it leaves the shown order, never the true one or its reverse
        tie_breaks = math.prod(math.factorial(size) for size in Counter(row).values())
        if (row == sorted(row) or row == sorted(row, reverse=True)) and tie_breaks <= LUCKY_TIE_BREAKS:
            return name
    array = np.array(values)
    null = largest_surface_tau(array, null_orders(len(steps)))
    limit = np.quantile(null, 1 - FAMILY_LEVEL, method="inverted_cdf")  # P(null > limit) <= FAMILY_LEVEL
    truth = largest_surface_tau(array, np.arange(len(steps), dtype=np.intp)[None, :])[0]
    return "surface orders together" if truth > limit else None


def shuffle_order(rng: random.Random, count: int, anchored: int) -> tuple[list[int], list[int]]:
    """(presentation: true step index shown at each position, anchored true indices): a shuffle
    whose unanchored steps appear neither in their true relative order nor reversed."""
    anchors = sorted(rng.sample(range(count), anchored))
    while True:
        shown = rng.sample(range(count), count)
        free = [index for index in shown if index not in anchors]
        if free != sorted(free) and free != sorted(free, reverse=True):
            return shown, anchors


class StepOrderGenerator(TaskGenerator):
    """StepOrder tasks from the corpus ``corpus=`` (``field=`` for a JSONL corpus)."""

    declaration = FAMILY

    def __init__(self, corpus: str | None = None, field: str | None = None):
        self.corpus: Corpus = load_corpus(corpus, field)
        # a document whose steps still count along (numbering the cleaning did not strip) is
        # left out: its numbers would give the order away (``numbered_steps``)
        procedures = [d for d in self.corpus.documents if d.procedure]
        self.procedures = tuple(d for d in procedures if not numbered_steps(d.steps))
        self.numbered = len(procedures) - len(self.procedures)
        self.id_suffix = id_suffix(self.corpus)
        self._eligible: dict[int, tuple[int, ...]] = {}

    def generate(self, seed: int, difficulty: float = 0.5, **overrides: Any) -> Task:
        task = super().generate(seed, difficulty, **overrides)
        return dataclasses.replace(task, id=task.id + self.id_suffix) if self.id_suffix else task

    def eligible(self, count: int) -> tuple[int, ...]:
        """Indices of the procedures with at least ``count`` steps."""
        if count not in self._eligible:
            self._eligible[count] = tuple(i for i, d in enumerate(self.procedures) if len(d.steps) >= count)
        return self._eligible[count]

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        count, anchored = params["steps"], params["anchored"]
        if anchored > count - 3:
            raise ValueError(f"anchored must be at most steps - 3 = {count - 3} (at least three steps to order)")
        pool = self.eligible(count)
        if not pool:
            numbered = (
                f' ({self.numbered} numbered in a way the cleaning keeps, e.g. "Step 1/8", are left out: '
                "strip their numbering)"
                if self.numbered
                else ""
            )
            raise ValueError(f"corpus {self.corpus.label} has no procedure with {count} steps{numbered}; lower steps")
        for _ in range(MAX_DRAWS):
            document = self.procedures[pool[rng.randrange(len(pool))]]
            start = rng.randint(0, len(document.steps) - count)
            window = document.steps[start : start + count]
            if usable_window(window) and surface_leak(window) is None:
                break
        else:
            raise ValueError(
                f"corpus {self.corpus.label}: no window of {count} distinct steps whose order no surface "
                f"measure gives away in {MAX_DRAWS} draws"
            )
        shown, anchors = shuffle_order(rng, count, anchored)
        labels = string.ascii_uppercase[:count]
        label_of = {true_index: labels[position] for position, true_index in enumerate(shown)}
        order = [label_of[i] for i in range(count)]
        answer = {"order": order}
        meta = {
            "corpus": self.corpus.label,
            "source": document.source,
            "window": [start, start + count],
            "anchored": [label_of[i] for i in anchors],
            "step_chars": sum(len(s) for s in window),
        }
        prompt = describe([window[i] for i in shown], labels, [(label_of[i], i + 1) for i in anchors])
        return {"prompt": prompt, "answer": answer, "meta": meta}

    def solve(self, task: Task) -> str:
        return f"<answer>{', '.join(task.answer['order'])}</answer>"

    def wrong_response(self, task: Task) -> str:
        """A near miss: the true order with its last two steps swapped."""
        order = list(task.answer["order"])
        order[-2], order[-1] = order[-1], order[-2]
        return f"<answer>{', '.join(order)}</answer>"

    def hints(self, task: Task) -> list[str]:
        """The true position of one step at a time, from the first, stopping two steps short."""
        order = task.answer["order"]
        return [f"Step {position + 1} is {label}." for position, label in enumerate(order[:-2])]

    def split_group(self, task: Task) -> Any:
        """The source document: every window of it, in any shuffle, is on one side (two windows
        of one document share steps and their order)."""
        return ["step-order", task.meta["corpus"], task.meta["source"]]

    def problem_key(self, task: Task) -> Any:
        """The source document and the window of its steps: the same steps in another shuffle,
        or with other steps anchored, are one problem."""
        return ["step-order", task.meta["corpus"], task.meta["source"], task.meta["window"]]

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """The shown order echoed (as labels and as texts), reversed, rotated, the true order
        reversed or with a swap, a label dropped or doubled, every label twice, two orders
        hedged, the step texts in the true order instead of labels, the true order padded
        with prose, and the steps sorted by each surface measure (``surface_sorts``; red team
        S10-G10: by their largest number, the order of 31-58 % of tasks)."""
        order = list(task.answer["order"])
        shown = sorted(order)
        swapped = order[:]
        swapped[0], swapped[1] = swapped[1], swapped[0]
        texts = step_texts(task)
        attacks = [
            ("echo-shown-order", ", ".join(shown)),
            ("shown-order-reversed", ", ".join(reversed(shown))),
            ("shown-order-rotated", ", ".join(shown[1:] + shown[:1])),
            ("true-order-reversed", ", ".join(reversed(order))),
            ("true-order-first-swap", ", ".join(swapped)),
            ("one-label-dropped", ", ".join(order[:-1])),
            ("one-label-doubled", ", ".join(order + order[-1:])),
            ("every-label-twice", ", ".join(label for label in order for _ in range(2))),
            ("true-order-twice", ", ".join(order + order)),
            ("hedge-two-orders", f"{', '.join(order)} or {', '.join(swapped)}"),
            ("hedge-slash", " / ".join(f"{a}{b}" for a, b in zip(order, swapped))),
            ("step-texts-in-order", "\n".join(texts[label] for label in order if label in texts)),
            ("true-order-with-prose", f"The order is {', '.join(order)}"),
            ("labels-as-positions", ", ".join(f"{label}: {i + 1}" for i, label in enumerate(shown))),
            ("unknown-label-appended", ", ".join(order + ["Z"])),
        ]
        attacks = [(name, text) for name, text in attacks if not reads_as(text, order)]
        # never filtered: the generator guarantees that no surface order is the true one
        attacks += [(f"surface-sort: {name}", ", ".join(labels)) for name, labels in surface_sorts(texts)]
        return [(name, f"<answer>{text}</answer>") for name, text in attacks]


def surface_sorts(texts: dict[str, str]) -> list[tuple[str, list[str]]]:
    """The labels sorted by each ``SURFACE_KEYS`` measure of their step's text, ascending and
    descending (ties in label order): orders a policy can produce without reading the steps."""
    labels = sorted(texts)
    sorts = []
    for name, key in SURFACE_KEYS.items():
        rising = sorted(labels, key=lambda label: key(texts[label]))
        falling = sorted(labels, key=lambda label: -key(texts[label]))
        sorts += [(f"{name} ascending", rising), (f"{name} descending", falling)]
    return sorts


def reads_as(text: str, order: list[str]) -> bool:
    """Whether ``text`` reads as exactly the true order (then it is an answer, not an attack)."""
    try:
        return read_labels(text) == order
    except ValueError:
        return False


def step_texts(task: Task) -> dict[str, str]:
    """{label: step text} read back from the prompt's step list."""
    texts = {}
    for line in task.prompt.splitlines():
        if len(line) > 3 and line[0] in string.ascii_uppercase and line[1:3] == ". ":
            texts.setdefault(line[0], line[3:])
    return texts


def describe(steps: list[str], labels: str, anchors: list[tuple[str, int]]) -> str:
    listed = "\n".join(f"{label}. {step}" for label, step in zip(labels, steps))
    given = ""
    if anchors:
        given = "\nGiven: " + "; ".join(f"{label} is step {position}" for label, position in anchors) + ".\n"
    return (
        f"The {len(steps)} steps below come from one worked solution or procedure, shuffled. Put them back in their "
        f"original order.\n\n{listed}\n{given}\n"
        "Put your final answer inside <answer>…</answer>: every label exactly once, in order, separated by commas, "
        "for example <answer>X, Y, Z</answer> (with this task's labels)."
    )
