"""SWE: fix the bug a user reported in a Python repository; the repository's tests decide.

Task        A repository with one or more injected bugs and an issue describing the symptom the way
            a user would: the call, the expected result, what came back (a wrong value or an
            exception) — never the diff. Sources:
            * synthetic (default): a generated package (``rlvr.generators.swe_repos``: themed
              modules of documented functions and a class calling each other across modules,
              a pytest suite, ``pyproject.toml``) with bugs injected by AST mutation
              (``rlvr.generators.swe_mutations``: operator and comparison flips, off-by-one
              constants and slice bounds, swapped arguments, removed branch or statement, wrong
              default, inverted condition). Validated by construction: expected test values come
              from running the clean code, and the generator runs the buggy code in-process to
              keep only bugs that break at least one visible test (FAIL_TO_PASS) while others
              stay green (PASS_TO_PASS); every bug breaks a visible test on its own, and every
              set of two or more bugs breaks a held-out test. The generated code
              cannot loop or recurse, so this is deterministic and needs no sandbox; that pytest
              and the verifier's call harness in the sandbox see the same outcomes is a tested
              invariant. Held-out tests (one more input per tested callable, plus fresh inputs
              drawn from the task's RNG, else another mutation, until, for each bug alone and
              for all of them, every callable with a failing test has a failing held-out test
              whose expected value no visible failing test of it has, held-out tests expecting
              two values, and failing tests whose expected − buggy results are not one number;
              ``answer["hidden_tests"]``) count at verification, so a patch that special-cases
              the visible failing inputs (with or without really fixing the other bugs), returns
              the issue's expected value, a visible test's value or the buggy result shifted by
              the issue's offset, does not pass. Every test is also stored as a host-side check
              (``answer["checks"]``: the call and the repr of what the clean code returns); the
              verifier makes the calls in the sandbox and compares on the host, so no expected
              value ever reaches the candidate's process.
            * ``repo=PATH``: any local repository with a pytest suite. Its suite runs in the
              sandbox on the clean tree (``validation_runs`` times; tests that do not pass every
              time are dropped as flaky), then on mutants of its non-test source until a mutant
              breaks some tests and leaves others green, identically on ``validation_runs`` runs.
              The issue shows the failing assertion; the prompt shows the files holding the bugs.
              Ids are ``swe/v0/repo-<directory name>/d<d>/s<seed>``.
            * ``dataset=FILE.jsonl``: SWE-bench-format instances (``instance_id, repo, base_commit,
              patch, test_patch, FAIL_TO_PASS, PASS_TO_PASS, problem_statement``), served by the
              core dataset mode: seed i is row i mod rows, id ``swe/v0/dataset/<file stem>/<row>``.
              ``repos_dir=`` holds checkouts named ``<owner>__<name>`` (then the prompt shows the
              files the gold patch edits, read at ``base_commit``).
              ``write_swebench_fixture`` turns synthetic tasks into such a file plus checkouts.
            rlvr/SWE-v0       the prompt holds the issue, the repository layout and the source
                              files (synthetic: the whole package; repo=: the files with the bugs;
                              SWE-bench: the files the gold patch edits, when checked out).
            rlvr/SWEAgent-v0  the same tasks (same seed, same repository and bugs) as a multi-turn
                              episode (``rlvr.envs.swe_agent.SWEAgentEnv``): the prompt holds the
                              issue, the repository layout and the tool syntax instead of the
                              files; ``SWEGenerator(agent=True)`` makes its tasks.
Answer      One unified diff in a ```diff block (or <answer>…</answer>), see ``rlvr.verifiers.swe``.
            ``task.answer``: source, package, files (path → text, the bug-injected repository),
            hidden_tests, checks (synthetic: id, module, name, call, expected, held_out),
            fix_patch (the reference diff), fail_to_pass, pass_to_pass (pytest node ids),
            protected (test and config paths), pythonpath, bugs (path, function, line, operator,
            description), timeout_s (the sandbox run's wall clock: 10 s for the synthetic call
            harness); SWE-bench rows carry their own fields instead of files. ``meta`` records
            the theme, counts, lines of code and the call depth.
Trust       Synthetic tasks are judged on the host from observed return values (nothing the
            verdict depends on enters the sandbox); ``repo=`` and SWE-bench tasks run their
            pytest suites in-process and are marked ``details["trust"] = "in-process tests"``
            (see the verifier's "Weak spots"). ``attacks(task)`` lists the hostile responses
            ``rlvr audit`` runs: report forgery by frame walking, the harness channel or a
            patched pytest; names built at run time; code hidden behind utf-7/unicode_escape
            coding cookies or a byte-order mark; exits, loops and recursion at import;
            always-equal objects; hard-coded visible answers (alone, with every bug but one
            really fixed, and with a constant for other calls); the issue's expected value
            returned for every call (alone, and with every bug but one really fixed), or its
            offset added to every result; test, conftest, pytest.ini,
            setup.cfg, pyproject, .pth and sitecustomize edits; files outside the package;
            symlinks, submodules, copies and binaries; huge, deep and malformed diffs.
Verifier    ``rlvr.verifiers.swe.SWEVerifier``.
Solver      The reference fix (the inverse of the injected mutations; SWE-bench: the gold patch).
            ``wrong_response``: with several bugs, the fix of all but the last; with one, an edit of
            the buggy file that leaves the bug in place.

Hints       ``hint=h``: the file, then the function, then one FAIL_TO_PASS test, then the faulty
            lines the fix removes (or where a missing statement goes) — never the fix.
Difficulty  (rendered from the declaration below)
            d     modules  functions  bugs  call_depth  show_failing_test
            0     2        5          1     0           True
            0.25  3        9          1     1           True
            0.5   4        12         1     1           True
            0.75  5        18         2     2           False
            1     7        24         2     3           False
            What a project gets, measured over 150 seeds per level:
            d     functions  tests    lines
            0.0   3–6        6        18–42
            0.5   8–12       12–18    41–95
            0.75  16–24      18–24    90–156
            1.0   23–33      24–30    126–192
            modules: package modules (plus ``__init__``; at least call_depth + 1, raised when
            smaller); functions: the planned number (the project gets the range above: the call
            graph reuses or adds a function where a signature needs it; a class counts as one);
            bugs: injected at once, each in its own function and each failing a visible test on
            its own; call_depth: calls between the function a failing test calls and the buggy
            function (every path has this length); show_failing_test: the issue names the
            failing test and its assertion, or only describes the symptom; tests: visible tests
            (3 per top-level function or method; one held-out test more each, and more for the
            callables a bug breaks, see Task); lines: non-blank
            package lines. Explicit values win over the knob. When no planned project takes the
            bugs in ``MAX_PLAN_ATTEMPTS`` tries (more bugs than functions at the buggy level),
            ``generate`` raises ValueError. The synthetic source's only parameters are these;
            ``repo=`` uses ``bugs`` and ``show_failing_test``; SWE-bench rows use none.

Version history
            v0  (2026-11) first release: SWE-v0 and SWEAgent-v0. 2026-12: declared in
                rlvr.families (SWEAgent-v0 made by the same generator class with ``agent=True``;
                SWE-bench rows served by the core dataset mode with the same ids); task bytes
                unchanged (tests/test_golden_tasks.py).
                2026-12-05 (session 7): train/held-out sides go by ``split_group`` (dataset tasks by
                their row; red team S7-1: one problem shown otherwise was on both sides), so split
                streams changed where a task's group lands elsewhere than its prompt did (re-
                pinned); raw-stream bytes unchanged.
                2026-12-05 (session 9): every injected bug fails a held-out test on its own (red
                team s9 F1: on 2-13 of 60 synthetic tasks per difficulty only visible tests
                failed, and at d >= 0.75 one bug of two often failed visible tests only, so
                hard-coding the visible failing calls, the other bug fixed, scored 1). A bug whose
                failures are all visible gets one extra held-out input that it fails (else another
                mutation is drawn), and a bug set whose held-out tests all pass is replanned. Tasks
                that needed no extra input keep their bytes; the others changed (SWE-v0 and
                SWEAgent-v0 re-pinned). New attack ``fix-all-but-one-hardcode-it``.
                2026-12-05 (session 10): symptom patches refuted (red team S10-G7: on 7/200
                synthetic tasks at d = 0, 2/200 at 0.5 and 2/140 at 0.75 every check of the
                issue's function expected one value, so returning the issue's expected value, bug
                left in place, scored 1; on 1-2/60 per level ``result + (expected - buggy)`` did).
                For each bug alone and for the buggy tree, every callable with a failing test now
                needs a failing held-out test whose expected value no visible failing test has,
                held-out tests expecting two values, and failing tests not all shifted by one
                number; held-out inputs are drawn until it has them, else the mutation is passed
                over. Most tasks gained held-out tests (SWE-v0 and SWEAgent-v0 re-pinned). New
                attacks ``constant-issue-value``, ``constant-issue-offset``,
                ``hardcode-visible-else-constant`` and ``fix-all-but-one-constant-it``.
                2026-12-05 (session 10, red team S10b-B5): affine symptom patches refuted (on
                7/40 synthetic tasks at d = 0 and 2/40 at 0.5, ``A·result + C`` fitted at run
                time on the visible failing checks, bug left in place, scored 1, and ``scale``
                from the issue's one call on 5/60 at d = 0; four of them were affine only at a
                defaulted argument). Each broken callable's held-out (buggy, expected) pairs
                must now fit no line with its visible failing ones ("line"), and a callable with
                a defaulted parameter needs held-out checks passing it by keyword with another
                value that fit no line either ("default"); a bug that is affine on every input
                (negation, ``2f - f``) is passed over, its wrapper being indistinguishable from
                a fix. Most tasks changed (SWE-v0 and SWEAgent-v0 re-pinned). New attacks
                ``affine-from-visible`` and ``scale-issue-value``.
                2026-12-06 (red team s12 F6): SWE-v0 and SWEAgent-v0 pose one seed's problem
                with other prompts and split it by them (0 of 20 seeds shared a split key, so
                about 22 % of problems were train in one env and test in the other). Both now
                group by the problem (``SWEGenerator.split_group``): a digest of the
                bug-injected repository and its reference fix, or a SWE-bench row's
                ``instance_id`` (was: its file and row). Uniqueness goes by the same key. Split
                streams changed (test/d0.5/s0 of both envs re-pinned); raw-stream bytes
                unchanged.
                2026-12-06 (red team s14 C2): a diff fence opens at the start of a line, and
                SWEAgent's tool calls are found by scanning for their tags: unclosed openers made
                both regexes quadratic while holding the GIL (512 KB of backticks: 120 s against
                the 60 s deadline; 128 KB of ``<tool_call>``: 35 s a step). A fence opened
                mid-line is no longer read as one. Task bytes unchanged.
                2026-12-06 (session 15): SWEAgent's ``run_tests`` refuses node ids starting
                with "@" as it refused "-": pytest reads ``@path`` as a file of arguments.
                Task bytes unchanged.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable, Flag, Int

MAX_MODULES = 16
MAX_FUNCTIONS = 64
MAX_BUGS = 6
MAX_CALL_DEPTH = 6

FAMILY = Family(
    name="swe",
    generator="rlvr.generators.swe:SWEGenerator",
    verifier="rlvr.verifiers.swe:SWEVerifier",
    table=DifficultyTable(
        {
            "modules": Int(2, MAX_MODULES, doc="package modules (at least call_depth + 1)"),
            "functions": Int(2, MAX_FUNCTIONS, doc="planned functions (a class counts as one)"),
            "bugs": Int(1, MAX_BUGS, doc="bugs injected, each in its own function"),
            "call_depth": Int(0, MAX_CALL_DEPTH, doc="calls between a failing test's function and the buggy one"),
            "show_failing_test": Flag(doc="the issue names the failing test and its assertion"),
        },
        {
            0.0: {"modules": 2, "functions": 5, "bugs": 1, "call_depth": 0, "show_failing_test": True},
            0.5: {"modules": 4, "functions": 12, "bugs": 1, "call_depth": 1, "show_failing_test": True},
            0.75: {"modules": 5, "functions": 18, "bugs": 2, "call_depth": 2, "show_failing_test": False},
            1.0: {"modules": 7, "functions": 24, "bugs": 2, "call_depth": 3, "show_failing_test": False},
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/SWE-v0",
            "Fix the bug an issue reports in a Python repository; answer a unified diff, graded by FAIL_TO_PASS and "
            "PASS_TO_PASS tests in a sandbox (synthetic repos with AST-mutation bugs, repo=PATH, or SWE-bench JSONL)",
        ),
        EnvDecl(
            "rlvr/SWEAgent-v0",
            "The SWE tasks as a multi-turn agent episode: shell, view, search, edit and run-tests tool calls in a "
            "sandboxed work tree, then submit",
            entry_point="rlvr.envs.swe_agent:SWEAgentEnv",
            generator_kwargs={"agent": True},
        ),
    ),
    generator_options={
        "repo": "path of a local repository with a pytest suite: mine its tasks by mutating its source",
        "dataset": "path of a SWE-bench-format JSONL file: serve its rows instead of synthetic tasks",
        "repos_dir": "folder of checkouts named <owner>__<name>: dataset prompts show the files the gold patch edits, "
        "and tasks record their checkout for grading",
        "validation_runs": "repo= only: runs of the suite that must agree before a test or a bug is kept (default 2)",
    },
    verifier_options={
        "deadline_s": "wall-clock bound of one verification, sandbox run included (default 60)",
        "repos_dir": "folder of checkouts named <owner>__<name> to grade SWE-bench tasks in "
        "(else the task's own checkout)",
        "docker": "SWE-bench tasks: auto (a local checkout when there is one, else the instance's Docker image), "
        "never or always",
        "sandbox": "where synthetic and repo= tasks run: auto | bwrap | docker (default auto: bwrap, else docker)",
        "image": "sandbox=docker: the image (default the base image; repo= tasks need rlvr sandbox build-image --repo)",
    },
)
