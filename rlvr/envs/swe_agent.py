"""SWEAgentEnv: fix a repository bug with tool calls — shell, view, search, edit, run tests, submit.

Observation  ``str``. After ``reset``: the task prompt (the issue, the repository layout and the
             tool syntax; with ``hints=True`` and an earlier failed episode on the same task, a
             guidance section). After each step: the tool's output, long output cut to its head
             and tail (``observation_chars``), followed by ``[step n/max_steps]``.
Action       ``str`` holding one JSON tool call, bare, in a ```json block or in
             ``<tool_call>…</tool_call>`` (the last one counts):
               {"tool": "bash", "command": "grep -rn total stockroom"}
               {"tool": "view", "path": "stockroom/api.py", "start": 1, "end": 40}
               {"tool": "search", "query": "def total", "path": "stockroom"}     (fixed string)
               {"tool": "edit", "path": "stockroom/api.py", "old": "a - b", "new": "a + b"}
               {"tool": "run_tests", "tests": ["tests/test_api.py::test_total"]}  (none: all)
               {"tool": "submit"}
             A response without a tool call but with a diff (```diff or <answer>) is a submit of
             that diff applied on top of the work tree, so a single-turn answer also works.
             Anything else is answered with an error message (no reward, the step counts).
Execution    The work tree lives on the host between steps. ``bash`` and ``run_tests`` run in a
             fresh sandbox (``rlvr.verifiers.sandbox``: no network, own uid, limits) over a copy
             of it; after ``bash`` the sandbox packs the tree's regular files and the host
             replaces its copy with them (paths validated, symlinks and special files dropped,
             caches skipped); a command that outlives ``command_timeout_s`` is killed.
             ``view``, ``search`` and ``edit`` are plain text operations on the host copy.
Reward       0.0 until the episode ends; then the verifier's reward for the *current diff*:
             every change to an existing file plus new ``.py`` files in package directories
             (other new files are scratch and left out), checked exactly as in ``rlvr/SWE-v0``
             (tests edited → 0, held-out tests count; synthetic tasks are judged on the host from
             the calls' observed return values, so nothing in the work tree or the sandbox — the
             agent's ``bash`` included — holds an expected value, key or report channel). The
             ``run_tests`` tool is in-process pytest over the visible tests: feedback for the
             agent, never the verdict.
Episode end  ``terminated=True`` on submit. After ``max_steps`` steps or ``episode_time_s``
             seconds of tool time: ``truncated=True``, and with ``autosubmit=True`` (default) the
             current diff is verified and its reward given. Stepping a finished episode raises
             ``ResetNeeded``.
Info         ``tool``, ``step``, ``task``, ``task_id``; at the end ``verdict``, ``diff`` and
             ``judged_response``: the text the verifier judged (the diff in a ```diff block), or
             None where it judged none (no changes, or the limit without ``autosubmit``), so
             that ``reward: majority`` keys the episode by its diff, not its last message.
Hints        ``hints=True`` (Agent-RLVR guidance): after an episode on a task ends without a
             pass, the next episode on the same task gets the files and functions of the
             reference fix and the failing test output in its prompt.
Arguments    ``env_id``, ``difficulty``, ``max_steps`` (30), ``episode_time_s`` (600),
             ``command_timeout_s`` (30), ``observation_chars`` (6000), ``hints``, ``autosubmit``,
             ``render_mode`` ("ansi": the transcript), plus the generator's, the verifier's
             options and task parameters as ``SingleTurnEnv``.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

import gymnasium as gym

from rlvr.core import Task, Verdict, clean_text, strip_think
from rlvr.envs.single_turn import SingleTurnEnv
from rlvr.verifiers.swe import (
    RUNNER_PREFIX,
    PatchError,
    apply_patch_to_tree,
    check_relative_path,
    extract_patch,
    is_test_path,
    make_unified_diff,
    parse_patch,
    render_patch,
    run_pytest_in_sandbox,
    snapshot_tree,
    write_tree,
)

TOOLS = ("bash", "view", "search", "edit", "run_tests", "submit")
CACHE_DIRS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".git")
MAX_TREE_BYTES = 32 << 20
MAX_SEARCH_HITS = 100

PACKER = r"""
import base64, json, os, stat, sys
out, skip, limit = sys.argv[1], set(sys.argv[2].split(",")), int(sys.argv[3])
files, total = {}, 0
for directory, dirnames, filenames in os.walk("."):
    dirnames[:] = sorted(d for d in dirnames if d not in skip and not os.path.islink(os.path.join(directory, d)))
    for name in sorted(filenames):
        path = os.path.join(directory, name)[2:]
        if path == out or path.startswith(".rlvr-"):
            continue
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > (1 << 20):
            continue
        total += info.st_size
        if total > limit:
            break
        with open(path, "rb") as handle:
            files[path] = base64.b64encode(handle.read()).decode()
