"""SAT: a satisfying assignment of a random 3-CNF formula near the satisfiability threshold.

Task        Uniform random 3-SAT: round(clause_ratio × variables) clauses, each over three
            distinct variables drawn uniformly with random signs. Formulas are drawn until one
            that neither constant assignment satisfies (some clause all negative, some all
            positive) is proved satisfiable by MiniSat (at most ``MAX_DRAWS`` = 60 draws; near
            the threshold ratio ≈ 4.26 about half are satisfiable; at d = 0 about one in four
            draws is rejected for a constant, from d ≈ 0.5 practically none); should every draw
            fail, a formula with a planted assignment of both signs (clauses drawn uniformly
            among those it satisfies, the first among its all-positive ones and the second among
            its all-negative ones) is used instead, so generation always ends. So all-true and
            all-false never solve a task, except a one-clause formula (an explicit
            ``clause_ratio`` × ``variables`` under 1.5), which cannot rule out both. The prompt
            lists the clauses in DIMACS-like notation.
Answer      ``<answer>[±1, ±2, …, ±n]</answer>``: one literal per variable, k for x_k true, −k for
            false, any order. ``task.answer`` = {"instance": {"variables", "clauses"},
            "reference": {"solution": the solver's model, "objective": clause count, "status":
            "optimal"}}.
Verifier    rlvr.verifiers.sat.SATVerifier: every variable once and every clause satisfied:
            reward 1 and correct; anything else 0.
Solver      python-sat's MiniSat 2.2 (deterministic) with a conflict budget of
            ``CONFLICT_BUDGET`` (200,000) per formula; a formula the budget cannot settle is
            redrawn.
Greedy      Johnson's greedy: variables in order, each set to the sign that satisfies more of
            the still-unsatisfied clauses containing it (ties to true):
            ``meta["greedy_objective"]`` = clauses it satisfies; it scores only when all are.
Effort      MiniSat conflicts on the final formula (``meta["effort"]``), plus decisions and the
            number of formulas drawn.
Hints       How many variables the reference model sets true, then at most 80 % of its values in
            variable order (never all), up to 6 pieces.

Difficulty  (rendered from the declaration below)
            d     variables  clause_ratio
            0     8          4.0
            0.25  17         4.0
            0.5   25         4.0
            0.75  43         4.13
            1     60         4.26
            ``variables`` 3–2000 and ``clause_ratio`` 0.1–10 may be set explicitly (above the
            threshold, unsatisfiable draws are common and the planted fallback becomes likely).
            Generation takes ≈ 0.47 ms of CPU on average at d = 1 (about 1.7 formulas drawn;
            MiniSat's search and the clauses handed to it are most of it) and ≈ 45 µs at d = 0:
            each clause is one exactly uniform index among the 8 · C(n, 3) clauses, drawn from
            the seed material (``MaterialDraws`` of rlvr.generators.optimisation, replayed in
            compiled code by ``uniform_integers`` of rlvr.generators.material_numbers) and looked
            up in a table of them (``clause_table`` in rlvr.generators.sat, decoded one by one
            past 74 variables); Johnson's greedy is compiled there too.
            The greedy misses (leaves a clause unsatisfied) in ≈ 67% of instances at d = 0 and
            in all from d ≈ 0.5; MiniSat conflicts rise about 70-fold
            (benchmarks/bench_optimisation.py).

Version history
            v0  (2026-11) first release. 2026-12: declared in rlvr.families; task bytes unchanged
                (tests/test_golden_tasks.py); explicit parameters are stored in canonical form
                (``clause_ratio=4`` → 4.0). Later 2026-12: formulas that all-true or all-false
                satisfies are redrawn (red-team finding F9: at d = 0 one of the two constants
                solved ~16 % of tasks) and the planted fallback excludes both; task bytes
                changed where a formula was redrawn (at d = 0 about one task in four, beyond
                d = 0.25 practically none; re-pinned). 2026-12-05: d = 0 is 8 variables at
                clause ratio 4.0 (was 5 at 3.0, where any fixed assignment satisfied ~13 % of
                formulas and the best of them 21 %: red team S5-9; now 1.5 % on average, the best
                of all 256 fixed assignments 5.5 % in-sample over 200 tasks); task bytes changed
                for d < 0.5 (re-pinned).
                2026-12-06: clauses (and the planted fallback's assignment and clauses) are drawn
                from the seed material (SHAKE-256 words, ``MaterialDraws``), one uniform index per
                clause, instead of numpy's generator, whose seeding and per-formula state handling
                were most of a task at d = 0 (issue 18: generation ≥ 10× the first release's).
                Task bytes changed (re-pinned); the distribution did not (1000 seeds per level,
                old → new: formulas drawn 1.19 → 1.18, 1.17 → 1.20, 1.74 → 1.70; greedy solves
                0.35 → 0.37, 0.023 → 0.019, 0 → 0; MiniSat conflicts 1.78 → 1.75, 6.7 → 6.6,
                44.5 → 43.6; negated literals 0.50 → 0.50 at d = 0, 0.5, 1).
                2026-12-06 (red team s15 B15-1, second pass R2-2): ``reward: majority`` keys a feasible
                answer by its solution in normal form (``normal_form``: sets sorted, tours from the least
                city in one direction, colours renamed by first use, bins sorted), an infeasible one not
                at all; keyed by the list as written, right answers in another order split their vote and
                two copies of one wrong answer won 20 of 20 groups. Task bytes unchanged.
                2026-12-07 (issue 18): the clause indices and Johnson's greedy in compiled code
                (rlvr.generators.material_numbers), the constant-assignment check on the clause
                array: ≈ 587 → 470 µs a task at d = 1, 57 → 43 µs at d = 0. Task bytes unchanged
                (3,205 tasks against the previous tree, explicit sizes and planted fallbacks
                included).
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable, Float, Int

CLAUSE_SIZE = 3  # literals per clause; a formula needs at least this many variables

FAMILY = Family(
    name="sat",
    generator="rlvr.generators.sat:SATGenerator",
    verifier="rlvr.verifiers.sat:SATVerifier",
    table=DifficultyTable(
        {
            "variables": Int(CLAUSE_SIZE, 2000, doc="number of variables"),
            "clause_ratio": Float(0.1, 10.0, doc="clauses per variable (the 3-SAT threshold is about 4.26)"),
        },
        {
            0.0: {"variables": 8, "clause_ratio": 4.0},
            0.5: {"variables": 25, "clause_ratio": 4.0},
            1.0: {"variables": 60, "clause_ratio": 4.26},
        },
    ),
    verifier_options={
        "partial": "no effect (every satisfying assignment is a full solution); accepted as the other NP envs' option"
    },
    envs=(
        EnvDecl("rlvr/SAT-v0", "Satisfying assignment of a random 3-CNF formula near the threshold; answer ±literals"),
    ),
)
