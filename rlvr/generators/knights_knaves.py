"""How Knights & Knaves puzzles are made: a hidden assignment, true-to-role statements, a uniqueness proof.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.knights_knaves``.

Statements are JSON trees: ``["is", i, "knight"|"knave"]``, ``["not", s]``, ``["and", s, t]``,
``["or", s, t]``, ``["implies", s, t]``, ``["iff", s, t]``, ``["says", i, s]`` ("i would say
that s": true when i's role makes s's truth match, knight ↔ s) and ``["count", k]`` ("exactly k
of the inhabitants are knights"). Every statement is evaluated at once on all 2ⁿ assignments as
a numpy boolean vector, so proving uniqueness costs microseconds for n ≤ 12.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from rlvr.core import Task, TaskGenerator
from rlvr.families.knights_knaves import FAMILY, NAMES
from rlvr.generators.problem_forms import knights_knaves_form
from rlvr.verifiers.knights_knaves import read_roles

MAX_EXTRA_STATEMENTS = 40  # statements added beyond the initial ones while the solution is not unique
MAX_PUZZLES = 32
ASYMMETRIC_KINDS = {"and", "or", "implies", "count"}  # claims that are not symmetric under swapping every role


def truth_vector(statement: Any, people: int) -> np.ndarray:
    """The statement's truth on every assignment (bit i of the index = person i is a knight)."""
    assignments = np.arange(1 << people)
    kind = statement[0]
    if kind == "is":
        knight = ((assignments >> statement[1]) & 1).astype(bool)
        return knight if statement[2] == "knight" else ~knight
    if kind == "count":
        counts = np.array([bin(a).count("1") for a in assignments])
        return counts == statement[1]
    if kind == "not":
        return ~truth_vector(statement[1], people)
    if kind == "says":
        knight = ((assignments >> statement[1]) & 1).astype(bool)
        return knight == truth_vector(statement[2], people)
    left, right = truth_vector(statement[1], people), truth_vector(statement[2], people)
    return {"and": left & right, "or": left | right, "implies": ~left | right, "iff": left == right}[kind]


def consistent_assignments(statements: list[tuple[int, Any]], people: int) -> np.ndarray:
    """Indices of the assignments under which every speaker's statements match their role."""
    assignments = np.arange(1 << people)
    ok = np.ones(1 << people, dtype=bool)
    for speaker, statement in statements:
        knight = ((assignments >> speaker) & 1).astype(bool)
        ok &= knight == truth_vector(statement, people)
    return np.flatnonzero(ok)


def random_statement(rng: random.Random, people: int, speaker: int, depth: int, kinds: list[str]) -> Any:
    """A random statement tree of at most ``depth`` connective levels over the allowed kinds."""
    inner = [k for k in kinds if k not in ("is", "count")]
    if depth > 0 and inner and rng.random() < 0.75:
        kind = rng.choice(inner)
    elif "count" in kinds and ("is" not in kinds or rng.random() < 0.2):
        kind = "count"
    else:
        kind = "is"
    if kind == "is":
        return ["is", rng.randrange(people), rng.choice(("knight", "knave"))]
    if kind == "count":
        return ["count", rng.randint(0, people)]
    if kind == "not":
        return ["not", random_statement(rng, people, speaker, depth - 1, [k for k in kinds if k != "not"])]
    if kind == "says":
        other = rng.choice([p for p in range(people) if p != speaker] or [speaker])
        return ["says", other, random_statement(rng, people, speaker, depth - 1, kinds)]
    return [
        kind,
        random_statement(rng, people, speaker, depth - 1, kinds),
        random_statement(rng, people, speaker, depth - 1, kinds),
    ]


def search_nodes(statements: list[tuple[int, Any]], people: int) -> int:
    """Nodes a depth-first search visits assigning roles person by person, pruning as soon as
    a statement whose people are all assigned is violated: the puzzle's measured effort."""
    involved = []
    for speaker, statement in statements:
        people_in = mentioned(statement)
        involved.append((speaker, statement, people - 1 if -1 in people_in else max(speaker, *people_in)))
    nodes = 0

    def holds(statement: Any, roles: list[bool]) -> bool:
        kind = statement[0]
        if kind == "is":
            return roles[statement[1]] == (statement[2] == "knight")
        if kind == "count":
            return sum(roles) == statement[1]
        if kind == "not":
            return not holds(statement[1], roles)
        if kind == "says":
            return roles[statement[1]] == holds(statement[2], roles)
        a, b = holds(statement[1], roles), holds(statement[2], roles)
        return {"and": a and b, "or": a or b, "implies": (not a) or b, "iff": a == b}[kind]

    def dfs(roles: list[bool]) -> None:
        nonlocal nodes
        nodes += 1
        assigned = len(roles) - 1
        for speaker, statement, last in involved:
            if last == assigned and roles[speaker] != holds(statement, roles):
                return
        if len(roles) < people:
            dfs(roles + [True])
            dfs(roles + [False])

    dfs([True])
    dfs([False])
    return nodes


