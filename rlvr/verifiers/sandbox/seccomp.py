"""The seccomp filter of every sandboxed program (bwrap runs and the warm path's children).

``_SECCOMP`` is a classic-BPF program for x86_64 and aarch64 (None elsewhere: no filter):
namespace creation (``unshare`` / ``clone`` with ``CLONE_NEW*``, ``setns``; ``clone3`` gets
``ENOSYS`` so that libc falls back to ``clone``), ``ptrace`` and its relatives, the mount API,
keyrings, ``bpf``, ``perf_event_open``, ``userfaultfd``, ``io_uring``, module and kexec loading,
SysV ``shmget``, file-system event watches (``inotify_init``/``inotify_init1``/
``inotify_add_watch``, ``fanotify_init``/``fanotify_mark`` and ``fcntl(F_NOTIFY)``) and similar
calls fail with ``EPERM``; file locks (``flock`` and the ``fcntl`` lock commands ``F_GETLK``,
``F_SETLK``, ``F_SETLKW`` and their ``F_OFD_*`` forms) fail with ``ENOLCK``; page-cache probes
and evictions (``fadvise64``, ``readahead``, ``mincore``, ``preadv2`` / ``pwritev2``,
``cachestat``) fail with ``ENOSYS`` (callers fall back as on an old kernel) and ``madvise`` with
``MADV_COLD`` or ``MADV_PAGEOUT`` with ``EPERM``; ``socket`` /
``socketpair`` of any
family but Unix, IPv4, IPv6 and netlink fail with ``EAFNOSUPPORT`` (a network namespace does
not confine every family: ``AF_VSOCK`` reaches the hypervisor and the machine's own vsock
services from any namespace); x32 calls get ``ENOSYS``; a call of another architecture's ABI
kills the process.

Watches and locks are closed because they work on *shared* inodes: the read-only trees (``/usr``,
the venv, ...) and the device nodes (``/dev/null``...) are the host's inodes in every sandbox,
so a watch saw another concurrent run open a file (a red-team run passed exact counts between
two candidates verified at the same time), and a lock one run held on such a file (``flock`` on
a read-only one, a byte-range lock on ``/dev/null``) was seen by another's ``F_GETLK`` or
failing ``LOCK_NB`` -- a covert channel between runs.  The filter cannot tell a run's private
files (``/work``, ``/tmp``) from shared ones, so locks go everywhere: a program that locks gets
``ENOLCK`` ("no locks available", what a file system without locking answers); SQLite then
needs ``:memory:`` or ``?nolock=1``.

The page cache of those shared files is a set of bits every run sees: a run can evict pages
(``fadvise`` ``DONTNEED``, ``madvise`` ``PAGEOUT``) and read the pages of its 1 bits, and another
can test each page without reading it (``mincore``, ``preadv2`` with ``RWF_NOWAIT``) -- a red
team passed a 47-byte message exactly to a candidate verified *after* the sender.  Those calls
are refused.  What remains is slower and write-once: a run can still bring pages in by reading
them, and another can tell a cached read from an uncached one by its time (8 µs against ~100 µs
measured); no call the filter could refuse is involved, and closing it would take a private copy
of the runtime's files per sandbox.
"""

from __future__ import annotations

import errno
import platform
import struct
from typing import Any

#: Socket families sandboxed programs may use: AF_UNIX, AF_INET, AF_INET6, AF_NETLINK.
SOCKET_FAMILIES = (1, 2, 10, 16)
#: fcntl commands that get ENOLCK: F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW.
FCNTL_LOCK_COMMANDS = (5, 6, 7, 36, 37, 38)
#: fcntl command that gets EPERM: F_NOTIFY (dnotify, directory watches).
F_NOTIFY = 1026
#: madvise advice that gets EPERM: MADV_COLD, MADV_PAGEOUT (they push a mapped file's pages out
#: of the host's page cache).
MADVISE_EVICTING = (20, 21)


