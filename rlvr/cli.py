"""The ``rlvr`` command line.

rlvr list                                   every env, one line each, with its difficulty parameters
rlvr generate ENV -n N -o out.jsonl|.parquet synthetic tasks (``--difficulty``, ``--seed``,
                                            ``--workers``, ``--param key=value``, ``--dataset``,
                                            ``--format jsonl|parquet|hf|verl``,
                                            ``--backend process|ray``, ``--address``)
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
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import rlvr
from rlvr.core import Task, iter_tasks, save_tasks

DEMO_DIFFICULTIES = (0.0, 0.5, 1.0)
OUTPUT_FORMATS = ("auto", "jsonl", "parquet", "hf", "verl")


def _parse_param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--param takes key=value, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    for row in rlvr.list_envs():
        kind = "image" if row["visual"] else "text"
        print(f"{row['id']:<22} [{kind}] {row['description']}\n{'':<22} difficulty: {row['difficulty']}")
    return 0


def write_tasks(tasks: Iterable[Task], output: str, file_format: str) -> int:
    """Save ``tasks`` in one of ``OUTPUT_FORMATS``; "auto" picks Parquet for ``.parquet``, else JSON lines."""
    if file_format == "hf":
        from rlvr.integrations import hf

        return hf.save(tasks, output)
    if file_format == "verl":
        from rlvr.integrations import verl

        return verl.export_parquet(tasks, output)
    return save_tasks(tasks, output, None if file_format == "auto" else file_format)


def _workers(args: argparse.Namespace) -> int | None:
    """``--workers``, by default 1 local process, or every CPU of the Ray cluster (None)."""
    return args.workers or (None if args.backend == "ray" else 1)


def _add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, help="parallel workers (default: 1 process; with ray, every CPU of the cluster)")
    parser.add_argument("--backend", choices=("process", "ray"), default="process",
                        help="local processes, or remote calls on a Ray cluster (pip install 'rlvr[ray]')")
    parser.add_argument("--address", help="the Ray cluster: auto, ray://host:10001, … (default: start a local Ray)")


def cmd_generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    options = dict(args.param or [])
    if args.dataset:
        options["dataset"] = args.dataset
    tasks = rlvr.iter_generate(args.env, args.n, seed=args.seed, difficulty=args.difficulty, workers=_workers(args),
                               backend=args.backend, address=args.address, **options)
    progress = tqdm(tasks, total=args.n, unit="task", disable=args.quiet, file=sys.stderr)
    count = write_tasks(progress, args.output, args.format)
    print(f"wrote {count} tasks to {args.output}", file=sys.stderr)
    return 0


def _read_responses(path: str) -> list[tuple[str | None, Any]]:
    """Rows of ``{"id": …, "response": …}`` or bare JSON strings, one per line."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            rows.append((row.get("id"), row.get("response")) if isinstance(row, dict) else (None, row))
    return rows


