r"""Math: problems with one exact answer, synthesised in exact arithmetic or read from a MATH/AIME/GSM8K file.

Task        Synthetic mode (default): one problem of a *kind* drawn from the difficulty's pool.
            kind                  problem                                         answer form
            fraction_arithmetic   evaluate +, −, ·, ÷ of fractions, nested (…)    number
            linear_equation       solve a(b(x + c) + d) + … = ex + f for x        number
            quadratic_equation    all real roots (rational, or integer at d=0)    set
            linear_system         2 or 3 linear equations, one integer solution   tuple
            polynomial_expansion  expand a product of binomials (and a power)     expanded
            polynomial_factoring  factor over the integers (linear factors)       factored
            derivative            f'(c) of a polynomial/product, or f'(x) itself  number/expanded
            definite_integral     ∫_a^b of a polynomial or a product of binomials number
            number_theory         gcd, lcm, a mod m, or b^e mod m                 number
            counting              committees, podiums, mixed/at-least-one groups  number
            Every answer is computed exactly when the task is made, in Python integers and
            ``Fraction``s (polynomials as coefficient lists; roots, factorisations, derivatives
            and antiderivatives, determinants, ``math.comb``/``perm``/``gcd``/``lcm``), and the
            LaTeX is exactly what ``sympy.latex`` prints for the same expressions (held to the
            sympy builders by tests/test_math_generator_sympy_parity.py).
            Dataset mode: ``MathGenerator(dataset=path)`` (also ``gym.make("rlvr/Math-v0",
            dataset=path)``) serves rows of a JSON-lines or Parquet file with a problem column
            (``problem``, ``prompt`` or ``question``) and an ``answer`` column: LaTeX (MATH-500),
            an integer (AIME) or a GSM8K solution ending in ``#### 18`` (gold "18"; "1,000" →
            "1000"). ``generate(seed)`` serves row ``seed % rows`` (the core dataset mode,
            ``TaskGenerator.use_dataset``); the difficulty is recorded but changes nothing; task
            id ``math/v0/dataset/<file stem>/<row>``.
Answer      The prompt states the form and ends with: put the final answer inside ``\boxed{}``;
            only the last box counts and two different boxes are a hedge.
            number     an integer, a fraction (``\frac{7}{3}``, ``7/3``) or an exactly equal
                       decimal; not an unevaluated expression.
            set        every distinct root, separated by commas, any order: ``\boxed{-2, \frac{1}{3}}``.
            tuple      the ordered pair/triple ``\boxed{(1, -2, 5)}`` in the variables' order.
            expanded   a sum of monomials with like terms combined: ``\boxed{x^2 - 5x + 6}``.
            factored   a product of irreducible factors: ``\boxed{2(x - 1)(x + 3)}``.
            expression any expression equal to the gold one (no d/dx, ∫, Σ, lim) with no part
                       of a higher degree than the gold's (no generated kind uses it since
                       session 19: f'(x) is asked expanded).
            ``task.answer`` = {"gold": LaTeX, "form": one of the above or "any" (datasets)} plus
            "values" (set/tuple elements as LaTeX), "variables" (tuple), "variable" (polynomial
            forms), "factor_count" (irreducible factors of the gold, with multiplicity) and
            "labels" (the names an answer ``name = value`` may use: ``x`` for a linear equation,
            ``f'(c)`` or ``f'(x)`` for a derivative; kinds without it take no label).
            ``task.meta`` = {"kind", "subkind", "expression_size" (sympy nodes of the problem's
            expression, ``preorder_traversal``), "working" (the solver's steps)}; dataset tasks
            have {"dataset": path, "row": i}.
Verifier    rlvr.verifiers.math.MathVerifier: exact comparison in-process (plain numbers for
            synthetic forms, the native answer grammar of rlvr.verifiers.math_answers for
            datasets), math-verify in a killable worker process for everything else, the form
            and label rules above.
Attacks     ``attacks(task)`` (``math_attacks``): million-element sets and labelled tuples,
            power towers, huge exponents and factorials, deep nesting, box spam, tiny and
            relative near misses, sign and factor-2 errors, wrong labels, equations and
            approximations that name the gold, hedges, the prompt boxed, macro tricks
            (``\def``, ``\newcommand``, ``\phantom``, ``\color``, ``\text``), look-alike digits.
            The generator reads numbers in golds (near misses, the zero gold whose negation is
            itself) with the verifier's own ``parse_plain_number``: it has no notion of a
            number or of equality of its own.
Solver      The worked steps recorded at generation (the exact intermediate results) and the gold
            answer in ``\boxed{}``; for a dataset row, the file's own answer in ``\boxed{}``.

Hints       ``hint=h``: the worked solution's steps but the last (a step containing the gold is
            dropped); a task without steps (expansion, factoring, AIME rows) gets one line on the
            answer's form.
Difficulty  (rendered from the declaration below)
            d     kinds     max_coefficient  terms  nesting  degree  unknowns
            0     5 kinds   9                2      0        2       2
            0.25  5 kinds   20               3      1        3       2
            0.5   8 kinds   30               3      1        3       2
            0.75  8 kinds   65               4      2        4       3
            1     10 kinds  100              5      3        5       3
            The kinds pool: d < 0.5 fraction_arithmetic, linear_equation, polynomial_expansion,
            number_theory, counting (``EASY_KINDS``); 0.5 ≤ d < 1 adds quadratic_equation,
            linear_system, derivative (``MIDDLE_KINDS``); d = 1 adds polynomial_factoring and
            definite_integral (all of ``KINDS``). max_coefficient (2–10⁶) bounds numerators,
            denominators, roots and constants; terms (2–12) is the operand count of a chain /
            factor count of a product / term count of a polynomial; nesting (0–8) is the depth of
            parenthesised sub-chains, of the c(…)+d wrapping in linear equations, and switches
            on rational roots, powers of binomials and product rules; degree (1–20) bounds
            polynomial degrees; unknowns (2–3) sizes systems. Mean expression_size over seeds
            0–199: 6.2 (d=0), 12.7 (d=0.5), 23.0 (d=1). Explicit parameters win over the knob;
            ``kinds`` is a comma-separated selection of KINDS or a list of them (the order
            given is kept; the task's params and id record it as comma-separated text).

Version history
            v0  (2026-11) first release. 2026-12: declared in rlvr.families; synthetic task
                bytes unchanged (tests/test_golden_tasks.py); dataset-mode ids unified to
                ``math/v0/dataset/<file stem>/<row>`` (were ``math/dataset/…``), prompts and
                answers unchanged. Overrides are checked and canonical before they name a task:
                ``kinds`` given as a list or with spaces names the same task as its plain
                comma-separated text (they made different tasks before). Dataset rows that carry
                worked steps (a MATH-style ``solution``, GSM8K's answer lines) keep them in
                ``meta["working"]`` for hints (GSM8K dataset tasks' bytes changed by that meta).
                2026-12-05 (session 7): train/held-out sides go by ``split_group`` (synthetic tasks
                by kind, subkind and answer, dataset tasks by their row; red team S7-1: one problem
                shown otherwise was on both sides), so split streams changed where a task's group
                lands elsewhere than its prompt did (re-pinned); raw-stream bytes unchanged.
                2026-12-05 (session 9): an answer that is undefined once its unevaluated parts
                are evaluated is malformed (red team S9-F5: the gold times \frac{\sin 0}{\sin 0}
                was judged equal on the math-verify path), and one nesting radicals more than 6
                deep is refused before parsing (S9-F7: 20 nested cube roots held a math worker
                for its whole deadline); task bytes unchanged.
                2026-12-05 (session 10): expression answers are compared with their unevaluated
                parts evaluated, so the gold times \cos 0 or plus \sin 0 is judged equal (it was
                a false negative). A problem whose answer is its form's own example (``\boxed{120}``
                for a count of 120: answering the example scored on 3 % of d = 0 tasks, red team
                S10-G5) is redrawn: bytes changed for those tasks only (none pinned). A binomial
                coefficient or Γ whose arguments may exceed 500 is refused before parsing (S10-G8:
                C(10^6, 5·10^5) and Γ(10^6) held a worker for its whole deadline). Remainder questions draw
                moduli from 11 and residues above 1 (S10-G11: the constant 1 answered 39 % of the
                power-remainder questions at d = 0.25): those tasks' bytes changed (none pinned).
                A \frac whose denominator is 0 (read and evaluated alone) makes the answer
                malformed (S10-G1: sympy cancelled the gold times (sin²1 + cos²1 − 1)/(the same)
                to the gold before anything was evaluated). Later (red team S10b-B3/B4): each
                symbol of such a denominator gets its own value (a − b read as 0 when all were
                equal), and binomials and Γ are refused by the digits of their value (above
                500!'s) rather than by the characters of their arguments (\binom{2^5}{2} and
                \Gamma(\frac{1}{2}) were refused); symbols count as 2 and negative or disguised
                arguments by their size, and spacing macros no longer hide an argument (S10b-B8/B9).
                Number-theory answers are never what a reading of the numbers shown gives (the
                base's remainder for a power, the smallest number for a gcd, the largest or the
                product for an lcm: 26–52 % of those questions; S10b-B7); lcm numbers and power
                bases go up to 30 at least, exponents from 3: those tasks' bytes changed.
                2026-12-06 (session 11): no answer is common within a question template (red team
                S10b-B6: a constant answered up to a quarter of one at d = 0, e.g. (x + a)(x + b) →
                x² + 4x + 3, a^b mod m → 9, a committee → 15, a gcd → 4, one solution per sign
                pattern of a linear equation; now at most 6 % of any template drawn 300 times,
                tests/test_math.py): a product of two binomials draws constants from ±12, a
                d = 0 linear equation its solution from ±30, counting stories group sizes up to
                30 (a committee at most n − 2), f'(c) is not asked at 0 or at a zero of f'; the
                number-theory answer is drawn first and evenly (a gcd from 2 … 35, a remainder among
                its modulus's) and the numbers shown are drawn to give it, moduli are 17 … 64 at
                least, a power's prime and its answer never b², b³ (e > 3) or −b mod m (those
                readings and 2^e answered 15–37 % of them with composite moduli), a gcd of two
                numbers is never their difference (53 % at d = 0) nor, of any count, what Euclid
                stopped after one step gives (larger mod smaller answered 27–47 % of gcds and, as
                a·b / (b mod a), half the lcms at d = 0; S11-H6), and a product's remainder never a
                factor's. Those kinds' task bytes changed
                (re-pinned). Verifier: 0 to a power ≤ 0 is malformed (S10-G1: the gold times 0^{0}
                or (\log 1)^{0}, or plus 0^{0} − 1, was judged equal: sympy evaluates 0^0 to 1), and
                set and tuple answers get this check and S10-G1's zero-denominator one too (an
                element times (\log 1)^{0} scored). Expressions in variables are told apart at
                sample points before math-verify simplifies them, and ones with binomials,
                factorials or Γ that agree there are proved equal by gammasimp (S10-G8 / S10b-B4:
                \binom{2n}{n} against (2n)!/(n!)^2 held a worker 5 s and scored 0); an answer
                applying more than 8 functions (sin, log, …; or twice the gold's) is refused unread
                (59 terms \sin(kx)^{k} held a worker 5 s).
                2026-12-06 (red team s14 B1, B3, B4; verifier only, task bytes unchanged):
                ``ordered=True`` and ``units="strict"`` hold on the worker path too (an answer the
                native reader cannot read, one element in \lceil…\rceil, went to math-verify,
                which ignores order and units: a reversed list or a wrong unit scored 1; now the
                worker compares a bare-list gold element by element in order and checks the
                unit first). Every exponent (of ``^``, ``\exp``, ``\cosh``…, inside function
                arguments and exponents) is screened against 4 096, every factorial's operand
                against 500, and \lceil/\lfloor may nest 3 deep: \lceil 3^{3^{3^{3}}} \rceil,
                \sin(10^{10^{6}}) and 6 nested \lceil held a worker its whole 5 s deadline (8 at
                once starved right answers); they are refused in under 0.01 s. Dataset mode:
                an answer that restates a maths span of the problem (the span, a side of an
                equation in it, or the answer holding a computing span: ``(99^2+99+1)``,
                ``\sqrt{242}`` for 11\sqrt2) scores 0 unless the gold is written so; MATH-500
                "box one of the last 4 spans" fell from 39 rows to 2 (the gold \sqrt{53} itself,
                and a letter read as (C)), every MATH-500, AIME 24/25 and GSM8K gold (1 879) with its
                prompt still scores, and
                the 497 peer-grader cases agree exactly as before (455 / 448 / 430 under the
                defaults / ordered / strict units).
                2026-12-06 (session 15; verifier only, task bytes unchanged): the restatement
                screen also compares multisets of tokens (``restatement_tokens``: brackets and
                "+" dropped, the spellings of × and ÷ made one), so a span with its terms or
                factors reordered (``1+99+99^2``, ``10+2a+5b+ab``) or with \cdot and \times
                swapped is a restatement too: MATH-500 "reverse the terms of one of the last 2
                spans" or "swap \cdot and \times" scored on 16 rows, now on 1 (row 277, whose
                gold \sqrt{53} is the span); every MATH-500, AIME and GSM8K gold still scores.
                Second pass (same day): the tokens are single characters with the other spellings
                of −, ×, ÷ and \frac (``a/b``) made one and multiplication signs dropped, and where
                the gold is a plain number an answer still computing on written numbers
                (``9801+99+1``, ``99^2+100``, ``\sqrt{4900}``) scores 0 (``unevaluated``):
                notation-only respellings of a span scored on 30 of 500 MATH-500 rows and partial
                evaluation on 32, now 0; six contrived de-simplifications (``(242)^{1/2}``,
                ``10`` written ``(11-1)``) still score on 6 rows with non-numeric golds. Of 479
                correct rewritings of the golds, 7 are refused, each restating the problem
                (``3/20`` for "write $\frac{3}{20}$ as a decimal") or not the asked form.
                New attacks: the prompt's last span reordered, and partly evaluated where the
                gold is a number.
                2026-12-07 (red team s19): synthetic answers
                that restate the work, right in value, scored 1 on every task of their kind: set
                and tuple values written as the quadratic formula or Cramer's rule on the
                prompt's coefficients (quadratic_equation, linear_system), f'(x) as the 9-point
                finite difference of the prompt's f (derivative, expression subkind), expanded
                polynomials whose coefficients are unevaluated Vieta sums (polynomial_expansion,
                all of d ≤ .5, ~half of d = .75 within the length cap); 17–44 % of the default
                mix per level against ≤ 1/300 for the best constant. Now set and tuple values
                must be plain numbers (scientific notation included) where the gold's are, an
                expanded coefficient one number atom, and f'(x) is asked for expanded (form
                "expanded", was "expression": the product rule left unexpanded no longer
                scores; that subkind's prompts and bytes changed, none of them pinned). The "expression"
                form also refuses a part of a higher degree than the gold. Three new attacks.
                Second pass (same day): a decimal in the answer (``\left(c+1.0-1\right)``, or
                ``1.0 \cdot`` before each term of the distributive law written out) made the
                form checks read it evaluated, since the decimals were made exact by a
                substitution that rebuilds sums and products with sympy's evaluating
                constructors; they now read the answer as written (a new attack). Set and
                tuple elements take the brackets, signs and spacing careful writers put around
                a number (``\left(-\frac{3}{2}\right)``, ``(-3)/2``, ``\cfrac``, ``x = 2,\ x = 4``),
                roots labelled ``x_1``, ``x_2``, ``x = \pm 3`` for two symmetric roots, and a tuple named
                ``(x, y) = (…)``.
                2026-12-07 (session 21, red team s21 B5): the problem key takes a sum or product
                of two operands in either order, so a set no longer holds "4 + 9/2" and
                "9/2 + 4" (41 of 3,000 d = 0 train tasks did); split sides (by the answer) and task
                bytes unchanged.
"""

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable, Int, Subset

