"""The bwrap backend: per-run namespaces, a minimal read-only root, tmpfs disks, an unprivileged
uid, rlimits, seccomp and a memory cgroup (:class:`_BwrapBackend` has the details).

Also what it needs from bwrap itself: its ``--help`` text (``--disable-userns`` support), the
sandbox's pid 1 read from ``--info-fd``, and small files passed inline through pipes.  With
``supervisor=True`` it starts the warm path's zygote instead of a program (``warm``, ``zygote``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Mapping, Sequence

from .backend import _Backend, _memory_enforcement, _Prepared, _Spawned
from .cgroups import _RunCgroup
from .limits import NOBODY, SANDBOX_WORKDIR, Limits, SandboxUnavailable, _prlimit_argv, _rlimits
from .procs import _kill_group, _pid_alive, _pidfd_or_none, _write_all
from .result import _decode_runtime_status, _Outcome
from .seccomp import _SECCOMP
from .tmpfs import _RunMounts

log = logging.getLogger(__name__)

_VENV_MOUNT = "/venv"
# What the warm path's zygote keeps (it runs no untrusted code): new mount/IPC namespaces, entering
# the network and mount namespaces it keeps for its children (SYS_ADMIN; a mount namespace also
# SYS_CHROOT), and /proc and tmpfs mounts per child (SYS_ADMIN), the
# child's uid/gid (SETUID, SETGID), emptying the child's bounding set (SETPCAP), giving the child's
# files to its uid (CHOWN), bringing up loopback and the TCP settings of each new network
# namespace (NET_ADMIN).
_SUPERVISOR_CAPS = (
    "CAP_SYS_ADMIN",
    "CAP_SYS_CHROOT",
    "CAP_SETUID",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_CHOWN",
    "CAP_NET_ADMIN",
)


class _BwrapBackend(_Backend):
    """bubblewrap: per-run namespaces, a minimal read-only root and an unprivileged uid.

    * Namespaces: mount, pid, net, ipc, uts, cgroup (no network, only a private
      loopback).  When not root, also a user namespace (``--unshare-user --uid
      65534 --disable-userns``).  As root there is no user namespace: bwrap as
      root would map the sandbox uid to host uid 0, for which ``RLIMIT_NPROC``
      is not enforced.
    * Filesystem: an empty tmpfs root (remounted read-only) with read-only binds
      of ``/usr`` (+ ``/bin``, ``/lib*`` links), ``/etc/{ld.so.cache, alternatives,
      localtime, nsswitch.conf, protocols, services}``, fabricated
      ``/etc/{passwd,group,hosts}``, ``sys.base_prefix`` (that directory only --
      its parents, e.g. ``/root``, stay invisible), the venv's site-packages and
      ``pyvenv.cfg`` at ``/venv``, and ``ro_binds``.  Writable: only tmpfs --
      ``/work`` (input size + ``Limits.disk_mb``), ``/tmp`` and ``/dev/shm``
      (``Limits.tmp_mb`` each), inode-capped when root (package docstring, "Disk").
      bwrap waits on ``--block-fd`` after mounting them while the host fills
      ``/work`` through ``/proc/<pid 1>/root``.  Fresh ``/proc`` (sandbox pid
      namespace) and minimal ``/dev`` without terminals (an empty read-only ``/dev/pts``:
      ``/dev/ptmx`` leads nowhere, so no run opens a pty); no ``/sys``, no home, no host ``/tmp``.
    * Memory and CPU: bwrap joins the run's memory cgroup (and its CPU cgroup, where there is a
      CPU controller) while it blocks reading its options, before it clones anything (package
      docstring, "Memory", "CPU").
    * Identity: as root, ``setpriv`` drops to host uid/gid ``uid_base + slot``
      (default 2_000_000_000 + slot; no supplementary groups, empty capability
      sets incl. bounding set, ``no_new_privs``).  A slot belongs to one run at a
      time, across threads (in-process pool) and processes (``flock`` on a lock
      file per uid), so ``RLIMIT_NPROC`` -- counted by the kernel per real uid --
      is a per-run budget and a fork bomb cannot starve concurrent runs.  As
      non-root the program is uid 65534 in a fresh user namespace, where the
      kernel accounts ``RLIMIT_NPROC`` per (namespace, uid), i.e. per run too.
      Helpers inside the sandbox use one process of the budget (``timeout``).
    * seccomp (x86_64, aarch64): namespace creation (``unshare``/``clone`` with
      ``CLONE_NEW*``, ``setns``; ``clone3`` gets ``ENOSYS`` so libc falls back to
      ``clone``), ``ptrace`` and its relatives (``process_vm_readv/writev``,
      ``pidfd_getfd``: no process can read, write or steal the descriptors of
      another), the mount API, keyrings, ``bpf``, ``perf_event_open``,
      ``userfaultfd``, ``io_uring``, module/kexec, SysV ``shmget``, file-system watches
      (inotify, fanotify, dnotify) and similar calls fail with ``EPERM``, file locks with
      ``ENOLCK`` (both worked on inodes every sandbox shares: ``seccomp``); foreign syscall
      ABIs kill the process.
    * ``spawn(..., supervisor=True)`` (root only) starts the warm path's zygote instead:
      same namespaces, root and tmpfs, but it stays root with ``_SUPERVISOR_CAPS``, without
      seccomp, rlimits or ``timeout``, as the sandbox's pid 1 (its death kills the sandbox);
      each child it forks installs all of these for itself (``zygote``).
    * rlimits: as root, ``prlimit(2)`` is applied to bwrap while it blocks
      reading its options from a pipe (``--args FD``), so everything it starts
      inherits them; as non-root, util-linux ``prlimit`` applies them inside.
      ``RLIMIT_CPU``: soft ``cpu_s`` (SIGXCPU), hard ``cpu_s + 1`` (SIGKILL).
    * Process tree and kill strategy: ``--as-pid-1`` with coreutils ``timeout``
      as the sandbox's pid 1.  It forks the program and waits for it, so bwrap's
      monitor reaps it and the program's rusage (``cpu_s``) reaches us; its
      duration (``wall_s + 5``) is a backstop should this process die.  When
      pid 1 exits, the kernel kills everything left in the pid namespace
      (daemons included).  At the deadline or on output flood pid 1 is
      SIGKILLed through a pidfd (its host pid comes from ``--info-fd``; the uid
      change cleared its parent-death signal); bwrap's process group is
      SIGKILLed too if it has not exited ``KILL_GRACE_S`` later.  After bwrap
      exits, pid 1 is killed and waited for, so nothing of the run survives
      ``run``.  Orphaned processes are not reaped until the program exits
      (``timeout`` only waits for its own child), so their zombies count
      against ``processes`` meanwhile.  ``timeout`` runs as the run's uid: the
      program can read its /proc entries (the wall limit in its command line)
      and signal it, which ends the program itself and nothing else.
    """

    name = "bwrap"
    host_work_dir = False

    def __init__(self, bwrap: str, ro_binds: Sequence[str], uid_base: int) -> None:
        self.bwrap = bwrap
        self.privileged = os.geteuid() == 0
        self.uid_base = uid_base
        tool_path = "/usr/bin:/bin:/usr/sbin:/sbin"
        self.setpriv = shutil.which("setpriv", path=tool_path)
        self.prlimit = shutil.which("prlimit", path=tool_path)
        # coreutils `timeout` runs as the sandbox's pid 1 (bwrap --as-pid-1): it forks the program
        # and waits for it, so bwrap's monitor waitpid()s it and the program's rusage reaches us
        # (bwrap's own init reports the exit through an eventfd and is never reaped by bwrap).
        # Its duration is a backstop deadline should the supervisor itself die.
        self.timeout = shutil.which("timeout", path=tool_path)
        if self.privileged and not self.setpriv:
            raise SandboxUnavailable("bwrap backend as root needs util-linux `setpriv` in /usr/bin")
        if not self.privileged and not self.prlimit:
            raise SandboxUnavailable("bwrap backend needs util-linux `prlimit` in /usr/bin")
        if not hasattr(os, "pidfd_open"):
            raise SandboxUnavailable("bwrap backend needs os.pidfd_open (Linux 5.3+, Python 3.9+)")
        self._python, self._path_env, self._static = self._build_static(ro_binds)
        self.supports_disable_userns = _bwrap_supports(bwrap, "--disable-userns")

    # -- static part of the command line (computed once)
    def _build_static(self, ro_binds: Sequence[str]) -> tuple[str, str, list[str]]:
        binds: dict[str, str] = {}  # dest -> src (read-only)
        symlinks: dict[str, str] = {}  # dest -> target
        binds["/usr"] = "/usr"
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                symlinks[top] = os.readlink(top)
            elif os.path.isdir(top):
                binds[top] = top
        for etc in ("ld.so.cache", "alternatives", "localtime", "nsswitch.conf", "protocols", "services"):
            src = os.path.join("/etc", etc)
            if etc == "localtime" and os.path.islink(src) and os.path.realpath(src).startswith("/usr/"):
                symlinks[src] = os.path.realpath(src)
            elif os.path.exists(src):
                binds[src] = os.path.realpath(src)

        def visible(path: str) -> bool:
            return any(path == d or path.startswith(d.rstrip("/") + "/") for d in binds)

        base = os.path.realpath(sys.base_prefix)
        if not visible(base):
            binds[base] = base
        exe = os.path.realpath(sys.executable)
        in_venv = sys.prefix != sys.base_prefix
        if in_venv:
            venv = os.path.realpath(sys.prefix)
            cfg = os.path.join(venv, "pyvenv.cfg")
            binds[f"{_VENV_MOUNT}/pyvenv.cfg"] = cfg
            for key in ("purelib", "platlib"):
                sp = os.path.realpath(sysconfig.get_paths()[key])
                if sp.startswith(venv + "/") and os.path.isdir(sp):
                    binds[_VENV_MOUNT + sp[len(venv) :]] = sp
            if exe.startswith(venv + "/"):  # venv created with --copies
                binds[f"{_VENV_MOUNT}/bin/.python-real"] = exe
                exe_inside = f"{_VENV_MOUNT}/bin/.python-real"
            else:
                if not visible(exe):
                    binds[exe] = exe
                exe_inside = exe
            ver = f"{sys.version_info.major}.{sys.version_info.minor}"
            for name in ("python", f"python{sys.version_info.major}", f"python{ver}"):
                symlinks[f"{_VENV_MOUNT}/bin/{name}"] = exe_inside
            python = f"{_VENV_MOUNT}/bin/python"
            path_env = f"{_VENV_MOUNT}/bin:/usr/local/bin:/usr/bin:/bin"
        else:
            if not visible(exe):
                binds[exe] = exe
            python = exe
            path_env = f"{os.path.dirname(exe)}:/usr/local/bin:/usr/bin:/bin"
        reserved = (SANDBOX_WORKDIR, "/proc", "/dev", "/tmp", "/etc", _VENV_MOUNT)
        for extra in ro_binds:
            if not isinstance(extra, str) or not os.path.isabs(extra):
                raise ValueError(f"ro_binds entries must be absolute paths, got {extra!r}")
            norm = os.path.normpath(extra)
            if norm == "/" or any(norm == r or norm.startswith(r + "/") for r in reserved):
                raise ValueError(f"ro_binds entry {extra!r} conflicts with a sandbox mount point")
            if not os.path.exists(norm):
                raise ValueError(f"ro_binds entry {extra!r} does not exist")
            if not visible(norm):
                binds[norm] = os.path.realpath(norm)

        args: list[str] = []
        dirs: set[str] = set()
        for dest in list(binds) + list(symlinks):
            parent = os.path.dirname(dest)
            while parent not in ("/", "") and not visible(parent):
                dirs.add(parent)
                parent = os.path.dirname(parent)
        dirs.add("/etc")
        for d in sorted(dirs, key=lambda p: (p.count("/"), p)):
            if d not in binds:
                args += ["--perms", "0755", "--dir", d]
        for dest in sorted(binds, key=lambda p: (p.count("/"), p)):
            args += ["--ro-bind", binds[dest], dest]
        for dest, target in sorted(symlinks.items()):
            args += ["--symlink", target, dest]
        # bwrap's /dev has a devpts (/dev/pts, /dev/ptmx): runs need no terminal, and one zygote's
        # runs shared its devpts while the kernel counts ptys host-wide (/proc/sys/kernel/pty/nr),
        # so the ptys one run opened could be seen by another -- an empty read-only tmpfs hides it.
        args += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--perms",
            "0555",
            "--tmpfs",
            "/dev/pts",
            "--remount-ro",
            "/dev/pts",
        ]
        return python, path_env, args

    @property
    def python(self) -> str:
        return self._python

    def default_env(self, work_dir: str | None) -> dict[str, str]:
        env = super().default_env(work_dir)
        env["PATH"] = self._path_env
        return env

    def needs_uid_slot(self) -> bool:
        return self.privileged

    def owner_for(self, slot_uid: int | None) -> tuple[int, int] | None:
        return (slot_uid, slot_uid) if slot_uid is not None else None

    def _command(self, prep: _Prepared, limits: Limits, fds: Mapping[str, int], supervisor: bool = False) -> list[str]:
        """bwrap options (passed through --args); the program follows '--' on the command line.

        ``supervisor``: the warm path's zygote (``warm``) -- it stays root with the
        capabilities it needs to give each child its own namespaces, tmpfs and uid, and without
        the seccomp filter, which each child installs for itself before running anything else."""
        tmp_bytes = str(limits.tmp_mb << 20)
        args: list[str] = []
        if self.privileged:
            args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        else:
            args += ["--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
            if self.supports_disable_userns:
                args.append("--disable-userns")
        args += ["--die-with-parent", "--new-session", "--hostname", "sandbox"]
        if self.timeout or supervisor:
            args.append("--as-pid-1")
        args += self._static
        args += ["--perms", "0644", "--ro-bind-data", str(fds["passwd"]), "/etc/passwd"]
        args += ["--perms", "0644", "--ro-bind-data", str(fds["group"]), "/etc/group"]
        args += ["--perms", "0644", "--ro-bind-data", str(fds["hosts"]), "/etc/hosts"]
        args += ["--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/tmp"]
        args += ["--perms", "1777", "--size", tmp_bytes, "--tmpfs", "/dev/shm"]
        work_bytes = str(prep.input_bytes + (limits.disk_mb << 20))
        args += ["--perms", "0755", "--size", work_bytes, "--tmpfs", SANDBOX_WORKDIR, "--chdir", SANDBOX_WORKDIR]
        args += ["--remount-ro", "/"]
        args += ["--block-fd", str(fds["block"])]
        if "seccomp" in fds:
            args += ["--seccomp", str(fds["seccomp"])]
        args += ["--info-fd", str(fds["info_w"])]
        if supervisor:
            args += ["--cap-drop", "ALL"]
            for cap in _SUPERVISOR_CAPS:
                args += ["--cap-add", cap]
        elif self.privileged:
            args += [
                "--cap-drop",
                "ALL",
                "--cap-add",
                "CAP_SETUID",
                "--cap-add",
                "CAP_SETGID",
                "--cap-add",
                "CAP_SETPCAP",
            ]
        args.append("--clearenv")
        for key, value in prep.env.items():
            args += ["--setenv", key, value]
        return args

    def decode_status(self, outcome: _Outcome) -> _Outcome:
        if not (outcome.timed_out or outcome.output_killed):
            outcome.exit_code, outcome.signal = _decode_runtime_status(outcome.exit_code, outcome.signal)
        return outcome

    def spawn(
        self,
        argv: list[str],
        prep: _Prepared,
        stdin_fd: int | None,
        stdout_fd: int,
        stderr_fd: int,
        limits: Limits,
        slot_uid: int | None,
        supervisor: bool = False,
    ) -> _Spawned:
        """``supervisor``: start the warm path's zygote (root only; see ``_command``): argv runs as
        the sandbox's pid 1, as root with ``_SUPERVISOR_CAPS``, without seccomp or rlimits."""
        if supervisor and not self.privileged:
            raise SandboxUnavailable("the warm path's zygote needs root (it gives each child its own uid and mounts)")
        uid = slot_uid if self.privileged else NOBODY
        passwd = (
            "root:x:0:0:root:/root:/usr/sbin/nologin\n"
            f"nobody:x:{NOBODY}:{NOBODY}:nobody:/nonexistent:/usr/sbin/nologin\n"
        )
        group = f"root:x:0:\nnogroup:x:{NOBODY}:\n"
        if self.privileged and not supervisor:
            passwd += f"sandbox:x:{uid}:{uid}:sandbox:{SANDBOX_WORKDIR}:/bin/sh\n"
            group += f"sandbox:x:{uid}:\n"
        hosts = "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n"

        child_fds: dict[str, int] = {}  # inherited by bwrap; closed in the parent after spawn
        parent_fds: dict[str, int] = {}  # our ends
        proc: subprocess.Popen | None = None
        # pid 1's pidfd; emptied on release so that a recycled descriptor number is never signalled
        pid1_holder: list[int] = []
        cgroup: _RunCgroup | None = None
        mounts: _RunMounts | None = None

        def close(table: dict[str, int], key: str) -> None:
            fd = table.pop(key, None)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

        def kill_pid1() -> None:
            if pid1_holder:
                try:
                    signal.pidfd_send_signal(pid1_holder[0], signal.SIGKILL)
                except OSError:
                    pass

        def release() -> None:
            if pid1_holder:
                os.close(pid1_holder.pop())

        try:
            cgroup = self.new_cgroup(limits)
            child_fds["passwd"] = _pipe_with(passwd.encode())
            child_fds["group"] = _pipe_with(group.encode())
            child_fds["hosts"] = _pipe_with(hosts.encode())
            if _SECCOMP is not None and not supervisor:
                child_fds["seccomp"] = _pipe_with(_SECCOMP)
            parent_fds["info"], child_fds["info_w"] = os.pipe()
            child_fds["args"], parent_fds["args"] = os.pipe()
            child_fds["block"], parent_fds["block"] = os.pipe()
            payload = b"".join(a.encode() + b"\0" for a in self._command(prep, limits, child_fds, supervisor))
            if supervisor:
                tail = []
            elif self.privileged:
                tail = [
                    self.setpriv,
                    f"--reuid={uid}",
                    f"--regid={uid}",
                    "--clear-groups",
                    "--inh-caps=-all",
                    "--bounding-set=-all",
                    "--no-new-privs",
                    "--",
                ]
            else:
                tail = _prlimit_argv(self.prlimit, limits)
            if self.timeout and not supervisor:
                tail += [self.timeout, "-s", "KILL", str(math.ceil(limits.wall_s) + 5)]
            command = [self.bwrap, "--args", str(child_fds["args"]), "--", *tail, *argv]
            names = ("passwd", "group", "hosts", "seccomp", "info_w", "args", "block")
            pass_fds = tuple(child_fds[k] for k in names if k in child_fds)
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL if stdin_fd is None else stdin_fd,
                stdout=stdout_fd,
                stderr=stderr_fd,
                pass_fds=pass_fds,
                cwd="/",
                start_new_session=True,
            )
            for key in list(child_fds):
                close(child_fds, key)
            kill_bwrap = _kill_group(proc)
            try:
                # bwrap blocks reading its arguments until EOF: set the limits and move it into the
                # run's cgroup first, so that everything it starts inherits them.
                if self.privileged and not supervisor:
                    for res, lim in _rlimits(limits):
                        resource.prlimit(proc.pid, res, lim)
                if cgroup is not None:
                    cgroup.join(proc.pid)
                _write_all(parent_fds["args"], payload)
            except (ProcessLookupError, BrokenPipeError):
                pass  # bwrap died early; its stderr says why
            finally:
                close(parent_fds, "args")
            child_pid = _read_child_pid(parent_fds["info"])
            close(parent_fds, "info")
            pid1 = _pidfd_or_none(child_pid)
            if pid1 is not None:
                pid1_holder.append(pid1)
                mounts = _RunMounts.attach(child_pid, proc.pid, pid1)
            elif child_pid is not None and _pid_alive(child_pid):
                raise SandboxUnavailable(f"pidfd_open({child_pid}) failed: cannot supervise bwrap's pid 1")
            if mounts is not None:
                mounts.populate(
                    prep, None if supervisor else self.owner_for(slot_uid), limits, cap_inodes=self.privileged
                )
            # mounts is None only when the sandbox's pid 1 is already gone (bwrap failed; its stderr says why)
            close(parent_fds, "block")  # the program starts now
            t0 = time.monotonic()

            def kill() -> None:
                # pid 1's death makes the kernel kill every process in the pid namespace, and
                # bwrap then reaps it and exits.  (setpriv's uid change clears pid 1's
                # parent-death signal, so it is killed directly, not through bwrap.)
                if pid1_holder:
                    kill_pid1()
                else:
                    kill_bwrap()

            def force_kill() -> None:
                kill_pid1()
                kill_bwrap()

            def on_exit() -> None:
                # bwrap has exited; make sure its pid 1 -- and with it the pid namespace -- is gone.
                if not pid1_holder:
                    return
                kill_pid1()
                sel = selectors.DefaultSelector()
                try:
                    sel.register(pid1_holder[0], selectors.EVENT_READ)
                    if not sel.select(10.0):
                        log.warning("sandbox: bwrap pid 1 (host pid %s) still alive after 10 s", child_pid)
                finally:
                    sel.close()

            enforcement = {
                **_memory_enforcement(cgroup, limits),
                **({"cpu": cgroup.cpu_kind} if cgroup is not None else {}),
                "disk": "tmpfs",
                "inodes": "uncapped",
            }
            return _Spawned(
                proc,
                t0,
                kill,
                force_kill,
                on_exit,
                release,
                cgroup=cgroup,
                mounts=mounts,
                enforcement=enforcement,
                pid1=child_pid,
            )
        except BaseException:
            if proc is not None and proc.returncode is None:  # only on internal errors
                kill_pid1()
                _kill_group(proc)()
                try:
                    os.waitpid(proc.pid, 0)
                except ChildProcessError:
                    pass
                proc.returncode = -signal.SIGKILL
            release()
            if mounts is not None:
                mounts.close()
            if cgroup is not None:
                cgroup.remove()
            raise
        finally:
            for table in (child_fds, parent_fds):
                for key in list(table):
                    close(table, key)


