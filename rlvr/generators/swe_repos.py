"""Procedurally generated small Python projects for the SWE family, and an in-process runner
that evaluates their (trusted, generated) code to fix the expected test values and to validate
injected bugs without starting a sandbox.

A project is a package of ``modules`` files whose functions are stacked in *levels*: level-0
functions are leaves (list, number and text helpers drawn from ``LEAF_TEMPLATES``), and a
function of level ℓ ≥ 1 (from ``COMPOSITE_TEMPLATES``) calls only functions of level ℓ-1, often in
another module. The top level T also holds at most one class whose methods call level T-1
functions. Tests call only top-level functions and methods, so a bug in a level-ℓ function is
exactly T-ℓ calls away from every test that can observe it: that distance is the task's *call
depth*. Every function has a docstring; modules import each other with absolute imports;
``pyproject.toml`` carries the pytest settings (``pythonpath = ["."]``, ``testpaths``).

The code contains no ``while`` loops, no recursion and no exponentiation, and loops run over the
(short) test inputs only, so any AST mutation of it terminates quickly: running generated code
in-process is safe and takes microseconds. ``ProjectRunner`` executes a project's modules in
private module objects (never in ``sys.modules``) through a custom ``__import__`` and runs its
tests; the SWE generator uses it to compute expected values (stored as the task's host-side
checks) and to find which tests a mutation breaks. The same project run by pytest in the
sandbox, or by the verifier's call harness there, gives the same per-test outcomes (tested
invariants).
"""

from __future__ import annotations

import ast
import builtins
import random
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rlvr import ast_parse

# --------------------------------------------------------------------------------------------
# Themes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    package: str
    title: str
    nouns: tuple[str, ...]
    words: tuple[str, ...]  # material for text inputs
    class_names: tuple[str, ...]


THEMES = (
    Theme(
        "stockroom",
        "Stockroom",
        ("stock", "price", "crate", "order", "shelf"),
        ("apple", "Bolt", "crate", "Hammer", "nail", "Paint", "rope", "Saw", "tape", "Widget"),
        ("Shelf", "Inventory", "Batch"),
    ),
    Theme(
        "gradebook",
        "Gradebook",
        ("score", "grade", "credit", "exam", "quiz"),
        ("algebra", "Biology", "chemistry", "Drama", "essay", "French", "geometry", "History", "lab", "Music"),
        ("Course", "Roster", "Term"),
    ),
    Theme(
        "ledgerly",
        "Ledgerly",
        ("amount", "fee", "balance", "payment", "entry"),
        ("rent", "Salary", "coffee", "Taxes", "refund", "Travel", "books", "Insurance", "gift", "Fuel"),
        ("Ledger", "Account", "Budget"),
    ),
    Theme(
        "meteo",
        "Meteo",
        ("reading", "temperature", "rainfall", "gust", "humidity"),
        ("north", "Coast", "valley", "Summit", "harbor", "Plains", "ridge", "Delta", "forest", "Island"),
        ("Station", "Forecast", "Series"),
    ),
    Theme(
        "shipyard",
        "Shipyard",
        ("weight", "distance", "parcel", "route", "cargo"),
        ("dock", "Anchor", "harbor", "Vessel", "crane", "Pallet", "berth", "Tanker", "quay", "Freight"),
        ("Manifest", "Voyage", "Fleet"),
    ),
    Theme(
        "fitlog",
        "Fitlog",
        ("step", "lap", "calorie", "rep", "pace"),
        ("run", "Swim", "cycle", "Yoga", "row", "Climb", "walk", "Sprint", "lift", "Hike"),
        ("Workout", "Session", "Plan"),
    ),
    Theme(
        "playlist",
        "Playlist",
        ("track", "duration", "rating", "play", "volume"),
        ("jazz", "Blues", "rock", "Opera", "folk", "Disco", "funk", "Reggae", "soul", "Techno"),
        ("Mixtape", "Album", "Queue"),
    ),
    Theme(
        "greenhouse",
        "Greenhouse",
        ("seedling", "water", "sunlight", "yield", "pot"),
        ("basil", "Tomato", "fern", "Orchid", "mint", "Cactus", "ivy", "Lettuce", "sage", "Pepper"),
        ("Bed", "Tray", "Harvest"),
    ),
)

LEVEL_MODULE_NAMES = (
    ("helpers", "utils", "convert", "units", "numbers", "text"),
    ("rules", "stats", "filters", "scoring", "transforms", "measures"),
    ("pipeline", "policies", "combine", "planning", "workflow", "analysis"),
    ("service", "engine", "aggregate", "reporting", "insights", "process"),
)
TOP_MODULE_NAMES = ("api", "report", "summary", "commands", "dashboard", "frontend")

