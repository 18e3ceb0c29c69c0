"""rlvr.scoring: verdicts in input order on every backend, a verifier that hangs scored 0 within its
deadline plus the grace (killed in a process, abandoned in a thread, cancelled on Ray), exceptions
and dying workers turned into verdicts, and each of the six callers routed through it."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import rlvr
from rlvr import scoring
from rlvr.core import Task, Verdict
from rlvr.scoring import Scorer

GRACE_S = 0.5
SLOW_S = 30.0  # how long the slow responses below stall: far past every budget here


def toy_task(i: int) -> Task:
    return Task(
        id=f"toy/s{i}", env_id="toy/Echo-v0", family="toy", prompt=f"say {i}", answer=str(i), difficulty=0.0, seed=i
    )


class EchoVerifier:
    """Correct when the response is the task's answer; waits a few ms that vary by job, so
    workers finish out of order."""

    deadline_s = 2.0

    def verify(self, task: Task, response):
        time.sleep((task.seed * 7919 % 13) / 1000)
        return Verdict.success() if response == task.answer else Verdict.fail("wrong answer")


class SleepingVerifier:
    """Sleeps far past its deadline (a thread can only be abandoned, not stopped)."""

    deadline_s = 0.3

    def verify(self, task: Task, response):
        time.sleep(SLOW_S)
        return Verdict.success()


class SpinningVerifier:
    """Writes its process id to the file named by the response, then spins forever."""

    deadline_s = 0.3

    def verify(self, task: Task, response):
        Path(response).write_text(str(os.getpid()))
        while True:
            pass


class RaisingVerifier:
    deadline_s = 1.0

    def verify(self, task: Task, response):
        raise RuntimeError("the verifier broke")


class NumberVerifier:
    deadline_s = 1.0

    def verify(self, task: Task, response):
        return 1.0  # not a Verdict


class UnbuildableVerifier:
    deadline_s = 1.0

    def __init__(self):
        raise OSError("no such model file")


class DyingVerifier:
    deadline_s = 1.0

    def verify(self, task: Task, response):
        os._exit(3)


class SlowText(str):
    """A response whose length takes ``SLOW_S`` to compute: it stalls any real verifier (they
    all measure the response first) wherever it is judged."""

    def __len__(self) -> int:
        time.sleep(SLOW_S)
        return super().__len__()

    def __bool__(self) -> bool:
        return True


def echo_jobs(count: int) -> tuple[list, list[bool]]:
    jobs = [(toy_task(i), str(i) if i % 3 else "no", EchoVerifier) for i in range(count)]
    return jobs, [i % 3 != 0 for i in range(count)]


def assert_overran(verdict: Verdict, fate: str) -> None:
    assert verdict.reward == 0.0 and not verdict.correct
    assert verdict.details.get("timed_out") is True
    assert "overran its deadline" in verdict.reason and fate in verdict.reason and "\n" not in verdict.reason


# --------------------------------------------------------------------------------------------
# The scorer
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["serial", "thread", "process"])
def test_verdicts_come_back_in_input_order(backend):
    jobs, correct = echo_jobs(150)
    with Scorer(3, backend, GRACE_S) as scorer:
        assert [v.correct for v in scorer.score(jobs)] == correct
        assert [v.correct for v in scorer.score(jobs[::-1])] == correct[::-1]  # the pool is reused
        assert scorer.timeouts == 0
    assert [v.correct for v in scoring.score(jobs[:40], backend, 2)] == correct[:40]
    assert scoring.score([], backend) == []


def test_a_sleeping_verifier_is_abandoned_in_a_thread_and_the_rest_go_on():
    jobs, correct = echo_jobs(12)
    jobs[4] = (toy_task(4), "4", SleepingVerifier)
    correct[4] = False
    with Scorer(2, "thread", GRACE_S) as scorer:
        started = time.monotonic()
        verdicts = scorer.score(jobs)
        elapsed = time.monotonic() - started
        assert [v.correct for v in verdicts] == correct
        assert_overran(verdicts[4], "abandoned")
        assert elapsed < SleepingVerifier.deadline_s + GRACE_S + 2
        assert scorer.timeouts == 1
        again, _ = echo_jobs(12)  # both threads still serve: a fresh one replaced the stuck one
        started = time.monotonic()
        assert [v.correct for v in scorer.score(again)] == [i % 3 != 0 for i in range(12)]
        assert time.monotonic() - started < 2


def test_a_spinning_verifier_is_killed_in_its_process(tmp_path):
    psutil = pytest.importorskip("psutil")
    pid_file = tmp_path / "pid"
    jobs, correct = echo_jobs(9)
    jobs[5] = (toy_task(5), str(pid_file), SpinningVerifier)
    correct[5] = False
    with Scorer(2, "process", GRACE_S) as scorer:
        verdicts = scorer.score(jobs)
        assert [v.correct for v in verdicts] == correct
        assert_overran(verdicts[5], "killed")
        assert scorer.timeouts == 1
        pid = int(pid_file.read_text())
        deadline = time.monotonic() + 5
        while (
            psutil.pid_exists(pid)
            and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        assert [v.correct for v in scorer.score(jobs[:4])] == correct[:4]  # pebble replaced the worker


def test_one_hanging_job_costs_its_own_budget_not_the_batchs():
    """Each job's clock starts when it starts: eight sleeping jobs on two threads take about four
    budgets, and none is cut short while it waits in the queue."""
    jobs = [(toy_task(i), "x", SleepingVerifier) for i in range(8)]
    started = time.monotonic()
    verdicts = scoring.score(jobs, "thread", 2, GRACE_S)
    elapsed = time.monotonic() - started
    assert all(v.details.get("timed_out") for v in verdicts)
    budget = SleepingVerifier.deadline_s + GRACE_S
    assert 4 * budget - 0.1 < elapsed < 4 * budget + 3


@pytest.mark.parametrize("backend", ["serial", "thread", "process"])
def test_exceptions_and_odd_returns_become_verdicts(backend):
    jobs = [
        (toy_task(0), "0", EchoVerifier),
        (toy_task(1), "1", RaisingVerifier),
        (toy_task(2), "2", NumberVerifier),
        (toy_task(3), "3", UnbuildableVerifier),
        (toy_task(4), "4", EchoVerifier),
    ]
    verdicts = scoring.score(jobs, backend, 2, GRACE_S)
    assert [v.correct for v in verdicts] == [True, False, False, False, True]
    assert "RuntimeError: the verifier broke" in verdicts[1].reason
    assert "not a Verdict" in verdicts[2].reason
    assert "OSError: no such model file" in verdicts[3].reason
    assert all(v.reward == 0.0 and "\n" not in v.reason for v in verdicts[1:4])


def test_a_worker_that_dies_scores_its_job_zero():
    jobs = [(toy_task(0), "0", EchoVerifier), (toy_task(1), "1", DyingVerifier), (toy_task(2), "2", EchoVerifier)]
    verdicts = scoring.score(jobs, "process", 2, GRACE_S)
    assert [v.correct for v in verdicts] == [True, False, True]
    assert "died" in verdicts[1].reason and "exit code 3" in verdicts[1].reason


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot be pickled")


@pytest.mark.parametrize("backend", ["serial", "thread", "process"])
def test_a_response_that_cannot_be_pickled_scores_zero_at_once(backend):
    """Red team S8-6: the process pool pickles jobs in its scheduler thread, where the error
    never reached the job's future, and score() waited for ever; a vector env's step too."""
    jobs = [
        (toy_task(0), "0", EchoVerifier),
        (toy_task(1), Unpicklable(), EchoVerifier),
        (toy_task(2), "2", EchoVerifier),
    ]
    started = time.monotonic()
    verdicts = scoring.score(jobs, backend, 2, GRACE_S)
    assert time.monotonic() - started < 30
    assert [v.correct for v in verdicts] == [True, False, True] and verdicts[1].reward == 0.0
    import gymnasium as gym

    envs = gym.make_vec("rlvr/Maze-v0", num_envs=2, difficulty=0.2, backend=backend, workers=2)
    try:
        _, infos = envs.reset(seed=3)
        _, rewards, *_ = envs.step([rlvr.solve(infos["task"][0]), Unpicklable()])
        assert list(rewards) == [1.0, 0.0]
    finally:
        envs.close()


def test_deadlines_come_from_the_job_the_verifier_or_the_default():
    with Scorer(1, "serial") as scorer:
        assert scorer.deadline_of(scoring.Job(toy_task(0), "", EchoVerifier)) == EchoVerifier.deadline_s
        assert scorer.deadline_of(scoring.Job(toy_task(0), "", EchoVerifier, 0.75)) == 0.75
        assert scorer.deadline_of(scoring.Job(toy_task(0), "", UnbuildableVerifier)) == scoring.DEFAULT_DEADLINE_S
        maze = rlvr.make_task("rlvr/Maze-v0", 0, 0.2)
        assert scorer.deadline_of(scoring.Job(maze, "")) == rlvr.make_verifier("rlvr/Maze-v0").deadline_s
        math_task = rlvr.make_task("rlvr/Math-v0", 0, 0.2)
        assert scorer.deadline_of(scoring.Job(math_task, "", {"deadline_s": 0.25})) == 0.25


def test_submit_gives_futures_an_event_loop_can_await():
    async def judge(scorer: Scorer) -> list[Verdict]:
        return await asyncio.gather(*(asyncio.wrap_future(scorer.submit(job)) for job in jobs))

    jobs, correct = echo_jobs(10)
    jobs[3] = (toy_task(3), "3", SleepingVerifier)
    correct[3] = False
    with Scorer(2, "thread", GRACE_S) as scorer:
        verdicts = asyncio.run(judge(scorer))
    assert [v.correct for v in verdicts] == correct
    assert_overran(verdicts[3], "abandoned")


def test_run_calls_bounds_arbitrary_callables_in_threads():
    def stuck():
        time.sleep(SLOW_S)

    def broken():
        raise ValueError("env step failed")

    with Scorer(2, "process", GRACE_S) as scorer:  # env steps run in threads whatever the backend
        results = scorer.run_calls([lambda: ("obs", 1.0), stuck, broken, lambda: 7], [0.2, 0.2, 0.2, 0.2])
        assert results[0] == ("obs", 1.0) and results[3] == 7
        assert_overran(results[1], "abandoned")
        assert isinstance(results[2], Verdict) and "ValueError: env step failed" in results[2].reason
        assert scorer.timeouts == 1


def test_map_runs_untimed_work_on_the_same_workers():
    for backend in ("serial", "thread", "process"):
        with Scorer(2, backend) as scorer:
            assert scorer.map(abs, range(-20, 0)) == list(range(20, 0, -1))


_CPUS = sorted(os.sched_getaffinity(0))


class AffinityVerifier:
    """Answers with the CPUs the worker it runs in may use."""

    deadline_s = 5.0

    def verify(self, task: Task, response):
        return Verdict.success(" ".join(map(str, sorted(os.sched_getaffinity(0)))))


@pytest.mark.skipif(len(_CPUS) < 2, reason="placing workers needs 2 CPUs")
def test_a_pool_with_a_worker_per_cpu_keeps_each_to_a_cpu_of_its_own():
    """Placed workers each keep to one CPU; a worker that dies gives its CPU lease back (the
    kernel drops its lock), and its replacement is placed again; a pool with fewer workers than
    CPUs, or ``place_workers=False``, is not placed; the lease directory goes with the pool."""
    with Scorer(len(_CPUS), "process") as scorer:
        assert scorer._places_workers()
        jobs = [(toy_task(i), str(i), AffinityVerifier) for i in range(24)]
        jobs.insert(12, (toy_task(99), "99", DyingVerifier))
        verdicts = scorer.score(jobs)
        assert "died" in verdicts[12].reason
        seen = {verdict.reason for i, verdict in enumerate(verdicts) if i != 12}
        assert seen <= {str(cpu) for cpu in _CPUS}
        lease_dir = scorer._lease_dir
        assert sorted(os.listdir(lease_dir)) == sorted(f"cpu{cpu}" for cpu in _CPUS)
    assert not os.path.exists(lease_dir)
    everything = " ".join(map(str, _CPUS))
    for scorer in (Scorer(len(_CPUS), "process", place_workers=False), Scorer(1, "process")):
        with scorer:
            assert not scorer._places_workers()
            assert {v.reason for v in scorer.score([(toy_task(0), "0", AffinityVerifier)])} == {everything}
            assert scorer._lease_dir is None


@pytest.mark.skipif(len(_CPUS) < 2, reason="placing workers needs 2 CPUs")
def test_a_worker_waits_briefly_for_a_lease_a_dying_worker_still_holds(tmp_path):
    """Every lease held (by this process, standing in for a worker still dying): a new worker
    given a wait takes the lease let go of meanwhile; one given none stays unplaced."""
    import fcntl
    import subprocess

    held = {}
    for cpu in _CPUS:
        held[cpu] = os.open(tmp_path / f"cpu{cpu}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(held[cpu], fcntl.LOCK_EX)
    code = (
        "import os, sys\nfrom rlvr import scoring\n"
        "scoring._start_worker(sys.argv[1], float(sys.argv[2]))\nprint(sorted(os.sched_getaffinity(0)))\n"
    )
    try:
        unplaced = subprocess.run([sys.executable, "-c", code, str(tmp_path), "0"], capture_output=True, text=True)
        assert unplaced.stdout.strip() == str(_CPUS), unplaced.stderr
        waiting = subprocess.Popen([sys.executable, "-c", code, str(tmp_path), "20"], stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)  # it has started and found every lease taken
        os.close(held.pop(_CPUS[-1]))
        out, _ = waiting.communicate(timeout=30)
        assert out.strip() == str([_CPUS[-1]])
    finally:
        for fd in held.values():
            os.close(fd)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="backend"):
        Scorer(2, "dask")
    with pytest.raises(ValueError, match="workers"):
        Scorer(0, "thread")
    with pytest.raises(ValueError, match="grace_s"):
        Scorer(2, "thread", -1)
    with pytest.raises(ValueError, match="place_workers"):
        Scorer(2, "process", place_workers="yes")
    with pytest.raises(ValueError, match="backend"):
        rlvr.verify_batch([], [], backend="dask")


# --------------------------------------------------------------------------------------------
# The six callers go through the scorer
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_verify_batch_scores_a_stalled_verification_zero(backend):
    tasks = rlvr.generate("rlvr/Maze-v0", 3, seed=5, difficulty=0.2)
    responses = [rlvr.solve(tasks[0]), SlowText(rlvr.solve(tasks[1])), rlvr.solve(tasks[2])]
    started = time.monotonic()
    verdicts = rlvr.verify_batch(tasks, responses, workers=2, backend=backend)
    elapsed = time.monotonic() - started
    assert [v.correct for v in verdicts] == [True, False, True]
    assert_overran(verdicts[1], "killed" if backend == "process" else "abandoned")
    assert elapsed < SLOW_S / 2


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_vector_env_step_scores_a_stalled_verification_zero(backend):
    from rlvr.envs.vector import TaskVectorEnv

    envs = TaskVectorEnv("rlvr/Math-v0", 3, difficulty=0.2, workers=2, backend=backend, deadline_s=0.5)
    try:
        envs.reset(seed=3)
        answers = [rlvr.solve(envs.tasks[0]), SlowText(rlvr.solve(envs.tasks[1])), rlvr.solve(envs.tasks[2])]
        started = time.monotonic()
        _, rewards, *_, infos = envs.step(answers)
        assert time.monotonic() - started < SLOW_S / 2
    finally:
        envs.close()
    assert rewards.tolist() == [1.0, 0.0, 1.0]
    assert_overran(infos["verdict"][1], "killed" if backend == "process" else "abandoned")


def test_trainer_rollouts_score_through_the_scorer():
    from rlvr.trainers import rollout

    assert rollout.Scorer is Scorer
    source = rollout.RewardSource.custom("toy/Echo-v0", SimpleNamespace(), SleepingVerifier())
    with Scorer(2, "thread", GRACE_S) as scorer:
        verdicts = scorer.score([(toy_task(0), "0", source.verifier_factory, source.deadline_s)])
    assert_overran(verdicts[0], "abandoned")


def test_trl_reward_function_scores_a_stalled_verification_zero():
    from rlvr.integrations import trl as rlvr_trl
    from rlvr.integrations.verl import ground_truth

    tasks = [rlvr.make_task("rlvr/Math-v0", seed, 0.2) for seed in range(3)]
    reward = rlvr_trl.reward_function(workers=2, deadline_s=0.5)
    completions = [rlvr.solve(tasks[0]), SlowText(rlvr.solve(tasks[1])), rlvr.solve(tasks[2])]
    started = time.monotonic()
    rewards = reward([t.prompt for t in tasks], completions, task=[ground_truth(t) for t in tasks])
    assert rewards == [1.0, 0.0, 1.0] and time.monotonic() - started < SLOW_S / 2


class VerifierSlowText(SlowText):
    """Slow to measure only off the main thread, where the event loop keeps a sample's length
    and the scorer's threads judge it."""

    def __len__(self) -> int:
        return str.__len__(self) if threading.current_thread() is threading.main_thread() else super().__len__()


