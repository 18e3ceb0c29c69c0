"""Countdown: reach a target from given numbers with + − × ÷ (and the 24 game as a preset).

Task        n numbers and a target. rlvr/Countdown-v0: the target is built from the numbers by
            Countdown's own rules (a random expression over all of them, or over a random subset
            when numbers may go unused; every intermediate a positive integer, divisions exact),
            so it is reachable by construction; it is never one of the numbers.
            rlvr/Game24-v0: the 24 game — four numbers from 1 to 13, target 24, every number
            exactly once, all four operators; the numbers are redrawn until an exhaustive search
            (which allows fractional intermediates, as the game does) reaches 24.
            Among up to 64 draws the generator keeps the first puzzle whose search needs at least
            ``min_search_nodes`` expansions (else the hardest drawn), so the knob raises the
            measured search effort, not just the sizes. Where × or ÷ is allowed, a draw whose
            target adding and subtracting the numbers reaches (``signs_reach``) is kept only if
            no other draw is: such a task does not need the operators it offers. With four or
            more numbers, a draw whose target one product or quotient of two numbers with the
            others added or subtracted reaches (``product_reach``, a template scanned without
            search) ranks just above those: kept only if every draw is one of the two. Over 300
            seeds that template still reaches 19 / 9 / 1 / 1 % of the kept targets at d = 0.4 /
            0.5 / 0.75 / 1 (four numbers give fewer clean draws among 64, and 0.4 offers no ÷)
            and none of Game24's (tests/test_countdown.py bounds it over 200 seeds per level).
            With three numbers (Countdown d < 0.375) the screen is off: the construction's other
            shapes there are little more than "(a ± b) × c", the next such template, so
            screening would trade one for the other (a fifth of d = 0.25 tasks still fell back
            to a template draw, the rest were mostly "(a ± b) × c") at 3.5× the generation CPU.
Answer      ``<answer>…</answer>`` holding one arithmetic expression over the given numbers with
            the allowed operators and parentheses, optionally followed by ``= target``:
            ``<answer>(3 + 5) * 2 = 16</answer>``. "−", "×", "·" and "÷" are accepted spellings.
            ``task.answer`` = {"numbers", "target", "operators" (comma-separated), "use_all",
            "expression" (the reference)}; ``task.meta`` = {"search_nodes" (expansions of the
            depth-first search until the target appears — by Countdown's integer rules for a
            constructed target, in exact rationals for Game24's fixed one — capped at 20,000),
            "operations" (of the reference), "draws"}.
Verifier    rlvr.verifiers.countdown.CountdownVerifier: its own tokenizer and recursive-descent
            parser (never ``eval``); the integers written must be a sub-multiset of the numbers
            (all of them when ``use_all``); only allowed operators; exact rational arithmetic;
            division by zero, unary minus, powers, decimals, glued digits and names are rejected
            with a one-line reason. Any expression that reaches the target scores 1: puzzles
            usually have many solutions and every one is accepted.
Solver      The depth-first search above (exact rationals, repeated value multisets pruned); the
            reference answer is the construction's expression (Countdown-v0) or the search's
            (Game24-v0).
Hints       Where numbers may go unused, how many the reference uses; its last operation; then its
            operations in computing order with their values, one per piece, never the last (nor a
            step that already makes an allowed answer).

Difficulty  (rendered from the declaration below)
            d     numbers  max_number  target_max  operators  use_all  min_search_nodes
            0     3        9           20          2 kinds    False    1
            0.25  3        15          45          3 kinds    False    5
            0.5   4        25          100         4 kinds    False    30
            0.75  5        50          316         4 kinds    True     245
            1     6        100         1000        4 kinds    True     2000
            fixed: target=0
            ``target`` = 0 draws the target; a positive value fixes it (and the numbers are redrawn
            until the search reaches it). Game24-v0 pins numbers=4, max_number=13, target=24,
            use_all=True and all four operators (overriding them raises); the knob still moves
            ``min_search_nodes``, which binds for Game24 only from d ≈ 0.6 (a random solvable
            24 puzzle already needs a few hundred expansions). max_number, target_max and min_search_nodes
            move on a log scale. Measured over 40 seeds per point (tests/test_countdown.py checks the rise): median
            search nodes rise with d.

Version history
            v0  (2026-12) first release (Countdown-v0 and Game24-v0).
                2026-12-05 (session 7): train/held-out sides go by ``split_group`` (by the multiset
                of numbers, the target and the rules; red team S7-1: one problem shown otherwise was
                on both sides), so split streams changed where a task's group lands elsewhere than
                its prompt did (re-pinned); raw-stream bytes unchanged.
                2026-12-06 (session 11): where × or ÷ is allowed, targets that signs alone reach
                are passed over (red team S11-H3: + and − solved 15 / 36 / 26 % of Countdown tasks
                at d = 0.5 / 0.75 / 1, "sum minus twice one number" 9–12 %; now 0–1 of 300 at
                each level). Task bytes changed where such a draw was kept (re-pinned, Game24 too);
                Countdown generation CPU about 1.5–2× at d ≥ 0.5.
                2026-12-06 (session 12): with four or more numbers, targets that one product or
                quotient of two numbers with the rest added or subtracted reaches rank below any
                other draw, just above signs-only ones (red team S12 F5: that template solved
                77 / 65 / 39 / 31 % of Countdown tasks at d = 0.25 / 0.5 / 0.75 / 1 and 30 / 25 /
                6 % of Game24's at d = 0 / 0.5 / 1; now 19 / 9 / 1 / 1 % at d = 0.4 / 0.5 / 0.75 /
                1 and 0 of 300 Game24 tasks at each level; unscreened d = 0.25 stays at 79 %).
                Task bytes changed for Countdown from d = 0.375 and for Game24 wherever such a
                draw was kept (re-pinned). Draws per task 2.6× at d = 0.4–0.5, 1.7× at d ≥ 0.75;
                generation CPU about 3× at d = 0.4–0.6 (1.2–1.8 → 3.8–5.8 ms a task), 1.5× at
                d = 0.75, 1.4× at d = 1 (36 → 51 ms), Game24 1.2–1.9× (4–9 → 8–11 ms), unchanged
                at its d = 1. The template's closest answer is a new hostile answer
                (``one-product-signs``).
                2026-12-06 (red team s15 B15-1): ``reward: majority`` keys an expression that keeps
                the rules by its value (one that breaks them: no vote); keyed by the text, ``E`` and
                ``E = 24`` split the right answers' vote. Task bytes unchanged.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable, Flag, Int, Subset

OPERATORS = ("+", "-", "*", "/")
PRESETS = {
    "none": {},
    "game24": {"numbers": 4, "max_number": 13, "target": 24, "use_all": True, "operators": "+,-,*,/"},
}

FAMILY = Family(
    name="countdown",
    generator="rlvr.generators.countdown:CountdownGenerator",
    verifier="rlvr.verifiers.countdown:CountdownVerifier",
    table=DifficultyTable(
        {
            "numbers": Int(2, 8, doc="how many numbers are given"),
            "max_number": Int(2, 1000, log=True, doc="numbers are drawn from 1 to this"),
            "target_max": Int(10, 100_000, log=True, doc="largest target the construction may produce"),
            "operators": Subset(*OPERATORS, doc="the operators the construction and the answer may use"),
            "use_all": Flag(doc="every number exactly once (true) or each at most once (false)"),
            "target": Int(0, 1_000_000, doc="0: drawn by construction; > 0: this fixed target"),
            "min_search_nodes": Int(
                1, 100_000, log=True, doc="keep the first puzzle whose search needs this many expansions"
            ),
        },
        {
            0.0: {
                "numbers": 3,
                "max_number": 9,
                "target_max": 20,
                "operators": "+,-",
                "use_all": False,
                "target": 0,
                "min_search_nodes": 1,
            },
            0.25: {
                "numbers": 3,
                "max_number": 15,
                "target_max": 45,
                "operators": "+,-,*",
                "use_all": False,
                "target": 0,
                "min_search_nodes": 5,
            },
            0.5: {
                "numbers": 4,
                "max_number": 25,
                "target_max": 100,
                "operators": "+,-,*,/",
                "use_all": False,
                "target": 0,
                "min_search_nodes": 30,
            },
            0.75: {
                "numbers": 5,
                "max_number": 50,
                "target_max": 316,
                "operators": "+,-,*,/",
                "use_all": True,
                "target": 0,
                "min_search_nodes": 245,
            },
            1.0: {
                "numbers": 6,
                "max_number": 100,
                "target_max": 1000,
                "operators": "+,-,*,/",
                "use_all": True,
                "target": 0,
                "min_search_nodes": 2000,
            },
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/Countdown-v0",
            "Reach a target from given numbers with + - * / (each number at most or exactly once); "
            "answer one expression",
        ),
        EnvDecl(
            "rlvr/Game24-v0",
            "The 24 game: make 24 from four numbers 1-13, each used once, with + - * /; answer one expression",
            generator_kwargs={"preset": "game24"},
        ),
    ),
    generator_options={"preset": "none, or game24 (the 24 game's fixed parameters; Game24-v0)"},
)
