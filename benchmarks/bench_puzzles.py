r"""Logic-puzzle families side by side with reasoning-gym, and their difficulty calibration.

Pairs (rlvr env  ↔  reasoning-gym dataset, each at the peer's default configuration)
  countdown       rlvr/Countdown-v0     ↔ countdown        (4–6 numbers 1–100, target 100–999, + − × ÷;
                                                            its scorer wants every number used)
  game24          rlvr/Game24-v0        ↔ puzzle24         (four numbers 1–10, make 24)
  knights_knaves  rlvr/KnightsKnaves-v0 ↔ knights_knaves   (2 people, depth 2, width 2)
  sudoku          rlvr/Sudoku-v0        ↔ sudoku           (9×9, 30–50 empty cells)
  zebra           rlvr/Zebra-v0         ↔ zebra_puzzles    (4 houses, 4 attributes)
  arc             rlvr/ArcGrid-v0       ↔ rearc            (re-arc generators, difficulty 0–0.2)
  A pair runs when its rlvr family module imports (``--families`` picks some).

Measured, in one process, single-threaded, the two sides interleaved
  speed        tasks per second: ``rlvr.make_task(env, seed=i, …)`` against
               ``create_dataset(name, seed=0, …)[i]`` (dataset object built outside the clock),
               distinct seeds from 0, each measurement stopped after ``--budget-s`` seconds or
               ``--max-n`` tasks, median of ``--repeats`` rounds (three untimed items warm each
               side up before its first); within a round the sides run
               one after another and the order alternates between rounds. rlvr runs at the
               setting matched to the peer's default (``matched``: the mapping is in each row's
               label) and at d = 0, 0.5, 1. Ratio = rlvr / peer.
  unique       the share of ``--unique-n`` generated puzzles (seeds from 10,000) that have
               exactly one solution, checked here rather than taken from either generator:
               knights_knaves  every assignment of roles enumerated against each side's own
                               statement trees by an evaluator written in this file;
               sudoku          solutions counted (up to 2) by rlvr.generators.sudoku's
                               depth-first ``count_solutions`` on each side's grid, and the one
                               found compared with the stored solution;
               countdown, game24  Countdown accepts every expression that reaches the target, so
                               uniqueness is not a property; counted instead: the share whose
                               stored reference expression reaches the target exactly under
                               rlvr's verifier (exact rationals, every number at most once for
                               rlvr, every number exactly once for the peer) — solvable;
               zebra           peer: the puzzle regenerated from the same seed and its solutions
                               counted with pycosat over the peer's own CNF (its encoding, not an
                               independent one); rlvr: every assignment (a permutation of the
                               houses per attribute) enumerated against the task's clue lists by
                               an evaluator in this file;
               arc             not checkable for the peer (a re-arc task is a generator's output;
                               no finite rule space to count); rlvr's generator enumerates its
                               primitive library (contract), not re-checked here.
  hostile      on ``--hostile-n`` of the peer's own puzzles, converted to rlvr Tasks (same
               numbers, grid, names, roles), every attack of rlvr's generator (``attacks(task)``)
               plus attacks aimed at the peer's scorer, each scored by rlvr's verifier and by the
               peer as its pipeline does: ``score_answer(extract_answer(response), entry)``
               (the peer's own ``<answer>`` extraction). Role words are mapped to the peer
               puzzle's own terms. A "reference" row (each side's correct answer) checks the
               conversion. Zebra puzzles do not convert (the peer asks for a name it invented,
               rlvr's verifier reads its own value lists), so there each side's attacks run on
               its own puzzles. Reported: per attack the largest and mean score on each side, and
               every hostile answer the peer scores above 0 (its countdown scorer gives 0.01 to
               any text and 0.05 to any wrong expression; "accepted" means 1.0). rlvr's attacks
               on its own matched tasks are scored too (all must be 0).
  calibration  per family, per d in 0, 0.25, 0.5, 0.75, 1: ``--calibration-n`` tasks (stopped
               after ``--calibration-budget-s``), each numeric ``task.meta`` field's median
               (and min/max), each text field's distribution, each list field's length median
               (and, for lists of names, how often each name appears).

Run with reasoning-gym next to rlvr; reasoning-gym is never installed in the project's venv.
Either a peers venv with the project installed editable,
    python3 -m venv benchmarks/.venv-peers
    benchmarks/.venv-peers/bin/pip install reasoning-gym -e .
    benchmarks/.venv-peers/bin/python benchmarks/bench_puzzles.py
or any venv holding reasoning-gym and rlvr's dependencies, named with ``--peer-python PATH`` (or
``RLVR_PEER_PYTHON``): the script then re-runs itself under that interpreter with this tree on
PYTHONPATH. Without reasoning-gym the peer side is skipped (one line says so) and rlvr's side still
runs. Results merge into benchmarks/results/puzzles.json, one entry per family.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import importlib.metadata
import itertools
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from rlvr.api import make_generator, make_task, verify
from rlvr.core import Task

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "puzzles.json"
CALIBRATION_POINTS = (0.0, 0.25, 0.5, 0.75, 1.0)
SPEED_DIFFICULTIES = (0.0, 0.5, 1.0)
UNIQUE_SEED = 10_000
HOSTILE_SEED = 20_000
WARM_UP = 3  # untimed items before a side's first measurement
PROBE = "rlvr_bench_probe"  # set by a harmless code-execution probe; its presence proves the scorer ran the code


# --------------------------------------------------------------------------------------------
# Pairs
# --------------------------------------------------------------------------------------------


@dataclass
class Pair:
    """One rlvr family and the reasoning-gym dataset it is compared with."""

    name: str
    env_id: str
    module: str  # rlvr.families.<x>: the pair runs when it imports
    peer: str  # reasoning-gym dataset name
    peer_label: str
    matched: Callable[[int], dict]  # seed → make_task options (difficulty + overrides) matched to the peer default
    matched_label: str
    to_task: Callable[[dict, int], Task]  # a peer entry → an rlvr Task of the same puzzle
    unique_ours: Callable[[Task], tuple[bool | None, dict]]
    unique_peer: Callable[[Any, dict, int], tuple[bool | None, dict]]
    unique_note: str
    peer_attacks: Callable[[dict], list[tuple[str, str]]] = lambda entry: []
    peer_wording: Callable[[str, dict], str] = lambda text, entry: text
    reference: Callable[[dict, Task | None], str] = lambda entry, task: f"<answer>{entry['answer']}</answer>"
    peer_config: dict = field(default_factory=dict)
    note: str = ""


def peer_task(env_id: str, family: str, entry: dict, index: int, answer: dict, meta: dict | None = None) -> Task:
    return Task(
        id=f"peer/{family}/{index}",
        env_id=env_id,
        family=family,
        prompt=entry["question"],
        answer=answer,
        difficulty=0.0,
        seed=index,
        meta=meta or {},
    )


# ---- countdown ------------------------------------------------------------------------------


def countdown_matched(seed: int) -> dict:
    return {"difficulty": 1.0, "numbers": 4 + seed % 3, "max_number": 100, "target_max": 999, "min_search_nodes": 1}


def countdown_task(entry: dict, index: int) -> Task:
    meta = entry["metadata"]
    answer = {
        "numbers": [int(n) for n in meta["numbers"]],
        "target": int(meta["target"]),
        "operators": "+,-,*,/",
        "use_all": True,
        "expression": meta["expression"],
    }
    return peer_task("rlvr/Countdown-v0", "countdown", entry, index, answer)


def countdown_reachable(task: Task) -> tuple[bool, dict]:
    """Whether the stored reference expression reaches the target under rlvr's exact verifier."""
    verdict = verify(task, f"<answer>{task.answer['expression']}</answer>")
    return verdict.reward == 1.0, {}


