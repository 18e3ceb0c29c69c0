"""SWEAgent-v0: scripted tool-call episodes (view, search, edit, bash, run_tests, submit), limits,
truncation, guidance after a failed episode, and hacks through the tools."""

import json
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import rlvr
from rlvr.envs.swe_agent import head_and_tail, parse_action
from rlvr.generators.swe import FRAME_WALK_FORGERY
from rlvr.verifiers.swe import parse_patch


def call(tool: str, **arguments) -> str:
    return json.dumps({"tool": tool, **arguments})


def reference_edits(task) -> list[dict]:
    """The reference fix as edit tool calls: each hunk's old lines → new lines."""
    edits = []
    for patch in parse_patch(task.answer["fix_patch"]):
        for hunk in patch.hunks:
            old = "".join(l[1:] + "\n" for l in hunk.lines if l[:1] in (" ", "-"))
            new = "".join(l[1:] + "\n" for l in hunk.lines if l[:1] in (" ", "+"))
            edits.append({"path": patch.old_path, "old": old, "new": new})
    return edits


@pytest.fixture
def env():
    environment = gym.make("rlvr/SWEAgent-v0", difficulty=0.5, max_steps=12)
    yield environment
    environment.close()


def test_scripted_episode_with_the_reference_fix_solves_the_task(env):
    observation, info = env.reset(seed=3)
    task = info["task"]
    assert "<issue>" in observation and '"tool": "edit"' in observation
    assert "tests/test_acceptance.py" not in observation  # held-out tests stay hidden
    bug = task.answer["bugs"][0]
    observation, reward, terminated, truncated, info = env.step(
        call("search", query=f"def {bug['function'].split('.')[-1]}(")
    )
    assert bug["path"] in observation and (reward, terminated, truncated) == (0.0, False, False)
    observation, *_ = env.step(call("view", path=bug["path"], start=bug["buggy_line"], end=bug["buggy_line"]))
    assert f"{bug['buggy_line']:5d}  " in observation
    observation, *_ = env.step(call("run_tests"))
    assert "failed" in observation
    for change in reference_edits(task):
        observation, reward, terminated, _, _ = env.step(f"<tool_call>{call('edit', **change)}</tool_call>")
        assert observation.startswith("edited") and not terminated
    observation, *_ = env.step("```json\n" + call("run_tests") + "\n```")
    assert "failed" not in observation.split("[step")[0].splitlines()[-1]
    observation, reward, terminated, truncated, info = env.step(call("submit"))
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["verdict"].correct and info["diff"].startswith("diff --git")
    with pytest.raises(gym.error.ResetNeeded):
        env.step(call("submit"))


def test_the_agent_env_serves_the_swe_tasks_with_its_own_prompt_and_ids():
    from rlvr.generators.swe import SWEGenerator

    dataset = str(Path(__file__).parent / "data" / "swe" / "synthetic_swebench.jsonl")
    for options in ({}, {"dataset": dataset}):
        plain, agent = SWEGenerator(**options), SWEGenerator(agent=True, **options)
        assert (plain.env_id, agent.env_id) == ("rlvr/SWE-v0", "rlvr/SWEAgent-v0")
        for seed in (0, 1, 2):
            single, episode = plain.generate(seed, 0.5), agent.generate(seed, 0.5)
            assert episode.answer == single.answer and episode.meta == single.meta  # same task, other prompt
            assert episode.id == "sweagent/" + single.id.removeprefix("swe/") and episode.env_id == "rlvr/SWEAgent-v0"
            assert single.meta["issue"].rstrip() in episode.prompt and '{"tool": "submit"}' in episode.prompt
            assert '"tool"' not in single.prompt and "Source files:" not in episode.prompt
            assert episode.to_json() == rlvr.make_task("SWEAgent-v0", seed, 0.5, **options).to_json()


def test_shell_commands_change_the_persisted_tree(env):
    _, info = env.reset(seed=5)
    task = info["task"]
    fix = task.answer["fix_patch"]
    script = f"cat > /tmp/fix.diff <<'EOF'\n{fix}EOF\npatch -p1 < /tmp/fix.diff && echo scratch > notes.txt"
    observation, *_ = env.step(call("bash", command=script))
    assert "[exit status 0]" in observation
    observation, *_ = env.step(
        call("bash", command="cat notes.txt && python -m pytest -q -p no:cacheprovider 2>&1 | tail -1")
    )
    assert "scratch" in observation and "passed" in observation and "failed" not in observation
    _, reward, terminated, _, info = env.step(call("submit"))
    assert reward == 1.0 and terminated and "notes.txt" not in info["diff"]  # scratch files are not part of the patch


