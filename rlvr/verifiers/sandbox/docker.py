"""The docker backend: one container per run (a local engine; images are built here, never pulled).

Isolation of every container: ``--network none``, read-only root, uid/gid 65534, every
capability dropped, ``no-new-privileges``, container-wide memory (``memory`` = ``memory-swap``:
no swap), pids and CPU (one core) limits, rlimits as ulimits, and size- and inode-capped tmpfs
``/work``, ``/tmp`` and ``/dev/shm``.  pid 1 is a small init of ours (``INIT_SCRIPT``; the stub
in the warm pool) that starts the program, lets go of the container's stdio (so no process
holds those pipes for the program to reopen through ``/proc/1/fd``) and exits with the
program's status as soon as it ends, which ends the pid namespace and whatever the program
left behind.

``/work`` of a cold run, as root: a tmpfs the host mounts (size: the input plus
``Limits.disk_mb``; inodes: the input's plus ``Limits.disk_files``), fills and bind-mounts
read-write, held through a descriptor, so the host reads collected files from it after the
container is gone and sees whether a cap was hit (``disk_exceeded``), as with bwrap.  Not
root: the input is staged in a host dir, bind-mounted read-only and copied into the
container's own tmpfs ``/work`` before the program starts (``/bin/sh``, ``find`` and ``cp`` are
all an image needs); no collected files then.  Docker gives a tmpfs mounted on an image
directory that directory's mode, so an image's ``/work``, if it has one, must be mode 1777
(the base image's is).

A cold run is created through the engine's API (docker SDK) and started by the
``docker start -a -i`` CLI process, whose stdin, stdout and stderr are the run's: the CLI is
the run's runtime process, so :class:`~.sessions.Session` and ``_supervise`` treat it like
bwrap (pidfd, deadline, kill escalation).  ``kill`` kills the container through the engine
(SIGKILL to pid 1, so every process of it dies, daemons included); ``force_kill`` removes it and
kills the CLI; ``release`` always removes the container, and a watchdog thread kills any
container still running ``BACKSTOP_S`` after its wall deadline, whoever forgot it.  Every
container carries the labels ``rlvr.sandbox=1`` and ``rlvr.sandbox.owner=<pid>``; containers of
owners that are gone are removed when the next backend starts.  ``OOMKilled`` is read before
removal (the container's cgroup is gone once it exits, so a cold run has no peak usage).
"""

from __future__ import annotations

import ctypes
import heapq
import logging
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from .backend import _Backend, _Prepared, _Spawned
from .limits import NOBODY, SANDBOX_WORKDIR, Limits, SandboxUnavailable
from .procs import _pid_alive, _quiet
from .result import _decode_runtime_status, _Outcome
from .tmpfs import _filesystem_full
from .workdir import _chmod_tree_world_writable, _populate

log = logging.getLogger(__name__)

_DOCKER_INPUT = "/.rlvr-input"
_DOCKER_ENFORCEMENT = {"memory": "docker", "disk": "docker-tmpfs", "inodes": "capped"}
LABEL = "rlvr.sandbox"
OWNER_LABEL = "rlvr.sandbox.owner"
#: pid 1 of a cold container: starts the program on the container's stdio, lets go of that stdio
#: itself (nothing of ours holds the pipes for the program to reopen through /proc/1/fd), and
#: exits with the program's status (128+N for signal N) as soon as the program ends -- which
#: ends the pid namespace, and with it everything the program left behind.
INIT_SCRIPT = 'exec 3<&0\n"$@" <&3 3<&- &\nchild=$!\nexec 3<&- </dev/null >/dev/null 2>&1\nwait "$child"\nexit $?'
#: Seconds past a run's wall deadline after which the watchdog kills its container regardless.
BACKSTOP_S = 5.0


