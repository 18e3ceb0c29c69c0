"""Scheduling's reference solver, compiled by numba: the two dispatch rules, the preemptive
lower bound and an exact branch and bound over active schedules.

Why by hand: the family's instances are small (6–35 operations at the declared levels), and
the general solvers at hand spend most of their time on fixed costs there: OR-Tools CP-SAT
takes 0.4–0.7 ms a call to build, load and prove a makespan that this search proves in tens
of microseconds, and the same search in CPython took twice CP-SAT's time at 20 operations. No
library offers a job-shop search without those costs, so it is written here and compiled
with numba (``cache=True``: the machine code is kept in ``__pycache__`` beside this module,
or in numba's user cache where that is read-only; a process loads it in ~0.3 s with numba's
import, and the first process of an installation compiles it in ~7 s: ``warm_up``).

Determinism: integer arithmetic only and fixed tie-breaking, so an instance gives the same
schedules, bound and node count in any process.

``JobShop`` takes an instance (per job, its operations as [machine, duration]) and offers
each routine on it; the instance is converted to arrays once.
"""

from __future__ import annotations

import numpy as np
from numba import njit

FOUND = 0  # a schedule shorter than the upper bound, of least makespan
NONE_SHORTER = 1  # none is shorter than the upper bound
NODE_LIMIT = 2  # the node budget ran out before the search finished
BOUND_MET = 3  # a dispatch schedule meets the lower bound (no search)
LATEST = 1 << 62  # later than any time
FORWARD_NODES = 250  # nodes the search spends on the instance as given before it turns to the mirrored one
PAIR_ROUNDS = 32  # rounds of pairwise order inference per node at most (it stops at a fixpoint, nearly always sooner)


class NodeLimitReached(Exception):
    """The branch and bound spent its node budget before finishing; ``floor``: the least
    makespan it had not ruled out (a lower bound for whatever solver goes on)."""

    def __init__(self, floor: int) -> None:
        super().__init__(f"node limit reached; no schedule shorter than {floor} ruled out")
        self.floor = floor


