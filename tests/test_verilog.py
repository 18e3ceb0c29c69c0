"""Verilog family: generated designs (golden passes, the Python model matches the golden, single
mutations die), VerilogEval (153/156 references pass, three tool errors), the trust boundary (the
candidate's simulation holds no reference; reaching for it fails to elaborate even without the
screen), the attack library, and anti-spoofing."""

import collections
import dataclasses
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gymnasium as gym
import pytest

import rlvr
from rlvr.generators.verilog import (
    BASIC_FAMILIES,
    FAMILIES,
    MIDDLE_FAMILIES,
    VerilogGenerator,
    bits,
    measure_mutants,
    model_samples,
    mutants,
    vectors_of,
)
from rlvr.generators.verilog_eval import KNOWN_TOOL_ERRORS, VerilogEvalGenerator, list_problems
from rlvr.verifiers.verilog import (
    Screen,
    VerilogVerifier,
    expected_trace,
    extract_verilog,
    parse_trace,
    screen_verilog,
)

DIFFICULTIES = (0.0, 0.5, 1.0)
KILL_SEEDS = range(3)
OVERALL_KILL_RATE = 0.95  # measured 0.978 (1499 of 1533 mutants) on these 144 tasks
CATEGORY_KILL_RATE = {
    "operator": 1.0,
    "reset": 1.0,
    "bits": 0.95,
    "constant": 0.93,
    "fsm": 0.95,
}  # measured 1, 1, 0.988, 0.965, 0.985
VERILOG_EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "verilog-eval" / "dataset_spec-to-rtl"


def verilog_eval(**options) -> VerilogEvalGenerator:
    """The VerilogEval generator on the shared VerilogEval v2 data; the test is skipped without it."""
    if not VERILOG_EVAL.is_dir():
        pytest.skip(f"VerilogEval data absent: {VERILOG_EVAL}")
    return VerilogEvalGenerator(dataset=VERILOG_EVAL, **options)


@pytest.fixture(scope="module")
def verifier():
    v = VerilogVerifier()
    yield v
    v.close()


@pytest.fixture(scope="module")
def quick_verifier():
    """A short deadline: the simulation gets deadline_s - 4 = 2 s."""
    v = VerilogVerifier(deadline_s=6.0, cache_size=0)
    yield v
    v.close()


def fenced(source: str) -> str:
    return f"Here it is.\n```verilog\n{source}\n```\n"


# ---------------------------------------------------------------------------------------------
# Generator contract
# ---------------------------------------------------------------------------------------------


def test_difficulty_table_matches_the_docstring():
    table = VerilogGenerator.table
    expected = {
        0.0: (BASIC_FAMILIES, 4, 1, 1, 3, ("sync-high",), ("prose",), 48),
        0.25: (MIDDLE_FAMILIES, 6, 2, 2, 4, ("sync-high", "sync-low"), ("prose",), 72),
        0.5: (FAMILIES, 8, 2, 2, 5, ("sync-high", "sync-low", "async-high"), ("prose", "waveform"), 96),
        0.75: (FAMILIES, 12, 3, 3, 6, ("sync-high", "sync-low", "async-high"), ("waveform", "table"), 128),
        1.0: (FAMILIES, 16, 3, 3, 7, ("sync-high", "sync-low", "async-high", "async-low"), ("table", "waveform"), 160),
    }
    for d, (families, width, selects, ports, states, resets, formats, steps) in expected.items():
        p = table.resolve(d)
        assert tuple(p["families"].split(",")) == families
        assert (p["width"], p["selects"], p["ports"], p["states"], p["steps"]) == (width, selects, ports, states, steps)
        assert tuple(p["resets"].split(",")) == resets and tuple(p["formats"].split(",")) == formats
    assert len(BASIC_FAMILIES) == 9 and len(MIDDLE_FAMILIES) == 12 and len(FAMILIES) == 16


def test_parameters_are_checked_and_canonical_before_they_name_a_task():
    from rlvr.generators.verilog import BUILDERS, SAMPLERS

    assert tuple(SAMPLERS) == tuple(BUILDERS) == FAMILIES  # every declared family has its code
    generator = VerilogGenerator()
    plain = generator.generate(5, 0.5, families="adder,fsm", resets="async-low")
    for spelling in (["adder", "fsm"], " adder , fsm", ("adder", "fsm")):
        assert generator.generate(5, 0.5, families=spelling, resets=["async-low"]).to_dict() == plain.to_dict()
    bad = {
        "families": "adder,adder",
        "resets": "sync",
        "formats": "",
        "width": 33,
        "steps": 7,
        "selects": "2.5",
        "states": True,
        "ports": 0,
    }
    for name, value in bad.items():
        with pytest.raises(ValueError, match=name) as raised:
            generator.generate(0, 0.5, **{name: value})
        assert "\n" not in str(raised.value)
    assert generator.generate(0, 0.5, width="12").params["width"] == 12


