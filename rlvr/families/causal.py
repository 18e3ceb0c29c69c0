"""Causal: answer an associational, interventional or counterfactual query about a random causal
Bayesian network whose graph and probability tables are given in text.

Task        A random DAG over named variables (single capital letters,
            ``rlvr.generators.causal.NAME_POOL``) with 2 or 3 states each (numbered from 0),
            its arrows, and one conditional probability table per variable with two-decimal
            entries (each ≥ 0.01, rows exactly normalised, no two rows of one table
            equal, so every arrow has an effect). Then one question about an outcome Y that
            is a descendant of a treatment X, at one of the three rungs:
              association     P(Y | X=x, E=e)
              intervention    P(Y | do(X=x), E=e)   (E: non-descendants of X only)
              counterfactual  P(Y_{X=x} | X=x', E=e) — Y had X been x, given that X=x' and E=e
                              were observed (E may include Y and descendants of X; x ≠ x' for
                              distributions and probabilities, comparisons and effects take
                              any two values of X, one of which may be x'). The
                              prompt states the structural model that makes this well defined:
                              V = first state s with U_V < P(V ≤ s | parents), independent
                              U_V ~ Uniform[0, 1) shared by both worlds.
            and in one of four answer kinds:
              distribution  ``<answer>P(Y=0)=0.310, P(Y=1)=0.690</answer>`` (one entry per state;
                            a list in state order ``[0.310, 0.690]`` is also accepted)
              probability   one state's probability, ``<answer>0.310</answer>``
              comparison    a = the rung's P(Y=y | …X=a…), b = P(Y=y | …X=b…): is a > b?
                            ``<answer>a=0.586; b=0.628; no</answer>`` — both probabilities and the
                            verdict; the two differ by at least ``COMPARISON_MARGIN`` = 0.02 (else
                            the task asks for the distribution)
              effect        E[Y | …X=a…] − E[Y | …X=b…] with states read as numbers 0, 1, 2 (the
                            average treatment effect at the intervention rung; the associational
                            difference, or E[Y_{X=a} − Y_{X=b} | evidence], at the other two);
                            |effect| ≥ ``EFFECT_MARGIN`` = 0.02 (else the task asks for the
                            distribution)
            No answer is read off the outcome's own table: the question is redrawn — the
            observed and asked values, then the network, a bounded number of times
            (``choose_question`` in rlvr.generators.causal) — while a table read
            (``table_reads``: each single row, the uniform distribution, the point mass on an
            observed outcome in a counterfactual) lies within 0.011 of the exact answer, or a
            plain read (the mean of all rows; the mean of the rows that agree with the
            question's values) within 0.05, where partial credit ends. In a table lookup
            (d = 0 only) the answer's own row is the task and is exempt. Nor is an answer real
            inference one rung too low (``rung_shortcuts``): the question is also redrawn while,
            within 0.05, an intervention is answered by its observational reading
            P(Y | X=x, E=e), or a counterfactual by P(Y | X=x, E=e) or P(Y | do(X=x), E=e)
            with the other evidence (the factual X and an observed Y dropped; also with only
            the evidence X cannot change) — per side for comparisons and effects, every mix of
            the sides' shortcuts. Where no back-door path is open an intervention's observational
            reading IS its answer (do = see, do-calculus rule 2): valid reasoning, asked by
            design (the share is ``confounding``). A counterfactual is redrawn even when a
            shortcut is exactly its answer (no open back-door path and no evidence X can
            change), unless the parameters allow no other (no evidence and no back-door path).
            Nor does an answer that ignores part of the question lie within 0.05 of the answer
            unless it is exactly the answer (``evidence_drops``): the rung's quantity with the
            evidence left out, the marginal P(Y), P(Y | E=e) without the treatment, a
            counterfactual's factual posterior P(Y | X=x', E=e); the lower rung with the evidence
            left out (P(Y | X=x); P(Y | do(X=x))) within 0.011. In an association or an
            intervention every evidence variable is d-connected to Y given X and the other
            evidence (in the graph without the arrows into X for an intervention), so no
            evidence is decoration; counterfactual evidence is not checked.
            A comparison or an effect that falls back to the distribution asks the value that is
            not the factual one, and a redraw asks the kind the first question settled.
            Optional (generator option ``graph_image=True``): ``task.images[0]`` is a drawing of
            the graph and the prompt mentions it; the text alone is always complete.
Prompt      The network in text, the question, and the answer format in words: no example
            value, since an example number or word could be right by chance and a policy that
            echoes the prompt would get it.
Answer      ``task.answer`` = {"kind", "rung", "outcome" (name), "states" ([0, 1] or [0, 1, 2]),
            "query" (the formula), and "distribution" (list, kind distribution), "state" and
            "value" (probability), "state", "values" [a, b] and "value" "yes"/"no" (comparison), "value"
            (effect)}; numbers
            are exact results rounded to 6 decimals.
            ``task.meta`` = {"rung", "answer_kind", "variables", "edges", "max_in_degree" (of the
            graph), "ternary_variables", "relevant_variables" (ancestral closure of treatment,
            outcome and evidence), "relevant_joint_states" (product of their state counts),
            "evidence_variables" (observed variables besides the factual X of a counterfactual),
            "backdoor_open" (a back-door path from X to Y is open given the evidence that are
            non-descendants of X), "confounders" (ancestors of X with a directed path to Y that
            avoids X), "table_lookup" (the outcome's parents are all fixed and nothing at or
            below it is observed: the answer is read off its table), "graph_attempts",
            "read_redraws" (questions redrawn because a table read or a rung shortcut answered them),
            "network" (names, states, parents, tables in hundredths) and "query" (treatment,
            outcome, evidence, values)}. No timings: tasks are byte-identical across processes.
Verifier    rlvr.verifiers.causal.CausalVerifier: distributions correct when total-variation
            distance to the exact answer < ``tolerance`` (default 0.01); probabilities and
            effects when the absolute error < ``tolerance``; comparisons when a and b both are
            and the verdict follows from them and is right. ``partial=True`` gives well-formed
            wrong numeric answers 1 − distance / scale, scale the smaller of five tolerances and
            the do-nothing answer's distance (uniform, 1/2, 0); a comparison the smaller of its
            two probabilities' credits, and only with a right verdict that follows from them.
Solver      Exact inference (rlvr.generators.causal_inference): variable elimination over the
            tables; do() on the mutilated network; counterfactuals on the twin network.
Hints       ``hints(task)`` (up to 4 pieces): the relevant variables (the ancestral closure of
            treatment, outcome and evidence) and those that can be left out; the rung's formula (an
            association's ratio; for an intervention the back-door adjustment set — the treatment's
            parents not observed — or why none is needed; for a counterfactual
            abduction–action–prediction and the variables that change); then intermediate quantities
            (P(X=x, E=e); the adjustment weights, then the outcome per stratum; the observed case's
            posteriors), never the asked number.
Weakness    Priors that need no inference: a read of the outcome's table plus a fixed offset
            beats the best constant (0.07–0.08 binary against 0.045–0.06); and in a
            counterfactual whose outcome is observed, "nothing changes, nearly" -- the observed
            state's point mass moved by a fixed δ -- scores 0.10–0.13 binary on such probability
            and distribution questions (8 / 14 / 31 % of tasks at d = .5 / .75 / 1) against
            ~0.01–0.04 for a constant (red team s18 C1: 0.021 / 0.019 / 0.038 env-wide with the
            best constant elsewhere, against 0.012 / 0.008 / 0.008). The shared noise keeps the
            outcome where it was unless the change is large, so these answers pile up within
            ~0.3 of the point mass; screening a band around it only moves the best δ past the
            band (screening 0.05 moved it from 0.02 to 0.06 at the same rate).

Difficulty  (rendered from the declaration below)
            d     variables  max_in_degree  ternary_share  evidence  min_relevant  confounding  rungs           table_lookup
            0     3          1              0.0            0         2             0.0          association     True
            0.25  5          2              0.2            1         3             0.25         2 kinds         False
            0.5   8          2              0.3            1         5             0.5          3 kinds         False
            0.75  11         3              0.4            2         7             0.75         2 kinds         False
            1     14         3              0.5            3         9             1.0          counterfactual  False
            fixed: answer_kinds=4 kinds
            The rungs by d: association; association, intervention; all three; intervention,
            counterfactual; counterfactual. The rung is drawn uniformly from the allowed ones, so
            the mean rung rises 0 → 0.5 → 1 → 1.5 → 2; any rung can be asked at any size with
            ``rungs=…``. ``confounding`` is the share of tasks whose query must have an open
            back-door path (the others must have none); ``table_lookup`` is allowed only at d = 0.
            Parameters: ``variables`` (2–20), ``max_in_degree`` (1–4), ``ternary_share`` (fraction
            of 3-state variables), ``evidence`` (observed variables, exactly, 0–19),
            ``min_relevant`` (minimum relevant variables, 0–20), ``confounding`` (0–1),
            ``table_lookup`` (true/false), ``rungs`` and ``answer_kinds`` (comma-separated
            names, or a list). Explicit values win over the knob; when no graph within a bounded
            number of seeded attempts meets them (e.g. confounding=1 with in-degree 1, which
            allows no back-door path), ``generate`` raises ValueError.

Version history
            v0  (2026-11) first release. 2026-12: declared in rlvr.families; task bytes unchanged
                (tests/test_golden_tasks.py); overrides are checked by their declared types
                (``rungs``/``answer_kinds`` may be lists; a name given twice or an empty name
                is refused; ``evidence`` ≤ 19 and ``min_relevant`` ≤ 20).
                2026-12-05: ``partial=True`` credit fades to 0 at five tolerances and never
                pays an answer no closer than the do-nothing one (constant answers earned
                0.71–0.86 under 1 − distance).  Task bytes unchanged.
                2026-12-05 (session 7): train/held-out sides go by ``split_group`` (by network,
                query and rung (a graph's text and picture variants together); red team S7-1: one
                problem shown otherwise was on both sides), so split streams changed where a task's
                group lands elsewhere than its prompt did (re-pinned); raw-stream bytes unchanged.
                2026-12-05 (session 9): a comparison asks for both probabilities and the verdict,
                ``a=…; b=…; yes|no``, correct only when both are within the tolerance and the
                verdict follows from them (red team F6a: a bare yes/no, always "yes", scored
                0.51–0.57). ``task.answer`` of a comparison gains "state" and "values"; comparison
                prompts and answers changed (re-pinned); other kinds' bytes unchanged.
                2026-12-05 (session 10): no answer is a read of the outcome's table (red team
                S10-G3: the mean of its rows, or of those that agree with the query's values, was
                exactly right on 6–19 % of distribution and probability tasks at d ≥ 0.25, and
                earned 14–33 % with partial credit): questions are redrawn while a table read lies
                within 0.011 of the answer, or a plain read within 0.05; ``task.meta`` gains
                "read_redraws"; the plain reads join ``attacks()`` (on tasks that are not table
                lookups). Tasks whose first question was such a read changed, the others only by
                the new meta field (re-pinned).
                2026-12-05 (session 10, red team S10-G9): no answer is inference one rung too
                low — the observational posterior answering P(Y | do(X=x), E=e) was exactly
                right on 25–53 % of the tasks with an open back-door path at d ≥ 0.5 (0.63–0.68
                partial), the interventional or observational posterior answering a
                counterfactual on 13–30 % (0.25–0.40 partial): questions are redrawn while such
                a shortcut lies within 0.05 of the answer (counterfactuals even when it is
                exact); the shortcuts join ``attacks()`` where they are not the answer. A
                fallback distribution in a counterfactual no longer asks the factual value;
                redraws keep the first question's kind; up to 100 networks (was 40). Tasks at
                d ≥ 0.25 whose first question was such a shortcut changed (re-pinned).
                2026-12-05 (session 10, red team S10b-B2): no answer that ignores part of the
                question lies near the answer — the evidence dropped (P(Y | X=x), P(Y | do(X=x)),
                P(Y_{X=x} | X=x')), the marginal P(Y), P(Y | E) without the treatment and a
                counterfactual's factual posterior scored 7–10 % binary (0.10–0.19 partial) at
                d ≤ 0.75 while wrong: questions are redrawn while one lies within 0.05 of the
                answer and is not exactly it (the lower rung with the evidence dropped, within
                0.011); they join ``attacks()`` where they are not the answer. The evidence of an
                association or an intervention is d-connected to the outcome given the treatment
                and the other evidence (it was decoration, dropping it exactly right, on a third
                of the questions at d ≤ 0.5; now 0–5 % in all, from counterfactuals). Tasks at
                d ≥ 0.25, and at d = 0 those whose first question was near P(Y), changed
                (re-pinned); up to 300 networks (was 100); generation takes about 2–3× the CPU.
"""  # noqa: E501