def test_a_single_turn_diff_is_a_submit(env):
    _, info = env.reset(seed=8)
    _, reward, terminated, truncated, step_info = env.step(rlvr.solve(info["task"]))
    assert (reward, terminated, truncated) == (1.0, True, False) and step_info["verdict"].correct


def test_editing_a_test_through_the_tools_scores_zero(env):
    _, info = env.reset(seed=9)
    test_file = next(p for p in info["task"].answer["files"] if p.startswith("tests/"))
    env.step(call("bash", command=f"sed -i 's/assert .*/assert True/' {test_file}"))
    _, reward, terminated, _, info = env.step(call("submit"))
    assert reward == 0.0 and terminated and "test or configuration" in info["verdict"].reason


def test_report_forgery_through_the_tools_scores_zero(env):
    """The frame-walking forgery appended to the buggy package with the shell, then submitted:
    synthetic tasks are judged on the host, so there is no report to forge."""
    _, info = env.reset(seed=6)
    task = info["task"]
    path = task.answer["bugs"][0]["path"]
    script = f"cat >> {path} <<'EOF'\n{FRAME_WALK_FORGERY}\nEOF"
    observation, *_ = env.step(call("bash", command=script))
    assert "[exit status 0]" in observation
    _, reward, terminated, _, info = env.step(call("submit"))
    assert reward == 0.0 and terminated and "forbidden code" in info["verdict"].reason


def test_guidance_never_shows_a_held_out_test():
    """Guidance quotes the first failing VISIBLE test's output; a held-out test's call is its
    input and is never quoted, nor its expected value (red team S8-1)."""
    environment = gym.make("rlvr/SWEAgent-v0", difficulty=0.75, hints=True)
    visible_shown = held_out_failed = 0
    for seed in range(4):
        _, info = environment.reset(seed=seed)
        task = info["task"]
        _, _, _, _, info = environment.step(rlvr.make_generator("rlvr/SWEAgent-v0").wrong_response(task))
        failing = info["verdict"].details.get("messages") or {}
        guidance = environment.unwrapped.guidance[task.id]
        for check in task.answer["checks"]:
            if check["held_out"]:
                held_out_failed += check["id"] in failing
                assert check["call"] not in guidance  # its name may appear in the reason; its call never
            elif check["id"] in guidance:
                visible_shown += 1
    assert visible_shown and held_out_failed  # both kinds failed; only visible ones are quoted
    environment.close()


def test_bad_actions_are_answered_not_fatal(env):
    env.reset(seed=2)
    for action, words in [
        ("just text", "no tool call"),
        ("{not json", "not valid JSON"),
        (call("frobnicate"), "one of"),
        (call("view", path="../../etc/passwd"), "leaves the repository"),
        (call("view", path="/etc/passwd"), "absolute"),
        (call("view", path="missing.py"), "does not exist"),
        (call("edit", path="README.md", old="zzz-not-there", new="x"), "occurs 0 times"),
        (call("search", query=""), "one-line"),
        (call("bash", command=""), "non-empty"),
        (call("run_tests", tests=["-p", "no:cacheprovider"]), "node ids"),
        (call("run_tests", tests=["@tests/test_api.py"]), "node ids"),  # pytest reads "@file" as arguments
    ]:
        observation, reward, terminated, truncated, info = env.step(action)
        assert observation.startswith("error:") and words in observation, (action, observation)
        assert (reward, terminated, truncated) == (0.0, False, False)


def test_step_limit_truncates_and_autosubmits():
    environment = gym.make("rlvr/SWEAgent-v0", difficulty=0.0, max_steps=2)
    environment.reset(seed=1)
    environment.step(call("view", path="."))
    _, reward, terminated, truncated, info = environment.step(call("view", path="README.md"))
    assert truncated and not terminated and reward == 0.0
    assert "step limit" in info["verdict"].reason or "no changes" in info["verdict"].reason
    environment.close()


def test_command_timeout_kills_the_command_but_keeps_its_changes():
    environment = gym.make("rlvr/SWEAgent-v0", difficulty=0.0, command_timeout_s=2)
    environment.reset(seed=1)
    observation, *_ = environment.step(call("bash", command="echo kept > before.txt; sleep 30; echo never"))
    assert "never" not in observation and "[exit status 137]" in observation
    observation, *_ = environment.step(call("view", path="before.txt"))
    assert "kept" in observation
    environment.close()


