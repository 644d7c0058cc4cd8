"""A fake OpenRouter on loopback: a real HTTP/1.1 server speaking its wire format.

Tests start one in a background thread (the `fake_openrouter` fixture does)
and point OPENROUTER_BASE_URL at `.base_url`; developers and benchmarks run
it by hand:

    python -m tests.fakes.openrouter --port 8765 --first-token-ms 200 --tokens-per-second 50

What it speaks (POST /api/v1/chat/completions, GET /api/v1/models):

- non-streaming JSON and streaming server-sent events: `: OPENROUTER
  PROCESSING` keep-alive comments while "thinking", a role chunk, content
  chunks, a finish chunk, a usage chunk (`choices: []`, usage with `cost`)
  and `data: [DONE]`;
- tool calls, their `arguments` split over several deltas merged by `index`;
- the `models` fallback list: a model set to fail is skipped and the next
  one answers, reported in `model`;
- latency: time to first token and tokens per second;
- injected failures, per model (`fail_model`) or per request (`fail_next`):
  401, 402, 403 moderation, 404 no endpoints, 429 with Retry-After, 502/503
  with availability, an HTTP 200 carrying an error, a mid-stream error
  event, keep-alives only, a stream cut without [DONE] (cleanly or by
  resetting the connection);
- replays (`replay_next`): a response given byte for byte, piece by piece,
  optionally held open after its last piece, for the exact shapes of
  OpenRouter's documentation (`sse`, `chunk` build them).

Every request is recorded (headers and JSON) in `.requests`, with which
model answered and whether the client closed the connection early.

Plain asyncio streams, no web framework: the fake has no dependencies and
its behaviour on the wire (chunk boundaries, cut connections) is explicit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

KEEPALIVE = b": OPENROUTER PROCESSING\n\n"
DEFAULT_MODELS = ["openai/gpt-4", "meta-llama/llama-3.1-8b-instruct"]
# USD per 1k tokens, only so that usage.cost looks like OpenRouter's.
PRICE_PER_1K = {"openai/gpt-4": 0.03, "meta-llama/llama-3.1-8b-instruct": 0.0002}

_call_ids = itertools.count(1)
# How often a streaming response looks whether its client left (50 streams
# polling every 20 ms were 2,500 wake-ups a second in the benchmark).
_WATCH_SECONDS = 0.05


# --- What the fake answers -----------------------------------------------------


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: str = field(default_factory=lambda: f"call_{next(_call_ids):04d}{secrets.token_hex(4)}")


@dataclass
class Reply:
    """One model turn: text, or tool calls (then `text` is usually empty)."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)


Responder = Callable[[dict[str, Any]], Reply]


