"""Benchmark the per-run overhead and throughput of rlvr.verifiers.sandbox.

Measures, in one run:
  * latency p50/p99 of one trivial Python program (``pass``), the four contenders
    interleaved sample by sample (so that all see the same machine load):
      - bare ``subprocess.run`` of ``python -I -S -c pass`` (no sandbox),
      - the warm-fork floor: a fork of this warm interpreter that runs ``pass`` and exits,
        waited for (no isolation at all: the lower bound of any fork-server design),
      - a cold bwrap run (``Sandbox.run``),
      - a warm run (``WarmPool.run``: a zygote's pre-forked child, with its own namespaces,
        tmpfs, memory cgroup, uid, rlimits and seccomp; see rlvr.verifiers.sandbox.warm),
    and, measured after them, the unsafe-none backend and ``/bin/true`` under bwrap;
  * where a Docker engine answers (and the base image is built), the docker backend:
    a cold run (a container created, started and removed per run) and a warm-pool run
    (``DockerPool``: a pre-started container per run; latency measured with a container
    ready, as when the pool keeps up; throughput back to back, which the pool's refill bounds),
    ``--docker-runs`` samples each;
  * throughput (runs/s) of bare, cold bwrap and warm runs with 1 and 2 worker threads
    (contenders alternate in short slices), with the CPU each run cost and the cores kept busy:
    the CPU of the benchmark's own process tree -- this process (all threads), what it reaped
    (bare and cold runs) and every zygote with the children it reaped (warm runs) -- from
    rusage and /proc/PID/stat, not the machine's /proc/stat, so other load does not count
    (the kernel's own workers -- e.g. freeing mounts after a grace period -- are not counted either).
    On a shared machine runs/s ratios move with other load; the CPU figures much less so, and
    they bound what more workers can give: "2-worker bound" = min(2, CPUs / busy cores with
    one worker) is the speedup two workers could reach if nothing serialised them;
  * the cost of one run's memory cgroup (create with its caps, remove);
  * with ``--baseline DIR`` (a checkout of an earlier version, e.g.
    ``git archive HEAD | tar -x -C DIR``), the same sandbox rows for that version's
    ``rlvr/verifiers/sandbox`` package (or, before it was one, ``sandbox.py``) too, sample by
    sample interleaved with this one so that both see the same machine load ("before" / "after");
    where that version has a warm path, its warm latency and throughput rows too (throughput
    slices alternating with this version's; its zygotes' CPU counted the same way).

Prints a table and writes benchmarks/results/sandbox.json.

With ``--per-core``, only the warm path's per-core scaling is measured instead, and written under
the key ``per_core`` of that file (its other rows are kept): each configuration -- 1 worker on
1 CPU, 1 worker on 2 CPUs, 2 workers (threads of one process) on 2 CPUs, and 2 worker processes,
each with a pool of its own and kept to a CPU of its own, started together (as
``rlvr.verify_batch``'s worker processes would be, placed) -- runs in fresh child processes whose CPU
affinity is set before they start (``preexec_fn``: before the interpreter, any thread, pool or
zygote exists, so all of them inherit it); it prints runs/s of ``main.py = pass``, the cores
the whole machine kept busy (``/proc/stat``: other load on a shared machine counts), the CPU
of the run's own process tree per run -- split into the host process (all threads), the
zygotes themselves, and the runs they reaped (each run and the init of its pid namespace) --
and the cores that tree kept busy.  Configurations alternate (``--per-core-rounds`` rounds of
``--per-core-seconds`` each), with ``--baseline DIR`` sample by sample with that version's.

With ``--floors``, what the machine itself gives per core, for the operations a warm run is made
of, under ``per_core_floors``: one process on CPU 0 against two at once on CPUs 0 and 1, each
repeating one operation for ``--per-core-seconds`` (``--per-core-rounds`` pairs): a pure Python
loop; fork and exit (the parent holding 30 MB, as a warm interpreter does); the same with the
child entering a new mount namespace, making ``/`` private and mounting a tmpfs (what gives a
candidate its own empty work dir); that with new network and IPC namespaces too; and the child
entering a kept mount namespace and mounting a tmpfs over the last child's (the warm path's way
since session 16; a new namespace every 16 children).  The last three rows need root.  Freeing a
mount namespace waits for an expedited RCU grace period, which interrupts every other busy CPU,
so the fresh-namespace rows bound what any sandbox with a new mount namespace per candidate can
reach, and the last row what the warm path's kept ones can.

    python benchmarks/bench_sandbox.py [--runs 300] [--seconds 5] [--docker-runs 60] [--baseline DIR]
    python benchmarks/bench_sandbox.py --per-core [--per-core-seconds 3] [--per-core-rounds 2] [--baseline DIR]
    python benchmarks/bench_sandbox.py --floors [--per-core-seconds 3] [--per-core-rounds 2]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rlvr.verifiers import sandbox as sandbox_module
from rlvr.verifiers.sandbox import Sandbox, SandboxUnavailable, available_backends
from rlvr.verifiers.sandbox.docker_pool import DockerPool
from rlvr.verifiers.sandbox.warm import WarmPool, process_cpu_s, tree_cpu_s

PASS = ["-I", "-S", "-c", "pass"]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    idx = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[idx]


def latency(fn, runs: int, warmup: int = 10) -> dict:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    ms = [s * 1e3 for s in samples]
    return {
        "runs": runs,
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def latency_pair(before, after, runs: int, warmup: int = 10) -> tuple[dict, dict]:
    """Latency of two versions of the same operation, alternating sample by sample."""
    for _ in range(warmup):
        before()
        after()
    samples: dict[str, list[float]] = {"before": [], "after": []}
    for i in range(runs):
        order = (("before", before), ("after", after)) if i % 2 == 0 else (("after", after), ("before", before))
        for name, fn in order:
            t0 = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - t0) * 1e3)
    return tuple(  # type: ignore[return-value]
        {
            "runs": runs,
            "p50_ms": round(percentile(ms, 50), 3),
            "p99_ms": round(percentile(ms, 99), 3),
            "mean_ms": round(statistics.fmean(ms), 3),
        }
        for ms in (samples["before"], samples["after"])
    )


def load_baseline(root: str):
    """The sandbox package (or, in older checkouts, module) of an earlier checkout at ``root``,
    imported under its own name."""
    package = Path(root) / "rlvr" / "verifiers" / "sandbox"
    if package.is_dir():
        spec = importlib.util.spec_from_file_location(
            "rlvr_baseline_sandbox", package / "__init__.py", submodule_search_locations=[str(package)]
        )
    else:
        spec = importlib.util.spec_from_file_location("rlvr_baseline_sandbox", package.with_suffix(".py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    old_cgroups = sys.modules.get(f"{spec.name}.cgroups")
    if old_cgroups is not None and hasattr(old_cgroups, "_CGROUP_SERIAL"):
        # both versions name run cgroups rlvr-PID-SERIAL: one counter, or their names collide
        old_cgroups._CGROUP_SERIAL = sandbox_module.cgroups._CGROUP_SERIAL
    return module


def cgroup_cost() -> dict | None:
    """Latency of creating one run's capped memory cgroup and removing it (None without cgroups)."""
    parent, _ = sandbox_module._cgroup_parent("auto")
    if parent is None:
        return None
    limits = sandbox_module.Limits()
    return latency(lambda: parent.create(limits).remove(), 1000)