class JobShop:
    """One instance (``jobs``: per job its operations as [machine, duration], machines
    numbered from 0, durations at least 1; ValueError otherwise) as int64 arrays:
    ``machine_of`` and ``duration_of`` [job, step] (padded with zeros past ``lengths[job]``)."""

    def __init__(self, jobs: list[list[list[int]]]) -> None:
        self.lengths = np.array([len(job) for job in jobs], dtype=np.int64)
        try:  # every job visits every machine: one call
            table = np.array(jobs, dtype=np.int64).reshape(len(jobs), -1, 2)
            invalid = table.size and (table[:, :, 1].min() < 1 or table[:, :, 0].min() < 0)
            self.machine_of, self.duration_of = (
                np.ascontiguousarray(table[:, :, 0]),
                np.ascontiguousarray(table[:, :, 1]),
            )
        except ValueError:  # jobs of unequal length
            width = max(1, int(self.lengths.max(initial=0)))
            self.machine_of = np.zeros((len(jobs), width), dtype=np.int64)
            self.duration_of = np.zeros((len(jobs), width), dtype=np.int64)
            invalid = False
            for j, job in enumerate(jobs):
                for k, (machine, duration) in enumerate(job):
                    self.machine_of[j, k], self.duration_of[j, k] = machine, duration
                    invalid = invalid or duration < 1 or machine < 0
        if invalid:
            raise ValueError("job-shop durations must be at least 1 and machines numbered from 0")
        if self.machine_of.shape[1] == 0:  # no job has an operation
            self.machine_of = self.duration_of = np.zeros((len(jobs), 1), dtype=np.int64)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.machine_of, self.duration_of, self.lengths

    def rows(self, starts: np.ndarray) -> list[list[int]]:
        return [starts[j, :length].tolist() for j, length in enumerate(self.lengths.tolist())]

    def earliest_start(self) -> list[list[int]]:
        """Repeatedly schedule, of every job's next operation, the one that can start earliest
        (ties to the lower job) at that time: the family's greedy."""
        return self.rows(_dispatch(*self.arrays(), False))

    def non_delay(self) -> list[list[int]]:
        """A non-delay schedule by the "most work remaining after it" rule: repeatedly take the
        earliest time at which any job's next operation can start and the machine of the first
        such operation (lowest job); of the operations that can start then on that machine,
        schedule the one whose job has the most work left after it (ties to the lower job)."""
        return self.rows(_dispatch(*self.arrays(), True))

    def lower_bound(self) -> int:
        """No schedule is shorter than its longest job, nor than any machine's preemptive
        one-machine bound (``preemptive_bound``) over its operations with their heads (the
        work before them in their job) and tails (the work after)."""
        return int(_lower_bound(*self.arrays()))

    def branch_and_bound(self, floor: int, upper_bound: int, node_limit: int) -> tuple[list[list[int]] | None, int]:
        """A schedule shorter than ``upper_bound`` of least makespan, exactly, or None when none
        is (so a schedule of ``upper_bound`` is optimal); with the search nodes spent. Raises
        ``NodeLimitReached`` past ``node_limit`` nodes. ``floor``: a lower bound on the
        makespan (``lower_bound``, or less).

        For each makespan T from ``floor`` up, a depth-first search for a schedule of makespan
        ≤ T over Giffler and Thompson's active schedules (some optimal schedule is active): at
        each node the schedulable operation that can finish first fixes a machine, and the
        search branches on each operation of that machine that could start before then
        (earliest start first, then the job with the most work left, then the lower job). The
        first T with a schedule is the optimum, and the schedule found is the first optimal
        active schedule in that order (the same that a search from ``upper_bound`` down keeping
        the best so far would end with). A node is cut when its operations' heads and
        deadlines (after pairwise order inference on each machine) leave no room, or a
        machine's preemptive schedule misses a deadline (``_cut``)."""
        status, best, nodes, reached = _search(*self.arrays(), int(floor), int(upper_bound), int(node_limit))
        if status == NODE_LIMIT:
            raise NodeLimitReached(int(reached))
        return (self.rows(best) if status == FOUND else None), int(nodes)

    def reference(self, node_limit: int) -> tuple[int, list[list[int]], int, int, int, int]:
        """The reference schedule's search in one compiled call: (outcome, starts, their
        makespan, the earliest-start schedule's makespan, floor, nodes). The better of the
        earliest-start and non-delay schedules (the earliest-start one on a tie) is the known
        schedule; ``BOUND_MET`` when it meets ``lower_bound`` (no search); else
        ``branch_and_bound`` below its makespan, for ``FORWARD_NODES`` nodes, then on the
        mirrored instance (every job's operations in reverse order: the same makespans, a
        schedule run backwards) from the least makespan not yet ruled out, for the rest of
        ``node_limit`` (about one instance in ten at d = 1 needs it, and the mirrored search is
        often far shorter): ``FOUND`` (its schedule), ``NONE_SHORTER`` (the known schedule is
        optimal) or ``NODE_LIMIT`` (the known schedule, and ``floor`` the least makespan not
        ruled out)."""
        outcome, starts, makespan, dispatch, floor, nodes = _reference(*self.arrays(), int(node_limit))
        return int(outcome), self.rows(starts), int(makespan), int(dispatch), int(floor), int(nodes)


def warm_up() -> None:
    """Compile every routine now, or load it from numba's cache: ``scripts/setup.sh`` calls
    this so that no first Scheduling task waits for the compilation."""
    shop = JobShop([[[0, 2], [1, 1]], [[1, 2], [0, 1]], [[0, 1], [1, 3]]])
    shop.reference(10)
    shop.branch_and_bound(0, 9, 10)
    shop.earliest_start()
    shop.non_delay()
    shop.lower_bound()
    preemptive_bound([(0, 1, 0)])


def preemptive_bound(operations: list[tuple[int, int, int]]) -> int:
    """The least max(completion + tail) of one machine's operations, each (head, duration,
    tail) released at its head, when operations may be interrupted: Jackson's preemptive
    schedule (at every release or completion run the released operation of longest tail),
    which is optimal for that relaxation, so its value bounds every schedule from below."""
    table = np.array(operations, dtype=np.int64).reshape(-1, 3)
    return int(_jackson(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy(), len(table)))


@njit(cache=True, nogil=True)
def _jackson(release, left, tail, count):
    """``preemptive_bound`` of the first ``count`` operations (``left`` is used up)."""
    time = LATEST
    for i in range(count):
        if release[i] < time:
            time = release[i]
    bound = 0
    unfinished = count
    while unfinished:
        pick = -1
        next_release = LATEST
        for i in range(count):
            if left[i] > 0:
                if release[i] <= time:
                    if pick < 0 or tail[i] > tail[pick]:
                        pick = i
                elif release[i] < next_release:
                    next_release = release[i]
        if pick < 0:
            time = next_release
            continue
        run = left[pick]
        if time + run > next_release:
            run = next_release - time
        time += run
        left[pick] -= run
        if left[pick] == 0:
            unfinished -= 1
            if time + tail[pick] > bound:
                bound = time + tail[pick]
    return bound