def test_generated_tasks_follow_their_parameters():
    generator = VerilogGenerator()
    for d in DIFFICULTIES:
        p = generator.table.resolve(d)
        for seed in range(40):
            task = generator.generate(seed, d)
            assert task.meta["family"] in p["families"].split(",")
            assert task.meta["format"] in p["formats"].split(",")
            space = 2 ** sum(w for _, w in task.answer["inputs"])
            assert len(task.answer["vectors"]) >= min(p["steps"], space)
            assert "```verilog" in task.prompt and "TopModule" in task.prompt
    adder = generator.generate(1, 1.0, families="adder")
    assert dict(map(tuple, adder.answer["inputs"]))["a"] == 16
    counter = generator.generate(2, 1.0, families="counter")
    assert counter.answer["clock"] == "clk" and counter.answer["inputs"][0][0] in (
        "reset",
        "resetn",
        "areset",
        "aresetn",
    )
    seqdet = generator.generate(3, 1.0, families="seqdet")
    assert len(seqdet.meta["spec"]["target"]) == 7
    resets = {generator.generate(s, 1.0, families="counter").answer["inputs"][0][0] for s in range(40)}
    assert resets == {"reset", "resetn", "areset", "aresetn"}
    with pytest.raises(ValueError):
        generator.generate(0, 0.5, families="nonsense")


def test_every_family_every_format_appears():
    generator = VerilogGenerator()
    seen = collections.Counter()
    for seed in range(300):
        task = generator.generate(seed, 0.75)
        seen[(task.meta["family"])] += 1
        seen[task.meta["format"]] += 1
    assert all(seen[f] for f in FAMILIES)
    assert seen["waveform"] and seen["table"]


def test_prompt_formats_differ():
    generator = VerilogGenerator()
    prose = generator.generate(4, 0.0, families="decoder", formats="prose").prompt
    table = generator.generate(4, 0.0, families="decoder", formats="table").prompt
    wave = generator.generate(4, 0.0, families="counter", formats="waveform").prompt
    assert "truth table" in table.lower() and "truth table" not in prose.lower()
    assert "Example waveform" in wave and "cycle" in wave


# ---------------------------------------------------------------------------------------------
# Golden, model and mutants (one batched simulation per task)
# ---------------------------------------------------------------------------------------------


def _family_run(job):
    family, difficulty, seed, verifier = job
    task = rlvr.make_task("rlvr/Verilog-v0", seed=seed, difficulty=difficulty, families=family)
    results, sim = measure_mutants(task, verifier)
    return task, results, sim


def test_golden_passes_model_agrees_and_mutants_die(verifier):
    """Dut 0 is the golden module, compared with the task's expected outputs (the Python model):
    zero mismatches means the model the verifier trusts agrees with the golden everywhere."""
    jobs = [(f, d, s, verifier) for f in FAMILIES for d in DIFFICULTIES for s in KILL_SEEDS]
    totals, killed = collections.Counter(), collections.Counter()
    with ThreadPoolExecutor(2) as pool:
        for task, results, sim in pool.map(_family_run, jobs):
            assert sim.samples == len(task.answer["vectors"]) * (2 if task.answer["clock"] else 1), task.id
            assert sim.duts[0][0] == 0, (task.id, "the Python model disagrees with the golden", sim.duts[0])
            assert sim.duts[1][0] > 0, (task.id, "wrong_response survived")
            for result in results:
                totals[result.mutant.category] += 1
                killed[result.mutant.category] += result.first_mismatch is not None
    assert set(totals) == set(CATEGORY_KILL_RATE)
    overall = sum(killed.values()) / sum(totals.values())
    assert overall >= OVERALL_KILL_RATE, (overall, dict(killed), dict(totals))
    for category, floor in CATEGORY_KILL_RATE.items():
        assert killed[category] / totals[category] >= floor, (category, killed[category], totals[category])


def test_expected_outputs_are_the_models_and_a_reference_run_agrees(verifier):
    """``answer["expected"]`` is the model's output per sample; a task without it gets its
    expected outputs from a trusted reference run, which gives the same trace (x only where
    the model does not know the state, before the first reset)."""
    for family in FAMILIES:
        task = rlvr.make_task("rlvr/Verilog-v0", seed=4, difficulty=1.0, families=family)
        design = VerilogGenerator.design_of(task)
        outputs = [(n, int(w)) for n, w in task.answer["outputs"]]
        model = model_samples(design, vectors_of(task))
        assert len(task.answer["expected"]) == len(model)
        for entry, sample in zip(task.answer["expected"], model):
            if sample is None:
                assert entry == "x"
            else:
                assert format(int(entry, 16), f"0{sum(w for _, w in outputs)}b") == "".join(
                    bits(sample[n], w) for n, w in outputs
                )
        legacy = {k: v for k, v in task.answer.items() if k != "expected"}
        simulated = verifier.reference(legacy).result(timeout=60)
        expected = expected_trace(task.answer)
        assert simulated.samples == expected.samples and simulated.widths == expected.widths
        for sample in range(expected.samples):
            want, got = expected.at(sample), simulated.at(sample)
            assert want == got or set(want) == {"x"}, (task.id, sample, want, got)
        legacy_task = dataclasses.replace(task, answer=legacy)
        assert verifier.verify(legacy_task, rlvr.solve(task)).correct
        assert not verifier.verify(legacy_task, VerilogGenerator().wrong_response(task)).correct


def test_mutants_cover_the_issue_categories():
    generator = VerilogGenerator()
    counter = generator.generate(0, 0.5, families="counter")
    fsm = generator.generate(0, 0.5, families="fsm")
    adder = generator.generate(0, 0.5, families="adder")
    categories = {m.category for t in (counter, fsm, adder) for m in mutants(t)}
    assert categories == {"operator", "constant", "bits", "reset", "fsm"}
    for mutant in mutants(counter):
        assert mutant.source != VerilogGenerator.design_of(counter).module("TopModule")
        assert screen_verilog(mutant.source).reason is None