def throughput(fn, workers: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    counts = [0] * workers

    def loop(i: int) -> None:
        while time.monotonic() < stop:
            fn()
            counts[i] += 1

    t0 = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(loop, range(workers)))
    elapsed = time.monotonic() - t0
    return {
        "workers": workers,
        "runs": sum(counts),
        "seconds": round(elapsed, 2),
        "runs_per_s": round(sum(counts) / elapsed, 1),
    }


_PASS_CODE = compile("pass", "main.py", "exec")


def warm_fork() -> None:
    pid = os.fork()
    if pid == 0:
        exec(_PASS_CODE, {"__name__": "__main__"})
        os._exit(0)
    os.waitpid(pid, 0)


def latency_interleaved(fns: dict, runs: int, warmup: int = 5) -> dict[str, dict]:
    """Latency of several operations, round-robin sample by sample (rotating the order)."""
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i in range(runs):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            t0 = time.perf_counter()
            fns[name]()
            samples[name].append((time.perf_counter() - t0) * 1e3)
    return {
        name: {
            "runs": runs,
            "p50_ms": round(percentile(ms, 50), 3),
            "p99_ms": round(percentile(ms, 99), 3),
            "mean_ms": round(statistics.fmean(ms), 3),
        }
        for name, ms in samples.items()
    }


#: Callables naming more zygote pids to count (the baseline's warm pools, with ``--baseline``).
EXTRA_ZYGOTES: list = []


def tree_cpu() -> float:
    """``warm.tree_cpu_s`` plus the zygotes of the baseline's warm pools (and what they reaped)."""
    return tree_cpu_s() + sum(process_cpu_s(pid) for pids in EXTRA_ZYGOTES for pid in pids())