def near_miss_expression(numbers: list[int], target: int, budget_s: float = 2.0, cap: int = 60_000) -> str | None:
    """An expression over every number once whose value is within numpy.isclose(·, target,
    atol=1e-6) (rtol 1e-5, the peer's test) but not equal to it. Values reachable by each subset
    of the numbers are built bottom-up (at most ``cap`` per subset, ``budget_s`` in all); None
    when the full set reaches no such value."""
    tolerance = Fraction(1, 10**6) + Fraction(1, 10**5) * abs(target)
    count, deadline = len(numbers), time.perf_counter() + budget_s
    values: dict[int, dict[Fraction, str]] = {1 << i: {Fraction(n): str(n)} for i, n in enumerate(numbers)}
    for mask in sorted(range(1, 1 << count), key=int.bit_count):
        if mask in values:
            continue
        found: dict[Fraction, str] = {}
        sub = (mask - 1) & mask
        while sub:
            other = mask ^ sub
            if sub < other:  # each split once; both orders of - and / below
                for a, ta in values[sub].items():
                    for b, tb in values[other].items():
                        pairs = [
                            (a + b, f"{ta} + {tb}"),
                            (a * b, f"{ta} * {tb}"),
                            (a - b, f"{ta} - {tb}"),
                            (b - a, f"{tb} - {ta}"),
                        ]
                        pairs += [(a / b, f"{ta} / {tb}")] if b else []
                        pairs += [(b / a, f"{tb} / {ta}")] if a else []
                        for value, text in pairs:
                            found.setdefault(value, f"({text})")
                        if len(found) > cap or time.perf_counter() > deadline:
                            break
                    if len(found) > cap or time.perf_counter() > deadline:
                        break
            sub = (sub - 1) & mask
        values[mask] = found
        if time.perf_counter() > deadline:
            return None
    full = values.get((1 << count) - 1, {})
    close = [text for value, text in full.items() if value != target and abs(value - target) <= tolerance]
    return min(close, key=len)[1:-1] if close else None


def countdown_peer_attacks(entry: dict) -> list[tuple[str, str]]:
    """Answers that use every given number once (the peer's only structural check) yet do not
    solve the puzzle: Python the scorer evaluates (its parser is sympy's ``parse_expr``, which
    runs ``eval``), a value within its float tolerance, and sympy functions."""
    meta = entry["metadata"]
    numbers, target = [int(n) for n in meta["numbers"]], int(meta["target"])
    listed = " + ".join(map(str, numbers))
    attacks = [
        ("python-len-target", f"<answer>len('{'a' * target}') + len('') * ({listed})</answer>"),
        ("python-probe", f"<answer>setattr(__import__('builtins'), '{PROBE}', 1) or ({meta['expression']})</answer>"),
        ("sympy-functions", f"<answer>Max({', '.join(map(str, numbers))}) * sign({numbers[0]})</answer>"),
    ]
    near = near_miss_expression(numbers, target)
    if near is not None:
        attacks.append(("float-tolerance-near-miss", f"<answer>{near}</answer>"))
    return attacks


