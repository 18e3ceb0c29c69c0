"""Best constant policy per env: the single fixed response that earns the most over many tasks,
side by side with chance.

A policy that ignores the task and always answers the same text is the cheapest reward hack
there is; if one constant beats chance, the task distribution (or the verifier) leaks the
answer. For every registered env (``rlvr.list_envs()``) this script generates ``--seeds`` seeds
at d = 0, 0.5 and 1, scores every candidate constant on every task with the env's default
verifier, and reports the best constant, its mean reward (with its standard error), and chance.

Candidates  Generic, for every env: "", "0", "1", "<answer>0</answer>", "<answer>1</answer>",
            "\\boxed{0}", "\\boxed{1}", "<answer>yes</answer>", "<answer>no</answer>",
            "<answer>[]</answer>". The envs of this module's families add their sensible set:
            Maze       single moves, short fixed walks, the old prompt example, and the five
                       most frequent reference paths of a held-out pool of seeds (a policy could
                       learn the commonest answer);
            optimisation  the empty and one-index lists, every index, identity tours, one colour,
                       alternating colours, all-true / all-false, one bin / a bin per item, all
                       starts at 0 — each for every instance size seen — plus each prompt's old
                       and new format examples and the five most frequent held-out references;
            Jigsaw     the identity and reversed placements per grid size (upright for turned);
            Rotation   every whole angle 0…359, and the same right angle for every piece;
            PatchFit   every letter;
            Causal     yes, no, comparisons "a=x; b=y; verdict" for x ≠ y on a 0.1 grid with the
                       verdict that follows, every probability 0.00…1.00 and effect −1.00…1.00 in
                       steps of 0.01, and two- and three-state distributions on a 0.01 / 0.05 grid;
            Infill     every letter A…F;
            Sudoku     the five most frequent held-out solutions, and a fixed valid grid per size.
            Trivial answers (a "policy": the same rule on every task, using only the task's
            surface — its names, numbers, labels or input grid — never solving it) for the envs
            whose answers name task-specific things:
            ArcGrid    the test input echoed, and the input's shape filled with one colour 0…9;
            Countdown, Game24  each given number alone, the target alone, and the numbers in
                       the given order joined left to right by a fixed operator pattern (all 64
                       patterns of three operators, repeated for longer lists);
            KnightsKnaves  everyone a knight, everyone a knave, alternating either way round;
            StepOrder  the labels in alphabetical order, and reversed;
            Sudoku     the puzzle with every blank a 1;
            Zebra      the k-th listed value of the asked attribute (k = 1…6) for a cell
                       question, and the values in listing order for a grid question.
            Others' envs (Math, Code, CodeFeedback, Verilog, VerilogEval, SWE, SWEAgent) get the
            generic constants plus a trivial program, module or patch where it is cheap:
            ``--heavy-seeds`` seeds each; SWE and SWEAgent only with ``--with-swe`` (each
            verification runs a test suite in the sandbox: minutes for a handful of tasks).
Chance      The mean over tasks of the reward a uniformly random answer of the documented form
            earns: 1/k for k letters (× accepted letters), |accepted| / 3 (whole picture, the
            prompt names 90/180/270) or Π |accepted| / 4 (pieces) for right angles, 2·tol/360
            for a free angle, 1/(n!·4^rotate·n) for a jigsaw (look-alikes ignored), 1/2 for
            yes/no, and Monte Carlo for the rest: numbers uniform on [0, 1] (probability) or on
            [−(k−1), k−1] (effect), distributions uniform on the simplex, move strings of the
            optimal length uniform over U/D/L/R (exact: shortest paths / 4^L), and uniformly
            random solutions of the instance's shape (a random tour, colours, subset, bins,
            starts, assignment) scored by the verifier; 1/k for Infill's k candidates,
            2^−n for n inhabitants of KnightsKnaves, 1/f! for StepOrder's f steps not given,
            1/houses for a Zebra cell question and (houses!)^−attributes for a grid. Open-ended
            envs (and ArcGrid, Countdown, Game24, Sudoku) have no chance column.
Verdict     ``above_chance`` when the best constant's mean exceeds chance by more than two
            standard errors of that mean. The JSON rows also give the best constant's mean and
            chance per difficulty (small d = 0 instances have few possible answers, so chance
            itself can be high there).

Run: ``.venv/bin/python benchmarks/bench_constant_policy.py [--env rlvr/Maze-v0 …] [--seeds 200]``.
Results go to benchmarks/results/constant_policy.json; a run with ``--env`` updates only those
envs' rows, so the suite can be measured in parts that each fit a short slot on a shared
machine. Prints the table env | best constant | mean reward | chance.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import math
import platform
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

import rlvr
from rlvr.core import Task

RESULTS = Path(__file__).resolve().parent / "results" / "constant_policy.json"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# the generator options an env cannot be made without (its row is skipped when the data is absent)
REQUIRED_OPTIONS = {"rlvr/VerilogEval-v0": {"dataset": str(SHARED_DATA / "verilog-eval" / "dataset_spec-to-rtl")}}
DIFFICULTIES = (0.0, 0.5, 1.0)
GENERIC = [
    "",
    "0",
    "1",
    "<answer>0</answer>",
    "<answer>1</answer>",
    "\\boxed{0}",
    "\\boxed{1}",
    "<answer>yes</answer>",
    "<answer>no</answer>",
    "<answer>[]</answer>",
]
HEAVY = {
    "rlvr/Code-v0",
    "rlvr/CodeFeedback-v0",
    "rlvr/Verilog-v0",
    "rlvr/VerilogEval-v0",
    "rlvr/SWE-v0",
    "rlvr/SWEAgent-v0",
}
SWE = {"rlvr/SWE-v0", "rlvr/SWEAgent-v0"}
MOST_FREQUENT_REFERENCES = 5
HELD_OUT_SEED = 1_000_000
RANDOM_ANSWERS_PER_TASK = 20
OPTIMISATION = {
    "rlvr/TSP-v0",
    "rlvr/GraphColoring-v0",
    "rlvr/MaxIndependentSet-v0",
    "rlvr/VertexCover-v0",
    "rlvr/Knapsack-v0",
    "rlvr/SubsetSum-v0",
    "rlvr/SetCover-v0",
    "rlvr/BinPacking-v0",
    "rlvr/Scheduling-v0",
    "rlvr/SAT-v0",
}
OLD_EXAMPLES = {  # the format examples the prompts showed before issue 14
    "rlvr/Maze-v0": "RRDLD",
    "rlvr/MazeImage-v0": "RRDLD",
    "rlvr/TSP-v0": "[0, 2, 3, 1]",
    "rlvr/GraphColoring-v0": "[1, 2, 1, 3]",
    "rlvr/MaxIndependentSet-v0": "[0, 4, 7]",
    "rlvr/VertexCover-v0": "[1, 2, 5]",
    "rlvr/Knapsack-v0": "[0, 3, 4]",
    "rlvr/SubsetSum-v0": "[0, 2, 5]",
    "rlvr/SetCover-v0": "[0, 3, 5]",
    "rlvr/BinPacking-v0": "[[0, 3], [1, 2, 4]]",
    "rlvr/Scheduling-v0": "[[0, 5, 9], [0, 3, 10]]",
    "rlvr/SAT-v0": "[1, -2, 3]",
}


@dataclass(frozen=True)
class Policy:
    """A trivial answer: one rule applied to every task that reads only the task's surface (its
    names, numbers, labels, input grid) and never solves it. ``name`` stands for it in the
    table."""

    name: str
    respond: Callable[[Task], str]


Candidate = str | Policy


def response_of(candidate: Candidate, task: Task) -> str:
    return candidate if isinstance(candidate, str) else candidate.respond(task)


def label_of(candidate: Candidate) -> str:
    return candidate if isinstance(candidate, str) else f"policy: {candidate.name}"


def answer(text: str) -> str:
    return f"<answer>{text}</answer>"


def listed(values) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def reference_body(response: str) -> str:
    return response.rpartition("<answer>")[2].partition("</answer>")[0]


# --------------------------------------------------------------------------------------------
# Candidate constants
# --------------------------------------------------------------------------------------------


def frequent_references(tasks: list[Task]) -> list[str]:
    """The most frequent reference answers of a held-out pool (seeds from ``HELD_OUT_SEED``, a
    quarter as many as measured, same difficulties), as constants: picked on other tasks, so
    the measured mean is not inflated by choosing the commonest answer of the measured pool."""
    env_id = tasks[0].env_id
    per_difficulty = max(1, len(tasks) // (4 * len(DIFFICULTIES)))
    pool = [
        rlvr.make_task(env_id, seed=HELD_OUT_SEED + seed, difficulty=difficulty)
        for difficulty in DIFFICULTIES
        for seed in range(per_difficulty)
    ]
    counts = collections.Counter(answer(reference_body(rlvr.solve(task))) for task in pool)
    return [text for text, _ in counts.most_common(MOST_FREQUENT_REFERENCES)]


def maze_constants(env_id: str, tasks: list[Task]) -> list[str]:
    walks = [
        "U",
        "D",
        "L",
        "R",
        "RRDD",
        "DDRR",
        "RDRD",
        "DRDR",
        "LLUU",
        "UULL",
        "RRUU",
        "DDLL",
        "UDLR",
        OLD_EXAMPLES[env_id],
    ]
    return [answer(w) for w in walks] + frequent_references(tasks)


def optimisation_constants(env_id: str, tasks: list[Task]) -> list[str]:
    found: list[str] = []
    for task in tasks:
        instance = task.answer["instance"]
        if env_id == "rlvr/TSP-v0":
            n = len(instance["distances"])
            found += [listed(range(n)), listed(reversed(range(n)))]
        elif env_id == "rlvr/GraphColoring-v0":
            n = int(instance["vertices"])
            found += [
                listed([1] * n),
                listed([1 + k % 2 for k in range(n)]),
                listed([1 + k % 3 for k in range(n)]),
                listed([1 + k % 4 for k in range(n)]),
                listed(range(1, n + 1)),
            ]
        elif env_id in ("rlvr/MaxIndependentSet-v0", "rlvr/VertexCover-v0"):
            n = int(instance["vertices"])
            found += [listed(range(n)), listed(range(0, n, 2)), listed(range(1, n, 2))]
        elif env_id in ("rlvr/Knapsack-v0", "rlvr/SubsetSum-v0", "rlvr/SetCover-v0"):
            n = len(instance.get("weights") or instance.get("numbers") or instance.get("subsets"))
            found += [listed(range(n)), listed(range(0, n, 2)), listed(range(1, n, 2))]
        elif env_id == "rlvr/BinPacking-v0":
            n = len(instance["sizes"])
            found += [listed([listed(range(n))]), listed([listed([i]) for i in range(n)])]
        elif env_id == "rlvr/Scheduling-v0":
            found.append(listed([listed([0] * len(job)) for job in instance["jobs"]]))
        elif env_id == "rlvr/SAT-v0":
            n = int(instance["variables"])
            found += [
                listed(range(1, n + 1)),
                listed(-k for k in range(1, n + 1)),
                listed(k if k % 2 else -k for k in range(1, n + 1)),
            ]
    new_example = re.findall(r"<answer>(.*?)</answer>", tasks[0].prompt)[-1]
    fixed = [
        "[]",
        "[0]",
        "[1]",
        "[0, 1]",
        "[[]]",
        OLD_EXAMPLES[env_id],
        new_example,
        new_example.replace(", …", "").replace("…", ""),
    ]
    return [answer(c) for c in dict.fromkeys(fixed + found)] + frequent_references(tasks)


def jigsaw_constants(env_id: str, tasks: list[Task]) -> list[str]:
    found = []
    for task in tasks:
        n, rotate = int(task.answer["rows"]) * int(task.answer["cols"]), bool(task.answer["rotate"])
        for order in (range(1, n + 1), range(n, 0, -1)):
            found.append(answer(" ".join(f"{k}:0" if rotate else str(k) for k in order)))
    return list(dict.fromkeys(found)) + frequent_references(tasks)


def rotation_constants(env_id: str, tasks: list[Task]) -> list[str]:
    found = [answer(str(a)) for a in range(360)]
    for task in tasks:
        n = int(task.answer["rows"]) * int(task.answer["cols"])
        if n > 1:
            found += [answer(" ".join([str(a)] * n)) for a in (0, 90, 180, 270)]
    return list(dict.fromkeys(found)) + frequent_references(tasks)


def patch_fit_constants(env_id: str, tasks: list[Task]) -> list[str]:
    return [answer(chr(ord("A") + k)) for k in range(12)]


def causal_constants(env_id: str, tasks: list[Task]) -> list[str]:
    found = [answer("yes"), answer("no")]
    # comparisons: both probabilities and the verdict that follows from them
    found += [
        answer(f"a={a / 10:.1f}; b={b / 10:.1f}; {'yes' if a > b else 'no'}")
        for a in range(1, 10)
        for b in range(1, 10)
        if a != b
    ]
    found += [answer(f"{p / 100:.2f}") for p in range(0, 101)]
    found += [answer(f"{e / 100:.2f}") for e in range(-100, 101)]
    found += [answer(f"[{p / 100:.2f}, {1 - p / 100:.2f}]") for p in range(0, 101)]
    found += [
        answer(f"[{a / 20:.2f}, {b / 20:.2f}, {(20 - a - b) / 20:.2f}]") for a in range(21) for b in range(21 - a)
    ]
    return list(dict.fromkeys(found))


def infill_constants(env_id: str, tasks: list[Task]) -> list[str]:
    return [answer(chr(ord("A") + k)) for k in range(6)]


def grid_lines(rows) -> str:
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def arc_grid_constants(env_id: str, tasks: list[Task]) -> list[Candidate]:
    found: list[Candidate] = [
        Policy("echo the test input", lambda t: answer("\n" + grid_lines(t.answer["test_input"])))
    ]
    found += [
        Policy(
            f"input's shape all colour {c}",
            lambda t, c=c: answer("\n" + grid_lines([[c] * len(row) for row in t.answer["test_input"]])),
        )
        for c in range(10)
    ]
    return found + frequent_references(tasks)


def operator_chain(numbers: list[int], pattern: tuple[str, ...]) -> str:
    """The numbers in the given order, joined left to right by the pattern's operators (cycled)."""
    text = str(numbers[0])
    for k, number in enumerate(numbers[1:]):
        text = f"({text} {pattern[k % len(pattern)]} {number})"
    return text


