"""How maze tasks are made: carving, braiding, choosing S and G, drawing, solving.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.maze``; ``MazeGenerator(render="image")`` makes MazeImage-v0's tasks.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import networkx as nx
import numpy as np
from PIL import Image

from rlvr.core import Task, TaskGenerator
from rlvr.families.maze import FAMILY
from rlvr.generators.problem_forms import grid_maze_form
from rlvr.verifiers.maze import wall_follower

WALL, OPEN, START, GOAL = "#", ".", "S", "G"
MOVES = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
REVERSE = {"U": "D", "D": "U", "L": "R", "R": "L"}
MAZE_COLOURS = {
    "wall": (34, 34, 34),
    "open": (255, 255, 255),
    "grid line": (205, 205, 205),
    "start": (0, 170, 60),
    "goal": (220, 30, 30),
}
# the picture's palette: indices 0-4 as draw_image uses them
MAZE_PALETTE = [level for name in ("wall", "open", "start", "goal", "grid line") for level in MAZE_COLOURS[name]]
IMAGE_TARGET_PX = 512  # the drawing's longer side aims at this many pixels
MIN_SQUARE_PX = 4
ENDPOINT_TRIES_PER_MAZE = 24
HINT_PIECES = 8  # a maze's hint reveals a shortest path in up to this many pieces
MAZE_TRIES = 24
# routes a greedy walk solves are refused at most this many times a task (then the next is kept)
GREEDY_REDRAWS = 256
GOALS_PER_START = 4  # goals drawn for one start while the screen refuses them, then a new start
# below this many cells (d = 0's 3×3, 4×4 up to d = 0.1875) mazes are not screened: a greedy walk
# solves 97 % of d = 0's routes, and 4×4 mazes needed ~35 refused routes a task
GREEDY_SCREEN_MIN_CELLS = 25
TIE_ORDERS = tuple("".join(order) for order in itertools.permutations("URDL"))  # the 24 orders of equal moves

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


def braid(
    links: list[list[int]], lattice: Sequence[Sequence[int]], loops: float, rng: random.Random
) -> tuple[int, int]:
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


def pick_route(
    links: list[list[int]],
    cols: int,
    min_length: int,
    min_turns: int,
    rng: random.Random,
    accept: Callable[[list[list[int]], Route, list[int]], bool] | None = None,
) -> Route | None:
    """A start and goal meeting the minimums: random starts, goals drawn among the cells that
    qualify; then the double-sweep (near-diameter) pair; None when nothing qualifies. With
    ``accept`` (called with the links, the candidate route and the BFS distances from its
    start), a refused goal is redrawn among the start's other qualifying cells (up to
    ``GOALS_PER_START`` goals), then a new start is drawn; without it the draws are the same
    as with an accept that takes the first route."""
    count = len(links)
    for _ in range(ENDPOINT_TRIES_PER_MAZE):
        start = rng.randrange(count)
        distance, turns = distances_and_turns(links, cols, start)
        qualifying = [c for c in range(count) if 2 * distance[c] >= min_length and turns[c] >= min_turns and c != start]
        for _ in range(min(len(qualifying), GOALS_PER_START)):
            index = rng.randrange(len(qualifying))
            goal = qualifying[index]
            route = Route(start, goal, 2 * distance[goal], turns[goal])
            if accept is None or accept(links, route, distance):
                return route
            qualifying[index] = qualifying[-1]
            qualifying.pop()
    distance, _ = distances_and_turns(links, cols, rng.randrange(count))
    far = max(range(count), key=lambda c: distance[c])
    distance, turns = distances_and_turns(links, cols, far)
    ranked = sorted(range(count), key=lambda c: (distance[c], turns[c]), reverse=True)
    for goal in ranked[:8]:
        if goal != far and 2 * distance[goal] >= min_length and turns[goal] >= min_turns:
            route = Route(far, goal, 2 * distance[goal], turns[goal])
            if accept is None or accept(links, route, distance):
                return route
    return None


def shortest_path_cells(links: list[list[int]], distance: list[int], goal: int) -> set[int]:
    """The cells on some shortest path from the BFS source of ``distance`` to ``goal``: back
    from ``goal`` through neighbours one step nearer the source."""
    cells, frontier = {goal}, [goal]
    while frontier:
        cell = frontier.pop()
        nearer = distance[cell] - 1
        for n in links[cell]:
            if distance[n] == nearer and n not in cells:
                cells.add(n)
                frontier.append(n)
    return cells


def greedy_reaches(
    links: list[list[int]], cols: int, source: int, target: int, distance: list[int], on_path: set[int] | None
) -> bool:
    """Whether a walk from ``source`` that always takes the move bringing it nearest ``target``
    by Manhattan distance (never turning back except in a dead end; equal moves in any order,
    so every tie order at once) reaches ``target`` by a shortest path: every step moves
    ``distance`` (BFS from one end) one step toward ``target``'s and stays in ``on_path``
    (``shortest_path_cells``; None: no such bound, walking toward the BFS source). On the cell
    lattice: a passage square between two cells leaves one way on, and a move ends one square
    nearer or farther from G exactly when the cell beyond it is one cell nearer or farther, so
    a walk on the grid's squares makes the same choices."""
    target_row, target_col = divmod(target, cols)
    sign = 1 if distance[target] > distance[source] else -1
    seen: set[tuple[int, int]] = set()  # (cell, previous) states pushed at ties, each once
    stack = [(source, -1)]
    while stack:
        cell, previous = stack.pop()
        while cell != target:
            nearest, best = 1 << 30, []
            for n in links[cell]:
                if n != previous:
                    gap = abs(n // cols - target_row) + abs(n % cols - target_col)
                    if gap < nearest:
                        nearest, best = gap, [n]
                    elif gap == nearest:
                        best.append(n)
            # a dead end's only move, back, leads away from target: that walk is no shortest path
            wanted = distance[cell] + sign
            onward = [n for n in best if distance[n] == wanted and (on_path is None or n in on_path)]
            if not onward:
                break
            for n in onward[1:]:
                if (n, cell) not in seen:
                    seen.add((n, cell))
                    stack.append((n, cell))
            cell, previous = onward[0], cell
        else:
            return True
    return False


class GreedyScreen:
    """``pick_route``'s ``accept`` for one task: refuses a route that a greedy walk toward the
    other end solves, from S or from G (red team S12-F3: from S or G, with one of eight tie
    orders, 94/69/51/16/3 % of d = 0/.25/.5/.75/1 tasks), until ``GREEDY_REDRAWS`` routes were
    refused; then it keeps the next one drawn and marks it (``exhausted``)."""

    def __init__(self, cols: int):
        self.cols = cols
        self.redraws = 0
        self.exhausted = False
        self.refused: Route | None = None  # the last route refused on the current maze

    def __call__(self, links: list[list[int]], route: Route, distance: list[int]) -> bool:
        start, goal = route.start, route.goal
        # from G every step nearer S by ``distance`` is on a shortest path; from S it must also
        # stay among the cells of the shortest paths to G
        if not (
            greedy_reaches(links, self.cols, goal, start, distance, None)
            or greedy_reaches(links, self.cols, start, goal, distance, shortest_path_cells(links, distance, goal))
        ):
            return True
        if self.redraws == GREEDY_REDRAWS:
            self.exhausted = True
            return True
        self.redraws += 1
        self.refused = route
        return False


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
    """The grid as a picture: one square per character, thin grey lines between open squares
    (an open square's top row and left column). Drawn as palette indices at full size, each
    character's index repeated over its square, then made RGB by Pillow: the same pixels as
    colouring an RGB array square by square, about 4× faster."""
    height, width = len(grid), len(grid[0])
    square = max(MIN_SQUARE_PX, IMAGE_TARGET_PX // max(height, width))
    codes = np.frombuffer("".join(grid).encode("ascii"), dtype=np.uint8).reshape(height, width)
    index = np.select([codes == ord(OPEN), codes == ord(START), codes == ord(GOAL)], [1, 2, 3], 0).astype(np.uint8)
    pixels = index.repeat(square, axis=0).repeat(square, axis=1)
    edge = np.arange(square) == 0  # a square's first row or column
    on_line = np.tile(edge, height)[:, None] | np.tile(edge, width)[None, :]
    pixels[on_line & (pixels == 1)] = 4
    image = Image.fromarray(pixels, "P")
    image.putpalette(MAZE_PALETTE)
    return image.convert("RGB")


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


def describe_text(grid: list[str], start: tuple[int, int], goal: tuple[int, int]) -> str:
    """Maze-v0's prompt: the grid as text."""
    height, width = len(grid), len(grid[0])
    drawing = "\n".join(grid)
    return (
        "Find a shortest path through the maze below from S (start) to G (goal).\n\n"
        f"Legend: '{WALL}' wall, '{OPEN}' open square, '{START}' start, '{GOAL}' goal. The grid has {height} rows "
        f"and {width} columns, one line per row; rows are numbered 0 to {height - 1} from the top and columns "
        f"0 to {width - 1} from the left. S is at row {start[0]}, column {start[1]}; G is at row {goal[0]}, "
        f"column {goal[1]}.\n\n```\n{drawing}\n```\n\n{ANSWER_INSTRUCTIONS}"
    )


def describe_picture(grid: list[str], start: tuple[int, int], goal: tuple[int, int]) -> str:
    """MazeImage-v0's prompt: how to read the picture (``task.images[0]``)."""
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


ANSWER_INSTRUCTIONS = (
    "Moves: U = up (row − 1), D = down (row + 1), L = left (column − 1), R = right (column + 1); "
    "each move goes one square. A path may not enter a wall or leave the grid, and it must end on the goal.\n"
    "Put your final answer inside <answer>…</answer> as the sequence of moves in uppercase letters, "
    "for example <answer>RRDLD</answer> (spaces or commas between moves are allowed)."
)


class MazeGenerator(TaskGenerator):
    """Maze tasks; ``render`` is "text" (Maze-v0: the grid in the prompt) or "image"
    (MazeImage-v0: the same maze drawn, the prompt explaining the picture)."""

    declaration = FAMILY

    def __init__(self, render: str = "text"):
        if render not in ("text", "image"):
            raise ValueError(f"render must be text or image, got {render!r}")
        self.render = render

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        rows, cols, loops = params["rows"], params["cols"], params["loops"]
        min_length, min_turns = params["min_path_length"], params["min_turns"]
        for name, value in (("min_path_length", min_length), ("min_turns", min_turns)):
            if value > 4 * rows * cols:
                raise ValueError(
                    f"{name} must be at most 4·rows·cols = {4 * rows * cols} for a {rows}×{cols} maze, got {value}"
                )
        lattice = lattice_neighbours(rows, cols)
        screen = GreedyScreen(cols) if rows * cols >= GREEDY_SCREEN_MIN_CELLS else None
        attempts, kept = 0, None
        for _ in range(MAZE_TRIES):
            attempts += 1
            links = carve_perfect_maze(lattice, rng)
            dead_ends, opened = braid(links, lattice, loops, rng)
            if screen is not None:
                screen.refused = None
            route = pick_route(links, cols, min_length, min_turns, rng, screen)
            if route is not None:
                break
            if screen is not None and screen.refused is not None:
                kept = (links, dead_ends, opened, screen.refused)
        else:
            if kept is None:
                raise ValueError(
                    f"no {rows}×{cols} maze with a shortest path ≥ {min_length} moves and ≥ {min_turns} turns "
                    f"after {MAZE_TRIES} mazes; lower min_path_length or min_turns"
                )
            links, dead_ends, opened, route = kept  # every route drawn was refused: keep the last
            screen.exhausted = True
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
            "maze_attempts": attempts,
            "greedy_redraws": 0 if screen is None else screen.redraws,
            "greedy_screen": "off" if screen is None else "exhausted" if screen.exhausted else "passed",
        }
        if self.render == "image":
            return {
                "prompt": describe_picture(grid, start, goal),
                "answer": answer,
                "meta": meta,
                "images": [draw_image(grid)],
            }
        return {"prompt": describe_text(grid, start, goal), "answer": answer, "meta": meta}

    def solve(self, task: Task) -> str:
        return f"<answer>{self.shortest_moves(task)}</answer>"

    def shortest_moves(self, task: Task) -> str:
        grid = task.answer["grid"]
        path = nx.shortest_path(open_square_graph(grid), tuple(task.answer["start"]), tuple(task.answer["goal"]))
        return moves_along(path)

    def hints(self, task: Task) -> list[str]:
        """The moves of a shortest path, a few at a time, stopping one move short of G."""
        moves = self.shortest_moves(task)[:-1]
        size = max(1, -(-len(moves) // HINT_PIECES))
        return [
            f"Moves {start + 1}–{min(start + size, len(moves))} of a shortest path: {moves[start : start + size]}"
            for start in range(0, len(moves), size)
        ]

    def split_group(self, task: Task) -> Any:
        """The maze up to turns, mirrors and transposes of its grid and the direction of travel
        (``problem_forms.grid_maze_form``): a maze turned or mirrored, or with S and G swapped,
        asks for the same paths with the moves renamed or reversed, so it is on the same side
        (red team S8-7: every d = 0 test maze was a train maze turned or mirrored); the text
        (Maze-v0) and picture (MazeImage-v0) of one seed's maze likewise."""
        answer = task.answer
        return ["maze", *grid_maze_form(answer["grid"], answer["start"], answer["goal"], (START, GOAL))]

    def problem_key(self, task: Task) -> Any:
        """The exact maze (grid, start, goal), text and picture alike: finer than ``split_group``,
        so a set may hold a maze and its mirror image (the d = 0 level has only a few hundred
        mazes up to symmetry) but never one maze twice."""
        return ["maze", task.answer["grid"], task.answer["start"], task.answer["goal"]]

    def wrong_response(self, task: Task) -> str:
        """A near miss: the shortest path without its last move (ends next to G)."""
        return f"<answer>{self.shortest_moves(task)[:-1]}</answer>"

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """What a reward-hacking policy tries on a maze: detours that still end on G (out and
        back, a loop at G, the wall follower's walk), the straight line through the walls (the
        relaxed problem), the path walked twice or backwards, constant and oscillating moves,
        the move budget's cap, the length or coordinates instead of moves, and the wrong path
        in another spelling; and walks that never aim at G, which ``partial=True`` paid by how
        near G they happened to end (red team H5): a wall follower of either hand cut short
        (after 3·(grid rows + columns) moves, or half way when it reaches G sooner) and a
        random walk down corridors that never turns back (seeded by the task), as long; and the
        walks that always step nearest G by Manhattan distance (red team S12-F3), from S or from
        G, under each of the 24 orders of equal moves, up to twice the optimum (the generator
        redraws routes they solve from 5×5 cells up). A walk that happens to be a shortest path
        (a wall follower in a corridor, a greedy walk in a small maze) is an answer, not an
        attack, and is left out."""
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
        aimless = 3 * (len(grid) + len(grid[0]))
        walks = [
            ("detour-out-and-back", open_first + open_first.translate(opposite) + moves),
            ("loop-at-goal", moves + open_last + open_last.translate(opposite)),
            ("wall-follower", wall_follower(grid, start, goal, cap)),
            (
                "wall-follower-cut-short-right",
                cut_short(grid, start, goal, wall_follower(grid, start, goal, aimless, "right")),
            ),
            (
                "wall-follower-cut-short-left",
                cut_short(grid, start, goal, wall_follower(grid, start, goal, aimless, "left")),
            ),
            ("corridor-walk", corridor_walk(grid, start, aimless, random.Random(f"maze-corridor-walk/{task.id}"))),
            *greedy_walks(grid, start, goal, 2 * optimum),
            ("straight-line-through-walls", straight),
            ("path-twice", moves + moves[::-1].translate(opposite) + moves),
            ("path-backwards", moves[::-1].translate(opposite)),
            ("constant-move", moves[0] * optimum),
            ("oscillate", (open_first + open_first.translate(opposite)) * (optimum // 2)),
            ("every-direction", "UDLR" * max(1, optimum // 4)),
            ("move-cap", (open_first + open_first.translate(opposite)) * (cap // 2)),
            ("over-the-cap", "UD" * (cap // 2 + 1)),
        ]
        attacks: list[tuple[str, Any]] = [
            (name, f"<answer>{walk}</answer>")
            for name, walk in walks
            if walk and not (walk_ends_on(grid, start, goal, walk) and len(walk) == optimum)
        ]
        wrong = moves[:-1]
        attacks += [
            ("length-instead-of-moves", f"<answer>{optimum}</answer>"),
            ("claimed-shortest", f"The shortest path has {optimum} moves and I found it.\n<answer>{wrong}</answer>"),
            ("coordinates", "<answer>" + " ".join(str(list(square)) for square in (start, goal)) + "</answer>"),
            ("lowercase-wrong", f"<answer>{wrong.lower()}</answer>"),
            (
                "words-wrong",
                "<answer>"
                + " ".join({"U": "up", "D": "down", "L": "left", "R": "right"}[m] for m in wrong)
                + "</answer>",
            ),
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


def cut_short(grid: list[str], start: tuple[int, int], goal: tuple[int, int], walk: str) -> str:
    """``walk`` without its second half when it ends on ``goal``: a walk that stops short of G."""
    return walk[: len(walk) // 2] if walk_ends_on(grid, start, goal, walk) else walk


def greedy_walk(grid: list[str], start: tuple[int, int], goal: tuple[int, int], order: str, limit: int) -> str:
    """The walk that always takes the move ending nearest ``goal`` by Manhattan distance, equal
    moves in ``order``, never turning back except in a dead end, until ``goal`` or ``limit``
    moves: no search, only where G lies (red team S12-F3)."""
    square, walked = start, []
    while square != goal and len(walked) < limit:
        exits = [m for m in MOVES if _open(grid, square, MOVES[m])]
        if not exits:
            break
        back = REVERSE[walked[-1]] if walked else None
        letter = min(
            [m for m in exits if m != back] or exits,
            key=lambda m: (
                abs(square[0] + MOVES[m][0] - goal[0]) + abs(square[1] + MOVES[m][1] - goal[1]),
                order.index(m),
            ),
        )
        square = (square[0] + MOVES[letter][0], square[1] + MOVES[letter][1])
        walked.append(letter)
    return "".join(walked)


def greedy_walks(grid: list[str], start: tuple[int, int], goal: tuple[int, int], limit: int) -> list[tuple[str, str]]:
    """(name, moves) of the distinct greedy walks toward G from S, under every tie order, and
    of those from G that reach S, reversed (a walk from S as a policy would answer it)."""
    found: dict[str, str] = {}
    opposite = str.maketrans("UDLR", "DURL")
    for order in TIE_ORDERS:
        found.setdefault(greedy_walk(grid, start, goal, order, limit), f"greedy-from-start-{order}")
        backward = greedy_walk(grid, goal, start, order, limit)
        if walk_ends_on(grid, goal, start, backward):
            found.setdefault(backward[::-1].translate(opposite), f"greedy-from-goal-{order}")
    return [(name, walk) for walk, name in found.items()]


def corridor_walk(grid: list[str], start: tuple[int, int], length: int, rng: random.Random) -> str:
    """``length`` random legal moves from ``start`` that never turn back except in a dead end."""
    square, walked = start, []
    for _ in range(length):
        exits = [m for m in MOVES if _open(grid, square, MOVES[m])]
        if not exits:
            break
        back = REVERSE[walked[-1]] if walked else None
        letter = rng.choice([m for m in exits if m != back] or exits)
        square = (square[0] + MOVES[letter][0], square[1] + MOVES[letter][1])
        walked.append(letter)
    return "".join(walked)
