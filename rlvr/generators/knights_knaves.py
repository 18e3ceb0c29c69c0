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

import functools
import math
import random
from collections import Counter
from typing import Any

import numpy as np

from rlvr.core import Task, TaskGenerator
from rlvr.families.knights_knaves import FAMILY, NAMES
from rlvr.generators.problem_forms import knights_knaves_form, knights_knaves_meaning_form
from rlvr.verifiers.knights_knaves import read_roles

MAX_EXTRA_STATEMENTS = 40  # statements added beyond the initial ones while the solution is not unique
MAX_PUZZLES = 64  # puzzles drawn per task (the face-value screen turns some away)
CALIBRATION_PUZZLES = 600  # raw puzzles per configuration that set the face-value screen's keep chances
READERS = 6  # the logic-free readings of face_value_guesses, besides one neighbour per person
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


def consistent_with(speaker: int, statement: Any, people: int) -> np.ndarray:
    """Which assignments (a boolean vector over all 2ⁿ) make the statement match its speaker's role."""
    knight = ((np.arange(1 << people) >> speaker) & 1).astype(bool)
    return knight == truth_vector(statement, people)


def consistent_assignments(statements: list[tuple[int, Any]], people: int) -> np.ndarray:
    """Indices of the assignments under which every speaker's statements match their role."""
    ok = np.ones(1 << people, dtype=bool)
    for speaker, statement in statements:
        ok &= consistent_with(speaker, statement, people)
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


CONNECTIVES = {
    "and": lambda a, b: a and b,
    "or": lambda a, b: a or b,
    "implies": lambda a, b: (not a) or b,
    "iff": lambda a, b: a == b,
}


def chance_true(statement: Any, roles: list[bool] | None, people: int | None = None) -> float:
    """The chance that a statement of this shape holds under ``roles`` when its leaves are drawn
    afresh and independently: a role claim (a random person, a random role word) 1/2, a count
    (uniform over 0…n) 1/(n + 1). Strictly between 0 and 1 for every shape. ``roles=None``: no
    role known (``people`` gives n), so a "says" node holds with chance 1/2 too."""
    kind = statement[0]
    if kind == "is":
        return 0.5
    if kind == "count":
        return 1 / ((len(roles) if roles is not None else people) + 1)
    if kind == "not":
        return 1 - chance_true(statement[1], roles, people)
    if kind == "says":
        if roles is None:
            return 0.5
        inner = chance_true(statement[2], roles)
        return inner if roles[statement[1]] else 1 - inner
    left, right = chance_true(statement[1], roles, people), chance_true(statement[2], roles, people)
    return sum(
        (left if a else 1 - left) * (right if b else 1 - right)
        for a in (True, False)
        for b in (True, False)
        if CONNECTIVES[statement[0]](a, b)
    )


def fill_to_truth(rng: random.Random, statement: Any, want: bool, roles: list[bool]) -> Any:
    """The statement's shape with its leaves (who is claimed to be which role, the counts)
    redrawn from their distribution conditioned on the whole statement having truth ``want``
    under ``roles``: exact, no rejection. Leaves are independent given the roles (each fills
    its own slot), so a node's children's truths are drawn from their joint chance restricted
    to the outcomes that give the node its wanted truth; "not" and "says" pass a (possibly
    flipped) wanted truth down. Every shape can take either truth, so this always succeeds."""
    kind = statement[0]
    if kind == "is":
        person = rng.randrange(len(roles))
        return ["is", person, "knight" if roles[person] == want else "knave"]
    if kind == "count":
        knights = sum(roles)
        return ["count", knights if want else rng.choice([k for k in range(len(roles) + 1) if k != knights])]
    if kind == "not":
        return ["not", fill_to_truth(rng, statement[1], not want, roles)]
    if kind == "says":  # "x would say s" holds when x's role matches s's truth
        return ["says", statement[1], fill_to_truth(rng, statement[2], roles[statement[1]] == want, roles)]
    left, right = chance_true(statement[1], roles), chance_true(statement[2], roles)
    outcomes = [(a, b) for a in (True, False) for b in (True, False) if CONNECTIVES[kind](a, b) == want]
    weights = [(left if a else 1 - left) * (right if b else 1 - right) for a, b in outcomes]
    a, b = rng.choices(outcomes, weights)[0]
    return [kind, fill_to_truth(rng, statement[1], a, roles), fill_to_truth(rng, statement[2], b, roles)]


