"""How Scheduling tasks are made: random job-shop instances, the exact schedule (the better of
two dispatch schedules when it meets a lower bound; else a branch and bound over active schedules
for small instances, CP-SAT asked for a shorter schedule, within the lower bound, for larger
ones), the earliest-start dispatch, wrong and hostile schedules.

Where the time goes (2026-12-06, seeds 0–299): from d = 0.5 on CP-SAT runs on 80–95 % of the
tasks and most of a call is its fixed cost (building and loading the model, root propagation):
proving a known optimum costs about three quarters of an average call. So the model is parsed
from one text (``job_shop_model_text``) and solved with the settings in
``JOB_SHOP_CP_SAT_PARAMETERS``; the Python around it (instance draws replayed from the
generator's words, the dispatch rules as plain loops) is lean. Hand-written search stays only
where it wins: the branch and bound up to 12 operations (about 40 % less time than this CP-SAT
at d = 0.25); at 20 operations (d = 0.5) it takes about twice CP-SAT's time from the same
schedule, and 1.3 times even when given the optimum as its bound. A tabu search over
critical-block swaps (to start CP-SAT from a better schedule, or skip it when it meets the lower
bound) was tried and cost more than it saved at d = 0.5 and 1.

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.scheduling``.
"""

from __future__ import annotations

import heapq
import random

import numpy as np
from ortools.sat.python import cp_model

from rlvr.core import Task
from rlvr.families.scheduling import FAMILY
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


def earliest_start_dispatch(jobs: list[list[list[int]]]) -> list[list[int]]:
    """Repeatedly schedule, of every job's next operation, the one that can start earliest
    (ties to the lower job) at that time."""
    machine_free = [0] * (1 + max((machine for job in jobs for machine, _ in job), default=-1))
    job_free = [0] * len(jobs)
    next_step = [0] * len(jobs)
    starts: list[list[int]] = [[] for _ in jobs]
    waiting = [j for j, job in enumerate(jobs) if job]  # jobs with operations left, in job order
    while waiting:
        start = job = -1
        for j in waiting:
            ready, free = job_free[j], machine_free[jobs[j][next_step[j]][0]]
            time = ready if ready > free else free
            if job < 0 or time < start:
                start, job = time, j
        machine, duration = jobs[job][next_step[job]]
        starts[job].append(start)
        job_free[job] = machine_free[machine] = start + duration
        next_step[job] += 1
        if next_step[job] == len(jobs[job]):
            waiting.remove(job)
    return starts


def non_delay_schedule(jobs: list[list[list[int]]]) -> list[list[int]]:
    """A non-delay schedule by the "most work remaining after it" rule: repeatedly take the
    earliest time at which any job's next operation can start and the machine of the first such
    operation (lowest job); of the operations that can start then on that machine, schedule the
    one whose job has the most work left after it (ties to the lower job)."""
    machine_free = [0] * (1 + max((machine for job in jobs for machine, _ in job), default=-1))
    job_free = [0] * len(jobs)
    next_step = [0] * len(jobs)
    work_left = [sum(duration for _, duration in job) for job in jobs]
    starts: list[list[int]] = [[] for _ in jobs]
    waiting = [j for j, job in enumerate(jobs) if job]
    times = [0] * len(jobs)
    while waiting:
        start = first = -1
        for j in waiting:
            ready, free = job_free[j], machine_free[jobs[j][next_step[j]][0]]
            times[j] = time = ready if ready > free else free
            if first < 0 or time < start:
                start, first = time, j
        machine = jobs[first][next_step[first]][0]
        job, after = first, work_left[first] - jobs[first][next_step[first]][1]
        for j in waiting:
            if j > first and times[j] == start and jobs[j][next_step[j]][0] == machine:
                left = work_left[j] - jobs[j][next_step[j]][1]
                if left > after:
                    job, after = j, left
        duration = jobs[job][next_step[job]][1]
        starts[job].append(start)
        job_free[job] = machine_free[machine] = start + duration
        work_left[job] -= duration
        next_step[job] += 1
        if next_step[job] == len(jobs[job]):
            waiting.remove(job)
    return starts


