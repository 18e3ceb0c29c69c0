"""Code: write a Python function or program that passes hidden tests, run in a sandbox; CodeFeedback
adds test feedback between attempts.

Task        Synthetic (default): a pipeline of 1–5 list/text/number operations from
            ``rlvr.generators.code_library`` (map, filter, sort, windowed and prefix sums, run-length
            encoding, dedupe, frequencies, clamp, digit sums, case/reverse/character filters,
            pairwise differences, maximum subarray…), stated step by step in plain English with
            2–3 worked examples computed by the reference, the signature, the input bounds and, at
            high difficulty, an efficiency requirement. Style "function" (a function
            ``process_numbers(values)`` / ``process_text(text)`` called with the test arguments) or
            "stdio" (a program: input ``n`` then the ``n`` integers on one line, or one line of text;
            output format stated in the prompt). Dataset mode (``dataset=PATH``): seed ``i`` serves
            row ``i % rows`` of a HumanEval, MBPP, APPS/TACO, CodeContests or LiveCodeBench file
            (.jsonl, .jsonl.gz, .json or .parquet; the format is detected per row), through the
            core dataset mode (``TaskGenerator.use_dataset``); task id
            ``code/v0/dataset/<file stem>/<row>``, meta {dataset, row, task_id (the original id),
            format, test_count, tests_dropped}.
            rlvr/Code-v0          one response, one verdict.
            rlvr/CodeFeedback-v0  the same tasks (same generator; ids ``codefeedback/v0/…``) served
                                  by ``rlvr.envs.multi_turn.CodeFeedbackEnv``: after a failed
                                  attempt the first failing revealed test is shown, up to
                                  ``max_attempts`` tries (3, the env's ``env_kwargs``).
Datasets    HumanEval → "assert": setup_code = prompt, check_code = test, reference = prompt +
            canonical_solution. MBPP (original or sanitized) → "assert": the entry point is the
            defined function the asserts call most; test_list + challenge_test_list become
            ``def check(candidate)`` with ``<entry> = candidate``; setup_code = test_setup_code,
            test_imports and the reference's imports the asserts use (``math``). APPS/TACO →
            "function" when input_output has fn_name (each input is the argument list; outputs all
            wrapped in one-element lists, as APPS stores them, are unwrapped), else "stdio"
            (list-of-lines tests joined by newlines). CodeContests → "stdio" over public, private
            and generated tests. LiveCodeBench → "stdin" tests as "stdio", "functional" tests as
            "function" (one JSON argument per input line, JSON output); private tests may be
            JSON text or base64(zlib(JSON)) or the released base64(zlib(pickle(JSON))), unpickled
            with every class reference refused. Function-call rows get a typing/collections
            import prelude as setup_code.
Answer      Exactly one fenced code block that starts with ```python, holding the complete
            function (with its imports and helpers) or the complete program; the prompt says
            so, and that a response without such a block (code in ``<answer>`` tags only) or
            with more than one fenced block (of any language) scores 0.
            ``task.answer`` (JSON; Python values travel as ``repr`` strings):
              style            "function" | "stdio" | "assert"
              entry_point      function name; "Class.method" for LeetCode-style class solutions
                               (call ``getattr(Class(), method)``); None for stdio
              tests            function: [{"args": repr(args tuple), "expected": repr(value)}]
                               stdio:    [{"input": stdin text, "output": expected stdout}]
                               assert:   [] (the checks live in check_code)
              check_code       assert style: a trusted program defining ``check(candidate)``
              setup_code       trusted code the checker runs first (helpers, imports) or ""
              float_tolerance  relative-and-absolute tolerance for floats, or None
              time_limit_s     per test case (assert style: for the whole check)
              reference        complete reference source ("" when a dataset row has none)
              source           synthetic | humaneval | mbpp | apps | code_contests | livecodebench
              packed_tests     None, or (when the tests' JSON exceeds 32 KiB) the tests moved out of the
                               row, ``tests`` then being []: synthetic {"encoding": "regenerate", seed,
                               input_kind, steps, value_limit, max_length, tests, edge_cases,
                               stress_length, count, sha256}, rebuilt from that recipe; dataset
                               {"encoding": "zlib+base64", count, sha256, data}, the longest prefix of
                               the tests whose packed text fits in 48 KiB (meta tests_dropped counts
                               the rest). ``unpack_tests(answer)`` gives the full list and checks the
                               digest; the verifier rebuilds on the host, cached per task and bounded.
                               A non-empty ``tests`` list wins over ``packed_tests``.
                               Rows thus stay under ~64 KB (Code d=1 was ~620 KB).
Verifier    ``rlvr.verifiers.code.CodeVerifier`` runs the extracted program in the sandbox on every
            test and judges each result with its pure functions ``returned_value_matches``
            (function style: the value through the harness codec and ``ResultReader``, then
            ``values_match``) and ``stdout_matches`` (stdio).
Solver      The reference program (synthetic: generated source; HumanEval: prompt +
            canonical_solution; MBPP: code; APPS/CodeContests: the first Python 3 solution).
            LiveCodeBench rows carry no solution: ``solve`` raises ValueError for them.
            ``wrong_response`` gives a plausible wrong program (a step with other constants, a
            swapped or dropped step; for datasets the entry point returning a wrong constant),
            judged wrong by those same verifier functions (the generator has no comparison of its
            own: 2 and 2.0, a list and a tuple are equal to it exactly when they are to the verifier).
            ``attacks`` gives hostile responses (see ``CodeGenerator.attacks``).

Hints       ``hint=h``: a plan (synthetic tasks: the steps in order; the quadratic trap's key idea),
            then the reference lines the prompt does not show, a chunk per piece, about three
            quarters of them.
Weakness    At d = 0 a synthetic task is one operation, and its signature narrows which: a
            program chosen from the input and output types alone, never reading the statement,
            solves 0.24 of function tasks and 0.28 of stdio tasks (``-> float`` is always the
            mean; ``-> list[tuple]`` run-lengths or frequencies), 0.04–0.07 at d = .25 and at
            most 0.02 from d = .5 (red team s19, 300 tasks a level); under ``partial=True`` the
            best such program averages 0.058 / 0.046 / 0.023 at d = .25 / .5 / .75.
Difficulty  (rendered from the declaration below)
            d     depth  max_length  value_limit  tests  edge_cases  stress_length  time_limit_s
            0     1      10          20           5      False       0              4.0
            0.25  2      55          5010         8      False       5000           3.5
            0.5   3      100         10000        10     True        10000          3.0
            0.75  4      550         500005000    15     True        55000          2.5
            1     5      1000        1000000000   20     True        100000         2.0
            fixed: style=any, input=any
            depth: operations in the pipeline; max_length: elements (or characters) of a random
            test input; value_limit: numbers lie in [-value_limit, value_limit]; tests: hidden
            tests in all; edge_cases: up to 5 of them are empty / single / all-equal / all-negative
            / extreme inputs; stress_length: one extra-large input (its numbers stay within 10^6);
            time_limit_s: per test (the reference needs under 0.1 s on the 10^5 input);
            from 5·10^4 elements on (d ≥ 0.73) the first step is one whose obvious solution is
            O(n²) (dedupe by list scan, windows of ⌊n/2⌋+1, pair counting, running maximum…) and
            the prompt demands O(n log n); the reference is O(n) or O(n log n).
            Parameters ``style`` ("any" | "function" | "stdio") and ``input`` ("any" | "ints" |
            "text") pin the test style and the input kind. Ranges: depth 1–10, max_length
            1–10^5, value_limit 1–10^9, tests 1–100, stress_length 0–10^6, time_limit_s
            0.1–30; explicit values win over the knob. meta records depth, ops, steps,
            max_input_length, test_count, stress_length and quadratic_trap.

Version history
            v0  (2026-11) first release: Code-v0 and CodeFeedback-v0. 2026-12: declared in
                rlvr.families (CodeFeedback-v0 made by the same generator class, the registry
                injecting its id; ``max_attempts`` from the declaration's ``env_kwargs``);
                synthetic task bytes unchanged (tests/test_golden_tasks.py); dataset-mode ids
                unified to ``code/v0/dataset/<file stem>/<row>`` and
                ``codefeedback/v0/dataset/…`` (were ``code/dataset/…``,
                ``codefeedback/dataset/…``), prompts, answers and meta unchanged.
                2026-12-05: CodeFeedback-v0's ``partial=True`` reward counts the held-out tests
                only (answering from a table of the pairs feedback showed earned 0.40 on
                average, now 0), and feedback on a held-out test quotes nothing the candidate
                wrote (its exception text carried the test's input out); verdict details gain
                ``outcomes``.  Task bytes unchanged.  Later 2026-12-05: a synthetic pipeline
                whose hidden tests all expect one output is redrawn (a constant such as
                ``return []`` or printing nothing solved 2–9 % of tasks, most at d = 1); task
                bytes changed for those seeds only (re-pinned).  ``partial=True`` pays only the
                tests passed beyond what a do-nothing program passes (printing nothing earned
                0.22 at d = 0.5); CodeFeedback-v0's held-out partial credit likewise, over the
                held-out tests (a constant with a revealed test hard-coded earned 0.27 on
                average over seven such tasks, up to 1.0; now 0).
                Later still (session 6): the redraw rule is stricter -- a pipeline is redrawn
                when the held-out tests (the second half, never shown by CodeFeedback-v0's
                feedback) whose input is neither a revealed test's nor a prompt example's all
                expect one output: a table of the revealed tests plus that constant passed
                whole tasks (31 of 600 Code tasks at d = 0, 0.5, 1, seeds 0–199; full reward
                in CodeFeedback-v0 within its attempts); now none, attack
                ``revealed-lookup-plus-constant``.  Task bytes changed for 2–6 % of seeds
                (re-pinned).
                2026-12-05 (session 7): train/held-out sides go by ``split_group`` (synthetic tasks
                by their reference program, dataset tasks by their row; red team S7-1: one problem
                shown otherwise was on both sides), so split streams changed where a task's group
                lands elsewhere than its prompt did (re-pinned); raw-stream bytes unchanged.
                2026-12-05 (session 7): ``partial=True`` on assert-style tasks (HumanEval, MBPP)
                pays only the checks no do-nothing program passes (None, 0, 1, True, False, [],
                "" returned, or the first argument handed back), beyond what one other constant
                could pass of them (red team S7-2: a constant earned 0.23 on average over
                HumanEval, up to 0.78; now 0); CodeFeedback-v0's held-out credit likewise, and
                an incorrect episode stays below 1 (S7-2c: ``return None`` earned 1.0 on five
                rows).  Task bytes unchanged.  Function and stdio tasks: the do-nothing floor
                also tries the 8 expected values (outputs) the tests share most as constants (S7-2b:
                returning the value the prompt's examples show most earned up to 0.93, 0.05-0.13 on
                average; now 0).  Task bytes unchanged.
                2026-12-05 (session 9): a synthetic task is also redrawn when the identity (the
                argument handed back; the input printed back, a list's numbers without the count
                line) passes every held-out test that neither feedback reveals nor the prompt shows
                (red team s9 F4: ``return x`` / echoing stdin solved 12 of 200 tasks at d = 0 --
                ``change_case`` lower on lower-case tests, ``reverse_words`` on one-word tests,
                ``dedupe_chars`` on tests without repeats; now 0, attacks ``return-argument``,
                ``echo-input``, ``echo-input-after-count``, ``revealed-lookup-plus-identity``).
                Such a pipeline first gets new examples and tests (3 draws in all), then is
                redrawn.  Task bytes changed for 16 of 200 seeds at d = 0, none of 200 at d = 0.25
                and 0.5 nor of 60 at d = 0.75 and 1; the pinned seeds are not among them
                (re-pinned: digests unchanged).  ``partial=True``: the do-nothing floor counts the
                identity too (``return x`` earned 0.14, echoing stdin 0.12 on average at d = 0;
                now 0).
                2026-12-06 (red team s15 A1–A3; task bytes unchanged): a process forked after
                verifying takes sandbox uids of its own (parent and workers handed one uid to
                overlapping runs, so one run's 63 sleeping processes failed honest runs in the
                others: 0 of 4 passed, now 4 of 4 in each style, warm and cold); a forked
                process gets a fresh rebuild pool for packed tests (its first packed task waited
                out the 5 s allowance and scored 0); an int and a float compare exactly, as
                Python's ``==`` does (a float-rounded result of an int past 2**53 was paid: 4 of
                72 function tasks at d = 1 have such values).
                2026-12-07 (session 20; task bytes and rewards unchanged): assert-style checks'
                calls that their source fixes are sent to the candidate's server one call ahead
                (``rlvr.verifiers.code_check_calls``: call k + 1 as the reply to call k is
                relayed, so the candidate still sees each call only after answering the one
                before), and the harness reads its channel in 64 KiB (a 1 MiB buffer cost each
                warm run ~0.45 ms of page faults): the 164 HumanEval canonical solutions take
                ~1.04 s with one worker, ~1.18 s before.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import Choice, DifficultyTable, Flag, Float, Int

STYLES = ("function", "stdio")
INPUT_KINDS = ("ints", "text")
FEEDBACK_MAX_ATTEMPTS = 3

FAMILY = Family(
    name="code",
    generator="rlvr.generators.code:CodeGenerator",
    verifier="rlvr.verifiers.code:CodeVerifier",
    table=DifficultyTable(
        {
            "depth": Int(1, 10, doc="operations in the pipeline"),
            "max_length": Int(1, 10**5, doc="elements (or characters) of a random test input"),
            "value_limit": Int(1, 10**9, doc="numbers lie in [-value_limit, value_limit]"),
            "tests": Int(1, 100, doc="hidden tests in all"),
            "edge_cases": Flag(doc="empty, single, all-equal, all-negative and extreme inputs among the tests"),
            "stress_length": Int(0, 10**6, doc="length of one extra-large input (0: none)"),
            "time_limit_s": Float(0.1, 30.0, doc="seconds per test"),
            "style": Choice("any", *STYLES, doc="function or stdio tests (any: drawn)"),
            "input": Choice("any", *INPUT_KINDS, doc="integer list or text input (any: drawn)"),
        },
        {
            0.0: {
                "depth": 1,
                "max_length": 10,
                "value_limit": 20,
                "tests": 5,
                "edge_cases": False,
                "stress_length": 0,
                "time_limit_s": 4.0,
                "style": "any",
                "input": "any",
            },
            0.5: {
                "depth": 3,
                "max_length": 100,
                "value_limit": 10_000,
                "tests": 10,
                "edge_cases": True,
                "stress_length": 10_000,
                "time_limit_s": 3.0,
                "style": "any",
                "input": "any",
            },
            1.0: {
                "depth": 5,
                "max_length": 1000,
                "value_limit": 10**9,
                "tests": 20,
                "edge_cases": True,
                "stress_length": 100_000,
                "time_limit_s": 2.0,
                "style": "any",
                "input": "any",
            },
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/Code-v0",
            "Write a Python function or program that passes hidden tests, run in a sandbox (synthetic, or a "
            "HumanEval/MBPP/APPS/TACO/CodeContests/LiveCodeBench file)",
        ),
        EnvDecl(
            "rlvr/CodeFeedback-v0",
            "Code with test feedback: after a failed attempt the first failing test is shown, up to max_attempts tries",
            entry_point="rlvr.envs.multi_turn:CodeFeedbackEnv",
            env_kwargs={"max_attempts": FEEDBACK_MAX_ATTEMPTS},
        ),
    ),
    generator_options={
        "dataset": "path of a HumanEval/MBPP/APPS/TACO/CodeContests/LiveCodeBench file (.jsonl, .jsonl.gz, .json, "
        ".parquet): serve its rows instead",
    },
    verifier_options={
        "partial": "reward the fraction of tests passed instead of all-or-nothing (default false)",
        "sandbox": "where untrusted code runs: auto | bwrap | docker | unsafe-none (default auto: bwrap, else docker)",
        "image": "sandbox=docker: the image (default the locally built base image; rlvr sandbox build-image)",
        "backend": "deprecated name of sandbox",
        "allow_unsafe_unsandboxed": "permit sandbox unsafe-none, running code without isolation (default false)",
        "memory_mb": "memory limit per sandboxed process, in MiB (default 1024)",
        "max_total_s": "cap on the summed per-test time of one verification, in seconds (default 30)",
        "warm": "run sessions as children of warm zygotes (default true); false: a cold sandbox each",
    },
)
