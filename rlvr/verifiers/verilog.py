"""Verilog verifier: simulate the model's module with Icarus Verilog ALONE, under a testbench it
never sees, and compare what it printed with the reference's outputs on the host.

Input       A ``Task`` of rlvr/Verilog-v0 (``task.answer["kind"] == "generated"``) or
            rlvr/VerilogEval-v0 (``"verilog-eval"``), and the model's whole response.
            generated:    {"kind", "ref": RefModule source, "inputs": [[name, width], ...] (clock
                          excluded, first = most significant in each packed vector), "outputs":
                          [[name, width], ...], "clock": "clk" or null, "vectors": [hex string per
                          step: the packed inputs], "expected": [per sample: the packed outputs in
                          hex, or "x" where the reference is unknown (before the first reset)]}.
                          Without "expected" (tasks made before it existed) the expected outputs
                          come from a reference run, as for VerilogEval.
            verilog-eval: {"kind", "problem", "ref": the problem's ``_ref.sv``, "test": its
                          ``_test.sv``}.
Trust       Nothing the verdict depends on is where the candidate's code runs. The candidate is
            compiled and simulated in a sandbox run whose files are the testbench, the stimulus
            and the candidate — no reference module, no expected values, no comparison. The
            testbench drives TopModule alone and prints its outputs at every sample point (a line
            each time they change), each line prefixed ``RLVR<nonce>`` (48 random bits, fresh per
            run), then an end line with the sample count. The expected outputs come from outside:
            for generated tasks from the task (the Python model of the golden design, computed at
            generation; the tests check it against the golden on every family), for VerilogEval
            from a separate trusted run — the same testbench with the reference in TopModule's
            place (cached per problem; run concurrently with the first candidate). The host
            compares. So a candidate that instantiates, binds, includes or names the reference
            (RefModule, an escaped or macro-built name, ``$root``/upward hierarchical names, a
            config) finds nothing to elaborate against: it fails to compile or reads an unrelated
            testbench signal, and the verdict is 0.
Extraction  The one fenced block tagged ```verilog (also ```systemverilog, ```sv) after the
            reasoning (``rlvr.core.strip_think``); fences pair left to right in one linear pass.
            None, or more than one (a hedge: a wrong module and a right one): reward 0,
            ``format_ok=False``. Blocks in other languages are ignored.
Screening   Defence in depth, before anything runs: the source is lexed (comments and strings set
            aside) and refused (reward 0, the reason says which rule) when it
              * is longer than ``MAX_SOURCE_CHARS``;
              * calls a system task or function outside ``ALLOWED_SYSTEM_FUNCTIONS`` (pure
                functions such as $signed, $clog2, $bits): so no $display/$write/$monitor, no
                $finish/$stop/$fatal, no $fopen/$readmem/$system/$value$plusargs, no $root;
              * uses a compiler directive other than ``ALLOWED_DIRECTIVES`` or a macro it did not
                define itself (so no `include, no `ifdef regions); a macro must not take a
                directive's name (``DIRECTIVE_NAMES``: Icarus reports `define include as an
                error, compiles on, and then runs `include); a `define body must not hold
                '.', '`', '\\', '/*', a string or ``module``/``macromodule``/``primitive``
                (macros cannot assemble a hierarchical name, a directive, a module or a comment
                that Icarus's preprocessor would read differently), nor a macro call's arguments
                any '.' (```H(x,.y)`` expands to ``x.y``) or module keyword; a macro's text
                ends at a ``//`` comment;
              * names anything through a hierarchy (``a.b``, ``u[0].q``, ```M.x``), or a module
                other than by a plain name (``module `M(…)``);
              * has a backslash outside strings (escaped identifiers, line continuations),
                control characters, lone surrogates, non-ASCII code, an unterminated string or
                comment;
              * uses ``bind``, ``config``, ``library``, ``program``, ``checker``, ``class`` or a
                DPI ``import "…"``;
              * declares a module named RefModule, a testbench module, a name starting with
                ``rlvr_``, or no ``TopModule`` at all.
Testbench   generated (``generated_testbench``): written per run, every name in it ends in the
            run's nonce; inputs are applied at the start of each step; a combinational design is
            sampled once per step (5 time units later), a sequential one just before and just
            after each rising clock edge (period 10). Inputs reach TopModule through
            non-assignable expressions (``a | 1'b0``), so an input declared as output fails to
            elaborate. The stimulus travels in a data file read with $readmemh.
            verilog-eval (``eval_testbench``): the problem's own testbench, rewritten per run:
            its modules, instances, tasks, functions and named blocks get the nonce suffix
            (Icarus resolves tasks and ``disable`` targets upwards), the RefModule instance is
            removed, ``tb_match`` is tied to 1 (what a correct design gives the stimulus
            generator, which reads it only for hints), TopModule's inputs become ``(x) | 1'b0``,
            $dumpfile/$dumpvars go, and the comparison block samples ``{outputs_dut}`` at its
            own events — the same point where the original read ``tb_match``.
Verdict     From the candidate run's stdout (capped at ``MAX_TRACE_BYTES`` and at what the sample
            count allows, parsed in one linear pass) only lines starting with ``RLVR<nonce>``
            count: sample lines with strictly increasing indexes from 0, one end line, nothing
            after it, widths equal to the reference's. Anything else — no end line (an early
            $finish, a crash, a zero-delay loop or runaway simulation killed at ``sim_wall_s``),
            a sample count other than the reference's, a truncated or malformed trace — scores 0.
            Each sample follows VerilogEval's rule ``ref === (ref ^ dut ^ ref)``: an x in the
            reference matches anything, a z in the reference nothing, a 0/1 only the same 0/1.
            VerilogEval's count ("Mismatches: N in M samples") is reproduced on the host; the
            differences from running both modules in one simulation: the testbench's hint lines
            that compare the two are gone (the host gives per-output counts instead), and a
            design whose outputs race the sampling event is judged against the reference in the
            same position, not against the reference's instance next to it. Compile errors score
            0 with the first error line in the reason; when the reference itself cannot be built
            with the testbench, or its outputs are x on at least ``UNDEFINED_LIMIT`` (90 %) of
            the samples (then any design passes: VerilogEval's Prob053_m2014_q4d, whose stimulus
            races its first clock edge; red team s13 F2), the verdict says "tool error"
            (format_ok=True, details["tool_error"]=True).
Reward      1 when every sample matches, else 0; ``partial=True``: the matching share m =
            1 − mismatches / samples paid above what a constant design gets, max(0, (m − c) /
            (1 − c)), c the share of samples the best of a few constant designs matches
            (``constant_share``: all-0, all-1, the most frequent expected vectors). (Paying m
            itself gave a module with every output tied to 0 0.27–0.44 on average; now 0.)
            ``details["constant_share"]`` is c.
            ``details``: samples, mismatches, first_mismatch (generated: step, phase, inputs,
            expected and got per output; VerilogEval: sample), output_mismatches (VerilogEval),
            compile_error, tool_error, wall_s.
Options     ``partial`` (default False), ``deadline_s`` (default 20: each sandbox run is limited
            to ``deadline_s − 4`` s of wall time and the whole verdict to ``deadline_s − 1``),
            ``sandbox`` ("auto" | "bwrap" | "docker"; docker runs Icarus from the image, each
            simulation in a pre-started container, ``rlvr.verifiers.sandbox.docker_pool``) and
            ``image`` (docker: default the locally built base image, which has Icarus).
Cache       Verdicts are memoised per (answer, source, partial) — up to ``cache_size`` entries,
            not tool errors or time-outs — so a GRPO group with repeated responses simulates once;
            reference runs per answer, up to ``reference_cache_size``.
Sandbox     Under bwrap the run sees /usr, the Python installation and the venv's site-packages
            read-only, and its own work dir. The generated family's reference is never a file;
            VerilogEval references live in the user's ``dataset=DIR`` folder, which the sandbox
            does not mount — unless it lies under one of those read-only paths (say, inside
            site-packages), where only the screen (no `include, no file system tasks) keeps a
            candidate from reading them.
"""