BRANCH_AND_BOUND_MAX_OPERATIONS = 12  # up to here (d ≤ 0.25) the branch and bound; CP-SAT beyond
BRANCH_AND_BOUND_NODE_LIMIT = 5_000  # search nodes before CP-SAT takes over (explicit sizes only)
EFFORT_UNIT = "search nodes (branch and bound) or CP-SAT branches"


class NodeLimitReached(Exception):
    """The branch and bound spent its node budget before proving its best schedule optimal."""


def preemptive_bound(operations: list[tuple[int, int, int]]) -> int:
    """The least max(completion + tail) of one machine's operations, each (head, duration,
    tail) released at its head, when operations may be interrupted: Jackson's preemptive
    schedule (at every release or completion run the released operation of longest tail),
    which is optimal for that relaxation, so its value bounds every schedule from below."""
    operations = sorted(operations)
    waiting: list[list[int]] = []  # (−tail, duration left) of released, unfinished operations
    time = bound = released = 0
    while released < len(operations) or waiting:
        if not waiting:
            time = max(time, operations[released][0])
        while released < len(operations) and operations[released][0] <= time:
            _, duration, tail = operations[released]
            heapq.heappush(waiting, [-tail, duration])
            released += 1
        urgent = waiting[0]
        run = urgent[1] if released == len(operations) else min(urgent[1], operations[released][0] - time)
        time += run
        if run == urgent[1]:
            heapq.heappop(waiting)
            bound = max(bound, time - urgent[0])
        else:
            urgent[1] -= run
    return bound


def lower_bound(jobs: list[list[list[int]]]) -> int:
    """No schedule is shorter than its longest job, nor than any machine's ``preemptive_bound``
    over its operations with their heads (the work before them in their job) and tails (the
    work after); that bound is at least the machine's least head + load + least tail."""
    per_machine: dict[int, list[tuple[int, int, int]]] = {}
    longest = 0
    for job in jobs:
        total, done = sum(duration for _, duration in job), 0
        for machine, duration in job:
            per_machine.setdefault(machine, []).append((done, duration, total - done - duration))
            done += duration
        longest = max(longest, total)
    return max(longest, *(preemptive_bound(operations) for operations in per_machine.values()))


