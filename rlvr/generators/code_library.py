"""The operation library of the synthetic code family: small list/text/number transformations,
each with a natural-language phrasing and a reference implementation written as Python source.

A problem is a pipeline of operations; each operation takes the previous result and returns the
next. Values flow through five kinds:

    ints    list[int]               text    str               number  int
    float   float (final only)      pairs   list[tuple[int, int]] (final only)

``render_function_program`` and ``render_stdio_program`` turn a pipeline into a complete reference
program (a module defining the entry point, or a stdin→stdout program; an empty pipeline gives the
identity, which the generator uses to redraw tasks whose tests it passes); ``run_function`` and
``run_stdio`` execute such *trusted generated* programs in-process to compute expected outputs.
Never pass model-written code to them.

Every reference step is O(n) or O(n log n). Operations marked ``quadratic_naive`` have an obvious
O(n²) implementation (a list membership scan, a slice maximum per position, a double loop over
pairs) that a large input punishes; the generator puts one of them first when it adds a
performance test.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

# Python source of each value kind's type annotation.
ANNOTATIONS = MappingProxyType(
    {
        "ints": "list[int]",
        "text": "str",
        "number": "int",
        "float": "float",
        "pairs": "list[tuple[int, int]]",
    }
)

# The argument name each step function uses for its input kind.
ARGUMENT_NAMES = MappingProxyType({"ints": "values", "text": "text", "number": "number"})

# Kinds that end a pipeline: nothing takes them.
FINAL_KINDS = ("float", "pairs")


@dataclass(frozen=True)
class Limits:
    """Scale of the numbers an operation's constants are drawn against."""

    value_limit: int  # inputs lie in [-value_limit, value_limit]
    max_length: int  # random test inputs have at most this many elements / characters


@dataclass(frozen=True)
class Operation:
    """One pipeline step: ``takes`` → ``gives``, constants drawn by ``draw``, phrased by
    ``describe``, implemented by ``body`` (the indented body of ``def name(argument):``)."""

    name: str
    takes: str
    gives: str
    describe: Callable[[dict], str]
    body: Callable[[dict], str]
    draw: Callable[[random.Random, Limits, bool], dict] = lambda rng, limits, trap: {}
    quadratic_naive: bool = False  # an obvious O(n²) solution exists; a 10^5 input punishes it


def _signed_term(value: int) -> str:
    return f"+ {value}" if value >= 0 else f"- {-value}"


def _small(limits: Limits) -> int:
    """Constants (thresholds, bounds) stay on a readable scale so examples stay informative."""
    return max(2, min(limits.value_limit, 50))


# --------------------------------------------------------------------------------------------
# list[int] → list[int]
# --------------------------------------------------------------------------------------------


def _draw_scale_shift(rng: random.Random, limits: Limits, trap: bool) -> dict:
    return {"factor": rng.choice([-3, -2, 2, 3, 4, 5]), "offset": rng.randint(-9, 9)}


def _describe_scale_shift(p: dict) -> str:
    offset = p["offset"]
    tail = f"then add {offset}" if offset >= 0 else f"then subtract {-offset}"
    return f"Multiply every number by {p['factor']} and {tail}."


def _draw_window(rng: random.Random, limits: Limits, trap: bool) -> dict:
    if trap or rng.random() < 0.3:
        return {"width": "half"}
    return {"width": rng.randint(2, 4)}


def _describe_window(p: dict) -> str:
    if p["width"] == "half":
        return (
            "Let n be the current length and w = n // 2 + 1 (integer division). Replace the list by "
            "the sums of all runs of w consecutive numbers, from left to right: n - w + 1 sums "
            "(an empty list stays empty)."
        )
    k = p["width"]
    return (
        f"Replace the list by the sums of all runs of {k} consecutive numbers, from left to right: "
        f"n - {k} + 1 sums for a list of length n, and an empty list when n < {k}."
    )