from __future__ import annotations

import bisect
import collections
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from rlvr.core import SafeVerifier, Task, Verdict, block_key, flag_option, strip_think
from rlvr.verifiers.sandbox import Limits, RunResult, Sandbox
from rlvr.verifiers.sandbox.docker_pool import WarmRuns

SANDBOXES = ("auto", "bwrap", "docker")  # isolation the ``sandbox`` option may choose

ALLOWED_SYSTEM_FUNCTIONS = frozenset(
    {
        "signed",
        "unsigned",
        "clog2",
        "bits",
        "size",
        "high",
        "low",
        "left",
        "right",
        "increment",
        "dimensions",
        "unpacked_dimensions",
        "countones",
        "countbits",
        "onehot",
        "onehot0",
        "isunknown",
        "time",
        "stime",
        "realtime",
        "rtoi",
        "itor",
        "realtobits",
        "bitstoreal",
    }
)
ALLOWED_DIRECTIVES = frozenset(
    {"timescale", "default_nettype", "define", "undef", "undefineall", "resetall", "celldefine", "endcelldefine"}
)
FORBIDDEN_KEYWORDS = frozenset({"bind", "config", "library", "program", "checker", "class"})
# Compiler directives (IEEE 1800 and Icarus): no macro may take one's name — Icarus reports
# `define include` as an error yet compiles on, and the screen took `include for a macro (s17 V1)
DIRECTIVE_NAMES = frozenset(
    {
        *("include", "define", "undef", "undefineall", "ifdef", "ifndef", "else", "elsif", "endif"),
        *("line", "pragma", "timescale", "default_nettype", "resetall", "celldefine", "endcelldefine"),
        *("unconnected_drive", "nounconnected_drive", "begin_keywords", "end_keywords", "__FILE__", "__LINE__"),
        *("default_decay_time", "default_trireg_strength", "delay_mode_distributed", "delay_mode_path"),
        *("delay_mode_unit", "delay_mode_zero", "protect", "endprotect", "uselib", "suppress_faults"),
        *("nosuppress_faults", "enable_portfaults", "disable_portfaults", "accelerate", "noaccelerate"),
        *("expand_vectornets", "noexpand_vectornets", "autoexpand_vectornets", "remove_gatenames"),
        *("noremove_gatenames", "remove_netnames", "noremove_netnames", "default_discipline"),
        "default_transition",
    }
)
MODULE_KEYWORDS = ("module", "macromodule", "primitive")
_MODULE_KEYWORD = re.compile(rf"\b(?:{'|'.join(MODULE_KEYWORDS)})\b")
RESERVED_PREFIX = "rlvr_"
MAX_SOURCE_CHARS = 200_000
MAX_TRACE_BYTES = 16 << 20  # stdout kept from one run (the largest bundled trace is ~6 MB)
SENTINEL = "RLVR"
STIMULUS_FILE = "stimulus.hex"
EXPECTED_FILE = "expected.hex"
COMPILE_EXIT = 97