def test_openai_eval_verifies_each_reply_through_the_scorer():
    pytest.importorskip("openai")
    from rlvr.integrations import openai_eval

    class FakeCompletions:
        def __init__(self, texts):
            self.texts = texts

        async def create(self, **body):
            text = self.texts.pop(0)
            return SimpleNamespace(
                choices=[SimpleNamespace(message=SimpleNamespace(content=text), finish_reason="stop")], usage=None
            )

    tasks = [rlvr.make_task("rlvr/Math-v0", seed, 0.2) for seed in range(2)]
    client = SimpleNamespace(
        chat=SimpleNamespace(
            completions=FakeCompletions([rlvr.solve(tasks[0]), VerifierSlowText(rlvr.solve(tasks[1]))])
        )
    )
    settings = openai_eval.RequestSettings("m", None, None, None, None, 0, False, None)
    watch = openai_eval.ConnectionWatch(0, "http://fake")

    async def run(scorer):
        semaphore, verify_slots = asyncio.Semaphore(2), asyncio.Semaphore(2)
        return [
            await openai_eval.sample_task(
                client, semaphore, scorer, settings, task, [], i, {"deadline_s": 0.5}, watch, verify_slots, 1_000
            )
            for i, task in enumerate(tasks)
        ]

    started = time.monotonic()
    with Scorer(2, "thread", GRACE_S) as scorer:
        samples = asyncio.run(run(scorer))
    assert [s.correct for s in samples] == [True, False] and "overran its deadline" in samples[1].reason
    assert time.monotonic() - started < SLOW_S / 2


