r"""The math workers: child processes that judge answers with sympy and math-verify.

Why a process  math-verify bounds its own work with ``signal.alarm``, which only works on the
               main thread and cannot interrupt one long big-integer operation; parsing or even
               printing ``5^5^5^5`` can run for minutes. Here that can only cost a worker: the
               parent (rlvr.verifiers.math.MathVerifier) kills it at its deadline.
Template       ``python -I -c "…main(memory_mb)"`` with a Unix socket as stdin (the control
               socket): imports sympy and math-verify, caps its address space at ``memory_mb``
               (RLIMIT_AS), ignores SIGINT (the parent decides when it ends), points stray
               prints at stderr, then forks a worker for each socket the parent passes it
               (SCM_RIGHTS) and answers with the worker's process id. A worker therefore starts
               in milliseconds, warm, instead of re-importing for a second or more, so the parent
               can add workers while slow answers hold the others. The template never judges.
Protocol       Per worker, on its socket: one JSON object per line in, one reply per line out.
               request  {"id": n, "spec": task.answer (gold label dropped, "tolerance" added),
                         "deadline_s": seconds left, "answer": screened candidate text,
                         "extracted": preview}; the caller extracted and screened it, so the
                         text is at most rlvr.verifiers.math.MAX_ANSWER_CHARS long
               reply    {"id": n, "verdict": Verdict.to_dict()} or {"id": n, "error": text},
                         with "retire": true when the worker ends after it (Retirement)
Retirement     A request that raised MemoryError or ParseTimedOut, or ran for at least
               PARSE_TIMEOUT_SHARE of its alarm's seconds (an alarm of math-verify fired, or
               nearly: its verify alarm answers a silent "not equal"), or after which the
               worker's resident memory exceeds RETIRE_RSS_FACTOR times what it had when
               forked, retires the worker: it replies, then exits, and the parent drops it (the
               next request gets a fresh fork of the template). An interrupted big-integer
               operation leaves a worker hundreds of MB larger for good (heap fragmentation;
               red team S6-5), so such a worker is never handed another request.
Parsing        An answer is read by math-verify's LaTeX parser alone (``LatexExtractionConfig``,
               ``extraction_mode="first_match"``): what it cannot read whole is not read, and
               scores 0. math-verify's default fallbacks read a part as the whole: another
               LaTeX match inside the box (``\frac{4}{3} \hat \frac{1}{3}`` "is" 1/3), then its
               plain-expression extraction, the last number (``19 \hat 18``,
               ``\underline{19} 18``, ``\max{19} 18`` "are" 18). Free text keeps both
               extractions (finding "the answer is 5" is their job), but a LaTeX expression found
               in it is read again as LaTeX alone. Golds (trusted) keep both. A digit next to
               a letter of a non-Latin script is spaced from it first ("总共有99颗": math-verify's
               number patterns would not see 99), and in an expression holding a trigonometric
               function a degree sign is the factor π/180 (``\sin(90^{\circ}-x)`` is cos x).
               The verifier's options that math-verify ignores are applied here first
               (``units="strict"``: rules.unit_problem; ``ordered`` with a bare-list gold: each
               element parsed and compared in order, ``Symbolic.in_order``).
Numbers        math-verify compares numbers with an absolute tolerance (it takes 1/2^99 for
               1/2^98, and rounds floats to 6 places: ``\sqrt{4.000001}`` "is" 2). Its "equal"
               is therefore checked again here (``Symbolic.same_value``), element by element
               through tuples, sets, intervals and matrices. Against an exact gold (no decimal
               in it) every decimal of the answer is read back as the exact rational of the
               literal it was parsed from (``exact_decimals``; a float that comes from no
               literal fails), so values must be exactly equal (structurally, else their
               difference evaluated with up to 2 000 digits of working precision is exactly
               zero; expressions in a variable: their simplified difference is 0, and without
               decimals they must be equal numbers in that sense at SAMPLE_POINTS, since
               math-verify takes ``\sin x + 10^{-60}`` for ``\sin x``). The one
               exception is the rule of rlvr.verifiers.math.value_agrees: a PLAIN decimal (the
               whole answer or one element, ``-0.333333``) for a gold number that is no
               integer may be the gold correctly rounded. A decimal gold is matched within a
               relative 10⁻¹². An answer math-verify reads as a logical And/Or/Not for a gold
               that is a value scores 0. Its "not equal" stands.
Warm-up        While no fork request is waiting, the template parses WARM_UP_ANSWERS, compares
               WARM_UP_COMPARISONS and reads WARM_UP_TEXTS, one at a time (about 2 s in all, once;
               workers forked afterwards inherit the warm tables):
               math-verify's LaTeX parser builds its tables lazily and sympy's simplify imports
               modules on first use, so the first answer of a new shape would otherwise cost up
               to a second. A fork request that arrives meanwhile waits for at most one of them.
End            Template: EOF on the control socket, or the parent gone. Worker: EOF on its
               socket, or the template gone (both checked every second). The kernel reaps
               workers (the template ignores SIGCHLD); the parent watches them with pidfds.
"""