def _seccomp_program() -> bytes | None:
    """Classic-BPF seccomp filter (see this module's docstring); None on unsupported architectures."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        arch, x32_bit = 0xC000003E, True
        nr = dict(clone=56, unshare=272, setns=308, clone3=435, socket=41, socketpair=53, fcntl=72, madvise=28)
        enolck = [73]  # flock
        enosys = [221, 187, 27, 327, 328, 451]  # fadvise64 readahead mincore preadv2 pwritev2 cachestat
        eperm = [
            101,
            165,
            166,
            155,
            250,
            248,
            249,
            298,
            321,
            323,
            425,
            426,
            427,
            304,
            303,
            246,
            320,
            175,
            313,
            176,
            103,
            163,
            167,
            168,
            169,
            172,
            173,
            179,
            212,
            153,
            428,
            429,
            430,
            431,
            432,
            433,
            442,
            308,
            161,
            310,
            311,
            438,
            29,
            253,
            254,
            294,
            300,
            301,
        ]  # ptrace mount umount2 pivot_root keyctl add_key request_key perf_event_open bpf
        #    userfaultfd io_uring_* open_by_handle_at name_to_handle_at kexec_* *module syslog
        #    acct swapon swapoff reboot iopl ioperm quotactl lookup_dcookie vhangup
        #    open_tree move_mount fsopen fsconfig fsmount fspick mount_setattr setns chroot
        #    process_vm_readv process_vm_writev pidfd_getfd shmget (SysV segments outlive
        #    their processes and are in no address space: memory no per-process limit sees)
        #    inotify_init inotify_add_watch inotify_init1 fanotify_init fanotify_mark
    elif machine in ("aarch64", "arm64"):
        arch, x32_bit = 0xC00000B7, False
        nr = dict(clone=220, unshare=97, setns=268, clone3=435, socket=198, socketpair=199, fcntl=25, madvise=233)
        enolck = [32]  # flock
        enosys = [223, 213, 232, 286, 287, 451]  # fadvise64 readahead mincore preadv2 pwritev2 cachestat
        eperm = [
            117,
            40,
            39,
            41,
            219,
            217,
            218,
            241,
            280,
            282,
            425,
            426,
            427,
            265,
            264,
            104,
            294,
            105,
            273,
            106,
            116,
            89,
            224,
            225,
            142,
            60,
            58,
            428,
            429,
            430,
            431,
            432,
            433,
            442,
            268,
            51,
            270,
            271,
            438,
            194,
            26,
            27,
            262,
            263,
        ]  # (aarch64 has no inotify_init: inotify_init1 and inotify_add_watch are 26 and 27)
    else:
        return None
    ns_flags = 0x00000080 | 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
    ret_allow, ret_kill = 0x7FFF0000, 0x80000000
    ret_eperm, ret_enosys = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
    ret_eafnosupport = 0x00050000 | errno.EAFNOSUPPORT
    ret_enolck = 0x00050000 | errno.ENOLCK
    # (code, jt-label, jf-label, k); labels are resolved to relative jumps below.
    ld_abs, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    prog: list[tuple[int, Any, Any, int]] = [
        (ld_abs, 0, 0, 4),  # seccomp_data.arch
        (jeq, 1, 0, arch),
        (ret, 0, 0, ret_kill),
        (ld_abs, 0, 0, 0),  # seccomp_data.nr
    ]
    if x32_bit:
        prog.append((jge, "enosys", 0, 0x40000000))
    special = {
        **dict.fromkeys(eperm, "eperm"),
        **dict.fromkeys(enolck, "enolck"),
        **dict.fromkeys(enosys, "enosys"),
        nr["fcntl"]: "fcntlcheck",
        nr["madvise"]: "madvisecheck",
        nr["clone3"]: "enosys",
        nr["clone"]: "nscheck",
        nr["unshare"]: "nscheck",
        nr["socket"]: "familycheck",
        nr["socketpair"]: "familycheck",
    }
    labels: dict[str, int] = {}

    def search(numbers: list[int]) -> None:
        """A binary search over the syscall numbers that are not simply allowed: a handful of
        comparisons per call, where a flat list takes one per number.  (The kernel runs the
        filter for every syscall number when it installs it, to find the ones it always allows:
        with a flat list that cost about 0.05 ms of CPU per sandboxed process.)"""
        if len(numbers) <= 4:
            for number in numbers:
                prog.append((jeq, special[number], 0, number))
            prog.append((ret, 0, 0, ret_allow))
            return
        middle = len(numbers) // 2
        upper = f"from {numbers[middle]}"
        prog.append((jge, upper, 0, numbers[middle]))
        search(numbers[:middle])
        labels[upper] = len(prog)
        search(numbers[middle:])

    search(sorted(special))
    labels["nscheck"] = len(prog)
    prog.append((ld_abs, 0, 0, 16))  # low 32 bits of args[0] (little endian)
    prog.append((jset, "eperm", 0, ns_flags))
    prog.append((ret, 0, 0, ret_allow))
    labels["familycheck"] = len(prog)
    prog.append((ld_abs, 0, 0, 16))  # the family: args[0] is an int (the upper half is ignored by the kernel)
    for family in SOCKET_FAMILIES:
        prog.append((jeq, "allow", 0, family))
    prog.append((ret, 0, 0, ret_eafnosupport))
    labels["fcntlcheck"] = len(prog)
    prog.append((ld_abs, 0, 0, 24))  # the command: args[1] is an unsigned int (the upper half is ignored)
    for command in FCNTL_LOCK_COMMANDS:
        prog.append((jeq, "enolck", 0, command))
    prog.append((jeq, "eperm", 0, F_NOTIFY))
    prog.append((ret, 0, 0, ret_allow))
    labels["madvisecheck"] = len(prog)
    prog.append((ld_abs, 0, 0, 32))  # the advice: args[2] is an int (the upper half is ignored)
    for advice in MADVISE_EVICTING:
        prog.append((jeq, "eperm", 0, advice))
    labels["allow"] = len(prog)
    prog.append((ret, 0, 0, ret_allow))
    labels["eperm"] = len(prog)
    prog.append((ret, 0, 0, ret_eperm))
    labels["enolck"] = len(prog)
    prog.append((ret, 0, 0, ret_enolck))
    labels["enosys"] = len(prog)
    prog.append((ret, 0, 0, ret_enosys))
    out = bytearray()
    for i, (code, jt, jf, k) in enumerate(prog):
        jt = labels[jt] - i - 1 if isinstance(jt, str) else jt
        jf = labels[jf] - i - 1 if isinstance(jf, str) else jf
        if not (0 <= jt < 256 and 0 <= jf < 256):
            raise AssertionError("seccomp jump out of range")
        out += struct.pack("=HBBI", code, jt, jf, k)
    return bytes(out)


_SECCOMP = _seccomp_program()