from rlvr.family import EnvDecl, Family
from rlvr.params import DifficultyTable, Flag, Float, Int, Subset

RUNGS = ("association", "intervention", "counterfactual")
ANSWER_KINDS = ("distribution", "probability", "comparison", "effect")
MAX_VARIABLES = 20
MAX_IN_DEGREE = 4
ALL_KINDS = ",".join(ANSWER_KINDS)

FAMILY = Family(
    name="causal",
    generator="rlvr.generators.causal:CausalGenerator",
    verifier="rlvr.verifiers.causal:CausalVerifier",
    table=DifficultyTable(
        {
            "variables": Int(2, MAX_VARIABLES, doc="variables of the network"),
            "max_in_degree": Int(1, MAX_IN_DEGREE, doc="most direct causes of one variable"),
            "ternary_share": Float(0.0, 1.0, doc="fraction of variables with 3 states (the rest have 2)"),
            "evidence": Int(0, MAX_VARIABLES - 1, doc="observed variables besides the treatment, exactly"),
            "min_relevant": Int(0, MAX_VARIABLES, doc="fewest variables in the ancestral closure of the query"),
            "confounding": Float(0.0, 1.0, doc="chance the query must have an open back-door path (else none)"),
            "rungs": Subset(*RUNGS, doc="rungs of the ladder to draw the question from"),
            "answer_kinds": Subset(*ANSWER_KINDS, doc="answer kinds to draw from"),
            "table_lookup": Flag(doc="whether a query answered by reading the outcome's table may be asked"),
        },
        {
            0.0: {
                "variables": 3,
                "max_in_degree": 1,
                "ternary_share": 0.0,
                "evidence": 0,
                "min_relevant": 2,
                "confounding": 0.0,
                "rungs": "association",
                "answer_kinds": ALL_KINDS,
                "table_lookup": True,
            },
            0.25: {
                "variables": 5,
                "max_in_degree": 2,
                "ternary_share": 0.2,
                "evidence": 1,
                "min_relevant": 3,
                "confounding": 0.25,
                "rungs": "association,intervention",
                "answer_kinds": ALL_KINDS,
                "table_lookup": False,
            },
            0.5: {
                "variables": 8,
                "max_in_degree": 2,
                "ternary_share": 0.3,
                "evidence": 1,
                "min_relevant": 5,
                "confounding": 0.5,
                "rungs": "association,intervention,counterfactual",
                "answer_kinds": ALL_KINDS,
                "table_lookup": False,
            },
            0.75: {
                "variables": 11,
                "max_in_degree": 3,
                "ternary_share": 0.4,
                "evidence": 2,
                "min_relevant": 7,
                "confounding": 0.75,
                "rungs": "intervention,counterfactual",
                "answer_kinds": ALL_KINDS,
                "table_lookup": False,
            },
            1.0: {
                "variables": 14,
                "max_in_degree": 3,
                "ternary_share": 0.5,
                "evidence": 3,
                "min_relevant": 9,
                "confounding": 1.0,
                "rungs": "counterfactual",
                "answer_kinds": ALL_KINDS,
                "table_lookup": False,
            },
        },
    ),
    envs=(
        EnvDecl(
            "rlvr/Causal-v0",
            "Associational, interventional or counterfactual queries on a random causal Bayesian network given in text",
        ),
    ),
    generator_options={
        "graph_image": "also draw the graph as task.images[0] (default false); the text alone is always complete",
    },
    verifier_options={
        "tolerance": (
            "largest error still correct: total-variation distance or absolute error (default 0.01, in (0, 1])"
        ),
        "partial": (
            "wrong numeric answers earn 1 − distance / min(5 tolerances, do-nothing distance); a comparison"
            " the smaller of its two probabilities' credits, only with a right verdict that follows from them"
            " (default false)"
        ),
    },
)
