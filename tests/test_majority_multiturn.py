"""``reward: majority`` on multi-turn envs: an episode votes with what its env judged.

Red team s14 C1: the key was read from an episode's last message, so an SWEAgent episode that
fixed the bug with ``edit`` calls and ended with a bare ``{"tool": "submit"}`` had no vote, and
two episodes ending with one trivial ```diff won every group (majority [0, 0, 1, 1] where the
verifier gave [1, 1, 0, 0], on 10 of 10 tasks). Episodes are played here through
``run_episodes`` with scripted responses, as the trainer plays them.
"""

import json

import gymnasium as gym
import pytest

pytest.importorskip("transformers")

from rlvr.envs.multi_turn import CodeFeedbackEnv
from rlvr.envs.swe_agent import SWEAgentEnv
from rlvr.trainers.grpo import answer_keys, majority_vote
from rlvr.trainers.rollout import Completion, RewardSource, Scorer, judged_text, run_episodes
from rlvr.trainers.tiny import SumsGenerator, SumsVerifier, build_tiny_tokenizer
from rlvr.verifiers.swe import parse_patch


@pytest.fixture(scope="module")
def tokenizer():
    return build_tiny_tokenizer()


class ScriptedSampler:
    """Plays fixed responses: turn k of episode i (in rollout order) is ``scripts[i][k]``."""

    def __init__(self, tokenizer, scripts: list[list[str]]):
        self.tokenizer, self.scripts, self.turns = tokenizer, scripts, [0] * len(scripts)

    def generate(self, contexts):
        live = [i for i, script in enumerate(self.scripts) if self.turns[i] < len(script)]
        assert len(live) == len(contexts), "an episode ended before or after its script"
        completions = []
        for i in live:
            text = self.scripts[i][self.turns[i]]
            self.turns[i] += 1
            ids = self.tokenizer.encode(text, add_special_tokens=False)
            completions.append(Completion(ids + [self.tokenizer.eos_token_id], True))
        return completions


def play(tokenizer, source, tasks, scripts, max_turns=12):
    """Each task's group plays ``scripts`` (one list of responses per episode)."""
    scorer = Scorer(2, "thread")
    try:
        return run_episodes(
            [(source, task) for task in tasks],
            len(scripts),
            ScriptedSampler(tokenizer, [script for _ in tasks for script in scripts]),
            tokenizer,
            scorer,
            max_turns=max_turns,
            max_context_tokens=10**7,
        )
    finally:
        scorer.close()


def call(tool: str, **arguments) -> str:
    return json.dumps({"tool": tool, **arguments})


def edits(task) -> list[str]:
    """The reference fix as ``edit`` calls, one per hunk."""
    calls = []
    for patch in parse_patch(task.answer["fix_patch"]):
        for hunk in patch.hunks:
            old = "".join(line[1:] + "\n" for line in hunk.lines if line[:1] in (" ", "-"))
            new = "".join(line[1:] + "\n" for line in hunk.lines if line[:1] in (" ", "+"))
            calls.append(call("edit", path=patch.new_path or patch.old_path, old=old, new=new))
    return calls


def trivial_diff(source, task) -> str:
    """The red team's attack: one comment line appended to the package's ``__init__.py``."""
    env = SWEAgentEnv()
    env.reset(options={"task": task})
    path = f"{task.answer['package']}/__init__.py"
    lines = (env.tree / path).read_text().splitlines()
    env.close()
    return f"```diff\n--- a/{path}\n+++ b/{path}\n@@ -{len(lines)},1 +{len(lines)},2 @@\n {lines[-1]}\n+# reviewed\n```"


def test_sweagent_episodes_vote_with_the_diff_the_env_judged(tokenizer):
    source = RewardSource.from_env("rlvr/SWEAgent-v0")
    tasks = [source.make_task(seed, d) for d in (0.0, 0.5, 1.0) for seed in (200001, 200002)]
    rows = []
    for task in tasks:
        fix = edits(task)
        roles = {
            "edit": [*fix, call("submit")],  # honest: fixes with tools, ends with a bare submit
            "edit, reversed": [*reversed(fix), call("submit")] if len(fix) > 1 else [*fix, call("submit")],
            "diff": [f"```diff\n{task.answer['fix_patch']}```"],  # honest, single-turn style
            "attack": [trivial_diff(source, task)],
            "attack 2": [trivial_diff(source, task)],
            "empty": [call("submit")],  # submits an unchanged tree: nothing judged
        }
        episodes = play(tokenizer, source, [task], list(roles.values()))
        by_role = dict(zip(roles, episodes))
        assert [e.reward for e in episodes] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0], task.id
        keys = dict(zip(roles, answer_keys(episodes)))
        honest = {keys["edit"], keys["edit, reversed"], keys["diff"]}
        assert len(honest) == 1 and None not in honest, task.id  # one fixed tree, one key, whatever the route
        assert keys["attack"] == keys["attack 2"] is not None and keys["attack"] not in honest
        assert keys["empty"] is None and by_role["empty"].judged_response is None

        def vote(*names):
            rewards, metrics = majority_vote([by_role[name] for name in names], len(names))
            return rewards.tolist()[0], metrics["majority/label_correct"]

        rows.append(
            [
                vote("edit", "edit, reversed", "diff", "attack", "attack 2"),
                vote("edit", "diff", "attack"),  # one attacker among honest agents (was [0, 0, 1])
                vote("edit", "edit, reversed", "attack", "attack 2"),  # the red team's group: a tie now
                vote("edit", "edit, reversed", "diff", "empty"),  # honest agents alone get a label
            ]
        )
    expected = [
        ([1.0, 1.0, 1.0, 0.0, 0.0], 1.0),
        ([1.0, 1.0, 0.0], 1.0),
        ([0.0, 0.0, 0.0, 0.0], 0.0),
        ([1.0, 1.0, 1.0, 0.0], 1.0),
    ]
    assert rows == [expected] * len(tasks)


