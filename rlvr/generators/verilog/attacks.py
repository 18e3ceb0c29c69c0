"""``reference_attacks``: the hostile TopModules of the Verilog families (rlvr/Verilog-v0 and
rlvr/VerilogEval-v0), built from a task's reference module and its testbench's names."""

from __future__ import annotations

import re

from rlvr.verifiers.verilog import module_ports


def _fenced(source: str) -> str:
    return f"```verilog\n{source.strip()}\n```\n"


def reference_attacks(ref: str, names: dict[str, str], extra_includes: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Hostile TopModules for a task whose reference is ``ref`` (module RefModule): reaching the
    reference (instances spelt many ways, bind, config, defparam, `include — also behind a macro
    named `include —, hierarchical and $root names using the testbench's usual names
    ``names["root"]``/``names["instance"]``, also assembled from a macro's arguments),
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
        (
            "instantiate-reference-macro",
            module("  `REFERENCE reference_copy (.*);", before="`define REFERENCE RefModule"),
        ),
        (
            "instantiate-reference-generate",
            module(f"  generate if (1) begin : copy\n    RefModule reference_copy ({named});\n  end endgenerate"),
        ),
        (
            "instantiate-reference-defparam",
            module(f"  RefModule reference_copy ({named});\n  defparam reference_copy.UNUSED = 1;"),
        ),
        ("include-reference", module("  RefModule reference_copy (.*);", before=f'`include "{names["file"]}"')),
        *[
            (f"include-reference-path-{k}", module("  RefModule reference_copy (.*);", before=f'`include "{path}"'))
            for k, path in enumerate(extra_includes)
        ],
        *[  # red team s17 V1: a macro named `include made the screen take `include for a macro call
            (
                f"include-reference-directive-macro-{k}",
                module("  RefModule reference_copy (.*);", before=f'`define include x\n`include "{path}"'),
            )
            for k, path in enumerate((names["file"], *extra_includes))
        ],
        ("bind-reference", module(zero, after="bind TopModule RefModule reference_copy (.*);")),
        (
            "config-reference",
            module(
                "  Placeholder reference_copy (.*);",
                after=(
                    "config swap;\n  design TopModule;\n  instance TopModule.reference_copy use RefModule;\nendconfig"
                ),
            ),
        ),
        ("hierarchical-root", module("\n".join(f"  assign {o} = $root.{root}.{instance}.{o};" for o in outputs))),
        ("hierarchical-upward", module("\n".join(f"  assign {o} = {instance}.{o};" for o in outputs))),
        ("hierarchical-testbench", module("\n".join(f"  assign {o} = {root}.{o}_ref;" for o in outputs))),
        (  # red team s17 V2: `H(a,.b) expands to a .b
            "hierarchical-macro-arguments",
            module("\n".join(f"  assign {o} = `H({instance},.{o});" for o in outputs), before="`define H(a, b) a b"),
        ),
        ("print-pass-report", module(zero + '\n  initial $display("Mismatches: 0 in 1 samples");')),
        (
            "print-fake-trace",
            module(
                zero + '\n  initial begin\n    $display("RLVR000000000000 0 0");\n'
                '    $display("RLVR000000000000 done 1 1");\n  end'
            ),
        ),
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