class _DockerBackend(_Backend):
    """Docker engine via the docker SDK (create, kill, inspect, remove) and the docker CLI
    (``start -a -i``: the run's stdio); see the module docstring."""

    name = "docker"

    def __init__(self, client: Any, image: str, ro_binds: Sequence[str], tmp_root: str) -> None:
        self.client = client
        self.image = image
        self.tmp_root = tmp_root
        # as root, /work is a host-held tmpfs filled here (no staging dir); else staged and copied in
        self.host_tmpfs = os.geteuid() == 0
        self.host_work_dir = not self.host_tmpfs
        self.can_collect = self.host_tmpfs
        self.cli = shutil.which("docker")
        if self.cli is None:
            raise SandboxUnavailable("docker: the docker CLI is not on PATH (apt-get install docker.io)")
        for extra in ro_binds:
            if not os.path.isabs(extra) or not os.path.exists(extra):
                raise ValueError(f"ro_binds entry {extra!r} must be an existing absolute path")
        self.ro_binds = tuple(os.path.realpath(p) for p in ro_binds)
        try:
            client.api.inspect_image(image)
        except Exception as exc:  # docker.errors.ImageNotFound
            if _is_not_found(exc):
                raise SandboxUnavailable(
                    f"docker: image {image!r} is not present (images are built locally, never pulled: "
                    "run `rlvr sandbox build-image` or scripts/setup.sh)"
                ) from exc
            raise SandboxUnavailable(f"docker: cannot inspect image {image!r}: {exc}") from exc
        self.watchdog = _Watchdog(self.kill_container)
        _sweep_orphans(client)

    @property
    def python(self) -> str:
        return "python3"

    def owner_for(self, slot_uid: int | None) -> tuple[int, int] | None:
        return (NOBODY, NOBODY) if os.geteuid() == 0 else None

    def prepare_tree(self, work_dir: str) -> None:
        if os.geteuid() != 0:
            _chmod_tree_world_writable(work_dir)

    def close(self) -> None:
        self.watchdog.stop()
        _quiet(self.client.close)

    def decode_status(self, outcome: _Outcome) -> _Outcome:
        if not (outcome.timed_out or outcome.output_killed):
            outcome.exit_code, outcome.signal = _decode_runtime_status(outcome.exit_code, outcome.signal)
        return outcome

    # -- containers
    def create_container(
        self,
        command: list[str],
        limits: Limits,
        *,
        work_bytes: int,
        work_inodes: int,
        env: dict[str, str],
        binds: dict[str, dict[str, str]] | None = None,
        ulimits: Limits | None = None,
    ) -> str:
        """Create (not start) a container with every isolation setting; its id.  ``ulimits``:
        the limits whose rlimits the container gets (default ``limits``); ``work_bytes=0``:
        ``/work`` is one of ``binds``, not a tmpfs of the container."""
        import docker.types  # type: ignore[import-not-found]

        rl = ulimits or limits
        cpu = max(1, math.ceil(rl.cpu_s))
        fsize = rl.file_mb << 20
        volumes = dict(binds or {})
        for path in self.ro_binds:
            volumes[path] = {"bind": path, "mode": "ro"}
        api = self.client.api
        host_config = api.create_host_config(
            binds=volumes,
            network_mode="none",
            read_only=True,
            tmpfs={
                "/tmp": f"rw,nosuid,nodev,size={limits.tmp_mb}m,nr_inodes={limits.disk_files},mode=1777",
                **(
                    {SANDBOX_WORKDIR: f"rw,nosuid,nodev,size={work_bytes},nr_inodes={work_inodes},mode=1777"}
                    if work_bytes
                    else {}
                ),
            },
            shm_size=f"{limits.tmp_mb}m",
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            pids_limit=limits.processes,
            nano_cpus=1_000_000_000,
            ulimits=[
                docker.types.Ulimit(name="cpu", soft=cpu, hard=cpu + 1),
                docker.types.Ulimit(name="fsize", soft=fsize, hard=fsize),
                docker.types.Ulimit(name="nofile", soft=rl.open_files, hard=rl.open_files),
                docker.types.Ulimit(name="core", soft=0, hard=0),
            ],
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
        )
        created = api.create_container(
            self.image,
            command=command,
            user=f"{NOBODY}:{NOBODY}",
            working_dir=SANDBOX_WORKDIR,
            environment=dict(env),
            hostname="sandbox",
            labels={LABEL: "1", OWNER_LABEL: str(os.getpid())},
            # detach=False: StdinOnce and attached stdio
            host_config=host_config,
            stdin_open=True,
            tty=False,
            detach=False,
            name=f"rlvr-sandbox-{uuid.uuid4().hex[:16]}",
        )
        return created["Id"]

    def start_attached(
        self, container_id: str, stdin_fd: int | None, stdout_fd: int, stderr_fd: int
    ) -> subprocess.Popen:
        """``docker start -a -i``: start the container with these descriptors as its stdio."""
        return subprocess.Popen(
            [self.cli, "start", "--attach", "--interactive", container_id],
            stdin=stdin_fd if stdin_fd is not None else subprocess.DEVNULL,
            stdout=stdout_fd,
            stderr=stderr_fd,
            close_fds=True,
            env=_cli_env(),
        )

    def kill_container(self, container_id: str) -> None:
        try:
            self.client.api.kill(container_id)
        except Exception as exc:  # not running any more, or already removed
            log.debug("docker kill %s: %s", container_id[:12], exc)

    def remove_container(self, container_id: str) -> None:
        try:
            self.client.api.remove_container(container_id, force=True, v=True)
        except Exception as exc:
            if not _is_not_found(exc) and "already in progress" not in str(exc):
                log.warning("rlvr sandbox: could not remove container %s: %s", container_id[:12], exc)

    def spawned(
        self,
        container_id: str,
        proc: subprocess.Popen,
        t0: float,
        limits: Limits,
        release_async: Any = None,
        work: _HostTmpfs | None = None,
    ) -> _DockerSpawned:
        """The ``_Spawned`` of a started container: kill through the engine, removal on release
        (``release_async``: hand the removal to the caller's thread instead; ``work``: unmounted
        after the removal), watchdog armed."""
        self.watchdog.arm(container_id, t0 + limits.wall_s + BACKSTOP_S)

        def force_kill() -> None:
            self.remove_container(container_id)
            _quiet(proc.kill)

        def release() -> None:
            self.watchdog.disarm(container_id)
            if release_async is not None:
                release_async(container_id)
            else:
                self.remove_container(container_id)
            if work is not None:
                work.close()

        return _DockerSpawned(
            proc,
            t0,
            kill=lambda: self.kill_container(container_id),
            force_kill=force_kill,
            on_exit=lambda: None,
            release=release,
            enforcement=dict(_DOCKER_ENFORCEMENT, memory_bound_mb=limits.memory_mb),
            container_id=container_id,
            backend=self,
            work=work,
        )

    # -- the cold path
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
        work = None
        if self.host_tmpfs:
            work = _HostTmpfs(
                self.tmp_root, prep.input_bytes + (limits.disk_mb << 20), prep.input_entries + limits.disk_files
            )
        try:
            if work is not None:
                _populate(work.path, prep.payload, prep.cwd_files_dir, (NOBODY, NOBODY))
                binds, work_bytes, script = {work.path: {"bind": SANDBOX_WORKDIR, "mode": "rw"}}, 0, INIT_SCRIPT
            else:
                # cp's -p on /work itself (root's tmpfs root) would fail: copy its entries, not the dir
                script = (
                    f"cd {_DOCKER_INPUT} && find . -mindepth 1 -maxdepth 1 "
                    f"-exec cp -R -p -t {SANDBOX_WORKDIR}/ -- {{}} + || exit 125\n"
                    f"cd {SANDBOX_WORKDIR} || exit 125\n{INIT_SCRIPT}"
                )
                binds = {prep.work_dir: {"bind": _DOCKER_INPUT, "mode": "ro"}}
                work_bytes = prep.input_bytes + (limits.disk_mb << 20)
            command = ["/bin/sh", "-c", script, "sh", *argv]
            container_id = self.create_container(
                command,
                limits,
                work_bytes=work_bytes,
                work_inodes=prep.input_entries + limits.disk_files,
                env=prep.env,
                binds=binds,
            )
        except BaseException:
            if work is not None:
                work.close()
            raise
        try:
            t0 = time.monotonic()
            proc = self.start_attached(container_id, stdin_fd, stdout_fd, stderr_fd)
        except BaseException:
            self.remove_container(container_id)
            if work is not None:
                work.close()
            raise
        return self.spawned(container_id, proc, t0, limits, work=work)