# --------------------------------------------------------------------------------------------
# Function templates
# --------------------------------------------------------------------------------------------
# Signatures: "int->int", "ints->int", "ints->ints", "str->int", "str->str", "int,int->int",
# "ints->str". A template is (kind, signature, callee signatures, constants, source). Sources use
# {name}, {noun}, {Noun}, {g0}, {g1} and the named constants; a constant spec is (low, high) or
# ("after", other constant, low offset, high offset).


@dataclass(frozen=True)
class Template:
    kind: str
    signature: str
    callees: tuple[str, ...]
    constants: dict
    source: str


LEAF_TEMPLATES = (
    Template(
        "scale",
        "int->int",
        (),
        {"k": (2, 5), "c": (1, 9)},
        '''
def {name}(amount, factor={k}):
    """Return ``amount`` scaled by ``factor`` plus the fixed {noun} offset of {c}."""
    return amount * factor + {c}
''',
    ),
    Template(
        "clamp",
        "int->int",
        (),
        {"lo": (0, 5), "hi": ("after", "lo", 10, 30)},
        '''
def {name}(value):
    """Clamp {a_noun} value into the range [{lo}, {hi}]."""
    if value < {lo}:
        return {lo}
    if value > {hi}:
        return {hi}
    return value
''',
    ),
    Template(
        "bucket",
        "int->int",
        (),
        {"k": (2, 6)},
        '''
def {name}(value, size={k}):
    """Return the index of the {noun} bucket of width ``size`` that holds ``value``."""
    if value < 0:
        return -((-value) // size) - 1
    return value // size
''',
    ),
    Template(
        "step",
        "int->int",
        (),
        {},
        '''
def {name}(value):
    """Halve an even {noun} value; triple an odd one and add one."""
    if value % 2 == 0:
        return value // 2
    return value * 3 + 1
''',
    ),
    Template(
        "sum_above",
        "ints->int",
        (),
        {"t": (0, 10)},
        '''
def {name}(values, threshold={t}):
    """Sum the {noun} values strictly greater than ``threshold``."""
    total = 0
    for value in values:
        if value > threshold:
            total += value
    return total
''',
    ),
    Template(
        "count_between",
        "ints->int",
        (),
        {"lo": (0, 6), "hi": ("after", "lo", 5, 15)},
        '''
def {name}(values):
    """Count the {noun} values between {lo} and {hi}, both included."""
    count = 0
    for value in values:
        if value >= {lo} and value <= {hi}:
            count += 1
    return count
''',
    ),
    Template(
        "largest",
        "ints->int",
        (),
        {},
        '''
def {name}(values):
    """Return the largest {noun} value, or 0 when there are none."""
    if not values:
        return 0
    best = values[0]
    for value in values[1:]:
        if value > best:
            best = value
    return best
''',
    ),
    Template(
        "weighted_sum",
        "ints->int",
        (),
        {},
        '''
def {name}(values):
    """Weight each {noun} value by its 1-based position and add them up."""
    total = 0
    for index, value in enumerate(values):
        total += (index + 1) * value
    return total
''',
    ),
    Template(
        "window_total",
        "ints->int",
        (),
        {"s": (0, 2), "w": (2, 4)},
        '''
def {name}(values, start={s}, width={w}):
    """Sum the window of ``width`` {noun} values that begins at index ``start``."""
    return sum(values[start:start + width])
''',
    ),
    Template(
        "spread",
        "ints->int",
        (),
        {},
        '''
def {name}(values):
    """Return the difference between the largest and the smallest {noun} value."""
    if len(values) < 2:
        return 0
    return max(values) - min(values)
''',
    ),
    Template(
        "mean_floor",
        "ints->int",
        (),
        {},
        '''
def {name}(values):
    """Return the mean {noun} value rounded down, or 0 when there are none."""
    if not values:
        return 0
    return sum(values) // len(values)
''',
    ),
    Template(
        "differences",
        "ints->ints",
        (),
        {},
        '''
def {name}(values):
    """Return the change between each pair of neighbouring {noun} values."""
    return [values[i + 1] - values[i] for i in range(len(values) - 1)]
''',
    ),
    Template(
        "running_totals",
        "ints->ints",
        (),
        {},
        '''
def {name}(values):
    """Return the running totals of the {noun} values."""
    totals = []
    current = 0
    for value in values:
        current += value
        totals.append(current)
    return totals
''',
    ),
    Template(
        "top_values",
        "ints->ints",
        (),
        {"k": (2, 4)},
        '''
def {name}(values, count={k}):
    """Return the ``count`` largest {noun} values, largest first."""
    return sorted(values, reverse=True)[:count]
''',
    ),
    Template(
        "keep_multiples",
        "ints->ints",
        (),
        {"k": (2, 4)},
        '''
def {name}(values, divisor={k}):
    """Keep the {noun} values that are multiples of ``divisor``."""
    return [value for value in values if value % divisor == 0]
''',
    ),
    Template(
        "chunk_sums",
        "ints->ints",
        (),
        {"k": (2, 3)},
        '''
def {name}(values, size={k}):
    """Split the {noun} values into chunks of ``size`` and sum each chunk."""
    return [sum(values[i:i + size]) for i in range(0, len(values), size)]
''',
    ),
    Template(
        "count_vowels",
        "str->int",
        (),
        {},
        '''
def {name}(text):
    """Count the vowels in {a_noun} label."""
    return sum(1 for char in text.lower() if char in "aeiou")
''',
    ),
    Template(
        "word_score",
        "str->int",
        (),
        {"k": (2, 5)},
        '''
def {name}(text, bonus={k}):
    """Score {a_noun} label: the length of each word plus ``bonus`` per capitalised word."""
    score = 0
    for word in text.split():
        score += len(word)
        if word[:1].isupper():
            score += bonus
    return score
''',
    ),
    Template(
        "shout",
        "str->str",
        (),
        {"k": (1, 3)},
        '''
def {name}(text, marks={k}):
    """Upper-case {a_noun} label and append ``marks`` exclamation marks."""
    return text.upper() + "!" * marks
''',
    ),
    Template(
        "initials",
        "str->str",
        (),
        {},
        '''
def {name}(text):
    """Return the upper-case initials of the words of {a_noun} label."""
    return "".join(word[0] for word in text.split()).upper()
''',
    ),
    Template(
        "pad_label",
        "str->str",
        (),
        {"k": (8, 14)},
        '''
def {name}(text, width={k}):
    """Pad or cut {a_noun} label to exactly ``width`` characters, filling with dots."""
    if len(text) >= width:
        return text[:width]
    return text + "." * (width - len(text))
''',
    ),
    Template(
        "caesar",
        "str->str",
        (),
        {"k": (1, 5)},
        '''
def {name}(text, shift={k}):
    """Shift each lower-case letter of {a_noun} code by ``shift`` places."""
    letters = []
    for char in text:
        if "a" <= char <= "z":
            letters.append(chr((ord(char) - 97 + shift) % 26 + 97))
        else:
            letters.append(char)
    return "".join(letters)
''',
    ),
    Template(
        "safe_ratio",
        "int,int->int",
        (),
        {},
        '''
def {name}(numerator, denominator):
    """Divide two {noun} amounts rounding down; a zero denominator gives 0."""
    if denominator == 0:
        return 0
    return numerator // denominator
''',
    ),
    Template(
        "gap",
        "int,int->int",
        (),
        {},
        '''
def {name}(first, second):
    """Return the distance between two {noun} values."""
    return first - second if first > second else second - first
''',
    ),
    Template(
        "capped_sum",
        "int,int->int",
        (),
        {"k": (20, 40)},
        '''
def {name}(first, second, cap={k}):
    """Add two {noun} values, never going above ``cap``."""
    return min(first + second, cap)
''',
    ),
)

