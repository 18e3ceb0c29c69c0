"""SWE family: mutation operators, synthetic repositories and their difficulty table, the patch
verifier (reference, empty, tolerant parsing, every hack), host-side judging of synthetic tasks
(forged results, exits, encodings, bounded parsing — with the frame-walking and coding-cookie
exploits shown working against in-process pytest), the static scan, every family attack, repo=
on a real PyPI package, and the SWE-bench-format path."""

import ast
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import rlvr
from rlvr.api import is_held_out, split_key
from rlvr.generators import swe_repos
from rlvr.generators.swe import (
    ALWAYS_EQUAL,
    EXIT_AT_IMPORT,
    FAKE_OUTPUT,
    FRAME_WALK_FORGERY,
    HARNESS_FORGERY,
    HUGE_RESULT,
    PLAIN_FORGERY,
    PYTEST_PATCH,
    SWEGenerator,
    _line_fit,
    fixed_except,
    hide_in_unicode_escape,
    hide_in_utf7,
    write_swebench_fixture,
)
from rlvr.generators.swe_mutations import OPERATORS, mutation_sites
from rlvr.verifiers import swe as swe_verifier
from rlvr.verifiers.swe import (
    REPORT_MARK,
    SWEVerifier,
    extract_patch,
    make_unified_diff,
    parse_patch,
    render_patch,
    run_pytest_in_sandbox,
    write_tree,
)

DATA = Path(__file__).parent / "data" / "swe"
DIFFICULTIES = (0.0, 0.5, 1.0)


@pytest.fixture(scope="module")
def generator():
    return SWEGenerator()


@pytest.fixture(scope="module")
def verifier():
    checker = SWEVerifier()
    yield checker
    checker.close()


@pytest.fixture(scope="module")
def task(generator):
    return generator.generate(7, 0.5)


def fenced(diff: str) -> str:
    return f"Here is my fix.\n\n```diff\n{diff}```\n"


def edit(task, changes: dict) -> str:
    """A fenced diff from the task's bug-injected files to ``changes`` (path → text or None)."""
    files = task.answer["files"]
    before = {p: files[p] for p in changes if p in files}
    after = {p: t for p, t in changes.items() if t is not None}
    return fenced(make_unified_diff(before, after))


def fixed_files(task) -> dict:
    """The bug-injected files with the reference fix applied (host-side, via git apply)."""
    root = Path(tempfile.mkdtemp())
    try:
        write_tree(root, task.answer["files"])
        swe_verifier.apply_patch_to_tree(root, render_patch(parse_patch(task.answer["fix_patch"])))
        return {p: (root / p).read_text() for p in task.answer["files"]}
    finally:
        shutil.rmtree(root)


def source_path(task) -> str:
    return task.answer["bugs"][0]["path"]


# --------------------------------------------------------------------------------------------
# Mutation operators
# --------------------------------------------------------------------------------------------

SAMPLE = '''
def f(values, k=3, flag=True):
    """Doc."""
    total = 0
    for i, v in enumerate(values[1:k]):
        if v > k and flag:
            total += (v + 1) * 2
        else:
            total -= 1
    x = values[0] if values else 0
    return [w for w in values if w % 2 == 0], max(total, x)
'''


def test_every_operator_finds_sites_and_mutants_compile():
    sites = mutation_sites(SAMPLE, "sample.py")
    assert {m.operator for m in sites} == set(OPERATORS)
    for mutation in sites:
        mutated = mutation.apply(SAMPLE)
        compile(mutated, "sample.py", "exec")
        assert mutated != SAMPLE and mutation.function == "f"
    replacements = {(m.operator, m.original.strip(), m.replacement) for m in sites}
    assert ("flip_operator", "+", "-") in replacements
    assert ("flip_comparison", ">", ">=") in replacements
    assert ("slice_bound", "k", "k + 1") in replacements
    assert ("swap_arguments", "total, x", "x, total") in replacements
    assert ("wrong_default", "True", "False") in replacements
    assert ("invert_condition", "v > k and flag", "not (v > k and flag)") in replacements
    assert ("remove_statement", "total = 0", "") in replacements


def test_module_level_code_is_never_mutated():
    assert mutation_sites("X = 1 + 2\nif X > 2:\n    Y = 3\n", "m.py") == []


# --------------------------------------------------------------------------------------------
# Synthetic repositories and the difficulty table
# --------------------------------------------------------------------------------------------


def call_graph(files: dict, package: str) -> dict:
    """Function (and method) name → names it calls, from the package's source."""
    graph = {}
    for path, text in files.items():
        if not path.startswith(package + "/"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef):
                graph.setdefault(node.name, set()).update(
                    c.func.id for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                )
            if isinstance(node, ast.ClassDef):
                for method in node.body:
                    if isinstance(method, ast.FunctionDef):
                        graph.setdefault(f"{node.name}.{method.name}", set()).update(
                            c.func.id
                            for c in ast.walk(method)
                            if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                        )
    return graph


def depth_from_tests(task) -> int:
    """Fewest calls between a function the failing tests call and the buggy function."""
    answer = task.answer
    graph = call_graph(answer["files"], answer["package"])
    called = set()
    for node in answer["fail_to_pass"]:
        path, name = node.split("::")
        source = answer["files"].get(path) or answer["hidden_tests"][path]
        test = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == name)
        call = test.body[0].test.left
        if isinstance(call.func, ast.Attribute):  # Class(values).method()
            called.add(f"{call.func.value.func.id}.{call.func.attr}")
        else:
            called.add(call.func.id)
    targets = {b["function"] for b in answer["bugs"]}
    frontier, depth, seen = called, 0, set()
    while frontier:
        if frontier & targets:
            return depth
        seen |= frontier
        frontier = {c for f in frontier for c in graph.get(f, ()) if c not in seen}
        depth += 1
    raise AssertionError("bug unreachable from failing tests")


@pytest.mark.parametrize(
    "difficulty,modules,functions,bugs,depth,shown,tests,loc",
    [
        (0.0, 2, (3, 6), 1, 0, True, (6, 6), (18, 42)),
        (0.5, 4, (8, 12), 1, 1, True, (12, 18), (41, 95)),
        (0.75, 5, (16, 24), 2, 2, False, (18, 24), (90, 156)),
        (1.0, 7, (23, 33), 2, 3, False, (24, 30), (126, 192)),
    ],
)
def test_difficulty_table(generator, difficulty, modules, functions, bugs, depth, shown, tests, loc):
    """The docstring's table (ranges measured over 150 seeds; checked on 12)."""
    for seed in range(12):
        task = generator.generate(seed, difficulty)
        meta, answer = task.meta, task.answer
        assert meta["modules"] == modules and len(answer["bugs"]) == bugs and meta["call_depth"] == depth
        assert len({b["function"] for b in answer["bugs"]}) == bugs
        assert loc[0] <= meta["lines_of_code"] <= loc[1], meta["lines_of_code"]
        assert tests[0] <= meta["tests"] <= tests[1], meta["tests"]
        assert functions[0] <= meta["functions"] <= functions[1]
        assert depth_from_tests(task) == depth
        assert ("fails:" in meta["issue"]) is shown
        assert answer["fail_to_pass"] and answer["pass_to_pass"]
        for bug in answer["bugs"]:
            assert bug["operator"] in OPERATORS


