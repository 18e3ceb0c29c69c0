"""The attack library and `rlvr audit`: every registered env passes the audit, and the audit
itself catches what it promises to catch (a scoring attack, a hang, chance hits)."""

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rlvr
from rlvr.attacks import CHANCE_ATTACKS, audit, audit_pair, generic_attacks
from rlvr.core import Task, Verdict
from rlvr.envs.registry import ENV_SPECS

ENV_IDS = [spec.id for spec in ENV_SPECS]
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
# the generator options an env cannot be made without: data the project does not ship
REQUIRED_OPTIONS = {"rlvr/VerilogEval-v0": {"dataset": SHARED_DATA / "verilog-eval" / "dataset_spec-to-rtl"}}
# Verilog's and SWE's envs are audited here under a shorter deadline, so the attacks that run to
# it (compile bombs, endless simulations, hanging tests) end sooner (the four audits took ~120 s
# of the suite, ~35 s now); their family attacks run at the default deadline in
# tests/test_verilog.py and tests/test_swe.py, and every attack of Verilog-v0 and SWE-v0 in
# tests/test_sandbox_docker.py. The reference must still pass under the shorter deadline.
SHORT_DEADLINE_S = {"rlvr/Verilog-v0": 6.0, "rlvr/VerilogEval-v0": 6.0, "rlvr/SWE-v0": 8.0, "rlvr/SWEAgent-v0": 8.0}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_audit_passes_on_every_env(env_id):
    options = REQUIRED_OPTIONS.get(env_id, {})
    absent = [str(path) for path in options.values() if not path.exists()]
    if absent:
        pytest.skip(f"{env_id} needs its dataset, absent here: {absent[0]}")
    deadline = {"deadline_s": SHORT_DEADLINE_S[env_id]} if env_id in SHORT_DEADLINE_S else {}
    generator_options = {k: str(v) for k, v in options.items()}
    report = audit(
        env_id,
        n=1,
        seed=0,
        difficulties=(0.0, 0.5, 1.0),
        generator_options=generator_options,
        verifier_options=deadline,
    )
    assert report.passed, report.table()
    assert report.tasks == 3 and len(report.rows) >= len(
        generic_attacks(_toy_task(0), "<answer>1</answer>", "<answer>2</answer>", None)
    )
    if deadline:  # a deadline too short for honest work would pass every attack for nothing
        generator = rlvr.make_generator(env_id, **generator_options)
        verifier = rlvr.make_verifier(env_id, **deadline)
        for difficulty in (0.0, 0.5, 1.0):
            task = generator.generate(0, difficulty)
            assert verifier.verify(task, generator.solve(task)).correct, task.id


# envs whose verifier runs candidates in a sandbox: their wider-seed runs live with their own
# families' tests (a sandbox run per attack would take minutes here)
SANDBOXED = {
    "rlvr/Code-v0",
    "rlvr/CodeFeedback-v0",
    "rlvr/SWE-v0",
    "rlvr/SWEAgent-v0",
    "rlvr/Verilog-v0",
    "rlvr/VerilogEval-v0",
}
UNSEEN_SEED = 20_000  # far from the seeds other tests use


@pytest.mark.parametrize("env_id", [env_id for env_id in ENV_IDS if env_id not in SANDBOXED])
def test_family_attacks_hold_on_unseen_seeds(env_id):
    """Every attack on 4 tasks per difficulty at seeds no other test uses: some family attacks
    apply only to some tasks (red team S9: Math's zero-over-zero-factor needs an expression
    answer and scored on every one at seeds 20000-20029, while seed 0's tasks had none)."""
    report = audit(env_id, n=4, seed=UNSEEN_SEED, difficulties=(0.25, 0.5, 0.75, 1.0))
    assert report.passed, report.table()


# --- a toy family to audit the audit -------------------------------------------------------


def _toy_task(seed: int) -> Task:
    value = random.Random(seed).randrange(1_000_000)
    return Task(
        id=f"toy/{seed}",
        env_id="toy/Toy-v0",
        family="toy",
        prompt=f"Repeat {value} in <answer></answer>.",
        answer=value,
        difficulty=0.0,
        seed=seed,
        params={},
    )


class ToyGenerator:
    family = "toy"

    def generate(self, seed, difficulty=0.0):
        return _toy_task(seed)

    def solve(self, task):
        return f"<answer>{task.answer}</answer>"

    def wrong_response(self, task):
        return f"<answer>{task.answer + 1}</answer>"


class StrictVerifier:
    deadline_s = 1.0

    def verify(self, task, response):
        if isinstance(response, str) and response.strip() == f"<answer>{task.answer}</answer>":
            return Verdict.success()
        return Verdict.fail("no")