def game24_task(entry: dict, index: int) -> Task:
    numbers = [int(n) for n in entry["metadata"]["numbers"]]
    answer = {"numbers": numbers, "target": 24, "operators": "+,-,*,/", "use_all": True, "expression": entry["answer"]}
    return peer_task("rlvr/Game24-v0", "countdown", entry, index, answer)


def game24_peer_attacks(entry: dict) -> list[tuple[str, str]]:
    """puzzle24's scorer checks that four integers from 1 to 10 appear and that ``int()`` of
    the value is 24 — not that they are the given numbers, nor that the value is exactly 24:
    a fixed expression of other numbers, a value truncated to 24, and Python it evaluates."""
    numbers = sorted(int(n) for n in entry["metadata"]["numbers"])
    attacks = [
        ("truncated-to-24", "<answer>10 + 10 + 9 / 2</answer>"),  # 24.5
        ("python-probe", f"<answer>setattr(__import__('builtins'), '{PROBE}', 1) or ({entry['answer']})</answer>"),
    ]
    if numbers != [1, 1, 4, 6]:
        attacks.insert(0, ("fixed-other-numbers", "<answer>6 * 4 * 1 * 1</answer>"))
    return attacks


# ---- knights and knaves ---------------------------------------------------------------------


def holds_ours(statement: Any, roles: tuple[bool, ...]) -> bool:
    """rlvr's statement trees (rlvr.generators.knights_knaves), evaluated independently."""
    kind = statement[0]
    if kind == "is":
        return roles[statement[1]] == (statement[2] == "knight")
    if kind == "count":
        return sum(roles) == statement[1]
    if kind == "not":
        return not holds_ours(statement[1], roles)
    if kind == "says":
        return roles[statement[1]] == holds_ours(statement[2], roles)
    a, b = holds_ours(statement[1], roles), holds_ours(statement[2], roles)
    return {"and": a and b, "or": a or b, "implies": (not a) or b, "iff": a == b}[kind]


def holds_peer(statement: Any, roles: tuple[bool, ...]) -> bool:
    """reasoning-gym's statement tuples: telling-truth/lying/not/and/or/->/<=>."""
    kind = statement[0]
    if kind == "telling-truth":
        return roles[statement[1]]
    if kind == "lying":
        return not roles[statement[1]]
    if kind == "not":
        return not holds_peer(statement[1], roles)
    parts = [holds_peer(s, roles) for s in statement[1:]]
    if kind == "and":
        return all(parts)
    if kind == "or":
        return any(parts)
    if kind == "->":
        return (not parts[0]) or parts[1]
    if kind == "<=>":
        return parts[0] == parts[1]
    raise ValueError(f"unknown statement kind {kind!r}")


def kk_unique_ours(task: Task) -> tuple[bool, dict]:
    names, roles = task.answer["names"], task.answer["roles"]
    statements = task.answer["statements"]
    consistent = [
        assignment
        for assignment in itertools.product((True, False), repeat=len(names))
        if all(assignment[speaker] == holds_ours(statement, assignment) for speaker, statement in statements)
    ]
    stored = tuple(roles[name] == "knight" for name in names)
    return consistent == [stored], {"consistent": len(consistent)}


def kk_unique_peer(dataset: Any, entry: dict, index: int) -> tuple[bool, dict]:
    meta = entry["metadata"]
    statements = meta["statements"]
    consistent = [
        assignment
        for assignment in itertools.product((True, False), repeat=len(statements))
        if all(assignment[i] == holds_peer(statement, assignment) for i, statement in enumerate(statements))
    ]
    return consistent == [tuple(bool(v) for v in meta["solution"])], {"consistent": len(consistent)}


def kk_task(entry: dict, index: int) -> Task:
    meta = entry["metadata"]
    names = [str(n) for n in meta["names"]]
    roles = {name: "knight" if knight else "knave" for name, knight in zip(names, meta["solution"])}
    return peer_task(
        "rlvr/KnightsKnaves-v0", "knights_knaves", entry, index, {"names": names, "roles": roles, "statements": []}
    )


def kk_wording(text: str, entry: dict) -> str:
    """rlvr's role words in the peer puzzle's own terms (its puzzles say saint/sinner, …)."""
    terms = entry["metadata"]["knight_knave_terms"]
    return text.replace("knight", "\0").replace("knave", str(terms["knave"])).replace("\0", str(terms["knight"]))


def kk_peer_attacks(entry: dict) -> list[tuple[str, str]]:
    """Partial credit on the peer's scorer: every name given the role most people have, and
    the roles shuffled (same count of assignments, some matching)."""
    meta = entry["metadata"]
    names = [str(n) for n in meta["names"]]
    solution = list(meta["solution"])
    rotated = solution[1:] + solution[:1]
    majority = 2 * sum(solution) >= len(solution)
    guesses = [("majority-role-for-all", [majority] * len(names)), ("roles-rotated", rotated)]
    return [
        (
            name,
            "<answer>"
            + ", ".join(f"{n} is a {'knight' if r else 'knave'}" for n, r in zip(names, roles))
            + "</answer>",
        )
        for name, roles in guesses
        if roles != solution
    ]  # a guess that is the solution is an answer


