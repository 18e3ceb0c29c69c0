"""Job-shop scheduling verifier: start times for every operation, scored by the makespan.

Input       A ``Task`` from rlvr.generators.scheduling: ``task.answer["instance"]["jobs"]`` =
            [[[machine, duration], …] per job] and ``task.answer["reference"]`` (start times,
            makespan, status).
Parsing     One list of start times per job, in job order: ``[[0, 5, 9], [0, 3, 10]]`` (outer
            brackets optional, any of [] () {}, ',', ';' or whitespace between), or one job per
            line. At most (jobs) lists and (operations) numbers; floats, words, labels or deeper
            nesting are format errors.
Feasibility One list per job with one start time per operation; every start ≥ 0; each
            operation starts no earlier than the previous operation of its job ends; no two
            operations on one machine overlap (an operation may start exactly when another
            ends).
Reward      1 and correct when the answer is feasible and the makespan is no longer than the
            reference; else 0 (binary by default). ``partial=True``: a feasible answer earns the
            share of the greedy-to-reference gap that its ratio min(1, reference makespan /
            makespan) closes (rlvr.verifiers.optimisation). Details: objective (makespan),
            reference, reference_status, gap, ratio; on a violation, the job/operation or machine
            concerned.
"""

from __future__ import annotations

from rlvr.core import Task
from rlvr.verifiers.optimisation import Evaluation, OptimisationVerifier, parse_integer_groups


def evaluate_schedule(jobs: list[list[list[int]]], starts: list[list[int]]) -> Evaluation:
    """Feasibility (shape, non-negative starts, job order, machine capacity) and makespan."""
    if len(starts) != len(jobs):
        return Evaluation.infeasible(f"{len(starts)} job lists given for {len(jobs)} jobs")
    by_machine: dict[int, list[tuple[int, int, int, int]]] = {}
    makespan = 0
    for job, (operations, times) in enumerate(zip(jobs, starts)):
        if len(times) != len(operations):
            return Evaluation.infeasible(f"job {job} has {len(operations)} operations but {len(times)} start times")
        ready = 0
        for step, ((machine, duration), start) in enumerate(zip(operations, times)):
            if start < 0:
                return Evaluation.infeasible(f"job {job} operation {step} starts at negative time {start}")
            if start < ready:
                return Evaluation.infeasible(
                    f"job {job} operation {step} starts at {start}, before its previous operation ends at {ready}",
                    job=job,
                    operation=step,
                )
            ready = start + int(duration)
            by_machine.setdefault(int(machine), []).append((start, ready, job, step))
        makespan = max(makespan, ready)
    for machine, runs in sorted(by_machine.items()):
        runs.sort()
        for (_, end_a, job_a, step_a), (start_b, _, job_b, step_b) in zip(runs, runs[1:]):
            if start_b < end_a:
                return Evaluation.infeasible(
                    f"machine {machine} runs job {job_a} operation {step_a} until {end_a} but job {job_b} "
                    f"operation {step_b} starts at {start_b}",
                    machine=machine,
                )
    return Evaluation.of(makespan)


class SchedulingVerifier(OptimisationVerifier):
    sense = "min"
    objective_name = "makespan"

    def parse(self, task: Task, block: str) -> list[list[int]]:
        jobs = task.answer["instance"]["jobs"]
        return parse_integer_groups(block, max_groups=len(jobs), max_entries=sum(len(job) for job in jobs))

    def evaluate(self, task: Task, solution: list[list[int]]) -> Evaluation:
        return evaluate_schedule(task.answer["instance"]["jobs"], solution)