@dataclass
class Failure:
    """An injected failure. Build them with the class methods below.

    kind:
    - "status": an HTTP error status with OpenRouter's error body;
    - "error_200": HTTP 200 whose JSON body is an error (also for stream=true);
    - "midstream": `after_chunks` content chunks, then a chunk with a top-level
      `error` and finish_reason "error", then the stream ends (no [DONE]);
    - "keepalives": only keep-alive comments for `seconds` (or until the client leaves);
    - "cut": `after_chunks` content chunks, then the body ends cleanly without [DONE];
    - "reset": `after_chunks` content chunks, then the connection is dropped mid-body.
    """

    kind: str
    status: int = 200
    message: str = ""
    code: int | str = 0
    metadata: dict[str, Any] | None = None
    retry_after: float | None = None
    after_chunks: int = 2
    seconds: float = 300.0
    availability: dict[str, Any] | None = None

    @classmethod
    def unauthorized(cls) -> Failure:
        return cls("status", 401, "No auth credentials found", 401)

    @classmethod
    def no_credits(cls) -> Failure:
        return cls(
            "status",
            402,
            "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
            402,
        )

    @classmethod
    def moderation(cls, reasons: list[str] | None = None) -> Failure:
        reasons = reasons or ["harassment"]
        return cls(
            "status",
            403,
            f'Your input was flagged for "{reasons[0]}". No credits were charged.',
            403,
            metadata={"reasons": reasons, "flagged_input": "…", "provider_name": "OpenAI"},
        )

    @classmethod
    def not_found(cls, message: str = "No endpoints found that support tool use.") -> Failure:
        return cls("status", 404, message, 404)

    @classmethod
    def tools_unsupported(cls) -> Failure:
        return cls.not_found("No endpoints found that support tool use.")

    @classmethod
    def no_endpoints_for_parameters(cls) -> Failure:
        """What OpenRouter answers when no provider supports every parameter sent
        with `provider.require_parameters` (tools, tool_choice)."""
        return cls.not_found("No endpoints found that can handle the requested parameters.")

    @classmethod
    def bad_request(cls, message: str = "Invalid request") -> Failure:
        return cls("status", 400, message, 400)

    @classmethod
    def rate_limited(cls, retry_after: float | None = 1) -> Failure:
        return cls(
            "status",
            429,
            "Rate limit exceeded: free-models-per-min.",
            429,
            metadata={"headers": {"X-RateLimit-Remaining": "0"}},
            retry_after=retry_after,
        )

    @classmethod
    def unavailable(
        cls, status: int = 503, *, retryable: bool = True, retry_after: float | None = None
    ) -> Failure:
        message = (
            "Provider returned error"
            if status == 502
            else "No available model provider that meets your routing requirements"
        )
        availability = {"retryable": retryable}
        return cls(
            "status",
            status,
            message,
            status,
            metadata={
                "provider_name": "FakeProvider",
                "raw": "upstream overloaded",
                "error_type": "provider_unavailable",
                "availability": availability,
            },
            retry_after=retry_after,
            availability=availability,
        )

    @classmethod
    def error_200(cls, code: int = 502, message: str = "Provider returned error") -> Failure:
        return cls(
            "error_200",
            200,
            message,
            code,
            metadata={"provider_name": "FakeProvider", "raw": "upstream error"},
        )

    @classmethod
    def midstream(
        cls, code: int | str = "server_error", *, after_chunks: int = 2, message: str = ""
    ) -> Failure:
        return cls(
            "midstream",
            200,
            message or "Provider disconnected unexpectedly",
            code,
            after_chunks=after_chunks,
        )

    @classmethod
    def keepalives_only(cls, seconds: float = 300.0) -> Failure:
        return cls("keepalives", 200, seconds=seconds)

    @classmethod
    def cut(cls, *, after_chunks: int = 2) -> Failure:
        return cls("cut", 200, after_chunks=after_chunks)

    @classmethod
    def reset(cls, *, after_chunks: int = 2) -> Failure:
        return cls("reset", 200, after_chunks=after_chunks)

    @property
    def before_stream(self) -> bool:
        """True when OpenRouter would still fall back to the next model."""
        return self.kind in {"status", "error_200"}

    def error_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code or self.status, "message": self.message}
        if self.metadata is not None:
            error["metadata"] = self.metadata
        if self.availability is not None:
            error["availability"] = self.availability
        return {"error": error}


@dataclass
class Replay:
    """A response given exactly: these bytes, each piece its own write and HTTP chunk.

    For the shapes of OpenRouter's documentation that the default answers do
    not produce (see `sse` and `chunk`). `gap` seconds pass between pieces;
    `hold_open` seconds after the last one before the body ends (the client
    may leave earlier). A non-streaming `content_type` is sent with a
    Content-Length instead.
    """

    pieces: list[bytes]
    status: int = 200
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)
    gap: float = 0.0
    hold_open: float = 0.0
    answered_by: str = ""


def chunk(
    delta: dict[str, Any] | None = None,
    finish: str | None = None,
    *,
    model: str = DEFAULT_MODELS[0],
    generation: str = "gen-1700000000-replay",
    **extra: Any,
) -> dict[str, Any]:
    """One streamed chunk as OpenRouter sends it (chat.completion.chunk)."""
    return {
        "id": generation,
        "provider": "FakeProvider",
        "model": model,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "choices": [
            {
                "index": 0,
                "delta": delta if delta is not None else {},
                "finish_reason": finish,
                "native_finish_reason": finish,
                "logprobs": None,
            }
        ],
        **extra,
    }


def sse(*events: Any) -> bytes:
    """Events as SSE bytes: objects as JSON with non-ASCII unescaped (as OpenRouter
    sends them), strings (`[DONE]`) as they are, `: comment` lines kept."""
    out: list[bytes] = []
    for event in events:
        if isinstance(event, str) and event.startswith(":"):
            out.append(f"{event}\n\n".encode())
            continue
        data = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
        out.append(f"data: {data}\n\n".encode())
    return b"".join(out)