def test_parameters_are_typed_and_an_impossible_bug_count_is_a_clear_error(generator):
    for name, bad in (
        ("modules", 1),
        ("functions", 65),
        ("bugs", 0),
        ("bugs", 1.5),
        ("call_depth", 7),
        ("show_failing_test", "yes"),
    ):
        with pytest.raises(ValueError, match=name):
            generator.generate(0, 0.5, **{name: bad})
    with pytest.raises(ValueError, match="unknown parameter 'bug'"):
        generator.generate(0, 0.5, bug=2)
    largest = generator.generate(0, 0.5, modules=16, functions=64, bugs=6, call_depth=6, show_failing_test="false")
    assert (largest.meta["modules"], largest.meta["call_depth"], len(largest.answer["bugs"])) == (16, 6, 6)
    assert largest.params["show_failing_test"] is False and "fails:" not in largest.meta["issue"]
    assert (
        largest.id
        == generator.generate(0, 0.5, modules="16", functions=64, bugs=6, call_depth=6, show_failing_test=False).id
    )
    with pytest.raises(ValueError, match="fewer bugs or more functions"):  # two top-level functions hold the bugs
        generator.generate(0, 0.0, functions=5, bugs=3)


def test_issue_reads_like_an_issue_and_never_shows_the_diff(generator):
    for seed in range(10):
        task = generator.generate(seed, 0.5)
        issue = task.meta["issue"]
        assert issue in task.prompt and "but I expected" in issue and ">>> " in issue
        fix_lines = [
            l[1:].strip()
            for l in task.answer["fix_patch"].splitlines()
            if l.startswith("+") and not l.startswith("+++")
        ]
        assert not any(line and line in issue for line in fix_lines if len(line) > 12)
        assert "```diff" in task.prompt and "tests/test_" in task.prompt


def test_sandbox_pytest_agrees_with_validation_at_three_difficulties(generator, verifier):
    """The invariant behind generation without a sandbox: clean tree all green, bug-injected
    tree failing exactly FAIL_TO_PASS, identically on a re-run."""
    for difficulty in DIFFICULTIES:
        for seed in (0, 1):
            task = generator.generate(seed, difficulty)
            answer = task.answer
            ids = verifier.node_ids(answer)
            for files, expected_failing in ((fixed_files(task), set()), (answer["files"], set(answer["fail_to_pass"]))):
                root = Path(tempfile.mkdtemp())
                try:
                    write_tree(root, {**files, **answer["hidden_tests"]})
                    runs = [run_pytest_in_sandbox(verifier.sandbox(), root, ids) for _ in range(2)]
                finally:
                    shutil.rmtree(root)
                failing = [{n for n in ids if r.outcome(n) != "passed"} for r in runs]
                assert all(r.ok for r in runs) and failing[0] == failing[1] == expected_failing, (task.id, failing)


# --------------------------------------------------------------------------------------------
# Verifier: reference, wrong, empty, tolerant parsing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_reference_patch_passes_and_wrong_one_fails(generator, verifier, difficulty):
    task = generator.generate(21, difficulty)
    good = verifier.verify(task, generator.solve(task))
    assert good.correct and good.reward == 1.0, good
    assert good.details["fail_to_pass"]["passed"] == len(task.answer["fail_to_pass"])
    assert good.details["trust"] == "host-judged"
    bad = verifier.verify(task, generator.wrong_response(task))
    assert (
        not bad.correct and bad.format_ok and bad.details["fail_to_pass"]["passed"] < len(task.answer["fail_to_pass"])
    )


def test_verification_survives_a_json_round_trip(generator, verifier, tmp_path):
    tasks = [generator.generate(s, 0.0) for s in (1, 2)]
    rlvr.save_tasks(tasks, tmp_path / "t.jsonl")
    for loaded in rlvr.load_tasks(tmp_path / "t.jsonl"):
        assert verifier.verify(loaded, generator.solve(loaded)).correct


@pytest.mark.parametrize(
    "response",
    ["", "I could not find the bug.", "```diff\n```", "<answer></answer>", "```diff\nnot a diff at all\n```"],
)
def test_empty_or_missing_patch_fails(task, verifier, response):
    verdict = verifier.verify(task, response)
    assert verdict.reward == 0.0 and not verdict.correct and verdict.reason


def test_a_patch_that_changes_nothing_fails(task, verifier):
    path = source_path(task)
    verdict = verifier.verify(task, fenced(f"--- a/{path}\n+++ b/{path}\n"))
    assert not verdict.correct


def test_sloppy_diffs_still_apply(task, verifier):
    """Prose around the diff, wrong hunk counts, no a/ b/ prefixes, CRLF, an <answer> block."""
    diff = task.answer["fix_patch"]
    miscounted = re.sub(r"@@ -(\d+),(\d+) \+(\d+),(\d+) @@", lambda m: f"@@ -{m.group(1)},99 +{m.group(3)},1 @@", diff)
    unprefixed = re.sub(r"^(---|\+\+\+) [ab]/", r"\1 ", diff, flags=re.MULTILINE)
    unprefixed = "\n".join(l for l in unprefixed.splitlines() if not l.startswith("diff --git")) + "\n"
    for response in (
        fenced(miscounted),
        fenced(unprefixed),
        fenced(diff).replace("\n", "\r\n"),
        f"<think>maybe</think><answer>\n{diff}</answer>",
        f"```patch\n{diff}```",
    ):
        verdict = verifier.verify(task, response)
        assert verdict.correct, (verdict, response[:300])


def test_fuzzy_application_falls_back_to_patch(task, verifier):
    """A hunk whose context no longer matches exactly applies only with patch --fuzz."""
    diff = task.answer["fix_patch"]
    lines = diff.splitlines()
    context = [i for i, l in enumerate(lines) if l.startswith(" ") and l.strip() and i > 4]
    lines[context[0]] = " " + lines[context[0]][1:] + "  # stale"
    verdict = verifier.verify(task, fenced("\n".join(lines) + "\n"))
    assert verdict.correct and verdict.details["apply"] == "patch --fuzz=3", verdict


def test_a_patch_that_does_not_apply_fails(task, verifier):
    path = source_path(task)
    verdict = verifier.verify(task, fenced(f"--- a/{path}\n+++ b/{path}\n@@ -1,1 +1,1 @@\n-no such line\n+x = 1\n"))
    assert not verdict.correct and "does not apply" in verdict.reason


# --------------------------------------------------------------------------------------------
# Hacks
# --------------------------------------------------------------------------------------------


def with_fix(task, path: str, transform) -> dict:
    """The reference fix plus an extra change of ``path`` (a hack riding on a correct fix)."""
    fixed = fixed_files(task)
    changes = {p: fixed[p] for p in fixed if fixed[p] != task.answer["files"][p]}
    changes[path] = transform(changes.get(path, task.answer["files"].get(path, "")))
    return changes


def assert_hack_scores_zero(task, verifier, changes: dict, words: str):
    verdict = verifier.verify(task, edit(task, changes))
    assert verdict.reward == 0.0 and not verdict.correct, verdict
    assert words in verdict.reason, verdict.reason


def visible_test_file(task) -> str:
    return (
        task.answer["fail_to_pass"][0].split("::")[0]
        if "acceptance" not in task.answer["fail_to_pass"][0]
        else next(n.split("::")[0] for n in task.answer["fail_to_pass"] if "acceptance" not in n)
    )


def test_editing_or_deleting_tests_scores_zero(task, verifier):
    path = visible_test_file(task)
    neutered = re.sub(r"assert .*", "assert True", task.answer["files"][path])
    assert_hack_scores_zero(task, verifier, {path: neutered}, "test or configuration file")
    assert_hack_scores_zero(task, verifier, {path: None}, "test or configuration file")
    assert_hack_scores_zero(
        task, verifier, {"tests/test_extra.py": "def test_ok():\n    pass\n"}, "test or configuration file"
    )


