"""VerilogEval: the 156 spec-to-RTL problems of VerilogEval v2, graded by their own testbenches.

Task        A directory in VerilogEval v2 spec-to-rtl layout: for each problem ``ProbNNN_name``
            the files ``ProbNNN_name_prompt.txt`` (the specification of TopModule),
            ``ProbNNN_name_ref.sv`` (the reference, module RefModule) and ``ProbNNN_name_test.sv``
            (the testbench, which prints ``Mismatches: N in M samples``). ``dataset=DIR`` is
            required: the project ships no copy of the data. Get the ``dataset_spec-to-rtl`` folder
            of VerilogEval v2 from github.com/NVlabs/verilog-eval (MIT licence); without it, or with
            a path that is not such a folder, the constructor raises a one-line ValueError that
            says so (``gym.make``, ``rlvr.make_task`` and the CLI pass it on). Problems are served in
            name order; seed ``i`` gives problem ``i % count``; the difficulty knob changes nothing
            (it is recorded in the task). Task id ``verilogeval/v0/<directory name>/<problem>``.
Tool errors With each reference renamed TopModule, 153 of the 156 problems pass under Icarus
            Verilog 11; ``KNOWN_TOOL_ERRORS`` (Prob099_m2014_q6c: its testbench connects ports Y2/Y4
            that the reference lacks; Prob151_review2015_fsm and Prob156_review2015_fancytimer:
            "sorry: This cast operation is not yet supported") cannot be elaborated at all, so no
            answer can pass them here. By default (``include_tool_errors=False``) they are left out
            of the rotation (153 problems), so every served task can be solved; with
            ``include_tool_errors=True`` all problems are served and those three always get a
            Verdict whose reason starts with "tool error" (``details["tool_error"]``), never
            "wrong". ``problem_task(name)`` builds any problem by name regardless.
Answer      The problem's prompt text plus ``rlvr.verifiers.verilog.ANSWER_FORMAT``: one fenced block
            starting with ```verilog. ``task.answer`` = {"kind": "verilog-eval", "problem": name,
            "ref": reference source, "test": testbench source}: the verifier needs nothing else.
            ``task.meta`` = {"problem", "index", "dataset" (the directory, absolute)}.
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
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rlvr.core import DifficultyTable, Task, TaskGenerator, canonical_difficulty
from rlvr.generators.verilog import reference_attacks
from rlvr.verifiers.verilog import ANSWER_FORMAT, module_ports

KNOWN_TOOL_ERRORS = ("Prob099_m2014_q6c", "Prob151_review2015_fsm", "Prob156_review2015_fancytimer")
PROMPT_SUFFIX = "_prompt.txt"
# Problems whose right answer a constant or an echo of the inputs already is (measured by
# running those attacks on every problem): the audit leaves those attacks out there.
# Prob053_m2014_q4d's stimulus never sets `in`, so its output stays 0 (in VerilogEval too).
CONSTANT_SOLVED: dict[str, tuple[str, ...]] = {
    "Prob001_zero": ("constant-zero", "echo-inputs"),
    "Prob002_m2014_q4i": ("constant-zero", "echo-inputs"),
    "Prob003_step_one": ("constant-ones",),
    "Prob007_wire": ("echo-inputs",),
    "Prob008_m2014_q4h": ("echo-inputs",),
    "Prob015_vector1": ("echo-inputs",),
    "Prob053_m2014_q4d": ("constant-zero",),
}


DATASET_HINT = ("the dataset_spec-to-rtl folder of VerilogEval v2 (ProbNNN_*_prompt.txt, _ref.sv, _test.sv) "
                "from github.com/NVlabs/verilog-eval")


def list_problems(directory: Path) -> list[str]:
    """Problem names that have all three files, in name order."""
    names = []
    for prompt in sorted(directory.glob(f"*{PROMPT_SUFFIX}")):
        name = prompt.name[: -len(PROMPT_SUFFIX)]
        if (directory / f"{name}_ref.sv").is_file() and (directory / f"{name}_test.sv").is_file():
            names.append(name)
    return names


class VerilogEvalGenerator(TaskGenerator):
    family = "verilogeval"
    env_id = "rlvr/VerilogEval-v0"
    table = DifficultyTable({0.0: {}, 1.0: {}})

    def __init__(self, dataset: str | Path | None = None, include_tool_errors: bool = False):
        if dataset is None:
            raise ValueError(f"{self.env_id} needs the option dataset=DIR: {DATASET_HINT}")
        self.directory = Path(dataset).resolve()
        if not self.directory.is_dir():
            raise ValueError(f"{self.env_id} dataset={str(dataset)!r} is not a directory; dataset= takes {DATASET_HINT}")
        names = list_problems(self.directory)
        self.include_tool_errors = bool(include_tool_errors)
        self.problems = names if include_tool_errors else [n for n in names if n not in KNOWN_TOOL_ERRORS]
        if not self.problems:
            raise ValueError(f"{self.env_id} dataset={str(dataset)!r} holds no problems (*{PROMPT_SUFFIX} with _ref.sv "
                             f"and _test.sv); dataset= takes {DATASET_HINT}")

    def generate(self, seed: int, difficulty: float = 0.5, **overrides: Any) -> Task:
        if overrides:
            raise ValueError(f"VerilogEval tasks take no parameters, got {sorted(overrides)}")
        name = self.problems[int(seed) % len(self.problems)]
        return self.problem_task(name, seed=int(seed), difficulty=difficulty)

    def problem_task(self, name: str, seed: int = 0, difficulty: float = 0.5) -> Task:
        """The task of one problem by name (also a known tool-error problem)."""
        parts = self.problem_parts(name)
        return Task(
            id=f"verilogeval/v0/{self.directory.name}/{name}",
            env_id=self.env_id,
            family=self.family,
            prompt=parts["prompt"],
            answer=parts["answer"],
            difficulty=canonical_difficulty(difficulty),
            seed=int(seed),
            params={},
            meta=parts["meta"],
        )

    def problem_parts(self, name: str) -> dict:
        """Prompt, answer and meta of one problem, read from its three files."""
        read = lambda suffix: (self.directory / f"{name}{suffix}").read_text(encoding="utf-8")  # noqa: E731
        meta: dict[str, Any] = {"problem": name, "index": self.problems.index(name) if name in self.problems else None,
                                "dataset": str(self.directory)}
        return {
            "prompt": f"{read(PROMPT_SUFFIX).strip()}\n\n{ANSWER_FORMAT}",
            "answer": {"kind": "verilog-eval", "problem": name, "ref": read("_ref.sv"), "test": read("_test.sv")},
            "meta": meta,
        }

    def build(self, rng, nprng, params) -> dict:
        """A problem drawn with the task RNG (``generate`` maps seeds to problems directly)."""
        return self.problem_parts(self.problems[rng.randrange(len(self.problems))])

    def solve(self, task: Task) -> str:
        source = re.sub(r"\bRefModule\b", "TopModule", task.answer["ref"])
        return f"```verilog\n{source.strip()}\n```\n"

    def wrong_response(self, task: Task) -> str:
        ref = task.answer["ref"]
        ports = module_ports(ref, "RefModule")
        header = re.search(r"\bmodule\s+RefModule\b(.*?\));", ref, re.DOTALL)
        inner = re.sub(r"\bRefModule\b", "ReferenceCopy", ref)
        outputs = [name for name, direction in ports.items() if direction == "output"]
        wires = "\n".join(f"  wire [$bits({name})-1:0] {name}_copy;" for name in outputs)
        connections = ", ".join(f".{name}({name}_copy)" if name in outputs else f".{name}({name})" for name in ports)
        assigns = "\n".join(f"  assign {name} = ~{name}_copy;" for name in outputs)
        header_text = header.group(1) if header else "();"
        top = f"module TopModule{header_text};\n{wires}\n  ReferenceCopy inner ({connections});\n{assigns}\nendmodule\n"
        top = re.sub(r"\boutput\s+(reg|logic)\b", "output wire", top)
        return f"```verilog\n{inner.strip()}\n\n{top}```\n"

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """``rlvr.generators.verilog.reference_attacks`` with VerilogEval's testbench names (tb,
        good1) and the reference's own file path, less the constant and echo modules on the
        problems they solve (``CONSTANT_SOLVED``, measured)."""
        problem = task.answer["problem"]
        names = {"root": "tb", "instance": "good1", "file": f"{problem}_ref.sv"}
        paths = (str(self.directory / f"{problem}_ref.sv"),)
        skip = CONSTANT_SOLVED.get(problem, ())
        return [(name, response) for name, response in reference_attacks(task.answer["ref"], names, paths) if name not in skip]