@njit(cache=True, nogil=True)
def _machines(machine_of, lengths):
    machines = 0
    for j in range(lengths.shape[0]):
        for k in range(lengths[j]):
            if machine_of[j, k] + 1 > machines:
                machines = machine_of[j, k] + 1
    return machines


@njit(cache=True, nogil=True)
def _dispatch(machine_of, duration_of, lengths, non_delay):
    """``JobShop.earliest_start`` (``non_delay`` false) or ``JobShop.non_delay``: the starts."""
    jobs = lengths.shape[0]
    machine_free = np.zeros(_machines(machine_of, lengths), np.int64)
    job_free = np.zeros(jobs, np.int64)
    next_step = np.zeros(jobs, np.int64)
    work_left = np.zeros(jobs, np.int64)
    times = np.zeros(jobs, np.int64)
    starts = np.zeros(machine_of.shape, np.int64)
    unscheduled = 0
    for j in range(jobs):
        unscheduled += lengths[j]
        for k in range(lengths[j]):
            work_left[j] += duration_of[j, k]
    while unscheduled:
        start = -1
        first = -1
        for j in range(jobs):
            k = next_step[j]
            if k < lengths[j]:
                free = machine_free[machine_of[j, k]]
                time = job_free[j] if job_free[j] > free else free
                times[j] = time
                if first < 0 or time < start:
                    start = time
                    first = j
        job = first
        machine = machine_of[first, next_step[first]]
        if non_delay:
            after = work_left[first] - duration_of[first, next_step[first]]
            for j in range(first + 1, jobs):
                k = next_step[j]
                if k < lengths[j] and times[j] == start and machine_of[j, k] == machine:
                    left = work_left[j] - duration_of[j, k]
                    if left > after:
                        job = j
                        after = left
        k = next_step[job]
        starts[job, k] = start
        job_free[job] = start + duration_of[job, k]
        machine_free[machine] = start + duration_of[job, k]
        work_left[job] -= duration_of[job, k]
        next_step[job] = k + 1
        unscheduled -= 1
    return starts


@njit(cache=True, nogil=True)
def _makespan(starts, duration_of, lengths):
    makespan = 0
    for j in range(lengths.shape[0]):
        for k in range(lengths[j]):
            if starts[j, k] + duration_of[j, k] > makespan:
                makespan = starts[j, k] + duration_of[j, k]
    return makespan


@njit(cache=True, nogil=True)
def _mirrored(table, lengths):
    """``table`` with each job's operations in reverse order."""
    mirror = np.zeros_like(table)
    for j in range(lengths.shape[0]):
        for k in range(lengths[j]):
            mirror[j, k] = table[j, lengths[j] - 1 - k]
    return mirror


@njit(cache=True, nogil=True)
def _reference(machine_of, duration_of, lengths, node_limit):
    """``JobShop.reference``."""
    incumbent = _dispatch(machine_of, duration_of, lengths, False)
    dispatch = known = _makespan(incumbent, duration_of, lengths)
    floor = _lower_bound(machine_of, duration_of, lengths)
    if known > floor:
        priority = _dispatch(machine_of, duration_of, lengths, True)
        makespan = _makespan(priority, duration_of, lengths)
        if makespan < known:
            incumbent = priority
            known = makespan
    if known == floor:
        return BOUND_MET, incumbent, known, dispatch, floor, 0
    budget = min(node_limit, FORWARD_NODES)
    status, best, nodes, reached = _search(machine_of, duration_of, lengths, floor, known, budget)
    if status == NODE_LIMIT and node_limit > budget:  # the same question with every job run backwards
        mirror_machines, mirror_durations = _mirrored(machine_of, lengths), _mirrored(duration_of, lengths)
        status, mirror, more, reached = _search(
            mirror_machines, mirror_durations, lengths, reached, known, node_limit - budget
        )
        nodes = budget + more
        if status == FOUND:  # its schedule run backwards from the same makespan
            for j in range(lengths.shape[0]):
                for k in range(lengths[j]):
                    best[j, k] = reached - mirror[j, lengths[j] - 1 - k] - duration_of[j, k]
    if status == FOUND:
        return FOUND, best, reached, dispatch, floor, nodes
    if status == NONE_SHORTER:
        return NONE_SHORTER, incumbent, known, dispatch, floor, nodes
    return NODE_LIMIT, incumbent, known, dispatch, reached, nodes