class _DockerSpawned(_Spawned):
    """A started container: also reads ``OOMKilled`` before removal (its cgroup is gone by then),
    and, with a host-held ``/work``, whether it filled up and the files to collect."""

    def __init__(
        self, *args: Any, container_id: str, backend: _DockerBackend, work: _HostTmpfs | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.container_id = container_id
        self.backend = backend
        self.work = work

    def collect(
        self, wanted: Sequence[tuple[str, tuple[str, ...]]], cap: int, work_dir: str | None
    ) -> tuple[dict[str, bytes], bool]:
        if self.work is None:
            raise ValueError("this docker run cannot collect files (its /work is the container's own tmpfs)")
        return super().collect(wanted, cap, self.work.path)

    def account(self, outcome: _Outcome) -> _Outcome:
        try:
            state = self.backend.client.api.inspect_container(self.container_id).get("State", {})
            outcome.oom_killed = outcome.oom_killed or bool(state.get("OOMKilled", False))
        except Exception as exc:
            log.debug("docker inspect %s: %s", self.container_id[:12], exc)
        if self.work is not None:
            outcome.disk_exceeded = self.work.full()
        outcome.enforcement = dict(self.enforcement)
        return outcome


class _HostTmpfs:
    """A size- and inode-capped tmpfs the host mounts (root only) and binds as a run's ``/work``,
    held through a descriptor: readable after the container is gone; ``close`` unmounts it."""

    def __init__(self, parent: str, size: int, inodes: int) -> None:
        self.path = tempfile.mkdtemp(prefix="docker-work-", dir=parent)
        options = f"size={size},nr_inodes={inodes},mode=0755,uid={NOBODY},gid={NOBODY}".encode()
        if _libc().mount(b"tmpfs", self.path.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, options) != 0:
            err = ctypes.get_errno()
            os.rmdir(self.path)
            raise OSError(err, f"mounting the run's /work tmpfs failed: {os.strerror(err)}")
        self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)

    def full(self) -> bool:
        return _filesystem_full(self.fd)

    def close(self) -> None:
        if self.fd < 0:
            return
        os.close(self.fd)
        self.fd = -1
        _libc().umount2(self.path.encode(), _MNT_DETACH)
        _quiet(lambda: os.rmdir(self.path))