def test_reference_and_wrong_response_through_the_env(verifier):
    generator = VerilogGenerator()
    for family in FAMILIES:
        task = generator.generate(11, 0.75, families=family)
        good = verifier.verify(task, generator.solve(task))
        assert good.correct and good.reward == 1.0, (task.id, good)
        bad = verifier.verify(task, generator.wrong_response(task))
        assert not bad.correct and bad.reward == 0.0 and bad.format_ok, (task.id, bad)
        assert bad.reason.startswith("wrong:") and "first at step" in bad.reason, bad.reason
        assert bad.details["first_mismatch"]["expected"] != bad.details["first_mismatch"]["got"]


def test_partial_reward_is_the_matching_fraction_above_a_constant_design():
    partial = VerilogVerifier(partial=True)
    task = rlvr.make_task("rlvr/Verilog-v0", seed=2, difficulty=0.5, families="counter")
    verdict = partial.verify(task, VerilogGenerator().wrong_response(task))
    samples, mismatches = verdict.details["samples"], verdict.details["mismatches"]
    floor = verdict.details["constant_share"]
    assert 0 < mismatches < samples and 0 <= floor < 1
    expected = max(0.0, (1 - mismatches / samples - floor) / (1 - floor))
    assert verdict.reward == pytest.approx(expected, abs=1e-6) and not verdict.correct
    assert partial.verify(task, rlvr.solve(task)).reward == 1.0
    partial.close()


def test_constant_share_counts_the_most_frequent_output_vector():
    from rlvr.verifiers.verilog import Trace, constant_share

    trace = Trace(samples=10, widths=(2,), starts=(0, 3, 5, 9), values=("00", "01", "00", "11"))
    assert constant_share(trace) == pytest.approx(0.7)  # "00" holds samples 0-2 and 5-8
    wildcard = Trace(samples=10, widths=(2,), starts=(0, 3, 5, 9), values=("0x", "01", "00", "11"))
    assert constant_share(wildcard) == pytest.approx(0.7)  # "00" or "01" with the x read either way


def test_partial_credit_pays_tied_off_outputs_nothing():
    """Red team S5-5: a module with every output tied to 0 earned 0.27-0.44 under partial=True."""
    partial = VerilogVerifier(partial=True)
    rewards = []
    for seed in range(8):
        task = rlvr.make_task("rlvr/Verilog-v0", seed=seed, difficulty=0.5)
        attacks = dict(VerilogGenerator().attacks(task))
        rewards += [
            partial.verify(task, attacks[name]).reward for name in ("constant-zero", "constant-ones") if name in attacks
        ]
    partial.close()
    assert len(rewards) >= 8 and max(rewards) == 0.0, rewards


def test_verdicts_are_cached_per_response(monkeypatch):
    import rlvr.verifiers.verilog as module

    calls = []
    original = module.run_trace
    monkeypatch.setattr(module, "run_trace", lambda *a, **k: calls.append(1) or original(*a, **k))
    v = VerilogVerifier()
    task = rlvr.make_task("rlvr/Verilog-v0", seed=8, difficulty=0.2)
    first = v.verify(task, rlvr.solve(task))
    second = v.verify(task, "different words, same code\n" + rlvr.solve(task))
    assert first.correct and second == first and len(calls) == 1
    v.close()


# ---------------------------------------------------------------------------------------------
# VerilogEval
# ---------------------------------------------------------------------------------------------


def test_verilog_eval_references_pass_except_the_four_tool_errors(verifier):
    generator = verilog_eval(include_tool_errors=True)
    names = list_problems(VERILOG_EVAL)
    assert len(names) == 156 and sorted(generator.problems) == names

    def run(name):
        task = generator.problem_task(name)
        return name, verifier.verify(task, generator.solve(task))

    with ThreadPoolExecutor(2) as pool:
        verdicts = dict(pool.map(run, names))
    passed = [n for n, v in verdicts.items() if v.correct]
    assert len(passed) == 152
    assert sorted(set(names) - set(passed)) == sorted(KNOWN_TOOL_ERRORS)
    for name in KNOWN_TOOL_ERRORS:
        verdict = verdicts[name]
        assert verdict.reason.startswith("tool error") and verdict.details["tool_error"] and verdict.format_ok, verdict
        assert "wrong" not in verdict.reason


def test_a_reference_undefined_on_most_samples_grades_nothing(verifier):
    """Red team s13 F2: Prob053_m2014_q4d's reference is x on 99 of 100 samples and x matches
    anything, so a module tied to 0 passed.  Such a reference is a tool error for every answer."""
    from rlvr.verifiers.verilog import UNDEFINED_LIMIT, Trace, undefined_samples

    assert undefined_samples(Trace(10, (2,), (0, 3, 9), ("xx", "x1", "xx"))) == 4
    task = verilog_eval(include_tool_errors=True).problem_task("Prob053_m2014_q4d")
    zero = "```verilog\nmodule TopModule(input clk, input in, output logic out);\n  assign out = '0;\nendmodule\n```"
    for response in (zero, rlvr.solve(task)):
        verdict = verifier.verify(task, response)
        assert not verdict.correct and verdict.details["tool_error"], verdict
        assert "undefined" in verdict.reason and verdict.reason.startswith("tool error")
    assert UNDEFINED_LIMIT == 0.9


