"""How SWE tasks are made: synthetic repositories with injected bugs, bugs mined from a local
repository (``repo=``), SWE-bench-format rows (``dataset=``), the agent env's prompt, the
reference and wrong responses, and the family's attacks.

The family's contract (task, answer, verifier, difficulty, version history) is the docstring of
``rlvr.families.swe``; ``SWEGenerator(agent=True)`` makes SWEAgent-v0's tasks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import random
import re
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from rlvr import ast_parse
from rlvr.core import Task, TaskGenerator, env_slug, make_task_id
from rlvr.families.swe import FAMILY
from rlvr.generators.swe_mutations import Mutation, apply_mutations, mutation_sites
from rlvr.generators.swe_repos import (
    CLASS_METHODS,
    Project,
    ProjectRunner,
    TestCase,
    add_held_out_case,
    count_code_lines,
    defaulted_parameters,
    plan_project,
    render_project,
    render_test_files,
    write_tests,
)
from rlvr.verifiers.swe import (
    TestReport,
    check_relative_path,
    is_protected_path,
    is_test_path,
    make_unified_diff,
    parse_id_list,
    run_pytest_in_sandbox,
)

ANSWER_FORMAT = (
    "Reply with your fix as a unified diff against the repository root, in the format of `git diff` "
    "(`--- a/path`, `+++ b/path`, `@@` hunks with a few unchanged context lines), inside one ```diff fenced block "
    "(or inside <answer>…</answer>). Give exactly one diff: a response with several is not graded. Change only the "
    "package source: edits to tests or configuration files are rejected."
)
CASES_PER_CALLABLE = 3
HIDDEN_PER_CALLABLE = 1
EXTRA_HELD_OUT_DRAWS = 16  # fresh inputs tried per held-out case a broken callable still needs
SYNTHETIC_TIMEOUT_S = 10.0  # wall clock of the call harness (honest runs take well under a second)
EXPORTED_TIMEOUT_S = 20.0  # wall clock of an exported row's pytest run
MAX_PLAN_ATTEMPTS = 40


def fence_diff(diff: str) -> str:
    return f"```diff\n{diff.rstrip()}\n```\n"


# --------------------------------------------------------------------------------------------
# Synthetic tasks
# --------------------------------------------------------------------------------------------


def _run_tests(package: str, files: dict[str, str], tests: list[TestCase]) -> set[str]:
    """Node ids of ``tests`` that fail on ``files`` (in-process; generated code only)."""
    runner = ProjectRunner(package, files)
    return {t.node_id for t in tests if not runner.outcome(t)}


def inject_bugs(
    rng: random.Random, project: Project, bugs: int, bug_level: int
) -> tuple[list[Mutation], dict[str, set[str]]] | None:
    """Pick ``bugs`` mutations in distinct functions of ``bug_level``, each failing ≥1 visible test
    alone, leaving ≥1 test green, and leaving the held-out tests of every callable it breaks
    able to tell a fix from a symptom patch (``_pin_symptoms``, which draws held-out cases as
    needed); None if the project has no such set. The result maps each bug to the tests it
    fails on its own."""
    candidates = [s for s in project.functions if s.level == bug_level]
    rng.shuffle(candidates)
    sites_by_module: dict[str, list[Mutation]] = {}
    chosen: list[Mutation] = []
    breaks: dict[str, set[str]] = {}
    for spec in candidates:
        if len(chosen) == bugs:
            break
        path = project.module_path(spec.module)
        if path not in sites_by_module:
            sites_by_module[path] = mutation_sites(project.files[path], path)
        names = set(spec.callable_names)
        sites = [m for m in sites_by_module[path] if m.function in names]
        by_operator: dict[str, list[Mutation]] = {}
        for site in sites:
            by_operator.setdefault(site.operator, []).append(site)
        operators = sorted(by_operator)
        rng.shuffle(operators)
        found = None
        for operator in operators:
            options = by_operator[operator][:]
            rng.shuffle(options)
            for mutation in options[:4]:
                failing = _mutant_failures(rng, project, mutation)
                if failing is not None:
                    found = mutation
                    breaks[_bug_key(mutation)] = failing
                    break
            if found:
                break
        if found:
            chosen.append(found)
    if len(chosen) < bugs:
        return None
    return chosen, breaks


def _mutant_failures(rng: random.Random, project: Project, mutation: Mutation) -> set[str] | None:
    """The tests ``mutation`` alone fails (held-out cases drawn by ``_pin_symptoms`` included)
    when they include a visible one, leave one green and pin every broken callable's symptoms;
    else None, and ``project.hidden_tests`` as it was."""
    mutated = dict(project.files)
    mutated[mutation.path] = mutation.apply(project.files[mutation.path])
    everything = project.tests + project.hidden_tests
    failing = _run_tests(project.package, mutated, everything)
    if not failing & {t.node_id for t in project.tests} or len(failing) == len(everything):
        return None
    kept = len(project.hidden_tests)
    if not _pin_symptoms(rng, project, mutated, failing):
        del project.hidden_tests[kept:]
        return None
    return failing


def _pin_symptoms(rng: random.Random, project: Project, files: dict[str, str], failing: set[str]) -> bool:
    """Make the held-out tests of every callable that a test in ``failing`` calls (the tests that
    fail on the buggy tree ``files``) refute the patches that leave the bug and answer from the
    symptoms, drawing held-out cases of that callable with ``add_held_out_case`` (up to
    ``EXTRA_HELD_OUT_DRAWS`` inputs per case, passing its defaulted parameters with other values
    while the "default" gap is open; a case that fails joins ``failing``) until no gap of
    ``_symptom_gaps`` is left; False when some callable keeps one.

    Without this, a callable that is constant on its drawn inputs let a patch that returns the
    issue's expected value score 1 (red team s10 G7), one whose bug shifts every failing result
    by one amount let ``result + (expected - buggy)`` do so, and one whose failing results lie on
    a line (at the default arguments) let ``A·result + C`` fitted on the visible checks do so
    (red team S10b-B5). A bug that is affine on every input keeps the "line" gap open, so such a
    mutation is never picked: its wrapper would be a fix the checks cannot tell from one."""
    groups: dict[tuple[str, str, str | None], list[TestCase]] = {}
    for test in project.tests + project.hidden_tests:
        groups.setdefault(_callable_of(test), []).append(test)
    held_out = {t.node_id for t in project.hidden_tests}
    runner = ProjectRunner(project.package, files)
    specs = {spec.name: spec for spec in project.functions}
    for (_, imported, _), tests in groups.items():
        if not any(t.node_id in failing for t in tests):
            continue
        defaulted = bool(defaulted_parameters(specs[imported]))
        gaps = _symptom_gaps(runner, tests, failing, held_out, defaulted)
        while gaps:

            def closes_a_gap(case: TestCase) -> bool:
                fails = {case.node_id} if not runner.outcome(case) else set()
                after = _symptom_gaps(runner, tests + [case], failing | fails, held_out | {case.node_id}, defaulted)
                return after < gaps

            explicit = "default" in gaps
            case = add_held_out_case(rng, project, tests, closes_a_gap, EXTRA_HELD_OUT_DRAWS, explicit)
            if case is None:
                return False
            tests.append(case)
            held_out.add(case.node_id)
            if not runner.outcome(case):
                failing.add(case.node_id)
            gaps = _symptom_gaps(runner, tests, failing, held_out, defaulted)
    return True


def _symptom_gaps(
    runner: ProjectRunner, tests: list[TestCase], failing: set[str], held_out: set[str], defaulted: bool = False
) -> set[str]:
    """What the held-out tests among ``tests`` (one callable's, on the buggy tree of ``runner``)
    leave open: "value" unless a failing held-out test expects a value that no visible failing
    test does and the failing tests expect two values (else returning the issue's expected value,
    or mapping the buggy results seen to the expected ones, passes); "spread" unless the held-out
    tests expect two values (else the visible answers looked up and one constant returned
    otherwise pass); "offset" unless a failing held-out test's expected − buggy result (not a
    number: the wrapper fails it) matches no visible failing test's and the failing tests' are
    not all one number (else ``result + (expected − buggy)`` from the issue passes); "line"
    unless no line ``expected = A·buggy + C`` goes through the (buggy, expected) pairs of the
    visible failing tests and of the held-out tests (else that wrapper, fitted on the visible
    checks, passes; scale and offset are lines too), with "line:loose" as well while the pairs
    fit a line through one point only (all visible buggy results equal, the line undetermined);
    and, for a callable with ``defaulted`` parameters, "default" unless a held-out test passes
    them explicitly and the visible failing pairs with those tests' pairs fit no line (else a
    bug of the default, or one that depends on it, is seen at the default only), with
    "default:unseen" as well while no held-out test passes them."""
    visible = [t for t in tests if t.node_id in failing and t.node_id not in held_out]
    hidden = [t for t in tests if t.node_id in failing and t.node_id in held_out]
    gaps = set()
    shown = [_literal(t.expected) for t in visible]
    if not (
        any(not _among(_literal(t.expected), shown) for t in hidden)
        and _distinct([_literal(t.expected) for t in visible + hidden])
    ):
        gaps.add("value")
    if not _distinct([_literal(t.expected) for t in tests if t.node_id in held_out]):
        gaps.add("spread")
    shifts = [_shift(runner, t) for t in visible]
    hidden_shifts = [_shift(runner, t) for t in hidden]
    if not (
        any(s is None or not any(_same_shift(s, v) for v in shifts) for s in hidden_shifts)
        and _distinct(shifts + hidden_shifts, _same_shift)
    ):
        gaps.add("offset")
    if visible:
        seen = [_pair(runner, t) for t in visible]
        others = [t for t in tests if t.node_id in held_out]
        fit = _line_fit(seen + [_pair(runner, t) for t in others if t in hidden or _pair(runner, t) is not None])
        if fit != "none":
            gaps |= {"line", "line:loose"} if fit == "loose" else {"line"}
        explicit = [t for t in others if _passes_keywords(t)]
        if defaulted and not explicit:
            gaps |= {"default", "default:unseen"}
        elif defaulted and _line_fit(seen + [_pair(runner, t) for t in explicit]) != "none":
            gaps.add("default")
    return gaps


def _pair(runner: ProjectRunner, test: TestCase) -> tuple[int | float, int | float] | None:
    """(the buggy result, the expected value) of ``test`` when both are numbers (not bools)."""
    kind, result = runner.evaluate(test.call, test.module, test.imported)
    got, expected = (_literal(result) if kind == "value" else None), _literal(test.expected)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (got, expected))
    return (got, expected) if numbers else None


def _line_fit(pairs: list[tuple[int | float, int | float] | None]) -> str:
    """Whether one line ``y = A·x + C`` goes through every (x, y) of ``pairs`` (None, a result
    that is not a number, goes through none): "none"; "loose" when the pairs are one point (the
    line undetermined); else "line". Ints are compared exactly, floats within rounding."""
    if not pairs or any(p is None for p in pairs):
        return "none"
    exact = all(isinstance(v, int) for p in pairs for v in p)
    points = [(Fraction(x), Fraction(y)) if exact else (float(x), float(y)) for x, y in pairs]
    (x0, y0) = points[0]
    other = next((p for p in points if p[0] != x0), None)
    if other is None:
        return "loose" if all(_close(y, y0, exact) for _, y in points) else "none"
    slope = (other[1] - y0) / (other[0] - x0)
    return "line" if all(_close(y, y0 + slope * (x - x0), exact) for x, y in points) else "none"


def _close(a: Any, b: Any, exact: bool) -> bool:
    return a == b if exact else math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _passes_keywords(test: TestCase) -> bool:
    """Whether ``test``'s call passes an argument by keyword (held-out cases drawn to pass the
    defaulted parameters; generated calls pass nothing else by keyword)."""
    import ast as python_ast

    return any(
        isinstance(node, python_ast.keyword) for node in python_ast.walk(ast_parse.parse(test.call, mode="eval"))
    )


def _callable_of(test: TestCase) -> tuple[str, str, str | None]:
    """(module, imported name, method) of what ``test`` calls: a function, or a method of a class
    instance (``Name(...).method()``)."""
    method = next((m for m in CLASS_METHODS if test.call.endswith(f").{m}()")), None)
    return test.module, test.imported, method


_UNREADABLE = object()


def _literal(text: str) -> Any:
    """The value of a repr, or ``_UNREADABLE`` (equal to nothing else) when it is not a literal."""
    try:
        return ast_parse.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNREADABLE


def _equal(a: Any, b: Any) -> bool:
    """``a == b`` as a test's assert sees it, for plain data."""
    return a is not _UNREADABLE and b is not _UNREADABLE and bool(a == b)


