"""``VerilogGenerator``: ``build`` (draw a family, its spec, reset style and format; build the
design, the stimulus, the prompt and the answer with the model's expected outputs), the reference
solution, the plausible-bug wrong response and the family's attacks. The contract and the
difficulty table are ``rlvr.families.verilog``'s."""

from __future__ import annotations

import random
import re
from typing import Any

import numpy as np

from rlvr.core import Task, TaskGenerator
from rlvr.families.verilog import FAMILY, SEQUENTIAL
from rlvr.generators.verilog.attacks import reference_attacks
from rlvr.generators.verilog.design import Design, mask
from rlvr.generators.verilog.families import SAMPLERS, build_design
from rlvr.generators.verilog.hints import reference_hints
from rlvr.generators.verilog.prompt import make_prompt
from rlvr.generators.verilog.stimulus import expected_outputs, make_stimulus, pack


class VerilogGenerator(TaskGenerator):
    declaration = FAMILY

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        family = rng.choice(params["families"].split(","))
        sampler = SAMPLERS[family]
        if family in SEQUENTIAL:
            spec = sampler(rng, params, rng.choice(params["resets"].split(",")))
        else:
            spec = sampler(rng, params)
        design = build_design(family, spec)
        fmt = rng.choice(params["formats"].split(","))
        vectors, directed_steps = make_stimulus(design, rng, params["steps"])
        prompt = make_prompt(design, fmt, rng)
        answer = {
            "kind": "generated",
            "ref": design.module("RefModule"),
            "inputs": [[n, w] for n, w in design.all_inputs()],
            "outputs": [[n, w] for n, w in design.outputs],
            "clock": "clk" if design.sequential else None,
            "vectors": [pack(design, v) for v in vectors],
            "expected": expected_outputs(design, vectors),
        }
        meta = {"family": family, "spec": spec, "format": fmt, "directed_steps": directed_steps, "steps": len(vectors)}
        return {"prompt": prompt, "answer": answer, "meta": meta}

    @staticmethod
    def design_of(task: Task) -> Design:
        return build_design(task.meta["family"], task.meta["spec"])

    def solve(self, task: Task) -> str:
        source = re.sub(r"\bRefModule\b", "TopModule", task.answer["ref"])
        return f"Here is the module.\n\n```verilog\n{source}```\n"

    def hints(self, task: Task) -> list[str]:
        """The port list, the state encoding, then about three quarters of the reference body."""
        return reference_hints(task.answer["ref"])

    def wrong_response(self, task: Task) -> str:
        return f"Here is the module.\n\n```verilog\n{self.design_of(task).module('TopModule', bug=True)}```\n"

    def split_group(self, task: Task) -> Any:
        """The golden design: the same module with other example waveforms or table rows in
        its prompt is on one side."""
        return ["verilog", task.answer["ref"]]

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """``reference_attacks`` with this family's testbench names, less the constant and
        echo modules that the expected outputs show would be right."""
        inputs = [(str(n), int(w)) for n, w in task.answer["inputs"]]
        outputs = [(str(n), int(w)) for n, w in task.answer["outputs"]]
        in_width, out_width = sum(w for _, w in inputs), sum(w for _, w in outputs)
        per_step = 2 if task.answer["clock"] else 1
        echoes = (
            [int(v, 16) & mask(out_width) for v in task.answer["vectors"] for _ in range(per_step)]
            if in_width
            else None
        )
        constants = {"constant-zero": 0, "constant-ones": mask(out_width)}

        def solves(values: list[int] | None) -> bool:
            return values is not None and all(
                e == "x" or int(e, 16) == v for e, v in zip(task.answer["expected"], values)
            )

        samples = len(task.answer["expected"])
        skip = {name for name, value in constants.items() if solves([value] * samples)}
        if solves(echoes):
            skip.add("echo-inputs")
        names = {"root": "rlvr_tb", "instance": "ref_inst", "file": "ref.sv"}
        return [(name, response) for name, response in reference_attacks(task.answer["ref"], names) if name not in skip]