COMPOSITE_TEMPLATES = (
    Template(
        "apply_each",
        "ints->ints",
        ("int->int",),
        {},
        '''
def {name}(values):
    """Apply ``{g0}`` to every {noun} value."""
    return [{g0}(value) for value in values]
''',
    ),
    Template(
        "keep_where",
        "ints->ints",
        ("int->int",),
        {"t": (0, 6)},
        '''
def {name}(values, minimum={t}):
    """Keep the {noun} values whose ``{g0}`` is at least ``minimum``."""
    return [value for value in values if {g0}(value) >= minimum]
''',
    ),
    Template(
        "chain_lists",
        "ints->ints",
        ("ints->ints", "ints->ints"),
        {},
        '''
def {name}(values):
    """Run the {noun} values through ``{g0}`` and then ``{g1}``."""
    return {g1}({g0}(values))
''',
    ),
    Template(
        "total_mapped",
        "ints->int",
        ("int->int",),
        {"k": (15, 60)},
        '''
def {name}(values, limit={k}):
    """Add up ``{g0}`` of each {noun} value, skipping results above ``limit``."""
    total = 0
    for value in values:
        converted = {g0}(value)
        if converted <= limit:
            total += converted
    return total
''',
    ),
    Template(
        "reduce_prepared",
        "ints->int",
        ("ints->ints", "ints->int"),
        {},
        '''
def {name}(values):
    """Reduce the {noun} values with ``{g1}`` after preparing them with ``{g0}``."""
    prepared = {g0}(values)
    return {g1}(prepared)
''',
    ),
    Template(
        "balance",
        "ints->int",
        ("ints->int", "ints->int"),
        {"t": (5, 25)},
        '''
def {name}(values, threshold={t}):
    """Combine two {noun} measures: above ``threshold`` the second is subtracted, else added."""
    primary = {g0}(values)
    secondary = {g1}(values)
    if primary > threshold:
        return primary - secondary
    return primary + secondary
''',
    ),
    Template(
        "normalised_score",
        "str->int",
        ("str->str", "str->int"),
        {"k": (2, 4)},
        '''
def {name}(text, weight={k}):
    """Score the {noun} label with ``{g1}`` after normalising it with ``{g0}``."""
    normalised = {g0}(text)
    return {g1}(normalised) * weight
''',
    ),
    Template(
        "mixed_score",
        "str->int",
        ("str->int", "str->int"),
        {},
        '''
def {name}(text):
    """Blend two scores of {a_noun} label, counting the first twice."""
    first = {g0}(text)
    second = {g1}(text)
    return first * 2 + second
''',
    ),
    Template(
        "format_label",
        "str->str",
        ("str->str", "str->str"),
        {},
        '''
def {name}(text):
    """Format the {noun} label with ``{g0}`` and then ``{g1}``."""
    return {g1}({g0}(text))
''',
    ),
    Template(
        "adjusted_pair",
        "int,int->int",
        ("int->int", "int,int->int"),
        {},
        '''
def {name}(first, second):
    """Combine two {noun} values after adjusting the first with ``{g0}``."""
    adjusted = {g0}(first)
    return {g1}(adjusted, second)
''',
    ),
    Template(
        "range_measure",
        "int,int->int",
        ("ints->int",),
        {},
        '''
def {name}(low, high):
    """Measure the {noun} values from ``low`` up to ``high`` (excluded) with ``{g0}``."""
    return {g0}(list(range(low, high)))
''',
    ),
    Template(
        "adjusted_value",
        "int->int",
        ("int->int", "int->int"),
        {},
        '''
def {name}(value):
    """Adjust {a_noun} value with ``{g0}``, make it non-negative, then apply ``{g1}``."""
    adjusted = {g0}(value)
    if adjusted < 0:
        adjusted = -adjusted
    return {g1}(adjusted)
''',
    ),
    Template(
        "describe",
        "ints->str",
        ("ints->int", "ints->int"),
        {},
        '''
def {name}(values, label="{Noun}"):
    """Summarise the {noun} values as ``label: first/second``."""
    first = {g0}(values)
    second = {g1}(values)
    return f"{{label}}: {{first}}/{{second}}"
''',
    ),
)

