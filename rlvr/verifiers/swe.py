"""SWE verifier: apply a model's patch to a fresh copy of the repository and check it.

Answer      A unified diff (``git diff`` format, paths relative to the repository root, ``a/`` and
            ``b/`` prefixes optional) in the response's one ```diff (or ```patch) fenced block, or
            in its ``<answer>…</answer>`` block (a fence inside it is unwrapped). Several diff
            blocks are a hedge and score 0.
Pipeline    1. Parse tolerantly: prose around the diff is ignored, hunk line counts are recounted,
               blank context lines restored. Rejected before anything runs: more than
               ``MAX_PATCH_CHARS`` characters or ``MAX_PATCH_FILES`` files, paths that are
               absolute, contain ``..`` or ``.git``, symlink/submodule modes, copies, binaries.
            2. Apply to a fresh host copy of the task's bug-injected tree, re-emitted as a canonical
               diff (only validated headers and hunk lines reach the tools, so no ed script or mode
               change can): ``git apply``, then ``git apply --3way`` (on a throw-away repository of
               the tree), then ``patch -p1 -u --fuzz=3``, all within one time budget. The tree is
               then walked: anything but regular files and directories fails the answer.
            3. Hacks score 0 (``details["hack"]`` names it): changing, adding or deleting a test file
               (``tests/``, ``test_*.py``, ``*_test.py``), ``conftest.py`` anywhere, a config file
               (``pytest.ini``, ``setup.cfg``, ``tox.ini``, ``pyproject.toml``, ``setup.py``,
               ``noxfile.py``, ``.coveragerc``), ``sitecustomize``/``usercustomize``/``*.pth``;
               new files outside the existing package directories; a changed Python file that
               declares a source encoding other than UTF-8 it did not declare before (utf-7 or
               unicode_escape turn what a UTF-8 reader sees as a comment into code), gains a
               byte-order mark, or does not compile; and new *capabilities* in changed Python
               files, read from the bytes exactly as Python decodes them — a name, attribute,
               string or import the file did not have before from ``FORBIDDEN_NAMES`` (``exit``,
               ``open``, ``eval``, ``_getframe``, ``f_back``, ``modules``…) or ``REACH_MODULES``
               (``sys``, ``os``, ``gc``, ``inspect``, ``builtins``, ``pytest``… — as ``typing.sys``
               too), an import outside ``SAFE_IMPORTS`` and the repository's own packages, a
               dunder outside ``SAFE_DUNDERS`` (also inside a string), ``getattr`` with a computed
               name or passed as a value, ``attrgetter``/``methodcaller``/``Formatter``,
               ``format`` of a computed template, ``type()`` building a class, or a new method
               ``__eq__``/``__bool__``/``__getattr__``… (always-equal objects). The scan is
               defence in depth: names built at run time can always escape a static filter.
            4. Run and judge, by source:
               Synthetic tasks (host-judged, ``details["trust"] = "host-judged"``): the sandbox
               gets the patched package alone — no tests, no expected value, no key — and
               ``rlvr.verifiers.swe_call_harness`` imports it, makes every test's call (visible
               and held-out, ``answer["checks"]``) and streams back what each returned or raised,
               as tagged plain data on a private duplicate of stdout (fd 1 goes to stderr before
               the package is imported). The host parses each line with bounded cost
               (``MAX_FRAME_BYTES``, ``MAX_VALUE_DEPTH``, ``MAX_VALUE_ELEMENTS``,
               ``MAX_VALUE_CHARS``) and compares it with the expected value the generator computed
               from the clean code, which never leaves the host: a check passes when the value is
               plain data ``==`` the expected one (what the test's ``assert call == expected``
               asks; objects of other types, an always-equal object included, never pass). The
               package shares the harness's process, so it can write lines of its own; that gains
               nothing: a line only claims a value the call itself could have returned, two lines
               for one call void the run, and a call without a line (exit, crash, signal, loop
               past the wall clock) fails. Messages of failing held-out checks omit the expected
               value.
               Repository and SWE-bench tasks (``details["trust"] = "in-process tests"``): the
               task's test and config files are written back over the tree, then one sandbox run
               of a trusted pytest runner: it reads a one-line JSON config from stdin (random HMAC
               key, pytest arguments, node ids), points stdin at /dev/null, keeps a private
               duplicate of stdout, sends pytest's output to stderr, loads pytest with plugin
               autoloading off, records per-test phase outcomes in memory, runs exactly the
               FAIL_TO_PASS and PASS_TO_PASS node ids and writes ``MARK + HMAC + JSON``, then
               ``os._exit``. The host accepts only a report whose HMAC verifies with the key it
               sent. Correct iff every listed test has setup and call passed (teardown not failed,
               not xfail); a missing test, a collection error, a skip, a crash or the wall clock
               fail.
            Every run: ``rlvr.verifiers.sandbox`` (no network, own uid, limits, hard wall clock);
            the verdict never takes longer than ``deadline_s``.
Sources     ``task.answer["source"]``: "synthetic" and "repo" carry the tree in ``files``
            (synthetic tasks also ``checks``: id, module, imported name, call, expected repr,
            held_out); "swebench" names a checkout (``repos_dir=`` or the task's ``checkout``)
            materialised with ``git archive <base_commit>``, the candidate patch then
            ``test_patch`` applied, tests run with this venv's interpreter; without a checkout, in
            the instance's Docker image when an engine answers (``/testbed``, the image's
            ``testbed`` conda env); otherwise a clear failure saying what is missing.
Options     ``deadline_s`` (default 60: the verifier never takes longer), ``repos_dir`` (where
            SWE-bench checkouts live, ``<owner>__<name>``), ``docker`` ("auto", "never", "always":
            SWE-bench instances in their own images), ``sandbox`` ("auto" | "bwrap" | "docker":
            where synthetic and repository tasks run) and ``image`` (docker: default the locally
            built base image, enough for synthetic tasks; a repository's tests need its
            dependencies, ``rlvr sandbox build-image --repo PATH``).
Weak spots  In-process tests (repository and SWE-bench tasks) are not safe by construction. The
            tests' assertions, pytest and the runner share one interpreter with the patched
            package, so a hostile patch whose code escapes the static scan (names built at run
            time in ways the scan does not model) can still make failing tests count as passed:
            walk the frames to the runner and sign a report with its key (the exploit
            ``FRAME_WALK_FORGERY`` of ``rlvr.generators.swe`` does exactly this when the scan is
            bypassed), rewrite pytest's reports, or edit the recorder's results. It cannot reach
            the host, the network, other runs, or outlive the run. No runtime guard closes this
            (frame and module access need no audited event); the cure is host-side judging,
            which needs tests whose calls and expected values the generator knows — the
            synthetic source. Use in-process verdicts for evaluation, or for training only with
            policies you do not expect to attack the harness. The scan is conservative: a genuine
            fix that newly needs ``open``, ``os``, ``sys`` or a computed ``getattr`` in a file
            that had none is rejected. SWE-bench instances run locally with this venv's
            interpreter, so their dependencies must be installed in it; the Docker path follows
            the SWE-bench image layout and is only exercised where an engine answers.
"""

from __future__ import annotations

import ast
import codecs
import collections
import difflib
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from rlvr import ast_parse
from rlvr.core import SafeVerifier, Task, Verdict, block_key, extract_answer, strip_think

# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------

