"""The ``rlvr`` command line.

rlvr list                                   every env, one line each, with its difficulty parameters
                                            at d = 0, .25, .5, .75, 1 (``--distinct``: and an
                                            estimate of its distinct tasks at each)
rlvr info ENV                               one env in full: its contract, difficulty table,
                                            options with defaults, an example prompt and answer
rlvr generate ENV -n N -o out.jsonl|.parquet synthetic tasks (``--difficulty D [D …]``, ``--seed``,
                                            ``--workers``, ``--param key=value``, ``--dataset``,
                                            ``--format jsonl|parquet|hf|verl``, ``--split``,
                                            ``--allow-duplicates``, ``--shard-size``,
                                            ``--backend process|ray``, ``--address``); ``-o -``
                                            writes JSON lines to stdout. A mixture in one run:
                                            ``--env ID[:weight]`` (repeatable) or ``--mix
                                            mix.yaml`` (``envs:`` in the trainer config's format);
                                            ``-n`` is the total (rlvr.generate_mix)
rlvr convert IN OUT                         between jsonl, parquet, verl Parquet and hf
rlvr verify tasks.jsonl responses.jsonl     a verdict per row and a summary (``--workers``,
                                            ``--backend process|ray``, ``--address``)
rlvr bench [ENV …]                          generation and verification throughput per env
rlvr eval --base-url URL --model M --env ENV pass@1, pass@k and mean reward of an OpenAI-compatible
                                            endpoint per env and difficulty (rlvr.integrations.openai_eval)
rlvr train config.yaml | --demo             GRPO-family training on a mix of envs (rlvr.trainers)
rlvr audit ENV [ENV …]                      every generic and family reward-hacking attack on N tasks
                                            per difficulty; exits 1 if any attack scored or overran
rlvr demo                                   every env at three difficulties: reference and wrong
                                            answers verified, a table printed, images saved

Errors      A mistake in the input (an unknown env, a difficulty outside [0, 1], a missing or
            malformed file, an unwritable output) prints one line,
            ``rlvr <command>: error: <what>, <fix>`` (data errors name the file and line), and
            exits 2. Anything else is an internal error: one line pointing to ``--debug``, exit
            1. ``--debug`` (anywhere on the line) shows the traceback. Ctrl-C exits 130;
            SIGTERM and SIGHUP stop a command the same way and exit 143 and 129.
Outputs     Every input is checked before any output is created. Files are written under a
            temporary name in the target directory and renamed into place when complete, so an
            error, Ctrl-C, SIGTERM or SIGHUP leaves nothing behind; missing parent directories are created (and
            removed again on failure). ``-o -`` means stdout (JSON lines). With ``--format
            auto`` the extension decides: ``.jsonl``/``.ndjson`` JSON lines, ``.parquet``
            Parquet; any other is refused.
Ids         Env ids may omit the ``rlvr/`` prefix (``GraphColoring-v0``).
Sets        ``generate`` writes the ``train`` split by default and ``eval`` reads ``test``: the
            two never share a prompt (rlvr.api, "Splits"). Repeated prompts are skipped unless
            ``--allow-duplicates``; an (env, difficulty) with fewer distinct tasks than asked is
            an error naming the count. Outputs are streamed (memory flat in ``-n``) and carry
            provenance (rlvr version, command, seed, split, parts): Parquet key-value metadata
            ``rlvr``, the HF dataset's description, or ``<out>.provenance.json`` beside JSON lines.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import itertools
import json
import math
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, TextIO

import rlvr
from rlvr.core import Task, canonical_difficulty, check_seed, iter_tasks, parquet_row, task_schema, write_parquet_rows

DEMO_DIFFICULTIES = (0.0, 0.5, 1.0)
OUTPUT_FORMATS = ("auto", "jsonl", "parquet", "hf", "verl")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
STDOUT = "-"
EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 2, 1, 130, 141


class UsageError(Exception):
    """A mistake in the command's input; printed as ``rlvr <command>: error: <message>``, exit 2.
    The message says what is wrong and how to fix it; ``prog`` names the command when the
    parser found the mistake."""

    def __init__(self, message: str, prog: str | None = None):
        super().__init__(message)
        self.prog = prog


# --------------------------------------------------------------------------------------------
# Argument types and checks (each failure is a UsageError naming the argument)
# --------------------------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``<what>, see '<prog> --help'`` instead of usage + message."""

    def error(self, message: str):
        raise UsageError(f"{message}, see '{self.prog} --help'", prog=self.prog)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, got {text!r}")
    return value


def difficulty_value(text: str) -> float:
    try:
        return canonical_difficulty(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}") from None


def _parse_param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"takes key=value, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def env_id_of(env_id: str) -> str:
    """The full id of ``env_id`` (``Maze-v0`` → ``rlvr/Maze-v0``), or a UsageError."""
    from rlvr.envs.registry import canonical_env_id

    try:
        return canonical_env_id(env_id)
    except KeyError as error:
        raise UsageError(f"{error.args[0]}, run 'rlvr list' for every env") from None


@contextlib.contextmanager
def user_input(fix: str) -> Iterator[None]:
    """Turn the library's complaints about what the user gave (ValueError, KeyError, a missing
    or unreadable file) into a UsageError: ``<what>, <fix>``."""
    try:
        yield
    except UsageError:
        raise
    except KeyError as error:
        raise UsageError(f"{error.args[0] if error.args else error}, {fix}") from error
    except (FileNotFoundError, IsADirectoryError, PermissionError, NotADirectoryError) as error:
        raise UsageError(f"cannot read {error.filename or ''}: {error.strerror or error}, {fix}") from error
    except (ValueError, OSError) as error:
        raise UsageError(f"{error}, {fix}") from error


def options_of(args: argparse.Namespace) -> dict:
    """``--param key=value`` pairs (and ``--dataset``) as keyword arguments."""
    options = dict(getattr(args, "param", None) or [])
    if getattr(args, "dataset", None):
        options["dataset"] = args.dataset
    return options


def first_task(env_id: str, seed: int, difficulty: float, options: dict, split: str | None = None) -> Task:
    """Make the first task, so a bad parameter, option or dataset fails before any output."""
    with user_input("see 'rlvr info " + env_id + "' for its parameters and options"):
        try:
            return rlvr.make_task(env_id, seed, difficulty, split=split, **options)
        except json.JSONDecodeError as error:  # a dataset file that is not JSON (lines)
            raise ValueError(f"--dataset {options.get('dataset')}: not valid JSON ({error})") from error
        except TypeError as error:  # a generator constructor option it does not take
            raise ValueError(str(error)) from error


# --------------------------------------------------------------------------------------------
# Outputs: checked first, written atomically
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """Where a command writes: a file or directory path, or stdout (``-``), with its format."""

    path: Path | None  # None: stdout
    file_format: str  # jsonl, parquet, hf, verl, json

    @property
    def is_directory(self) -> bool:
        return self.file_format == "hf"

    def __str__(self) -> str:
        return "stdout" if self.path is None else str(self.path)