from __future__ import annotations

import cmath
import json
import math
import os
import re
import select
import signal
import socket
import sys
import threading
import time
from typing import Any

PARENT_CHECK_INTERVAL_S = 1.0
PARSE_TIMEOUT_SHARE = 0.9  # an empty parse that took this share of its alarm's seconds timed out
RETIRE_RSS_FACTOR = 2.0  # a worker whose resident memory grew past this multiple of its size at fork retires


class ParseTimedOut(Exception):
    """math-verify's parse alarm fired: the answer was not read (not: it cannot be read)."""


DECIMAL_LITERAL = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)\.[0-9]+")  # 4.000001, 1,000.5, .5
GOLD_CACHE_SIZE = 4096
# A digit next to a letter of a non-Latin script ("总共有99颗", "为13/28"): both are word
# characters to math-verify's number patterns, so the number is not found until spaced apart.
SCRIPT_DIGIT_BOUNDARY = re.compile(r"(?<=[^\W\d_\x00-\u03ff])(?=[0-9])|(?<=[0-9])(?=[^\W\d_\x00-\u03ff])")
TRIGONOMETRY = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?![A-Za-z])")
# Answers of the shapes the worker is sent (functions, powers of fractions, indexed names,
# matrices, relations, sets, text), parsed once at start to warm math-verify's LaTeX parser.
WARM_UP_ANSWERS = (
    r"\frac{a_{1}}{b_{1}} \frac{2}{\left(3+t / b_{1}\right)^{5 / 2}}",
    r"\frac{u_1 \cdot \left(\frac{s_1}{t + s_1}\right)^{1.5}}{(t - s_1)}",
    r"\sin^2(\theta) + \cos^{2} t - \tan u \sec(3t) + \csc v \cot w",
    r"\ln(t) + \log_{3} 9 + \log(u) + e^{-t^2} + \exp(2)",
    r"\arcsin(t) + \arctan \frac{1}{3} + \sqrt[4]{t^3} + t^{3/4} + |w + 2|",
    r"\begin{pmatrix} 2 & \cos(t) \\ -\frac{1}{3} & 1 \end{pmatrix} + \begin{bmatrix} 1 \\ 0 \end{bmatrix}",
    r"\left[ -\frac{5}{2}, 0 \right) \cup \left(2, \infty\right)",
    r"\{4, 5, 6\}",
    r"y_{1}=2^{\frac{1-\sqrt{5}}{2}}, y_{2} = 7",
    r"G_m = \sum_{j=1}^{m+1} G_j G_{m-j}",
    r"2 < |w| \le \frac{7}{3}",
    r"w = 2 + 4 = 6",
    r"(3, -4)",
    r"12 \text{ m}^3",
    r"45\%",
    r"30^{\circ}",
    r"\dfrac{\sqrt{\sqrt{7}+\sqrt{3}}}{4+\sqrt{21}}",
    r"g(t) = 5t^3 + t - \pi",
    r"\begin{cases} u+v=\frac13 \\ u-v=\sqrt2 \end{cases}",
    r"(-1)^\frac{{3}}{{7}}\left({2}-{e}^{{\frac{{2}}{{7}}}{i}\pi}\right)",
    r"\begin{pmatrix}2 & 1 \\ 0 & 3\end{pmatrix} \begin{pmatrix}1 & 4 \\ 2 & 5\end{pmatrix}",
    r"\mathrm{B}*3",
    r"x = 2 + 3 = 5",
    r"3:15",
)
# Free text of the shapes the worker reads whole (math-verify finds its final expression).
WARM_UP_TEXTS = (
    "Adding the two rows gives $x + y = 4$ and so the pair $(x, y)$ that solves it is $(1, 3)$.",
    "The product is $\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}0 & 1 \\\\ 1 & 0\\end{pmatrix}$.",
    "So the probability is 3/8, since each of the $8$ outcomes is equally likely.",
    "Die Antwort ist $\\frac{5}{6}$, also etwa 0,83.",
)
# Rational values given to the variables of two expressions math-verify found equal (a few
# unremarkable values, so no identity is hit at a pole): the numbers must then agree exactly.
# ``screened_functions``: points of each variable (the k-th variable at (top + 3k)/(bottom + 2k)),
# digits, and the relative difference that tells two expressions apart there
SCREEN_POINTS = ((3, 7), (11, 7), (5, 9), (13, 5))
SCREEN_DIGITS = 30
SCREEN_TOLERANCE = 1e-12
SAMPLE_POINTS = (((3, 7), (5, 11), (8, 13)), ((9, 17), (2, 3), (11, 19)))
WARM_UP_COMPARISONS = (
    (r"\frac{a}{b} \left(1 + \frac{t}{b}\right)^{-\frac{3}{2}}", r"\frac{a \sqrt{b}}{(b + t)^{1.5}}"),
    (r"\sin^2 t + \cos^2 t", r"1"),
    (r"\begin{pmatrix} 1 & t \end{pmatrix}", r"\begin{pmatrix} 1 & 2t - t \end{pmatrix}"),
)
DEGREES = re.compile(r"(?<![0-9.])([0-9]+(?:\.[0-9]+)?)\s*\^\s*(?:\{\s*\\circ\s*\}|\\circ)")