def _pipe_with(data: bytes) -> int:
    """A pipe read end pre-filled with ``data`` (must fit in the pipe buffer)."""
    r, w = os.pipe()
    try:
        if len(data) > 60000:
            raise ValueError("inline bwrap data too large for a pipe")
        os.write(w, data)
    finally:
        os.close(w)
    return r


def _read_child_pid(fd: int, timeout: float = 10.0) -> int | None:
    """Read bwrap's --info-fd JSON (written right after it clones the sandbox's pid 1)."""
    buf = b""
    end = time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    try:
        sel.register(fd, selectors.EVENT_READ)
        while time.monotonic() < end:
            if not sel.select(max(0.0, end - time.monotonic())):
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            if buf.rstrip().endswith(b"}"):
                try:
                    return int(json.loads(buf)["child-pid"])
                except (ValueError, KeyError, TypeError):
                    continue
    finally:
        sel.close()
    match = re.search(rb'"child-pid"\s*:\s*(\d+)', buf)
    return int(match.group(1)) if match else None


def _bwrap_supports(bwrap: str, option: str) -> bool:
    return option in _bwrap_help(bwrap)


_HELP_CACHE: dict[str, str] = {}


def _bwrap_help(bwrap: str) -> str:
    if bwrap not in _HELP_CACHE:
        try:
            res = subprocess.run([bwrap, "--help"], capture_output=True, timeout=10)
            _HELP_CACHE[bwrap] = (res.stdout + res.stderr).decode(errors="replace")
        except (OSError, subprocess.SubprocessError):
            _HELP_CACHE[bwrap] = ""
    return _HELP_CACHE[bwrap]
