r"""Math verifier: is the one final answer of a response equal to the task's gold answer?

Input       A ``Task`` from rlvr.generators.math: ``task.answer`` = {"gold": LaTeX, "form":
            "number" | "set" | "tuple" | "expanded" | "factored" | "expression" | "any", plus
            "values", "variables", "variable", "factor_count" where the form needs them}. A bare
            string answer is read as {"gold": it, "form": "any"}.
Extraction  rlvr.core.extract_math_answer: the last ``\boxed{}`` (inside the last
            ``<answer>`` block if there is one), else the ``<answer>`` block. Two different boxes,
            or an answer that ``looks_hedged`` ("2 or 3", "maybe 4"), score 0.
Screening   Answers holding calculus or summation operators (``\int``, ``\sum``, ``\prod``,
            ``\lim``, ``\frac{d}{dx}``, ``d/dx``, ``\partial``, ``Derivative``, ``Integral``)
            score 0 unless the gold holds them too: restating the problem is not answering it.
            For synthetic forms a leading label is dropped (``x = 5``, ``f'(2) = 7``) and a
            prime left in the value (``(x^3)'``) scores 0.
Fast path   No process: when gold and answer are plain numbers (integers, ``1,000``, decimals,
            ``\frac{a}{b}``, ``\dfrac``, ``\frac12``, ``a/b``, mixed ``4\frac{2}{3}``, a leading
            ``$``, a trailing ``.``) they are compared exactly as Fractions. For form "any" an
            unequal pair involving a decimal goes on to math-verify (which rounds to 6 places),
            so both paths agree; the one intended difference is the trailing full stop
            ("18." counts here, not in math-verify). "58, 500" and "2 3" are not numbers.
Forms       number     only a numeric literal counts (an exactly equal decimal is fine).
            set        comma-separated elements, any order, every root, nothing extra.
            tuple      elements in order (or all labelled ``x = …, y = …``).
            expanded   a sum of monomials in x, like terms combined, equal to the gold.
            factored   a product of polynomial factors with rational coefficients whose
                       factor count (with multiplicity) equals the gold's irreducible count,
                       equal to the gold; with equal products that forces irreducible factors.
            expression any expression equal to the gold.
            any        math-verify decides (datasets); an answer with words in it ("18 dollars")
                       is parsed as free text, the way math-verify reads a response, the
                       rest as LaTeX.
Worker      Everything symbolic runs in ``rlvr.verifiers.math_worker``: a persistent child
            process (``python -I``, JSON lines over pipes, RLIMIT_AS = ``memory_mb``) owned by
            the verifier: started on first use, several for concurrent threads (at most the CPU
            count), ``close()`` or garbage collection or interpreter exit ends them. Inside,
            math-verify's own alarms stop most slow parses (``9^{9^{9^{9}}}``, 1000 nested
            parentheses: "incorrect" / "could not parse"), and a MemoryError under the cap
            ("ran out of memory") leaves the worker usable. What neither can stop — one long
            C-level operation, brace matching over megabytes — the parent stops: it waits on
            the pipe with ``poll`` and at ``deadline_s`` kills the worker, answers "timed out
            after Xs" and warms a replacement for the next request. Responses too costly to
            extract in the caller (more than 8 boxes, or boxes in more than 100 000
            characters) are extracted in the worker too.
Verdict     ``details``: "answer" (extracted, first 200 characters), "path" ("extraction",
            "screen", "fast" or "math-verify"), "form".
Options     ``deadline_s`` (default 5.0) bounds every verify call; ``memory_mb`` (default 1024)
            caps the worker's address space.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from rlvr.core import SafeVerifier, Task, Verdict, extract_math_answer, looks_hedged

RESTATED_OPERATORS = re.compile(
    r"\\(?:i{0,3}int|oint|sum|prod|lim(?:inf|sup)?|partial|nabla)(?![A-Za-z])"  # \int \iint \sum \prod \lim \partial
    r"|\\[dt]?frac\s*\{\s*(?:\\mathrm\s*\{\s*d\s*\}|d)\s*[A-Za-z]?\s*\}\s*\{\s*(?:\\mathrm\s*\{\s*d\s*\}|d)\s*[A-Za-z]\s*\}"  # \frac{d}{dx}
    r"|\bd\s*/\s*d[A-Za-z]\b"  # d/dx
    r"|\b(?:Derivative|Integral|Sum|Product|Limit)\b|\b(?:diff|integrate|limit)\s*\("
)
SYNTHETIC_FORMS = ("number", "set", "tuple", "expanded", "factored", "expression")
ANSWER_PREVIEW_CHARS = 200
# The caller extracts answers itself when that is cheap: no box at all (regex work only), or few
# boxes in a modest response. Otherwise brace matching could take seconds, so the worker does it.
CALLER_EXTRACTION_MAX_CHARS = 100_000
CALLER_EXTRACTION_MAX_BOXES = 8

_LAYOUT_NOISE = re.compile(r"\\[,;:! ]|\\(?:displaystyle|textstyle)|~|\s+")
_LABEL = re.compile(r"^\s*([A-Za-z](?:_\{?\w+\}?)?(?:'+)?(?:\([^()=]*\))?)\s*=(?!=)\s*(.+)$", re.DOTALL)
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
_DECIMAL = re.compile(rf"({_DIGITS})?(?:\.(\d*))?")
_FRACTION_ARGUMENT = r"(?:\{([+-]?\d+)\}|(\d))"
_LATEX_FRACTION = re.compile(rf"\\[dt]?frac{_FRACTION_ARGUMENT}{_FRACTION_ARGUMENT}")
_SLASH_FRACTION = re.compile(r"(\d+)/(\d+)")
_MIXED_NUMBER = re.compile(r"(\d+)\\[dt]?frac\{(\d+)\}\{(\d+)\}")


# --------------------------------------------------------------------------------------------
# Plain numbers: the fast path
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlainNumber:
    value: Fraction
    decimal: bool  # written with a decimal point (math-verify compares those after rounding)


def normalise_number_text(text: str) -> str:
    """Drop math delimiters, spacing macros, a currency sign, braces around the whole and a full stop."""
    s = _LAYOUT_NOISE.sub("", text).replace("\u2212", "-")  # a typographic minus is a minus
    for left, right in (("$", "$"), (r"\(", r"\)"), (r"\[", r"\]")):
        if s.startswith(left) and s.endswith(right) and len(s) > len(left) + len(right):
            s = s[len(left):-len(right)]
    s = s.replace("{,}", ",")
    if s.startswith(r"\$"):
        s = s[2:]
    elif s.startswith("$"):
        s = s[1:]
    if s.endswith(".") and not s.endswith(".."):
        s = s[:-1]
    while s.startswith("{") and s.endswith("}") and balanced(s[1:-1]):
        s = s[1:-1]
    return s


def balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            return False
    return depth == 0


def parse_plain_number(text: str) -> PlainNumber | None:
    """A Fraction for integers, decimals, simple fractions and mixed numbers; None otherwise."""
    if len(text) > 400 or re.search(r"\d\s+\d|,\s", text):  # "2 3" is not 23, "58, 500" is a list
        return None
    s = normalise_number_text(text)
    sign = 1
    if s[:1] in "+-" and s:
        sign, s = (-1 if s[0] == "-" else 1), s[1:]
    if not s:
        return None
    match = _DECIMAL.fullmatch(s)
    if match and (match.group(1) or match.group(2)):
        whole = (match.group(1) or "0").replace(",", "")
        return PlainNumber(sign * Fraction(f"{whole}.{match.group(2) or '0'}"), match.group(2) is not None)
    match = _SLASH_FRACTION.fullmatch(s)
    if match:
        return _fraction(sign, int(match.group(1)), int(match.group(2)))
    match = _LATEX_FRACTION.fullmatch(s)
    if match:
        numerator = int(match.group(1) if match.group(1) is not None else match.group(2))
        denominator = int(match.group(3) if match.group(3) is not None else match.group(4))
        return _fraction(sign, numerator, denominator)
    match = _MIXED_NUMBER.fullmatch(s)
    if match and int(match.group(3)) and int(match.group(2)) < int(match.group(3)):
        return PlainNumber(sign * (int(match.group(1)) + Fraction(int(match.group(2)), int(match.group(3)))), False)
    return None


def _fraction(sign: int, numerator: int, denominator: int) -> PlainNumber | None:
    return PlainNumber(sign * Fraction(numerator, denominator), False) if denominator else None


# --------------------------------------------------------------------------------------------
# Answer structure
# --------------------------------------------------------------------------------------------


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split on separators outside (), [], {} (LaTeX ``\\{``/``\\}`` count as brackets)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def strip_brackets(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    s = text.strip()
    for left, right in pairs:
        if s.startswith(left) and s.endswith(right):
            inner = s[len(left):len(s) - len(right)]
            if balanced_brackets(inner):
                return inner.strip()
    return s


def balanced_brackets(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char in "([{") - (char in ")]}")
        if depth < 0:
            return False
    return depth == 0


SET_BRACKETS = ((r"\left\{", r"\right\}"), (r"\{", r"\}"), ("{", "}"), ("[", "]"), ("(", ")"))
TUPLE_BRACKETS = ((r"\left(", r"\right)"), ("(", ")"), (r"\left[", r"\right]"), ("[", "]"), (r"\langle", r"\rangle"))


def answer_elements(text: str, form: str) -> list[tuple[str | None, str]]:
    """(label, value) pairs of a set or tuple answer: ``x = 2, y = -1`` → [("x", "2"), ("y", "-1")]."""
    inner = strip_brackets(text, SET_BRACKETS if form == "set" else TUPLE_BRACKETS)
    elements = []
    for part in split_top_level(inner):
        label = _LABEL.match(part)
        elements.append((label.group(1).split("_")[0], label.group(2).strip()) if label else (None, part))
    return elements


def drop_label(text: str) -> str:
    """``x = 5`` → ``5``; ``f'(2) = 7`` → ``7``; text without exactly one top-level '=' unchanged."""
    if len(split_top_level(text, "=")) != 2:
        return text
    label = _LABEL.match(text)
    return label.group(2).strip() if label else text