def plan_output(option: str, text: str, file_format: str = "auto", jsonl_only: bool = False) -> Output:
    """Check an output argument before anything runs: its format, and that it can be written
    (its nearest existing ancestor is a writable directory; it is not a directory itself)."""
    if text == STDOUT:
        if file_format not in ("auto", "jsonl", "json"):
            raise UsageError(f"{option} - (stdout) takes JSON lines, not {file_format}, give a file name")
        return Output(None, "json" if file_format == "json" else "jsonl")
    path = Path(text)
    if file_format == "auto":
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            file_format = "jsonl"
        elif suffix == ".parquet" and not jsonl_only:
            file_format = "parquet"
        elif jsonl_only:
            raise UsageError(
                f"{option} {text}: this command writes JSON lines, name the file .jsonl or use - for stdout"
            )
        else:
            raise UsageError(
                f"{option} {text}: cannot tell the format from the extension {suffix or '(none)'!r}, "
                f"name it .jsonl or .parquet or pass --format jsonl|parquet|hf|verl"
            )
    if path.is_dir() and file_format != "hf":
        raise UsageError(f"{option} {text} is a directory, give a file name")
    if path.exists() and not path.is_dir() and file_format == "hf":
        raise UsageError(f"{option} {text} is a file and --format hf writes a directory, give a new directory name")
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{option} {text}: {ancestor} is not a directory, choose another location")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {text}: cannot write in {ancestor} (permission denied), choose a writable location")
    return Output(path, file_format)


@contextlib.contextmanager
def atomic_path(target: Path, directory: bool = False) -> Iterator[Path]:
    """A temporary sibling of ``target`` to write; renamed onto ``target`` when the block
    completes. On any exception, Ctrl-C included, the temporary and any parent directories made
    for it are removed, so nothing half-written is left."""
    created: list[Path] = []
    parent = target.absolute().parent
    for missing in [parent, *parent.parents]:
        if missing.exists():
            break
        created.append(missing)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create {parent}: {error.strerror or error}, choose a writable location") from error
    temporary = parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        try:  # claim the name now: an unwritable location fails before any work is done
            temporary.mkdir() if directory else temporary.touch(exist_ok=False)
        except OSError as error:
            raise UsageError(f"cannot write {target}: {error.strerror or error}, choose a writable location") from error
        yield temporary
        if directory and target.is_dir():
            previous = parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.old"
            target.rename(previous)
            temporary.rename(target)
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.replace(temporary, target)
    except BaseException:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)
        for made in created:  # deepest first
            with contextlib.suppress(OSError):
                made.rmdir()
        raise


@contextlib.contextmanager
def open_text_output(output: Output) -> Iterator[TextIO]:
    """A text handle on ``output``: stdout, or a temporary file renamed into place at the end."""
    if output.path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_path(output.path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        yield handle


PROVENANCE_SUFFIX = ".provenance.json"  # the sidecar of a JSON-lines output


@dataclass(frozen=True)
class Written:
    """What ``write_tasks`` wrote: the row count and the files (one, or one per shard)."""

    count: int
    paths: tuple[str, ...]

    def __str__(self) -> str:
        return self.paths[0] if len(self.paths) == 1 else f"{len(self.paths)} files {self.paths[0]} … {self.paths[-1]}"


def shard_path(path: Path, index: int) -> Path:
    """``out.parquet`` → ``out-00003.parquet``: the file of shard ``index``."""
    return path.with_name(f"{path.stem}-{index:05d}{path.suffix}")


def row_encoder(output: Output, split: str = "train") -> Callable[[Task], Any]:
    """What ``write_tasks`` makes of each task for ``output`` (its canonical JSON line, a
    Parquet / HF / verl row), as a picklable function, so ``rlvr generate`` can have its worker
    processes make the rows (``iter_generate_mix(encode=…)``) and pass them with ``encoded``."""
    if output.path is None or output.file_format == "jsonl":
        return Task.to_json
    if output.file_format == "hf":
        from rlvr.integrations import hf

        return hf.task_row
    if output.file_format == "verl":
        from rlvr.integrations import verl

        return functools.partial(verl.verl_row, index=0, split=split)  # write_rows numbers them
    return parquet_row


def block_encoder(output: Output, split: str = "train") -> Any:
    """``row_encoder`` as a ``rlvr.api.JoinedLines`` where ``output`` takes JSON lines (a file or
    stdout): the worker processes then join each chunk's lines into one ``RowBlock``, which
    ``write_tasks(blocks=True)`` writes with one call; None for the formats of other rows."""
    from rlvr.api import JoinedLines

    encode = row_encoder(output, split)
    return JoinedLines(encode) if encode is Task.to_json else None


def counted_blocks(blocks: Iterable[Any], progress: Any) -> Iterator[Any]:
    """``blocks`` (``RowBlock``s), a progress bar advanced by each one's rows."""
    for block in blocks:
        progress.update(len(block))
        yield block


def write_tasks(
    tasks: Iterable[Task],
    output: str | Output,
    file_format: str = "auto",
    *,
    metadata: dict | None = None,
    shard_size: int | None = None,
    split: str = "train",
    encoded: bool = False,
    blocks: bool = False,
) -> Written:
    """Save ``tasks`` in one of ``OUTPUT_FORMATS`` (see ``plan_output``), streamed: JSON lines a
    line at a time, Parquet in row groups, HF through ``Dataset.from_generator``. Every file
    appears only once all are written. ``shard_size`` splits a file output into
    ``<stem>-00000<suffix>``, … of that many rows (HF: that many rows per Arrow file); verl's
    ``extra_info.index`` counts across the shards. ``metadata`` (provenance, with the shard's
    index and first row added) goes into Parquet's key-value metadata, the HF dataset's
    description, or a ``<output>.provenance.json`` sidecar next to JSON lines. ``encoded``:
    ``tasks`` are the rows ``row_encoder(output, split)`` made of the tasks. ``blocks``: ``tasks``
    are ``RowBlock``s of those rows (``block_encoder``; JSON lines only), each written with one
    call, a shard's end cutting the block it falls in; the bytes are those of the rows one by one."""
    output = output if isinstance(output, Output) else plan_output("-o", str(output), file_format)
    if blocks and output.path is not None and output.file_format != "jsonl":
        raise ValueError(f"row blocks are JSON lines, not {output.file_format} rows")
    rows = iter(tasks) if encoded or blocks else map(row_encoder(output, split), tasks)
    if output.path is None:
        count = 0
        if blocks:
            for block in rows:
                sys.stdout.write(block.data.decode("utf-8"))
                count += len(block)
        else:
            for line in rows:
                sys.stdout.write(line + "\n")
                count += 1
        sys.stdout.flush()
        return Written(count, ("stdout",))
    if output.file_format == "hf":
        from rlvr.integrations import hf

        with atomic_path(output.path, directory=True) as temporary:
            count = hf.save(rows, temporary, metadata=metadata, shard_rows=shard_size, encoded=True)
        return Written(count, (str(output.path),))
    from rlvr.api import RowCursor

    stream = rows
    cursor = RowCursor(rows) if blocks else None
    paths: list[Path] = []
    count = 0
    with contextlib.ExitStack() as stack:
        while True:
            index = len(paths)
            target = shard_path(output.path, index) if shard_size else output.path
            if cursor is not None:
                batch = cursor.take(shard_size or None)
            else:
                batch = itertools.islice(stream, shard_size) if shard_size else stream
            head = next(batch, None)
            if head is None and (shard_size and index > 0):
                break
            shard = chain([head], batch) if head is not None else iter(())
            temporary = stack.enter_context(atomic_path(target))
            shard_metadata = None if metadata is None else {**metadata, "shard": {"index": index, "first_row": count}}
            if output.file_format == "verl":
                from rlvr.integrations import verl

                written = verl.write_rows(shard, temporary, start_index=count, metadata=shard_metadata)
            elif output.file_format == "parquet":
                written = write_parquet_rows(shard, temporary, task_schema(shard_metadata))
            elif blocks:
                written = write_line_blocks(shard, temporary)
            else:
                written = write_lines(shard, temporary)
            count += written
            paths.append(target)
            if not shard_size or written < shard_size:
                break
        if output.file_format == "jsonl" and metadata is not None:
            sidecar = stack.enter_context(atomic_path(Path(f"{output.path}{PROVENANCE_SUFFIX}")))
            sidecar.write_text(
                json.dumps({**metadata, "rows": count, "files": [p.name for p in paths]}, indent=2, default=str) + "\n",
                encoding="utf-8",
            )
    return Written(count, tuple(map(str, paths)))


def write_lines(lines: Iterable[str], path: Path) -> int:
    """JSON lines, one task's canonical JSON a line; returns how many."""
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
            count += 1
    return count


def write_line_blocks(blocks: Iterable[Any], path: Path) -> int:
    """``write_lines`` of ``RowBlock``s, a block with one call; returns how many rows."""
    count = 0
    with open(path, "wb") as handle:
        for block in blocks:
            handle.write(block.data)
            count += len(block)
    return count


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _workers(args: argparse.Namespace) -> int | None:
    """``--workers``, by default 1 local process, or every CPU of the Ray cluster (None)."""
    return args.workers or (None if args.backend == "ray" else 1)


def _add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", type=positive_int, help="parallel workers (default: 1 process; with ray, every CPU of the cluster)"
    )
    parser.add_argument(
        "--backend",
        choices=("process", "ray"),
        default="process",
        help="local processes, or remote calls on a Ray cluster (pip install 'rlvr[ray]')",
    )
    parser.add_argument("--address", help="the Ray cluster: auto, ray://host:10001, … (default: start a local Ray)")


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def distinct_line(env_id: str, **generator_options: Any) -> str:
    """``~267→>2,709→…``: estimated distinct tasks at d = 0, .25, .5, .75, 1 (cached)."""
    from rlvr.api import PROFILE_POINTS, describe_distinct, estimate_distinct

    try:
        return "→".join(describe_distinct(estimate_distinct(env_id, d, **generator_options)) for d in PROFILE_POINTS)
    except Exception as error:  # an env that needs a dataset or an optional dependency
        return f"(not estimated: {type(error).__name__}: {str(error)[:80]})"


