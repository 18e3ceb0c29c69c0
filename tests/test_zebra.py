"""Zebra-v0: unique solutions (checked by brute force), the readers, hostile answers, the knob."""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import pytest

import rlvr
from rlvr.families.zebra import ATTRIBUTES, CLUE_KINDS
from rlvr.generators.zebra import ZebraGenerator, search_nodes
from rlvr.verifiers.chance import right_in_permutations
from rlvr.verifiers.zebra import ZebraVerifier, read_cell, read_grid

GENERATOR = ZebraGenerator()
VERIFIER = ZebraVerifier()
POINTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def holds(kind, positions, house):
    """Each clue kind's meaning, written apart from the generator's (houses 1-based, arrays)."""
    if kind == "same":
        return positions[0] == positions[1]
    if kind == "different":
        return positions[0] != positions[1]
    if kind == "next_to":
        return np.abs(positions[0] - positions[1]) == 1
    if kind == "directly_left":
        return positions[1] - positions[0] == 1
    if kind == "left_of":
        return positions[0] < positions[1]
    if kind == "at_house":
        return positions[0] == house
    if kind == "not_at_house":
        return positions[0] != house
    assert kind == "between"
    low, high = np.minimum(positions[1], positions[2]), np.maximum(positions[1], positions[2])
    return (low < positions[0]) & (positions[0] < high)


def brute_force_solutions(answer):
    """Every assignment of houses to values that satisfies all the clues, by joining one
    attribute's permutations at a time and filtering on the clues whose attributes are all in."""
    houses, attributes = answer["houses"], answer["attributes"]
    column = {(a, v): (k, i) for k, a in enumerate(attributes) for i, v in enumerate(answer["values"][a])}
    perms = np.array(list(itertools.permutations(range(1, houses + 1))), dtype=np.int8)  # perm[i] = house of value i
    rows = np.zeros((1, 0), dtype=np.int8)
    clues = [
        (c[0], [column[tuple(p)] for p in c[1:] if isinstance(p, list)], c[-1] if isinstance(c[-1], int) else None)
        for c in answer["clues"]
    ]
    joined: list[int] = []  # attributes in join order: next, the one most clues tie to those joined
    while len(joined) < len(attributes):
        k = max(
            (k for k in range(len(attributes)) if k not in joined),
            key=lambda k: (
                sum(
                    all(a in joined or a == k for a, _ in cells) and any(a == k for a, _ in cells)
                    for _, cells, _ in clues
                ),
                -k,
            ),
        )
        joined.append(k)
        own = perms  # this attribute's permutations that its own clues allow
        for kind, cells, house in clues:
            if all(a == k for a, _ in cells):
                own = own[holds(kind, [own[:, i] for _, i in cells], house)]
        rows = np.concatenate([np.repeat(rows, len(own), axis=0), np.tile(own, (len(rows), 1))], axis=1)
        for kind, cells, house in clues:
            if k in (a for a, _ in cells) and all(a in joined for a, _ in cells) and any(a != k for a, _ in cells):
                rows = rows[holds(kind, [rows[:, joined.index(a) * houses + i] for a, i in cells], house)]
    rows = (
        rows[:, np.argsort(joined).repeat(houses) * houses + np.tile(np.arange(houses), len(joined))]
        if len(rows)
        else rows
    )
    solutions = []
    for row in rows:  # row[k * houses + i] = the house of attribute k's i-th listed value
        solutions.append(
            {
                a: [
                    answer["values"][a][list(row[k * houses : (k + 1) * houses]).index(h)] for h in range(1, houses + 1)
                ]
                for k, a in enumerate(attributes)
            }
        )
    return solutions


@pytest.mark.parametrize("difficulty", [0.0, 0.25, 0.5, 0.75])
def test_every_puzzle_has_exactly_one_solution_by_brute_force(difficulty):
    for seed in range(25):
        task = GENERATOR.generate(seed, difficulty)
        assert brute_force_solutions(task.answer) == [task.answer["solution"]], seed


