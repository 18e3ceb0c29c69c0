"""The warm path's supervisor ("zygote"): runs inside a bwrap sandbox and forks one isolated child per run.

This file is shipped, compiled, into the zygote's sandbox and started there as its pid 1
(``python -I -S zygote.pyc``); it uses the standard library only (rlvr is not importable
inside).  The host side is ``rlvr.verifiers.sandbox.warm``, which describes the design; this
module is the part that runs in the sandbox.  The zygote runs only this code and the modules
the host named (imported once, before the first fork): never a candidate's code, and never
anything a verdict depends on -- it only ever sees file sizes, limits and environments.  Before
its first fork it also does what each child would otherwise do for itself (the ctypes
functions, the seccomp program, the interpreter's lazily made AST types, an empty capability
bounding set) and freezes its objects out of the garbage collector's reach, so that a child
starts with less to do and copies fewer pages.

Messages from the host are a 4-byte big-endian length and that many bytes of a ``marshal``-ed
dict (only the host writes them: the zygote and a child read them from their own end of a socket
pair whose other end only the host holds); descriptors travel with a message's first byte
(SCM_RIGHTS).  What the zygote and children send back is JSON.
Control protocol (the zygote's stdin/stdout, one Unix stream socket to the host)
    host -> zygote  first the configuration: ``{"imports": [module names], "modules": {name:
                    path of a .pyc in the zygote's work dir}, "sys_path": [...], "seccomp": hex,
                    "entry": "module:function"}``; the zygote imports all of them and answers
                    the line ``{"ready": true}`` (or ``{"ready": false, "error": ...}`` and exits).
    host -> zygote  ``{"fork": n}`` (with ``"backstop"``, below, when a run has just started,
                    and ``"cpus": [...]`` while the host keeps the zygote to one CPU: the
                    CPUs the new child takes back right after the fork)
                    with one to three descriptors: the new child's sync socket and,
                    on cgroup v1, the ``tasks`` files of the memory cgroup and (where runs get
                    one, ``cgroups``) the CPU cgroup it is to join; the zygote
                    starts a new pid namespace (its init: below), forks the child into it as
                    its pid 2, and answers the line ``{"forked": n}`` with SCM_CREDENTIALS
                    naming the child, so the host learns the child's pid in its own pid
                    namespace from the kernel.  The child is a *spare*: it joins its memory
                    cgroups itself (v1: it writes ``0``, itself, to each ``tasks`` file it was
                    given, a move that takes no host-wide lock) or the host moves it (v2), and
                    the host keeps it until a run needs it.
    host -> zygote  ``"backstop": n, "s": seconds`` (in the next fork request, or alone) when
                    spare ``n`` gets its run: the zygote kills the child if it still runs that
                    much later (no answer).
    host -> zygote  ``{"discard": n}`` when the host could not empty the tmpfs of run ``n``:
                    the zygote discards that run's mount namespace (see "Mount namespaces";
                    no answer).
Sync protocol (per child; the child holds its socket only until it drops its privileges)
    child           right after the fork: takes ``cpus`` (if given) as its CPUs, resets the
                    zygote's signal handling, enters the
                    network and mount namespaces the zygote picked for it (loopback only; no
                    other live run or spare is in them: see "Network namespaces" and "Mount
                    namespaces") and a new IPC namespace, mounts a /proc of its own pid namespace with
                    ``hidepid=invisible`` (processes the run may not trace, such as the
                    namespace's root-owned init, are not listed at all), and waits.
    host -> child   the run: ``{"uid": U, "env": {...}, "argv": [...], "rlimits": [[resource,
                    soft, hard], ...], "work": [bytes, inodes], "tmp": [bytes, inodes], "files":
                    [[path, size], ...]}`` with two descriptors (the run's stdio socket and its
                    stderr pipe), then the files' bytes.
    child           mounts fresh tmpfs ``/work``, ``/tmp`` and ``/dev/shm`` (size- and
                    inode-capped), writes the files into ``/work`` and gives it to U, sends
                    ``b"M"`` with the three tmpfs roots (the host keeps them to collect files
                    and see whether a cap was hit), then sets the rlimits, drops every
                    capability (bounding and inheritable sets included), becomes uid/gid U with
                    no supplementary groups, sets no_new_privs, installs the seccomp filter,
                    closes every descriptor but its stdio (fds 0/1: the stdio socket, fd 2: the
                    stderr pipe), clears the environment to ``env``, and only then calls the
                    entry point.  It exits with the entry's status.
    zygote -> host  when the child has exited and been reaped and its pid namespace has ended:
                    the line ``{"status": wait status, "cpu_s": user+system CPU}`` (the zygote
                    kept its own copy of the socket).
Pid namespaces: every run is pid 2 of a pid namespace of its own, so concurrent runs of one
zygote cannot see or name each other, the zygote or its spares (not in /proc, not by kill(pid,
0), not by the pids they are given).  The namespace's pid 1 is a clone of the zygote that
shares its memory (``CLONE_VM``: nothing is copied or torn down) and sleeps in libc's
``pause()`` with every signal blocked, on a small stack of its own: it never runs Python and
never reaps, so orphans of the run stay zombies until the namespace ends (as under the cold
path's ``timeout``, which reaps only its own child).  The run is the zygote's child, so its
parent is outside its namespace (``getppid()`` is 0; 1 in a cold run).  When the zygote reaps
the run it kills that init, which ends the namespace: the kernel kills whatever the run left
there and the init reaps it; the report waits for that.
Network namespaces (``_NetNamespaces``): a new one per run cost about half a millisecond of CPU
and kernel work that serialises across the host (namespace set-up and clean-up take host-wide
locks; the clean-up runs on a kernel work queue), so each zygote reuses them.  A namespace is
held by one run (or spare) from its fork until its pid namespace has ended -- no process of the
run is left anywhere -- so concurrent runs never share one (they cannot meet through loopback
ports or abstract Unix addresses).  Before a later run gets it, the zygote looks at it (through
/proc files it opened from inside it when it made it, read again from their start each time):
``/proc/net/sockstat`` must count no socket (every family, orphaned TCP sockets and Unix sockets
still in flight included), no TIME_WAIT socket and no IP fragment queue, and
``/proc/net/ip6_flowlabel`` no IPv6 flow label (a label a run made lingers up to a minute after
its socket is closed, and any user may attach to it), or it is set aside and,
still not empty ``NET_SETTLE_S`` later, discarded; and its cumulative counters
(``NET_COUNTERS``: ``/proc/net/dev``, ``snmp``, ``snmp6``, ``netstat``) must read exactly as
when the run got it, or it is discarded at once.  A run that sent, received or tried to send
anything -- even a datagram to an unreachable address, which counts ``OutNoRoutes`` -- leaves
its namespace to no one: counters are exact, per namespace and settable by a run to any value
it likes, so a later run on the slot could read them as a message (a red-team run carried a
held-out test's input that way into a later attempt's feedback).  The zygote makes each new
namespace itself: loopback up and ``NET_SETTINGS`` -- no TIME_WAIT sockets (a closed connection
leaves nothing that could hold a port), no TCP metrics cache (RTT, window and Fast Open data a
later connection would start from) -- and reads them back (a namespace where they are not in
force is never reused).
Mount namespaces (``_MountNamespaces``): a new one per run copied the sandbox's ~30 mounts,
and freeing it as the run ended waited for an expedited RCU grace period, which interrupts every
other busy CPU: two workers made 1.65x the runs of one where fork alone made 1.9x.  So each
zygote reuses them, as it does network namespaces: one is held by one run (or spare) from its
fork until its pid namespace has ended.  Each run mounts its /proc and fresh, empty tmpfs
``/work``, ``/tmp`` and ``/dev/shm`` over the earlier runs' mounts -- mounting on top, never
unmounting (which would wait for that grace period again) -- so no path reaches what an earlier
run had; the host empties those tmpfs through the roots it holds once it has collected from them
(the pages stay charged to the run's memory cgroup until then), whatever the run left in them, so
whether a namespace is reused is not the run's to choose (a later run could tell: it sees how
many mounts lie under its own).  Only where emptying fails does the host send ``discard``: the
zygote closes the namespace (as its current run ends, if it has one) and the kernel frees it --
no other process holds it: a run namespace's init shares the zygote's descriptor table
(``CLONE_FILES``), and a forked child closes its copies of the zygote's descriptors as soon as it
has entered its namespaces.  After ``MAX_RUNS_PER_MOUNT_NS`` runs a namespace is closed too.
What a later run can see of earlier ones: the hidden mounts in ``/proc/self/mountinfo`` -- their
ids, and the caps the host gave them (``/work``'s follow the size of the files the host wrote,
rounded up to the MiB and 64 inodes); nothing a run can change while it runs (it may not mount),
except, where runs of one zygote overlap, how long it lives: that decides whether the next spare
gets its namespace or another (a fraction of a bit a run, measured ~0.3).
Changing anything else a namespace keeps (interfaces, addresses, routes, sysctls, firewall)
needs CAP_NET_ADMIN, which no run has.  So a reused namespace is one in which the previous run
did nothing network-wise that left a trace; the runs that use the network get new ones.
The zygote reaps its children (runs, inits, and whatever is re-parented to it: it is its
sandbox's pid 1), kills a run (and its init) that outlives its backstop (the host enforces the
real deadline and kills the run's whole cgroup), and exits when the host closes the control
socket (the kernel then kills every process of its sandbox, runs' namespaces included).
"""

