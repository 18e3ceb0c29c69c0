"""Maze: find a path from S to G through a grid maze, drawn as text or as an image.

Task        A maze of rows×cols *cells*, drawn as a grid of (2·rows+1)×(2·cols+1) squares: cells
            sit at odd (row, column) positions, the squares between them are passages or walls,
            and the border is wall. Randomised depth-first carving gives a perfect maze (exactly
            one path between any two cells); ``loops`` > 0 then braids it: that fraction of its
            dead ends gets one wall knocked out, opening loops. S and G are two cells whose BFS
            distance and turn count meet the difficulty's minimums.
            rlvr/Maze-v0       the prompt shows the grid as text: '#' wall, '.' open, 'S' start,
                               'G' goal, one line per row, plus S and G as (row, column).
            rlvr/MazeImage-v0  the same task (same seed, same maze); the prompt explains the
                               picture instead of showing text: dark squares are walls, white
                               squares open, green the start, red the goal (``MAZE_COLOURS``);
                               ``task.images[0]`` is the drawing. Rows count from the top and
                               columns from the left, both from 0.
Answer      ``<answer>…</answer>`` holding moves over U (row − 1), D (row + 1), L (column − 1),
            R (column + 1), one square per move, uppercase; whitespace, ',' and ';' between moves
            are allowed. Words ("up") and lowercase letters are format errors.
            ``task.answer`` = {"grid": [row strings], "start": [row, col], "goal": [row, col],
            "shortest_path_length": int}; everything the verifier needs, JSON-safe.
            ``task.meta`` = {"shortest_path_length", "turns" (fewest direction changes over all
            shortest paths), "grid_rows", "grid_cols", "dead_ends", "loops_opened",
            "maze_attempts"}.
Verifier    rlvr.verifiers.maze.MazeVerifier: simulates the moves; correct when none enters a
            wall or leaves the grid, the last one ends on G, and there are exactly
            ``shortest_path_length`` of them, as the prompt asks (``shortest=False`` accepts any
            legal walk to G; ``partial=True`` grades wrong answers below 1).
Solver      Breadth-first search (networkx) over the open squares; the moves of a shortest path.

Difficulty  d      cells    grid     loops   shortest path   turns
            0.0    3×3      7×7      0%      ≥ 4 moves       ≥ 1
            0.25   5×5      11×11    5%      ≥ 12            ≥ 4
            0.5    8×8      17×17    10%     ≥ 24            ≥ 8
            0.75   14×14    29×29    18%     ≥ 60            ≥ 18
            1.0    20×20    41×41    25%     ≥ 120           ≥ 32
            Parameters: ``rows``, ``cols`` (cells, 2–250), ``loops`` (fraction of dead ends
            opened, 0–1), ``min_path_length`` (moves), ``min_turns``; explicit values win over
            the knob. When a maze cannot meet the minimums after a bounded number of seeded
            retries, ``generate`` raises ValueError. At d = 0 the answers are few (about 150
            distinct shortest paths over 300 seeds): the commonest fixed answer, e.g. RRUU, is
            right on about 4.5 % of d = 0 tasks and on none from d = 0.5 up
            (benchmarks/bench_constant_policy.py).
"""

from __future__ import annotations

import functools
import random
from collections import deque
from typing import Any, NamedTuple, Sequence

import networkx as nx
import numpy as np
from PIL import Image

from rlvr.core import DifficultyTable, Task, TaskGenerator

WALL, OPEN, START, GOAL = "#", ".", "S", "G"
MOVES = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
MAZE_COLOURS = {
    "wall": (34, 34, 34),
    "open": (255, 255, 255),
    "grid line": (205, 205, 205),
    "start": (0, 170, 60),
    "goal": (220, 30, 30),
}
IMAGE_TARGET_PX = 512  # the drawing's longer side aims at this many pixels
MIN_SQUARE_PX = 4
MAX_CELLS_PER_SIDE = 250
ENDPOINT_TRIES_PER_MAZE = 24
MAZE_TRIES = 24

# cell steps: (row delta, column delta), in a fixed order so carving is reproducible
_CELL_STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))


class Maze(NamedTuple):
    """A carved maze on its cell lattice: ``links[k]`` lists the cells joined to cell k."""

    rows: int
    cols: int
    links: list[list[int]]
    dead_ends: int
    loops_opened: int


class Route(NamedTuple):
    start: int
    goal: int
    length: int  # in grid moves (two per cell step)
    turns: int  # fewest direction changes over all shortest paths