ANSWER_FORMAT = (
    "Answer format: reply with the complete Verilog code of module `TopModule` (and any helper "
    "modules it instantiates) in exactly one fenced code block that starts with ```verilog (a "
    "response with several such blocks scores 0). Write synthesizable Verilog-2005 or "
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
_SURROGATE = re.compile("[\ud800-\udfff]")  # no UTF-8 form: the source file could not be written
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


def verilog_blocks(response: str) -> list[str]:
    """Every ```verilog (```systemverilog, ```sv) fenced block after the reasoning, CRLF made LF.

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
            blocks.append(text[content_start:end].replace("\r\n", "\n"))
        position = end + 3
    return blocks


def design_key(source: str) -> str:
    """A design's tokens, comments and whitespace left out, one space apart."""
    return " ".join(token.text for token in lex(source) if token.kind not in ("comment", "space"))


def extract_verilog(response: str) -> str | None:
    """The response's one ```verilog block; None when there is none or more than one."""
    blocks = verilog_blocks(response)
    return blocks[0] if len(blocks) == 1 else None


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
    bad = _SURROGATE.search(source)  # comments and strings too (red team S10-G4)
    if bad is not None:
        return Screen(f"lone surrogate {bad.group()!r} (not text) on line {_line_of(source, bad.start())}")
    tokens: list[Token] = []
    line_comments: list[int] = []  # where each // comment starts (a macro's text ends there)
    for match in _TOKEN.finditer(source):  # stops at the first unterminated comment or string
        kind = match.lastgroup or "punct"
        if kind not in ("space", "comment"):
            tokens.append(Token(kind, match.group(), match.start()))
        elif kind == "comment" and match.group().startswith("//"):
            line_comments.append(match.start())
        if kind in ("open_comment", "open_string"):
            break
    defined: set[str] = set()
    modules: list[str] = []
    reserved_set = set(reserved) | {"RefModule"}
    in_macro_call = 0  # parentheses open in a macro call's arguments
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
                if following.text in DIRECTIVE_NAMES:
                    return Screen(f"macro `{following.text} on line {line} takes a compiler directive's name")
                start = following.start + len(following.text)
                end = source.find("\n", start)
                end = len(source) if end < 0 else end
                comment = bisect.bisect_left(line_comments, start)
                if comment < len(line_comments) and line_comments[comment] < end:
                    end = line_comments[comment]  # a // comment is no part of the macro
                body = source[start:end]
                dots, position = False, index + 2  # '.' tokens (a real number such as 2.0 is one number token)
                while position < len(tokens) and tokens[position].start < end:
                    dots = dots or tokens[position].text == "."
                    position += 1
                if dots or any(part in body for part in ("`", "\\", "/*", '"')):
                    return Screen(
                        f"the body of macro `{following.text} on line {line} holds '.', '`', '\\', '/*' or a string"
                    )
                if _MODULE_KEYWORD.search(body):
                    return Screen(f"the body of macro `{following.text} on line {line} declares a module")
                defined.add(following.text)
            elif name not in ALLOWED_DIRECTIVES and name not in defined:
                return Screen(f"compiler directive or macro `{name} on line {line} is not allowed")
            elif name in defined and following is not None and following.text == "(" and not in_macro_call:
                in_macro_call = -1  # its arguments start at the next token
        if in_macro_call and kind == "punct":
            if text == "(":
                in_macro_call = 1 if in_macro_call < 0 else in_macro_call + 1
            elif text == ")":
                in_macro_call -= 1
            elif text == ".":
                return Screen(f"'.' in a macro's arguments on line {line} (it could form a hierarchical reference)")
        if in_macro_call and kind == "ident" and text in MODULE_KEYWORDS:
            return Screen(f"{text} in a macro's arguments on line {line} is not allowed")
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
                    return Screen(
                        f"hierarchical reference {previous.text}.{following.text} on line {line} is not allowed"
                    )
        if kind == "ident":
            if text in FORBIDDEN_KEYWORDS:
                return Screen(f"keyword {text!r} on line {line} is not allowed")
            if text == "import" and following is not None and following.kind == "string":
                return Screen(f"DPI import on line {line} is not allowed")
            if text in MODULE_KEYWORDS:
                position = index + 1
                while position < len(tokens) and tokens[position].text in ("automatic", "static"):
                    position += 1
                if position >= len(tokens) or tokens[position].kind != "ident":
                    return Screen(f"the {text} on line {line} has no plain name (write it out)")
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
    """A testbench ready to compile with TopModule (or trusted duts) and nothing else."""

    text: str
    top: str
    outputs: tuple[str, ...]  # output names, in the order of the printed bit string
    samples: int | None  # known in advance (generated); None: the reference run tells (VerilogEval)
    reserved: tuple[str, ...] = ()
    data: tuple[tuple[str, str], ...] = ()  # (file name, content) the testbench reads


def samples_per_step(answer: dict) -> int:
    return 2 if answer.get("clock") else 1


def _generated_frame(
    answer: dict,
    n: str,
    duts: Sequence[str],
    declarations: list[str],
    sample: Callable[[], list[str]],
    ending: list[str],
) -> str:
    """The shared body of the generated testbenches: stimulus, clock, instances of ``duts``
    (dut k's outputs concatenated in ``sample{k}_<nonce>``), ``sample()`` at every sample point
    (``samples_<nonce>`` counts them), then ``ending``."""
    inputs = [(str(name), int(width)) for name, width in answer["inputs"]]
    outputs = [(str(name), int(width)) for name, width in answer["outputs"]]
    clock = answer.get("clock")
    steps = len(answer["vectors"])
    in_width = sum(w for _, w in inputs)
    out_width = sum(w for _, w in outputs)
    lines = ["`timescale 1ns/1ps", f"module rlvr_tb_{n};", f"  reg [{in_width - 1}:0] vec_{n} [0:{steps - 1}];"]
    lines += [f"  reg [{width - 1}:0] in_{name}_{n};" for name, width in inputs]
    if clock:
        lines.append(f"  reg clk_{n};")
    for k in range(len(duts)):
        lines += [f"  wire [{width - 1}:0] d{k}_{name}_{n};" for name, width in outputs]
        lines.append(
            f"  wire [{out_width - 1}:0] sample{k}_{n} = {{"
            + ", ".join(f"d{k}_{name}_{n}" for name, _ in outputs)
            + "};"
        )
    lines.append(f"  integer i_{n}, samples_{n};")
    lines += declarations
    for k, module in enumerate(duts):
        connections = [f".{clock}(clk_{n} | 1'b0)"] if clock else []
        connections += [f".{name}(in_{name}_{n} | 1'b0)" for name, _ in inputs]
        connections += [f".{name}(d{k}_{name}_{n})" for name, _ in outputs]
        lines.append(f"  {module} d{k}_inst_{n} (" + ", ".join(connections) + ");")
    packed_inputs = "{" + ", ".join(f"in_{name}_{n}" for name, _ in inputs) + "}"
    lines += ["  initial begin", f'    $readmemh("{STIMULUS_FILE}", vec_{n});', f"    samples_{n} = 0;"]
    if clock:
        lines.append(f"    clk_{n} = 1'b0;")
    lines += [
        f"    for (i_{n} = 0; i_{n} < {steps}; i_{n} = i_{n} + 1) begin",
        f"      {packed_inputs} = vec_{n}[i_{n}];",
    ]
    if clock:
        lines += [
            "      #4;",
            *sample(),
            f"      #1 clk_{n} = 1'b1;",
            "      #4;",
            *sample(),
            f"      #1 clk_{n} = 1'b0;",
        ]
    else:
        lines += ["      #5;", *sample(), "      #5;"]
    lines += ["    end", *ending, "    $finish;", "  end", "endmodule"]
    return "\n".join(lines) + "\n"


def _trace_lines(n: str, sample: str, counter: str, last: str) -> list[str]:
    """Count the sample, then print ``RLVR<nonce> <sample index> <bits>`` at the first sample and
    whenever the bits change. Counting first: Icarus may stop a process right after a system
    task when another one has called $finish in the same time step (VerilogEval stimulus does)."""
    return [
        f"      {counter} = {counter} + 1;",
        f"      if ({counter} == 1 || {sample} !== {last}) begin",
        f'        $display("{SENTINEL}{n} %0d %b", {counter} - 1, {sample});',
        f"        {last} = {sample};",
        "      end",
    ]


def generated_testbench(answer: dict, nonce: str) -> Bench:
    """The candidate testbench of a generated task: TopModule alone on the task's stimulus,
    its outputs printed at every sample where they change, then ``RLVR<nonce> done <samples>
    <output widths>``."""
    n = nonce
    outputs = [(str(name), int(width)) for name, width in answer["outputs"]]
    out_width = sum(w for _, w in outputs)
    declarations = [f"  reg [{out_width - 1}:0] last_{n};"]
    widths = " ".join(str(w) for _, w in outputs)
    ending = [f'    $display("{SENTINEL}{n} done %0d {widths}", samples_{n});']
    text = _generated_frame(
        answer,
        n,
        ("TopModule",),
        declarations,
        lambda: _trace_lines(n, f"sample0_{n}", f"samples_{n}", f"last_{n}"),
        ending,
    )
    stimulus = "".join(f"{vector}\n" for vector in answer["vectors"])
    samples = len(answer["vectors"]) * samples_per_step(answer)
    top = f"rlvr_tb_{n}"
    return Bench(text, top, tuple(name for name, _ in outputs), samples, (top,), ((STIMULUS_FILE, stimulus),))


def comparing_testbench(answer: dict, nonce: str, duts: Sequence[str]) -> Bench:
    """For TRUSTED sources only (mutants in tests and benchmarks): every module in ``duts`` on
    the task's stimulus, each compared inside the simulation with ``answer["expected"]`` (which
    this testbench reads from a file) by VerilogEval's rule; prints ``RLVR<nonce> dut k
    <mismatches> <first mismatching sample or -1>`` per dut and ``RLVR<nonce> done <samples>``.
    Never used for a candidate: it puts the expected values into the simulation."""
    n = nonce
    outputs = [(str(name), int(width)) for name, width in answer["outputs"]]
    out_width = sum(w for _, w in outputs)
    samples = len(answer["vectors"]) * samples_per_step(answer)
    declarations = [f"  reg [{out_width - 1}:0] exp_{n} [0:{samples - 1}];"]
    for k in range(len(duts)):
        declarations.append(f"  integer mism{k}_{n} = 0, first{k}_{n} = -1;")

    def sample() -> list[str]:
        expected = f"exp_{n}[samples_{n}]"
        out = []
        for k in range(len(duts)):
            out += [
                f"      if (!({expected} === ({expected} ^ sample{k}_{n} ^ {expected}))) begin",
                f"        if (first{k}_{n} < 0) first{k}_{n} = samples_{n};",
                f"        mism{k}_{n} = mism{k}_{n} + 1;",
                "      end",
            ]
        return out + [f"      samples_{n} = samples_{n} + 1;"]

    ending = [f'    $display("{SENTINEL}{n} dut {k} %0d %0d", mism{k}_{n}, first{k}_{n});' for k in range(len(duts))]
    ending.append(f'    $display("{SENTINEL}{n} done %0d", samples_{n});')
    text = _generated_frame(answer, n, duts, declarations, sample, ending)
    text = text.replace(
        f'    $readmemh("{STIMULUS_FILE}", vec_{n});',
        f'    $readmemh("{STIMULUS_FILE}", vec_{n});\n    $readmemh("{EXPECTED_FILE}", exp_{n});',
    )
    digits = (out_width + 3) // 4
    expected = "".join(
        ("x" * digits if value == "x" else value.rjust(digits, "0")) + "\n" for value in answer["expected"]
    )
    stimulus = "".join(f"{vector}\n" for vector in answer["vectors"])
    top = f"rlvr_tb_{n}"
    return Bench(
        text,
        top,
        tuple(name for name, _ in outputs),
        samples,
        (top,),
        ((STIMULUS_FILE, stimulus), (EXPECTED_FILE, expected)),
    )


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
    for token in tokens[position + 1 :]:
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
    {
        "input",
        "output",
        "inout",
        "wire",
        "reg",
        "logic",
        "bit",
        "signed",
        "unsigned",
        "var",
        "integer",
        "int",
        "tri",
        "byte",
        "shortint",
        "longint",
    }
)
_INSTANCE = re.compile(r"^[ \t]*([A-Za-z_]\w*)\s+(?:#\s*\([^;]*?\)\s*)?([A-Za-z_]\w*)\s*\(", re.MULTILINE)
_TASK = re.compile(r"\b(?:task|function)\s+(?:(?:automatic|static)\s+)?(?:[^;(]*?\s)?([A-Za-z_]\w*)\s*[;(]")
_BLOCK = re.compile(r"\b(?:begin|fork)\s*:\s*([A-Za-z_]\w*)")
_MODULE = re.compile(r"\bmodule\s+([A-Za-z_]\w*)")