def _body_window(p: dict) -> str:
    width = "len(values) // 2 + 1" if p["width"] == "half" else str(p["width"])
    return (
        f"    width = {width}\n"
        "    if len(values) < width:\n"
        "        return []\n"
        "    sums = [sum(values[:width])]\n"
        "    for i in range(width, len(values)):\n"
        "        sums.append(sums[-1] + values[i] - values[i - width])\n"
        "    return sums\n"
    )


def _draw_clamp(rng: random.Random, limits: Limits, trap: bool) -> dict:
    small = _small(limits)
    low = rng.randint(-small, small // 2)
    return {"low": low, "high": rng.randint(low + 1, small)}


def _draw_modulo(rng: random.Random, limits: Limits, trap: bool) -> dict:
    return {"modulus": rng.randint(2, 12)}


def _describe_modulo(p: dict) -> str:
    m = p["modulus"]
    return (
        f"Replace every number x by its remainder modulo {m}, always in the range 0 to {m - 1} "
        f"(for example -7 becomes {(-7) % m})."
    )


LIST_OPERATIONS = (
    Operation(
        "scale_shift",
        "ints",
        "ints",
        _describe_scale_shift,
        lambda p: f"    return [x * {p['factor']} {_signed_term(p['offset'])} for x in values]\n",
        _draw_scale_shift,
    ),
    Operation(
        "square",
        "ints",
        "ints",
        lambda p: "Replace every number by its square.",
        lambda p: "    return [x * x for x in values]\n",
    ),
    Operation(
        "absolute",
        "ints",
        "ints",
        lambda p: "Replace every number by its absolute value.",
        lambda p: "    return [abs(x) for x in values]\n",
    ),
    Operation(
        "keep_parity",
        "ints",
        "ints",
        lambda p: (
            "Keep only the even numbers (zero is even), in their original order."
            if p["parity"] == "even"
            else "Keep only the odd numbers, in their original order."
        ),
        lambda p: f"    return [x for x in values if x % 2 == {0 if p['parity'] == 'even' else 1}]\n",
        lambda rng, limits, trap: {"parity": rng.choice(["even", "odd"])},
    ),
    Operation(
        "keep_greater",
        "ints",
        "ints",
        lambda p: f"Keep only the numbers strictly greater than {p['threshold']}, in their original order.",
        lambda p: f"    return [x for x in values if x > {p['threshold']}]\n",
        lambda rng, limits, trap: {"threshold": rng.randint(-_small(limits) // 2, _small(limits) // 2)},
    ),
    Operation(
        "keep_divisible",
        "ints",
        "ints",
        lambda p: (
            f"Keep only the numbers divisible by {p['divisor']} (zero is divisible by every number), "
            "in their original order."
        ),
        lambda p: f"    return [x for x in values if x % {p['divisor']} == 0]\n",
        lambda rng, limits, trap: {"divisor": rng.randint(2, 5)},
    ),
    Operation(
        "sort_values",
        "ints",
        "ints",
        lambda p: f"Sort the numbers in {p['order']} order.",
        lambda p: (
            "    return sorted(values)\n" if p["order"] == "ascending" else "    return sorted(values, reverse=True)\n"
        ),
        lambda rng, limits, trap: {"order": rng.choice(["ascending", "descending"])},
    ),
    Operation(
        "reverse_values",
        "ints",
        "ints",
        lambda p: "Reverse the order of the numbers.",
        lambda p: "    return values[::-1]\n",
    ),
    Operation("window_sums", "ints", "ints", _describe_window, _body_window, _draw_window, quadratic_naive=True),
    Operation(
        "prefix_sums",
        "ints",
        "ints",
        lambda p: "Replace the list by its running totals: the i-th number becomes the sum of the first i numbers.",
        lambda p: (
            "    totals = []\n    running = 0\n    for x in values:\n        running += x\n"
            "        totals.append(running)\n    return totals\n"
        ),
    ),
    Operation(
        "dedupe",
        "ints",
        "ints",
        lambda p: "Remove repeated numbers, keeping only the first occurrence of each value, in their original order.",
        lambda p: "    return list(dict.fromkeys(values))\n",
        quadratic_naive=True,
    ),
    Operation(
        "differences",
        "ints",
        "ints",
        lambda p: (
            "Replace the list by the differences of neighbouring numbers: b - a for each adjacent pair (a, b), "
            "from left to right (one number fewer; an empty list when there are fewer than two numbers)."
        ),
        lambda p: "    return [b - a for a, b in zip(values, values[1:])]\n",
    ),
    Operation(
        "clamp",
        "ints",
        "ints",
        lambda p: (
            f"Clamp every number into the range [{p['low']}, {p['high']}]: numbers below {p['low']} become "
            f"{p['low']} and numbers above {p['high']} become {p['high']}."
        ),
        lambda p: f"    return [min(max(x, {p['low']}), {p['high']}) for x in values]\n",
        _draw_clamp,
    ),
    Operation(
        "digit_sums",
        "ints",
        "ints",
        lambda p: (
            "Replace every number by the sum of the decimal digits of its absolute value (for example -305 becomes 8)."
        ),
        lambda p: "    return [sum(int(digit) for digit in str(abs(x))) for x in values]\n",
    ),
    Operation(
        "running_max",
        "ints",
        "ints",
        lambda p: (
            "Replace every number by the largest number among it and all the numbers before it (the running maximum)."
        ),
        lambda p: (
            "    result = []\n    for x in values:\n        result.append(x if not result or x > result[-1] else "
            "result[-1])\n    return result\n"
        ),
        quadratic_naive=True,
    ),
    Operation(
        "modulo",
        "ints",
        "ints",
        _describe_modulo,
        lambda p: f"    return [x % {p['modulus']} for x in values]\n",
        _draw_modulo,
    ),
    Operation(
        "take_first",
        "ints",
        "ints",
        lambda p: f"Keep only the first {p['count']} numbers (all of them if there are fewer).",
        lambda p: f"    return values[:{p['count']}]\n",
        lambda rng, limits, trap: {"count": rng.randint(1, 8)},
    ),
    Operation(
        "leaders",
        "ints",
        "ints",
        lambda p: (
            "Keep only the numbers that are strictly greater than every number after them, in their original "
            "order (the last number is always kept)."
        ),
        lambda p: (
            "    kept = []\n    for x in reversed(values):\n        if not kept or x > kept[-1]:\n"
            "            kept.append(x)\n    return kept[::-1]\n"
        ),
    ),  # not a trap: a naive all(...) scan stops early on random data
)

# --------------------------------------------------------------------------------------------
# list[int] → int / float / pairs
# --------------------------------------------------------------------------------------------

LIST_REDUCTIONS = (
    Operation(
        "total",
        "ints",
        "number",
        lambda p: "Take the sum of the numbers (0 for an empty list).",
        lambda p: "    return sum(values)\n",
    ),
    Operation(
        "extreme",
        "ints",
        "number",
        lambda p: f"Take the {'largest' if p['which'] == 'max' else 'smallest'} number (0 for an empty list).",
        lambda p: f"    return {p['which']}(values) if values else 0\n",
        lambda rng, limits, trap: {"which": rng.choice(["max", "min"])},
    ),
    Operation(
        "count_distinct",
        "ints",
        "number",
        lambda p: "Count how many different values there are.",
        lambda p: "    return len(set(values))\n",
        quadratic_naive=True,
    ),
    Operation(
        "max_subarray",
        "ints",
        "number",
        lambda p: "Take the largest sum of a non-empty run of consecutive numbers (0 for an empty list).",
        lambda p: (
            "    if not values:\n        return 0\n    best = current = values[0]\n    for x in values[1:]:\n"
            "        current = max(x, current + x)\n        best = max(best, current)\n    return best\n"
        ),
        quadratic_naive=True,
    ),
    Operation(
        "count_pairs_with_sum",
        "ints",
        "number",
        lambda p: f"Count the pairs of positions i < j whose numbers add up to exactly {p['target']}.",
        lambda p: (
            "    seen = {}\n    pairs = 0\n    for x in values:\n"
            f"        pairs += seen.get({p['target']} - x, 0)\n"
            "        seen[x] = seen.get(x, 0) + 1\n    return pairs\n"
        ),
        lambda rng, limits, trap: {"target": rng.randint(-_small(limits) // 5, _small(limits) // 5)},
        quadratic_naive=True,
    ),
    Operation("length", "ints", "number", lambda p: "Count the numbers.", lambda p: "    return len(values)\n"),
    Operation(
        "most_frequent",
        "ints",
        "number",
        lambda p: (
            "Take the value that occurs most often; if several values tie, the smallest of them (0 for an empty list)."
        ),
        lambda p: (
            "    if not values:\n        return 0\n    counts = {}\n    for x in values:\n"
            "        counts[x] = counts.get(x, 0) + 1\n    top = max(counts.values())\n"
            "    return min(x for x, count in counts.items() if count == top)\n"
        ),
        quadratic_naive=True,
    ),
    Operation(
        "mean",
        "ints",
        "float",
        lambda p: "Take the arithmetic mean of the numbers as a float (0.0 for an empty list).",
        lambda p: "    return sum(values) / len(values) if values else 0.0\n",
    ),
    Operation(
        "run_lengths",
        "ints",
        "pairs",
        lambda p: (
            "Compress runs of equal adjacent numbers: the result is a list of (value, run length) tuples, "
            "one per maximal run, from left to right."
        ),
        lambda p: (
            "    runs = []\n    for x in values:\n        if runs and runs[-1][0] == x:\n"
            "            runs[-1] = (x, runs[-1][1] + 1)\n        else:\n            runs.append((x, 1))\n"
            "    return runs\n"
        ),
    ),
    Operation(
        "frequency_table",
        "ints",
        "pairs",
        lambda p: (
            "Count each distinct value: the result is a list of (value, count) tuples sorted by value, ascending."
        ),
        lambda p: (
            "    counts = {}\n    for x in values:\n        counts[x] = counts.get(x, 0) + 1\n"
            "    return sorted(counts.items())\n"
        ),
    ),
)

# --------------------------------------------------------------------------------------------
# int → int
# --------------------------------------------------------------------------------------------

NUMBER_OPERATIONS = (
    Operation(
        "number_digit_sum",
        "number",
        "number",
        lambda p: "Replace the number by the sum of the decimal digits of its absolute value.",
        lambda p: "    return sum(int(digit) for digit in str(abs(number)))\n",
    ),
    Operation(
        "number_digit_count",
        "number",
        "number",
        lambda p: "Replace the number by how many decimal digits its absolute value has (0 has one digit).",
        lambda p: "    return len(str(abs(number)))\n",
    ),
    Operation(
        "number_modulo",
        "number",
        "number",
        lambda p: f"Replace the number by its remainder modulo {p['modulus']}, in the range 0 to {p['modulus'] - 1}.",
        lambda p: f"    return number % {p['modulus']}\n",
        lambda rng, limits, trap: {"modulus": rng.randint(3, 1000)},
    ),
    Operation(
        "number_scale_shift",
        "number",
        "number",
        lambda p: _describe_scale_shift(p).replace("every number", "the number"),
        lambda p: f"    return number * {p['factor']} {_signed_term(p['offset'])}\n",
        _draw_scale_shift,
    ),
)

# --------------------------------------------------------------------------------------------
# str → str / int / list[int]
# --------------------------------------------------------------------------------------------

_CASE_PHRASES = MappingProxyType(
    {
        "lower": ("Convert every letter to lowercase.", "text.lower()"),
        "upper": ("Convert every letter to uppercase.", "text.upper()"),
        "swap": (
            "Swap the case of every letter (lowercase becomes uppercase and uppercase becomes lowercase).",
            "text.swapcase()",
        ),
    }
)

_KEEP_PHRASES = MappingProxyType(
    {
        "letters": ("Keep only the letters (a-z, A-Z), dropping every other character.", "char.isalpha()"),
        "digits": ("Keep only the digits 0-9, dropping every other character.", "char.isdigit()"),
        "consonants": (
            "Remove every vowel (a, e, i, o, u, in either case); keep all other characters.",
            "char not in 'aeiouAEIOU'",
        ),
    }
)


def _describe_caesar(p: dict) -> str:
    k = p["shift"]
    example_lower = chr((ord("y") - 97 + k) % 26 + 97)
    example_upper = chr((ord("A") - 65 + k) % 26 + 65)
    return (
        f"Shift every letter {k} places forward in the alphabet, wrapping around from z to a and keeping its case "
        f"('y' becomes '{example_lower}', 'A' becomes '{example_upper}'); other characters stay as they are."
    )


TEXT_OPERATIONS = (
    Operation(
        "change_case",
        "text",
        "text",
        lambda p: _CASE_PHRASES[p["mode"]][0],
        lambda p: f"    return {_CASE_PHRASES[p['mode']][1]}\n",
        lambda rng, limits, trap: {"mode": rng.choice(sorted(_CASE_PHRASES))},
    ),
    Operation(
        "reverse_text",
        "text",
        "text",
        lambda p: "Reverse the text (its last character comes first).",
        lambda p: "    return text[::-1]\n",
    ),
    Operation(
        "keep_chars",
        "text",
        "text",
        lambda p: _KEEP_PHRASES[p["kind"]][0],
        lambda p: f"    return ''.join(char for char in text if {_KEEP_PHRASES[p['kind']][1]})\n",
        lambda rng, limits, trap: {"kind": rng.choice(sorted(_KEEP_PHRASES))},
    ),
    Operation(
        "caesar_shift",
        "text",
        "text",
        _describe_caesar,
        lambda p: (
            "    shifted = []\n    for char in text:\n        if 'a' <= char <= 'z':\n"
            f"            shifted.append(chr((ord(char) - 97 + {p['shift']}) % 26 + 97))\n"
            "        elif 'A' <= char <= 'Z':\n"
            f"            shifted.append(chr((ord(char) - 65 + {p['shift']}) % 26 + 65))\n"
            "        else:\n            shifted.append(char)\n    return ''.join(shifted)\n"
        ),
        lambda rng, limits, trap: {"shift": rng.randint(1, 25)},
    ),
    Operation(
        "dedupe_chars",
        "text",
        "text",
        lambda p: (
            "Remove repeated characters, keeping only the first occurrence of each character "
            "('a' and 'A' are different characters; a space is a character too)."
        ),
        lambda p: "    return ''.join(dict.fromkeys(text))\n",
    ),
    Operation(
        "reverse_words",
        "text",
        "text",
        lambda p: (
            "Split the text into words at spaces (runs of spaces count as one separator; leading or trailing "
            "spaces make no empty words), reverse the order of the words and join them with single spaces."
        ),
        lambda p: "    return ' '.join(text.split()[::-1])\n",
    ),
    Operation(
        "encode_runs",
        "text",
        "text",
        lambda p: (
            "Replace every maximal run of one repeated character by that character followed by the length of "
            "the run (for example 'aaab  c' becomes 'a3b1 2c1')."
        ),
        lambda p: (
            "    pieces = []\n    start = 0\n    while start < len(text):\n        end = start\n"
            "        while end < len(text) and text[end] == text[start]:\n            end += 1\n"
            "        pieces.append(text[start] + str(end - start))\n        start = end\n"
            "    return ''.join(pieces)\n"
        ),
    ),
    Operation(
        "count_vowels",
        "text",
        "number",
        lambda p: "Count the vowels (a, e, i, o, u, in either case).",
        lambda p: "    return sum(1 for char in text if char in 'aeiouAEIOU')\n",
    ),
    Operation(
        "longest_run",
        "text",
        "number",
        lambda p: "Take the length of the longest run of one repeated character (0 for empty text).",
        lambda p: (
            "    best = run = 0\n    previous = None\n    for char in text:\n"
            "        run = run + 1 if char == previous else 1\n        previous = char\n"
            "        best = max(best, run)\n    return best\n"
        ),
    ),
    Operation(
        "count_distinct_chars",
        "text",
        "number",
        lambda p: "Count how many different characters the text contains (a space counts; case matters).",
        lambda p: "    return len(set(text))\n",
    ),
    Operation(
        "equal_char_pairs",
        "text",
        "number",
        lambda p: "Count the pairs of positions i < j that hold the same character (case matters).",
        lambda p: (
            "    counts = {}\n    for char in text:\n        counts[char] = counts.get(char, 0) + 1\n"
            "    return sum(count * (count - 1) // 2 for count in counts.values())\n"
        ),
        quadratic_naive=True,
    ),
    Operation(
        "word_lengths",
        "text",
        "ints",
        lambda p: "Split the text into words at spaces and replace it by the list of the word lengths, in order.",
        lambda p: "    return [len(word) for word in text.split()]\n",
    ),
    Operation(
        "char_codes",
        "text",
        "ints",
        lambda p: "Replace the text by the list of its character codes (Python's ord), in order.",
        lambda p: "    return [ord(char) for char in text]\n",
    ),
    Operation(
        "occurrences_before",
        "text",
        "ints",
        lambda p: (
            "Replace the text by a list of numbers, one per character: how many times that character already "
            "occurred earlier in the text."
        ),
        lambda p: (
            "    seen = {}\n    result = []\n    for char in text:\n        result.append(seen.get(char, 0))\n"
            "        seen[char] = seen.get(char, 0) + 1\n    return result\n"
        ),
        quadratic_naive=True,
    ),
)

OPERATIONS: tuple[Operation, ...] = LIST_OPERATIONS + LIST_REDUCTIONS + NUMBER_OPERATIONS + TEXT_OPERATIONS
OPERATIONS_BY_NAME = MappingProxyType({op.name: op for op in OPERATIONS})


@dataclass(frozen=True)
class Step:
    """One operation with its drawn constants."""

    operation: Operation
    params: dict

    def describe(self) -> str:
        return self.operation.describe(self.params)

    def to_dict(self) -> dict:
        return {"op": self.operation.name, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, row: dict) -> Step:
        return cls(OPERATIONS_BY_NAME[row["op"]], dict(row["params"]))


# --------------------------------------------------------------------------------------------
# Pipelines
# --------------------------------------------------------------------------------------------


def _can_finish(kind: str, remaining: int, used: set[str]) -> bool:
    """Whether a pipeline holding a ``kind`` value can take exactly ``remaining`` more steps."""
    if remaining == 0:
        return True
    if kind in FINAL_KINDS:
        return False
    if kind == "number":
        return sum(1 for op in NUMBER_OPERATIONS if op.name not in used) >= remaining
    return True


def _choice_weight(operation: Operation, remaining: int) -> float:
    """Reducing a list or text to one number early leaves only number steps: make it rare."""
    if operation.gives == "number" and operation.takes != "number":
        return 1.0 if remaining <= 1 else 0.25 if remaining == 2 else 0.05
    return 1.0


def draw_pipeline(rng: random.Random, input_kind: str, depth: int, limits: Limits, trap: bool) -> list[Step]:
    """``depth`` distinct operations chained from ``input_kind``; with ``trap`` the first one has
    an obvious quadratic solution (and a window op gets the ⌊n/2⌋+1 width)."""
    steps: list[Step] = []
    used: set[str] = set()
    kind = input_kind
    for position in range(depth):
        remaining = depth - position - 1
        candidates = [
            op
            for op in OPERATIONS
            if op.takes == kind and op.name not in used and _can_finish(op.gives, remaining, used | {op.name})
        ]
        if trap and position == 0:
            candidates = [op for op in candidates if op.quadratic_naive]
        if not candidates:
            raise RuntimeError(f"no operation continues a {kind} pipeline with {remaining} steps left")
        weights = [_choice_weight(op, remaining) for op in candidates]
        operation = rng.choices(candidates, weights)[0]
        steps.append(Step(operation, operation.draw(rng, limits, trap and position == 0)))
        used.add(operation.name)
        kind = operation.gives
    return steps


def output_kind(steps: list[Step]) -> str:
    return steps[-1].operation.gives


def _step_functions(steps: list[Step]) -> str:
    parts = []
    for step in steps:
        argument = ARGUMENT_NAMES[step.operation.takes]
        parts.append(
            f"def {step.operation.name}({argument}):\n    # {step.describe()}\n{step.operation.body(step.params)}"
        )
    return "\n\n\n".join(parts)


def _pipeline_call(steps: list[Step], argument: str) -> str:
    lines = [f"    result = {argument}\n"]
    lines += [f"    result = {step.operation.name}(result)\n" for step in steps]
    lines.append("    return result\n")
    return "".join(lines)


def _kinds(steps: list[Step], input_kind: str | None) -> tuple[str, str]:
    """(input kind, output kind) of a pipeline; an empty one (the identity) on ``input_kind``."""
    if steps:
        return steps[0].operation.takes, output_kind(steps)
    if input_kind not in ARGUMENT_NAMES:
        raise ValueError(f"an empty pipeline needs an input kind, not {input_kind!r}")
    return input_kind, input_kind


def render_function_program(steps: list[Step], entry_point: str, input_kind: str | None = None) -> str:
    """A module defining ``entry_point``: the pipeline as one function with a helper per step.
    With no steps (``input_kind`` then names the argument's kind) the function hands its
    argument back: the identity a program ignoring the task would be."""
    input_kind, gives = _kinds(steps, input_kind)
    argument = ARGUMENT_NAMES[input_kind]
    signature = f"def {entry_point}({argument}: {ANNOTATIONS[input_kind]}) -> {ANNOTATIONS[gives]}:\n"
    return f"{_step_functions(steps)}\n\n{signature}{_pipeline_call(steps, argument)}"


_READERS = MappingProxyType(
    {
        "ints": (
            "    tokens = stdin.read().split()\n"
            "    count = int(tokens[0]) if tokens else 0\n"
            "    values = [int(token) for token in tokens[1:count + 1]]\n"
        ),
        "text": "    text = stdin.readline().rstrip('\\r\\n')\n",
    }
)

_WRITERS = MappingProxyType(
    {
        "ints": "    stdout.write(' '.join(map(str, result)) + '\\n')\n",
        "number": "    stdout.write(str(result) + '\\n')\n",
        "float": "    stdout.write(repr(result) + '\\n')\n",
        "text": "    stdout.write(result + '\\n')\n",
        "pairs": (
            "    lines = [str(len(result))] + [f'{value} {count}' for value, count in result]\n"
            "    stdout.write('\\n'.join(lines) + '\\n')\n"
        ),
    }
)


def render_stdio_program(steps: list[Step], input_kind: str | None = None) -> str:
    """A program reading the input format of ``format_stdin`` and printing the result. With no
    steps (``input_kind`` then names the input's kind) it prints what it read, in that kind's
    output format (the numbers on one line without the count; the text): the identity."""
    input_kind, gives = _kinds(steps, input_kind)
    argument = ARGUMENT_NAMES[input_kind]
    return (
        "import sys\n\n\n"
        f"{_step_functions(steps)}\n\n"
        f"def transform({argument}):\n{_pipeline_call(steps, argument)}\n\n"
        "def main(stdin, stdout):\n"
        f"{_READERS[input_kind]}"
        f"    result = transform({argument})\n"
        f"{_WRITERS[gives]}\n\n"
        "if __name__ == '__main__':\n"
        "    main(sys.stdin, sys.stdout)\n"
    )


def format_stdin(input_kind: str, value: Any) -> str:
    """Standard input for one test: ``n`` then the numbers on one line, or the text on one line."""
    if input_kind == "ints":
        return f"{len(value)}\n{' '.join(map(str, value))}\n"
    return f"{value}\n"


def load_program(source: str) -> dict:
    """Execute a trusted generated program as a module (``__name__`` is not ``"__main__"``)."""
    namespace: dict = {"__name__": "rlvr_code_reference"}
    exec(compile(source, "<rlvr-code-reference>", "exec"), namespace)
    return namespace


def run_function(namespace: dict, entry_point: str, args: tuple) -> Any:
    return namespace[entry_point](*args)


def run_stdio(namespace: dict, stdin_text: str) -> str:
    out = io.StringIO()
    namespace["main"](io.StringIO(stdin_text), out)
    return out.getvalue()