@functools.lru_cache(maxsize=64)
def lattice_neighbours(rows: int, cols: int) -> tuple[tuple[int, ...], ...]:
    """For every cell, the cells next to it on the lattice (walls ignored), in U, D, L, R order
    (immutable and cached: every maze of one size shares it)."""
    table = []
    for cell in range(rows * cols):
        row, col = divmod(cell, cols)
        found = []
        for d_row, d_col in _CELL_STEPS:
            r, c = row + d_row, col + d_col
            if 0 <= r < rows and 0 <= c < cols:
                found.append(r * cols + c)
        table.append(found)
    return tuple(tuple(found) for found in table)


def carve_perfect_maze(lattice: Sequence[Sequence[int]], rng: random.Random) -> list[list[int]]:
    """Randomised depth-first search (recursive backtracker, iteratively): a spanning tree."""
    count = len(lattice)
    links: list[list[int]] = [[] for _ in range(count)]
    visited = bytearray(count)
    first = rng.randrange(count)
    visited[first] = 1
    stack = [first]
    while stack:
        cell = stack[-1]
        fresh = [n for n in lattice[cell] if not visited[n]]
        if not fresh:
            stack.pop()
            continue
        neighbour = fresh[rng.randrange(len(fresh))]
        links[cell].append(neighbour)
        links[neighbour].append(cell)
        visited[neighbour] = 1
        stack.append(neighbour)
    return links


def braid(links: list[list[int]], lattice: Sequence[Sequence[int]], loops: float, rng: random.Random) -> tuple[int, int]:
    """Open one extra wall at ``loops`` of the dead ends (preferring a neighbouring dead end, so
    one knock removes two). Returns (dead ends before braiding, walls opened)."""
    dead_ends = [cell for cell in range(len(links)) if len(links[cell]) == 1]
    chosen = list(dead_ends)
    rng.shuffle(chosen)
    chosen = chosen[: int(np.floor(loops * len(dead_ends) + 0.5))]
    opened = 0
    for cell in chosen:
        if len(links[cell]) != 1:  # already opened by an earlier knock
            continue
        closed = [n for n in lattice[cell] if n not in links[cell]]
        if not closed:
            continue
        preferred = [n for n in closed if len(links[n]) == 1] or closed
        other = preferred[rng.randrange(len(preferred))]
        links[cell].append(other)
        links[other].append(cell)
        opened += 1
    return len(dead_ends), opened


def distances_and_turns(links: list[list[int]], cols: int, source: int) -> tuple[list[int], list[int]]:
    """BFS distances (cell steps) from ``source`` and, per cell, the fewest direction changes
    over all shortest paths to it (dynamic programme over the BFS layers)."""
    count = len(links)
    unreached = -1
    distance = [unreached] * count
    distance[source] = 0
    order = [source]
    queue = deque([source])
    while queue:
        cell = queue.popleft()
        for n in links[cell]:
            if distance[n] == unreached:
                distance[n] = distance[cell] + 1
                order.append(n)
                queue.append(n)
    infinity = count * 4
    headings = {-cols: 0, cols: 1, -1: 2, 1: 3}  # the step's cell offset → U, D, L, R
    # best[cell][h]: fewest turns of a shortest path arriving at cell with heading h (0..3)
    best = [[infinity] * 4 for _ in range(count)]
    for cell in order[1:]:
        before_cell = distance[cell] - 1
        for previous in links[cell]:
            if distance[previous] != before_cell:
                continue
            heading = headings[cell - previous]
            if previous == source:
                arriving = 0
            else:
                before = best[previous]
                arriving = min(before[heading], min(before) + 1)
            if arriving < best[cell][heading]:
                best[cell][heading] = arriving
    turns = [min(b) if distance[i] > 0 else 0 for i, b in enumerate(best)]
    return distance, turns


def pick_route(links: list[list[int]], cols: int, min_length: int, min_turns: int, rng: random.Random) -> Route | None:
    """A start and goal meeting the minimums: random starts, goals drawn among the cells that
    qualify; then the double-sweep (near-diameter) pair; None when nothing qualifies."""
    count = len(links)
    for _ in range(ENDPOINT_TRIES_PER_MAZE):
        start = rng.randrange(count)
        distance, turns = distances_and_turns(links, cols, start)
        qualifying = [c for c in range(count) if 2 * distance[c] >= min_length and turns[c] >= min_turns and c != start]
        if qualifying:
            goal = qualifying[rng.randrange(len(qualifying))]
            return Route(start, goal, 2 * distance[goal], turns[goal])
    distance, _ = distances_and_turns(links, cols, rng.randrange(count))
    far = max(range(count), key=lambda c: distance[c])
    distance, turns = distances_and_turns(links, cols, far)
    ranked = sorted(range(count), key=lambda c: (distance[c], turns[c]), reverse=True)
    for goal in ranked[:8]:
        if goal != far and 2 * distance[goal] >= min_length and turns[goal] >= min_turns:
            return Route(far, goal, 2 * distance[goal], turns[goal])
    return None


