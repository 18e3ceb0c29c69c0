"""How Scheduling tasks are made: random job-shop instances, the exact schedule (the better of
two dispatch schedules when it meets a lower bound; else the compiled branch and bound of
``rlvr.generators.job_shop_solver``, and CP-SAT asked for a shorter schedule, within the least
makespan the search had not ruled out, past its node limit), the earliest-start dispatch, wrong
and hostile schedules.

Where the time goes (2026-12-07, seeds 0–599 a level): CP-SAT used to run on 80–95 % of the
tasks from d = 0.5 on, most of each call its fixed cost (building and loading the model, root
propagation: 0.4–0.7 ms). The search in ``job_shop_solver`` proves the same optima in about
0.1 ms (d = 0.5) and 0.5 ms (d = 1, mean; median 0.3) a searched instance, so CP-SAT is left
for the rare instance past its node limit (about 1 in 400 at d = 1). What remains in Python
(the instance replayed from numpy's words, the prompt, the Task) is about a third of a task at
d = 1. Tried before and kept out: the same branch and bound in CPython (twice CP-SAT's time at
20 operations), a tabu search over critical-block swaps to start CP-SAT from a better schedule
(cost more than it saved).

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.scheduling``.
"""

from __future__ import annotations

import random

import numpy as np
from ortools.sat.python import cp_model

from rlvr.core import Task
from rlvr.families.scheduling import FAMILY
from rlvr.generators.job_shop_solver import BOUND_MET, NODE_LIMIT, JobShop
from rlvr.generators.optimisation import (
    HEURISTIC,
    OPTIMAL,
    NumpyWords,
    OptimisationGenerator,
    format_groups,
    new_cp_model,
    reference_record,
    run_cp_sat,
    solver_meta,
)
from rlvr.verifiers.scheduling import evaluate_schedule


def shuffled_range(words: NumpyWords, count: int) -> list[int]:
    """numpy's ``permutation(count)`` replayed from ``words``: its Fisher–Yates shuffle of
    0…count − 1 from the top, each position i swapped with a draw in [0, i] taken as a word
    masked to i's bit length, drawn again while above i (numpy's ``random_interval``). With
    ``NumpyWords.bounded`` for ``integers`` this is the instance numpy's calls draw at about
    half their cost (tests/test_scheduling.py compares the two)."""
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        mask = (1 << i.bit_length()) - 1
        j = words.next() & mask
        while j > i:
            j = words.next() & mask
        order[i], order[j] = order[j], order[i]
    return order


def makespan_of(jobs: list[list[list[int]]], starts: list[list[int]]) -> int:
    return max(start + op[1] for job, times in zip(jobs, starts) for op, start in zip(job, times))


BRANCH_AND_BOUND_NODE_LIMIT = 2_000  # search nodes before CP-SAT takes over (about 6 ms; about 1 task in 70 at d = 1)
EFFORT_UNIT = "search nodes (branch and bound) or CP-SAT branches"


# CP-SAT settings for the bounded job-shop model. Each was measured by switching it back alone on
# the instances of seeds 0–299 that reach CP-SAT (interleaved in one process, CPU time of model and
# solve): the optimal makespans are the same either way, only the work differs.
JOB_SHOP_CP_SAT_PARAMETERS = {
    "linearization_level": 0,  # no LP: the scheduling propagators do the work (LP on: +25–40 %)
    "cp_model_presolve": False,  # the model already has tight domains (presolve on: +50–80 %)
    "symmetry_level": 0,  # no symmetry detection: it finds none here (on: +3–5 %)
    "use_precedences_in_disjunctive_constraint": False,  # fewer propagators per machine (on: +1–4 %)
    "use_sat_inprocessing": False,  # no clause inprocessing between restarts (on: +2–16 %, more branches)
    "use_objective_lb_search": True,  # raise the makespan's lower bound first (off: +14–30 %, twice the branches)
    "new_linear_propagation": False,  # the older linear propagator: cheaper on these two-term rows (on: +3–6 %)
}


