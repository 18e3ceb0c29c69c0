"""Causal verifier: compare a probability, distribution, yes/no or effect with the exact answer.

Input       A ``Task`` from rlvr.generators.causal: ``task.answer`` = {"kind", "outcome" (the
            outcome's name), "states", and "distribution" (list in state order) or "value"}; and
            the model's whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer). A
            block longer than ``MAX_BLOCK_CHARS`` or one that offers alternatives ("0.3 or 0.4",
            rlvr.core.looks_hedged) is refused.
Numbers     A decimal (``0.31``, ``.31``, ``-0.125``, ``1``) or a fraction of integers (``31/100``);
            no exponents, percentages, thousands separators or expressions.
Formats     distribution  ``P(Y=0)=0.31, P(Y=1)=0.69`` — one ``P(<outcome>=<state>)=<number>`` per
                          state, any order, separated by ',' ';' or new lines; the outcome name may
                          carry a subscript (``P(Y_{X=1}=0)=…``). Or the bare list in state order,
                          ``[0.31, 0.69]`` or ``0.31, 0.69``. Every state exactly once, every value
                          in [0, 1], and the values must sum to 1 within ``NORMALISATION_SLACK``
                          (0.005): otherwise a format error (reward 0, ``format_ok=False``).
            probability   one number in [0, 1].
            comparison    ``yes`` or ``no`` (any case, optional final '.').
            effect        one signed number.
Correct     Computed exactly (fractions; the stored answer read as the decimal it prints as), so
            a distance of exactly ``tolerance`` is not < ``tolerance``.
            distribution: total-variation distance ½·Σ|p − q| < ``tolerance``; probability and
            effect: |given − exact| < ``tolerance``; comparison: the same word.
Options     ``tolerance`` (default 0.01, in (0, 1]); ``partial=True``: a well-formed wrong numeric
            answer earns max(0, 1 − distance / scale) (always < 1), where scale is the smaller of
            ``PARTIAL_BAND`` × tolerance and the distance of the do-nothing answer (the uniform
            distribution, probability 1/2, effect 0): credit fades to 0 at five times the
            tolerance, and an answer no closer than the do-nothing one earns nothing.  (Paying
            1 − distance gave constant answers 0.71–0.86 on average; with this rule the best
            constant of a sweep earns 0.06–0.10 over 750 tasks, chance hits 0.02–0.04 of it.)
            A wrong yes/no earns 0.
Verdict     ``details``: kind, distance (numeric kinds), tolerance, given (parsed value).
Cost        Regular expressions over at most ``MAX_BLOCK_CHARS`` characters: microseconds.
"""

from __future__ import annotations

import re
from fractions import Fraction

from rlvr.core import SafeVerifier, Task, Verdict, extract_answer, looks_hedged

MAX_BLOCK_CHARS = 2000
NORMALISATION_SLACK = 0.005
PARTIAL_BAND = 5  # partial credit reaches 0 at this many tolerances from the exact answer
NUMBER = r"[+-]?(?:\d{1,15}\.\d{0,15}|\.\d{1,15}|\d{1,15}(?:\s*/\s*\d{1,15})?)"
NUMBER_PATTERN = re.compile(NUMBER)
SEPARATORS = re.compile(r"\s*[,;\n]\s*")
YES_NO = re.compile(r"(yes|no)\.?", re.IGNORECASE)


def parse_number(text: str) -> Fraction | None:
    """The exact value of a decimal or an integer fraction; None for anything else."""
    text = text.strip()
    if not NUMBER_PATTERN.fullmatch(text):
        return None
    if "/" in text:
        numerator, denominator = (part.strip() for part in text.split("/"))
        if int(denominator) == 0:
            return None
        return Fraction(int(numerator), int(denominator))
    return Fraction(text)


def exact(value: float | int | str) -> Fraction:
    """A stored answer (a float rounded to a few decimals) as the decimal it prints as."""
    return Fraction(repr(float(value))) if not isinstance(value, str) else Fraction(value)


def labelled_entry(name: str) -> re.Pattern:
    subscript = r"(?:_\{[^{}()]{0,60}\}|_[A-Za-z0-9]{1,20})?"
    return re.compile(rf"P\(\s*{re.escape(name)}{subscript}\s*=\s*(\d{{1,3}})\s*\)\s*=\s*({NUMBER})")