def gold_spec(task: Task) -> dict:
    answer = task.answer
    if isinstance(answer, str):
        return {"gold": answer, "form": "any"}
    if not isinstance(answer, dict) or not isinstance(answer.get("gold"), str):
        raise ValueError("task.answer must be a dict with a 'gold' LaTeX string")
    spec = dict(answer)
    spec.setdefault("form", "any")
    if spec["form"] not in SYNTHETIC_FORMS + ("any",):
        raise ValueError(f"unknown answer form {spec['form']!r}")
    return spec


# --------------------------------------------------------------------------------------------
# Judging without sympy (shared by the caller and the worker)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screened:
    """The outcome of the cheap checks: a final verdict, or the text the worker must judge."""

    verdict: Verdict | None
    candidate: str


def verdict_for(spec: dict, answer: str, path: str, correct: bool, reason: str, format_ok: bool = True) -> Verdict:
    details = {"answer": answer[:ANSWER_PREVIEW_CHARS], "path": path, "form": spec["form"]}
    if correct:
        return Verdict.success(reason, **details)
    return Verdict.fail(reason, format_ok=format_ok, **details)


def screen_answer(spec: dict, answer: str) -> Screened:
    """Hedges, restated operators, forms and the exact fast path; ``verdict=None`` means: ask sympy."""
    gold, form = spec["gold"], spec["form"]
    if looks_hedged(answer) and not looks_hedged(gold):
        return Screened(verdict_for(spec, answer, "screen", False, "the answer hedges between alternatives", False), answer)
    if RESTATED_OPERATORS.search(answer) and not RESTATED_OPERATORS.search(gold):
        return Screened(verdict_for(spec, answer, "screen", False, "the answer restates an integral, sum, limit or derivative instead of evaluating it"), answer)
    if form == "any":
        return screen_any(spec, answer)
    value = drop_label(answer)
    if "'" in value:
        return Screened(verdict_for(spec, answer, "screen", False, "the answer still contains derivative notation (a prime)"), value)
    if form == "number":
        return screen_number(spec, answer, value)
    if form in ("set", "tuple"):
        return screen_elements(spec, answer, value)
    return Screened(None, value)


