"""Verilog: write a hardware module from a specification; it must behave like a hidden golden
reference under a generated testbench (the approach of CodeV-R1).

Task        One design from 16 families, each with random parameters, a golden ``RefModule``, an
            exact Python model of it, and a specification of ``TopModule`` (port list with widths,
            clock and reset conventions, behaviour):
            combinational  adder (add, subtract or add/subtract with carry/borrow in and out and
                           signed overflow), comparator (eq/lt/gt, unsigned or two's complement),
                           mux (2–8 inputs, unused select values give 0), decoder (one-hot, enable,
                           active-low), priority (highest or lowest set bit, valid), popcount
                           (count, at-least-T flag), parity (even/odd, per-group), alu (4–16
                           random operations on random op codes, zero flag), bitmanip (reverse,
                           rotate by a constant or by an input, swap halves, Gray encode/decode,
                           sign extension), truthtable (random Boolean functions of 3–5 inputs);
            sequential     counter (modulus, enable, up, down or up/down input, parallel load),
                           shiftreg (left/right, enable, parallel load), edge (rising, falling or
                           any edge, per bit), seqdet (sequence detector for a random target
                           pattern, Moore or Mealy, overlapping or not), fsm (random Moore state
                           table, all states reachable and distinguishable), handshake
                           (valid/ready register slice, or req/ack with a busy period).
            Every sequential design has a clock ``clk`` (rising edge) and a reset: synchronous or
            asynchronous, active-high or active-low (``reset``, ``resetn``, ``areset``,
            ``aresetn``). The behaviour comes in one of three formats: "prose" (sentences),
            "table" (a complete truth table when the inputs have ≤ 6 bits, else the family's table
            — mux selects, alu op codes, counter/shift-register next-value rules, edge cases,
            state-transition tables of seqdet, fsm and handshake — and prose for the remaining
            wide-datapath families) or "waveform" (the prose plus an example trace computed by the
            model: input/output rows per clock cycle, or example vectors for combinational designs).
Answer      Exactly one fenced block starting with ```verilog holding module TopModule (more
            than one scores 0); rules in ``rlvr.verifiers.verilog.ANSWER_FORMAT``, which the prompt quotes.
            ``task.answer`` = {"kind": "generated", "ref": RefModule source, "inputs": [[name,
            width]] (reset first, clock excluded), "outputs": [[name, width]], "clock": "clk" or
            null, "vectors": [hex per step], "expected": [hex per sample, or "x" before the first
            reset]}: the expected outputs are the Python model's (the verifier compares the
            candidate's simulated outputs with them on the host). The stimulus, fixed at
            generation: directed corner vectors (all-zeros, all-ones, extremes, carries, one-hot and walking patterns, every
            select/op value, runs through counter wrap-around, the target pattern, W-method
            transition tests of the small state machines, a reset in the middle of activity), then
            random vectors (30 % special values; seqdet favours pieces of its pattern); sequential
            stimulus starts with reset and asserts it again at random steps (4 %) and before every
            directed sequence. Exhaustive when all input combinations fit.
            ``task.meta`` = {"family", "spec" (the concrete parameters: the design is rebuilt from
            it), "format", "directed_steps", "steps"}.
Verifier    ``rlvr.verifiers.verilog.VerilogVerifier``: Icarus Verilog in the sandbox simulates
            TopModule alone (no reference in its simulation); every sample compared on the host
            with the expected outputs by VerilogEval's X rule; binary reward (``partial=True``: 1 −
            mismatch fraction).
Solver      The golden module renamed TopModule. ``wrong_response``: the golden module with one
            plausible bug (carry from the wrong bit, ``<=`` for ``<``, two mux or op-code cases
            swapped, loop direction reversed or bound one short, counter wrap value off by one,
            wrong shift direction, wrong edge polarity, one FSM transition redirected, busy period
            one cycle long) that the directed stimulus always exposes. ``mutants(task)`` lists the
            single mutations of the golden source (flipped operator, off-by-one constant, swapped
            bits or concatenation, missing reset, wrong FSM transition) for kill-rate measurement.
Attacks     ``attacks(task)`` (``reference_attacks``): the reference instantiated (plain, .*,
            escaped name, macro, generate block, defparam), included, bound or configured in;
            $root, upward and testbench hierarchical names; printed verdicts and fake trace lines,
            stderr, an early $finish, $fatal, a zero-delay loop, an output flood; constant 0, 1,
            x and z outputs and an echo of the inputs (left out where the expected outputs show
            they would be right); an oversize and a deeply nested source. All score 0.

Difficulty  d     families  width  selects  ports  states  resets              formats          steps
            0.0   9 basic   4      1        1      3       sync-high           prose            48
            0.25  12        6      2        2      4       sync-high/low       prose            72
            0.5   all 16    8      2        2      5       + async-high        prose, waveform  96
            0.75  all 16    12     3        3      6       + async-high        waveform, table  128
            1.0   all 16    16     3        3      7       sync/async × h/l    table, waveform  160
            families at 0.0: adder, comparator, mux, decoder, parity, popcount, counter, shiftreg,
            edge; 0.25 adds priority, bitmanip, seqdet; 0.5 adds alu, truthtable, fsm, handshake.
            width: data bits (adder/comparator/alu operands, counter and shift register, popcount,
            parity, priority and bitmanip input; mux data and edge inputs use width // 2, at least 2).
            selects: mux select bits (2^s inputs), decoder input bits (s + 1), alu op bits (s + 1),
            truthtable inputs (s + 2). ports: optional ports/outputs switched on (carry-in and
            overflow, enable, up/down input, load, valid flags, more outputs, 2-bit FSM input).
            states: seqdet pattern length and fsm state count. steps: stimulus length — directed
            material first (capped at 3 × steps; 5 × steps for seqdet and fsm, whose transition
            tests follow the W-method: every transition, then a sequence telling its target from
            each other state), then random steps up to ``steps``; a combinational design whose
            whole input space fits in 3 × steps is simulated exhaustively instead (possibly fewer
            than ``steps`` vectors). Non-numeric values come from the nearest anchor at or below
            d; an explicit parameter wins (e.g. ``families="counter"``).
"""

from __future__ import annotations

import math
import random
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from rlvr.core import DifficultyTable, Task, TaskGenerator
from rlvr.verifiers.verilog import ANSWER_FORMAT, module_ports

COMBINATIONAL = ("adder", "comparator", "mux", "decoder", "priority", "popcount", "parity", "alu", "bitmanip", "truthtable")
SEQUENTIAL = ("counter", "shiftreg", "edge", "seqdet", "fsm", "handshake")
FAMILIES = COMBINATIONAL + SEQUENTIAL
BASIC_FAMILIES = ("adder", "comparator", "mux", "decoder", "parity", "popcount", "counter", "shiftreg", "edge")
MIDDLE_FAMILIES = BASIC_FAMILIES + ("priority", "bitmanip", "seqdet")
FORMATS = ("prose", "table", "waveform")
RESET_STYLES = ("sync-high", "sync-low", "async-high", "async-low")
TRUTH_TABLE_MAX_BITS = 6
RESET_PROBABILITY = 0.04
SPECIAL_FRACTION = 0.3
MAX_STEPS_FACTOR = 3
EXPLORE_STEPS_FACTOR = 5


# ---------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------


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
    style: str  # one of RESET_STYLES

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
            return (f"{self.name} is an asynchronous, {level} reset: as soon as it is asserted, and for as long as "
                    f"it stays asserted, {action}, without waiting for a clock edge. It overrides everything else.")
        return (f"{self.name} is a synchronous, {level} reset: when it is asserted at a rising edge of clk, "
                f"{action}. It takes priority over everything else.")


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


# ---------------------------------------------------------------------------------------------
# Combinational families
# ---------------------------------------------------------------------------------------------


def sample_adder(rng: random.Random, p: dict) -> dict:
    op = rng.choice(["add", "sub"] if p["ports"] <= 1 else ["add", "sub", "addsub"])
    return {"W": p["width"], "op": op, "carry_in": p["ports"] >= 2 and op != "addsub", "overflow": p["ports"] >= 3}


def build_adder(s: dict) -> Design:
    w, op = s["W"], s["op"]
    top = mask(w)
    cin = {"add": "cin", "sub": "bin"}.get(op) if s["carry_in"] else None
    result, carry = {"add": ("sum", "cout"), "sub": ("diff", "bout"), "addsub": ("result", "cout")}[op]
    inputs = [("a", w), ("b", w)] + ([(cin, 1)] if cin else []) + ([("sub", 1)] if op == "addsub" else [])
    outputs = [(result, w), (carry, 1)] + ([("overflow", 1)] if s["overflow"] else [])
    extra = f" + {cin}" if cin and op == "add" else (f" - {cin}" if cin else "")
    if op == "add":
        total = f"{{1'b0, a}} + {{1'b0, b}}{extra}"
        signed_total = f"{{a[{w - 1}], a}} + {{b[{w - 1}], b}}{extra}"
    elif op == "sub":
        total = f"{{1'b0, a}} - {{1'b0, b}}{extra}"
        signed_total = f"{{a[{w - 1}], a}} - {{b[{w - 1}], b}}{extra}"
    else:
        total = f"{{1'b0, a}} + {{1'b0, b ^ {{{w}{{sub}}}}}} + sub"
        signed_total = f"{{a[{w - 1}], a}} + {{b[{w - 1}] ^ sub, b ^ {{{w}{{sub}}}}}} + sub"

    def body_text(bug: bool) -> str:
        lines = [f"  wire [{w}:0] total;", f"  assign total = {total};", f"  assign {result} = total[{w - 1}:0];",
                 f"  assign {carry} = total[{w - 1 if bug else w}];"]
        if s["overflow"]:
            lines += [f"  wire [{w}:0] signed_total;", f"  assign signed_total = {signed_total};",
                      f"  assign overflow = signed_total[{w}] ^ signed_total[{w - 1}];"]
        return "\n".join(lines) + "\n"

    def comb(u: dict) -> dict:
        a, b, c = u["a"], u["b"], u.get(cin, 0) if cin else 0
        if op == "add":
            t, st = a + b + c, to_signed(a, w) + to_signed(b, w) + c
        elif op == "sub":
            t, st = a - b - c, to_signed(a, w) - to_signed(b, w) - c
        else:
            sub = u["sub"]
            t = a + (b ^ (top if sub else 0)) + sub
            st = to_signed(a, w) - to_signed(b, w) if sub else to_signed(a, w) + to_signed(b, w)
        out = {result: t & top, carry: (t >> w) & 1 if op != "sub" else int(t < 0)}
        if s["overflow"]:
            out["overflow"] = int(not -(1 << (w - 1)) <= st < (1 << (w - 1)))
        return out

    if op == "add":
        text = (f"{result} is the low {w} bits of a + b{' + cin' if cin else ''} and {carry} is the carry out of that "
                f"addition (its bit {w}), i.e. {{{carry}, {result}}} = a + b{' + cin' if cin else ''}.")
    elif op == "sub":
        text = (f"{result} is the low {w} bits of a - b{' - bin' if cin else ''} (two's-complement wrap-around) and "
                f"{carry} is the borrow out: 1 exactly when a < b{' + bin' if cin else ''} as unsigned numbers.")
    else:
        text = (f"When sub is 0, {result} is the low {w} bits of a + b and {carry} is its carry out. When sub is 1, "
                f"the module computes a - b as a + ~b + 1: {result} is its low {w} bits and {carry} is its carry "
                f"out (so {carry} is 1 exactly when a >= b as unsigned numbers).")
    if s["overflow"]:
        text += (" overflow is 1 when the same operation on a and b read as two's-complement signed numbers "
                 f"{'(with the carry/borrow input as a plain 0 or 1) ' if cin else ''}has a true result outside "
                 f"[{-(1 << (w - 1))}, {(1 << (w - 1)) - 1}].")
    directed = []
    extras = [0, 1] if (cin or op == "addsub") else [0]
    for a in special_values(w):
        for b in (0, 1, top, 1 << (w - 1), a, top ^ a):
            for e in extras:
                vector = {"a": a, "b": b}
                if cin:
                    vector[cin] = e
                if op == "addsub":
                    vector["sub"] = e
                directed.append(vector)
    return Design("adder", inputs, outputs, body_text(False), body_text(True), text, comb=comb, directed=directed)