def test_verilog_eval_serving_and_tool_error_option(verifier):
    default, everything = verilog_eval(), verilog_eval(include_tool_errors=True)
    assert len(default.problems) == 152 and not set(KNOWN_TOOL_ERRORS) & set(default.problems)
    assert default.problems == [name for name in list_problems(VERILOG_EVAL) if name not in KNOWN_TOOL_ERRORS]
    assert default.generate(152).answer["problem"] == default.generate(0).answer["problem"] == "Prob001_zero"
    # the tool errors come last, so one id names one problem whichever way the generator was made
    assert everything.problems == default.problems + list(KNOWN_TOOL_ERRORS)
    for seed in range(0, 156, 5):
        row = seed % 152
        a, b = default.generate(row), everything.generate(row)
        assert a.id == b.id == f"verilogeval/v0/dataset/dataset_spec-to-rtl/{row}"
        assert a.to_dict() == b.to_dict() and a.meta == {
            "dataset": str(VERILOG_EVAL),
            "row": row,
            "problem": default.problems[row],
        }
    assert default.problem_task("Prob014_andgate").id == "verilogeval/v0/dataset/dataset_spec-to-rtl/13"
    assert default.problem_task("Prob054_edgedetect").id == "verilogeval/v0/dataset/dataset_spec-to-rtl/52"
    with pytest.raises(ValueError, match="include_tool_errors=True"):
        default.problem_task("Prob099_m2014_q6c")
    with pytest.raises(ValueError, match="no parameters"):
        default.generate(0, 0.5, width=4)
    env = gym.make("rlvr/VerilogEval-v0", include_tool_errors=True, dataset=str(VERILOG_EVAL))
    _, info = env.reset(seed=153)
    task = info["task"]
    assert task.answer["problem"] == "Prob099_m2014_q6c"  # row 152 is Prob053_m2014_q4d
    _, reward, _, _, step = env.step(rlvr.solve(task))
    assert reward == 0.0 and step["verdict"].reason.startswith("tool error")
    env.close()
    task = default.generate(20)
    assert "Mismatches" not in task.prompt and "```verilog" in task.prompt
    assert task.prompt.startswith(open(VERILOG_EVAL / f"{task.answer['problem']}_prompt.txt").read().strip()[:40])


def test_verilog_eval_wrong_modules_fail(verifier):
    generator = verilog_eval()
    for seed in (0, 13, 40, 77, 120, 152):
        task = generator.generate(seed)
        verdict = verifier.verify(task, generator.wrong_response(task))
        assert not verdict.correct and verdict.reason.startswith("wrong:") and "Output" in verdict.reason, (
            task.id,
            verdict,
        )
    task = generator.problem_task("Prob014_andgate")
    swapped = fenced("module TopModule(input a, input b, output out);\n  assign out = a | b;\nendmodule")
    assert not verifier.verify(task, swapped).correct


def test_verilog_eval_custom_directory(tmp_path, verifier):
    verilog_eval()  # skips without the data
    for name in ("Prob001_zero", "Prob014_andgate", "Prob099_m2014_q6c"):
        for suffix in ("_prompt.txt", "_ref.sv", "_test.sv"):
            (tmp_path / f"{name}{suffix}").write_text((VERILOG_EVAL / f"{name}{suffix}").read_text())
    generator = VerilogEvalGenerator(dataset=tmp_path)
    assert generator.problems == ["Prob001_zero", "Prob014_andgate"]
    task = rlvr.make_task("rlvr/VerilogEval-v0", seed=1, dataset=str(tmp_path))
    assert task.meta["dataset"] == str(tmp_path) and task.id == f"verilogeval/v0/dataset/{tmp_path.name}/1"
    assert task.answer["problem"] == task.meta["problem"] == "Prob014_andgate"
    assert verifier.verify(task, rlvr.solve(task)).correct
    assert not verifier.verify(task, generator.wrong_response(task)).correct


def test_verilog_eval_without_its_data_says_so_in_one_line(tmp_path):
    """The project ships no VerilogEval data: without ``dataset=``, with a missing folder or with
    a folder of no problems, construction fails with one line naming the option and the source."""
    (tmp_path / "Prob001_zero_prompt.txt").write_text("no _ref.sv, no _test.sv")
    makers = [
        lambda: VerilogEvalGenerator(),
        lambda: VerilogEvalGenerator(dataset=tmp_path / "missing"),
        lambda: VerilogEvalGenerator(dataset=tmp_path),
        lambda: rlvr.make_task("rlvr/VerilogEval-v0", seed=0),
        lambda: gym.make("rlvr/VerilogEval-v0"),
    ]
    for make in makers:
        with pytest.raises(ValueError) as raised:
            make()
        message = str(raised.value)
        assert "dataset" in message and "NVlabs/verilog-eval" in message and "dataset_spec-to-rtl" in message, message
        assert "\n" not in message, message


# ---------------------------------------------------------------------------------------------
# Anti-spoofing
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adder_task():
    task = rlvr.make_task("rlvr/Verilog-v0", seed=5, difficulty=0.0, families="adder")
    assert [n for n, _ in task.answer["outputs"]] == ["diff", "bout"]
    return task


def golden_with(task, extra: str, before: bool = False) -> str:
    source = re.sub(r"\bRefModule\b", "TopModule", task.answer["ref"])
    if before:
        return extra + "\n" + source
    return source.replace("endmodule", extra + "\nendmodule", 1)


