"""The maze family: rlvr/Maze-v0 (text) and rlvr/MazeImage-v0 (image) — generator, difficulty
table, reference solver, verifier options and hostile responses."""

import itertools
import json
import re

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlvr
from rlvr.core import Task
from rlvr.generators.maze import MAZE_COLOURS, MazeGenerator, count_turns, moves_along, open_square_graph
from rlvr.verifiers.maze import CHANCE_MAX_MOVES, AimlessWalks, MazeVerifier, wall_follower

ENV_IDS = ("rlvr/Maze-v0", "rlvr/MazeImage-v0")
STEPS = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
OPPOSITE = {"U": "D", "D": "U", "L": "R", "R": "L"}


def answer_of(response: str) -> str:
    return re.fullmatch(r"<answer>(.*)</answer>", response).group(1)


def hand_task(grid: list[str], optimum: int) -> Task:
    """A Task built by hand from a grid with one S and one G (the verifier needs only answer)."""
    start = next((r, row.index("S")) for r, row in enumerate(grid) if "S" in row)
    goal = next((r, row.index("G")) for r, row in enumerate(grid) if "G" in row)
    answer = {"grid": grid, "start": list(start), "goal": list(goal), "shortest_path_length": optimum}
    return Task(id="maze/hand", env_id="rlvr/Maze-v0", family="maze", prompt="", answer=answer, difficulty=0.0, seed=0)


# A corridor S → right → down → left → G; shortest path RRRRDDLLLL (10 moves).
CORRIDOR = [
    "#######",
    "#S....#",
    "#####.#",
    "#G....#",
    "#######",
]
# No border wall: a move up from S leaves the grid. Shortest path RRDDLL (6 moves).
OPEN_EDGE = [
    "S..",
    "##.",
    "G..",
]


# ------------------------------------------------------------------ reference solutions


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reference_solution_is_correct_and_shortest(env_id):
    verifier = MazeVerifier(shortest=True)
    for difficulty in (0.0, 0.5, 1.0):
        for seed in range(50):
            task = rlvr.make_task(env_id, seed=seed, difficulty=difficulty)
            response = rlvr.solve(task)
            verdict = verifier.verify(task, response)
            assert verdict.correct and verdict.reward == 1.0 and verdict.format_ok, (task.id, verdict)
            moves = answer_of(response)
            assert len(moves) == task.meta["shortest_path_length"] == task.answer["shortest_path_length"]
            assert count_turns(moves) >= task.meta["turns"]


def test_task_meets_its_parameters():
    generator = MazeGenerator()
    for difficulty in (0.0, 0.3, 0.5, 0.8, 1.0):
        for seed in range(20):
            task = generator.generate(seed, difficulty)
            params, grid = task.params, task.answer["grid"]
            assert len(grid) == 2 * params["rows"] + 1 == task.meta["grid_rows"]
            assert {len(row) for row in grid} == {2 * params["cols"] + 1}
            assert task.meta["shortest_path_length"] >= params["min_path_length"]
            assert task.meta["turns"] >= params["min_turns"]
            text = "".join(grid)
            assert text.count("S") == 1 and text.count("G") == 1 and set(text) <= set("#.SG")
            assert grid[0] == "#" * len(grid[0]) and grid[-1] == grid[0]
            assert all(row[0] == row[-1] == "#" for row in grid)
            # the text env shows the grid verbatim
            assert "\n".join(grid) in task.prompt


def test_turns_in_meta_are_the_fewest_over_all_shortest_paths():
    generator = MazeGenerator()
    for seed in range(40):
        task = generator.generate(seed, 0.0, rows=4, cols=4, loops=1.0, min_path_length=4, min_turns=0)
        graph = open_square_graph(task.answer["grid"])
        paths = list(nx.all_shortest_paths(graph, tuple(task.answer["start"]), tuple(task.answer["goal"])))
        turns = min(count_turns(moves_along(path)) for path in paths)
        assert turns == task.meta["turns"]
        assert len(paths[0]) - 1 == task.meta["shortest_path_length"]


# ------------------------------------------------------------------ wrong answers


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_perturbed_paths_are_not_correct(env_id):
    verifier = MazeVerifier()
    for difficulty in (0.0, 0.5, 1.0):
        for seed in range(15):
            task = rlvr.make_task(env_id, seed=seed, difficulty=difficulty)
            moves = answer_of(rlvr.solve(task))
            grid, goal = task.answer["grid"], task.answer["goal"]
            middle = len(moves) // 2
            for letter in "UDLR":
                if letter != moves[middle]:
                    changed = moves[:middle] + letter + moves[middle + 1 :]
                    assert not verifier.verify(task, f"<answer>{changed}</answer>").correct
            assert not verifier.verify(task, f"<answer>{moves[:-1]}</answer>").correct
            assert not verifier.verify(task, f"<answer>{moves[1:]}</answer>").correct
            into_wall = [m for m, (dr, dc) in STEPS.items() if grid[goal[0] + dr][goal[1] + dc] == "#"]
            into_open = [m for m in STEPS if m not in into_wall]
            for extra in into_wall:
                verdict = verifier.verify(task, f"<answer>{moves}{extra}</answer>")
                assert not verdict.correct and verdict.reward == 0.0 and verdict.details["failure"] == "wall"
            for extra in into_open:
                verdict = verifier.verify(task, f"<answer>{moves}{extra}</answer>")
                assert not verdict.correct and verdict.details["failure"] == "not on goal"
                # coming back onto G ends the walk on G: a detour, correct only when any path is asked for
                back = f"<answer>{moves}{extra}{OPPOSITE[extra]}</answer>"
                assert MazeVerifier(shortest=False).verify(task, back).correct
                detour = verifier.verify(task, back)
                assert not detour.correct and detour.reward == 0.0 and detour.details["failure"] == "not shortest"
            wrong = rlvr.make_generator(env_id).wrong_response(task)
            assert not verifier.verify(task, wrong).correct


