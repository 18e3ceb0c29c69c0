"""Verilog: write a hardware module from a specification; it must behave like a hidden golden
reference under a generated testbench (the approach of CodeV-R1).

Task        One design from 16 families, each with random parameters, a golden ``RefModule``, an
            exact Python model of it, and a specification of ``TopModule`` (port list with widths,
            clock and reset conventions, behaviour):
            combinational  adder (add, subtract or add/subtract with carry/borrow in and out and
                           signed overflow), comparator (eq/lt/gt, unsigned or two's complement),
                           mux (2–8 inputs, unused select values give 0), decoder (one-hot, enable,
                           active-low), priority (highest or lowest set bit, valid), popcount
                           (count, at-least-T flag), parity (even or odd, of all bits or of a
                           drawn subset of at least two, per-group), alu (4–16 random operations
                           on random op codes, zero flag), bitmanip (reverse, rotate by a
                           constant or by an input, swap halves, Gray encode/decode, sign
                           extension), truthtable (random Boolean functions of 3–5 inputs);
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
            generation: directed corner vectors (all-zeros, all-ones, extremes, carries, one-hot and
            walking patterns, every select/op value, runs through counter wrap-around, the target pattern, W-method
            transition tests of the small state machines, a reset in the middle of activity), then
            random vectors (30 % special values; seqdet favours pieces of its pattern); sequential
            stimulus starts with reset and asserts it again at random steps (4 %) and before every
            directed sequence. Exhaustive when all input combinations fit.
            ``task.meta`` = {"family", "spec" (the concrete parameters: the design is rebuilt from
            it), "format", "directed_steps", "steps"}.
Verifier    ``rlvr.verifiers.verilog.VerilogVerifier``: Icarus Verilog in the sandbox simulates
            TopModule alone (no reference in its simulation); every sample compared on the host
            with the expected outputs by VerilogEval's X rule; binary reward (``partial=True``: the
            matching fraction above the best constant design's, rescaled to [0, 1]).
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

Hints       ``hint=h``: the port list, the state encoding (localparams), then the reference body a
            few lines at a time, about three quarters of it.
Difficulty  (rendered from the declaration below; "N kinds" counts the names a set holds)
            d     families  width  selects  ports  states  resets     formats  steps
            0     9 kinds   4      1        1      3       sync-high  prose    48
            0.25  12 kinds  6      2        2      4       2 kinds    prose    72
            0.5   16 kinds  8      2        2      5       3 kinds    2 kinds  96
            0.75  16 kinds  12     3        3      6       3 kinds    2 kinds  128
            1     16 kinds  16     3        3      7       4 kinds    2 kinds  160
            families at 0: adder, comparator, mux, decoder, parity, popcount, counter, shiftreg,
            edge; 0.25 adds priority, bitmanip, seqdet; 0.5 adds alu, truthtable, fsm, handshake.
            resets at 0: sync-high; 0.25 adds sync-low; 0.5 adds async-high; 1 adds async-low.
            formats: prose (0, 0.25); prose, waveform (0.5); waveform, table (0.75); table,
            waveform (1).
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
            than ``steps`` vectors). Sets (families, resets, formats) come from the nearest anchor
            at or below d; an explicit parameter wins and is checked against the declaration
            (``families="counter"``, ``families="adder,fsm"``; width 4–32, selects 1–3, ports
            1–3, states 3–9, steps 8–5000).

Version history
            v0  (2026-11) first release. 2026-12: declared in rlvr.families; task bytes unchanged
                (tests/test_golden_tasks.py). Overrides are checked and canonical before they name
                a task: a set given as a list or with spaces names the same task as its plain
                comma-separated text, and a name repeated in a set is refused. 2026-12-05:
                ``partial=True`` pays the matching fraction above a constant design's (outputs
                tied to 0 earned 0.27–0.44). Task bytes unchanged.
                2026-12-05 (session 7): train/held-out sides go by ``split_group`` (by the golden
                design; red team S7-1: one problem shown otherwise was on both sides), so split
                streams changed where a task's group lands elsewhere than its prompt did (re-
                pinned); raw-stream bytes unchanged.
                2026-12-06, red team s13 F5: parity was always the even parity of all of ``in`` at
                d = 0, so one design written from the port list (every output = ^{inputs})
                solved 17 % of d = 0 tasks. Parity now draws odd or even at every level and the
                bits that count (a mask uniform over the subsets of at least two bits, the whole
                input among them; the prose lists them): that design solves 1/22 of parity
                tasks at d = 0 and 1/114 at d = 0.25. Parity task bytes changed (re-pinned);
                other families' tasks unchanged.
                2026-12-06 (red team s17 V1, V2): the screen took `define include x for a macro
                of the candidate's own, so `include "ANY/PATH" passed it (Icarus reports the
                define as an error, compiles on and runs the include: any file the sandbox sees,
                unscreened), and a '.' in a macro call's arguments built a hierarchical name.
                Macros named like directives, module keywords in macro bodies or arguments, a
                module keyword not followed by a plain name and any '.' in macro arguments are
                refused, and any ": error:" Icarus prints fails the compile; a macro's text ends
                at a // comment and a real number's '.' is allowed (second pass). Tasks unchanged.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable, Int, Subset

COMBINATIONAL = (
    "adder",
    "comparator",
    "mux",
    "decoder",
    "priority",
    "popcount",
    "parity",
    "alu",
    "bitmanip",
    "truthtable",
)
SEQUENTIAL = ("counter", "shiftreg", "edge", "seqdet", "fsm", "handshake")
FAMILIES = COMBINATIONAL + SEQUENTIAL
BASIC_FAMILIES = ("adder", "comparator", "mux", "decoder", "parity", "popcount", "counter", "shiftreg", "edge")
MIDDLE_FAMILIES = BASIC_FAMILIES + ("priority", "bitmanip", "seqdet")
RESET_STYLES = ("sync-high", "sync-low", "async-high", "async-low")
FORMATS = ("prose", "table", "waveform")

FAMILY = Family(
    name="verilog",
    generator="rlvr.generators.verilog:VerilogGenerator",
    verifier="rlvr.verifiers.verilog:VerilogVerifier",
    table=DifficultyTable(
        {
            "families": Subset(*FAMILIES, doc="design families drawn from"),
            "width": Int(4, 32, doc="data bits of the datapath"),
            "selects": Int(1, 3, doc="select/op-code bits (mux, decoder, alu) and truthtable inputs − 2"),
            "ports": Int(1, 3, doc="optional ports and outputs switched on"),
            "states": Int(3, 9, doc="seqdet pattern length and fsm state count"),
            "resets": Subset(*RESET_STYLES, doc="reset styles drawn from (sequential designs)"),
            "formats": Subset(*FORMATS, doc="specification formats drawn from"),
            "steps": Int(8, 5000, doc="stimulus length (directed then random steps)"),
        },
        {
            0.0: {
                "families": ",".join(BASIC_FAMILIES),
                "width": 4,
                "selects": 1,
                "ports": 1,
                "states": 3,
                "resets": "sync-high",
                "formats": "prose",
                "steps": 48,
            },
            0.25: {
                "families": ",".join(MIDDLE_FAMILIES),
                "width": 6,
                "selects": 2,
                "ports": 2,
                "states": 4,
                "resets": "sync-high,sync-low",
                "formats": "prose",
                "steps": 72,
            },
            0.5: {
                "families": ",".join(FAMILIES),
                "width": 8,
                "selects": 2,
                "ports": 2,
                "states": 5,
                "resets": "sync-high,sync-low,async-high",
                "formats": "prose,waveform",
                "steps": 96,
            },
            0.75: {
                "families": ",".join(FAMILIES),
                "width": 12,
                "selects": 3,
                "ports": 3,
                "states": 6,
                "resets": "sync-high,sync-low,async-high",
                "formats": "waveform,table",
                "steps": 128,
            },
            1.0: {
                "families": ",".join(FAMILIES),
                "width": 16,
                "selects": 3,
                "ports": 3,
                "states": 7,
                "resets": ",".join(RESET_STYLES),
                "formats": "table,waveform",
                "steps": 160,
            },
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/Verilog-v0",
            "Write a Verilog module from a generated spec; simulated (Icarus) against a golden reference",
        ),
    ),
    verifier_options={
        "partial": "reward the matching fraction above a constant design's (default false)",
        "deadline_s": "wall-clock bound of one verdict in seconds, at least 6 "
        "(default 20; each simulation gets 4 s less)",
        "sandbox": "where untrusted code runs: auto | bwrap | docker (default auto: bwrap, else docker)",
        "image": "sandbox=docker: the image (default the locally built base image; rlvr sandbox build-image)",
    },
)