def parse_distribution(block: str, name: str, states: int) -> tuple[list[Fraction] | None, str]:
    """(probabilities in state order, "") or (None, why the block is not a distribution)."""
    text = block.strip()
    if text.endswith("."):
        text = text[:-1].rstrip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
    pieces = [piece for piece in SEPARATORS.split(text) if piece]
    if not pieces:
        return None, "the answer holds no probabilities"
    if pieces[0].lstrip().startswith("P"):
        pattern = labelled_entry(name)
        values: dict[int, Fraction] = {}
        for piece in pieces:
            match = pattern.fullmatch(piece.strip())
            if match is None:
                return None, f"cannot read {piece[:60]!r} as P({name}=state)=probability"
            state = int(match.group(1))
            if state >= states:
                return None, f"{name} has no state {state} (states 0…{states - 1})"
            if state in values:
                return None, f"state {state} is given twice"
            number = parse_number(match.group(2))
            if number is None:
                return None, f"cannot read {match.group(2)!r} as a number"
            values[state] = number
        if len(values) != states:
            missing = sorted(set(range(states)) - set(values))
            return None, f"missing the probability of state(s) {missing}"
        probabilities = [values[s] for s in range(states)]
    else:
        if len(pieces) != states:
            return None, f"{len(pieces)} values for {states} states"
        probabilities = []
        for piece in pieces:
            number = parse_number(piece)
            if number is None:
                return None, f"cannot read {piece[:60]!r} as a number"
            probabilities.append(number)
    if any(not 0 <= p <= 1 for p in probabilities):
        return None, "a probability outside [0, 1]"
    total = sum(probabilities)
    if abs(total - 1) > Fraction(str(NORMALISATION_SLACK)):
        return None, f"the probabilities sum to {float(total):.4f}, not 1"
    return probabilities, ""


class CausalVerifier(SafeVerifier):
    deadline_s = 1.0

    def __init__(self, tolerance: float = 0.01, partial: bool = False):
        tolerance = float(tolerance)
        if not 0.0 < tolerance <= 1.0:
            raise ValueError(f"tolerance must be in (0, 1], got {tolerance}")
        self.tolerance = tolerance
        self.exact_tolerance = exact(tolerance)
        self.partial = bool(partial)

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block")
        if not block:
            return Verdict.fail("the answer block is empty")
        if len(block) > MAX_BLOCK_CHARS:
            return Verdict.fail(f"the answer block has {len(block)} characters (at most {MAX_BLOCK_CHARS})")
        if looks_hedged(block):
            return Verdict.fail("the answer offers alternatives (a hedge)")
        answer = task.answer
        kind = answer["kind"]
        if kind == "comparison":
            match = YES_NO.fullmatch(block.strip())
            if match is None:
                return Verdict.fail(f"expected yes or no, got {block[:60]!r}")
            given = match.group(1).lower()
            details = {"kind": kind, "given": given}
            if given == answer["value"]:
                return Verdict.success(f"{given} is right", **details)
            return Verdict(0.0, False, True, f"{given} is wrong", details)
        if kind == "distribution":
            expected = [exact(p) for p in answer["distribution"]]
            given, why = parse_distribution(block, str(answer["outcome"]), len(expected))
            if given is None:
                return Verdict.fail(why, kind=kind)
            distance = sum(abs(p - q) for p, q in zip(given, expected)) / 2
            do_nothing = sum(abs(Fraction(1, len(expected)) - q) for q in expected) / 2
            what = "total-variation distance"
        else:
            given = parse_number(block)
            if given is None:
                return Verdict.fail(f"cannot read {block[:60]!r} as one number", kind=kind)
            if kind == "probability" and not 0 <= given <= 1:
                return Verdict.fail(f"{float(given)} is not a probability", kind=kind)
            distance = abs(given - exact(answer["value"]))
            do_nothing = abs((Fraction(1, 2) if kind == "probability" else 0) - exact(answer["value"]))
            what = "absolute error"
        shown = [float(p) for p in given] if isinstance(given, list) else float(given)
        details = {"kind": kind, "distance": round(float(distance), 6), "tolerance": self.tolerance, "given": shown}
        if distance < self.exact_tolerance:
            return Verdict.success(f"{what} {float(distance):.4f} < {self.tolerance}", **details)
        reason = f"{what} {float(distance):.4f} ≥ {self.tolerance}"
        scale = min(PARTIAL_BAND * self.exact_tolerance, do_nothing)
        reward = max(0.0, 1.0 - float(distance / scale)) if self.partial and scale > 0 else 0.0
        return Verdict(reward, False, True, reason, details)
