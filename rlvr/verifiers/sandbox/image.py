"""The docker backend's images, built locally and offline: never pulled from a registry.

Base image
----------
``BASE_RECIPE`` says what the base image holds: a Debian ``minbase`` root made by
``debootstrap`` from the Debian mirror apt is configured with, plus Python 3 (Debian 12: 3.11,
the version of the project's venv, so the code verifier's compiled harness runs in it), pytest,
pip/setuptools/wheel (for offline installs of a repository, see below), Icarus Verilog, and git
and patch (SWE-bench-style instance images apply patches in the container).  It
is tagged ``rlvr-sandbox:<first 12 hex digits of the recipe's sha256>`` (:func:`base_image_tag`),
so a changed recipe gets a new tag and ``ensure_base_image`` builds it, while an existing tag is
reused as is.  The root is imported with ``docker import`` (no Dockerfile, no registry).

Per-repository images
---------------------
``build_repo_image(repo)`` layers a repository on the base image: its files (``.git`` left out)
copied to ``/repo`` and installed with ``pip install --no-index --no-build-isolation`` under
``--network none``.  Nothing is downloaded, at build time or at verification time: a dependency
installs only when the base image already has it or the repository vendors it (wheels or
sdists in a ``wheels/``, ``vendor/`` or ``wheelhouse/`` folder are offered with
``--find-links``); otherwise the build fails and says which requirement was missing.  The tag is
``rlvr-sandbox-repo-<name>:<12 hex digits of the base tag and the repository's content>``.

SWE-bench instance images
------------------------
``build_instance_image(row, checkout)`` makes, from a SWE-bench JSONL row and a local git
checkout of its repository, the image SWE-bench's harness would run the instance in, laid out
the same way and tagged the same (``docker_image_name(instance_id)``), so the SWE verifier's
docker path (``docker="always"``, or no checkout) finds it locally: the repository at
``base_commit`` in ``/testbed`` (its git history included), installed in development mode
(``pip install --no-index -e .``, dependencies offline as above), and the interpreter at
SWE-bench's path (``/opt/miniconda3/envs/testbed/bin/python``, a link to the image's Python 3).
The image is labelled with the base commit and base image and rebuilt when either changes.

Builds run ``debootstrap`` and the ``docker`` CLI (root and a local engine needed); every step
has a timeout and a failed step raises :class:`ImageBuildError` with the tail of its output.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

BASE_REPOSITORY = "rlvr-sandbox"
BASE_RECIPE = {
    "recipe": 2,
    "tool": "debootstrap",
    "suite": "bookworm",
    "variant": "minbase",
    "packages": [
        "python3",
        "python3-pytest",
        "python3-pip",
        "python3-setuptools",
        "python3-wheel",
        "iverilog",
        "git",
        "patch",
    ],
    "drop": ["var/cache/apt/archives", "var/lib/apt/lists"],
    "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"], "WorkingDir": "/work"},
}
DEBOOTSTRAP_TIMEOUT_S = 1800
VENDOR_DIRS = ("wheels", "vendor", "wheelhouse")
_DEFAULT_MIRROR = "http://deb.debian.org/debian"


class ImageBuildError(RuntimeError):
    """An image could not be built (the message says which step failed and why)."""


def recipe_hash(recipe: dict = BASE_RECIPE) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def base_image_tag(recipe: dict = BASE_RECIPE) -> str:
    """The tag of the base image this recipe builds (the docker backend's default image)."""
    return f"{BASE_REPOSITORY}:{recipe_hash(recipe)[:12]}"


def image_exists(tag: str) -> bool:
    docker = _docker_cli()
    done = subprocess.run([docker, "image", "inspect", "--format", "{{.Id}}", tag], capture_output=True, timeout=60)
    return done.returncode == 0


def apt_mirror(sources_dir: str = "/etc/apt") -> str:
    """The Debian archive apt is configured with (``sources.list`` or deb822 ``*.sources``)."""
    candidates: list[str] = []
    root = Path(sources_dir)
    files = [
        root / "sources.list",
        *sorted((root / "sources.list.d").glob("*.list")),
        *sorted((root / "sources.list.d").glob("*.sources")),
    ]
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            line = line.strip()
            one_line = re.match(r"deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
            if one_line:
                candidates.append(one_line.group(1))
            elif line.startswith("URIs:"):
                candidates.extend(line.split()[1:])
    for uri in candidates:  # the main archive, not the security one
        if "security" not in uri and uri.startswith(("http://", "https://", "file:/")):
            return uri.rstrip("/")
    return _DEFAULT_MIRROR


def ensure_base_image(force: bool = False, log=print) -> str:
    """Build the base image unless an image with its tag exists (``force``: rebuild), removing
    earlier recipes' base images; its tag."""
    tag = base_image_tag()
    if not force and image_exists(tag):
        log(f"image {tag} present")
        return tag
    build_base_image(tag, log=log)
    docker = _docker_cli()
    listed = subprocess.run(
        [docker, "images", "--format", "{{.Repository}}:{{.Tag}}", BASE_REPOSITORY],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    for old in listed.stdout.split():
        if old != tag:  # an earlier recipe's image (kept if images built on it still need it)
            subprocess.run([docker, "rmi", old], capture_output=True, timeout=120, check=False)
    return tag


def build_base_image(tag: str | None = None, mirror: str | None = None, log=print) -> str:
    """debootstrap the recipe's root into a temp dir and import it as ``tag``."""
    tag = tag or base_image_tag()
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if debootstrap is None:
        raise ImageBuildError("debootstrap is not installed (apt-get install debootstrap)")
    docker = _docker_cli()
    mirror = mirror or apt_mirror()
    recipe = BASE_RECIPE
    with tempfile.TemporaryDirectory(prefix="rlvr-image-") as scratch:
        rootfs = os.path.join(scratch, "rootfs")
        log(f"debootstrap {recipe['suite']} from {mirror} (a few minutes)")
        _step(
            [
                debootstrap,
                f"--variant={recipe['variant']}",
                f"--include={','.join(recipe['packages'])}",
                recipe["suite"],
                rootfs,
                mirror,
            ],
            "debootstrap",
            DEBOOTSTRAP_TIMEOUT_S,
        )
        for relative in recipe["drop"]:
            target = os.path.join(rootfs, relative)
            if os.path.isdir(target):
                for entry in os.listdir(target):
                    path = os.path.join(target, entry)
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path, ignore_errors=True)
                    elif entry != "lock":
                        os.unlink(path)
        # docker gives a tmpfs mounted on an image directory that directory's mode: /work must be 1777
        os.makedirs(os.path.join(rootfs, "work"), exist_ok=True)
        os.chmod(os.path.join(rootfs, "work"), 0o1777)
        changes = [f"ENV {item}" for item in recipe["config"]["Env"]]
        changes.append(f"WORKDIR {recipe['config']['WorkingDir']}")
        argv = [docker, "import"]
        for change in changes:
            argv += ["--change", change]
        argv += ["-", tag]
        log(f"docker import -> {tag}")
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        try:
            _step(argv, "docker import", 600, stdin=tar.stdout)
        finally:
            if tar.stdout is not None:
                tar.stdout.close()
            if tar.wait(timeout=600) != 0:
                raise ImageBuildError(f"tar of the root failed (status {tar.returncode})")
    return tag


def repo_image_tag(repo: str | os.PathLike, base: str) -> str:
    root = Path(repo).resolve()
    digest = hashlib.sha256(base.encode())
    for path in _repo_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() if not path.is_symlink() else os.readlink(path).encode())
    name = re.sub(r"[^a-z0-9_.-]+", "-", root.name.lower()).strip("-.") or "repo"
    return f"{BASE_REPOSITORY}-repo-{name}:{digest.hexdigest()[:12]}"


def build_repo_image(repo: str | os.PathLike, base: str | None = None, force: bool = False, log=print) -> str:
    """An image with ``repo`` at ``/repo`` and installed (offline) on top of ``base``; its tag."""
    root = Path(repo).resolve()
    if not root.is_dir():
        raise ImageBuildError(f"{root} is not a directory")
    base = base or ensure_base_image(log=log)
    tag = repo_image_tag(root, base)
    if not force and image_exists(tag):
        log(f"image {tag} present")
        return tag
    docker = _docker_cli()
    installable = any((root / name).exists() for name in ("pyproject.toml", "setup.py", "setup.cfg"))
    with tempfile.TemporaryDirectory(prefix="rlvr-repo-image-") as context:
        shutil.copytree(root, os.path.join(context, "repo"), symlinks=True, ignore=shutil.ignore_patterns(".git"))
        links = " ".join(f"--find-links /repo/{name}" for name in VENDOR_DIRS if (root / name).is_dir())
        lines = [f"FROM {base}", "COPY repo /repo"]
        if installable:
            lines.append(
                "RUN cd /repo && python3 -m pip install --no-index --no-build-isolation --no-cache-dir "
                f"--break-system-packages --root-user-action=ignore {links} ."
            )
        lines += ["RUN chmod -R a+rX /repo", "WORKDIR /work"]
        Path(context, "Dockerfile").write_text("\n".join(lines) + "\n", encoding="utf-8")
        log(f"docker build --network none -> {tag}")
        _step([docker, "build", "--network", "none", "--force-rm", "-q", "-t", tag, context], "docker build", 1800)
    return tag


def build_instance_image(
    row: dict, checkout: str | os.PathLike, base: str | None = None, force: bool = False, log=print
) -> str:
    """The SWE-bench-layout image of one JSONL ``row`` from a local ``checkout``; its tag."""
    from rlvr.verifiers.swe import docker_image_name

    commit = str(row["base_commit"])
    if not re.fullmatch(r"[0-9a-fA-F]{7,64}", commit):
        raise ImageBuildError(f"bad base_commit {commit!r}")
    checkout = Path(checkout).resolve()
    if not (checkout / ".git").exists():
        raise ImageBuildError(f"{checkout} is not a git checkout")
    base = base or ensure_base_image(log=log)
    tag = docker_image_name(str(row["instance_id"]))
    labels = {"rlvr.base_commit": commit, "rlvr.base_image": base}
    docker = _docker_cli()
    if not force:
        seen = subprocess.run(
            [docker, "image", "inspect", "--format", "{{json .Config.Labels}}", tag],
            capture_output=True,
            timeout=60,
            check=False,
        )
        present = json.loads(seen.stdout or b"null") or {} if seen.returncode == 0 else {}
        if all(present.get(key) == value for key, value in labels.items()):
            log(f"image {tag} present")
            return tag
    with tempfile.TemporaryDirectory(prefix="rlvr-instance-image-") as context:
        testbed = os.path.join(context, "testbed")
        git_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": context,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
        }
        for argv in (
            ["git", "clone", "-q", "--no-hardlinks", str(checkout), testbed],
            ["git", "-C", testbed, "checkout", "-q", "--detach", commit],
        ):
            done = subprocess.run(argv, capture_output=True, env=git_env, timeout=600, check=False)
            if done.returncode != 0:
                raise ImageBuildError(f"{' '.join(argv[:3])} failed: {done.stderr.decode('utf-8', 'replace')[-500:]}")
        lines = [f"FROM {base}", "COPY testbed /testbed"]
        if any(Path(testbed, name).exists() for name in ("pyproject.toml", "setup.py", "setup.cfg")):
            links = " ".join(f"--find-links /testbed/{name}" for name in VENDOR_DIRS if Path(testbed, name).is_dir())
            lines.append(
                "RUN cd /testbed && python3 -m pip install --no-index --no-build-isolation --no-cache-dir "
                f"--break-system-packages --root-user-action=ignore {links} -e ."
            )
        lines += [
            "RUN mkdir -p /opt/miniconda3/envs/testbed/bin"
            " && ln -s /usr/bin/python3 /opt/miniconda3/envs/testbed/bin/python && chmod -R a+rX /testbed",
            *(f"LABEL {key}={value}" for key, value in labels.items()),
            "WORKDIR /work",
        ]
        Path(context, "Dockerfile").write_text("\n".join(lines) + "\n", encoding="utf-8")
        log(f"docker build --network none -> {tag}")
        _step([docker, "build", "--network", "none", "--force-rm", "-q", "-t", tag, context], "docker build", 1800)
    return tag


def _repo_files(root: Path) -> list[Path]:
    found = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d != ".git")
        found.extend(Path(directory, name) for name in sorted(names))
    return found


def _docker_cli() -> str:
    docker = shutil.which("docker")
    if docker is None:
        raise ImageBuildError("the docker CLI is not installed (apt-get install docker.io)")
    return docker


def _step(argv: list[str], what: str, timeout: float, stdin=None) -> str:
    try:
        done = subprocess.run(argv, stdin=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ImageBuildError(f"{what} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).decode("utf-8", "replace")[-1500:]
        raise ImageBuildError(f"{what} failed (status {done.returncode}): {tail}")
    return done.stdout.decode("utf-8", "replace")