def sample_comparator(rng: random.Random, p: dict) -> dict:
    count = min(3, p["ports"])
    names = sorted(rng.sample(["eq", "lt", "gt"], count), key=["eq", "lt", "gt"].index)
    return {"W": p["width"], "signed": p["ports"] >= 2 and rng.random() < 0.5, "outputs": names}


def build_comparator(s: dict) -> Design:
    w, signed, names = s["W"], s["signed"], list(s["outputs"])
    a, b = ("$signed(a)", "$signed(b)") if signed else ("a", "b")
    exprs = {"eq": f"(a == b)", "lt": f"({a} < {b})", "gt": f"({a} > {b})"}
    bugs = {"eq": f"(a[{w - 2}:0] == b[{w - 2}:0])", "lt": f"({a} <= {b})", "gt": f"({a} >= {b})"}
    body = "".join(f"  assign {n} = {exprs[n]};\n" for n in names)
    bug = "".join(f"  assign {n} = {bugs[n] if i == 0 else exprs[n]};\n" for i, n in enumerate(names))

    def comb(u: dict) -> dict:
        x, y = (to_signed(u["a"], w), to_signed(u["b"], w)) if signed else (u["a"], u["b"])
        return {n: int({"eq": x == y, "lt": x < y, "gt": x > y}[n]) for n in names}

    kind = "two's-complement signed numbers" if signed else "unsigned numbers"
    words = {"eq": "eq is 1 when a equals b", "lt": "lt is 1 when a is less than b", "gt": "gt is 1 when a is greater than b"}
    text = f"Compare a and b as {kind}: " + "; ".join(words[n] for n in names) + ". Each output is 0 otherwise."
    top, msb = mask(w), 1 << (w - 1)
    pairs = [(x, x) for x in special_values(w)] + [(0, top), (top, 0), (msb, msb - 1), (msb - 1, msb), (0, msb), (msb, 0),
                                                   (1, 0), (0, 1), (top, top - 1), (top - 1, top), (msb, top), (top, msb)]
    return Design("comparator", [("a", w), ("b", w)], [(n, 1) for n in names], body, bug, text, comb=comb,
                  directed=[{"a": x, "b": y} for x, y in pairs])