def cell_square(cell: int, cols: int) -> tuple[int, int]:
    """The grid square (row, column) of a lattice cell."""
    row, col = divmod(cell, cols)
    return 2 * row + 1, 2 * col + 1


def draw_text_grid(maze: Maze, route: Route) -> list[str]:
    """Rows of '#', '.', 'S', 'G' for the maze with its route's endpoints."""
    height, width = 2 * maze.rows + 1, 2 * maze.cols + 1
    squares = [[WALL] * width for _ in range(height)]
    for cell, joined in enumerate(maze.links):
        r, c = cell_square(cell, maze.cols)
        squares[r][c] = OPEN
        for other in joined:
            if other > cell:  # each link once: the square between the two cells
                r2, c2 = cell_square(other, maze.cols)
                squares[(r + r2) // 2][(c + c2) // 2] = OPEN
    sr, sc = cell_square(route.start, maze.cols)
    gr, gc = cell_square(route.goal, maze.cols)
    squares[sr][sc] = START
    squares[gr][gc] = GOAL
    return ["".join(row) for row in squares]


def draw_image(grid: list[str]) -> Image.Image:
    """The grid as a picture: one square per character, thin grey lines between open squares."""
    height, width = len(grid), len(grid[0])
    square = max(MIN_SQUARE_PX, IMAGE_TARGET_PX // max(height, width))
    palette = np.array([MAZE_COLOURS[name] for name in ("wall", "open", "start", "goal")], dtype=np.uint8)
    codes = np.frombuffer("".join(grid).encode("ascii"), dtype=np.uint8).reshape(height, width)
    index = np.select([codes == ord(OPEN), codes == ord(START), codes == ord(GOAL)], [1, 2, 3], 0)
    # tiles[r, y, c, x] is pixel (y, x) of the square at (r, c)
    tiles = np.empty((height, square, width, square, 3), dtype=np.uint8)
    tiles[...] = palette[index][:, None, :, None, :]
    is_open = (index == 1)
    line = np.array(MAZE_COLOURS["grid line"], dtype=np.uint8)
    np.copyto(tiles[:, 0], line, where=is_open[:, :, None, None])
    np.copyto(tiles[:, :, :, 0], line, where=is_open[:, None, :, None])
    return Image.fromarray(tiles.reshape(height * square, width * square, 3))


def open_square_graph(grid: list[str]) -> nx.Graph:
    """Every non-wall square, joined to its open neighbours to the right and below."""
    graph = nx.Graph()
    height, width = len(grid), len(grid[0])
    for r in range(height):
        row = grid[r]
        for c in range(width):
            if row[c] == WALL:
                continue
            graph.add_node((r, c))
            if c + 1 < width and row[c + 1] != WALL:
                graph.add_edge((r, c), (r, c + 1))
            if r + 1 < height and grid[r + 1][c] != WALL:
                graph.add_edge((r, c), (r + 1, c))
    return graph


def moves_along(path: list[tuple[int, int]]) -> str:
    letters = {step: letter for letter, step in MOVES.items()}
    return "".join(letters[(b[0] - a[0], b[1] - a[1])] for a, b in zip(path, path[1:]))


def count_turns(moves: str) -> int:
    return sum(a != b for a, b in zip(moves, moves[1:]))


def _as_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) and not (isinstance(value, float) and value.is_integer()):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return value


ANSWER_INSTRUCTIONS = (
    "Moves: U = up (row − 1), D = down (row + 1), L = left (column − 1), R = right (column + 1); "
    "each move goes one square. A path may not enter a wall or leave the grid, and it must end on the goal.\n"
    "Put your final answer inside <answer>…</answer> as the sequence of moves in uppercase letters, "
    "for example <answer>RRDLD</answer> (spaces or commas between moves are allowed)."
)


class MazeGenerator(TaskGenerator):
    family = "maze"
    env_id = "rlvr/Maze-v0"
    table = DifficultyTable(
        {
            0.0: {"rows": 3, "cols": 3, "loops": 0.0, "min_path_length": 4, "min_turns": 1},
            0.25: {"rows": 5, "cols": 5, "loops": 0.05, "min_path_length": 12, "min_turns": 4},
            0.5: {"rows": 8, "cols": 8, "loops": 0.10, "min_path_length": 24, "min_turns": 8},
            0.75: {"rows": 14, "cols": 14, "loops": 0.18, "min_path_length": 60, "min_turns": 18},
            1.0: {"rows": 20, "cols": 20, "loops": 0.25, "min_path_length": 120, "min_turns": 32},
        }
    )

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        rows = _as_int("rows", params["rows"], 2, MAX_CELLS_PER_SIDE)
        cols = _as_int("cols", params["cols"], 2, MAX_CELLS_PER_SIDE)
        min_length = _as_int("min_path_length", params["min_path_length"], 1, 4 * rows * cols)
        min_turns = _as_int("min_turns", params["min_turns"], 0, 4 * rows * cols)
        loops = float(params["loops"])
        if not 0.0 <= loops <= 1.0:
            raise ValueError(f"loops must be in [0, 1], got {loops}")
        lattice = lattice_neighbours(rows, cols)
        for attempt in range(1, MAZE_TRIES + 1):
            links = carve_perfect_maze(lattice, rng)
            dead_ends, opened = braid(links, lattice, loops, rng)
            route = pick_route(links, cols, min_length, min_turns, rng)
            if route is not None:
                break
        else:
            raise ValueError(
                f"no {rows}×{cols} maze with a shortest path ≥ {min_length} moves and ≥ {min_turns} turns "
                f"after {MAZE_TRIES} mazes; lower min_path_length or min_turns"
            )
        maze = Maze(rows, cols, links, dead_ends, opened)
        grid = draw_text_grid(maze, route)
        start, goal = cell_square(route.start, cols), cell_square(route.goal, cols)
        answer = {"grid": grid, "start": list(start), "goal": list(goal), "shortest_path_length": route.length}
        meta = {
            "shortest_path_length": route.length,
            "turns": route.turns,
            "grid_rows": len(grid),
            "grid_cols": len(grid[0]),
            "dead_ends": dead_ends,
            "loops_opened": opened,
            "maze_attempts": attempt,
        }
        return {"prompt": self.describe(grid, start, goal), "answer": answer, "meta": meta}

    def describe(self, grid: list[str], start: tuple[int, int], goal: tuple[int, int]) -> str:
        height, width = len(grid), len(grid[0])
        drawing = "\n".join(grid)
        return (
            "Find a shortest path through the maze below from S (start) to G (goal).\n\n"
            f"Legend: '{WALL}' wall, '{OPEN}' open square, '{START}' start, '{GOAL}' goal. The grid has {height} rows "
            f"and {width} columns, one line per row; rows are numbered 0 to {height - 1} from the top and columns "
            f"0 to {width - 1} from the left. S is at row {start[0]}, column {start[1]}; G is at row {goal[0]}, "
            f"column {goal[1]}.\n\n```\n{drawing}\n```\n\n{ANSWER_INSTRUCTIONS}"
        )

    def solve(self, task: Task) -> str:
        return f"<answer>{self.shortest_moves(task)}</answer>"

    def shortest_moves(self, task: Task) -> str:
        grid = task.answer["grid"]
        path = nx.shortest_path(open_square_graph(grid), tuple(task.answer["start"]), tuple(task.answer["goal"]))
        return moves_along(path)

    def wrong_response(self, task: Task) -> str:
        """A near miss: the shortest path without its last move (ends next to G)."""
        return f"<answer>{self.shortest_moves(task)[:-1]}</answer>"

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries on a maze: detours that still end on G (out and
        back, a loop at G, the wall follower's walk), the straight line through the walls (the
        relaxed problem), the path walked twice or backwards, constant and oscillating moves,
        the move budget's cap, the length or coordinates instead of moves, and the wrong path
        in another spelling. A walk that happens to be a shortest path (a wall follower in a
        corridor) is an answer, not an attack, and is left out."""
        grid = [str(row) for row in task.answer["grid"]]
        start, goal = tuple(task.answer["start"]), tuple(task.answer["goal"])
        moves = self.shortest_moves(task)
        optimum = len(moves)
        opposite = str.maketrans("UDLR", "DURL")
        open_first = next(m for m in "UDLR" if _open(grid, start, MOVES[m]))
        open_last = next(m for m in "UDLR" if _open(grid, goal, MOVES[m]))
        rows, cols = goal[0] - start[0], goal[1] - start[1]
        straight = ("D" if rows > 0 else "U") * abs(rows) + ("R" if cols > 0 else "L") * abs(cols)
        cap = 4 * len(grid) * len(grid[0])
        walks = [
            ("detour-out-and-back", open_first + open_first.translate(opposite) + moves),
            ("loop-at-goal", moves + open_last + open_last.translate(opposite)),
            ("wall-follower", wall_follower_moves(grid, start, goal, cap)),
            ("straight-line-through-walls", straight),
            ("path-twice", moves + moves[::-1].translate(opposite) + moves),
            ("path-backwards", moves[::-1].translate(opposite)),
            ("constant-move", moves[0] * optimum),
            ("oscillate", (open_first + open_first.translate(opposite)) * (optimum // 2)),
            ("every-direction", "UDLR" * max(1, optimum // 4)),
            ("move-cap", (open_first + open_first.translate(opposite)) * (cap // 2)),
            ("over-the-cap", "UD" * (cap // 2 + 1)),
        ]
        attacks: list[tuple[str, Any]] = [(name, f"<answer>{walk}</answer>") for name, walk in walks
                                          if walk and not (walk_ends_on(grid, start, goal, walk) and len(walk) == optimum)]
        wrong = moves[:-1]
        attacks += [
            ("length-instead-of-moves", f"<answer>{optimum}</answer>"),
            ("claimed-shortest", f"The shortest path has {optimum} moves and I found it.\n<answer>{wrong}</answer>"),
            ("coordinates", "<answer>" + " ".join(str(list(square)) for square in (start, goal)) + "</answer>"),
            ("lowercase-wrong", f"<answer>{wrong.lower()}</answer>"),
            ("words-wrong", "<answer>" + " ".join({"U": "up", "D": "down", "L": "left", "R": "right"}[m] for m in wrong) + "</answer>"),
            ("arrows-wrong", "<answer>" + wrong.translate(str.maketrans("UDLR", "↑↓←→")) + "</answer>"),
            ("run-length-wrong", "<answer>" + "".join(f"{m}1" for m in wrong) + "</answer>"),
            ("bracketed-wrong", "<answer>[" + ", ".join(wrong) + "]</answer>"),
        ]
        return attacks


def _open(grid: list[str], square: tuple[int, int], step: tuple[int, int]) -> bool:
    r, c = square[0] + step[0], square[1] + step[1]
    return 0 <= r < len(grid) and 0 <= c < len(grid[0]) and grid[r][c] != WALL


def walk_ends_on(grid: list[str], start: tuple[int, int], goal: tuple[int, int], moves: str) -> bool:
    """Whether every move is legal and the last one ends on ``goal``."""
    square = start
    for letter in moves:
        if not _open(grid, square, MOVES[letter]):
            return False
        square = (square[0] + MOVES[letter][0], square[1] + MOVES[letter][1])
    return square == goal


def wall_follower_moves(grid: list[str], start: tuple[int, int], goal: tuple[int, int], limit: int) -> str:
    """The right-hand rule from S until G (or ``limit`` moves): a legal walk to G in a perfect
    maze, usually far longer than the shortest path."""
    clockwise = "URDL"
    heading, square, walked = 0, start, []
    while square != goal and len(walked) < limit:
        for turn in (1, 0, 3, 2):  # right, straight, left, back
            letter = clockwise[(heading + turn) % 4]
            if _open(grid, square, MOVES[letter]):
                heading = (heading + turn) % 4
                square = (square[0] + MOVES[letter][0], square[1] + MOVES[letter][1])
                walked.append(letter)
                break
        else:
            break
    return "".join(walked)


class MazeImageGenerator(MazeGenerator):
    """The same tasks as ``MazeGenerator``; the prompt explains a picture of the maze."""

    env_id = "rlvr/MazeImage-v0"

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        parts = super().build(rng, nprng, params)
        parts["images"] = [draw_image(parts["answer"]["grid"])]
        return parts

    def describe(self, grid: list[str], start: tuple[int, int], goal: tuple[int, int]) -> str:
        height, width = len(grid), len(grid[0])
        return (
            "Find a shortest path through the maze in the image from the green square (start) to the red square "
            "(goal).\n\n"
            f"The image shows a grid of {height} rows and {width} columns of equal squares: dark squares are walls, "
            "white squares (outlined in light grey) are open, the green square is the start and the red square is the "
            f"goal. Rows are numbered 0 to {height - 1} from the top and columns 0 to {width - 1} from the left; the "
            f"start is at row {start[0]}, column {start[1]} and the goal at row {goal[0]}, column {goal[1]}.\n\n"
            f"{ANSWER_INSTRUCTIONS}"
        )