@dataclass
class _ModelFailure:
    failure: Failure
    remaining: int | None  # None: until healed


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any
    received_at: float
    answered_by: str = ""  # the model that answered, "" if none
    outcome: str = ""  # "ok", "tool_calls", or the failure kind / status
    tried: list[str] = field(default_factory=list)  # models tried, in order
    client_closed: bool = False  # the client went away before the response ended
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def json(self) -> dict[str, Any]:
        assert isinstance(self.body, dict), self.body
        return self.body

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.json.get("messages", []))


# --- Default answers --------------------------------------------------------


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return ""


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            return message_text(message)
    return ""


def echo_reply(body: dict[str, Any]) -> Reply:
    """A short Russian answer quoting the question, so tests can tell replies apart."""
    question = " ".join(last_user_text(body).split())
    if len(question) > 80:
        question = question[:77] + "…"
    return Reply(
        text=(
            f"Вы спросили: «{question}». Я ассистент платформы «Туры по Татарстану» и "
            "с радостью помогу подобрать тур по Казани и республике."
        )
    )


_MONTHS = [
    ("январ", 1),
    ("феврал", 2),
    ("март", 3),
    ("апрел", 4),
    ("ма[йяе]", 5),
    ("июн", 6),
    ("июл", 7),
    ("август", 8),
    ("сентябр", 9),
    ("октябр", 10),
    ("ноябр", 11),
    ("декабр", 12),
]


def _month_in(text: str) -> int | None:
    for stem, number in _MONTHS:
        if re.search(rf"\b{stem}", text):
            return number
    return None


def _price(value: Any) -> str:
    try:
        return f"{float(value):,.0f}".replace(",", " ")
    except (TypeError, ValueError):
        return str(value)


def _tour_line(tour: dict[str, Any]) -> str:
    details = []
    if tour.get("place"):
        details.append(str(tour["place"]))
    if tour.get("start_date"):
        details.append(str(tour["start_date"]))
    if "price_per_person" in tour:
        details.append(f"{_price(tour['price_per_person'])} ₽ с человека")
    if "free_places" in tour:
        details.append(f"свободных мест: {tour['free_places']}")
    title = f"«{tour.get('title', '')}»"
    return f"{title} — {', '.join(details)}" if details else title


def summarise_tool_results(results: list[Any]) -> str:
    """What a well-behaved model says after reading our tools' JSON."""
    lines: list[str] = []
    for result in results:
        if not isinstance(result, dict):
            continue
        if "tours" in result:
            tours = result["tours"] or []
            if tours:
                lines.append("Вот что я нашёл:")
                lines.extend(f"• {_tour_line(t)}" for t in tours)
            else:
                lines.append("К сожалению, подходящих туров на эти даты не нашлось.")
        elif "tour" in result and isinstance(result["tour"], dict):
            lines.append(f"Подробности: {_tour_line(result['tour'])}.")
        elif "bookings" in result:
            bookings = result["bookings"] or []
            if bookings:
                lines.append("Ваши бронирования:")
                lines.extend(
                    f"• {b.get('reference')}: «{b.get('tour_title', '')}», "
                    f"{b.get('start_date', '')}, статус: {b.get('status', '')}"
                    for b in bookings
                )
            else:
                lines.append("Бронирований на ваше имя не нашлось.")
        elif "policy" in result:
            lines.append(str(result["policy"]))
        elif result.get("status") == "queued":
            lines.append(
                "Передаю разговор оператору, он ответит вам здесь же. "
                f"Вы {result.get('queue_position')}-й в очереди."
            )
        elif result.get("status") in {"no_operators", "outside_hours"}:
            lines.append(
                "Сейчас операторов нет на связи. Оставьте, пожалуйста, имя, телефон или "
                "e-mail и ваш вопрос в форме ниже — мы с вами свяжемся."
            )
        elif result.get("handoff"):
            lines.append("Передаю разговор оператору, он ответит вам здесь же.")
        elif "error" in result:
            lines.append(f"Не получилось найти данные ({result['error']}).")
    if not lines:
        return "Я проверил данные сайта, но ничего подходящего не нашёл."
    return "\n".join(lines)


