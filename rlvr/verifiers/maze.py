"""Maze verifier: walk the answered moves through the task's grid.

Input       A ``Task`` from rlvr.generators.maze (text or image env): ``task.answer`` = {"grid":
            [row strings, '#' = wall], "start": [row, col], "goal": [row, col],
            "shortest_path_length": int}; and the model's whole response.
Extraction  The last ``<answer>…</answer>`` outside ``<think>`` (rlvr.core.extract_answer).
Parsing     Strict: only the uppercase letters U, D, L, R, with whitespace, ',' or ';' between
            them. Anything else (lowercase, words such as "up", arrows, digits) is a format error:
            reward 0, ``format_ok=False``. More than ``MOVE_CAP_PER_SQUARE`` × (grid squares)
            moves is refused before any simulation: reward 0.
Simulation  From S, one square per move. Entering a wall or leaving the grid makes the answer
            invalid at that move (reward 0). The walk reaches G when every move is legal and
            the **last** move ends on G. Passing through G and walking on counts only if the
            walk comes back and ends on G; extra moves that leave G (or bump a wall after it)
            make the answer not correct.
Correct     The prompt asks for a shortest path, so by default (``shortest=True``) the answer is
            correct — reward 1 — only when it reaches G in exactly ``shortest_path_length``
            moves; a longer walk that ends on G (a detour, a loop, stepping out and back) is
            not correct and earns 0 ("not shortest").
Options     ``shortest=False``: any legal walk that ends on G is correct, whatever its length
            (for tasks whose prompt asks only for a path). ``partial=True``: a legal walk that is
            not correct earns its progress above chance. Its progress p is 1 − max(remaining, 1)
            / initial (remaining: the BFS distance from its end to G, initial: from S) when it
            stops short of G, and optimum / length when it ends on G by a longer walk (with
            ``shortest``). Chance q(L) is what walks that never aim at G reach on the same maze
            within the answer's length L (``AimlessWalks``): the higher of the 95 % quantile,
            over ``CHANCE_WALKS`` seeded random walks from S that never turn back except in a
            dead end, of the best progress among their first L moves, and the best progress
            among the first L moves of the eight wall followers (either hand, each first
            heading). The best over all lengths up to L is taken so that no rule for where to
            stop helps an aimless walk. The reward is max(0, (p − q) / (1 − q)), always < 1.
            A wall follower cut anywhere, or run all the way to G (a legal way through a perfect
            maze that never looks where G is), earns 0. Red team H5 (session 11), seeds
            99500–99649, d = 0.25/0.5/0.75/1, before → after: random non-reversing walks of
            rows+cols moves 0.41/0.26/0.15/0.11 → 0.00/0.00/0.00/0.00, of 3·(rows+cols)
            0.34/0.36/0.29/0.20 → 0/0/0/0.01, right-hand wall follower cut there
            0.57/0.52/0.39/0.33 → 0 (walks that happen to be a shortest path, 1 to 33 of 150,
            left out). The price is paid by honest walks where chance walks do as well: the
            first 90 % of a shortest path earns 0.01/0.17/0.49/0.63 (its half 0.00/0.01/0.06/
            0.13): a small maze's path has few junctions, so 5 % of random walks follow it that
            far. Answers longer than ``CHANCE_MAX_MOVES`` (only in mazes larger than d = 1's),
            and any answer in a maze over 150×150 cells (``CHANCE_MAX_SQUARES``; d = 1 is
            20×20), earn no partial credit: chance is not measured that far, and a first check
            of a bigger maze takes over a second (under concurrent calls, past the deadline). A walk that breaks a rule
            (into a wall, off the grid) earns 0 however far it got first: it is not a path (red
            team S9-F6). Under ``partial`` an attack's cap is therefore just below 1.
History     Until issue 14 the v0 default was ``shortest=False``: the prompt asked for a
            shortest path while any detour to G scored 1. The default now matches the prompt.
Verdict     ``details``: moves (parsed count), moves_made (legal moves walked), squares_visited
            (distinct squares, S included), end ([row, col] of the last legal square), failed_at
            (1-based move index, when a move broke a rule), failure ("wall", "off grid",
            "not on goal", "not shortest", "too long"), shortest_path_length; with ``partial``
            also remaining_distance, progress (p) and chance_progress (q).
Cost        O(moves) for the walk. With ``partial``, per maze (cached for ``CHANCE_CACHE``
            mazes): one BFS from G (networkx), the walk tables (numpy), and the ``CHANCE_WALKS``
            + 8 walkers stepped together only as far as the longest answer graded on the maze
            so far, about 15 µs of CPU a step: a d = 1 maze stepped to its move cap (6,724)
            takes about 0.1 s; the largest graded maze (150×150 cells) about 0.4 s. Later calls
            on a maze are lookups.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from typing import Any

import networkx as nx
import numpy as np

from rlvr.core import SafeVerifier, Task, Verdict, answer_value_key, extract_answer, flag_option
from rlvr.verifiers.chance import CHANCE_LEVEL

MOVE_STEPS = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
SEPARATORS = re.compile(r"[\s,;]+")
NOT_ALLOWED = re.compile(r"[^UDLR\s,;]")
MOVE_CAP_PER_SQUARE = 4
WALL = "#"
CLOCKWISE = "URDL"  # headings 0-3; heading 4 is "no move yet"
CHANCE_WALKS = 200  # seeded random non-reversing walks per maze
CHANCE_MAX_MOVES = 10_000  # the longest answer graded for partial credit (d = 1's move cap is 6,724)
# the largest text grid graded for partial credit: 150×150 cells (d = 1 is 20×20). A 250×250-cell
# maze's first partial check took 1.2–1.45 s of CPU, so under a few concurrent checks it overran
# the 2 s deadline and the same answer scored 0 or 0.999 by what else ran (red team S11b-K1)
CHANCE_MAX_SQUARES = 301 * 301
CHANCE_CACHE = 16  # mazes whose tables and chance curve are kept (a 150×150-cell maze holds about 17 MB)
HANDS = {"right": (1, 0, 3, 2), "left": (3, 0, 1, 2)}  # turns tried in order, in quarter turns clockwise


def parse_moves(block: str) -> tuple[str | None, str]:
    """(the move letters, "") or (None, why the block is not a move string)."""
    bad = NOT_ALLOWED.search(block)
    if bad is not None:
        return None, f"unexpected character {bad.group()!r} at position {bad.start()} (moves are U, D, L, R)"
    moves = SEPARATORS.sub("", block)
    if not moves:
        return None, "the answer holds no moves"
    return moves, ""


def open_graph(grid: tuple[str, ...]) -> nx.Graph:
    """The open squares, joined where they share a side."""
    graph = nx.Graph()
    height, width = len(grid), len(grid[0])
    for r in range(height):
        for c in range(width):
            if grid[r][c] == WALL:
                continue
            graph.add_node((r, c))
            if c + 1 < width and grid[r][c + 1] != WALL:
                graph.add_edge((r, c), (r, c + 1))
            if r + 1 < height and grid[r + 1][c] != WALL:
                graph.add_edge((r, c), (r + 1, c))
    return graph


@functools.lru_cache(maxsize=CHANCE_CACHE)
def goal_distances(grid: tuple[str, ...], goal: tuple[int, int]) -> dict:
    """BFS distance to ``goal`` of every open square connected to it."""
    graph = open_graph(grid)
    if goal not in graph:
        return {}
    return nx.single_source_shortest_path_length(graph, goal)


def wall_follower(
    grid: list[str], start: tuple[int, int], goal: tuple[int, int], limit: int, hand: str = "right"
) -> str:
    """The ``hand``-hand rule from S (facing up) until G or ``limit`` moves: a legal walk to G in
    a perfect maze, usually far longer than the shortest path, that never looks where G is."""
    height, width = len(grid), len(grid[0])
    heading, (row, col), walked = 0, start, []
    while (row, col) != goal and len(walked) < limit:
        for turn in HANDS[hand]:
            letter = CLOCKWISE[(heading + turn) % 4]
            r, c = row + MOVE_STEPS[letter][0], col + MOVE_STEPS[letter][1]
            if 0 <= r < height and 0 <= c < width and grid[r][c] != WALL:
                heading, row, col = (heading + turn) % 4, r, c
                walked.append(letter)
                break
        else:
            break
    return "".join(walked)


class AimlessWalks:
    """The progress (as the verifier pays it, before chance) that walks which never aim at G
    reach on one maze: ``chance(L)`` is the higher of the 95 % quantile, over CHANCE_WALKS
    random walks from S that never turn back except in a dead end, of the best progress of
    their first L moves, and the best progress of the first L moves of the eight wall followers
    (each hand, each first heading). Non-decreasing in L. The walks are seeded from the maze
    (the same numbers in every process) and stepped only as far as an answer has asked, so
    the curve grows with the longest answer graded on the maze."""

    def __init__(self, grid: tuple[str, ...], start: tuple[int, int], goal: tuple[int, int], optimum: int):
        distance = goal_distances(grid, goal)
        count = len(distance)  # squares in the BFS's order (the same in every process)
        rows, cols = np.array(list(distance), dtype=np.int64).reshape(-1, 2).T
        lookup = np.full((len(grid) + 2, len(grid[0]) + 2), -1, dtype=np.int64)  # a ring of -1 round the grid
        lookup[rows + 1, cols + 1] = np.arange(count)
        neighbour = np.stack([lookup[rows + 1 + MOVE_STEPS[m][0], cols + 1 + MOVE_STEPS[m][1]] for m in CLOCKWISE], 1)
        exits, ahead = neighbour >= 0, np.arange(4)
        # a state is square index × 5 + the heading of the last move (4: no move yet, drawn from ``first``)
        choices = np.zeros((count, 5, 3), dtype=np.int64)
        options = np.ones((count, 5), dtype=np.int64)
        followers = np.zeros((len(HANDS), count, 5), dtype=np.int64)
        squares_at = np.arange(count)
        for h in range(4):
            onward = exits & (ahead != (h + 2) % 4)
            dead_end = ~onward.any(1)
            onward[dead_end] = exits[dead_end]  # turn back only in a dead end
            options[:, h] = np.maximum(onward.sum(1), 1)
            order = np.argsort(~onward, axis=1, kind="stable")  # the onward headings first
            for k in range(3):
                d = order[squares_at, k % options[:, h]]
                choices[:, h, k] = neighbour[squares_at, d] * 5 + d
            for f, turns in enumerate(HANDS.values()):
                state = squares_at * 5 + h  # no exit at all: stay
                for t in reversed(turns):  # the first turn with an exit wins
                    d = (h + t) % 4
                    state = np.where(exits[:, d], neighbour[:, d] * 5 + d, state)
                followers[f, :, h] = state
        self.choices, self.options = choices.reshape(-1, 3), options.reshape(-1)
        self.followers = followers.reshape(len(HANDS), -1)
        at_start = int(lookup[start[0] + 1, start[1] + 1])
        self.first = np.array([n * 5 + d for d, n in enumerate(neighbour[at_start].tolist()) if n >= 0], dtype=np.int64)
        self.base = 1.0 - np.maximum(np.fromiter(distance.values(), dtype=np.float64, count=count), 1) / optimum
        self.goal, self.optimum = int(lookup[goal[0] + 1, goal[1] + 1]), optimum
        seed = hashlib.blake2b(repr((grid, start, goal)).encode(), digest_size=8).digest()
        self.rng = np.random.default_rng(int.from_bytes(seed, "big"))
        self.walkers = np.full(CHANCE_WALKS, -1, dtype=np.int64)
        self.wall = np.array([at_start * 5 + h for h in range(4)] * len(HANDS), dtype=np.int64)
        self.hand = np.repeat(np.arange(len(HANDS)), 4)
        self.best_walks, self.best_wall = np.zeros(CHANCE_WALKS), np.zeros(len(self.wall))
        self.curve = [0.0]
        self.lock = threading.Lock()  # verify calls on one maze may overlap (deadline threads)

    def _score(self, states: np.ndarray, length: int) -> np.ndarray:
        score = self.base[states // 5]
        score[states // 5 == self.goal] = self.optimum / length  # on G after `length` moves
        return score

    def chance(self, length: int) -> float:
        rank = int(np.ceil((1 - CHANCE_LEVEL) * (CHANCE_WALKS - 1)))
        with self.lock:
            while len(self.curve) <= length:
                step = len(self.curve)
                draws = self.rng.random(CHANCE_WALKS)
                if step == 1:
                    self.walkers = self.first[(draws * len(self.first)).astype(np.int64)]
                else:
                    pick = (draws * self.options[self.walkers]).astype(np.int64)
                    self.walkers = self.choices[self.walkers, pick]
                self.wall = self.followers[self.hand, self.wall]
                np.maximum(self.best_walks, self._score(self.walkers, step), out=self.best_walks)
                np.maximum(self.best_wall, self._score(self.wall, step), out=self.best_wall)
                self.curve.append(max(float(np.partition(self.best_walks, rank)[rank]), float(self.best_wall.max())))
            return self.curve[length]


@functools.lru_cache(maxsize=CHANCE_CACHE)
def aimless_walks(grid: tuple[str, ...], start: tuple[int, int], goal: tuple[int, int], optimum: int) -> AimlessWalks:
    """The maze's AimlessWalks, kept for CHANCE_CACHE mazes."""
    return AimlessWalks(grid, start, goal, optimum)