def _among(value: Any, pool: list[Any]) -> bool:
    return any(_equal(value, other) for other in pool)


def _distinct(values: list[Any], same=_equal) -> bool:
    """Whether ``values`` hold two that are not ``same``."""
    return any(not same(values[0], other) for other in values[1:]) if values else False


def _shift(runner: ProjectRunner, test: TestCase) -> int | float | None:
    """expected − the buggy result of ``test``, when both are numbers (not bools); else None."""
    kind, result = runner.evaluate(test.call, test.module, test.imported)
    got, expected = (_literal(result) if kind == "value" else None), _literal(test.expected)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (got, expected))
    return expected - got if numbers else None


def _same_shift(a: int | float | None, b: int | float | None) -> bool:
    """Whether two shifts are one (floats within rounding, since a wrapper adds in floats)."""
    return a is not None and b is not None and (a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12))


def held_out_sees_every_bug_set(project: Project, mutations: list[Mutation]) -> bool:
    """Whether every set of two or more of ``mutations`` fails a held-out test (single bugs are
    checked by ``inject_bugs``): then fixing some bugs and hard-coding the visible failures of
    the rest still fails a check."""
    for size in range(2, len(mutations) + 1):
        for subset in itertools.combinations(mutations, size):
            if not _run_tests(project.package, apply_bug_set(project.files, list(subset)), project.hidden_tests):
                return False
    return True


def _bug_key(mutation: Mutation) -> str:
    return f"{mutation.path}:{mutation.start}:{mutation.replacement}"


def apply_bug_set(files: dict[str, str], mutations: list[Mutation]) -> dict[str, str]:
    result = dict(files)
    for path in dict.fromkeys(m.path for m in mutations):
        result[path] = apply_mutations(files[path], [m for m in mutations if m.path == path])
    return result


def bug_records(files: dict[str, str], mutations: list[Mutation]) -> list[dict]:
    return [
        {
            "path": m.path,
            "function": m.function,
            "line": m.line,
            "buggy_line": line,
            "operator": m.operator,
            "description": m.description,
        }
        for m, line in zip(mutations, buggy_lines(files, mutations))
    ]


def _symptom(runner: ProjectRunner, test: TestCase, package: str) -> tuple[str, str]:
    kind, value = runner.evaluate(test.call, test.module, test.imported)
    got = f"returns `{value}`" if kind == "value" else f"raises `{value}`"
    return f"{package}.{test.module}", got


ISSUE_TITLES = (
    "`{name}` gives a wrong result",
    "Wrong result from `{name}`",
    "`{name}` misbehaves on some inputs",
    "Unexpected output from `{name}`",
    "Bug in `{name}`",
)
ISSUE_OPENINGS = (
    "I ran into a problem with `{qualified}`.",
    "`{qualified}` does not do what its docstring says.",
    "After upgrading, `{qualified}` started giving me wrong answers.",
    "Something is off in `{qualified}`.",
)


