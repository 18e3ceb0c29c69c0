"""How Zebra puzzles are made: a hidden solution, true clues until a SAT proof of uniqueness, no redundancy.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.zebra``.

Internally a value is an *item*, ``attribute index × houses + value index`` (values in the prompt's
listing order, so ``task.answer`` alone rebuilds every item), and the solution
maps every item to a house (0-based). A clue is ``(kind, items, house)`` — ``house`` only for
at_house / not_at_house — and ``holds(kind, houses, house)`` is its meaning, shared by the pool
of true clues, the SAT encoding and the backtracking search. The SAT model has one variable per
(item, house), exactly-one constraints per item and per (attribute, house), one selector literal
per clue (the clause "selector → no violating combination of houses") and the permanent clause
"not the hidden solution": the clues pin the solution down exactly when the solver finds no
model under the assumption of their selectors. Only SAT/UNSAT answers are used, never a model,
so the task bytes do not depend on the SAT solver's search.
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Any

import numpy as np
from pysat.solvers import Solver

from rlvr.core import Task, TaskGenerator
from rlvr.families.zebra import ATTRIBUTES, FAMILY, POSITIONAL_KINDS
from rlvr.generators.problem_forms import zebra_form
from rlvr.verifiers.zebra import asked_attributes, expected_cell, read_cell, read_grid

MAX_SEARCH_NODES = 200_000  # the backtracking measure stops counting here
SAT_SOLVER = "minisat22"
ARITY = {
    "same": 2,
    "different": 2,
    "next_to": 2,
    "directly_left": 2,
    "left_of": 2,
    "at_house": 1,
    "not_at_house": 1,
    "between": 3,
}
SYMMETRIC = {"same", "different", "next_to"}  # kinds whose two people may be named in either order
# attribute: (naming a person by the value, saying it of someone, denying it, asking for it)
PHRASES = {
    "colour": (
        "the person in the {} house",
        "lives in the {} house",
        "does not live in the {} house",
        "What colour is the house of {}?",
    ),
    "nationality": ("the {}", "is the {}", "is not the {}", "What nationality is {}?"),
    "pet": ("the owner of the {}", "owns the {}", "does not own the {}", "Which pet does {} own?"),
    "drink": ("the person who drinks {}", "drinks {}", "does not drink {}", "What does {} drink?"),
    "sport": ("the person who plays {}", "plays {}", "does not play {}", "Which sport does {} play?"),
    "food": ("the person who eats {}", "eats {}", "does not eat {}", "Which food does {} eat?"),
    "car": ("the {} driver", "drives the {}", "does not drive the {}", "Which car does {} drive?"),
    "job": ("the {}", "is the {}", "is not the {}", "What is the job of {}?"),
    "music": ("the {} fan", "listens to {}", "does not listen to {}", "Which music does {} listen to?"),
}
KIND_NOTES = {
    "next_to": '"next to" means in a neighbouring house',
    "directly_left": '"directly left of" means in the house numbered one lower ("directly right of": one higher)',
    "left_of": '"somewhere to the left of" means in any house with a lower number (right: higher)',
    "between": '"somewhere between Y and Z" means in a house strictly between theirs, in either order',
}


def holds(kind: str, houses: tuple[int, ...], house: int | None) -> bool:
    """Whether a clue of ``kind`` is true when its items sit in ``houses`` (0-based)."""
    if kind == "same":
        return houses[0] == houses[1]
    if kind == "different":
        return houses[0] != houses[1]
    if kind == "next_to":
        return abs(houses[0] - houses[1]) == 1
    if kind == "directly_left":
        return houses[0] + 1 == houses[1]
    if kind == "left_of":
        return houses[0] < houses[1]
    if kind == "at_house":
        return houses[0] == house
    if kind == "not_at_house":
        return houses[0] != house
    return min(houses[1], houses[2]) < houses[0] < max(houses[1], houses[2])  # between


def true_clues(kind: str, where: list[list[int]], houses: int) -> list[tuple[str, tuple[int, ...], int | None]]:
    """Every true clue of ``kind`` about the solution ``where[attribute][house] = item``, each once."""
    attributes = range(len(where))
    if kind == "same":
        return [
            (kind, (where[a][h], where[b][h]), None)
            for a, b in itertools.combinations(attributes, 2)
            for h in range(houses)
        ]
    if kind == "different":
        return [
            (kind, (where[a][h], where[b][g]), None)
            for a, b in itertools.combinations(attributes, 2)
            for h in range(houses)
            for g in range(houses)
            if h != g
        ]
    if kind in ("next_to", "directly_left"):
        return [
            (kind, (where[a][h], where[b][h + 1]), None)
            for h in range(houses - 1)
            for a in attributes
            for b in attributes
        ]
    if kind == "left_of":
        return [
            (kind, (where[a][h], where[b][g]), None)
            for h, g in itertools.combinations(range(houses), 2)
            for a in attributes
            for b in attributes
        ]
    if kind == "at_house":
        return [(kind, (where[a][h],), h) for a in attributes for h in range(houses)]
    if kind == "not_at_house":
        return [(kind, (where[a][h],), g) for a in attributes for h in range(houses) for g in range(houses) if g != h]
    return [
        (kind, (where[b][g], where[a][h], where[c][k]), None)
        for h, g, k in itertools.combinations(range(houses), 3)
        for a in attributes
        for b in attributes
        for c in attributes
    ]  # between: the middle one first


HINT_PIECES = 8  # a Zebra hint shows solution cells in up to this many pieces


class UniquenessProver:
    """An incremental SAT model of the puzzle (module docstring): ``add(clue)`` returns the clue's
    selector; ``unique(selectors)`` is True when those clues leave only the hidden solution."""

    def __init__(self, attributes: int, houses: int, solution: list[int]):
        self.houses = houses
        self.solver = Solver(name=SAT_SOLVER)
        self.next_var = attributes * houses * houses + 1
        self.checks = 0
        items = range(attributes * houses)
        groups = [[self.var(i, h) for h in range(houses)] for i in items]  # each item in one house
        groups += [
            [self.var(a * houses + v, h) for v in range(houses)] for a in range(attributes) for h in range(houses)
        ]
        for group in groups:
            self.solver.add_clause(group)
            for x, y in itertools.combinations(group, 2):
                self.solver.add_clause([-x, -y])
        self.solver.add_clause([-self.var(i, solution[i]) for i in items])  # not the hidden solution

    def var(self, item: int, house: int) -> int:
        return item * self.houses + house + 1

    def add(self, clue: tuple[str, tuple[int, ...], int | None]) -> int:
        kind, items, house = clue
        selector = self.next_var
        self.next_var += 1
        for combo in itertools.product(range(self.houses), repeat=len(items)):
            if not holds(kind, combo, house):
                self.solver.add_clause([-selector] + [-self.var(i, h) for i, h in zip(items, combo)])
        return selector

    def unique(self, selectors: list[int]) -> bool:
        self.checks += 1
        return not self.solver.solve(assumptions=selectors)

    def close(self) -> None:
        self.solver.delete()


def prove_unique(attributes: int, houses: int, solution: list[int], clues: list) -> bool:
    """A fresh solver's verdict: do ``clues`` admit the hidden solution and nothing else?"""
    if not all(holds(kind, tuple(solution[i] for i in items), house) for kind, items, house in clues):
        return False
    prover = UniquenessProver(attributes, houses, solution)
    try:
        return prover.unique([prover.add(clue) for clue in clues])
    finally:
        prover.close()