def cp_sat_solution_count(answer, limit=2):
    """Solutions of the clues counted by OR-Tools CP-SAT (integer house per value, AllDifferent
    per attribute): a second solver and encoding, for sizes brute force cannot reach."""
    from ortools.sat.python import cp_model

    model, houses = cp_model.CpModel(), answer["houses"]
    position = {
        (a, v): model.NewIntVar(1, houses, f"{a}:{v}") for a in answer["attributes"] for v in answer["values"][a]
    }
    for a in answer["attributes"]:
        model.AddAllDifferent([position[a, v] for v in answer["values"][a]])
    for clue in answer["clues"]:
        kind, cells = clue[0], [position[tuple(p)] for p in clue[1:] if isinstance(p, list)]
        if kind == "same":
            model.Add(cells[0] == cells[1])
        elif kind == "different":
            model.Add(cells[0] != cells[1])
        elif kind == "next_to":
            gap = model.NewIntVar(-houses, houses, "")
            model.Add(gap == cells[0] - cells[1])
            model.AddAbsEquality(1, gap)
        elif kind == "directly_left":
            model.Add(cells[0] + 1 == cells[1])
        elif kind == "left_of":
            model.Add(cells[0] < cells[1])
        elif kind == "at_house":
            model.Add(cells[0] == clue[-1])
        elif kind == "not_at_house":
            model.Add(cells[0] != clue[-1])
        else:
            ascending = model.NewBoolVar("")
            model.Add(cells[1] < cells[0]).OnlyEnforceIf(ascending)
            model.Add(cells[0] < cells[2]).OnlyEnforceIf(ascending)
            model.Add(cells[2] < cells[0]).OnlyEnforceIf(ascending.Not())
            model.Add(cells[0] < cells[1]).OnlyEnforceIf(ascending.Not())

    class Counter(cp_model.CpSolverSolutionCallback):
        def __init__(self):
            super().__init__()
            self.found = []

        def on_solution_callback(self):
            self.found.append(
                {a: sorted(answer["values"][a], key=lambda v: self.Value(position[a, v])) for a in answer["attributes"]}
            )
            if len(self.found) >= limit:
                self.StopSearch()

    solver, counter = cp_model.CpSolver(), Counter()
    solver.parameters.enumerate_all_solutions = True
    solver.parameters.num_workers = 1
    solver.Solve(model, counter)
    return counter.found


def test_largest_default_puzzles_are_unique_by_a_second_solver():
    for seed in range(6):
        task = GENERATOR.generate(seed, 1.0)
        assert cp_sat_solution_count(task.answer) == [task.answer["solution"]]
        fewer = dict(task.answer, clues=task.answer["clues"][1:])  # no clue is redundant
        assert len(cp_sat_solution_count(fewer)) == 2
    small = GENERATOR.generate(0, 0.5)
    assert cp_sat_solution_count(small.answer) == brute_force_solutions(small.answer)


def test_clues_are_irredundant_unless_redundant_is_asked():
    for seed in range(8):
        task = GENERATOR.generate(seed, 0.5)
        clues = task.answer["clues"]
        for dropped in range(len(clues)):
            fewer = dict(task.answer, clues=clues[:dropped] + clues[dropped + 1 :])
            assert len(brute_force_solutions(fewer)) > 1, (seed, clues[dropped])
        padded = GENERATOR.generate(seed, 0.5, redundant=0.5)
        extra = padded.meta["redundant_clues"]
        assert extra == round(0.5 * (padded.meta["clues"] - extra)) > 0
        assert brute_force_solutions(padded.answer) == [padded.answer["solution"]]
        droppable = 0
        for dropped in range(padded.meta["clues"]):
            fewer = dict(padded.answer, clues=padded.answer["clues"][:dropped] + padded.answer["clues"][dropped + 1 :])
            droppable += len(brute_force_solutions(fewer)) == 1
        assert droppable >= extra