def countdown_constants(env_id: str, tasks: list[Task]) -> list[Candidate]:
    most = max(len(t.answer["numbers"]) for t in tasks)
    found: list[Candidate] = [
        Policy(f"number {k + 1} alone", lambda t, k=k: answer(str(t.answer["numbers"][k % len(t.answer["numbers"])])))
        for k in range(most)
    ]
    found.append(Policy("the target alone", lambda t: answer(str(t.answer["target"]))))
    found += [
        Policy(
            f"numbers in order joined by {''.join(p)}", lambda t, p=p: answer(operator_chain(t.answer["numbers"], p))
        )
        for p in itertools.product("+-*/", repeat=3)
    ]
    return found


def knights_knaves_constants(env_id: str, tasks: list[Task]) -> list[Candidate]:
    def roles(first: str, second: str) -> Callable[[Task], str]:
        return lambda t: answer(
            ", ".join(f"{name} is a {first if k % 2 == 0 else second}" for k, name in enumerate(t.answer["names"]))
        )

    return [
        Policy("everyone a knight", roles("knight", "knight")),
        Policy("everyone a knave", roles("knave", "knave")),
        Policy("knight, knave, … alternating", roles("knight", "knave")),
        Policy("knave, knight, … alternating", roles("knave", "knight")),
    ]