def test_shortest_is_the_default_and_detours_need_an_option():
    task = rlvr.make_task("rlvr/Maze-v0", seed=7, difficulty=0.5)
    moves = answer_of(rlvr.solve(task))
    detour = moves[0] + OPPOSITE[moves[0]] + moves  # step out and back, then the shortest path
    optimum = len(moves)
    assert "shortest path" in task.prompt  # the prompt asks for a shortest path, the default verdict demands one
    assert MazeVerifier(shortest=False).verify(task, f"<answer>{detour}</answer>").correct
    for strict in (
        MazeVerifier(),
        MazeVerifier(shortest=True),
        rlvr.make_verifier("rlvr/Maze-v0"),
        rlvr.make_verifier("rlvr/MazeImage-v0"),
    ):
        verdict = strict.verify(task, f"<answer>{detour}</answer>")
        assert not verdict.correct and verdict.reward == 0.0 and verdict.format_ok
        assert verdict.details["failure"] == "not shortest"
        assert strict.verify(task, f"<answer>{moves}</answer>").correct
    graded = MazeVerifier(partial=True).verify(task, f"<answer>{detour}</answer>")
    progress, chance = graded.details["progress"], graded.details["chance_progress"]
    assert progress == pytest.approx(optimum / (optimum + 2)) and 0.0 < chance < progress
    assert not graded.correct and graded.reward == pytest.approx((progress - chance) / (1 - chance))
    assert MazeVerifier(partial=True).verify(task, f"<answer>{moves}</answer>").reward == 1.0
    assert MazeVerifier(shortest=False, partial=True).verify(task, f"<answer>{detour}</answer>").reward == 1.0


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_detours_of_every_kind_score_zero_by_default(env_id):
    """Longer-than-shortest walks that end on G: loops, dead-end excursions, back-and-forth."""
    verifier = rlvr.make_verifier(env_id)
    for difficulty in (0.0, 0.5, 1.0):
        for seed in range(10):
            task = rlvr.make_task(env_id, seed=seed, difficulty=difficulty)
            moves = answer_of(rlvr.solve(task))
            walks = [moves + m + OPPOSITE[m] for m in "UDLR"] + [m + OPPOSITE[m] + moves for m in "UDLR"]
            walks.append(moves + OPPOSITE[moves[-1]] + moves[-1])  # back one square, then onto G again
            half = len(moves) // 2
            walks.append(
                moves[:half] + moves[half - 1 :: -1].translate(str.maketrans(OPPOSITE)) + moves
            )  # half way, back, again
            for walk in walks:
                verdict = verifier.verify(task, f"<answer>{walk}</answer>")
                assert verdict.reward == 0.0 and not verdict.correct, (task.id, walk, verdict)
            assert verifier.verify(task, rlvr.solve(task)).correct


@pytest.mark.parametrize(
    "moves, progress, failure",
    [
        ("RR", 1 - 8 / 10, "not on goal"),  # ends at (1, 3), 8 moves from G
        ("RRRRD", 1 - 5 / 10, "not on goal"),
        ("RRRRRR", None, "wall"),  # the fifth R hits the wall: a walk that breaks a rule earns nothing
        ("RRRRDDLLLLU", None, "wall"),  # reached G, then bumped a wall: not a path either
        ("RRRRDDLLLR", 1 - 2 / 10, "not on goal"),  # turned back one square before G; ends at (3, 3)
        ("L", None, "wall"),  # no progress at all
        ("RRLL", 0.0, "not on goal"),  # back on S
    ],
)
def test_partial_credit_on_a_hand_built_corridor(moves, progress, failure):
    """Progress is measured, but a corridor offers no choice: every aimless walk gets as far
    in as many moves, so the progress is all chance and earns nothing (red team H5)."""
    task = hand_task(CORRIDOR, 10)
    partial = MazeVerifier(partial=True).verify(task, f"<answer>{moves}</answer>")
    assert partial.reward == 0.0 and not partial.correct and partial.format_ok
    assert partial.details["failure"] == failure and partial.details.get("progress") == pytest.approx(progress)
    if progress is not None:
        assert partial.details["chance_progress"] >= progress
    plain = MazeVerifier().verify(task, f"<answer>{moves}</answer>")
    assert plain.reward == 0.0 and not plain.correct and plain.format_ok
    assert MazeVerifier(shortest=False).verify(task, f"<answer>{moves}</answer>").reward == 0.0
    assert MazeVerifier(partial=True).verify(task, "<answer>RRRRDDLLLL</answer>").reward == 1.0