def test_sweagent_episodes_that_judged_nothing_do_not_vote(tokenizer):
    """Cut by the trainer's turn limit before any submit: no verdict, no key (its last message
    is an ``edit`` call, never a vote)."""
    source = RewardSource.from_env("rlvr/SWEAgent-v0")
    task = source.make_task(200003, 0.5)
    episodes = play(tokenizer, source, [task], [[*edits(task), call("submit")]] * 3, max_turns=1)
    assert all(e.done and e.verdict is None and e.judged_response is None for e in episodes)
    assert answer_keys(episodes) == [None] * 3
    assert majority_vote(episodes, 3)[1]["majority/labelled"] == 0.0


def test_code_feedback_episodes_vote_with_their_last_attempt(tokenizer):
    """CodeFeedback judges each attempt as sent: the key is the last attempt's program."""
    source = RewardSource.from_env("rlvr/CodeFeedback-v0")
    verifier = source.verifier_factory()
    for seed in (200001, 200002):
        task = source.make_task(seed, 0.5)
        right, wrong = source.generator.solve(task), source.generator.wrong_response(task)
        scripts = [[wrong, right], [right], [wrong, right], [wrong, wrong, wrong], [wrong, wrong, wrong]]
        episodes = play(tokenizer, source, [task], scripts)
        assert [e.reward for e in episodes] == [1.0, 1.0, 1.0, 0.0, 0.0]
        assert [e.judged_response for e in episodes] == [e.response for e in episodes]
        keys = answer_keys(episodes)
        assert keys == [verifier.canonical_answer(task, script[-1]) for script in scripts]
        rewards, metrics = majority_vote(episodes, 5)
        assert rewards.tolist() == [[1.0, 1.0, 1.0, 0.0, 0.0]] and metrics["majority/label_correct"] == 1.0


class GuessEnv(gym.Env):
    """Guess the task's sum; reports the guess it judged as ``judged_response`` when ``report``."""

    observation_space = gym.spaces.Text(4096)
    action_space = gym.spaces.Text(4096)
    report = False

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.task = options["task"]
        return self.task.prompt, {}

    def step(self, action):
        verdict = SumsVerifier().verify(self.task, action)
        info = {"verdict": verdict, **({"judged_response": action} if self.report else {})}
        return ("", 1.0, True, False, info) if verdict.correct else ("Wrong.", 0.0, False, False, info)


class ReportingGuessEnv(GuessEnv):
    report = True


def test_a_custom_env_votes_only_when_it_reports_what_it_judged(tokenizer):
    generator = SumsGenerator()
    task = generator.generate(5, 0.0)
    right, wrong = f"<answer>{task.answer['total']}</answer>", f"<answer>{task.answer['total'] + 1}</answer>"
    scripts = [[right], [wrong, right], [wrong, right], [wrong, wrong]]
    for env_class, keyed in ((GuessEnv, False), (ReportingGuessEnv, True)):
        source = RewardSource.custom("guess", generator, SumsVerifier(), env_factory=env_class)
        episodes = play(tokenizer, source, [task], scripts, max_turns=2)
        keys = answer_keys(episodes)
        rewards, metrics = majority_vote(episodes, 4)
        if keyed:
            assert keys == ["".join(c for c in script[-1] if c.isdigit()) for script in scripts]
            assert rewards.tolist() == [[1.0, 1.0, 1.0, 0.0]] == [[e.reward for e in episodes]]
        else:  # the trainer cannot know what such an env judged: no vote, never the last message
            assert keys == [None] * 4 and rewards.tolist() == [[0.0] * 4] and metrics["majority/labelled"] == 0.0


def test_a_step_that_overran_keeps_a_key_only_where_the_action_was_judged():
    action = "```diff\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n```"
    assert judged_text(SWEAgentEnv(), action, {}) is None  # an overrun tool call judged no diff
    assert judged_text(gym.make("rlvr/CodeFeedback-v0"), action, {}) == action
    assert isinstance(gym.make("rlvr/CodeFeedback-v0").unwrapped, CodeFeedbackEnv)
    assert judged_text(SWEAgentEnv(), "x", {"judged_response": None}) is None
    assert judged_text(GuessEnv(), "x", {"judged_response": 3}) is None  # not text: no key