# --------------------------------------------------------------------------------------------
# Ray (only where it is installed and a local Ray starts)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'rlvr[ray]'")
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray workers need not import this file
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_ray_keeps_order_and_cancels_a_hanging_job(local_ray):
    jobs, correct = echo_jobs(30)
    jobs[5] = (toy_task(5), "5", SleepingVerifier)  # mid-chunk (chunks 4–7): 6 and 7 are sent again
    correct[5] = False
    started = time.monotonic()
    with Scorer(2, "ray", GRACE_S, chunk_size=4) as scorer:
        verdicts = scorer.score(jobs)
        assert scorer.timeouts == 1
    assert time.monotonic() - started < SLOW_S / 2
    assert [v.correct for v in verdicts] == correct
    assert_overran(verdicts[5], "cancelled")
    bad = scoring.score([(toy_task(0), "0", RaisingVerifier), (toy_task(1), "1", EchoVerifier)], "ray", 2)
    assert [v.correct for v in bad] == [False, True] and "the verifier broke" in bad[0].reason


def test_ray_backend_verify_batch_scores_a_stalled_verification_zero(local_ray):
    from rlvr.integrations import ray_backend

    tasks = rlvr.generate("rlvr/Maze-v0", 3, seed=5, difficulty=0.2)
    responses = [rlvr.solve(tasks[0]), SlowText(rlvr.solve(tasks[1])), rlvr.solve(tasks[2])]
    started = time.monotonic()
    verdicts = ray_backend.verify_batch(tasks, responses, workers=2, chunk_size=3)
    assert time.monotonic() - started < SLOW_S / 2
    assert [v.correct for v in verdicts] == [True, False, True]
    assert_overran(verdicts[1], "cancelled")
