"""A local OpenAI-compatible server that replays reference answers: dry-run a pipeline end to end
without a model. A test and dry-run tool, not a model server.

``ReferenceServer(tasks, wrong_rate=0.0, fail_first_n=0)`` indexes the given tasks;
``ReferenceServer.for_envs(env_ids, n, difficulties, seed, split="test")`` indexes the tasks of
each env at each difficulty. ``start()`` serves on ``host:port`` (port 0: an ephemeral port) in a
background thread, ``url`` is the base URL to give a client (``http://127.0.0.1:PORT/v1``),
``stop()`` shuts it down; it is also a context manager. From a shell,
``python -m rlvr.integrations.reference_server --env rlvr/Maze-v0 -n 200 --difficulty 0 0.5 1``
prints the URL and serves until interrupted; ``rlvr eval`` with the same env, n, difficulties
and seed then scores 1.0 (less with ``--wrong-rate``).

Endpoints
    ``GET /v1/models``             one model, ``model`` (default ``rlvr-reference``).
    ``POST /v1/chat/completions``  the last user message names the task: its text (a string, or the
                                   text parts of a content list joined by newlines) must equal a
                                   task prompt exactly. A visual task must come with its images as
                                   ``image_url`` parts holding ``data:image/…;base64,`` URLs whose
                                   pixels equal the task's images, in order; tasks that share a
                                   prompt are told apart by their images.
Answers
    Each choice is ``rlvr.solve(task)``, or with probability ``wrong_rate`` the generator's
    ``wrong_response(task)``. The draw is a hash of (task id, nonce): the nonce is the request's
    ``seed`` (plus the choice index), so a client that seeds its samples gets the same answers in
    any order and any process; without ``seed`` it is a per-task counter of choices served, so
    repeated samples differ and k samples of a task see the same draws in one process run.
    ``n`` > 1 returns n choices. ``usage`` counts whitespace-separated words as a stand-in for
    tokens; ``finish_reason`` is ``stop``. ``delay_s`` holds every answer back that long, to
    stand in for generation time (requests are served concurrently, one thread per connection).
Errors (OpenAI error JSON)
    400  unknown prompt, a visual task without its images or with other images, ``stream``,
         malformed JSON or messages (the OpenAI client does not retry 400).
    ``fail_status`` (default 500) for the first ``fail_first_n`` chat requests, with a
         ``retry-after-ms: retry_after_ms`` header, to exercise a client's retries.
    404  any other path.
Counters
    ``stats`` is a snapshot: ``requests`` (chat requests received), ``answered``, ``choices``,
    ``wrong`` (wrong choices served), ``image_requests`` (requests with at least one image part),
    ``image_parts``, ``rejected`` (400s), ``injected_failures``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, UnidentifiedImageError

import rlvr
from rlvr.api import group_options
from rlvr.core import Task, png_to_image
from rlvr.envs.registry import get_spec

STATS = ("requests", "answered", "choices", "wrong", "image_requests", "image_parts", "rejected", "injected_failures")


class RequestError(ValueError):
    """A request the server refuses with HTTP 400 and this message."""


@dataclass(frozen=True)
class Entry:
    """One indexed task with its two canned answers."""

    task: Task
    image_digests: tuple[str, ...]
    reference: str
    wrong: str


def pixel_digest(image: Image.Image) -> str:
    """Identity of an image's pixels, independent of how it was encoded."""
    rgb = image.convert("RGB")
    return hashlib.sha256(f"{rgb.size}".encode() + rgb.tobytes()).hexdigest()