def search_nodes(clues: list, attributes: int, houses: int, cap: int = MAX_SEARCH_NODES) -> tuple[int, int]:
    """(nodes, solutions) of a plain depth-first search over the puzzle: items are placed one at
    a time (each in a house its attribute has free) in a fixed order — next, the item that
    completes the most clues, then the most mentioned — and a clue is checked once all its
    items are placed. A node is one placement tried; the search runs to the end (proving the
    solution unique) unless it reaches ``cap`` nodes, when it stops counting."""
    count = attributes * houses
    of_item: list[list[int]] = [[] for _ in range(count)]  # the clues naming each item
    for c, (_, items, _) in enumerate(clues):
        for i in items:
            of_item[i].append(c)
    unplaced = [len(items) for _, items, _ in clues]  # per clue, its items not yet in the order
    order: list[int] = []
    free = set(range(count))
    while free:
        best = max(free, key=lambda i: (sum(unplaced[c] == 1 for c in of_item[i]), len(of_item[i]), -i))
        order.append(best)
        free.discard(best)
        for c in of_item[best]:
            unplaced[c] -= 1
    position = {item: p for p, item in enumerate(order)}
    where = [0] * count
    checks: list[list] = [[] for _ in range(count)]
    for kind, items, house in clues:
        # the clue's truth for every combination of its items' houses, read by mixed-radix index
        table = [holds(kind, combo, house) for combo in itertools.product(range(houses), repeat=len(items))]
        if len(items) == 1:
            check = lambda t=table, a=items[0]: t[where[a]]  # noqa: E731
        elif len(items) == 2:
            check = lambda t=table, a=items[0], b=items[1]: t[where[a] * houses + where[b]]  # noqa: E731
        else:
            check = lambda t=table, a=items[0], b=items[1], c=items[2]: (  # noqa: E731
                t[(where[a] * houses + where[b]) * houses + where[c]]
            )
        checks[max(position[i] for i in items)].append(check)
    used = [0] * attributes  # bit mask of the houses each attribute has filled
    nodes = solutions = 0

    def place(p: int) -> None:
        nonlocal nodes, solutions
        if p == count:
            solutions += 1
            return
        item = order[p]
        attribute = item // houses
        for house in range(houses):
            if used[attribute] >> house & 1:
                continue
            if nodes >= cap:
                return
            nodes += 1
            where[item] = house
            if all(check() for check in checks[p]):
                used[attribute] |= 1 << house
                place(p + 1)
                used[attribute] &= ~(1 << house)

    place(0)
    return nodes, solutions