def tour_assistant(body: dict[str, Any]) -> Reply:
    """A scenario that behaves like a model using the site's tools.

    It calls a tool only if the request offers it (by name), and after the
    tool results come back it answers from them; otherwise it echoes.
    """
    tools = {
        t.get("function", {}).get("name")
        for t in body.get("tools", []) or []
        if isinstance(t, dict)
    }
    messages = body.get("messages", [])
    if messages and messages[-1].get("role") == "tool":
        results: list[Any] = []
        for message in reversed(messages):
            if message.get("role") != "tool":
                break
            try:
                results.insert(0, json.loads(message_text(message)))
            except ValueError:
                results.insert(0, {"error": message_text(message)})
        return Reply(text=summarise_tool_results(results))
    text = last_user_text(body).lower()
    system = " ".join(message_text(m) for m in messages if m.get("role") == "system")
    if "handoff_to_operator" in tools and re.search(r"оператор|человек|менеджер", text):
        return Reply(tool_calls=[ToolCall("handoff_to_operator", {"reason": text[:200]})])
    month = _month_in(text)
    if month and "search_tours" in tools:
        return Reply(tool_calls=[ToolCall("search_tours", {"month": month})])
    slug = re.search(r"slug: ([a-z0-9-]+)", system)
    if slug and "get_tour" in tools and re.search(r"стоит|стоимост|цен|мест", text):
        return Reply(tool_calls=[ToolCall("get_tour", {"slug": slug.group(1)})])
    if "get_my_bookings" in tools and re.search(r"мо[её]\w* брон|мои брон|TT-", text, re.I):
        return Reply(tool_calls=[ToolCall("get_my_bookings", {})])
    if "get_booking_policy" in tools and re.search(r"брон|отмен|возврат|оплат", text):
        return Reply(tool_calls=[ToolCall("get_booking_policy", {})])
    if "search_tours" in tools and re.search(r"\bтур|экскурс", text):
        return Reply(tool_calls=[ToolCall("search_tours", {})])
    return echo_reply(body)


def words(text: str) -> list[str]:
    """Split text into stream pieces ("tokens"): words with their trailing space."""
    return re.findall(r"\S+\s*|\s+", text) or [text]