@pytest.mark.parametrize("difficulty", [0.0, 0.25, 0.5])
def test_partial_credit_pays_no_walk_through_walls(difficulty):
    """Red team S9-F6: the straight moves from S toward G, which ignore the walls (or run past
    G), earned 0.01-0.13 from their legal prefix; a walk that breaks a rule now earns nothing."""
    verifier, paid, broken = MazeVerifier(partial=True), 0.0, 0
    for seed in range(150):
        task = rlvr.make_task("rlvr/Maze-v0", seed=seed, difficulty=difficulty)
        (s_row, s_col), (g_row, g_col) = task.answer["start"], task.answer["goal"]
        vertical = ("D" if g_row > s_row else "U") * abs(g_row - s_row)
        horizontal = ("R" if g_col > s_col else "L") * abs(g_col - s_col)
        for moves in (vertical + horizontal, horizontal + vertical, vertical * 3 + horizontal * 3):
            verdict = verifier.verify(task, f"<answer>{moves or 'U'}</answer>")
            if verdict.details.get("failure") in ("wall", "off grid"):
                broken += 1
                paid += verdict.reward
    assert broken >= 150 and paid == 0.0


def aimless_walks_of(task: Task, rng) -> dict[str, str]:
    """Walks that read only the squares next to them and never aim at G (red team H5): random
    legal walks that never turn back except in a dead end (grid rows + columns moves, and three
    times as many) and wall followers of either hand cut after three times as many."""
    grid, start, goal = task.answer["grid"], tuple(task.answer["start"]), tuple(task.answer["goal"])
    size = len(grid) + len(grid[0])
    walks = {}
    for name, length in (("corridor 1x", size), ("corridor 3x", 3 * size)):
        (row, col), walk = start, ""
        for _ in range(length):
            exits = [m for m, (dr, dc) in STEPS.items() if grid[row + dr][col + dc] != "#"]
            move = rng.choice([m for m in exits if not walk or m != OPPOSITE[walk[-1]]] or exits)
            row, col, walk = row + STEPS[move][0], col + STEPS[move][1], walk + move
        walks[name] = walk
    for hand in ("right", "left"):
        walks[f"{hand}-hand cut"] = wall_follower(grid, start, goal, 3 * size, hand)
    return walks


@pytest.mark.parametrize("difficulty", [0.25, 0.5, 0.75, 1.0])
def test_partial_credit_pays_walks_that_never_aim_at_g_nothing(difficulty):
    """Red team H5: with no chance level subtracted, corridor walks earned 0.41/0.26/0.15/0.11 at
    d = 0.25/0.5/0.75/1 and a right-hand wall follower cut short 0.67/0.59/0.40/0.33. Walks
    that happen to be a shortest path are answers (reward 1) and are left out of the means."""
    import random

    verifier, rng = MazeVerifier(partial=True), random.Random(f"h5/{difficulty}")
    paid: dict[str, list[float]] = {}
    for seed in range(100):
        task = rlvr.make_task("rlvr/Maze-v0", seed=500 + seed, difficulty=difficulty)
        for name, walk in aimless_walks_of(task, rng).items():
            verdict = verifier.verify(task, f"<answer>{walk}</answer>")
            if not verdict.correct:
                assert verdict.reward < 1.0
                paid.setdefault(name, []).append(verdict.reward)
    means = {name: sum(rewards) / len(rewards) for name, rewards in paid.items()}
    assert all(len(rewards) >= 50 for rewards in paid.values()), {k: len(v) for k, v in paid.items()}
    assert max(means.values()) <= 0.03, means


def test_partial_credit_pays_a_wall_follower_run_to_g_nothing():
    """A wall follower is a legal walk to G in a perfect maze that never looks where G is: under
    ``partial`` (and ``shortest``) its detour earns nothing, where it earned optimum / length."""
    verifier, paid = MazeVerifier(partial=True), 0
    for difficulty in (0.25, 0.5, 1.0):
        for seed in range(8):
            task = rlvr.make_task("rlvr/Maze-v0", seed=seed, difficulty=difficulty)
            grid, start, goal = task.answer["grid"], tuple(task.answer["start"]), tuple(task.answer["goal"])
            for hand in ("right", "left"):
                walk = wall_follower(grid, start, goal, 4 * len(grid) * len(grid[0]), hand)
                verdict = verifier.verify(task, f"<answer>{walk}</answer>")
                if verdict.details["failure"] == "not shortest":
                    paid += 1
                    assert verdict.reward == 0.0 and verdict.details["progress"] > 0.0, verdict
    assert paid >= 30


def test_partial_credit_still_pays_honest_walks_toward_g():
    """A prefix of a shortest path earns what it holds above chance; the whole path earns 1."""
    verifier = MazeVerifier(partial=True)
    prefix = {0.5: [], 0.75: [], 0.9: []}
    for seed in range(30):
        task = rlvr.make_task("rlvr/Maze-v0", seed=seed, difficulty=1.0)
        moves = answer_of(rlvr.solve(task))
        assert verifier.verify(task, rlvr.solve(task)).reward == 1.0
        for share, rewards in prefix.items():
            verdict = verifier.verify(task, f"<answer>{moves[: round(len(moves) * share)]}</answer>")
            assert 0.0 <= verdict.reward < verdict.details["progress"] <= round(len(moves) * share) / len(moves) + 1e-9
            rewards.append(verdict.reward)
    means = {share: sum(rewards) / len(rewards) for share, rewards in prefix.items()}
    assert 0.05 < means[0.5] < means[0.75] < means[0.9] and means[0.9] > 0.4, means