with open(out, "w") as handle:
    json.dump(files, handle)
"""

SHELL_WRAPPER = (
    'timeout -s KILL "$3" /bin/sh -c "$1" </dev/null 2>&1; status=$?\n'
    'echo "[exit status $status]"\n'
    'exec "$4" -I -S -B -c "$5" "$2" "$6" "$7"\n'
)


def tool_call_bodies(text: str) -> list[str]:
    """The text of each ``<tool_call>…</tool_call>`` pair, stripped, in order: each opening
    tag closed by the next closing tag after it. Found with ``str.find`` in linear time: a lazy
    regex scanned to the end from every unclosed tag (quadratic, holding the GIL: 128 KB of
    ``<tool_call>`` took 35 s; red team s14 C2)."""
    bodies, start = [], 0
    while (opening := text.find("<tool_call>", start)) != -1:
        closing = text.find("</tool_call>", opening)
        if closing == -1:
            break  # no closing tag after this one, so none after any later opening either
        bodies.append(text[opening + len("<tool_call>") : closing].strip())
        start = closing + len("</tool_call>")
    return bodies


_JSON_OPENER = re.compile(r"```json[ \t\r\f\v]*\n")


def json_fence_bodies(text: str) -> list[str]:
    """The body of each ```json fence (its opening line ```json, then the lines up to the next
    line that starts with ```), in order, in linear time (as ``tool_call_bodies``)."""
    bodies, start = [], 0
    while (opening := text.find("```json", start)) != -1:
        opened = _JSON_OPENER.match(text, opening)
        if opened is None:
            start = opening + 1
            continue
        closing = text.find("\n```", opened.end())
        if closing == -1:
            break
        bodies.append(text[opened.end() : closing])
        start = closing + len("\n```")
    return bodies


def parse_action(text: str) -> dict:
    """The tool call of an action; raises ValueError with a message for the agent."""
    visible = strip_think(text)
    candidates = tool_call_bodies(visible) + json_fence_bodies(visible)
    if not candidates and visible.strip().startswith("{"):
        candidates = [visible.strip()]
    if not candidates:
        patch = extract_patch(text)
        if patch is not None and patch.strip():
            return {"tool": "submit", "patch": patch}
        raise ValueError('no tool call found: send one JSON object such as {"tool": "view", "path": "README.md"}')
    try:
        call = json.loads(candidates[-1])
    except json.JSONDecodeError as error:
        raise ValueError(f"the tool call is not valid JSON ({error.msg} at character {error.pos})") from error
    if not isinstance(call, dict) or call.get("tool") not in TOOLS:
        raise ValueError(f'a tool call is a JSON object whose "tool" is one of {", ".join(TOOLS)}')
    return call


def head_and_tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters omitted ...]\n{text[-half:]}"


def current_diff(before: dict[str, bytes], after: dict[str, bytes]) -> str:
    """The work tree's changes as a patch: changed or deleted existing files, and new ``.py`` files
    in package directories; other new files are scratch and left out."""
    package_dirs = {str(PurePosixPath(p).parent) for p in before if p.endswith("__init__.py") and not is_test_path(p)}
    old_text: dict[str, str] = {}
    new_text: dict[str, str] = {}
    for path in sorted(set(before) | set(after)):
        if before.get(path) == after.get(path):
            continue
        if path not in before and not (path.endswith(".py") and str(PurePosixPath(path).parent) in package_dirs):
            continue
        try:
            if path in before:
                old_text[path] = before[path].decode("utf-8")
            if path in after:
                new_text[path] = after[path].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return make_unified_diff(old_text, new_text)


