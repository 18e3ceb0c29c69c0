"""Bin packing verifier: every item in exactly one bin within capacity, scored by bins used.

Input       A ``Task`` from rlvr.generators.bin_packing: ``task.answer["instance"]`` =
            {"sizes": [...], "capacity": C} and ``task.answer["reference"]`` (bins, count,
            status).
Parsing     A list of bins, each a list of item indices: ``[[0, 3], [1, 2, 4]]`` (outer brackets
            optional, any of [] () {}, ',', ';' or whitespace between), or one bin per line
            (``0 3`` newline ``1 2 4``). Empty bins are ignored. At most n items and n bins;
            floats, words, labels or deeper nesting are format errors.
Feasibility Every index in 0…n−1, each item in exactly one bin (none missing, none twice), and
            each bin's total size ≤ C.
Reward      1 and correct when the answer is feasible and uses no more bins than the reference;
            else 0 (binary by default). ``partial=True``: a feasible answer earns the share of the
            greedy-to-reference gap that its ratio min(1, reference bins / bins used) closes
            (rlvr.verifiers.optimisation). Details: objective (bins), reference, reference_status,
            gap, ratio; on a violation, the overfull bin or the missing or repeated item.
"""

from __future__ import annotations

from rlvr.core import Task
from rlvr.verifiers.optimisation import Evaluation, OptimisationVerifier, index_problems, parse_integer_groups


def evaluate_packing(sizes: list[int], capacity: int, bins: list[list[int]]) -> Evaluation:
    """Feasibility (each item exactly once, no bin over capacity) and the non-empty bin count."""
    bins = [b for b in bins if b]
    problem = index_problems([item for b in bins for item in b], len(sizes), "item")
    if problem:
        return Evaluation.infeasible(problem)
    packed = sum(len(b) for b in bins)
    if packed != len(sizes):
        missing = sorted(set(range(len(sizes))) - {item for b in bins for item in b})
        return Evaluation.infeasible(f"{len(missing)} items are in no bin, e.g. {missing[:10]}", missing=missing[:50])
    for number, contents in enumerate(bins):
        load = sum(int(sizes[item]) for item in contents)
        if load > capacity:
            return Evaluation.infeasible(
                f"bin {number} holds {load}, more than the capacity {capacity}", overfull_bin=number, load=load
            )
    return Evaluation.of(len(bins))


class BinPackingVerifier(OptimisationVerifier):
    sense = "min"
    objective_name = "bins used"

    def parse(self, task: Task, block: str) -> list[list[int]]:
        count = len(task.answer["instance"]["sizes"])
        return parse_integer_groups(block, max_groups=count, max_entries=count)

    def evaluate(self, task: Task, solution: list[list[int]]) -> Evaluation:
        instance = task.answer["instance"]
        return evaluate_packing(instance["sizes"], int(instance["capacity"]), solution)

    def normal_form(self, task: Task, solution: list[list[int]]) -> tuple:
        """The non-empty bins as sorted tuples, in sorted order: bins and items in any order."""
        return tuple(sorted(tuple(sorted(items)) for items in solution if items))