_MATCH = re.compile(
    r"assign\s+tb_match\s*=\s*\(\s*\{([^{}]*)\}\s*===\s*\(\s*\{[^{}]*\}\s*\^\s*\{([^{}]*)\}\s*\^\s*\{[^{}]*\}\s*\)\s*\)\s*;"
)
_DUMP = re.compile(r"\$dump(?:file|vars)\s*(?:\([^;]*\))?\s*;")


def _declared_width(text: str, name: str) -> int:
    """The width of testbench signal ``name`` from its declaration ``logic [a:b] name;``."""
    found = re.search(rf"^\s*(?:logic|wire|reg)\s*(?:\[\s*(\d+)\s*:\s*(\d+)\s*\])?\s*{name}\s*;", text, re.MULTILINE)
    if found is None:
        raise ValueError(f"no plain declaration of {name}")
    return abs(int(found.group(1)) - int(found.group(2))) + 1 if found.group(1) else 1


def eval_testbench(test: str, ref: str, nonce: str) -> Bench:
    """A VerilogEval ``_test.sv`` rewritten to drive TopModule alone and print its outputs (see
    the module docstring). Raises ValueError when the testbench is not in the expected shape."""
    n = nonce
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
    pieces = []
    for token in lex(test):
        pieces.append(token.text + suffix if token.kind == "ident" and token.text in names else token.text)
    text = "".join(pieces)
    reference = re.search(r"\bRefModule\s+[A-Za-z_]\w*\s*\(.*?\)\s*;", text, re.DOTALL)
    if reference is None:
        raise ValueError("no RefModule instance")
    text = text[: reference.start()] + text[reference.end() :]
    text = _DUMP.sub(";", text)
    text = _guard_inputs(text, "TopModule", module_ports(ref, "RefModule"))
    match = _MATCH.search(text)
    if match is None:
        raise ValueError("no 'assign tb_match = ({ref} === ({ref} ^ {dut} ^ {ref}))' comparison")
    duts = [part.strip() for part in match.group(2).split(",")]
    if not duts or not all(re.fullmatch(r"[A-Za-z_]\w*_dut", part) for part in duts):
        raise ValueError(f"unsupported compared outputs {match.group(2)!r}")
    widths = [_declared_width(text, name) for name in duts]
    total = sum(widths)
    joined = "{" + ", ".join(duts) + "}"
    sampling = (
        f"assign tb_match = 1'b1;\n\twire [{total - 1}:0] sample_{n} = {joined};\n"
        f"\treg [{total - 1}:0] last_{n};\n\tint count_{n};  // 2-state: 0 before any process runs"
    )
    text = text[: match.start()] + sampling + text[match.end() :]
    clocks = list(re.finditer(r"\bstats1\.clocks\+\+\s*;", text))
    if len(clocks) != 1:
        raise ValueError("the comparison block (one 'stats1.clocks++;') was not found")
    step = "\n".join(line.strip() for line in _trace_lines(n, f"sample_{n}", f"count_{n}", f"last_{n}"))
    text = text[: clocks[0].end()] + "\n" + step + "\n" + text[clocks[0].end() :]
    report = list(re.finditer(r'\$display\s*\(\s*"Mismatches:[^;]*;', text))
    if len(report) != 1:
        raise ValueError("the testbench has no single 'Mismatches:' report")
    done = f'$display("{SENTINEL}{n} done %0d ' + " ".join(map(str, widths)) + f'", count_{n});'
    text = text[: report[0].start()] + done + text[report[0].end() :]
    outputs = tuple(name[: -len("_dut")] for name in duts)
    return Bench(text, tops[0] + suffix, outputs, None, tuple(sorted(modules | {m + suffix for m in modules})))


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
    return text[: instance.start()] + replacement + text[instance.end() :]


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


