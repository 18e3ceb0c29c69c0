"""The prompt of a generated task: the interface, the clock and reset conventions, and the
behaviour in one of three formats — "prose", "table" (a complete truth table when the inputs
have at most ``TRUTH_TABLE_MAX_BITS`` bits, else the family's own table) or "waveform" (prose
plus an example trace computed by the model) — followed by ``ANSWER_FORMAT``."""

from __future__ import annotations

import random

from rlvr.generators.verilog.design import Design, bits, decl, format_table
from rlvr.generators.verilog.stimulus import alphabet, model_samples, random_vector, with_reset
from rlvr.verifiers.verilog import ANSWER_FORMAT

TRUTH_TABLE_MAX_BITS = 6


def waveform_table(design: Design, rng: random.Random) -> str:
    if not design.sequential:
        vectors = list(design.directed[:4]) + [random_vector(design, rng) for _ in range(4)]
        rows = [
            [bits(u[n], w) for n, w in design.inputs] + [bits(design.comb(u)[n], w) for n, w in design.outputs]
            for u in vectors
        ]
        return "Examples (binary values):\n" + format_table(
            [n for n, _ in design.inputs] + [n for n, _ in design.outputs], rows
        )
    steps = [with_reset(design, random_vector(design, rng), True)]
    source = design.directed[0] if design.directed else []
    for step in source[:9]:
        steps.append(with_reset(design, {**random_vector(design, rng), **step}, False))
    while len(steps) < 12:
        steps.append(with_reset(design, random_vector(design, rng), False))
    samples = model_samples(design, steps)
    names = design.all_inputs()
    rows = []
    for k, u in enumerate(steps):
        before = samples[2 * k]
        rows.append(
            [k]
            + [bits(u[n], w) for n, w in names]
            + [bits(before[n] if before else None, w) for n, w in design.outputs]
        )
    return (
        "Example waveform, one row per clock cycle (binary values; x = unknown before the first reset takes "
        "effect). Inputs are held during the cycle; outputs are shown as they are just before the rising edge that "
        "ends the cycle, so the effect of that edge appears in the next row:\n"
        + format_table(["cycle"] + [n for n, _ in names] + [n for n, _ in design.outputs], rows)
    )


def truth_table(design: Design) -> str | None:
    if design.sequential or sum(w for _, w in design.inputs) > TRUTH_TABLE_MAX_BITS:
        return None
    rows = [
        [bits(u[n], w) for n, w in design.inputs] + [bits(design.comb(u)[n], w) for n, w in design.outputs]
        for u in alphabet(design)
    ]
    return "Complete truth table (binary values):\n" + format_table(
        [n for n, _ in design.inputs] + [n for n, _ in design.outputs], rows
    )


def interface_text(design: Design) -> str:
    lines = []
    if design.reset:
        lines += ["  input  clk", f"  input  {design.reset.name}"]
    lines += [f"  input  {decl(w)}{n}".rstrip() for n, w in design.inputs]
    lines += [f"  output {decl(w)}{n}".rstrip() for n, w in design.outputs]
    return "\n".join(lines)


def make_prompt(design: Design, fmt: str, rng: random.Random) -> str:
    parts = [
        "Implement the Verilog module TopModule specified below.",
        "",
        "Interface (every port is an unsigned bit vector, bit 0 the least significant; ports without a range are 1 "
        "bit):",
        interface_text(design),
        "",
    ]
    if design.sequential:
        parts.append(
            "Clock and reset: the module is synchronous to the rising edge of clk. "
            + design.reset.prose(design.reset_action)
        )
        parts.append("")
    else:
        parts.append("The module is purely combinational: the outputs depend only on the current inputs.")
        parts.append("")
    table = truth_table(design) or design.table
    if fmt == "table" and table:
        parts += ["Behaviour:", table]
    else:
        parts += ["Behaviour: " + design.behaviour]
        if fmt == "waveform":
            parts += ["", waveform_table(design, rng)]
    parts += ["", ANSWER_FORMAT]
    return "\n".join(parts)
