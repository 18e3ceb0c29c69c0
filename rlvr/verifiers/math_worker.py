r"""The math worker: a child process that judges answers with sympy and math-verify.

Why a process  math-verify bounds its own work with ``signal.alarm``, which only works on the
               main thread and cannot interrupt one long big-integer operation; parsing or even
               printing ``5^5^5^5`` can run for minutes. Here that can only cost this process:
               the parent (rlvr.verifiers.math.MathVerifier) kills it at its deadline and
               starts another.
Start          ``python -I -c "…main(memory_mb)"``: imports sympy and math-verify, caps its
               address space at ``memory_mb`` (RLIMIT_AS), ignores SIGINT (the parent decides
               when it ends), points stray prints at stderr, then serves requests.
Protocol       One JSON object per line on stdin, one reply per line on stdout.
               request  {"id": n, "spec": task.answer, "deadline_s": seconds left,
                         "answer": candidate text, "extracted": preview}
                        or {"id": n, "spec": …, "response": whole response} (extract here)
               reply    {"id": n, "verdict": Verdict.to_dict()} or {"id": n, "error": text}
End            EOF on stdin, or the parent process gone (checked every second).
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import sys
import threading
import time
from typing import Any

PARENT_CHECK_INTERVAL_S = 1.0
# An answer with words in it (outside \text{…} and LaTeX commands) is read the way math-verify
# reads free text; wrapped in \boxed{} its letters would become a product of symbols.
TEXT_COMMAND = re.compile(r"\\(?:text|textbf|textit|mathrm|mbox|operatorname)\s*\{[^{}]*\}")
PROSE = re.compile(r"(?:^|(?<=\s))[A-Za-z]{3,}(?=[\s.,;:!?]|$)")  # a word between spaces, not {pmatrix}


def main(memory_mb: int = 1024) -> None:
    protocol_in = sys.stdin.buffer
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # prints from libraries cannot corrupt replies
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    judge = Judge()  # imports and warms math-verify before the memory cap
    limit_memory(memory_mb)
    parent = os.getppid()
    threading.Thread(target=exit_when_orphaned, args=(parent,), daemon=True).start()

    for line in iter(protocol_in.readline, b""):
        reply = judge.reply(line)
        protocol_out.write((json.dumps(reply, ensure_ascii=True) + "\n").encode("ascii"))
        protocol_out.flush()


def limit_memory(memory_mb: int) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = int(memory_mb) * 2**20
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))


def exit_when_orphaned(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_INTERVAL_S)
        if os.getppid() != parent:
            os._exit(0)


class Judge:
    """Symbolic judging of one screened answer (see rlvr.verifiers.math for the rules)."""

    def __init__(self) -> None:
        import math_verify
        import sympy

        from rlvr.verifiers import math as rules

        self.math_verify = math_verify
        self.sympy = sympy
        self.rules = rules
        math_verify.verify(math_verify.parse(r"\boxed{\frac{1}{2}}"), math_verify.parse(r"\boxed{0.5}"))

    def reply(self, line: bytes) -> dict:
        request_id, request = None, None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            return {"id": request_id, "verdict": self.judge(request).to_dict()}
        except MemoryError:
            return {"id": request_id, "verdict": self.failure(request, "ran out of memory while judging")}
        except RecursionError:
            return {"id": request_id, "verdict": self.failure(request, "the answer is nested too deeply to parse")}
        except Exception as error:  # the parent turns this into a zero verdict
            return {"id": request_id, "error": f"{type(error).__name__}: {str(error)[:300]}"}

    def failure(self, request: Any, reason: str) -> dict:
        from rlvr.core import Verdict

        spec = request.get("spec", {}) if isinstance(request, dict) else {}
        preview = str(request.get("extracted", "")) if isinstance(request, dict) else ""
        return Verdict.fail(reason, answer=preview[:200], path="math-verify", form=spec.get("form", "any")).to_dict()

    def judge(self, request: dict):
        spec = request["spec"]
        seconds = max(1, math.floor(float(request.get("deadline_s", 5.0)) - 0.25))
        if "response" in request:
            verdict, extracted, candidate = self.rules.judge_response_cheaply(spec, request["response"])
            if verdict is not None:
                return verdict
        else:
            extracted, candidate = request.get("extracted", ""), request["answer"]
        return Symbolic(self, spec, extracted, seconds).verdict(candidate)


class Symbolic:
    """One answer against one gold, with math-verify's own alarms set to ``seconds``."""

    def __init__(self, judge: Judge, spec: dict, extracted: str, seconds: int):
        self.mv, self.sp, self.rules = judge.math_verify, judge.sympy, judge.rules
        self.spec, self.extracted, self.seconds = spec, extracted, seconds
        self.form = spec["form"]

    def done(self, correct: bool, reason: str, format_ok: bool = True):
        return self.rules.verdict_for(self.spec, self.extracted, "math-verify", correct, reason, format_ok)

    def parse(self, latex: str) -> list:
        return self.mv.parse("\\boxed{" + latex + "}", parsing_timeout=self.seconds)

    def equal(self, gold: list, answer: list) -> bool:
        return bool(self.mv.verify(gold, answer, timeout_seconds=self.seconds))

    def verdict(self, candidate: str):
        if self.form == "any":
            return self.any_form(candidate)
        if self.form in ("set", "tuple"):
            return self.elements(candidate)
        return self.polynomial_form(candidate)

    def any_form(self, candidate: str):
        answer = []
        if PROSE.search(TEXT_COMMAND.sub(" ", candidate)):  # "18 dollars", "the answer is 5"
            answer = [p for p in self.mv.parse(candidate, parsing_timeout=self.seconds)]
        if not any(isinstance(p, self.sp.Basic) for p in answer):
            answer = self.parse(candidate)
        if not answer:
            return self.done(False, "could not parse the answer", False)
        gold = self.parse(self.spec["gold"])
        if not gold:
            raise ValueError(f"could not parse the gold answer {self.spec['gold'][:80]!r}")
        correct = self.equal(gold, answer)
        return self.done(correct, "correct" if correct else "incorrect: not equivalent to the gold answer")

    def number_of(self, latex: str):
        parsed = self.parse(latex)
        value = next((p for p in parsed if isinstance(p, self.sp.Basic)), None)
        if value is None or not isinstance(value, self.sp.Expr) or value.free_symbols:
            return None
        return parsed

    def elements(self, candidate: str):
        values = [v for _, v in self.rules.answer_elements(candidate, self.form)]
        answers = [self.number_of(v) for v in values]
        if any(a is None for a in answers):
            return self.done(False, "every element must be a number", False)
        golds = [self.parse(v) for v in self.spec["values"]]
        if self.form == "tuple":
            if len(answers) != len(golds):
                return self.done(False, f"expected {len(golds)} coordinates, got {len(answers)}")
            correct = all(self.equal(g, a) for g, a in zip(golds, answers))
            return self.done(correct, "correct" if correct else "incorrect: a coordinate differs")
        missing = sum(not any(self.equal(g, a) for a in answers) for g in golds)
        extra = sum(not any(self.equal(g, a) for g in golds) for a in answers)
        if missing or extra:
            return self.done(False, f"incorrect: {missing} root(s) missing, {extra} extra value(s)")
        return self.done(True, "correct")

    def expression_of(self, latex: str):
        parsed = self.parse(latex)
        expression = next((p for p in parsed if isinstance(p, self.sp.Basic)), None)
        return parsed, (expression if isinstance(expression, self.sp.Expr) else None)

    def polynomial_form(self, candidate: str):
        name = self.spec.get("variable", "x")
        answer_parsed, answer = self.expression_of(candidate)
        if answer is None:
            return self.done(False, "could not parse the answer as an expression", False)
        strangers = sorted(str(s) for s in answer.free_symbols if str(s) != name)
        if strangers:
            return self.done(False, f"unexpected symbols {strangers}; the answer must be in {name} only")
        gold_parsed, gold = self.expression_of(self.spec["gold"])
        if gold is None:
            raise ValueError(f"could not parse the gold answer {self.spec['gold'][:80]!r}")
        # the parser's own symbol (it carries assumptions such as real=True): gold and answer share it
        variable = next((s for s in sorted(answer.free_symbols | gold.free_symbols, key=str) if str(s) == name), self.sp.Symbol(name))
        difference = self.sp.expand(answer - gold)
        if difference == 0:
            correct = True
        elif difference.is_polynomial(variable):
            correct = False
        else:
            correct = self.equal(gold_parsed, answer_parsed)
        if not correct:
            return self.done(False, "incorrect: not equal to the gold expression")
        if self.form == "expanded" and not is_expanded_polynomial(self.sp, answer, variable):
            return self.done(False, "equal, but not expanded (products, powers of sums or uncombined like terms remain)")
        if self.form == "factored":
            count = count_polynomial_factors(self.sp, answer, variable)
            wanted = int(self.spec["factor_count"])
            if count is None:
                return self.done(False, "equal, but not a product of polynomial factors")
            if count != wanted:
                return self.done(False, f"equal, but not completely factored ({count} factors, {wanted} irreducible)")
        return self.done(True, "correct")


