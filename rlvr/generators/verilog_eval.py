"""How VerilogEval-v0's tasks are made: the problems of a VerilogEval v2 ``dataset_spec-to-rtl``
folder served by the core dataset mode, the reference solution, the inverted-output wrong
response and the reference attacks with VerilogEval's names.

The family's contract (task, tool errors, answer, verifier, version history) is the docstring of
``rlvr.families.verilog_eval``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rlvr.core import Task, TaskGenerator
from rlvr.families.verilog_eval import FAMILY
from rlvr.generators.verilog import reference_attacks
from rlvr.generators.verilog.hints import reference_hints
from rlvr.verifiers.verilog import ANSWER_FORMAT, module_ports

# Problems no answer can be graded on here (rlvr.families.verilog_eval, "Tool errors"), in name
# order, as they are served last with include_tool_errors=True.
KNOWN_TOOL_ERRORS = (
    "Prob053_m2014_q4d",
    "Prob099_m2014_q6c",
    "Prob151_review2015_fsm",
    "Prob156_review2015_fancytimer",
)
PROMPT_SUFFIX = "_prompt.txt"
# Problems whose right answer a constant or an echo of the inputs already is (measured by
# running those attacks on every problem): the audit leaves those attacks out there.
CONSTANT_SOLVED: dict[str, tuple[str, ...]] = {
    "Prob001_zero": ("constant-zero", "echo-inputs"),
    "Prob002_m2014_q4i": ("constant-zero", "echo-inputs"),
    "Prob003_step_one": ("constant-ones",),
    "Prob007_wire": ("echo-inputs",),
    "Prob008_m2014_q4h": ("echo-inputs",),
    "Prob015_vector1": ("echo-inputs",),
}


DATASET_HINT = (
    "the dataset_spec-to-rtl folder of VerilogEval v2 (ProbNNN_*_prompt.txt, _ref.sv, _test.sv) "
    "from github.com/NVlabs/verilog-eval"
)


def list_problems(directory: Path) -> list[str]:
    """Problem names that have all three files, in name order."""
    names = []
    for prompt in sorted(directory.glob(f"*{PROMPT_SUFFIX}")):
        name = prompt.name[: -len(PROMPT_SUFFIX)]
        if (directory / f"{name}_ref.sv").is_file() and (directory / f"{name}_test.sv").is_file():
            names.append(name)
    return names


class VerilogEvalGenerator(TaskGenerator):
    declaration = FAMILY

    def __init__(self, dataset: str | Path | None = None, include_tool_errors: bool = False):
        if dataset is None:
            raise ValueError(f"{self.env_id} needs the option dataset=DIR: {DATASET_HINT}")
        directory = Path(dataset).resolve()
        if not directory.is_dir():
            raise ValueError(
                f"{self.env_id} dataset={str(dataset)!r} is not a directory; dataset= takes {DATASET_HINT}"
            )
        names = list_problems(directory)
        self.include_tool_errors = bool(include_tool_errors)
        # tool errors last, so a row number names the same problem with and without them
        served = [n for n in names if n not in KNOWN_TOOL_ERRORS]
        if self.include_tool_errors:
            served += [n for n in names if n in KNOWN_TOOL_ERRORS]
        if not served:
            raise ValueError(
                f"{self.env_id} dataset={str(dataset)!r} holds no problems (*{PROMPT_SUFFIX} with _ref.sv "
                f"and _test.sv); dataset= takes {DATASET_HINT}"
            )
        self.use_dataset(directory, served)

    @property
    def problems(self) -> list[str]:
        """The served problem names, by row."""
        return list(self.dataset_rows)

    def problem_task(self, name: str, difficulty: float = 0.5) -> Task:
        """The task of the served problem ``name`` (seed = its row)."""
        if name not in self.dataset_rows:
            raise ValueError(
                f"{name!r} is not served from {self.dataset}"
                + (" (a known tool error: include_tool_errors=True serves it)" if name in KNOWN_TOOL_ERRORS else "")
            )
        return self.generate(self.dataset_rows.index(name), difficulty)

    def dataset_task(self, row: str) -> dict:
        """Prompt, answer and meta of the problem ``row`` names, read from its three files."""
        read = lambda suffix: (self.dataset / f"{row}{suffix}").read_text(encoding="utf-8")  # noqa: E731
        return {
            "prompt": f"{read(PROMPT_SUFFIX).strip()}\n\n{ANSWER_FORMAT}",
            "answer": {"kind": "verilog-eval", "problem": row, "ref": read("_ref.sv"), "test": read("_test.sv")},
            "meta": {"problem": row},
        }

    def build(self, rng, nprng, params) -> dict:
        """Never called: the constructor always turns on the dataset mode, which makes every task."""
        raise NotImplementedError("VerilogEval tasks come from its dataset only")

    def solve(self, task: Task) -> str:
        source = re.sub(r"\bRefModule\b", "TopModule", task.answer["ref"])
        return f"```verilog\n{source.strip()}\n```\n"

    def hints(self, task: Task) -> list[str]:
        """The port list, the state encoding, then about three quarters of the reference body."""
        return reference_hints(task.answer["ref"])

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
        paths = (str(Path(task.meta["dataset"]) / f"{problem}_ref.sv"),)
        skip = CONSTANT_SOLVED.get(problem, ())
        return [
            (name, response)
            for name, response in reference_attacks(task.answer["ref"], names, paths)
            if name not in skip
        ]