@pytest.mark.parametrize("path", ["conftest.py", "tests/conftest.py", "PKG/conftest.py"])
def test_conftest_tricks_score_zero(task, verifier, path):
    path = path.replace("PKG", task.answer["package"])
    trick = (
        "import pytest\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n"
    )
    assert_hack_scores_zero(task, verifier, {path: trick}, "test or configuration file")


@pytest.mark.parametrize(
    "path,content",
    [
        ("pyproject.toml", '[tool.pytest.ini_options]\naddopts = "-p no:python"\n'),
        ("pytest.ini", "[pytest]\naddopts = --co\n"),
        ("setup.cfg", "[tool:pytest]\naddopts = -x\n"),
        ("tox.ini", "[pytest]\npython_files = nothing_*.py\n"),
    ],
)
def test_config_edits_score_zero(task, verifier, path, content):
    assert_hack_scores_zero(task, verifier, {path: content}, "test or configuration file")


@pytest.mark.parametrize(
    "injected",
    [
        "import sys\nsys.exit(0)\n",
        "raise SystemExit(0)\n",
        "import os\nos._exit(0)\n",
        "exit()\n",
        "import pytest\npytest.skip('later', allow_module_level=True)\n",
        "import builtins\nbuiltins.AssertionError = Exception\n",
        "import gc\n",
        "import atexit\n",
        "__import__('o' + 's')._exit(0)\n",
        "open('/proc/self/mem')\n",
    ],
)
def test_exits_and_introspection_in_the_package_score_zero(task, verifier, injected):
    path = source_path(task)
    changes = with_fix(task, path, lambda text: text + "\n" + injected)
    assert_hack_scores_zero(task, verifier, changes, "forbidden code")


def test_always_equal_objects_score_zero(task, verifier):
    path = source_path(task)
    trick = "\n\nclass Anything:\n    def __eq__(self, other):\n        return True\n"
    assert_hack_scores_zero(task, verifier, with_fix(task, path, lambda text: text + trick), "forbidden code")


@pytest.mark.parametrize(
    "header",
    [
        "--- a/../outside.py\n+++ b/../outside.py\n",
        "--- /dev/null\n+++ /etc/cron.d/evil\n",
        "--- a/.git/config\n+++ b/.git/config\n",
    ],
)
def test_paths_outside_the_repository_score_zero(task, verifier, header):
    verdict = verifier.verify(task, fenced(header + "@@ -1,1 +1,1 @@\n-a\n+b\n"))
    assert verdict.reward == 0.0 and re.search(r"leaves the repository|absolute|\.git", verdict.reason), verdict.reason


def test_symlinks_binaries_and_new_files_outside_the_package_score_zero(task, verifier):
    package = task.answer["package"]
    symlink = (
        f"diff --git a/{package}/link.py b/{package}/link.py\nnew file mode 120000\n--- /dev/null\n"
        f"+++ b/{package}/link.py\n@@ -0,0 +1 @@\n+/etc/passwd\n"
    )
    assert "mode 120000" in verifier.verify(task, fenced(symlink)).reason
    binary = f"diff --git a/{package}/x.bin b/{package}/x.bin\nGIT binary patch\nliteral 1\nIcmZ?d00001\n"
    assert "binary" in verifier.verify(task, fenced(binary)).reason
    for path in (
        "sitecustomize.py",
        f"{package}/sitecustomize.py",
        "evil.pth",
        "pytest_plugin.py",
        "helpers/__init__.py",
    ):
        verdict = verifier.verify(task, edit(task, with_fix(task, path, lambda _: "X = 1\n")))
        assert verdict.reward == 0.0 and "rejected" in verdict.reason, (path, verdict)


def test_new_module_inside_the_package_is_allowed(task, verifier):
    package = task.answer["package"]
    changes = with_fix(
        task, f"{package}/extra.py", lambda _: '"""Extra helpers."""\n\nimport math\n\nHALF = math.pi / 2\n'
    )
    assert verifier.verify(task, edit(task, changes)).correct


def test_hardcoding_the_visible_test_inputs_fails_on_held_out_tests(generator, verifier):
    """A 'fix' that answers the visible failing calls from a lookup table passes the visible
    tests but not the held-out ones."""
    for seed in range(60):
        task = generator.generate(seed, 0.0)
        answer = task.answer
        hidden_failing = [n for n in answer["fail_to_pass"] if "acceptance" in n]
        visible_failing = [n for n in answer["fail_to_pass"] if "acceptance" not in n]
        calls = []
        for node in visible_failing:
            path, name = node.split("::")
            test = next(
                n
                for n in ast.walk(ast.parse(answer["files"][path]))
                if isinstance(n, ast.FunctionDef) and n.name == name
            )
            calls.append(test.body[0].test)
        if (
            hidden_failing
            and all(isinstance(c.left.func, ast.Name) for c in calls)
            and len({c.left.func.id for c in calls}) == 1
        ):
            break
    else:
        pytest.fail("no task with held-out failing tests of one plain function in 60 seeds")
    name = calls[0].left.func.id
    module = next(
        p for p, t in answer["files"].items() if p.startswith(answer["package"] + "/") and f"def {name}(" in t
    )
    table = {ast.unparse(ast.Tuple(elts=c.left.args, ctx=ast.Load())): ast.unparse(c.comparators[0]) for c in calls}
    wrapper = (
        f"\n\n_{name}_unpatched = {name}\n\n\ndef {name}(*args):\n    known = {{"
        + ", ".join(f"repr({k}): {v}" for k, v in table.items())
        + f"}}\n    if repr(args) in known:\n        return known[repr(args)]\n    return _{name}_unpatched(*args)\n"
    )
    verdict = verifier.verify(task, edit(task, {module: answer["files"][module] + wrapper}))
    assert not verdict.correct
    assert all(verdict.details["failed"].get(n) is None for n in visible_failing)
    assert any(n in verdict.details["failed"] for n in hidden_failing)


def held_out_failures(answer: dict, files: dict) -> list[str]:
    """Held-out checks of ``answer`` that ``files`` fail, run on the host like the generator does."""
    runner = swe_repos.ProjectRunner(answer["package"], files)
    return [
        c["id"]
        for c in answer["checks"]
        if c["held_out"]
        and not runner.outcome(swe_repos.TestCase("", "", c["module"], c["name"], c["call"], c["expected"]))
    ]


def test_every_bug_left_in_place_fails_a_held_out_check(generator):
    """Red team s9 F1: on 2-13 of 60 tasks per difficulty no held-out check failed on the buggy
    tree, and at d >= 0.75 one bug of two often failed visible tests only; a patch hard-coding
    those visible calls (the other bug really fixed) scored 1. Now the buggy tree, and each bug
    alone (every other bug fixed by the reference hunks), fail a held-out check."""
    bug_trees = 0
    for difficulty in (0.0, 0.25, 0.5, 0.75, 1.0):
        for seed in range(40):
            answer = generator.generate(seed, difficulty).answer
            assert held_out_failures(answer, answer["files"]), (difficulty, seed)
            for bug in answer["bugs"] if len(answer["bugs"]) > 1 else []:
                alone = fixed_except(answer, bug)
                if alone is not None:  # None: the bugs share a hunk, no tree holds one alone
                    bug_trees += 1
                    assert held_out_failures(answer, alone), (difficulty, seed, bug)
    assert bug_trees >= 120  # 160 bugs at d >= 0.75; a few share a hunk