# A difference evalf could not resolve to one significant digit counts as zero only when its
# magnitude is below 2^-ZERO_BOUND_BITS (about 10^-900): a true zero of nested radicals comes back
# as "0.e-2968" (a Float with no significant bits); a difference it merely gave up on
# (10^3000 (cos²1 + sin²1 − 1) − 5 at 2 000 digits) comes back as "0.e+32", which is no evidence
# of equality. Values within 10^-900 of the gold that are not equal still pass (a near miss that
# takes the gold to write); only a symbolic proof would tell them apart.
ZERO_BOUND_BITS = 3_000
UNDEFINED = "not a well-formed answer: division by zero or another undefined value"


def resolved_zero(part) -> bool:
    """Whether a Float from ``evalf(…, maxn=2000)`` shows a zero: exactly 0, or no significant
    bits with a magnitude bound under 2^-ZERO_BOUND_BITS (mpf: sign, mantissa, exponent, bits)."""
    _, mantissa, exponent, bits = part._mpf_
    if mantissa == 0:
        return True
    return part._prec < 10 and exponent + bits < -ZERO_BOUND_BITS


def radians_in_trigonometry(latex: str) -> str:
    """In an expression with a trigonometric function a degree sign is the factor π/180
    (``\\sin(90^{\\circ}-x)`` is cos x); math-verify otherwise drops it (sin(90 − x))."""
    if not TRIGONOMETRY.search(latex):
        return latex
    return DEGREES.sub(lambda m: f"({m.group(1)} \\cdot \\frac{{\\pi}}{{180}})", latex)


def main(memory_mb: int = 1024) -> None:
    """The template: import and warm the judge, cap memory, then fork a worker for each socket
    the parent sends over the control socket on stdin (its process id is the reply line)."""
    control = socket.socket(fileno=os.dup(0))
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # prints from libraries go nowhere useful
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the forked workers

    judge = Judge()  # imports and warms math-verify before the memory cap
    limit_memory(memory_mb)
    threading.Thread(target=exit_when_orphaned, args=(os.getppid(),), daemon=True).start()

    warming = [(latex,) for latex in WARM_UP_ANSWERS] + list(WARM_UP_COMPARISONS)
    warming += [(text, None, True) for text in WARM_UP_TEXTS]
    while True:
        while warming and not select.select([control], [], [], 0)[0]:
            judge.warm_up(*warming.pop(0))  # idle: workers forked later inherit the warm tables
        try:
            message, fds, _, _ = socket.recv_fds(control, 64, 1)
        except OSError:
            break
        if not message:
            break
        if not fds:
            continue
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                serve(judge, fds[0])
            finally:
                os._exit(0)
        os.close(fds[0])
        control.sendall(f"{pid}\n".encode("ascii"))