def job_shop_model_text(jobs: list[list[list[int]]], upper_bound: int, floor: int) -> str:
    """The bounded job-shop model as CpModelProto text: variable o (operations numbered job by
    job) is operation o's start, within what its job's heads and tails allow below
    ``upper_bound``; constraint o its fixed-size interval; then each operation's start at least
    its job predecessor's end; the makespan variable (last, in [``floor``, ``upper_bound``]) at
    least each job's end; one no-overlap per machine; minimise the makespan. Parsed in one call
    (``parse_text_format``), this costs about a third less than building the same model through
    the CpModel API, which makes a Python object per variable, interval and constraint."""
    variables, intervals, links, per_machine = [], [], [], {}
    makespan = sum(len(job) for job in jobs)
    index = 0
    for job in jobs:
        head, total = 0, sum(duration for _, duration in job)
        for k, (machine, duration) in enumerate(job):
            variables.append(f"variables{{domain:[{head},{upper_bound - total + head}]}}")
            intervals.append(
                f"constraints{{interval{{start{{vars:{index} coeffs:1}}"
                f"end{{vars:{index} coeffs:1 offset:{duration}}}size{{offset:{duration}}}}}}}"
            )
            after = index + 1 if k + 1 < len(job) else makespan
            links.append(
                f"constraints{{linear{{vars:[{after},{index}] coeffs:[1,-1] domain:[{duration},{upper_bound}]}}}}"
            )
            per_machine.setdefault(machine, []).append(str(index))
            head += duration
            index += 1
    variables.append(f"variables{{domain:[{floor},{upper_bound}]}}")
    machines = [f"constraints{{no_overlap{{intervals:[{','.join(ops)}]}}}}" for ops in per_machine.values()]
    return "".join(variables + intervals + links + machines) + f"objective{{vars:{makespan} coeffs:1}}"


def solve_exact(jobs: list[list[list[int]]], upper_bound: int, floor: int):
    """CP-SAT on ``job_shop_model_text`` (makespan within [``floor``, ``upper_bound``]):
    (run, starts or None; None also when no schedule is that short, which ``run.solver`` then
    reports infeasible)."""
    model = new_cp_model()
    model.proto.parse_text_format(job_shop_model_text(jobs, upper_bound, floor))
    run = run_cp_sat(model, settings=JOB_SHOP_CP_SAT_PARAMETERS)
    if not run.found:
        return run, None
    values = list(run.solver.response_proto.solution)
    starts, index = [], 0
    for job in jobs:
        starts.append(values[index : index + len(job)])
        index += len(job)
    return run, starts


def render_job(operations: list[list[int]]) -> str:
    return " ".join(f"({machine}, {duration})" for machine, duration in operations)