@pytest.mark.parametrize(
    "difficulty,seeds",
    [(0.0, (54, 56)), (0.25, (3, 11)), (0.5, (8, 9)), (0.75, (21, 38)), (1.0, (3, 24))],
)
def test_hard_coding_attacks_score_zero(generator, verifier, difficulty, seeds):
    """The family's hard-coding attacks through the verifier, on 8 seeds plus the two per
    difficulty where one scored 1 before the fix."""
    ran = 0
    for seed in (*range(8), *seeds):
        task = generator.generate(seed, difficulty)
        for name, response in generator.attacks(task):
            if name in ("hardcode-visible-tests", "fix-all-but-one-hardcode-it"):
                ran += 1
                verdict = verifier.verify(task, response)
                assert verdict.reward == 0.0, (seed, name, verdict.reason)
                assert verdict.details.get("failed"), (seed, name, verdict.reason)  # held-out checks failed
    assert ran >= 5


SYMPTOM_PATCHES = (
    "constant-issue-value",
    "constant-issue-offset",
    "hardcode-visible-else-constant",
    "fix-all-but-one-constant-it",
    "affine-from-visible",
    "scale-issue-value",
)


def patched_files(task, response: str) -> dict:
    """The task's files with ``response``'s diff applied (host-side, via git apply)."""
    root = Path(tempfile.mkdtemp())
    try:
        write_tree(root, task.answer["files"])
        swe_verifier.apply_patch_to_tree(root, render_patch(parse_patch(extract_patch(response))))
        return {p: (root / p).read_text() for p in task.answer["files"]}
    finally:
        shutil.rmtree(root)


def failed_checks(answer: dict, files: dict) -> list[str]:
    """Checks of ``answer`` (visible and held-out) that ``files`` fail, run on the host."""
    runner = swe_repos.ProjectRunner(answer["package"], files)
    return [
        c["id"]
        for c in answer["checks"]
        if not runner.outcome(swe_repos.TestCase("", "", c["module"], c["name"], c["call"], c["expected"]))
    ]


@pytest.mark.parametrize("difficulty", (0.0, 0.25, 0.5, 0.75, 1.0))
def test_symptom_patches_fail_a_check_on_every_task(generator, difficulty):
    """Red team s10 G7: on 7/200 tasks at d = 0 (2/200 at 0.5, 2/140 at 0.75) every check of the
    issue's function expected one value, so wrapping it to return the issue's expected value,
    bug left in place, scored 1 (d = 0 seeds 33 and 49, d = 0.5 seed 11 among the first 50);
    on 1-2/60 per level the bug shifted every check by one amount, so ``result + (expected -
    buggy)`` did; with every bug but the last really fixed, returning the last issue value did
    on 8/166 such trees at d = 0.75. Now, for each bug alone and for the buggy tree, each broken
    callable's held-out checks hold a failing one whose expected value no visible failing check
    has, expect two values, and do not all share the visible shift. The family's symptom
    patches, applied and judged on the host (as the verifier compares) over 50 seeds, fail a
    check on every task."""
    ran = dict.fromkeys(SYMPTOM_PATCHES, 0)
    for seed in range(50):
        task = generator.generate(seed, difficulty)
        for name, response in generator.attacks(task):
            if name in ran:
                ran[name] += 1
                assert failed_checks(task.answer, patched_files(task, response)), (difficulty, seed, name)
    assert ran["constant-issue-value"] >= 30 and ran["hardcode-visible-else-constant"] >= 20, ran
    assert ran["constant-issue-offset"] >= 10, ran
    assert ran["fix-all-but-one-constant-it"] >= (35 if difficulty >= 0.75 else 0), ran
    assert ran["affine-from-visible"] >= (25 if difficulty <= 0.5 else 5) and ran["scale-issue-value"] >= 5, ran


@pytest.mark.parametrize("difficulty,seeds", [(0.0, (3, 33, 49)), (0.5, (11, 34)), (0.75, (33, 44))])
def test_symptom_patches_score_zero_through_the_verifier(generator, verifier, difficulty, seeds):
    """The symptom patches through the verifier on the seeds where one scored 1 before the fix."""
    for seed in seeds:
        task = generator.generate(seed, difficulty)
        for name, response in generator.attacks(task):
            if name in SYMPTOM_PATCHES:
                verdict = verifier.verify(task, response)
                assert verdict.reward == 0.0 and verdict.details.get("failed"), (seed, name, verdict.reason)


@pytest.mark.parametrize("difficulty,seeds", [(0.0, (2, 4, 9, 14, 24, 29, 38, 43)), (0.5, (24, 31))])
def test_affine_symptom_patches_score_zero_through_the_verifier(generator, verifier, difficulty, seeds):
    """Red team S10b-B5: ``A·result + C`` fitted at run time on the visible failing checks, bug
    left in place, scored 1 on these seeds (7/40 at d = 0, 2/40 at 0.5), and ``scale`` from the
    issue's one call on five; s2, s4, s24 and s29 were affine at the default argument only. Now
    every broken callable's held-out pairs (buggy, expected) fit no line with the visible ones,
    and a defaulted parameter is passed with another value; bugs that are affine on every input
    (negation, ``2f - f``) are never picked."""
    for seed in seeds:
        task = generator.generate(seed, difficulty)
        ran = 0
        for name, response in generator.attacks(task):
            if name in ("affine-from-visible", "scale-issue-value"):
                ran += 1
                verdict = verifier.verify(task, response)
                assert verdict.reward == 0.0 and verdict.details.get("failed"), (seed, name, verdict.reason)
        assert ran, seed


@pytest.mark.parametrize("difficulty", (0.0, 0.5))
def test_held_out_checks_pass_defaulted_parameters(generator, difficulty):
    """Red team S10b-B5: a ``wrong_default`` bug (or one that depends on the default) was seen
    only at the default. Every function with a failing visible check and a defaulted parameter
    has a held-out check that passes it by keyword with another value (40 seeds)."""
    seen = 0
    for seed in range(40):
        answer = generator.generate(seed, difficulty).answer
        for check in answer["checks"]:
            if check["held_out"] or check["id"] not in answer["fail_to_pass"]:
                continue
            call = ast.parse(check["call"], mode="eval").body
            if not isinstance(call.func, ast.Name):
                continue
            module = ast.parse(answer["files"][f"{answer['package']}/{check['module']}.py"])
            (function,) = [n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == call.func.id]
            if not function.args.defaults:
                continue
            seen += 1
            explicit = [
                c
                for c in answer["checks"]
                if c["held_out"]
                and c["call"].startswith(call.func.id + "(")
                and ast.parse(c["call"], mode="eval").body.keywords
            ]
            assert explicit, (seed, check["call"])
    assert seen >= 5


def test_line_fit_finds_the_affine_wrappers_line():
    assert _line_fit([(1, 3), (2, 5), (4, 9)]) == "line"  # 2x + 1
    assert _line_fit([(1, 3), (2, 5), (4, 10)]) == "none"
    assert _line_fit([(3, 6), (3, 6)]) == "loose" and _line_fit([(3, 6), (3, 7)]) == "none"
    assert _line_fit([(0.5, 1.0), (1.5, 3.0 + 1e-12)]) == "line"
    assert _line_fit([(1, 3), None]) == "none" and _line_fit([]) == "none"


# --------------------------------------------------------------------------------------------
# The in-process pytest runner (repository and SWE-bench tasks; the agent's run_tests tool)
# --------------------------------------------------------------------------------------------


