"""Rotation verifier: check the clockwise turns that make a picture, or each of its pieces, upright.

Input       A ``Task`` of rlvr/Rotation-v0: ``task.answer`` = {"angles": "right" | "free", "rows",
            "cols", "tolerance", "rotations": [true clockwise degrees per piece], "accepted":
            [[clockwise turns that restore it] per piece]}; and the whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Parsing     Strict. Numbers separated by whitespace or commas, exactly one per piece (one for a
            whole picture). Right angles: each is 0, 90, 180 or 270 written in digits. Free angle:
            digits with an optional decimal part (at most 6 decimals), below 360. Each number
            may end in a ``°`` sign. Signs, words, fractions, a wrong count, or a block longer
            than ``MAX_CHARS_PER_ENTRY`` × pieces characters (refused before any other scan) are
            format errors: reward 0, ``format_ok=False``.
Scoring     A piece is right when its number is one of its ``accepted`` turns (right angles) or
            within ``tolerance`` degrees of the truth around the circle (free angle).
            ``scoring="exact"`` (default): reward 1 when every piece is right, else 0.
            ``scoring="fraction"``: reward = share of pieces right above chance,
            (right − q) / (pieces − q) clipped at 0, q the count a random turn per piece exceeds
            at most 5 % of the time (rlvr.verifiers.chance; a 2×2 grid scores only when every
            piece is right). Paying the plain share gave one constant turn for every piece
            0.29 at d = 0.25 and 0.5.
            ``correct`` is True only when every piece is right.
Verdict     ``details``: pieces, right, scoring, and for a free angle error_degrees.
Cost        O(pieces) after a length check: microseconds.
"""

from __future__ import annotations

import re

from rlvr.core import SafeVerifier, Task, Verdict, extract_answer, looks_hedged
from rlvr.verifiers.chance import credit_above_chance, right_turns

SCORINGS = ("exact", "fraction")
SEPARATORS = re.compile(r"[\s,]+")
RIGHT_ANGLE = re.compile(r"(0|90|180|270)°?")
FREE_ANGLE = re.compile(r"([0-9]{1,3}(?:\.[0-9]{1,6})?)°?")
MAX_CHARS_PER_ENTRY = 24


def circular_distance(a: float, b: float) -> float:
    gap = abs(float(a) - float(b)) % 360.0
    return min(gap, 360.0 - gap)


def parse_turns(block: str, count: int, free: bool) -> tuple[list[float] | None, str]:
    """([clockwise degrees per piece], "") or (None, why the block is malformed)."""
    if len(block) > MAX_CHARS_PER_ENTRY * count + 64:
        return None, f"answer too long ({len(block)} characters for {count} number{'s' * (count > 1)})"
    tokens = [t for t in SEPARATORS.split(block) if t]
    if len(tokens) != count:
        return None, f"expected {count} number{'s' * (count > 1)}, got {len(tokens)}"
    turns = []
    for index, token in enumerate(tokens, 1):
        match = (FREE_ANGLE if free else RIGHT_ANGLE).fullmatch(token)
        if match is None:
            kind = "a number of degrees" if free else "one of 0, 90, 180, 270"
            return None, f"entry {index} {token[:20]!r} is not {kind}"
        value = float(match.group(1))
        if value >= 360.0:
            return None, f"entry {index}: {value:g} is not below 360"
        turns.append(value)
    return turns, ""


class RotationVerifier(SafeVerifier):
    deadline_s = 2.0

    def __init__(self, scoring: str = "exact"):
        if scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {', '.join(SCORINGS)}, got {scoring!r}")
        self.scoring = scoring

    def check(self, task: Task, response: str) -> Verdict:
        answer = task.answer
        free = answer["angles"] == "free"
        count = int(answer["rows"]) * int(answer["cols"])
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block", scoring=self.scoring)
        if len(block) > MAX_CHARS_PER_ENTRY * count + 64:  # before any scan of the block: the hedge search is not free
            return Verdict.fail(
                f"answer too long ({len(block)} characters for {count} number{'s' * (count > 1)})", scoring=self.scoring
            )
        if looks_hedged(block):
            return Verdict.fail("the answer hedges between alternatives", scoring=self.scoring)
        turns, why = parse_turns(block, count, free)
        if turns is None:
            return Verdict.fail(why, scoring=self.scoring)
        details = {"pieces": count, "scoring": self.scoring}
        if free:
            error = circular_distance(turns[0], answer["rotations"][0])
            right = int(error <= float(answer["tolerance"]))
            details["error_degrees"] = round(error, 3)
        else:
            right = sum(int(t) in {int(a) for a in accepted} for t, accepted in zip(turns, answer["accepted"]))
        details["right"] = right
        if right == count:
            return Verdict(1.0, True, True, "upright" if count == 1 else "every piece upright", details)
        reward = credit_above_chance(right, count, right_turns(count, 4)) if self.scoring == "fraction" else 0.0
        if free:
            return Verdict(
                reward,
                False,
                True,
                f"off by {details['error_degrees']:g} degrees (tolerance {answer['tolerance']})",
                details,
            )
        return Verdict(reward, False, True, f"{count - right} of {count} piece{'s' * (count > 1)} not upright", details)