from __future__ import annotations

import atexit
import builtins
import ctypes
import fcntl
import gc
import importlib
import importlib.machinery
import importlib.util
import json
import marshal
import os
import resource
import select
import selectors
import signal
import socket
import struct
import sys
import time
import types

CLONE_VM, CLONE_FILES = 0x100, 0x400
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWPID = 0x00020000, 0x08000000, 0x40000000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 4, 24, 38, 22
SECCOMP_MODE_FILTER = 2
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
MAX_REQUEST_BYTES = 1 << 20
WORKDIR = "/work"

_libc = ctypes.CDLL(None, use_errno=True)
# resolved here, once, in the zygote: a child that looked them up itself would pay for it every run
_unshare, _setns, _mount, _prctl, _capset = _libc.unshare, _libc.setns, _libc.mount, _libc.prctl, _libc.capset
_clone = _libc.clone
_clone.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
_PAUSE = ctypes.cast(_libc.pause, ctypes.c_void_p)  # what a run namespace's init runs
INIT_STACK_BYTES = 1 << 14
_pthread_sigmask = _libc.pthread_sigmask
_SIG_BLOCK, _SIG_SETMASK = 0, 2
# glibc's sigset_t (1024 bits): every signal, and room for the mask it replaces.  Through libc
# directly: signal.pthread_sigmask turns the mask it returns into a set of enum members, about
# 60 microseconds (and pages written) per run
_SigSet = ctypes.c_ulong * (1024 // (8 * ctypes.sizeof(ctypes.c_ulong)))
_ALL_SIGNALS = _SigSet(*[ctypes.c_ulong(-1).value] * len(_SigSet()))
_SAVED_SIGNALS = _SigSet()


def _set_signal_mask(how: int, signals: ctypes.Array, previous: ctypes.Array | None) -> None:
    error = _pthread_sigmask(how, signals, previous)  # returns the error number itself
    if error:
        raise OSError(error, f"pthread_sigmask: {os.strerror(error)}")


INIT_EXIT_WAIT_S = 0.05


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


_CAP_VERSION_3 = 0x20080522


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_EmptyCaps = _CapData * 2


class _SeccompProgram:
    """The seccomp filter (a classic BPF program), built once in the zygote (there is none --
    ``None`` -- where the host has no filter)."""

    def __init__(self, program: bytes) -> None:
        self.buffer = ctypes.create_string_buffer(program, len(program))
        self.fprog = _SockFprog(len(program) // 8, ctypes.cast(self.buffer, ctypes.c_void_p))


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount_tmpfs(target: str, size: int, inodes: int, mode: str) -> None:
    options = f"size={size},nr_inodes={inodes},mode={mode}"
    _check(_mount(b"tmpfs", target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options.encode()), f"mount {target}")


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


#: Per network namespace settings (``/proc/sys/net/ipv4/...``) a pooled namespace must have:
#: no TIME_WAIT sockets (a closed connection leaves nothing), and no TCP metrics cache entries
#: (saved RTT / congestion window and Fast Open data per peer that a later connection would use).
NET_SETTINGS = {"tcp_max_tw_buckets": b"0", "tcp_no_metrics_save": b"1", "tcp_fastopen": b"0"}
#: Free network namespaces a zygote keeps; a namespace found holding anything (``_net_is_clean``)
#: longer than ``NET_SETTLE_S`` after its run ended is discarded.
MAX_FREE_NETNS = 8
NET_SETTLE_S = 1.0


def _net_is_clean(sockstat: bytes) -> bool:
    """Whether ``/proc/net/sockstat`` of a network namespace shows nothing left in it: no socket
    a process made there (every family: ``sockets: used`` counts them all, orphaned TCP sockets
    and Unix sockets in flight included), no TIME_WAIT socket, no IP fragment queue.  Text in
    any other form counts as not clean."""
    lines = sockstat.split(b"\n")
    return (
        len(lines) > 5
        and lines[0] == b"sockets: used 0"
        and lines[1].startswith(b"TCP: ")
        and b" tw 0 " in lines[1]
        and any(line.startswith(b"FRAG: inuse 0 ") for line in lines)
    )


#: The namespace's cumulative counters (per interface, IP/ICMP/UDP/TCP, IPv6, extended TCP):
#: a run that sent or tried to send anything changed them, and its namespace is not reused.
NET_COUNTERS = ("dev", "snmp", "snmp6", "netstat")
#: The /proc/net files a namespace is inspected by: its counters, its sockets, its IPv6 flow labels.
NET_FILES = (*NET_COUNTERS, "sockstat", "ip6_flowlabel")


def _read_whole(fd: int) -> bytes:
    """All of an open /proc file, read afresh from its start (the kernel prints it again)."""
    chunks, offset = [], 0
    while chunk := os.pread(fd, 65536, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _read_setting(name: str) -> bytes:
    """``/proc/sys/net/ipv4/name`` of the current network namespace."""
    fd = os.open(f"/proc/sys/net/ipv4/{name}", os.O_RDONLY)
    try:
        return os.read(fd, 64).strip()
    finally:
        os.close(fd)


def _open_optional(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # e.g. no IPv6
        return -1


class _NetNamespace:
    """One network namespace of the pool: its descriptor and descriptors of the /proc files it
    is inspected by (``NET_FILES``: opened from inside it when it is made, so they show this
    namespace's state whoever reads them: no ``setns`` and no opening per inspection), its
    counters when its current run got it, when that run ended, whether ``NET_SETTINGS`` were
    read back in force when it was made."""

    __slots__ = ("counters", "fd", "files", "freed_at", "settings_in_force")

    def __init__(self) -> None:
        """In the zygote, inside the namespace it has just made and set up (``_set_up_network``)."""
        self.fd = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.files = {name: _open_optional(f"/proc/self/net/{name}") for name in NET_FILES}
        self.freed_at = 0.0
        self.settings_in_force = all(_read_setting(name) == value for name, value in NET_SETTINGS.items())
        self.counters = self.read_counters()

    def read(self, name: str) -> bytes:
        """The file ``name`` of ``NET_FILES`` as the kernel prints it now (b"" when it does not exist)."""
        fd = self.files[name]
        return _read_whole(fd) if fd >= 0 else b""

    def read_start(self, name: str) -> bytes:
        """The first 4 KiB of the file ``name`` of ``NET_FILES`` as the kernel prints it now."""
        fd = self.files[name]
        return os.pread(fd, 4096, 0) if fd >= 0 else b""

    def read_counters(self) -> bytes:
        """Its counters (``NET_COUNTERS``), as the kernel prints them."""
        return b"\0".join(self.read(name) for name in NET_COUNTERS)

    def state(self) -> tuple[bool, bool]:
        """(nothing left in it, it may be reused at all: its counters read as when its run got
        it, ``NET_SETTINGS`` in force)."""
        if not self.settings_in_force or self.read_counters() != self.counters:  # its run used the network
            return False, False
        if not _net_is_clean(self.read_start("sockstat")):
            return False, True
        # IPv6 flow labels a run asked for linger after its sockets close (up to a minute, any
        # user may share one): the table must hold nothing but its header
        return self.read_start("ip6_flowlabel").count(b"\n") <= 1, True

    def close(self) -> None:
        for fd in [self.fd, *self.files.values()]:
            if fd >= 0:
                os.close(fd)
        self.fd, self.files = -1, {}


class _NetNamespaces:
    """The network namespaces of one zygote's runs (loopback only).  Creating and tearing one
    down per run cost about half a millisecond of CPU plus kernel work that does not run in
    parallel (locks the whole host shares and a clean-up work queue), so namespaces are reused:
    each is held by exactly one run (or spare) at a time and comes back only when that run's pid
    namespace has ended -- no process of it is left anywhere.  Before another run gets it, through
    the /proc files of it that the zygote opened from inside it (``_NetNamespace``): its
    counters must read as when its run got it (``NET_COUNTERS``; otherwise it is discarded at
    once), ``/proc/net/sockstat`` must show nothing (``_net_is_clean``; a namespace that still
    holds something ``NET_SETTLE_S`` after its run ended is discarded), and ``NET_SETTINGS`` must
    have read back in force when it was made.  The zygote gives a new namespace loopback up and
    those settings itself, before any child enters it."""

    def __init__(self) -> None:
        self.own = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.free: list[_NetNamespace] = []

    def take(self) -> _NetNamespace:
        """A namespace no process is in and that holds nothing (oldest free first), or a new one."""
        now = time.monotonic()
        keep = []
        found = None
        for net in self.free:
            if found is None:
                clean, reusable = net.state()
                if not reusable:
                    net.close()
                    continue
                if clean:
                    found = net
                    continue
                if now - net.freed_at > NET_SETTLE_S:
                    net.close()
                    continue
            keep.append(net)
        self.free = keep
        if found is not None:
            return found
        _check(_unshare(CLONE_NEWNET), "unshare net")
        try:
            _set_up_network()
            return _NetNamespace()
        finally:
            _check(_setns(self.own, CLONE_NEWNET), "setns net back")

    def give_back(self, net: _NetNamespace) -> None:
        """``net``'s run (its pid namespace) has ended."""
        net.freed_at = time.monotonic()
        self.free.append(net)
        while len(self.free) > MAX_FREE_NETNS:
            self.free.pop(0).close()


#: Runs a mount namespace serves before it is discarded: each leaves its four mounts (/proc and
#: the three tmpfs, emptied by the host) under the next run's, out of reach of any path.
MAX_RUNS_PER_MOUNT_NS = 16


class _MountNamespace:
    """One mount namespace of the pool: its descriptor, the serials of the runs it served (their
    emptied mounts lie under the current ones), whether the host asked for it to be discarded."""

    __slots__ = ("discard", "fd", "serials")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.serials: list[int] = []
        self.discard = False

    def close(self) -> None:
        os.close(self.fd)
        self.fd = -1


class _MountNamespaces:
    """The mount namespaces of one zygote's runs (the module docstring, "Mount namespaces"):
    each is held by exactly one run (or spare) at a time and comes back only when that run's pid
    namespace has ended; one the host asks to ``discard`` (it could not empty a run's tmpfs), or
    that has served ``MAX_RUNS_PER_MOUNT_NS`` runs, is closed, and the kernel frees its mounts."""

    def __init__(self) -> None:
        self.own = os.open("/proc/self/ns/mnt", os.O_RDONLY)
        self.free: list[_MountNamespace] = []
        self.held: dict[int, _MountNamespace] = {}  # serial of each run that used it -> namespace

    def take(self, serial: int) -> _MountNamespace:
        """A namespace no process is in (the most recently freed), or a new one, for run ``serial``."""
        mnt = self.free.pop() if self.free else self._new()
        mnt.serials.append(serial)
        self.held[serial] = mnt
        return mnt

    def _new(self) -> _MountNamespace:
        """A copy of the zygote's mount namespace with every mount private (made by the zygote,
        which then goes back to its own namespace and working directory)."""
        cwd = os.open(".", os.O_PATH | os.O_DIRECTORY)
        try:
            _check(_unshare(CLONE_NEWNS), "unshare mount")
            try:
                _check(_mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
                return _MountNamespace(os.open("/proc/self/ns/mnt", os.O_RDONLY))
            finally:
                _check(_setns(self.own, CLONE_NEWNS), "setns mount back")
                os.fchdir(cwd)
        finally:
            os.close(cwd)

    def give_back(self, mnt: _MountNamespace) -> None:
        """The pid namespace of ``mnt``'s last run has ended."""
        if mnt.discard or len(mnt.serials) >= MAX_RUNS_PER_MOUNT_NS:
            self._close(mnt)
        else:
            self.free.append(mnt)

    def discard(self, serial: int) -> None:
        """The host could not empty run ``serial``'s tmpfs: its namespace is closed (now if no
        run is in it, else as that run's pid namespace ends) and the kernel frees them."""
        mnt = self.held.get(serial)
        if mnt is None or mnt.fd < 0:
            return
        mnt.discard = True
        if mnt in self.free:
            self.free.remove(mnt)
            self._close(mnt)

    def _close(self, mnt: _MountNamespace) -> None:
        for serial in mnt.serials:
            self.held.pop(serial, None)
        mnt.close()


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(min(1 << 20, size - got))
        if not chunk:
            raise EOFError("the host closed the sync socket")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _recv_message(sock: socket.socket, fd_count: int) -> tuple[dict, list[int]] | None:
    """One host message -- a 4-byte big-endian length, then that many bytes of marshal data --
    and the descriptors sent with its first byte; None when the host closed the socket before a
    message began."""
    data, ancillary, _, _ = sock.recvmsg(4, socket.CMSG_SPACE(4 * fd_count))
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.extend(struct.unpack(f"{len(payload) // 4}i", payload[: len(payload) - len(payload) % 4]))
    if not data:
        for fd in fds:
            os.close(fd)
        return None
    (size,) = struct.unpack("!I", data + _recv_exactly(sock, 4 - len(data)))
    if size > MAX_REQUEST_BYTES:
        raise ValueError("request too long")
    message = marshal.loads(_recv_exactly(sock, size))
    if type(message) is not dict:
        raise ValueError("a host message must be a dict")
    return message, fds


def _write_files(sock: socket.socket, listing: list, uid: int) -> None:
    """Receive the run's files (``listing``: [path, size] pairs, the bytes follow on ``sock``) and
    write them below /work, giving /work and everything made in it to ``uid`` (the host checked the paths)."""
    root = os.open(WORKDIR, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for path, size in listing:
            data = _recv_exactly(sock, size)
            parts = path.split("/")
            directory = os.dup(root)
            try:
                for part in parts[:-1]:
                    try:
                        os.mkdir(part, 0o755, dir_fd=directory)
                        os.chown(part, uid, uid, dir_fd=directory, follow_symlinks=False)
                    except FileExistsError:
                        pass
                    inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory)
                    os.close(directory)
                    directory = inner
                mode = 0o755 if data.startswith(b"#!") else 0o644
                fd = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode, dir_fd=directory)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                    os.fchmod(fd, mode)
                    os.fchown(fd, uid, uid)
                finally:
                    os.close(fd)
            finally:
                os.close(directory)
        os.fchown(root, uid, uid)
    finally:
        os.close(root)


def _last_capability() -> int:
    with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as handle:
        return int(handle.read())


_LAST_CAP = _last_capability()


def _drop_privileges(uid: int, rlimits: list, seccomp: _SeccompProgram | None) -> None:
    for res, soft, hard in rlimits:
        resource.setrlimit(res, (soft, hard))
    # the bounding set is empty already: the zygote emptied its own before the first fork
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # all uids non-zero: the permitted, effective and ambient sets are cleared
    _check(_capset(ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), _EmptyCaps()), "clear inheritable capabilities")
    # changing uid made the process non-dumpable (its /proc files root's); a cold run is dumpable:
    # its own /proc/self/{fd,mem,environ} usable, nothing of another uid reachable either way
    _check(_prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if seccomp is not None:
        _check(_prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(seccomp.fprog), 0, 0), "seccomp")


def _set_environment(wanted: dict) -> None:
    """Make the environment exactly ``wanted``, touching only what differs from the zygote's (a
    run's is mostly the same: rewriting every variable costs a forked child page copies)."""
    environ = os.environ
    for name in [name for name in environ if name not in wanted]:
        del environ[name]
    for name, value in wanted.items():
        if environ.get(name) != value:
            environ[name] = value


def _receive_run(sync: socket.socket) -> tuple[dict, int, int]:
    """The run's request on the sync socket and the stdio and stderr descriptors sent with it."""
    received = _recv_message(sync, 2)
    if received is None:
        raise EOFError("the host closed the sync socket")
    request, fds = received
    if len(fds) != 2:
        raise ValueError(f"the run request must carry 2 descriptors, got {len(fds)}")
    return request, fds[0], fds[1]


def _start_namespace_init(stack: ctypes.Array) -> int:
    """Start pid 1 of a new pid namespace and leave the zygote's next fork to enter it (the
    caller forks the run, then calls ``_leave_run_namespace``).  The init is a clone that
    shares the zygote's memory (nothing to copy or tear down) and descriptor table (a descriptor
    the zygote closes, such as a mount namespace's, is closed for it too) and runs libc's ``pause()`` on
    ``stack`` with every signal blocked: it never returns, never reaps (orphans of the run stay
    zombies until the namespace ends, as under the cold path's ``timeout``) and dies only by
    SIGKILL from the zygote, which takes every process of the namespace with it."""
    _set_signal_mask(_SIG_BLOCK, _ALL_SIGNALS, _SAVED_SIGNALS)
    try:
        _check(_unshare(CLONE_NEWPID), "unshare pid")  # the next child is the new namespace's pid 1
        top = (ctypes.addressof(stack) + len(stack)) & ~15
        # its memory and descriptor table are the zygote's: it adds no reference to any namespace
        init = _clone(_PAUSE, top, CLONE_VM | CLONE_FILES | signal.SIGCHLD, None)
        if init < 0:
            error = ctypes.get_errno()
            raise OSError(error, f"clone: {os.strerror(error)}")
        return init
    finally:
        _set_signal_mask(_SIG_SETMASK, _SAVED_SIGNALS, None)


def _leave_run_namespace(own_pid_ns: int) -> None:
    """The zygote's later children start in its own pid namespace again."""
    _check(_setns(own_pid_ns, CLONE_NEWPID), "setns pid")


def _set_up_network() -> None:
    """In the zygote, inside a network namespace it has just made: loopback up and ``NET_SETTINGS``."""
    _loopback_up()
    for name, value in NET_SETTINGS.items():
        with open(f"/proc/sys/net/ipv4/{name}", "wb") as handle:
            handle.write(value)


def _become_run(
    sync_fd: int,
    join_fds: list,
    net: _NetNamespace,
    mnt: _MountNamespace,
    seccomp: _SeccompProgram | None,
    entry,
    cpus: list | None,
) -> None:
    """In the forked child, pid 2 of its own pid namespace: join the run's cgroups (where the
    host sent their ``tasks`` files), isolate (``net`` and ``mnt``: the network and mount
    namespaces it is given; a new IPC namespace; its own /proc and tmpfs mounted over what the
    mount namespace has), wait for the run, drop privileges, run the entry (never returns)."""
    status = 111
    err_fd = -1
    try:
        if cpus:  # the zygote keeps to one CPU for now; its children do not
            os.sched_setaffinity(0, cpus)
        for join_fd in join_fds:  # "0": this thread -- the whole process, it has no other
            os.write(join_fd, b"0")
            os.close(join_fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sync = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, sync_fd)
        _check(_setns(net.fd, CLONE_NEWNET), "setns net")
        _check(_setns(mnt.fd, CLONE_NEWNS), "setns mount")  # its mounts are private already
        _check(_unshare(CLONE_NEWIPC), "unshare ipc")
        # its copies of the zygote's descriptors (other namespaces, other runs' sockets) go now:
        # a spare may wait long, and a namespace the zygote discards must not live on in it
        os.closerange(3, sync_fd)
        os.closerange(sync_fd + 1, os.sysconf("SC_OPEN_MAX"))
        proc_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC  # a /proc of its pid namespace; hidepid=invisible
        _check(_mount(b"proc", b"/proc", b"proc", proc_flags, b"hidepid=invisible"), "mount /proc")  # hides init
        request, stdio_fd, err_fd = _receive_run(sync)  # a spare waits here (the host moved it into its cgroup)
        uid = int(request["uid"])
        _mount_tmpfs(WORKDIR, *request["work"], "0755")
        _mount_tmpfs("/tmp", *request["tmp"], "1777")
        _mount_tmpfs("/dev/shm", *request["tmp"], "1777")
        _write_files(sync, request["files"], uid)
        roots = [os.open(WORKDIR, os.O_RDONLY | os.O_DIRECTORY)]
        roots += [os.open(path, os.O_PATH | os.O_DIRECTORY) for path in ("/tmp", "/dev/shm")]
        sync.sendmsg([b"M"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("3i", *roots))])
        os.chdir(WORKDIR)
        _drop_privileges(uid, request["rlimits"], seccomp)
        os.dup2(stdio_fd, 0)
        os.dup2(stdio_fd, 1)
        os.dup2(err_fd, 2)
        sync.detach()
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        err_fd = 2
        _set_environment(dict(request["env"], PWD=WORKDIR))
        sys.argv = list(request.get("argv") or [""])
        sys.modules["__main__"] = sys.modules[entry.__module__]  # as if the entry's module had been run
        status = 1
        try:
            entry()
            status = 0
        except SystemExit as error:
            code = error.code
            status = 0 if code is None else code & 0xFF if isinstance(code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
    except BaseException as error:
        if err_fd >= 0:
            try:
                os.write(err_fd, f"rlvr zygote: child set-up failed: {error!r}\n".encode())
            except OSError:
                pass
    finally:
        os._exit(status)


def run_script() -> None:
    """The default entry point: run ``sys.argv[0]`` (a file of the run) as ``__main__``, like
    ``python -I FILE`` (compiled and executed directly: runpy's machinery costs milliseconds),
    then do what interpreter shutdown does: wait for non-daemon threads, run atexit functions."""
    path = sys.argv[0]
    with open(path, "rb") as handle:
        code = compile(handle.read(), path, "exec")
    module = types.ModuleType("__main__")
    module.__file__ = path
    module.__builtins__ = builtins
    sys.modules["__main__"] = module
    atexit._clear()
    try:
        exec(code, module.__dict__)
    finally:
        if "threading" in sys.modules:
            sys.modules["threading"]._shutdown()
        atexit._run_exitfuncs()


def _load_modules(modules: dict) -> None:
    for name, path in modules.items():
        loader = importlib.machinery.SourcelessFileLoader(name, path)
        spec = importlib.util.spec_from_loader(name, loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)


def _resolve(entry: str):
    module_name, _, function_name = entry.partition(":")
    return getattr(sys.modules[module_name], function_name)


def _prepare_children() -> None:
    """Do once, before the first fork, what every child would otherwise do itself: empty the
    capability bounding set (children inherit it; the zygote never executes a program, so its
    own effective capabilities are untouched), the interpreter's lazily built state (``compile``
    of source builds the AST types on first use, about a millisecond), and keep the collector
    off the zygote's objects (``gc.freeze``: a collection in a child then neither walks nor
    writes them, so their pages stay shared)."""
    for cap in range(_LAST_CAP + 1):
        _check(_prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "drop capability")
    compile("", "<zygote>", "exec")
    gc.collect()
    gc.freeze()


class _Run:
    """The zygote's record of one forked run: the fork request it answered, its pid, the
    zygote's copy of its sync socket, the init of its pid namespace (0 once reaped) and that
    init's stack, its network and mount namespaces, its backstop time, and -- once reaped -- its wait
    status and the CPU time of it and its namespace."""

    __slots__ = ("backstop", "cpu_s", "init", "mnt", "net", "pid", "serial", "stack", "status", "sync_fd")

    def __init__(
        self,
        serial: int,
        pid: int,
        sync_fd: int,
        init: int,
        stack: ctypes.Array,
        net: _NetNamespace,
        mnt: _MountNamespace,
    ) -> None:
        self.serial, self.pid, self.sync_fd, self.init, self.stack = serial, pid, sync_fd, init, stack
        self.net, self.mnt = net, mnt
        self.backstop = float("inf")
        self.status: int | None = None
        self.cpu_s = 0.0


def _kill(pid: int) -> None:
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _end_namespace(init: int) -> None:
    """Kill a run namespace's init -- the kernel then kills every process left in the namespace
    and the init reaps them as it exits -- and give it ``INIT_EXIT_WAIT_S`` to be gone, so that
    the caller's reaping finds it now rather than on the next SIGCHLD (the run's report waits
    for it)."""
    try:
        pidfd = os.pidfd_open(init)
    except OSError:
        return
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        select.select([pidfd], [], [], INIT_EXIT_WAIT_S)
    except OSError:
        pass
    finally:
        os.close(pidfd)


def main() -> None:
    control = socket.socket(fileno=os.dup(0))
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    received = _recv_message(control, 0)
    if received is None:
        return
    config = received[0]
    try:
        sys.path.extend(path for path in config.get("sys_path", ()) if path not in sys.path)
        for name in config.get("imports", ()):
            importlib.import_module(name)
        _load_modules(config.get("modules", {}))
        entry = _resolve(config["entry"])
        program = bytes.fromhex(config.get("seccomp", ""))
        seccomp = _SeccompProgram(program) if program else None
        _prepare_children()
    except BaseException as error:
        control.sendall(json.dumps({"ready": False, "error": repr(error)[:2000]}).encode() + b"\n")
        return
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    control.sendall(b'{"ready": true}\n')
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
    stacks: list[ctypes.Array] = []  # stacks of inits that are gone
    networks = _NetNamespaces()
    mounts = _MountNamespaces()
    runs: dict[int, _Run] = {}  # run pid -> its record
    inits: dict[int, _Run] = {}  # pid of a run namespace's init -> the record of its run
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    while True:
        now = time.monotonic()
        for run in runs.values():
            if now >= run.backstop:
                _kill(run.pid)
                _kill(run.init)
        timeout = min(min((run.backstop for run in runs.values()), default=now + 60.0), now + 60.0) - now
        for key, _ in selector.select(max(0.0, timeout)):
            if key.fd == wake_r:
                try:
                    while os.read(wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
                continue
            received = _recv_message(control, 3)
            if received is None:
                return
            request, fds = received
            if "backstop" in request:  # a spare got its run: kill it if it outlives its deadline
                for run in runs.values():
                    if run.serial == request["backstop"]:
                        run.backstop = time.monotonic() + float(request["s"])
            if "discard" in request:  # the host could not empty that run's tmpfs
                mounts.discard(request["discard"])
            if "fork" not in request:
                continue
            if len(fds) not in (1, 2, 3):
                raise ValueError(f"a fork request must carry 1 to 3 descriptors, got {len(fds)}")
            join_fds = fds[1:]
            net = networks.take()
            mnt = mounts.take(request["fork"])
            stack = stacks.pop() if stacks else ctypes.create_string_buffer(INIT_STACK_BYTES)
            init = _start_namespace_init(stack)
            try:
                pid = os.fork()  # pid 2 of the new namespace
            except BaseException:
                _kill(init)
                _leave_run_namespace(own_pid_ns)
                raise  # the host's control socket sees the zygote exit: it is replaced
            if pid == 0:  # the zygote's descriptors (its selector's too) are closed before the entry runs
                _become_run(fds[0], join_fds, net, mnt, seccomp, entry, request.get("cpus"))
            _leave_run_namespace(own_pid_ns)
            for join_fd in join_fds:
                os.close(join_fd)
            run = _Run(request["fork"], pid, fds[0], init, stack, net, mnt)
            runs[pid] = inits[init] = run
            credentials = struct.pack("3i", pid, 0, 0)
            control.sendmsg(
                [b'{"forked": %d}\n' % run.serial],
                [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, credentials)],
            )
        while True:  # reap our children: runs, their namespaces' inits, orphans re-parented to us
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in runs:
                run = runs.pop(pid)
                run.status = status
                _end_namespace(run.init)  # it ends with its run: whatever the run left is killed
            elif pid in inits:
                run = inits.pop(pid)
                run.init = 0
                stacks.append(run.stack)  # the init is gone: its stack serves a later one
            else:
                continue
            # the run's own CPU and what it reaped, or the init's: what it reaped as the namespace ended
            run.cpu_s += usage.ru_utime + usage.ru_stime
            if run.status is not None and not run.init:  # both gone: no process of the run is left
                report = f'{{"status": {run.status}, "cpu_s": {run.cpu_s!r}}}\n'  # the line json.dumps makes
                try:
                    os.write(run.sync_fd, report.encode())
                except OSError:
                    pass
                os.close(run.sync_fd)
                networks.give_back(run.net)  # no process is left in them: another run may get them
                mounts.give_back(run.mnt)


if __name__ == "__main__":
    main()
