"""Mutation analysis of the stimulus: ``mutate_source`` lists the single mutations of a golden
module (flipped operator, off-by-one constant, neighbouring bit index, swapped concatenation,
reset branch removed, FSM transition redirected), ``mutants(task)`` those of a task's golden
module renamed TopModule, and ``measure_mutants(task, verifier)`` simulates the golden module,
the ``wrong_response`` bug and every mutant in one sandboxed run and reports which mutants the
task's stimulus kills (the tests' and ``benchmarks/bench_verilog.py``'s kill rates)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rlvr.core import Task
from rlvr.generators.verilog.design import mask
from rlvr.generators.verilog.families import build_design
from rlvr.generators.verilog.lexer import matching, significant_tokens, sized_value

BINARY_FLIPS = {
    "+": "-",
    "-": "+",
    "&": "|",
    "|": "&",
    "^": "|",
    "&&": "||",
    "||": "&&",
    "==": "!=",
    "!=": "==",
    "<": ">",
    ">": "<",
    ">=": ">",
    "<<": ">>",
    ">>": "<<",
}
UNARY_FLIPS = {"~": "", "!": "", "&": "|", "|": "&", "^": "~^", "~^": "^"}
OPERAND_END = ("ident", "number", "sized")


@dataclass(frozen=True)
class Mutant:
    category: str  # operator | constant | bits | reset | fsm
    description: str
    source: str


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


def mutate_source(source: str, reset_name: str | None = None) -> list[Mutant]:
    """Single mutations of a golden module's body (the port list is left alone): flipped
    operators, off-by-one constants, a neighbouring bit index, the first two elements of a
    right-hand-side concatenation swapped, the reset branch disabled, and FSM transitions sent to
    the next state."""
    header_end = source.index(");\n") + 3
    head, body = source[:header_end], source[header_end:]
    significant = significant_tokens(body)
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
            replace(
                following[2],
                following[2] + len(following[1]),
                str(other),
                "bits",
                f"line {line}: bit [{k}] → [{other}]",
            )
        if kind == "op" and text in BINARY_FLIPS | UNARY_FLIPS:
            binary = previous[0] in OPERAND_END or previous[1] in (")", "]", "}")
            flips = BINARY_FLIPS if binary else UNARY_FLIPS
            if text in flips and not (text == "-" and not binary):
                replace(
                    start,
                    start + len(text),
                    flips[text],
                    "operator",
                    f"line {line}: {text} → {flips[text] or '(removed)'}",
                )
        if depth == 0 and kind == "number" and following[1] != "{":
            value = int(text)
            replace(start, start + len(text), str(value + 1), "constant", f"line {line}: {value} → {value + 1}")
        if depth == 0 and kind == "sized":
            width, value = sized_value(text)
            new = (value + 1) & mask(width)
            replace(start, start + len(text), f"{width}'d{new}", "constant", f"line {line}: {text} → {width}'d{new}")
        replication = following[0] == "number" and i + 2 < len(significant) and significant[i + 2][1] == "{"
        if text == "{" and previous[0] != "number" and not replication:
            close = matching(significant, i, "{", "}")
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
                    replace(
                        a0,
                        a0 + len(body[a0:b1].rstrip()),
                        f"{second}, {first}",
                        "bits",
                        f"line {line}: concatenation {{{first}, {second}, …}} → {{{second}, {first}, …}}",
                    )
        if reset_name and text == "if" and following[1] == "(":
            close = matching(significant, i + 1, "(", ")")
            if reset_name in [t[1] for t in significant[i + 2 : close]]:
                replace(
                    following[2], significant[close][2] + 1, "(1'b0)", "reset", f"line {line}: reset branch removed"
                )
        if kind == "ident" and text in states and previous[1] in ("=", "<=", "?", ":") and len(states) > 1:
            other = states[(states.index(text) + 1) % len(states)]
            replace(start, start + len(text), other, "fsm", f"line {line}: transition to {text} → {other}")
    unique, seen = [], set()
    for mutant in mutants:
        if mutant.source not in seen:
            seen.add(mutant.source)
            unique.append(mutant)
    return unique


def mutants(task: Task) -> list[Mutant]:
    """Single mutations of the task's golden module, renamed TopModule."""
    design = build_design(task.meta["family"], task.meta["spec"])
    source = design.module("TopModule")
    return mutate_source(source, design.reset.name if design.reset else None)


@dataclass(frozen=True)
class MutantResult:
    mutant: Mutant
    first_mismatch: int | None  # first failing sample, None when the mutant survived


def measure_mutants(task: Task, verifier: Any) -> tuple[list[MutantResult], Any]:
    """Simulate the golden module, the ``wrong_response`` bug and every single mutation of the
    task in one sandboxed run (``VerilogVerifier.simulate_many``: trusted sources, compared with
    the task's expected outputs). Returns the per-mutant results and the raw Measurement (dut 0:
    golden, dut 1: bug, dut k ≥ 2: mutant k − 2)."""
    design = build_design(task.meta["family"], task.meta["spec"])
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