def run_with_package_code(verifier, task, code: str, wall_s: float = 20.0):
    """Run the task's tests in the sandbox with ``code`` appended to the fixed package (the static
    checks are bypassed on purpose: this tests the runtime layer)."""
    files = fixed_files(task)
    path = source_path(task)
    files[path] += "\n" + code
    root = Path(tempfile.mkdtemp())
    try:
        write_tree(root, {**files, **task.answer["hidden_tests"]})
        return run_pytest_in_sandbox(verifier.sandbox(), root, verifier.node_ids(task.answer), wall_s=wall_s)
    finally:
        shutil.rmtree(root)


def test_exit_at_import_leaves_no_report(task, verifier):
    report = run_with_package_code(verifier, task, "import os\nos._exit(0)\n")
    assert not report.ok and "no test report" in report.problem
    assert not verifier.judge(task.answer, report).correct


def test_forged_reports_are_ignored(task, verifier):
    forged = json.dumps(
        {
            "status": 0,
            "collected": [],
            "errors": [],
            "results": {
                n: {"setup": "passed", "call": "passed", "teardown": "passed"} for n in verifier.node_ids(task.answer)
            },
        }
    )
    line = "\n" + REPORT_MARK + "0" * 64 + " " + forged + "\n"
    code = (
        f"import os, atexit, sys\nLINE = {line!r}\n"
        "def spam():\n    for fd in range(1, 30):\n        try:\n            os.write(fd, LINE.encode())\n"
        "        except OSError:\n            pass\n\n\nspam()\natexit.register(spam)\n"
        "assert os.read(0, 4096) == b'' and open('/proc/self/fd/0').read() == '', 'the key is readable'\n"
    )
    report = run_with_package_code(verifier, task, code)
    assert report.ok  # the genuine report came back…
    assert all(report.outcome(n) == "passed" for n in verifier.node_ids(task.answer))  # …and it is the real one
    bad = run_with_package_code(verifier, task, code + "\nraise RuntimeError('broken import')\n")
    assert not verifier.judge(task.answer, bad).correct  # forged lines did not rescue a broken package


def test_wall_clock_is_enforced(task, verifier):
    report = run_with_package_code(verifier, task, "import time\ntime.sleep(60)\n", wall_s=3.0)
    assert not report.ok and report.timed_out


def test_in_process_pytest_is_forgeable_which_is_why_synthetic_tasks_are_judged_on_the_host(task, verifier):
    """The frame-walking exploit is real: with the static scan out of the way it forges the
    in-process runner's signed report for a still-buggy package (the design synthetic tasks used
    before host-side judging; repository and SWE-bench tasks still run this way, documented as
    "in-process tests"). The same package scores 0 as a synthetic answer."""
    answer = task.answer
    files = {**answer["files"], **answer["hidden_tests"]}
    files[source_path(task)] += FRAME_WALK_FORGERY
    root = Path(tempfile.mkdtemp())
    try:
        write_tree(root, files)
        report = run_pytest_in_sandbox(verifier.sandbox(), root, verifier.node_ids(answer))
    finally:
        shutil.rmtree(root)
    forged = verifier.judge(answer, report)
    assert forged.correct and forged.details["trust"] == "in-process tests"  # the old design's verdict
    observed = observe(verifier, task, FRAME_WALK_FORGERY)
    assert observed.results and not observed.problem  # no runner frame to find: the calls just ran
    verdict = swe_verifier.judge_checks(answer, observed)
    assert verdict.reward == 0.0 and verdict.details["trust"] == "host-judged"


# --------------------------------------------------------------------------------------------
# Host-judged checks (synthetic tasks): what runs in the sandbox cannot decide the verdict
# --------------------------------------------------------------------------------------------


def observe(verifier, task, code: str = "", files: dict | None = None, wall_s: float = 10.0):
    """The call harness over the task's bug-injected package (or ``files``) with ``code`` appended
    to the buggy module; the static checks are bypassed on purpose: this tests the runtime layer."""
    answer = task.answer
    tree = dict(files or answer["files"])
    tree[source_path(task)] += code
    package = {p: t.encode("utf-8") for p, t in tree.items() if not swe_verifier.is_protected_path(p)}
    return swe_verifier.run_checks_in_sandbox(
        verifier.sandbox(), package, answer["package"], swe_verifier.check_calls(answer), wall_s=wall_s
    )


def test_host_checks_agree_with_pytest_and_the_generator_at_three_difficulties(generator, verifier):
    """The clean package passes every check and the bug-injected one fails exactly FAIL_TO_PASS."""
    for difficulty in DIFFICULTIES:
        for seed in (0, 1):
            task = generator.generate(seed, difficulty)
            answer = task.answer
            held_out = [c["held_out"] for c in answer["checks"]]
            assert held_out == sorted(held_out)  # visible tests first, then the held-out ones
            assert {c["id"] for c in answer["checks"]} == set(verifier.node_ids(answer))
            assert {c["id"] for c in answer["checks"] if c["held_out"]} == {
                n for n in verifier.node_ids(answer) if n.startswith("tests/test_acceptance.py::")
            }
            clean = swe_verifier.judge_checks(answer, observe(verifier, task, files=fixed_files(task)))
            assert clean.correct and clean.details["trust"] == "host-judged", clean
            buggy = swe_verifier.judge_checks(answer, observe(verifier, task))
            assert not buggy.correct and buggy.details["fail_to_pass"]["passed"] == 0, buggy.details
            assert buggy.details["pass_to_pass"]["passed"] == len(answer["pass_to_pass"])


def test_the_sandbox_gets_no_tests_and_no_expected_values(task, verifier, monkeypatch):
    seen = {}
    original = verifier.sandbox().run

    def spy(argv, **kwargs):
        seen.update(kwargs)
        return original(argv, **kwargs)

    monkeypatch.setattr(verifier.sandbox(), "run", spy)
    assert verifier.verify(task, SWEGenerator().solve(task)).correct
    config = json.loads(seen["stdin"])
    assert set(config) == {"nonce", "paths", "package", "calls"}
    assert all(len(call) == 3 for call in config["calls"])
    assert not any(p.startswith("tests/") or p.endswith((".toml", ".ini", ".cfg")) for p in seen["files"])
    assert seen.get("cwd_files_dir") is None
    assert "expected" not in seen["stdin"].decode() and "assert" not in seen["stdin"].decode()


def test_harness_channel_forgery_scores_zero(task, verifier):
    """Package code that finds the harness's channel and nonce and claims True for every call
    (what a harness comparing inside the sandbox would count as passes), then exits."""
    observed = observe(verifier, task, HARNESS_FORGERY)
    assert observed.results and all(r == ("value", True) for r in observed.results.values())  # the forgery ran
    assert swe_verifier.judge_checks(task.answer, observed).reward == 0.0
    # Without exiting, the harness writes its own lines too: two results for one call void the run.
    keep_running = HARNESS_FORGERY.replace('pick(shell, "_ex", "it")(0)', "pass")
    observed = observe(verifier, task, keep_running)
    assert "tampered" in observed.problem
    voided = swe_verifier.judge_checks(task.answer, observed)
    assert voided.reward == 0.0 and voided.details["hack"] == "result channel"
    # …even riding on the reference fix.
    assert "tampered" in observe(verifier, task, keep_running, files=fixed_files(task)).problem