def throughput_interleaved(fns: dict, workers: int, seconds: float, slice_s: float = 0.5) -> dict[str, dict]:
    """runs/s of each operation with ``workers`` threads, the operations alternating in slices,
    and the CPU of this process tree per run and the cores it kept busy (``tree_cpu``)."""
    counts = dict.fromkeys(fns, 0)
    spent = dict.fromkeys(fns, 0.0)
    cpu = dict.fromkeys(fns, 0.0)
    for _ in range(max(1, round(seconds / slice_s))):
        for name, fn in fns.items():
            before = tree_cpu()
            one = throughput(fn, workers, slice_s)
            cpu[name] += tree_cpu() - before
            counts[name] += one["runs"]
            spent[name] += one["seconds"]
    return {
        name: {
            "workers": workers,
            "runs": counts[name],
            "seconds": round(spent[name], 2),
            "runs_per_s": round(counts[name] / spent[name], 1),
            "cpu_ms_per_run": round(cpu[name] / max(counts[name], 1) * 1e3, 2),
            "busy_cores": round(cpu[name] / spent[name], 2),
        }
        for name in fns
    }


#: The per-core configurations: (name, workers, CPUs).
#: (name, worker threads per process, CPUs, processes): with several processes each has a pool
#: of its own and keeps to one CPU of its own (``verify_batch``'s worker processes, placed)
PER_CORE_CONFIGS = (
    ("1 worker, 1 CPU", 1, 1, 1),
    ("1 worker, 2 CPUs", 1, 2, 1),
    ("2 workers, 2 CPUs", 2, 2, 1),
    ("2 worker processes, 2 CPUs", 1, 2, 2),
)


def _machine_ticks() -> tuple[int, int]:
    """(all, idle + iowait) jiffies of the whole machine, from the first line of /proc/stat."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]


def _process_ticks(pid: int) -> tuple[int, int]:
    """(own CPU, CPU of the children it reaped) of process ``pid`` in jiffies; (0, 0) once gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def per_core_child(spec: dict) -> None:
    """In a fresh process (affinity set by the parent): warm runs of ``main.py = pass`` with
    ``spec["workers"]`` threads for ``spec["seconds"]``; prints one JSON line of figures."""
    if spec["baseline"]:
        warm_module = importlib.import_module(f"{load_baseline(spec['baseline']).__name__}.warm")
    else:
        warm_module = importlib.import_module("rlvr.verifiers.sandbox.warm")
    tmp_root = tempfile.mkdtemp(prefix="rlvr-bench-per-core-")
    box = warm_module.Sandbox("bwrap", tmp_root=tmp_root)
    pool = warm_module.WarmPool(box, zygotes=spec["workers"])
    pool.prestart()

    def one() -> None:
        _ok(pool.run(["main.py"], files={"main.py": "pass"}))

    throughput(one, spec["workers"], 1.0)  # warm-up: every zygote, spare and cgroup in use
    while time.time() < spec["start"]:  # the other processes of the configuration start together
        time.sleep(0.001)
    zygotes = sorted(warm_module.zygote_pids())
    ticks = os.sysconf("SC_CLK_TCK")

    def snapshot() -> tuple:
        own = os.times()
        return _machine_ticks(), own.user + own.system, [_process_ticks(pid) for pid in zygotes]

    before = snapshot()
    result = throughput(one, spec["workers"], spec["seconds"])
    after = snapshot()
    pool.close()
    shutil.rmtree(tmp_root, ignore_errors=True)
    (all_0, idle_0), (all_1, idle_1) = before[0], after[0]
    cpus = len(os.sched_getaffinity(0))
    machine_cpus = os.cpu_count() or 1
    host_s = after[1] - before[1]
    zygote_s = sum(a[0] - b[0] for a, b in zip(after[2], before[2])) / ticks
    runs_s = sum(a[1] - b[1] for a, b in zip(after[2], before[2])) / ticks
    runs, seconds = result["runs"], result["seconds"]
    per_run = 1e3 / max(runs, 1)
    print(
        json.dumps(
            {
                "workers": spec["workers"],
                "cpus": cpus,
                "runs": runs,
                "seconds": seconds,
                "runs_per_s": round(runs / seconds, 1),
                "machine_busy_cores": round(machine_cpus * (1 - (idle_1 - idle_0) / max(all_1 - all_0, 1)), 2),
                "tree_busy_cores": round((host_s + zygote_s + runs_s) / seconds, 2),
                "cpu_ms_per_run": round((host_s + zygote_s + runs_s) * per_run, 3),
                "host_cpu_ms_per_run": round(host_s * per_run, 3),
                "zygote_cpu_ms_per_run": round(zygote_s * per_run, 3),
                "run_cpu_ms_per_run": round(runs_s * per_run, 3),
            }
        )
    )