def operand_chances(statement: Any, want: float, people: int) -> tuple[float, float]:
    """For a connective node wanted true with chance ``want``: the chances that ``fill_to_truth``
    made its left and right operands true, seen from the shapes alone (``chance_true`` with no role known)."""
    left, right = chance_true(statement[1], None, people), chance_true(statement[2], None, people)
    chance_left = chance_right = 0.0
    for truth, weight in ((True, want), (False, 1 - want)):
        outcomes = [(a, b) for a in (True, False) for b in (True, False) if CONNECTIVES[statement[0]](a, b) == truth]
        odds = [(left if a else 1 - left) * (right if b else 1 - right) for a, b in outcomes]
        total = sum(odds)
        chance_left += weight * sum(o for (a, _), o in zip(outcomes, odds) if a) / total
        chance_right += weight * sum(o for (_, b), o in zip(outcomes, odds) if b) / total
    return chance_left, chance_right


def wanted_true(statement: Any, want: float, people: int, claims: list[tuple[int, str, float]]) -> None:
    """Append (person, role word, chance) for each role claim of ``statement``: the chance that
    ``fill_to_truth`` made that claim true, seen from the statement's shape alone when the whole
    statement was wanted true with chance ``want`` (the speaker's role unknown: 1/2 at the top).
    A "says" node's inner truth depends on a role the shape does not show: 1/2 below it."""
    kind = statement[0]
    if kind == "is":
        claims.append((statement[1], statement[2], want))
    elif kind == "not":
        wanted_true(statement[1], 1 - want, people, claims)
    elif kind == "says":
        wanted_true(statement[2], 0.5, people, claims)
    elif kind in CONNECTIVES:
        chance_left, chance_right = operand_chances(statement, want, people)
        wanted_true(statement[1], chance_left, people, claims)
        wanted_true(statement[2], chance_right, people, claims)


def _lean(chance: float) -> int:
    return (chance > 0.5 + 1e-9) - (chance < 0.5 - 1e-9)


def face_value_guesses(statements: list[tuple[int, Any]], people: int) -> tuple[int, ...]:
    """The assignments (bit i set: person i a knight) that readers get without any logic (red team
    s19 F1). Each role claim leans toward its role by how likely the statement's shape made it
    true (``wanted_true``: a claim under "and" is true 2/3 of the time, under "or" 1/3, an
    "if" part 2/3, a "then" part 1/3); each person takes the sign of the sum of the claims
    about them (ties: knight), summed three ways: by log-odds, one vote per leaning claim, and
    one vote per leaning claim that is an operand (or a denied operand) of the statement's top
    connective; the fourth reader takes, where top-level counts are claimed, the most claimed
    count's best-scored people (by log-odds) as knights, else the log-odds guess; the fifth and
    sixth take those who say "it is not true that …" for knaves, or for knights (red team s13
    F6's rule, which the screen would otherwise push above chance). Then the log-odds guess with
    one person flipped, for each person, the least sure first: ``READERS`` + n guesses in all."""
    log_odds = [0.0] * people
    votes = [0] * people
    top_votes = [0] * people
    counts: list[int] = []
    negates = 0  # bit i: person i says "it is not true that …" somewhere
    for speaker, statement in statements:
        negates |= (statement[0] == "not") << speaker
        claims: list[tuple[int, str, float]] = []
        wanted_true(statement, 0.5, people, claims)
        for person, word, chance in claims:
            sign = 1 if word == "knight" else -1
            clipped = min(max(chance, 1e-3), 1 - 1e-3)
            log_odds[person] += math.log(clipped / (1 - clipped)) * sign
            votes[person] += _lean(chance) * sign
        top = statement[1] if statement[0] == "not" else statement  # a top-level denial keeps want at 1/2
        if top[0] in CONNECTIVES:
            for operand, chance in zip(top[1:], operand_chances(top, 0.5, people)):
                if operand[0] == "not":
                    operand, chance = operand[1], 1 - chance
                if operand[0] == "is":
                    top_votes[operand[1]] += _lean(chance) * (1 if operand[2] == "knight" else -1)
        if statement[0] == "count":
            counts.append(statement[1])
    guesses = [sum(1 << i for i in range(people) if score[i] >= 0) for score in (log_odds, votes, top_votes)]
    if counts:
        knights = Counter(counts).most_common(1)[0][0]
        order = sorted(range(people), key=lambda i: -log_odds[i])
        guesses.append(sum(1 << i for i in order[:knights]))
    else:
        guesses.append(guesses[0])
    everyone = (1 << people) - 1
    guesses += [everyone ^ negates, negates]  # red team s13 F6's "a denier is a knave", and its reverse
    # the log-odds guess with one person flipped, the least sure first (second pass: screening the
    # exact readings alone moved their hits onto these neighbours)
    for person in sorted(range(people), key=lambda i: (abs(log_odds[i]), i)):
        guesses.append(guesses[0] ^ (1 << person))
    return tuple(guesses)