def cmd_list(args: argparse.Namespace) -> int:
    for row in rlvr.list_envs():
        kind = "image" if row["visual"] else "text"
        print(f"{row['id']:<22} [{kind}] {row['description']}\n{'':<22} difficulty 0→.25→.5→.75→1: {row['difficulty']}")
        if args.distinct:
            print(f"{'':<22} distinct tasks (estimate):   {distinct_line(row['id'])}")
    print("\n'rlvr info ENV' shows one env in full: contract, difficulty table, options, an example.")
    if args.distinct:
        print(
            "Distinct tasks: from 128 draws per difficulty (~ with repeats seen, > a 95% lower bound without); cached."
        )
    return 0


def _defaults(cls: type, names: Sequence[str], effective: dict | None = None) -> list[str]:
    """``name=default`` for each of ``names`` that ``cls.__init__`` declares (with the value a
    None default stands for, from ``effective``, in parentheses)."""
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        parameters = {}
    shown = []
    for name in names:
        parameter = parameters.get(name)
        if parameter is None or parameter.default is inspect.Parameter.empty:
            shown.append(name)
        else:
            meaning = f" ({effective[name]!r})" if parameter.default is None and name in (effective or {}) else ""
            shown.append(f"{name}={parameter.default!r}{meaning}")
    return shown


def _excerpt(text: str, lines: int) -> str:
    rows = text.splitlines()
    if len(rows) <= lines:
        return text
    return "\n".join([*rows[:lines], f"… ({len(rows) - lines} more lines; the whole text: rlvr.make_task(...).prompt)"])


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line.strip() else line for line in text.splitlines())


def cmd_info(args: argparse.Namespace) -> int:
    from rlvr.api import PROFILE_POINTS, difficulty_profile
    from rlvr.envs.registry import build_generator, family_doc, get_spec, load_object, split_options

    spec = get_spec(env_id_of(args.env))
    entry = load_object(spec.entry_point)
    entry_parameters = inspect.signature(entry).parameters
    default_difficulty = entry_parameters["difficulty"].default
    difficulty = default_difficulty if args.difficulty is None else args.difficulty
    print(f"{spec.id}  [{'image' if spec.visual else 'text'}]  {spec.description}")
    print(f"gym.make({spec.id!r}) — default difficulty {default_difficulty}; entry point {spec.entry_point}\n")
    print(f"Contract ({spec.family_module})\n")
    print(_indent(inspect.cleandoc(family_doc(spec))) + "\n")
    with user_input(f"give generator options with --param key=value, see 'rlvr info {spec.id}'"):
        generator_options = split_options(spec, options_of(args))[0]  # e.g. a required dataset=
        generator = build_generator(spec, **generator_options)  # a bad or missing option fails here, in one line
    family = spec.family
    profile = difficulty_profile(family.table, generator=generator)
    print("Difficulty table (the knob d; any parameter given explicitly wins)\n")
    if profile:
        print(
            _indent(
                _table(
                    [[key, *(str(v) for v in values)] for key, values in profile.items()],
                    ["parameter", *(f"d={d:g}" for d in PROFILE_POINTS)],
                )
            )
            + "\n"
        )
    else:
        print("    (no parameters: the knob does not change this env's tasks)\n")
    print(
        "Options of gym.make, rlvr.make_task and friends, in three groups (a flat name goes to the group that\n"
        "declares it; a name two groups declare must be passed inside its group)\n"
    )
    rows = [[row["name"], row["allowed"], row["doc"]] for row in family.table.schema()]
    print(
        "  params={...}  task parameters (part of the task id)\n"
        + (_indent(_table(rows, ["name", "allowed", "what"])) if rows else "    (none)")
    )
    for group, declared, cls in (
        ("generator_options", family.generator_options, load_object(spec.generator)),
        ("verifier_options", family.verifier_options, load_object(spec.verifier)),
    ):
        shown = dict(zip(declared, _defaults(cls, list(declared))))
        rows = [[shown[name], doc] for name, doc in declared.items()]
        print(f"\n  {group}={{...}}\n" + (_indent(_table(rows, ["name=default", "what"])) if rows else "    (none)"))
    env_arguments = [
        name
        for name, p in entry_parameters.items()
        if name not in ("self", "env_id", "options") and p.kind is not p.VAR_KEYWORD
    ]
    print(f"\n  env arguments: {', '.join(_defaults(entry, env_arguments, spec.extra))}\n")
    print(
        "Distinct tasks at d=0→.25→.5→.75→1 (estimate from 128 draws each; ~ with repeats seen, > a 95% lower bound)\n"
    )
    print(f"    {distinct_line(spec.id, **generator_options)}\n")
    task = first_task(spec.id, args.seed, difficulty, options_of(args))
    print(f"Example: task {task.id} (seed {args.seed}, difficulty {difficulty})\n")
    print("  prompt:\n" + _indent(_excerpt(task.prompt, args.lines)) + "\n")
    print("  reference answer (rlvr.solve):\n" + _indent(_excerpt(rlvr.solve(task), args.lines)))
    if task.images:
        directory = Path(args.image_dir or Path(tempfile.gettempdir()) / "rlvr-info")
        directory.mkdir(parents=True, exist_ok=True)
        for index, image in enumerate(task.images):
            path = directory / f"{spec.id.split('/')[-1]}_s{args.seed}_d{difficulty:g}_{index}.png"
            image.save(path)
            print(f"\n  image {index}: {path}")
    return 0