# ---- sudoku ---------------------------------------------------------------------------------


def sudoku_unique(puzzle: list[int], solution: list[int], size: int) -> tuple[bool, dict]:
    from rlvr.generators.sudoku import count_solutions, geometry

    count, nodes, first = count_solutions(list(puzzle), geometry(size))
    return count == 1 and first == list(solution), {
        "solutions_up_to_2": count,
        "nodes": nodes,
        "clues": sum(1 for v in puzzle if v),
    }


def sudoku_unique_ours(task: Task) -> tuple[bool, dict]:
    return sudoku_unique(task.answer["puzzle"], task.answer["solution"], task.answer["size"])


def sudoku_unique_peer(dataset: Any, entry: dict, index: int) -> tuple[bool, dict]:
    meta = entry["metadata"]
    flat = [v for row in meta["puzzle"] for v in row]
    return sudoku_unique(flat, [v for row in meta["solution"] for v in row], len(meta["puzzle"]))


def sudoku_task(entry: dict, index: int) -> Task:
    meta = entry["metadata"]
    size = len(meta["puzzle"])
    answer = {
        "size": size,
        "box": [3, 3],
        "puzzle": [v for row in meta["puzzle"] for v in row],
        "solution": [v for row in meta["solution"] for v in row],
    }
    return peer_task("rlvr/Sudoku-v0", "sudoku", entry, index, answer)


def sudoku_peer_attacks(entry: dict) -> list[tuple[str, str]]:
    """Partial credit on the peer's scorer (digits matching the solution cell by cell): the
    givens with every blank filled by one digit, and the givens with each row's blanks filled
    1, 2, 3, … in order."""
    puzzle = entry["metadata"]["puzzle"]
    ones = "\n".join(" ".join(str(v or 1) for v in row) for row in puzzle)
    counted = []
    for row in puzzle:
        fill = iter(d for d in range(1, 10) if d not in row)
        counted.append(" ".join(str(v or next(fill, 1)) for v in row))
    return [
        ("givens-blanks-as-1", f"<answer>\n{ones}\n</answer>"),
        ("givens-missing-digits-in-order", "<answer>\n" + "\n".join(counted) + "\n</answer>"),
    ]


# ---- zebra ----------------------------------------------------------------------------------


def zebra_unique_peer(dataset: Any, entry: dict, index: int) -> tuple[bool, dict]:
    from reasoning_gym.logic.contrib.logic_puzzle.generate import generate_puzzle
    from reasoning_gym.logic.contrib.logic_puzzle.sat_utils import itersolve

    config = dataset.config
    _, puzzle = generate_puzzle(random.Random(config.seed + index), config.num_people, config.num_characteristics)
    solutions = itersolve(puzzle.as_cnf())
    found = [next(solutions, None), next(solutions, None)]
    count = sum(1 for s in found if s is not None)
    return count == 1, {"solutions_up_to_2": count, "clues": len(puzzle.clues)}


def zebra_clue_holds(clue: list, place: dict[tuple[str, str], int]) -> bool | None:
    """rlvr's clue lists ([kind, [attribute, value], …, house 1-based]) evaluated independently;
    None while one of its people is not placed yet."""
    kind, rest = clue[0], clue[1:]
    items = [tuple(item) for item in rest if isinstance(item, list)]
    house = next((h - 1 for h in rest if isinstance(h, int)), None)
    if any(item not in place for item in items):
        return None
    at = [place[item] for item in items]
    if kind == "same":
        return at[0] == at[1]
    if kind == "different":
        return at[0] != at[1]
    if kind == "next_to":
        return abs(at[0] - at[1]) == 1
    if kind == "directly_left":
        return at[0] + 1 == at[1]
    if kind == "left_of":
        return at[0] < at[1]
    if kind == "at_house":
        return at[0] == house
    if kind == "not_at_house":
        return at[0] != house
    if kind == "between":
        return min(at[1], at[2]) < at[0] < max(at[1], at[2])
    raise ValueError(f"unknown clue kind {kind!r}")


def zebra_unique_ours(task: Task) -> tuple[bool, dict]:
    """Every assignment enumerated attribute by attribute (each a permutation of the houses),
    pruning on clues whose people are all placed; counted up to 2 and compared with the
    stored solution."""
    answer = task.answer
    houses, attributes, clues = answer["houses"], answer["attributes"], answer["clues"]
    values = answer["values"]
    found: list[dict] = []
    nodes = 0

    def extend(index: int, place: dict) -> None:
        nonlocal nodes
        if len(found) >= 2:
            return
        if index == len(attributes):
            found.append(dict(place))
            return
        attribute = attributes[index]
        for order in itertools.permutations(range(houses)):
            nodes += 1
            trial = dict(place)
            trial.update({(attribute, value): house for value, house in zip(values[attribute], order)})
            if all(zebra_clue_holds(clue, trial) is not False for clue in clues):
                extend(index + 1, trial)

    extend(0, {})
    stored = {(a, v): h for a in attributes for h, v in enumerate(answer["solution"][a])}
    return len(found) == 1 and found[0] == stored, {
        "solutions_up_to_2": len(found),
        "nodes": nodes,
        "clues": len(clues),
    }