@functools.lru_cache(maxsize=256)
def face_value_keep_chances(people: int, depth: int, kinds: str, per_person: int) -> tuple[float, ...]:
    """Per guess of ``face_value_guesses``, the chance with which a puzzle it solves is kept (a
    puzzle several of them solve: the product), so that among kept puzzles each reader is right
    2^-n of the time, as a guess is. Fitted on ``CALIBRATION_PUZZLES`` unscreened puzzles of this
    configuration, drawn from an RNG seeded by the configuration alone (the same in every
    process; once per process and configuration, ~0.1–0.5 s), by scaling each reader's chance by
    the square root of 2^-n over its hit rate among the puzzles kept so far, 200 times."""
    rng = random.Random(f"knights-knaves face-value calibration/{people}/{depth}/{kinds}/{per_person}")
    kind_list = kinds.split(",")
    hits: list[tuple[bool, ...]] = []
    for _ in range(4 * CALIBRATION_PUZZLES):  # draws that end without a unique solution are not counted
        if len(hits) == CALIBRATION_PUZZLES:
            break
        _, _, truth, statements, solutions = KnightsKnavesGenerator.draw_puzzle(
            rng, people, depth, kind_list, per_person
        )
        if len(solutions) == 1:
            hits.append(tuple(guess == truth for guess in face_value_guesses(statements, people)))
    chance = 2.0**-people
    solved = np.array(hits, dtype=bool).reshape(-1, READERS + people)
    keep = np.ones(READERS + people)
    for _ in range(200):  # damped: the readers agree on most puzzles, so full steps overshoot
        weights = np.where(solved, keep, 1.0).prod(axis=1)
        rates = (weights[:, None] * solved).sum(axis=0) / max(weights.sum(), 1e-12)  # no BLAS: same sums anywhere
        keep = np.minimum(1.0, keep * np.sqrt(chance / np.maximum(rates, 1e-12)))
    return tuple(round(float(value), 6) for value in keep)  # rounded: no last-bit difference reaches a task