class SchedulingGenerator(OptimisationGenerator):
    declaration = FAMILY
    sense = "min"
    grouped = True
    objective_name = "makespan"

    def hint_facts(self, task: Task) -> tuple[str, list[str]]:
        """The operations' start times, earliest first (ties by job, then operation)."""
        starts = task.answer["reference"]["solution"]
        order = sorted((t, j, k) for j, job in enumerate(starts) for k, t in enumerate(job))
        return (
            "Start times of the reference schedule, earliest first (jobs and operations numbered from 0)",
            [f"job {j} op {k} → {t}" for t, j, k in order],
        )

    def render(self, solution: list[list[int]]) -> str:
        return format_groups(solution)

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        job_count, machines, max_duration = params["jobs"], params["machines"], params["max_duration"]
        words = NumpyWords(nprng, expected_words=2 * job_count * machines)
        jobs = [
            [[machine, 1 + words.bounded(max_duration - 1)] for machine in shuffled_range(words, machines)]
            for _ in range(job_count)
        ]
        words.close()
        starts, status, meta = self.reference_schedule(jobs)
        listing = "\n".join(f"Job {j}: {render_job(job)}" for j, job in enumerate(jobs))
        prompt = (
            f"Job-shop scheduling. {job_count} jobs run on {machines} machines (numbered 0 to {machines - 1}). "
            "Each job is a sequence of operations, written (machine, duration): the operation needs that machine "
            f"for that many time units.\n{listing}\n\nRules: a job's operations run in the order listed, each "
            "starting no earlier than the previous one of the same job finishes; a machine runs at most one "
            "operation at a time; operations are never interrupted; time starts at 0. Minimise the makespan, the "
            "time at which the last operation finishes.\nAnswer with the start times (whole numbers) of all "
            "operations: one list per job, in job order, each giving the start times of that job's operations in "
            "the order listed. Put only the list of lists inside <answer>…</answer>, in the form <answer>[[0, 5, "
            "9, …], [0, 3, 10, …], …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {
                "instance": {"jobs": jobs},
                "reference": reference_record(starts, makespan_of(jobs, starts), status),
            },
            "meta": meta,
        }

    def reference_schedule(self, jobs: list[list[list[int]]]) -> tuple[list, str, dict]:
        """(starts, status, meta): the better of the earliest-start dispatch schedule (the
        greedy) and the non-delay one (the dispatch schedule on a tie), of makespan U, when U
        meets the lower bound; else the branch and bound for a schedule shorter than U
        (``JobShop.reference``); past its node limit, CP-SAT asked for a makespan in [the least
        the search had not ruled out, U − 1]: its schedule, or the one of makespan U when it
        proves none exists ("optimal") or finds none within its limit ("heuristic")."""
        outcome, starts, known, dispatch, floor, nodes = JobShop(jobs).reference(BRANCH_AND_BOUND_NODE_LIMIT)
        if outcome == BOUND_MET:
            meta = solver_meta(
                "lower bound met (dispatch rules)", OPTIMAL, known, dispatch, effort=0, effort_unit=EFFORT_UNIT
            )
            return starts, OPTIMAL, meta
        if outcome != NODE_LIMIT:
            meta = solver_meta(
                "branch and bound (active schedules)", OPTIMAL, known, dispatch, effort=nodes, effort_unit=EFFORT_UNIT
            )
            return starts, OPTIMAL, meta
        incumbent = starts
        run, starts = solve_exact(jobs, known - 1, floor)
        status = run.status
        if starts is None:
            proved = run.solver.response_proto.status == cp_model.INFEASIBLE
            starts, status = incumbent, OPTIMAL if proved else HEURISTIC
        meta = solver_meta(
            "OR-Tools CP-SAT",
            status,
            makespan_of(jobs, starts),
            dispatch,
            effort=run.counters["branches"],
            effort_unit=EFFORT_UNIT,
            search_conflicts=run.counters["conflicts"],
            deterministic_time=run.counters["deterministic_time"],
        )
        return starts, status, meta

    def split_group(self, task: Task) -> list:
        """The jobs in any order with the machines renumbered (``problem_forms.job_shop_form``):
        the same instance with its jobs listed or its machines numbered otherwise is on one side."""
        from rlvr.generators.problem_forms import job_shop_form  # one edit here: this module's owner is elsewhere

        return ["scheduling", job_shop_form(task.answer["instance"]["jobs"])]

    def greedy_solution(self, task: Task) -> list[list[int]]:
        return JobShop(task.answer["instance"]["jobs"]).earliest_start()

    def objective_of(self, task: Task, solution: list[list[int]]) -> float | None:
        return evaluate_schedule(task.answer["instance"]["jobs"], solution).objective

    def wrong_candidates(self, task: Task):
        """The reference with its last-finishing operation started one unit later (it is the last
        of its job and of its machine, so the schedule stays feasible and one unit longer),
        then every operation started at 0 (infeasible whenever a job has two operations)."""
        jobs = task.answer["instance"]["jobs"]
        starts = [list(row) for row in task.answer["reference"]["solution"]]
        last_job = max(range(len(jobs)), key=lambda j: (starts[j][-1] + jobs[j][-1][1], -j))
        delayed = [list(row) for row in starts]
        delayed[last_job][-1] += 1
        yield delayed
        yield [[0] * len(job) for job in jobs]

    def hostile_solutions(self, task: Task) -> list[tuple[str, list[list[int]]]]:
        """Every operation at 0; each job back to back from 0 ignoring machine clashes (the
        job-chain relaxation, whose makespan is the longest job: a lower bound); negative
        starts; a start list per job cut short; every operation one after another (feasible)."""
        jobs = task.answer["instance"]["jobs"]
        chains, serial, clock = [], [], 0
        for job in jobs:
            times, ready = [], 0
            for _, duration in job:
                times.append(ready)
                ready += int(duration)
            chains.append(times)
            serial_times = []
            for _, duration in job:
                serial_times.append(clock)
                clock += int(duration)
            serial.append(serial_times)
        return [
            ("all-at-zero", [[0] * len(job) for job in jobs]),
            ("job-chains-ignoring-machines", chains),
            ("negative-starts", [[-t - 1 for t in row] for row in chains]),
            ("short-rows", [row[:-1] for row in chains]),
            ("fully-serial", serial),
            ("no-jobs", []),
        ]
