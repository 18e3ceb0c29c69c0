"""Jigsaw verifier: check a rows×cols placement of numbered pieces against the task's answer.

Input       A ``Task`` of rlvr/Jigsaw-v0: ``task.answer`` = {"rows", "cols", "rotate",
            "solution": [piece number per position], "rotations": [clockwise degrees per
            position], "alternatives": [[position, piece, degrees], …]}; and the whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Parsing     Strict. Entries are separated by whitespace or commas; there must be exactly
            rows·cols of them. Without rotation an entry is a piece number (digits only, 1…n);
            with rotation it is ``piece:degrees`` with degrees one of 0, 90, 180, 270 (the
            clockwise turn that makes the piece upright). Each piece number once. Anything else
            — a wrong count, a duplicate, a number out of range, a sign, a word, a missing or
            extra ``:degrees`` — is a format error: reward 0, ``format_ok=False``. A block longer
            than ``MAX_CHARS_PER_ENTRY`` × n characters is refused before it is searched for
            hedges or split, so a million numbers cost microseconds.
Scoring     An entry is right at a position when it names the piece that belongs there (or one
            of its ``alternatives``, pixel-identical look-alikes) turned the right way.
            ``scoring="exact"`` (default): reward 1 when every entry is right, else 0.
            ``scoring="fraction"``: reward = share of right entries above chance,
            (right − q) / (n − q) clipped at 0, q the count of right entries a uniformly random
            placement (and turn) exceeds at most 5 % of the time (rlvr.verifiers.chance; for
            2×2 without turns only the exact placement scores). Paying the plain share gave
            the identity placement 0.21 / 0.11 at d = 0 / 0.25.
            ``scoring="neighbours"``: reward = share of adjacent position pairs (left/right and
            top/bottom) whose two entries are, in the true picture, neighbours the same way
            round and both turned the right way — a placement shifted as a block keeps most —
            above chance in the same way (the count random placements exceed at most 5 % of the
            time, ``chance_pairs``: 4,000 seeded random placements per grid shape; the identity
            placement earned 0.15 / 0.10 at d = 0 / 0.25 before), at most (n − 1) / n.
            ``correct`` is True only when every entry is right (reward 1 in every mode).
Verdict     ``details``: entries (parsed count), right (entries in place), pieces (n),
            neighbour_pairs_right, neighbour_pairs, scoring.
Cost        O(n) after a length check; well under a millisecond for 36 pieces.
"""

from __future__ import annotations

import functools
import random
import re
from typing import Any

from rlvr.core import SafeVerifier, Task, Verdict, answer_value_key, extract_answer, looks_hedged
from rlvr.verifiers.chance import chance_count, credit_above_chance, right_placements

SCORINGS = ("exact", "fraction", "neighbours")
ENTRY_SEPARATORS = re.compile(r"[\s,]+")
PIECE_ONLY = re.compile(r"[0-9]{1,4}")
PIECE_AND_TURN = re.compile(r"([0-9]{1,4}):([0-9]{1,3})")
RIGHT_ANGLES = (0, 90, 180, 270)
MAX_CHARS_PER_ENTRY = 24


def parse_placement(block: str, n: int, rotate: bool) -> tuple[list[tuple[int, int]] | None, str]:
    """([(piece, clockwise degrees)] per position, "") or (None, why the block is malformed)."""
    if len(block) > MAX_CHARS_PER_ENTRY * n + 64:
        return None, f"answer too long ({len(block)} characters for {n} entries)"
    tokens = [t for t in ENTRY_SEPARATORS.split(block) if t]
    if len(tokens) != n:
        return None, f"expected {n} entries, got {len(tokens)}"
    entries, seen = [], set()
    for index, token in enumerate(tokens, 1):
        if rotate:
            match = PIECE_AND_TURN.fullmatch(token)
            if match is None:
                return None, f"entry {index} {token[:20]!r} is not piece:degrees"
            piece, degrees = int(match.group(1)), int(match.group(2))
            if degrees not in RIGHT_ANGLES:
                return None, f"entry {index}: degrees must be 0, 90, 180 or 270, got {degrees}"
        else:
            if PIECE_ONLY.fullmatch(token) is None:
                return None, f"entry {index} {token[:20]!r} is not a piece number"
            piece, degrees = int(token), 0
        if not 1 <= piece <= n:
            return None, f"entry {index}: piece {piece} is out of range 1–{n}"
        if piece in seen:
            return None, f"piece {piece} appears more than once"
        seen.add(piece)
        entries.append((piece, degrees))
    return entries, ""


def true_positions(answer: dict) -> dict[tuple[int, int], set[int]]:
    """For each (piece, degrees) entry that restores some position, the positions it restores."""
    places: dict[tuple[int, int], set[int]] = {}
    for position, entry in enumerate(zip(answer["solution"], answer["rotations"])):
        places.setdefault((int(entry[0]), int(entry[1])), set()).add(position)
    for position, piece, degrees in answer.get("alternatives", ()):
        places.setdefault((int(piece), int(degrees)), set()).add(int(position))
    return places


