"""``Sandbox``: picks a backend, checks requests, and runs programs (package docstring: the contract).

Backend choice: ``"auto"`` is bwrap if a real sandboxed run works here, else docker if an
engine answers, else unsafe-none when allowed, else :class:`SandboxUnavailable` saying what to
install.  bwrap is tried with a real sandboxed run once per process (``_probe_bwrap``), docker
by pinging its engine (``_probe_docker``); ``available_backends`` lists what works.  Where the
runs' memory cgroups go is found once per process (``cgroups._cgroup_parent``).  Every
``run`` / ``session`` gets a checked request, a private work dir under the temp root (unless the
backend builds its own) and a uid slot when the backend needs one; the backend starts it, and
all of it is removed afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .backend import _Backend, _Prepared
from .bwrap import _BwrapBackend
from .cgroups import _CGROUP_ENV, _CGROUP_MODES, _cgroup_parent
from .docker import _DockerBackend
from .image import base_image_tag
from .limits import Limits, SandboxUnavailable
from .procs import _close_all, _quiet
from .result import RunResult, _result
from .sessions import Session
from .uids import DEFAULT_UID_BASE, MAX_SLOTS, _uid_pool
from .unsafe import _UnsafeBackend
from .workdir import _default_tmp_root, _input_size, _populate, _private_dir, _rel_parts, _rmtree

log = logging.getLogger(__name__)

_INSTALL_ADVICE = (
    "install bubblewrap (`apt-get install bubblewrap`; it needs unprivileged user namespaces "
    "when not run as root) or start a Docker engine (and `pip install 'rlvr[docker]'`); "
    "for trusted code only, pass allow_unsafe_unsandboxed=True"
)
_BACKENDS = ("auto", "bwrap", "docker", "unsafe-none")


def _cpu_kind(backend: _Backend) -> str:
    """How a run's CPU is shared, for a backend with memory cgroups (``Sandbox.enforcement``):
    unsafe-none's shell joins only the memory cgroup, which on cgroup v1 has no CPU cap."""
    cgroups = backend.cgroups
    return cgroups.cpu_kind if backend.name == "bwrap" or cgroups.cpu_v2 else "none"