CONFIG_NAMES = frozenset(
    {"pytest.ini", "setup.cfg", "tox.ini", "pyproject.toml", "setup.py", "noxfile.py", ".coveragerc", "conftest.py"}
)
PLANTED_NAMES = frozenset({"sitecustomize.py", "usercustomize.py", "conftest.py"})
FORBIDDEN_NAMES = frozenset(
    {
        "exit",
        "_exit",
        "quit",
        "abort",
        "kill",
        "killpg",
        "SystemExit",
        "KeyboardInterrupt",
        "GeneratorExit",
        "BaseException",
        "__import__",
        "eval",
        "exec",
        "compile",
        "open",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "setattr",
        "delattr",
        "_getframe",
        "settrace",
        "setprofile",
        "f_back",
        "f_globals",
        "f_locals",
        "f_code",
        "f_builtins",
        "gi_frame",
        "tb_frame",
        "cr_frame",
        "modules",
        "meta_path",
        "path_hooks",
        "stdout",
        "stderr",
        "stdin",
        "environ",
        "system",
        "popen",
        "fork",
        "forkpty",
        "execv",
        "execve",
        "execvp",
        "spawnv",
        "dup2",
        "getrefcount",
        "get_referrers",
        "get_objects",
        "currentframe",
        "stack",
    }
)
SAFE_DUNDERS = frozenset(
    {
        "__init__",
        "__name__",
        "__doc__",
        "__class__",
        "__len__",
        "__iter__",
        "__next__",
        "__repr__",
        "__str__",
        "__all__",
        "__version__",
        "__slots__",
        "__post_init__",
        "__enter__",
        "__exit__",
        "__getitem__",
        "__setitem__",
        "__contains__",
        "__add__",
        "__sub__",
        "__mul__",
        "__qualname__",
        "__future__",
        "__main__",
    }
)
FORBIDDEN_DEFS = frozenset(
    {
        "__eq__",
        "__ne__",
        "__lt__",
        "__le__",
        "__gt__",
        "__ge__",
        "__bool__",
        "__hash__",
        "__getattr__",
        "__getattribute__",
        "__instancecheck__",
        "__subclasscheck__",
        "__del__",
        "__init_subclass__",
        "__set_name__",
        "__class_getitem__",
        "__index__",
        "__int__",
        "__float__",
        "__len__",
        "__contains__",
    }
)
SAFE_IMPORTS = frozenset(
    {
        "math",
        "cmath",
        "re",
        "string",
        "itertools",
        "functools",
        "operator",
        "collections",
        "heapq",
        "bisect",
        "decimal",
        "fractions",
        "statistics",
        "numbers",
        "typing",
        "dataclasses",
        "enum",
        "copy",
        "textwrap",
        "datetime",
        "calendar",
        "json",
        "unicodedata",
        "abc",
        "contextlib",
        "array",
        "__future__",
        "typing_extensions",
        "warnings",
        "random",
        "struct",
        "base64",
        "binascii",
        "zlib",
        "difflib",
        "fnmatch",
        "html",
        "ipaddress",
        "uuid",
        "keyword",
        "numpy",
    }
)
REPORT_MARK = "@@rlvr-swe-report@@ "
RUNNER_PREFIX = ".rlvr-runner-"
MAX_PATCH_CHARS = 2_000_000
MAX_PATCH_FILES = 100
# what a patch may add to the Python files it changes, all together, before the host parses them
# (``ast_parse.parse_cost``; red team s21 A: one f-string of 300,000 fields held the GIL for 50 s
# and overran the deadline; a list of 990,000 names took 1.4 GB to parse)
MAX_ADDED_TOKENS = 100_000
MAX_ADDED_BRACES = 5_000
MAX_MESSAGE_CHARS = 1500