class GullibleVerifier(StrictVerifier):
    """Accepts any answer that merely contains the reference digits — the hedge attack scores."""

    def verify(self, task, response):
        if isinstance(response, str) and "<answer>" in response and str(task.answer) in response.split("</think>")[-1]:
            return Verdict.success()
        return Verdict.fail("no")


class SlowVerifier(StrictVerifier):
    def verify(self, task, response):
        if response == "":
            time.sleep(4.0)
        return super().verify(task, response)


class TaskBlindVerifier(StrictVerifier):
    """Accepts any well-formed reference of any task: another seed's reference scores every time."""

    def verify(self, task, response):
        if isinstance(response, str) and response.startswith("<answer>") and response[8:-9].isdigit():
            return Verdict.success()
        return Verdict.fail("no")


def test_strict_toy_family_passes():
    report = audit_pair(ToyGenerator(), StrictVerifier(), n=3, difficulties=(0.0,))
    assert report.passed, report.table()
    assert report.table().splitlines()[-1].endswith(": 0 scored, 0 overran")


def test_audit_catches_a_scoring_attack():
    report = audit_pair(ToyGenerator(), GullibleVerifier(), n=2, difficulties=(0.0,))
    assert not report.passed
    failed = {row.attack for row in report.rows if row.failed}
    assert "hedge-wrong-or-reference" in failed and "reference-then-open-think" in failed
    assert report.scored == len(failed)


def test_audit_catches_an_overrun_without_hanging():
    start = time.monotonic()
    report = audit_pair(ToyGenerator(), SlowVerifier(), n=1, difficulties=(0.0,))
    assert time.monotonic() - start < 15
    assert [row.attack for row in report.rows if row.overruns] == ["empty"]
    assert not report.passed and report.overran == 1


class SteadyVerifier(StrictVerifier):
    """Blank or prompt-echoing answers (4 attacks a task) take 0.6 s, within the 2.25 s budget."""

    deadline_s = 0.2

    def verify(self, task, response):
        if isinstance(response, str) and (not response.strip() or task.prompt in response):
            time.sleep(0.6)
        return super().verify(task, response)


def test_parallel_audit_charges_a_call_from_its_own_start():
    """Two workers and 3 tasks' calls in flight: the last slow call waits in the queue longer
    than the budget, and is not charged for the wait; the verdicts are one worker's."""
    parallel = audit_pair(ToyGenerator(), SteadyVerifier(), n=3, difficulties=(0.0,), workers=2)
    assert parallel.passed and parallel.overran == 0, parallel.table()
    assert 0.5 < max(row.max_seconds for row in parallel.rows) < 2.0
    serial = audit_pair(ToyGenerator(), GullibleVerifier(), n=2, difficulties=(0.0,), workers=1)
    twice = audit_pair(ToyGenerator(), GullibleVerifier(), n=2, difficulties=(0.0,), workers=2)
    assert [(r.attack, r.tasks, r.scored) for r in serial.rows] == [(r.attack, r.tasks, r.scored) for r in twice.rows]
    with pytest.raises(ValueError, match="workers must be positive"):
        audit_pair(ToyGenerator(), StrictVerifier(), workers=0)


def test_chance_attacks_fail_only_when_systematic():
    report = audit_pair(ToyGenerator(), TaskBlindVerifier(), n=4, difficulties=(0.0,))
    row = next(row for row in report.rows if row.attack == "another-seed-reference")
    assert row.attack in CHANCE_ATTACKS and row.scored == row.tasks == 4 and row.failed
    assert not report.passed


def test_cli_audit_exit_codes_and_closing_line():
    ok = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "audit", "rlvr/Maze-v0", "-n", "1", "--difficulty", "0.2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    last = ok.stdout.strip().splitlines()[-1]
    assert last.endswith("tasks: 0 scored, 0 overran") and " attacks × 1 tasks" in last


def test_cli_audit_exits_1_when_an_attack_scores(monkeypatch, capsys):
    import rlvr.attacks
    from rlvr import cli

    failing = audit_pair(ToyGenerator(), GullibleVerifier(), n=1, difficulties=(0.0,), name="rlvr/Maze-v0")
    monkeypatch.setattr(rlvr.attacks, "audit", lambda *args, **kwargs: failing)
    assert cli.main(["audit", "rlvr/Maze-v0", "-n", "1"]) == 1
    out = capsys.readouterr().out
    assert "! hedge-wrong-or-reference" in out and "scored, 0 overran" in out


class RaisingVerifier(StrictVerifier):
    def verify(self, task, response):
        if response == "":
            raise RuntimeError("boom")
        return super().verify(task, response)


def test_audit_reports_a_raising_verifier_instead_of_raising():
    report = audit_pair(ToyGenerator(), RaisingVerifier(), n=1, difficulties=(0.0,))
    row = next(row for row in report.rows if row.attack == "empty")
    assert row.overruns == 1 and "raised RuntimeError: boom" in row.example
    assert not report.passed
