"""Rule-based verifiers, one module per family; the sandbox package runs untrusted programs.

Trust rule (every family obeys it)
    The policy being trained is an adversary. Nothing the verdict depends on — golden designs,
    expected values, keys, report channels, the runner's own state — is in any process, compile
    unit or address space where the candidate's code runs. The host decides from values it
    observed and parsed with bounded cost (bytes, elements, nesting depth, time). Every step of
    ``verify``, in the caller or in a worker, is bounded by the verifier's ``deadline_s``; work
    whose cost cannot be bounded up front runs in a killable worker. Limits on untrusted code hold
    for the whole run (the process tree's memory, the bytes it writes), enforced by the kernel.

    Where a check cannot be made safe by construction — arbitrary third-party pytest suites of a
    real repository run in the same process as the patched package — the verdict says so in
    ``details["trust"]`` and the family's docstring states what a hostile answer could still do.

Attacks
    Each family's generator supplies ``attacks(task)``: responses a reward-hacking policy would
    try, none of which solves the task. ``rlvr audit ENV`` (rlvr.attacks) runs them with the
    shared generic attacks and fails when any scores or overruns; CI runs it on every env.
"""