@pytest.mark.parametrize("name", ["always-equal", "fake-output", "huge-results", "pytest-patch"])
def test_runtime_tricks_score_zero_under_the_harness(task, verifier, name):
    code = {
        "always-equal": ALWAYS_EQUAL,
        "fake-output": FAKE_OUTPUT,
        "huge-results": HUGE_RESULT,
        "pytest-patch": PYTEST_PATCH,
    }[name]
    observed = observe(verifier, task, code)
    verdict = swe_verifier.judge_checks(task.answer, observed)
    assert verdict.reward == 0.0 and not observed.problem, (verdict, observed)
    if name == "always-equal":
        assert any(isinstance(r[1], swe_verifier.Unsupported) for r in observed.results.values() if r[0] == "value")
    if name == "huge-results":
        assert any(r[0] == "error" and "too large" in r[2] for r in observed.results.values())


@pytest.mark.parametrize("name", sorted(EXIT_AT_IMPORT))
def test_exits_loops_forks_and_recursion_at_import_score_zero_within_the_wall_clock(task, verifier, name):
    started = time.monotonic()
    observed = observe(verifier, task, EXIT_AT_IMPORT[name], wall_s=3.0)
    assert time.monotonic() - started < 15.0
    assert swe_verifier.judge_checks(task.answer, observed).reward == 0.0
    if name == "infinite-loop-at-import":  # the run's CPU limit equals its wall clock: either may stop it first
        assert (observed.timed_out or observed.signal == signal.SIGXCPU) and not observed.results


def test_the_same_tricks_riding_on_the_reference_fix_still_cannot_fake_results(task, verifier):
    """Exits before the calls leave results missing; forged lines next to real ones void the run."""
    fixed = fixed_files(task)
    for code in (EXIT_AT_IMPORT["os-exit-at-import"], EXIT_AT_IMPORT["sys-exit-at-import"]):
        assert swe_verifier.judge_checks(task.answer, observe(verifier, task, code, files=fixed)).reward == 0.0
    assert swe_verifier.judge_checks(task.answer, observe(verifier, task, "", files=fixed)).correct


def line(nonce: str, index, payload) -> bytes:
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    body = body.encode() if isinstance(body, str) else body
    return nonce.encode() + b" " + str(index).encode() + b" " + body + b"\n"


def test_result_lines_are_parsed_with_bounds():
    nonce = "ab" * 16
    good = line(nonce, 0, ["value", ["list", [["int", "3"], ["str", "x"], ["tuple", [["none"], ["bool", True]]]]]])
    results = swe_verifier.parse_frames(b"noise\n" + good + b"0" * 32 + b" 1 junk\n", nonce, 2)
    assert results == {0: ("value", [3, "x", (None, True)])}
    assert swe_verifier.parse_frames(line(nonce, 1, ["error", "ValueError", "bad"]), nonce, 2) == {
        1: ("error", "ValueError", "bad")
    }
    deep = ["value", ["none"]]
    for _ in range(40):
        deep = ["value", ["list", [deep[1]]]]
    hostile = {
        "duplicate": good + good,
        "unknown call": line(nonce, 5, ["value", ["none"]]),
        "negative index": line(nonce, "-1", ["value", ["none"]]),
        "not json": line(nonce, 0, b"{not json"),
        "deep json": line(nonce, 0, b"[" * 200_000 + b"]" * 200_000),
        "deep value": line(nonce, 0, deep),
        "many elements": line(nonce, 0, ["value", ["list", [["none"]] * 50_000]]),
        "long text": line(nonce, 0, ["value", ["list", [["str", "x" * 40_000]] * 3]]),
        "huge int": line(nonce, 0, ["value", ["int", "9" * 100_000]]),
        "int not digits": line(nonce, 0, ["value", ["int", "1e5"]]),
        "unknown tag": line(nonce, 0, ["value", ["set", []]]),
        "bad float": line(nonce, 0, ["value", ["float", "one"]]),
        "oversize line": line(nonce, 0, ["value", ["str", "y" * 400_000]]),
        "bad frame": line(nonce, 0, ["passed"]),
    }
    for name, data in hostile.items():
        started = time.monotonic()
        with pytest.raises(swe_verifier.FrameError):
            swe_verifier.parse_frames(data, nonce, 2)
        assert time.monotonic() - started < 0.5, name


def test_held_out_expectations_stay_out_of_messages(generator, verifier):
    for seed in range(6):
        task = generator.generate(seed, 0.0)
        verdict = verifier.verify(task, generator.wrong_response(task))
        held_out = {c["id"]: c for c in task.answer["checks"] if c["held_out"]}
        for node, message in verdict.details["messages"].items():
            if node in held_out:
                assert "expected" not in message and held_out[node]["expected"] not in message.split("returned")[0], (
                    message
                )
            elif verdict.details["failed"][node] == "failed":
                assert "expected" in message, message


# --------------------------------------------------------------------------------------------
# Source-encoding tricks and names built at run time (the static scan, defence in depth)
# --------------------------------------------------------------------------------------------


def hidden_code_runs(source: bytes) -> bool:
    namespace: dict = {}
    exec(compile(source, "hidden.py", "exec"), namespace)
    return namespace.get("HIDDEN_RAN") is True


@pytest.mark.parametrize("hide", [hide_in_utf7, hide_in_unicode_escape])
def test_coding_cookies_hide_code_from_a_utf8_reader_and_are_refused(task, verifier, hide):
    original = "X = 1\n\n\ndef f(a, b):\n    return a + b\n"
    hidden = hide(original, "import os\nHIDDEN_RAN = os.sep == '/'")
    assert hidden_code_runs(hidden.encode("ascii"))  # Python runs the hidden line…
    utf8_view = swe_verifier.new_capabilities(original, hidden)  # …a UTF-8 reader sees a comment
    assert not any("os" in c for c in utf8_view)
    with pytest.raises(swe_verifier.SourceRefused, match="source encoding"):
        swe_verifier.check_source_bytes(original.encode(), hidden.encode("ascii"))
    assert "import os" in swe_verifier.new_capabilities(original.encode(), hidden.encode("ascii"))
    path = source_path(task)
    response = fenced(
        make_unified_diff({path: task.answer["files"][path]}, {path: hide(task.answer["files"][path], PLAIN_FORGERY)})
    )
    verdict = verifier.verify(task, response)
    assert verdict.reward == 0.0 and "source encoding" in verdict.reason, verdict.reason


def test_coding_cookie_forgery_is_a_working_exploit_against_in_process_pytest(task, verifier):
    """Hidden behind utf-7 the plain frame-walking forgery still forges the in-process runner,
    and scores 0 under the harness (checked without the scan)."""
    answer = task.answer
    path = source_path(task)
    hidden = hide_in_utf7(answer["files"][path], PLAIN_FORGERY)
    root = Path(tempfile.mkdtemp())
    try:
        write_tree(root, {**answer["files"], **answer["hidden_tests"], path: hidden})
        assert verifier.judge(
            answer, run_pytest_in_sandbox(verifier.sandbox(), root, verifier.node_ids(answer))
        ).correct
    finally:
        shutil.rmtree(root)
    files = {**answer["files"], path: ""}
    observed = observe(verifier, task, hidden, files=files)
    assert observed.results and swe_verifier.judge_checks(answer, observed).reward == 0.0


