"""Knights & Knaves verifier: read a role for every inhabitant, compare with the unique solution.

Input       A ``Task`` of rlvr.generators.knights_knaves: ``task.answer`` = {"names": [names in
            prompt order], "roles": {name: "knight" | "knave"}, …}; and the model's whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Parsing     The block is cut into clauses at newlines, commas, semicolons and the word "and".
            A clause that names no inhabitant and no role is ignored ("Therefore:"); every other
            clause must name exactly one inhabitant and exactly one role word (knight(s) /
            knave(s), any case): "Alice is a knight", "Bob: knave", "(2) Carol — knight".
            A clause with two names or two roles ("Alice is a knight or a knave", "Alice and Bob
            are knights" is two clauses only if written with "and": then the first names no
            role) is a format error, and so is a role word that names nobody or a negated role
            ("Alice is not a knave": state roles positively). Names are whole
            words; the order of clauses is free.
Correct     Every inhabitant gets exactly one role (repeating the same role is allowed; two
            different roles for one person are a contradiction: reward 0) and all roles match
            the solution, which the generator proved unique. ``partial=True``: a well-formed
            wrong answer earns the roles it gets right beyond c, the larger of what the best
            constant answer (everyone a knight, or everyone a knave) gets and what a coin flip
            per inhabitant exceeds at most 5 % of the time (rlvr.verifiers.chance.right_turns):
            (right − c) / (people − c), at least 0 and below 1, so neither a do-nothing nor a
            guessed answer earns on average more than its rare exact hits (red team S9-F2:
            "first a knight, the rest knaves" averaged 0.15 at d = 0.5 against the constant
            baseline alone).
Bounds      At most ``MAX_ANSWER_CHARS`` characters and ``MAX_CLAUSES`` clauses; linear work.
"""

from __future__ import annotations

import re
from typing import Any

from rlvr.core import SafeVerifier, Task, Verdict, answer_value_key, extract_answer, flag_option
from rlvr.verifiers.chance import credit_above_chance, right_turns

MAX_ANSWER_CHARS = 20_000
MAX_CLAUSES = 400
ROLE = re.compile(r"\b(knights?|knaves?)\b", re.IGNORECASE)
CLAUSE_SPLIT = re.compile(r"[\n,;]|\band\b", re.IGNORECASE)
NEGATION = re.compile(r"\b(?:not|never|no)\b|n't\b", re.IGNORECASE)


def read_roles(block: str, names: list[str]) -> tuple[dict[str, str] | None, str]:
    """({name: role} or None, reason) from an answer block; None means a format error."""
    if len(block) > MAX_ANSWER_CHARS:
        return None, f"answer longer than {MAX_ANSWER_CHARS} characters"
    clauses = CLAUSE_SPLIT.split(block)
    if len(clauses) > MAX_CLAUSES:
        return None, f"more than {MAX_CLAUSES} clauses"
    name_pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    roles: dict[str, str] = {}
    for clause in clauses:
        found_names = name_pattern.findall(clause)
        role_words = ROLE.findall(clause)
        if not found_names and not role_words:
            continue
        if NEGATION.search(clause):
            return None, f"clause {clause.strip()[:60]!r} negates a role; state each role positively"
        if len(role_words) != 1:
            return None, f"clause {clause.strip()[:60]!r} needs exactly one role word"
        if len(set(found_names)) != 1:
            what = "names nobody" if not found_names else "names more than one inhabitant"
            return None, f"clause {clause.strip()[:60]!r} {what}"
        name, role = found_names[0], role_words[0].lower().removesuffix("s")
        if roles.get(name, role) != role:
            return None, f"{name} is given both roles"
        roles[name] = role
    return roles, "read"


class KnightsKnavesVerifier(SafeVerifier):
    """Judges a Knights & Knaves answer (module docstring); never raises."""

    deadline_s = 1.0

    def __init__(self, partial: bool = False):
        self.partial = flag_option("partial", partial)

    def canonical_answer(self, task: Task, response: Any) -> str | None:
        """The roles read (``read_roles``), sorted by name, as ``reward: majority``'s key: the order
        and wording of the clauses do not split a vote."""

        def read(block: str) -> list | None:
            roles = read_roles(block, list(task.answer["names"]))[0]
            return None if roles is None else sorted(roles.items())

        return answer_value_key(response, read, self.max_response_chars)

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block")
        names, solution = list(task.answer["names"]), dict(task.answer["roles"])
        roles, reason = read_roles(block, names)
        if roles is None:
            return Verdict.fail(f"unreadable answer: {reason}")
        right = sum(roles.get(name) == solution[name] for name in names)
        missing = [name for name in names if name not in roles]
        details = {"right": right, "people": len(names), "missing": missing}
        if right == len(names):
            return Verdict.success(**details)
        reason = f"{len(missing)} inhabitant(s) without a role" if missing else f"{len(names) - right} role(s) wrong"
        if not self.partial:
            return Verdict(0.0, False, True, reason, details)
        baseline = max(constant_right(solution), right_turns(len(names), 2))
        credit = credit_above_chance(right, len(names), baseline)
        return Verdict(min(credit, 1.0 - 1e-9), False, True, reason, details | {"chance_right": baseline})


def constant_right(solution: dict) -> int:
    """How many roles the best constant answer (everyone a knight, or everyone a knave) gets right."""
    knights = sum(role == "knight" for role in solution.values())
    return max(knights, len(solution) - knights)