CLASS_TEMPLATE = Template(
    "class",
    "class",
    ("ints->int", "ints->ints"),
    {"k": (10, 40)},
    '''
class {name}:
    """A collection of {noun} values with summary helpers."""

    def __init__(self, values, limit={k}):
        self.values = list(values)
        self.limit = limit

    def total(self):
        """Return ``{g0}`` of the stored {noun} values."""
        return {g0}(self.values)

    def capped_total(self):
        """Like ``total``, but never above ``limit``."""
        result = {g0}(self.values)
        if result > self.limit:
            return self.limit
        return result

    def transformed(self):
        """Return the stored {noun} values passed through ``{g1}``."""
        return {g1}(self.values)
''',
)
CLASS_METHODS = ("total", "capped_total", "transformed")

# How each template's name is formed: a verb (or phrase) joined with the theme noun.
NAME_PATTERNS = {
    "scale": "scale_{noun}",
    "clamp": "clamp_{noun}",
    "bucket": "{noun}_bucket",
    "step": "next_{noun}",
    "sum_above": "sum_{noun}s_above",
    "count_between": "count_{noun}s_in_range",
    "largest": "largest_{noun}",
    "weighted_sum": "weighted_{noun}_total",
    "window_total": "{noun}_window_total",
    "spread": "{noun}_spread",
    "mean_floor": "mean_{noun}",
    "differences": "{noun}_changes",
    "running_totals": "running_{noun}_totals",
    "top_values": "top_{noun}s",
    "keep_multiples": "{noun}_multiples",
    "chunk_sums": "{noun}_chunk_sums",
    "count_vowels": "{noun}_vowel_count",
    "word_score": "{noun}_word_score",
    "shout": "shout_{noun}",
    "initials": "{noun}_initials",
    "pad_label": "pad_{noun}_label",
    "caesar": "encode_{noun}",
    "safe_ratio": "{noun}_ratio",
    "gap": "{noun}_gap",
    "capped_sum": "capped_{noun}_sum",
    "apply_each": "convert_{noun}s",
    "keep_where": "select_{noun}s",
    "chain_lists": "prepare_{noun}s",
    "total_mapped": "total_{noun}_value",
    "reduce_prepared": "{noun}_figure",
    "balance": "{noun}_balance",
    "normalised_score": "{noun}_label_score",
    "mixed_score": "{noun}_blend_score",
    "format_label": "format_{noun}",
    "adjusted_pair": "compare_{noun}s",
    "range_measure": "{noun}_range_measure",
    "adjusted_value": "adjust_{noun}",
    "describe": "describe_{noun}s",
}