def screen_any(spec: dict, answer: str) -> Screened:
    gold_number, answer_number = parse_plain_number(spec["gold"]), parse_plain_number(answer)
    if gold_number is None or answer_number is None:
        return Screened(None, answer)
    if gold_number.value == answer_number.value:
        return Screened(verdict_for(spec, answer, "fast", True, "correct"), answer)
    if gold_number.decimal or answer_number.decimal:  # math-verify rounds decimals; let it decide
        return Screened(None, answer)
    return Screened(verdict_for(spec, answer, "fast", False, "incorrect: a different number"), answer)


def screen_number(spec: dict, answer: str, value: str) -> Screened:
    answer_number = parse_plain_number(value)
    if answer_number is None:
        return Screened(verdict_for(spec, answer, "fast", False, "expected a single number (integer, fraction or decimal)", False), value)
    gold_number = parse_plain_number(spec["gold"])
    if gold_number is None:
        raise ValueError(f"gold {spec['gold']!r} of a 'number' task is not a number")
    if gold_number.value == answer_number.value:
        return Screened(verdict_for(spec, answer, "fast", True, "correct"), value)
    return Screened(verdict_for(spec, answer, "fast", False, "incorrect: a different number"), value)


def screen_elements(spec: dict, answer: str, value: str) -> Screened:
    """Sets and tuples of plain numbers are decided here; anything else goes to the worker."""
    form = spec["form"]
    elements = answer_elements(value, form)
    if any(not v for _, v in elements):
        return Screened(verdict_for(spec, answer, "fast", False, "an empty element", False), value)
    variables = spec.get("variables")
    labels = [label for label, _ in elements]
    if form == "tuple" and variables and all(labels):
        if sorted(labels) != sorted(variables):
            return Screened(verdict_for(spec, answer, "fast", False, f"labels {labels} do not match the unknowns {variables}"), value)
        elements = sorted(elements, key=lambda pair: variables.index(pair[0]))
    answer_numbers = [parse_plain_number(v) for _, v in elements]
    gold_numbers = [parse_plain_number(v) for v in spec["values"]]
    if any(n is None for n in answer_numbers) or any(n is None for n in gold_numbers):
        return Screened(None, ", ".join(v for _, v in elements))
    answer_values = [n.value for n in answer_numbers]
    gold_values = [n.value for n in gold_numbers]
    if form == "tuple":
        if len(answer_values) != len(gold_values):
            return Screened(verdict_for(spec, answer, "fast", False, f"expected {len(gold_values)} coordinates, got {len(answer_values)}"), value)
        correct = answer_values == gold_values
        return Screened(verdict_for(spec, answer, "fast", correct, "correct" if correct else "incorrect: a coordinate differs"), value)
    missing, extra = set(gold_values) - set(answer_values), set(answer_values) - set(gold_values)
    if not missing and not extra:
        return Screened(verdict_for(spec, answer, "fast", True, "correct"), value)
    reason = "incorrect: " + ", ".join(part for part in (f"{len(missing)} root(s) missing" if missing else "", f"{len(extra)} extra value(s)" if extra else "") if part)
    return Screened(verdict_for(spec, answer, "fast", False, reason), value)