class Sandbox:
    """Runs untrusted programs; see the package docstring for the contract.

    ``Sandbox`` is thread-safe: ``run`` may be called concurrently from several threads.
    """

    def __init__(
        self,
        backend: str = "auto",
        limits: Limits = Limits(),
        *,
        allow_unsafe_unsandboxed: bool = False,
        ro_binds: tuple[str, ...] = (),
        image: str | None = None,
        tmp_root: str | None = None,
        uid_base: int | None = None,
        docker_client: Any | None = None,
        memory_cgroup: str | None = None,
        _probe: bool = True,
    ) -> None:
        """``memory_cgroup``: where the runs' memory cgroups go -- "auto" (below this process's
        cgroup if writable, else the rlimit fallback), "required" (SandboxUnavailable without
        one), "off" (rlimits only), or the directory of a cgroup to create them in; default:
        ``$RLVR_SANDBOX_CGROUP`` or "auto".  See the package docstring, "Whole-run caps"."""
        if backend not in _BACKENDS:
            raise ValueError(f"unknown sandbox backend {backend!r}; choose one of {_BACKENDS}")
        if not isinstance(limits, Limits):
            raise TypeError("limits must be a Limits instance")
        if backend == "unsafe-none" and allow_unsafe_unsandboxed is not True:  # not a truthy "False"
            raise ValueError(
                "the 'unsafe-none' backend runs untrusted code WITHOUT isolation; "
                "pass allow_unsafe_unsandboxed=True to use it anyway"
            )
        self.limits = limits
        self.tmp_root = _private_dir(os.path.abspath(tmp_root or _default_tmp_root()))
        if uid_base is None:
            uid_base = int(os.environ.get("RLVR_SANDBOX_UID_BASE", DEFAULT_UID_BASE))
        if not (1000 <= uid_base <= 2**31 - 1 - MAX_SLOTS):
            raise ValueError(f"uid_base out of range: {uid_base}")
        self._uid_pool = _uid_pool(uid_base)
        ro_binds = tuple(ro_binds)
        cgroup_spec = memory_cgroup or os.environ.get(_CGROUP_ENV) or "auto"
        if cgroup_spec not in _CGROUP_MODES and not os.path.isabs(cgroup_spec):
            raise ValueError(
                f"memory_cgroup must be one of {_CGROUP_MODES} or an absolute cgroup directory, got {cgroup_spec!r}"
            )
        self._backend = self._select(
            backend, allow_unsafe_unsandboxed, ro_binds, image, uid_base, docker_client, _probe
        )
        self.cgroup_unavailable_reason = ""  # why runs fall back to rlimits ("" when they get a cgroup)
        if self._backend.name != "docker":
            parent, reason = _cgroup_parent(cgroup_spec)
            if parent is None and cgroup_spec not in ("auto", "off"):
                self._backend.close()
                raise SandboxUnavailable(f"no writable memory cgroup for whole-run memory caps: {reason}")
            if parent is None and cgroup_spec == "auto":
                log.info("rlvr sandbox: no memory cgroup (%s); whole-run memory falls back to rlimits", reason)
            self._backend.cgroups = parent
            self.cgroup_unavailable_reason = reason

    def _select(self, backend, allow_unsafe, ro_binds, image, uid_base, docker_client, probe) -> _Backend:
        reasons = []
        if backend in ("auto", "bwrap"):
            if probe:
                bwrap, reason = _probe_bwrap()
            else:
                bwrap, reason = shutil.which("bwrap"), "bwrap not found on PATH"
            if bwrap:
                return _BwrapBackend(bwrap, ro_binds, uid_base)
            if backend == "bwrap":
                raise SandboxUnavailable(f"bwrap backend unavailable: {reason}. To fix: {_INSTALL_ADVICE}")
            reasons.append(f"bwrap: {reason}")
        if backend in ("auto", "docker"):
            if docker_client is not None:
                client, reason = docker_client, ""
            else:
                client, reason = _probe_docker()
            if client is not None:
                try:
                    return _DockerBackend(client, image or base_image_tag(), ro_binds, self.tmp_root)
                except SandboxUnavailable as exc:
                    if backend == "docker":
                        raise
                    reason = str(exc)
                    _quiet(client.close)
            if backend == "docker":
                raise SandboxUnavailable(f"docker backend unavailable: {reason}. To fix: {_INSTALL_ADVICE}")
            reasons.append(f"docker: {reason}")
        if backend == "unsafe-none" or allow_unsafe:
            log.warning(
                "rlvr sandbox: using the 'unsafe-none' backend -- untrusted code runs WITHOUT isolation (%s)",
                "; ".join(reasons) or "requested",
            )
            return _UnsafeBackend()
        raise SandboxUnavailable(f"no sandbox backend is usable ({'; '.join(reasons)}). To fix: {_INSTALL_ADVICE}")

    # -- properties
    @property
    def backend(self) -> str:
        """Name of the backend in use: "bwrap", "docker" or "unsafe-none"."""
        return self._backend.name

    @property
    def python(self) -> str:
        """Path (inside the sandbox) of a Python interpreter with the host venv's site-packages."""
        return self._backend.python

    @property
    def enforcement(self) -> dict[str, str]:
        """How the whole-run caps are enforced for runs of this sandbox (for verdict details):
        ``memory`` "cgroup-v1" / "cgroup-v2" / "rlimit" (the weaker fallback) / "docker",
        ``cpu`` (where runs get memory cgroups) "cgroup-v1" / "cgroup-v2" (a CPU cgroup of
        ``cgroups.RUN_CPUS`` per run: runs share the CPUs fairly) / "none" (shared per process:
        a run with many processes can slow the others down; so too without memory cgroups, and
        docker gives each container one CPU),
        ``disk`` "tmpfs" / "docker-tmpfs" / "none" (unsafe-none: a host dir)."""
        backend = self._backend
        if backend.name == "docker":
            return {"memory": "docker", "disk": "docker-tmpfs"}
        if backend.cgroups is None:
            return {"memory": "rlimit", "disk": "tmpfs" if backend.name == "bwrap" else "none"}
        return {
            "memory": backend.cgroups.kind,
            "cpu": _cpu_kind(backend),
            "disk": "tmpfs" if backend.name == "bwrap" else "none",
        }

    @property
    def workdir(self) -> str | None:
        """The program's working directory inside the sandbox (None for unsafe-none: a host temp dir)."""
        return self._backend.workdir

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running
    def run(
        self,
        argv: Sequence[str],
        *,
        files: Mapping[str, bytes | str] | None = None,
        stdin: bytes = b"",
        limits: Limits | None = None,
        collect: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd_files_dir: str | None = None,
    ) -> RunResult:
        """Run ``argv`` in a fresh work dir; see the package docstring."""
        argv, limits, payload, user_env = self._check_request(argv, limits, files, env, cwd_files_dir)
        if isinstance(stdin, str):
            stdin = stdin.encode()
        wanted = [(name, _rel_parts(name, "collect entry")) for name in collect]
        if wanted and not self._backend.can_collect:
            raise ValueError(
                "collect is not supported by the docker backend when not root (its /work is a tmpfs gone "
                "with the container)"
            )
        with self._workspace(payload, user_env, cwd_files_dir) as (prep, slot_uid):
            outcome = self._backend.execute(argv, prep, stdin, limits, slot_uid, wanted)
        return _result(outcome, stdout=bytes(outcome.stdout.data), truncated=outcome.stdout.truncated)

    @contextlib.contextmanager
    def session(
        self,
        argv: Sequence[str],
        *,
        files: Mapping[str, bytes | str] | None = None,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        cwd_files_dir: str | None = None,
    ) -> Iterator[Session]:
        """Start ``argv`` in a fresh work dir and talk to it while it runs; see :class:`Session`.

        Same isolation, limits, work dir and clean-up as :meth:`run` (every backend; docker's
        session is a container whose attached stdio is the socket).  The program's stdin and stdout are
        one Unix stream socket whose other end is the session.  Leaving the ``with`` block kills
        the program if it still runs, reaps it, and removes the work dir; ``session.result`` then
        holds its :class:`RunResult`.
        """
        argv, limits, payload, user_env = self._check_request(argv, limits, files, env, cwd_files_dir)
        with self._workspace(payload, user_env, cwd_files_dir) as (prep, slot_uid):
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            err_r, err_w = os.pipe()
            spawned = None
            session = None
            try:
                spawned = self._backend.spawn(argv, prep, theirs.fileno(), theirs.fileno(), err_w, limits, slot_uid)
                theirs.close()
                os.close(err_w)
                err_w = -1
                session = Session(self._backend, spawned, ours, err_r, limits)
                yield session
            finally:
                try:
                    if session is not None:
                        session.close()
                finally:
                    theirs.close()
                    ours.close()
                    _close_all([fd for fd in (err_r, err_w) if fd >= 0])
                    if spawned is not None:
                        spawned.abandon()

    def _check_request(self, argv, limits, files, env, cwd_files_dir):
        """Validate what run/session were given; returns (argv, limits, file payload, env)."""
        if isinstance(argv, (str, bytes)) or not argv or not all(isinstance(a, str) and "\x00" not in a for a in argv):
            raise ValueError("argv must be a non-empty list of strings without NUL bytes")
        argv = list(argv)
        limits = self.limits if limits is None else limits
        if not isinstance(limits, Limits):
            raise TypeError("limits must be a Limits instance")
        payload: list[tuple[tuple[str, ...], bytes]] = []
        for path, content in (files or {}).items():
            data = content.encode() if isinstance(content, str) else bytes(content)
            payload.append((_rel_parts(path, "files key"), data))
        user_env = dict(env or {})
        for key, value in user_env.items():
            if (
                not isinstance(key, str)
                or not key
                or "=" in key
                or "\x00" in key
                or not isinstance(value, str)
                or "\x00" in value
            ):
                raise ValueError(f"bad environment variable {key!r}")
        if cwd_files_dir is not None and not os.path.isdir(cwd_files_dir):
            raise ValueError(f"cwd_files_dir {cwd_files_dir!r} is not a directory")
        return argv, limits, payload, user_env

    @contextlib.contextmanager
    def _workspace(self, payload, user_env, cwd_files_dir) -> Iterator[tuple[_Prepared, int | None]]:
        """The run's input (filled into a private host work dir unless the backend builds its own)
        and a uid slot when the backend needs one; removed after."""
        backend = self._backend
        slot_uid = self._uid_pool.acquire() if backend.needs_uid_slot() else None
        run_dir = None
        try:
            input_bytes, input_entries = _input_size(payload, cwd_files_dir)
            work_dir = None
            if backend.host_work_dir:
                run_dir = tempfile.mkdtemp(prefix="run-", dir=self.tmp_root)
                work_dir = os.path.join(run_dir, "work")
                os.mkdir(work_dir, 0o755)
                _populate(work_dir, payload, cwd_files_dir, backend.owner_for(slot_uid))
                backend.prepare_tree(work_dir)
            run_env = backend.default_env(work_dir)
            run_env.update(user_env)
            yield (
                _Prepared(
                    run_dir=run_dir,
                    work_dir=work_dir,
                    env=run_env,
                    payload=payload,
                    cwd_files_dir=cwd_files_dir,
                    input_bytes=input_bytes,
                    input_entries=input_entries,
                ),
                slot_uid,
            )
        finally:
            if run_dir is not None:
                _rmtree(run_dir)
            if slot_uid is not None:
                self._uid_pool.release(slot_uid)


