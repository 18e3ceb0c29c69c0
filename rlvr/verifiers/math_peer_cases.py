r"""Other graders' test cases as rlvr tasks: how ``peer_grader_cases.jsonl`` is put to MathVerifier.

The file (``../shared/data/math/peer_grader_cases.jsonl``, described in its ``.md``) holds
``(gold, pred, expected)`` triples from the test suites of 13 other projects' answer graders.
Their golds and preds are raw: ``$…$`` delimiters, whole solutions, several boxes. A case is
put to rlvr the way a training loop would, with the answer where rlvr's prompt asks for it:

Task        ``{"gold": g, "form": "any"}`` where g is the gold's boxed content (several
            distinct boxes joined with ", "), else the gold with ``$…$``/``\(…\)``/``\[…\]``
            around the whole removed.
Response    the pred unchanged when it already carries ``\boxed``, ``<answer>`` or
            ``</think>``; otherwise ``<answer>pred</answer>`` (so a bare ``185\`` stays
            itself and prose stays prose).
Agreement   ``verdict.correct == expected``; a case with a ``convention`` flag hinges on that
            grader's own rule (its first word: ``config``, ``format``, ``convention``,
            ``suspect``), so it is reported apart.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from rlvr.core import Task, extract_boxed

DEFAULT_PATH = Path(__file__).resolve().parents[3] / "shared" / "data" / "math" / "peer_grader_cases.jsonl"


@dataclass(frozen=True)
class PeerCase:
    id: str
    gold: str
    pred: str
    expected: bool
    convention: str | None
    source: str

    @property
    def flag(self) -> str | None:
        """The kind of convention ("config", "format", "convention", "suspect"), or None."""
        return self.convention.split(":", 1)[0] if self.convention else None


def load_peer_cases(path: str | Path = DEFAULT_PATH) -> list[PeerCase]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        PeerCase(r["id"], r["gold"], r["pred"], bool(r["expected"]), r.get("convention"), r["source"]) for r in rows
    ]


def strip_math_delimiters(text: str) -> str:
    s = text.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(left) and s.endswith(right) and len(s) > len(left) + len(right):
            return s[len(left) : -len(right)].strip()
    return s


def peer_gold(case: PeerCase) -> str:
    boxes = extract_boxed(case.gold)
    if boxes:
        return ", ".join(dict.fromkeys(boxes))
    return strip_math_delimiters(case.gold)


def peer_task(case: PeerCase) -> Task:
    return Task(f"peer/{case.id}", "rlvr/Math-v0", "math", "", {"gold": peer_gold(case), "form": "any"}, 0.5, 0)


def peer_response(case: PeerCase) -> str:
    if re.search(r"\\boxed|\\fbox|<answer>|</think>", case.pred):
        return case.pred
    return f"<answer>{case.pred}</answer>"