def neighbour_pairs(rows: int, cols: int) -> list[tuple[int, int, int, int]]:
    """(position, neighbouring position, row step, column step) for every pair of positions side by
    side (step 0, 1) or one above the other (step 1, 0)."""
    pairs = []
    for r in range(rows):
        for c in range(cols):
            p = r * cols + c
            if c + 1 < cols:
                pairs.append((p, p + 1, 0, 1))
            if r + 1 < rows:
                pairs.append((p, p + cols, 1, 0))
    return pairs


def count_pairs_right(entries: list, places: dict, cols: int, pairs: list) -> int:
    """Adjacent position pairs whose two entries restore positions that neighbour the same way."""
    right = 0
    for p, q, row_step, col_step in pairs:
        here, there = places.get(entries[p], ()), places.get(entries[q], ())
        right += any(t // cols - h // cols == row_step and t % cols - h % cols == col_step for h in here for t in there)
    return right


CHANCE_SAMPLES = 4_000  # random placements drawn (seeded) to find the neighbour pairs chance reaches


@functools.cache
def chance_pairs(rows: int, cols: int, rotate: bool) -> int:
    """The count of right neighbour pairs that a uniformly random placement (and turn) exceeds
    at most 5 % of the time, from CHANCE_SAMPLES placements of a seeded generator (the same
    number in every process)."""
    n, pairs = rows * cols, neighbour_pairs(rows, cols)
    places = {(piece + 1, 0): (piece,) for piece in range(n)}
    rng = random.Random(f"jigsaw-chance/{rows}x{cols}/{rotate}")
    counts = [0] * (len(pairs) + 1)
    for _ in range(CHANCE_SAMPLES):
        order = rng.sample(range(1, n + 1), n)
        entries = [(piece, rng.choice(RIGHT_ANGLES) if rotate else 0) for piece in order]
        counts[count_pairs_right(entries, places, cols, pairs)] += 1
    return chance_count([count / CHANCE_SAMPLES for count in counts])


class JigsawVerifier(SafeVerifier):
    deadline_s = 2.0

    def __init__(self, scoring: str = "exact"):
        if scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {', '.join(SCORINGS)}, got {scoring!r}")
        self.scoring = scoring

    def canonical_answer(self, task: Task, response: Any) -> str | None:
        """``reward: majority``'s key: the placement as read (``parse_placement``), so spacing,
        separators and labels do not split a vote (red team s15 B15-1); None where it reads
        none or the answer hedges."""
        n = int(task.answer["rows"]) * int(task.answer["cols"])

        def placement(block: str) -> tuple | None:
            if len(block) > MAX_CHARS_PER_ENTRY * n + 64 or looks_hedged(block):
                return None
            entries, _ = parse_placement(block, n, bool(task.answer["rotate"]))
            return None if entries is None else tuple(entries)

        return answer_value_key(response, placement, self.max_response_chars)

    def check(self, task: Task, response: str) -> Verdict:
        answer = task.answer
        rows, cols, rotate = int(answer["rows"]), int(answer["cols"]), bool(answer["rotate"])
        n = rows * cols
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block", scoring=self.scoring)
        if len(block) > MAX_CHARS_PER_ENTRY * n + 64:  # before any scan of the block: the hedge search is not free
            return Verdict.fail(f"answer too long ({len(block)} characters for {n} entries)", scoring=self.scoring)
        if looks_hedged(block):
            return Verdict.fail("the answer hedges between alternatives", scoring=self.scoring)
        entries, why = parse_placement(block, n, rotate)
        if entries is None:
            return Verdict.fail(why, scoring=self.scoring)
        places = true_positions(answer)
        right = sum(position in places.get(entry, ()) for position, entry in enumerate(entries))
        pairs = neighbour_pairs(rows, cols)
        pairs_right = count_pairs_right(entries, places, cols, pairs)
        details = {
            "entries": n,
            "right": right,
            "pieces": n,
            "neighbour_pairs_right": pairs_right,
            "neighbour_pairs": len(pairs),
            "scoring": self.scoring,
        }
        if right == n:
            return Verdict(1.0, True, True, "every piece in place", details)
        if self.scoring == "fraction":
            reward = credit_above_chance(right, n, right_placements(n, 4 if rotate else 1))
        elif self.scoring == "neighbours":
            chance = chance_pairs(rows, cols, rotate)
            reward = min(credit_above_chance(pairs_right, len(pairs), chance), (n - 1) / n) if pairs else 0.0
        else:
            reward = 0.0
        return Verdict(reward, False, True, f"{n - right} of {n} pieces out of place", details)
