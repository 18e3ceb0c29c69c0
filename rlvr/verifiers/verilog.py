"""Verilog verifier: compile the model's module with Icarus Verilog, simulate it next to a golden
reference under a testbench the model never sees, and read the result from a line it cannot forge.

Input       A ``Task`` of rlvr/Verilog-v0 (``task.answer["kind"] == "generated"``) or
            rlvr/VerilogEval-v0 (``"verilog-eval"``), and the model's whole response.
            generated:    {"kind", "ref": RefModule source, "inputs": [[name, width], ...] (clock
                          excluded, first = most significant in each packed vector), "outputs":
                          [[name, width], ...], "clock": "clk" or null, "vectors": [hex string per
                          step: the packed inputs]}.
            verilog-eval: {"kind", "problem", "ref": the problem's ``_ref.sv``, "test": its
                          ``_test.sv``}.
Extraction  The last fenced block tagged ```verilog (also ```systemverilog, ```sv) after the
            reasoning (``rlvr.core.strip_think``); fences pair left to right in one linear pass.
            None: reward 0, ``format_ok=False``.
Screening   Before anything runs, the source is lexed (comments and strings set aside) and refused
            (reward 0, the reason says which rule) when it
              * calls a system task or function outside ``ALLOWED_SYSTEM_FUNCTIONS`` (pure
                functions such as $signed, $clog2, $bits): so no $display/$write/$monitor, no
                $finish/$stop/$fatal, no $fopen/$readmem/$system/$value$plusargs;
              * uses a compiler directive other than ``ALLOWED_DIRECTIVES`` or a macro it did not
                define itself (so no `include, no `ifdef regions); a `define body must not hold
                '.', '`', '\\', '/*' or a string (macros cannot assemble a hierarchical name,
                a directive or a comment that Icarus's preprocessor would read differently);
              * names anything through a hierarchy (``a.b``, ``u[0].q``, ```M.x``): the only way
                to read or force another module's signals;
              * has a backslash outside strings (escaped identifiers, line continuations),
                control characters, non-ASCII code, an unterminated string or comment;
              * uses ``bind``, ``config``, ``library``, ``program``, ``checker``, ``class`` or a
                DPI ``import "…"``;
              * declares a module named RefModule, a testbench module, a name starting with
                ``rlvr_``, or no ``TopModule`` at all.
Testbench   generated: written per run (``generated_testbench``): every name in it ends in the
            run's nonce; inputs are applied at the start of each step; a combinational design is
            compared once per step (5 time units later), a sequential one just before and just
            after each rising clock edge (period 10). The reference and the candidate get the
            same inputs through non-assignable expressions (``a | 1'b0``), so a candidate that
            declares an input as output or inout fails to elaborate instead of driving X into the
            reference. Comparison follows VerilogEval: ``ref === (ref ^ dut ^ ref)`` — an X in
            the reference matches anything, an X in the candidate only an X.
            The stimulus travels in a data file the testbench reads with $readmemh.
            verilog-eval: the problem's own testbench, hardened per run (``harden_eval_testbench``):
            its modules, instances, tasks, functions and named blocks get the nonce suffix (Icarus
            resolves tasks and ``disable`` targets upwards, so a candidate could otherwise call
            or disable them), the inputs of both TopModule and RefModule become ``(x) | 1'b0``
            (both, so that the extra delta cycle cannot create a race between them), and every
            ``$display`` line is prefixed with ``RLVR<nonce>``.
Running     One sandbox run (``rlvr.verifiers.sandbox``, bwrap by default) per candidate:
            ``iverilog -g2012 -s <testbench> tb.sv ref.sv top.sv && vvp -n sim.vvp -none`` with
            the candidate compiled last (its `define/`timescale cannot reach the testbench).
Verdict     Read only from lines that start with ``RLVR<nonce>``, a fresh 48-bit random value
            known to the host and written only into the testbench, which the candidate can neither
            read (no file or plusarg access) nor print (no system tasks). The completion sentinel
            must be there and report every expected sample: an early end, a crash, a zero-delay
            loop or a runaway simulation (killed at ``sim_wall_s``) scores 0. Compile errors
            score 0 with the first error line in the reason; when the compile fails the reference
            is compiled in the candidate's place (compile only, once per problem per verifier)
            and, if it fails too, the verdict says "tool error" (format_ok=True,
            details["tool_error"]=True). A VerilogEval testbench's own ``TIMEOUT`` line is
            ignored, as VerilogEval does (two references print it): its Mismatches report counts.
Why both    The screen is what stops forgery: with no system task the candidate prints nothing,
            ends nothing and reads no file, and with no hierarchical name and a nonce-named
            testbench it can neither read nor force the reference's or the testbench's state. The
            nonce and the sentinel cover what the screen does not see: simulator messages that
            quote the candidate's identifiers, a crash or early end before the report, and stale
            or partial output; a result without the nonce line counts as no result.
Reward      1 when every sample matches, else 0; ``partial=True``: 1 − mismatches / samples.
            ``details``: samples, mismatches, first_mismatch (generated: step, phase, inputs,
            expected and got per output), compile_error, tool_error, wall_s.
Options     ``partial`` (default False), ``deadline_s`` (default 20: the sandbox run is limited to
            ``deadline_s − 4`` s of wall time, a tool-error check can add one more short run).
Cache       Verdicts are memoised per (answer, source, partial) — up to ``cache_size`` entries,
            not tool errors or time-outs — so a GRPO group with repeated responses simulates once.
"""

