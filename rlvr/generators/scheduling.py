"""How Scheduling tasks are made: random job-shop instances, the exact CP-SAT schedule, the
earliest-start dispatch, wrong and hostile schedules.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.scheduling``.
"""

from __future__ import annotations

import random

import numpy as np

from rlvr.core import Task
from rlvr.families.scheduling import FAMILY
from rlvr.generators.optimisation import (
    HEURISTIC,
    OptimisationGenerator,
    cp_sat_meta,
    format_groups,
    new_cp_model,
    reference_record,
    run_cp_sat,
)
from rlvr.verifiers.scheduling import evaluate_schedule


def makespan_of(jobs: list[list[list[int]]], starts: list[list[int]]) -> int:
    return max(start + op[1] for job, times in zip(jobs, starts) for op, start in zip(job, times))


def earliest_start_dispatch(jobs: list[list[list[int]]]) -> list[list[int]]:
    machine_free: dict[int, int] = {}
    job_free = [0] * len(jobs)
    next_step = [0] * len(jobs)
    starts: list[list[int]] = [[] for _ in jobs]
    remaining = sum(len(job) for job in jobs)
    while remaining:
        start, job = min(
            (max(job_free[j], machine_free.get(jobs[j][next_step[j]][0], 0)), j)
            for j in range(len(jobs))
            if next_step[j] < len(jobs[j])
        )
        machine, duration = jobs[job][next_step[job]]
        starts[job].append(start)
        job_free[job] = machine_free[machine] = start + duration
        next_step[job] += 1
        remaining -= 1
    return starts


def solve_exact(jobs: list[list[list[int]]]):
    horizon = sum(duration for job in jobs for _, duration in job)
    model = new_cp_model()
    starts, ends, per_machine = [], [], {}
    for j, job in enumerate(jobs):
        row = []
        for k, (machine, duration) in enumerate(job):
            start = model.new_int_var(0, horizon, f"start_{j}_{k}")
            interval = model.new_fixed_size_interval_var(start, duration, f"op_{j}_{k}")
            per_machine.setdefault(machine, []).append(interval)
            if row:
                model.add(start >= row[-1] + job[k - 1][1])
            row.append(start)
        starts.append(row)
        ends.append(row[-1] + job[-1][1])
    for intervals in per_machine.values():
        model.add_no_overlap(intervals)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, ends)
    model.minimize(makespan)
    run = run_cp_sat(model)
    if not run.found:
        return run, None
    return run, [[int(run.solver.value(s)) for s in row] for row in starts]


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
        jobs = [
            [[int(m), int(nprng.integers(1, max_duration + 1))] for m in nprng.permutation(machines)]
            for _ in range(job_count)
        ]
        greedy = earliest_start_dispatch(jobs)
        run, starts = solve_exact(jobs)
        status = run.status
        if starts is None or makespan_of(jobs, greedy) < makespan_of(jobs, starts):
            starts, status = greedy, HEURISTIC
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
            "meta": cp_sat_meta(run, status, makespan_of(jobs, starts), makespan_of(jobs, greedy)),
        }

    def greedy_solution(self, task: Task) -> list[list[int]]:
        return earliest_start_dispatch(task.answer["instance"]["jobs"])

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
