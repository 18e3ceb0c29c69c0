"""Building blocks of a generated design: ``Design`` (ports, golden body, the plausible bug,
specification text and the exact Python model), ``Reset`` (the four reset styles: name,
condition, sensitivity list, prose) and the small helpers every family uses (bit masks, widths,
Verilog declarations, text tables, special values)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def clog2(value: int) -> int:
    return max(1, math.ceil(math.log2(value))) if value > 1 else 1


def decl(width: int) -> str:
    return "" if width == 1 else f"[{width - 1}:0] "


def mask(width: int) -> int:
    return (1 << width) - 1


def to_signed(value: int, width: int) -> int:
    return value - (1 << width) if value >> (width - 1) & 1 else value


@dataclass(frozen=True)
class Reset:
    style: str  # one of rlvr.families.verilog.RESET_STYLES

    @property
    def asynchronous(self) -> bool:
        return self.style.startswith("async")

    @property
    def active_low(self) -> bool:
        return self.style.endswith("low")

    @property
    def name(self) -> str:
        return ("a" if self.asynchronous else "") + "reset" + ("n" if self.active_low else "")

    @property
    def cond(self) -> str:
        return f"!{self.name}" if self.active_low else self.name

    @property
    def sensitivity(self) -> str:
        if not self.asynchronous:
            return "posedge clk"
        return f"posedge clk or {'negedge' if self.active_low else 'posedge'} {self.name}"

    @property
    def active_value(self) -> int:
        return 0 if self.active_low else 1

    def prose(self, action: str) -> str:
        level = "active-low (asserted when 0)" if self.active_low else "active-high (asserted when 1)"
        if self.asynchronous:
            return (
                f"{self.name} is an asynchronous, {level} reset: as soon as it is asserted, and for as long as "
                f"it stays asserted, {action}, without waiting for a clock edge. It overrides everything else."
            )
        return (
            f"{self.name} is a synchronous, {level} reset: when it is asserted at a rising edge of clk, "
            f"{action}. It takes priority over everything else."
        )


@dataclass
class Design:
    """One concrete design: ports, golden body, the plausible bug, spec text and Python model."""

    family: str
    inputs: list  # [(name, width)] without clock and reset
    outputs: list  # [(name, width)]
    body: str
    bug: str
    behaviour: str
    regs: frozenset = frozenset()
    table: str | None = None
    reset: Reset | None = None
    reset_action: str = ""
    comb: Callable[[dict], dict] | None = None
    reset_state: Any = None
    next_state: Callable[[Any, dict], Any] | None = None
    out: Callable[[Any, dict], dict] | None = None
    directed: list = field(default_factory=list)  # comb: [vector]; seq: [[vector, ...]]
    explore: bool = False  # enumerate the model's transitions for coverage
    chunk: Callable[[random.Random], list] | None = None  # a burst of random inputs (default: one vector)
    bias: dict = field(default_factory=dict)  # 1-bit input -> probability of 1

    @property
    def sequential(self) -> bool:
        return self.reset is not None

    def all_inputs(self) -> list:
        return ([(self.reset.name, 1)] if self.reset else []) + list(self.inputs)

    def module(self, name: str, bug: bool = False) -> str:
        ports = ["input clk", f"input {self.reset.name}"] if self.reset else []
        ports += [f"input {decl(w)}{n}" for n, w in self.inputs]
        ports += [f"output {'reg ' if n in self.regs else ''}{decl(w)}{n}" for n, w in self.outputs]
        body = self.bug if bug else self.body
        return f"module {name} (\n  " + ",\n  ".join(ports) + "\n);\n" + body + "endmodule\n"


def format_table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def bits(value: int | None, width: int) -> str:
    return "x" * width if value is None else format(value, f"0{width}b")


def special_values(width: int) -> list[int]:
    top = mask(width)
    msb = 1 << (width - 1)
    alternating = int("01" * width, 2) & top
    return sorted({0, top, 1, msb, top - 1, msb - 1, alternating, top ^ alternating})


def always_seq(reset: Reset) -> str:
    return f"  always @({reset.sensitivity}) begin\n"
