"""Host uids for runs of bwrap as root: ``uid_base + slot`` (default ``DEFAULT_UID_BASE``), at
most ``MAX_SLOTS`` slots.

A slot belongs to one run at a time, across threads (the pool's free list) and processes
(``flock`` on one lock file per uid, in a directory every process of the host uses:
``$RLVR_SANDBOX_LOCK_DIR``, else ``/run/lock/rlvr-sandbox-uids`` as root), so ``RLIMIT_NPROC``
-- counted by the kernel per real uid -- is a per-run budget.  A process keeps the locks it took
until it exits and reuses those slots; ``_uid_pool(base)`` is this process's pool for a range.
A forked child starts with empty pools: the slots its parent holds stay the parent's (the child's
copies of their lock descriptors are closed, which leaves the parent's locks in place), and the
child locks slots of its own. Before, parent and children handed out the same uid to runs that
overlapped, sharing one ``RLIMIT_NPROC`` budget: one run's 63 sleeping processes failed honest
runs in the other processes (red team s15 A1).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading

from .limits import SandboxUnavailable
from .workdir import _private_dir

#: First host uid of the per-slot uid range used when running bwrap as root.
DEFAULT_UID_BASE = 2_000_000_000
#: Maximum number of concurrently running sandboxes per uid range.
MAX_SLOTS = 1024


class _UidPool:
    """Hands out host uids ``base + slot``, exclusive across threads and processes.

    Cross-process exclusivity uses ``flock`` on one lock file per uid; a process
    keeps the locks it acquired (and reuses those slots) until it exits.
    """

    def __init__(self, base: int, lock_dir: str) -> None:
        self.base = base
        self.lock_dir = lock_dir
        self._lock = threading.Lock()
        self._free: list[int] = []
        self._held: dict[int, int] = {}  # uid -> lock fd

    def acquire(self) -> int:
        with self._lock:
            if self._free:
                return self._free.pop()
            _private_dir(self.lock_dir)
            for slot in range(MAX_SLOTS):
                uid = self.base + slot
                if uid in self._held:
                    continue
                fd = os.open(os.path.join(self.lock_dir, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                self._held[uid] = fd
                return uid
        raise SandboxUnavailable(f"all {MAX_SLOTS} sandbox uids starting at {self.base} are in use")

    def release(self, uid: int) -> None:
        """Give ``uid`` back for reuse; one this process does not hold (a run started before a
        fork and ended in the child) is not this process's to hand out, and is ignored."""
        with self._lock:
            if uid in self._held:
                self._free.append(uid)


def _lock_dir() -> str:
    """Where per-uid lock files live; must be the same for every process on the host."""
    if os.environ.get("RLVR_SANDBOX_LOCK_DIR"):
        return os.environ["RLVR_SANDBOX_LOCK_DIR"]
    if os.geteuid() == 0 and os.path.isdir("/run/lock"):
        return "/run/lock/rlvr-sandbox-uids"
    return os.path.join(tempfile.gettempdir(), f"rlvr-sandbox-uids-{os.geteuid()}")


_UID_POOLS: dict[int, _UidPool] = {}
_UID_POOLS_LOCK = threading.Lock()


def _uid_pool(base: int) -> _UidPool:
    with _UID_POOLS_LOCK:
        pool = _UID_POOLS.get(base)
        if pool is None:
            pool = _UID_POOLS[base] = _UidPool(base, _lock_dir())
        return pool


def _hold_slots_for_fork() -> None:
    """Before a fork: no thread is between opening a lock file and recording it (a child would
    inherit a descriptor it does not know to close: second pass R2-3)."""
    _UID_POOLS_LOCK.acquire()
    for pool in _UID_POOLS.values():
        pool._lock.acquire()


def _release_slots_after_fork() -> None:
    """In the parent after a fork: as before it."""
    for pool in _UID_POOLS.values():
        pool._lock.release()
    _UID_POOLS_LOCK.release()


def _forget_inherited_slots() -> None:
    """In a forked child: drop the parent's slots (closing only this process's copies of their
    lock descriptors) and take fresh locks (the inherited ones are held by the fork)."""
    global _UID_POOLS_LOCK
    _UID_POOLS_LOCK = threading.Lock()
    for pool in _UID_POOLS.values():
        pool._lock = threading.Lock()
        for fd in pool._held.values():
            try:
                os.close(fd)
            except OSError:
                pass
        pool._held, pool._free = {}, []


os.register_at_fork(
    before=_hold_slots_for_fork, after_in_parent=_release_slots_after_fork, after_in_child=_forget_inherited_slots
)