def zebra_task(entry: dict, index: int) -> Task:
    raise NotImplementedError(
        "zebra: the peer asks one attribute of one house as a bare name; its puzzles "
        "do not convert to rlvr Tasks (whole-grid answers)"
    )


def zebra_peer_attacks(entry: dict) -> list[tuple[str, str]]:
    """The peer's answer is one of the puzzle's names: each listed name in turn (a blind guess:
    the mean over them is what a constant policy earns, 1 / houses), every name listed, and the
    answer hedged with another name."""
    question = entry["question"]
    names_line = next((line for line in question.splitlines() if "unique name" in line), "")
    names = [n.strip() for n in names_line.split(":", 1)[-1].split(",") if n.strip()]
    answer = entry["answer"]
    guesses = [(f"blind-guess-name-{k + 1}", f"<answer>{name}</answer>") for k, name in enumerate(names)]
    return guesses + [
        ("all-names", f"<answer>{', '.join(names)}</answer>"),
        ("hedge-two-names", f"<answer>{answer} or {next((n for n in names if n != answer), 'bob')}</answer>"),
    ]


# ---- arc ------------------------------------------------------------------------------------


def arc_task(entry: dict, index: int) -> Task:
    meta = entry["metadata"]
    answer = {
        "test_input": [list(r) for r in meta["input"]],
        "output": [list(r) for r in meta["output"]],
        "program": [],
    }
    return peer_task("rlvr/ArcGrid-v0", "arc_grid", entry, index, answer)


def arc_peer_attacks(entry: dict) -> list[tuple[str, str]]:
    """The peer gives any parseable wrong grid 0.05; an answer that copies the test input
    scores 1 wherever the task's output equals its input."""
    grid = entry["metadata"]["input"]
    return [
        ("echo-test-input-peer", "<answer>\n" + "\n".join(" ".join(map(str, r)) for r in grid) + "\n</answer>"),
        ("one-cell", "<answer>0</answer>"),
    ]


def not_checked(*args) -> tuple[None, dict]:
    return None, {}


PAIRS = {
    "countdown": Pair(
        "countdown",
        "rlvr/Countdown-v0",
        "rlvr.families.countdown",
        "countdown",
        "countdown defaults: 4–6 numbers in 1–100, target 100–999, + - * /, every number used (scorer)",
        countdown_matched,
        "d=1 knob with numbers cycling 4/5/6 (seed % 3), max_number 100, target_max 999, use_all, "
        "min_search_nodes 1 (no search-effort filter, as the peer has none); rlvr targets may be < 100",
        countdown_task,
        countdown_reachable,
        lambda ds, entry, i: countdown_reachable(countdown_task(entry, i)),
        "not uniqueness (every reaching expression is accepted): share whose stored reference expression reaches the "
        "target exactly under rlvr's verifier",
        peer_attacks=countdown_peer_attacks,
    ),
    "game24": Pair(
        "game24",
        "rlvr/Game24-v0",
        "rlvr.families.countdown",
        "puzzle24",
        "puzzle24 defaults: four numbers 1–10, target 24, + - * /",
        lambda seed: {"difficulty": 0.0},
        "d=0: four numbers 1–13 (the game's fixed parameters), min_search_nodes 1",
        game24_task,
        countdown_reachable,
        lambda ds, entry, i: countdown_reachable(game24_task(entry, i)),
        "not uniqueness (every expression making 24 is accepted): share whose stored reference expression makes 24 "
        "exactly under rlvr's verifier",
        peer_attacks=game24_peer_attacks,
    ),
    "knights_knaves": Pair(
        "knights_knaves",
        "rlvr/KnightsKnaves-v0",
        "rlvr.families.knights_knaves",
        "knights_knaves",
        "knights_knaves defaults: 2 people, depth 2, width 2",
        lambda seed: {"difficulty": 0.0, "people": 2, "depth": 2, "kinds": "is,not,and,or,implies,iff"},
        "people 2, depth 2, kinds is/not/and/or/implies/iff (the peer's connectives), 1 statement each",
        kk_task,
        kk_unique_ours,
        kk_unique_peer,
        "all 2^n role assignments enumerated against each side's statements by an evaluator in this file",
        peer_attacks=kk_peer_attacks,
        peer_wording=kk_wording,
        reference=lambda entry, task: make_generator("rlvr/KnightsKnaves-v0").solve(task),
    ),
    "sudoku": Pair(
        "sudoku",
        "rlvr/Sudoku-v0",
        "rlvr.families.sudoku",
        "sudoku",
        "sudoku defaults: 9×9, 30–50 empty cells (31–51 clues)",
        lambda seed: {"difficulty": 0.5},
        "d=0.5: 9×9, hidden singles, at least 30 clues",
        sudoku_task,
        sudoku_unique_ours,
        sudoku_unique_peer,
        "solutions counted up to 2 by rlvr.generators.sudoku.count_solutions; the one found must be the stored one",
        peer_attacks=sudoku_peer_attacks,
    ),
    "zebra": Pair(
        "zebra",
        "rlvr/Zebra-v0",
        "rlvr.families.zebra",
        "zebra_puzzles",
        "zebra_puzzles defaults: 4 houses, 4 attributes, one question answered by a name",
        lambda seed: {
            "difficulty": 0.25,
            "houses": 4,
            "attributes": 4,
            "clues": "same,next_to,directly_left,at_house",
            "question": "cell",
        },
        "4 houses, 4 attributes, one cell asked, clue kinds same/next_to/directly_left/at_house (the peer's "
        "found_at/same_house/consecutive/beside)",
        zebra_task,
        zebra_unique_ours,
        zebra_unique_peer,
        "peer: solutions counted with pycosat over its own CNF (regenerated from the seed; its encoding, not an "
        "independent one); rlvr: every assignment enumerated against the task's clues by an evaluator in this file",
        peer_attacks=zebra_peer_attacks,
    ),
    "arc": Pair(
        "arc",
        "rlvr/ArcGrid-v0",
        "rlvr.families.arc_grid",
        "rearc",
        "rearc defaults: 3–5 examples, re-arc difficulty 0–0.2",
        lambda seed: {"difficulty": 0.5},
        "d=0.5: grids up to 8×8, 2-step programs, 3 objects, 3 demos",
        arc_task,
        not_checked,
        not_checked,
        "not checkable: an ARC rule has no finite solution space to count (rlvr enumerates its library at "
        "generation, by contract; the peer has no check)",
        peer_attacks=arc_peer_attacks,
    ),
}


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