class ZebraGenerator(TaskGenerator):
    """Zebra puzzles with exactly one solution and no redundant clue (unless ``redundant``)."""

    declaration = FAMILY

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        houses, count = params["houses"], params["attributes"]
        kinds = params["clues"].split(",")
        if not set(kinds) & set(POSITIONAL_KINDS):
            raise ValueError(
                f"clues {params['clues']!r} cannot make a unique puzzle (mirroring the row keeps them true); "
                f"add one of {', '.join(POSITIONAL_KINDS)}"
            )
        if houses < 3:
            kinds = [k for k in kinds if k != "between"]  # no house lies between two others
        drawn_attributes = set(rng.sample(sorted(ATTRIBUTES), count))
        attributes = [a for a in ATTRIBUTES if a in drawn_attributes]  # in the declaration's order
        values = [
            sorted(rng.sample(ATTRIBUTES[a], houses), key=str.lower) for a in attributes
        ]  # as listed; item a·H + v
        where = [rng.sample(range(a * houses, (a + 1) * houses), houses) for a in range(count)]  # where[a][h] = item
        solution = [0] * (count * houses)
        for a in range(count):
            for h, item in enumerate(where[a]):
                solution[item] = h
        pools = {}
        for kind in kinds:
            pools[kind] = true_clues(kind, where, houses)
            rng.shuffle(pools[kind])

        def draw() -> tuple | None:
            live = [k for k in kinds if pools[k]]
            return pools[rng.choice(live)].pop() if live else None

        prover = UniquenessProver(count, houses, solution)
        try:
            chosen: list[tuple] = []
            selectors: list[int] = []
            while not prover.unique(selectors):
                clue = draw()
                if clue is None:  # cannot happen with a positional kind: all its true clues fix the solution
                    raise ValueError(f"clue kinds {params['clues']!r} ran out before the solution was unique")
                chosen.append(clue)
                selectors.append(prover.add(clue))
            drawn = len(chosen)
            keep = [True] * drawn
            for index in rng.sample(range(drawn), drawn):
                keep[index] = False
                if not prover.unique([s for s, k in zip(selectors, keep) if k]):
                    keep[index] = True
            clues = [clue for clue, k in zip(chosen, keep) if k]
            checks = prover.checks
        finally:
            prover.close()
        irredundant = len(clues)
        for _ in range(int(round(params["redundant"] * irredundant))):
            clue = draw()
            if clue is None:
                break
            clues.append(clue)
        rng.shuffle(clues)
        assert prove_unique(count, houses, solution, clues)  # the hidden solution, and only it

        def name(item: int) -> list:
            return [attributes[item // houses], values[item // houses][item % houses]]

        question_kind = params["question"] if params["question"] != "any" else rng.choice(("cell", "grid"))
        if question_kind == "cell":
            subject, target = rng.choice(open_cells(clues, count, houses))
            question = {
                "kind": "cell",
                "subject": name(subject),
                "target": attributes[target] if target >= 0 else "house",
            }
        else:  # every house's value of ``asked`` attributes, drawn when not all are asked
            chosen = sorted(rng.sample(range(count), params["asked"])) if params["asked"] < count else range(count)
            question = {"kind": "grid", "attributes": [attributes[a] for a in chosen]}
        answer = {
            "houses": houses,
            "attributes": attributes,
            "values": {a: values[i] for i, a in enumerate(attributes)},
            "solution": {a: [values[i][where[i][h] % houses] for h in range(houses)] for i, a in enumerate(attributes)},
            "clues": [
                [kind, *(name(i) for i in items), *([house + 1] if house is not None else [])]
                for kind, items, house in clues
            ],
            "question": question,
        }
        kind_counts = {k: sum(1 for clue in clues if clue[0] == k) for k in kinds}
        meta = {
            "clues": len(clues),
            "clue_kinds": {k: n for k, n in kind_counts.items() if n},
            "search_nodes": search_nodes(clues, count, houses)[0],
            "clues_drawn": drawn,
            "redundant_clues": len(clues) - irredundant,
            "sat_checks": checks,
            "question": question_kind,
        }
        return {"prompt": describe(rng, answer, clues, name), "answer": answer, "meta": meta}

    def split_group(self, task: Task) -> Any:
        """The puzzle with its values renamed to (attribute, house), its clues in any order, its
        attributes in any order and its row read from either end (``problem_forms.zebra_form``):
        the same puzzle told of other values or attributes, with its clues shuffled or reworded,
        its attributes listed otherwise or its houses numbered from the right, is on one side."""
        return ["zebra", zebra_form(task.answer, SYMMETRIC)]

    def solve(self, task: Task) -> str:
        answer = task.answer
        if answer["question"]["kind"] == "cell":
            return f"<answer>{expected_cell(answer)}</answer>"
        return "<answer>\n" + grid_text(answer, asked_solution(answer)) + "\n</answer>"

    def hints(self, task: Task) -> list[str]:
        """Cells of the solution, a few per piece, up to three quarters of those allowed. For a
        cell question no cell of the asked person's house, of the asked attribute or of the
        subject's attribute is ever shown: any of them would give the answer away directly or by
        elimination."""
        answer = task.answer
        question = answer["question"]
        hidden_house, hidden_attributes = None, set()
        if question["kind"] == "cell":
            attribute, value = question["subject"]
            hidden_house = answer["solution"][attribute].index(value)
            hidden_attributes = {attribute, question["target"]}
        cells = [
            (house, attribute)
            for attribute in answer["attributes"]
            for house in range(answer["houses"])
            if house != hidden_house and attribute not in hidden_attributes
        ]
        if not cells:
            return [f"Work house by house: {answer['houses']} houses, each with one value of every attribute."]
        cut = (len(cells) * 3) // 4
        size = max(1, -(-cut // HINT_PIECES))
        return [
            "; ".join(
                f"house {house + 1} has the {answer['solution'][attribute][house]} ({attribute})"
                for house, attribute in cells[start : min(start + size, cut)]
            )
            for start in range(0, cut, size)
        ]

    def wrong_response(self, task: Task) -> str:
        """A near miss: the asked grid with houses 1 and 2 swapped, or the cell of a neighbouring house."""
        answer = task.answer
        if answer["question"]["kind"] == "cell":
            return f"<answer>{neighbour_cell(answer)}</answer>"
        return "<answer>\n" + grid_text(answer, swapped(asked_solution(answer), 0, 1)) + "\n</answer>"

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries: the most and least mentioned values, every value of
        the asked attribute (a hedge), the right value hedged with another, a house number where
        a name is asked (and names where a number is), house 1 and the first and last listed
        value whatever is asked, the clue text echoed, the grid with two houses swapped, missing
        an attribute, with every house given every value, values in listing order, rows without
        house labels, one attribute rotated, the grid transposed, the right grid plus a
        contradicting line, the grid for a cell question and one cell for a grid question; and
        the grids that ignore the clues (red team S10-G6): the asked attributes' values in
        listing order, reversed, rotated, most or least mentioned first, or all in house 1."""
        answer = task.answer
        question, solution, houses = answer["question"], answer["solution"], answer["houses"]
        right_grid = grid_text(answer, asked_solution(answer))
        listing = "\n".join(
            f"House {h + 1}: " + ", ".join(answer["values"][a][h] for a in answer["attributes"]) for h in range(houses)
        )
        every = "\n".join(
            f"House {h + 1}: " + ", ".join(v for a in answer["attributes"] for v in answer["values"][a])
            for h in range(houses)
        )
        clue_text = task.prompt[task.prompt.index("Clues:") : task.prompt.index("Question:")]
        attacks = [
            ("clue-echo", clue_text),
            ("grid-two-houses-swapped", grid_text(answer, swapped(solution, 0, houses - 1))),
            ("grid-listing-order", listing),
            ("grid-every-value-in-every-house", every),
            ("grid-missing-attribute", grid_text(answer, {a: solution[a] for a in answer["attributes"][:-1]})),
            (
                "grid-unlabelled-rows",
                "\n".join(", ".join(solution[a][h] for a in answer["attributes"]) for h in range(houses)),
            ),
            ("grid-right-plus-contradiction", right_grid + f"\nHouse 1: {solution[answer['attributes'][0]][1]}"),
            (
                "grid-all-houses-one-line",
                " ".join(f"House {h + 1}" for h in range(houses))
                + ": "
                + ", ".join(solution[a][h] for h in range(houses) for a in answer["attributes"]),
            ),
            ("house-numbers-only", ", ".join(str(h + 1) for h in range(houses))),
        ]
        if question["kind"] == "cell":
            target = question["target"]
            asked = list(range(1, houses + 1)) if target == "house" else answer["values"][target]
            expected = expected_cell(answer)
            mentions = {str(v): task.prompt[task.prompt.index("Clues:") :].count(str(v)) for v in asked}
            attacks += [
                ("most-mentioned-value", max(mentions, key=lambda v: (mentions[v], v))),
                ("house-1-whatever-asked", "house 1"),
                ("first-listed-value", str(asked[0])),
                ("last-listed-value", str(asked[-1])),
                ("least-mentioned-value", min(mentions, key=lambda v: (mentions[v], v))),
                ("every-value-listed", ", ".join(map(str, asked))),
                ("right-or-neighbour", f"{expected} or {neighbour_cell(answer)}"),
                ("negated-right-value", f"not {expected}"),  # red team s18 Z2: read as the value
                ("negated-right-house", f"house -{expected}" if target == "house" else f"except {expected}"),
                ("whole-grid-for-a-cell", right_grid),
                ("subject-echo", " ".join(map(str, question["subject"]))),
                (
                    "name-for-number" if target == "house" else "number-for-name",
                    solution[answer["attributes"][0]][int(expected) - 1]
                    if target == "house"
                    else str(solution[question["subject"][0]].index(question["subject"][1]) + 1),
                ),
            ]
        else:
            asked = asked_attributes(answer)
            right = asked_solution(answer)
            clues = task.prompt[task.prompt.index("Clues:") : task.prompt.index("Question:")].lower()
            mentions = {
                v: len(re.findall(rf"\b{re.escape(v.lower())}\b", clues)) for a in asked for v in answer["values"][a]
            }

            def blind(order) -> str:  # a grid from each asked attribute's listed values alone
                return grid_text(answer, {a: order(answer["values"][a]) for a in asked})

            attacks += [
                ("one-cell-for-a-grid", solution[asked[0]][0]),
                ("right-grid-twice-with-swap", right_grid + "\n" + grid_text(answer, swapped(right, 0, 1))),
                (
                    "grid-one-attribute-rotated",
                    grid_text(answer, {a: v[1:] + v[:1] if a == asked[-1] else v for a, v in right.items()}),
                ),
                ("grid-missing-an-asked-attribute", grid_text(answer, {a: right[a] for a in asked[:-1]})),
                ("grid-transposed", "\n".join(f"{a}: " + ", ".join(solution[a]) for a in asked)),
                ("blind-listed-order", blind(list)),
                ("blind-reversed-order", blind(lambda values: values[::-1])),
                ("blind-rotated-order", blind(lambda values: values[1:] + values[:1])),
                ("blind-most-mentioned-first", blind(lambda values: sorted(values, key=lambda v: -mentions[v]))),
                ("blind-least-mentioned-first", blind(lambda values: sorted(values, key=lambda v: mentions[v]))),
                ("blind-all-in-house-1", "House 1: " + ", ".join(v for a in asked for v in answer["values"][a])),
            ]
        return [(name, f"<answer>{text}</answer>") for name, text in attacks if not solves(answer, text)]


def open_cells(clues: list, attributes: int, houses: int) -> list:
    """The (subject item, target attribute index or -1 for its house) pairs that no single clue
    states outright (a "same" clue pairing the subject with the answer, an "at_house" clue
    placing the subject); every pair when clues state them all."""
    stated = set()
    for kind, items, _ in clues:
        if kind == "same":
            stated |= {(items[0], items[1] // houses), (items[1], items[0] // houses)}
        elif kind == "at_house":
            stated.add((items[0], -1))
    cells = [
        (item, target)
        for item in range(attributes * houses)
        for target in [*(a for a in range(attributes) if a != item // houses), -1]
    ]
    return [cell for cell in cells if cell not in stated] or cells


def solves(answer: dict, block: str) -> bool:
    """Whether an answer block is right (an 'attack' that happens to be right is an answer)."""
    if answer["question"]["kind"] == "cell":
        return read_cell(block, answer)[0] == expected_cell(answer)
    grid, _ = read_grid(block, answer)
    return grid is not None and all(
        grid.get((h + 1, a)) == answer["solution"][a][h]
        for a in asked_attributes(answer)
        for h in range(answer["houses"])
    )


def grid_text(answer: dict, solution: dict) -> str:
    """One "House n: v, v, …" line per house from ``solution`` {attribute: [value per house]}."""
    return "\n".join(
        f"House {h + 1}: " + ", ".join(values[h] for values in solution.values()) for h in range(answer["houses"])
    )


def asked_solution(answer: dict) -> dict:
    """The solution's columns {attribute: [value per house]} of the attributes a grid question asks."""
    return {a: answer["solution"][a] for a in asked_attributes(answer)}


def swapped(solution: dict, first: int, second: int) -> dict:
    """The solution with two houses' contents exchanged."""
    result = {}
    for attribute, values in solution.items():
        values = list(values)
        values[first], values[second] = values[second], values[first]
        result[attribute] = values
    return result


def neighbour_cell(answer: dict) -> str | int:
    """The asked cell's value in the next house (a wrong answer of the right kind)."""
    subject_attribute, subject_value = answer["question"]["subject"]
    house = answer["solution"][subject_attribute].index(subject_value)
    other = (house + 1) % answer["houses"]
    target = answer["question"]["target"]
    return other + 1 if target == "house" else answer["solution"][target][other]


def person(attribute: str, value: str) -> str:
    return PHRASES[attribute][0].format(value)


def render(rng: random.Random, clue: tuple, name, houses: int) -> str:
    """English for a clue (with random but equivalent wording: sides of symmetric clues, left or
    right, "house 1" or "the first house")."""
    kind, items, house = clue
    people = [name(i) for i in items]
    if kind in SYMMETRIC and rng.random() < 0.5:
        people.reverse()
    (a, x), *rest = people
    if kind in ("same", "different"):
        b, y = rest[0]
        text = f"{person(a, x)} {PHRASES[b][1 if kind == 'same' else 2].format(y)}"
    elif kind == "next_to":
        text = f"{person(a, x)} lives next to {person(*rest[0])}"
    elif kind in ("directly_left", "left_of"):
        how = "directly" if kind == "directly_left" else "somewhere to the"
        if rng.random() < 0.5:
            text = f"{person(a, x)} lives {how} left of {person(*rest[0])}"
        else:
            text = f"{person(*rest[0])} lives {how} right of {person(a, x)}"
    elif kind in ("at_house", "not_at_house"):
        spot = f"house {house + 1}"
        if rng.random() < 0.5:
            if house == 0:
                spot = "the first house"
            elif house == houses - 1:
                spot = "the last house"
            elif houses % 2 and house == houses // 2:
                spot = "the middle house"
        text = f"{person(a, x)} {'lives' if kind == 'at_house' else 'does not live'} in {spot}"
    else:
        outer = [person(*p) for p in rest]
        rng.shuffle(outer)
        text = f"{person(a, x)} lives somewhere between {outer[0]} and {outer[1]}"
    return text[0].upper() + text[1:] + "."


def describe(rng: random.Random, answer: dict, clues: list, name) -> str:
    houses = answer["houses"]
    listing = "\n".join(f"- {a}: {', '.join(answer['values'][a])}" for a in answer["attributes"])
    lines = "\n".join(f"{n}. {render(rng, clue, name, houses)}" for n, clue in enumerate(clues, 1))
    used = {clue[0] for clue in clues}
    notes = [note for kind, note in KIND_NOTES.items() if kind in used]
    if used & {"at_house", "not_at_house"}:
        notes.append(
            f'"the first house" is house 1 and "the last house" is house {houses}'
            + (f'; "the middle house" is house {houses // 2 + 1}' if houses % 2 else "")
        )
    note_text = ("Meaning of the clues: " + "; ".join(notes) + ".\n") if notes else ""
    question = answer["question"]
    if question["kind"] == "cell":
        subject = person(*question["subject"])
        target = question["target"]
        if target == "house":
            asked = f"In which house does {subject} live?"
            form = "the house number only, e.g. <answer>N</answer>"
        else:
            asked = PHRASES[target][3].format(subject)
            form = f"only the {target}, spelled as in the list above"
    else:
        names = asked_attributes(answer)
        if len(names) == len(answer["attributes"]):
            asked = "What is in every house? Give the value of every attribute for every house."
        else:
            listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
            asked = f"What {listed} does each house have? Give the {listed} of every house."
        form = (
            "one line per house, each house's values separated by commas, in the form\n<answer>\nHouse 1: "
            + ", ".join(names)
            + "\nHouse 2: …\n</answer>\nwith this puzzle's values in place of "
            "the attribute names"
        )
    return (
        f"There are {houses} houses in a row, numbered 1 to {houses} from left to right. One person lives in each "
        "house, and each house has exactly one value of every attribute below; no two houses share a value.\n"
        f"{listing}\n\nClues:\n{lines}\n\n{note_text}Question: {asked}\nPut your final answer inside "
        f"<answer>…</answer>: {form}."
    )