# --------------------------------------------------------------------------------------------
# Project model
# --------------------------------------------------------------------------------------------


@dataclass
class FunctionSpec:
    name: str  # the function name, or the class name for the class
    template: Template
    level: int
    module: str = ""
    callees: list[str] = field(default_factory=list)
    noun: str = ""
    source: str = ""

    @property
    def callable_names(self) -> list[str]:
        """Qualified names of what this spec defines (the class's methods for the class)."""
        if self.template.kind == "class":
            return [f"{self.name}.__init__"] + [f"{self.name}.{m}" for m in CLASS_METHODS]
        return [self.name]


@dataclass(frozen=True)
class TestCase:
    """One generated test: ``assert <call> == <expected>`` in ``path`` as function ``name``."""

    path: str
    name: str
    module: str  # the package module the call comes from
    imported: str  # the name imported from it
    call: str  # the call expression, e.g. "total_price([3, 8, 1])"
    expected: str = ""  # repr of the clean result

    @property
    def node_id(self) -> str:
        return f"{self.path}::{self.name}"


@dataclass
class Project:
    theme: Theme
    package: str
    levels: int  # number of levels (top level index = levels - 1)
    modules: list[str]  # module names (without package), in level order
    functions: list[FunctionSpec]
    module_level: dict[str, int]
    files: dict[str, str] = field(default_factory=dict)
    tests: list[TestCase] = field(default_factory=list)  # visible tests, in file order
    hidden_tests: list[TestCase] = field(default_factory=list)  # held-out tests (not in the repo)

    def module_path(self, module: str) -> str:
        return f"{self.package}/{module}.py"

    def function(self, name: str) -> FunctionSpec:
        return next(f for f in self.functions if f.name == name)


def _constants(rng: random.Random, template: Template) -> dict[str, int]:
    values: dict[str, int] = {}
    for key, spec in template.constants.items():
        if spec[0] == "after":
            _, other, low, high = spec
            values[key] = values[other] + rng.randint(low, high)
        else:
            values[key] = rng.randint(spec[0], spec[1])
    return values


def _unique_name(base: str, taken: set[str]) -> str:
    name, suffix = base, 2
    while name in taken:
        name = f"{base}_{suffix}"
        suffix += 1
    taken.add(name)
    return name


TOP_SIGNATURE_WEIGHTS = {
    "ints->int": 4,
    "ints->ints": 3,
    "str->int": 2,
    "str->str": 2,
    "int,int->int": 1,
    "ints->str": 2,
    "int->int": 1,
}