from __future__ import annotations

import collections
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

from rlvr.core import SafeVerifier, Task, Verdict, strip_think
from rlvr.verifiers.sandbox import Limits, RunResult, Sandbox

ALLOWED_SYSTEM_FUNCTIONS = frozenset(
    {
        "signed", "unsigned", "clog2", "bits", "size", "high", "low", "left", "right", "increment",
        "dimensions", "unpacked_dimensions", "countones", "countbits", "onehot", "onehot0",
        "isunknown", "time", "stime", "realtime", "rtoi", "itor", "realtobits", "bitstoreal",
    }
)
ALLOWED_DIRECTIVES = frozenset(
    {"timescale", "default_nettype", "define", "undef", "undefineall", "resetall", "celldefine", "endcelldefine"}
)
FORBIDDEN_KEYWORDS = frozenset({"bind", "config", "library", "program", "checker", "class"})
RESERVED_PREFIX = "rlvr_"
MAX_SOURCE_CHARS = 200_000
SENTINEL = "RLVR"
STIMULUS_FILE = "stimulus.hex"
COMPILE_EXIT = 97

ANSWER_FORMAT = (
    "Answer format: reply with the complete Verilog code of module `TopModule` (and any helper "
    "modules it instantiates) in one fenced code block that starts with ```verilog; if there are "
    "several such blocks, only the last one is graded. Write synthesizable Verilog-2005 or "
    "SystemVerilog. Not allowed (the answer scores 0): system tasks and functions other than "
    "$signed, $unsigned, $clog2, $bits and $countones (so no $display, $finish or $random), "
    "compiler directives other than `timescale, `default_nettype and `define (so no `include or "
    "`ifdef), hierarchical references such as a.b, and a module named RefModule."
)

# ---------------------------------------------------------------------------------------------
# Extraction and screening
# ---------------------------------------------------------------------------------------------

