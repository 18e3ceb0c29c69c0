"""The design families' code: each family's spec sampler (``SAMPLERS``) and design builder
(``BUILDERS``), keyed by the names ``rlvr.families.verilog`` declares (``FAMILIES``), and
``build_design(family, spec)``, which rebuilds a task's design from the spec stored in
``task.meta``."""

from __future__ import annotations

from collections.abc import Callable

from rlvr.generators.verilog.combinational import (
    build_adder,
    build_alu,
    build_bitmanip,
    build_comparator,
    build_decoder,
    build_mux,
    build_parity,
    build_popcount,
    build_priority,
    build_truthtable,
    sample_adder,
    sample_alu,
    sample_bitmanip,
    sample_comparator,
    sample_decoder,
    sample_mux,
    sample_parity,
    sample_popcount,
    sample_priority,
    sample_truthtable,
)
from rlvr.generators.verilog.design import Design
from rlvr.generators.verilog.fsm import build_fsm, build_seqdet, sample_fsm, sample_seqdet
from rlvr.generators.verilog.sequential import (
    build_counter,
    build_edge,
    build_handshake,
    build_shiftreg,
    sample_counter,
    sample_edge,
    sample_handshake,
    sample_shiftreg,
)

SAMPLERS: dict[str, Callable] = {
    "adder": sample_adder,
    "comparator": sample_comparator,
    "mux": sample_mux,
    "decoder": sample_decoder,
    "priority": sample_priority,
    "popcount": sample_popcount,
    "parity": sample_parity,
    "alu": sample_alu,
    "bitmanip": sample_bitmanip,
    "truthtable": sample_truthtable,
    "counter": sample_counter,
    "shiftreg": sample_shiftreg,
    "edge": sample_edge,
    "seqdet": sample_seqdet,
    "fsm": sample_fsm,
    "handshake": sample_handshake,
}
BUILDERS: dict[str, Callable[[dict], Design]] = {
    "adder": build_adder,
    "comparator": build_comparator,
    "mux": build_mux,
    "decoder": build_decoder,
    "priority": build_priority,
    "popcount": build_popcount,
    "parity": build_parity,
    "alu": build_alu,
    "bitmanip": build_bitmanip,
    "truthtable": build_truthtable,
    "counter": build_counter,
    "shiftreg": build_shiftreg,
    "edge": build_edge,
    "seqdet": build_seqdet,
    "fsm": build_fsm,
    "handshake": build_handshake,
}


def build_design(family: str, spec: dict) -> Design:
    return BUILDERS[family](spec)
