"""The disk of a bwrap run: its tmpfs ``/work``, ``/tmp`` and ``/dev/shm``, held from the host.

``_RunMounts.attach`` waits until bwrap has moved into the new root and opens the three tmpfs
roots through ``/proc/<pid 1>/root`` (no untrusted code runs yet); ``populate`` fills ``/work``
and, as root, caps ``/work``'s size (input + ``Limits.disk_mb``) and every tmpfs's inodes
(``fspick``/``fsconfig``, ``_reconfigure_tmpfs``); ``full`` says whether a cap was hit
(``disk_exceeded``).  The descriptors keep the filesystems readable after the sandbox is gone,
to collect files; closing them frees the memory.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .limits import SANDBOX_WORKDIR, Limits, SandboxUnavailable
from .procs import _close_all, _parent_pid, _pidfd_exited
from .workdir import _populate

if TYPE_CHECKING:
    from .backend import _Prepared


_FSPICK_NR, _FSCONFIG_NR = 433, 431  # same number on x86_64, aarch64 and the generic syscall table
_FSPICK_CLOEXEC, _FSPICK_EMPTY_PATH = 0x1, 0x8
_FSCONFIG_SET_STRING, _FSCONFIG_CMD_RECONFIGURE = 1, 7
_TMPFS_RECONFIGURE = {"usable": platform.machine().lower() in ("x86_64", "amd64", "aarch64", "arm64")}


def _reconfigure_tmpfs(fd: int, options: Mapping[str, str]) -> bool:
    """Change options (``size``, ``nr_inodes``) of the tmpfs whose root ``fd`` is; False if not allowed here."""
    if not _TMPFS_RECONFIGURE["usable"]:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    context = libc.syscall(
        ctypes.c_long(_FSPICK_NR),
        ctypes.c_int(fd),
        ctypes.c_char_p(b""),
        ctypes.c_uint(_FSPICK_CLOEXEC | _FSPICK_EMPTY_PATH),
    )
    if context < 0:
        err = ctypes.get_errno()
        if err in (errno.EPERM, errno.ENOSYS, errno.EACCES):
            _TMPFS_RECONFIGURE["usable"] = False  # not root here (or an old kernel): stop trying
        return False
    try:
        for key, value in options.items():
            if (
                libc.syscall(
                    ctypes.c_long(_FSCONFIG_NR),
                    ctypes.c_int(context),
                    ctypes.c_uint(_FSCONFIG_SET_STRING),
                    ctypes.c_char_p(key.encode()),
                    ctypes.c_char_p(value.encode()),
                    ctypes.c_int(0),
                )
                < 0
            ):
                return False
        return (
            libc.syscall(
                ctypes.c_long(_FSCONFIG_NR),
                ctypes.c_int(context),
                ctypes.c_uint(_FSCONFIG_CMD_RECONFIGURE),
                None,
                None,
                ctypes.c_int(0),
            )
            == 0
        )
    finally:
        os.close(context)


def _filesystem_full(fd: int) -> bool:
    """Every block or every inode of the filesystem of ``fd`` is in use (the next write gets ENOSPC)."""
    try:
        st = os.fstatvfs(fd)
    except OSError:
        return False
    return st.f_bavail == 0 or (st.f_files > 0 and st.f_favail == 0)


def _unlink_entries(directory: int) -> list[str]:
    """Remove every entry of the open ``directory`` but its subdirectories (symbolic links
    removed, never followed); the names of those subdirectories."""
    with os.scandir(directory) as entries:
        listed = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
    for name, is_dir in listed:
        if not is_dir:
            os.unlink(name, dir_fd=directory)
    return [name for name, is_dir in listed if is_dir]


def _remove_below(root: int) -> None:
    """Remove everything below the directory ``root`` (open), depth first, holding one directory
    open at a time (a tree may be thousands of levels deep) and going back up by ``..``: no
    process writes to the tree any more, and it holds no mount."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    directory = os.open(".", flags, dir_fd=root)
    try:
        waiting = _unlink_entries(directory)  # subdirectories of ``directory`` still to remove
        above: list[tuple[str, list[str]]] = []  # per directory above: this one's name in it, its waiting
        while True:
            if waiting:
                name = waiting.pop()
                inner = os.open(name, flags | os.O_NOFOLLOW, dir_fd=directory)
                os.close(directory)
                directory = inner
                above.append((name, waiting))
                waiting = _unlink_entries(directory)
            elif above:
                name, waiting = above.pop()
                outer = os.open("..", flags, dir_fd=directory)
                os.close(directory)
                directory = outer
                os.rmdir(name, dir_fd=directory)
            else:
                return
    finally:
        os.close(directory)