def unit_hash(*parts: Any) -> float:
    """A number in [0, 1) fixed by ``parts``, the same in every process."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decode_data_url(url: str) -> Image.Image:
    header, sep, payload = url.partition(",")
    if not sep or not header.startswith("data:image/") or not header.endswith(";base64"):
        raise RequestError("image_url must be a data:image/…;base64, URL (the server cannot fetch URLs)")
    try:
        return png_to_image(base64.b64decode(payload, validate=True))
    except (binascii.Error, UnidentifiedImageError, OSError) as error:
        raise RequestError(f"image_url does not decode as an image: {error}") from error


def user_message_parts(messages: Any) -> tuple[str, list[str]]:
    """(text, image URLs) of the last user message."""
    if not isinstance(messages, list):
        raise RequestError("messages must be a list")
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise RequestError("no user message")
    content = users[-1].get("content")
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise RequestError("user content must be a string or a list of parts")
    texts, urls = [], []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            image_url = part.get("image_url")
            urls.append(image_url.get("url", "") if isinstance(image_url, dict) else str(image_url))
        else:
            raise RequestError(f"unsupported content part {kind!r}")
    return "\n".join(texts), urls


def word_count(text: str) -> int:
    return len(text.split())


def error_body(message: str, kind: str) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class ReferenceServer:
    """Serves reference (or, at ``wrong_rate``, wrong) answers to the indexed tasks."""

    def __init__(
        self,
        tasks: Iterable[Task],
        wrong_rate: float = 0.0,
        fail_first_n: int = 0,
        fail_status: int = 500,
        retry_after_ms: int | None = 10,
        delay_s: float = 0.0,
        model: str = "rlvr-reference",
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        if not 0.0 <= wrong_rate <= 1.0:
            raise ValueError(f"wrong_rate must be in [0, 1], got {wrong_rate}")
        self.wrong_rate = wrong_rate
        self.fail_first_n = fail_first_n
        self.fail_status = fail_status
        self.retry_after_ms = retry_after_ms
        self.delay_s = delay_s
        self.model = model
        self._address = (host, port)
        self._by_prompt: dict[str, list[Entry]] = {}
        for task in tasks:
            self._by_prompt.setdefault(task.prompt, []).append(self._entry(task))
        self._lock = threading.Lock()
        self._stats = Counter(dict.fromkeys(STATS, 0))
        self._served: Counter = Counter()  # choices served per task id, the nonce of unseeded requests
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def for_envs(
        cls,
        env_ids: Sequence[str],
        n: int,
        difficulties: Sequence[float],
        seed: int = 0,
        env_options: dict | None = None,
        split: str | None = "test",
        **server_options: Any,
    ) -> ReferenceServer:
        """A server for the tasks ``rlvr eval`` asks with the same env ids, n, difficulties, seed and split."""
        tasks = [
            task
            for env_id in env_ids
            for difficulty in difficulties
            for task in rlvr.generate(
                env_id,
                n,
                seed=seed,
                difficulty=difficulty,
                split=split,
                **group_options(env_id, env_options or {}).for_tasks(),
            )
        ]
        return cls(tasks, **server_options)

    @staticmethod
    def _entry(task: Task) -> Entry:
        dataset_backed = "dataset" in task.meta and "dataset" in get_spec(task.env_id).generator_options
        generator = rlvr.make_generator(task.env_id, **({"dataset": task.meta["dataset"]} if dataset_backed else {}))
        return Entry(
            task, tuple(pixel_digest(im) for im in task.images), rlvr.solve(task), generator.wrong_response(task)
        )

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    def start(self) -> ReferenceServer:
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._httpd = _HTTPServer(self._address, _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="rlvr-reference-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)

    def _count(self, **increments: int) -> None:
        with self._lock:
            self._stats.update(increments)

    # ----------------------------------------------------------------------------------------
    # Requests
    # ----------------------------------------------------------------------------------------

    def respond(self, body: bytes) -> tuple[int, dict, dict]:
        """(status, JSON payload, extra headers) for one chat-completions request body."""
        if self._take_injected_failure():
            headers = {} if self.retry_after_ms is None else {"retry-after-ms": str(self.retry_after_ms)}
            return self.fail_status, error_body("injected failure (fail_first_n)", "server_error"), headers
        try:
            payload = self.complete(json.loads(body or b"null"))
            time.sleep(self.delay_s)
            return 200, payload, {}
        except (RequestError, json.JSONDecodeError, UnicodeDecodeError) as error:
            self._count(rejected=1)
            return 400, error_body(str(error), "invalid_request_error"), {}

    def _take_injected_failure(self) -> bool:
        """Count one chat request; True while it is among the first ``fail_first_n``."""
        with self._lock:
            self._stats["requests"] += 1
            failing = self._stats["requests"] <= self.fail_first_n
            self._stats["injected_failures"] += failing
            return failing

    def complete(self, request: Any) -> dict:
        """The chat.completion JSON for a parsed request body; raises RequestError for a 400."""
        if not isinstance(request, dict):
            raise RequestError("the body must be a JSON object")
        if request.get("stream"):
            raise RequestError("stream is not supported")
        text, urls = user_message_parts(request.get("messages"))
        if urls:
            self._count(image_requests=1, image_parts=len(urls))
        choices = 1 if request.get("n") is None else request.get("n")
        if not isinstance(choices, int) or choices < 1:
            raise RequestError(f"n must be a positive integer, got {choices!r}")
        entry = self.find(text, urls)
        answers = [self.answer(entry, request.get("seed"), index) for index in range(choices)]
        prompt_words = word_count(text)
        completion_words = sum(map(word_count, answers))
        self._count(answered=1, choices=len(answers))
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model") or self.model,
            "choices": [
                {"index": i, "message": {"role": "assistant", "content": a}, "finish_reason": "stop", "logprobs": None}
                for i, a in enumerate(answers)
            ],
            "usage": {
                "prompt_tokens": prompt_words,
                "completion_tokens": completion_words,
                "total_tokens": prompt_words + completion_words,
            },
        }

    def find(self, text: str, urls: list[str]) -> Entry:
        """The indexed task this prompt text and these images name."""
        entries = self._by_prompt.get(text)
        if not entries:
            raise RequestError("the user message matches no indexed task prompt")
        if not entries[0].image_digests:
            return entries[0]
        if not urls:
            raise RequestError(f"visual task {entries[0].task.id} sent without its image(s)")
        digests = tuple(pixel_digest(decode_data_url(url)) for url in urls)
        for entry in entries:
            if entry.image_digests == digests:
                return entry
        raise RequestError(f"the images sent match no indexed task with this prompt ({len(digests)} image(s) sent)")

    def answer(self, entry: Entry, seed: Any, index: int) -> str:
        """Reference or wrong answer, drawn from (task id, request seed and choice index | counter)."""
        if seed is None:
            with self._lock:
                nonce = f"served{self._served[entry.task.id]}"
                self._served[entry.task.id] += 1
        else:
            nonce = f"seed{seed}/{index}"
        wrong = unit_hash(entry.task.id, nonce) < self.wrong_rate
        self._count(wrong=wrong)
        return entry.wrong if wrong else entry.reference


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default 5 drops a burst of new connections: a 1 s SYN retry each


def _handler_for(server: ReferenceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client's connection pool reuses connections
        disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall

        def do_GET(self) -> None:
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                self._send(
                    200,
                    {
                        "object": "list",
                        "data": [{"id": server.model, "object": "model", "created": 0, "owned_by": "rlvr"}],
                    },
                )
            else:
                self._send_error(404, f"no route {self.path}", "not_found_error")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.rstrip("/") in ("/v1/chat/completions", "/chat/completions"):
                self._send(*server.respond(body))
            else:
                self._send_error(404, f"no route {self.path}", "not_found_error")

        def _send_error(self, status: int, message: str, kind: str) -> None:
            self._send(status, error_body(message, kind))

        def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: a test tool, not a service
            pass

    return Handler


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m rlvr.integrations.reference_server --env ENV -n N``: print the URL, serve until stopped."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Serve reference answers to rlvr tasks as an OpenAI-compatible endpoint."
    )
    parser.add_argument("--env", action="append", required=True, help="an env id; repeat for several")
    parser.add_argument("-n", "--n", type=int, default=200, help="tasks per env and difficulty (seeds seed … seed+n-1)")
    parser.add_argument("--difficulty", type=float, nargs="+", default=[0.5])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wrong-rate", type=float, default=0.0)
    parser.add_argument("--fail-first-n", type=int, default=0)
    parser.add_argument(
        "--delay-s", type=float, default=0.0, help="hold every answer back this long (stand-in generation time)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = ReferenceServer.for_envs(
        args.env,
        args.n,
        args.difficulty,
        args.seed,
        wrong_rate=args.wrong_rate,
        fail_first_n=args.fail_first_n,
        delay_s=args.delay_s,
        host=args.host,
        port=args.port,
    ).start()
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