def test_byte_order_marks_and_unparsable_files_are_refused(task, verifier):
    original = b"X = 1\n"
    with pytest.raises(swe_verifier.SourceRefused, match="byte-order mark"):
        swe_verifier.check_source_bytes(original, b"\xef\xbb\xbfX = 1\nimport os\n")
    swe_verifier.check_source_bytes(b"\xef\xbb\xbfX = 1\n", b"\xef\xbb\xbfX = 2\n")  # already there: fine
    swe_verifier.check_source_bytes(b"# -*- coding: latin-1 -*-\nX = 1\n", b"# -*- coding: latin-1 -*-\nX = 2\n")
    swe_verifier.check_source_bytes(original, b"# -*- coding: utf-8 -*-\nX = 2\n")
    for broken in (b"def (:\n", b"X = 1\x00\n", b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n"):
        with pytest.raises(swe_verifier.SourceRefused, match="does not parse"):
            swe_verifier.check_source_bytes(original, broken)
    path = source_path(task)
    text = task.answer["files"][path]
    verdict = verifier.verify(
        task, fenced(make_unified_diff({path: text}, {path: "\ufeff" + text + "\n" + PLAIN_FORGERY}))
    )
    assert verdict.reward == 0.0 and "byte-order mark" in verdict.reason


@pytest.mark.parametrize(
    "body,refused",
    [
        ('X = f"' + "{a}" * 300_000 + '"', True),  # red team s21 A F2: a 50 s parse holding the GIL
        ("X = [" + "a," * 990_000 + "]", True),  # F1: 1.4 GB to parse
        ('X = f"' + "{a}" * 4_900 + '"', False),  # under the caps: parsed and judged as usual
    ],
)
def test_what_a_patch_adds_to_python_is_capped_before_the_host_parses_it(task, verifier, body, refused):
    """The host parses each changed Python file (the source screen, the capability scan);
    CPython 3.11 parses one f-string in time that grows with the square of its fields, and any
    source in ~0.7 KB of memory a token. A patch adding more than ``MAX_ADDED_TOKENS`` words
    and marks or ``MAX_ADDED_BRACES`` braces is refused before anything is parsed."""
    diff = f"--- /dev/null\n+++ b/{task.answer['package']}/extra.py\n@@ -0,0 +1,1 @@\n+{body}\n"
    verdict = verifier.verify(task, fenced(diff))
    assert verdict.reward == 0.0
    assert ("the host parses what it changes" in verdict.reason) == refused, verdict.reason


@pytest.mark.parametrize(
    "snippet,found",
    [
        ("import typing\nX = getattr(typing, 's' + 'ys')\n", "getattr with a computed name"),
        ("import typing\nX = typing.sys\n", "attribute .sys"),
        ("import typing\nX = getattr(typing, 'sys')\n", "string 'sys'"),
        ("from functools import reduce\nX = reduce(getattr, ['a'], 1)\n", "getattr used as a value"),
        ("from operator import attrgetter\nX = attrgetter('x')\n", "name attrgetter"),
        ("X = type('A', (), {})\n", "type() building a class"),
        ("T = '{0.x}'\nX = T.format(1)\n", "format() of a computed template"),
        ("X = '{0.__globals__}'.format(print)\n", "string"),
        ("X = [].__class__.__base__\n", "attribute .__base__"),
        # the red team's in-process bypasses: a string evaluator and a namespace-taking class factory
        (
            "import typing\nP = 'x'\ntyping.ForwardRef('exec(P, globals())')._evaluate({}, None, frozenset())\n",
            ".ForwardRef",
        ),
        ("import dataclasses\nS = dataclasses.make_dataclass('S', [], eq=False, namespace={})\n", ".make_dataclass"),
        ("from typing import get_type_hints\nX = get_type_hints\n", "get_type_hints"),
        ("import enum\nE = enum.EnumMeta\n", ".EnumMeta"),
        ("meta = type(int)\nS = meta('S', (int,), {})\n", "type() of a builtin type"),
        ("S = type(0)('S', (int,), {})\n", "call of a call's result"),
        ("import abc\nS = abc.ABCMeta('S', (int,), {})\n", ".ABCMeta"),
        ("import dataclasses as d\nf = d._create_fn('f', (), ['return 1'])\n", "._create_fn"),
        ("import typing as t\nf = t._type_check\n", "private attribute t._type_check"),
    ],
)
def test_the_scan_sees_runtime_name_building(snippet, found):
    assert any(found in c for c in swe_verifier.new_capabilities("", snippet)), swe_verifier.new_capabilities(
        "", snippet
    )


def test_the_scan_leaves_ordinary_fixes_alone():
    before = "def f(values, k=3):\n    return [v * k for v in values if v > 0]\n"
    after = (
        "import math\n\n\ndef f(values, k=3):\n    name = getattr(values, 'name', 'x')\n"
        "    return [math.floor(v * k) for v in values if v >= 0]\n"
    )
    assert swe_verifier.new_capabilities(before, after) == []


# --------------------------------------------------------------------------------------------
# Every family attack scores 0 within the deadline
# --------------------------------------------------------------------------------------------


def test_every_family_attack_scores_zero_within_the_deadline(generator, verifier):
    task = generator.generate(4, 0.5)
    attacks = generator.attacks(task)
    names = [name for name, _ in attacks]
    assert len(names) == len(set(names))
    assert {
        "frame-walk-report-forgery",
        "harness-channel-forgery",
        "coding-cookie-utf7-hiding",
        "byte-order-mark-hiding",
        "runtime-names-exit-at-import",
        "edit-visible-tests",
        "delete-tests",
        "add-root-conftest",
        "add-pytest-ini",
        "add-setup-cfg",
        "edit-pyproject",
        "add-pth-file",
        "add-sitecustomize",
        "module-outside-package",
        "symlink-in-diff",
        "binary-patch",
        "sys-exit-at-import",
        "os-exit-at-import",
        "monkeypatch-pytest-reports",
        "print-fake-results",
        "huge-diff",
        "deep-path",
        "deeply-nested-expression",
        "malformed-hunk-counts",
        "garbage-diff",
    } <= set(names)
    for name, response in attacks:
        started = time.monotonic()
        verdict = verifier.verify(task, response)
        assert verdict.reward == 0.0 and not verdict.correct, (name, verdict)
        assert time.monotonic() - started < verifier.deadline_s, name
        assert verdict.reason and len(verdict.reason) < 2000, name


def test_attacks_cover_swebench_rows_without_files(swebench_checkouts):
    repos_dir, _ = swebench_checkouts
    generator = SWEGenerator(dataset=str(DATA / "synthetic_swebench.jsonl"), repos_dir=str(repos_dir))
    checker = SWEVerifier(repos_dir=str(repos_dir))
    task = generator.generate(0)
    attacks = generator.attacks(task)
    assert {"edit-visible-tests", "add-root-conftest", "symlink-in-diff", "huge-diff"} <= {n for n, _ in attacks}
    for name, response in attacks:
        if name in (
            "edit-visible-tests",
            "add-root-conftest",
            "add-pth-file",
            "symlink-in-diff",
            "binary-patch",
            "huge-diff",
            "garbage-diff",
            "path-traversal",
        ):
            verdict = checker.verify(task, response)
            assert verdict.reward == 0.0, (name, verdict)


# --------------------------------------------------------------------------------------------
# repo=PATH on a real package from PyPI
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inflection_repo(tmp_path_factory):
    """The inflection 0.5.1 source distribution (MIT; one module and a pytest suite, no
    dependencies), downloaded at set-up time."""
    target = tmp_path_factory.mktemp("sdist")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-binary",
            ":all:",
            "--no-deps",
            "inflection==0.5.1",
            "-d",
            str(target),
            "-q",
        ],
        capture_output=True,
        timeout=120,
    )
    archives = list(target.glob("inflection-0.5.1.tar.gz"))
    if result.returncode != 0 or not archives:
        pytest.skip(f"PyPI unreachable, cannot fetch the inflection sdist: {result.stderr.decode()[-300:]}")
    shutil.unpack_archive(str(archives[0]), str(target))
    return target / "inflection-0.5.1"


