"""Maze: find a path from S to G through a grid maze, drawn as text or as an image.

Task        A maze of rows×cols *cells*, drawn as a grid of (2·rows+1)×(2·cols+1) squares: cells
            sit at odd (row, column) positions, the squares between them are passages or walls,
            and the border is wall. Randomised depth-first carving gives a perfect maze (exactly
            one path between any two cells); ``loops`` > 0 then braids it: that fraction of its
            dead ends gets one wall knocked out, opening loops. S and G are two cells whose BFS
            distance and turn count meet the difficulty's minimums. From 25 cells (5×5, d ≥
            0.1875), a route that a greedy walk solves — from S toward G or from G toward S, always
            taking the move that ends nearest the other end by Manhattan distance, never turning
            back except in a dead end, equal moves in any order — is redrawn (another goal for the
            same start, up to 4, then another start, then another maze; at most 256 routes refused,
            then the next is kept and ``meta["greedy_screen"]`` says "exhausted": 0 of 1000 seeds
            at each of d = 0.1875/.25/.375/.5/.75/1, refusing 13/11/4.4/3.0/0.7/0.1 routes a task
            on average). Smaller mazes are left as drawn: the greedy solves 97 % of d = 0's 3×3
            routes and 92 % of the 4×4 ones (0.0625 ≤ d < 0.1875), where the screen refused 35
            routes a task and made generation 6× slower.
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
            "maze_attempts", "greedy_redraws" (routes refused because a greedy walk solved them),
            "greedy_screen" ("off" under 25 cells, "passed", or "exhausted" when the last route
            was kept unscreened)}.
Verifier    rlvr.verifiers.maze.MazeVerifier: simulates the moves; correct when none enters a
            wall or leaves the grid, the last one ends on G, and there are exactly
            ``shortest_path_length`` of them, as the prompt asks (``shortest=False`` accepts any
            legal walk to G; ``partial=True`` grades legal wrong walks below 1 by how much nearer
            G they end than walks that never aim at G — random corridor walks, wall followers —
            reach in as many moves).
Solver      Breadth-first search (networkx) over the open squares; the moves of a shortest path.

Hints       ``hint=h``: a shortest path in up to 8 pieces of consecutive moves, stopping one move
            short of G.
Difficulty  (rendered from the declaration below; the grid is 2·rows+1 by 2·cols+1 squares)
            d     rows  cols  loops  min_path_length  min_turns
            0     3     3     0.0    4                1
            0.25  5     5     0.05   12               4
            0.5   8     8     0.1    24               8
            0.75  14    14    0.18   60               18
            1     20    20    0.25   120              32
            Parameters: ``rows``, ``cols`` (cells, 2–250), ``loops`` (fraction of dead ends
            opened, 0–1), ``min_path_length`` (moves, at most 4·rows·cols), ``min_turns``;
            explicit values win over the knob. When a maze cannot meet the minimums after a
            bounded number of seeded retries, ``generate`` raises ValueError. At d = 0 the answers are few (about 150
            distinct shortest paths over 300 seeds): the commonest fixed answer, e.g. RRUU, is
            right on about 4.5 % of d = 0 tasks and on none from d = 0.5 up
            (benchmarks/bench_constant_policy.py).

Version history
            v0  (2026-11) first release. 2026-12: declared in rlvr.families; task bytes unchanged
                (tests/test_golden_tasks.py).
                2026-12-05 (session 8): split side by the maze itself (grid, start, goal), one group for
                Maze-v0 and MazeImage-v0 (red team S8-4: one seed's maze was text on one side and
                picture on the other; a mix held it twice): split streams re-pinned; raw-stream bytes
                unchanged.
                2026-12-05 (session 8, later): split side by the maze up to the 8 turns/mirrors of
                its grid and S↔G swapped (red team S8-7: all d = 0 test mazes were train mazes
                turned or mirrored); uniqueness (problem_key) stays the exact maze. Split streams
                re-pinned (Maze-v0, MazeImage-v0); raw-stream bytes unchanged.
                2026-12-05 (session 9): under ``partial=True`` a walk that breaks a rule (into a
                wall, off the grid) earns 0, not the progress of its legal prefix (red team
                S9-F6); task bytes unchanged.
                2026-12-06 (session 11): under ``partial=True`` progress is paid only above
                chance, the progress that walks which never aim at G (seeded random walks that
                never turn back, wall followers) reach in as many moves on the same maze (red
                team H5: corridor walks earned 0.11-0.41 and a wall follower cut short
                0.33-0.67); binary verdicts and task bytes unchanged. Mazes over 150×150 cells
                (only by explicit rows / cols) get no partial credit: their first check could
                overrun the deadline under concurrent calls (red team S11b-K1).
                2026-12-06 (session 12): from 25 cells (d ≥ 0.1875), routes that a greedy walk
                toward the other end solves are redrawn (red team S12-F3: the best of 16 greedy
                walks, from S or G with 8 tie orders, solved 94/69/51/16/3 % of d = 0/.25/.5/
                .75/1 tasks, every tie order at once 97/78/66/31/20 %; now none of 48 walks
                solves any of 300 seeds at d = .25/.5/.75/1), and the greedy walks are attacks.
                Meta gains "greedy_redraws" and "greedy_screen" at every level, so task bytes
                change everywhere (d < 0.1875 only by those keys; Maze-v0 and MazeImage-v0
                re-pinned). Generation CPU (before and after interleaved in one process, loaded
                2-core machine): 1.0× at d = 0, 3.2× at d = 0.25 (110 → 350 µs), 1.55× at
                d = 0.5, 1.1× at d = 0.75, 1.0× at d = 1.
                2026-12-06 (red team s15 B15-1): ``reward: majority`` keys a legal walk by where it
                ends and its length (a walk through a wall: no vote); keyed by the move string, other
                shortest paths and spellings split the right answers' vote. Task bytes unchanged.
                2026-12-07 (session 21): MazeImage's picture drawn as palette indices and made RGB
                by Pillow (the same pixels; a test compares them with a square-by-square
                drawing), about 4× faster to draw. Task bytes unchanged.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable, Float, Int

MAX_CELLS_PER_SIDE = 250

FAMILY = Family(
    name="maze",
    generator="rlvr.generators.maze:MazeGenerator",
    verifier="rlvr.verifiers.maze:MazeVerifier",
    table=DifficultyTable(
        {
            "rows": Int(2, MAX_CELLS_PER_SIDE, doc="cell rows (the grid has 2·rows+1 lines)"),
            "cols": Int(2, MAX_CELLS_PER_SIDE, doc="cell columns"),
            "loops": Float(0.0, 1.0, doc="fraction of dead ends opened into loops"),
            "min_path_length": Int(1, 4 * MAX_CELLS_PER_SIDE**2, doc="fewest moves of the shortest path"),
            "min_turns": Int(0, 4 * MAX_CELLS_PER_SIDE**2, doc="fewest direction changes of a shortest path"),
        },
        {
            0.0: {"rows": 3, "cols": 3, "loops": 0.0, "min_path_length": 4, "min_turns": 1},
            0.25: {"rows": 5, "cols": 5, "loops": 0.05, "min_path_length": 12, "min_turns": 4},
            0.5: {"rows": 8, "cols": 8, "loops": 0.10, "min_path_length": 24, "min_turns": 8},
            0.75: {"rows": 14, "cols": 14, "loops": 0.18, "min_path_length": 60, "min_turns": 18},
            1.0: {"rows": 20, "cols": 20, "loops": 0.25, "min_path_length": 120, "min_turns": 32},
        },
    ),
    envs=(
        EnvDecl("rlvr/Maze-v0", "Find a path from S to G through a text grid maze; answer a U/D/L/R move string"),
        EnvDecl(
            "rlvr/MazeImage-v0",
            "The maze drawn as an image; answer a U/D/L/R move string",
            visual=True,
            generator_kwargs={"render": "image"},
        ),
    ),
    verifier_options={
        "shortest": "only a shortest path is correct (default true); false accepts any legal walk to G",
        "partial": "grade legal walks that miss G below 1, above what aimless walks reach (default false)",
    },
)
