"""The docker backend (docker SDK, local engine): one container per run.

No network, read-only rootfs, uid 65534, no capabilities, ``no-new-privileges``, container-wide
memory (no swap) and pids caps, rlimits as ulimits, size- and inode-capped tmpfs ``/work``,
``/tmp`` and ``/dev/shm``; the input is staged in a host dir, bind-mounted read-only and copied
into ``/work`` before the program starts.  No sessions and no collected files (``/work`` goes
with the container); ``OOMKilled`` is reported as an OOM kill.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .backend import _Backend, _Prepared
from .limits import NOBODY, OUTPUT_KILL_FACTOR, SANDBOX_WORKDIR, Limits, SandboxUnavailable
from .procs import _quiet
from .result import _Capture, _decode_runtime_status, _Outcome
from .workdir import _chmod_tree_world_writable

log = logging.getLogger(__name__)

_DOCKER_INPUT = "/.rlvr-input"
_DOCKER_ENFORCEMENT = {"memory": "docker", "disk": "docker-tmpfs", "inodes": "capped"}


class _DockerBackend(_Backend):
    """Docker engine via the docker SDK (local engine): whole-container memory (no swap), pids,
    and tmpfs ``/work``, ``/tmp``, ``/dev/shm`` caps; the input is staged in a host dir,
    bind-mounted read-only and copied into ``/work`` before the program starts."""

    name = "docker"

    def __init__(self, client: Any, image: str, ro_binds: Sequence[str]) -> None:
        self.client = client
        self.image = image
        for extra in ro_binds:
            if not os.path.isabs(extra) or not os.path.exists(extra):
                raise ValueError(f"ro_binds entry {extra!r} must be an existing absolute path")
        self.ro_binds = tuple(os.path.realpath(p) for p in ro_binds)
        try:
            client.images.get(image)
        except Exception as exc:  # docker.errors.ImageNotFound
            if not _is_not_found(exc):
                raise SandboxUnavailable(f"docker: cannot inspect image {image!r}: {exc}") from exc
            try:
                client.images.pull(image)
            except Exception as pull_exc:
                raise SandboxUnavailable(f"docker: image {image!r} not present and cannot be pulled: {pull_exc}") from pull_exc

    @property
    def python(self) -> str:
        return "python3"

    def owner_for(self, slot_uid: int | None) -> tuple[int, int] | None:
        return (NOBODY, NOBODY) if os.geteuid() == 0 else None

    def prepare_tree(self, work_dir: str) -> None:
        if os.geteuid() != 0:
            _chmod_tree_world_writable(work_dir)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass

    def execute(self, argv: list[str], prep: _Prepared, stdin: bytes, limits: Limits, slot_uid: int | None,
                wanted: Sequence[tuple[str, tuple[str, ...]]] = ()) -> _Outcome:
        if wanted:
            raise ValueError("the docker backend cannot collect files (its /work is a tmpfs gone with the container)")
        # /work is a size- and inode-capped tmpfs; the staged input is copied in before the program starts
        volumes: dict[str, dict[str, str]] = {prep.work_dir: {"bind": _DOCKER_INPUT, "mode": "ro"}}
        for path in self.ro_binds:
            volumes[path] = {"bind": path, "mode": "ro"}
        script = f'cp -a {_DOCKER_INPUT}/. {SANDBOX_WORKDIR}/ || exit 125\nexec "$@"'
        if stdin:
            stdin_path = os.path.join(prep.run_dir, "stdin")
            with open(stdin_path, "wb") as fh:
                fh.write(stdin)
            os.chmod(stdin_path, 0o644)
            volumes[stdin_path] = {"bind": "/.rlvr-stdin", "mode": "ro"}
            script += " < /.rlvr-stdin"
        command = ["/bin/sh", "-c", script, "sh", *argv]
        cpu = max(1, math.ceil(limits.cpu_s))
        fsize = limits.file_mb << 20
        work_bytes = prep.input_bytes + (limits.disk_mb << 20)
        work_inodes = prep.input_entries + limits.disk_files
        create_kwargs = dict(
            command=command,
            user=f"{NOBODY}:{NOBODY}",
            working_dir=SANDBOX_WORKDIR,
            environment=dict(prep.env),
            hostname="sandbox",
            network_mode="none",  # (network_disabled=True breaks container start on some engines)
            read_only=True,
            tmpfs={
                "/tmp": f"rw,nosuid,nodev,size={limits.tmp_mb}m,nr_inodes={limits.disk_files},mode=1777",
                SANDBOX_WORKDIR: f"rw,nosuid,nodev,size={work_bytes},nr_inodes={work_inodes},mode=1777",
            },
            shm_size=f"{limits.tmp_mb}m",
            volumes=volumes,
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",
            pids_limit=limits.processes,
            nano_cpus=1_000_000_000,
            ulimits=[
                {"name": "cpu", "soft": cpu, "hard": cpu + 1},
                {"name": "fsize", "soft": fsize, "hard": fsize},
                {"name": "nofile", "soft": limits.open_files, "hard": limits.open_files},
                {"name": "core", "soft": 0, "hard": 0},
            ],
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            init=True,
            labels={"rlvr.sandbox": "1"},
            detach=True,
            stdin_open=False,
            tty=False,
        )
        out, err = _Capture(limits.output_bytes), _Capture(limits.output_bytes)
        flood_limit = limits.output_bytes * OUTPUT_KILL_FACTOR
        flags = {"output_killed": False}
        container = self.client.containers.create(self.image, **create_kwargs)
        try:
            stream = container.attach(stdout=True, stderr=True, stream=True, logs=False, demux=True)

            def pump() -> None:
                try:
                    for chunk_out, chunk_err in stream:
                        if chunk_out:
                            out.feed(chunk_out)
                        if chunk_err:
                            err.feed(chunk_err)
                        if (out.total > flood_limit or err.total > flood_limit) and not flags["output_killed"]:
                            flags["output_killed"] = True
                            _quiet(container.kill)
                except Exception as exc:  # stream closed under us
                    log.debug("docker attach stream ended: %s", exc)

            reader = threading.Thread(target=pump, name="rlvr-sandbox-docker-attach", daemon=True)
            reader.start()
            t0 = time.monotonic()
            container.start()
            timed_out = False
            try:
                result = container.wait(timeout=limits.wall_s)
            except Exception:  # requests ReadTimeout / ConnectionError at the deadline
                timed_out = True
                _quiet(container.kill)
                result = container.wait(timeout=30)
            wall = time.monotonic() - t0
            reader.join(timeout=5.0)
            code = int(result.get("StatusCode", -1)) if isinstance(result, Mapping) else -1
            oom = False
            try:
                container.reload()
                oom = bool(container.attrs.get("State", {}).get("OOMKilled", False))
            except Exception:
                pass
            if timed_out or flags["output_killed"]:
                exit_code, sig = None, signal.SIGKILL
            else:
                exit_code, sig = _decode_runtime_status(code, None)
            return _Outcome(
                stdout=out, stderr=err, status=None, exit_code=exit_code, signal=sig,
                timed_out=timed_out, output_killed=flags["output_killed"], wall_s=wall, cpu_s=0.0,
                oom_killed=oom, enforcement=dict(_DOCKER_ENFORCEMENT, memory_bound_mb=limits.memory_mb),
            )
        finally:
            _quiet(lambda: container.remove(force=True))


def _is_not_found(exc: BaseException) -> bool:
    return any(cls.__name__ in ("NotFound", "ImageNotFound") for cls in type(exc).__mro__)