@pytest.mark.parametrize("difficulty", POINTS)
def test_reference_scores_one_and_near_miss_zero(difficulty):
    for seed in range(20):
        task = GENERATOR.generate(seed, difficulty)
        assert VERIFIER.verify(task, GENERATOR.solve(task)).correct, seed
        wrong = VERIFIER.verify(task, GENERATOR.wrong_response(task))
        assert wrong.reward == 0 and wrong.format_ok, (seed, wrong.reason)


def test_value_lists_share_no_word_and_no_attribute_name():
    words = [w.lower() for values in ATTRIBUTES.values() for v in values for w in re.findall(r"\w+", v)]
    assert len(words) == len(set(words))
    assert not set(words) & {a.lower() for a in ATTRIBUTES} and "house" not in words


def grid_task(seed=4, difficulty=0.6):
    return GENERATOR.generate(seed, difficulty, question="grid")


def test_grid_answers_in_many_layouts_are_read():
    task = grid_task()
    answer = task.answer
    attributes, solution, houses = answer["attributes"], answer["solution"], answer["houses"]
    rows = [[solution[a][h] for a in attributes] for h in range(houses)]
    layouts = [
        "\n".join(f"House {h + 1}: " + ", ".join(reversed(rows[h])) for h in reversed(range(houses))),
        "| House | "
        + " | ".join(attributes)
        + " |\n|---|"
        + "---|" * len(attributes)
        + "\n"
        + "\n".join(f"| {h + 1} | " + " | ".join(rows[h]) + " |" for h in range(houses)),
        "\n\n".join(
            f"**House {h + 1}**\n" + "\n".join(f"- {a.title()}: {solution[a][h].upper()}" for a in attributes)
            for h in range(houses)
        ),
        "; ".join(
            f"the {['first', 'second', 'third', 'fourth', 'fifth'][h]} house has " + " and ".join(rows[h])
            for h in range(houses)
        ),
        "\n".join(f"{h + 1}. " + " - ".join(rows[h]) + f" ({rows[h][0]} again)" for h in range(houses)),
    ]
    for layout in layouts:
        verdict = VERIFIER.verify(task, f"<think>working</think>Final grid:\n<answer>\n{layout}\n</answer>")
        assert verdict.correct, (layout, verdict.reason)


def test_cell_answers_with_surrounding_words_are_read():
    for seed in range(40):
        task = GENERATOR.generate(seed, 0.3, question="cell")
        question, answer = task.answer["question"], GENERATOR.solve(task)[8:-9]
        if question["target"] == "house":
            spellings = [
                f"House {answer}",
                f"the {['first', 'second', 'third', 'fourth'][int(answer) - 1]} house",
                f"{answer}th house" if answer == "4" else f"house number {answer}",
            ]
        else:
            spellings = [
                f"The answer is the {answer.upper()}.",
                f"{answer.lower()}",
                f"{answer}, who lives in house 2" if question["target"] != "house" else answer,
            ]
        for text in spellings:
            assert VERIFIER.verify(task, f"<answer>{text}</answer>").correct, (text, question)


@pytest.mark.parametrize(
    "block,problem",
    [
        ("House 1: red, green", "two values of colour"),
        ("House 1: red\nHouse 2: red", "two houses"),
        ("red, Brit", "without a house number"),
        ("House 1 and House 2: red", "more than one house"),
        ("House 9: red", "no house 9"),
    ],
)
def test_grid_hedges_are_format_errors(block, problem):
    answer = {
        "houses": 3,
        "attributes": ["colour", "nationality"],
        "values": {"colour": ["blue", "green", "red"], "nationality": ["Brit", "Dane", "Swede"]},
    }
    grid, reason = read_grid(block, answer)
    assert grid is None and problem in reason