def branch_and_bound(
    jobs: list[list[list[int]]], upper_bound: int, node_limit: int
) -> tuple[list[list[int]] | None, int]:
    """A schedule shorter than ``upper_bound`` of least makespan, exactly, or None when none is
    shorter (so a schedule of ``upper_bound`` is optimal); with the search nodes spent. Raises
    ``NodeLimitReached`` past ``node_limit`` nodes.

    Giffler and Thompson's active schedules (some optimal schedule is active): at each node the
    schedulable operation that can finish first fixes a machine, and the search branches on each
    operation of that machine that could start before then (earliest start first, then the job
    with the most work left, then the lower job). A node is cut when its bound, the larger of
    every job's ready time plus its remaining work and every machine's (the later of its free
    time and its remaining operations' least head) plus remaining load plus least tail, is not
    below the best makespan so far. Deterministic: the same instance gives the same schedule
    and node count in any process."""
    durations = [[duration for _, duration in job] for job in jobs]
    machine_of = [[machine for machine, _ in job] for job in jobs]
    lengths = [len(job) for job in jobs]
    operations_on: dict[int, list[tuple[int, int, int, int]]] = {}  # (job, step, duration, work after it)
    for j, row in enumerate(durations):
        for k, duration in enumerate(row):
            operations_on.setdefault(machine_of[j][k], []).append((j, k, duration, sum(row[k + 1 :])))
    machines = list(operations_on)
    machine_load = {machine: sum(op[2] for op in ops) for machine, ops in operations_on.items()}  # unscheduled work
    next_step = [0] * len(jobs)
    job_ready = [0] * len(jobs)
    machine_ready = dict.fromkeys(machines, 0)
    remaining = [sum(row) for row in durations]
    starts = [[0] * length for length in lengths]
    best: list[list[int]] | None = None
    best_makespan, nodes = upper_bound, 0
    job_range = range(len(jobs))

    def cut() -> bool:
        """Whether the bound reaches the best makespan so far (checked part by part)."""
        for j in job_range:
            if job_ready[j] + remaining[j] >= best_makespan:
                return True
        for machine in machines:
            load = machine_load[machine]
            if load:
                head = tail = best_makespan
                for j, k, duration, after in operations_on[machine]:
                    if k >= next_step[j]:
                        ahead = job_ready[j] + remaining[j] - after - duration
                        if ahead < head:
                            head = ahead
                        if after < tail:
                            tail = after
                free = machine_ready[machine]
                if (head if head > free else free) + load + tail >= best_makespan:
                    return True
        return False

    def expand(scheduled: int) -> None:
        nonlocal best, best_makespan, nodes
        nodes += 1
        if nodes > node_limit:
            raise NodeLimitReached
        if scheduled == total:
            best_makespan, best = max(job_ready), [list(row) for row in starts]
            return
        finish, first = None, -1
        for j in job_range:
            k = next_step[j]
            if k < lengths[j]:
                end = max(job_ready[j], machine_ready[machine_of[j][k]]) + durations[j][k]
                if finish is None or end < finish:
                    finish, first = end, j
        machine = machine_of[first][next_step[first]]
        free = machine_ready[machine]
        choices = sorted(
            (max(job_ready[j], free), -remaining[j], j)
            for j in job_range
            if next_step[j] < lengths[j] and machine_of[j][next_step[j]] == machine and max(job_ready[j], free) < finish
        )
        for start, _, j in choices:
            k, duration, ready = next_step[j], durations[j][next_step[j]], job_ready[j]
            starts[j][k] = start
            job_ready[j] = machine_ready[machine] = start + duration
            next_step[j], remaining[j] = k + 1, remaining[j] - duration
            machine_load[machine] -= duration
            if not cut():
                expand(scheduled + 1)
            machine_load[machine] += duration
            next_step[j], remaining[j] = k, remaining[j] + duration
            job_ready[j], machine_ready[machine] = ready, free

    total = sum(lengths)
    if not cut():
        expand(0)
    return best, nodes


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
        greedy = earliest_start_dispatch(jobs)
        starts, status, meta = self.reference_schedule(jobs, greedy)
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

    def reference_schedule(self, jobs: list[list[list[int]]], greedy: list[list[int]]) -> tuple[list, str, dict]:
        """(starts, status, meta): the better of the dispatch schedule and ``non_delay_schedule``
        (the dispatch schedule on a tie), of makespan U, when U meets ``lower_bound``; else the
        branch and bound up to ``BRANCH_AND_BOUND_MAX_OPERATIONS`` operations (within its node
        limit) for a schedule shorter than U, CP-SAT beyond, asked for a makespan in [lower
        bound, U − 1]: its schedule, or the one of makespan U when it proves none exists ("optimal")
        or finds none within its limit ("heuristic")."""
        dispatch, floor = makespan_of(jobs, greedy), lower_bound(jobs)
        incumbent, known = greedy, dispatch
        if known > floor:
            priority = non_delay_schedule(jobs)
            if makespan_of(jobs, priority) < known:
                incumbent, known = priority, makespan_of(jobs, priority)
        if known == floor:
            meta = solver_meta(
                "lower bound met (dispatch rules)", OPTIMAL, known, dispatch, effort=0, effort_unit=EFFORT_UNIT
            )
            return incumbent, OPTIMAL, meta
        if sum(len(job) for job in jobs) <= BRANCH_AND_BOUND_MAX_OPERATIONS:
            try:
                found, nodes = branch_and_bound(jobs, known, BRANCH_AND_BOUND_NODE_LIMIT)
            except NodeLimitReached:
                pass
            else:
                starts = incumbent if found is None else found
                meta = solver_meta(
                    "branch and bound (active schedules)",
                    OPTIMAL,
                    makespan_of(jobs, starts),
                    dispatch,
                    effort=nodes,
                    effort_unit=EFFORT_UNIT,
                )
                return starts, OPTIMAL, meta
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