def walk(grid: list[str], start: tuple[int, int], moves: str) -> tuple[tuple[int, int], str | None, int | None, set]:
    """(where the walk stops, "off grid" / "wall" / None, the 1-based move that broke the rule
    or None, the squares visited): moves from ``start`` until one leaves the grid or enters a wall."""
    height, width = len(grid), len(grid[0])
    row, col = start
    visited = {start}
    for index, letter in enumerate(moves):
        r, c = row + MOVE_STEPS[letter][0], col + MOVE_STEPS[letter][1]
        if not (0 <= r < height and 0 <= c < width):
            return (row, col), "off grid", index + 1, visited
        if grid[r][c] == WALL:
            return (row, col), "wall", index + 1, visited
        row, col = r, c
        visited.add((r, c))
    return (row, col), None, None, visited


class MazeVerifier(SafeVerifier):
    deadline_s = 2.0

    def __init__(self, shortest: bool = True, partial: bool = False):
        self.shortest = flag_option("shortest", shortest)
        self.partial = flag_option("partial", partial)

    def canonical_answer(self, task: Task, response: Any) -> str | None:
        """``reward: majority``'s key: where a legal walk ends and in how many moves (on G with
        ``shortest=False``: only that it reaches G); None for a walk through a wall or off the
        grid, which has no vote. Keyed by the move string, other shortest paths and spellings
        (``R R D``, ``R,R,D``) split the right answers' vote (red team s15 B15-1)."""

        def reached(block: str) -> tuple | None:
            moves, _ = parse_moves(block)
            grid = [str(row) for row in task.answer["grid"]]
            if moves is None or len(moves) > MOVE_CAP_PER_SQUARE * len(grid) * len(grid[0]):
                return None
            start = (int(task.answer["start"][0]), int(task.answer["start"][1]))
            end, failure, _, _ = walk(grid, start, moves)
            if failure is not None:
                return None
            if list(end) == [int(x) for x in task.answer["goal"]] and not self.shortest:
                return ("G",)
            return (*end, len(moves))

        return answer_value_key(response, reached, self.max_response_chars)

    def check(self, task: Task, response: str) -> Verdict:
        block = extract_answer(response)
        if block is None:
            return Verdict.fail("no <answer>…</answer> block")
        moves, why = parse_moves(block)
        if moves is None:
            return Verdict.fail(why)
        grid = [str(row) for row in task.answer["grid"]]
        start = (int(task.answer["start"][0]), int(task.answer["start"][1]))
        goal = (int(task.answer["goal"][0]), int(task.answer["goal"][1]))
        optimum = int(task.answer["shortest_path_length"])
        height, width = len(grid), len(grid[0])
        cap = MOVE_CAP_PER_SQUARE * height * width
        if len(moves) > cap:
            return Verdict.fail(
                f"{len(moves)} moves exceed the cap of {cap}",
                format_ok=True,
                moves=len(moves),
                failure="too long",
                shortest_path_length=optimum,
            )

        end, failure, failed_at, visited = walk(grid, start, moves)
        row, col = end
        moves_made = failed_at - 1 if failed_at else len(moves)
        details = {
            "moves": len(moves),
            "moves_made": moves_made,
            "squares_visited": len(visited),
            "end": [row, col],
            "failed_at": failed_at,
            "failure": failure,
            "shortest_path_length": optimum,
        }

        if failure is None and end == goal:
            if not self.shortest or len(moves) == optimum:
                return Verdict.success(f"reached G in {len(moves)} moves (shortest {optimum})", **details)
            details["failure"] = "not shortest"
            reason = f"reached G in {len(moves)} moves; the shortest path has {optimum}"
        elif failure == "wall":
            reason = f"move {failed_at} ({moves[failed_at - 1]}) walks into a wall at row {end[0]}, column {end[1]}"
        elif failure == "off grid":
            reason = f"move {failed_at} ({moves[failed_at - 1]}) leaves the grid at row {end[0]}, column {end[1]}"
        else:
            details["failure"] = "not on goal"
            reason = f"the moves end at row {end[0]}, column {end[1]}, not on G at row {goal[0]}, column {goal[1]}"
        if not self.partial or failure is not None:  # a walk that broke a rule earns nothing
            return Verdict(0.0, False, True, reason, details)
        if len(grid) * len(grid[0]) > CHANCE_MAX_SQUARES:
            return Verdict(0.0, False, True, f"{reason}; no partial credit in mazes over 150×150 cells", details)
        key = tuple(grid)
        remaining = goal_distances(key, goal).get(end)
        if remaining is None or start not in goal_distances(key, goal) or optimum <= 0:
            return Verdict(0.0, False, True, reason + "; no route from there", details)
        if len(moves) > CHANCE_MAX_MOVES:
            return Verdict(0.0, False, True, f"{reason}; no partial credit past {CHANCE_MAX_MOVES} moves", details)
        progress = optimum / len(moves) if end == goal else max(0.0, 1.0 - max(remaining, 1) / optimum)
        chance = aimless_walks(key, start, goal, optimum).chance(len(moves))
        reward = 0.0 if chance >= 1.0 else max(0.0, (progress - chance) / (1.0 - chance))
        details |= {"remaining_distance": remaining, "progress": progress, "chance_progress": chance}
        return Verdict(reward, False, True, f"{reason}; progress {progress:.3f}, chance {chance:.3f}", details)