_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 2, 4, 2


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


class _Watchdog:
    """One thread that kills each armed container at its backstop time unless disarmed first."""

    def __init__(self, kill: Any) -> None:
        self._kill = kill
        self._heap: list[tuple[float, str]] = []
        self._armed: dict[str, float] = {}
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def arm(self, container_id: str, at: float) -> None:
        with self._cond:
            self._armed[container_id] = at
            heapq.heappush(self._heap, (at, container_id))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="rlvr-sandbox-docker-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self, container_id: str) -> None:
        with self._cond:
            self._armed.pop(container_id, None)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    while self._heap and self._armed.get(self._heap[0][1]) != self._heap[0][0]:
                        heapq.heappop(self._heap)  # disarmed or re-armed
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        _, due = heapq.heappop(self._heap)
                        self._armed.pop(due, None)
                        break
                    self._cond.wait(None if not self._heap else self._heap[0][0] - now)
                else:
                    return
            log.warning("rlvr sandbox: container %s outlived its deadline; killing it", due[:12])
            self._kill(due)


def _sweep_orphans(client: Any) -> None:
    """Remove sandbox containers whose owning process is gone (a crashed or killed run)."""
    try:
        listed = client.api.containers(all=True, filters={"label": LABEL}, quiet=False)
    except Exception as exc:
        log.debug("docker: listing sandbox containers failed: %s", exc)
        return
    for entry in listed:
        owner = (entry.get("Labels") or {}).get(OWNER_LABEL, "")
        if owner.isdigit() and not _pid_alive(int(owner)):
            _quiet(lambda cid=entry["Id"]: client.api.remove_container(cid, force=True, v=True))


def _cli_env() -> dict[str, str]:
    """The docker CLI's environment: where the engine is, nothing else of ours."""
    keep = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_CONTEXT")
    return {key: os.environ[key] for key in keep if key in os.environ}


def _is_not_found(exc: BaseException) -> bool:
    return any(cls.__name__ in ("NotFound", "ImageNotFound") for cls in type(exc).__mro__)
