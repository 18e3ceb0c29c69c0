"""Scheduling: a job-shop schedule of least makespan.

Task        ``jobs`` jobs on ``machines`` machines; every job visits every machine once, in a
            random order, each operation taking a duration uniform in 1…max_duration. Operations
            of a job run in the given order, a machine runs one operation at a time, nothing is
            interrupted. The prompt lists each job's operations as (machine, duration).
Answer      ``<answer>[[s00, s01, …], [s10, …], …]</answer>``: per job (in job order) the start
            times of its operations (in the listed order), non-negative integers.
            ``task.answer`` = {"instance": {"jobs": [[[machine, duration], …], …]}, "reference":
            {"solution": start times, "objective": makespan, "status"}}.
Verifier    rlvr.verifiers.scheduling.SchedulingVerifier: the full shape, non-negative starts, job
            order and no machine overlap, else 0; then reward 1 (correct) when no longer than the
            reference, else 0; with ``partial=True`` a feasible answer earns min(1, reference
            makespan / makespan).
Solver      OR-Tools CP-SAT: an interval per operation, NoOverlap per machine, precedence
            within jobs, minimise the makespan. Exact within ``CP_SAT_DETERMINISTIC_LIMIT``
            deterministic seconds; otherwise the better of CP-SAT's best and the dispatch
            schedule ("best-known" / "heuristic").
Greedy      Earliest-start dispatch: repeatedly schedule, among the next operations of all
            jobs, the one that can start earliest (ties to the lower job): its makespan is
            ``meta["greedy_objective"]``.
Effort      CP-SAT deterministic seconds (``meta["effort"]``), plus branches and conflicts.

Difficulty  d      jobs   machines   max_duration
            0.0    3      2          5
            0.25   4      3          7
            0.5    5      4          9
            0.75   6      5          9
            1.0    7      5          9
            ``jobs`` 1–30, ``machines`` 1–15 and ``max_duration`` 1–1000 may be set explicitly.
            Generation with the exact solve takes ≈ 15 ms on average at d = 1. Mean dispatch
            gap (1 − its ratio) ≈ 0.09 at d = 0, 0.17 at d = 0.5, 0.20 at d = 1; CP-SAT effort
            rises about 100-fold (benchmarks/bench_optimisation.py). d = 0 has three jobs, not
            two: with two jobs on two machines a fixed answer ([[0, 4], [0, 4]]) was optimal on
            17 % of the tasks (benchmarks/bench_constant_policy.py); with three, on about 1 %.
"""

from __future__ import annotations

import random

import numpy as np

from rlvr.core import DifficultyTable, Task
from rlvr.generators.optimisation import (
    HEURISTIC, OptimisationGenerator, checked_int, cp_sat_meta, format_groups, new_cp_model, reference_record,
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
        start, job = min((max(job_free[j], machine_free.get(jobs[j][next_step[j]][0], 0)), j)
                         for j in range(len(jobs)) if next_step[j] < len(jobs[j]))
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
    family = "scheduling"
    env_id = "rlvr/Scheduling-v0"
    sense = "min"
    grouped = True
    table = DifficultyTable({
        0.0: {"jobs": 3, "machines": 2, "max_duration": 5},
        0.5: {"jobs": 5, "machines": 4, "max_duration": 9},
        1.0: {"jobs": 7, "machines": 5, "max_duration": 9},
    })

    def render(self, solution: list[list[int]]) -> str:
        return format_groups(solution)

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        job_count = checked_int(params, "jobs", 1, 30)
        machines = checked_int(params, "machines", 1, 15)
        max_duration = checked_int(params, "max_duration", 1, 1000)
        jobs = [[[int(m), int(nprng.integers(1, max_duration + 1))] for m in nprng.permutation(machines)]
                for _ in range(job_count)]
        greedy = earliest_start_dispatch(jobs)
        run, starts = solve_exact(jobs)
        status = run.status
        if starts is None or makespan_of(jobs, greedy) < makespan_of(jobs, starts):
            starts, status = greedy, HEURISTIC
        listing = "\n".join(f"Job {j}: {render_job(job)}" for j, job in enumerate(jobs))
        prompt = (
            f"Job-shop scheduling. {job_count} jobs run on {machines} machines (numbered 0 to {machines - 1}). Each job is a "
            f"sequence of operations, written (machine, duration): the operation needs that machine for that many time units.\n"
            f"{listing}\n\n"
            f"Rules: a job's operations run in the order listed, each starting no earlier than the previous one of the same "
            f"job finishes; a machine runs at most one operation at a time; operations are never interrupted; time starts "
            f"at 0. Minimise the makespan, the time at which the last operation finishes.\n"
            f"Answer with the start times (whole numbers) of all operations: one list per job, in job order, each giving "
            f"the start times of that job's operations in the order listed. Put only the list of lists inside "
            f"<answer>…</answer>, in the form <answer>[[0, 5, 9, …], [0, 3, 10, …], …]</answer> (this shows the form only)"
        )
        return {
            "prompt": prompt,
            "answer": {"instance": {"jobs": jobs},
                       "reference": reference_record(starts, makespan_of(jobs, starts), status)},
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
        return [("all-at-zero", [[0] * len(job) for job in jobs]), ("job-chains-ignoring-machines", chains),
                ("negative-starts", [[-t - 1 for t in row] for row in chains]), ("short-rows", [row[:-1] for row in chains]),
                ("fully-serial", serial), ("no-jobs", [])]
