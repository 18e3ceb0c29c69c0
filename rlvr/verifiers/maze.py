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
            (for tasks whose prompt asks only for a path). ``partial=True``: a legal walk that
            stops short of G earns progress = 1 − max(remaining, 1) / initial, clipped at 0,
            where remaining is the BFS distance from its end to G and initial the distance from
            S; always < 1. A walk that breaks a rule (into a wall, off the grid) earns 0 however
            far it got first: it is not a path (red team S9-F6: straight moves from S toward G
            through the walls, or past G, earned 0.01–0.13 from their legal prefix). With
            ``partial`` (and ``shortest``, the default), a legal walk that ends on G but is
            longer than the optimum earns optimum / length, also < 1. Under ``partial`` an
            attack's cap is therefore just below 1: a legal walk toward G earns credit by
            design.
History     Until issue 14 the v0 default was ``shortest=False``: the prompt asked for a
            shortest path while any detour to G scored 1. The default now matches the prompt.
Verdict     ``details``: moves (parsed count), moves_made (legal moves walked), squares_visited
            (distinct squares, S included), end ([row, col] of the last legal square), failed_at
            (1-based move index, when a move broke a rule), failure ("wall", "off grid",
            "not on goal", "too long"), shortest_path_length.
Cost        O(moves) for the walk, plus one BFS over the grid for partial credit; the move cap
            bounds both, so a check takes milliseconds even for a 10 MB response.
"""

from __future__ import annotations

import re

import networkx as nx

from rlvr.core import SafeVerifier, Task, Verdict, extract_answer

MOVE_STEPS = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
SEPARATORS = re.compile(r"[\s,;]+")
NOT_ALLOWED = re.compile(r"[^UDLR\s,;]")
MOVE_CAP_PER_SQUARE = 4
WALL = "#"


def parse_moves(block: str) -> tuple[str | None, str]:
    """(the move letters, "") or (None, why the block is not a move string)."""
    bad = NOT_ALLOWED.search(block)
    if bad is not None:
        return None, f"unexpected character {bad.group()!r} at position {bad.start()} (moves are U, D, L, R)"
    moves = SEPARATORS.sub("", block)
    if not moves:
        return None, "the answer holds no moves"
    return moves, ""


def distance_to_goal(grid: list[str], square: tuple[int, int], goal: tuple[int, int]) -> int | None:
    """BFS distance (moves) between two open squares; None when they are not connected."""
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
    try:
        return nx.shortest_path_length(graph, square, goal)
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return None


class MazeVerifier(SafeVerifier):
    deadline_s = 2.0

    def __init__(self, shortest: bool = True, partial: bool = False):
        self.shortest = bool(shortest)
        self.partial = bool(partial)

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

        row, col = start
        visited = {start}
        failure, failed_at = None, None
        for index, letter in enumerate(moves):
            d_row, d_col = MOVE_STEPS[letter]
            r, c = row + d_row, col + d_col
            if not (0 <= r < height and 0 <= c < width):
                failure, failed_at = "off grid", index + 1
                break
            if grid[r][c] == WALL:
                failure, failed_at = "wall", index + 1
                break
            row, col = r, c
            visited.add((r, c))
        end = (row, col)
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
            if self.shortest and len(moves) != optimum:
                details["failure"] = "not shortest"
                reason = f"reached G in {len(moves)} moves; the shortest path has {optimum}"
                reward = optimum / len(moves) if self.partial and len(moves) > optimum else 0.0
                return Verdict(reward, False, True, reason, details)
            return Verdict.success(f"reached G in {len(moves)} moves (shortest {optimum})", **details)

        if failure == "wall":
            reason = f"move {failed_at} ({moves[failed_at - 1]}) walks into a wall at row {end[0]}, column {end[1]}"
        elif failure == "off grid":
            reason = f"move {failed_at} ({moves[failed_at - 1]}) leaves the grid at row {end[0]}, column {end[1]}"
        else:
            details["failure"] = "not on goal"
            reason = f"the moves end at row {end[0]}, column {end[1]}, not on G at row {goal[0]}, column {goal[1]}"
        if not self.partial or failure is not None:  # a walk that broke a rule earns nothing
            return Verdict(0.0, False, True, reason, details)
        remaining = distance_to_goal(grid, end, goal)
        if remaining is None or optimum <= 0:
            return Verdict(0.0, False, True, reason + "; no route from there", details)
        progress = max(0.0, 1.0 - max(remaining, 1) / optimum)
        details["remaining_distance"] = remaining
        return Verdict(progress, False, True, f"{reason}; partial credit {progress:.3f}", details)