def test_hints_after_a_failed_episode():
    environment = gym.make("rlvr/SWEAgent-v0", difficulty=0.5, hints=True)
    first, info = environment.reset(seed=4)
    task = info["task"]
    environment.step(call("submit"))  # nothing changed: fails
    second, _ = environment.reset(options={"task": task})
    bug = task.answer["bugs"][0]
    assert "Guidance from an earlier attempt" in second and bug["function"] in second and "Guidance" not in first
    environment.step(rlvr.solve(task))
    third, _ = environment.reset(options={"task": task})
    assert "Guidance" not in third  # a pass clears it
    plain = gym.make("rlvr/SWEAgent-v0", difficulty=0.5)
    plain.reset(seed=4)
    plain.step(call("submit"))
    assert "Guidance" not in plain.reset(seed=4)[0]
    environment.close()
    plain.close()


def test_check_env_and_helpers():
    environment = gym.make("rlvr/SWEAgent-v0", difficulty=0.2)
    check_env(environment.unwrapped)
    environment.close()
    assert parse_action('<tool_call>{"tool": "view", "path": "a"}</tool_call>') == {"tool": "view", "path": "a"}
    assert parse_action("```diff\n--- a/x\n+++ b/x\n```")["tool"] == "submit"
    text = head_and_tail("a" * 50 + "b" * 50, 20)
    assert text.startswith("a" * 10) and text.endswith("b" * 10) and "80 characters omitted" in text


def test_actions_are_read_in_linear_time():
    """Red team s14 C2: unclosed ``<tool_call>`` tags and ```json fences cost a lazy regex a scan
    to the end from each (128 KB: 35 s holding the GIL). Now each opening is read once: 150 KB
    of them is answered at once, and the calls around them still read as before."""
    import time

    start = time.process_time()
    for opener in ("<tool_call>\n", "```json\n", "```json ", "```\n"):
        with pytest.raises(ValueError):
            parse_action(opener * (150_000 // len(opener)))
    assert time.process_time() - start < 5  # the quadratic scan: about a minute
    call = '{"tool": "search", "query": "x"}'
    assert parse_action(f"<tool_call> {call} </tool_call>" + "<tool_call>\n" * 1000) == json.loads(call)
    assert parse_action(f"<tool_call>{call}</tool_call>\n```json\n" + '{"tool": "view", "path": "a"}\n```') == {
        "tool": "view",
        "path": "a",
    }  # the last call wins, as before
    assert parse_action("```json   \n" + call + "\n```") == json.loads(call)


HOSTILE_TOOL_CALLS = [
    '{"tool": "edit", "path": "tests", "old": "x", "new": "y"}',  # a directory
    '{"tool": "view", "path": "README.md", "start": 1, "end": Infinity}',
    '{"tool": "view", "path": "README.md", "start": NaN}',
    '{"tool": "view", "path": "README.md", "start": [1]}',
    '{"tool": "search", "query": "def", "path": ["a"]}',
    '{"tool": "edit", "path": {"a": 1}, "old": "x", "new": "y"}',
    '{"tool": "edit", "path": "README.md", "old": "#", "new": "\\ud800"}',
    '{"tool": "view", "path": "\\ud800x"}',
]


@pytest.mark.parametrize("action", HOSTILE_TOOL_CALLS)
def test_hostile_tool_arguments_are_answered_with_clean_text(env, action):
    env.reset(seed=0)
    observation, reward, terminated, truncated, _ = env.step(action)
    assert reward == 0.0 and not terminated and observation.startswith("error")
    observation.encode("utf-8")  # no lone surrogates reach the policy's tokeniser


def test_file_names_with_undecodable_bytes_never_reach_observations(env):
    env.reset(seed=0)
    package = next(p for p in env.unwrapped.task.answer["files"] if p.endswith("__init__.py")).split("/")[0]
    made = env.step(call("bash", command=f"printf x > \"{package}/$(printf '\\377\\376')evil.py\""))[0]
    listed = env.step(call("view", path=package))[0]
    submitted = env.step(call("submit"))
    for text in (made, listed, submitted[0], submitted[4]["verdict"].reason, submitted[4].get("diff", "")):
        text.encode("utf-8")