def timed(make: Callable[[int], Any], budget_s: float, max_n: int, warm_up: int) -> float:
    """Tasks per second making items 0, 1, … until ``max_n`` or ``budget_s`` seconds, after
    ``warm_up`` untimed items."""
    for i in range(warm_up):
        make(10**6 + i)
    count, started = 0, time.perf_counter()
    while count < max_n:
        make(count)
        count += 1
        if time.perf_counter() - started > budget_s:
            break
    return count / (time.perf_counter() - started)


def our_maker(pair: Pair, options: Callable[[int], dict]) -> Callable[[int], Task]:
    def make(seed: int) -> Task:
        chosen = dict(options(seed))
        difficulty = chosen.pop("difficulty")
        return make_task(pair.env_id, seed=seed, difficulty=difficulty, **chosen)

    return make


def speed(pair: Pair, dataset: Any, args: argparse.Namespace) -> dict:
    sides = [("rlvr", f"matched: {pair.matched_label}", our_maker(pair, pair.matched))]
    for d in SPEED_DIFFICULTIES:
        sides.append(("rlvr", f"d={d:g}", our_maker(pair, lambda seed, d=d: {"difficulty": d})))
    if dataset is not None:
        sides.append(("reasoning_gym", pair.peer_label, dataset.__getitem__))
    runs: dict[str, list[float]] = {label: [] for _, label, _ in sides}
    for round_ in range(args.repeats):
        order = sides if round_ % 2 == 0 else list(reversed(sides))
        for _, label, make in order:
            runs[label].append(timed(make, args.budget_s, args.max_n, WARM_UP if round_ == 0 else 0))
    rows = [
        {
            "side": side,
            "label": label,
            "tasks_per_s": statistics.median(runs[label]),
            "runs": [round(r, 2) for r in runs[label]],
        }
        for side, label, _ in sides
    ]
    peer_rate = rows[-1]["tasks_per_s"] if dataset is not None else None
    for row in rows:
        if row["side"] == "rlvr" and peer_rate:
            row["ratio_to_peer"] = row["tasks_per_s"] / peer_rate
    return {"rows": rows}


def uniqueness(pair: Pair, dataset: Any, args: argparse.Namespace) -> dict:
    ours_make = our_maker(pair, pair.matched)
    result = {"method": pair.unique_note, "n": args.unique_n}
    for side in ("rlvr", "reasoning_gym"):
        if side == "reasoning_gym" and dataset is None:
            continue
        verdicts, details = [], []
        for i in range(UNIQUE_SEED, UNIQUE_SEED + args.unique_n):
            if side == "rlvr":
                verdict, detail = pair.unique_ours(ours_make(i))
            else:
                verdict, detail = pair.unique_peer(dataset, dataset[i], i)
            verdicts.append(verdict)
            details.append(detail)
        checked = [v for v in verdicts if v is not None]
        summary: dict[str, Any] = {"checked": len(checked), "share": (sum(checked) / len(checked)) if checked else None}
        for key in sorted({k for d in details for k in d}):
            values = [d[key] for d in details if key in d]
            summary[f"{key}_median"] = statistics.median(values)
            summary[f"{key}_range"] = [min(values), max(values)]
        result[side] = summary
    return result


def score(dataset: Any, entry: dict, response: Any) -> float | None:
    """The peer's verdict as its pipeline gives it: its own extraction, then score_answer."""
    from reasoning_gym.utils import extract_answer

    if not isinstance(response, str):
        return None
    return float(dataset.score_answer(extract_answer(response), entry))


def is_oracle(response: Any, entry: dict) -> bool:
    """Whether a response's answer is the peer's own stored answer (a blind guess that happens to
    be right is an answer, not a hack)."""
    from reasoning_gym.utils import extract_answer

    extracted = extract_answer(response) if isinstance(response, str) else None
    return extracted is not None and extracted.strip().lower() == str(entry["answer"]).strip().lower()