KINDS = (
    "fraction_arithmetic",
    "linear_equation",
    "quadratic_equation",
    "linear_system",
    "polynomial_expansion",
    "polynomial_factoring",
    "derivative",
    "definite_integral",
    "number_theory",
    "counting",
)
EASY_KINDS = ("fraction_arithmetic", "linear_equation", "polynomial_expansion", "number_theory", "counting")
MIDDLE_KINDS = EASY_KINDS + ("quadratic_equation", "linear_system", "derivative")

FAMILY = Family(
    name="math",
    generator="rlvr.generators.math:MathGenerator",
    verifier="rlvr.verifiers.math:MathVerifier",
    table=DifficultyTable(
        {
            "kinds": Subset(*KINDS, doc="problem kinds to draw from"),
            "max_coefficient": Int(2, 10**6, doc="bound on numerators, denominators, roots and constants"),
            "terms": Int(2, 12, doc="operands of a chain, factors of a product, terms of a polynomial"),
            "nesting": Int(0, 8, doc="depth of nested sub-expressions; above 0: rational roots, powers, product rules"),
            "degree": Int(1, 20, doc="largest polynomial degree"),
            "unknowns": Int(2, 3, doc="unknowns of a linear system"),
        },
        {
            0.0: {
                "kinds": ",".join(EASY_KINDS),
                "max_coefficient": 9,
                "terms": 2,
                "nesting": 0,
                "degree": 2,
                "unknowns": 2,
            },
            0.5: {
                "kinds": ",".join(MIDDLE_KINDS),
                "max_coefficient": 30,
                "terms": 3,
                "nesting": 1,
                "degree": 3,
                "unknowns": 2,
            },
            1.0: {
                "kinds": ",".join(KINDS),
                "max_coefficient": 100,
                "terms": 5,
                "nesting": 3,
                "degree": 5,
                "unknowns": 3,
            },
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/Math-v0",
            "Competition-style maths with exact answers (synthetic, or a MATH/AIME/GSM8K file)",
        ),
    ),
    generator_options={
        "dataset": "path of a JSON-lines or Parquet file with problem and answer columns: serve its rows instead",
    },
    verifier_options={
        "deadline_s": "seconds one verification may take, worker included (default 5)",
        "memory_mb": "address-space limit of the math-verify worker process, in MiB (default 1024)",
        "tolerance": "accept numbers within this relative error of the gold (default none: exact)",
        "ordered": "tuples and lists must match in order (default false: as the gold's form says)",
        "units": "ignore (default) or strict: whether units written after a number must match the gold's",
    },
)
