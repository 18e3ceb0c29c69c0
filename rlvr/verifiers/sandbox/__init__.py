"""Run untrusted, model-written programs under isolation and resource limits.

This package is the only part of rlvr that executes untrusted code (the code,
Verilog and SWE families all call it).

Trust rule
----------
The program is an adversary.  Nothing a verdict depends on may be reachable
from inside, and every limit holds for the *whole run* -- the process tree and
everything it writes -- and is enforced by the kernel, not by arithmetic over
single processes.  The host only reads what the run left behind through bounded
channels (capped stdout/stderr, capped collected files, kernel counters).

Contract
--------
``Sandbox(backend, limits).run(argv, files=, stdin=, collect=, env=, cwd_files_dir=)``

* creates a fresh private work dir, copies ``cwd_files_dir`` (a host tree) and
  then ``files`` (relative paths only; absolute paths and ``..`` raise
  ``ValueError``; content starting with ``#!`` is made executable) into it, and
  runs ``argv`` there -- the cwd is ``/work`` inside bwrap/docker;
* the environment is cleared: ``PATH``, ``HOME=/work``, ``LANG=C.UTF-8``,
  ``PYTHONDONTWRITEBYTECODE=1`` (bwrap also sets ``PWD``) plus the caller's ``env``;
* enforces :class:`Limits` per run: wall deadline (the whole process tree is
  killed), the whole-run caps below, ``RLIMIT_CPU/AS/NPROC/FSIZE/NOFILE`` and
  ``CORE=0`` per process, stdout and stderr each kept up to ``output_bytes``
  (the rest is drained and discarded, so the program never blocks; a stream
  beyond ``OUTPUT_KILL_FACTOR`` x the cap gets the program SIGKILLed);
* returns a :class:`RunResult`; ``collect`` names files read back from the work
  dir (regular files only, symlinks never followed, capped at ``file_mb``; the docker
  backend reads them from the host-held tmpfs it binds as ``/work`` when run as root, and
  refuses ``collect`` otherwise);
* before returning, removes the work dir and the run's cgroup and -- for bwrap
  and docker -- leaves no process of the run alive (daemons that ``setsid()``
  and double-fork included).  ``run`` raises only for caller errors or a broken
  sandbox, never because of what the program did.  ``Sandbox`` is safe to use
  from threads.

``Sandbox.session(argv, files=, limits=, env=, cwd_files_dir=)`` (a context
manager; every backend) starts the same kind of run -- same isolation
and the same whole-run caps -- and yields a :class:`Session` to talk to it while
it runs: the program's stdin and stdout are one Unix stream socket (``send`` /
``recv`` / ``readline`` / ``read_exactly`` / ``close_stdin``), stderr is captured
as above, the wall deadline is enforced whenever the caller waits on it, and
leaving the block kills what is left, reaps it, removes the work dir and the
cgroup and sets ``session.result``.

Warm runs: ``rlvr.verifiers.sandbox.warm.WarmPool(sandbox, ...)`` offers ``run`` and
``session`` with the same results and Session API, without a sandbox and interpreter
start per run: long-lived zygotes (started by the bwrap backend in its ``supervisor``
mode) fork a child per run that gets its own namespaces (the network namespace reused, never
by two live runs and only once it holds nothing of the last), tmpfs, memory cgroup, uid,
rlimits and seccomp filter before anything of the run executes (see ``warm``; ``zygote``
is the program the zygotes run).  It needs the bwrap backend as root and a writable memory cgroup; callers fall
back to cold runs elsewhere.

Whole-run caps
--------------
* Memory: each run gets its own memory cgroup, created below the cgroup this
  process sits in (or below ``RLVR_SANDBOX_CGROUP`` / ``memory_cgroup=``, a
  directory of a cgroup we may write): cgroup v2 ``memory.max`` with
  ``memory.swap.max=0``, or cgroup v1 ``memory.limit_in_bytes`` and
  ``memory.memsw.limit_in_bytes`` (``memory.swappiness=0`` where swap is not
  accounted), all set to ``Limits.memory_mb``.  The runtime (bwrap) is moved into
  it while it still blocks reading its options, so every process of the run is
  inside before the program's first instruction; the candidate cannot leave it
  (no ``/sys``, no capabilities, unprivileged uid).  It counts every page of the
  tree -- anonymous memory, page cache, kernel memory and the tmpfs pages the run
  writes (its disk is RAM, see below), so ``memory_mb`` bounds all of it.  An OOM
  kill is read from the cgroup's own counter (v1 ``memory.oom_control``, v2
  ``memory.events`` ``oom_kill``) and reported as ``memory_exceeded`` and
  ``oom_killed``; the peak usage is ``RunResult.memory_peak_bytes``.  The cgroup
  is created per run and removed after it (0.1 ms together; a fresh one has clean
  counters and no charges left by earlier runs, so reusing one per uid slot would
  gain nothing), so a sequence of runs leaves none behind; ones left by a crashed
  process are removed when the next process starts sandboxing.  What a run does
  pay is moving the runtime into it (cgroup v1: an RCU grace period, about 3 ms
  on a 2-core VM, more under load); for bwrap that is offset by no longer
  creating a work dir on the host disk.
  Fallback where no cgroup is writable (``memory_cgroup="auto"``; ``"required"``
  refuses instead): only the per-process ``RLIMIT_AS = memory_mb`` and the
  per-run ``RLIMIT_NPROC = processes`` hold, so the kernel-enforced bound of a
  whole run is ``memory_mb x processes`` (plus its tmpfs caps) -- weaker, and said
  so in ``RunResult.enforcement`` (``memory="rlimit"``, ``memory_bound_mb``).
  Lower ``processes`` to tighten it.
* Disk (bwrap): nothing of the run touches the host disk.  ``/work`` is a tmpfs
  of the input's size plus ``Limits.disk_mb``; ``/tmp`` and ``/dev/shm`` are
  tmpfs of ``Limits.tmp_mb`` each; the rest of the root is read-only.  The host
  fills ``/work`` while bwrap waits (``--block-fd``) after setting the mounts up,
  and reads collected files from it after the run through a descriptor it kept.
  Running as root, each tmpfs also gets an inode cap (``Limits.disk_files`` more
  than the input; ``fspick``/``fsconfig`` reconfigure), so a flood of empty files
  fails too.  A write past a cap fails with ``ENOSPC``; a run that filled any of
  them (bytes or inodes) is reported as ``disk_exceeded``.  Not root: the inode
  count is bounded only by the memory cgroup (or, without one, by tmpfs's
  default of half the RAM in pages).
* Processes: ``RLIMIT_NPROC`` per run (a uid of its own, see
  :class:`~.bwrap._BwrapBackend`); CPU time: ``RLIMIT_CPU`` per process, the wall deadline
  for the whole tree.
* CPU share: each run also gets a CPU cgroup next to its memory cgroup (cgroup v1 ``cpu``
  controller: ``cpu.cfs_quota_us`` = one period; v2: ``cpu.max``), capped at
  ``cgroups.RUN_CPUS`` = 1 CPU and joined with it before the program's first instruction, so
  the scheduler shares the CPUs between runs, not between processes.  Without it, one run's
  63 spinning processes (each in a session of its own, which also defeats the scheduler's
  per-session autogroups) left a concurrent correct answer about 1/30 of a CPU and its
  wall-clock test limits failed it (reward 1 -> 0).  Where no CPU controller is writable
  (or without a memory cgroup) runs go on sharing the CPUs per process -- fail-open for this
  fairness property only, never for isolation -- said as ``cpu="none"`` in
  ``RunResult.enforcement`` and ``Sandbox.enforcement`` (else ``"cgroup-v1"`` / ``"cgroup-v2"``;
  no ``cpu`` key where runs have no cgroups at all: ``memory="rlimit"``).
* docker: container ``mem_limit`` = ``memswap_limit`` = ``memory_mb``,
  ``pids_limit`` = ``processes``, one CPU, ``/work`` a tmpfs (input + ``disk_mb``,
  inode cap; as root one the host mounts and holds, so ``disk_exceeded`` is seen),
  ``/tmp`` a tmpfs and ``/dev/shm`` of ``tmp_mb``; ``OOMKilled`` (warm pool: the
  container cgroup's OOM count) is reported as ``memory_exceeded``.  Images are
  built locally (``image``; ``rlvr sandbox build-image``), never pulled.
* unsafe-none: the memory cgroup when one is writable (and every process left in
  it is killed when the program exits), else rlimits; the work dir is a plain
  host directory (no disk cap beyond ``RLIMIT_FSIZE`` per file).

Defaults (:class:`Limits`) are sized for a 2-core, 24 GiB machine running
several verifications at once: 1 GiB memory per run (tree, tmpfs included),
256 MiB written to ``/work``, 64 MiB each for ``/tmp`` and ``/dev/shm``, 10 000
new files per tmpfs, 64 processes, 10 s CPU per process and 10 s wall: eight
concurrent runs stay under 8 GiB.

A program killed by signal N is reported as ``exit_code=None, signal=N``.
bwrap and docker fold that into exit status 128+N, so for them statuses
129..192 are decoded as signals.  ``memory_exceeded`` is true when the run's
cgroup recorded an OOM kill (or docker's ``OOMKilled``) -- ``oom_killed`` says
this alone -- and also when the stderr tail shows a process failing its own
``RLIMIT_AS`` (``MemoryError``, ``std::bad_alloc``, ``Cannot allocate memory``...;
the program controls that text, so it can only claim a failure, never hide one).

Backends: ``"bwrap"`` (see :class:`~.bwrap._BwrapBackend`: namespaces incl. network,
read-only minimal root, tmpfs work dir, unprivileged uid, seccomp, rlimits,
memory cgroup), ``"docker"`` (SDK, local engine, network none, read-only rootfs,
cgroup limits, user 65534, sessions; ``docker_pool.DockerPool`` runs in pre-started
containers), and ``"unsafe-none"`` (rlimits + process-group kill,
NO isolation, only with ``allow_unsafe_unsandboxed=True``).  ``"auto"`` = bwrap
if it works, else docker if an engine answers, else unsafe-none if allowed, else
:class:`SandboxUnavailable` saying what to install.  ``Sandbox.enforcement``
says how the caps are enforced here (e.g. ``{"memory": "cgroup-v1", "cpu":
"cgroup-v1", "disk": "tmpfs"}``) for verdict details; ``RunResult.enforcement``
says it for one run.

``Sandbox.python`` is an interpreter usable inside: under bwrap the host venv's
python at ``/venv/bin/python`` with its site-packages read-only (the project
tree is not mounted, so ``rlvr`` itself is not importable).  Start it with
``-I``, and ``-S`` when site-packages are not needed.  Use ``python -m pytest``
rather than venv console scripts (their shebangs are host paths).

Not contained: CPU time summed over many processes (``RLIMIT_CPU`` is per
process; the wall deadline bounds the total, the CPU cgroup its rate), I/O bandwidth,
and kernel vulnerabilities.

Channels between concurrent runs: runs see the host's inodes of the read-only trees and device
nodes, so what works on shared inodes is closed -- file-system watches (inotify, fanotify,
dnotify: ``EPERM``) and file locks (``flock``, ``fcntl`` record and OFD locks: ``ENOLCK``,
private files included, as the filter cannot tell them apart; see ``seccomp``); and no run has
a terminal (empty read-only ``/dev/pts``), so the host-wide pty count moves with no run.
Page-cache probes and evictions (``mincore``, ``preadv2`` with ``RWF_NOWAIT``, ``fadvise``,
``readahead``, ``madvise`` ``PAGEOUT`` / ``COLD``) are refused too: the cache of the shared
files outlives a run, so it was a channel to *later* candidates as well.
Not closed: host-wide counters that stay readable (``/proc/loadavg``, ``/proc/stat``'s
``procs_running``, ``/proc/sys/fs/file-nr``, ``inode-nr`` and ``dentry-state``,
``/proc/meminfo``, ``/proc/vmstat``, ``/proc/pressure/*``) move with everything on the host,
runs included -- noisy channels a run can modulate (e.g. by how many processes it keeps
runnable); the page cache read by timing (``seccomp``: write-once bits, a cached read
~8 µs against ~100 µs uncached); and the inode numbers of pipes, sockets and memfds, which come
from a per-CPU kernel counter (batches of 1,024): a run moves it and the next run on that CPU
reads it -- not noisy where runs keep to a CPU (7 bits a run measured, red team round 16;
burning a random number of inodes before each run would cost about a millisecond a run).

Layout (one job per module)
---------------------------
* ``runner``: :class:`Sandbox` -- backend choice and probes, request checks, each run's
  work dir and uid slot; ``available_backends``.
* ``limits``: :class:`Limits`, :class:`SandboxUnavailable`, the rlimits a run gets, the
  names every part shares (``SANDBOX_WORKDIR``, ``NOBODY``, ``OUTPUT_KILL_FACTOR``).
* ``result``: :class:`RunResult` and the raw outcome a backend reports.
* ``workdir``: the run's files on the host -- path checks, filling and reading back work
  dirs without following symlinks, removing them.
* ``uids``: the per-run host uid pool (bwrap as root).
* ``cgroups``: per-run memory and CPU cgroups (v1 and v2).
* ``tmpfs``: a bwrap run's tmpfs disks, held from the host, and their inode caps.
* ``seccomp``: the seccomp filter.
* ``procs``: process and descriptor helpers.
* ``supervise``: running a program to its end -- capped output, wall deadline, kill escalation.
* ``backend``: the backend interface and one started run; ``bwrap``, ``docker`` and
  ``unsafe``: the three backends.
* ``docker_pool``: ``DockerPool``, warm docker runs (a pre-started container per run);
  ``image``: building the docker images (base, per repository, per SWE-bench instance).
* ``sessions``: :class:`Session`, talking to a running program.
* ``warm``: ``WarmPool``, the warm path's host side; ``zygote``: the program its zygotes run,
  shipped compiled into their sandboxes (standard library only).
"""

from __future__ import annotations

# Besides the public API (__all__), tests and benchmarks read NOBODY, DEFAULT_UID_BASE, MAX_SLOTS
# and the private names imported here.  Patch a module global in the submodule that uses it
# (e.g. ``runner._probe_docker``): rebinding the name here reaches no caller.
from .cgroups import _cgroup_dir, _cgroup_mounts, _cgroup_parent, _parse_proc_cgroup  # noqa: F401
from .docker import _DockerBackend  # noqa: F401
from .limits import NOBODY, OUTPUT_KILL_FACTOR, SANDBOX_WORKDIR, Limits, SandboxUnavailable  # noqa: F401
from .result import RunResult
from .runner import Sandbox, _probe_bwrap, _probe_docker, available_backends  # noqa: F401
from .seccomp import _SECCOMP  # noqa: F401
from .sessions import Session
from .uids import DEFAULT_UID_BASE, MAX_SLOTS  # noqa: F401

__all__ = [
    "OUTPUT_KILL_FACTOR",
    "SANDBOX_WORKDIR",
    "Limits",
    "RunResult",
    "Sandbox",
    "SandboxUnavailable",
    "Session",
    "available_backends",
]
