"""Infill verifier: the letter of the masked span (choice) or its exact text (exact).

Input       A ``Task`` of rlvr.generators.infill: ``task.answer`` = {"mode": "choice" | "exact",
            "text": the span, "letter" and "candidates" (choice)}; and the model's whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Choice      The block must be one letter, optionally after "option"/"choice"/"answer"/
            "candidate" (and a colon), in brackets or followed by ")", "." or ":" ("B", "(B)", "Option b",
            "B) "); text after the letter is allowed only when it is that candidate's own text
            (normalised as below). Correct when the letter is the span's. Two letters, an "or",
            a text alone, an unknown letter: reward 0.
Exact       ``normalise``: NFKC, case-folded, whitespace collapsed, and at each word's edges the
            punctuation and symbols removed ("eggs." → "eggs", "$18" → "18", "(9)" → "9"), except
            a sign directly before a digit ("-5" stays "-5"); punctuation inside a word stays
            ("3.5" ≠ "35"). Correct when the block normalises to the span's normal form.
Bounds      At most ``MAX_ANSWER_CHARS`` characters; linear work.
"""

from __future__ import annotations

import re
import unicodedata

from rlvr.core import SafeVerifier, Task, Verdict, extract_answer

MAX_ANSWER_CHARS = 2_000
LETTER = re.compile(
    r"(?:(?:option|choice|answer|candidate)\s*:?\s*)?[(\[]?\s*([A-Za-z])\s*(?:[)\]]\s*[.:]?|[.:])?(?=\s|$)(.*)",
    re.IGNORECASE | re.DOTALL,
)
SIGN = "+-\u2212"


def edge_stripped(word: str) -> str:
    """``word`` without punctuation/symbol characters at its ends (a sign before a digit kept)."""

    def strippable(ch: str) -> bool:
        return unicodedata.category(ch)[0] in "PS"

    end = len(word)
    while end and strippable(word[end - 1]):
        end -= 1
    start = 0
    while (
        start < end
        and strippable(word[start])
        and not (word[start] in SIGN and start + 1 < end and word[start + 1].isdigit())
    ):
        start += 1
    return word[start:end]


def normalise(text: str) -> str:
    """The comparable form of a filling (module docstring)."""
    words = unicodedata.normalize("NFKC", text).casefold().split()
    return " ".join(w for w in (edge_stripped(word) for word in words) if w)


def read_letter(block: str, candidates: list[str]) -> tuple[str | None, str]:
    """(letter or None, reason) of a choice answer block."""
    match = LETTER.fullmatch(block.strip())
    if match is None:
        return None, "write one candidate letter"
    letter, rest = match.group(1).upper(), match.group(2).strip()
    index = ord(letter) - ord("A")
    if not 0 <= index < len(candidates):
        return None, f"{letter} is not a candidate (A–{chr(ord('A') + len(candidates) - 1)})"
    if rest and normalise(rest) != normalise(candidates[index]):
        return None, f"the text after {letter} is not candidate {letter}"
    return letter, "read"


class InfillVerifier(SafeVerifier):
    """Judges an Infill answer (module docstring); never raises."""

    deadline_s = 1.0

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block")
        if len(block) > MAX_ANSWER_CHARS:
            return Verdict.fail(f"answer longer than {MAX_ANSWER_CHARS} characters")
        answer = task.answer
        if answer["mode"] == "choice":
            letter, reason = read_letter(block, list(answer["candidates"]))
            if letter is None:
                return Verdict.fail(f"unreadable answer: {reason}")
            if letter == answer["letter"]:
                return Verdict.success(letter=letter)
            return Verdict.fail(f"candidate {letter} is not the missing text", format_ok=True, letter=letter)
        written = normalise(block)
        if not written:
            return Verdict.fail("empty filling")
        if written == normalise(answer["text"]):
            return Verdict.success()
        return Verdict.fail("the filling differs from the missing text", format_ok=True, written=written[:200])