def count_tokens(body: dict[str, Any]) -> int:
    chars = sum(len(message_text(m)) for m in body.get("messages", []))
    chars += len(json.dumps(body.get("tools", []), ensure_ascii=False)) if body.get("tools") else 0
    return max(1, chars // 4)


# --- The server -------------------------------------------------------------


class _Disconnected(Exception):
    pass


class FakeOpenRouter:
    """The fake server. `start()` runs it in a daemon thread; `stop()` ends it.

    Configure between requests from the test thread: attributes are read
    when a request arrives.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        first_token_delay: float = 0.0,
        tokens_per_second: float | None = None,
        keepalive_interval: float = 0.1,
        reply: str | None = None,
        responder: Responder | None = None,
        usage_in_finish_chunk: bool = False,
        tool_argument_pieces: int = 3,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key  # when set, other keys get 401
        self.first_token_delay = first_token_delay
        self.tokens_per_second = tokens_per_second
        self.keepalive_interval = keepalive_interval
        self.reply = reply
        self.responder = responder
        self.usage_in_finish_chunk = usage_in_finish_chunk
        self.tool_argument_pieces = tool_argument_pieces
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._scripted: deque[Reply] = deque()
        self._next_failures: deque[Failure] = deque()
        self._replays: deque[Replay] = deque()
        self._model_failures: dict[str, _ModelFailure] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._connections: set[asyncio.Task[None]] = set()

    # --- configuration (thread-safe) ----------------------------------------

    def script(self, *replies: Reply | str) -> None:
        """Answer the next requests with these replies, in order, before the responder."""
        with self._lock:
            self._scripted.extend(Reply(text=r) if isinstance(r, str) else r for r in replies)

    def fail_next(self, failure: Failure, times: int = 1) -> None:
        """The next `times` requests fail as a whole (no `models` fallback helps)."""
        with self._lock:
            self._next_failures.extend([failure] * times)

    def replay_next(self, *replays: Replay) -> None:
        """Answer the next requests with exactly these responses, in order."""
        with self._lock:
            self._replays.extend(replays)

    def fail_model(self, model: str, failure: Failure, times: int | None = None) -> None:
        """Requests that reach `model` fail with `failure` (`times` times, or until healed).

        Failures before the stream (statuses, 200-with-error) make the fake
        fall back along the request's `models` list, as OpenRouter does.
        """
        with self._lock:
            self._model_failures[model] = _ModelFailure(failure, times)

    def heal_model(self, model: str) -> None:
        with self._lock:
            self._model_failures.pop(model, None)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._scripted.clear()
            self._next_failures.clear()
            self._replays.clear()
            self._model_failures.clear()

    # --- inspection ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/v1"

    @property
    def completions(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def last(self) -> RecordedRequest:
        completions = self.completions
        assert completions, "the fake received no completion request"
        return completions[-1]

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            completions = self.completions
            if len(completions) >= count:
                return completions
            time.sleep(0.01)
        raise TimeoutError(f"expected {count} requests, got {len(self.completions)}")

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.01)
        raise TimeoutError("condition not met on the fake OpenRouter")

    def stall(self, seconds: float) -> None:
        """Hold the fake's event loop busy for `seconds`, as a loaded machine would."""
        assert self._loop is not None, "the fake is not running"
        self._loop.call_soon_threadsafe(time.sleep, seconds)

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> FakeOpenRouter:
        self._thread = threading.Thread(target=self._run, name="fake-openrouter", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake OpenRouter did not start")
        return self

    def stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopped.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> FakeOpenRouter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self.serve())

    async def serve(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve until `stop()` (or until cancelled when run in the foreground)."""
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self._server = await asyncio.start_server(self._handle_connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        if on_ready is not None:
            on_ready()
        try:
            await self._stopped.wait()
        finally:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    # --- HTTP/1.1 ---------------------------------------------------------------

    async def _handle_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    return
                keep_open = await self._dispatch(request, reader, writer)
                if not keep_open:
                    return
        except (_Disconnected, ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> RecordedRequest | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        raw = await reader.readexactly(length) if length else b""
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        record = RecordedRequest(method, path, headers, body, time.monotonic())
        with self._lock:
            self.requests.append(record)
        return record

    async def _send_head(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        content_type: str,
        *,
        length: int | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        reason = _REASONS.get(status, "Error")
        head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}"]
        if length is None:
            head.append("Transfer-Encoding: chunked")
        else:
            head.append(f"Content-Length: {length}")
        head.append("Cache-Control: no-cache")
        for name, value in (extra or {}).items():
            head.append(f"{name}: {value}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()

    async def _send_json(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        payload: Any,
        extra: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        await self._send_head(writer, status, "application/json", length=len(data), extra=extra)
        writer.write(data)
        await writer.drain()

    async def _dispatch(
        self, request: RecordedRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        try:
            if request.method == "GET" and request.path.rstrip("/").endswith("/api/v1/models"):
                await self._send_json(writer, 200, {"data": [{"id": m} for m in DEFAULT_MODELS]})
                request.outcome = "ok"
                return True
            if request.method != "POST" or not request.path.endswith("/api/v1/chat/completions"):
                await self._send_json(writer, 404, {"error": {"code": 404, "message": "Not Found"}})
                request.outcome = "404"
                return True
            return await self._completion(request, reader, writer)
        finally:
            request.finished.set()

    # --- chat completions ---------------------------------------------------------

    def _take_failure(self, model: str) -> Failure | None:
        with self._lock:
            entry = self._model_failures.get(model)
            if entry is None:
                return None
            if entry.remaining is not None:
                entry.remaining -= 1
                if entry.remaining <= 0:
                    del self._model_failures[model]
            return entry.failure

    def _take_request_failure(self) -> Failure | None:
        with self._lock:
            return self._next_failures.popleft() if self._next_failures else None

    def _reply_for(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._scripted:
                return self._scripted.popleft()
        if self.responder is not None:
            return self.responder(body)
        if self.reply is not None:
            return Reply(text=self.reply)
        return echo_reply(body)

    async def _completion(
        self, request: RecordedRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        body = request.body if isinstance(request.body, dict) else {}
        stream = bool(body.get("stream"))
        authorization = request.headers.get("authorization")
        if self.api_key is not None and authorization != f"Bearer {self.api_key}":
            return await self._fail(request, Failure.unauthorized(), stream, reader, writer, "")
        if not isinstance(request.body, dict) or not body.get("messages"):
            return await self._fail(
                request, Failure.bad_request("messages is required"), stream, reader, writer, ""
            )
        with self._lock:
            replay = self._replays.popleft() if self._replays else None
        if replay is not None:
            return await self._replay(request, reader, writer, replay)
        failure = self._take_request_failure()
        if failure is not None:
            model = str(body.get("model") or "")
            request.tried.append(model)
            return await self._fail(request, failure, stream, reader, writer, model)

        candidates = [str(m) for m in body.get("models") or []]
        if body.get("model") and body["model"] not in candidates:
            candidates.insert(0, str(body["model"]))
        if not candidates:
            candidates = [DEFAULT_MODELS[0]]
        last_failure: Failure | None = None
        for model in candidates:
            request.tried.append(model)
            failure = self._take_failure(model)
            if failure is None or not failure.before_stream:
                break
            last_failure = failure
        else:
            assert last_failure is not None
            return await self._fail(request, last_failure, stream, reader, writer, model)
        if failure is not None:
            return await self._fail(request, failure, stream, reader, writer, model)

        reply = self._reply_for(body)
        request.answered_by = model
        request.outcome = "tool_calls" if reply.tool_calls else "ok"
        if stream:
            return await self._stream(request, reader, writer, body, model, reply, None)
        await self._sleep_like_a_model(reply)
        completion = self._completion_body(body, model, reply)
        # OpenRouter names the generation in a header too, on every endpoint.
        await self._send_json(writer, 200, completion, {"X-Generation-Id": completion["id"]})
        return True

    async def _sleep_like_a_model(self, reply: Reply) -> None:
        delay = self.first_token_delay
        if self.tokens_per_second:
            delay += len(words(reply.text)) / self.tokens_per_second
        if delay:
            await asyncio.sleep(delay)

    def _usage(self, body: dict[str, Any], model: str, reply: Reply) -> dict[str, Any]:
        prompt = count_tokens(body)
        completion = len(words(reply.text)) if reply.text else 0
        completion += sum(len(json.dumps(c.arguments)) // 4 + 1 for c in reply.tool_calls)
        price = PRICE_PER_1K.get(model, 0.001)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cost": round((prompt + completion) * price / 1000, 8),
            "is_byok": False,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }

    def _completion_body(self, body: dict[str, Any], model: str, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text, "refusal": None}
        if reply.tool_calls:
            message["content"] = reply.text or None
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": json.dumps(call.arguments, ensure_ascii=False),
                    },
                }
                for call in reply.tool_calls
            ]
        finish = "tool_calls" if reply.tool_calls else "stop"
        return {
            "id": f"gen-{int(time.time())}-{secrets.token_hex(8)}",
            "provider": "FakeProvider",
            "model": model,
            "object": "chat.completion",
            "created": int(time.time()),
            "choices": [
                {
                    "index": 0,
                    "logprobs": None,
                    "finish_reason": finish,
                    "native_finish_reason": finish,
                    "message": message,
                }
            ],
            "usage": self._usage(body, model, reply),
        }

    async def _fail(
        self,
        request: RecordedRequest,
        failure: Failure,
        stream: bool,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        model: str,
    ) -> bool:
        request.outcome = failure.kind if failure.kind != "status" else str(failure.status)
        if failure.kind == "status":
            extra = {}
            if failure.retry_after is not None:
                extra["Retry-After"] = f"{failure.retry_after:g}"
            await self._send_json(writer, failure.status, failure.error_body(), extra)
            return True
        if failure.kind == "error_200":
            # Also for stream=true: a JSON body, not events (OpenRouter does this).
            await self._send_json(writer, 200, failure.error_body())
            return True
        body = request.json
        request.answered_by = model
        reply = self._reply_for(body)
        if stream:
            return await self._stream(request, reader, writer, body, model, reply, failure)
        # Without streaming there is no event to carry the error: keep-alives
        # become a long wait, a mid-stream error an error body, a cut a drop.
        if failure.kind == "keepalives":
            await asyncio.sleep(failure.seconds)
        if failure.kind in {"cut", "reset"}:
            writer.transport.abort()
            return False
        await self._send_json(writer, 200, failure.error_body())
        return True

    async def _replay(
        self,
        request: RecordedRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        replay: Replay,
    ) -> bool:
        request.answered_by = replay.answered_by
        request.outcome = f"replay {replay.status}"
        if "event-stream" not in replay.content_type:
            data = b"".join(replay.pieces)
            await self._send_head(
                writer, replay.status, replay.content_type, length=len(data), extra=replay.headers
            )
            writer.write(data)
            await writer.drain()
            return True
        gone = asyncio.Event()

        async def watch_client() -> None:
            while not (reader.at_eof() or writer.transport.is_closing()):  # noqa: ASYNC110
                await asyncio.sleep(_WATCH_SECONDS)
            gone.set()

        watcher = asyncio.create_task(watch_client())
        try:
            await self._send_head(writer, replay.status, replay.content_type, extra=replay.headers)
            for index, piece in enumerate(replay.pieces):
                if index and replay.gap:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(gone.wait(), replay.gap)
                await self._write_chunk(writer, piece, gone)
            if replay.hold_open:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(gone.wait(), replay.hold_open)
            await self._write_chunk(writer, b"", gone)
            return True
        except _Disconnected:
            request.client_closed = True
            return False
        finally:
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher

    # --- streaming -------------------------------------------------------------------

    async def _stream(
        self,
        request: RecordedRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        body: dict[str, Any],
        model: str,
        reply: Reply,
        failure: Failure | None,
    ) -> bool:
        """Send the reply as SSE; returns False when the connection must close."""
        gone = asyncio.Event()

        async def watch_client() -> None:
            # Polled, not read: a read could swallow the next request's first
            # byte on a kept-alive connection. The transport keeps reading, so
            # a client that leaves shows up as EOF or a closing transport.
            while not (reader.at_eof() or writer.transport.is_closing()):  # noqa: ASYNC110
                await asyncio.sleep(_WATCH_SECONDS)
            gone.set()

        watcher = asyncio.create_task(watch_client())
        try:
            generation = f"gen-{int(time.time())}-{secrets.token_hex(8)}"
            # The generation's id in a header as well as in every chunk (OpenRouter's
            # streaming docs: X-Generation-Id, for all endpoints).
            extra = {"X-Generation-Id": generation}
            await self._send_head(writer, 200, "text/event-stream", extra=extra)
            await self._stream_events(writer, body, model, reply, failure, gone, generation)
            if failure is not None and failure.kind == "reset":
                transport = writer.transport
                transport.abort()
                return False
            await self._write_chunk(writer, b"", gone)  # end of the chunked body
            return True
        except _Disconnected:
            request.client_closed = True
            return False
        finally:
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher

    async def _write_chunk(
        self, writer: asyncio.StreamWriter, data: bytes, gone: asyncio.Event
    ) -> None:
        if gone.is_set() or writer.is_closing():
            raise _Disconnected
        try:
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            await writer.drain()
        except (ConnectionError, RuntimeError):
            raise _Disconnected from None

    async def _event(self, writer: asyncio.StreamWriter, payload: Any, gone: asyncio.Event) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        await self._write_chunk(writer, f"data: {data}\n\n".encode(), gone)

    async def _wait(
        self, seconds: float, writer: asyncio.StreamWriter, gone: asyncio.Event
    ) -> None:
        """Wait `seconds`, sending keep-alive comments as OpenRouter does while a model thinks."""
        await self._wait_until(time.monotonic() + seconds, writer, gone)

    async def _wait_until(
        self, deadline: float, writer: asyncio.StreamWriter, gone: asyncio.Event
    ) -> None:
        """`_wait` up to a point of the clock: a paced stream keeps its own schedule."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            # A plain sleep, not wait_for(gone.wait()): that made a task and a
            # timeout per token (50 streams at 50 tokens/s in the benchmark, on
            # the same two cores as the server). A client that left is seen
            # within one keep-alive interval.
            await asyncio.sleep(min(self.keepalive_interval, remaining))
            if gone.is_set():
                raise _Disconnected
            if deadline - time.monotonic() > 0:
                await self._write_chunk(writer, KEEPALIVE, gone)

    async def _stream_events(
        self,
        writer: asyncio.StreamWriter,
        body: dict[str, Any],
        model: str,
        reply: Reply,
        failure: Failure | None,
        gone: asyncio.Event,
        generation: str,
    ) -> None:
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
            return {
                "id": generation,
                "provider": "FakeProvider",
                "model": model,
                "object": "chat.completion.chunk",
                "created": created,
                "choices": [
                    {
                        "index": 0,
                        "delta": delta,
                        "finish_reason": finish,
                        "native_finish_reason": finish,
                        "logprobs": None,
                    }
                ],
                **extra,
            }

        await self._write_chunk(writer, KEEPALIVE, gone)
        if failure is not None and failure.kind == "keepalives":
            await self._wait(failure.seconds, writer, gone)
            return
        # Paced against the clock from the request, not by a sleep after each
        # token: the real model's tokens come at its own rate whatever the
        # load here, while relative sleeps in this process (on the same two
        # cores as the server in the benchmark) added each sleep's lateness
        # to the stream and counted it as the server's overhead.
        due = time.monotonic() + self.first_token_delay
        await self._wait_until(due, writer, gone)
        await self._event(writer, chunk({"role": "assistant", "content": ""}), gone)

        pause = 1 / self.tokens_per_second if self.tokens_per_second else 0.0
        cut_after = (
            failure.after_chunks
            if failure is not None and failure.kind in {"midstream", "cut", "reset"}
            else None
        )
        for sent, piece in enumerate(words(reply.text) if reply.text else []):
            if cut_after is not None and sent >= cut_after:
                break
            await self._event(writer, chunk({"role": "assistant", "content": piece}), gone)
            if pause:
                due += pause
                await self._wait_until(due, writer, gone)

        if failure is not None and failure.kind == "midstream":
            error = {"code": failure.code, "message": failure.message}
            await self._event(writer, {**chunk({"content": ""}, "error"), "error": error}, gone)
            return
        if failure is not None and failure.kind in {"cut", "reset"}:
            return

        for index, call in enumerate(reply.tool_calls):
            arguments = json.dumps(call.arguments, ensure_ascii=False)
            pieces = max(1, self.tool_argument_pieces)
            size = max(1, -(-len(arguments) // pieces))
            first = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            await self._event(writer, chunk({"role": "assistant", "tool_calls": [first]}), gone)
            for start in range(0, len(arguments), size):
                delta = {"index": index, "function": {"arguments": arguments[start : start + size]}}
                await self._event(writer, chunk({"tool_calls": [delta]}), gone)

        finish = "tool_calls" if reply.tool_calls else "stop"
        usage = self._usage(body, model, reply)
        if self.usage_in_finish_chunk:
            await self._event(writer, chunk({}, finish, usage=usage), gone)
        else:
            await self._event(writer, chunk({}, finish), gone)
            usage_chunk = {**chunk({}), "choices": [], "usage": usage}
            await self._event(writer, usage_chunk, gone)
        await self._event(writer, "[DONE]", gone)


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    524: "A Timeout Occurred",
    529: "Site Overloaded",
}


@contextlib.contextmanager
def running_fake(**options: Any) -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter(**options) as fake:
        yield fake


# --- CLI -----------------------------------------------------------------------------


_FAILURES: dict[str, Callable[[], Failure]] = {
    "401": Failure.unauthorized,
    "402": Failure.no_credits,
    "403": Failure.moderation,
    "404": Failure.no_endpoints_for_parameters,
    "429": Failure.rate_limited,
    "502": lambda: Failure.unavailable(502),
    "503": Failure.unavailable,
    "error200": Failure.error_200,
    "midstream": Failure.midstream,
    "keepalives": Failure.keepalives_only,
    "cut": Failure.cut,
    "reset": Failure.reset,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.openrouter",
        description="A fake OpenRouter chat-completions server for development and benchmarks.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--first-token-ms", type=float, default=200.0)
    parser.add_argument("--tokens-per-second", type=float, default=50.0)
    parser.add_argument("--reply", default=None, help="always answer with this text")
    parser.add_argument(
        "--scenario",
        choices=["tours", "echo"],
        default="tours",
        help="tours: call the site's tools and answer from their results (default); "
        "echo: a short Russian reply quoting the question",
    )
    parser.add_argument(
        "--fail-model",
        action="append",
        default=[],
        metavar="MODEL=KIND",
        help=f"make MODEL fail; KIND one of {', '.join(_FAILURES)}",
    )
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    args = parser.parse_args(argv)

    fake = FakeOpenRouter(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        first_token_delay=args.first_token_ms / 1000,
        tokens_per_second=args.tokens_per_second or None,
        reply=args.reply,
        responder=tour_assistant if args.scenario == "tours" and args.reply is None else None,
    )
    for spec in args.fail_model:
        model, _, kind = spec.partition("=")
        if kind not in _FAILURES:
            parser.error(f"unknown failure kind {kind!r} in {spec!r}")
        fake.fail_model(model, _FAILURES[kind]())

    def announce() -> None:
        print(fake.base_url, flush=True)  # noqa: T201

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(fake.serve(on_ready=announce))


if __name__ == "__main__":
    main()