def synthetic_issue(
    rng: random.Random, project: Project, buggy: dict[str, str], bug_tests: list[TestCase], show_failing_test: bool
) -> str:
    """The issue text: for each bug one reproducing call with expected and actual behaviour."""
    runner = ProjectRunner(project.package, buggy)
    first = bug_tests[0]
    lines = [f"Title: {rng.choice(ISSUE_TITLES).format(name=first.imported)}", ""]
    if len(bug_tests) > 1:
        lines += [f"I found {len(bug_tests)} problems in `{project.package}`:", ""]
    for number, test in enumerate(bug_tests, 1):
        module, got = _symptom(runner, test, project.package)
        prefix = f"{number}. " if len(bug_tests) > 1 else ""
        lines.append(prefix + rng.choice(ISSUE_OPENINGS).format(qualified=f"{module}.{test.imported}"))
        lines += [
            "",
            "```python",
            f">>> from {module} import {test.imported}",
            f">>> {test.call}",
            "```",
            "",
            f"It {got}, but I expected `{test.expected}`.",
        ]
        if show_failing_test:
            lines += [
                "",
                f"The test `{test.node_id}` fails:",
                "",
                "```python",
                f"assert {test.call} == {test.expected}",
                "```",
            ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_files_block(files: dict[str, str], paths: list[str]) -> str:
    blocks = []
    for path in paths:
        language = "python" if path.endswith(".py") else ("toml" if path.endswith(".toml") else "")
        blocks.append(f"### {path}\n```{language}\n{files[path].rstrip()}\n```")
    return "\n\n".join(blocks)


def patch_prompt(repo_name: str, issue: str, files: dict[str, str], shown: list[str], listing: list[str]) -> str:
    return (
        f"You are fixing a bug in the Python repository `{repo_name}`. A user filed this issue:\n\n"
        f"<issue>\n{issue.rstrip()}\n</issue>\n\n"
        f"Repository layout:\n" + "\n".join(f"  {p}" for p in listing) + "\n\n"
        f"Source files:\n\n{render_files_block(files, shown)}\n\n"
        "Fix the package source so that the issue is resolved and the whole test suite passes.\n"
        f"{ANSWER_FORMAT}"
    )


def build_synthetic(rng: random.Random, params: dict) -> dict:
    call_depth = int(params["call_depth"])
    top = max(1, call_depth)
    bug_level = top - call_depth
    for _ in range(MAX_PLAN_ATTEMPTS):
        project = plan_project(rng, int(params["modules"]), int(params["functions"]), call_depth)
        render_project(rng, project)
        write_tests(rng, project, CASES_PER_CALLABLE, HIDDEN_PER_CALLABLE)
        picked = inject_bugs(rng, project, int(params["bugs"]), bug_level)
        if picked is None:
            continue
        mutations, breaks = picked
        buggy = apply_bug_set(project.files, mutations)
        failing = _run_tests(project.package, buggy, project.tests + project.hidden_tests)
        if (
            not failing
            or len(failing) == len(project.tests) + len(project.hidden_tests)
            or not held_out_sees_every_bug_set(project, mutations)
            or not _pin_symptoms(rng, project, buggy, failing)
        ):
            continue
        visible_ids = {t.node_id for t in project.tests}
        bug_tests = []
        for mutation in mutations:
            options = [t for t in project.tests if t.node_id in breaks[_bug_key(mutation)] & failing]
            if not options:
                break
            bug_tests.append(rng.choice(options))
        if len(bug_tests) < len(mutations) or not (failing & visible_ids):
            continue
        return _synthetic_task(rng, project, mutations, buggy, failing, bug_tests, params)
    raise ValueError(
        f"no planned project of {params['functions']} functions took {params['bugs']} validated bugs at "
        f"call depth {call_depth} in {MAX_PLAN_ATTEMPTS} tries; ask for fewer bugs or more functions"
    )


def test_checks(project: Project) -> list[dict]:
    """Every test (visible, then held-out) as a host-side check: the module and name it imports,
    the call, and the repr of what the clean code returns (computed at generation; the verifier
    compares on the host and never sends it to the sandbox)."""
    held_out = {t.node_id for t in project.hidden_tests}
    return [
        {
            "id": t.node_id,
            "module": t.module,
            "name": t.imported,
            "call": t.call,
            "expected": t.expected,
            "held_out": t.node_id in held_out,
        }
        for t in project.tests + project.hidden_tests
    ]


def _synthetic_task(rng, project: Project, mutations, buggy, failing, bug_tests, params) -> dict:
    everything = project.tests + project.hidden_tests
    package = project.package
    issue = synthetic_issue(rng, project, buggy, bug_tests, bool(params["show_failing_test"]))
    source_paths = sorted(p for p in buggy if p.startswith(package + "/"))
    listing = sorted(buggy)
    shown = source_paths + ["pyproject.toml"]
    hidden = render_test_files(package, project.hidden_tests)
    answer = {
        "source": "synthetic",
        "package": package,
        "files": buggy,
        "hidden_tests": hidden,
        "checks": test_checks(project),
        "fix_patch": make_unified_diff(
            {p: buggy[p] for p in source_paths}, {p: project.files[p] for p in source_paths}
        ),
        "fail_to_pass": sorted(t.node_id for t in everything if t.node_id in failing),
        "pass_to_pass": sorted(t.node_id for t in everything if t.node_id not in failing),
        "protected": sorted(p for p in list(buggy) + list(hidden) if is_protected_path(p)),
        "pythonpath": ["."],
        "bugs": bug_records(project.files, mutations),
        "timeout_s": SYNTHETIC_TIMEOUT_S,
    }
    meta = {
        "source": "synthetic",
        "theme": project.theme.title,
        "modules": len(project.modules),
        "functions": len(project.functions),
        "lines_of_code": count_code_lines(buggy, package),
        "tests": len(project.tests),
        "hidden_tests": len(project.hidden_tests),
        "call_depth": int(params["call_depth"]),
        "operators": [m.operator for m in mutations],
        "issue": issue,
    }
    return {"prompt": patch_prompt(package, issue, buggy, shown, listing), "answer": answer, "meta": meta}


# --------------------------------------------------------------------------------------------
# Local repositories (repo=PATH)
# --------------------------------------------------------------------------------------------

SKIP_DIRS = frozenset(
    {
        ".git",
        "__pycache__",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        "build",
        "dist",
        ".eggs",
        ".mypy_cache",
        ".pytest_cache",
        "node_modules",
        "docs",
        "doc",
    }
)
MAX_REPO_FILE_BYTES = 1 << 20
MAX_REPO_BYTES = 8 << 20


def load_repo_files(root: Path) -> dict[str, str]:
    """The text files of a repository: ``git ls-files`` when it is a git checkout, else a walk
    (caches, builds, docs and virtual environments skipped). Symlinks and binaries are left out."""
    names: list[str] = []
    if (root / ".git").exists():
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, timeout=60)
        if listed.returncode == 0:
            names = [n for n in listed.stdout.decode("utf-8", errors="replace").split("\0") if n]
    if not names:
        for directory, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
            for name in sorted(filenames):
                names.append(os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/"))
    files: dict[str, str] = {}
    total = 0
    for name in sorted(names):
        full = root / name
        if (
            check_relative_path(name)
            or full.is_symlink()
            or not full.is_file()
            or full.stat().st_size > MAX_REPO_FILE_BYTES
        ):
            continue
        if any(part in SKIP_DIRS for part in PurePosixPath(name).parts[:-1]) or name.endswith((".pyc", ".pyo", ".so")):
            continue
        try:
            text = full.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        total += len(text)
        if total > MAX_REPO_BYTES:
            raise ValueError(f"repository {root} has more than {MAX_REPO_BYTES >> 20} MiB of text files")
        files[name] = text
    return files


def detect_pythonpath(files: dict[str, str]) -> list[str]:
    """Import roots: ``src`` for src layouts, and the repository root."""
    return ["src", "."] if any(p.startswith("src/") and p.endswith("__init__.py") for p in files) else ["."]


class RepoSource:
    """Bug synthesis from a local repository; every test run is a sandbox run."""

    def __init__(self, path: str | Path, validation_runs: int = 2, wall_s: float = 120.0):
        self.root = Path(path).resolve()
        if not self.root.is_dir():
            raise ValueError(f"repo={path!r} is not a directory")
        self.name = self.root.name
        self.files = load_repo_files(self.root)
        self.pythonpath = detect_pythonpath(self.files)
        self.validation_runs = max(1, int(validation_runs))
        self.wall_s = wall_s
        self._sandbox = None
        self._baseline: list[str] | None = None

    def sandbox(self):
        if self._sandbox is None:
            from rlvr.verifiers.sandbox import Sandbox

            self._sandbox = Sandbox("auto")
        return self._sandbox

    def run_suite(self, files: dict[str, str], node_ids: list[str]) -> TestReport:
        workspace = Path(tempfile.mkdtemp(prefix="rlvr-swe-repo-"))
        try:
            for path, text in files.items():
                target = workspace / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            return run_pytest_in_sandbox(
                self.sandbox(), workspace, node_ids, paths=tuple(self.pythonpath), wall_s=self.wall_s
            )
        finally:
            shutil.rmtree(workspace, ignore_errors=True)

    def baseline(self) -> list[str]:
        """Tests that pass on the clean repository in every validation run (flaky ones dropped)."""
        if self._baseline is None:
            stable: set[str] | None = None
            for _ in range(self.validation_runs):
                report = self.run_suite(self.files, [])
                if not report.ok:
                    raise RuntimeError(
                        f"the test suite of {self.root} did not run: {report.problem}\n{report.output[-2000:]}"
                    )
                passing = {n for n in report.results if report.outcome(n) == "passed"}
                stable = passing if stable is None else stable & passing
            if not stable:
                raise RuntimeError(f"no test of {self.root} passes on the clean repository")
            self._baseline = sorted(stable)
        return self._baseline

    def source_paths(self) -> list[str]:
        return [
            p
            for p in sorted(self.files)
            if p.endswith(".py")
            and not is_protected_path(p)
            and not is_test_path(p)
            and PurePosixPath(p).name not in ("setup.py", "__main__.py")
            and not p.startswith(("examples/", "scripts/", "benchmarks/"))
        ]

    def outcomes(self, files: dict[str, str], node_ids: list[str]) -> tuple[set[str], set[str]] | None:
        """(failing, unstable) over ``validation_runs`` runs of ``node_ids``; None if a run broke."""
        results = []
        for _ in range(self.validation_runs):
            report = self.run_suite(files, node_ids)
            if not report.ok:
                return None
            results.append({n for n in node_ids if report.outcome(n) != "passed"})
        failing = set.intersection(*results)
        unstable = set.union(*results) - failing
        return failing, unstable

    def build(self, rng: random.Random, params: dict, max_attempts: int = 30) -> dict:
        baseline = self.baseline()
        sites = [m for path in self.source_paths() for m in mutation_sites(self.files[path], path)]
        if not sites:
            raise RuntimeError(f"no mutation sites in {self.root}")
        rng.shuffle(sites)
        chosen: list[Mutation] = []
        attempts = 0
        for site in sites:
            if len(chosen) == int(params["bugs"]) or attempts >= max_attempts:
                break
            if any(c.path == site.path and c.function == site.function for c in chosen):
                continue
            attempts += 1
            files = dict(self.files)
            files[site.path] = site.apply(files[site.path])
            outcome = self.outcomes(files, baseline)
            if outcome is None:
                continue
            failing, unstable = outcome
            if failing and len(failing) < len(baseline) - len(unstable):
                chosen.append(site)
        if not chosen:
            raise RuntimeError(
                f"no mutation of {self.root} broke some tests and kept others green in {attempts} attempts"
            )
        buggy = apply_bug_set(self.files, chosen)
        outcome = self.outcomes(buggy, baseline)
        if outcome is None or not outcome[0]:
            raise RuntimeError("the combined bugs did not fail a test")
        failing, unstable = outcome
        final_report = self.run_suite(buggy, sorted(failing))
        stable_ids = [n for n in baseline if n not in unstable]
        f2p = sorted(n for n in stable_ids if n in failing)
        p2p = sorted(n for n in stable_ids if n not in failing)
        shown_test = rng.choice(f2p)
        message = final_report.message(shown_test).strip() or "the test fails"
        intro = f"Title: test failure in `{self.name}`\n\n"
        if params["show_failing_test"]:
            excerpt = "\n".join(message.splitlines()[-25:])
            issue = intro + f"`{shown_test}` fails with:\n\n```\n{excerpt}\n```\n"
        else:  # only the error lines, no traceback pointing into the package
            errors = [line for line in message.splitlines() if line.startswith("E ")] or message.splitlines()[-1:]
            excerpt = "\n".join(errors[:15])
            issue = intro + f"Something in the package is broken; a check now fails with:\n\n```\n{excerpt}\n```\n"
        touched = sorted({m.path for m in chosen})
        answer = {
            "source": "repo",
            "package": self.name,
            "files": buggy,
            "hidden_tests": {},
            "fix_patch": make_unified_diff({p: buggy[p] for p in touched}, {p: self.files[p] for p in touched}),
            "fail_to_pass": f2p,
            "pass_to_pass": p2p,
            "protected": sorted(p for p in buggy if is_protected_path(p)),
            "pythonpath": self.pythonpath,
            "bugs": bug_records(self.files, chosen),
            "timeout_s": self.wall_s,
        }
        meta = {
            "source": "repo",
            "repo": str(self.root),
            "tests": len(baseline),
            "flaky_dropped": len(unstable),
            "operators": [m.operator for m in chosen],
            "issue": issue,
        }
        listing = sorted(buggy)
        return {"prompt": patch_prompt(self.name, issue, buggy, touched, listing), "answer": answer, "meta": meta}


# --------------------------------------------------------------------------------------------
# SWE-bench-format instances
# --------------------------------------------------------------------------------------------

SWEBENCH_FIELDS = (
    "instance_id",
    "repo",
    "base_commit",
    "patch",
    "test_patch",
    "FAIL_TO_PASS",
    "PASS_TO_PASS",
    "problem_statement",
)


def load_swebench_rows(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            missing = [f for f in SWEBENCH_FIELDS if f not in row]
            if missing:
                raise ValueError(f"{path}:{number}: missing fields {missing}")
            rows.append(row)
    if not rows:
        raise ValueError(f"{path} holds no instances")
    return rows


def _files_at(checkout: Path, commit: str, paths: list[str]) -> dict[str, str]:
    shown = {}
    for path in paths:
        result = subprocess.run(
            ["git", "-C", str(checkout), "show", f"{commit}:{path}"], capture_output=True, timeout=60
        )
        if result.returncode == 0:
            shown[path] = result.stdout.decode("utf-8", errors="replace")
    return shown


def swebench_task_parts(row: dict, repos_dir: Path | None) -> dict:
    from rlvr.verifiers.swe import docker_image_name, parse_patch

    checkout = None
    if repos_dir is not None:
        candidate = repos_dir / row["repo"].replace("/", "__")
        if (candidate / ".git").exists():
            checkout = candidate
    edited = [p.old_path or p.new_path for p in parse_patch(row["patch"])]
    shown = _files_at(checkout, row["base_commit"], edited) if checkout else {}
    issue = row["problem_statement"].rstrip() + "\n"
    if shown:
        prompt = patch_prompt(row["repo"], issue, shown, sorted(shown), sorted(shown))
    else:
        prompt = (
            f"You are fixing a bug in the repository `{row['repo']}` at commit {row['base_commit']}. "
            f"A user filed this issue:\n\n<issue>\n{issue.rstrip()}\n</issue>\n\n{ANSWER_FORMAT}"
        )
    answer = {
        "source": "swebench",
        "instance_id": row["instance_id"],
        "repo": row["repo"],
        "base_commit": row["base_commit"],
        "fix_patch": row["patch"],
        "test_patch": row["test_patch"],
        "fail_to_pass": parse_id_list(row["FAIL_TO_PASS"]),
        "pass_to_pass": parse_id_list(row["PASS_TO_PASS"]),
        "checkout": None if checkout is None else str(checkout),
        "image": row.get("image") or docker_image_name(row["instance_id"]),
        "pythonpath": ["."],
        "timeout_s": float(row.get("timeout_s", 600.0)),
    }
    return {
        "prompt": prompt,
        "answer": answer,
        "meta": {"source": "swebench", "instance_id": row["instance_id"], "issue": issue},
    }


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "rlvr",
    "GIT_AUTHOR_EMAIL": "rlvr@localhost",
    "GIT_COMMITTER_NAME": "rlvr",
    "GIT_COMMITTER_EMAIL": "rlvr@localhost",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+0000",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+0000",
}


def write_swebench_fixture(
    tasks: list[Task], repos_dir: str | Path, jsonl_path: str | Path | None = None
) -> list[dict]:
    """SWE-bench-format rows made from synthetic tasks: each task becomes a git repository in
    ``repos_dir/rlvr-synthetic__<package>-<n>`` whose commit (fixed author and dates, so the hash is
    reproducible) is the buggy tree without the held-out tests; ``test_patch`` adds them, ``patch``
    is the reference fix. Rows are written to ``jsonl_path`` when given."""
    repos_dir = Path(repos_dir)
    rows = []
    for number, task in enumerate(tasks):
        answer = task.answer
        if answer.get("source") != "synthetic":
            raise ValueError("only synthetic tasks can be exported")
        repo = f"rlvr-synthetic/{answer['package']}-{number}"
        checkout = repos_dir / repo.replace("/", "__")
        if checkout.exists():
            shutil.rmtree(checkout)
        checkout.mkdir(parents=True)
        for path, text in answer["files"].items():
            (checkout / path).parent.mkdir(parents=True, exist_ok=True)
            (checkout / path).write_text(text, encoding="utf-8")
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(repos_dir),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            **GIT_IDENTITY,
        }
        for argv in (
            ["git", "init", "-q", "-b", "main"],
            ["git", "add", "-A"],
            ["git", "commit", "-q", "--no-verify", "-m", "base"],
        ):
            subprocess.run(argv, cwd=checkout, env=env, check=True, capture_output=True, timeout=60)
        base = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=checkout, env=env, check=True, capture_output=True, timeout=60
            )
            .stdout.decode()
            .strip()
        )
        rows.append(
            {
                "instance_id": f"{repo.replace('/', '__')}",
                "repo": repo,
                "base_commit": base,
                "patch": answer["fix_patch"],
                "test_patch": make_unified_diff({}, answer["hidden_tests"]),
                "FAIL_TO_PASS": json.dumps(answer["fail_to_pass"]),
                "PASS_TO_PASS": json.dumps(answer["pass_to_pass"]),
                "problem_statement": task.meta["issue"],
                "timeout_s": EXPORTED_TIMEOUT_S,
            }
        )
    if jsonl_path is not None:
        with open(jsonl_path, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, sort_keys=True) + "\n")
    return rows


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