@njit(cache=True, nogil=True)
def _lower_bound(machine_of, duration_of, lengths):
    """``JobShop.lower_bound``."""
    jobs = lengths.shape[0]
    machines = _machines(machine_of, lengths)
    size = max(1, machine_of.size)  # scratch space for one machine's operations
    release = np.zeros(size, np.int64)
    left = np.zeros(size, np.int64)
    tail = np.zeros(size, np.int64)
    totals = np.zeros(jobs, np.int64)
    bound = 0
    for j in range(jobs):
        for k in range(lengths[j]):
            totals[j] += duration_of[j, k]
        if totals[j] > bound:
            bound = totals[j]
    for machine in range(machines):
        count = 0
        for j in range(jobs):
            done = 0
            for k in range(lengths[j]):
                if machine_of[j, k] == machine:
                    release[count] = done
                    left[count] = duration_of[j, k]
                    tail[count] = totals[j] - done - duration_of[j, k]
                    count += 1
                done += duration_of[j, k]
        if count:
            value = _jackson(release, left, tail, count)
            if value > bound:
                bound = value
    return bound


@njit(cache=True, nogil=True)
def _search(machine_of, duration_of, lengths, floor, upper_bound, node_limit):
    """(status, starts, nodes, the least makespan not ruled out): ``JobShop.branch_and_bound``."""
    jobs = lengths.shape[0]
    machines = _machines(machine_of, lengths)
    total = 0
    for j in range(jobs):
        total += lengths[j]
    # each machine's operations (job, step)
    on_count = np.zeros(machines, np.int64)
    for j in range(jobs):
        for k in range(lengths[j]):
            on_count[machine_of[j, k]] += 1
    width = 1
    for machine in range(machines):
        if on_count[machine] > width:
            width = on_count[machine]
    on_job = np.zeros((machines, width), np.int64)
    on_step = np.zeros((machines, width), np.int64)
    on_count[:] = 0
    remaining = np.zeros(jobs, np.int64)  # unscheduled work per job
    for j in range(jobs):
        for k in range(lengths[j]):
            machine = machine_of[j, k]
            on_job[machine, on_count[machine]] = j
            on_step[machine, on_count[machine]] = k
            on_count[machine] += 1
            remaining[j] += duration_of[j, k]
    next_step = np.zeros(jobs, np.int64)
    job_ready = np.zeros(jobs, np.int64)
    machine_ready = np.zeros(machines, np.int64)
    starts = np.zeros(machine_of.shape, np.int64)
    # the search stack, one level per scheduled operation: its choices (jobs, in branching
    # order), the next one to try, the one applied and what applying it changed
    choices = np.zeros((total + 1, max(jobs, 1)), np.int64)
    choice_count = np.zeros(total + 1, np.int64)
    position = np.zeros(total + 1, np.int64)
    applied = np.zeros(total + 1, np.int64)  # the job scheduled at this level, or −1
    level_machine = np.zeros(total + 1, np.int64)
    saved_job_ready = np.zeros(total + 1, np.int64)
    saved_machine_ready = np.zeros(total + 1, np.int64)
    keys = np.zeros((max(jobs, 1), 2), np.int64)
    heads = np.zeros(machine_of.shape, np.int64)  # per unscheduled operation: earliest start, latest end
    deadlines = np.zeros(machine_of.shape, np.int64)
    release = np.zeros(width, np.int64)  # scratch space for the preemptive schedules
    left = np.zeros(width, np.int64)
    due = np.zeros(width, np.int64)
    open_count = np.zeros(machines, np.int64)  # each machine's unscheduled operations, per node
    open_job = np.zeros((machines, width), np.int64)
    open_step = np.zeros((machines, width), np.int64)
    shop = (lengths, machine_of, duration_of, on_count, on_job, on_step)
    scratch = (heads, deadlines, release, left, due, open_count, open_job, open_step)
    stack = (choices, choice_count, position, applied, level_machine, keys)

    nodes = 0
    if total == 0:  # the empty schedule, of makespan 0
        return (FOUND if upper_bound > 0 else NONE_SHORTER), starts, nodes, 0
    for target in range(floor, upper_bound):  # is there a schedule of makespan ≤ target?
        cutoff = target + 1
        if _cut(cutoff, shop, job_ready, machine_ready, next_step, scratch):
            continue
        nodes += 1
        if nodes > node_limit:
            return NODE_LIMIT, starts, nodes, target
        level = 0
        _branch(level, shop, job_ready, machine_ready, next_step, remaining, heads, deadlines, stack)
        while level >= 0:
            j = applied[level]
            if j >= 0:  # undo the choice tried last at this level
                machine = level_machine[level]
                step = next_step[j] - 1
                next_step[j] = step
                remaining[j] += duration_of[j, step]
                job_ready[j] = saved_job_ready[level]
                machine_ready[machine] = saved_machine_ready[level]
                applied[level] = -1
            if position[level] == choice_count[level]:
                level -= 1
                continue
            j = choices[level, position[level]]
            position[level] += 1
            machine = level_machine[level]
            step = next_step[j]
            start = job_ready[j] if job_ready[j] > machine_ready[machine] else machine_ready[machine]
            saved_job_ready[level] = job_ready[j]
            saved_machine_ready[level] = machine_ready[machine]
            applied[level] = j
            starts[j, step] = start
            job_ready[j] = machine_ready[machine] = start + duration_of[j, step]
            next_step[j] = step + 1
            remaining[j] -= duration_of[j, step]
            if _cut(cutoff, shop, job_ready, machine_ready, next_step, scratch):
                continue
            nodes += 1
            if nodes > node_limit:
                return NODE_LIMIT, starts, nodes, target
            if level + 1 == total:  # complete, of makespan ≤ target: the least, as none shorter exists
                return FOUND, starts, nodes, target
            level += 1
            _branch(level, shop, job_ready, machine_ready, next_step, remaining, heads, deadlines, stack)
    return NONE_SHORTER, starts, nodes, upper_bound