def test_repo_source_on_a_real_package(inflection_repo, verifier):
    generator = SWEGenerator(repo=str(inflection_repo), validation_runs=2)
    task = generator.generate(0, 0.5)
    answer = task.answer
    assert task.id.startswith("swe/v0/repo-inflection-0.5.1/") and answer["source"] == "repo"
    assert answer["fail_to_pass"] and len(answer["pass_to_pass"]) > 300
    assert answer["bugs"][0]["path"] == "inflection/__init__.py"
    assert "fails with" in task.meta["issue"] and answer["fix_patch"] not in task.prompt
    good = verifier.verify(task, generator.solve(task))
    assert good.correct and good.details["trust"] == "in-process tests"
    assert not verifier.verify(task, generator.wrong_response(task)).correct
    assert not verifier.verify(task, edit(task, {"test_inflection.py": "def test_nothing():\n    pass\n"})).correct


# --------------------------------------------------------------------------------------------
# SWE-bench-format instances
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def swebench_checkouts(tmp_path_factory):
    repos_dir = tmp_path_factory.mktemp("repos")
    tasks = [SWEGenerator().generate(seed, 0.5) for seed in (1, 2)]
    rows = write_swebench_fixture(tasks, repos_dir)
    return repos_dir, rows


def test_committed_swebench_fixture_matches_its_git_history(swebench_checkouts):
    _, rows = swebench_checkouts
    committed = [
        json.loads(line) for line in (DATA / "synthetic_swebench.jsonl").read_text().splitlines() if line.strip()
    ]
    assert committed == rows  # same base commits: the checkouts are reproducible


def test_swebench_instances_verify_locally(swebench_checkouts):
    repos_dir, _ = swebench_checkouts
    env_options = {"dataset": str(DATA / "synthetic_swebench.jsonl"), "repos_dir": str(repos_dir)}
    generator = SWEGenerator(**env_options)
    checker = SWEVerifier(repos_dir=str(repos_dir))
    for seed in (0, 1):
        task = generator.generate(seed)
        assert task.id == f"swe/v0/dataset/synthetic_swebench/{seed}"
        assert task.answer["checkout"] and "### " in task.prompt  # the edited file is shown
        good = checker.verify(task, generator.solve(task))
        assert good.correct and good.details["trust"] == "in-process tests"
        assert not checker.verify(task, generator.wrong_response(task)).correct
        test_file = next(p for p in json.loads(json.dumps(task.answer["pass_to_pass"])) if "acceptance" not in p).split(
            "::"
        )[0]
        hack = f"--- a/{test_file}\n+++ b/{test_file}\n@@ -1,1 +1,1 @@\n-x\n+y\n"
        assert "test or configuration" in checker.verify(task, fenced(hack)).reason


def test_swebench_options_reach_the_env_in_their_groups(swebench_checkouts):
    """repos_dir is both a generator and a verifier option: flat, it is refused as ambiguous."""
    repos_dir, _ = swebench_checkouts
    dataset = str(DATA / "synthetic_swebench.jsonl")
    with pytest.raises(ValueError, match="ambiguous"):
        rlvr.make_task("SWE-v0", 0, dataset=dataset, repos_dir=str(repos_dir))
    with pytest.raises(ValueError, match="no parameters"):
        rlvr.make_task("SWE-v0", 0, dataset=dataset, bugs=2)
    task = rlvr.make_task("SWE-v0", 3, dataset=dataset, generator_options={"repos_dir": str(repos_dir)})
    assert task.id == "swe/v0/dataset/synthetic_swebench/1" and task.meta["row"] == 1 and task.answer["checkout"]
    assert rlvr.verify(task, rlvr.solve(task), repos_dir=str(repos_dir)).correct


def test_swebench_without_checkout_or_engine_gives_a_clear_error():
    generator = SWEGenerator(dataset=str(DATA / "synthetic_swebench.jsonl"))
    task = generator.generate(0)
    verdict = SWEVerifier(docker="never").verify(task, generator.solve(task))
    assert not verdict.correct and "no checkout" in verdict.reason and "repos_dir" in verdict.reason


# --------------------------------------------------------------------------------------------
# Parsing details
# --------------------------------------------------------------------------------------------


def test_one_diff_block_is_the_answer_and_several_are_a_hedge():
    first, last = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n", "--- a/y.py\n+++ b/y.py\n@@ -1 +1 @@\n-c\n+d\n"
    assert extract_patch(f"Some prose.\n```diff\n{last}```\nmore prose") == last.rstrip("\n")
    assert [p.new_path for p in parse_patch(last)] == ["y.py"]
    assert parse_patch(last)[0].hunks[0].counts() == (1, 1)
    for hedge in (
        f"```diff\n{first}```\ntext\n```diff\n{last}```",
        f"<answer>```\n{first}```\nor\n```\n{last}```</answer>",
    ):
        with pytest.raises(swe_verifier.PatchError, match="exactly one diff"):
            extract_patch(hedge)


def test_a_hedge_of_wrong_and_reference_diffs_scores_zero(generator, task, verifier):
    hedge = generator.wrong_response(task) + "\nor maybe\n" + generator.solve(task)
    verdict = verifier.verify(task, hedge)
    assert verdict.reward == 0.0 and "exactly one diff" in verdict.reason


def test_swe_and_swe_agent_put_one_seeds_problem_on_one_side(tmp_path):
    """Red team s12 F6: the two envs pose one seed's problem with other prompts, and split by
    the prompts about 22 % of problems landed on train in one env and test in the other."""
    sides = []
    for difficulty in (0.0, 0.5):
        for seed in range(10):
            plain = rlvr.make_task("rlvr/SWE-v0", seed, difficulty)
            agent = rlvr.make_task("rlvr/SWEAgent-v0", seed, difficulty)
            assert plain.answer == agent.answer and plain.prompt != agent.prompt
            assert split_key(plain) == split_key(agent)
            assert is_held_out(plain) == is_held_out(agent)
            sides.append(is_held_out(plain))
    assert not all(sides)
    for split in ("train", "test"):
        for seed in range(2):
            plain = rlvr.make_task("rlvr/SWE-v0", seed, 0.5, split=split)
            agent = rlvr.make_task("rlvr/SWEAgent-v0", seed, 0.5, split=split)
            assert plain.answer == agent.answer and is_held_out(plain) == is_held_out(agent) == (split == "test")
    # SWE-bench rows: an instance is one problem in either env and in any file that holds it
    copy = tmp_path / "lite.jsonl"
    lines = (DATA / "synthetic_swebench.jsonl").read_text().splitlines()
    copy.write_text("\n".join(reversed(lines)) + "\n")
    for seed in range(len(lines)):
        plain = rlvr.make_task("rlvr/SWE-v0", seed, 0.5, dataset=str(DATA / "synthetic_swebench.jsonl"))
        agent = rlvr.make_task("rlvr/SWEAgent-v0", seed, 0.5, dataset=str(DATA / "synthetic_swebench.jsonl"))
        moved = rlvr.make_task("rlvr/SWE-v0", len(lines) - 1 - seed, 0.5, dataset=str(copy))
        assert plain.answer["instance_id"] == moved.answer["instance_id"]
        assert split_key(plain) == split_key(agent) == split_key(moved)
