"""How Verilog-v0's tasks are made: designs of 16 families with their Python models, stimulus,
prompts, mutants and the reference attacks (shared with VerilogEval-v0).

The family's contract (task, answer, verifier, solver, difficulty, version history) is the
docstring of ``rlvr.families.verilog``.
"""

from __future__ import annotations

from rlvr.families.verilog import (
    BASIC_FAMILIES,
    COMBINATIONAL,
    FAMILIES,
    FORMATS,
    MIDDLE_FAMILIES,
    RESET_STYLES,
    SEQUENTIAL,
)
from rlvr.generators.verilog.attacks import reference_attacks
from rlvr.generators.verilog.design import Design, Reset, bits, mask
from rlvr.generators.verilog.families import BUILDERS, SAMPLERS, build_design
from rlvr.generators.verilog.generator import VerilogGenerator
from rlvr.generators.verilog.mutation import Mutant, MutantResult, measure_mutants, mutants, mutate_source
from rlvr.generators.verilog.prompt import make_prompt
from rlvr.generators.verilog.stimulus import expected_outputs, make_stimulus, model_samples, pack, vectors_of

__all__ = [
    "BASIC_FAMILIES",
    "BUILDERS",
    "COMBINATIONAL",
    "FAMILIES",
    "FORMATS",
    "MIDDLE_FAMILIES",
    "RESET_STYLES",
    "SAMPLERS",
    "SEQUENTIAL",
    "Design",
    "Mutant",
    "MutantResult",
    "Reset",
    "VerilogGenerator",
    "bits",
    "build_design",
    "expected_outputs",
    "make_prompt",
    "make_stimulus",
    "mask",
    "measure_mutants",
    "model_samples",
    "mutants",
    "mutate_source",
    "pack",
    "reference_attacks",
    "vectors_of",
]