def _combined(rows: list[dict]) -> dict:
    """The figures of one configuration's processes, run at the same time, as one row: runs
    summed over the longest of their times, CPU per run weighted by runs, cores summed."""
    if len(rows) == 1:
        return rows[0]
    runs, seconds = sum(row["runs"] for row in rows), max(row["seconds"] for row in rows)
    combined = {"workers": sum(row["workers"] for row in rows), "cpus": sum(row["cpus"] for row in rows)}
    combined.update(runs=runs, seconds=seconds, runs_per_s=round(runs / seconds, 1))
    combined["machine_busy_cores"] = round(sum(row["machine_busy_cores"] for row in rows) / len(rows), 2)
    combined["tree_busy_cores"] = round(sum(row["tree_busy_cores"] for row in rows), 2)
    for key in ("cpu_ms_per_run", "host_cpu_ms_per_run", "zygote_cpu_ms_per_run", "run_cpu_ms_per_run"):
        combined[key] = round(sum(row[key] * row["runs"] for row in rows) / max(runs, 1), 3)
    return combined


def per_core(seconds: float, rounds: int, baseline: str | None) -> dict:
    """Each of ``PER_CORE_CONFIGS`` (and each version, with a baseline) in its own fresh child
    process, ``rounds`` times, alternating; summed per configuration and version."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--per-core needs at least 2 CPUs")
    versions = {"after": ""} if baseline is None else {"after": "", "before": str(Path(baseline).resolve())}
    samples: dict[str, dict[str, list[dict]]] = {
        name: {version: [] for version in versions} for name, *_ in PER_CORE_CONFIGS
    }
    load = os.getloadavg()
    for round_index in range(rounds):
        for name, workers, count, processes in PER_CORE_CONFIGS:
            order = list(versions.items())
            if round_index % 2:
                order.reverse()
            for version, root in order:
                spec = {"workers": workers, "seconds": seconds, "baseline": root, "start": time.time() + 6.0}
                places = [set(cpus[:count])] if processes == 1 else [{cpu} for cpu in cpus[:processes]]
                children = [
                    subprocess.Popen(
                        [sys.executable, str(Path(__file__).resolve()), "--per-core-child", json.dumps(spec)],
                        preexec_fn=lambda chosen=chosen: os.sched_setaffinity(0, chosen),
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    for chosen in places
                ]
                rows = []
                for child in children:
                    out, err = child.communicate(timeout=seconds + 120)
                    if child.returncode != 0:
                        raise RuntimeError(f"per-core child failed ({name}, {version}): {err[-2000:]}")
                    rows.append(json.loads(out.strip().splitlines()[-1]))
                samples[name][version].append(_combined(rows))
    configs: dict[str, dict] = {}
    for name, by_version in samples.items():
        configs[name] = {}
        for version, rows in by_version.items():
            runs = sum(row["runs"] for row in rows)
            spent = sum(row["seconds"] for row in rows)
            weighted = {
                key: round(sum(row[key] * row["runs"] for row in rows) / max(runs, 1), 3)
                for key in ("cpu_ms_per_run", "host_cpu_ms_per_run", "zygote_cpu_ms_per_run", "run_cpu_ms_per_run")
            }
            timed = {
                key: round(sum(row[key] * row["seconds"] for row in rows) / spent, 2)
                for key in ("machine_busy_cores", "tree_busy_cores")
            }
            configs[name][version] = {
                "runs": runs,
                "seconds": round(spent, 2),
                "runs_per_s": round(runs / spent, 1),
                "runs_per_s_each_round": [row["runs_per_s"] for row in rows],
                **timed,
                **weighted,
            }
    ratios: dict[str, float] = {}
    for version in versions:
        one_core = configs["1 worker, 1 CPU"][version]["runs_per_s"]
        prefix = "" if baseline is None else f"{version}: "
        ratios[f"{prefix}2 workers on 2 CPUs / 1 worker on 1 CPU, runs/s"] = round(
            configs["2 workers, 2 CPUs"][version]["runs_per_s"] / one_core, 2
        )
        ratios[f"{prefix}2 worker processes on a CPU each / 1 worker on 1 CPU, runs/s"] = round(
            configs["2 worker processes, 2 CPUs"][version]["runs_per_s"] / one_core, 2
        )
        ratios[f"{prefix}1 worker on 2 CPUs / 1 worker on 1 CPU, runs/s"] = round(
            configs["1 worker, 2 CPUs"][version]["runs_per_s"] / one_core, 2
        )
        ratios[f"{prefix}2 workers on 2 CPUs / 1 worker on 1 CPU, CPU per run"] = round(
            configs["2 workers, 2 CPUs"][version]["cpu_ms_per_run"]
            / configs["1 worker, 1 CPU"][version]["cpu_ms_per_run"],
            2,
        )
    if baseline is not None:
        for name in configs:
            ratios[f"after / before runs/s: {name}"] = round(
                configs[name]["after"]["runs_per_s"] / configs[name]["before"]["runs_per_s"], 2
            )
    return {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine_cpus": os.cpu_count(),
        "cpus_used": cpus[:2],
        "load_average_at_start": [round(value, 2) for value in load],
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "seconds_per_sample": seconds,
        "rounds": rounds,
        "baseline": baseline,
        "configs": configs,
        "ratios": ratios,
    }


#: The operations ``--floors`` repeats: (name, unshare flags of the child; None: no fork at all).
FLOOR_KINDS = (
    ("python loop", None),
    ("fork + exit", 0),
    ("fork + mount namespace + tmpfs", 0x00020000),
    ("fork + mount, network and IPC namespaces + tmpfs", 0x00020000 | 0x40000000 | 0x08000000),
    # the warm path's way since session 16: a kept mount namespace entered, a fresh tmpfs mounted
    # over the last one's, the namespace closed after 16 children
    ("fork + a kept mount namespace + tmpfs", -0x00020000),
)


def floor_child(kind: int, start: float, seconds: float) -> None:
    """Repeat operation ``FLOOR_KINDS[kind]`` from wall time ``start`` for ``seconds``; print the count."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    flags = FLOOR_KINDS[kind][1]
    target = tempfile.mkdtemp(prefix="rlvr-bench-floor-")
    held = bytearray(30 << 20)  # a warm interpreter's memory for fork to share copy-on-write
    kept, own = -1, -1
    if flags is not None and flags < 0:  # this process's own namespace, its mounts private
        if libc.unshare(-flags) != 0 or libc.mount(None, b"/", None, 0x4000 | (1 << 18), None) != 0:
            raise SystemExit(f"{FLOOR_KINDS[kind][0]}: needs root")
        own = os.open("/proc/self/ns/mnt", os.O_RDONLY)
    while time.time() < start:
        time.sleep(0.001)
    end, count = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        if flags is None:
            for _ in range(10_000):
                pass
        else:
            if own >= 0 and count % 16 == 0:  # a new kept namespace every 16 children
                if kept >= 0:
                    os.close(kept)
                libc.unshare(-flags)
                kept = os.open("/proc/self/ns/mnt", os.O_RDONLY)
                libc.setns(own, -flags)
            pid = os.fork()
            if pid == 0:
                status = 0
                if kept >= 0:
                    status = 0 if libc.setns(kept, -flags) == 0 else 3
                    if status == 0 and libc.mount(b"tmpfs", target.encode(), b"tmpfs", 0, b"size=16m") != 0:
                        status = 4
                elif flags:
                    private = libc.mount(None, b"/", None, 0x4000 | (1 << 18), None)  # MS_REC | MS_PRIVATE
                    status = 0 if libc.unshare(flags) == 0 and private == 0 else 3
                    if status == 0 and libc.mount(b"tmpfs", target.encode(), b"tmpfs", 0, b"size=16m") != 0:
                        status = 4
                os._exit(status)
            if os.waitpid(pid, 0)[1] != 0:
                raise SystemExit(f"{FLOOR_KINDS[kind][0]}: the child failed (needs root)")
        count += 1
    del held
    for fd in (kept, own):
        if fd >= 0:
            os.close(fd)
    os.rmdir(target)
    print(count)