def mentioned(statement: Any) -> list[int]:
    """Every person a statement refers to (all of them for a count)."""
    kind = statement[0]
    if kind == "is":
        return [statement[1]]
    if kind == "count":
        return [-1]  # needs everyone: handled by the caller's max over people
    if kind == "not":
        return mentioned(statement[1])
    if kind == "says":
        return [statement[1], *mentioned(statement[2])]
    return [*mentioned(statement[1]), *mentioned(statement[2])]


def render(statement: Any, names: list[str], top: bool = True) -> str:
    """English for a statement; compound parts inside another are bracketed so nesting is exact."""
    kind = statement[0]
    if kind == "is":
        text = f"{names[statement[1]]} is a {statement[2]}"
    elif kind == "count":
        text = (
            f"exactly {statement[1]} of the {len(names)} inhabitants "
            f"{'is a knight' if statement[1] == 1 else 'are knights'}"
        )
    elif kind == "not":
        inner = statement[1]
        text = (
            f"{names[inner[1]]} is not a {inner[2]}"
            if inner[0] == "is"
            else f"it is not true that {render(inner, names, False)}"
        )
    elif kind == "says":
        text = f"{names[statement[1]]} would say that {render(statement[2], names, False)}"
    else:
        a, b = render(statement[1], names, False), render(statement[2], names, False)
        text = {
            "and": f"{a} and {b}",
            "or": f"{a} or {b} (or both)",
            "implies": f"if {a}, then {b}",
            "iff": f"{a} if and only if {b}",
        }[kind]
    return text if top or kind in ("is", "count") or (kind == "not" and statement[1][0] == "is") else f"[{text}]"