def cmd_verify(args: argparse.Namespace) -> int:
    tasks = list(iter_tasks(args.tasks))
    responses = _read_responses(args.responses)
    by_id = {task.id: task for task in tasks}
    pairs: list[tuple[Task, Any]] = []
    for position, (task_id, response) in enumerate(responses):
        if task_id is not None:
            if task_id not in by_id:
                print(f"row {position}: unknown task id {task_id!r}", file=sys.stderr)
                return 2
            pairs.append((by_id[task_id], response))
        elif position < len(tasks):
            pairs.append((tasks[position], response))
    verdicts = rlvr.verify_batch([t for t, _ in pairs], [r for _, r in pairs], workers=_workers(args),
                                 backend=args.backend, address=args.address)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        for (task, _), verdict in zip(pairs, verdicts):
            out.write(json.dumps({"id": task.id, **verdict.to_dict()}, default=str) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    n = len(verdicts) or 1
    summary = {
        "rows": len(verdicts),
        "mean_reward": round(sum(v.reward for v in verdicts) / n, 4),
        "accuracy": round(sum(v.correct for v in verdicts) / n, 4),
        "format_ok": round(sum(v.format_ok for v in verdicts) / n, 4),
    }
    print(json.dumps(summary), file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    env_ids = args.envs or [row["id"] for row in rlvr.list_envs()]
    rows = []
    for env_id in env_ids:
        start = time.perf_counter()
        tasks = rlvr.generate(env_id, args.n, seed=args.seed, difficulty=args.difficulty)
        generated = time.perf_counter() - start
        responses = [rlvr.solve(task) for task in tasks]
        start = time.perf_counter()
        verdicts = [rlvr.verify(task, response) for task, response in zip(tasks, responses)]
        verified = time.perf_counter() - start
        rows.append([env_id, f"{args.n / generated:,.0f}", f"{args.n / verified:,.0f}", f"{sum(v.correct for v in verdicts)}/{args.n}"])
    print(_table(rows, ["env", "tasks/s", "verdicts/s", "reference correct"]))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rlvr.integrations.openai_eval import evaluate, summary_table, write_results, write_samples

    results = evaluate(
        args.base_url, args.model, args.env, args.n, k=args.k, difficulties=args.difficulty, seed=args.seed,
        concurrency=args.concurrency, max_retries=args.max_retries, timeout=args.timeout, temperature=args.temperature,
        max_tokens=args.max_tokens or None, top_p=args.top_p, system_prompt=args.system, api_key=args.api_key,
        env_options=dict(args.param or []), extra_body=dict(args.extra or []) or None, request_seed=not args.no_request_seed,
        verify_workers=args.verify_workers, progress=not args.quiet,
    )
    header, rows = summary_table(results)
    print(_table(rows, header))
    if args.output:
        write_results(results, args.output)
    if args.samples:
        write_samples(results, args.samples)
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from rlvr.attacks import audit

    env_ids = args.envs or [row["id"] for row in rlvr.list_envs()]
    failed = 0
    for env_id in env_ids:
        report = audit(env_id, n=args.n, seed=args.seed, difficulties=tuple(args.difficulty), max_reward=args.max_reward,
                       verifier_options=dict(args.option or []), attack_filter=args.only)
        print(f"== {env_id}")
        print(report.table())
        failed += not report.passed
    if len(env_ids) > 1:
        print(f"{len(env_ids) - failed}/{len(env_ids)} envs passed the audit")
    return 1 if failed else 0


def cmd_demo(args: argparse.Namespace) -> int:
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, failures = [], 0
    for env in rlvr.list_envs():
        env_id = env["id"]
        generator = rlvr.make_generator(env_id)
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
            rows.append([env_id, f"{difficulty:.1f}", params[:48], f"{reference.reward:.2f}", f"{wrong.reward:.2f}", wrong.reason[:40], "ok" if ok else "FAIL"])
    print(_table(rows, ["env", "d", "parameters", "reference", "wrong", "why wrong", "check"]))
    print(f"\nexample images in {out_dir}/; {len(rows) - failures}/{len(rows)} checks passed")
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlvr", description="Verifiable task environments for RLVR")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list every env with its difficulty parameters").set_defaults(func=cmd_list)

    gen = sub.add_parser("generate", help="write synthetic tasks as JSON lines, Parquet, a HF dataset or verl Parquet")
    gen.add_argument("env")
    gen.add_argument("-n", type=int, required=True)
    gen.add_argument("-o", "--output", required=True)
    gen.add_argument("--difficulty", type=float, default=0.5)
    gen.add_argument("--seed", type=int, default=0)
    _add_backend_arguments(gen)
    gen.add_argument("--dataset", help="serve rows of this file (dataset-backed envs)")
    gen.add_argument("--param", type=_parse_param, action="append", help="override a task parameter: key=value")
    gen.add_argument("--format", choices=OUTPUT_FORMATS, default="auto",
                     help="jsonl, parquet, hf (a datasets.save_to_disk directory) or verl (verl's Parquet layout); "
                          "auto: parquet for .parquet, else jsonl")
    gen.add_argument("-q", "--quiet", action="store_true")
    gen.set_defaults(func=cmd_generate)

    ver = sub.add_parser("verify", help="verify responses against tasks")
    ver.add_argument("tasks")
    ver.add_argument("responses")
    ver.add_argument("-o", "--output")
    _add_backend_arguments(ver)
    ver.set_defaults(func=cmd_verify)

    bench = sub.add_parser("bench", help="generation and verification throughput per env")
    bench.add_argument("envs", nargs="*")
    bench.add_argument("-n", type=int, default=200)
    bench.add_argument("--difficulty", type=float, default=0.5)
    bench.add_argument("--seed", type=int, default=0)
    bench.set_defaults(func=cmd_bench)

    ev = sub.add_parser("eval", help="evaluate an OpenAI-compatible endpoint: pass@1, pass@k, mean reward per env and difficulty")
    ev.add_argument("--base-url", required=True, help="e.g. http://localhost:8000/v1")
    ev.add_argument("--model", required=True)
    ev.add_argument("--env", action="append", required=True, help="an env id; repeat for several")
    ev.add_argument("-n", "--n", type=int, default=200, help="tasks per env and difficulty (seeds seed … seed+n-1)")
    ev.add_argument("--k", type=int, default=1, help="samples per task")
    ev.add_argument("--difficulty", type=float, nargs="+", default=[0.5])
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    ev.add_argument("--max-retries", type=int, default=3)
    ev.add_argument("--timeout", type=float, default=120.0, help="seconds per request try")
    ev.add_argument("--temperature", type=float, default=1.0)
    ev.add_argument("--max-tokens", type=int, default=2048, help="0 sends none (e.g. with --extra max_completion_tokens=N)")
    ev.add_argument("--top-p", type=float)
    ev.add_argument("--system", help="system prompt")
    ev.add_argument("--api-key", help="default: $OPENAI_API_KEY, else EMPTY")
    ev.add_argument("--param", type=_parse_param, action="append", help="env option or task parameter for every env: key=value")
    ev.add_argument("--extra", type=_parse_param, action="append", help="extra request body field: key=value (JSON value)")
    ev.add_argument("--no-request-seed", action="store_true", help="do not send a per-sample seed")
    ev.add_argument("--verify-workers", type=int, help="verification threads (default: CPU count)")
    ev.add_argument("-o", "--output", help="results JSON: config, rows, overall")
    ev.add_argument("--samples", help="one JSON line per request")
    ev.add_argument("-q", "--quiet", action="store_true")
    ev.set_defaults(func=cmd_eval)

    aud = sub.add_parser("audit", help="run every reward-hacking attack on an env; exit 1 if any scored or overran")
    aud.add_argument("envs", nargs="*", metavar="ENV", help="env ids (default: every env)")
    aud.add_argument("-n", "--n", type=int, default=3, help="tasks per difficulty")
    aud.add_argument("--seed", type=int, default=0)
    aud.add_argument("--difficulty", type=float, nargs="+", default=[0.0, 0.5, 1.0])
    aud.add_argument("--option", type=_parse_param, action="append", help="verifier option: key=value")
    aud.add_argument("--max-reward", type=float, default=0.0,
                     help="highest reward an attack may earn (the documented cap of a partial-credit option)")
    aud.add_argument("--only", help="run only attacks whose name contains this")
    aud.set_defaults(func=cmd_audit)

    demo = sub.add_parser("demo", help="exercise every env and save example images")
    demo.add_argument("--out", default="demo_out")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=cmd_demo)

    from rlvr.trainers import add_train_arguments, run_train_command  # light: torch loads only when train runs

    train = sub.add_parser("train", help="train a model on a mix of envs (GRPO family); --demo runs the CPU demo")
    add_train_arguments(train)
    train.set_defaults(func=run_train_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