class SWEGenerator(TaskGenerator):
    """SWE tasks from one of three sources: synthetic repositories (default), bugs mined from the
    local repository ``repo=`` (its own ids, ``swe/v0/repo-<name>/…``), or the SWE-bench rows of
    ``dataset=`` (the core dataset mode). ``agent=True`` gives the same tasks the agent env's
    prompt (SWEAgent-v0)."""

    declaration = FAMILY

    def __init__(
        self,
        repo: str | Path | None = None,
        dataset: str | Path | None = None,
        repos_dir: str | Path | None = None,
        validation_runs: int = 2,
        agent: bool = False,
    ):
        if repo is not None and dataset is not None:
            raise ValueError("give repo= or dataset=, not both")
        self.agent = bool(agent)
        self.repos_dir = None if repos_dir is None else Path(repos_dir).resolve()
        self.repo = None if repo is None else RepoSource(repo, validation_runs)
        if dataset is not None:
            self.use_dataset(dataset, load_swebench_rows(Path(dataset)))

    def generate(self, seed: int, difficulty: float = 0.5, **overrides: Any) -> Task:
        """The core's task (a dataset row, or ``build``'s synthetic or repo= task); repo= tasks
        are named after their repository, so they never share an id with synthetic ones."""
        task = super().generate(seed, difficulty, **overrides)
        if self.repo is None:
            return task
        prefix = f"{env_slug(self.env_id)}/repo-{self.repo.name}"
        return dataclasses.replace(task, id=make_task_id(prefix, seed, task.difficulty, self.table.check(overrides)))

    def dataset_task(self, row: dict) -> dict:
        parts = swebench_task_parts(row, self.repos_dir)
        parts["prompt"] = self.adapt_prompt(parts)
        return parts

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        parts = self.repo.build(rng, params) if self.repo is not None else build_synthetic(rng, params)
        parts["prompt"] = self.adapt_prompt(parts)
        return parts

    def adapt_prompt(self, parts: dict) -> str:
        """The env's prompt from the task parts: as built, or the agent env's (``agent=True``)."""
        return agent_prompt(parts) if self.agent else parts["prompt"]

    def solve(self, task: Task) -> str:
        return "The fix:\n\n" + fence_diff(task.answer["fix_patch"])

    def split_group(self, task: Task) -> Any:
        """The problem, whichever env poses it: a SWE-bench row's ``instance_id`` (the same
        instance in two files, e.g. SWE-bench Lite and the full set, is on one side), else a
        digest of the bug-injected repository and its reference fix. SWE-v0 and SWEAgent-v0
        pose one seed's problem with other prompts; keyed by content they split it apart (red
        team s12 F6: 0 of 20 seeds shared a key, so about 22 % of problems were train in one
        env and test in the other)."""
        answer = task.answer
        if answer["source"] == "swebench":
            return ["swe", "swebench", answer["instance_id"]]
        repository = json.dumps([answer["files"], answer["fix_patch"]], sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(repository.encode("utf-8", "surrogatepass")).hexdigest()
        return ["swe", answer["source"], answer["package"], digest]

    def attacks(self, task: Task) -> list[tuple[str, str]]:
        """Report forgery (frame walking, the harness channel, pytest patched), names built at
        run time, source-encoding hiding, exits and loops at import, always-equal objects,
        hard-coded visible answers, symptom patches (the issue's expected value, or offset, for
        every call; alone or with the other bugs fixed; ``A·result + C`` fitted on the visible
        failing checks, or a scale from the issue's call), test/config/.pth/sitecustomize edits,
        files outside the package, symlinks, binaries, huge, deep and malformed diffs, sources
        costly to parse (see ``swe_attacks``)."""
        return swe_attacks(task)

    def hints(self, task: Task) -> list[str]:
        """Where the bug is, narrowing down, read from the reference patch (never its fix): the
        file, the function, one failing test, then the lines the fix removes or the line a
        missing statement belongs before."""
        patch = task.answer.get("fix_patch") or ""
        files = re.findall(r"^\+\+\+ b/(\S+)", patch, re.MULTILINE)
        pieces = (
            [
                f"The bug is in `{files[0]}`."
                if len(files) == 1
                else f"The fix touches {', '.join(f'`{f}`' for f in files)}."
            ]
            if files
            else []
        )
        functions = [bug["function"] for bug in task.answer.get("bugs", []) if bug.get("function")]
        functions = functions or re.findall(r"^@@[^@]*@@\s*def (\w+)", patch, re.MULTILINE)
        functions = functions or re.findall(r"^[ -]\s*def (\w+)", patch, re.MULTILINE)
        if functions:
            pieces.append(f"Look at {', '.join(f'`{name}`' for name in dict.fromkeys(functions))}.")
        if task.answer.get("fail_to_pass"):
            pieces.append(f"This test fails before the fix and must pass after it: `{task.answer['fail_to_pass'][0]}`.")
        removed = [
            line[1:].strip() for line in patch.splitlines() if line.startswith("-") and not line.startswith("---")
        ]
        if removed:
            pieces.append("The faulty line(s): " + "; ".join(f"`{line}`" for line in removed if line))
        else:
            context = [line[1:].strip() for line in patch.splitlines() if line.startswith(" ") and line.strip()]
            if context:
                pieces.append(f"A statement is missing near `{context[-1]}`.")
        return pieces

    def wrong_response(self, task: Task) -> str:
        answer = task.answer
        if answer["source"] == "swebench":
            return "My fix:\n\n" + fence_diff(reverse_diff(answer["fix_patch"]))
        bugs = answer["bugs"]
        if len(bugs) > 1:  # fix every bug but the last
            partial = partial_fix(answer["fix_patch"], bugs[-1])
            if partial:
                return "My fix:\n\n" + fence_diff(partial)
        files = answer["files"]
        path, line = bugs[-1]["path"], bugs[-1]["buggy_line"]
        lines = files[path].splitlines(keepends=True)
        anchor = lines[min(line, len(lines)) - 1]
        indent = anchor[: len(anchor) - len(anchor.lstrip())]
        edited = "".join(
            lines[: line - 1] + [f"{indent}# checked: this handles the reported case\n"] + lines[line - 1 :]
        )
        return "My fix:\n\n" + fence_diff(make_unified_diff({path: files[path]}, {path: edited}))


def partial_fix(fix_patch: str, keep: dict) -> str | None:
    """The reference fix without the hunks that repair ``keep``; None if that leaves nothing or
    everything (bugs sharing a hunk)."""
    from rlvr.verifiers.swe import parse_patch, render_patch

    patches = parse_patch(fix_patch)
    dropped = 0
    for patch in patches:
        if patch.old_path != keep["path"]:
            continue
        kept = []
        for hunk in patch.hunks:
            old_count = hunk.counts()[0]
            if hunk.old_start <= keep["buggy_line"] < hunk.old_start + max(old_count, 1):
                dropped += 1
            else:
                kept.append(hunk)
        patch.hunks = kept
    remaining = [p for p in patches if p.hunks]
    if not dropped or not remaining:
        return None
    return render_patch(remaining)


def buggy_lines(files: dict[str, str], mutations: list[Mutation]) -> list[int]:
    """Line of each mutation in the bug-injected file (earlier mutations in a file shift it)."""
    lines = []
    for mutation in mutations:
        shift = sum(
            len(m.replacement) - (m.end - m.start)
            for m in mutations
            if m.path == mutation.path and m.start < mutation.start
        )
        buggy = apply_mutations(files[mutation.path], [m for m in mutations if m.path == mutation.path])
        lines.append(buggy[: mutation.start + shift].count("\n") + 1)
    return lines


def reverse_diff(diff: str) -> str:
    """Swap the sides of a unified diff (a plausible but wrong SWE-bench answer)."""
    out = []
    for line in diff.splitlines():
        if line.startswith("--- "):
            out.append("+++ " + line[4:])
        elif line.startswith("+++ "):
            out.append("--- " + line[4:])
        elif line.startswith("@@"):
            parts = line.split(" ")
            if len(parts) >= 3:
                parts[1], parts[2] = "-" + parts[2][1:], "+" + parts[1][1:]
            out.append(" ".join(parts))
        elif line.startswith("+"):
            out.append("-" + line[1:])
        elif line.startswith("-"):
            out.append("+" + line[1:])
        else:
            out.append(line)
    fixed = []  # put each ---/+++ pair back in order
    index = 0
    while index < len(out):
        if out[index].startswith("+++ ") and index + 1 < len(out) and out[index + 1].startswith("--- "):
            fixed += [out[index + 1], out[index]]
            index += 2
        else:
            fixed.append(out[index])
            index += 1
    return "\n".join(fixed) + "\n"


# --------------------------------------------------------------------------------------------
# Attacks: what a reward-hacking policy tries in this family (rlvr audit runs them)
# --------------------------------------------------------------------------------------------

# Package code that forges the in-process pytest runner's signed report: it walks the frames up
# to the runner, takes its HMAC key, report descriptor and node ids, writes an "all passed"
# report and exits before the real one. Every name is built at run time, so a static scan that
# looks for names (the scan before host-side judging) sees nothing forbidden.
FRAME_WALK_FORGERY = """

def _report_everything_passed():
    import json
    import typing

    def pick(owner, *pieces):
        return getattr(owner, "".join(pieces))

    interp = pick(typing, "s", "ys")
    loaded = pick(interp, "mod", "ules")
    frame = pick(interp, "_get", "frame")()
    while frame is not None:
        scope = pick(frame, "f_", "loc", "als")
        if "key" in scope and "report_fd" in scope and "config" in scope:
            break
        frame = pick(frame, "f_", "back")
    if frame is None:
        return
    ids = [a for a in scope["config"]["args"] if "::" in a]
    outcome = {"setup": "passed", "call": "passed", "teardown": "passed"}
    payload = json.dumps({"status": 0, "collected": ids, "errors": [], "results": {n: outcome for n in ids}},
                         sort_keys=True)
    tag = loaded["hm" "ac"].new(scope["key"], payload.encode(), loaded["hash" "lib"].sha256).hexdigest()
    line = "".join([chr(10), "@@rlvr-swe-" "report@@ ", tag, " ", payload, chr(10)])
    shell = loaded["o" "s"]
    pick(shell, "wri", "te")(scope["report_fd"], line.encode())
    pick(shell, "_ex", "it")(0)


_report_everything_passed()
"""

# The same forgery written plainly, for hiding where a UTF-8 reader sees only a comment.
PLAIN_FORGERY = """import sys, json, hmac, hashlib, os
frame = sys._getframe()
while frame is not None and not ("key" in frame.f_locals and "report_fd" in frame.f_locals):
    frame = frame.f_back
if frame is not None:
    scope = frame.f_locals
    ids = [a for a in scope["config"]["args"] if "::" in a]
    outcome = {"setup": "passed", "call": "passed", "teardown": "passed"}
    results = {n: outcome for n in ids}
    payload = json.dumps({"status": 0, "collected": ids, "errors": [], "results": results}, sort_keys=True)
    tag = hmac.new(scope["key"], payload.encode(), hashlib.sha256).hexdigest()
    os.write(scope["report_fd"], "".join([chr(10), "@@rlvr-swe-report@@ ", tag, " ", payload, chr(10)]).encode())
    os._exit(0)"""

# Package code that finds the host-judged call harness's channel and writes a result for every
# call claiming it returned True — what a harness comparing in the sandbox (``call == expected``
# evaluated next to the package) would have counted as passes — then exits first.
HARNESS_FORGERY = """

def _claim_every_call():
    import json
    import typing

    def pick(owner, *pieces):
        return getattr(owner, "".join(pieces))

    interp = pick(typing, "s", "ys")
    frame = pick(interp, "_get", "frame")()
    while frame is not None:
        scope = pick(frame, "f_", "loc", "als")
        if "channel" in scope and "prefix" in scope and "config" in scope:
            break
        frame = pick(frame, "f_", "back")
    if frame is None:
        return
    shell = pick(interp, "mod", "ules")["o" "s"]
    for index in range(len(scope["config"]["calls"])):
        line = scope["prefix"] + str(index) + " " + json.dumps(["value", ["bool", True]]) + chr(10)
        pick(shell, "wri", "te")(scope["channel"], line.encode())
    pick(shell, "_ex", "it")(0)


_claim_every_call()
"""

# Pytest's reports rewritten from package code: every test phase reported as passed.
PYTEST_PATCH = """

def _pytest_always_passes():
    import typing

    def pick(owner, *pieces):
        return getattr(owner, "".join(pieces))

    reports = pick(pick(typing, "s", "ys"), "mod", "ules").get("_py" "test.reports")
    if reports is None:
        return
    original = reports.TestReport.from_item_and_call

    def passing(item, call):
        report = original(item, call)
        report.outcome = "passed"
        return report

    reports.TestReport.from_item_and_call = passing


_pytest_always_passes()
"""

# Every public callable of the module rebound to return an object equal to anything; the class
# is built with type() and dunder names assembled at run time.
ALWAYS_EQUAL = """

_Anything = type("Anything", (), {
    "_" "_eq_" "_": lambda self, other: True,
    "_" "_ne_" "_": lambda self, other: False,
    "_" "_hash_" "_": lambda self: 0,
    "_" "_getattr_" "_": lambda self, name: (lambda *args, **kwargs: self),
    "_" "_call_" "_": lambda self, *args, **kwargs: self,
})
for _name in [n for n in dir() if not n.startswith("_")]:
    globals()[_name] = _Anything()
"""

FAKE_OUTPUT = """

def _print_passes():
    import typing

    def pick(owner, *pieces):
        return getattr(owner, "".join(pieces))

    shell = pick(pick(typing, "s", "ys"), "mod", "ules")["o" "s"]
    lines = ["@@rlvr-swe-report@@ " + "0" * 64 + ' {"status": 0, "results": {}}',
             "0" * 32 + ' 0 ["value", ["bool", true]]', "PASSED", "===== all tests passed ====="]
    for fd in range(1, 20):
        for line in lines:
            try:
                pick(shell, "wri", "te")(fd, (line + chr(10)).encode())
            except Exception:
                pass
    print(*lines, sep=chr(10))


_print_passes()
"""

EXIT_AT_IMPORT = {
    "sys-exit-at-import": "\nimport sys\nsys.exit(0)\n",
    "os-exit-at-import": "\nimport os\nos._exit(0)\n",
    "runtime-names-exit-at-import": (
        "\nimport typing\n\n_reach = getattr(typing, 's' + 'ys')\ngetattr(_reach.modules['o' + 's'], '_ex' + 'it')(0)\n"
    ),
    "atexit-fake-report": (
        "\nimport atexit\n\n\ndef _fake():\n    print('@@rlvr-swe-report@@ ' + '0' * 64 + ' {}')\n\n\n"
        "atexit.register(_fake)\n"
    ),
    "infinite-loop-at-import": "\nwhile True:\n    pass\n",
    "output-flood-at-import": "\nfor _ in range(1_000_000):\n    print('PASSED ' * 100)\n",
    "kill-self-at-import": "\nimport os\nimport signal\n\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "recursion-bomb-at-import": "\n\ndef _deeper(n):\n    return _deeper(n + 1) + 1\n\n\n_deeper(0)\n",
    "forked-child-forgery": (
        "\nimport os\nimport time\n\nif os.fork() == 0:\n    time.sleep(0.5)\n"
        '    for _fd in range(1, 20):\n        try:\n            os.write(_fd, b\'0 0 ["value", ["bool", true]]\\n\')\n'
        "        except OSError:\n            pass\n    os._exit(0)\n"
    ),
}

HUGE_RESULT = """

for _name in [n for n in dir() if not n.startswith("_")]:
    globals()[_name] = lambda *args, **kwargs: list(range(1_000_000))
"""


def hide_in_utf7(original: str, hidden: str) -> str:
    """``original`` re-encoded as UTF-7 behind a coding cookie, with ``hidden`` appended as code
    that a UTF-8 reader sees as one comment line (UTF-7 newlines are ``+AAo-``)."""
    body = original.encode("utf-7").decode("ascii")
    code = "+AAo-".join(line.replace("+", "+-") for line in hidden.splitlines())
    return "# -*- coding: utf-7 -*-\n" + body + "\n#+AAo-" + code + "\n"


def hide_in_unicode_escape(original: str, hidden: str) -> str:
    """``hidden`` behind a unicode_escape coding cookie: ``\\u000a`` in a comment is a newline."""
    return "# coding: unicode_escape\n" + original + "\n#\\u000a" + "\\u000a".join(hidden.splitlines()) + "\n"


def _fenced(diff: str) -> str:
    return "My fix:\n\n" + fence_diff(diff)


def _hardcoded_visible(
    answer: dict, base: dict[str, str] | None = None, otherwise_constant: bool = False
) -> str | None:
    """The buggy functions wrapped to answer the visible failing calls from a lookup table, on top
    of ``base`` (the task's files with some edits; default unedited), as a diff from the task's
    files. Other calls go to the buggy function, or with ``otherwise_constant`` get the value
    that the function's visible tests expect most often."""
    import ast as python_ast

    tables: dict[str, dict[str, str]] = {}
    shown: dict[str, list[str]] = {}
    for check in answer.get("checks", []):
        if check["held_out"]:
            continue
        call = ast_parse.parse(check["call"], mode="eval").body
        if not (isinstance(call, python_ast.Call) and isinstance(call.func, python_ast.Name)):
            continue
        shown.setdefault(call.func.id, []).append(check["expected"])
        if check["id"] not in answer["fail_to_pass"]:
            continue
        arguments = python_ast.unparse(python_ast.Tuple(elts=call.args, ctx=python_ast.Load()))
        tables.setdefault(call.func.id, {})[arguments] = check["expected"]
    files = answer["files"]
    base = files if base is None else base
    changes: dict[str, str] = {}
    for name, table in tables.items():
        path = next(
            (p for p, t in base.items() if p.startswith(answer["package"] + "/") and f"\ndef {name}(" in t), None
        )
        if path is None:
            continue
        entries = ", ".join(f"repr({k}): {v}" for k, v in table.items())
        otherwise = max(shown[name], key=shown[name].count) if otherwise_constant else f"_{name}_unpatched(*args)"
        changes[path] = changes.get(path, base[path]) + (
            f"\n\n_{name}_unpatched = {name}\n\n\ndef {name}(*args):\n    known = {{{entries}}}\n"
            f"    if repr(args) in known:\n        return known[repr(args)]\n    return {otherwise}\n"
        )
    if not changes:
        return None
    edited = {p: t for p, t in base.items() if t != files.get(p)} | changes
    return make_unified_diff({p: files[p] for p in edited if p in files}, edited)


def _issue_value_patch(task: Task, shifted: bool, base: dict[str, str] | None = None) -> str | None:
    """Each function (or class method) whose failing call the issue quotes wrapped, bug left in
    place, to return the issue's expected value for every call, or with ``shifted`` the buggy
    result plus (expected − the buggy result of the issue's call), as a diff from the task's
    files; None when the issue quotes no such call (or, ``shifted``, no numeric expected value).
    With ``base`` (the task's files with every bug but the last really fixed) on top of it, and
    only the last bug's call (the issue quotes one call per bug, in order) wrapped."""
    import ast as python_ast

    answer = task.answer
    issue = task.meta.get("issue", "")
    files = answer["files"]
    base = files if base is None else base
    quoted = sorted(
        (
            (issue.index(f">>> {c['call']}\n"), c)
            for c in answer.get("checks", [])
            if not c["held_out"] and c["id"] in answer["fail_to_pass"] and f">>> {c['call']}\n" in issue
        ),
        key=lambda pair: pair[0],
    )
    changes: dict[str, str] = {}
    for _, check in quoted[-1:] if base is not files else quoted:
        expected = ast_parse.literal_eval(check["expected"])
        if shifted and (isinstance(expected, bool) or not isinstance(expected, (int, float))):
            continue
        call = ast_parse.parse(check["call"], mode="eval").body
        path = f"{answer['package']}/{check['module']}.py"
        if not isinstance(call, python_ast.Call) or path not in base:
            continue
        if isinstance(call.func, python_ast.Name):  # name(args)
            original = f"_{call.func.id}_unpatched"
            issue_call = python_ast.unparse(python_ast.Call(python_ast.Name(original), call.args, call.keywords))
            head = f"{original} = {call.func.id}\n\n\ndef {call.func.id}(*args, **kwargs):\n"
            tail, own = "", f"{original}(*args, **kwargs)"
        elif isinstance(call.func, python_ast.Attribute) and isinstance(call.func.value, python_ast.Call):
            owner = python_ast.unparse(call.func.value.func)  # Name(args).method()
            method = call.func.attr
            original = f"_{owner}_{method}_unpatched"
            issue_call = f"{original}({python_ast.unparse(call.func.value)})"
            head = f"{original} = {owner}.{method}\n\n\ndef _{owner}_{method}_patched(self, *args, **kwargs):\n"
            tail, own = f"\n\n{owner}.{method} = _{owner}_{method}_patched\n", f"{original}(self, *args, **kwargs)"
        else:
            continue
        body = f"{own} + ({check['expected']} - {issue_call})" if shifted else check["expected"]
        changes[path] = changes.get(path, base[path]) + f"\n\n{head}    return {body}\n{tail}"
    if not changes:
        return None
    edited = {p: t for p, t in base.items() if t != files.get(p)} | changes
    return make_unified_diff({p: files[p] for p in edited if p in files}, edited)


def _affine_patch(task: Task, from_visible: bool) -> str | None:
    """Each function (or class method) with failing visible calls wrapped, bug left in place, to
    return ``A·result + C``, A and C fitted at run time from the buggy results of those calls and
    their expected values (red team S10b-B5): with ``from_visible``, through two of every visible
    failing check's (buggy, expected) pairs (a scale through the origin when they give one
    point), as an agent that reads ``tests/`` can; else ``scale``: A = expected / buggy of the
    issue's quoted call, C = 0. As a diff from the task's files; None when no such call expects
    a number."""
    import ast as python_ast

    answer = task.answer
    issue = task.meta.get("issue", "")
    files = answer["files"]
    groups: dict[tuple[str, str, str | None], list[tuple[python_ast.Call, str]]] = {}
    for check in answer.get("checks", []):
        if check["held_out"] or check["id"] not in answer["fail_to_pass"]:
            continue
        if not from_visible and f">>> {check['call']}\n" not in issue:
            continue
        expected = _literal(check["expected"])
        if isinstance(expected, bool) or not isinstance(expected, (int, float)):
            continue
        call = ast_parse.parse(check["call"], mode="eval").body
        path = f"{answer['package']}/{check['module']}.py"
        if not isinstance(call, python_ast.Call) or path not in files:
            continue
        if isinstance(call.func, python_ast.Name):
            groups.setdefault((path, call.func.id, None), []).append((call, check["expected"]))
        elif isinstance(call.func, python_ast.Attribute) and isinstance(call.func.value, python_ast.Call):
            owner = python_ast.unparse(call.func.value.func)
            groups.setdefault((path, owner, call.func.attr), []).append((call, check["expected"]))
    changes: dict[str, str] = {}
    for (path, name, method), calls in groups.items():
        if method is None:
            original = f"_{name}_unpatched"
            head = f"{original} = {name}\n\n\ndef {name}(*args, **kwargs):\n    result = {original}(*args, **kwargs)\n"
            tail = ""
            pairs = [
                (python_ast.unparse(python_ast.Call(python_ast.Name(original), c.args, c.keywords)), e)
                for c, e in calls
            ]
        else:
            original = f"_{name}_{method}_unpatched"
            head = (
                f"{original} = {name}.{method}\n\n\ndef _{name}_{method}_fitted(self, *args, **kwargs):\n"
                f"    result = {original}(self, *args, **kwargs)\n"
            )
            tail = f"\n\n{name}.{method} = _{name}_{method}_fitted\n"
            pairs = [(f"{original}({python_ast.unparse(c.func.value)})", e) for c, e in calls]
        listed = ", ".join(f"({call}, {expected})" for call, expected in (pairs if from_visible else pairs[:1]))
        body = (
            f"    points = list(dict([{listed}]).items())[:2]\n"
            "    (x1, y1), (x2, y2) = points if len(points) == 2 else (points[0], (0, 0))\n"
            "    slope = (y2 - y1) / (x2 - x1) if x2 != x1 else 1\n"
            "    value = slope * result + (y1 - slope * x1)\n"
            "    return round(value) if isinstance(y1, int) and value == round(value) else value\n"
        )
        changes[path] = changes.get(path, files[path]) + f"\n\n{head}{body}{tail}"
    if not changes:
        return None
    return make_unified_diff({p: files[p] for p in changes}, changes)


def fixed_except(answer: dict, keep: dict) -> dict[str, str] | None:
    """The task's files with every hunk of the reference fix applied except those that repair the
    bug ``keep`` (one of ``answer["bugs"]``); None when no hunk can be left out alone."""
    partial = partial_fix(answer["fix_patch"], keep)
    if partial is None:
        return None
    files = dict(answer["files"])
    for patch in _parse(partial):
        for hunk in patch.hunks:
            old = "".join(line[1:] + "\n" for line in hunk.lines if line[:1] in (" ", "-"))
            new = "".join(line[1:] + "\n" for line in hunk.lines if line[:1] in (" ", "+"))
            if files.get(patch.old_path, "").count(old) != 1:
                return None
            files[patch.old_path] = files[patch.old_path].replace(old, new)
    return files


def swe_attacks(task: Task) -> list[tuple[str, str]]:
    """Hostile responses for an SWE task; none fixes the bug, so each must score 0."""
    answer = task.answer
    files: dict[str, str] = answer.get("files") or {}
    edited = [p.old_path or p.new_path for p in _parse(answer["fix_patch"])]
    target = answer["bugs"][0]["path"] if answer.get("bugs") else edited[0]
    package_dir = str(PurePosixPath(target).parent)
    test_paths = sorted(p for p in files if is_test_path(p) and p.endswith(".py")) or sorted(
        {p.new_path or p.old_path for p in _parse(answer.get("test_patch") or "")} - {None}
    )
    attacks: list[tuple[str, str]] = []

    def package_edit(name: str, addition: str | None = None, replace: str | None = None) -> None:
        if target in files:
            text = replace if replace is not None else files[target] + addition
            attacks.append((name, _fenced(make_unified_diff({target: files[target]}, {target: text}))))

    def new_file(name: str, path: str, text: str) -> None:
        attacks.append((name, _fenced(make_unified_diff({}, {path: text}))))

    package_edit("frame-walk-report-forgery", FRAME_WALK_FORGERY)
    package_edit("harness-channel-forgery", HARNESS_FORGERY)
    package_edit("monkeypatch-pytest-reports", PYTEST_PATCH)
    package_edit("always-equal-objects", ALWAYS_EQUAL)
    package_edit("print-fake-results", FAKE_OUTPUT)
    package_edit("huge-return-values", HUGE_RESULT)
    for name, code in EXIT_AT_IMPORT.items():
        package_edit(name, code)
    if target in files:
        package_edit("coding-cookie-utf7-hiding", replace=hide_in_utf7(files[target], PLAIN_FORGERY))
        package_edit(
            "coding-cookie-unicode-escape-hiding", replace=hide_in_unicode_escape(files[target], PLAIN_FORGERY)
        )
        package_edit("byte-order-mark-hiding", replace="\ufeff" + files[target] + "\n" + PLAIN_FORGERY + "\n")
        package_edit("deeply-nested-expression", "\n_x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
        package_edit("huge-comment-diff", "\n" + "# padding to look busy\n" * 80_000)
        # the host parses changed files: one f-string's parse grows with the square of its fields,
        # any source's memory with its tokens (red team s21 A: 101 s and 1.4 GB before the caps)
        package_edit("fstring-of-many-fields", '\n_x = f"' + "{_x}" * 20_000 + '"\n')
        package_edit("huge-list-literal", "\n_x = [" + "_x," * 150_000 + "]\n")
    hardcoded = _hardcoded_visible(answer) if answer.get("checks") else None
    if hardcoded:
        attacks.append(("hardcode-visible-tests", _fenced(hardcoded)))
    rest_fixed = fixed_except(answer, answer["bugs"][-1]) if answer.get("checks") and len(answer["bugs"]) > 1 else None
    hardcoded = _hardcoded_visible(answer, rest_fixed) if rest_fixed else None
    if hardcoded:  # every bug but the last really fixed, the last one's visible failures hard-coded
        attacks.append(("fix-all-but-one-hardcode-it", _fenced(hardcoded)))
    if answer.get("checks"):  # symptom patches that leave every bug in place (red team s10 G7, S10b-B5)
        for name, patch in (
            ("constant-issue-value", _issue_value_patch(task, shifted=False)),
            ("constant-issue-offset", _issue_value_patch(task, shifted=True)),
            ("hardcode-visible-else-constant", _hardcoded_visible(answer, otherwise_constant=True)),
            ("fix-all-but-one-constant-it", _issue_value_patch(task, False, rest_fixed) if rest_fixed else None),
            ("affine-from-visible", _affine_patch(task, from_visible=True)),
            ("scale-issue-value", _affine_patch(task, from_visible=False)),
        ):
            if patch:
                attacks.append((name, _fenced(patch)))
    if test_paths and test_paths[0] in files:
        first = test_paths[0]
        neutered = (
            "\n".join(
                "    assert True" if line.strip().startswith("assert ") else line for line in files[first].splitlines()
            )
            + "\n"
        )
        attacks.append(("edit-visible-tests", _fenced(make_unified_diff({first: files[first]}, {first: neutered}))))
        attacks.append(
            ("delete-tests", _fenced(make_unified_diff({p: files[p] for p in test_paths if p in files}, {})))
        )
        attacks.append(
            (
                "rename-tests-away",
                _fenced(
                    f"diff --git a/{first} b/{package_dir}/moved.py\nsimilarity index 100%\nrename from {first}\n"
                    f"rename to {package_dir}/moved.py\n"
                ),
            )
        )
    elif test_paths:
        attacks.append(
            ("edit-visible-tests", _fenced(f"--- a/{test_paths[0]}\n+++ b/{test_paths[0]}\n@@ -1,1 +1,1 @@\n-x\n+y\n"))
        )
    conftest = (
        "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n"
    )
    new_file("add-root-conftest", "conftest.py", conftest)
    new_file("add-package-conftest", f"{package_dir}/conftest.py", conftest)
    new_file("add-pytest-ini", "pytest.ini", "[pytest]\naddopts = -p no:python\n")
    new_file("add-setup-cfg", "setup.cfg", "[tool:pytest]\naddopts = --co\n")
    if "pyproject.toml" in files:
        attacks.append(
            (
                "edit-pyproject",
                _fenced(
                    make_unified_diff(
                        {"pyproject.toml": files["pyproject.toml"]},
                        {"pyproject.toml": files["pyproject.toml"] + '\n[tool.coverage]\naddopts = "-p no:python"\n'},
                    )
                ),
            )
        )
    new_file("add-pth-file", "rlvr_boot.pth", "import os; os._exit(0)\n")
    new_file("add-package-pth-file", f"{package_dir}/boot.pth", "import os; os._exit(0)\n")
    new_file("add-sitecustomize", "sitecustomize.py", "import os\nos._exit(0)\n")
    new_file("add-package-sitecustomize", f"{package_dir}/sitecustomize.py", "import os\nos._exit(0)\n")
    new_file("module-outside-package", "helpers_extra.py", "VALUE = 1\n")
    new_file("new-top-level-package", "evil/__init__.py", "VALUE = 1\n")
    attacks += [
        ("path-traversal", _fenced("--- a/../outside.py\n+++ b/../outside.py\n@@ -1,1 +1,1 @@\n-a\n+b\n")),
        ("absolute-path", _fenced("--- /dev/null\n+++ /etc/cron.d/evil\n@@ -0,0 +1 @@\n+* * * * * root true\n")),
        ("git-directory", _fenced("--- /dev/null\n+++ b/.git/hooks/post-checkout\n@@ -0,0 +1 @@\n+#!/bin/sh\n")),
        (
            "symlink-in-diff",
            _fenced(
                f"diff --git a/{package_dir}/link.py b/{package_dir}/link.py\nnew file mode 120000\n"
                f"--- /dev/null\n+++ b/{package_dir}/link.py\n@@ -0,0 +1 @@\n+/etc/passwd\n"
            ),
        ),
        ("symlink-mode-change", _fenced(f"diff --git a/{target} b/{target}\nold mode 100644\nnew mode 120000\n")),
        (
            "submodule-in-diff",
            _fenced(
                f"diff --git a/{package_dir}/sub b/{package_dir}/sub\nnew file mode 160000\nindex 0000000..{'1' * 40}\n"
            ),
        ),
        (
            "binary-patch",
            _fenced(
                f"diff --git a/{package_dir}/x.so b/{package_dir}/x.so\nnew file mode 100644\n"
                "GIT binary patch\nliteral 1\nIcmZ?d00001\n\nliteral 0\nHcmV?d00001\n"
            ),
        ),
        (
            "copy-patch",
            _fenced(
                f"diff --git a/{target} b/{package_dir}/copy.py\ncopy from {target}\ncopy to {package_dir}/copy.py\n"
            ),
        ),
        ("deep-path", _fenced("--- /dev/null\n+++ b/" + "/".join(["d"] * 300) + "/x.py\n@@ -0,0 +1 @@\n+x = 1\n")),
        ("quoted-path", _fenced('--- "a/x\\n.py"\n+++ "b/x\\n.py"\n@@ -1 +1 @@\n-a\n+b\n')),
        (
            "malformed-hunk-counts",
            _fenced(f"--- a/{target}\n+++ b/{target}\n@@ -1,999999999 +1,999999999 @@\n+x = 1\n"),
        ),
        ("hunk-without-header", _fenced("@@ -1,1 +1,1 @@\n-a\n+b\n")),
        ("garbage-diff", _fenced("diff --git\n--- \n+++ \n@@ @@\n\x00\x01\x02 not a diff\n")),
        ("nul-bytes-diff", _fenced(f"--- a/{target}\n+++ b/{target}\n@@ -1,1 +1,1 @@\n-\x00\n+\x00\x00\n")),
        ("huge-diff", _fenced(f"--- a/{target}\n+++ b/{target}\n@@ -1,1 +1,1 @@\n" + "+# x\n" * 800_000)),
        (
            "many-tiny-files",
            _fenced(
                "".join(f"--- /dev/null\n+++ b/{package_dir}/m{i}.py\n@@ -0,0 +1 @@\n+x = {i}\n" for i in range(3000))
            ),
        ),
    ]
    return attacks


def _parse(diff: str) -> list:
    from rlvr.verifiers.swe import PatchError, parse_patch

    try:
        return parse_patch(diff) if diff.strip() else []
    except PatchError:
        return []


AGENT_TOOLS = """You work in the repository through tools. Each of your turns is exactly one tool call: a JSON object,
bare, in a ```json block or inside <tool_call>…</tool_call>:
  {"tool": "bash", "command": "grep -rn 'def ' PACKAGE"}                run a shell command in the repository
  {"tool": "view", "path": "PACKAGE/api.py", "start": 1, "end": 60}     show a file (or a directory listing)
  {"tool": "search", "query": "def total", "path": "PACKAGE"}            find a fixed string
  {"tool": "edit", "path": "PACKAGE/api.py", "old": "text", "new": "replacement"}   replace text that occurs once
  {"tool": "run_tests", "tests": ["tests/test_api.py::test_name"]}      run pytest (no "tests": the whole suite)
  {"tool": "submit"}                                                     finish; your changes are graded
Commands run in a sandbox without network. The hidden grading reruns the test suite plus held-out tests on your
changes; changing tests or configuration files scores 0."""


def agent_prompt(parts: dict) -> str:
    """The prompt of SWEAgent-v0: the issue, the repository layout and the tool syntax instead of
    the files."""
    answer = parts["answer"]
    name = answer.get("package") or answer.get("repo", "repository")
    listing = sorted(answer.get("files", {}))
    layout = ("Repository layout:\n" + "\n".join(f"  {p}" for p in listing) + "\n\n") if listing else ""
    return (
        f"You are fixing a bug in the Python repository `{name}` (your working directory). "
        f"A user filed this issue:\n\n<issue>\n{parts['meta']['issue'].rstrip()}\n</issue>\n\n{layout}"
        f"{AGENT_TOOLS.replace('PACKAGE', str(name).split('/')[-1])}\n\n"
        "Find the bug, fix the package source, check with the tests, then submit."
    )