@pytest.mark.parametrize(
    "block,target,problem",
    [
        ("Brit or Dane", "nationality", "hedge"),
        ("the red house", "nationality", "no nationality"),
        ("2 or 3", "house", "hedge"),
        ("the Brit", "house", "no house number"),
        ("house 2, the second house", "house", None),
        ("not the Dane", "nationality", "negated"),  # red team s18 Z2: read as the Dane
        ("house -2", "house", "negated"),  # read as house 2
        ("it is not house 1", "house", "negated"),
    ],
)
def test_cell_hedges_are_refused(block, target, problem):
    answer = {
        "houses": 3,
        "attributes": ["colour", "nationality"],
        "question": {"kind": "cell", "target": target},
        "values": {"colour": ["blue", "green", "red"], "nationality": ["Brit", "Dane", "Swede"]},
    }
    value, reason = read_cell(block, answer)
    if problem is None:
        assert value == 2
    else:
        assert value is None and problem in reason


def test_partial_credit_is_opt_in_below_one_and_grid_only():
    task = grid_task()
    wrong = GENERATOR.wrong_response(task)
    assert VERIFIER.verify(task, wrong).reward == 0
    partial = ZebraVerifier(partial=True).verify(task, wrong)
    cells = task.answer["houses"] * len(task.answer["attributes"])
    chance = right_in_permutations(len(task.answer["attributes"]), task.answer["houses"])
    assert partial.details["chance_right"] == chance
    right = cells - 2 * len(task.answer["attributes"])  # the wrong response swaps two houses' values
    assert partial.reward == pytest.approx(max(0, right - chance) / (cells - chance)) and not partial.correct
    assert ZebraVerifier(partial=True).verify(task, GENERATOR.solve(task)).reward == 1
    hedged = GENERATOR.solve(task).replace(
        "House 1: ", "House 1: " + task.answer["solution"][task.answer["attributes"][0]][1] + ", "
    )
    assert ZebraVerifier(partial=True).verify(task, hedged).reward == 0  # malformed: no partial credit


def test_family_attacks_score_zero_and_bounds_hold():
    for question in ("cell", "grid"):
        for seed in range(12):
            task = GENERATOR.generate(seed, 0.6, question=question)
            attacks = GENERATOR.attacks(task)
            assert len(attacks) >= 12
            for name, response in attacks:
                assert VERIFIER.verify(task, response).reward == 0, (question, name)
    right = GENERATOR.solve(task)[8:-9]
    for response in (
        "<answer>" + (right + "\n") * 5_000 + "</answer>",
        "<answer>" + "House 1: red;" * 1_000 + "</answer>",
        "x" * 5_000_000,
    ):
        start = time.perf_counter()
        assert VERIFIER.verify(task, response).reward == 0
        assert time.perf_counter() - start < VERIFIER.deadline_s


def test_kinds_without_a_positional_clue_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="add one of"):
        GENERATOR.generate(0, 0.5, clues="same,next_to,between")
    with pytest.raises(ValueError, match="clues must be"):
        GENERATOR.generate(0, 0.5, clues="same,diagonal")


@pytest.mark.parametrize(
    "kind", [k for k in CLUE_KINDS if k in ("at_house", "not_at_house", "directly_left", "left_of")]
)
def test_each_positional_kind_alone_with_same_makes_a_unique_puzzle(kind):
    for seed in range(4):
        task = GENERATOR.generate(seed, 0.0, clues=f"same,{kind}", houses=4, attributes=3)
        assert set(task.meta["clue_kinds"]) <= {"same", kind}
        assert brute_force_solutions(task.answer) == [task.answer["solution"]]


def test_question_parameter_and_extremes():
    kinds = {GENERATOR.generate(seed, 0.5, question="any").answer["question"]["kind"] for seed in range(20)}
    assert kinds == {"cell", "grid"}
    for houses, attributes in ((2, 2), (8, 2), (3, 9)):
        task = GENERATOR.generate(1, 0.75, houses=houses, attributes=attributes)
        assert VERIFIER.verify(task, GENERATOR.solve(task)).correct
        assert sum(map(len, task.answer["values"].values())) == houses * attributes