class _RunMounts:
    """The tmpfs filesystems of one bwrap run (``/work``, ``/tmp``, ``/dev/shm``), held from the host.

    bwrap mounts them and then waits on ``--block-fd``; the host opens their roots through
    ``/proc/<pid 1>/root`` (no untrusted code runs yet, so the paths are what bwrap made),
    fills ``/work``, caps the inodes, and lets the program start.  The descriptors keep the
    filesystems readable after the sandbox's mount namespace is gone (to collect files and
    see whether a cap was hit); closing them frees the memory.
    """

    READY_TIMEOUT_S = 10.0

    def __init__(self, work_fd: int, other_fds: list[int]) -> None:
        self.work_fd = work_fd
        self.other_fds = other_fds
        self.inodes_capped = False

    @classmethod
    def attach(cls, child_pid: int, bwrap_pid: int, pidfd: int) -> _RunMounts | None:
        """Wait until the sandbox's pid ``child_pid`` has its new root, then open its tmpfs roots.

        None if it exited first (bwrap failed; its stderr says why)."""
        root = f"/proc/{child_pid}/root"
        host_root = os.stat("/")
        end = time.monotonic() + cls.READY_TIMEOUT_S
        while True:
            try:
                new_root, work = os.stat(root), os.stat(root + SANDBOX_WORKDIR)
                # before bwrap's pivots /proc/PID/root is the host's root or bwrap's staging tmpfs
                # (which has no work dir); afterwards it is the new root, /work a mount of its own
                if (new_root.st_dev, new_root.st_ino) != (
                    host_root.st_dev,
                    host_root.st_ino,
                ) and work.st_dev != new_root.st_dev:
                    break
            except OSError:
                pass
            if time.monotonic() > end:
                raise SandboxUnavailable(f"bwrap did not finish setting up within {cls.READY_TIMEOUT_S:.0f} s")
            if _pidfd_exited(pidfd):
                return None
            time.sleep(0.0003)
        opened: list[int] = []
        try:
            opened.append(os.open(root + SANDBOX_WORKDIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
            for extra in ("/tmp", "/dev/shm"):
                opened.append(os.open(root + extra, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
            # the pid was bwrap's child when we looked, and is still alive: these are its mounts
            if _parent_pid(child_pid) != bwrap_pid or _pidfd_exited(pidfd):
                _close_all(opened)
                return None
        except OSError:
            _close_all(opened)
            if _pidfd_exited(pidfd):
                return None
            raise
        return cls(opened[0], opened[1:])

    def populate(self, prep: _Prepared, owner: tuple[int, int] | None, limits: Limits, cap_inodes: bool) -> None:
        _populate(f"/proc/self/fd/{self.work_fd}", prep.payload, prep.cwd_files_dir, owner)
        if not cap_inodes:
            return
        st = os.fstatvfs(self.work_fd)
        used_bytes = (st.f_blocks - st.f_bfree) * st.f_frsize
        work = {
            "size": str(used_bytes + (limits.disk_mb << 20)),
            "nr_inodes": str(st.f_files - st.f_ffree + limits.disk_files),
        }
        capped = _reconfigure_tmpfs(self.work_fd, work)
        for fd in self.other_fds:
            st = os.fstatvfs(fd)
            capped = capped and _reconfigure_tmpfs(fd, {"nr_inodes": str(st.f_files - st.f_ffree + limits.disk_files)})
        self.inodes_capped = capped

    def full(self) -> bool:
        return any(_filesystem_full(fd) for fd in (self.work_fd, *self.other_fds))

    def empty(self) -> bool:
        """Remove everything below the three roots, and their extended attributes (on the warm
        path their mounts stay, under a later run's, in a mount namespace the zygote reuses: what
        they hold would stay in memory and charged to the run's memory cgroup).  Whatever the
        run left -- deep trees, links, FIFOs, files of any mode -- goes: at most the run's inode
        caps (``Limits.disk_files`` per tmpfs) of entries, about as many system calls as the run
        spent making them.  False only where a removal failed; call only once every process of
        the run is gone."""
        try:
            for fd in (self.work_fd, *self.other_fds):
                directory = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
                try:
                    for name in os.listxattr(directory):
                        os.removexattr(directory, name)
                    _remove_below(directory)
                finally:
                    os.close(directory)
            return True
        except OSError:
            return False

    def close(self) -> None:
        fds = [self.work_fd, *self.other_fds]
        self.work_fd, self.other_fds = -1, []
        _close_all([fd for fd in fds if fd >= 0])
