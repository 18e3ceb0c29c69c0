"""PatchFit verifier: check the letter of the candidate patch that fills the hole.

Input       A ``Task`` of rlvr/PatchFit-v0: ``task.answer`` = {"choice": letter, "labels": "ABC…",
            "accepted": [letters]}; and the whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Parsing     Strict: after trimming whitespace the block is exactly one capital letter among the
            task's labels. Lowercase, words ("B fits"), brackets ("(B)"), punctuation ("B."), two
            letters, or a letter beyond the labels are format errors: reward 0, ``format_ok=False``.
Scoring     Reward 1 when the letter is accepted (the true patch), else 0.
Verdict     ``details``: chosen, candidates.
Cost        Constant after extraction.
"""

from __future__ import annotations

from rlvr.core import SafeVerifier, Task, Verdict, extract_answer


class PatchFitVerifier(SafeVerifier):
    deadline_s = 1.0

    def check(self, task: Task, response: str) -> Verdict:
        labels = str(task.answer["labels"])
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block")
        if len(block) != 1 or block not in labels:
            return Verdict.fail(f"the answer must be one capital letter {labels[0]}–{labels[-1]}, got {block[:20]!r}")
        details = {"chosen": block, "candidates": len(labels)}
        if block in task.answer["accepted"]:
            return Verdict(1.0, True, True, f"{block} fills the hole", details)
        return Verdict(0.0, False, True, f"{block} does not fill the hole", details)