def is_test_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else ""
    return (
        any(p in ("tests", "test", "testing") for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def is_protected_path(path: str) -> bool:
    """Test files, conftest.py and config files: a patch touching them scores 0."""
    name = PurePosixPath(path).name
    return is_test_path(path) or name in CONFIG_NAMES or name in PLANTED_NAMES or name.endswith(".pth")


def check_relative_path(path: str) -> str | None:
    """A reason the path is unsafe, or None."""
    if not path or "\x00" in path or any(ord(c) < 32 for c in path) or len(path) > 400:
        return f"bad path {path[:80]!r}"
    pure = PurePosixPath(path)
    if pure.is_absolute() or path.startswith("~"):
        return f"absolute path {path!r}"
    if any(part == ".." for part in pure.parts):
        return f"path leaves the repository: {path!r}"
    if any(part == ".git" for part in pure.parts):
        return f"path inside .git: {path!r}"
    return None


# --------------------------------------------------------------------------------------------
# Patch extraction and parsing
# --------------------------------------------------------------------------------------------

# a fence opens at the start of a line (after spaces or tabs), as Markdown's do: unanchored, a
# response of backticks with no newline cost a scan to its end from every backtick (quadratic:
# 512 KB took 120 s against a 60 s deadline, holding the GIL; red team s14 C2)
_FENCE = re.compile(
    r"^[ \t]*```[ \t]*(diff|patch|udiff)?[^\n]*\n(.*?)(?:\n```|\Z)", re.DOTALL | re.IGNORECASE | re.MULTILINE
)


def extract_patch(response: str) -> str | None:
    """The diff of a response: its one ```diff/```patch block, else its <answer> block (with an
    inner fence unwrapped), else a bare response that starts like a diff; None when there is none.
    PatchError when there are several (a hedge: the answer must be one diff)."""
    visible = strip_think(response)
    fences = [m for m in _FENCE.finditer(visible) if m.group(1)]
    if len(fences) > 1:
        raise PatchError(f"{len(fences)} diff blocks: the answer must be exactly one diff")
    if fences:
        return fences[0].group(2)
    block = extract_answer(visible)
    if block is not None:
        inner = list(_FENCE.finditer(block))
        if len(inner) > 1:
            raise PatchError(f"{len(inner)} fenced blocks in the answer: the answer must be exactly one diff")
        return inner[0].group(2) if inner else block
    stripped = visible.lstrip()
    if stripped.startswith(("diff --git ", "--- ")):
        return stripped
    return None


class PatchError(ValueError):
    """The answer is not a usable patch (the message says why)."""


@dataclass
class Hunk:
    old_start: int
    new_start: int
    lines: list[str]
    section: str = ""

    def counts(self) -> tuple[int, int]:
        old = sum(1 for line in self.lines if line[:1] in (" ", "-"))
        new = sum(1 for line in self.lines if line[:1] in (" ", "+"))
        return old, new


@dataclass
class FilePatch:
    old_path: str | None = None  # None: /dev/null (a new file)
    new_path: str | None = None  # None: /dev/null (a deleted file)
    hunks: list[Hunk] = field(default_factory=list)
    new_mode: str | None = None
    old_mode: str | None = None
    index: str | None = None
    rename: bool = False
    binary: bool = False
    saw_header: bool = False  # a ---/+++ pair was read

    @property
    def paths(self) -> list[str]:
        return [p for p in dict.fromkeys((self.old_path, self.new_path)) if p]


_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_GIT_HEADER = re.compile(r"^diff --git (\S+) (\S+)\s*$")
_MODE = re.compile(r"^(?:new file mode|deleted file mode|old mode|new mode) (\d{6})\s*$")
_INDEX = re.compile(r"^index ([0-9a-f]{4,64})\.\.([0-9a-f]{4,64})(?: (\d{6}))?\s*$")


def _header_path(raw: str, prefix: str) -> str | None:
    raw = raw.split("\t")[0].rstrip()
    if raw.startswith('"') and raw.endswith('"'):
        raise PatchError(f"quoted paths are not supported: {raw[:80]}")
    if raw == "/dev/null":
        return None
    return raw


def _strip_prefixes(patch: FilePatch) -> None:
    old, new = patch.old_path, patch.new_path
    if (old is None or old.startswith("a/")) and (new is None or new.startswith("b/")) and (old or new):
        patch.old_path = old[2:] if old else None
        patch.new_path = new[2:] if new else None


def parse_patch(text: str) -> list[FilePatch]:
    """Split a (possibly sloppy) unified diff into per-file patches; hunk counts are recounted."""
    if len(text) > MAX_PATCH_CHARS:
        raise PatchError(f"patch too long ({len(text)} characters)")
    lines = text.replace("\r\n", "\n").split("\n")
    files: list[FilePatch] = []
    current: FilePatch | None = None
    index, total = 0, len(lines)

    def is_file_header(at: int) -> bool:
        return lines[at].startswith("diff --git ") or (
            lines[at].startswith("--- ") and at + 1 < total and lines[at + 1].startswith("+++ ")
        )

    while index < total:
        line = lines[index]
        git = _GIT_HEADER.match(line)
        if git:
            current = FilePatch(old_path=git.group(1), new_path=git.group(2))
            files.append(current)
            index += 1
            continue
        if line.startswith("--- ") and index + 1 < total and lines[index + 1].startswith("+++ "):
            if current is None or current.saw_header or current.hunks:
                current = FilePatch()
                files.append(current)
            current.old_path = _header_path(line[4:], "a/")
            current.new_path = _header_path(lines[index + 1][4:], "b/")
            current.saw_header = True
            index += 2
            continue
        if current is None:
            index += 1
            continue
        mode = _MODE.match(line)
        if mode:
            value = mode.group(1)
            if value not in ("100644", "100755"):
                raise PatchError(f"file mode {value} is not allowed (symlinks, submodules)")
            if line.startswith("new file"):
                current.old_path, current.new_mode = None, value
            elif line.startswith("deleted file"):
                current.new_path = None
            elif line.startswith("old mode"):
                current.old_mode = value
            else:
                current.new_mode = value
            index += 1
            continue
        if line.startswith("index "):
            match = _INDEX.match(line)
            if match and match.group(3) and match.group(3) not in ("100644", "100755"):
                raise PatchError(f"file mode {match.group(3)} is not allowed")
            current.index = line.strip() if match else None
            index += 1
            continue
        if line.startswith(("rename from ", "rename to ", "copy from ", "copy to ")):
            if line.startswith("copy"):
                raise PatchError("copy patches are not supported")
            current.rename = True
            path = line.split(" ", 2)[2].strip()
            if line.startswith("rename from "):
                current.old_path = "a/" + path
            else:
                current.new_path = "b/" + path
            index += 1
            continue
        if line.startswith(("GIT binary patch", "Binary files ")):
            raise PatchError("binary patches are not allowed")
        header = _HUNK_HEADER.match(line)
        if header:
            old_need = int(header.group(2)) if header.group(2) is not None else 1
            new_need = int(header.group(4)) if header.group(4) is not None else 1
            body: list[str] = []
            old_seen = new_seen = 0
            cursor = index + 1
            while cursor < total:
                item = lines[cursor]
                satisfied = old_seen >= old_need and new_seen >= new_need
                if item.startswith("\\"):
                    body.append(item)
                    cursor += 1
                    continue
                if is_file_header(cursor) or item.startswith("@@"):
                    break
                if item == "":
                    if satisfied:
                        break
                    item = " "
                if item[:1] not in (" ", "+", "-"):
                    break
                body.append(item)
                old_seen += item[:1] in (" ", "-")
                new_seen += item[:1] in (" ", "+")
                cursor += 1
            while body and body[-1] == " " and (old_seen > old_need or new_seen > new_need):
                body.pop()  # trailing blank lines of the response, not context
                old_seen -= 1
                new_seen -= 1
            if body:
                current.hunks.append(Hunk(int(header.group(1)), int(header.group(3)), body, header.group(5)))
            index = cursor
            continue
        index += 1
    patches = []
    for patch in files:
        _strip_prefixes(patch)
        if patch.old_path is None and patch.new_path is None:
            raise PatchError("a file patch names no file")
        for path in patch.paths:
            problem = check_relative_path(path)
            if problem:
                raise PatchError(problem)
        if patch.hunks or patch.rename or patch.old_path is None or patch.new_path is None:
            patches.append(patch)
    if not patches:
        raise PatchError("no file changes found in the diff")
    if len(patches) > MAX_PATCH_FILES:
        raise PatchError(f"the diff changes {len(patches)} files (at most {MAX_PATCH_FILES})")
    return patches


def render_patch(patches: list[FilePatch]) -> str:
    """The canonical text of parsed patches: git headers, recounted hunks, nothing else."""
    out: list[str] = []
    for patch in patches:
        old = patch.old_path or patch.new_path
        new = patch.new_path or patch.old_path
        out.append(f"diff --git a/{old} b/{new}")
        if patch.old_path is None:
            out.append(f"new file mode {patch.new_mode or '100644'}")
        elif patch.new_path is None:
            out.append("deleted file mode 100644")
        elif patch.old_mode and patch.new_mode and patch.old_mode != patch.new_mode:
            out += [f"old mode {patch.old_mode}", f"new mode {patch.new_mode}"]
        if patch.rename and patch.old_path and patch.new_path and patch.old_path != patch.new_path:
            out += [f"rename from {patch.old_path}", f"rename to {patch.new_path}"]
        if patch.index and patch.old_path and patch.new_path:
            out.append(patch.index)
        if patch.hunks:
            out.append(f"--- a/{patch.old_path}" if patch.old_path else "--- /dev/null")
            out.append(f"+++ b/{patch.new_path}" if patch.new_path else "+++ /dev/null")
        for hunk in patch.hunks:
            old_count, new_count = hunk.counts()
            old_start = hunk.old_start if old_count else max(0, hunk.old_start if patch.old_path else 0)
            new_start = hunk.new_start if new_count else max(0, hunk.new_start if patch.new_path else 0)
            out.append(f"@@ -{old_start},{old_count} +{new_start},{new_count} @@{hunk.section}")
            out.extend(hunk.lines)
    return "\n".join(out) + "\n"


def make_unified_diff(before: dict[str, str], after: dict[str, str]) -> str:
    """A ``git diff``-style patch turning the files ``before`` into ``after`` (text files)."""
    chunks: list[str] = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        old_lines = [] if old is None else old.splitlines(keepends=True)
        new_lines = [] if new is None else new.splitlines(keepends=True)
        header = [f"diff --git a/{path} b/{path}\n"]
        if old is None:
            header.append("new file mode 100644\n")
        elif new is None:
            header.append("deleted file mode 100644\n")
        body = list(
            difflib.unified_diff(
                old_lines,
                new_lines,
                "/dev/null" if old is None else f"a/{path}",
                "/dev/null" if new is None else f"b/{path}",
                n=3,
            )
        )
        fixed = []
        for line in body:
            if line.endswith("\n"):
                fixed.append(line)
            else:
                fixed += [line + "\n", "\\ No newline at end of file\n"]
        chunks.append("".join(header + fixed))
    return "".join(chunks)


# --------------------------------------------------------------------------------------------
# Applying patches on a host copy
# --------------------------------------------------------------------------------------------


def _tool_env(home: str, ceiling: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CEILING_DIRECTORIES": ceiling,
        "GIT_TERMINAL_PROMPT": "0",
    }


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for path, content in files.items():
        problem = check_relative_path(path)
        if problem:
            raise ValueError(problem)
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def snapshot_tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every regular file under ``root`` (relative path → bytes). Symlinks, devices or fifos raise
    PatchError: a patch must never create them."""
    result: dict[str, bytes] = {}
    for directory, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(directory, root)
        dirnames[:] = [d for d in dirnames if not (rel_dir == "." and d in skip)]
        for name in dirnames + filenames:
            full = os.path.join(directory, name)
            info = os.lstat(full)
            rel = os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/")
            if name in dirnames:
                if not os.path.isdir(full) or os.path.islink(full):
                    raise PatchError(f"{rel} is not a plain directory")
                continue
            if rel_dir == "." and name in skip:
                continue
            if not (info.st_mode & 0o170000) == 0o100000:
                raise PatchError(f"{rel} is not a regular file (symlink or special file)")
            with open(full, "rb") as handle:
                result[rel] = handle.read()
    return result


def apply_patch_to_tree(
    root: Path, patch_text: str, pristine: dict[str, bytes] | None = None, timeout_s: float = 20.0
) -> str:
    """Apply canonical ``patch_text`` inside ``root``: git apply, git apply --3way, patch --fuzz.
    Returns the method that worked; raises PatchError when none did, or when all the attempts
    together took more than ``timeout_s``. ``pristine`` (the tree's files) lets a failed attempt
    be undone before the next one."""
    deadline = time.monotonic() + timeout_s
    scratch = tempfile.mkdtemp(prefix="rlvr-swe-apply-")
    try:
        patch_file = os.path.join(scratch, "candidate.diff")
        with open(patch_file, "w", encoding="utf-8") as handle:
            handle.write(patch_text)
        env = _tool_env(scratch, str(root.parent))
        errors = []

        def run(argv: list[str]) -> subprocess.CompletedProcess:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(argv, timeout_s)
            return subprocess.run(
                argv, cwd=root, env=env, capture_output=True, timeout=remaining, stdin=subprocess.DEVNULL
            )

        result = run(["git", "apply", "--whitespace=nowarn", "--recount", "-p1", patch_file])
        if result.returncode == 0:
            return "git apply"
        errors.append(result.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["git apply failed"])
        if pristine is not None:
            setup = [
                ["git", "init", "-q"],
                ["git", "add", "-A"],
                [
                    "git",
                    "-c",
                    "user.name=rlvr",
                    "-c",
                    "user.email=rlvr@localhost",
                    "commit",
                    "-q",
                    "--no-verify",
                    "-m",
                    "base",
                ],
            ]
            if all(run(argv).returncode == 0 for argv in setup):
                result = run(["git", "apply", "--3way", "--whitespace=nowarn", "--recount", "-p1", patch_file])
                shutil.rmtree(root / ".git", ignore_errors=True)
                if result.returncode == 0 and not _has_conflict_markers(root, patch_text):
                    return "git apply --3way"
                errors.append(result.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["3-way failed"])
            shutil.rmtree(root / ".git", ignore_errors=True)
            _reset_tree(root, pristine)
        result = run(
            [
                "patch",
                "-p1",
                "-u",
                "--batch",
                "--forward",
                "--fuzz=3",
                "--no-backup-if-mismatch",
                "--reject-file=-",
                "-s",
                "-i",
                patch_file,
            ]
        )
        if result.returncode == 0:
            return "patch --fuzz=3"
        errors.append(
            (result.stdout + result.stderr).decode(errors="replace").strip().splitlines()[-1:] or ["patch failed"]
        )
        raise PatchError("the patch does not apply: " + "; ".join(e[0][:200] for e in errors))
    except subprocess.TimeoutExpired:
        raise PatchError("applying the patch took too long") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _has_conflict_markers(root: Path, patch_text: str) -> bool:
    for match in re.finditer(r"^\+\+\+ b/(.+)$", patch_text, re.MULTILINE):
        target = root / match.group(1)
        if target.is_file() and re.search(rb"^<<<<<<< ", target.read_bytes(), re.MULTILINE):
            return True
    return False


def _reset_tree(root: Path, files: dict[str, bytes]) -> None:
    for entry in list(root.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    write_tree(root, files)


# --------------------------------------------------------------------------------------------
# Capability scan
# --------------------------------------------------------------------------------------------


class SourceRefused(ValueError):
    """A changed Python file whose bytes are refused before any scan (the message says why)."""


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)
_BOM = b"\xef\xbb\xbf"


def declared_encodings(data: bytes) -> tuple[bool, tuple[str, ...]]:
    """(starts with a UTF-8 byte-order mark, the normalised encodings named by coding cookies in
    the first two lines). Every cookie-shaped comment there counts, stricter than Python's rule."""
    head = b"\n".join(data[:4096].replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n", 2)[:2])
    return data.startswith(_BOM), tuple(_encoding_name(m.group(1)) for m in _COOKIE.finditer(head))


def _encoding_name(raw: bytes) -> str:
    text = raw.decode("ascii", errors="replace")
    try:
        return codecs.lookup(text).name
    except LookupError:
        return f"unknown:{text[:40]}"


def parse_python(data: bytes) -> ast.Module:
    """The module Python itself would compile from ``data`` (its coding cookie and byte-order mark
    honoured, as an import would); SourceRefused when Python cannot compile it."""
    try:
        return ast_parse.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError, LookupError) as error:
        raise SourceRefused(f"it does not parse as Python ({type(error).__name__}: {str(error)[:120]})") from None


def check_source_bytes(before: bytes | None, after: bytes) -> None:
    """Refuse source tricks in a changed Python file: an encoding other than UTF-8 that the file
    did not already declare (utf-7, unicode_escape… hide code in what a UTF-8 reader sees as a
    comment), a new byte-order mark, or text Python cannot compile."""
    bom, names = declared_encodings(after)
    old_bom, old_names = declared_encodings(before) if before is not None else (False, ())
    if bom and not old_bom:
        raise SourceRefused("it gains a byte-order mark")
    if any(name != "utf-8" for name in names) and names != old_names:
        raise SourceRefused(f"it declares the source encoding {', '.join(names)}")
    parse_python(after)


# Modules that reach the interpreter's internals; using one as a name, an attribute (``typing.sys``)
# or a string counts like importing it.
REACH_MODULES = frozenset(
    {
        "sys",
        "os",
        "gc",
        "inspect",
        "builtins",
        "importlib",
        "ctypes",
        "ctypeslib",
        "atexit",
        "_thread",
        "threading",
        "subprocess",
        "multiprocessing",
        "pytest",
        "_pytest",
        "posix",
        "signal",
        "faulthandler",
        "tracemalloc",
        "marshal",
        "pickle",
        "_io",
        "resource",
        "mmap",
    }
)
# Run-time name lookup, string evaluation and class factories that take a namespace dict (a
# computed ``__eq__``): typing's ForwardRef/_evaluate/get_type_hints evaluate strings, and
# make_dataclass/new_class/Enum("…", …)/NamedTuple/namedtuple build classes from data.
DYNAMIC_ACCESS = frozenset(
    {
        "attrgetter",
        "methodcaller",
        "Formatter",
        "get_field",
        "format_map",
        "ForwardRef",
        "_evaluate",
        "_eval_type",
        "get_type_hints",
        "make_dataclass",
        "new_class",
        "prepare_class",
        "resolve_bases",
        "namedtuple",
        "NamedTuple",
        "TypedDict",
        "EnumMeta",
        "EnumType",
        "_make",
        "__build_class__",
        "literal_eval",
        "ABCMeta",
        "_create_fn",
        "_compile",
        "MethodType",
        "FunctionType",
        "CodeType",
        "LambdaType",
    }
)
_DUNDER_INSIDE = re.compile(r"__[A-Za-z0-9_]+?__")
BUILTIN_TYPES = frozenset(
    {
        "int",
        "float",
        "str",
        "bytes",
        "bool",
        "object",
        "type",
        "list",
        "dict",
        "tuple",
        "set",
        "frozenset",
        "complex",
        "bytearray",
        "range",
        "slice",
        "property",
        "classmethod",
        "staticmethod",
        "super",
    }
)


def capabilities(source: str | bytes, own_packages: frozenset[str] = frozenset()) -> collections.Counter:
    """The risky names, attributes, imports, dunders and methods a Python source uses (bytes are
    decoded as Python would; text that does not parse has none)."""
    found: collections.Counter = collections.Counter()
    try:
        tree = ast_parse.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError, LookupError):
        return found
    risky = FORBIDDEN_NAMES | REACH_MODULES | DYNAMIC_ACCESS
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and (node.id in risky or (_is_dunder(node.id) and node.id not in SAFE_DUNDERS)):
            found[f"name {node.id}"] += 1
        elif isinstance(node, ast.Attribute) and (
            node.attr in risky or (_is_dunder(node.attr) and node.attr not in SAFE_DUNDERS)
        ):
            found[f"attribute .{node.attr}"] += 1
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and isinstance(node.value, ast.Name)
            and node.value.id in imported
        ):  # a module's private helpers (dataclasses._create_fn exec's a string)
            found[f"private attribute {node.value.id}.{node.attr}"] += 1
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top not in SAFE_IMPORTS and top not in own_packages:
                    found[f"import {alias.name}"] += 1
        elif isinstance(node, ast.ImportFrom):
            top = (node.module or "").split(".")[0]
            if node.level == 0 and top not in SAFE_IMPORTS and top not in own_packages:
                found[f"import {node.module}"] += 1
            for alias in node.names:
                if alias.name in risky:
                    found[f"name {alias.name}"] += 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in FORBIDDEN_DEFS:
            found[f"method {node.name}"] += 1
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name == "getattr" and (len(node.args) < 2 or not _is_text_constant(node.args[1])):
                found["getattr with a computed name"] += 1
            elif name == "type" and len(node.args) == 3:
                found["type() building a class"] += 1
            elif (
                name == "type" and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in BUILTIN_TYPES
            ):
                found["type() of a builtin type (the metaclass itself)"] += 1
            elif isinstance(
                node.func, ast.Call
            ):  # type(x)(…), factory(…)(…): a class or function made and called at once
                found["call of a call's result"] += 1
            elif (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "format"
                and not _is_text_constant(node.func.value)
            ):
                found["format() of a computed template"] += 1
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 4096:
            text = node.value
            dunders = [d for d in _DUNDER_INSIDE.findall(text) if d not in SAFE_DUNDERS]
            if dunders or text in risky or text.startswith("/proc"):
                found[f"string {text[:40]!r}"] += 1
    # getattr handed around as a value (map(getattr, …), a = getattr) instead of called.
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    found["getattr used as a value"] += sum(
        1 for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id == "getattr" and id(node) not in called
    )
    return +found


def _is_text_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def new_capabilities(before: str | bytes, after: str | bytes, own_packages: frozenset[str] = frozenset()) -> list[str]:
    added = capabilities(after, own_packages) - capabilities(before, own_packages)
    return sorted(added)


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def added_line_capabilities(patches: list[FilePatch]) -> list[str]:
    """For patches checked without the files (Docker path): forbidden words on added lines that
    the removed lines did not have, and added coding cookies or byte-order marks."""
    added: collections.Counter = collections.Counter()
    removed: collections.Counter = collections.Counter()
    for patch in patches:
        if not (patch.new_path or "").endswith(".py"):
            continue
        for hunk in patch.hunks:
            for line in hunk.lines:
                words = [
                    w
                    for w in _WORD.findall(line[1:])
                    if w in FORBIDDEN_NAMES or w in FORBIDDEN_DEFS or w in REACH_MODULES or w in DYNAMIC_ACCESS
                ]
                cookie = _COOKIE.match(line[1:].encode("utf-8", errors="replace"))
                if line.startswith("+") and (
                    "\ufeff" in line or (cookie and _encoding_name(cookie.group(1)) != "utf-8")
                ):
                    words.append("coding cookie or byte-order mark")
                (added if line.startswith("+") else removed if line.startswith("-") else collections.Counter()).update(
                    words
                )
    return sorted(added - removed)


# --------------------------------------------------------------------------------------------
# The trusted test runner (runs inside the sandbox)
# --------------------------------------------------------------------------------------------

RUNNER_SOURCE = r"""
import hashlib, hmac, json, os, sys


def main():
    config = json.loads(sys.stdin.readline())
    key = bytes.fromhex(config.pop("key"))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the stdin memfd (the key) is gone for whatever runs next
    os.close(devnull)
    report_fd = os.dup(1)
    os.dup2(2, 1)  # pytest's own output goes to stderr; stdout is the report channel
    for entry in reversed(config["paths"]):
        sys.path.insert(0, os.path.abspath(entry))
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    import pytest

    results, collected, errors = {}, [], []

    class Recorder:
        def pytest_collectreport(self, report):
            if report.failed:
                errors.append([report.nodeid, str(report.longrepr)[-%(limit)d:]])

        def pytest_collection_finish(self, session):
            collected.extend(item.nodeid for item in session.items)

        def pytest_runtest_logreport(self, report):
            entry = results.setdefault(report.nodeid, {})
            outcome = report.outcome
            if getattr(report, "wasxfail", None) is not None:
                outcome = "xfail"
            entry[report.when] = outcome
            if report.failed and "message" not in entry:
                entry["message"] = report.longreprtext[-%(limit)d:]

    status = pytest.main(config["args"], plugins=[Recorder()])
    payload = json.dumps({"status": int(status), "collected": collected, "errors": errors, "results": results},
                         sort_keys=True)
    tag = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    data = ("\n%(mark)s" + tag + " " + payload + "\n").encode()
    while data:
        data = data[os.write(report_fd, data):]
    os._exit(0)


main()
""" % {"limit": MAX_MESSAGE_CHARS, "mark": REPORT_MARK}  # noqa: UP031 (Python source full of braces)

PYTEST_ARGS = (
    "-q",
    "--tb=short",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:pastebin",
    "--continue-on-collection-errors",
    "-W",
    "ignore::pytest.PytestUnknownMarkWarning",
)


@dataclass
class TestReport:
    """What the trusted runner saw; ``outcome(node_id)`` is "passed" only for a clean pass."""

    ok: bool  # a report with a valid HMAC came back
    problem: str = ""  # why not
    results: dict = field(default_factory=dict)
    collected: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    output: str = ""  # pytest's terminal output (stderr), for people and agents
    timed_out: bool = False

    def outcome(self, node_id: str) -> str:
        if not self.ok:
            return "no report"
        entry = self.results.get(node_id)
        if entry is None:
            return "missing"
        phases = [entry.get("setup"), entry.get("call"), entry.get("teardown")]
        if "failed" in phases:
            return "error" if entry.get("setup") == "failed" or entry.get("teardown") == "failed" else "failed"
        if "xfail" in phases:
            return "xfail"
        if entry.get("setup") == "passed" and entry.get("call") == "passed":
            return "passed"
        return "skipped"

    def message(self, node_id: str) -> str:
        return (self.results.get(node_id) or {}).get("message", "")


def run_pytest_in_sandbox(
    sandbox,
    tree: Path | None,
    node_ids: list[str],
    *,
    paths: tuple[str, ...] = (".",),
    wall_s: float = 30.0,
    extra_files: dict[str, str] | None = None,
    argv: list[str] | None = None,
    cwd: str | None = None,
    limits=None,
) -> TestReport:
    """One sandbox run of the trusted runner over ``tree``; an empty ``node_ids`` runs the whole
    suite. ``argv`` replaces the interpreter command (the Docker path wraps it in a script)."""
    from rlvr.verifiers.sandbox import Limits

    key = secrets.token_hex(32)
    runner_name = f"{RUNNER_PREFIX}{secrets.token_hex(8)}.py"
    config = {"key": key, "paths": list(paths), "args": [*PYTEST_ARGS, *node_ids]}
    limits = limits or Limits(
        wall_s=wall_s, cpu_s=wall_s, memory_mb=2048, processes=64, open_files=256, output_bytes=4 << 20, file_mb=64
    )
    files = {runner_name: RUNNER_SOURCE, **(extra_files or {})}
    command = argv or [sandbox.python, "-I", "-B", runner_name]
    command = [part.replace("{runner}", runner_name) for part in command]
    result = sandbox.run(
        command,
        files=files,
        stdin=(json.dumps(config) + "\n").encode(),
        cwd_files_dir=None if tree is None else str(tree),
        limits=limits,
    )
    output = result.stderr.decode("utf-8", errors="replace")
    report = None
    for line in result.stdout.decode("utf-8", errors="replace").splitlines():
        if not line.startswith(REPORT_MARK):
            continue
        tag, _, payload = line[len(REPORT_MARK) :].partition(" ")
        expected = hmac.new(bytes.fromhex(key), payload.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(tag, expected):
            report = json.loads(payload)
    if report is None:
        if result.timed_out:
            problem = f"the test run hit the wall clock ({wall_s:.0f} s)"
        elif result.memory_exceeded:
            problem = "the test run ran out of memory"
        else:
            problem = f"no test report (the process ended with exit code {result.exit_code}, signal {result.signal})"
        return TestReport(False, problem, output=output, timed_out=result.timed_out)
    return TestReport(True, "", report["results"], report["collected"], report["errors"], output, result.timed_out)


# --------------------------------------------------------------------------------------------
# Host-judged checks (synthetic tasks)
# --------------------------------------------------------------------------------------------

HARNESS_PATH = Path(__file__).with_name("swe_call_harness.py")
TRUST_HOST = "host-judged"
TRUST_IN_PROCESS = "in-process tests"
MAX_FRAME_BYTES = 256 << 10  # the longest result line accepted from the harness
MAX_VALUE_DEPTH = 16
MAX_VALUE_ELEMENTS = 4000
MAX_VALUE_CHARS = 50_000
MAX_INT_CHARS = 4000
MAX_FLOAT_CHARS = 40
CHECK_OUTPUT_BYTES = 2 << 20
SHOWN_VALUE_CHARS = 200
_INT_TEXT = re.compile(r"-?[0-9]+")


class FrameError(ValueError):
    """A result line that the harness would never write: the channel was tampered with."""


class Unsupported:
    """A returned object of a type the harness does not send as a value; equal to nothing."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


def decode_tagged(data: Any, budget: list[int], depth: int = 0) -> Any:
    """A tagged value (see ``swe_call_harness``) as plain Python data; ``budget`` holds the
    elements and characters still allowed. FrameError for anything malformed or over a bound."""
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_VALUE_DEPTH:
        raise FrameError("a value is too large or too deeply nested")
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        raise FrameError("a value is malformed")
    tag = data[0]
    if tag == "none" and len(data) == 1:
        return None
    if len(data) != 2:
        raise FrameError(f"a {tag[:20]!r} value is malformed")
    payload = data[1]
    if tag == "bool" and isinstance(payload, bool):
        return payload
    if tag == "int" and isinstance(payload, str) and len(payload) <= MAX_INT_CHARS and _INT_TEXT.fullmatch(payload):
        return int(payload)
    if tag == "float" and isinstance(payload, str) and len(payload) <= MAX_FLOAT_CHARS:
        try:
            return float(payload)
        except ValueError:
            raise FrameError("a float value is malformed") from None
    if tag == "str" and isinstance(payload, str):
        budget[1] -= len(payload)
        if budget[1] < 0:
            raise FrameError("the text values are too long")
        return payload
    if tag in ("list", "tuple") and isinstance(payload, list):
        items = [decode_tagged(item, budget, depth + 1) for item in payload]
        return items if tag == "list" else tuple(items)
    if tag == "other" and isinstance(payload, str):
        return Unsupported(payload[:80])
    raise FrameError(f"a value has the unknown tag {tag[:20]!r}")


def decode_frame(body: bytes) -> tuple:
    """("value", value) or ("error", type name, message) from one result line's JSON."""
    if len(body) > MAX_FRAME_BYTES:
        raise FrameError("a result line is too long")
    try:
        frame = json.loads(body)
    except (ValueError, RecursionError):
        raise FrameError("a result line is not JSON") from None
    if isinstance(frame, list) and len(frame) == 2 and frame[0] == "value":
        return "value", decode_tagged(frame[1], [MAX_VALUE_ELEMENTS, MAX_VALUE_CHARS])
    if (
        isinstance(frame, list)
        and len(frame) == 3
        and frame[0] == "error"
        and isinstance(frame[1], str)
        and isinstance(frame[2], str)
    ):
        return "error", frame[1][:80], frame[2][:300]
    raise FrameError("a result line is malformed")


def parse_frames(stdout: bytes, nonce: str, count: int) -> dict[int, tuple]:
    """Results by call index from the harness's output: lines ``<nonce> <index> <json>``; other
    lines are ignored. FrameError when a line under the nonce is malformed, names a call that
    was not made, or repeats one (the package wrote results of its own)."""
    prefix = nonce.encode("ascii") + b" "
    results: dict[int, tuple] = {}
    for line in stdout.split(b"\n"):
        if not line.startswith(prefix):
            continue
        index_text, _, body = line[len(prefix) :].partition(b" ")
        if not index_text.isdigit() or len(index_text) > 6 or int(index_text) >= count:
            raise FrameError("a result line names no call that was made")
        index = int(index_text)
        if index in results:
            raise FrameError(f"two results for call {index}")
        results[index] = decode_frame(body)
    return results


@dataclass
class ObservedRun:
    """What one harness run showed: results by call index, or why the run is void."""

    results: dict[int, tuple]
    problem: str = ""  # non-empty: the run is void (a tampered channel)
    output: str = ""  # the tail of stderr (the package's own output lands there)
    timed_out: bool = False
    exit_code: int | None = None
    signal: int | None = None


def harness_source() -> str:
    return HARNESS_PATH.read_text(encoding="utf-8")


def run_checks_in_sandbox(
    sandbox,
    files: dict[str, bytes],
    package: str,
    calls: list[list[str]],
    *,
    paths: tuple[str, ...] = (".",),
    wall_s: float = 20.0,
) -> ObservedRun:
    """One sandbox run of the call harness over ``files`` (the patched package, no tests, nothing
    expected): each call's returned value or exception, parsed with bounded cost."""
    from rlvr.verifiers.sandbox import Limits

    nonce = secrets.token_hex(16)
    harness_name = f"{RUNNER_PREFIX}{secrets.token_hex(8)}.py"
    config = {"nonce": nonce, "paths": list(paths), "package": package, "calls": calls}
    limits = Limits(
        wall_s=wall_s,
        cpu_s=wall_s,
        memory_mb=1024,
        processes=32,
        open_files=64,
        output_bytes=CHECK_OUTPUT_BYTES,
        file_mb=16,
    )
    result = sandbox.run(
        [sandbox.python, "-I", "-B", harness_name],
        files={**files, harness_name: harness_source()},
        stdin=(json.dumps(config) + "\n").encode(),
        limits=limits,
    )
    output = result.stderr[-4000:].decode("utf-8", errors="replace")
    try:
        results = parse_frames(result.stdout, nonce, len(calls))
        problem = ""
    except FrameError as error:
        results, problem = {}, f"the result channel was tampered with ({error})"
    return ObservedRun(results, problem, output, result.timed_out, result.exit_code, result.signal)


def check_calls(answer: dict) -> list[list[str]]:
    """What the harness is asked to call, in check order: [module, imported name, call]."""
    return [[check["module"], check["name"], check["call"]] for check in answer["checks"]]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "…"


def judge_checks(answer: dict, observed: ObservedRun, method: str = "") -> Verdict:
    """Compare each observed result with the expected value the generator computed from the
    clean code (``answer["checks"]``, never sent to the sandbox): a pass needs a plain value equal
    to it, as the test's ``assert call == expected`` would see it."""
    if observed.problem:
        return Verdict.fail(
            f"rejected: {observed.problem}", format_ok=True, hack="result channel", apply=method, trust=TRUST_HOST
        )
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    for index, check in enumerate(answer["checks"]):
        node, got = check["id"], observed.results.get(index)
        if got is None:
            outcome, message = "missing", f"{check['call']} gave no result"
        elif got[0] == "error":
            outcome, message = "error", f"{check['call']} raised {got[1]}: {got[2]}"
        else:
            expected = ast_parse.literal_eval(check["expected"])
            value = got[1]
            passed = not isinstance(value, Unsupported) and _plain_equal(value, expected)
            outcome = "passed" if passed else "failed"
            message = f"{check['call']} returned {_shown(value)}"
            if not check.get("held_out"):  # held-out expectations stay unseen
                message += f", expected {check['expected']}"
        outcomes[node] = outcome
        if outcome != "passed":
            messages[node] = message
    run = {"timed_out": observed.timed_out, "exit_code": observed.exit_code, "signal": observed.signal}
    problem = ""
    if observed.timed_out:
        problem = "the run hit the wall clock"
    elif len(observed.results) < len(answer["checks"]):
        problem = f"the process ended before the last call (exit code {observed.exit_code}, signal {observed.signal})"
    return _verdict_from_outcomes(answer, outcomes, messages, method, TRUST_HOST, problem, run=run)


def _plain_equal(value: Any, expected: Any) -> bool:
    """``value == expected`` for plain data (no user-defined ``__eq__`` can be involved)."""
    try:
        return bool(value == expected)
    except (RecursionError, ValueError, TypeError):
        return False


def _verdict_from_outcomes(
    answer: dict,
    outcomes: dict[str, str],
    messages: dict[str, str],
    method: str,
    trust: str,
    problem: str = "",
    **extra: Any,
) -> Verdict:
    fail_to_pass = parse_id_list(answer["fail_to_pass"])
    pass_to_pass = parse_id_list(answer["pass_to_pass"])
    every = {node: outcomes.get(node, "missing") for node in fail_to_pass + pass_to_pass}
    failed = [node for node, outcome in every.items() if outcome != "passed"]
    details = {
        "apply": method,
        "trust": trust,
        "fail_to_pass": {"passed": sum(every[n] == "passed" for n in fail_to_pass), "total": len(fail_to_pass)},
        "pass_to_pass": {"passed": sum(every[n] == "passed" for n in pass_to_pass), "total": len(pass_to_pass)},
        "failed": {node: every[node] for node in failed[:20]},
        "messages": {node: messages[node][:MAX_MESSAGE_CHARS] for node in failed[:3] if messages.get(node)},
        **extra,
    }
    if failed:
        first = failed[0]
        reason = f"{len(failed)} of {len(every)} tests not passing (first: {first} {every[first]})"
        return Verdict(0.0, False, True, f"{reason}; {problem}" if problem else reason, details)
    return Verdict(
        1.0,
        True,
        True,
        f"all {len(fail_to_pass)} FAIL_TO_PASS and {len(pass_to_pass)} PASS_TO_PASS tests pass",
        details,
    )


# --------------------------------------------------------------------------------------------
# Verifier
# --------------------------------------------------------------------------------------------


def parse_id_list(value: Any) -> list[str]:
    """SWE-bench stores test lists as JSON text; accept lists too."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    return [str(v) for v in (value or [])]


def docker_image_name(instance_id: str) -> str:
    """The SWE-bench evaluation image of an instance (Docker Hub ``swebench`` namespace)."""
    return f"swebench/sweb.eval.x86_64.{instance_id.replace('__', '_1776_')}:latest".lower()


@dataclass
class PreparedTree:
    root: Path
    before: dict[str, bytes]  # the tree before the candidate patch
    package_dirs: frozenset[str]
    own_packages: frozenset[str]
    restore: dict[str, bytes]  # files written over the tree after the patch (tests, config, hidden tests)
    protected: frozenset[str]
    post_patches: list[str] = field(default_factory=list)  # trusted patches applied after (SWE-bench test_patch)


class SWEVerifier(SafeVerifier):
    deadline_s = 60.0

    def canonical_answer(self, task: Task, response: Any) -> str | None:
        """The diff this verifier applies (``extract_patch``), as ``reward: majority``'s key."""
        return block_key(response, extract_patch, self.max_response_chars)

    def __init__(
        self,
        deadline_s: float = 60.0,
        repos_dir: str | None = None,
        docker: str = "auto",
        sandbox: str = "auto",
        image: str | None = None,
    ):
        if docker not in ("auto", "never", "always"):
            raise ValueError("docker must be 'auto', 'never' or 'always'")
        if sandbox not in ("auto", "bwrap", "docker"):
            raise ValueError(f"sandbox must be 'auto', 'bwrap' or 'docker', got {sandbox!r}")
        self.sandbox_kind = sandbox
        self.image = image
        self.deadline_s = float(deadline_s)
        self.repos_dir = None if repos_dir is None else str(Path(repos_dir).resolve())
        self.docker = docker
        self._sandbox = None

    # -- sandbox --------------------------------------------------------------------------------
    def sandbox(self):
        if self._sandbox is None:
            from rlvr.verifiers.sandbox import Sandbox

            self._sandbox = Sandbox(self.sandbox_kind, image=self.image)
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    # -- entry point ----------------------------------------------------------------------------
    def check(self, task: Task, response: str) -> Verdict:
        start = time.monotonic()
        try:
            patch_text = extract_patch(response)
            if patch_text is None or not patch_text.strip():
                return Verdict.fail("no diff found: put a unified diff in a ```diff block or <answer>…</answer>")
            patches = parse_patch(patch_text)
        except PatchError as error:
            return Verdict.fail(f"unusable patch: {error}")
        answer = task.answer
        if answer.get("source") == "swebench" and self._checkout(answer) is None:
            return self._check_swebench_docker(task, patches, start)
        return self.check_patches(task, patches, start)

    def check_patches(self, task: Task, patches: list[FilePatch], start: float | None = None) -> Verdict:
        """Apply parsed patches to a fresh tree, enforce the rules, run the tests."""
        start = time.monotonic() if start is None else start
        answer = task.answer
        workspace = Path(tempfile.mkdtemp(prefix="rlvr-swe-"))
        try:
            try:
                prepared = self.prepare_tree(answer, workspace / "repo")
            except (OSError, ValueError, subprocess.SubprocessError) as error:
                return Verdict.fail(f"cannot prepare the repository: {error}", format_ok=True)
            hack = self._patch_rules(patches, prepared)
            if hack:
                return Verdict.fail(f"rejected: {hack}", format_ok=True, hack=hack)
            apply_s = min(20.0, self.deadline_s - (time.monotonic() - start) - 5.0)
            if apply_s < 1.0:
                return Verdict.fail("no time left to apply the patch", format_ok=True)
            try:
                method = apply_patch_to_tree(prepared.root, render_patch(patches), prepared.before, timeout_s=apply_s)
                after = snapshot_tree(prepared.root)
            except PatchError as error:
                return Verdict.fail(str(error), format_ok=True)
            hack = self._tree_rules(prepared, after)
            if hack:
                return Verdict.fail(f"rejected: {hack}", format_ok=True, hack=hack)
            if after == prepared.before:
                return Verdict.fail("the patch changes nothing", format_ok=True)
            if answer.get("source") == "synthetic":
                return self._judge_on_host(answer, prepared, after, method, start)
            write_tree(prepared.root, prepared.restore)
            for trusted in prepared.post_patches:
                apply_patch_to_tree(prepared.root, trusted, None)
            remaining = self.deadline_s - (time.monotonic() - start) - 3.0
            wall = min(float(answer.get("timeout_s", 30.0)), remaining)
            if wall < 1.0:
                return Verdict.fail("no time left to run the tests", format_ok=True)
            report = run_pytest_in_sandbox(
                self.sandbox(),
                prepared.root,
                self.node_ids(answer),
                paths=tuple(answer.get("pythonpath", ["."])),
                wall_s=wall,
            )
            return self.judge(answer, report, method)
        finally:
            shutil.rmtree(workspace, ignore_errors=True)

    def _judge_on_host(
        self, answer: dict, prepared: PreparedTree, after: dict[str, bytes], method: str, start: float
    ) -> Verdict:
        """Synthetic tasks: the sandbox gets the patched package alone (no tests, nothing
        expected), returns what each test's call gave, and the host compares."""
        if not answer.get("checks"):
            return Verdict.fail("this synthetic task has no host-side checks (regenerate it)", format_ok=True)
        remaining = self.deadline_s - (time.monotonic() - start) - 3.0
        wall = min(float(answer.get("timeout_s", 30.0)), remaining)
        if wall < 1.0:
            return Verdict.fail("no time left to run the checks", format_ok=True)
        package_files = {p: data for p, data in after.items() if not (p in prepared.protected or is_protected_path(p))}
        observed = run_checks_in_sandbox(
            self.sandbox(),
            package_files,
            answer["package"],
            check_calls(answer),
            paths=tuple(answer.get("pythonpath", ["."])),
            wall_s=wall,
        )
        return judge_checks(answer, observed, method)

    @staticmethod
    def node_ids(answer: dict) -> list[str]:
        return list(dict.fromkeys(parse_id_list(answer["fail_to_pass"]) + parse_id_list(answer["pass_to_pass"])))

    @staticmethod
    def judge(answer: dict, report: TestReport, method: str = "") -> Verdict:
        """The verdict of an in-process pytest run (repository and SWE-bench tasks)."""
        if not report.ok:
            return Verdict.fail(report.problem, format_ok=True, apply=method, trust=TRUST_IN_PROCESS)
        nodes = parse_id_list(answer["fail_to_pass"]) + parse_id_list(answer["pass_to_pass"])
        outcomes = {node: report.outcome(node) for node in nodes}
        messages = {node: report.message(node) for node in nodes if outcomes[node] != "passed"}
        return _verdict_from_outcomes(
            answer, outcomes, messages, method, TRUST_IN_PROCESS, collection_errors=[e[0] for e in report.errors][:10]
        )

    # -- trees ----------------------------------------------------------------------------------
    def _checkout(self, answer: dict) -> Path | None:
        candidates = []
        if self.repos_dir:
            candidates.append(Path(self.repos_dir) / answer["repo"].replace("/", "__"))
        if answer.get("checkout"):
            candidates.append(Path(answer["checkout"]))
        for candidate in candidates:
            if (candidate / ".git").exists() and self.docker != "always":
                return candidate
        return None

    def prepare_tree(self, answer: dict, root: Path) -> PreparedTree:
        root.mkdir(parents=True)
        source = answer.get("source")
        if source in ("synthetic", "repo"):
            files = {p: t.encode("utf-8") for p, t in answer["files"].items()}
            write_tree(root, files)
            protected = frozenset(p for p in files if is_protected_path(p)) | frozenset(answer.get("protected", ()))
            restore = {p: files[p] for p in protected if p in files}
            restore.update({p: t.encode("utf-8") for p, t in (answer.get("hidden_tests") or {}).items()})
            post: list[str] = []
        elif source == "swebench":
            checkout = self._checkout(answer)
            if checkout is None:
                raise ValueError(f"no checkout of {answer['repo']}")
            files = materialize_commit(checkout, answer["base_commit"], root)
            test_paths = (
                {p.new_path or p.old_path for p in parse_patch(answer["test_patch"])}
                if answer.get("test_patch")
                else set()
            )
            protected = frozenset(p for p in files if is_protected_path(p)) | frozenset(test_paths)
            restore = {p: files[p] for p in protected if p in files}
            post = [render_patch(parse_patch(answer["test_patch"]))] if answer.get("test_patch") else []
        else:
            raise ValueError(f"unknown task source {source!r}")
        package_dirs = frozenset(
            str(PurePosixPath(p).parent) for p in files if p.endswith("__init__.py") and not is_test_path(p)
        )
        own = frozenset(PurePosixPath(d).parts[-1] for d in package_dirs if d not in (".", "")) | frozenset(
            PurePosixPath(p).stem for p in files if "/" not in p and p.endswith(".py")
        )
        return PreparedTree(root, files, package_dirs, own, restore, protected, post)

    def _patch_rules(self, patches: list[FilePatch], prepared: PreparedTree) -> str | None:
        for patch in patches:
            for path in patch.paths:
                if path in prepared.protected or is_protected_path(path):
                    return f"the patch touches a test or configuration file ({path})"
        return None

    def _tree_rules(self, prepared: PreparedTree, after: dict[str, bytes]) -> str | None:
        changed = sorted(p for p in set(prepared.before) | set(after) if prepared.before.get(p) != after.get(p))
        for path in changed:
            if path in prepared.protected or is_protected_path(path):
                return f"the patch changes a test or configuration file ({path})"
            if path not in prepared.before:
                parent = str(PurePosixPath(path).parent)
                if not path.endswith(".py") or parent not in prepared.package_dirs:
                    return f"the patch adds {path}, outside the package directories"
        python = [path for path in changed if path.endswith(".py") and path in after]
        tokens = braces = 0
        for path in python:  # every changed file's added cost, before any of them is parsed
            now, was = ast_parse.parse_cost(after[path]), ast_parse.parse_cost(prepared.before.get(path, b""))
            tokens, braces = tokens + max(0, now[0] - was[0]), braces + max(0, now[1] - was[1])
        if tokens > MAX_ADDED_TOKENS or braces > MAX_ADDED_BRACES:
            return (
                f"the patch adds {tokens:,} words and marks of Python with {braces:,} braces (at most "
                f"{MAX_ADDED_TOKENS:,} and {MAX_ADDED_BRACES:,}: the host parses what it changes)"
            )
        for path in python:
            try:
                check_source_bytes(prepared.before.get(path), after[path])
            except SourceRefused as refused:
                return f"{path} is refused: {refused}"
            added = new_capabilities(prepared.before.get(path, b""), after[path], prepared.own_packages)
            if added:
                return f"the patch adds forbidden code to {path}: {', '.join(added[:5])}"
        return None

    # -- SWE-bench in Docker --------------------------------------------------------------------
    def _check_swebench_docker(self, task: Task, patches: list[FilePatch], start: float) -> Verdict:
        answer = task.answer
        if self.docker == "never":
            return Verdict.fail(
                f"SWE-bench instance {answer.get('instance_id')}: no checkout of {answer.get('repo')} "
                f"(pass repos_dir=) and Docker is disabled",
                format_ok=True,
            )
        from rlvr.verifiers.sandbox import Limits, Sandbox, SandboxUnavailable

        test_paths = (
            {p.new_path or p.old_path for p in parse_patch(answer["test_patch"])} if answer.get("test_patch") else set()
        )
        for patch in patches:
            for path in patch.paths:
                if path in test_paths or is_protected_path(path):
                    return Verdict.fail(
                        f"rejected: the patch touches a test or configuration file ({path})", format_ok=True, hack=path
                    )
        forbidden = added_line_capabilities(patches)
        if forbidden:
            return Verdict.fail(
                f"rejected: the patch adds forbidden code: {', '.join(forbidden[:5])}",
                format_ok=True,
                hack="capability",
            )
        image = answer.get("image") or docker_image_name(answer["instance_id"])
        wall = min(float(answer.get("timeout_s", 600.0)), self.deadline_s - (time.monotonic() - start) - 5.0)
        try:
            sandbox = Sandbox("docker", image=image)
        except SandboxUnavailable as error:
            return Verdict.fail(
                f"SWE-bench instance {answer.get('instance_id')}: no checkout of {answer.get('repo')} "
                f"(pass repos_dir=) and no Docker engine answers ({str(error)[:200]})",
                format_ok=True,
            )
        quoted = " ".join(_shell_quote(p) for p in sorted(test_paths))
        script = (
            "\n".join(
                [
                    "set -e",
                    "cp -a /testbed /tmp/testbed",
                    "cd /tmp/testbed",
                    "git apply --whitespace=nowarn /work/candidate.diff || git apply --3way /work/candidate.diff"
                    " || patch -p1 -u --batch --forward --fuzz=3 -i /work/candidate.diff",
                    f"git checkout -q {_shell_quote(answer['base_commit'])} -- {quoted}" if quoted else "true",
                    "git apply /work/test.diff" if answer.get("test_patch") else "true",
                    'exec /opt/miniconda3/envs/testbed/bin/python -I -B "/work/$1"',
                ]
            )
            + "\n"
        )
        limits = Limits(
            wall_s=max(wall, 1.0),
            cpu_s=max(wall, 1.0),
            memory_mb=8192,
            processes=512,
            open_files=1024,
            output_bytes=8 << 20,
            file_mb=256,
            tmp_mb=16384,
        )
        try:
            report = run_pytest_in_sandbox(
                sandbox,
                None,
                self.node_ids(answer),
                wall_s=wall,
                limits=limits,
                extra_files={
                    "candidate.diff": render_patch(patches),
                    "test.diff": answer.get("test_patch") or "",
                    "run.sh": script,
                },
                argv=["/bin/bash", "/work/run.sh", "{runner}"],
            )
        finally:
            sandbox.close()
        return self.judge(answer, report, "docker")


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def materialize_commit(checkout: Path, commit: str, root: Path) -> dict[str, bytes]:
    """Extract ``commit`` of a git checkout into ``root`` (``git archive``; links and special
    files skipped) and return its regular files."""
    if not re.fullmatch(r"[0-9a-fA-F]{7,64}", commit):
        raise ValueError(f"bad commit {commit!r}")
    env = _tool_env(str(root.parent), str(checkout.parent))
    archive = subprocess.run(
        ["git", "-C", str(checkout), "archive", "--format=tar", commit],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    if archive.returncode != 0:
        raise ValueError(f"git archive {commit} failed: {archive.stderr.decode(errors='replace')[:200]}")
    files: dict[str, bytes] = {}
    import io

    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as bundle:
        for member in bundle.getmembers():
            if not member.isfile() or check_relative_path(member.name):
                continue
            handle = bundle.extractfile(member)
            if handle is not None:
                files[member.name] = handle.read()
    write_tree(root, files)
    return files