@njit(cache=True, nogil=True)
def _branch(level, shop, job_ready, machine_ready, next_step, remaining, heads, deadlines, stack):
    """Fill ``level``'s choices: of the schedulable operations, the one that can finish first
    (the lower job on a tie) fixes a machine; the choices are that machine's schedulable
    operations that can start before then, by earliest start, then most work left in the job,
    then the lower job. ``stack``: the search stack's arrays, of which it fills row ``level``."""
    lengths, machine_of, duration_of = shop[0], shop[1], shop[2]
    choices, choice_count, position, applied, level_machine, keys = stack
    jobs = lengths.shape[0]
    finish = -1
    first = -1
    for j in range(jobs):
        k = next_step[j]
        if k < lengths[j]:
            free = machine_ready[machine_of[j, k]]
            end = (job_ready[j] if job_ready[j] > free else free) + duration_of[j, k]
            if first < 0 or end < finish:
                finish = end
                first = j
    machine = machine_of[first, next_step[first]]
    free = machine_ready[machine]
    count = 0
    for j in range(jobs):
        k = next_step[j]
        if k < lengths[j] and machine_of[j, k] == machine:
            start = job_ready[j] if job_ready[j] > free else free
            if start >= finish or start < heads[j, k] or start + duration_of[j, k] > deadlines[j, k]:
                continue  # not in the conflict set, or the node's cut ruled that start out
            # insert by (start, −remaining); j rises, so equal keys keep job order
            i = count
            while i > 0 and (keys[i - 1, 0] > start or (keys[i - 1, 0] == start and keys[i - 1, 1] > -remaining[j])):
                keys[i, 0] = keys[i - 1, 0]
                keys[i, 1] = keys[i - 1, 1]
                choices[level, i] = choices[level, i - 1]
                i -= 1
            keys[i, 0] = start
            keys[i, 1] = -remaining[j]
            choices[level, i] = j
            count += 1
    choice_count[level] = count
    position[level] = 0
    applied[level] = -1
    level_machine[level] = machine