def test_the_search_finds_exactly_the_one_solution():
    from rlvr.generators.zebra import ARITY

    for seed in range(10):
        task = GENERATOR.generate(seed, 0.75)
        answer = task.answer
        houses, attributes = answer["houses"], answer["attributes"]
        item = {
            (a, v): k * houses + answer["values"][a].index(v)
            for k, a in enumerate(attributes)
            for v in answer["values"][a]
        }
        clues = [
            (c[0], tuple(item[tuple(p)] for p in c[1 : 1 + ARITY[c[0]]]), c[-1] - 1 if isinstance(c[-1], int) else None)
            for c in answer["clues"]
        ]
        nodes, solutions = search_nodes(clues, len(attributes), houses)
        assert solutions == 1 and nodes == task.meta["search_nodes"]


def test_search_effort_and_clue_count_rise_with_the_knob():
    tasks = {d: [GENERATOR.generate(s, d) for s in range(24)] for d in POINTS}
    nodes = [statistics.median(t.meta["search_nodes"] for t in tasks[d]) for d in POINTS]
    clues = [statistics.median(t.meta["clues"] for t in tasks[d]) for d in POINTS]
    assert all(a < b for a, b in zip(nodes, nodes[1:])), nodes
    assert all(a < b for a, b in zip(clues, clues[1:])), clues


def test_generation_is_fast_at_the_middle():
    start = time.perf_counter()
    for seed in range(20):
        GENERATOR.generate(seed, 0.5)
    assert (time.perf_counter() - start) / 20 < 0.1


def test_same_bytes_in_another_process():
    code = "import rlvr; print(rlvr.make_task('Zebra-v0', 9, 0.7).to_json())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == rlvr.make_task("Zebra-v0", 9, 0.7).to_json()


@pytest.mark.parametrize("difficulty", [0.5, 0.8, 1.0])
def test_partial_credit_pays_a_grid_that_ignores_the_clues_almost_nothing(difficulty):
    """Red team S9-F3: with the mean right count of a random grid as the chance level, half of
    such grids earned credit (0.03-0.07 on average); above the 95 % level, almost none do."""
    verifier, rng, rewards = ZebraVerifier(partial=True), random.Random(3), {"listed": [], "shuffled": []}
    for seed in range(150):
        task = GENERATOR.generate(seed, difficulty)
        answer = task.answer
        if answer["question"]["kind"] != "grid":
            continue
        houses, attributes = answer["houses"], answer["attributes"]
        orders = {
            "listed": {attribute: answer["values"][attribute] for attribute in attributes},
            "shuffled": {attribute: rng.sample(answer["values"][attribute], houses) for attribute in attributes},
        }
        for name, order in orders.items():
            lines = (f"House {h + 1}: " + ", ".join(order[a][h] for a in attributes) for h in range(houses))
            rewards[name].append(verifier.verify(task, "<answer>" + "\n".join(lines) + "</answer>").reward)
    for name, paid in rewards.items():
        assert len(paid) >= 20 and sum(paid) / len(paid) < 0.015, (name, sum(paid) / len(paid))