_FENCE_OPEN = re.compile(r"```[ \t]*(?:(verilog|systemverilog|sv)|[^\n`]*)[ \t]*\r?\n", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TOKEN = re.compile(
    r"""
      (?P<comment>//[^\n]*|/\*.*?\*/)
    | (?P<open_comment>/\*)
    | (?P<string>"(?:[^"\\\n]|\\[^\n])*")
    | (?P<open_string>")
    | (?P<based>'\s*[sS]?[bBoOdDhH]\s*[0-9a-fA-FxXzZ?_]+)
    | (?P<number>[0-9][0-9_]*(?:\.[0-9][0-9_]*)?(?:[eE][+-]?[0-9][0-9_]*)?)
    | (?P<system>\$[A-Za-z0-9_$]*)
    | (?P<directive>`[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<space>\s+)
    | (?P<punct>::|.)
    """,
    re.DOTALL | re.VERBOSE | re.ASCII,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int


def lex(source: str) -> list[Token]:
    """Every token of ``source`` (comments and whitespace included), in order."""
    return [Token(m.lastgroup or "punct", m.group(), m.start()) for m in _TOKEN.finditer(source)]


def extract_verilog(response: str) -> str | None:
    """The last ```verilog fenced block after the reasoning, with CRLF line ends made LF.

    Fences are paired left to right in one pass (an opening fence, any language, closes at the
    next ```), so a response made of many unclosed fences costs linear time."""
    text = strip_think(response)
    blocks, position = [], 0
    while True:
        start = text.find("```", position)
        if start < 0:
            break
        opening = _FENCE_OPEN.match(text, start)
        content_start = opening.end() if opening else start + 3
        end = text.find("```", content_start)
        if end < 0:
            break
        if opening and opening.group(1):
            blocks.append(text[content_start:end])
        position = end + 3
    return blocks[-1].replace("\r\n", "\n") if blocks else None


@dataclass(frozen=True)
class Screen:
    reason: str | None  # None: accepted
    modules: tuple[str, ...] = ()


def _line_of(source: str, position: int) -> int:
    return source.count("\n", 0, position) + 1


class _Line:
    """A line number computed only when a message shows it."""

    def __init__(self, source: str, position: int):
        self.source, self.position = source, position

    def __format__(self, spec: str) -> str:
        return format(_line_of(self.source, self.position), spec)


def screen_verilog(source: str, reserved: Sequence[str] = ()) -> Screen:
    """Refuse sources that could print, end the simulation, read files, reach the testbench or
    replace the reference (see the module docstring); accept everything else."""
    if len(source) > MAX_SOURCE_CHARS:
        return Screen(f"the Verilog source is too long ({len(source)} characters; limit {MAX_SOURCE_CHARS})")
    bad = _CONTROL.search(source)
    if bad is not None:
        return Screen(f"control character {bad.group()!r} on line {_line_of(source, bad.start())}")
    tokens: list[Token] = []
    for match in _TOKEN.finditer(source):  # stops at the first unterminated comment or string
        kind = match.lastgroup or "punct"
        if kind not in ("space", "comment"):
            tokens.append(Token(kind, match.group(), match.start()))
        if kind in ("open_comment", "open_string"):
            break
    defined: set[str] = set()
    modules: list[str] = []
    reserved_set = set(reserved) | {"RefModule"}
    for index, token in enumerate(tokens):
        line = _Line(source, token.start)
        previous = tokens[index - 1] if index else None
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        kind, text = token.kind, token.text
        if kind == "open_comment":
            return Screen(f"unterminated /* comment on line {line}")
        if kind == "open_string":
            return Screen(f"unterminated string on line {line}")
        if kind == "system" and text[1:] not in ALLOWED_SYSTEM_FUNCTIONS:
            return Screen(f"system task or function {text or '$'} on line {line} is not allowed")
        if kind == "directive":
            name = text[1:]
            if name == "define":
                if following is None or following.kind != "ident":
                    return Screen(f"`define without a macro name on line {line}")
                end = source.find("\n", following.start)
                body = source[following.start + len(following.text): end if end >= 0 else len(source)]
                if any(part in body for part in (".", "`", "\\", "/*", '"')):
                    return Screen(f"the body of macro `{following.text} on line {line} holds '.', '`', '\\', '/*' or a string")
                defined.add(following.text)
            elif name not in ALLOWED_DIRECTIVES and name not in defined:
                return Screen(f"compiler directive or macro `{name} on line {line} is not allowed")
        if kind == "punct":
            if text == "`":
                return Screen(f"stray backtick on line {line}")
            if text == "\\":
                return Screen(f"backslash outside a string on line {line} (escaped identifiers are not allowed)")
            if ord(text[0]) > 127:
                return Screen(f"non-ASCII character {text!r} in code on line {line}")
            if text == "." and previous is not None and following is not None:
                before = previous.kind in ("ident", "directive") or previous.text in (")", "]")
                after = following.kind in ("ident", "directive")
                if before and after:
                    return Screen(f"hierarchical reference {previous.text}.{following.text} on line {line} is not allowed")
        if kind == "ident":
            if text in FORBIDDEN_KEYWORDS:
                return Screen(f"keyword {text!r} on line {line} is not allowed")
            if text == "import" and following is not None and following.kind == "string":
                return Screen(f"DPI import on line {line} is not allowed")
            if text in ("module", "macromodule", "primitive"):
                position = index + 1
                while position < len(tokens) and tokens[position].text in ("automatic", "static"):
                    position += 1
                if position < len(tokens) and tokens[position].kind == "ident":
                    name = tokens[position].text
                    if name in reserved_set:
                        what = "the reference" if name == "RefModule" else "a testbench module"
                        return Screen(f"module {name} on line {line} redefines {what}")
                    if name.startswith(RESERVED_PREFIX):
                        return Screen(f"module name {name} on line {line} uses the reserved prefix {RESERVED_PREFIX}")
                    modules.append(name)
    if "TopModule" not in modules:
        return Screen("no module named TopModule", tuple(modules))
    return Screen(None, tuple(modules))


# ---------------------------------------------------------------------------------------------
# Testbenches
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bench:
    """A testbench ready to compile: its source, its root module, what the sentinel must report."""

    text: str
    top: str
    expected_samples: int | None  # None: whatever the testbench reports (VerilogEval)
    reserved: tuple[str, ...] = ()
    data: tuple[tuple[str, str], ...] = ()  # (file name, content) the testbench reads


def samples_per_step(answer: dict) -> int:
    return 2 if answer.get("clock") else 1


def generated_testbench(answer: dict, nonce: str, duts: Sequence[str] = ("TopModule",), trace: bool = False) -> Bench:
    """The testbench of a generated task: the reference and each module in ``duts`` on shared
    inputs; prints ``RLVR<nonce> first k step phase inputs ref dut`` at dut k's first mismatch,
    ``RLVR<nonce> done samples`` and ``RLVR<nonce> dut k mismatches first`` at the end
    (and ``RLVR<nonce> trace sample ref`` per sample when ``trace``)."""
    n = nonce
    inputs = [(str(name), int(width)) for name, width in answer["inputs"]]
    outputs = [(str(name), int(width)) for name, width in answer["outputs"]]
    clock = answer.get("clock")
    vectors = answer["vectors"]
    in_width = sum(w for _, w in inputs)
    steps = len(vectors)
    top = f"rlvr_tb_{n}"
    lines = ["`timescale 1ns/1ps", f"module {top};"]
    lines.append(f"  reg [{in_width - 1}:0] vec_{n} [0:{steps - 1}];")
    for name, width in inputs:
        lines.append(f"  reg [{width - 1}:0] in_{name}_{n};")
    if clock:
        lines.append(f"  reg clk_{n};")
    roles = ["ref"] + [f"d{k}" for k in range(len(duts))]
    for role in roles:
        for name, width in outputs:
            lines.append(f"  wire [{width - 1}:0] {role}_{name}_{n};")
    lines.append(f"  integer i_{n}, samples_{n};")
    for k in range(len(duts)):
        lines.append(f"  integer mism{k}_{n}, first{k}_{n};")

    def instance(module: str, role: str) -> str:
        connections = []
        if clock:
            connections.append(f".{clock}(clk_{n} | 1'b0)")
        connections += [f".{name}(in_{name}_{n} | 1'b0)" for name, _ in inputs]
        connections += [f".{name}({role}_{name}_{n})" for name, _ in outputs]
        return f"  {module} {role}_inst_{n} (" + ", ".join(connections) + ");"

    lines.append(instance("RefModule", "ref"))
    for k, module in enumerate(duts):
        lines.append(instance(module, f"d{k}"))
    packed_inputs = "{" + ", ".join(f"in_{name}_{n}" for name, _ in inputs) + "}"
    ref_outputs = "{" + ", ".join(f"ref_{name}_{n}" for name, _ in outputs) + "}"

    def check(phase: int) -> list[str]:
        out = [f"    samples_{n} = samples_{n} + 1;"]
        if trace:
            out.append(f'    $display("{SENTINEL}{n} trace %0d %b", samples_{n} - 1, {ref_outputs});')
        for k in range(len(duts)):
            dut_outputs = "{" + ", ".join(f"d{k}_{name}_{n}" for name, _ in outputs) + "}"
            out += [
                f"    if (!({ref_outputs} === ({ref_outputs} ^ {dut_outputs} ^ {ref_outputs}))) begin",
                f"      if (first{k}_{n} < 0) begin",
                f"        first{k}_{n} = samples_{n} - 1;",
                f'        $display("{SENTINEL}{n} first {k} %0d {phase} %b %b %b", i_{n}, {packed_inputs}, {ref_outputs}, {dut_outputs});',
                "      end",
                f"      mism{k}_{n} = mism{k}_{n} + 1;",
                "    end",
            ]
        return out

    lines.append("  initial begin")
    lines.append(f'    $readmemh("{STIMULUS_FILE}", vec_{n});')
    lines.append(f"    samples_{n} = 0;")
    for k in range(len(duts)):
        lines.append(f"    mism{k}_{n} = 0; first{k}_{n} = -1;")
    if clock:
        lines.append(f"    clk_{n} = 1'b0;")
    lines.append(f"    for (i_{n} = 0; i_{n} < {steps}; i_{n} = i_{n} + 1) begin")
    lines.append(f"      {packed_inputs} = vec_{n}[i_{n}];")
    if clock:
        lines.append("      #4;")
        lines += check(0)
        lines.append(f"      #1 clk_{n} = 1'b1;")
        lines.append("      #4;")
        lines += check(1)
        lines.append(f"      #1 clk_{n} = 1'b0;")
    else:
        lines.append("      #5;")
        lines += check(0)
        lines.append("      #5;")
    lines.append("    end")
    lines.append(f'    $display("{SENTINEL}{n} done %0d", samples_{n});')
    for k in range(len(duts)):
        lines.append(f'    $display("{SENTINEL}{n} dut {k} %0d %0d", mism{k}_{n}, first{k}_{n});')
    lines.append("    $finish;")
    lines.append("  end")
    lines.append("endmodule")
    stimulus = "".join(f"{vector}\n" for vector in vectors)
    return Bench("\n".join(lines) + "\n", top, steps * samples_per_step(answer), (top,), ((STIMULUS_FILE, stimulus),))


def module_ports(source: str, module: str) -> dict[str, str]:
    """{port name: direction} of an ANSI-style module header in ``source``."""
    tokens = [t for t in lex(source) if t.kind not in ("space", "comment")]
    for index, token in enumerate(tokens):
        if token.text == "module" and index + 1 < len(tokens) and tokens[index + 1].text == module:
            break
    else:
        raise ValueError(f"module {module} not found")
    position = index + 2
    while position < len(tokens) and tokens[position].text != "(":
        if tokens[position].text == ";":
            return {}
        position += 1
    depth, item, items = 0, [], []
    for token in tokens[position + 1:]:
        if token.text in ("(", "[", "{"):
            depth += 1
        elif token.text in (")", "]", "}"):
            if depth == 0:
                items.append(item)
                break
            depth -= 1
        if token.text == "," and depth == 0:
            items.append(item)
            item = []
            continue
        item.append(token)
    ports, direction = {}, "input"
    for item in items:
        if item and item[0].text in ("input", "output", "inout"):
            direction = item[0].text
        names = [t.text for t in item if t.kind == "ident" and t.text not in _DECLARATION_WORDS]
        if names:
            ports[names[-1]] = direction
    return ports


_DECLARATION_WORDS = frozenset(
    {"input", "output", "inout", "wire", "reg", "logic", "bit", "signed", "unsigned", "var", "integer", "int", "tri", "byte", "shortint", "longint"}
)
_INSTANCE = re.compile(r"^[ \t]*([A-Za-z_]\w*)\s+(?:#\s*\([^;]*?\)\s*)?([A-Za-z_]\w*)\s*\(", re.MULTILINE)
_TASK = re.compile(r"\b(?:task|function)\s+(?:(?:automatic|static)\s+)?(?:[^;(]*?\s)?([A-Za-z_]\w*)\s*[;(]")
_BLOCK = re.compile(r"\b(?:begin|fork)\s*:\s*([A-Za-z_]\w*)")
_MODULE = re.compile(r"\bmodule\s+([A-Za-z_]\w*)")


def harden_eval_testbench(test: str, ref: str, nonce: str) -> Bench:
    """A VerilogEval ``_test.sv`` made safe to run next to an untrusted TopModule (see the module
    docstring). Raises ValueError when the testbench is not in the expected shape."""
    suffix = f"_{RESERVED_PREFIX}{nonce}"
    modules = set(_MODULE.findall(test))
    known = modules | {"RefModule", "TopModule"}
    names = set(modules) | set(_TASK.findall(test)) | set(_BLOCK.findall(test))
    tops = []
    for match in _INSTANCE.finditer(test):
        if match.group(1) in known:
            names.add(match.group(2))
    for module in modules:
        body = re.search(rf"\bmodule\s+{module}\b(.*?)\bendmodule\b", test, re.DOTALL)
        if body and re.search(r"\bTopModule\b", body.group(1)):
            tops.append(module)
    if len(tops) != 1:
        raise ValueError(f"expected one testbench module instantiating TopModule, found {len(tops)}")
    names -= {"RefModule", "TopModule"}
    directions = module_ports(ref, "RefModule")
    pieces = []
    for token in lex(test):
        pieces.append(token.text + suffix if token.kind == "ident" and token.text in names else token.text)
    text = "".join(pieces)
    text = re.sub(r'\$display\s*\(\s*"', f'$display("{SENTINEL}{nonce} ', text)
    if len(re.findall(rf'"{SENTINEL}{nonce} Mismatches:', text)) != 1:
        raise ValueError("the testbench has no single 'Mismatches:' report")
    for module in ("RefModule", "TopModule"):
        text = _guard_inputs(text, module, directions)
    return Bench(text, tops[0] + suffix, None, tuple(sorted(modules | {m + suffix for m in modules})))


def _guard_inputs(text: str, module: str, directions: dict[str, str]) -> str:
    """Rewrite the (single) instance of ``module``: each input connection ``.x`` or ``.x(e)``
    becomes ``.x((e) | 1'b0)``, an expression that cannot be driven from inside the module."""
    instance = re.search(rf"\b{module}\s+([A-Za-z_]\w*)\s*\((.*?)\)\s*;", text, re.DOTALL)
    if instance is None:
        raise ValueError(f"no {module} instance with named connections")
    rewritten = []
    for connection in _split_top_level(instance.group(2)):
        stripped = connection.strip()
        match = re.fullmatch(r"\.([A-Za-z_]\w*)\s*(?:\((.*)\))?", stripped, re.DOTALL)
        if match is None:
            raise ValueError(f"unsupported {module} connection {stripped!r}")
        port, expression = match.group(1), match.group(2)
        expression = port if expression is None else expression.strip()
        if directions.get(port) == "input":
            rewritten.append(f".{port}(({expression}) | 1'b0)")
        else:
            rewritten.append(f".{port}({expression})")
    replacement = f"{module} {instance.group(1)} (" + ", ".join(rewritten) + ");"
    return text[: instance.start()] + replacement + text[instance.end():]


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def build_bench(answer: dict, nonce: str, duts: Sequence[str] = ("TopModule",), trace: bool = False) -> Bench:
    kind = answer.get("kind")
    if kind == "generated":
        return generated_testbench(answer, nonce, duts, trace)
    if kind == "verilog-eval":
        if tuple(duts) != ("TopModule",) or trace:
            raise ValueError("VerilogEval testbenches take exactly one TopModule and no trace")
        return harden_eval_testbench(answer["test"], answer["ref"], nonce)
    raise ValueError(f"unknown Verilog task kind {kind!r}")


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


@dataclass
class Simulation:
    """What one sandboxed compile-and-simulate run produced, read through the nonce."""

    compiled: bool
    finished: bool  # the sentinel line came
    timed_out: bool
    compile_error: str = ""
    runtime_error: str = ""
    samples: int = 0
    duts: dict = field(default_factory=dict)  # k -> (mismatches, first sample or -1)
    firsts: dict = field(default_factory=dict)  # k -> first-mismatch line fields
    trace: list = field(default_factory=list)  # (sample, ref bits)
    lines: list = field(default_factory=list)  # the nonce lines, prefix removed
    wall_s: float = 0.0


def first_error_line(stderr: str, nonce: str) -> str:
    lines = [line.replace(f"_{RESERVED_PREFIX}{nonce}", "").replace(f"_{nonce}", "").strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    for pattern in (r"\berror\b|syntax error", r"sorry|not found|unable|cannot"):
        for line in lines:
            if re.search(pattern, line, re.IGNORECASE):
                return line[:300]
    return lines[0][:300] if lines else "compilation failed"


def run_bench(sandbox: Sandbox, bench: Bench, ref: str, sources: dict[str, str], nonce: str, wall_s: float,
              compile_only: bool = False) -> Simulation:
    """Compile ``tb.sv ref.sv`` and the given candidate files (in order, after them) and simulate."""
    files = {**dict(bench.data), "tb.sv": bench.text, "ref.sv": ref, **sources}
    names = " ".join(["tb.sv", "ref.sv", *sources])
    script = f"iverilog -g2012 -o sim.vvp -s {bench.top} {names} || exit {COMPILE_EXIT}; "
    script += "exit 0" if compile_only else "exec vvp -n sim.vvp -none"
    limits = Limits(wall_s=wall_s, cpu_s=wall_s, memory_mb=2048, processes=32, file_mb=64, open_files=64, output_bytes=1 << 18)
    result: RunResult = sandbox.run(["/bin/sh", "-c", script], files=files, limits=limits)
    stdout = result.stdout.decode("utf-8", "replace")
    stderr = result.stderr.decode("utf-8", "replace")
    sim = Simulation(compiled=result.exit_code != COMPILE_EXIT, finished=False, timed_out=result.timed_out, wall_s=result.wall_s)
    if result.exit_code == COMPILE_EXIT or (result.exit_code == 127 and "sim.vvp" not in stderr):
        sim.compiled = False
        sim.compile_error = first_error_line(stderr, nonce)
        return sim
    prefix = f"{SENTINEL}{nonce} "
    for line in stdout.splitlines():
        if not line.startswith(prefix):
            continue
        body = line[len(prefix):]
        sim.lines.append(body)
        parts = body.split()
        if parts[:1] == ["done"] and len(parts) == 2:
            sim.finished = True
            sim.samples = int(parts[1])
        elif parts[:1] == ["dut"] and len(parts) == 4:
            sim.duts[int(parts[1])] = (int(parts[2]), int(parts[3]))
        elif parts[:1] == ["first"] and len(parts) == 7:
            sim.firsts[int(parts[1])] = parts[2:]
        elif parts[:1] == ["trace"] and len(parts) == 3:
            sim.trace.append((int(parts[1]), parts[2]))
        else:
            match = re.match(r"Mismatches: (\d+) in (\d+) samples", body)
            if match:
                sim.finished = True
                sim.duts[0] = (int(match.group(1)), -1)
                sim.samples = int(match.group(2))
    if not sim.finished:
        if result.timed_out:
            sim.runtime_error = f"the simulation did not finish within {wall_s:g} s (a zero-delay loop or a runaway simulation?)"
        elif result.memory_exceeded:
            sim.runtime_error = "the simulation ran out of memory"
        else:
            tail = first_error_line(stderr, nonce) if stderr.strip() else f"exit status {result.exit_code}, signal {result.signal}"
            sim.runtime_error = f"the simulation ended before the testbench finished ({tail})"
    return sim


def split_bits(bits: str, ports: Sequence[tuple[str, int]]) -> dict[str, str]:
    """Cut a packed ``%b`` string into per-port bit strings (first port most significant)."""
    out, position = {}, 0
    for name, width in ports:
        out[name] = bits[position:position + width]
        position += width
    return out


# ---------------------------------------------------------------------------------------------
# Verifier
# ---------------------------------------------------------------------------------------------


class VerilogVerifier(SafeVerifier):
    """See the module docstring."""

    deadline_s = 20.0

    def __init__(self, partial: bool = False, deadline_s: float = 20.0, cache_size: int = 4096):
        self.partial = bool(partial)
        self.deadline_s = float(deadline_s)
        if self.deadline_s < 6.0:
            raise ValueError("deadline_s must be at least 6 seconds")
        self.sim_wall_s = self.deadline_s - 4.0
        self.cache_size = int(cache_size)
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()
        self._cache: collections.OrderedDict[str, Verdict] = collections.OrderedDict()
        self._reference_compiles: dict[str, tuple[bool, str]] = {}

    # -- plumbing
    @property
    def sandbox(self) -> Sandbox:
        with self._lock:
            if self._sandbox is None:
                self._sandbox = Sandbox("auto")
            return self._sandbox

    def close(self) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None

    def __getstate__(self) -> dict:
        return {"partial": self.partial, "deadline_s": self.deadline_s, "cache_size": self.cache_size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    # -- checking
    def check(self, task: Task, response: str) -> Verdict:
        source = extract_verilog(response)
        if source is None:
            return Verdict.fail("no ```verilog fenced code block found")
        answer = task.answer
        key = hashlib.sha256(json.dumps([answer, source, self.partial], sort_keys=True).encode()).hexdigest()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        verdict = self._check_source(answer, source)
        if not verdict.details.get("tool_error") and not verdict.details.get("timed_out") and self.cache_size > 0:
            with self._lock:
                self._cache[key] = verdict
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return verdict

    def _check_source(self, answer: dict, source: str) -> Verdict:
        nonce = secrets.token_hex(6)
        try:
            bench = build_bench(answer, nonce)
        except (ValueError, KeyError, TypeError) as error:
            return Verdict.fail(f"tool error: the task's testbench is unusable: {error}", format_ok=True, tool_error=True)
        screen = screen_verilog(source, reserved=bench.reserved)
        if screen.reason is not None:
            return Verdict.fail(f"refused: {screen.reason}", format_ok=True, refused=screen.reason)
        sim = run_bench(self.sandbox, bench, answer["ref"], {"top.sv": source}, nonce, self.sim_wall_s)
        if not sim.compiled:
            ok, why = self._reference_compiles_ok(answer)
            if not ok:
                return Verdict.fail(f"tool error: the simulator cannot build this problem ({why})", format_ok=True, tool_error=True, compile_error=sim.compile_error)
            return Verdict.fail(f"compile error: {sim.compile_error}", format_ok=True, compile_error=sim.compile_error, wall_s=round(sim.wall_s, 4))
        if not sim.finished:
            return Verdict.fail(sim.runtime_error, format_ok=True, timed_out=sim.timed_out, wall_s=round(sim.wall_s, 4))
        mismatches, _ = sim.duts.get(0, (None, -1))
        if mismatches is None:
            return Verdict.fail("the testbench reported no result", format_ok=True)
        expected = bench.expected_samples
        if sim.samples <= 0 or (expected is not None and sim.samples != expected):
            return Verdict.fail(f"the testbench saw {sim.samples} samples, expected {expected}", format_ok=True)
        details: dict[str, Any] = {"samples": sim.samples, "mismatches": mismatches, "wall_s": round(sim.wall_s, 4)}
        if mismatches == 0:
            return Verdict(1.0, True, True, f"correct: all {sim.samples} samples match the reference", details)
        first = self._describe_first(answer, sim)
        if first:
            details["first_mismatch"] = first["data"]
        reward = round(1.0 - mismatches / sim.samples, 6) if self.partial else 0.0
        text = f"wrong: {mismatches} of {sim.samples} samples differ from the reference"
        if first:
            text += f"; {first['text']}"
        else:
            hints = [line for line in sim.lines if line.startswith("Hint: Output") and "no mismatches" not in line]
            if hints:
                text += "; " + "; ".join(h[len("Hint: "):] for h in hints[:3])
        return Verdict(reward, False, True, text, details)

    def _describe_first(self, answer: dict, sim: Simulation) -> dict | None:
        if answer.get("kind") != "generated" or 0 not in sim.firsts:
            return None
        step, phase, in_bits, ref_bits, dut_bits = sim.firsts[0]
        inputs = split_bits(in_bits, [(n, int(w)) for n, w in answer["inputs"]])
        outputs = [(n, int(w)) for n, w in answer["outputs"]]
        expected, got = split_bits(ref_bits, outputs), split_bits(dut_bits, outputs)
        wrong = [name for name, _ in outputs if expected[name] != got[name] and not _matches(expected[name], got[name])]
        when = ("just before the rising clock edge" if phase == "0" else "just after the rising clock edge") if answer.get("clock") else "after the inputs settled"
        shown = " ".join(f"{k}={v}" for k, v in inputs.items())
        diffs = "; ".join(f"{name} expected {expected[name]}, got {got[name]}" for name in wrong) or "outputs differ"
        return {
            "text": f"first at step {step} ({when}; inputs {shown}): {diffs}",
            "data": {"step": int(step), "phase": int(phase), "inputs": inputs, "expected": expected, "got": got},
        }

    def _reference_compiles_ok(self, answer: dict) -> tuple[bool, str]:
        """Whether the reference, renamed TopModule, compiles with this testbench (cached)."""
        key = hashlib.sha256(json.dumps(answer, sort_keys=True).encode()).hexdigest()
        with self._lock:
            if key in self._reference_compiles:
                return self._reference_compiles[key]
        nonce = secrets.token_hex(6)
        bench = build_bench(answer, nonce)
        stand_in = re.sub(r"\bRefModule\b", "TopModule", answer["ref"])
        sim = run_bench(self.sandbox, bench, answer["ref"], {"top.sv": stand_in}, nonce, min(self.sim_wall_s, 10.0), compile_only=True)
        outcome = (sim.compiled and not sim.timed_out, sim.compile_error or "the reference did not compile in time")
        with self._lock:
            self._reference_compiles[key] = outcome
        return outcome

    # -- helpers for tests and benchmarks (trusted sources only)
    def simulate_many(self, answer: dict, sources: Sequence[str], trace: bool = False) -> Simulation:
        """Simulate several trusted TopModule sources (e.g. mutants) at once, each renamed
        ``rlvr_dut<k>``: ``sim.duts[k] = (mismatches, first mismatching sample or -1)``."""
        nonce = secrets.token_hex(6)
        names = [f"{RESERVED_PREFIX}dut{k}" for k in range(len(sources))]
        bench = build_bench(answer, nonce, duts=names, trace=trace)
        files = {f"dut{k}.sv": re.sub(r"\bTopModule\b", names[k], source) for k, source in enumerate(sources)}
        return run_bench(self.sandbox, bench, answer["ref"], files, nonce, max(self.sim_wall_s, 60.0))


def _matches(expected: str, got: str) -> bool:
    return all(e == g or e in "xX" for e, g in zip(expected, got)) and len(expected) == len(got)