def build_bench(answer: dict, nonce: str) -> Bench:
    """The candidate testbench of a task (TopModule alone)."""
    kind = answer.get("kind")
    if kind == "generated":
        return generated_testbench(answer, nonce)
    if kind == "verilog-eval":
        return eval_testbench(answer["test"], answer["ref"], nonce)
    raise ValueError(f"unknown Verilog task kind {kind!r}")


def reference_as_top(answer: dict) -> str:
    """The reference source with its module renamed TopModule (trusted runs and the solver)."""
    return re.sub(r"\bRefModule\b", "TopModule", answer["ref"])


# ---------------------------------------------------------------------------------------------
# Running and reading back
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trace:
    """Outputs at every sample, run-length coded: ``values[i]`` (one bit string, first output
    first, characters 0 1 x z) holds from sample ``starts[i]`` up to the next start."""

    samples: int
    widths: tuple[int, ...]
    starts: tuple[int, ...]
    values: tuple[str, ...]

    def at(self, sample: int) -> str:
        low, high = 0, len(self.starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.starts[middle] <= sample:
                low = middle
            else:
                high = middle - 1
        return self.values[low]


@dataclass
class Run:
    """What one sandboxed compile-and-simulate run gave back."""

    compiled: bool
    timed_out: bool
    trace: Trace | None = None
    error: str = ""  # the compile error line, or why there is no trace
    lines: list = field(default_factory=list)  # other nonce lines (comparing testbench), prefix removed
    wall_s: float = 0.0


def parse_trace(
    stdout: bytes, nonce: str, samples: int | None = None, counts_only: bool = False
) -> tuple[Trace | None, str, list[str]]:
    """(trace, problem, dut lines) from a run's stdout (the caller caps its size; every step is
    a linear scan): of the lines that start with ``RLVR<nonce> ``, sample lines ``<index>
    <bits>`` with strictly increasing indexes from 0 and bits of one width, then exactly one
    ``done <samples> <widths…>`` line, last. Any other such line makes the output unreadable.
    ``samples``, when given, is the count the end line must report. ``counts_only``: the
    comparing testbench (trusted duts), whose ``dut k …`` lines come back instead of samples.
    No end line: (None, "", …) — the run did not finish."""
    raw = f"{SENTINEL}{nonce} ".encode()
    prefix = re.escape(raw)
    marked = stdout.count(b"\n" + raw) + stdout.startswith(raw)
    ends = list(re.finditer(rb"^" + prefix + rb"done((?: \d{1,9})+)$", stdout, re.MULTILINE))
    rows = re.findall(rb"^" + prefix + rb"(\d{1,9}) ([01xz]+)$", stdout, re.MULTILINE)
    duts = (
        re.findall(rb"^" + prefix + rb"(dut \d{1,9} \d{1,9} -?\d{1,9})$", stdout, re.MULTILINE) if counts_only else []
    )
    others = [line.decode("ascii") for line in duts]
    if len(rows) + len(ends) + len(duts) != marked:
        return None, "malformed line", others
    if not ends:
        return None, "", others
    if len(ends) > 1 or stdout.find(b"\n" + raw, ends[0].end()) >= 0:
        return None, "output after the end of the run", others
    done = [int(f) for f in ends[0].group(1).split()]
    count, widths = done[0], tuple(done[1:])
    if counts_only:
        return Trace(count, (), (), ()), "", others
    starts = [int(index) for index, _ in rows]
    if not starts or starts[0] != 0 or any(a >= b for a, b in zip(starts, starts[1:])) or starts[-1] >= count:
        return None, "sample lines out of order or past the end", others
    width = len(rows[0][1])
    if any(len(bits) != width for _, bits in rows) or sum(widths) != width or 0 in widths:
        return None, "sample lines of different widths", others
    if samples is not None and count != samples:
        return None, f"the testbench saw {count} samples, expected {samples}", others
    return Trace(count, widths, tuple(starts), tuple(bits.decode("ascii") for _, bits in rows)), "", others


def first_error_line(stderr: str, nonce: str) -> str:
    lines = [
        line.replace(f"_{RESERVED_PREFIX}{nonce}", "").replace(f"_{nonce}", "").strip() for line in stderr.splitlines()
    ]
    lines = [line for line in lines if line]
    for pattern in (r"\berror\b|syntax error", r"sorry|not found|unable|cannot"):
        for line in lines:
            if re.search(pattern, line, re.IGNORECASE):
                return line[:300]
    return lines[0][:300] if lines else "compilation failed"


def run_trace(
    sandbox: Sandbox | WarmRuns,
    bench: Bench,
    sources: dict[str, str],
    nonce: str,
    wall_s: float,
    output_bytes: int = MAX_TRACE_BYTES,
    counts_only: bool = False,
) -> Run:
    """Compile the testbench and ``sources`` (after it, so their `define/`timescale cannot reach
    it), simulate, and read the trace back. Nothing but these files is in the run."""
    files = {**dict(bench.data), "tb.sv": bench.text, **sources}
    names = " ".join(["tb.sv", *sources])
    # Icarus reports some errors (a malformed `define) and compiles on: any error fails the compile
    # (the log's first 64 KiB only: a design's flood of warnings must not overrun the output cap)
    script = f"iverilog -g2012 -o sim.vvp -s {bench.top} {names} 2> compile.log; status=$?; "
    script += "head -c 65536 compile.log >&2; if [ $status -ne 0 ] || grep -q ': error:' compile.log; then "
    script += f"exit {COMPILE_EXIT}; fi; "
    script += "exec vvp -n sim.vvp -none"
    limits = Limits(
        wall_s=wall_s,
        cpu_s=wall_s,
        memory_mb=2048,
        processes=32,
        file_mb=64,
        open_files=64,
        output_bytes=max(1 << 16, int(output_bytes)),
    )
    result: RunResult = sandbox.run(["/bin/sh", "-c", script], files=files, limits=limits)
    stderr = result.stderr[: 1 << 16].decode("utf-8", "replace")
    run = Run(compiled=result.exit_code != COMPILE_EXIT, timed_out=result.timed_out, wall_s=result.wall_s)
    if result.exit_code == COMPILE_EXIT or (result.exit_code == 127 and "sim.vvp" not in stderr):
        run.compiled = False
        run.error = first_error_line(stderr, nonce)
        return run
    if len(result.stdout) >= limits.output_bytes:
        run.error = f"the simulation printed more than the trace can hold ({limits.output_bytes} bytes)"
        return run
    run.trace, problem, run.lines = parse_trace(result.stdout, nonce, bench.samples, counts_only)
    if run.trace is None:
        if problem:
            run.error = f"unreadable simulation output ({problem})"
        elif result.timed_out:
            run.error = (
                f"the simulation did not finish within {wall_s:g} s (a zero-delay loop or a runaway simulation?)"
            )
        elif result.memory_exceeded:
            run.error = "the simulation ran out of memory"
        else:
            tail = (
                first_error_line(stderr, nonce)
                if stderr.strip()
                else f"exit status {result.exit_code}, signal {result.signal}"
            )
            run.error = f"the simulation ended before the testbench finished ({tail})"
    return run


# ---------------------------------------------------------------------------------------------
# Comparing on the host
# ---------------------------------------------------------------------------------------------

_CARE = str.maketrans("01xz", "1101")  # reference bits that must be matched (x matches anything)
_KNOWN = str.maketrans("01xz", "1100")
_ONES = str.maketrans("01xz", "0100")


def bad_bits(expected: str, got: str) -> int:
    """The bits (as an int, first character most significant) where ``got`` fails VerilogEval's
    ``expected === (expected ^ got ^ expected)``: x in expected matches anything, z nothing,
    0/1 only the same 0/1."""
    if expected == got and "z" not in expected:
        return 0
    care = int(expected.translate(_CARE), 2)
    same = int(expected.translate(_KNOWN), 2) & int(got.translate(_KNOWN), 2)
    same &= ~(int(expected.translate(_ONES), 2) ^ int(got.translate(_ONES), 2))
    return care & ~same


UNDEFINED_LIMIT = 0.9  # a reference trace with this share of all-x samples cannot grade (a tool error)


def undefined_samples(trace: Trace) -> int:
    """Samples at which every output bit of ``trace`` is x (matches anything under ``bad_bits``)."""
    ends = (*trace.starts[1:], trace.samples)
    return sum(end - start for value, start, end in zip(trace.values, trace.starts, ends) if set(value) <= {"x"})


CONSTANT_CANDIDATES = 16  # most frequent expected values tried as constants (x read as 0 and as 1)


def constant_share(trace: Trace) -> float:
    """The largest share of samples a constant design matches, among the constants all-0,
    all-1 and the CONSTANT_CANDIDATES most frequent expected values with their x bits read as
    0 and as 1 (x in an expected value matches anything, as in ``bad_bits``)."""
    if not trace.samples:
        return 1.0
    lengths: dict[str, int] = {}
    ends = (*trace.starts[1:], trace.samples)
    for value, start, end in zip(trace.values, trace.starts, ends):
        lengths[value] = lengths.get(value, 0) + end - start
    width = sum(trace.widths)
    frequent = sorted(lengths, key=lengths.get, reverse=True)[:CONSTANT_CANDIDATES]
    candidates = {"0" * width, "1" * width}
    for value in frequent:
        candidates |= {value.replace("x", bit).replace("z", bit) for bit in "01"}
    best = max(sum(length for value, length in lengths.items() if not bad_bits(value, c)) for c in candidates)
    return best / trace.samples


@dataclass(frozen=True)
class Comparison:
    mismatches: int
    first: int  # first mismatching sample, -1 when none
    per_output: tuple[tuple[int, int], ...]  # (mismatches, first sample or -1) per output


def compare_traces(expected: Trace, got: Trace) -> Comparison:
    """VerilogEval's sample count, from two run-length traces in time linear in their runs."""
    widths = expected.widths
    total = sum(widths)
    shifts, offset = [], 0
    for width in widths:
        shifts.append((total - offset - width, (1 << width) - 1))
        offset += width
    counts, firsts = [0] * len(widths), [-1] * len(widths)
    mismatches, first = 0, -1
    i = j = position = 0
    while position < expected.samples:
        end = min(
            expected.starts[i + 1] if i + 1 < len(expected.starts) else expected.samples,
            got.starts[j + 1] if j + 1 < len(got.starts) else expected.samples,
        )
        bad = bad_bits(expected.values[i], got.values[j])
        if bad:
            mismatches += end - position
            first = position if first < 0 else first
            for k, (shift, mask) in enumerate(shifts):
                if bad >> shift & mask:
                    counts[k] += end - position
                    firsts[k] = position if firsts[k] < 0 else firsts[k]
        position = end
        if i + 1 < len(expected.starts) and expected.starts[i + 1] == end:
            i += 1
        if j + 1 < len(got.starts) and got.starts[j + 1] == end:
            j += 1
    return Comparison(mismatches, first, tuple(zip(counts, firsts)))


def expected_trace(answer: dict) -> Trace:
    """The trace a generated task's ``expected`` list describes (raises ValueError if malformed)."""
    widths = tuple(int(w) for _, w in answer["outputs"])
    total = sum(widths)
    entries = answer["expected"]
    samples = len(answer["vectors"]) * samples_per_step(answer)
    if not isinstance(entries, list) or len(entries) != samples or samples < 1:
        raise ValueError(
            f"the task's expected outputs hold {len(entries) if isinstance(entries, list) else '?'} samples, "
            f"not {samples}"
        )
    starts: list[int] = []
    values: list[str] = []
    for index, entry in enumerate(entries):
        if entry == "x":
            bits = "x" * total
        else:
            value = int(entry, 16)
            if value >> total:
                raise ValueError(f"expected output {entry!r} is wider than {total} bits")
            bits = format(value, f"0{total}b")
        if not values or values[-1] != bits:
            starts.append(index)
            values.append(bits)
    return Trace(samples, widths, tuple(starts), tuple(values))


def split_bits(bits: str, ports: Sequence[tuple[str, int]]) -> dict[str, str]:
    """Cut a packed bit string into per-port bit strings (first port most significant)."""
    out, position = {}, 0
    for name, width in ports:
        out[name] = bits[position : position + width]
        position += width
    return out


# ---------------------------------------------------------------------------------------------
# Verifier
# ---------------------------------------------------------------------------------------------


def answer_key(answer: dict) -> str:
    return hashlib.sha256(json.dumps(answer, sort_keys=True).encode()).hexdigest()


def trace_bytes_bound(expected: Trace) -> int:
    """The most stdout a run of the same testbench can need: a line at every sample, the end
    line, and room for the testbench's own messages (VerilogEval hints)."""
    line = len(SENTINEL) + 12 + 1 + len(str(expected.samples)) + 1 + sum(expected.widths) + 1
    return min(MAX_TRACE_BYTES, expected.samples * line + (1 << 16))


@dataclass
class Measurement:
    """Result of ``simulate_many``: ``duts[k] = (mismatches, first mismatching sample or -1)``."""

    finished: bool
    samples: int = 0
    duts: dict = field(default_factory=dict)
    error: str = ""


class VerilogVerifier(SafeVerifier):
    """See the module docstring."""

    deadline_s = 20.0

    def canonical_answer(self, task: Task, response: Any) -> str | None:
        """The design this verifier simulates (``extract_verilog``), as ``reward: majority``'s key:
        its tokens without comments or layout, so those do not split a vote."""
        return block_key(response, extract_verilog, self.max_response_chars, design_key)

    def __init__(
        self,
        partial: bool = False,
        deadline_s: float = 20.0,
        cache_size: int = 4096,
        reference_cache_size: int = 256,
        sandbox: str = "auto",
        image: str | None = None,
    ):
        if sandbox not in SANDBOXES:
            raise ValueError(f"sandbox must be one of {SANDBOXES}, got {sandbox!r}")
        self.sandbox_kind = sandbox
        self.image = image
        self.partial = flag_option("partial", partial)
        self.deadline_s = float(deadline_s)
        if self.deadline_s < 6.0:
            raise ValueError("deadline_s must be at least 6 seconds")
        self.sim_wall_s = self.deadline_s - 4.0
        self.cache_size = int(cache_size)
        self.reference_cache_size = int(reference_cache_size)
        self._sandbox: Sandbox | None = None
        self._runs: WarmRuns | None = None
        self._lock = threading.Lock()
        self._cache: collections.OrderedDict[str, Verdict] = collections.OrderedDict()
        self._references: collections.OrderedDict[str, Trace | str] = collections.OrderedDict()
        self._pending: dict[str, Future] = {}

    # -- plumbing
    @property
    def sandbox(self) -> Sandbox:
        with self._lock:
            if self._sandbox is None:
                self._sandbox = Sandbox(self.sandbox_kind, image=self.image)
            return self._sandbox

    @property
    def runs(self) -> WarmRuns:
        """Where simulations run: the sandbox (under docker, a pre-started container per run)."""
        sandbox = self.sandbox
        with self._lock:
            if self._runs is None:
                self._runs = WarmRuns(sandbox)
            return self._runs

    def close(self) -> None:
        with self._lock:
            if self._runs is not None:
                self._runs.close()
                self._runs = None
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None

    def __getstate__(self) -> dict:
        return {
            "partial": self.partial,
            "deadline_s": self.deadline_s,
            "cache_size": self.cache_size,
            "reference_cache_size": self.reference_cache_size,
            "sandbox": self.sandbox_kind,
            "image": self.image,
        }

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    # -- the reference, run apart from any candidate
    def reference(self, answer: dict) -> Future:
        """A future of the reference's trace (or, as a string, why it cannot be had) under the
        task's candidate testbench: cached per answer; one run at a time per answer."""
        key = answer_key(answer)
        with self._lock:
            if key in self._references:
                self._references.move_to_end(key)
                done: Future = Future()
                done.set_result(self._references[key])
                return done
            pending = self._pending.get(key)
            if pending is not None:
                return pending
            future = self._pending[key] = Future()
        threading.Thread(
            target=self._run_reference, args=(key, answer, future), name="rlvr-verilog-reference", daemon=True
        ).start()
        return future

    def _run_reference(self, key: str, answer: dict, future: Future) -> None:
        outcome: Trace | str = "the reference run failed"
        keep = False
        try:
            nonce = secrets.token_hex(6)
            bench = build_bench(answer, nonce)
            run = run_trace(self.runs, bench, {"top.sv": reference_as_top(answer)}, nonce, self.sim_wall_s)
            if not run.compiled:
                outcome, keep = f"the reference does not build with this testbench ({run.error})", True
            elif run.trace is None:
                outcome, keep = f"the reference run gave no result ({run.error})", not run.timed_out
            elif undefined_samples(run.trace) >= UNDEFINED_LIMIT * run.trace.samples:
                outcome, keep = (
                    f"the reference's outputs are undefined (x, which matches anything) on "
                    f"{undefined_samples(run.trace)} of {run.trace.samples} samples: the testbench cannot tell designs "
                    "apart",
                    True,
                )
            else:
                outcome, keep = run.trace, True
        except Exception as error:  # a broken sandbox or task: reported as a tool error, not cached
            outcome = f"the reference run failed: {type(error).__name__}: {str(error)[:200]}"
        finally:
            with self._lock:
                self._pending.pop(key, None)
                if keep and self.reference_cache_size > 0:
                    self._references[key] = outcome
                    while len(self._references) > self.reference_cache_size:
                        self._references.popitem(last=False)
            future.set_result(outcome)

    def _await(self, future: Future, started: float) -> Trace | str:
        try:
            return future.result(timeout=max(0.1, self.deadline_s - 1.0 - (time.monotonic() - started)))
        except FutureTimeout:
            return "the reference run did not finish in time"

    # -- checking
    def check(self, task: Task, response: str) -> Verdict:
        blocks = verilog_blocks(response)
        if len(blocks) != 1:
            return Verdict.fail(
                "no ```verilog fenced code block found"
                if not blocks
                else f"{len(blocks)} ```verilog blocks: the answer must be exactly one"
            )
        source = blocks[0]
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
        started = time.monotonic()
        nonce = secrets.token_hex(6)
        try:
            bench = build_bench(answer, nonce)
            expected = expected_trace(answer) if answer.get("kind") == "generated" and "expected" in answer else None
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return Verdict.fail(
                f"tool error: the task's testbench is unusable: {error}", format_ok=True, tool_error=True
            )
        screen = screen_verilog(source, reserved=bench.reserved)
        if screen.reason is not None:
            return Verdict.fail(f"refused: {screen.reason}", format_ok=True, refused=screen.reason)
        reference = None if expected is not None else self.reference(answer)
        known = expected if expected is not None else (reference.result() if reference.done() else None)
        cap = trace_bytes_bound(known) if isinstance(known, Trace) else MAX_TRACE_BYTES
        run = run_trace(self.runs, bench, {"top.sv": source}, nonce, self.sim_wall_s, cap)
        wall = round(run.wall_s, 4)
        if not run.compiled:
            outcome = self._await(reference or self.reference(answer), started)
            if isinstance(outcome, str):
                return Verdict.fail(
                    f"tool error: the simulator cannot build this problem ({outcome})",
                    format_ok=True,
                    tool_error=True,
                    compile_error=run.error,
                )
            return Verdict.fail(f"compile error: {run.error}", format_ok=True, compile_error=run.error, wall_s=wall)
        if expected is None:
            outcome = self._await(reference, started)
            if isinstance(outcome, str):
                return Verdict.fail(f"tool error: {outcome}", format_ok=True, tool_error=True)
            expected = outcome
        if run.trace is None:
            return Verdict.fail(run.error, format_ok=True, timed_out=run.timed_out, wall_s=wall)
        got = run.trace
        if got.samples != expected.samples or got.widths != expected.widths:
            return Verdict.fail(
                f"the testbench saw {got.samples} samples of widths {list(got.widths)}, expected {expected.samples} of "
                f"{list(expected.widths)}",
                format_ok=True,
                wall_s=wall,
            )
        comparison = compare_traces(expected, got)
        samples, mismatches = expected.samples, comparison.mismatches
        details: dict[str, Any] = {"samples": samples, "mismatches": mismatches, "wall_s": wall}
        if mismatches == 0:
            return Verdict(1.0, True, True, f"correct: all {samples} samples match the reference", details)
        floor = constant_share(expected)
        details["constant_share"] = round(floor, 6)
        matching = 1.0 - mismatches / samples
        reward = round(max(0.0, (matching - floor) / (1.0 - floor)), 6) if self.partial and floor < 1.0 else 0.0
        text = f"wrong: {mismatches} of {samples} samples differ from the reference"
        if answer.get("kind") == "generated":
            first = describe_first(answer, expected, got, comparison.first)
            details["first_mismatch"] = first["data"]
            text += f"; {first['text']}"
        else:
            names = bench.outputs
            details["first_mismatch"] = {"sample": comparison.first}
            details["output_mismatches"] = {name: count for name, (count, _) in zip(names, comparison.per_output)}
            hints = [
                f"Output '{name}' has {count} mismatches, first at sample {at}"
                for name, (count, at) in zip(names, comparison.per_output)
                if count
            ]
            text += "; " + "; ".join(hints[:3])
        return Verdict(reward, False, True, text[:600], details)

    # -- for tests and benchmarks (trusted sources only)
    def simulate_many(self, answer: dict, sources: Sequence[str]) -> Measurement:
        """Simulate several TRUSTED TopModule sources (e.g. mutants) of a generated task at once,
        each renamed ``rlvr_dut<k>`` and compared in the simulation with ``answer["expected"]``
        (``comparing_testbench``): ``duts[k] = (mismatches, first mismatching sample or -1)``."""
        nonce = secrets.token_hex(6)
        names = [f"{RESERVED_PREFIX}dut{k}" for k in range(len(sources))]
        bench = comparing_testbench(answer, nonce, names)
        files = {f"dut{k}.sv": re.sub(r"\bTopModule\b", names[k], source) for k, source in enumerate(sources)}
        run = run_trace(self.runs, bench, files, nonce, max(self.sim_wall_s, 60.0), counts_only=True)
        if run.trace is None:
            return Measurement(False, error=run.error)
        duts = {}
        for line in run.lines:
            _, k, mismatches, first = line.split()
            duts[int(k)] = (int(mismatches), int(first))
        return Measurement(
            len(duts) == len(sources), run.trace.samples, duts, "" if len(duts) == len(sources) else "missing dut lines"
        )


def describe_first(answer: dict, expected: Trace, got: Trace, sample: int) -> dict:
    """The first mismatch of a generated task in words and as data."""
    per_step = samples_per_step(answer)
    step, phase = divmod(sample, per_step)
    inputs_ports = [(str(n), int(w)) for n, w in answer["inputs"]]
    in_bits = format(int(answer["vectors"][step], 16), f"0{sum(w for _, w in inputs_ports)}b")
    inputs = split_bits(in_bits, inputs_ports)
    outputs = [(str(n), int(w)) for n, w in answer["outputs"]]
    wanted, had = split_bits(expected.at(sample), outputs), split_bits(got.at(sample), outputs)
    wrong = [name for name, _ in outputs if bad_bits(wanted[name], had[name])]
    when = (
        ("just before the rising clock edge" if phase == 0 else "just after the rising clock edge")
        if answer.get("clock")
        else "after the inputs settled"
    )
    shown = " ".join(f"{k}={v}" for k, v in inputs.items())
    diffs = "; ".join(f"{name} expected {wanted[name]}, got {had[name]}" for name in wrong)
    return {
        "text": f"first at step {step} ({when}; inputs {shown}): {diffs}",
        "data": {"step": step, "phase": phase, "inputs": inputs, "expected": wanted, "got": had},
    }