class SWEAgentEnv(SingleTurnEnv):
    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        env_id: str = "rlvr/SWEAgent-v0",
        difficulty: float = 0.5,
        max_steps: int = 30,
        episode_time_s: float = 600.0,
        command_timeout_s: float = 30.0,
        observation_chars: int = 6000,
        hints: bool = False,
        autosubmit: bool = True,
        render_mode: str | None = None,
        **options: Any,
    ):
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
        super().__init__(env_id, difficulty=difficulty, render_mode=render_mode, **options)
        self.max_steps = max_steps
        self.episode_time_s = float(episode_time_s)
        self.command_timeout_s = float(command_timeout_s)
        self.observation_chars = int(observation_chars)
        self.hints = bool(hints)
        self.autosubmit = bool(autosubmit)
        self.guidance: dict[str, str] = {}  # task id -> cues for the next episode (hints=True)
        self.workspace: Path | None = None
        self.before: dict[str, bytes] = {}
        self.steps = 0
        self.tool_time = 0.0
        self.finished = False
        self.transcript: list[str] = []
        self.prompt = ""
        self.judged_response: str | None = None  # what the verifier read at the last submit

    # -- episode ----------------------------------------------------------------------------------
    @property
    def tree(self) -> Path:
        assert self.workspace is not None
        return self.workspace / "repo"

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        _, info = super().reset(seed=seed, options=options)
        self._drop_workspace()
        self.workspace = Path(tempfile.mkdtemp(prefix="rlvr-swe-agent-"))
        prepared = self.verifier.prepare_tree(self._visible_answer(self.task), self.tree)
        self.before = prepared.before
        self.steps, self.tool_time, self.finished = 0, 0.0, False
        self.prompt = self.task.prompt
        if self.hints and self.task.id in self.guidance:
            self.prompt += "\n\nGuidance from an earlier attempt at this task:\n" + self.guidance[self.task.id]
        self.transcript = [self.prompt]
        info["max_steps"] = self.max_steps
        return self.prompt, info

    @staticmethod
    def _visible_answer(task: Task) -> dict:
        """The task's answer without the held-out tests (those join only at verification)."""
        return {**task.answer, "hidden_tests": {}}

    def step(self, action: str):
        if self.task is None or self.workspace is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self.finished:
            raise gym.error.ResetNeeded("the episode is over; call reset()")
        self.steps += 1
        tool = "invalid"
        verdict: Verdict | None = None
        self.judged_response = None
        started = time.monotonic()
        try:
            call = parse_action(action if isinstance(action, str) else "")
            tool = call["tool"]
            if tool == "submit":
                output, verdict = self._submit(call.get("patch"))
            else:
                output = getattr(self, f"_tool_{tool}")(call)
        except (ValueError, KeyError, TypeError, PatchError) as error:
            output = f"error: {error}"
        except (
            Exception
        ) as error:  # hostile arguments (a directory to edit, an infinite line number…) never crash the env
            output = f"error: {type(error).__name__}: {error}"
        self.tool_time += time.monotonic() - started
        truncated = False
        if verdict is None and (self.steps >= self.max_steps or self.tool_time >= self.episode_time_s):
            truncated = True
            limit = "step" if self.steps >= self.max_steps else "time"
            if self.autosubmit:
                summary, verdict = self._submit(None)
                output += f"\n[{limit} limit reached; the current diff was submitted: {summary}]"
            else:
                verdict = Verdict.fail(f"the {limit} limit was reached without a submit", format_ok=True)
                output += f"\n[{limit} limit reached]"
        # clean_text: names and output made by the candidate may hold lone surrogates, which would
        # crash a tokeniser or JSON logger downstream
        observation = (
            clean_text(head_and_tail(output, self.observation_chars)) + f"\n[step {self.steps}/{self.max_steps}]"
        )
        self.transcript.append(f"> {tool}\n{observation}")
        info: dict[str, Any] = {"tool": tool, "step": self.steps, "task": self.task, "task_id": self.task.id}
        reward, terminated = 0.0, False
        if verdict is not None:
            self.finished = True
            terminated = not truncated
            reward = float(verdict.reward)
            info["verdict"] = verdict
            info["diff"] = clean_text(self._diff())
            info["judged_response"] = self.judged_response
            self._remember(verdict)
        return observation, reward, terminated, truncated, info

    def _remember(self, verdict: Verdict) -> None:
        if not self.hints:
            return
        if verdict.correct:
            self.guidance.pop(self.task.id, None)
            return
        self.guidance[self.task.id] = guidance_text(self.task, verdict)

    def _diff(self) -> str:
        return current_diff(self.before, snapshot_tree(self.tree, skip=CACHE_DIRS))

    def _submit(self, patch: str | None) -> tuple[str, Verdict]:
        if patch is not None:
            patches = parse_patch(patch)
            apply_patch_to_tree(self.tree, render_patch(patches), snapshot_tree(self.tree, skip=CACHE_DIRS))
        diff = self._diff()
        if not diff:
            return "no changes", Verdict.fail("the work tree has no changes to submit", format_ok=True)
        self.judged_response = f"```diff\n{diff}```\n"
        verdict = self.verifier.verify(self.task, self.judged_response)
        return verdict.reason, verdict

    # -- tools ------------------------------------------------------------------------------------
    def _path(self, call: dict, must_exist: bool = True) -> Path:
        path = str(call.get("path", "")).strip()
        path = path[2:] if path.startswith("./") else path
        if path in ("", "."):
            return self.tree
        problem = check_relative_path(path)
        if problem:
            raise ValueError(problem)
        target = self.tree / path
        if must_exist and not target.exists():
            raise ValueError(f"{path} does not exist")
        if target.is_symlink():
            raise ValueError(f"{path} is a symlink")
        return target

    def _tool_view(self, call: dict) -> str:
        target = self._path(call)
        if target.is_dir():
            entries = sorted(
                p.relative_to(self.tree).as_posix() + ("/" if p.is_dir() else "")
                for p in target.iterdir()
                if p.name not in CACHE_DIRS
            )
            return "\n".join(entries) or "(empty directory)"
        lines = target.read_bytes().decode("utf-8", errors="replace").splitlines()
        start = max(1, int(call.get("start", 1)))
        end = min(len(lines), int(call.get("end", len(lines))))
        return "\n".join(f"{n:5d}  {lines[n - 1]}" for n in range(start, end + 1)) or "(empty file)"

    def _tool_search(self, call: dict) -> str:
        query = str(call.get("query", ""))
        if not query or "\n" in query:
            raise ValueError('search needs a one-line "query" (a fixed string)')
        base = self._path(call)
        hits = []
        paths = (
            [base]
            if base.is_file()
            else sorted(
                p
                for p in base.rglob("*")
                if p.is_file() and not p.is_symlink() and not any(part in CACHE_DIRS for part in p.parts)
            )
        )
        for path in paths:
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if query in line:
                    hits.append(f"{path.relative_to(self.tree).as_posix()}:{number}: {line.strip()}")
        if len(hits) > MAX_SEARCH_HITS:
            return "\n".join(hits[:MAX_SEARCH_HITS]) + f"\n[{len(hits) - MAX_SEARCH_HITS} more matches]"
        return "\n".join(hits) or f"no match for {query!r}"

    def _tool_edit(self, call: dict) -> str:
        target = self._path(call)
        old, new = call.get("old"), call.get("new")
        if not isinstance(old, str) or not isinstance(new, str) or not old:
            raise ValueError('edit needs the strings "old" (non-empty) and "new"')
        text = target.read_bytes().decode("utf-8")
        count = text.count(old)
        if count != 1:
            raise ValueError(f'"old" occurs {count} times in {call["path"]}; it must occur exactly once')
        target.write_text(text.replace(old, new, 1), encoding="utf-8")
        line = text[: text.index(old)].count("\n") + 1
        return f"edited {call['path']} at line {line}"

    def _tool_run_tests(self, call: dict) -> str:
        tests = call.get("tests") or []
        if not isinstance(tests, list) or not all(isinstance(t, str) and t and t[0] not in "-@" for t in tests):
            raise ValueError('"tests" must be a list of pytest node ids (none starting with "-" or "@")')
        wall = max(1.0, min(self.command_timeout_s, self.episode_time_s - self.tool_time))
        report = run_pytest_in_sandbox(
            self.verifier.sandbox(),
            self.tree,
            tests,
            paths=tuple(self.task.answer.get("pythonpath", ["."])),
            wall_s=wall,
        )
        if not report.ok:
            return f"{report.output}\n{report.problem}"
        counts: dict[str, int] = {}
        for node in report.results:
            outcome = report.outcome(node)
            counts[outcome] = counts.get(outcome, 0) + 1
        summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items())) or "no tests ran"
        return f"{report.output.rstrip()}\n[{summary}]"

    def _tool_bash(self, call: dict) -> str:
        from rlvr.verifiers.sandbox import Limits

        command = call.get("command")
        if not isinstance(command, str) or not command.strip() or "\x00" in command:
            raise ValueError('bash needs a non-empty "command" string')
        sandbox = self.verifier.sandbox()
        pack = f"{RUNNER_PREFIX}tree.json"
        timeout = max(1, int(min(self.command_timeout_s, self.episode_time_s - self.tool_time)))
        argv = [
            "/bin/sh",
            "-c",
            SHELL_WRAPPER,
            "sh",
            command,
            pack,
            str(timeout),
            sandbox.python,
            PACKER,
            ",".join(CACHE_DIRS),
            str(MAX_TREE_BYTES),
        ]
        limits = Limits(
            wall_s=timeout + 15.0,
            cpu_s=timeout + 10.0,
            memory_mb=2048,
            processes=64,
            open_files=256,
            output_bytes=1 << 20,
            file_mb=64,
        )
        result = sandbox.run(argv, cwd_files_dir=str(self.tree), collect=[pack], limits=limits)
        output = result.stdout.decode("utf-8", errors="replace") + result.stderr.decode("utf-8", errors="replace")
        packed = result.files.get(pack)
        if packed is None:
            return output + "\n[the sandbox was killed; changes made by this command were discarded]"
        self._replace_tree(json.loads(packed))
        return output

    def _replace_tree(self, packed: Any) -> None:
        if not isinstance(packed, dict):
            raise ValueError("the sandbox returned an unreadable tree; changes were discarded")
        files: dict[str, bytes] = {}
        for path, data in packed.items():
            if not isinstance(path, str) or not isinstance(data, str) or check_relative_path(path):
                continue
            if any(part in CACHE_DIRS for part in PurePosixPath(path).parts):
                continue
            files[path] = base64.b64decode(data)
        fresh = self.workspace / "incoming"
        if fresh.exists():
            shutil.rmtree(fresh)
        fresh.mkdir()
        write_tree(fresh, files)
        shutil.rmtree(self.tree)
        fresh.rename(self.tree)

    # -- housekeeping -----------------------------------------------------------------------------
    def _drop_workspace(self) -> None:
        if self.workspace is not None:
            shutil.rmtree(self.workspace, ignore_errors=True)
            self.workspace = None

    def render(self):
        if self.task is None or self.render_mode is None:
            return None
        return "\n\n".join(self.transcript)

    def close(self):
        self._drop_workspace()
        super().close()

    def __del__(self):
        try:
            self._drop_workspace()
        except Exception:
            pass


def guidance_text(task: Task, verdict: Verdict) -> str:
    """Cues from the reference fix and the last failing test output (Agent-RLVR)."""
    answer = task.answer
    lines = []
    if answer.get("bugs"):
        for bug in answer["bugs"]:
            lines.append(f"- The bug is in `{bug['function']}` in {bug['path']} (around line {bug['buggy_line']}).")
    else:
        for patch in parse_patch(answer["fix_patch"]):
            lines.append(f"- The fix changes {patch.old_path or patch.new_path}.")
    lines.append(f"- Your last attempt: {verdict.reason}.")
    held_out = {check["id"] for check in answer.get("checks") or () if check.get("held_out")}
    hidden_paths = set(answer.get("hidden_tests") or ())
    visible = [
        (node, message)
        for node, message in (verdict.details.get("messages") or {}).items()
        if node not in held_out and node.partition("::")[0] not in hidden_paths
    ]
    for node, message in visible[:1]:  # a held-out test's call is its input: never quoted (red team S8-1)
        lines += [f"- Output of the failing test {node}:", "```", message.strip()[-1200:], "```"]
    return "\n".join(lines)
