"""Causal verifier: compare a probability, distribution, comparison or effect with the exact answer.

Input       A ``Task`` from rlvr.generators.causal: ``task.answer`` = {"kind", "outcome" (the
            outcome's name), "states", and "distribution" (list in state order) or "value"
            (a comparison's "yes"/"no", with "values": the two probabilities a and b)}; and the
            model's whole response.
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
            comparison    ``a=<number>; b=<number>; yes`` (or ``no``): the two compared
                          probabilities, each in [0, 1], labelled and in that order, then the
                          verdict (any case); separated by ';' ',' or new lines, optional final
                          '.'. Anything else — a bare verdict, both verdicts, two numbers for one
                          probability, a label twice or missing — is a format error.
            effect        one signed number.
Correct     Computed exactly (fractions; the stored answer read as the decimal it prints as), so
            a distance of exactly ``tolerance`` is not < ``tolerance``.
            distribution: total-variation distance ½·Σ|p − q| < ``tolerance``; probability and
            effect: |given − exact| < ``tolerance``; comparison: |a − exact a| and |b − exact b|
            both < ``tolerance``, and the verdict follows from the given numbers (yes for a > b,
            no for a < b; a = b supports neither) and is the exact one (the generator's
            ``COMPARISON_MARGIN`` keeps the exact a and b ≥ 0.02 apart). A bare verdict scored
            0.51–0.57 by always saying yes; now it is a format error.
Options     ``tolerance`` (default 0.01, in (0, 1]); ``partial=True``: a well-formed wrong numeric
            answer earns max(0, 1 − distance / scale) (always < 1), where scale is the smaller of
            ``PARTIAL_BAND`` × tolerance and the distance of the do-nothing answer (the uniform
            distribution, probability 1/2, effect 0): credit fades to 0 at five times the
            tolerance, and an answer no closer than the do-nothing one earns nothing.  (Paying
            1 − distance gave constant answers 0.71–0.86 on average; with this rule the best
            constant of a sweep earns 0.06–0.10 over 750 tasks, chance hits 0.02–0.04 of it.)
            A comparison earns partial credit only when its verdict follows from its numbers and
            is right: then the smaller of the two probabilities' credits (a guessed verdict
            with numbers far off earns 0).
Verdict     ``details``: kind, distance (numeric kinds; a comparison's larger error), tolerance,
            given (parsed value; a comparison's [a, b, verdict]).
Cost        Regular expressions over at most ``MAX_BLOCK_CHARS`` characters: microseconds.
"""

from __future__ import annotations

import re
from fractions import Fraction

from rlvr.core import SafeVerifier, Task, Verdict, extract_answer, flag_option, looks_hedged

MAX_BLOCK_CHARS = 2000
NORMALISATION_SLACK = 0.005
PARTIAL_BAND = 5  # partial credit reaches 0 at this many tolerances from the exact answer
NUMBER = r"[+-]?(?:\d{1,15}\.\d{0,15}|\.\d{1,15}|\d{1,15}(?:\s*/\s*\d{1,15})?)"
NUMBER_PATTERN = re.compile(NUMBER)
SEPARATORS = re.compile(r"\s*[,;\n]\s*")
YES_NO = re.compile(r"(yes|no)", re.IGNORECASE)
LABELLED_PROBABILITY = re.compile(rf"([ab])\s*=\s*({NUMBER})")


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


def parse_comparison(block: str) -> tuple[tuple[Fraction, Fraction, str] | None, str]:
    """((a, b, "yes"/"no"), "") from ``a=<number>; b=<number>; yes|no``, or (None, why not)."""
    text = block.strip()
    if text.endswith("."):
        text = text[:-1].rstrip()
    pieces = SEPARATORS.split(text)
    if len(pieces) != 3:
        return None, f"expected a=…; b=…; yes|no (three entries), got {len(pieces)} entries"
    values = []
    for label, piece in zip("ab", pieces[:2]):
        match = LABELLED_PROBABILITY.fullmatch(piece)
        if match is None or match.group(1) != label:
            return None, f"cannot read {piece[:60]!r} as {label}=probability"
        number = parse_number(match.group(2))
        if number is None:
            return None, f"cannot read {match.group(2)!r} as a number"
        if not 0 <= number <= 1:
            return None, f"{label}={float(number)} is not a probability"
        values.append(number)
    verdict = YES_NO.fullmatch(pieces[2])
    if verdict is None:
        return None, f"expected yes or no after a and b, got {pieces[2][:60]!r}"
    return (values[0], values[1], verdict.group(1).lower()), ""


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
        self.partial = flag_option("partial", partial)

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
            return self.check_comparison(answer, block)
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

    def check_comparison(self, answer: dict, block: str) -> Verdict:
        """Both probabilities within the tolerance and the verdict agreeing with the given
        numbers and with the exact ones; partial credit only with such a verdict."""
        parsed, why = parse_comparison(block)
        if parsed is None:
            return Verdict.fail(why, kind="comparison")
        a, b, verdict = parsed
        expected = [exact(p) for p in answer["values"]]
        distances = [abs(a - expected[0]), abs(b - expected[1])]
        details = {
            "kind": "comparison",
            "distance": round(float(max(distances)), 6),
            "tolerance": self.tolerance,
            "given": [float(a), float(b), verdict],
        }
        follows = "yes" if a > b else "no" if a < b else None  # a == b supports neither (the exact values differ)
        if verdict != follows:
            return Verdict(0.0, False, True, f"{verdict} does not follow from a={float(a)}, b={float(b)}", details)
        if verdict != answer["value"]:
            return Verdict(0.0, False, True, f"{verdict} is wrong", details)
        if max(distances) < self.exact_tolerance:
            return Verdict.success(
                f"{verdict}; absolute errors {float(max(distances)):.4f} < {self.tolerance}", **details
            )
        reason = f"{verdict} is right but an absolute error is {float(max(distances)):.4f} ≥ {self.tolerance}"
        reward = 0.0
        if self.partial:
            scales = [min(PARTIAL_BAND * self.exact_tolerance, abs(Fraction(1, 2) - p)) for p in expected]
            credits = [1 - distance / scale if scale > 0 else Fraction(0) for distance, scale in zip(distances, scales)]
            reward = max(0.0, float(min(credits)))
        return Verdict(reward, False, True, reason, details)