REFUSED = {
    "prints the verdict": ('initial $display("Mismatches: 0 in 96 samples");', "$display"),
    "prints a sentinel": ('initial $write("RLVR0 done 96\\n");', "$write"),
    "ends the simulation": ("initial #1 $finish;", "$finish"),
    "stops the simulation": ("initial $stop;", "$stop"),
    "fatal": ('initial $fatal(1, "x");', "$fatal"),
    "opens a file": ('integer f; initial f = $fopen("tb.sv", "r");', "$fopen"),
    "reads memory": ('reg [7:0] m [0:3]; initial $readmemh("stimulus.hex", m);', "$readmemh"),
    "runs a command": ('initial $system("cat tb.sv");', "$system"),
    "reads plusargs": ('integer v; initial if ($value$plusargs("n=%d", v)) v = 0;', "$value$plusargs"),
    "random": ("wire [3:0] r = $random;", "$random"),
    "monitor after a string": ('localparam [15:0] S = "//"; initial $monitor(S);', "$monitor"),
    "hierarchical read": ("wire [3:0] spy = ref_inst.diff;", "hierarchical"),
    "hierarchical via macro": ("`define R ref_inst\nwire [3:0] spy = `R.diff;", "hierarchical"),
    "macro with a dot": ("`define D .\nwire w;", "macro"),
    "macro opening a comment": ("`define C /*\ninitial $finish; */", "macro"),
    "include": ('`include "tb.sv"', "`include"),
    # red team s17 V1: a macro named like a directive turned the screen's "defined macro" rule
    # into a pass for `include (any file the sandbox sees, never screened) and `ifdef
    "macro named include": ('`define include x\n`include "/usr/share/x.v"', "directive's name"),
    "macro named ifdef": ("`define ifdef x\n`ifdef X\n`endif", "directive's name"),
    # red team s17 V2: a dot in a macro's arguments builds a hierarchical name (`H(x,.y) → x.y)
    "hierarchy via macro arguments": ("`define H(a,b) a b\nwire [3:0] s = `H(ref_inst,.diff);", "macro's arguments"),
    "module named by a macro": ("`define R(n) n\nmodule `R(Spy)(input a); endmodule", "no plain name"),
    "module declared by a macro": ("`define M module\n`M Spy(input a); endmodule", "declares a module"),
    # second pass: a lone '.' in the arguments (`H(x,.) with a body "a b y"), a keyword as an argument
    "dot alone in macro arguments": ("`define H(a,b) a b diff\nwire [3:0] s = `H(ref_inst,.);", "macro's arguments"),
    "module keyword as a macro argument": ("`define K(a) a\n`K(module) Spy(input a); endmodule", "arguments"),
    "ifdef": ("`ifdef X\n`endif", "`ifdef"),
    "escaped identifier": ("wire \\ref_inst ;", "backslash"),
    "carriage return in a comment": ("// note\r initial $finish;", "control character"),
    "lone surrogate in a comment": ("// note \ud800", "lone surrogate"),  # red team S10-G4: an encoder error
    "lone surrogate in a string": ('localparam [7:0] S = "\udfff";', "lone surrogate"),
    "unterminated comment": ("/* never closed", "unterminated"),
    "dpi": ('import "DPI-C" function int f();', "DPI"),
    "bind": ("bind RefModule TopModule spy (.a(a));", "bind"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_spoofing_attempts_are_refused(name, adder_task, quick_verifier):
    extra, why = REFUSED[name]
    verdict = quick_verifier.verify(adder_task, fenced(golden_with(adder_task, extra)))
    assert verdict.reward == 0.0 and not verdict.correct, verdict
    assert verdict.reason.startswith("refused") and why in verdict.reason, verdict.reason


@pytest.mark.parametrize("module", ["RefModule", "rlvr_tb_0", "Top"])
def test_extra_modules_named_like_the_testbench_are_refused(module, adder_task, quick_verifier):
    extra = (
        f"module {module} (input [3:0] a, input [3:0] b, output [3:0] diff, output bout);\n"
        "  assign diff = a - b;\nendmodule"
    )
    verdict = quick_verifier.verify(adder_task, fenced(golden_with(adder_task, extra, before=True)))
    if module == "Top":  # an ordinary helper module is fine
        assert verdict.correct, verdict
    else:
        assert verdict.reason.startswith("refused") and module in verdict.reason, verdict


def test_honest_macros_with_comments_and_real_numbers_pass_the_screen():
    """A macro's text ends where a // comment starts, and a real number is no '.' (red team s17
    second pass: these were refused)."""
    for macro in (
        "`define W 8 // the bus width, in bits.",
        '`define W 8 // the "width"',
        "`define W 8 // used by module TopModule",
        "`define K 2.0",
        "`define K(a) (a * 1.5)",
    ):
        source = f"{macro}\nmodule TopModule(input a, output b);\n  assign b = a;\nendmodule\n"
        assert screen_verilog(source).reason is None, macro
    assert screen_verilog("`define W 8 /* x */\nmodule TopModule(); endmodule").reason is not None


def test_a_flood_of_warnings_does_not_fail_a_correct_design(adder_task, quick_verifier):
    """The compile log reaches the verdict cut to 64 KiB (red team s17 second pass: ~10,000
    warnings overran the output cap and a correct design scored 0)."""
    flood = "`define M 1\n`undef M\n`define D(a) a a a a a a a a a a\n`D(`D(`D(`D(`M))))"
    verdict = quick_verifier.verify(adder_task, fenced(golden_with(adder_task, flood, before=True)))
    assert verdict.correct, verdict


def test_an_error_icarus_compiles_past_fails_the_compile(adder_task, quick_verifier, monkeypatch):
    """Icarus reports a malformed `define as an error and still exits 0; with the screen
    switched off, such a source is a compile error all the same (red team s17 V1)."""
    import rlvr.verifiers.verilog as module

    monkeypatch.setattr(module, "screen_verilog", lambda source, reserved=(): Screen(None, ("TopModule",)))
    for extra in ("`define include x", "`define 9x 1"):
        verdict = quick_verifier.verify(adder_task, fenced(golden_with(adder_task, extra, before=True)))
        assert verdict.reward == 0.0 and "compile error" in verdict.reason and "define" in verdict.reason, verdict
    assert quick_verifier.verify(adder_task, fenced(golden_with(adder_task, "`define OK 1", before=True))).correct


def test_comments_and_strings_may_mention_system_tasks(adder_task, quick_verifier):
    extra = '// a $display would go here\n/* $finish; `include "x" a.b */\nlocalparam [8*9-1:0] NOTE = "$finish;";'
    assert quick_verifier.verify(adder_task, fenced(golden_with(adder_task, extra))).correct


def test_driving_an_input_from_the_candidate_fails_to_elaborate(adder_task, quick_verifier):
    source = (
        "module TopModule(output [3:0] a, input [3:0] b, output [3:0] diff, output bout);\n"
        "  assign a = 4'bxxxx;\n  assign diff = 4'bxxxx;\n  assign bout = 1'bx;\nendmodule"
    )
    verdict = quick_verifier.verify(adder_task, fenced(source))
    assert verdict.reward == 0.0 and verdict.reason.startswith("compile error"), verdict


@pytest.mark.parametrize("attack", ["initial force a = 4'bxxxx;", "assign a = 4'bxxxx;"])
def test_forcing_a_shared_input_does_not_reach_the_reference(attack, adder_task, quick_verifier):
    source = golden_with(adder_task, "").replace("  wire [4:0] total;", f"  {attack}\n  wire [4:0] total;")
    verdict = quick_verifier.verify(adder_task, fenced(source))
    assert verdict.reward == 0.0 and verdict.reason.startswith("wrong:")
    assert set(verdict.details["first_mismatch"]["expected"]["diff"]) <= {"0", "1"}


def test_compile_errors_report_the_first_error_line(adder_task, quick_verifier):
    source = (
        "module TopModule(input [3:0] a, input [3:0] b, output [3:0] diff, output bout);\n  assign diff = ;\nendmodule"
    )
    verdict = quick_verifier.verify(adder_task, fenced(source))
    assert verdict.reward == 0.0 and verdict.format_ok
    assert re.match(r"compile error: top\.sv:2: syntax error", verdict.reason), verdict.reason


@pytest.mark.parametrize(
    "loop",
    [
        "reg t = 1'b0;\n  always @(a or t) t <= ~t;",  # delta cycles forever at one time step
        "reg [31:0] n = 0;\n  always @(a) begin : spin\n    forever n = n + 1;\n  end",  # zero-delay loop
    ],
)
def test_endless_simulations_hit_the_time_limit(loop, adder_task, quick_verifier):
    verdict = quick_verifier.verify(adder_task, fenced(golden_with(adder_task, "  " + loop)))
    assert verdict.reward == 0.0 and not verdict.correct
    assert "did not finish" in verdict.reason and verdict.details["timed_out"], verdict


def test_no_verilog_block_is_a_format_error(adder_task, quick_verifier):
    source = re.sub(r"\bRefModule\b", "TopModule", adder_task.answer["ref"])
    for response in (source, f"```python\n{source}```", f"<think>```verilog\n{source}```</think>no code"):
        verdict = quick_verifier.verify(adder_task, response)
        assert verdict.reward == 0.0 and not verdict.format_ok
    assert extract_verilog(f"```verilog\nfirst\n```\n```sv\n{source}```") is None  # two blocks: a hedge
    hedge = quick_verifier.verify(adder_task, f"```verilog\n{source}```\n```verilog\n{source}```")
    assert hedge.reward == 0.0 and not hedge.format_ok and "exactly one" in hedge.reason
    assert extract_verilog(f"```text\nnotes\n```\n```sv\n{source}```") == source
    assert extract_verilog(f"```verilog\n{source}```\n```python\nprint(1)\n```\n```verilog\nunclosed") == source
    assert not extract_verilog("```verilog\n" * 1000)


@pytest.fixture(scope="module")
def andgate_task():
    return verilog_eval().problem_task("Prob014_andgate")


EVAL_SPOOFS = {
    "prints the report": 'initial $display("Mismatches: 0 in 100 samples");',
    "copies the reference": "assign out = good1.out;",
    "reads the testbench counters": "wire [31:0] e = tb.stats1.errors;",
}


@pytest.mark.parametrize("name", sorted(EVAL_SPOOFS))
def test_verilog_eval_spoofs_are_refused(name, andgate_task, quick_verifier):
    source = f"module TopModule(input a, input b, output out);\n  {EVAL_SPOOFS[name]}\nendmodule"
    verdict = quick_verifier.verify(andgate_task, fenced(source))
    assert verdict.reward == 0.0 and verdict.reason.startswith("refused"), verdict


def test_verilog_eval_testbench_internals_are_out_of_reach(andgate_task, quick_verifier):
    calls_task = (
        "module TopModule(input a, input b, output out);\n  assign out = a & b;\n"
        "  initial wait_for_end_of_timestep;\nendmodule"
    )
    verdict = quick_verifier.verify(andgate_task, fenced(calls_task))
    assert verdict.reward == 0.0 and verdict.reason.startswith("compile error"), verdict
    for module in ("tb", "stimulus_gen"):
        source = (
            f"module {module};\nendmodule\nmodule TopModule(input a, input b, output out);\n"
            "  assign out = a & b;\nendmodule"
        )
        verdict = quick_verifier.verify(andgate_task, fenced(source))
        assert verdict.reason.startswith("refused") and module in verdict.reason, verdict
    drives_input = (
        "module TopModule(output a, input b, output out);\n  assign a = 1'bx;\n  assign out = 1'bx;\nendmodule"
    )
    assert quick_verifier.verify(andgate_task, fenced(drives_input)).reward == 0.0


# ---------------------------------------------------------------------------------------------
# Trust boundary and attacks
# ---------------------------------------------------------------------------------------------

REACHES_THE_REFERENCE = (
    "instantiate-reference",
    "include-reference",
    "bind-reference",
    "config-reference",
    "hierarchical-",
)


def _attack(generator, task, name):
    return dict(generator.attacks(task))[name]


def test_instantiating_the_reference_scores_zero_on_many_seeds(verifier):
    generator, evals = VerilogGenerator(), verilog_eval()
    jobs = [(generator, generator.generate(seed, d)) for seed in range(20) for d in DIFFICULTIES]
    jobs += [(evals, evals.generate(seed)) for seed in range(0, 153, 3)]

    def run(job):
        source, task = job
        return task.id, verifier.verify(task, _attack(source, task, "instantiate-reference"))

    with ThreadPoolExecutor(2) as pool:
        for task_id, verdict in pool.map(run, jobs):
            assert verdict.reward == 0.0 and "Unknown module type: RefModule" in verdict.reason, (task_id, verdict)


@pytest.mark.parametrize("env", ["generated", "eval"])
def test_reaching_the_reference_fails_to_elaborate_even_without_the_screen(env, monkeypatch, quick_verifier):
    """By construction, not by screening: with the screen switched off, every way of naming the
    reference still scores 0 because the candidate's simulation has no reference in it."""
    import rlvr.verifiers.verilog as module

    monkeypatch.setattr(module, "screen_verilog", lambda source, reserved=(): Screen(None, ("TopModule",)))
    generator = VerilogGenerator() if env == "generated" else verilog_eval()
    for seed in (3, 30, 77):
        task = generator.generate(seed, 1.0)
        attacks = [(n, r) for n, r in generator.attacks(task) if n.startswith(REACHES_THE_REFERENCE)]
        assert len(attacks) >= 10
        for name, response in attacks:
            verdict = quick_verifier.verify(task, response)
            assert verdict.reward == 0.0 and verdict.reason.startswith("compile error"), (task.id, name, verdict.reason)


@pytest.mark.parametrize("env", ["generated", "eval"])
def test_the_candidate_run_holds_no_reference_and_no_expected_values(env, monkeypatch):
    from rlvr.verifiers.sandbox import Sandbox

    runs = []
    original = Sandbox.run

    def recording(self, argv, files=None, **kwargs):
        runs.append(dict(files or {}))
        return original(self, argv, files=files, **kwargs)

    monkeypatch.setattr(Sandbox, "run", recording)
    verifier = VerilogVerifier(cache_size=0)
    generator = VerilogGenerator() if env == "generated" else verilog_eval()
    task = generator.generate(9, 1.0)
    candidate = extract_verilog(generator.wrong_response(task))
    assert not verifier.verify(task, generator.wrong_response(task)).correct
    verifier.close()
    candidate_runs = [files for files in runs if files.get("top.sv") == candidate]
    assert len(candidate_runs) == 1
    body = task.answer["ref"].split(");", 1)[1]  # the reference's body, without its port list
    for name, text in candidate_runs[0].items():
        if name != "top.sv":
            assert "RefModule" not in text and body not in text, name
            assert "expected" not in name
    if env == "eval":  # the trusted reference run happened apart
        assert any(
            files.get("top.sv", "").startswith(task.answer["ref"].replace("RefModule", "TopModule")[:40])
            for files in runs
        )


@pytest.mark.parametrize("env", ["generated", "eval"])
def test_family_attacks_score_zero_within_the_deadline(env, quick_verifier):
    generator = VerilogGenerator() if env == "generated" else verilog_eval()
    for seed, difficulty in ((5, 0.0), (20, 1.0)):
        task = generator.generate(seed, difficulty)
        attacks = generator.attacks(task)
        names = {name for name, _ in attacks}
        assert {
            "instantiate-reference",
            "print-fake-trace",
            "finish-early",
            "zero-delay-loop",
            "constant-zero",
            "echo-inputs",
            "oversize-source",
            "deep-nesting",
        } <= names
        for name, response in attacks:
            started = time.monotonic()
            verdict = quick_verifier.verify(task, response)
            assert verdict.reward == 0.0 and not verdict.correct, (task.id, name, verdict.reason)
            assert time.monotonic() - started < quick_verifier.deadline_s + 2.0, (task.id, name)


def test_constant_attacks_are_left_out_where_they_solve_the_problem(quick_verifier):
    generator = verilog_eval()
    zero = generator.problem_task("Prob001_zero")
    names = {name for name, _ in generator.attacks(zero)}
    assert "constant-zero" not in names and "constant-ones" in names
    assert quick_verifier.verify(zero, _attack(generator, zero, "constant-ones")).reward == 0.0


def test_forged_or_broken_traces_are_refused():
    good = b"RLVRn 0 01\nRLVRn 3 11\nRLVRn done 5 1 1\n"
    trace, problem, _ = parse_trace(good, "n", 5)
    assert trace is not None and trace.starts == (0, 3) and trace.values == ("01", "11") and not problem
    broken = {
        "duplicate index": b"RLVRn 0 01\nRLVRn 0 11\nRLVRn done 5 1 1\n",
        "out of order": b"RLVRn 0 01\nRLVRn 4 11\nRLVRn 2 11\nRLVRn done 5 1 1\n",
        "not from 0": b"RLVRn 1 01\nRLVRn done 5 1 1\n",
        "after the end": b"RLVRn 0 01\nRLVRn done 5 1 1\nRLVRn 4 11\n",
        "two ends": b"RLVRn 0 01\nRLVRn done 5 1 1\nRLVRn done 5 1 1\n",
        "index past the end": b"RLVRn 0 01\nRLVRn 7 11\nRLVRn done 5 1 1\n",
        "width change": b"RLVRn 0 01\nRLVRn 2 011\nRLVRn done 5 1 1\n",
        "widths disagree": b"RLVRn 0 01\nRLVRn done 5 3\n",
        "odd characters": b"RLVRn 0 0q\nRLVRn done 5 1 1\n",
        "huge index": b"RLVRn 0 01\nRLVRn 99999999999 11\nRLVRn done 5 1 1\n",
        "wrong count": b"RLVRn 0 01\nRLVRn done 6 1 1\n",
        "comparing-bench line": b"RLVRn 0 01\nRLVRn dut 0 0 -1\nRLVRn done 5 1 1\n",
    }
    for name, stdout in broken.items():
        trace, problem, _ = parse_trace(stdout, "n", 5)
        assert trace is None and problem, name
    trace, problem, _ = parse_trace(b"RLVRn 0 01\n", "n", 5)
    assert trace is None and problem == ""  # no end line: the run did not finish
    other_nonce = b"RLVRm 0 11\nRLVRn 0 01\nRLVRm 1 00\nRLVRn done 5 1 1\n"
    assert parse_trace(other_nonce, "n", 5)[0].values == ("01",)
    started = time.monotonic()
    floods = [
        b"RLVRn 0 01\n" + b"x" * (16 << 20),
        b"RLVRn done" + b" 123456789" * 1_600_000 + b"x",
        b"RLVRn 0 " + b"01" * 8_000_000 + b"q",
        b"RLVRn 0 0\n" * 1_600_000,
    ]
    for flood in floods:  # the most a run can send back: read in linear time, and refused
        assert parse_trace(flood, "n", 5)[0] is None
    assert time.monotonic() - started < 8.0


@pytest.mark.parametrize("env_id", ["rlvr/Verilog-v0", "rlvr/VerilogEval-v0"])
def test_audit_passes(env_id):
    """`rlvr audit` (generic and family attacks), with a short deadline to keep it quick."""
    from rlvr.attacks import audit

    generator_options = {"dataset": str(verilog_eval().dataset)} if env_id == "rlvr/VerilogEval-v0" else {}
    report = audit(
        env_id,
        n=1,
        seed=11,
        difficulties=(0.0, 1.0),
        generator_options=generator_options,
        verifier_options={"deadline_s": 6.0},
    )
    assert report.passed, [(row.attack, row.example) for row in report.rows if row.failed]
    assert {"instantiate-reference", "hierarchical-root", "print-fake-trace"} <= {row.attack for row in report.rows}


def port_list_parity_design(task, inverted: bool) -> str:
    """The one design a policy can write without reading the behaviour: every output bit the
    XOR (or XNOR) of every input bit."""
    clock = [f"input {task.answer['clock']}"] if task.answer["clock"] else []
    inputs, outputs = task.answer["inputs"], task.answer["outputs"]
    ports = clock + [f"input [{w - 1}:0] {n}" for n, w in inputs] + [f"output [{w - 1}:0] {n}" for n, w in outputs]
    every_input = "{" + ", ".join(n for n, _ in inputs) + "}"
    op = "~^" if inverted else "^"
    body = "".join(f"  assign {n} = {{{w}{{{op}{every_input}}}}};\n" for n, w in outputs)
    return fenced(f"module TopModule({', '.join(ports)});\n{body}endmodule")


@pytest.mark.parametrize("difficulty,bound", [(0.0, 0.10), (0.25, 0.03)])
def test_one_design_from_the_port_list_solves_almost_no_parity_task(difficulty, bound, verifier):
    """Red team s13 F5: every d = 0 parity task was the even parity of all of ``in``, so
    ``assign out = ^{inputs}`` solved all of them (17 % of d = 0 tasks). Parity now draws odd or
    even and the bits that count (at least two), so either design solves only the
    even/odd parity of all bits: 1/22 of parity tasks at d = 0 (4 input bits, 11 subsets),
    1/114 at d = 0.25; bounded here by 10 % and 3 % (under 2 % and 0.5 % of all tasks)."""
    generator = VerilogGenerator()
    tasks = [generator.generate(seed, difficulty, families="parity") for seed in range(100)]
    for inverted in (False, True):
        solved = sum(verifier.verify(task, port_list_parity_design(task, inverted)).correct for task in tasks)
        assert solved / len(tasks) <= bound, (inverted, solved, len(tasks))
    assert verifier.verify(tasks[0], generator.solve(tasks[0])).correct