@njit(cache=True, nogil=True)
def _cut(cutoff, shop, job_ready, machine_ready, next_step, scratch):
    """Whether no completion of the node's partial schedule has a makespan below ``cutoff``.

    Each unscheduled operation gets a head (earliest start: along its job from the job's ready
    time, waiting for each machine's free time) and a deadline (latest end: back along its job
    from cutoff − 1). Then, up to ``PAIR_ROUNDS`` rounds or a fixpoint: for each pair of one
    machine's unscheduled operations where one order cannot meet the deadline, the other order
    raises the later one's head and lowers the earlier one's deadline, and heads and deadlines
    are carried along the jobs again. Cut when an operation's head plus duration passes its
    deadline, when neither order of a pair fits, or when some machine's preemptive schedule
    (at every release or completion run the released operation of earliest deadline) ends an
    operation after its deadline: each rules out every completion. ``shop``: the instance's
    arrays and each machine's operations (job, step); ``scratch``: arrays it overwrites."""
    lengths, machine_of, duration_of, on_count, on_job, on_step = shop
    heads, deadlines, release, left, due, open_count, open_job, open_step = scratch
    jobs = lengths.shape[0]
    machines = on_count.shape[0]
    for j in range(jobs):
        ready = job_ready[j]
        for k in range(next_step[j], lengths[j]):
            free = machine_ready[machine_of[j, k]]
            if free > ready:
                ready = free
            heads[j, k] = ready
            ready += duration_of[j, k]
        if ready >= cutoff:
            return True
        latest = cutoff - 1
        for k in range(lengths[j] - 1, next_step[j] - 1, -1):
            deadlines[j, k] = latest
            latest -= duration_of[j, k]
    for machine in range(machines):  # each machine's unscheduled operations
        count = 0
        for slot in range(on_count[machine]):
            j = on_job[machine, slot]
            if on_step[machine, slot] >= next_step[j]:
                open_job[machine, count] = j
                open_step[machine, count] = on_step[machine, slot]
                count += 1
        open_count[machine] = count
    for _ in range(PAIR_ROUNDS):
        changed = False
        for machine in range(machines):
            count = open_count[machine]
            for first in range(count):
                a = open_job[machine, first]
                ka = open_step[machine, first]
                pa = duration_of[a, ka]
                for second in range(first + 1, count):
                    b = open_job[machine, second]
                    kb = open_step[machine, second]
                    pb = duration_of[b, kb]
                    a_first = heads[a, ka] + pa + pb <= deadlines[b, kb]
                    b_first = heads[b, kb] + pb + pa <= deadlines[a, ka]
                    if not a_first and not b_first:
                        return True
                    # the two orders written out: through a shared helper (even inline="always")
                    # the whole search took a third longer
                    if not b_first:  # a before b
                        if heads[b, kb] < heads[a, ka] + pa:
                            heads[b, kb] = heads[a, ka] + pa
                            changed = True
                        if deadlines[a, ka] > deadlines[b, kb] - pb:
                            deadlines[a, ka] = deadlines[b, kb] - pb
                            changed = True
                    elif not a_first:  # b before a
                        if heads[a, ka] < heads[b, kb] + pb:
                            heads[a, ka] = heads[b, kb] + pb
                            changed = True
                        if deadlines[b, kb] > deadlines[a, ka] - pa:
                            deadlines[b, kb] = deadlines[a, ka] - pa
                            changed = True
        if not changed:
            break
        for j in range(jobs):
            for k in range(next_step[j] + 1, lengths[j]):
                if heads[j, k] < heads[j, k - 1] + duration_of[j, k - 1]:
                    heads[j, k] = heads[j, k - 1] + duration_of[j, k - 1]
            for k in range(lengths[j] - 2, next_step[j] - 1, -1):
                if deadlines[j, k] > deadlines[j, k + 1] - duration_of[j, k + 1]:
                    deadlines[j, k] = deadlines[j, k + 1] - duration_of[j, k + 1]
            for k in range(next_step[j], lengths[j]):
                if heads[j, k] + duration_of[j, k] > deadlines[j, k]:
                    return True
    for machine in range(machines):
        count = open_count[machine]
        if count < 3:  # the pair rule above decides two operations exactly
            continue
        for i in range(count):  # insert by release
            j = open_job[machine, i]
            k = open_step[machine, i]
            at = i
            while at > 0 and release[at - 1] > heads[j, k]:
                release[at] = release[at - 1]
                left[at] = left[at - 1]
                due[at] = due[at - 1]
                at -= 1
            release[at] = heads[j, k]
            left[at] = duration_of[j, k]
            due[at] = deadlines[j, k]
        time = release[0]
        released = 0  # operations [0, released) are released by ``time``
        unfinished = count
        while unfinished:
            while released < count and release[released] <= time:
                released += 1
            pick = -1
            for i in range(released):
                if left[i] > 0 and (pick < 0 or due[i] < due[pick]):
                    pick = i
            if pick < 0:
                time = release[released]
                continue
            run = left[pick]
            if released < count and time + run > release[released]:
                run = release[released] - time
            time += run
            left[pick] -= run
            if left[pick] == 0:
                unfinished -= 1
                if time > due[pick]:
                    return True
    return False