def hostile(pair: Pair, dataset: Any, args: argparse.Namespace) -> dict:
    generator = make_generator(pair.env_id)
    table: dict[str, dict[str, list]] = {}
    peer_accepts: list[dict] = []
    probe_ran = False

    def note(name: str, side: str, value: float | None) -> None:
        if value is not None:
            table.setdefault(name, {"rlvr": [], "reasoning_gym": []})[side].append(value)

    convertible = True
    for index in range(HOSTILE_SEED, HOSTILE_SEED + args.hostile_n):
        if dataset is None:
            break
        entry = dataset[index]
        try:
            task = pair.to_task(entry, index)
        except NotImplementedError:
            convertible, task = False, None
        attacks: list[tuple[str, Any]] = [("reference (correct, not hostile)", pair.reference(entry, task))]
        if task is not None:
            attacks += generator.attacks(task)
        attacks += pair.peer_attacks(entry)
        for name, response in attacks:
            if task is not None:
                note(name, "rlvr", verify(task, response).reward)
            peer_response = pair.peer_wording(response, entry) if isinstance(response, str) else response
            if hasattr(builtins, PROBE):
                delattr(builtins, PROBE)
            value = score(dataset, entry, peer_response)
            if hasattr(builtins, PROBE):
                probe_ran = True
                delattr(builtins, PROBE)
            note(name, "reasoning_gym", value)
            if value and value > 0 and not name.startswith("reference") and not is_oracle(peer_response, entry):
                peer_accepts.append(
                    {
                        "attack": name,
                        "score": round(value, 3),
                        "index": index,
                        "response": peer_response if len(peer_response) < 160 else peer_response[:157] + "…",
                    }
                )
    # rlvr's attacks on its own matched tasks
    own_max: dict[str, float] = {}
    make = our_maker(pair, pair.matched)
    for seed in range(HOSTILE_SEED, HOSTILE_SEED + args.hostile_n):
        task = make(seed)
        for name, response in generator.attacks(task):
            own_max[name] = max(own_max.get(name, 0.0), verify(task, response).reward)
    rows = []
    for name, sides in table.items():
        row = {"attack": name}
        for side, values in sides.items():
            if values:
                row[side] = {"max": round(max(values), 3), "mean": round(statistics.fmean(values), 3), "n": len(values)}
        rows.append(row)
    accepted: dict[str, dict] = {}
    for item in peer_accepts:
        best = accepted.setdefault(
            item["attack"], {"attack": item["attack"], "max_score": 0.0, "times": 0, "example": item["response"]}
        )
        best["times"] += 1
        if item["score"] > best["max_score"]:
            best["max_score"], best["example"] = item["score"], item["response"]
    return {
        "puzzles": args.hostile_n if dataset is not None else 0,
        "converted_to_rlvr_tasks": convertible,
        "rows": rows,
        "peer_scores_above_zero": sorted(accepted.values(), key=lambda r: -r["max_score"]),
        "peer_executed_probe_code": probe_ran,
        "rlvr_own_tasks": {
            "tasks": args.hostile_n,
            "attacks": len(own_max),
            "max_reward": max(own_max.values(), default=0.0),
            "per_attack_max": own_max,
            "scored_above_zero": sorted(name for name, v in own_max.items() if v > 0),
        },
    }