def judge_response_cheaply(spec: dict, response: str) -> tuple[Verdict | None, str, str]:
    """Extraction and screening: (verdict or None, extracted answer, candidate for sympy)."""
    extraction = extract_math_answer(response)
    if extraction.value is None:
        return Verdict.fail(extraction.reason, answer="", path="extraction", form=spec["form"]), "", ""
    if not extraction.value.strip():
        return Verdict.fail("the final answer is empty", answer="", path="extraction", form=spec["form"]), "", ""
    screened = screen_answer(spec, extraction.value)
    return screened.verdict, extraction.value, screened.candidate


# --------------------------------------------------------------------------------------------
# The worker processes
# --------------------------------------------------------------------------------------------


class WorkerTimeout(Exception):
    pass


class WorkerFailure(Exception):
    pass


def worker_command(memory_mb: int) -> list[str]:
    """``python -I`` (no user site, no PYTHON* variables, no cwd on the path) running the worker
    from the directory that holds this very ``rlvr`` package."""
    package_parent = str(Path(__file__).resolve().parents[2])
    bootstrap = "import sys; sys.path.insert(0, sys.argv[1]); from rlvr.verifiers.math_worker import main; main(int(sys.argv[2]))"
    return [sys.executable, "-I", "-c", bootstrap, package_parent, str(int(memory_mb))]


