"""A run's files on the host: checking paths, filling work dirs, reading files back, removing them.

Caller paths must be relative, without ``..`` or NUL (``_rel_parts``; else ``ValueError``).
Everything below a work dir is opened through directory descriptors with ``O_NOFOLLOW``, so a
symlink the program planted is never followed: ``_populate`` copies ``cwd_files_dir`` and then
writes ``files`` (content starting with ``#!`` made executable; optionally given to the run's
uid), ``_read_collected`` reads a regular file back, capped.  ``_input_size`` bounds what the
input takes on a tmpfs before it is filled; ``_rmtree`` removes a run dir even when the program
took its permissions away; ``_private_dir`` makes (or checks) the 0700 temp root that host work
dirs live under.
"""

from __future__ import annotations

import logging
import mmap
import os
import shutil
import stat
import tempfile
from collections.abc import Sequence
from pathlib import PurePosixPath

from .limits import SandboxUnavailable

log = logging.getLogger(__name__)

_PAGE = mmap.PAGESIZE


def _rel_parts(path: str, what: str = "path") -> tuple[str, ...]:
    """Validate a caller-supplied relative path; return its components."""
    if not isinstance(path, str) or not path or "\x00" in path:
        raise ValueError(f"{what} must be a non-empty string without NUL bytes: {path!r}")
    pure = PurePosixPath(path)
    if pure.is_absolute():
        raise ValueError(f"{what} must be relative to the work dir, got absolute {path!r}")
    parts = tuple(p for p in pure.parts if p not in ("", "."))
    if not parts or ".." in parts:
        raise ValueError(f"{what} must stay inside the work dir (no '..'): {path!r}")
    return parts


def _open_dir(root_fd: int, parts: Sequence[str], *, create: bool, owner: tuple[int, int] | None) -> int:
    """Open (optionally creating) the directory ``root/parts`` without following symlinks."""
    fd = os.dup(root_fd)
    try:
        for part in parts:
            if create:
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                    if owner is not None:
                        os.chown(part, *owner, dir_fd=fd, follow_symlinks=False)
                except FileExistsError:
                    pass
            nfd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


def _write_file(root_fd: int, parts: tuple[str, ...], data: bytes, owner: tuple[int, int] | None) -> None:
    dfd = _open_dir(root_fd, parts[:-1], create=True, owner=owner)
    try:
        mode = 0o755 if data.startswith(b"#!") else 0o644
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(parts[-1], flags, mode, dir_fd=dfd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ValueError(f"files: {'/'.join(parts)!r} exists and is not a regular file")
            os.set_blocking(fd, True)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            if owner is not None:
                os.fchown(fd, *owner)
        finally:
            os.close(fd)
    finally:
        os.close(dfd)


def _read_collected(root_fd: int, parts: tuple[str, ...], cap: int) -> tuple[bytes, bool] | None:
    """Read a regular file below root without following symlinks; None if absent/not regular."""
    try:
        dfd = _open_dir(root_fd, parts[:-1], create=False, owner=None)
    except OSError:
        return None
    try:
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            chunks, size = [], 0
            while size <= cap:
                chunk = os.read(fd, min(1 << 20, cap + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
            return (data[:cap], True) if len(data) > cap else (data, False)
        finally:
            os.close(fd)
    finally:
        os.close(dfd)


def _chown_tree(root_fd: int, uid: int, gid: int) -> None:
    """Give the directory ``root_fd`` and everything below it (symlinks themselves) to uid/gid."""
    os.fchown(root_fd, uid, gid)
    for _, dirnames, filenames, dir_fd in os.fwalk(".", dir_fd=root_fd):
        for name in dirnames + filenames:
            os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)


def _populate(
    root: str,
    payload: Sequence[tuple[tuple[str, ...], bytes]],
    cwd_files_dir: str | None,
    owner: tuple[int, int] | None,
) -> None:
    """Fill the (existing) work dir ``root``: a copy of ``cwd_files_dir``, then ``payload``."""
    if cwd_files_dir is not None:
        shutil.copytree(cwd_files_dir, root, symlinks=True, dirs_exist_ok=True)
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fchmod(root_fd, 0o755)
        for parts, data in payload:
            _write_file(root_fd, parts, data, None)
        if owner is not None:
            _chown_tree(root_fd, *owner)
    finally:
        os.close(root_fd)


def _input_size(payload: Sequence[tuple[tuple[str, ...], bytes]], cwd_files_dir: str | None) -> tuple[int, int]:
    """(bytes, entries) the work dir's input takes on a tmpfs -- an upper bound (page-rounded, one
    spare page per entry) used to size the tmpfs before it is filled."""
    pages = entries = 0
    if cwd_files_dir is not None:
        for dirpath, dirnames, filenames in os.walk(cwd_files_dir):
            entries += len(dirnames) + len(filenames)
            pages += len(dirnames)
            for name in filenames:
                size = os.lstat(os.path.join(dirpath, name)).st_size
                pages += -(-size // _PAGE) + 1
    for parts, data in payload:
        pages += -(-len(data) // _PAGE) + 1
        entries += len(parts)
    return pages * _PAGE, entries


def _chmod_tree_world_writable(path: str) -> None:
    """For docker without root: let container uid 65534 use the (private, 0700-parented) tree."""
    for dirpath, _, filenames in os.walk(path):
        os.chmod(dirpath, 0o777)
        for name in filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if stat.S_ISREG(st.st_mode):
                os.chmod(full, 0o777 if st.st_mode & 0o111 else 0o666)


def _rmtree(path: str) -> None:
    """Remove a run dir, even if the program left directories without permissions."""
    if not os.path.lexists(path):
        return
    shutil.rmtree(path, ignore_errors=True)
    if not os.path.lexists(path):
        return
    for dirpath, dirnames, _ in os.walk(path):  # os.walk does not follow symlinks
        for name in dirnames:
            full = os.path.join(dirpath, name)
            try:
                if not os.path.islink(full):
                    os.chmod(full, 0o700)
            except OSError:
                pass
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    shutil.rmtree(path, ignore_errors=True)
    if os.path.lexists(path):
        log.warning("sandbox: could not remove %s", path)


def _private_dir(path: str) -> str:
    """Create (or check) a directory owned by us with mode 0700; refuse symlinks/foreign owners."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise SandboxUnavailable(f"sandbox temp root {path!r} is not a directory owned by uid {os.geteuid()}")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def _default_tmp_root() -> str:
    return os.path.join(tempfile.gettempdir(), f"rlvr-sandbox-{os.geteuid()}")
