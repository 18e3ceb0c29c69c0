"""Knapsack: choose items of greatest total value whose total weight fits the capacity (0/1).

Task        ``items`` items with integer weights uniform in 1…max_weight and integer values
            (1 − correlation) · u + correlation · (weight + max_weight / 10), rounded, u uniform
            in 1…max_weight: uncorrelated at correlation 0, Pisinger's "strongly correlated"
            (hard for greedy and for branch and bound) at 1. Capacity = capacity_fraction · total
            weight, rounded (at least the lightest item). The prompt lists (weight, value) per
            item and the capacity.
Answer      ``<answer>[i1, i2, …]</answer>``: the chosen item indices, each once, any order.
            ``task.answer`` = {"instance": {"weights", "values", "capacity"}, "reference":
            {"solution": sorted indices, "objective": value, "status"}}.
Verifier    rlvr.verifiers.knapsack.KnapsackVerifier: distinct valid items within capacity, else
            0; then reward 1 (correct) when worth at least the reference, else 0; with
            ``partial=True`` a feasible answer earns the share of the greedy-to-reference gap that
            its ratio min(1, value / reference value) closes.
Solver      Up to ``BRANCH_AND_BOUND_ITEMS`` (24) items, a branch and bound compiled by numba
            (rlvr.generators.material_numbers: depth-first by profit per weight, an LP bound;
            exact, status "optimal") on the profits value · 2^items − 2^item, whose unique
            optimum is the greatest value and, of the tied selections, the least Σ 2^item; the
            same compiled call draws the instance and runs the greedy. Beyond, dynamic
            programming over capacities (numpy, one row per item, exact, the same tie rule)
            while items × (capacity + 1) ≤ ``DP_CELL_LIMIT`` (20 million); beyond that, OR-Tools
            CP-SAT (``CP_SAT_DETERMINISTIC_LIMIT`` of rlvr.generators.optimisation), whose
            status is "optimal" or "best-known".
Greedy      By value density (value / weight, ties to the lower index), taking each item that
            still fits: ``meta["greedy_objective"]``.
Effort      The instance's DP size, items × (capacity + 1) (``meta["effort"]``; the branch and
            bound reports no node count).
Hints       The reference's objective to reach, then at most 80 % of the reference solution (never
            all), up to 6 pieces: items of the reference selection.

Difficulty  (rendered from the declaration below)
            d     items  max_weight  correlation  capacity_fraction
            0     7      20          0.0          0.5
            0.25  10     135         0.375        0.425
            0.5   13     250         0.75         0.35
            0.75  17     1125        0.875        0.25
            1     20     2000        1.0          0.15
            Parameters may be set explicitly: ``items`` 2–500, ``max_weight`` 1–10^6,
            ``correlation`` 0–1, ``capacity_fraction`` 0.01–0.9. Generation takes ≈ 10–17 µs a
            task from d = 0 to d = 1 (``make_task``, a quiet 2-core machine, 2026-12-07; the
            weights and values are exactly uniform draws from the seed material,
            ``MaterialDraws`` of rlvr.generators.optimisation). Mean density-greedy gap (1 − its ratio) ≈ 0.01 at
            d = 0, 0.05 at d = 0.5, 0.09 at d = 1; DP cells rise about 230-fold
            (benchmarks/bench_optimisation.py). d = 0 has 7 items, not 5: of 5 items a fixed
            selection was optimal on 10 % of the tasks, of 7 on about 3 %
            (benchmarks/bench_constant_policy.py).

Version history
            v0  (2026-11) first release. 2026-12: declared in rlvr.families; task bytes unchanged
                (tests/test_golden_tasks.py); explicit parameters are stored in canonical form
                (``correlation=1`` → 1.0).
                2026-12-05 (session 8): split side by the capacity and the (weight, value) items as a
                multiset (red team S8-3): split streams re-pinned; raw-stream bytes unchanged.
                2026-12-06: the weights and the random part of the values are drawn from the seed
                material (SHAKE-256 words, ``MaterialDraws``) instead of numpy's generator, whose
                seeding cost more than a third of a task, and up to 24 items OR-Tools' branch and
                bound replaces the DP (issue 18: generation ≥ 10× the first release's). Task bytes
                changed (re-pinned); the distributions did not (3000 seeds per level, old → new:
                mean weight 10.54 → 10.47, 125.2 → 125.1, 1001 → 1000; mean capacity 37.1 → 36.9,
                570 → 569, 3003 → 2999; mean greedy gap 0.018 → 0.017, 0.043 → 0.043, 0.080 →
                0.080 at d = 0, 0.5, 1); the reference is still the optimal selection of least
                Σ 2^item.
                2026-12-06 (red team s15 B15-1, second pass R2-2): ``reward: majority`` keys a feasible
                answer by its solution in normal form (``normal_form``: sets sorted, tours from the least
                city in one direction, colours renamed by first use, bins sorted), an infeasible one not
                at all; keyed by the list as written, right answers in another order split their vote and
                two copies of one wrong answer won 20 of 20 groups. Task bytes unchanged.
                2026-12-07 (issue 18, speed): the draws, values, capacity, density greedy and, up
                to 24 items, the exact selection are one call compiled by numba
                (rlvr.generators.material_numbers) in place of Python and OR-Tools' knapsack
                solver (≈ 1.4× faster at d = 0, 1.6× at d = 0.5, 1.9× at d = 1 than the tree
                before). Instances, prompts, greedy and references are unchanged (13,200 tasks:
                2,000 seeds a level and 3,200 at explicit extremes); ``meta["solver"]`` now reads
                "branch and bound (compiled)", so task bytes changed (re-pinned).
            2026-12-07, later (issue 18, speed): the compiled call reads the seed material's hash
                itself (whole SHAKE-256 blocks) and hands back the chosen items with their values;
                the item listing fills a numbered template made once per item count: ≈ 1.4×
                faster. Task bytes unchanged (5,700 tasks at nine levels and explicit sizes).
            2026-12-07 (determinism): CP-SAT's effort, its deterministic time to 9 decimals,
                rounds a tie at the 10th decimal up; which way a tie went had depended on the
                process (the last bit of the sum moves with what was imported first). Tasks whose
                reference CP-SAT found may differ in that digit; no other bytes changed.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable, Float, Int

FAMILY = Family(
    name="knapsack",
    generator="rlvr.generators.knapsack:KnapsackGenerator",
    verifier="rlvr.verifiers.knapsack:KnapsackVerifier",
    table=DifficultyTable(
        {
            "items": Int(2, 500, doc="number of items"),
            "max_weight": Int(1, 1_000_000, doc="weights (and the random part of values) are uniform in 1…max_weight"),
            "correlation": Float(0.0, 1.0, doc="0: values independent of weights; 1: strongly correlated"),
            "capacity_fraction": Float(0.01, 0.9, doc="capacity as a fraction of the total weight"),
        },
        {
            0.0: {"items": 7, "max_weight": 20, "correlation": 0.0, "capacity_fraction": 0.5},
            0.5: {"items": 13, "max_weight": 250, "correlation": 0.75, "capacity_fraction": 0.35},
            1.0: {"items": 20, "max_weight": 2000, "correlation": 1.0, "capacity_fraction": 0.15},
        },
    ),
    envs=(EnvDecl("rlvr/Knapsack-v0", "0/1 knapsack of greatest value within the capacity; answer the item indices"),),
    verifier_options={"partial": "pay the share of the greedy-to-reference gap closed (default false)"},
)