def sample_mux(rng: random.Random, p: dict) -> dict:
    sel = p["selects"]
    n = 1 << sel
    if p["ports"] >= 2 and sel >= 2 and rng.random() < 0.5:
        n = rng.randint((1 << (sel - 1)) + 1, (1 << sel) - 1)
    return {"W": max(2, p["width"] // 2), "n": n, "sel": sel}


def build_mux(s: dict) -> Design:
    w, n, sw = s["W"], s["n"], s["sel"]

    def body_text(bug: bool) -> str:
        lines = ["  always @(*) begin", "    case (sel)"]
        for k in range(n):
            source = {0: 1, 1: 0}.get(k, k) if bug else k
            lines.append(f"      {sw}'d{k}: out = in{source};")
        if n < (1 << sw):
            lines.append(f"      default: out = {w}'d0;")
        lines += ["    endcase", "  end"]
        return "\n".join(lines) + "\n"

    def comb(u: dict) -> dict:
        return {"out": u[f"in{u['sel']}"] if u["sel"] < n else 0}

    text = f"out equals input in<k> where k is the value of sel (in0 when sel is 0, in1 when sel is 1, and so on)."
    if n < (1 << sw):
        text += f" When sel is {n} or more, out is 0."
    rows = [[k, f"in{k}" if k < n else "0"] for k in range(1 << sw)]
    table = "sel selects out:\n" + format_table(["sel", "out"], rows)
    inputs = [(f"in{k}", w) for k in range(n)] + [("sel", sw)]
    directed = []
    for k in range(1 << sw):
        directed.append({**{f"in{j}": (mask(w) if j == k else 0) for j in range(n)}, "sel": k})
        directed.append({**{f"in{j}": (0 if j == k else mask(w)) for j in range(n)}, "sel": k})
    return Design("mux", inputs, [("out", w)], body_text(False), body_text(True), text, regs=frozenset({"out"}),
                  table=table, comb=comb, directed=directed)


def sample_decoder(rng: random.Random, p: dict) -> dict:
    return {"n": p["selects"] + 1, "enable": p["ports"] >= 2, "active_low": p["ports"] >= 3 and rng.random() < 0.5}


def build_decoder(s: dict) -> Design:
    n, en, low = s["n"], s["enable"], s["active_low"]
    size = 1 << n
    idle, hot = ("1'b1", "1'b0") if low else ("1'b0", "1'b1")

    def body_text(bug: bool) -> str:
        index = "in" if (en or not bug) else f"~in"
        guard = "if (en) " if en and not bug else ""
        return (f"  always @(*) begin\n    out = {{{size}{{{idle}}}}};\n    {guard}out[{index}] = {hot};\n  end\n")

    def comb(u: dict) -> dict:
        value = (1 << u["in"]) if (u.get("en", 1) if en else 1) else 0
        return {"out": value ^ mask(size) if low else value}

    text = f"out is a one-hot decoding of in: bit k of out is {'0' if low else '1'} exactly when in equals k"
    text += f" and en is 1; all other bits are {'1' if low else '0'}" if en else f"; all other bits are {'1' if low else '0'}"
    text += f" (so out is {'all ones' if low else 0} when en is 0)." if en else "."
    inputs = [("in", n)] + ([("en", 1)] if en else [])
    directed = [{"in": v, **({"en": e} if en else {})} for v in range(size) for e in ((0, 1) if en else (1,))]
    return Design("decoder", inputs, [("out", size)], body_text(False), body_text(True), text, regs=frozenset({"out"}),
                  comb=comb, directed=directed)


def sample_priority(rng: random.Random, p: dict) -> dict:
    return {"N": p["width"], "highest": rng.random() < 0.5, "valid": p["ports"] >= 2}


def build_priority(s: dict) -> Design:
    n, highest, valid = s["N"], s["highest"], s["valid"]
    pw = clog2(n)

    def body_text(bug: bool) -> str:
        up = highest != bug
        loop = f"for (i = 0; i < {n}; i = i + 1)" if up else f"for (i = {n - 1}; i >= 0; i = i - 1)"
        text = f"  integer i;\n  always @(*) begin\n    pos = {pw}'d0;\n    {loop}\n      if (in[i]) pos = i;\n  end\n"
        if valid:
            text += "  assign valid = |in;\n"
        return text

    def comb(u: dict) -> dict:
        x = u["in"]
        set_bits = [i for i in range(n) if x >> i & 1]
        out = {"pos": (max(set_bits) if highest else min(set_bits)) if set_bits else 0}
        if valid:
            out["valid"] = int(bool(set_bits))
        return out

    which = "highest" if highest else "lowest"
    text = f"pos is the index of the {which} bit of in that is 1 (bit 0 is the least significant); when in is 0, pos is 0."
    if valid:
        text += " valid is 1 when at least one bit of in is 1, else 0."
    directed = [{"in": v} for v in special_values(n)] + [{"in": 1 << i} for i in range(n)]
    directed += [{"in": (1 << i) | 1} for i in range(n)] + [{"in": (1 << (n - 1)) | (1 << i)} for i in range(n)]
    outputs = [("pos", pw)] + ([("valid", 1)] if valid else [])
    return Design("priority", [("in", n)], outputs, body_text(False), body_text(True), text, regs=frozenset({"pos"}),
                  comb=comb, directed=directed)


def sample_popcount(rng: random.Random, p: dict) -> dict:
    n = p["width"]
    return {"N": n, "threshold": rng.randint(2, n - 1) if p["ports"] >= 2 else None}


def build_popcount(s: dict) -> Design:
    n, t = s["N"], s["threshold"]
    cw = clog2(n + 1)

    def body_text(bug: bool) -> str:
        text = (f"  integer i;\n  always @(*) begin\n    count = {cw}'d0;\n    for (i = 0; i < {n - 1 if bug else n}; i = i + 1)\n"
                f"      count = count + in[i];\n  end\n")
        if t is not None:
            text += f"  assign at_least = (count >= {cw}'d{t});\n"
        return text

    def comb(u: dict) -> dict:
        c = bin(u["in"]).count("1")
        return {"count": c, **({"at_least": int(c >= t)} if t is not None else {})}

    text = "count is the number of bits of in that are 1."
    if t is not None:
        text += f" at_least is 1 when that number is {t} or more, else 0."
    directed = [{"in": v} for v in special_values(n)] + [{"in": 1 << i} for i in range(n)]
    if t is not None:
        directed += [{"in": mask(t - 1)}, {"in": mask(t)}, {"in": mask(t) << (n - t)}]
    outputs = [("count", cw)] + ([("at_least", 1)] if t is not None else [])
    return Design("popcount", [("in", n)], outputs, body_text(False), body_text(True), text, regs=frozenset({"count"}),
                  comb=comb, directed=directed)


def sample_parity(rng: random.Random, p: dict) -> dict:
    n = p["width"]
    group = None
    if p["ports"] >= 3:
        group = next((g for g in (4, 3, 2) if n % g == 0 and n // g >= 2), None)
    return {"N": n, "odd": p["ports"] >= 2 and rng.random() < 0.5, "group": group}


def build_parity(s: dict) -> Design:
    n, odd, g = s["N"], s["odd"], s["group"]
    op = "~^" if odd else "^"

    def body_text(bug: bool) -> str:
        text = f"  assign parity = {op}in[{n - 1}:{1 if bug else 0}];\n"
        if g:
            text += (f"  integer i;\n  always @(*) begin\n    for (i = 0; i < {n // g}; i = i + 1)\n"
                     f"      groups[i] = {op}in[i*{g} +: {g}];\n  end\n")
        return text

    def par(x: int) -> int:
        return (bin(x).count("1") & 1) ^ int(odd)

    def comb(u: dict) -> dict:
        out = {"parity": par(u["in"])}
        if g:
            out["groups"] = sum(par(u["in"] >> (g * i) & mask(g)) << i for i in range(n // g))
        return out

    kind = "odd" if odd else "even"
    rule = ("1 when in has an even number of 1 bits" if odd else "1 when in has an odd number of 1 bits")
    text = f"parity is the {kind} parity bit of in: {rule}, so that in together with parity has an {kind} number of 1 bits."
    if g:
        text += f" groups[k] is the {kind} parity bit, by the same rule, of the {g}-bit group in[{g}*k+{g - 1}:{g}*k]."
    outputs = [("parity", 1)] + ([("groups", n // g)] if g else [])
    directed = [{"in": v} for v in special_values(n)] + [{"in": 1 << i} for i in range(n)]
    return Design("parity", [("in", n)], outputs, body_text(False), body_text(True), text,
                  regs=frozenset({"groups"}) if g else frozenset(), comb=comb, directed=directed)


ALU_OPS = {
    "ADD": ("a + b", "the sum a + b (low bits)"),
    "SUB": ("a - b", "the difference a - b (low bits, wrapping)"),
    "AND": ("a & b", "the bitwise AND of a and b"),
    "OR": ("a | b", "the bitwise OR of a and b"),
    "XOR": ("a ^ b", "the bitwise XOR of a and b"),
    "NOR": ("~(a | b)", "the bitwise NOR of a and b"),
    "NAND": ("~(a & b)", "the bitwise NAND of a and b"),
    "XNOR": ("~(a ^ b)", "the bitwise XNOR of a and b"),
    "SHL": ("a << 1", "a shifted left by one (a 0 enters at bit 0)"),
    "SHR": ("a >> 1", "a shifted right by one (a 0 enters at the top bit)"),
    "PASSA": ("a", "a"),
    "PASSB": ("b", "b"),
    "NOTA": ("~a", "the bitwise NOT of a"),
    "INC": ("a + 1", "a + 1 (wrapping)"),
    "DEC": ("a - 1", "a - 1 (wrapping)"),
    "SLT": ("{{W1{1'b0}}, a < b}", "1 if a < b as unsigned numbers, else 0"),
    "MIN": ("(a < b) ? a : b", "the smaller of a and b (unsigned)"),
    "MAX": ("(a > b) ? a : b", "the larger of a and b (unsigned)"),
}


def alu_value(name: str, a: int, b: int, w: int) -> int:
    top = mask(w)
    return {
        "ADD": a + b, "SUB": a - b, "AND": a & b, "OR": a | b, "XOR": a ^ b, "NOR": ~(a | b), "NAND": ~(a & b),
        "XNOR": ~(a ^ b), "SHL": a << 1, "SHR": a >> 1, "PASSA": a, "PASSB": b, "NOTA": ~a, "INC": a + 1,
        "DEC": a - 1, "SLT": int(a < b), "MIN": min(a, b), "MAX": max(a, b),
    }[name] & top


def sample_alu(rng: random.Random, p: dict) -> dict:
    op_bits = min(3, p["selects"] + 1) if p["selects"] < 3 else 4
    count = min(1 << op_bits, len(ALU_OPS))
    return {"W": p["width"], "op_bits": op_bits, "ops": rng.sample(sorted(ALU_OPS), count), "zero": p["ports"] >= 2}


def build_alu(s: dict) -> Design:
    w, ob, ops, zero = s["W"], s["op_bits"], list(s["ops"]), s["zero"]

    def expr(name: str) -> str:
        return ALU_OPS[name][0].replace("W1", str(w - 1))

    def body_text(bug: bool) -> str:
        lines = ["  always @(*) begin", "    case (op)"]
        for code, name in enumerate(ops):
            chosen = ops[{0: 1, 1: 0}.get(code, code)] if bug else name
            lines.append(f"      {ob}'d{code}: y = {expr(chosen)};")
        if len(ops) < (1 << ob):
            lines.append(f"      default: y = {w}'d0;")
        lines += ["    endcase", "  end"]
        if zero:
            lines.append(f"  assign zero = (y == {w}'d0);")
        return "\n".join(lines) + "\n"

    def comb(u: dict) -> dict:
        value = alu_value(ops[u["op"]], u["a"], u["b"], w) if u["op"] < len(ops) else 0
        return {"y": value, **({"zero": int(value == 0)} if zero else {})}

    rows = [[code, ALU_OPS[name][1]] for code, name in enumerate(ops)]
    if len(ops) < (1 << ob):
        rows.append([f"{len(ops)}..{(1 << ob) - 1}", "0"])
    table = f"y as a function of op (a and b are {w}-bit unsigned; results keep their low {w} bits):\n" + format_table(["op", "y"], rows)
    text = " ".join(f"When op is {code}, y is {ALU_OPS[name][1]}." for code, name in enumerate(ops))
    if len(ops) < (1 << ob):
        text += f" For any other op value, y is 0."
    text += f" All results keep their low {w} bits."
    if zero:
        text += " zero is 1 when y is 0, else 0."
        table += "\nzero is 1 when y is 0, else 0."
    top, msb = mask(w), 1 << (w - 1)
    alternating = int("01" * w, 2) & top
    pairs = [(0, 0), (top, top), (top, 1), (1, top), (msb, 1), (alternating, top ^ alternating), (3, 5), (msb, msb - 1), (top ^ alternating, alternating), (5, 3)]
    directed = [{"a": a, "b": b, "op": code} for code in range(1 << ob) for a, b in pairs]
    outputs = [("y", w)] + ([("zero", 1)] if zero else [])
    return Design("alu", [("a", w), ("b", w), ("op", ob)], outputs, body_text(False), body_text(True), text,
                  regs=frozenset({"y"}), table=table, comb=comb, directed=directed)


BITMANIP_OPS = ("reverse", "rotl", "rotr", "swap", "gray", "binary", "sext", "rotvar")
BITMANIP_OUTPUT = {"reverse": "rev", "rotl": "rotl", "rotr": "rotr", "swap": "swapped", "gray": "gray",
                   "binary": "binary", "sext": "sext", "rotvar": "rot"}


def sample_bitmanip(rng: random.Random, p: dict) -> dict:
    w = p["width"]
    pool = [op for op in BITMANIP_OPS if not (op == "swap" and w % 2) and not (op == "rotvar" and w & (w - 1))]
    ops = rng.sample(pool, min(p["ports"], len(pool)))
    return {"W": w, "ops": ops, "k": rng.randint(1, w - 2), "m": rng.randint(2, w - 2)}


def build_bitmanip(s: dict) -> Design:
    w, ops, k, m = s["W"], list(s["ops"]), s["k"], s["m"]
    h = w // 2
    aw = clog2(w)
    top = mask(w)

    def piece(op: str, bug: bool) -> tuple[str, str]:
        name = BITMANIP_OUTPUT[op]
        if op == "reverse":
            src = "in[i]" if bug else f"in[{w - 1} - i]"
            return (f"  integer i;\n  always @(*) begin\n    for (i = 0; i < {w}; i = i + 1)\n      {name}[i] = {src};\n  end\n", name)
        if op in ("rotl", "rotr"):
            kk = (k + 1 if k + 1 < w else k - 1) if bug else k
            if op == "rotl":
                return (f"  assign {name} = {{in[{w - 1 - kk}:0], in[{w - 1}:{w - kk}]}};\n", name)
            return (f"  assign {name} = {{in[{kk - 1}:0], in[{w - 1}:{kk}]}};\n", name)
        if op == "swap":
            return (f"  assign {name} = {'in' if bug else f'{{in[{h - 1}:0], in[{w - 1}:{h}]}}'};\n", name)
        if op == "gray":
            return (f"  assign {name} = in ^ (in {'<<' if bug else '>>'} 1);\n", name)
        if op == "binary":
            if bug:
                return (f"  always @(*) {name} = in ^ (in >> 1);\n", name)
            return (f"  integer j;\n  reg acc;\n  always @(*) begin\n    acc = 1'b0;\n    for (j = {w - 1}; j >= 0; j = j - 1) begin\n"
                    f"      acc = acc ^ in[j];\n      {name}[j] = acc;\n    end\n  end\n", name)
        if op == "sext":
            fill = "1'b0" if bug else f"in[{m - 1}]"
            return (f"  assign {name} = {{{{{w - m}{{{fill}}}}}, in[{m - 1}:0]}};\n", name)
        if op == "rotvar":
            shift = ">>" if bug else "<<"
            if bug:
                return (f"  wire [{2 * w - 1}:0] doubled;\n  assign doubled = {{in, in}} >> amt;\n  assign {name} = doubled[{w - 1}:0];\n", name)
            return (f"  wire [{2 * w - 1}:0] doubled;\n  assign doubled = {{in, in}} {shift} amt;\n  assign {name} = doubled[{2 * w - 1}:{w}];\n", name)
        raise ValueError(op)

    def body_text(bug: bool) -> str:
        return "".join(piece(op, bug and i == 0)[0] for i, op in enumerate(ops))

    def value(op: str, x: int, amt: int) -> int:
        if op == "reverse":
            return int(format(x, f"0{w}b")[::-1], 2)
        if op == "rotl":
            return ((x << k) | (x >> (w - k))) & top
        if op == "rotr":
            return ((x >> k) | (x << (w - k))) & top
        if op == "swap":
            return ((x & mask(h)) << h) | (x >> h)
        if op == "gray":
            return x ^ (x >> 1)
        if op == "binary":
            out, acc = 0, 0
            for i in range(w - 1, -1, -1):
                acc ^= x >> i & 1
                out |= acc << i
            return out
        if op == "sext":
            low = x & mask(m)
            return low | (top ^ mask(m)) if low >> (m - 1) & 1 else low
        if op == "rotvar":
            return ((x << amt) | (x >> (w - amt))) & top if amt else x
        raise ValueError(op)

    def comb(u: dict) -> dict:
        return {BITMANIP_OUTPUT[op]: value(op, u["in"], u.get("amt", 0)) for op in ops}

    words = {
        "reverse": f"rev is in with its bit order reversed: rev[i] = in[{w - 1} - i]",
        "rotl": f"rotl is in rotated left by {k} bits (bits leaving at the top re-enter at bit 0)",
        "rotr": f"rotr is in rotated right by {k} bits (bits leaving at bit 0 re-enter at the top)",
        "swap": f"swapped is in with its upper and lower {h}-bit halves exchanged",
        "gray": "gray is the Gray code of in read as a binary number: gray = in XOR (in shifted right by one)",
        "binary": "binary is the binary number whose Gray code is in: binary[i] is the XOR of in[i] and all higher bits of in",
        "sext": f"sext is the sign extension of the low {m} bits of in to {w} bits: sext[{m - 1}:0] = in[{m - 1}:0] and every higher bit of sext equals in[{m - 1}]",
        "rotvar": "rot is in rotated left by amt bits (0 to the width minus one)",
    }
    text = "; ".join(words[op] for op in ops) + "."
    inputs = [("in", w)] + ([("amt", aw)] if "rotvar" in ops else [])
    values = special_values(w) + [1 << i for i in range(w)] + [int("0011" * w, 2) & top]
    directed = [{"in": v, **({"amt": a} if "rotvar" in ops else {})} for v in values for a in ((0, 1, w - 1) if "rotvar" in ops else (0,))]
    outputs = [(BITMANIP_OUTPUT[op], w) for op in ops]
    regs = frozenset(BITMANIP_OUTPUT[op] for op in ops if op in ("reverse", "binary"))
    return Design("bitmanip", inputs, outputs, body_text(False), body_text(True), text, regs=regs, comb=comb, directed=directed)


TRUTH_INPUTS = "abcde"
TRUTH_OUTPUTS = "fgh"


def sample_truthtable(rng: random.Random, p: dict) -> dict:
    n = min(5, p["selects"] + 2)
    count = min(3, p["ports"])
    rows = 1 << n
    masks: list[int] = []
    while len(masks) < count:
        candidate = rng.getrandbits(rows)
        if candidate not in (0, mask(rows)) and candidate not in masks:
            masks.append(candidate)
    return {"n": n, "masks": masks}


def build_truthtable(s: dict) -> Design:
    n, masks = s["n"], list(s["masks"])
    names = [TRUTH_INPUTS[i] for i in range(n)]
    outs = [TRUTH_OUTPUTS[i] for i in range(len(masks))]
    concat_in = "{" + ", ".join(names) + "}"
    concat_out = "{" + ", ".join(outs) + "}" if len(outs) > 1 else outs[0]

    def row_value(row: int, bug: bool) -> int:
        value = 0
        for j, m in enumerate(masks):
            bit = m >> row & 1
            if bug and j == 0 and row == 0:
                bit ^= 1
            value = (value << 1) | bit
        return value

    def body_text(bug: bool) -> str:
        lines = ["  always @(*) begin", f"    case ({concat_in})"]
        for row in range(1 << n):
            lines.append(f"      {n}'d{row}: {concat_out} = {len(outs)}'b{bits(row_value(row, bug), len(outs))};")
        lines += ["    endcase", "  end"]
        return "\n".join(lines) + "\n"

    def comb(u: dict) -> dict:
        row = 0
        for name in names:
            row = (row << 1) | u[name]
        return {o: m >> row & 1 for o, m in zip(outs, masks)}

    order = f"{{{', '.join(names)}}} ({names[0]} is the most significant bit)"
    parts = []
    for o, m in zip(outs, masks):
        ones = [str(r) for r in range(1 << n) if m >> r & 1]
        parts.append(f"{o} is 1 exactly when the number {order} is one of {', '.join(ones)}; otherwise {o} is 0")
    text = ". ".join(parts) + "."
    rows = [[*bits(r, n)] + [m >> r & 1 for m in masks] for r in range(1 << n)]
    table = "Truth table (one row per input combination):\n" + format_table(names + outs, rows)
    directed = [{name: row >> (n - 1 - i) & 1 for i, name in enumerate(names)} for row in range(1 << n)]
    return Design("truthtable", [(x, 1) for x in names], [(o, 1) for o in outs], body_text(False), body_text(True), text,
                  regs=frozenset(outs), table=table, comb=comb, directed=directed)


# ---------------------------------------------------------------------------------------------
# Sequential families
# ---------------------------------------------------------------------------------------------


def sample_counter(rng: random.Random, p: dict, reset: str) -> dict:
    w = p["width"]
    load = w >= 6 or p["ports"] >= 3
    limit = 1 << w if load else min(1 << w, 24)
    direction = "up" if p["ports"] <= 1 else rng.choice(["up", "down"] if p["ports"] == 2 else ["up", "down", "input"])
    return {"W": w, "M": rng.randint(3, limit), "enable": p["ports"] >= 2, "direction": direction, "load": load, "reset": reset}


def build_counter(s: dict) -> Design:
    w, m, en, direction, load = s["W"], s["M"], s["enable"], s["direction"], s["load"]
    r = Reset(s["reset"])
    top = mask(w)
    inputs = ([("load", 1), ("d", w)] if load else []) + ([("ena", 1)] if en else []) + ([("up", 1)] if direction == "input" else [])

    def count_stmt(up: bool, bug: bool) -> str:
        if up:
            return f"q <= (q >= {w}'d{m - 1}) ? {w}'d{1 if bug else 0} : q + {w}'d1;"
        return f"q <= (q == {w}'d0) ? {w}'d{m - 2 if bug else m - 1} : q - {w}'d1;"

    def body_text(bug: bool) -> str:
        lines = [always_seq(r).rstrip("\n"), f"    if ({r.cond}) q <= {w}'d0;"]
        if load:
            lines.append("    else if (load) q <= d;")
        guard = "else if (ena)" if en else "else"
        if direction == "input":
            lines += [f"    {guard} begin", f"      if (up) {count_stmt(True, bug)}", f"      else {count_stmt(False, False)}", "    end"]
        else:
            lines.append(f"    {guard} {count_stmt(direction == 'up', bug)}")
        lines.append("  end")
        return "\n".join(lines) + "\n"

    def next_state(q: int, u: dict) -> int:
        if load and u["load"]:
            return u["d"]
        if en and not u["ena"]:
            return q
        up = u["up"] if direction == "input" else direction == "up"
        if up:
            return 0 if q >= m - 1 else (q + 1) & top
        return m - 1 if q == 0 else q - 1

    up_rule = f"if q is {m - 1} or more it wraps to 0, otherwise it becomes q + 1"
    down_rule = f"if q is 0 it wraps to {m - 1}, otherwise it becomes q - 1"
    counting = {"up": f"counts up modulo {m}: {up_rule}", "down": f"counts down modulo {m}: {down_rule}",
                "input": f"counts up when up is 1 ({up_rule}) and down when up is 0 ({down_rule})"}[direction]
    parts = [f"q is a {w}-bit counter register, updated at each rising edge of clk."]
    if load:
        parts.append("When load is 1, q takes the value of d" + (" (load has priority over ena)." if en else "."))
    if en:
        parts.append(f"Otherwise, when ena is 1, the counter {counting}; when ena is 0, q keeps its value.")
    else:
        parts.append(f"{'Otherwise the' if load else 'The'} counter {counting} at every rising edge.")
    text = " ".join(parts)
    rows = [[f"{r.name} asserted", "0"]]
    if load:
        rows.append(["load = 1", "d"])
    if en:
        rows.append(["ena = 0", "q (hold)"])
    if direction in ("up", "input"):
        rows.append([("up = 1, " if direction == "input" else "") + f"q >= {m - 1}", "0"])
        rows.append([("up = 1, " if direction == "input" else "") + f"q < {m - 1}", "q + 1"])
    if direction in ("down", "input"):
        rows.append([("up = 0, " if direction == "input" else "") + "q = 0", str(m - 1)])
        rows.append([("up = 0, " if direction == "input" else "") + "q > 0", "q - 1"])
    table = ("Value of q after each rising edge of clk; the first row whose condition holds applies (so every row "
             "assumes the conditions of the rows above it are false):\n" + format_table(["condition", "next q"], rows))
    base = {"load": 0, "d": 0} if load else {}
    if en:
        base["ena"] = 1
    directed = []
    for up in ((True, False) if direction == "input" else (direction == "up",)):
        start = (m - 3 if up else 2) if load else 0
        sequence = []
        if load:
            sequence.append({**base, "load": 1, "d": max(0, start), **({"up": int(up)} if direction == "input" else {})})
        run = 6 if load else m + 2
        sequence += [{**base, **({"up": int(up)} if direction == "input" else {})} for _ in range(run)]
        if en:
            sequence.insert(len(sequence) // 2, {**base, "ena": 0, **({"up": int(up)} if direction == "input" else {})})
        directed.append(sequence)
    bias = {"ena": 0.75, "load": 0.06, "up": 0.6}
    return Design("counter", inputs, [("q", w)], body_text(False), body_text(True), text, regs=frozenset({"q"}), table=table,
                  reset=r, reset_action="q becomes 0", reset_state=0, next_state=next_state, out=lambda q, u: {"q": q},
                  directed=directed, bias=bias)


def sample_shiftreg(rng: random.Random, p: dict, reset: str) -> dict:
    return {"W": p["width"], "left": rng.random() < 0.5, "enable": p["ports"] >= 2, "load": p["ports"] >= 3, "reset": reset}


def build_shiftreg(s: dict) -> Design:
    w, left, en, load = s["W"], s["left"], s["enable"], s["load"]
    r = Reset(s["reset"])
    inputs = ([("load", 1), ("d", w)] if load else []) + ([("ena", 1)] if en else []) + [("sin", 1)]

    def shift(bug: bool) -> str:
        return f"{{q[{w - 2}:0], sin}}" if left != bug else f"{{sin, q[{w - 1}:1]}}"

    def body_text(bug: bool) -> str:
        lines = [always_seq(r).rstrip("\n"), f"    if ({r.cond}) q <= {w}'d0;"]
        if load:
            lines.append("    else if (load) q <= d;")
        lines.append(f"    {'else if (ena)' if en else 'else'} q <= {shift(bug)};")
        lines.append("  end")
        return "\n".join(lines) + "\n"

    def next_state(q: int, u: dict) -> int:
        if load and u["load"]:
            return u["d"]
        if en and not u["ena"]:
            return q
        return ((q << 1) & mask(w)) | u["sin"] if left else (u["sin"] << (w - 1)) | (q >> 1)

    move = (f"shifts left by one: q[{w - 1}:1] takes the old q[{w - 2}:0] and q[0] takes sin" if left
            else f"shifts right by one: q[{w - 2}:0] takes the old q[{w - 1}:1] and q[{w - 1}] takes sin")
    parts = [f"q is a {w}-bit shift register, updated at each rising edge of clk."]
    if load:
        parts.append("When load is 1, q takes the value of d" + (" (load has priority over ena)." if en else "."))
    parts.append(("Otherwise, when ena is 1, q " if en else ("Otherwise q " if load else "At every rising edge q ")) + move
                 + ("; when ena is 0, q keeps its value." if en else "."))
    text = " ".join(parts)
    rows = [[f"{r.name} asserted", "0"]] + ([["load = 1", "d"]] if load else []) + ([["ena = 0", "q (hold)"]] if en else [])
    rows.append(["otherwise", f"{{q[{w - 2}:0], sin}}" if left else f"{{sin, q[{w - 1}:1]}}"])
    table = ("Value of q after each rising edge of clk; the first row whose condition holds applies (so every row "
             "assumes the conditions of the rows above it are false):\n" + format_table(["condition", "next q"], rows))
    base = {"load": 0, "d": 0} if load else {}
    if en:
        base["ena"] = 1
    walk = [{**base, "sin": 1}] + [{**base, "sin": 0} for _ in range(w + 1)]
    directed = [walk]
    if load:
        directed.append([{**base, "load": 1, "d": int("10" * w, 2) & mask(w), "sin": 0}] + [{**base, "sin": 1} for _ in range(3)])
    bias = {"ena": 0.75, "load": 0.06, "sin": 0.5}
    return Design("shiftreg", inputs, [("q", w)], body_text(False), body_text(True), text, regs=frozenset({"q"}), table=table,
                  reset=r, reset_action="q becomes 0", reset_state=0, next_state=next_state, out=lambda q, u: {"q": q},
                  directed=directed, bias=bias)


def sample_edge(rng: random.Random, p: dict, reset: str) -> dict:
    return {"N": max(2, p["width"] // 2), "kind": rng.choice(["rise", "fall", "any"]), "reset": reset}


def build_edge(s: dict) -> Design:
    n, kind = s["N"], s["kind"]
    r = Reset(s["reset"])
    exprs = {"rise": "in & ~prev", "fall": "~in & prev", "any": "in ^ prev"}
    bugs = {"rise": "in & prev", "fall": "~in & ~prev", "any": "in & ~prev"}

    def body_text(bug: bool) -> str:
        return (f"  reg [{n - 1}:0] prev;\n" + always_seq(r)
                + f"    if ({r.cond}) begin\n      prev <= {n}'d0;\n      pulse <= {n}'d0;\n    end\n"
                + f"    else begin\n      prev <= in;\n      pulse <= {bugs[kind] if bug else exprs[kind]};\n    end\n  end\n")

    def next_state(state: tuple, u: dict) -> tuple:
        prev, _ = state
        x = u["in"]
        value = {"rise": x & ~prev, "fall": ~x & prev, "any": x ^ prev}[kind] & mask(n)
        return (x, value)

    what = {"rise": "changed from 0 to 1", "fall": "changed from 1 to 0", "any": "changed (0 to 1 or 1 to 0)"}[kind]
    text = (f"The module keeps a copy of in sampled at the previous rising edge of clk. At each rising edge, pulse[i] becomes 1 "
            f"if in[i] {what} between the previous rising edge and this one (that is, the stored copy and the current in[i] "
            f"differ that way), and 0 otherwise; the copy is then updated. So pulse[i] is 1 for the one clock cycle after "
            f"the edge is seen.")
    cases = {"rise": [["0", "1", "1"], ["0", "0", "0"], ["1", "0", "0"], ["1", "1", "0"]],
             "fall": [["0", "1", "0"], ["0", "0", "0"], ["1", "0", "1"], ["1", "1", "0"]],
             "any": [["0", "1", "1"], ["0", "0", "0"], ["1", "0", "1"], ["1", "1", "0"]]}[kind]
    table = ("Per bit i, at each rising edge of clk (prev[i] is in[i] as sampled at the previous rising edge, 0 after reset; "
             "prev then takes in):\n" + format_table(["prev[i]", "in[i]", "pulse[i] after the edge"], cases))
    ones, alt = mask(n), int("01" * n, 2) & mask(n)
    directed = [[{"in": v} for v in (0, ones, ones, 0, 0, alt, ones ^ alt, alt, ones, 0)], [{"in": v} for v in (ones, 0, ones)]]
    return Design("edge", [("in", n)], [("pulse", n)], body_text(False), body_text(True), text, regs=frozenset({"pulse"}),
                  table=table, reset=r, reset_action="pulse and the stored copy of in become 0", reset_state=(0, 0),
                  next_state=next_state, out=lambda st, u: {"pulse": st[1]}, directed=directed)


def pattern_automaton(target: str, moore: bool, overlap: bool) -> tuple[list[list[int]], list]:
    """(next[state][bit], outputs): Moore outputs per state, Mealy per (state, bit)."""
    length = len(target)

    def longest(history: str, cap: int) -> int:
        for j in range(min(cap, len(history)), -1, -1):
            if history.endswith(target[:j]):
                return j
        return 0

    count = length + 1 if moore else length
    table, outputs = [], []
    for state in range(count):
        row, outs = [], []
        for bit in "01":
            if moore and state == length and not overlap:
                history = bit
            else:
                history = target[:state] + bit
            j = longest(history, length)
            if moore:
                row.append(j)
            elif j == length:
                outs.append(1)
                row.append(longest(history, length - 1) if overlap else 0)
            else:
                outs.append(0)
                row.append(j)
        table.append(row)
        outputs.append(int(state == length) if moore else outs)
    return table, outputs


def sample_seqdet(rng: random.Random, p: dict, reset: str) -> dict:
    length = p["states"]
    target = "".join(rng.choice("01") for _ in range(length))
    while len(set(target)) == 1 and length > 2:
        target = "".join(rng.choice("01") for _ in range(length))
    moore = True if p["ports"] <= 1 else rng.random() < 0.5
    overlap = True if p["ports"] <= 1 else rng.random() < 0.5
    return {"target": target, "moore": moore, "overlap": overlap, "reset": reset}


def fsm_body(r: Reset, table: list[list[int]], input_name: str, input_bits: int, outputs_text: str, bug: tuple | None) -> str:
    count = len(table)
    sw = clog2(count)
    names = ", ".join(f"S{k} = {sw}'d{k}" for k in range(count))
    lines = [f"  localparam {names};", f"  reg [{sw - 1}:0] state, next;", "  always @(*) begin", "    case (state)"]
    for state, row in enumerate(table):
        targets = [bug[2] if bug and bug[0] == state and bug[1] == v else t for v, t in enumerate(row)]
        if input_bits == 1:
            lines.append(f"      S{state}: next = {input_name} ? S{targets[1]} : S{targets[0]};")
        else:
            lines.append(f"      S{state}: case ({input_name})")
            lines += [f"        {input_bits}'d{v}: next = S{t};" for v, t in enumerate(targets)]
            lines.append("      endcase")
    if count < (1 << sw):
        lines.append("      default: next = S0;")
    lines += ["    endcase", "  end", always_seq(r).rstrip("\n"), f"    if ({r.cond}) state <= S0;", "    else state <= next;", "  end"]
    return "\n".join(lines) + "\n" + outputs_text


def build_seqdet(s: dict) -> Design:
    target, moore, overlap = s["target"], s["moore"], s["overlap"]
    r = Reset(s["reset"])
    length = len(target)
    table, outs = pattern_automaton(target, moore, overlap)
    if moore:
        output_text = f"  assign z = (state == S{length});\n"
        bug = (length - 1, int(target[-1]), 0)
    else:
        output_text = f"  assign z = (state == S{length - 1}) && ({'x' if target[-1] == '1' else '!x'});\n"
        bug = (length - 2, int(target[-2]), 0)

    def next_state(state: int, u: dict) -> int:
        return table[state][u["x"]]

    def out(state: int, u: dict) -> dict:
        return {"z": outs[state] if moore else outs[state][u["x"]]}

    overlap_text = ("Occurrences may overlap: the last bits of one occurrence can start the next." if overlap else
                    "Occurrences do not overlap: after a detection, the bits of that occurrence cannot be reused; the search starts afresh with the next bit.")
    if moore:
        timing = ("z is 1 during the whole clock cycle that follows the rising edge at which the last bit of an occurrence "
                  "was sampled, and 0 otherwise (a Moore output: it depends only on the state).")
    else:
        timing = ("z is 1, combinationally, while the bits sampled at the previous rising edges followed by the current value "
                  "of x complete an occurrence, and 0 otherwise (a Mealy output: it depends on the state and on x).")
    text = (f"The module watches the serial input x, sampled at each rising edge of clk, for the {length}-bit pattern "
            f"{target} (the leftmost bit arrives first). {timing} {overlap_text} After reset no bits have been seen.")
    if moore:
        rows = [[f"S{k}" + (" (reset)" if k == 0 else ""), f"S{row[0]}", f"S{row[1]}", outs[k]] for k, row in enumerate(table)]
        table_text = ("Moore state machine (the state encoding is up to you; only z is observed). At each rising edge the state "
                      "moves to the next state for the current x; z depends only on the current state:\n"
                      + format_table(["state", "next if x=0", "next if x=1", "z"], rows))
    else:
        rows = [[f"S{k}" + (" (reset)" if k == 0 else ""), f"S{row[0]}", f"S{row[1]}", outs[k][0], outs[k][1]] for k, row in enumerate(table)]
        table_text = ("Mealy state machine (the state encoding is up to you; only z is observed). At each rising edge the state "
                      "moves to the next state for the current x; z depends on the current state and the current x:\n"
                      + format_table(["state", "next if x=0", "next if x=1", "z if x=0", "z if x=1"], rows))
    pattern = [{"x": int(c)} for c in target]
    directed = [pattern + pattern + [{"x": int(c)} for c in target[1:]] + pattern, pattern[:-1] + pattern]
    return Design("seqdet", [("x", 1)], [("z", 1)], fsm_body(r, table, "x", 1, output_text, None),
                  fsm_body(r, table, "x", 1, output_text, bug), text, table=table_text, reset=r,
                  reset_action="the machine returns to its reset state (no bits seen)", reset_state=0,
                  next_state=next_state, out=out, directed=directed, explore=True,
                  chunk=lambda rng: [{"x": int(c)} for c in (target[rng.randrange(length):] if rng.random() < 0.5 else rng.choice("01"))])


def moore_is_minimal(table: list[list[int]], outs: list[int]) -> bool:
    classes = list(outs)
    while True:
        signature = [(classes[s], tuple(classes[t] for t in table[s])) for s in range(len(table))]
        numbering = {sig: i for i, sig in enumerate(sorted(set(signature)))}
        refined = [numbering[sig] for sig in signature]
        if len(set(refined)) == len(set(classes)):
            return len(set(refined)) == len(table)
        classes = refined


def reachable(table: list[list[int]]) -> set[int]:
    seen, queue = {0}, deque([0])
    while queue:
        for t in table[queue.popleft()]:
            if t not in seen:
                seen.add(t)
                queue.append(t)
    return seen


def sample_fsm(rng: random.Random, p: dict, reset: str) -> dict:
    k = p["states"]
    in_bits = 2 if p["ports"] >= 3 else 1
    out_bits = 2 if p["ports"] >= 2 else 1
    for _ in range(200):
        table = [[rng.randrange(k) for _ in range(1 << in_bits)] for _ in range(k)]
        outs = [rng.randrange(1 << out_bits) for _ in range(k)]
        if len(set(outs)) > 1 and len(reachable(table)) == k and moore_is_minimal(table, outs):
            break
    else:
        raise RuntimeError("no reachable, minimal state machine found in 200 draws")
    return {"next": table, "out": outs, "in_bits": in_bits, "out_bits": out_bits, "reset": reset}


def build_fsm(s: dict) -> Design:
    table = [list(row) for row in s["next"]]
    outs, ib, ob = list(s["out"]), s["in_bits"], s["out_bits"]
    r = Reset(s["reset"])
    k = len(table)
    output_lines = ["  always @(*) begin", "    case (state)"]
    output_lines += [f"      S{state}: y = {ob}'d{value};" for state, value in enumerate(outs)]
    if k < (1 << clog2(k)):
        output_lines.append(f"      default: y = {ob}'d0;")
    output_lines += ["    endcase", "  end"]
    output_text = "\n".join(output_lines) + "\n"
    bug = None
    for state in range(k):
        for value, t in enumerate(table[state]):
            other = next((c for c in range(k) if c != t and outs[c] != outs[t]), None)
            if bug is None and other is not None:
                bug = (state, value, other)
    text_rows = []
    for state, row in enumerate(table):
        moves = ", ".join(f"if x is {v} it goes to S{t}" for v, t in enumerate(row))
        text_rows.append(f"In state S{state}{' (the reset state)' if state == 0 else ''} the output y is {outs[state]}; at a rising edge of clk, {moves}.")
    text = (f"A Moore state machine with {k} states S0..S{k - 1} (encode them as you like; only y is observed). y depends only on "
            f"the current state. " + " ".join(text_rows))
    headers = ["state"] + [f"next if x={v}" for v in range(1 << ib)] + ["y"]
    rows = [[f"S{state}" + (" (reset)" if state == 0 else "")] + [f"S{t}" for t in row] + [outs[state]] for state, row in enumerate(table)]
    table_text = ("Moore state machine (state encoding is up to you; only y is observed). At each rising edge the state moves to the "
                  "next state for the current x; y depends only on the current state:\n" + format_table(headers, rows))

    def next_state(state: int, u: dict) -> int:
        return table[state][u["x"]]

    return Design("fsm", [("x", ib)], [("y", ob)], fsm_body(r, table, "x", ib, output_text, None),
                  fsm_body(r, table, "x", ib, output_text, bug), text, regs=frozenset({"y"}), table=table_text, reset=r,
                  reset_action="the machine goes to state S0", reset_state=0, next_state=next_state,
                  out=lambda state, u: {"y": outs[state]}, explore=True)


def sample_handshake(rng: random.Random, p: dict, reset: str) -> dict:
    kind = "reqack" if p["ports"] <= 1 else ("slice" if p["ports"] >= 3 else rng.choice(["reqack", "slice"]))
    return {"kind": kind, "W": max(2, p["width"] // 2), "D": rng.randint(2, 3 + p["ports"]), "reset": reset}


def build_handshake(s: dict) -> Design:
    r = Reset(s["reset"])
    if s["kind"] == "slice":
        w = s["W"]

        def body_text(bug: bool) -> str:
            ready = "!out_valid" if bug else "!out_valid || out_ready"
            return (f"  assign in_ready = {ready};\n" + always_seq(r)
                    + f"    if ({r.cond}) begin\n      out_valid <= 1'b0;\n      out_data <= {w}'d0;\n    end\n"
                    + "    else if (in_valid && in_ready) begin\n      out_valid <= 1'b1;\n      out_data <= in_data;\n    end\n"
                    + "    else if (out_ready) out_valid <= 1'b0;\n  end\n")

        def next_state(st: tuple, u: dict) -> tuple:
            valid, data = st
            if u["in_valid"] and (not valid or u["out_ready"]):
                return (1, u["in_data"])
            if u["out_ready"]:
                return (0, data)
            return st

        def out(st: tuple, u: dict) -> dict:
            return {"in_ready": int(not st[0] or u["out_ready"]), "out_valid": st[0], "out_data": st[1]}

        text = ("A one-entry register slice between a producer (in_valid, in_data, in_ready) and a consumer (out_valid, out_data, "
                "out_ready). in_ready is combinational: it is 1 when the slice is empty (out_valid is 0) or when the consumer takes "
                "the current entry in this cycle (out_ready is 1). At each rising edge of clk: if in_valid and in_ready are both 1, "
                "out_data takes in_data and out_valid becomes 1; otherwise, if out_ready is 1, out_valid becomes 0 (out_data keeps "
                "its value); otherwise nothing changes.")
        rows = [[f"{r.name} asserted", "0", "0"], ["in_valid = 1 and in_ready = 1", "1", "in_data"],
                ["else out_ready = 1", "0", "out_data (hold)"], ["otherwise", "out_valid (hold)", "out_data (hold)"]]
        table = ("in_ready = !out_valid || out_ready (combinational). Registers after each rising edge of clk, first row that "
                 "applies wins:\n" + format_table(["condition", "out_valid", "out_data"], rows))
        directed = [[{"in_valid": 1, "in_data": mask(w), "out_ready": 0}, {"in_valid": 1, "in_data": 1, "out_ready": 0},
                     {"in_valid": 1, "in_data": 2, "out_ready": 1}, {"in_valid": 1, "in_data": 3, "out_ready": 1},
                     {"in_valid": 0, "in_data": 0, "out_ready": 1}, {"in_valid": 0, "in_data": 0, "out_ready": 0}]]
        return Design("handshake", [("in_valid", 1), ("in_data", w), ("out_ready", 1)],
                      [("in_ready", 1), ("out_valid", 1), ("out_data", w)], body_text(False), body_text(True), text,
                      regs=frozenset({"out_valid", "out_data"}), table=table, reset=r,
                      reset_action="out_valid and out_data become 0", reset_state=(0, 0), next_state=next_state, out=out,
                      directed=directed, bias={"in_valid": 0.6, "out_ready": 0.6})
    d = s["D"]
    cw = clog2(d + 1)

    def body_text(bug: bool) -> str:
        return ("  localparam S_IDLE = 2'd0, S_BUSY = 2'd1, S_ACK = 2'd2;\n  reg [1:0] state;\n"
                f"  reg [{cw - 1}:0] count;\n" + always_seq(r)
                + f"    if ({r.cond}) begin\n      state <= S_IDLE;\n      count <= {cw}'d0;\n    end\n"
                + "    else case (state)\n"
                + f"      S_IDLE: if (req) begin\n        state <= S_BUSY;\n        count <= {cw}'d{d if bug else d - 1};\n      end\n"
                + f"      S_BUSY: if (count == {cw}'d0) state <= S_ACK;\n        else count <= count - {cw}'d1;\n"
                + "      S_ACK: if (!req) state <= S_IDLE;\n      default: state <= S_IDLE;\n    endcase\n  end\n"
                + "  assign busy = (state == S_BUSY);\n  assign ack = (state == S_ACK);\n")

    def next_state(st: tuple, u: dict) -> tuple:
        phase, count = st
        if phase == 0:
            return (1, d - 1) if u["req"] else st
        if phase == 1:
            return (2, count) if count == 0 else (1, count - 1)
        return (0, count) if not u["req"] else st

    text = (f"A four-phase request/acknowledge responder. While idle, busy and ack are 0. When req is 1 at a rising edge of clk "
            f"while idle, the module becomes busy: busy is 1 for exactly {d} clock cycle{'s' if d > 1 else ''} (starting right after "
            f"that edge), whatever req does. Then busy returns to 0 and ack becomes 1, and ack stays 1 until req is 0 at a rising "
            f"edge, after which the module is idle again (so a new request can be taken at the following rising edge).")
    rows = [["IDLE (reset)", "0", "0", "req = 1: BUSY (for " + str(d) + " cycles); else IDLE"],
            ["BUSY", "1", "0", f"ACK after {d} cycle{'s' if d > 1 else ''} in BUSY; else BUSY"],
            ["ACK", "0", "1", "req = 0: IDLE; else ACK"]]
    table = ("State machine; outputs depend only on the state, transitions happen at rising edges of clk:\n"
             + format_table(["state", "busy", "ack", "next state"], rows))
    directed = [[{"req": 1}] * (d + 3) + [{"req": 0}, {"req": 0}, {"req": 1}, {"req": 0}] + [{"req": 0}] * (d + 2)]
    return Design("handshake", [("req", 1)], [("busy", 1), ("ack", 1)], body_text(False), body_text(True), text, table=table,
                  reset=r, reset_action="the module becomes idle", reset_state=(0, 0), next_state=next_state,
                  out=lambda st, u: {"busy": int(st[0] == 1), "ack": int(st[0] == 2)}, directed=directed, bias={"req": 0.6})


SAMPLERS: dict[str, Callable] = {
    "adder": sample_adder, "comparator": sample_comparator, "mux": sample_mux, "decoder": sample_decoder,
    "priority": sample_priority, "popcount": sample_popcount, "parity": sample_parity, "alu": sample_alu,
    "bitmanip": sample_bitmanip, "truthtable": sample_truthtable, "counter": sample_counter, "shiftreg": sample_shiftreg,
    "edge": sample_edge, "seqdet": sample_seqdet, "fsm": sample_fsm, "handshake": sample_handshake,
}
BUILDERS: dict[str, Callable[[dict], Design]] = {
    "adder": build_adder, "comparator": build_comparator, "mux": build_mux, "decoder": build_decoder,
    "priority": build_priority, "popcount": build_popcount, "parity": build_parity, "alu": build_alu,
    "bitmanip": build_bitmanip, "truthtable": build_truthtable, "counter": build_counter, "shiftreg": build_shiftreg,
    "edge": build_edge, "seqdet": build_seqdet, "fsm": build_fsm, "handshake": build_handshake,
}


def build_design(family: str, spec: dict) -> Design:
    return BUILDERS[family](spec)


# ---------------------------------------------------------------------------------------------
# Model simulation, stimulus, tables
# ---------------------------------------------------------------------------------------------


def model_samples(design: Design, vectors: list[dict]) -> list[dict | None]:
    """The model's outputs at every sample the testbench takes (None: unknown, before a reset)."""
    if not design.sequential:
        return [design.comb(u) for u in vectors]
    r = design.reset
    state, samples = None, []
    for u in vectors:
        active = u[r.name] == r.active_value
        if r.asynchronous and active:
            state = design.reset_state
        samples.append(None if state is None else design.out(state, u))
        if active:
            state = design.reset_state
        elif state is not None:
            state = design.next_state(state, u)
        samples.append(None if state is None else design.out(state, u))
    return samples


def expected_outputs(design: Design, vectors: list[dict]) -> list[str]:
    """The model's outputs at every sample, packed (first output most significant) in hex;
    "x" where the model does not know them (before the first reset)."""
    out = []
    for sample in model_samples(design, vectors):
        if sample is None:
            out.append("x")
            continue
        value = 0
        for name, width in design.outputs:
            value = (value << width) | (sample[name] & mask(width))
        out.append(format(value, "x"))
    return out


def random_vector(design: Design, rng: random.Random) -> dict:
    vector = {}
    for name, width in design.inputs:
        if width == 1 and name in design.bias:
            vector[name] = int(rng.random() < design.bias[name])
        elif rng.random() < SPECIAL_FRACTION:
            vector[name] = rng.choice(special_values(width)) if width > 1 else rng.randrange(2)
        else:
            vector[name] = rng.getrandbits(width)
    return vector


def with_reset(design: Design, vector: dict, active: bool) -> dict:
    r = design.reset
    return {r.name: r.active_value if active else 1 - r.active_value, **vector}


def alphabet(design: Design) -> list[dict]:
    names = [(n, w) for n, w in design.inputs]
    total = sum(w for _, w in names)
    out = []
    for value in range(1 << total):
        vector, position = {}, total
        for name, width in names:
            position -= width
            vector[name] = value >> position & mask(width)
        out.append(vector)
    return out


def distinguishing_sequence(design: Design, a: Any, b: Any, letters: list[dict]) -> list[dict] | None:
    """The shortest inputs after which states a and b give different outputs (None: equivalent)."""
    parent: dict[tuple, tuple | None] = {(a, b): None}
    queue = deque([(a, b)])
    while queue:
        pair = queue.popleft()
        for letter in letters:
            x, y = pair
            if design.out(x, letter) != design.out(y, letter):
                path = [letter]
                cursor = pair
                while parent[cursor] is not None:
                    cursor, step = parent[cursor]
                    path.append(step)
                return path[::-1]
            nxt = (design.next_state(x, letter), design.next_state(y, letter))
            if nxt not in parent:
                parent[nxt] = (pair, letter)
                queue.append(nxt)
    return None


def coverage_sequences(design: Design) -> list[list[dict]]:
    """Transition tests of a small state machine (the W-method): for every (state, input)
    transition, the shortest path from reset to the state, the input, then a sequence that tells
    the target state apart from one other state — round by round, so the first round tests every
    transition once, the next round adds a second distinguishing sequence, and so on. A transition
    sent to a wrong state shows up as soon as the round holding the right sequence is included."""
    letters = alphabet(design)
    start = design.reset_state
    parent: dict[Any, tuple[Any, dict] | None] = {start: None}
    order, queue = [start], deque([start])
    while queue:
        state = queue.popleft()
        for letter in letters:
            nxt = design.next_state(state, letter)
            if nxt not in parent:
                parent[nxt] = (state, letter)
                order.append(nxt)
                queue.append(nxt)

    def path_to(state: Any) -> list[dict]:
        path: list[dict] = []
        while parent[state] is not None:
            state, letter = parent[state]
            path.append(letter)
        return path[::-1]

    suffixes: dict[Any, list[list[dict]]] = {}
    for state in order:
        found: list[list[dict]] = []
        for other in order:
            if other != state:
                sequence = distinguishing_sequence(design, state, other, letters)
                if sequence is not None and sequence not in found:
                    found.append(sequence)
        suffixes[state] = sorted(found, key=len) or [[letters[0]]]
    transitions = [(path_to(state) + [letter], design.next_state(state, letter)) for state in order for letter in letters]
    rounds = max(len(v) for v in suffixes.values())
    sequences = []
    for round_index in range(rounds):
        for prefix, target in transitions:
            options = suffixes[target]
            if round_index < len(options):
                sequences.append(prefix + options[round_index])
    return sequences


def make_stimulus(design: Design, rng: random.Random, steps: int) -> tuple[list[dict], int]:
    """(full input vectors per step, number of directed steps)."""
    cap = MAX_STEPS_FACTOR * steps
    if not design.sequential:
        space = 1 << sum(w for _, w in design.inputs)
        directed: list[dict] = []
        seen: set = set()
        for vector in design.directed:
            key = tuple(sorted(vector.items()))
            if key not in seen:
                seen.add(key)
                directed.append(vector)
        if space <= cap:
            everything = alphabet(design)
            rng.shuffle(everything)
            return directed + everything, len(directed)
        directed = directed[:cap]
        vectors = directed + [random_vector(design, rng) for _ in range(max(0, steps - len(directed)))]
        return vectors, len(directed)
    sequences = list(design.directed)
    if design.directed:  # a reset in the middle of activity: catches a missing or ignored reset
        first = design.directed[0]
        sequences.append(first[: max(1, len(first) // 2)] + [{"__reset__": 1}] + first)
    if design.explore:
        sequences += coverage_sequences(design)
        cap = EXPLORE_STEPS_FACTOR * steps
    vectors = [with_reset(design, random_vector(design, rng), True)]
    for sequence in sequences:
        if len(vectors) + len(sequence) + 1 > cap:
            break
        vectors.append(with_reset(design, random_vector(design, rng), True))
        vectors += [with_reset(design, {**random_vector(design, rng), **{k: v for k, v in step.items() if k != "__reset__"}}, "__reset__" in step)
                    for step in sequence]
    directed_steps = len(vectors)
    forced = rng.randrange(directed_steps, max(steps, directed_steps + 4)) if steps > directed_steps + 4 else None
    while len(vectors) < max(steps, directed_steps + 4):
        burst = design.chunk(rng) if design.chunk else [{}]
        for step in burst[: max(steps, directed_steps + 4) - len(vectors)]:
            active = rng.random() < RESET_PROBABILITY or len(vectors) == forced
            vectors.append(with_reset(design, {**random_vector(design, rng), **step}, active))
    return vectors, directed_steps


def pack(design: Design, vector: dict) -> str:
    value = 0
    total = 0
    for name, width in design.all_inputs():
        value = (value << width) | (vector[name] & mask(width))
        total += width
    return format(value, f"0{(total + 3) // 4}x")


def waveform_table(design: Design, rng: random.Random) -> str:
    if not design.sequential:
        vectors = list(design.directed[:4]) + [random_vector(design, rng) for _ in range(4)]
        rows = [[bits(u[n], w) for n, w in design.inputs] + [bits(design.comb(u)[n], w) for n, w in design.outputs] for u in vectors]
        return ("Examples (binary values):\n" + format_table([n for n, _ in design.inputs] + [n for n, _ in design.outputs], rows))
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
        rows.append([k] + [bits(u[n], w) for n, w in names] + [bits(before[n] if before else None, w) for n, w in design.outputs])
    return ("Example waveform, one row per clock cycle (binary values; x = unknown before the first reset takes effect). "
            "Inputs are held during the cycle; outputs are shown as they are just before the rising edge that ends the cycle, "
            "so the effect of that edge appears in the next row:\n"
            + format_table(["cycle"] + [n for n, _ in names] + [n for n, _ in design.outputs], rows))


def truth_table(design: Design) -> str | None:
    if design.sequential or sum(w for _, w in design.inputs) > TRUTH_TABLE_MAX_BITS:
        return None
    rows = [[bits(u[n], w) for n, w in design.inputs] + [bits(design.comb(u)[n], w) for n, w in design.outputs] for u in alphabet(design)]
    return "Complete truth table (binary values):\n" + format_table([n for n, _ in design.inputs] + [n for n, _ in design.outputs], rows)


def interface_text(design: Design) -> str:
    lines = []
    if design.reset:
        lines += ["  input  clk", f"  input  {design.reset.name}"]
    lines += [f"  input  {decl(w)}{n}".rstrip() for n, w in design.inputs]
    lines += [f"  output {decl(w)}{n}".rstrip() for n, w in design.outputs]
    return "\n".join(lines)


def make_prompt(design: Design, fmt: str, rng: random.Random) -> str:
    parts = ["Implement the Verilog module TopModule specified below.", "",
             "Interface (every port is an unsigned bit vector, bit 0 the least significant; ports without a range are 1 bit):",
             interface_text(design), ""]
    if design.sequential:
        parts.append("Clock and reset: the module is synchronous to the rising edge of clk. " + design.reset.prose(design.reset_action))
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


# ---------------------------------------------------------------------------------------------
# Mutations of a golden source
# ---------------------------------------------------------------------------------------------

_MUTATION_TOKEN = re.compile(
    r"(?P<space>\s+)|(?P<sized>\d+'[sS]?[bodhBODH][0-9a-fA-FxXzZ_]+)|(?P<number>\d+)|(?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)"
    r"|(?P<op>===|!==|==|!=|<=|>=|<<|>>|&&|\|\||~\^|\^~|\+:|[-+&|^<>~!?:=;,()\[\]{}@#*/%.'])"
)
BINARY_FLIPS = {"+": "-", "-": "+", "&": "|", "|": "&", "^": "|", "&&": "||", "||": "&&", "==": "!=", "!=": "==",
                "<": ">", ">": "<", ">=": ">", "<<": ">>", ">>": "<<"}
UNARY_FLIPS = {"~": "", "!": "", "&": "|", "|": "&", "^": "~^", "~^": "^"}
OPERAND_END = ("ident", "number", "sized")


@dataclass(frozen=True)
class Mutant:
    category: str  # operator | constant | bits | reset | fsm
    description: str
    source: str


def _sized_value(text: str) -> tuple[int, int]:
    width, rest = text.split("'", 1)
    rest = rest.lstrip("sS")
    base = {"b": 2, "o": 8, "d": 10, "h": 16}[rest[0].lower()]
    return int(width), int(rest[1:].replace("_", ""), base)


def _frozen_tokens(significant: list) -> set[int]:
    """Token indices no mutation touches: the step clause of ``for`` headers (mutating it makes
    non-terminating loops), ``localparam`` declarations (state re-encodings are equivalent
    unless they collide) and ``default`` case items (unreachable once reset)."""
    frozen: set[int] = set()
    count = len(significant)
    for i, (_, text, _) in enumerate(significant):
        if text == "for" and i + 1 < count and significant[i + 1][1] == "(":
            level, semicolons, j = 0, 0, i + 1
            while j < count:
                t = significant[j][1]
                level += t == "("
                level -= t == ")"
                if level == 0:
                    break
                if t == ";" and level == 1:
                    semicolons += 1
                elif semicolons == 2:
                    frozen.add(j)
                j += 1
        elif text == "localparam":
            j = i
            while j < count and significant[j][1] != ";":
                frozen.add(j)
                j += 1
        elif text == "default" and i + 1 < count and significant[i + 1][1] == ":":
            j, level = i + 2, 0
            while j < count:
                t = significant[j][1]
                frozen.add(j)
                level += t in ("begin", "case")
                level -= t in ("end", "endcase")
                if level <= 0 and t in (";", "end", "endcase"):
                    break
                j += 1
    return frozen


def _matching(significant: list, i: int, opening: str, closing: str) -> int:
    level = 0
    for j in range(i, len(significant)):
        level += significant[j][1] == opening
        level -= significant[j][1] == closing
        if level == 0:
            return j
    return len(significant) - 1


def mutate_source(source: str, reset_name: str | None = None) -> list[Mutant]:
    """Single mutations of a golden module's body (the port list is left alone): flipped
    operators, off-by-one constants, a neighbouring bit index, the first two elements of a
    right-hand-side concatenation swapped, the reset branch disabled, and FSM transitions sent to
    the next state."""
    header_end = source.index(");\n") + 3
    head, body = source[:header_end], source[header_end:]
    significant = [(m.lastgroup, m.group(), m.start()) for m in _MUTATION_TOKEN.finditer(body) if m.lastgroup != "space"]
    frozen = _frozen_tokens(significant)
    states = []
    for i, (_, text, _) in enumerate(significant):
        if text == "localparam":
            j = i + 1
            while j + 1 < len(significant) and significant[j][1] != ";":
                if significant[j][0] == "ident" and significant[j + 1][1] == "=":
                    states.append(significant[j][1])
                j += 1
    mutants: list[Mutant] = []

    def replace(start: int, end: int, text: str, category: str, description: str) -> None:
        mutated = head + body[:start] + text + body[end:]
        if mutated != source:
            mutants.append(Mutant(category, description, mutated))

    depth = 0
    for i, (kind, text, start) in enumerate(significant):
        if text == "[":
            depth += 1
        elif text == "]":
            depth -= 1
        if i in frozen:
            continue
        previous = significant[i - 1] if i else (None, "", 0)
        following = significant[i + 1] if i + 1 < len(significant) else (None, "", 0)
        line = body.count("\n", 0, start) + 1
        if text == "[" and following[0] == "number" and i + 2 < len(significant) and significant[i + 2][1] == "]":
            k = int(following[1])
            other = k - 1 if k > 0 else k + 1
            replace(following[2], following[2] + len(following[1]), str(other), "bits", f"line {line}: bit [{k}] → [{other}]")
        if kind == "op" and text in BINARY_FLIPS | UNARY_FLIPS:
            binary = previous[0] in OPERAND_END or previous[1] in (")", "]", "}")
            flips = BINARY_FLIPS if binary else UNARY_FLIPS
            if text in flips and not (text == "-" and not binary):
                replace(start, start + len(text), flips[text], "operator", f"line {line}: {text} → {flips[text] or '(removed)'}")
        if depth == 0 and kind == "number" and following[1] != "{":
            value = int(text)
            replace(start, start + len(text), str(value + 1), "constant", f"line {line}: {value} → {value + 1}")
        if depth == 0 and kind == "sized":
            width, value = _sized_value(text)
            new = (value + 1) & mask(width)
            replace(start, start + len(text), f"{width}'d{new}", "constant", f"line {line}: {text} → {width}'d{new}")
        replication = following[0] == "number" and i + 2 < len(significant) and significant[i + 2][1] == "{"
        if text == "{" and previous[0] != "number" and not replication:
            close = _matching(significant, i, "{", "}")
            after = significant[close + 1][1] if close + 1 < len(significant) else ""
            elements, level, element_start = [], 0, following[2]
            for j in range(i + 1, close + 1):
                t = significant[j][1]
                if j == close or (t == "," and level == 0):
                    elements.append((element_start, significant[j][2]))
                    if j + 1 <= close:
                        element_start = significant[j + 1][2]
                    continue
                level += t in ("(", "{", "[")
                level -= t in (")", "}", "]")
            if len(elements) >= 2 and after not in ("=", "<="):
                (a0, a1), (b0, b1) = elements[0], elements[1]
                first, second = body[a0:a1].strip(), body[b0:b1].strip()
                if first != second:
                    replace(a0, a0 + len(body[a0:b1].rstrip()), f"{second}, {first}", "bits",
                            f"line {line}: concatenation {{{first}, {second}, …}} → {{{second}, {first}, …}}")
        if reset_name and text == "if" and following[1] == "(":
            close = _matching(significant, i + 1, "(", ")")
            if reset_name in [t[1] for t in significant[i + 2:close]]:
                replace(following[2], significant[close][2] + 1, "(1'b0)", "reset", f"line {line}: reset branch removed")
        if kind == "ident" and text in states and previous[1] in ("=", "<=", "?", ":") and len(states) > 1:
            other = states[(states.index(text) + 1) % len(states)]
            replace(start, start + len(text), other, "fsm", f"line {line}: transition to {text} → {other}")
    unique, seen = [], set()
    for mutant in mutants:
        if mutant.source not in seen:
            seen.add(mutant.source)
            unique.append(mutant)
    return unique


# ---------------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------------


def parse_list(text: str, known: tuple[str, ...], what: str) -> list[str]:
    items = [item.strip() for item in str(text).split(",") if item.strip()]
    unknown = [item for item in items if item not in known]
    if unknown or not items:
        raise ValueError(f"unknown {what} {unknown or text!r}; known: {', '.join(known)}")
    return items


class VerilogGenerator(TaskGenerator):
    family = "verilog"
    env_id = "rlvr/Verilog-v0"
    table = DifficultyTable(
        {
            0.0: {"families": ",".join(BASIC_FAMILIES), "width": 4, "selects": 1, "ports": 1, "states": 3,
                  "resets": "sync-high", "formats": "prose", "steps": 48},
            0.25: {"families": ",".join(MIDDLE_FAMILIES), "width": 6, "selects": 2, "ports": 2, "states": 4,
                   "resets": "sync-high,sync-low", "formats": "prose", "steps": 72},
            0.5: {"families": ",".join(FAMILIES), "width": 8, "selects": 2, "ports": 2, "states": 5,
                  "resets": "sync-high,sync-low,async-high", "formats": "prose,waveform", "steps": 96},
            0.75: {"families": ",".join(FAMILIES), "width": 12, "selects": 3, "ports": 3, "states": 6,
                   "resets": "sync-high,sync-low,async-high", "formats": "waveform,table", "steps": 128},
            1.0: {"families": ",".join(FAMILIES), "width": 16, "selects": 3, "ports": 3, "states": 7,
                  "resets": ",".join(RESET_STYLES), "formats": "table,waveform", "steps": 160},
        }
    )

    def build(self, rng: random.Random, nprng: np.random.Generator, params: dict) -> dict:
        families = parse_list(params["families"], FAMILIES, "family")
        resets = parse_list(params["resets"], RESET_STYLES, "reset style")
        formats = parse_list(params["formats"], FORMATS, "format")
        for key, low, high in (("width", 4, 32), ("selects", 1, 3), ("ports", 1, 3), ("states", 3, 9), ("steps", 8, 5000)):
            if not (isinstance(params[key], int) and low <= params[key] <= high):
                raise ValueError(f"{key} must be an integer in [{low}, {high}], got {params[key]!r}")
        family = rng.choice(families)
        sampler = SAMPLERS[family]
        spec = sampler(rng, params, rng.choice(resets)) if family in SEQUENTIAL else sampler(rng, params)
        design = build_design(family, spec)
        fmt = rng.choice(formats)
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

    def wrong_response(self, task: Task) -> str:
        return f"Here is the module.\n\n```verilog\n{self.design_of(task).module('TopModule', bug=True)}```\n"

    def attacks(self, task: Task) -> list[tuple[str, Any]]:
        """``reference_attacks`` with this family's testbench names, less the constant and
        echo modules that the expected outputs show would be right."""
        inputs = [(str(n), int(w)) for n, w in task.answer["inputs"]]
        outputs = [(str(n), int(w)) for n, w in task.answer["outputs"]]
        in_width, out_width = sum(w for _, w in inputs), sum(w for _, w in outputs)
        per_step = 2 if task.answer["clock"] else 1
        echoes = [int(v, 16) & mask(out_width) for v in task.answer["vectors"] for _ in range(per_step)] if in_width else None
        constants = {"constant-zero": 0, "constant-ones": mask(out_width)}

        def solves(values: list[int] | None) -> bool:
            return values is not None and all(e == "x" or int(e, 16) == v for e, v in zip(task.answer["expected"], values))

        samples = len(task.answer["expected"])
        skip = {name for name, value in constants.items() if solves([value] * samples)}
        if solves(echoes):
            skip.add("echo-inputs")
        names = {"root": "rlvr_tb", "instance": "ref_inst", "file": "ref.sv"}
        return [(name, response) for name, response in reference_attacks(task.answer["ref"], names) if name not in skip]


# ---------------------------------------------------------------------------------------------
# Attacks (shared with VerilogEval)
# ---------------------------------------------------------------------------------------------


def _fenced(source: str) -> str:
    return f"```verilog\n{source.strip()}\n```\n"


def reference_attacks(ref: str, names: dict[str, str], extra_includes: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Hostile TopModules for a task whose reference is ``ref`` (module RefModule): reaching the
    reference (instances spelt many ways, bind, config, defparam, `include, hierarchical and
    $root names using the testbench's usual names ``names["root"]``/``names["instance"]``),
    spoofing the report (printing verdict or trace lines, stderr, an early $finish, $fatal, a
    zero-delay loop, a flood of output), constant outputs, an echo of the inputs, an oversize
    and a deeply nested source. None of them implements the specification."""
    header = re.search(r"\bmodule\s+RefModule\b(.*?\));", ref, re.DOTALL)
    header_text = re.sub(r"\boutput\s+(reg|logic)\b", "output wire", header.group(1) if header else "();")
    ports = list(module_ports(ref, "RefModule").items())
    inputs = [name for name, direction in ports if direction == "input"]
    outputs = [name for name, direction in ports if direction != "input"]
    top = f"module TopModule{header_text};"
    named = ", ".join(f".{name}({name})" for name, _ in ports)
    out_concat = "{" + ", ".join(outputs) + "}" if outputs else "{dummy_unused}"

    def module(body: str, before: str = "", after: str = "") -> str:
        return _fenced(f"{before}\n{top}\n{body}\nendmodule\n{after}")

    zero = f"  assign {out_concat} = '0;"
    root, instance = names["root"], names["instance"]
    attacks = [
        ("instantiate-reference", module(f"  RefModule reference_copy ({named});")),
        ("instantiate-reference-wildcard", module("  RefModule reference_copy (.*);")),
        ("instantiate-reference-escaped", module(f"  \\RefModule  reference_copy ({named});")),
        ("instantiate-reference-macro", module("  `REFERENCE reference_copy (.*);", before="`define REFERENCE RefModule")),
        ("instantiate-reference-generate", module(f"  generate if (1) begin : copy\n    RefModule reference_copy ({named});\n  end endgenerate")),
        ("instantiate-reference-defparam", module(f"  RefModule reference_copy ({named});\n  defparam reference_copy.UNUSED = 1;")),
        ("include-reference", module("  RefModule reference_copy (.*);", before=f'`include "{names["file"]}"')),
        *[(f"include-reference-path-{k}", module("  RefModule reference_copy (.*);", before=f'`include "{path}"'))
          for k, path in enumerate(extra_includes)],
        ("bind-reference", module(zero, after="bind TopModule RefModule reference_copy (.*);")),
        ("config-reference", module("  Placeholder reference_copy (.*);",
                                    after="config swap;\n  design TopModule;\n  instance TopModule.reference_copy use RefModule;\nendconfig")),
        ("hierarchical-root", module("\n".join(f"  assign {o} = $root.{root}.{instance}.{o};" for o in outputs))),
        ("hierarchical-upward", module("\n".join(f"  assign {o} = {instance}.{o};" for o in outputs))),
        ("hierarchical-testbench", module("\n".join(f"  assign {o} = {root}.{o}_ref;" for o in outputs))),
        ("print-pass-report", module(zero + '\n  initial $display("Mismatches: 0 in 1 samples");')),
        ("print-fake-trace", module(zero + '\n  initial begin\n    $display("RLVR000000000000 0 0");\n'
                                    '    $display("RLVR000000000000 done 1 1");\n  end')),
        ("print-stderr", module(zero + '\n  initial $fdisplay(32\'h8000_0002, "correct: all samples match");')),
        ("finish-early", module(zero + "\n  initial #1 $finish;")),
        ("fatal", module(zero + '\n  initial $fatal(1, "done");')),
        ("output-flood", module(zero + '\n  initial forever #1 $display("Mismatches: 0 in 1 samples");')),
        ("zero-delay-loop", module(zero + "\n  reg spin = 1'b0;\n  initial forever #0 spin = ~spin;")),
        ("constant-zero", module(zero)),
        ("constant-ones", module(f"  assign {out_concat} = '1;")),
        ("constant-x", module(f"  assign {out_concat} = 'x;")),
        ("constant-z", module(f"  assign {out_concat} = 'z;")),
        ("echo-inputs", module(f"  assign {out_concat} = {{{', '.join(inputs)}}};" if inputs else zero)),
        ("oversize-source", module(zero + "\n" + "// padding\n" * 25_000)),
        ("deep-nesting", module(f"  assign {out_concat} = " + "(" * 60_000 + "1'b0" + ")" * 60_000 + ";")),
        ("deep-blocks", module(zero + "\n  initial " + "begin " * 15_000 + "end " * 15_000)),
    ]
    return attacks


def mutants(task: Task) -> list[Mutant]:
    """Single mutations of the task's golden module, renamed TopModule."""
    design = VerilogGenerator.design_of(task)
    source = design.module("TopModule")
    return mutate_source(source, design.reset.name if design.reset else None)


def vectors_of(task: Task) -> list[dict]:
    """The task's stimulus unpacked into per-step input dicts."""
    inputs = [(n, int(w)) for n, w in task.answer["inputs"]]
    total = sum(w for _, w in inputs)
    out = []
    for text in task.answer["vectors"]:
        value, position, vector = int(text, 16), total, {}
        for name, width in inputs:
            position -= width
            vector[name] = value >> position & mask(width)
        out.append(vector)
    return out


@dataclass(frozen=True)
class MutantResult:
    mutant: Mutant
    first_mismatch: int | None  # first failing sample, None when the mutant survived


def measure_mutants(task: Task, verifier: Any) -> tuple[list[MutantResult], Any]:
    """Simulate the golden module, the ``wrong_response`` bug and every single mutation of the
    task in one sandboxed run (``VerilogVerifier.simulate_many``: trusted sources, compared with
    the task's expected outputs). Returns the per-mutant results and the raw Measurement (dut 0:
    golden, dut 1: bug, dut k ≥ 2: mutant k − 2)."""
    design = VerilogGenerator.design_of(task)
    found = mutants(task)
    sources = [design.module("TopModule"), design.module("TopModule", bug=True)] + [m.source for m in found]
    sim = verifier.simulate_many(task.answer, sources)
    if not sim.finished:
        raise RuntimeError(f"mutant simulation failed: {sim.error}")
    results = []
    for k, mutant in enumerate(found, start=2):
        mismatches, first = sim.duts[k]
        results.append(MutantResult(mutant, first if mismatches else None))
    return results, sim