def keep_chance(keep: list[float] | tuple[float, ...], solved_by: tuple[bool, ...]) -> float:
    """The chance a puzzle is kept: the product of the keep chances of the readers that solve it."""
    return math.prod(chance for chance, solved in zip(keep, solved_by) if solved)


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
        keep = face_value_keep_chances(people, depth, params["kinds"], params["statements"])
        puzzles_drawn = 0
        for _ in range(MAX_PUZZLES):
            puzzles_drawn += 1
            names, roles, truth, statements, solutions = self.draw_puzzle(
                rng, people, depth, kinds, params["statements"]
            )
            if len(solutions) != 1:
                continue
            # red team s19 F1: a puzzle that a logic-free reading solves is kept only as often
            # as holds each reading's hit rate to a guess's, 2^-n
            solved_by = tuple(guess == truth for guess in face_value_guesses(statements, people))
            if not any(solved_by) or rng.random() < keep_chance(keep, solved_by):
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

    @classmethod
    def draw_puzzle(
        cls, rng: random.Random, people: int, depth: int, kinds: list[str], per_person: int
    ) -> tuple[list[str], list[bool], int, list[tuple[int, Any]], np.ndarray]:
        """One draw: names, hidden roles (and their bitmask), true-to-role statements (``per_person``
        from each inhabitant, then one at a time from a random one until a single assignment is
        consistent, at most ``MAX_EXTRA_STATEMENTS`` more) and the consistent assignments."""
        names = rng.sample(NAMES, people)
        roles = [rng.random() < 0.5 for _ in range(people)]
        truth = sum(1 << i for i, knight in enumerate(roles) if knight)
        statements: list[tuple[int, Any]] = []
        consistent = np.ones(1 << people, dtype=bool)  # the assignments every statement so far allows
        speakers = [p for p in range(people) for _ in range(per_person)]
        extra = 0
        while True:
            for speaker in speakers:
                statement = cls.true_to_role(rng, people, speaker, depth, kinds, roles)
                allowed = consistent_with(speaker, statement, people)
                assert allowed[truth]  # the statement is true to its speaker's role
                statements.append((speaker, statement))
                consistent &= allowed
            solutions = np.flatnonzero(consistent)
            if len(solutions) == 1 or extra >= MAX_EXTRA_STATEMENTS:
                return names, roles, truth, statements, solutions
            speakers = [rng.randrange(people)]
            extra += 1

    @staticmethod
    def true_to_role(
        rng: random.Random, people: int, speaker: int, depth: int, kinds: list[str], roles: list[bool]
    ) -> Any:
        """A statement whose truth under the hidden assignment ``roles`` matches the speaker's
        role. Its shape is drawn as for any speaker: a random statement's connectives, nesting
        and whose view a "says" takes, a compound one wrapped in "it is not true that" on a fair
        coin (a negated compound claim, one level beyond ``depth``, is what lets a knight deny a
        mixed "and" and so break the swap-every-role symmetry). Then its leaves are drawn afresh
        conditioned on that truth (``fill_to_truth``). So a statement's wording (the negation, a
        connective, the nesting) is drawn alike for knights and knaves: red team s13 F6 found
        the former negate-exactly-when-false rule made "negated → knave" beat chance."""
        shape = random_statement(rng, people, speaker, depth, kinds)
        if shape[0] not in ("is", "not") and rng.random() < 0.5:
            shape = ["not", shape]
        return fill_to_truth(rng, shape, roles[speaker], roles)

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
        """The puzzle up to what it says and its people's names and order
        (``problem_forms.knights_knaves_meaning_form``: the set of constraints its statements put
        on the roles, those that say nothing left out; red team s21 B1: "X is not a knave" for
        "X is a knight" put 129 of 300 d = 0 test puzzles in train, and its second pass: a
        statement saying nothing, or a constraint stated by the other person it binds, 291 of
        300), or, where too many relabellings tie, up to its people's names and order, the order
        of its statements and of the operands of and/or/iff (``problem_forms.knights_knaves_form``)."""
        names, roles = task.answer["names"], task.answer["roles"]
        statements, people = task.answer["statements"], len(names)
        in_order = [roles[name] for name in names]
        said = [(speaker, truth_vector(statement, people)) for speaker, statement in statements]
        form = knights_knaves_meaning_form(people, said, in_order)
        return ["knights-knaves", form if form is not None else knights_knaves_form(statements, in_order)]

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries: everyone a knight, everyone a knave, both roles
        for one person, hedged roles, only some people, names dropped, extra people, the roles
        as a bare list, the right answer wrapped in contradictions, "a speaker who negates
        a statement is a knave", and the logic-free readings of ``face_value_guesses``."""
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
            (  # red team s13 F6: a speaker who says "it is not true that" taken for a knave
                "negation-marks-a-knave",
                ", ".join(f"{n} is a {'knave' if negates(task.prompt, n) else 'knight'}" for n in names),
            ),
        ]
        statements = [(speaker, statement) for speaker, statement in task.answer["statements"]]
        for reader, guess in enumerate(dict.fromkeys(face_value_guesses(statements, len(names)))):
            # red team s19 F1: claims believed by where they sit in a statement, no logic
            roles_guessed = ", ".join(
                f"{n} is a {'knight' if guess >> i & 1 else 'knave'}" for i, n in enumerate(names)
            )
            attacks.append((f"face-value-reading-{reader}", roles_guessed))
        return [
            (name, f"<answer>{text}</answer>") for name, text in attacks if read_roles(text, names)[0] != dict(roles)
        ]  # a "hack" that is the solution is an answer


def negates(prompt: str, name: str) -> bool:
    """Whether ``name`` says "It is not true that …" somewhere in the puzzle."""
    return f'- {name} says: "It is not true that' in prompt


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
