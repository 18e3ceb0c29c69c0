"""VerilogEval: the 156 spec-to-RTL problems of VerilogEval v2, graded by their own testbenches.

Task        A directory in VerilogEval v2 spec-to-rtl layout: for each problem ``ProbNNN_name``
            the files ``ProbNNN_name_prompt.txt`` (the specification of TopModule),
            ``ProbNNN_name_ref.sv`` (the reference, module RefModule) and ``ProbNNN_name_test.sv``
            (the testbench, which prints ``Mismatches: N in M samples``). ``dataset=DIR`` is
            required: the project ships no copy of the data. Get the ``dataset_spec-to-rtl`` folder
            of VerilogEval v2 from github.com/NVlabs/verilog-eval (MIT licence); without it, or with
            a path that is not such a folder, the constructor raises a one-line ValueError that
            says so (``gym.make``, ``rlvr.make_task`` and the CLI pass it on). The problems are the
            rows of the core dataset mode (``TaskGenerator.use_dataset``): served in name order,
            seed ``i`` gives row ``i % count``, the difficulty knob changes nothing (it is recorded
            in the task), and the task id is ``verilogeval/v0/dataset/<directory name>/<row>``.
Tool errors With each reference renamed TopModule, 152 of the 156 problems pass under Icarus
            Verilog 11 and can be graded; ``KNOWN_TOOL_ERRORS`` (Prob099_m2014_q6c: its testbench
            connects ports Y2/Y4 that the reference lacks; Prob151_review2015_fsm and
            Prob156_review2015_fancytimer: "sorry: This cast operation is not yet supported")
            cannot be elaborated at all, and Prob053_m2014_q4d's reference outputs are x on 99
            of its 100 samples (its stimulus races the first clock edge), so any design passed
            it, a constant included (red team s13 F2): the verifier calls a reference trace that
            is x on 90 % of its samples a tool error. By default (``include_tool_errors=False``)
            these four are left out of the rows (152 problems), so every served task can be
            solved and none is free; with ``include_tool_errors=True`` they are served too, as
            the last rows (152–155 of the full folder), so a row number names the same problem
            either way, and they always get a Verdict whose reason starts with "tool error"
            (``details["tool_error"]``), never "wrong". ``problem_task(name)`` is the task of a
            served problem, by name.
Answer      The problem's prompt text plus ``rlvr.verifiers.verilog.ANSWER_FORMAT``: one fenced block
            starting with ```verilog. ``task.answer`` = {"kind": "verilog-eval", "problem": name,
            "ref": reference source, "test": testbench source}: the verifier needs nothing else.
            ``task.meta`` = {"dataset" (the directory, absolute), "row", "problem"}.
Verifier    ``rlvr.verifiers.verilog.VerilogVerifier`` runs the problem's testbench rewritten to
            drive TopModule alone and print its outputs at the testbench's own sample points; the
            reference's outputs come from a separate trusted run of the same testbench (cached per
            problem), and the host counts mismatches as the testbench would. The candidate's
            simulation holds no RefModule: naming it fails to elaborate.
Solver      The reference renamed TopModule. ``wrong_response``: the reference with every output
            assignment inverted at the port (a TopModule wrapping the renamed reference and driving
            ~output), which the testbench flags unless an output never leaves X.
Attacks     ``attacks(task)``: ``rlvr.generators.verilog.reference_attacks`` with VerilogEval's
            names (tb, good1, the reference's file name and path), less the constant and echo
            modules on the seven problems they solve (``CONSTANT_SOLVED``).

Hints       ``hint=h``: the port list, the state encoding (localparams), then the reference body a
            few lines at a time, about three quarters of it.
Difficulty  (rendered from the declaration below)
            no task parameters: the knob changes nothing

Version history
            v0  (2026-11) first release. 2026-12: the bundled copy of the problems was removed:
                ``dataset=DIR`` is required. 2026-12: declared in rlvr.families and served by the
                core dataset mode: ids unified to ``verilogeval/v0/dataset/<directory>/<row>``
                (were ``verilogeval/v0/<directory>/<problem>``), meta ``index`` renamed ``row``;
                prompts and answers unchanged.
                2026-12-05 (session 7): train/held-out sides go by ``split_group`` (by dataset row;
                red team S7-1: one problem shown otherwise was on both sides), so split streams
                changed where a task's group lands elsewhere than its prompt did (re-pinned); raw-
                stream bytes unchanged.
                2026-12-06 (red team s13 F2): Prob053_m2014_q4d, whose reference is x on 99 of
                100 samples (any design passed it), is a known tool error: served only with
                ``include_tool_errors=True``. Rows from 52 on name the next problem (re-pinned).
                2026-12-06 (red team s17 V1, V2): the screen both Verilog envs share refuses macros
                named like directives and what macros could assemble into a hierarchical name or a
                module (see rlvr/Verilog-v0's history), and any ": error:" Icarus prints fails the
                compile. Tasks unchanged.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable

FAMILY = Family(
    name="verilogeval",
    generator="rlvr.generators.verilog_eval:VerilogEvalGenerator",
    verifier="rlvr.verifiers.verilog:VerilogVerifier",
    table=DifficultyTable({}, {0.0: {}, 1.0: {}}),
    envs=(
        EnvDecl("rlvr/VerilogEval-v0", "VerilogEval v2 spec-to-RTL problems, graded by their own testbenches (Icarus)"),
    ),
    generator_options={
        "dataset": "required: the dataset_spec-to-rtl folder of VerilogEval v2 (github.com/NVlabs/verilog-eval)",
        "include_tool_errors": "also serve the four problems that cannot be graded here (three Icarus cannot "
        "elaborate, one whose reference output is undefined), as the last rows (default false)",
    },
    verifier_options={
        "partial": "reward the matching fraction above a constant design's (default false)",
        "deadline_s": "wall-clock bound of one verdict in seconds, at least 6 "
        "(default 20; each simulation gets 4 s less)",
        "sandbox": "where untrusted code runs: auto | bwrap | docker (default auto: bwrap, else docker)",
        "image": "sandbox=docker: the image (default the locally built base image; rlvr sandbox build-image)",
    },
)