def flatten(sp, expression, kind) -> list:
    """Arguments of nested (possibly unevaluated) Add or Mul nodes."""
    out = []
    for arg in kind.make_args(expression):
        if isinstance(arg, kind):
            out.extend(flatten(sp, arg, kind))
        else:
            out.append(arg)
    return out


def is_expanded_polynomial(sp, expression, variable) -> bool:
    """A sum of number·x^k terms with distinct k, no products or powers of sums."""
    degrees = set()
    for term in flatten(sp, expression, sp.Add):
        degree = 0
        for factor in flatten(sp, term, sp.Mul):
            if factor.is_number:
                continue
            if factor == variable:
                degree += 1
            elif factor.is_Pow and factor.base == variable and factor.exp.is_Integer and factor.exp > 0:
                degree += int(factor.exp)
            else:
                return False
        if degree in degrees:
            return False
        degrees.add(degree)
    return True


def count_polynomial_factors(sp, expression, variable) -> int | None:
    """Non-constant factors counted with multiplicity, or None when the expression is not a
    product of powers of polynomials with rational coefficients."""
    total = 0
    for factor in flatten(sp, expression, sp.Mul):
        if factor.is_number:
            if not factor.is_rational:
                return None
            continue
        base, exponent = factor.as_base_exp() if factor.is_Pow else (factor, sp.Integer(1))
        if not (exponent.is_Integer and exponent > 0) or not base.is_polynomial(variable):
            return None
        polynomial = sp.Poly(base, variable)
        if polynomial.degree() < 1 or not (polynomial.domain.is_ZZ or polynomial.domain.is_QQ):
            return None
        total += int(exponent)
    return total


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1024)