class MathWorkerProcess:
    """One worker child: JSON line out, JSON line back, within a deadline or killed."""

    def __init__(self, memory_mb: int):
        environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            worker_command(memory_mb),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment,
            close_fds=True,
        )
        self.stdin_fd = self.process.stdin.fileno()
        self.stdout_fd = self.process.stdout.fileno()
        os.set_blocking(self.stdin_fd, False)
        self.pending = b""
        self.request_count = 0

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, payload: dict, deadline: float) -> dict:
        self.request_count += 1
        payload = {**payload, "id": self.request_count}
        data = (json.dumps(payload, ensure_ascii=True) + "\n").encode("ascii")
        self._write(data, deadline)
        reply = json.loads(self._read_line(deadline))
        if reply.get("id") != self.request_count:
            raise WorkerFailure("the math worker answered out of turn")
        return reply

    def _wait(self, fd: int, events: int, deadline: float) -> None:
        """Block until ``fd`` is ready or the deadline passes (poll: no FD_SETSIZE limit)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WorkerTimeout()
        poller = select.poll()
        poller.register(fd, events)
        if not poller.poll(max(1, int(remaining * 1000))):
            raise WorkerTimeout()

    def _write(self, data: bytes, deadline: float) -> None:
        view, offset = memoryview(data), 0
        while offset < len(data):
            self._wait(self.stdin_fd, select.POLLOUT, deadline)
            try:
                offset += os.write(self.stdin_fd, view[offset:offset + 65536])
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError) as error:
                raise WorkerFailure(f"the math worker stopped reading ({type(error).__name__})") from error

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self.pending:
            self._wait(self.stdout_fd, select.POLLIN, deadline)
            chunk = os.read(self.stdout_fd, 1 << 16)
            if not chunk:
                raise WorkerFailure(f"the math worker exited (code {self.process.poll()})")
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignorable
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def close(self) -> None:
        """Ask politely (EOF on stdin ends the loop), then make sure."""
        try:
            self.process.stdin.close()
            self.process.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


def stop_processes(workers: set, owner_pid: int) -> None:
    """Finalizer: end every worker still alive, but only in the process that started them."""
    if os.getpid() != owner_pid:
        return
    for worker in list(workers):
        worker.kill()
    workers.clear()


class MathWorkerPool:
    """Idle workers handed to one request at a time; a killed worker is replaced at once."""

    def __init__(self, memory_mb: int, max_workers: int):
        self.memory_mb = memory_mb
        self.max_workers = max(1, max_workers)
        self.owner_pid = os.getpid()
        self.condition = threading.Condition()
        self.idle: list[MathWorkerProcess] = []
        self.live: set[MathWorkerProcess] = set()
        self.busy = 0
        self.closed = False
        self.finalizer = weakref.finalize(self, stop_processes, self.live, self.owner_pid)

    def acquire(self, deadline: float) -> MathWorkerProcess | None:
        with self.condition:
            while True:
                while self.idle:
                    worker = self.idle.pop()
                    if worker.alive():
                        self.busy += 1
                        return worker
                    self.live.discard(worker)
                    worker.kill()
                if self.busy < self.max_workers:
                    self.busy += 1
                    try:
                        worker = MathWorkerProcess(self.memory_mb)
                    except BaseException:
                        self.busy -= 1
                        raise
                    self.live.add(worker)
                    return worker
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.condition.wait(remaining):
                    return None

    def release(self, worker: MathWorkerProcess, healthy: bool) -> None:
        with self.condition:
            self.busy -= 1
            if healthy and not self.closed:
                self.idle.append(worker)
            else:
                self.live.discard(worker)
                worker.kill()
                if not self.closed:  # warm a replacement while the caller gets its verdict
                    replacement = MathWorkerProcess(self.memory_mb)
                    self.live.add(replacement)
                    self.idle.append(replacement)
            self.condition.notify()

    def close(self) -> None:
        with self.condition:
            self.closed = True
            idle, self.idle = self.idle, []
            for worker in idle:
                self.live.discard(worker)
                worker.close()
            self.condition.notify_all()

    def pids(self) -> list[int]:
        with self.condition:
            return [w.process.pid for w in self.live]


# --------------------------------------------------------------------------------------------
# The verifier
# --------------------------------------------------------------------------------------------


class MathVerifier(SafeVerifier):
    """Exact answers: a Fraction fast path, then math-verify in a killable worker process."""

    def __init__(self, deadline_s: float = 5.0, memory_mb: int = 1024):
        if not deadline_s > 0:
            raise ValueError(f"deadline_s must be positive, got {deadline_s!r}")
        if int(memory_mb) < 256:
            raise ValueError(f"memory_mb must be at least 256, got {memory_mb!r}")
        self.deadline_s = float(deadline_s)
        self.memory_mb = int(memory_mb)
        self.max_workers = os.cpu_count() or 1
        self._pool: MathWorkerPool | None = None
        self._pool_lock = threading.Lock()

    def check(self, task: Task, response: str) -> Verdict:
        deadline = time.monotonic() + self.deadline_s
        spec = gold_spec(task)
        boxes = response.count("\\boxed") + response.count("\\fbox")
        if boxes and (boxes > CALLER_EXTRACTION_MAX_BOXES or len(response) > CALLER_EXTRACTION_MAX_CHARS):
            return self._ask_worker({"spec": spec, "response": response}, deadline, preview="")
        verdict, extracted, candidate = judge_response_cheaply(spec, response)
        if verdict is not None:
            return verdict
        return self._ask_worker({"spec": spec, "answer": candidate, "extracted": extracted[:ANSWER_PREVIEW_CHARS]}, deadline, preview=extracted)

    def _ask_worker(self, payload: dict, deadline: float, preview: str) -> Verdict:
        details = {"answer": preview[:ANSWER_PREVIEW_CHARS], "path": "math-verify", "form": payload["spec"]["form"]}
        pool = self.pool()
        worker = pool.acquire(deadline)
        if worker is None:
            return Verdict.fail(f"timed out after {self.deadline_s:g}s waiting for a free math worker", **details)
        healthy = False
        try:
            reply = worker.ask({**payload, "deadline_s": max(0.0, deadline - time.monotonic())}, deadline)
            healthy = True
        except WorkerTimeout:
            return Verdict.fail(f"timed out after {self.deadline_s:g}s (the math worker was restarted)", **details)
        except WorkerFailure as error:
            return Verdict.fail(f"math worker failed: {error}", **details)
        finally:
            pool.release(worker, healthy)
        verdict = reply.get("verdict")
        if not isinstance(verdict, dict):
            return Verdict.fail(f"math worker error: {str(reply.get('error'))[:200]}", **details)
        return Verdict(float(verdict["reward"]), bool(verdict["correct"]), bool(verdict["format_ok"]), str(verdict["reason"]), dict(verdict["details"]))

    def pool(self) -> MathWorkerPool:
        """This process's worker pool, started (empty) on first use and again after ``close()``
        or a fork."""
        with self._pool_lock:
            pool = self._pool
            if pool is not None and pool.owner_pid != os.getpid():
                pool.finalizer.detach()  # the parent's workers are not ours to stop
                pool = None
            if pool is None or pool.closed:
                pool = self._pool = MathWorkerPool(self.memory_mb, self.max_workers)
            return pool

    def worker_pids(self) -> list[int]:
        """Process ids of this verifier's live workers (for monitoring and tests)."""
        pool = self._pool
        return pool.pids() if pool is not None and pool.owner_pid == os.getpid() else []

    def close(self) -> None:
        """Stop the workers; a later verify starts new ones."""
        with self._pool_lock:
            pool = self._pool
            if pool is not None and pool.owner_pid == os.getpid():
                pool.close()

    def __getstate__(self) -> dict:
        return {"deadline_s": self.deadline_s, "memory_mb": self.memory_mb}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)