def test_chance_is_deterministic_and_bounded_on_the_largest_maze():
    """The aimless walks are seeded from the maze (same curve from a fresh object) and stepping
    them to d = 1's move cap costs well under the deadline; past CHANCE_MAX_MOVES (only in
    larger mazes) no partial credit is paid."""
    import time

    task = rlvr.make_task("rlvr/Maze-v0", seed=1, difficulty=1.0)
    grid, answer = tuple(task.answer["grid"]), task.answer
    cap = 4 * len(grid) * len(grid[0])
    started = time.process_time()
    walks = AimlessWalks(grid, tuple(answer["start"]), tuple(answer["goal"]), answer["shortest_path_length"])
    last = walks.chance(cap)
    assert time.process_time() - started < MazeVerifier.deadline_s / 4
    again = AimlessWalks(grid, tuple(answer["start"]), tuple(answer["goal"]), answer["shortest_path_length"])
    assert [again.chance(n) for n in range(0, cap + 1, 97)] == walks.curve[::97] and walks.curve == sorted(walks.curve)
    assert 0.0 < last <= 1.0
    big = MazeGenerator().generate(0, 1.0, rows=50, cols=50, loops=0.0, min_path_length=10, min_turns=0)
    start, goal = tuple(big.answer["start"]), tuple(big.answer["goal"])
    walk = wall_follower(big.answer["grid"], start, goal, CHANCE_MAX_MOVES + 1)
    walk += (walk[-1] + OPPOSITE[walk[-1]]) * ((CHANCE_MAX_MOVES + 2 - len(walk)) // 2)  # a long legal walk
    verdict = MazeVerifier(partial=True).verify(big, f"<answer>{walk}</answer>")
    assert len(walk) > CHANCE_MAX_MOVES and verdict.reward == 0.0 and "past" in verdict.reason, verdict


def test_into_wall_and_off_grid_are_invalid():
    corridor = hand_task(CORRIDOR, 10)
    wall = MazeVerifier().verify(corridor, "<answer>RRRRDDD</answer>")
    assert wall.reward == 0.0 and wall.details["failure"] == "wall" and wall.details["failed_at"] == 7
    assert wall.details["end"] == [3, 5] and wall.details["moves_made"] == 6 and "wall" in wall.reason
    edge = hand_task(OPEN_EDGE, 6)
    assert MazeVerifier().verify(edge, "<answer>RRDDLL</answer>").correct
    off = MazeVerifier().verify(edge, "<answer>RRU</answer>")
    assert off.reward == 0.0 and off.details["failure"] == "off grid" and off.details["failed_at"] == 3
    assert "leaves the grid" in off.reason
    # even a walk that would reach G after leaving the grid is invalid
    assert not MazeVerifier().verify(edge, "<answer>UDRRDDLL</answer>").correct
    assert MazeVerifier(partial=True).verify(edge, "<answer>ULL</answer>").reward == 0.0


# ------------------------------------------------------------------ parsing and hostile input


def test_separators_are_tolerated_and_words_are_not():
    task = hand_task(CORRIDOR, 10)
    verifier = MazeVerifier()
    for form in ("R R R R D D L L L L", "R,R,R,R,D,D,L,L,L,L", "RRRR; DD; LLLL", "RRRR\nDD\nLLLL", " RRRRDDLLLL "):
        assert verifier.verify(task, f"Here it is. <answer>{form}</answer>").correct, form
    for form in (
        "rrrrddllll",
        "right right right right down down left left left left",
        "R4 D2 L4",
        "R→R→R→R→D→D→L→L→L→L",
        "RRRRDDLLLL.",
        "[R, R, R, R, D, D, L, L, L, L]",
    ):
        verdict = verifier.verify(task, f"<answer>{form}</answer>")
        assert verdict.reward == 0.0 and not verdict.format_ok, form


def test_hostile_responses_score_zero():
    task = rlvr.make_task("rlvr/Maze-v0", seed=2, difficulty=1.0)
    good = answer_of(rlvr.solve(task))
    verifier = MazeVerifier(partial=True)
    cap = 4 * len(task.answer["grid"]) * len(task.answer["grid"][0])
    hostile = {
        "empty": "",
        "empty block": "<answer></answer>",
        "only separators": "<answer> , ; \n</answer>",
        "ten megabytes bare": "U" * 10_000_000,
        "ten megabytes in a block": "<answer>" + "U" * 10_000_000 + "</answer>",
        "just over the cap": "<answer>" + good + "UD" * (cap // 2) + "</answer>",
        "binary junk": bytes(range(256)).decode("latin-1") * 64,
        "null bytes": "<answer>\x00\x00</answer>",
        "lowercase": f"<answer>{good.lower()}</answer>",
        "words": "<answer>up down left right</answer>",
        "unclosed": f"<answer>{good}",
        "answer inside unclosed think": f"<think><answer>{good}</answer>",
    }
    for name, response in hostile.items():
        verdict = verifier.verify(task, response)
        assert verdict.reward == 0.0 and not verdict.correct and verdict.reason, name
    assert verifier.verify(task, b"<answer>R</answer>").reward == 0.0
    # several blocks: the last one counts
    assert verifier.verify(task, f"<answer>UUUU</answer> no wait <answer>{good}</answer>").correct
    assert not verifier.verify(task, f"<answer>{good}</answer> no wait <answer>{good[:-1]}</answer>").correct
    assert verifier.verify(task, f"<think><answer>L</answer></think><answer>{good}</answer>").correct


def test_verdict_survives_a_json_round_trip_of_the_task():
    for env_id in ENV_IDS:
        task = rlvr.make_task(env_id, seed=12, difficulty=0.6)
        again = Task.from_dict(json.loads(task.to_json()))
        assert again.to_json() == task.to_json()
        assert isinstance(again.answer["start"], list)
        assert MazeVerifier(shortest=True).verify(again, rlvr.solve(again)).correct


# ------------------------------------------------------------------ difficulty


def test_difficulty_table_numbers_match_the_docstring():
    table = MazeGenerator.table
    documented = {  # d: (rows, loops, min_path_length, min_turns), as in the module docstring
        0.0: (3, 0.0, 4, 1),
        0.25: (5, 0.05, 12, 4),
        0.5: (8, 0.10, 24, 8),
        0.75: (14, 0.18, 60, 18),
        1.0: (20, 0.25, 120, 32),
    }
    for difficulty, (rows, loops, length, turns) in documented.items():
        params = table.resolve(difficulty)
        assert (params["rows"], params["cols"], params["loops"], params["min_path_length"], params["min_turns"]) == (
            rows,
            rows,
            loops,
            length,
            turns,
        )
        assert MazeGenerator().generate(0, difficulty).meta["grid_rows"] == 2 * rows + 1


def test_objective_measures_rise_with_the_knob():
    generator = MazeGenerator()
    lengths, turns, sizes = [], [], []
    for difficulty in (0.0, 0.25, 0.5, 0.75, 1.0):
        tasks = [generator.generate(seed, difficulty) for seed in range(40)]
        lengths.append(np.mean([t.meta["shortest_path_length"] for t in tasks]))
        turns.append(np.mean([t.meta["turns"] for t in tasks]))
        sizes.append(tasks[0].meta["grid_rows"] * tasks[0].meta["grid_cols"])
    assert all(a < b for a, b in zip(lengths, lengths[1:])), lengths
    assert all(a < b for a, b in zip(turns, turns[1:])), turns
    assert all(a < b for a, b in zip(sizes, sizes[1:])), sizes
    assert lengths[-1] > 5 * lengths[0]


def test_explicit_parameters_win_over_the_knob():
    generator = MazeGenerator()
    task = generator.generate(3, 1.0, rows=4, cols=9, loops=0.0, min_path_length=2, min_turns=0)
    grid = task.answer["grid"]
    assert (len(grid), len(grid[0])) == (9, 19) and task.params["rows"] == 4 and task.params["cols"] == 9
    # loops=0: a perfect maze, a spanning tree of the 36 cells: 36 cells + 35 passages open
    assert sum(row.count("#") for row in grid) == 9 * 19 - (36 + 35)
    assert task.id != generator.generate(3, 1.0).id
    # loops=1: every dead end is opened
    braided = generator.generate(3, 0.5, loops=1.0)
    grid = braided.answer["grid"]
    for r in range(1, len(grid), 2):
        for c in range(1, len(grid[0]), 2):
            assert sum(grid[r + dr][c + dc] != "#" for dr, dc in STEPS.values()) >= 2
    assert braided.meta["loops_opened"] > 0
    env = gym.make("rlvr/Maze-v0", difficulty=0.0, rows=6, cols=6)
    _, info = env.reset(seed=1)
    assert len(info["task"].answer["grid"]) == 13


@pytest.mark.parametrize(
    "overrides",
    [
        {"rows": 1},
        {"cols": 300},
        {"rows": 2.5},
        {"loops": 1.5},
        {"min_path_length": 0},
        {"rows": 2, "cols": 2, "min_path_length": 40},
        {"rows": True},
        {"rows": 3, "cols": 3, "min_path_length": 30},
        {"rows": 3, "cols": 3, "min_turns": 12},
    ],
)
def test_invalid_or_unreachable_parameters_raise(overrides):
    with pytest.raises(ValueError):
        MazeGenerator().generate(0, 0.0, **overrides)


# ------------------------------------------------------------------ determinism


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_bytes_and_neighbouring_seeds_differ(env_id):
    render = "image" if "Image" in env_id else "text"
    for difficulty in (0.0, 0.5, 1.0):
        first = MazeGenerator(render).generate(21, difficulty)
        again = MazeGenerator(render).generate(21, difficulty)
        assert first.to_json() == again.to_json() and first.env_id == env_id
        neighbours = [MazeGenerator(render).generate(seed, difficulty) for seed in (20, 22)]
        assert all(n.answer != first.answer for n in neighbours)
    text = MazeGenerator().generate(5, 0.4)
    image = MazeGenerator(render="image").generate(5, 0.4)
    assert text.answer == image.answer and text.meta == image.meta  # the same maze in both envs


# ------------------------------------------------------------------ greedy screen (red team S12-F3)

TIE_ORDERS_UNDER_TEST = ["".join(order) for order in itertools.permutations("URDL")]


def greedy_solves(grid: list[str], start, goal, distance: dict, order: str) -> bool:
    """The red team's walker, written here apart from the generator's: from ``start``, the legal
    move ending nearest ``goal`` by Manhattan distance (equal moves in ``order``), never back
    except in a dead end; whether it reaches ``goal`` by a shortest path, every move one nearer
    by ``distance`` (BFS distances to ``goal``; the walk is cut at the first move that is not)."""
    square, goal, last = tuple(start), tuple(goal), None
    while square != goal:
        exits = [m for m, (dr, dc) in STEPS.items() if grid[square[0] + dr][square[1] + dc] != "#"]
        onward = [m for m in exits if last is None or m != OPPOSITE[last]] or exits
        move = min(
            onward,
            key=lambda m: (
                abs(square[0] + STEPS[m][0] - goal[0]) + abs(square[1] + STEPS[m][1] - goal[1]),
                order.index(m),
            ),
        )
        following = (square[0] + STEPS[move][0], square[1] + STEPS[move][1])
        if distance[following] != distance[square] - 1:
            return False
        square, last = following, move
    return True


def solved_by_a_greedy_walk(task: Task) -> bool:
    """Any of 48 walks (from S toward G or from G toward S, each of the 24 tie orders) is a
    shortest path: the 16 of the red team's report (8 tie orders) and the other 32."""
    grid, start, goal = task.answer["grid"], task.answer["start"], task.answer["goal"]
    graph = open_square_graph(grid)
    to_goal = nx.single_source_shortest_path_length(graph, tuple(goal))
    to_start = nx.single_source_shortest_path_length(graph, tuple(start))
    assert to_goal[tuple(start)] == task.answer["shortest_path_length"]  # the optimum is the BFS distance
    return any(
        greedy_solves(grid, start, goal, to_goal, order) or greedy_solves(grid, goal, start, to_start, order)
        for order in TIE_ORDERS_UNDER_TEST
    )


@pytest.mark.parametrize("difficulty", [0.25, 0.5, 0.75, 1.0])
def test_no_greedy_walk_solves_a_screened_task(difficulty):
    """Red team S12-F3: before the screen the best of 16 greedy walks solved 69/51/16/3 % of
    d = .25/.5/.75/1 tasks. Now none of 48 solves any of 300 seeds a level; every task passed
    the screen (none kept unscreened), and its reference is still a shortest path."""
    generator, verifier = MazeGenerator(), MazeVerifier()
    redrawn = 0
    for seed in range(300):
        task = generator.generate(seed, difficulty)
        assert task.meta["greedy_screen"] == "passed", task.id
        assert not solved_by_a_greedy_walk(task), task.id
        redrawn += task.meta["greedy_redraws"] > 0
        optimum = task.answer["shortest_path_length"]  # the BFS distance (solved_by_a_greedy_walk checks)
        reference = generator.solve(task)
        assert len(answer_of(reference)) == optimum == task.meta["shortest_path_length"]
        assert verifier.verify(task, reference).correct
    assert redrawn > 0  # the screen did refuse routes at every level


def test_greedy_walks_still_solve_the_unscreened_d0_level():
    """The walker above has teeth: on d = 0's 3×3 mazes, left as drawn, it solves most tasks."""
    tasks = [MazeGenerator().generate(seed, 0.0) for seed in range(200)]
    assert all(task.meta["greedy_screen"] == "off" and task.meta["greedy_redraws"] == 0 for task in tasks)
    assert sum(solved_by_a_greedy_walk(task) for task in tasks) >= 0.9 * len(tasks)


def test_the_screen_refuses_every_route_a_greedy_walk_solves(monkeypatch):
    """The generator's check (on the cell lattice, all tie orders at once) refuses every route
    the grid walker above solves, on raw draws of the screened sizes (screen off)."""
    from rlvr.generators import maze

    monkeypatch.setattr(maze, "GREEDY_SCREEN_MIN_CELLS", 10**9)
    solved = refused = 0
    for difficulty in (0.25, 0.5, 0.75):
        for seed in range(60):
            task = maze.MazeGenerator().generate(seed, difficulty)
            assert task.meta["greedy_screen"] == "off"
            links, cols, start, goal = lattice_of(task)
            distance, _ = maze.distances_and_turns(links, cols, start)
            accepted = maze.GreedyScreen(cols)(links, maze.Route(start, goal, 2 * distance[goal], 0), distance)
            walked = solved_by_a_greedy_walk(task)
            solved += walked
            refused += not accepted
            assert not (walked and accepted), task.id
    assert solved >= 40 and refused >= solved  # the raw draws were often greedy-solvable


def lattice_of(task: Task):
    """(links, cols, start cell, goal cell) of a task's maze, read back from its grid."""
    grid = task.answer["grid"]
    rows, cols = (len(grid) - 1) // 2, (len(grid[0]) - 1) // 2
    links = [[] for _ in range(rows * cols)]
    for cell in range(rows * cols):
        r, c = divmod(cell, cols)
        for (dr, dc), offset in (((-1, 0), -cols), ((1, 0), cols), ((0, -1), -1), ((0, 1), 1)):
            if grid[2 * r + 1 + dr][2 * c + 1 + dc] != "#":
                links[cell].append(cell + offset)
    (sr, sc), (gr, gc) = task.answer["start"], task.answer["goal"]
    return links, cols, (sr // 2) * cols + sc // 2, (gr // 2) * cols + gc // 2


def test_screened_generation_is_deterministic():
    """Redraws come from the task's seed: tasks that were redrawn many times are the same bytes
    from fresh generators, text and image alike."""
    redrawn = [
        (seed, difficulty)
        for difficulty in (0.25, 0.5)
        for seed in range(40)
        if MazeGenerator().generate(seed, difficulty).meta["greedy_redraws"] >= 3
    ]
    assert len(redrawn) >= 10
    for seed, difficulty in redrawn:
        first, again = MazeGenerator().generate(seed, difficulty), MazeGenerator().generate(seed, difficulty)
        assert first.to_json() == again.to_json()
        picture = MazeGenerator(render="image").generate(seed, difficulty)
        assert picture.answer == first.answer and picture.meta == first.meta


def test_the_screen_gives_up_after_its_bound_and_keeps_the_last_route(monkeypatch):
    """A screen that refuses everything stops after GREEDY_REDRAWS routes and keeps the next one
    ("exhausted"); with no bound, every maze is refused and the last refused route is kept. Both
    still give a valid task whose reference is a shortest path."""
    from rlvr.generators import maze

    monkeypatch.setattr(maze, "greedy_reaches", lambda *args: True)
    verifier = MazeVerifier()
    for bounded in (True, False):
        if not bounded:
            monkeypatch.setattr(maze, "GREEDY_REDRAWS", 10**9)
        for seed in range(3):
            task = maze.MazeGenerator().generate(seed, 0.5)
            assert task.meta["greedy_screen"] == "exhausted"
            if bounded:
                assert task.meta["greedy_redraws"] == maze.GREEDY_REDRAWS
            else:
                assert task.meta["maze_attempts"] == maze.MAZE_TRIES and task.meta["greedy_redraws"] > 0
            assert verifier.verify(task, rlvr.solve(task)).correct
            assert task.meta["shortest_path_length"] >= 24


def test_greedy_walks_are_attacks_and_score_zero_on_screened_tasks():
    """The family's attacks include the greedy walks (every tie order, from S and from G), so
    ``rlvr audit`` runs them; on screened tasks every one scores 0."""
    generator, verifier = MazeGenerator(), MazeVerifier()
    for difficulty in (0.25, 0.5, 1.0):
        for seed in range(8):
            task = generator.generate(seed, difficulty)
            attacks = dict(generator.attacks(task))
            greedy = [name for name in attacks if name.startswith("greedy-from-")]
            assert any(name.startswith("greedy-from-start-") for name in greedy), task.id
            for name in greedy:
                assert verifier.verify(task, attacks[name]).reward == 0.0, (task.id, name)


# ------------------------------------------------------------------ the image env


def colour_present(pixels: np.ndarray, colour: tuple, tolerance: int = 0) -> bool:
    return bool((np.abs(pixels.astype(int) - np.array(colour)).max(axis=-1) <= tolerance).any())


@pytest.mark.parametrize("image_size", [(512, 512), (300, 420)])
def test_image_observation(image_size):
    env = gym.make("rlvr/MazeImage-v0", difficulty=0.7, image_size=image_size)
    for seed in range(3):
        observation, info = env.reset(seed=seed)
        task = info["task"]
        image = observation["image"]
        assert image.dtype == np.uint8 and image.shape == (*image_size, 3)
        assert env.observation_space.contains(observation)
        for name in ("start", "goal", "wall", "open"):
            assert colour_present(image, MAZE_COLOURS[name], tolerance=6), name
        drawing = np.asarray(task.images[0].convert("RGB"))
        for name in ("start", "goal", "wall", "open", "grid line"):
            assert colour_present(drawing, MAZE_COLOURS[name]), name
        # exactly one square of start colour and one of goal colour, where the answer says
        height, width = len(task.answer["grid"]), len(task.answer["grid"][0])
        square = drawing.shape[0] // height
        assert drawing.shape[:2] == (height * square, width * square)
        for name, (r, c) in (("start", task.answer["start"]), ("goal", task.answer["goal"])):
            mask = (drawing == np.array(MAZE_COLOURS[name], dtype=np.uint8)).all(axis=-1)
            assert mask.sum() == square * square
            rows, cols = np.nonzero(mask)
            assert (rows.min() // square, cols.min() // square) == (r, c)
        # the picture replaces the text grid in the prompt
        assert "\n".join(task.answer["grid"]) not in observation["text"]
        assert not re.search(r"#{5,}", observation["text"])
        assert "green" in observation["text"] and "red" in observation["text"] and "<answer>" in observation["text"]
        _, reward, terminated, truncated, step_info = env.step(rlvr.solve(task))
        assert (reward, terminated, truncated) == (1.0, True, False)
    env.close()


# ------------------------------------------------------------------ Gymnasium


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env(env_id):
    env = gym.make(env_id, difficulty=0.5)
    check_env(env.unwrapped)
    env.close()


def test_env_verifier_options_reach_the_verifier():
    env = gym.make("rlvr/Maze-v0", difficulty=1.0, shortest=True, partial=True)
    _, info = env.reset(seed=4)
    moves = answer_of(rlvr.solve(info["task"]))
    _, reward, *_ = env.step(f"<answer>{moves[:-1]}</answer>")
    assert 0.0 < reward < 1.0
    env.close()


# ------------------------------------------------------------------ reward hacking


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_family_attacks_score_zero_and_the_detours_among_them_are_real_walks_to_g(env_id):
    """Every attack scores 0 under the default verdict; the detour attacks are legal walks that
    end on G (so the old default, shortest=False, paid them in full); the aimless walks (red team
    H5) earn next to nothing under ``partial=True`` either."""
    generator, verifier = rlvr.make_generator(env_id), rlvr.make_verifier(env_id)
    lenient, partial = MazeVerifier(shortest=False), MazeVerifier(partial=True)
    aimless = ("corridor-walk", "wall-follower-cut-short-right", "wall-follower-cut-short-left")
    detours_paid_by_lenient, aimless_paid = 0, []
    for difficulty in (0.0, 0.5, 1.0):
        for seed in range(5):
            task = rlvr.make_task(env_id, seed=seed, difficulty=difficulty)
            attacks = dict(generator.attacks(task))
            assert {"detour-out-and-back", "loop-at-goal", "path-twice", "over-the-cap", *aimless} <= set(attacks)
            for name, response in attacks.items():
                verdict = verifier.verify(task, response)
                assert verdict.reward == 0.0 and not verdict.correct and verdict.reason, (task.id, name, verdict)
            for name in ("detour-out-and-back", "loop-at-goal", "path-twice"):
                detours_paid_by_lenient += lenient.verify(task, attacks[name]).correct
            aimless_paid += [partial.verify(task, attacks[name]).reward for name in aimless]
    assert detours_paid_by_lenient == 3 * 3 * 5
    assert sum(aimless_paid) / len(aimless_paid) <= 0.03 and max(aimless_paid) < 1.0


def test_the_audit_passes_on_both_maze_envs_and_fails_the_old_default():
    from rlvr.attacks import audit

    for env_id in ENV_IDS:
        assert audit(env_id, n=1).passed
    old = audit("rlvr/Maze-v0", n=1, verifier_options={"shortest": False})
    assert not old.passed and {"detour-out-and-back", "loop-at-goal"} <= {row.attack for row in old.rows if row.failed}


def test_no_partial_credit_in_mazes_too_big_to_grade_within_the_deadline():
    """Red team S11b-K1: a 250×250-cell maze's first partial check took 1.2–1.45 s of CPU, so with
    a few checks at once it overran the 2 s deadline and one answer scored 0 or 0.999 by what else
    ran. Over 150×150 cells partial credit is refused at once, the same every time."""
    big = rlvr.make_task("rlvr/Maze-v0", seed=1, difficulty=1.0, rows=151, cols=151)
    path = rlvr.solve(big).split("<answer>")[1].split("</answer>")[0]
    verdict = rlvr.verify(big, f"<answer>{path[:-1]}</answer>", partial=True)
    assert verdict.reward == 0.0 and "no partial credit in mazes over 150×150 cells" in verdict.reason
    assert rlvr.verify(big, f"<answer>{path}</answer>", partial=True).reward == 1.0  # binary as ever


def squares_drawn_one_by_one(grid: list[str]) -> np.ndarray:
    """The picture MazeImage promises, drawn square by square with Pillow's rectangle fills: a
    square of the character's colour, an open square's top row and left column in the grid
    line's colour."""
    from PIL import Image, ImageDraw

    from rlvr.generators.maze import IMAGE_TARGET_PX, MIN_SQUARE_PX

    colour = {"#": "wall", ".": "open", "S": "start", "G": "goal"}
    square = max(MIN_SQUARE_PX, IMAGE_TARGET_PX // max(len(grid), len(grid[0])))
    picture = Image.new("RGB", (len(grid[0]) * square, len(grid) * square))
    pen = ImageDraw.Draw(picture)
    for r, row in enumerate(grid):
        for c, char in enumerate(row):
            x, y = c * square, r * square
            pen.rectangle([x, y, x + square - 1, y + square - 1], fill=MAZE_COLOURS[colour[char]])
            if char == ".":
                pen.line([x, y, x + square - 1, y], fill=MAZE_COLOURS["grid line"])
                pen.line([x, y, x, y + square - 1], fill=MAZE_COLOURS["grid line"])
    return np.asarray(picture)


def test_maze_picture_is_the_grid_drawn_square_by_square():
    """draw_image's palette drawing gives exactly the pixels of the plain square-by-square one,
    over 60 mazes of every size the knob makes (and explicit small and tall ones)."""
    levels = (0, 0.25, 0.5, 0.75, 1)
    tasks = [rlvr.make_task("rlvr/MazeImage-v0", seed=s, difficulty=d) for s in range(12) for d in levels]
    tasks += [rlvr.make_task("rlvr/MazeImage-v0", seed=s, difficulty=0.5, rows=3, cols=17) for s in range(3)]
    for task in tasks:
        drawing = np.asarray(task.images[0])
        assert task.images[0].mode == "RGB"
        assert np.array_equal(drawing, squares_drawn_one_by_one(task.answer["grid"])), task.id