def summarise_meta(tasks: list[Task]) -> dict:
    numeric: dict[str, list[float]] = {}
    text: dict[str, Counter] = {}
    lengths: dict[str, list[int]] = {}
    names: dict[str, Counter] = {}
    for task in tasks:
        for key, value in task.meta.items():
            if isinstance(value, bool):
                text.setdefault(key, Counter())[str(value)] += 1
            elif isinstance(value, (int, float)):
                numeric.setdefault(key, []).append(value)
            elif isinstance(value, str):
                text.setdefault(key, Counter())[value] += 1
            elif isinstance(value, (list, tuple)):
                lengths.setdefault(key, []).append(len(value))
                if value and all(isinstance(v, str) for v in value):
                    names.setdefault(key, Counter()).update(value)
    summary: dict[str, Any] = {"n": len(tasks)}
    for key, values in numeric.items():
        summary[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    for key, counts in text.items():
        summary[key] = dict(sorted(counts.items()))
    for key, values in lengths.items():
        summary[f"{key} (length)"] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    for key, counts in names.items():
        summary[f"{key} (items)"] = dict(sorted(counts.items()))
    return summary


def calibration(pair: Pair, args: argparse.Namespace) -> dict:
    points = {}
    for d in CALIBRATION_POINTS:
        tasks, started = [], time.perf_counter()
        for seed in range(args.calibration_n):
            tasks.append(make_task(pair.env_id, seed=seed, difficulty=d))
            if time.perf_counter() - started > args.calibration_budget_s and len(tasks) >= 5:
                break
        points[f"{d:g}"] = summarise_meta(tasks)
    return points


# --------------------------------------------------------------------------------------------
# Printing and main
# --------------------------------------------------------------------------------------------


def print_family(name: str, entry: dict) -> None:
    print(
        f"\n== {name}: {entry['env_id']} vs "
        + (f"reasoning-gym {entry['peer']}" if entry["peer"] else "(peer skipped)")
    )
    for row in entry["speed"]["rows"]:
        ratio = f"  ×{row['ratio_to_peer']:.2f}" if "ratio_to_peer" in row else ""
        print(f"  {row['side']:<13} {row['tasks_per_s']:>10.1f} tasks/s{ratio}  {row['label']}")
    unique = entry["unique"]
    for side in ("rlvr", "reasoning_gym"):
        if side in unique:
            share = unique[side]["share"]
            shown = "not checked" if share is None else f"{share:.1%} of {unique[side]['checked']}"
            print(f"  unique/solvable {side:<13} {shown}")
    hostile_ = entry["hostile"]
    if hostile_["rows"]:
        print(f"  hostile answers on {hostile_['puzzles']} peer puzzles (score max/mean: rlvr | peer):")
        for row in hostile_["rows"]:
            shown = [
                f"{row[side]['max']:g}/{row[side]['mean']:g}" if side in row else "-"
                for side in ("rlvr", "reasoning_gym")
            ]
            print(f"    {row['attack']:<36} {shown[0]:>9} | {shown[1]}")
        if hostile_["peer_executed_probe_code"]:
            print("    the peer's scorer executed the probe's Python code")
    own = hostile_["rlvr_own_tasks"]
    print(
        f"  rlvr attacks on its own tasks: {own['attacks']} kinds, max reward {own['max_reward']}"
        + ("" if hostile_["converted_to_rlvr_tasks"] else f" ({', '.join(own['per_attack_max'])})")
    )
    print("  calibration (median meta per d):")
    for d, summary in entry["calibration"].items():
        shown = {
            k: (v["median"] if isinstance(v, dict) and "median" in v else v)
            for k, v in summary.items()
            if not k.endswith("(items)")
        }
        print(f"    d={d:<5} {json.dumps(shown, default=str)[:220]}")


def version_of(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def peer_available(args: argparse.Namespace) -> bool:
    """True when reasoning-gym imports here; re-runs the script under ``--peer-python`` when it
    does not and one is named; False (peer skipped) otherwise."""
    try:
        import reasoning_gym  # noqa: F401

        return True
    except ImportError:
        pass
    peer_python = args.peer_python or os.environ.get("RLVR_PEER_PYTHON")
    if peer_python and not os.environ.get("RLVR_BENCH_PUZZLES_REEXEC"):
        env = dict(
            os.environ,
            RLVR_BENCH_PUZZLES_REEXEC="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        )
        os.execve(peer_python, [peer_python, str(Path(__file__).resolve()), *sys.argv[1:]], env)
    print(
        f"reasoning-gym is not importable in {sys.executable}; peer side skipped "
        "(pass --peer-python or set RLVR_PEER_PYTHON to a python that has it)"
    )
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", default=",".join(PAIRS), help="comma-separated: " + ", ".join(PAIRS))
    parser.add_argument("--budget-s", type=float, default=1.0, help="seconds per speed measurement")
    parser.add_argument("--max-n", type=int, default=2000, help="tasks per speed measurement at most")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--unique-n", type=int, default=40)
    parser.add_argument("--hostile-n", type=int, default=5)
    parser.add_argument("--calibration-n", type=int, default=20)
    parser.add_argument("--calibration-budget-s", type=float, default=3.0)
    parser.add_argument("--peer-python", default=None, help="a python with reasoning-gym (also RLVR_PEER_PYTHON)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    has_peer = peer_available(args)
    chosen = [name.strip() for name in args.families.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in PAIRS]
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {list(PAIRS)}")
    previous = json.loads(args.output.read_text()) if args.output.exists() else {}
    families = dict(previous.get("families", {}))
    load_before = os.getloadavg()
    for name in chosen:
        pair = PAIRS[name]
        try:
            importlib.import_module(pair.module)
        except ImportError:
            print(f"\n== {name}: {pair.module} does not import yet; skipped")
            continue
        dataset = None
        if has_peer:
            import reasoning_gym

            dataset = reasoning_gym.create_dataset(pair.peer, seed=0, size=10**6, **pair.peer_config)
        started = time.perf_counter()
        entry = {
            "env_id": pair.env_id,
            "peer": pair.peer if has_peer else None,
            "peer_label": pair.peer_label,
            "matched_label": pair.matched_label,
            "speed": speed(pair, dataset, args),
            "unique": uniqueness(pair, dataset, args),
            "hostile": hostile(pair, dataset, args),
            "calibration": calibration(pair, args),
        }
        entry["seconds"] = round(time.perf_counter() - started, 1)
        entry["measured"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        entry["machine"] = {
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        }
        entry["settings"] = {
            key: getattr(args, key)
            for key in (
                "budget_s",
                "max_n",
                "repeats",
                "unique_n",
                "hostile_n",
                "calibration_n",
                "calibration_budget_s",
            )
        }
        entry["versions"] = {
            "reasoning_gym": version_of("reasoning-gym"),
            "numpy": version_of("numpy"),
            "sympy": version_of("sympy"),
        }
        families[name] = entry
        print_family(name, entry)
    result = {
        "benchmark": "logic puzzles: rlvr families vs reasoning-gym (speed, uniqueness, hostile answers) "
        "and rlvr difficulty calibration",
        "families": families,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