def floors(seconds: float, rounds: int) -> dict:
    """Per ``FLOOR_KINDS`` entry (the namespace ones only as root): ``rounds`` pairs of one
    process on CPU 0 alone, then two at once on CPUs 0 and 1; operations per second and the
    ratio (both processes' sum over the one alone), per round."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--floors needs at least 2 CPUs")
    script, load, rows = str(Path(__file__).resolve()), os.getloadavg(), {}
    for kind, (name, flags) in enumerate(FLOOR_KINDS):
        if flags and os.geteuid() != 0:
            continue
        alone, together = [], []
        for _ in range(rounds):
            for placement in ([cpus[0]], cpus[:2]):
                start = time.time() + 0.7
                children = [
                    subprocess.Popen(
                        [sys.executable, script, "--floor-child", json.dumps([kind, start, seconds])],
                        preexec_fn=lambda cpu=cpu: os.sched_setaffinity(0, {cpu}),
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                    for cpu in placement
                ]
                counts = [int(child.communicate(timeout=seconds + 60)[0].split()[-1]) for child in children]
                (alone if len(placement) == 1 else together).append(sum(counts) / seconds)
        rows[name] = {
            "one_per_s": [round(value, 1) for value in alone],
            "two_per_s": [round(value, 1) for value in together],
            "per_core": [round(two / one, 3) for one, two in zip(alone, together)],
        }
    return {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds_per_sample": seconds,
        "rounds": rounds,
        "load_average_at_start": [round(value, 2) for value in load],
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "rows": rows,
    }


def print_per_core(result: dict) -> None:
    load = f"load average {result['load_average_at_start']} -> {result['load_average_at_end']}"
    print(f"\nwarm path per-core scaling  ({load})\n")
    print(
        f"{'configuration':28s} {'runs/s':>8s} {'machine busy':>13s} {'tree busy':>10s} {'CPU ms/run':>11s}"
        f" {'host':>6s} {'zygote':>7s} {'runs':>6s}"
    )
    for name, by_version in result["configs"].items():
        for version, row in by_version.items():
            label = name if len(by_version) == 1 else f"{version}: {name}"
            print(
                f"{label:28s} {row['runs_per_s']:8.1f} {row['machine_busy_cores']:13.2f} {row['tree_busy_cores']:10.2f}"
                f" {row['cpu_ms_per_run']:11.3f} {row['host_cpu_ms_per_run']:6.3f} {row['zygote_cpu_ms_per_run']:7.3f}"
                f" {row['run_cpu_ms_per_run']:6.3f}"
            )
    print("")
    for name, value in result["ratios"].items():
        print(f"{name:60s} {value:6.2f}")


def save_entry(out: Path, key: str, value: dict) -> None:
    """Write ``value`` under ``key`` of the results file ``out``, keeping its other entries."""
    saved = json.loads(out.read_text()) if out.exists() else {}
    saved[key] = value
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(saved, indent=2) + "\n")
    print(f"\nwrote {key} into {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=300, help="samples per latency row")
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput measurement")
    ap.add_argument("--docker-runs", type=int, default=60, help="samples per docker latency row")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "sandbox.json"))
    ap.add_argument("--baseline", help="root of an earlier checkout whose sandbox is measured alongside (before/after)")
    ap.add_argument("--per-core", action="store_true", help="measure only the warm path's per-core scaling")
    ap.add_argument("--per-core-seconds", type=float, default=3.0, help="duration of each per-core sample")
    ap.add_argument("--per-core-rounds", type=int, default=2, help="samples per per-core configuration and version")
    ap.add_argument("--per-core-child", help=argparse.SUPPRESS)  # internal: one per-core sample (JSON spec)
    ap.add_argument("--floors", action="store_true", help="measure what the machine gives per core (see above)")
    ap.add_argument("--floor-child", help=argparse.SUPPRESS)  # internal: one floor sample ([kind, start, seconds])
    args = ap.parse_args()
    if args.per_core_child:
        per_core_child(json.loads(args.per_core_child))
        return
    if args.floor_child:
        floor_child(*json.loads(args.floor_child))
        return
    if args.floors:
        result = floors(args.per_core_seconds, args.per_core_rounds)
        for name, row in result["rows"].items():
            print(f"{name:52s} one {row['one_per_s']}  two {row['two_per_s']}  per core {row['per_core']}")
        save_entry(Path(args.out), "per_core_floors", result)
        return
    if args.per_core:
        result = per_core(args.per_core_seconds, args.per_core_rounds, args.baseline)
        print_per_core(result)
        save_entry(Path(args.out), "per_core", result)
        return

    backends = available_backends()
    tmp_root = tempfile.mkdtemp(prefix="rlvr-bench-sandbox-")
    unsafe = Sandbox("unsafe-none", allow_unsafe_unsandboxed=True, tmp_root=tmp_root)
    baseline = load_baseline(args.baseline) if args.baseline else None
    rows: dict[str, dict] = {}
    boxes = {"unsafe-none": unsafe}
    old_boxes = {}
    if "bwrap" in backends:
        boxes["bwrap"] = Sandbox("bwrap", tmp_root=tmp_root)
    warm_pools: dict[int, WarmPool] = {}
    warm_reason = "bwrap unavailable"
    if "bwrap" in backends:
        try:
            for workers in (1, 2):
                warm_pools[workers] = WarmPool(boxes["bwrap"], zygotes=workers)
                warm_pools[workers].prestart()
        except SandboxUnavailable as exc:
            warm_reason = str(exc)
            warm_pools.clear()

    def bare_run() -> None:
        subprocess.run([sys.executable, *PASS], check=True)

    contenders = {
        "bare subprocess.run python -I -S -c pass": bare_run,
        "warm interpreter fork+exec pass+wait (floor)": warm_fork,
    }
    if "bwrap" in backends:
        cold = boxes["bwrap"]
        contenders["cold bwrap: python -I -S -c pass"] = lambda: _ok(cold.run([cold.python, *PASS]))
    if warm_pools:
        contenders["warm path: main.py = pass"] = lambda: _ok(warm_pools[1].run(["main.py"], files={"main.py": "pass"}))
    rows.update(latency_interleaved(contenders, args.runs))
    cases = [("unsafe-none: python -I -S -c pass", "unsafe-none", [None, *PASS])]
    if "bwrap" in backends:
        cases += [("bwrap: /bin/true", "bwrap", ["true"])]
    if baseline is not None:
        old_boxes["unsafe-none"] = baseline.Sandbox("unsafe-none", allow_unsafe_unsandboxed=True, tmp_root=tmp_root)
        if "bwrap" in backends:
            old_boxes["bwrap"] = baseline.Sandbox("bwrap", tmp_root=tmp_root)

    def runner(box, argv):
        argv = [box.python if a is None else a for a in argv]
        return lambda: _ok(box.run(argv))

    for name, backend, argv in cases:
        if baseline is None:
            rows[name] = latency(runner(boxes[backend], argv), args.runs)
        else:
            before, after = latency_pair(runner(old_boxes[backend], argv), runner(boxes[backend], argv), args.runs)
            rows[f"before: {name}"], rows[f"after: {name}"] = before, after
    old_warm: dict[int, object] = {}  # the baseline's warm pools (where it has a warm path)
    if (
        baseline is not None
        and warm_pools
        and hasattr(baseline, "__path__")  # a package (older checkouts had one sandbox.py, no warm path)
        and importlib.util.find_spec(f"{baseline.__name__}.warm") is not None
    ):
        old_warm_module = importlib.import_module(f"{baseline.__name__}.warm")
        for workers in (1, 2):
            old_warm[workers] = old_warm_module.WarmPool(old_boxes["bwrap"], zygotes=workers)
            old_warm[workers].prestart()
        EXTRA_ZYGOTES.append(old_warm_module.zygote_pids)
        before, after = latency_pair(
            lambda: _ok(old_warm[1].run(["main.py"], files={"main.py": "pass"})),
            contenders["warm path: main.py = pass"],
            args.runs,
        )
        rows["before: warm path: main.py = pass"], rows["after: warm path: main.py = pass"] = before, after
    cost = cgroup_cost()
    if cost is not None:
        rows["memory cgroup create + remove (per run)"] = cost
    tput: dict[str, dict] = {}
    for workers in (1, 2):
        fns = {f"bare python -I -S -c pass, {workers} worker(s)": bare_run}
        if "bwrap" in backends:
            fns[f"cold bwrap python -I -S -c pass, {workers} worker(s)"] = contenders[
                "cold bwrap: python -I -S -c pass"
            ]
        if warm_pools:
            pool = warm_pools[workers]
            fns[f"warm path pass, {workers} worker(s)"] = lambda pool=pool: _ok(
                pool.run(["main.py"], files={"main.py": "pass"})
            )
        if old_warm:
            fns[f"before: warm path pass, {workers} worker(s)"] = lambda pool=old_warm[workers]: _ok(
                pool.run(["main.py"], files={"main.py": "pass"})
            )
        tput.update(throughput_interleaved(fns, workers, args.seconds))
    for pool in [*warm_pools.values(), *old_warm.values()]:
        pool.close()
    docker_reason = "no Docker engine answers" if "docker" not in backends else ""
    if not docker_reason and args.docker_runs < 1:
        docker_reason = "--docker-runs 0"
    if not docker_reason:
        try:
            boxes["docker"] = Sandbox("docker", tmp_root=tmp_root)
        except SandboxUnavailable as exc:
            docker_reason = str(exc)
    if not docker_reason:
        rows.update(docker_latency(boxes["docker"], args.docker_runs))
        tput.update(docker_throughput(boxes["docker"], args.seconds))
    os.rmdir(tmp_root)

    floor = rows["warm interpreter fork+exec pass+wait (floor)"]["p50_ms"]
    ratios = {}
    if warm_pools:
        warm = rows["warm path: main.py = pass"]["p50_ms"]
        ratios["warm path p50 - floor p50 (ms)"] = round(warm - floor, 3)
        if "cold bwrap: python -I -S -c pass" in rows:
            ratios["cold bwrap p50 / warm path p50"] = round(
                rows["cold bwrap: python -I -S -c pass"]["p50_ms"] / warm, 2
            )
        ratios["warm runs/s: 2 workers / 1 worker"] = round(
            tput["warm path pass, 2 worker(s)"]["runs_per_s"] / tput["warm path pass, 1 worker(s)"]["runs_per_s"], 2
        )
        ratios["warm 2-worker bound: min(2, CPUs / busy cores, 1 worker)"] = round(
            min(2.0, (os.cpu_count() or 1) / max(tput["warm path pass, 1 worker(s)"]["busy_cores"], 1e-9)), 2
        )
        ratios["warm runs/s / cold runs/s, 1 worker"] = round(
            tput["warm path pass, 1 worker(s)"]["runs_per_s"]
            / tput["cold bwrap python -I -S -c pass, 1 worker(s)"]["runs_per_s"],
            2,
        )
    if not docker_reason and "cold bwrap: python -I -S -c pass" in rows:
        bwrap_cold = rows["cold bwrap: python -I -S -c pass"]["p50_ms"]
        ratios["docker warm pool p50 / cold bwrap p50"] = round(rows[DOCKER_WARM]["p50_ms"] / bwrap_cold, 2)
        ratios["docker cold p50 / cold bwrap p50"] = round(rows[DOCKER_COLD]["p50_ms"] / bwrap_cold, 2)
    bare = rows["bare subprocess.run python -I -S -c pass"]["p50_ms"]
    print(
        f"\nsandbox benchmark  ({platform.node()}, {os.cpu_count()} CPUs, euid {os.geteuid()}, backends {backends})\n"
    )
    print(f"{'latency of one run':48s} {'p50 ms':>8s} {'p99 ms':>8s} {'overhead p50':>13s}")
    for name, r in rows.items():
        overhead = "" if name.startswith("memory cgroup") else f"{r['p50_ms'] - bare:+12.2f}"
        print(f"{name:48s} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {overhead:>13s}")
    print(f"\n{'throughput':48s} {'runs/s':>8s} {'CPU ms/run':>11s} {'busy cores':>11s}")
    for name, r in tput.items():
        cpu = f"{r['cpu_ms_per_run']:11.2f} {r['busy_cores']:11.2f}" if "cpu_ms_per_run" in r else ""
        print(f"{name:48s} {r['runs_per_s']:8.1f} {cpu}")
    print("")
    for name, value in ratios.items():
        print(f"{name:48s} {value:8.2f}")
    if not warm_pools:
        print(f"warm path not measured: {warm_reason}")
    if docker_reason:
        print(f"docker not measured: {docker_reason}")

    result = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {
            "node": platform.node(),
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": sys.version.split()[0],
            "euid": os.geteuid(),
        },
        "backends": backends,
        "enforcement": {name: box.enforcement for name, box in boxes.items()},
        "baseline": args.baseline,
        "latency": rows,
        "throughput": tput,
        "ratios": ratios,
        "warm_path": "measured" if warm_pools else f"unavailable: {warm_reason}",
        "docker": "measured" if not docker_reason else f"unavailable: {docker_reason}",
    }
    out = Path(args.out)
    if out.exists() and "per_core" in (earlier := json.loads(out.read_text())):
        result["per_core"] = earlier["per_core"]  # the last --per-core run's, kept
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}")


DOCKER_COLD = "docker cold: python3 -I -S -c pass"
DOCKER_WARM = "docker warm pool: python3 -I -S -c pass"


def docker_latency(box, runs: int) -> dict[str, dict]:
    """Cold docker runs, then warm-pool runs each started with a container ready (the pool's
    refill is not timed: this is the latency while the pool keeps up with demand)."""
    argv = ["python3", *PASS]
    rows = {DOCKER_COLD: latency(lambda: _ok(box.run(argv)), runs, warmup=2)}
    with DockerPool(box, size=2) as pool:
        pool.warm_up(count=2)
        samples = []
        for index in range(runs + 2):
            pool.warm_up(count=1)
            t0 = time.perf_counter()
            _ok(pool.run(argv))
            if index >= 2:
                samples.append(time.perf_counter() - t0)
    ms = [sample * 1e3 for sample in samples]
    rows[DOCKER_WARM] = {
        "runs": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }
    return rows


def docker_throughput(box, seconds: float) -> dict[str, dict]:
    """Back-to-back docker runs (cold, and from a warm pool of two containers per worker)."""
    argv = ["python3", *PASS]
    out = {}
    for workers in (1, 2):
        out[f"docker cold, {workers} worker(s)"] = throughput(lambda: _ok(box.run(argv)), workers, seconds)
        with DockerPool(box, size=2 * workers) as pool:
            pool.warm_up(count=2 * workers)
            out[f"docker warm pool, {workers} worker(s)"] = throughput(lambda: _ok(pool.run(argv)), workers, seconds)
    return out


def _ok(res) -> None:
    if not res.ok:
        raise RuntimeError(f"benchmark run failed: {res}")


if __name__ == "__main__":
    main()