SPLIT_ALL = "all"  # --split all: the raw seed stream (split=None)


def split_of(text: str) -> str | None:
    """``--split``: a split name, or ``all`` for the unsplit seed stream."""
    from rlvr.api import check_split

    if text == SPLIT_ALL:
        return None
    try:
        return check_split(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def env_weight(text: str) -> tuple[str, float]:
    """``--env ID[:weight]``."""
    env_id, sep, weight = text.rpartition(":")
    if not sep:
        return text, 1.0
    try:
        value = float(weight)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes ID or ID:weight, got {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"weight must be a finite number ≥ 0, got {text!r}")
    return env_id, value


def read_mix(path: str) -> Any:
    """The ``envs`` of a mixture file: YAML with one top-level key, ``envs``, in the trainer
    config's format."""
    import yaml

    with user_input("give a YAML file with a top-level 'envs:' mapping"):
        with open(path, encoding="utf-8") as handle:
            try:
                data = yaml.safe_load(handle)
            except yaml.YAMLError as error:
                raise ValueError(f"--mix {path} is not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict) or "envs" not in data or set(data) != {"envs"}:
        found = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise UsageError(
            f"--mix {path}: expected one top-level key 'envs', found {found or 'nothing'}, "
            f"write envs: {{ENV: weight or {{weight, difficulty, options}}}}"
        )
    return data["envs"]


def mixture_of(args: argparse.Namespace) -> list[dict]:
    """The mixture entries of ``generate``'s arguments: ``--mix``, or the positional env and
    ``--env ID[:weight]``; ``--param ENV:key=value`` goes to one env, ``--param key=value`` (and
    ``--dataset``) to every env that has no such option of its own."""
    from rlvr.trainers.config import env_entries

    given = [(args.env, 1.0)] if args.env else []
    given += args.envs or []
    if args.mix and given:
        raise UsageError("give --mix or env ids, not both, see 'rlvr generate --help'")
    if not args.mix and not given:
        raise UsageError("name an env (rlvr generate ENV, --env ID[:weight]) or a mixture file (--mix mix.yaml)")
    with user_input("see 'rlvr generate --help' for the mixture format"):
        raw = (
            env_entries(read_mix(args.mix))
            if args.mix
            else [{"id": env_id, "weight": weight} for env_id, weight in given]
        )
    entries = []
    for entry in raw:
        entry = {"id": entry} if isinstance(entry, str) else dict(entry) if isinstance(entry, dict) else entry
        if not isinstance(entry, dict) or "id" not in entry:
            raise UsageError(f"--mix {args.mix}: an entry must be an env id or a mapping, got {entry!r}")
        entry["id"] = env_id_of(str(entry["id"]))
        entries.append(entry)
    shared, per_env = dict(options_of(args)), {}
    for key, value in list(shared.items()):
        env_part, sep, name = key.rpartition(":")
        if sep:
            del shared[key]
            per_env.setdefault(env_id_of(env_part), {})[name] = value
    unknown = set(per_env) - {entry["id"] for entry in entries}
    if unknown:
        raise UsageError(f"--param names {', '.join(sorted(unknown))}, which is not in the mixture; use an env of it")
    for entry in entries:
        entry["options"] = {**shared, **(entry.get("options") or {}), **per_env.get(entry["id"], {})}
    return entries


def provenance(args: argparse.Namespace, **fields: Any) -> dict:
    """What made an output: rlvr version, the command line and the arguments that matter."""
    return {"rlvr_version": rlvr.__version__, "command": getattr(args, "command_line", None), **fields}


def cmd_generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rlvr.api import FewerDistinctTasks, mix_parts, start_worker_server

    output = plan_output("-o", args.output, args.format)
    if output.file_format in ("hf", "verl"):
        _require("datasets" if output.file_format == "hf" else "pyarrow", f"--format {output.file_format}", "hf")
    if args.shard_size and output.path is None:
        raise UsageError("--shard-size writes several files, give -o a file name instead of -")
    entries = mixture_of(args)
    with user_input("--seed is the first stream position"):
        check_seed(args.seed, args.n)
    difficulty = args.difficulty if args.difficulty is None or len(args.difficulty) > 1 else args.difficulty[0]
    with user_input("see 'rlvr generate --help' for the mixture format"):
        parts = mix_parts(entries, args.n, difficulty)
    if args.backend == "process" and (args.workers or 1) > 1 and args.n > 1:
        start_worker_server((part.env_id, part.difficulty) for part in parts)  # works while the parts are checked
    for part in parts:  # a bad parameter, option or dataset fails before any output
        first_task(part.env_id, args.seed, part.difficulty, part.options, args.split)
    if args.backend == "ray" and len(parts) > 1:
        raise UsageError("--backend ray makes one env at one difficulty per run, give one env and one --difficulty")
    joined = block_encoder(output, args.split or SPLIT_ALL) if args.backend == "process" else None
    encode = joined or row_encoder(output, args.split or SPLIT_ALL)
    if args.backend == "ray":
        part = parts[0]
        tasks = rlvr.iter_generate(
            part.env_id,
            part.count,
            args.seed,
            part.difficulty,
            _workers(args),
            split=args.split,
            allow_duplicates=args.allow_duplicates,
            backend="ray",
            address=args.address,
            encode=encode,
            **part.options,
        )
    else:  # the worker processes make the output's rows too
        with user_input("rlvr generate writes tasks; give verifier options where answers are scored"):
            tasks = rlvr.iter_generate_mix(
                entries,
                args.n,
                args.seed,
                difficulty,
                _workers(args),
                split=args.split,
                allow_duplicates=args.allow_duplicates,
                encode=encode,
            )
    metadata = provenance(
        args,
        n=args.n,
        seed=args.seed,
        split=args.split,
        allow_duplicates=args.allow_duplicates,
        format=output.file_format,
        parts=[part.to_dict() for part in parts],
    )
    # JSON lines come in blocks of rows (a chunk's, joined in the worker that made it): the
    # progress bar advances a block at a time
    progress = tqdm(
        None if joined else tasks, total=args.n, unit="task", disable=args.quiet, file=sys.stderr, delay=1.0
    )
    rows = counted_blocks(tasks, progress) if joined else progress
    try:
        written = write_tasks(
            rows,
            output,
            metadata=metadata,
            shard_size=args.shard_size,
            split=args.split or SPLIT_ALL,
            encoded=True,
            blocks=joined is not None,
        )
    except FewerDistinctTasks as error:
        raise UsageError(f"{error} (--allow-duplicates)") from None
    finally:
        progress.close()
        # closed here, not when the interrupted frames are freed: its pool's processes are
        # stopped now (a Ctrl-C between two tasks left it open, and the exit then waited)
        getattr(tasks, "close", lambda: None)()
    print(f"wrote {written.count} tasks to {written}", file=sys.stderr)
    return 0


def read_any_tasks(path: str) -> Iterator[Task]:
    """Tasks of any format ``rlvr generate`` writes: JSON lines, Parquet, verl Parquet (told by
    its ``reward_model`` column) or a HF ``save_to_disk`` directory."""
    source = Path(path)
    if source.is_dir():
        _require("datasets", "reading a HF dataset directory", "hf")
        import datasets

        from rlvr.integrations import hf

        return hf.iter_dataset(datasets.load_from_disk(str(source)))
    if source.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        if "reward_model" in pq.read_schema(str(source)).names:
            from rlvr.integrations import verl

            return verl.read_tasks(source)
    return iter_tasks(source)


def source_provenance(path: str) -> dict | None:
    """The provenance stored with an input file, if any."""
    source = Path(path)
    if source.is_dir():
        info = source / "dataset_info.json"
        if info.is_file():
            with contextlib.suppress(ValueError, OSError):
                return json.loads(json.loads(info.read_text(encoding="utf-8")).get("description") or "null")
        return None
    if source.suffix.lower() == ".parquet":
        from rlvr.core import parquet_provenance

        return parquet_provenance(source)
    sidecar = Path(f"{source}{PROVENANCE_SUFFIX}")
    return json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else None


def cmd_convert(args: argparse.Namespace) -> int:
    if not Path(args.input).exists():
        raise UsageError(f"cannot read {args.input}: no such file or directory, give a file written by 'rlvr generate'")
    output = plan_output("OUT", args.output, args.format)
    if args.shard_size and output.path is None:
        raise UsageError("--shard-size writes several files, give OUT a file name instead of -")
    with user_input("give a file written by 'rlvr generate'"):
        tasks = read_any_tasks(args.input)
        first = next(iter(tasks), None)
        earlier = source_provenance(args.input)
    if first is None:
        raise UsageError(f"{args.input} holds no tasks, give a file written by 'rlvr generate'")
    metadata = provenance(args, converted_from=str(args.input), format=output.file_format, source=earlier)
    split = (earlier or {}).get("split") or "train"
    with user_input("give a file written by 'rlvr generate'"):
        written = write_tasks(chain([first], tasks), output, metadata=metadata, shard_size=args.shard_size, split=split)
    print(f"wrote {written.count} tasks to {written}", file=sys.stderr)
    return 0


def _require(module: str, feature: str, extra: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise UsageError(f"{feature} needs the {module} package, pip install 'rlvr[{extra}]'")


def read_tasks(path: str) -> list[Task]:
    """Every task of a JSON-lines or Parquet file; a UsageError names a missing or malformed one."""
    with user_input("give a file written by 'rlvr generate'"):
        tasks = list(iter_tasks(path))
    if not tasks:
        raise UsageError(f"{path} holds no tasks, give a file written by 'rlvr generate'")
    return tasks


RESPONSE_KEYS = ("id", "response")


def read_responses(path: str) -> list[tuple[str | None, Any]]:
    """Rows of ``{"id": …, "response": …}`` (``id`` optional: then rows pair with tasks by
    position) or bare JSON strings, one per line. A malformed line, or a row without
    ``response``, is a UsageError naming the file, the line and the keys it has."""
    rows = []
    ignored: set[str] = set()
    with user_input('give JSON lines of {"id": …, "response": …}'):
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise UsageError(
                        f"{path}:{number}: not JSON ({error.msg} at column {error.colno}), "
                        f"give one JSON object or string per line"
                    ) from None
                if isinstance(row, str):
                    rows.append((None, row))
                    continue
                if not isinstance(row, dict) or "response" not in row:
                    found = ", ".join(map(repr, row)) if isinstance(row, dict) else type(row).__name__
                    raise UsageError(
                        f"{path}:{number}: a row needs the key 'response' (and 'id'), found {found or 'nothing'}, "
                        f'rename the keys to {{"id": …, "response": …}}'
                    )
                if "id" in row and not isinstance(row["id"], str):
                    raise UsageError(
                        f"{path}:{number}: 'id' must be a task id string, got {row['id']!r}, "
                        "copy the id from the tasks file"
                    )
                ignored.update(key for key in row if key not in RESPONSE_KEYS)
                rows.append((row.get("id"), row["response"]))
    if ignored:
        print(
            f"note: {path}: ignored keys {', '.join(map(repr, sorted(ignored)))} (only 'id' and 'response' are read)",
            file=sys.stderr,
        )
    if not rows:
        raise UsageError(f"{path} holds no responses, nothing to verify")
    return rows


def pair_responses(tasks: list[Task], responses: list[tuple[str | None, Any]], path: str) -> list[tuple[Task, Any]]:
    """(task, response) pairs: by ``id``, or by position for rows without one."""
    by_id = {task.id: task for task in tasks}
    pairs: list[tuple[Task, Any]] = []
    for position, (task_id, response) in enumerate(responses):
        if task_id is not None:
            if task_id not in by_id:
                raise UsageError(
                    f"{path}: row {position + 1}: unknown task id {task_id!r}, use the ids of the tasks file"
                )
            pairs.append((by_id[task_id], response))
        elif position < len(tasks):
            pairs.append((tasks[position], response))
        else:
            raise UsageError(
                f"{path}: row {position + 1} has no id and there are only {len(tasks)} tasks, "
                f"add ids or give one response per task in order"
            )
    return pairs


def cmd_verify(args: argparse.Namespace) -> int:
    output = plan_output("-o", args.output or STDOUT, jsonl_only=True)
    tasks = read_tasks(args.tasks)
    pairs = pair_responses(tasks, read_responses(args.responses), args.responses)
    verdicts = rlvr.verify_batch(
        [t for t, _ in pairs], [r for _, r in pairs], workers=_workers(args), backend=args.backend, address=args.address
    )
    with open_text_output(output) as out:
        for (task, _), verdict in zip(pairs, verdicts):
            out.write(json.dumps({"id": task.id, **verdict.to_dict()}, default=str) + "\n")
    answered = {task.id for task, _ in pairs}
    missing = [task.id for task in tasks if task.id not in answered]
    n = len(verdicts)
    summary = {
        "rows": n,
        "tasks": len(tasks),
        "missing": len(missing),
        "mean_reward": round(sum(v.reward for v in verdicts) / n, 4),
        "accuracy": round(sum(v.correct for v in verdicts) / n, 4),
        "format_ok": round(sum(v.format_ok for v in verdicts) / n, 4),
    }
    if missing:
        print(f"note: {len(missing)} of {len(tasks)} tasks have no response (first: {missing[0]})", file=sys.stderr)
    print(json.dumps(summary), file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    env_ids = [env_id_of(e) for e in args.envs] or [row["id"] for row in rlvr.list_envs()]
    for env_id in env_ids:
        first_task(env_id, args.seed, args.difficulty, {})
    rows = []
    for env_id in env_ids:
        start = time.perf_counter()
        tasks = rlvr.generate(env_id, args.n, seed=args.seed, difficulty=args.difficulty)
        generated = time.perf_counter() - start
        responses = [rlvr.solve(task) for task in tasks]
        start = time.perf_counter()
        verdicts = [rlvr.verify(task, response) for task, response in zip(tasks, responses)]
        verified = time.perf_counter() - start
        rows.append(
            [
                env_id,
                f"{args.n / generated:,.0f}",
                f"{args.n / verified:,.0f}",
                f"{sum(v.correct for v in verdicts)}/{args.n}",
            ]
        )
    print(_table(rows, ["env", "tasks/s", "verdicts/s", "reference correct"]))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    _require("openai", "rlvr eval", "eval")
    from rlvr.integrations.openai_eval import EndpointUnreachable, evaluate, summary_table, write_results, write_samples

    env_ids = [env_id_of(e) for e in args.env]
    output = plan_output("-o", args.output, "json") if args.output else None
    samples = plan_output("--samples", args.samples, jsonl_only=True) if args.samples else None
    env_options = dict(args.param or [])
    for env_id in env_ids:
        first_task(env_id, args.seed, args.difficulty[0], env_options, args.split)
    try:
        results = evaluate(
            args.base_url,
            args.model,
            env_ids,
            args.n,
            k=args.k,
            difficulties=args.difficulty,
            seed=args.seed,
            concurrency=args.concurrency,
            max_retries=args.max_retries,
            timeout=args.timeout,
            temperature=args.temperature,
            max_tokens=args.max_tokens or None,
            top_p=args.top_p,
            system_prompt=args.system,
            api_key=args.api_key,
            env_options=env_options,
            extra_body=dict(args.extra or []) or None,
            request_seed=not args.no_request_seed,
            verify_workers=args.verify_workers,
            progress=not args.quiet,
            split=args.split,
        )
    except EndpointUnreachable as error:
        raise UsageError(f"{error}, check --base-url and that the server is running") from None
    header, rows = summary_table(results)
    print(_table(rows, header))
    overall = results["overall"]
    error_rate = overall["errors"] / max(1, overall["samples"])
    if overall["first_error"]:
        print(
            f"\n{overall['errors']} of {overall['samples']} requests failed ({error_rate:.1%}); "
            f"first error: {overall['first_error']}"
        )
    if output is not None:
        with open_text_output(output) as handle:
            write_results(results, handle)
    if samples is not None:
        with open_text_output(samples) as handle:
            write_samples(results, handle)
    if error_rate > args.max_error_rate:
        print(
            f"rlvr eval: {error_rate:.1%} of requests failed, more than --max-error-rate {args.max_error_rate:g}",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from rlvr.attacks import audit
    from rlvr.envs.registry import get_spec

    env_ids = [env_id_of(e) for e in args.envs] or [row["id"] for row in rlvr.list_envs()]
    options = dict(args.option or [])
    for env_id in env_ids:
        spec = get_spec(env_id)
        unknown = sorted(set(options) - set(spec.verifier_options) - set(spec.generator_options))
        if unknown:
            known = ", ".join((*spec.generator_options, *spec.verifier_options)) or "none"
            kind = "generator or verifier" if spec.generator_options else "verifier"
            raise UsageError(
                f"unknown {kind} option {', '.join(map(repr, unknown))} for {env_id} (known: {known}), "
                f"see 'rlvr info {env_id}'"
            )
    failed = 0
    for env_id in env_ids:
        spec = get_spec(env_id)
        generator_options = {k: v for k, v in options.items() if k in spec.generator_options}
        try:  # an env that cannot be made (a required dataset= not given) fails here, in one line
            with user_input(f"give generator options with --option key=value, see 'rlvr info {env_id}'"):
                rlvr.make_generator(env_id, **generator_options)
        except UsageError as error:
            if args.envs:
                raise
            print(f"== {env_id}\nskipped: {error}")
            continue
        report = audit(
            env_id,
            n=args.n,
            seed=args.seed,
            difficulties=tuple(args.difficulty),
            max_reward=args.max_reward,
            generator_options=generator_options,
            verifier_options={k: v for k, v in options.items() if k in spec.verifier_options},
            attack_filter=args.only,
            workers=args.workers,
        )
        print(f"== {env_id}")
        print(report.table())
        failed += not report.passed
    if len(env_ids) > 1:
        print(f"{len(env_ids) - failed}/{len(env_ids)} envs passed the audit")
    return 1 if failed else 0


def cmd_sandbox_build_image(args: argparse.Namespace) -> int:
    from rlvr.verifiers.sandbox.image import ImageBuildError, build_instance_image, build_repo_image, ensure_base_image

    if bool(args.swebench) != bool(args.repos_dir):
        raise UsageError("--swebench and --repos-dir go together")
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731 - progress goes to stderr, tags to stdout
    try:
        if args.swebench:
            with user_input("give a SWE-bench JSONL file"), open(args.swebench, encoding="utf-8") as handle:
                rows = [json.loads(line) for line in handle if line.strip()]
            for row in rows:
                checkout = Path(args.repos_dir) / str(row["repo"]).replace("/", "__")
                print(build_instance_image(row, checkout, base=args.base, force=args.force, log=log))
            return 0
        if args.repo:
            tag = build_repo_image(args.repo, base=args.base, force=args.force, log=log)
        else:
            tag = ensure_base_image(force=args.force, log=log)
    except ImageBuildError as error:
        print(f"rlvr sandbox build-image: {error}", file=sys.stderr)
        return 1
    print(tag)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {args.out} is a file, give a directory")
    with user_input("choose a writable --out directory"):
        out_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise UsageError(f"--out {args.out}: permission denied, choose a writable directory")
    rows, failures, skipped = [], 0, []
    for env in rlvr.list_envs():
        env_id = env["id"]
        try:
            generator = rlvr.make_generator(env_id)
        except ValueError as error:  # an env that needs data the project does not ship (dataset=)
            skipped.append(f"{env_id} skipped: {str(error).removeprefix(env_id).lstrip()}")
            continue
        for difficulty in DEMO_DIFFICULTIES:
            task = rlvr.make_task(env_id, seed=args.seed, difficulty=difficulty)
            reference = rlvr.verify(task, rlvr.solve(task))
            wrong = rlvr.verify(task, generator.wrong_response(task))
            ok = reference.correct and not wrong.correct
            failures += not ok
            for index, image in enumerate(task.images):
                name = f"{env_id.split('/')[-1]}_d{difficulty:.1f}_{index}.png"
                image.save(out_dir / name)
            params = ", ".join(f"{k}={v}" for k, v in task.params.items() if not isinstance(v, (list, tuple, dict)))
            rows.append(
                [
                    env_id,
                    f"{difficulty:.1f}",
                    params[:48],
                    f"{reference.reward:.2f}",
                    f"{wrong.reward:.2f}",
                    wrong.reason[:40],
                    "ok" if ok else "FAIL",
                ]
            )
    print(_table(rows, ["env", "d", "parameters", "reference", "wrong", "why wrong", "check"]))
    if skipped:
        print("\n" + "\n".join(skipped))
    print(f"\nexample images in {out_dir}/; {len(rows) - failures}/{len(rows)} checks passed")
    return 1 if failures else 0


# --------------------------------------------------------------------------------------------
# Parser and entry point
# --------------------------------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    """Options every command takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = Parser(prog="rlvr", description="Verifiable task environments for RLVR", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        child = sub.add_parser(name, help=help, description=help, parents=[common])
        child.set_defaults(func=func)
        return child

    listing = command("list", cmd_list, "list every env with its difficulty parameters at d = 0, .25, .5, .75, 1")
    listing.add_argument(
        "--distinct",
        action="store_true",
        help="also estimate distinct tasks per difficulty (128 draws each, cached; slow the first time)",
    )

    info = command("info", cmd_info, "one env in full: contract, difficulty table, options with defaults, an example")
    info.add_argument("env", help="an env id, e.g. rlvr/Maze-v0 or Maze-v0")
    info.add_argument("--difficulty", type=difficulty_value, help="of the example (default: the env's default)")
    info.add_argument("--seed", type=int, default=0, help="of the example")
    info.add_argument(
        "--param", type=_parse_param, action="append", help="an option or task parameter of the example: key=value"
    )
    info.add_argument(
        "--lines", type=positive_int, default=40, help="show at most this many lines of the prompt and answer"
    )
    info.add_argument("--image-dir", help="where to save a visual example's images (default: a temporary directory)")

    gen = command(
        "generate",
        cmd_generate,
        "write synthetic tasks as JSON lines, Parquet, a HF dataset or verl Parquet: "
        "one env, or a mixture of envs and difficulties",
    )
    gen.add_argument("env", nargs="?", help="an env id, e.g. rlvr/Maze-v0 or Maze-v0 (or use --env / --mix)")
    gen.add_argument(
        "--env",
        dest="envs",
        type=env_weight,
        action="append",
        metavar="ID[:WEIGHT]",
        help="an env of the mixture with its weight (default 1); repeat for several",
    )
    gen.add_argument(
        "--mix",
        help="a YAML mixture: envs: {ENV: weight or {weight, difficulty, options}} "
        "(the trainer config's envs format; difficulty a number or a list)",
    )
    gen.add_argument(
        "-n", type=positive_int, required=True, help="how many tasks in all (shared by weight, largest remainders)"
    )
    gen.add_argument("-o", "--output", required=True, help="the file (a directory for --format hf); - for stdout")
    gen.add_argument(
        "--difficulty",
        type=difficulty_value,
        nargs="+",
        help="in [0, 1] (default 0.5); several spread each env's share evenly; a --mix entry's own wins",
    )
    gen.add_argument("--seed", type=int, default=0, help="the first stream position, and the interleaving order")
    gen.add_argument(
        "--split",
        type=split_of,
        default="train",
        help="train (default), test or any name: content-disjoint task streams; all: the raw seeds",
    )
    gen.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="keep repeated prompts (default: skip them; too few distinct tasks is an error)",
    )
    gen.add_argument("--shard-size", type=positive_int, help="rows per file: OUT-00000.parquet, OUT-00001.parquet, …")
    _add_backend_arguments(gen)
    gen.add_argument("--dataset", help="serve rows of this file (dataset-backed envs)")
    gen.add_argument(
        "--param",
        type=_parse_param,
        action="append",
        help="a task parameter or option: key=value for every env, ENV:key=value for one",
    )
    gen.add_argument(
        "--format",
        choices=OUTPUT_FORMATS,
        default="auto",
        help="jsonl, parquet, hf (a datasets.save_to_disk directory) or verl (verl's Parquet layout); "
        "auto: from the extension, .jsonl or .parquet",
    )
    gen.add_argument("-q", "--quiet", action="store_true")

    conv = command("convert", cmd_convert, "convert tasks between JSON lines, Parquet, verl Parquet and a HF dataset")
    conv.add_argument("input", help="a .jsonl, .parquet (rlvr or verl layout) or HF dataset directory")
    conv.add_argument("output", help="the output (as rlvr generate -o)")
    conv.add_argument("--format", choices=OUTPUT_FORMATS, default="auto", help="as rlvr generate --format")
    conv.add_argument("--shard-size", type=positive_int, help="rows per output file")

    ver = command("verify", cmd_verify, "verify responses against tasks")
    ver.add_argument("tasks", help="tasks written by rlvr generate (.jsonl or .parquet)")
    ver.add_argument("responses", help='JSON lines {"id": …, "response": …} (or bare strings, in task order)')
    ver.add_argument("-o", "--output", help="verdicts as JSON lines (default: stdout)")
    _add_backend_arguments(ver)

    bench = command("bench", cmd_bench, "generation and verification throughput per env")
    bench.add_argument("envs", nargs="*")
    bench.add_argument("-n", type=positive_int, default=200)
    bench.add_argument("--difficulty", type=difficulty_value, default=0.5)
    bench.add_argument("--seed", type=int, default=0)

    ev = command(
        "eval", cmd_eval, "evaluate an OpenAI-compatible endpoint: pass@1, pass@k, mean reward per env and difficulty"
    )
    ev.add_argument("--base-url", required=True, help="e.g. http://localhost:8000/v1")
    ev.add_argument("--model", required=True)
    ev.add_argument("--env", action="append", required=True, help="an env id; repeat for several")
    ev.add_argument(
        "-n", "--n", type=positive_int, default=200, help="tasks per env and difficulty (seeds seed … seed+n-1)"
    )
    ev.add_argument("--k", type=positive_int, default=1, help="samples per task")
    ev.add_argument("--difficulty", type=difficulty_value, nargs="+", default=[0.5])
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument(
        "--split",
        type=split_of,
        default="test",
        help="test (default: never a train prompt), train or any name; all: the raw seeds (e.g. every dataset row)",
    )
    ev.add_argument("--concurrency", type=positive_int, default=16, help="requests in flight")
    ev.add_argument("--max-retries", type=int, default=3)
    ev.add_argument("--timeout", type=float, default=120.0, help="seconds per request try")
    ev.add_argument("--temperature", type=float, default=1.0)
    ev.add_argument(
        "--max-tokens", type=int, default=2048, help="0 sends none (e.g. with --extra max_completion_tokens=N)"
    )
    ev.add_argument("--top-p", type=float)
    ev.add_argument("--system", help="system prompt")
    ev.add_argument("--api-key", help="default: $OPENAI_API_KEY, else EMPTY")
    ev.add_argument(
        "--param", type=_parse_param, action="append", help="env option or task parameter for every env: key=value"
    )
    ev.add_argument(
        "--extra", type=_parse_param, action="append", help="extra request body field: key=value (JSON value)"
    )
    ev.add_argument("--no-request-seed", action="store_true", help="do not send a per-sample seed")
    ev.add_argument("--verify-workers", type=positive_int, help="verification threads (default: CPU count)")
    ev.add_argument(
        "--max-error-rate",
        type=float,
        default=0.01,
        help="exit 1 when a larger fraction of requests failed after their retries (default 0.01)",
    )
    ev.add_argument("-o", "--output", help="results JSON: config, rows, overall")
    ev.add_argument("--samples", help="one JSON line per request")
    ev.add_argument("-q", "--quiet", action="store_true")

    aud = command("audit", cmd_audit, "run every reward-hacking attack on an env; exit 1 if any scored or overran")
    aud.add_argument("envs", nargs="*", metavar="ENV", help="env ids (default: every env)")
    aud.add_argument("-n", "--n", type=positive_int, default=3, help="tasks per difficulty")
    aud.add_argument("--seed", type=int, default=0)
    aud.add_argument("--difficulty", type=difficulty_value, nargs="+", default=[0.0, 0.5, 1.0])
    aud.add_argument("--option", type=_parse_param, action="append", help="generator or verifier option: key=value")
    aud.add_argument(
        "--max-reward",
        type=float,
        default=0.0,
        help="highest reward an attack may earn (the documented cap of a partial-credit option)",
    )
    aud.add_argument("--only", help="run only attacks whose name contains this")
    aud.add_argument("--workers", type=positive_int, default=2, help="verifier calls at once (default 2)")

    box = command("sandbox", lambda args: box.print_help() or EXIT_USAGE, "the docker sandbox's images")
    box_sub = box.add_subparsers(dest="sandbox_command", required=True, parser_class=Parser)
    build = box_sub.add_parser(
        "build-image",
        parents=[common],
        help="build the docker sandbox's base image (skipped when its recipe's tag exists) or, "
        "with --repo, an image with a repository and its dependencies installed offline; "
        "prints the tag",
        description="Images are built locally and never pulled. --repo installs the repository "
        "with pip --no-index: only what the base image has or the repository vendors "
        "(wheels/, vendor/ or wheelhouse/) can be installed.",
    )
    build.set_defaults(func=cmd_sandbox_build_image)
    build.add_argument("--repo", help="a repository to copy to /repo and install (its dependencies: offline only)")
    build.add_argument("--base", help="the image to build --repo on (default: the base image, built if missing)")
    build.add_argument(
        "--swebench",
        help="a SWE-bench JSONL file: build each instance's image (SWE-bench's layout and "
        "tag) from its checkout in --repos-dir at the row's base_commit",
    )
    build.add_argument("--repos-dir", help="with --swebench: the folder of checkouts named <owner>__<name>")
    build.add_argument("--force", action="store_true", help="rebuild even when an image with the tag exists")

    demo = command("demo", cmd_demo, "exercise every env and save example images")
    demo.add_argument("--out", default="demo_out")
    demo.add_argument("--seed", type=int, default=7)

    from rlvr.trainers import add_train_arguments, run_train_command  # light: torch loads only when train runs

    train = command(
        "train", run_train_command, "train a model on a mix of envs (GRPO family); --demo runs the CPU demo"
    )
    add_train_arguments(train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status: 0 success, 1 a failed check or an internal error, 2 a
    mistake in the input, 130 Ctrl-C (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = "rlvr"
    debug = "--debug" in argv
    try:
        args, extra = build_parser().parse_known_args(argv)
        prog = f"rlvr {args.command}"
        args.command_line = shlex.join(["rlvr", *argv])
        if extra:
            raise UsageError(f"unrecognized arguments: {' '.join(extra)}, see '{prog} --help'")
        return args.func(args)
    except UsageError as error:
        if debug:
            traceback.print_exc()
        print(f"{error.prog or prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader of stdout went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt as stop:
        if debug:
            traceback.print_exc()
        if isinstance(stop, Terminated):
            print(f"{prog}: stopped by {signal.Signals(stop.signum).name}", file=sys.stderr)
            return 128 + stop.signum
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if debug:
            raise
        detail = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        print(f"{prog}: internal error: {detail} (run again with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


INTERRUPTED_EXIT_GRACE_S = 10.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # what timeout, SLURM, docker stop and a closed terminal send


class Terminated(KeyboardInterrupt):
    """A ``STOP_SIGNALS`` signal, raised in the main thread like Ctrl-C, so what a command was
    writing is cleaned up the same way; the exit status is 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminated(signum: int, frame: Any) -> None:
    raise Terminated(signum)


def run() -> None:
    """The console script: ``main`` with its exit status, SIGTERM and SIGHUP handled as Ctrl-C
    (``Terminated``; red team s21 B7: SIGTERM left the outputs' temporary files behind). After
    either (outputs already cleaned up by then) a watchdog ends the process if the
    interpreter's exit handlers — which join a process pool's manager thread — have not
    finished within ``INTERRUPTED_EXIT_GRACE_S``."""
    for number in STOP_SIGNALS:
        signal.signal(number, _terminated)
    code = main()
    if code == EXIT_INTERRUPTED or code in {128 + number for number in STOP_SIGNALS}:
        watchdog = threading.Timer(INTERRUPTED_EXIT_GRACE_S, os._exit, args=(code,))
        watchdog.daemon = True
        watchdog.start()
    sys.exit(code)


if __name__ == "__main__":  # python -m rlvr.cli: run the imported module, so its error classes are the ones raised
    from rlvr.cli import run as run_imported

    run_imported()