class KnightsKnavesGenerator(TaskGenerator):
    """Knights & Knaves puzzles with exactly one consistent assignment."""

    declaration = FAMILY

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        people, depth, kinds = params["people"], params["depth"], params["kinds"].split(",")
        if not set(kinds) & ASYMMETRIC_KINDS:
            raise ValueError(
                f"kinds {params['kinds']!r} cannot make a unique puzzle (swapping every role keeps such claims "
                f"consistent); add one of {', '.join(sorted(ASYMMETRIC_KINDS))}"
            )
        if depth == 0 and "count" not in kinds:
            raise ValueError(
                "depth 0 allows only 'is' and 'count' claims, which need 'count' in kinds for a unique puzzle"
            )
        puzzles_drawn = 0
        for _ in range(MAX_PUZZLES):
            puzzles_drawn += 1
            names = rng.sample(NAMES, people)
            roles = [rng.random() < 0.5 for _ in range(people)]
            truth = sum(1 << i for i, knight in enumerate(roles) if knight)
            statements: list[tuple[int, Any]] = []
            speakers = [p for p in range(people) for _ in range(params["statements"])]
            extra = 0
            while True:
                for speaker in speakers:
                    statements.append((speaker, self.true_to_role(rng, people, speaker, depth, kinds, truth, roles)))
                solutions = consistent_assignments(statements, people)
                if len(solutions) == 1 or extra >= MAX_EXTRA_STATEMENTS:
                    break
                speakers = [rng.randrange(people)]
                extra += 1
            if len(solutions) == 1:
                break
        else:
            raise ValueError(
                f"no puzzle with a unique solution for {people} people in {MAX_PUZZLES} tries; allow more kinds"
            )
        assert solutions[0] == truth  # the hidden assignment is the one consistent with every statement
        statements.sort(key=lambda item: item[0])
        answer = {
            "names": names,
            "roles": {names[i]: "knight" if roles[i] else "knave" for i in range(people)},
            "statements": [[speaker, statement] for speaker, statement in statements],
        }
        meta = {
            "statements": len(statements),
            "search_nodes": search_nodes(statements, people),
            "knights": sum(roles),
            "puzzles_drawn": puzzles_drawn,
        }
        return {"prompt": describe(names, statements), "answer": answer, "meta": meta}

    @staticmethod
    def true_to_role(
        rng: random.Random, people: int, speaker: int, depth: int, kinds: list[str], truth: int, roles: list[bool]
    ) -> Any:
        """A statement whose truth under the hidden assignment matches the speaker's role: a
        random one, negated when it would have the wrong truth value."""
        statement = random_statement(rng, people, speaker, depth, kinds)
        holds = bool(truth_vector(statement, people)[truth])
        if holds == roles[speaker]:
            return statement
        if statement[0] == "is":
            return ["is", statement[1], "knave" if statement[2] == "knight" else "knight"]
        return statement[1] if statement[0] == "not" else ["not", statement]

    def solve(self, task: Task) -> str:
        return (
            "<answer>"
            + ", ".join(f"{name} is a {task.answer['roles'][name]}" for name in task.answer["names"])
            + "</answer>"
        )

    def hints(self, task: Task) -> list[str]:
        """The role of one inhabitant per piece, in the order they are introduced, for all but
        the last of them."""
        names, roles = task.answer["names"], task.answer["roles"]
        return [f"{name}'s role: {roles[name]}." for name in names[:-1]]

    def wrong_response(self, task: Task) -> str:
        """A near miss: the last inhabitant's role flipped."""
        names, roles = task.answer["names"], dict(task.answer["roles"])
        roles[names[-1]] = "knave" if roles[names[-1]] == "knight" else "knight"
        return "<answer>" + ", ".join(f"{name} is a {roles[name]}" for name in names) + "</answer>"

    def split_group(self, task: Task) -> Any:
        """The puzzle up to its people's names and order, the order of its statements and of
        the operands of and/or/iff (``problem_forms.knights_knaves_form``): the same puzzle
        with its people renamed or listed otherwise is on one side."""
        names, roles = task.answer["names"], task.answer["roles"]
        return ["knights-knaves", knights_knaves_form(task.answer["statements"], [roles[name] for name in names])]

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries: everyone a knight, everyone a knave, both roles
        for one person, hedged roles, only some people, names dropped, extra people, the roles
        as a bare list, and the right answer wrapped in contradictions."""
        names, roles = task.answer["names"], task.answer["roles"]
        right = [f"{name} is a {roles[name]}" for name in names]
        attacks = [
            ("all-knights", ", ".join(f"{n} is a knight" for n in names)),
            ("all-knaves", ", ".join(f"{n} is a knave" for n in names)),
            ("both-roles-each", ", ".join(f"{n} is a knight, {n} is a knave" for n in names)),
            ("hedge-or", ", ".join(f"{n} is a knight or a knave" for n in names)),
            ("first-only", right[0]),
            ("bare-roles", ", ".join(roles[n] for n in names)),
            ("numbers-instead", ", ".join(f"person {i + 1} is a {roles[n]}" for i, n in enumerate(names))),
            (
                "right-plus-flip",
                ", ".join(right) + f"; {names[0]} is a {'knave' if roles[names[0]] == 'knight' else 'knight'}",
            ),
            ("one-clause-all", " ".join(names) + " are knights and knaves"),
            ("role-words-spam", "knight knave " * 50),
            ("negated-wrong-roles", ", ".join(f"{n} is not a {roles[n]}" for n in names)),
            ("negated-contraction", ", ".join(f"{n} isn't a {roles[n]}" for n in names)),
        ]
        return [
            (name, f"<answer>{text}</answer>") for name, text in attacks if read_roles(text, names)[0] != dict(roles)
        ]  # a "hack" that is the solution is an answer


def describe(names: list[str], statements: list[tuple[int, Any]]) -> str:
    lines = []
    for speaker, statement in statements:
        text = render(statement, names)
        lines.append(f'- {names[speaker]} says: "{text[0].upper()}{text[1:]}."')
    return (
        f"On an island every inhabitant is either a knight, who always tells the truth, or a knave, who always lies. "
        f"You meet {len(names)} inhabitants: {', '.join(names)}.\n\n" + "\n".join(lines) + "\n\n"
        '"X would say that …" means: X, being a knight or a knave, would make that claim. Brackets group parts of a '
        "statement.\nWho is a knight and who is a knave? Put your final answer inside <answer>…</answer> with one "
        "role per inhabitant, in the form <answer>Xena is a knight, Zoltan is a knave</answer> (with this "
        "puzzle's names)."
    )