def serve(judge: Judge, fd: int) -> None:
    """A forked worker: one JSON request line in, one reply line out, on its own socket, until
    EOF or until the template (its parent) is gone."""
    threading.Thread(target=exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    channel = socket.socket(fileno=fd)
    reader, writer = channel.makefile("rb"), channel.makefile("wb")
    size_at_fork = resident_kib()
    for line in reader:
        reply = judge.reply(line)
        if resident_kib() > RETIRE_RSS_FACTOR * size_at_fork:
            reply["retire"] = True
        writer.write((json.dumps(reply, ensure_ascii=True) + "\n").encode("ascii"))
        writer.flush()
        if reply.get("retire"):
            return


def resident_kib() -> int:
    """This process's resident set size (VmRSS) in KiB; 0 where /proc cannot tell."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


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
        self.gold_cache: dict[str, list] = {}  # gold answers repeat across requests
        self.sympy = sympy
        self.rules = rules
        math_verify.verify(math_verify.parse(r"\boxed{\frac{1}{2}}"), math_verify.parse(r"\boxed{0.5}"))

    def warm_up(self, latex: str, other: str | None = None, prose: bool = False) -> None:
        """Parse one of WARM_UP_ANSWERS the ways math-verify is called here (its LaTeX parser,
        ANTLR, builds its prediction tables lazily, so the first answer of a new shape costs up
        to a second), compare one pair of WARM_UP_COMPARISONS (sympy's simplify imports
        modules on first use) or read one of WARM_UP_TEXTS as free text. ``main`` calls this
        while no request is waiting, one at a time."""
        mv = self.math_verify
        boxed = "\\boxed{" + latex + "}"
        try:
            if prose:
                mv.parse(latex, parsing_timeout=5)
                return
            if other is not None:
                mv.verify(mv.parse(boxed), mv.parse("\\boxed{" + other + "}"), timeout_seconds=5)
                return
            mv.parse(boxed, extraction_config=[mv.LatexExtractionConfig()], extraction_mode="first_match")
            mv.parse(boxed)
        except Exception:  # pragma: no cover - warming is best effort
            pass

    def reply(self, line: bytes) -> dict:
        """The reply to one request line, marked ``"retire"`` when the request strained the
        worker (module docstring, Retirement; ``serve`` adds the memory rule)."""
        started = time.monotonic()
        request_id, request, strained = None, None, False
        try:
            request = json.loads(line)
            request_id = request.get("id")
            reply = {"id": request_id, "verdict": self.judge(request).to_dict()}
        except MemoryError:
            strained = True
            reply = {"id": request_id, "verdict": self.failure(request, "ran out of memory while judging")}
        except RecursionError:
            reply = {"id": request_id, "verdict": self.failure(request, "the answer is nested too deeply to parse")}
        except ParseTimedOut as timed_out:
            strained = True
            reply = {"id": request_id, "verdict": self.failure(request, str(timed_out), timed_out=True)}
        except OverflowError:
            reply = {
                "id": request_id,
                "verdict": self.failure(request, "a number in the answer is too big to evaluate"),
            }
        except Exception as error:  # the parent turns this into a zero verdict
            reply = {"id": request_id, "error": f"{type(error).__name__}: {str(error)[:300]}"}
        if strained or time.monotonic() - started >= PARSE_TIMEOUT_SHARE * alarm_seconds(request):
            reply["retire"] = True
        return reply

    def failure(self, request: Any, reason: str, **details: Any) -> dict:
        from rlvr.core import Verdict

        spec = request.get("spec", {}) if isinstance(request, dict) else {}
        preview = str(request.get("extracted", "")) if isinstance(request, dict) else ""
        form = spec.get("form", "any")
        return Verdict.fail(reason, answer=preview[:200], path="math-verify", form=form, **details).to_dict()

    def judge(self, request: dict):
        spec = request["spec"]
        extracted, candidate = request.get("extracted", ""), request["answer"]
        return Symbolic(self, spec, extracted, alarm_seconds(request)).verdict(candidate, bool(request.get("prose")))


def alarm_seconds(request: Any) -> int:
    """The seconds of each math-verify alarm for a request: its time left, less a margin for
    the reply, at least 1 (a missing or unreadable ``deadline_s`` counts as 5 s)."""
    try:
        deadline_s = float(request.get("deadline_s", 5.0))
    except (AttributeError, TypeError, ValueError):
        deadline_s = 5.0
    return max(1, math.floor(deadline_s - 0.25)) if math.isfinite(deadline_s) else 1


class Symbolic:
    """One answer against one gold, with math-verify's own alarms set to ``seconds``."""

    def __init__(self, judge: Judge, spec: dict, extracted: str, seconds: int):
        self.mv, self.sp, self.rules = judge.math_verify, judge.sympy, judge.rules
        self.gold_cache = judge.gold_cache
        self.spec, self.extracted, self.seconds = spec, extracted, seconds
        self.form = spec["form"]
        self.tolerance = spec.get("tolerance")
        self.literals: list[str] = []  # the decimal literals of the answer text (set by ``verdict``)

    def done(self, correct: bool, reason: str, format_ok: bool = True):
        return self.rules.verdict_for(self.spec, self.extracted, "math-verify", correct, reason, format_ok)

    def parse(self, latex: str, whole: bool = True) -> list:
        """math-verify's reading of ``latex``. ``whole`` (answers): the box as LaTeX, first match
        only, so an answer the LaTeX parser cannot read whole is not read at all; math-verify's
        fallbacks (a later match such as the ``\\frac{1}{3}`` inside ``\\frac{4}{3} \\hat
        \\frac{1}{3}``, then its plain-expression extraction: the last number of ``19 \\hat 18``)
        would read a part of it as the answer."""
        latex = re.sub(r"(?<!\\)\\\s*$", "", latex)  # a trailing lone backslash would escape the closing brace
        boxed = "\\boxed{" + radians_in_trigonometry(latex) + "}"
        if not whole:
            return self.timed_parse(boxed)
        return self.timed_parse(
            boxed, extraction_config=[self.mv.LatexExtractionConfig()], extraction_mode="first_match"
        )

    def timed_parse(self, text: str, **options: Any) -> list:
        """``math_verify.parse`` under its ``seconds`` alarm. It answers [] both for text it cannot
        read and when its alarm fired (under CPU load a plain answer can take that long): an
        empty reading that took nearly all of ``seconds`` raises ParseTimedOut instead, so the
        verdict says "timed out", not "could not parse"."""
        started = time.monotonic()
        found = self.mv.parse(text, parsing_timeout=self.seconds, **options)
        if not found and time.monotonic() - started >= PARSE_TIMEOUT_SHARE * self.seconds:
            raise ParseTimedOut(f"parsing timed out after {self.seconds}s")
        return found

    def parse_gold(self, latex: str) -> list:
        """A gold answer's parse, cached when it read something (at most GOLD_CACHE_SIZE
        entries, oldest dropped): an empty reading is never kept, so one slow moment cannot
        break the task for every later answer."""
        if latex in self.gold_cache:
            return self.gold_cache[latex]
        found = self.parse(latex, whole=False)  # the gold is trusted text
        if found:
            if len(self.gold_cache) >= GOLD_CACHE_SIZE:
                del self.gold_cache[next(iter(self.gold_cache))]
            self.gold_cache[latex] = found
        return found

    def equal(self, gold: list, answer: list) -> bool:
        gold_value = next((p for p in gold if isinstance(p, self.sp.Basic)), None)
        answer_value = next((p for p in answer if isinstance(p, self.sp.Basic)), None)
        if isinstance(answer_value, self.sp.logic.boolalg.BooleanFunction) and isinstance(
            gold_value, self.sp.Expr
        ):  # "19 \vee 18" is no value
            return False
        numbers = all(isinstance(v, self.sp.Expr) and v.is_number for v in (gold_value, answer_value))
        if numbers:  # exact (or relative) comparison decides alone; math-verify's can take seconds
            return self.same_number(gold_value, answer_value)
        screened = self.screened_functions(gold_value, answer_value)
        if screened is not None:
            return screened
        if not self.mv.verify(gold, answer, timeout_seconds=self.seconds):
            return False
        if gold_value is None or answer_value is None:
            return True
        return self.same_value(gold_value, answer_value)

    def same_value(self, gold, answer) -> bool:
        """math-verify said equal: do the numbers inside agree without absolute tolerance?
        (Structures it matched are walked in step; anything else keeps its verdict.)"""
        sp = self.sp
        if isinstance(gold, sp.Tuple) and isinstance(answer, sp.Tuple) and len(gold) == len(answer):
            return all(self.same_value(g, a) for g, a in zip(gold, answer))
        if isinstance(gold, sp.MatrixBase) and isinstance(answer, sp.MatrixBase) and gold.shape == answer.shape:
            return all(self.same_value(g, a) for g, a in zip(gold, answer))
        if isinstance(gold, sp.FiniteSet) and isinstance(answer, sp.FiniteSet):
            return all(any(self.same_value(g, a) for g in gold.args) for a in answer.args) and all(
                any(self.same_value(g, a) for a in answer.args) for g in gold.args
            )
        if isinstance(gold, sp.Interval) and isinstance(answer, sp.Interval):
            return (
                (gold.left_open, gold.right_open) == (answer.left_open, answer.right_open)
                and self.same_value(gold.start, answer.start)
                and self.same_value(gold.end, answer.end)
            )
        if isinstance(gold, sp.Expr) and isinstance(answer, sp.Expr) and gold.is_number and answer.is_number:
            return self.same_number(gold, answer)
        if answer.has(sp.Float) and not gold.has(sp.Float):  # math-verify rounded: judge exactly
            exact = self.exact_decimals(answer)
            if exact is None:
                return False
            if isinstance(gold, sp.Expr) and isinstance(exact, sp.Expr):
                return sp.simplify(exact - gold) == 0
            return bool(self.mv.verify([gold], [exact], timeout_seconds=self.seconds))
        if isinstance(gold, sp.Expr) and isinstance(answer, sp.Expr) and not gold.has(sp.Float):
            return self.same_at_points(gold, answer)
        return True

    def screened_functions(self, gold, answer) -> bool | None:
        """A quick verdict on two expressions in variables (no decimals), before math-verify's
        simplification, which can take the whole deadline (red team S10-G8, S10b-B4: 59 terms
        \\sin(kx)^{k}, or \\binom{2n}{n} against \\frac{(2n)!}{(n!)^2}, held a worker 5 s):
        False when the two differ at one of SCREEN_POINTS (each side evaluated alone at
        SCREEN_DIGITS digits: the difference of two equal Γ expressions can take evalf many
        seconds to resolve); True when they agree there and, rewritten in Γ, ``gammasimp``
        takes their difference to 0 (binomials, factorials, Γ); None (undecided) otherwise."""
        sp = self.sp
        if (
            not (isinstance(gold, sp.Expr) and isinstance(answer, sp.Expr))
            or gold.has(sp.Float)
            or answer.has(sp.Float)
        ):
            return None
        symbols = sorted(gold.free_symbols | answer.free_symbols, key=str)
        if not symbols:
            return None
        compared = 0
        for top, bottom in SCREEN_POINTS:
            point = {symbol: sp.Rational(top + 3 * index, bottom + 2 * index) for index, symbol in enumerate(symbols)}
            try:
                values = [complex(side.xreplace(point).evalf(SCREEN_DIGITS)) for side in (gold, answer)]
            except (TypeError, ValueError, ArithmeticError):
                continue  # not a number there (a pole, an unevaluated function): no evidence
            if not all(cmath.isfinite(value) for value in values):
                continue
            if abs(values[0] - values[1]) > SCREEN_TOLERANCE * max(1.0, abs(values[0])):
                return False
            compared += 1
        combinatorial = (sp.binomial, sp.factorial, sp.gamma, sp.factorial2, sp.RisingFactorial, sp.FallingFactorial)
        if compared == len(SCREEN_POINTS) and (gold.has(*combinatorial) or answer.has(*combinatorial)):
            if sp.gammasimp(answer.rewrite(sp.gamma) - gold.rewrite(sp.gamma)) == 0:
                return True
        return None

    def same_at_points(self, gold, answer) -> bool:
        """Expressions in variables math-verify called equal: equal numbers (``same_number``,
        no tolerance) at SAMPLE_POINTS rational values of the variables, the same for both
        (math-verify takes ``\\sin x + 10^{-60}`` for ``\\sin x``)."""
        sp = self.sp
        symbols = sorted(gold.free_symbols | answer.free_symbols, key=str)
        for values in SAMPLE_POINTS:
            point = {symbol: sp.Rational(*values[index % len(values)]) for index, symbol in enumerate(symbols)}
            if not self.same_number(gold.xreplace(point), answer.xreplace(point)):
                return False
        return True

    def exact_decimals(self, expression):
        """``expression`` with each float replaced by the exact rational of the decimal literal
        of the answer it was read from; None when some float matches no literal."""
        sp = self.sp
        replacements = {}
        for number in expression.atoms(sp.Float):
            literal = next(
                (text for text in self.literals if sp.Float(text, precision=number._prec) == abs(number)), None
            )
            if literal is None:
                return None
            replacements[number] = sp.Rational(literal) if number >= 0 else -sp.Rational(literal)
        return expression.xreplace(replacements)

    def plain_decimal(self, answer) -> tuple | None:
        """(exact value, decimal places) when ``answer`` is one decimal literal, maybe negated or
        in scientific notation (``-2.31 \\times 10^{-3}``: 5 places)."""
        sp = self.sp
        factors = list(sp.Mul.make_args(answer))
        sign = -1 if sp.Integer(-1) in factors else 1
        factors = [f for f in factors if f != -1]
        floats = [f for f in factors if isinstance(f, sp.Float)]
        powers = [f for f in factors if f.is_Pow and f.base == 10 and f.exp.is_Integer]
        if len(floats) != 1 or len(powers) > 1 or len(floats) + len(powers) != len(factors):
            return None
        number = floats[0]
        literal = next((text for text in self.literals if sp.Float(text, precision=number._prec) == abs(number)), None)
        if literal is None:
            return None
        exponent = int(powers[0].exp) if powers else 0
        value = sign * (1 if number > 0 else -1) * sp.Rational(literal) * sp.Integer(10) ** exponent
        return value, len(literal.split(".")[1]) - exponent

    def same_number(self, gold, answer) -> bool:
        sp = self.sp
        if gold.has(sp.zoo, sp.nan) or answer.has(sp.zoo, sp.nan):  # 1:00 read as 1/0 is not a number
            return False
        if gold.has(sp.oo, -sp.oo) or answer.has(sp.oo, -sp.oo):
            return gold == answer
        difference = answer - gold
        error = abs(difference.evalf(60))
        size = abs(gold.evalf(60))
        if self.tolerance is not None:
            return bool(error <= sp.Float(self.tolerance, 60) * size)
        if answer.has(sp.Float) and not gold.has(sp.Float):  # an exact gold: read the decimals exactly
            plain = self.plain_decimal(answer)
            if plain is not None and not gold.is_integer:  # an approximation (value_agrees's rule)
                value, places = plain
                error = abs(value - gold)  # exact for a rational gold
                error, size = (error, abs(gold)) if error.is_Rational and gold.is_Rational else (error.evalf(60), size)
                relative = sp.Rational(self.rules.DECIMAL_RELATIVE.numerator, self.rules.DECIMAL_RELATIVE.denominator)
                return bool(error <= sp.Rational(1, 2) / sp.Integer(10) ** places and error <= relative * size)
            answer = self.exact_decimals(answer)
            if answer is None:
                return False
            difference = answer - gold
        elif gold.has(sp.Float) or answer.has(sp.Float):  # a decimal gold
            return bool(error <= sp.Float("1e-12", 60) * size)
        if gold == answer:
            return True
        # sympy's is_zero can take many seconds on nested radicals; evalf raises its working
        # precision (up to 2 000 digits) until the difference shows digits or is exactly zero
        parts = difference.evalf(60, maxn=2000).as_real_imag()
        return all(part == 0 or (part.is_Float and resolved_zero(part)) for part in parts)

    def verdict(self, candidate: str, prose: bool = False):
        self.literals = [m.group(0).replace(",", "") for m in DECIMAL_LITERAL.finditer(candidate)]
        if prose:
            return self.prose(candidate)
        if self.form == "any":
            return self.any_form(candidate)
        if self.form in ("set", "tuple"):
            return self.elements(candidate)
        return self.polynomial_form(candidate)

    def prose(self, text: str):
        """Free text: math-verify finds the final expression, which is then screened like any
        answer (labels, chains, hedges, the native grammar) and judged."""
        found = self.timed_parse(SCRIPT_DIGIT_BOUNDARY.sub(" ", text))
        expression = next((p for p in found if isinstance(p, str)), None)
        if not expression or all(isinstance(p, str) for p in found):
            return self.done(False, "no final answer found in the text", False)
        screened = self.rules.screen_answer(self.spec, expression.strip())
        if screened.verdict is not None:
            return screened.verdict
        if self.rules.ordered_items(self.spec) is not None:  # ordered: the expression's elements in order
            if screened.prose:
                return self.done(False, "an ordered list needs one final expression", False)
            self.extracted = expression[:200]
            return self.any_form(screened.candidate)
        if screened.prose or (screened.candidate.strip() == expression.strip() and "\\" not in expression):
            problem = self.rules.unit_problem(self.spec, expression)  # units="strict"
            if problem:
                return self.done(False, problem)
            return self.compare(found)  # plain text math-verify found: its reading is the answer
        self.extracted = expression[:200]
        return self.any_form(screened.candidate)

    def undefined(self, parsed: list) -> bool:
        """Whether a parsed answer is undefined once its unevaluated parts are evaluated: the
        parser keeps ``\\sin 0`` as sin(0), so ``(36x^2 - 9) \\frac{\\sin 0}{\\sin 0}`` reads as a
        product that expansion cancels to the gold, though it divides by zero (red team S9-F5)."""
        sp = self.sp
        return any(isinstance(p, sp.Basic) and p.doit().has(sp.nan, sp.zoo) for p in parsed)

    def zero_denominator(self, latex: str) -> bool:
        """Whether a ``\\frac`` of ``latex`` divides by something that is 0 (everywhere, for a
        denominator in x): sympy cancels a factor against its own reciprocal as it builds a
        product, so the gold times (sin²1 + cos²1 − 1)/(sin²1 + cos²1 − 1) reads as the gold
        itself (red team S10-G1). The base of a power with an exponent ≤ 0 counts as a
        denominator: sympy evaluates 0^0 to 1 and f·f^{-1} to 1, so the gold times 0^{0} or
        (\\log 1)^{0} read as the gold. Each is read alone and evaluated (at three points for one
        with symbols); one that cannot be read or evaluated is not counted."""
        sp = self.sp
        for text in self.rules.symbolic_denominators(latex) + self.rules.vanishing_power_bases(latex):
            parsed = next((p for p in self.parse(text) if isinstance(p, sp.Expr)), None)
            if parsed is None:
                continue
            value = parsed.doit()
            symbols = sorted(value.free_symbols, key=str)
            # each symbol its own value (a - b is not 0 off the diagonal: red team S10b-B3)
            points = [
                {symbol: sp.Rational(top + 3 * index, bottom + 2 * index) for index, symbol in enumerate(symbols)}
                for top, bottom in ((3, 7), (11, 7), (-5, 9))
            ]
            try:
                if all(abs(complex(value.evalf(40, subs=point))) < 1e-30 for point in points):
                    return True
            except (TypeError, ValueError, ArithmeticError):
                continue
        return False

    def compare(self, answer: list):
        if self.undefined(answer):
            return self.done(False, UNDEFINED, False)
        gold = self.parse_gold(self.spec["gold"])
        if not gold:
            raise ValueError(f"could not parse the gold answer {self.spec['gold'][:80]!r}")
        correct = self.equal(gold, answer)
        return self.done(correct, "correct" if correct else "incorrect: not equivalent to the gold answer")

    def any_form(self, candidate: str):
        problem = self.rules.unit_problem(self.spec, candidate)
        if problem:
            return self.done(False, problem)
        items = self.rules.ordered_items(self.spec)
        if items is not None:
            return self.in_order(items, candidate)
        answer = self.parse(candidate)
        if not answer:
            return self.done(False, "could not parse the answer", False)
        if self.zero_denominator(candidate):
            return self.done(False, UNDEFINED, False)
        return self.compare(answer)

    def in_order(self, golds: list[str], candidate: str):
        """``ordered``: a bare-list gold against the answer's elements, position by position
        (math-verify compares bare lists as sets)."""
        values = self.rules.answer_items(self.spec, candidate)
        if len(values) != len(golds):
            return self.done(False, f"incorrect: expected {len(golds)} values in order, got {len(values)}")
        answers = [self.parse(value) for value in values]
        if not all(answers):
            return self.done(False, "could not parse the answer", False)
        if any(self.undefined(a) for a in answers) or self.zero_denominator(candidate):
            return self.done(False, UNDEFINED, False)
        for gold, answer in zip(golds, answers):
            parsed = self.parse_gold(gold)
            if not parsed:
                raise ValueError(f"could not parse the gold answer {gold[:80]!r}")
            if not self.equal(parsed, answer):
                return self.done(False, "incorrect: not the gold values in order")
        return self.done(True, "correct")

    def number_of(self, latex: str):
        parsed = self.parse(latex)
        value = next((p for p in parsed if isinstance(p, self.sp.Basic)), None)
        if value is None or not isinstance(value, self.sp.Expr) or value.free_symbols:
            return None
        return parsed

    def elements(self, candidate: str):
        values = self.rules.answer_elements(candidate, self.form)
        answers = [self.number_of(v) for v in values]
        if any(a is None for a in answers):
            return self.done(False, "every element must be a number", False)
        if any(self.undefined(a) for a in answers) or self.zero_denominator(candidate):  # sets and tuples too
            return self.done(False, UNDEFINED, False)
        golds = [self.parse_gold(v) for v in self.spec["values"]]
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
        if self.undefined(answer_parsed) or self.zero_denominator(candidate):
            return self.done(False, UNDEFINED, False)
        strangers = sorted(str(s) for s in answer.free_symbols if str(s) != name)
        if strangers:
            return self.done(False, f"unexpected symbols {strangers}; the answer must be in {name} only")
        gold_parsed, gold = self.expression_of(self.spec["gold"])
        if gold is None:
            raise ValueError(f"could not parse the gold answer {self.spec['gold'][:80]!r}")
        # the parser's own symbol (it carries assumptions such as real=True): gold and answer share it
        variable = next(
            (s for s in sorted(answer.free_symbols | gold.free_symbols, key=str) if str(s) == name),
            self.sp.Symbol(name),
        )
        written = answer  # as parsed: the form checks below read it (red team s19 M1: exact_decimals
        # rebuilds every sum and product above a decimal with sympy's evaluating constructors)
        if answer.has(self.sp.Float) and not gold.has(self.sp.Float):  # decimals read exactly
            answer = self.exact_decimals(answer)
            if answer is None:
                return self.done(False, "incorrect: a decimal that is not exact")
        # unevaluated parts evaluated (the parser keeps \cos 0 as cos(0)): gold * cos 0 is the gold
        difference = self.sp.expand(answer.doit() - gold)
        if difference == 0:
            correct = True
        elif difference.is_polynomial(variable):
            correct = False
        else:
            correct = self.equal(gold_parsed, answer_parsed)
        if not correct:
            return self.done(False, "incorrect: not equal to the gold expression")
        if self.form == "expanded" and not is_expanded_polynomial(self.sp, written, variable):
            return self.done(
                False,
                "equal, but not expanded (products, powers of sums, uncombined like terms or unevaluated "
                "coefficients remain)",
            )
        if self.form == "expression" and gold.is_polynomial(variable):
            bound = self.sp.Poly(gold, variable).degree()
            if written_degree(self.sp, written, variable, bound) > bound:
                return self.done(
                    False,
                    f"equal, but a part of the answer has a degree above {bound}: simplify it (differences "
                    "of the given function are not its derivative)",
                )
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
    r"""A sum of number·x^k terms with distinct k, no products or powers of sums, each term's
    number one integer, fraction or decimal atom besides a sign (red team s19 F3: ``(4-1)x``,
    ``2^{3}x`` or ``3\cdot 4x`` leave the arithmetic undone)."""
    degrees = set()
    for term in flatten(sp, expression, sp.Add):
        degree = 0
        coefficients = 0
        for factor in flatten(sp, term, sp.Mul):
            if factor.is_number:
                if not isinstance(factor, (sp.Rational, sp.Float)):  # Integer is a Rational
                    return False
                coefficients += abs(factor) != 1
                if coefficients > 1:
                    return False
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


def written_degree(sp, expression, variable, cap: int) -> int:
    """An upper bound on the degree in ``variable`` of every part of ``expression`` as written
    (a sum: its terms' largest; a product: the sum of its factors'; a power with a whole
    exponent: the base's times it; a number 0; anything else, or a part beyond ``cap``:
    ``cap + 1``), without expanding anything."""

    def degree(node) -> int:
        if node == variable:
            return 1
        if node.is_number:
            return 0
        if isinstance(node, sp.Add):
            return max(degree(arg) for arg in node.args)
        if isinstance(node, sp.Mul):
            return min(cap + 1, sum(degree(arg) for arg in node.args))
        if node.is_Pow and node.exp.is_Integer and node.exp >= 0:
            return min(cap + 1, degree(node.base) * int(node.exp))
        return cap + 1

    return degree(expression)  # a sum's, product's or power's bound is at least each part's


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