def clue_blind_guesses(task):
    """Answers a policy can give without deducing anything (red team S10-G6), for either question
    kind: the first, second or last listed value (a cell) or every asked attribute's values in
    listed, rotated or reversed order (a grid), and the value most or least mentioned in the
    clues (a cell) or the values in that order (a grid)."""
    answer = task.answer
    question, houses = answer["question"], answer["houses"]
    clues = task.prompt[task.prompt.index("Clues:") : task.prompt.index("Question:")].lower()

    def mentions(value):
        return len(re.findall(rf"\b{re.escape(str(value).lower())}\b", clues))

    orders = {
        "first": lambda values: values,
        "second": lambda values: values[1:] + values[:1],
        "last": lambda values: values[::-1],
        "most-mentioned": lambda values: sorted(values, key=lambda v: -mentions(v)),
        "least-mentioned": lambda values: sorted(values, key=mentions),
    }
    for name, order in orders.items():
        if question["kind"] == "cell":
            target = question["target"]
            values = [f"house {h}" for h in range(1, houses + 1)] if target == "house" else answer["values"][target]
            yield name, f"<answer>{order(list(values))[0]}</answer>"
        else:
            asked = question.get("attributes", answer["attributes"])
            rows = (
                f"House {h + 1}: " + ", ".join(order(list(answer["values"][a]))[h] for a in asked)
                for h in range(houses)
            )
            yield name, "<answer>\n" + "\n".join(rows) + "\n</answer>"


@pytest.mark.parametrize("difficulty", POINTS)
def test_clue_blind_guesses_earn_almost_nothing_at_every_difficulty(difficulty):
    """Red team S10-G6: a single-cell question is one of H values, so "the last listed value" or
    "house 1" was right on 0.32-0.38 of the tasks at d <= 0.5; every question now asks for the
    whole grid, where a clue-blind guess is right 1/216 of the time at d = 0."""
    seeds = 400 if difficulty <= 0.25 else 120
    paid = {}
    for seed in range(seeds):
        task = GENERATOR.generate(seed, difficulty)
        for name, response in clue_blind_guesses(task):
            binary, partial = paid.setdefault(name, [0.0, 0.0])
            paid[name] = [
                binary + VERIFIER.verify(task, response).reward,
                partial + ZebraVerifier(partial=True).verify(task, response).reward,
            ]
    for name, (binary, partial) in paid.items():
        assert binary / seeds <= 0.02 and partial / seeds <= 0.05, (name, binary / seeds, partial / seeds)


def test_a_grid_question_may_ask_for_some_attributes_only():
    partial_verifier = ZebraVerifier(partial=True)
    for seed in range(12):
        asked = 1 + seed % 2
        task = GENERATOR.generate(seed, 0.5, asked=asked)
        answer = task.answer
        names = answer["question"]["attributes"]
        assert answer["question"]["kind"] == "grid" and len(names) == asked
        assert names == [a for a in answer["attributes"] if a in names]  # declaration order
        assert "House 1: " + ", ".join(names) + "\n" in task.prompt and "What is in every house" not in task.prompt
        right = GENERATOR.solve(task)
        assert VERIFIER.verify(task, right).correct and partial_verifier.verify(task, right).reward == 1
        for name, response in GENERATOR.attacks(task):
            assert VERIFIER.verify(task, response).reward == 0, name
        assert partial_verifier.verify(task, GENERATOR.wrong_response(task)).details["chance_right"] == (
            right_in_permutations(asked, answer["houses"])
        )
        solution, houses = answer["solution"], answer["houses"]
        others = [a for a in answer["attributes"] if a not in names]
        rotated = {a: solution[a][1:] + solution[a][:1] if a in others else solution[a] for a in answer["attributes"]}
        wrong_elsewhere = "\n".join(
            f"House {h + 1}: " + ", ".join(rotated[a][h] for a in answer["attributes"]) for h in range(houses)
        )
        assert VERIFIER.verify(task, f"<answer>{wrong_elsewhere}</answer>").correct  # only the asked cells count
        hedged = right.replace("House 1: ", f"House 1: {solution[others[0]][0]}, {solution[others[0]][1]}, ")
        assert VERIFIER.verify(task, hedged).reward == 0  # a hedge in any attribute is a format error
        whole = dataclasses.replace(task, answer={**answer, "question": {"kind": "grid"}})  # made before the key
        assert not VERIFIER.verify(whole, right).correct
        assert VERIFIER.verify(whole, f"<answer>{wrong_elsewhere}</answer>").reward == 0