_PROBE_CACHE: dict[tuple[str, int], tuple[bool, str]] = {}
_PROBE_LOCK = threading.Lock()


def _probe_bwrap() -> tuple[str | None, str]:
    """(path of a working bwrap, '') or (None, reason).  A real sandboxed run is tried once per process."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return None, "bwrap not found on PATH"
    key = (os.path.realpath(bwrap), os.geteuid())
    with _PROBE_LOCK:
        if key not in _PROBE_CACHE:
            try:
                box = Sandbox("bwrap", _probe=False)
                res = box.run(["true"], limits=Limits(wall_s=20.0))
                if res.exit_code == 0:
                    _PROBE_CACHE[key] = (True, "")
                else:
                    msg = (
                        res.stderr.decode(errors="replace").strip()
                        or f"exit status {res.exit_code}, signal {res.signal}"
                    )
                    _PROBE_CACHE[key] = (False, f"bwrap does not work here: {msg}")
            except (OSError, SandboxUnavailable, subprocess.SubprocessError) as exc:
                _PROBE_CACHE[key] = (False, f"bwrap does not work here: {exc}")
        ok, reason = _PROBE_CACHE[key]
    return (bwrap if ok else None), reason


def _probe_docker() -> tuple[Any | None, str]:
    """(docker client whose engine answered ping, '') or (None, reason)."""
    try:
        import docker  # type: ignore[import-not-found]
    except ImportError as exc:
        return None, f"the docker SDK is not installed ({exc}); pip install 'rlvr[docker]'"
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except Exception as exc:
        return None, f"no Docker engine answers: {exc}"
    return client, ""


def available_backends() -> list[str]:
    """Backends usable here, best first.  "unsafe-none" (no isolation) is always last."""
    out = []
    if _probe_bwrap()[0]:
        out.append("bwrap")
    client, _ = _probe_docker()
    if client is not None:
        out.append("docker")
        _quiet(client.close)
    out.append("unsafe-none")
    return out
