"""The ``unsafe-none`` backend: NO isolation, for trusted code only (``allow_unsafe_unsandboxed``).

The program is a plain subprocess in a host temp dir, with the per-process rlimits, a process
group of its own, and the run's memory cgroup where one is writable (a shell joins it, then
execs the program); whatever is left in the group or the cgroup is killed when it exits.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time

from .backend import _Backend, _memory_enforcement, _Prepared, _Spawned
from .limits import Limits, _prlimit_argv, _rlimits
from .procs import _kill_group


class _UnsafeBackend(_Backend):
    """No isolation: a subprocess with rlimits, the run's memory cgroup (where one is writable;
    every process left in it is killed when the program exits) and a process-group kill."""

    name = "unsafe-none"
    workdir = None

    def __init__(self) -> None:
        self.prlimit = shutil.which("prlimit")

    @property
    def python(self) -> str:
        return sys.executable

    def default_env(self, work_dir: str | None) -> dict[str, str]:
        env = super().default_env(work_dir)
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env["PATH"]])
        return env

    def spawn(
        self,
        argv: list[str],
        prep: _Prepared,
        stdin_fd: int | None,
        stdout_fd: int,
        stderr_fd: int,
        limits: Limits,
        slot_uid: int | None,
    ) -> _Spawned:
        cgroup = self.new_cgroup(limits)
        try:
            rlimits = [] if self.prlimit else _rlimits(limits)  # util-linux missing: set them before exec
            command = (_prlimit_argv(self.prlimit, limits) if self.prlimit else []) + list(argv)
            if cgroup is not None:
                # the shell joins the run's cgroup, then execs the program (only if joining worked);
                # cheaper than a preexec_fn, which forces a full fork of this interpreter
                procs_file = os.path.join(cgroup.path, "cgroup.procs")
                command = ["/bin/sh", "-c", 'echo "$$" > "$0" && exec "$@"', procs_file, *command]

            def preexec() -> None:
                for res, lim in rlimits:
                    resource.setrlimit(res, lim)

            t0 = time.monotonic()
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL if stdin_fd is None else stdin_fd,
                stdout=stdout_fd,
                stderr=stderr_fd,
                cwd=prep.work_dir,
                env=prep.env,
                start_new_session=True,
                preexec_fn=preexec if rlimits else None,
            )
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            raise
        kill_group = _kill_group(proc)

        def kill() -> None:
            kill_group()
            if cgroup is not None:  # daemons that left the process group are still in the cgroup
                cgroup.kill_all(timeout=1.0)

        # When the program exits, kill what it left behind.
        enforcement = {**_memory_enforcement(cgroup, limits), "disk": "none", "inodes": "uncapped"}
        return _Spawned(proc, t0, kill, kill, kill, cgroup=cgroup, enforcement=enforcement)