def plan_project(rng: random.Random, modules: int, functions: int, call_depth: int) -> Project:
    """Choose the theme, modules, functions and call graph of a project (no code yet).

    ``functions`` is the target number of functions (the class counts as one); the levels below
    the top are filled top-down so every function is called by the level above it.
    """
    theme = rng.choice(THEMES)
    top = max(1, call_depth)
    level_count = top + 1
    modules = max(modules, level_count)
    # Modules per level: one each, the rest spread over the levels (the top gets the first extra).
    per_level = [1] * level_count
    for extra in range(modules - level_count):
        per_level[top if extra == 0 else rng.randrange(level_count)] += 1
    module_names: list[str] = []
    module_level: dict[str, int] = {}
    taken_modules: set[str] = set()
    for level, count in enumerate(per_level):
        pool = list(TOP_MODULE_NAMES if level == top else LEVEL_MODULE_NAMES[min(level, len(LEVEL_MODULE_NAMES) - 1)])
        rng.shuffle(pool)
        for index in range(count):
            name = _unique_name(pool[index % len(pool)], taken_modules)
            module_names.append(name)
            module_level[name] = level
    # Function budget per level: about a third at the top, the rest shared by the lower levels.
    top_count = max(2, round(functions * 0.35))
    lower_budget = max(0, functions - top_count)
    budgets = [max(1, lower_budget // top) for _ in range(top)] + [top_count]
    taken: set[str] = set()
    specs: list[FunctionSpec] = []

    def new_spec(template: Template, level: int) -> FunctionSpec:
        noun = rng.choice(theme.nouns)
        if template.kind == "class":
            name = _unique_name(rng.choice(theme.class_names), taken)
        else:
            name = _unique_name(NAME_PATTERNS[template.kind].format(noun=noun), taken)
        spec = FunctionSpec(name, template, level, noun=noun)
        specs.append(spec)
        return spec

    # Top level: composites (a class among them when there is room).
    signatures = list(TOP_SIGNATURE_WEIGHTS)
    weights = [TOP_SIGNATURE_WEIGHTS[s] for s in signatures]
    top_specs = []
    with_class = top_count >= 3 and rng.random() < 0.7
    for index in range(top_count):
        if with_class and index == top_count - 1:
            top_specs.append(new_spec(CLASS_TEMPLATE, top))
            continue
        signature = rng.choices(signatures, weights)[0]
        options = [t for t in COMPOSITE_TEMPLATES if t.signature == signature]
        top_specs.append(new_spec(rng.choice(options), top))
    # Lower levels, top-down: every callee slot gets a function one level below.
    current = top_specs
    for level in range(top - 1, -1, -1):
        below: list[FunctionSpec] = []
        budget = budgets[level]
        for caller in current:
            for signature in caller.template.callees:
                matching = [s for s in below if s.template.signature == signature]
                if matching and (len(below) >= budget or rng.random() < 0.25):
                    caller.callees.append(rng.choice(matching).name)
                    continue
                pool = LEAF_TEMPLATES if level == 0 else COMPOSITE_TEMPLATES
                options = [t for t in pool if t.signature == signature]
                spec = new_spec(rng.choice(options), level)
                below.append(spec)
                caller.callees.append(spec.name)
        current = below
    # Modules: each function goes to a module of its level.
    for spec in specs:
        candidates = [m for m in module_names if module_level[m] == spec.level]
        spec.module = rng.choice(candidates)
    return Project(theme, theme.package, level_count, module_names, specs, module_level)


def render_project(rng: random.Random, project: Project) -> None:
    """Write the sources of every function and module, README and pyproject into ``files``."""
    package = project.package
    by_name = {spec.name: spec for spec in project.functions}
    for spec in project.functions:
        constants = _constants(rng, spec.template)
        article = "an" if spec.noun[0] in "aeiou" else "a"
        mapping = {
            "name": spec.name,
            "noun": spec.noun,
            "a_noun": f"{article} {spec.noun}",
            "Noun": spec.noun.capitalize(),
            **constants,
        }
        for index, callee in enumerate(spec.callees):
            mapping[f"g{index}"] = callee
        spec.source = spec.template.source.strip("\n").format(**mapping) + "\n"
    files: dict[str, str] = {}
    files[f"{package}/__init__.py"] = (
        f'"""{project.theme.title}: small helpers for {project.theme.nouns[0]} bookkeeping."""\n\n'
        f'__version__ = "0.{rng.randint(1, 9)}.{rng.randint(0, 20)}"\n'
    )
    for module in project.modules:
        level = project.module_level[module]
        members = [s for s in project.functions if s.module == module]
        imports: dict[str, list[str]] = {}
        for spec in members:
            for callee in spec.callees:
                home = by_name[callee].module
                if home != module:
                    imports.setdefault(home, [])
                    if callee not in imports[home]:
                        imports[home].append(callee)
        role = (
            "public interface"
            if level == project.levels - 1
            else ("building blocks" if level == 0 else f"level-{level} rules")
        )
        header = f'"""{project.theme.title} {module}: {role}."""\n'
        if imports:
            header += "\n" + "".join(
                f"from {package}.{home} import {', '.join(sorted(imports[home]))}\n" for home in sorted(imports)
            )
        body = "\n\n".join(spec.source for spec in members)
        files[project.module_path(module)] = header + ("\n\n" + body if members else "")
    files["README.md"] = (
        f"# {project.theme.title}\n\nA small Python package (`{package}`) of {project.theme.nouns[0]} helpers.\n\n"
        "Run the tests with `python -m pytest`.\n"
    )
    files["pyproject.toml"] = (
        f'[project]\nname = "{package}"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n\n'
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\npythonpath = ["."]\n'
    )
    project.files = files


# --------------------------------------------------------------------------------------------
# In-process execution of generated projects
# --------------------------------------------------------------------------------------------


class ProjectRunner:
    """Executes a generated project's modules privately (no ``sys.modules``) and runs tests.

    Only for code this package generated (and its mutants): it has no loops that can run away,
    so it needs no sandbox. ``evaluate(call, module, imported)`` returns ("value", repr) or
    ("error", "Type: message").
    """

    def __init__(self, package: str, files: dict[str, str]):
        self.package = package
        self.files = files
        self.modules: dict[str, types.ModuleType] = {}
        self._builtins = dict(vars(builtins))
        self._builtins["__import__"] = self._import

    def _load(self, name: str) -> types.ModuleType:
        if name in self.modules:
            return self.modules[name]
        path = (self.package + "/__init__.py") if name == self.package else name.replace(".", "/") + ".py"
        if path not in self.files:
            raise ImportError(f"No module named {name!r}")
        module = types.ModuleType(name)
        module.__dict__["__builtins__"] = self._builtins
        self.modules[name] = module
        exec(compile(self.files[path], path, "exec", dont_inherit=True), module.__dict__)
        return module

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == self.package or name.startswith(self.package + ".")):
            module = self._load(name)
            return module if fromlist else self._load(self.package)
        return builtins.__import__(name, globals, locals, fromlist, level)

    def evaluate(self, call: str, module: str, imported: str) -> tuple[str, str]:
        try:
            namespace = {
                "__builtins__": self._builtins,
                imported: getattr(self._load(f"{self.package}.{module}"), imported),
            }
            return "value", repr(eval(compile(call, "<test>", "eval", dont_inherit=True), namespace))
        except Exception as error:  # a mutant may raise anything
            return "error", f"{type(error).__name__}: {error}"

    def outcome(self, test: TestCase) -> bool:
        """True when the test passes (its call returns a value equal to the expected one)."""
        kind, value = self.evaluate(f"({test.call}) == {test.expected}", test.module, test.imported)
        return kind == "value" and value == "True"


def _draw_argument(rng: random.Random, kind: str, case: str, words: tuple[str, ...]) -> Any:
    if kind == "int":
        return rng.randint(-8, 30) if case == "mixed" else rng.randint(0, 30)
    if kind == "ints":
        length = rng.randint(1, 2) if case == "short" else rng.randint(4, 8)
        low = -9 if case == "mixed" else 0
        if case == "repeated":
            pool = [rng.randint(low, 25) for _ in range(2)]
            return [rng.choice(pool) for _ in range(length)]
        return [rng.randint(low, 25) for _ in range(length)]
    if kind == "str":
        count = 1 if case == "short" else rng.randint(2, 3)
        chosen = [rng.choice(words) for _ in range(count)]
        if case == "mixed":
            chosen = [w.lower() for w in chosen]
        return " ".join(chosen)
    raise ValueError(kind)


CASES = ("typical", "mixed", "short", "repeated")


def _callable_entries(project: Project) -> list[tuple[FunctionSpec, str | None]]:
    """(spec, method) for everything tests call: top-level functions, and the class's methods."""
    entries = []
    for spec in project.functions:
        if spec.level != project.levels - 1:
            continue
        if spec.template.kind == "class":
            entries.extend((spec, method) for method in CLASS_METHODS)
        else:
            entries.append((spec, None))
    return entries


def defaulted_parameters(spec: FunctionSpec) -> dict[str, int | str]:
    """The parameters of what tests call of ``spec`` (the function, or the class's ``__init__``)
    that have an int or str default, with their defaults, from its clean source."""
    tree = ast_parse.parse(spec.source)
    node = tree.body[0]
    if isinstance(node, ast.ClassDef):
        node = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if not isinstance(node, ast.FunctionDef):
        return {}
    arguments = node.args.args[len(node.args.args) - len(node.args.defaults) :]
    found: dict[str, int | str] = {}
    for argument, default in zip(arguments, node.args.defaults):
        if isinstance(default, ast.Constant) and type(default.value) in (int, str):
            found[argument.arg] = default.value
    return found


def _explicit_defaults(rng: random.Random, spec: FunctionSpec, words: tuple[str, ...]) -> str:
    """``, name=value`` for each defaulted parameter of ``spec``, each value other than its
    default (ints from 1-9, strs from the theme's words)."""
    parts = []
    for name, default in defaulted_parameters(spec).items():
        if isinstance(default, int):
            value: int | str = rng.choice([v for v in range(1, 10) if v != default])
        else:
            value = rng.choice([w for w in words if w != default] or [default + "s"])
        parts.append(f", {name}={value!r}")
    return "".join(parts)


def _call_text(
    rng: random.Random,
    spec: FunctionSpec,
    method: str | None,
    case: str,
    words: tuple[str, ...],
    explicit: bool = False,
) -> str:
    """A call of ``spec`` (or ``Class(values).method()``) on ``case`` inputs; with ``explicit``,
    every defaulted parameter is passed by keyword with a value other than its default."""
    extra = _explicit_defaults(rng, spec, words) if explicit else ""
    if spec.template.kind == "class":
        values = _draw_argument(rng, "ints", case, words)
        return f"{spec.name}({values!r}{extra}).{method}()"
    parameters = spec.template.signature.split("->")[0].split(",")
    arguments = [_draw_argument(rng, kind, case, words) for kind in parameters]
    return f"{spec.name}({', '.join(repr(a) for a in arguments)}{extra})"


def _draw_call(
    rng: random.Random,
    runner: ProjectRunner,
    spec: FunctionSpec,
    method: str | None,
    case: str,
    used_calls: set[str],
    words: tuple[str, ...],
    explicit: bool = False,
) -> tuple[str, str] | None:
    """A call of ``spec`` (or its ``method``) on ``case`` inputs (defaulted parameters passed
    with other values when ``explicit``), not in ``used_calls``, that the clean code
    (``runner``) answers with a value, and that value's repr; None after 20 draws."""
    for _ in range(20):
        call = _call_text(rng, spec, method, case, words, explicit)
        kind, value = runner.evaluate(call, spec.module, spec.name)
        if kind == "value" and call not in used_calls:
            return call, value
    return None


def _label(spec: FunctionSpec, method: str | None) -> str:
    return spec.name if method is None else f"{spec.name.lower()}_{method}"


def write_tests(rng: random.Random, project: Project, cases_per_callable: int, hidden_per_callable: int) -> None:
    """Visible tests (files ``tests/test_<module>.py``) and held-out ones, expected values computed
    by running the clean project. Inputs on which the clean code raises are redrawn."""
    runner = ProjectRunner(project.package, project.files)
    visible: list[TestCase] = []
    hidden: list[TestCase] = []
    used_calls: set[str] = set()
    for spec, method in _callable_entries(project):
        test_path = f"tests/test_{spec.module}.py"
        label = _label(spec, method)
        for index in range(cases_per_callable + hidden_per_callable):
            case = CASES[index % len(CASES)]
            drawn = _draw_call(rng, runner, spec, method, case, used_calls, project.theme.words)
            if drawn is None:
                continue
            call, value = drawn
            used_calls.add(call)
            suffix = case if index < len(CASES) else f"{case}_{index // len(CASES) + 1}"
            if index < cases_per_callable:
                visible.append(TestCase(test_path, f"test_{label}_{suffix}", spec.module, spec.name, call, value))
            else:
                hidden.append(
                    TestCase("tests/test_acceptance.py", f"test_{label}_{suffix}", spec.module, spec.name, call, value)
                )
    project.tests = visible
    project.hidden_tests = hidden
    for path, source in render_test_files(project.package, visible).items():
        project.files[path] = source


def add_held_out_case(
    rng: random.Random,
    project: Project,
    observing: list[TestCase],
    fails: Callable[[TestCase], bool],
    draws: int,
    explicit: bool = False,
) -> TestCase | None:
    """Draw up to ``draws`` fresh inputs for the callables that the tests ``observing`` call
    (expected values from the clean project; with ``explicit``, defaulted parameters passed with
    other values) and append the first case on which ``fails`` holds to
    ``project.hidden_tests``; None, and the project unchanged, when no draw does."""
    runner = ProjectRunner(project.package, project.files)
    entries = [
        (spec, method)
        for spec, method in _callable_entries(project)
        if any(t.imported == spec.name and (method is None or t.call.endswith(f").{method}()")) for t in observing)
    ]
    used_calls = {t.call for t in project.tests + project.hidden_tests}
    for _ in range(draws if entries else 0):
        spec, method = rng.choice(entries)
        drawn = _draw_call(rng, runner, spec, method, rng.choice(CASES), used_calls, project.theme.words, explicit)
        if drawn is None:
            continue
        call, value = drawn
        used_calls.add(call)
        name = f"test_{_label(spec, method)}_extra_{len(project.hidden_tests) + 1}"
        case = TestCase("tests/test_acceptance.py", name, spec.module, spec.name, call, value)
        if fails(case):
            project.hidden_tests.append(case)
            return case
    return None


def render_test_files(package: str, tests: list[TestCase]) -> dict[str, str]:
    """Pytest modules for ``tests`` grouped by path, with the imports they need."""
    files: dict[str, str] = {}
    for path in dict.fromkeys(t.path for t in tests):
        members = [t for t in tests if t.path == path]
        imports: dict[str, list[str]] = {}
        for test in members:
            names = imports.setdefault(test.module, [])
            if test.imported not in names:
                names.append(test.imported)
        lines = [f'"""Tests for {package} ({path.rsplit("/", 1)[-1][:-3]})."""', ""]
        lines += [
            f"from {package}.{module} import {', '.join(sorted(names))}" for module, names in sorted(imports.items())
        ]
        for test in members:
            lines += ["", "", f"def {test.name}():", f"    assert {test.call} == {test.expected}"]
        files[path] = "\n".join(lines) + "\n"
    return files


def count_code_lines(files: dict[str, str], package: str) -> int:
    """Non-blank lines of the package's modules."""
    return sum(
        1
        for path, text in files.items()
        if path.startswith(package + "/")
        for line in text.splitlines()
        if line.strip()
    )
