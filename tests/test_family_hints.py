"""Hints of the causal, optimisation, visual, Countdown, Knights & Knaves and Sudoku families:
each piece is true of the reference, the hint never holds the whole answer, and no piece (nor
all of them) pasted as the answer scores."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import rlvr
from rlvr.core import HINT_HEADER
from rlvr.generators.causal import joint_probability, network_from_meta
from rlvr.generators.causal_inference import posterior
from rlvr.generators.countdown import operation_steps

ENVS = [
    "Causal-v0",
    "TSP-v0",
    "GraphColoring-v0",
    "MaxIndependentSet-v0",
    "VertexCover-v0",
    "Knapsack-v0",
    "SubsetSum-v0",
    "SetCover-v0",
    "BinPacking-v0",
    "Scheduling-v0",
    "SAT-v0",
    "Jigsaw-v0",
    "Rotation-v0",
    "PatchFit-v0",
    "Countdown-v0",
    "Game24-v0",
    "KnightsKnaves-v0",
    "Sudoku-v0",
    "SudokuImage-v0",
]
DIFFICULTIES = (0.0, 0.25, 0.5, 0.75, 1.0)
SEEDS = range(6)


def tasks(env_id: str, seeds=SEEDS, **overrides):
    generator = rlvr.make_generator(env_id)
    for difficulty in DIFFICULTIES:
        for seed in seeds:
            yield generator, generator.generate(seed, difficulty, **overrides)


@pytest.mark.parametrize("env_id", ENVS)
def test_pieces_are_stable_lines_and_none_scores_when_pasted(env_id):
    verifier = rlvr.make_verifier(env_id)
    for generator, task in tasks(env_id):
        pieces = generator.hints(task)
        assert pieces and pieces == generator.hints(task)
        assert all(piece.strip() and "\n" not in piece and piece not in task.prompt for piece in pieces)
        assert not any(a in b for a, b in itertools.permutations(pieces, 2)), "a piece repeats another"
        for piece in pieces:
            assert not verifier.verify(task, f"<answer>{piece}</answer>").correct, (task.id, piece)
        joined = "\n".join(pieces)
        assert not verifier.verify(task, f"<answer>{joined}</answer>").correct, task.id
        assert not verifier.verify(task, f"<answer>{HINT_HEADER}\n{joined}</answer>").correct, task.id
        if not task.images:
            hinted = generator.with_hint(task, 1.0)
            assert verifier.verify(hinted, generator.solve(hinted)).correct


def revealed_entries(pieces: list[str]) -> list[str]:
    """The entries listed after the label of each "(a–b of n): x, y" piece."""
    return [
        entry
        for piece in pieces
        if " of " in piece and "): " in piece
        for entry in piece.split("): ", 1)[1].split(", ")
    ]


@pytest.mark.parametrize(
    "env_id", ["MaxIndependentSet-v0", "VertexCover-v0", "Knapsack-v0", "SubsetSum-v0", "SetCover-v0"]
)
def test_a_revealed_subset_of_the_reference_is_never_an_answer(env_id):
    for generator, task in tasks(env_id):
        solution = task.answer["reference"]["solution"]
        entries = revealed_entries(generator.hints(task)[1:])
        chosen = [int(entry.lstrip("S")) for entry in entries]
        assert chosen == solution[: len(chosen)] and len(chosen) <= max(
            0, min(len(solution) - 1, int(0.8 * len(solution)))
        )
        assert not generator.solves(task, chosen)


def test_tsp_hint_is_a_prefix_of_the_reference_tour_leaving_two_cities():
    for generator, task in tasks("TSP-v0"):
        tour = task.answer["reference"]["solution"]
        shown = [int(entry) for entry in revealed_entries(generator.hints(task))]
        assert shown == tour[: len(shown)] and len(shown) <= len(tour) - 2


def test_grouped_and_assignment_hints_agree_with_the_reference():
    for generator, task in tasks("BinPacking-v0"):
        where = {item: b + 1 for b, items in enumerate(task.answer["reference"]["solution"]) for item in items}
        pairs = [re.fullmatch(r"item (\d+) → bin (\d+)", e).groups() for e in revealed_entries(generator.hints(task))]
        assert pairs and all(where[int(i)] == int(b) for i, b in pairs) and len(pairs) < len(where)
    for generator, task in tasks("Scheduling-v0"):
        starts = task.answer["reference"]["solution"]
        shown = [
            tuple(map(int, re.fullmatch(r"job (\d+) op (\d+) → (\d+)", e).groups()))
            for e in revealed_entries(generator.hints(task))
        ]
        assert [t for _, _, t in shown] == sorted(t for _, _, t in shown)
        assert all(starts[j][k] == t for j, k, t in shown) and len(shown) < sum(map(len, starts))
    for generator, task in tasks("SAT-v0"):
        model = {abs(l): l > 0 for l in task.answer["reference"]["solution"]}
        shown = [re.fullmatch(r"x(\d+)=(true|false)", e).groups() for e in revealed_entries(generator.hints(task))]
        assert all(model[int(v)] == (value == "true") for v, value in shown) and len(shown) < len(model)
    for generator, task in tasks("GraphColoring-v0"):
        colours = task.answer["reference"]["solution"]
        shown = [tuple(map(int, e.split(" → "))) for e in revealed_entries(generator.hints(task))]
        assert all(colours[v] == c for v, c in shown) and len(shown) < len(colours)


def test_countdown_steps_replay_the_reference_and_stop_before_its_end():
    for env_id in ("Countdown-v0", "Game24-v0"):
        for generator, task in tasks(env_id):
            steps = operation_steps(task.answer["expression"])
            assert steps[-1][3] == task.answer["target"]
            shown = [piece for piece in generator.hints(task) if piece.startswith("Step ")]
            assert len(shown) <= len(steps) - 1
            for piece, (left, op, right, value) in zip(shown, steps):
                assert piece.endswith(f": {left} {op} {right} = {value}")
                assert task.answer["use_all"] or value != task.answer["target"]


def test_knights_knaves_hints_name_true_roles_and_leave_the_last_inhabitant():
    for generator, task in tasks("KnightsKnaves-v0"):
        names, roles = task.answer["names"], task.answer["roles"]
        assert generator.hints(task) == [f"{name}'s role: {roles[name]}." for name in names[:-1]]


def test_sudoku_hints_fill_empty_cells_with_the_solution_and_never_all():
    for generator, task in tasks("Sudoku-v0", seeds=range(3)):
        size, puzzle, solution = task.answer["size"], task.answer["puzzle"], task.answer["solution"]
        cells = [
            tuple(map(int, re.fullmatch(r"r(\d+)c(\d+)=(\d+)", e).groups()))
            for e in revealed_entries(generator.hints(task))
        ]
        empty = sum(1 for v in puzzle if not v)
        assert len(cells) == len({(r, c) for r, c, _ in cells}) <= min(empty - 1, int(0.8 * empty))
        assert all(not puzzle[(r - 1) * size + c - 1] and solution[(r - 1) * size + c - 1] == v for r, c, v in cells)


def test_visual_hints_rule_out_only_wrong_answers_and_leave_a_choice():
    for generator, task in tasks("PatchFit-v0", seeds=range(3)):
        ruled_out = [re.match(r"Candidate (\w) is not it", p).group(1) for p in generator.hints(task)[1:]]
        assert task.answer["choice"] not in ruled_out and len(task.answer["labels"]) - len(ruled_out) >= 2
    for generator, task in tasks("Jigsaw-v0", seeds=range(3)):
        answer, cols = task.answer, task.answer["cols"]
        shown = revealed_entries(generator.hints(task))
        assert len(shown) <= answer["rows"] * cols - 2
        for entry in shown:
            row, col, piece = re.fullmatch(r"r(\d+)c(\d+)=(\d+)(?::\d+)?", entry).groups()
            assert answer["solution"][(int(row) - 1) * cols + int(col) - 1] == int(piece)
    for generator, task in tasks("Rotation-v0", seeds=range(3)):
        answer, pieces = task.answer, generator.hints(task)
        if answer["angles"] == "free":
            low, high = map(float, re.search(r"at least (\S+) and less than (\S+) degrees", pieces[-1]).groups())
            assert low <= answer["rotations"][0] < high and high - low >= 4 * answer["tolerance"]
        elif len(answer["rotations"]) == 1:
            ruled_out = [int(re.search(r"Turning it (\d+)", p).group(1)) for p in pieces[1:]]
            assert not set(ruled_out) & set(answer["accepted"][0])
            assert {90, 180, 270} - set(ruled_out) - set(answer["accepted"][0])
        else:
            shown = [tuple(map(int, e.split("→"))) for e in revealed_entries(pieces)]
            assert all(answer["rotations"][p - 1] == d for p, d in shown) and len(shown) < len(answer["rotations"])


def test_causal_adjustment_and_ratio_hints_are_the_exact_identities():
    """The back-door weights and strata the hint prints recombine into the interventional
    answer; without an open back-door path the conditional equals it."""
    generator = rlvr.make_generator("Causal-v0")
    adjusted = 0
    for seed, difficulty in itertools.product(range(12), (0.25, 0.5, 0.75)):
        task = generator.generate(seed, difficulty, rungs="intervention")
        network, query = network_from_meta(task.meta), task.meta["query"]
        treatment, outcome = query["treatment"], query["outcome"]
        evidence = dict(query["evidence"])
        pieces = generator.hints(task)
        adjust = [p for p in network.parents[treatment] if p not in evidence] if task.meta["backdoor_open"] else []
        for x in query["treatment_values"]:
            truth = posterior(network, outcome, evidence, {treatment: x})
            if not adjust:
                assert "No back-door path" in pieces[1]
                assert np.allclose(posterior(network, outcome, {**evidence, treatment: x}), truth)
                continue
            total = np.zeros_like(truth)
            for stratum in itertools.product(*(range(network.cardinalities[z]) for z in adjust)):
                fixed = list(zip(adjust, stratum))
                weight = joint_probability(network, [*evidence.items(), *fixed]) / joint_probability(
                    network, list(evidence.items())
                )
                assert f": {weight:.4f}" in pieces[2]
                total += weight * posterior(network, outcome, {**evidence, treatment: x, **dict(fixed)})
            assert np.allclose(total, truth)
            adjusted += 1
        names = {network.names[v] for v in network.ancestral_closure({treatment, outcome, *evidence})}
        assert set(re.search(r"ancestors\): ([^;]*);", pieces[0]).group(1).split(", ")) == names
    assert adjusted > 5


def test_causal_hints_never_state_the_asked_number():
    for generator, task in tasks("Causal-v0"):
        answer = task.answer
        if answer["kind"] in ("probability", "effect"):
            assert f"{answer['value']:.4f}" not in "\n".join(generator.hints(task)), task.id