def step_order_constants(env_id: str, tasks: list[Task]) -> list[Candidate]:
    return [
        Policy("labels in alphabetical order", lambda t: answer(", ".join(sorted(t.answer["order"])))),
        Policy("labels in reverse order", lambda t: answer(", ".join(sorted(t.answer["order"], reverse=True)))),
    ]


def sudoku_constants(env_id: str, tasks: list[Task]) -> list[Candidate]:
    """A fixed valid grid per size (the shifted-rows pattern) and the puzzle with blanks as 1."""
    found: list[Candidate] = []
    for size, (rows, cols) in sorted({(int(t.answer["size"]), tuple(t.answer["box"])) for t in tasks}):
        pattern = [[(r % rows * cols + r // rows + c) % size + 1 for c in range(size)] for r in range(size)]
        found.append(answer("\n" + grid_lines(pattern) + "\n"))
    found.append(
        Policy(
            "the puzzle with every blank a 1",
            lambda t: answer(
                "\n"
                + grid_lines(
                    [
                        [v or 1 for v in t.answer["puzzle"][r * t.answer["size"] : (r + 1) * t.answer["size"]]]
                        for r in range(t.answer["size"])
                    ]
                )
                + "\n"
            ),
        )
    )
    return found + frequent_references(tasks)


def zebra_listed_value(k: int) -> Callable[[Task], str]:
    def respond(task: Task) -> str:
        question, houses = task.answer["question"], int(task.answer["houses"])
        if question["kind"] != "cell":
            return answer("")
        listed_values = (
            [str(h + 1) for h in range(houses)]
            if question["target"] == "house"
            else task.answer["values"][question["target"]]
        )
        return answer(listed_values[k % len(listed_values)])

    return respond


def zebra_constants(env_id: str, tasks: list[Task]) -> list[Candidate]:
    found: list[Candidate] = [
        Policy(f"listed value {k + 1} of the asked attribute", zebra_listed_value(k)) for k in range(6)
    ]
    found.append(
        Policy(
            "grid with the values in listing order",
            lambda t: answer(
                "\n"
                + "\n".join(
                    f"House {h + 1}: " + ", ".join(t.answer["values"][a][h] for a in t.answer["attributes"])
                    for h in range(int(t.answer["houses"]))
                )
                + "\n"
            ),
        )
    )
    return found + frequent_references(tasks)


def heavy_constants(env_id: str, tasks: list[Task]) -> list[str]:
    """A trivial program, module or patch for the envs whose verification runs code."""
    if env_id in ("rlvr/Code-v0", "rlvr/CodeFeedback-v0"):
        return ["```python\ndef solve(*args):\n    return 0\n```", "```python\nprint(0)\n```"]
    if env_id in ("rlvr/Verilog-v0", "rlvr/VerilogEval-v0"):
        return ["```verilog\nmodule TopModule();\nendmodule\n```"]
    if env_id in SWE:
        return ["```diff\n```"]
    return []


FAMILY_CONSTANTS: dict[str, Callable[[str, list[Task]], list[str]]] = {
    "rlvr/Maze-v0": maze_constants,
    "rlvr/MazeImage-v0": maze_constants,
    **dict.fromkeys(OPTIMISATION, optimisation_constants),
    "rlvr/Jigsaw-v0": jigsaw_constants,
    "rlvr/Rotation-v0": rotation_constants,
    "rlvr/PatchFit-v0": patch_fit_constants,
    "rlvr/Causal-v0": causal_constants,
    "rlvr/Infill-v0": infill_constants,
    "rlvr/ArcGrid-v0": arc_grid_constants,
    "rlvr/ArcGridImage-v0": arc_grid_constants,
    "rlvr/Countdown-v0": countdown_constants,
    "rlvr/Game24-v0": countdown_constants,
    "rlvr/KnightsKnaves-v0": knights_knaves_constants,
    "rlvr/StepOrder-v0": step_order_constants,
    "rlvr/Sudoku-v0": sudoku_constants,
    "rlvr/SudokuImage-v0": sudoku_constants,
    "rlvr/Zebra-v0": zebra_constants,
    **dict.fromkeys(HEAVY, heavy_constants),
}


# --------------------------------------------------------------------------------------------
# Chance
# --------------------------------------------------------------------------------------------


def maze_chance(task: Task, rng: random.Random) -> float:
    """Shortest paths / 4^L: a uniformly random string of the optimal length is one of them."""
    grid = task.answer["grid"]
    graph = nx.Graph()
    for r, row in enumerate(grid):
        for c, char in enumerate(row):
            if char != "#":
                for dr, dc in ((0, 1), (1, 0)):
                    if r + dr < len(grid) and c + dc < len(row) and grid[r + dr][c + dc] != "#":
                        graph.add_edge((r, c), (r + dr, c + dc))
    start, goal = tuple(task.answer["start"]), tuple(task.answer["goal"])
    distance = nx.single_source_shortest_path_length(graph, start)
    paths = {start: 1}
    for square in sorted(distance, key=distance.get)[1:]:  # count shortest paths layer by layer
        paths[square] = sum(paths[n] for n in graph[square] if distance.get(n) == distance[square] - 1)
    return paths[goal] / 4 ** int(task.answer["shortest_path_length"])


def random_solution(env_id: str, task: Task, rng: random.Random) -> str:
    """A uniformly random answer of the instance's shape."""
    instance = task.answer["instance"]
    if env_id == "rlvr/TSP-v0":
        tour = list(range(len(instance["distances"])))
        rng.shuffle(tour)
        return listed(tour)
    if env_id == "rlvr/GraphColoring-v0":
        n = int(instance["vertices"])
        return listed(rng.randint(1, n) for _ in range(n))
    if env_id == "rlvr/BinPacking-v0":
        count = len(task.answer["reference"]["solution"])
        bins = [[] for _ in range(count)]
        for item in range(len(instance["sizes"])):
            bins[rng.randrange(count)].append(item)
        return listed(listed(b) for b in bins)
    if env_id == "rlvr/Scheduling-v0":
        horizon = int(task.answer["reference"]["objective"])
        return listed(listed(rng.randint(0, horizon) for _ in job) for job in instance["jobs"])
    if env_id == "rlvr/SAT-v0":
        return listed(k if rng.random() < 0.5 else -k for k in range(1, int(instance["variables"]) + 1))
    n = (
        int(instance["vertices"])
        if "vertices" in instance
        else len(instance.get("weights") or instance.get("numbers") or instance.get("subsets"))
    )
    return listed(k for k in range(n) if rng.random() < 0.5)


def causal_chance(task: Task, rng: random.Random) -> float:
    kind, tolerance = task.answer["kind"], 0.01
    draws = np.random.default_rng(rng.randrange(2**32))
    if kind == "comparison":  # a uniform guess of both probabilities, each within the tolerance
        first, second = (float(value) for value in task.answer["values"])
        a, b = draws.random(4000), draws.random(4000)
        return float(np.mean((np.abs(a - first) < tolerance) & (np.abs(b - second) < tolerance)))
    if kind == "probability":
        return float(np.mean(np.abs(draws.random(4000) - float(task.answer["value"])) < tolerance))
    if kind == "effect":
        top = len(task.answer["states"]) - 1
        return float(np.mean(np.abs(draws.uniform(-top, top, 4000) - float(task.answer["value"])) < tolerance))
    truth = np.array(task.answer["distribution"], dtype=float)
    samples = draws.dirichlet(np.ones(len(truth)), 4000)
    return float(np.mean(np.abs(samples - truth).sum(axis=1) / 2 < tolerance))


def chance_of(env_id: str, task: Task, verifier, rng: random.Random) -> float | None:
    if env_id in ("rlvr/Maze-v0", "rlvr/MazeImage-v0"):
        return maze_chance(task, rng)
    if env_id in OPTIMISATION:
        return (
            sum(
                verifier.verify(task, answer(random_solution(env_id, task, rng))).reward
                for _ in range(RANDOM_ANSWERS_PER_TASK)
            )
            / RANDOM_ANSWERS_PER_TASK
        )
    if env_id == "rlvr/PatchFit-v0":
        return len(task.answer["accepted"]) / len(task.answer["labels"])
    if env_id == "rlvr/Rotation-v0":
        if task.answer["angles"] == "free":
            return 2 * float(task.answer["tolerance"]) / 360
        accepted = task.answer["accepted"]
        if len(accepted) == 1:
            return len({int(a) for a in accepted[0]} & {90, 180, 270}) / 3
        return math.prod(len(a) / 4 for a in accepted)
    if env_id == "rlvr/Jigsaw-v0":
        n = int(task.answer["rows"]) * int(task.answer["cols"])
        return 1 / (math.factorial(n) * (4**n if task.answer["rotate"] else 1))
    if env_id == "rlvr/Causal-v0":
        return causal_chance(task, rng)
    if env_id == "rlvr/Infill-v0":
        return 1 / len(task.answer["candidates"]) if task.answer["mode"] == "choice" else None
    if env_id == "rlvr/KnightsKnaves-v0":
        return 2.0 ** -len(task.answer["names"])
    if env_id == "rlvr/StepOrder-v0":
        given = len(re.findall(r"\b[A-Z]+ is step \d+", task.prompt))
        return 1 / math.factorial(len(task.answer["order"]) - given)
    if env_id == "rlvr/Zebra-v0":
        houses = int(task.answer["houses"])
        if task.answer["question"]["kind"] == "cell":
            return 1 / houses
        return float(math.factorial(houses)) ** -len(task.answer["attributes"])
    return None


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------


def measure(env_id: str, seeds: int) -> dict:
    started = time.perf_counter()
    verifier = rlvr.make_verifier(env_id)
    tasks = []
    for difficulty in DIFFICULTIES:
        for seed in range(seeds):
            try:
                tasks.append(
                    rlvr.make_task(env_id, seed=seed, difficulty=difficulty, **REQUIRED_OPTIONS.get(env_id, {}))
                )
            except (ValueError, FileNotFoundError, ImportError) as error:  # dataset envs without their data
                return {"env": env_id, "skipped": f"{type(error).__name__}: {str(error)[:160]}"}
    candidates: list[Candidate] = list(
        {label_of(c): c for c in GENERIC + FAMILY_CONSTANTS.get(env_id, lambda *_: [])(env_id, tasks)}.values()
    )
    rewards = np.zeros((len(candidates), len(tasks)))
    for j, task in enumerate(tasks):
        for i, candidate in enumerate(candidates):
            rewards[i, j] = verifier.verify(task, response_of(candidate, task)).reward
    means = rewards.mean(axis=1)
    best = int(np.argmax(means))
    rng = random.Random(20_241_204)
    chances = [chance_of(env_id, task, verifier, rng) for task in tasks]
    chance = None if any(c is None for c in chances) else float(np.mean(chances))
    chance_by_difficulty = (
        None
        if chance is None
        else {
            f"{d:.1f}": float(np.mean([c for c, t in zip(chances, tasks) if t.difficulty == d])) for d in DIFFICULTIES
        }
    )
    stderr = float(rewards[best].std(ddof=1) / math.sqrt(len(tasks))) if len(tasks) > 1 else 0.0
    per_difficulty = {
        f"{d:.1f}": float(rewards[best, [k for k, t in enumerate(tasks) if t.difficulty == d]].mean())
        for d in DIFFICULTIES
    }
    runner_up = [int(i) for i in np.argsort(-means)[1:4]]
    return {
        "env": env_id,
        "tasks": len(tasks),
        "candidates": len(candidates),
        "best_constant": label_of(candidates[best]),
        "best_mean_reward": float(means[best]),
        "best_stderr": stderr,
        "best_by_difficulty": per_difficulty,
        "next_best": [{"constant": label_of(candidates[i])[:80], "mean_reward": float(means[i])} for i in runner_up],
        "chance": chance,
        "chance_by_difficulty": chance_by_difficulty,
        "above_chance": bool(chance is not None and means[best] > chance + 2 * stderr),
        "seconds": round(time.perf_counter() - started, 1),
    }


def shown(text: str, width: int = 34) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: list[dict]) -> str:
    lines = [f"{'env':26s} {'best constant':36s} {'mean reward':>12s} {'chance':>9s}  above chance"]
    for row in rows:
        if "skipped" in row:
            lines.append(f"{row['env']:26s} skipped: {row['skipped'][:80]}")
            continue
        chance = "—" if row["chance"] is None else f"{row['chance']:.4f}"
        lines.append(
            f"{row['env']:26s} {shown(repr(row['best_constant'])):36s} "
            f"{row['best_mean_reward']:>8.4f}±{row['best_stderr']:.3f} {chance:>9s}  "
            f"{'YES' if row['above_chance'] else 'no'}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", action="append", help="measure only this env (repeatable); other rows are kept")
    parser.add_argument("--seeds", type=int, default=200, help="seeds per difficulty for the light envs")
    parser.add_argument("--heavy-seeds", type=int, default=3, help="seeds per difficulty for envs that run code")
    parser.add_argument("--with-swe", action="store_true", help="also measure SWE-v0 and SWEAgent-v0 (slow)")
    args = parser.parse_args()
    env_ids = [spec["id"] for spec in rlvr.list_envs()]
    chosen = args.env or env_ids
    unknown = set(chosen) - set(env_ids)
    if unknown:
        parser.error(f"unknown env(s): {', '.join(sorted(unknown))}")
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows = {row["env"]: row for row in previous.get("rows", [])}
    for env_id in chosen:
        if env_id in SWE and not args.with_swe:
            rows[env_id] = {"env": env_id, "skipped": "each verification runs a test suite; pass --with-swe"}
            continue
        seeds = (
            args.heavy_seeds
            if env_id in HEAVY
            else (max(1, args.seeds // 4) if env_id == "rlvr/Math-v0" else args.seeds)
        )
        rows[env_id] = {**measure(env_id, seeds), "seeds_per_difficulty": seeds}
        print(table([rows[env_id]]).splitlines()[1], file=sys.stderr, flush=True)
    ordered = [rows[env_id] for env_id in env_ids if env_id in rows]
    result = {
        "benchmark": "constant_policy",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "difficulties": list(DIFFICULTIES),
        "rows": ordered,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(table(ordered))


if __name__ == "__main__":
    main()
