"""The load generator: visitors and operators speaking the wire contract over real WebSockets.

Runs in its own process (`python -m bench.loadgen`), driven by the bench
runner over stdin/stdout, one JSON object per line:

    runner -> {"scenario": ..., ...spec}     generator -> {"ready": true, ...}
    runner -> "go"                           generator -> {"result": {...}}
    runner -> "close"                        (sockets closed, process exits)

Everything opens before "go" so that connection set-up is not measured, and
stays open until "close" so that the runner can read the server's memory
with every socket still there. The generator measures itself too: its CPU
time and how late its event loop runs (a 10 ms ticker), so that a saturated
generator is never mistaken for a slow server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from bench.stats import summarize

FRAME_TIMEOUT = 30.0
TICK = 0.010
QUESTION = "Здравствуйте! Какие туры в Казань есть на выходные и сколько они стоят?"


def now() -> float:
    return time.perf_counter()


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ServerError(Exception):
    """The server answered with an `error` frame, or a frame we did not expect."""


@dataclass
class Recorder:
    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    messages: int = 0

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds * 1000)

    def error(self, what: str) -> None:
        if len(self.errors) < 1000:
            self.errors.append(what[:300])


class LatenessMonitor:
    """How late the generator's own event loop wakes up: a busy generator shows here."""

    def __init__(self) -> None:
        self.lateness_ms: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            started = now()
            await asyncio.sleep(TICK)
            self.lateness_ms.append(max(0.0, (now() - started - TICK) * 1000))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def open_socket(url: str, cookie: str | None = None) -> ClientConnection:
    headers = {"Cookie": cookie} if cookie else None
    # The page's origin, as a browser sends it: the origin check compares scheme, host and port.
    origin = f"http://{urlsplit(url).netloc}"
    return await connect(
        url,
        origin=origin,  # type: ignore[arg-type]
        additional_headers=headers,
        compression=None,  # the server declines it anyway; say so plainly
        ping_interval=None,  # the server pings; the client only answers
        open_timeout=60,
        close_timeout=5,
        max_size=2**20,
    )


async def receive(ws: ClientConnection) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
    frame: dict[str, Any] = json.loads(raw)
    if frame.get("type") == "error":
        raise ServerError(f"error frame: {frame}")
    return frame


async def until(ws: ClientConnection, frame_type: str) -> dict[str, Any]:
    while True:
        frame = await receive(ws)
        if frame["type"] == frame_type:
            return frame


async def send(ws: ClientConnection, frame: dict[str, Any]) -> None:
    await ws.send(json.dumps(frame, ensure_ascii=False))


async def gather_limited(
    count: int, make: Callable[[int], Awaitable[Any]], limit: int = 50
) -> list[Any]:
    """Run make(0..count-1) with at most `limit` at a time (a burst of 5,000 SYNs helps no one)."""
    gate = asyncio.Semaphore(limit)

    async def one(index: int) -> Any:
        async with gate:
            return await make(index)

    return await asyncio.gather(*(one(i) for i in range(count)), return_exceptions=True)


# --- visitors -----------------------------------------------------------------


@dataclass
class Visitor:
    ws: ClientConnection
    session_id: str


async def open_visitor(url: str, register: bool = True) -> Visitor:
    ws = await open_socket(f"{url}/ws/chat/")
    if not register:
        return Visitor(ws, "")
    await send(ws, {"type": "register"})
    registered = await until(ws, "registered")
    return Visitor(ws, registered["session_id"])


async def ask_ai(visitor: Visitor, rec: Recorder | None, scheduled: float | None = None) -> None:
    """One visitor message answered by the AI; times from sending (or from when it was due).

    `rec` None: a warm-up question, not recorded."""
    if rec is None:
        rec = Recorder()  # thrown away
    client_id = str(uuid.uuid4())
    sent = now()
    start = scheduled if scheduled is not None else sent
    await send(visitor.ws, {"type": "message", "client_id": client_id, "message": QUESTION})
    message_id: int | None = None
    first_chunk = answered = False
    while True:
        frame = await receive(visitor.ws)
        kind = frame["type"]
        if kind == "message_ack" and frame.get("client_id") == client_id:
            message_id = frame["id"]
            rec.add("ack", now() - start)
        elif kind == "ai_chunk" and not first_chunk and frame.get("reply_to") == message_id:
            first_chunk = True
            rec.add("first_chunk", now() - start)
        elif kind == "ai_response" and message_id is not None:
            if frame.get("reply_to") != message_id:
                raise ServerError(f"ai_response to {frame.get('reply_to')}, expected {message_id}")
            rec.add("response", now() - start)
            rec.messages += 1
            answered = True
        elif kind == "ai_typing" and frame["typing"] is False and message_id is not None:
            # The AI round is over; the next message starts a new one, as a reader's would.
            if not answered:
                raise ServerError(f"ai_typing false without an ai_response to {message_id}")
            return


async def ai_chat(spec: dict[str, Any], rec: Recorder) -> Callable[[], Awaitable[None]]:
    """N visitors, each sends M messages one after another and waits for each answer."""
    urls: list[str] = spec["urls"]
    visitors = await open_all(spec["visitors"], lambda i: open_visitor(urls[i % len(urls)]), rec)
    # One unrecorded question per visitor, all at once, before measuring, as
    # for the relay: the figures are the steady state's. From a cold start
    # the first rounds (the async pool opening its connections, every
    # statement's first parse, 50 new connections to the model) held the
    # tail: a probe's stored visitor messages took 44-76 ms at the median in
    # the first three rounds of 50, 2-4 ms after (docs/benchmarks.md).
    warm_up = (ask_ai(v, None) for v in visitors)
    for outcome in await asyncio.gather(*warm_up, return_exceptions=True):
        if isinstance(outcome, BaseException):
            rec.error(f"warm-up: {outcome!r}")

    spread: float = spec.get("spread_seconds", 0.0)

    async def talk(index: int, visitor: Visitor) -> None:
        try:
            # Each visitor's first question at its own point of the spread.
            await asyncio.sleep(spread * index / len(visitors))
            for _ in range(spec["messages"]):
                await ask_ai(visitor, rec)
        except (ServerError, TimeoutError, WebSocketException, OSError) as error:
            rec.error(repr(error))

    async def run() -> None:
        await asyncio.gather(*(talk(i, v) for i, v in enumerate(visitors)))

    return run


async def saturation(spec: dict[str, Any], rec: Recorder) -> Callable[[], Awaitable[None]]:
    """Open loop: messages are due at a fixed total rate; lateness counts from when one was due.

    A visitor sends its next message only after the previous answer (as a
    person does), so a slow server shows as growing latency measured from
    the due time, not as a politely slower sender (no coordinated omission).
    """
    urls: list[str] = spec["urls"]
    count = spec["visitors"]
    visitors = await open_all(count, lambda i: open_visitor(urls[i % len(urls)]), rec)
    rate: float = spec["rate"]
    duration: float = spec["duration"]

    async def talk(index: int, visitor: Visitor, begin: float) -> None:
        interval = len(visitors) / rate
        due = begin + index / rate
        try:
            while due < begin + duration:
                delay = due - now()
                if delay > 0:
                    await asyncio.sleep(delay)
                await ask_ai(visitor, rec, scheduled=due)
                due += interval
        except (ServerError, TimeoutError, WebSocketException, OSError) as error:
            rec.error(repr(error))

    async def run() -> None:
        begin = now()
        await asyncio.gather(*(talk(i, v, begin) for i, v in enumerate(visitors)))

    return run


async def idle(spec: dict[str, Any], rec: Recorder) -> Callable[[], Awaitable[None]]:
    """Many registered visitor sockets that say nothing for a while; all must stay open."""
    url, register = spec["urls"][0], spec.get("register", True)
    visitors = await open_all(spec["sockets"], lambda _i: open_visitor(url, register), rec)
    rec.samples["opened"] = [float(len(visitors))]

    async def run() -> None:
        await asyncio.sleep(spec["duration"])
        closed = [v for v in visitors if v.ws.close_code is not None]
        for v in closed:
            rec.error(f"socket closed while idle: {v.ws.close_code}")
        rec.messages = len(visitors) - len(closed)

    return run


# --- relay: visitor on one process, operator on another -----------------------


@dataclass
class Pair:
    visitor: Visitor
    operator: ClientConnection
    session_id: str


async def open_pair(spec: dict[str, Any], index: int) -> Pair:
    visitor_url, operator_url = spec["visitor_url"], spec["operator_url"]
    cookie = spec["operator_cookies"][index % len(spec["operator_cookies"])]
    operator = await open_socket(f"{operator_url}/ws/support/", cookie=cookie)
    await until(operator, "queue")
    visitor = await open_visitor(visitor_url)
    await send(visitor.ws, {"type": "request_support", "reason": "bench"})
    await until(visitor.ws, "support_pending")
    await send(operator, {"type": "join_support_chat", "session_id": visitor.session_id})
    while True:
        frame = await receive(operator)
        if frame["type"] == "support_chat_joined" and frame["session_id"] == visitor.session_id:
            break
    await until(visitor.ws, "support_joined")
    return Pair(visitor, operator, visitor.session_id)


async def round_trip(pair: Pair, rec: Recorder | None) -> None:
    """Visitor says something; the operator (another process) answers; the visitor reads it.

    `rec` None: a warm-up round, not recorded."""
    client_id = str(uuid.uuid4())
    started = now()
    await send(pair.visitor.ws, {"type": "message", "client_id": client_id, "message": "пинг"})
    while True:
        frame = await receive(pair.operator)
        if frame["type"] == "visitor_message" and frame.get("client_id") == client_id:
            break
    reply_id = str(uuid.uuid4())
    await send(
        pair.operator,
        {
            "type": "message",
            "session_id": pair.session_id,
            "client_id": reply_id,
            "message": "понг",
        },
    )
    while True:
        frame = await receive(pair.visitor.ws)
        if frame["type"] == "operator_message":
            break
    if rec is not None:
        rec.add("round_trip", now() - started)
        rec.messages += 1


async def relay(spec: dict[str, Any], rec: Recorder) -> Callable[[], Awaitable[None]]:
    pairs = await open_all(spec["pairs"], lambda i: open_pair(spec, i), rec, limit=5)
    # One unrecorded round per pair, all at once, before measuring: the
    # figures are the steady state's. Measured from a cold start, the first
    # round of 50 simultaneous messages (each process's async pool opening
    # its connections, every statement's first parse) was ~2.5% of the round
    # trips and the whole of the p99 (689-965 ms against a p95 of 209-298).
    for outcome in await asyncio.gather(
        *(round_trip(p, None) for p in pairs), return_exceptions=True
    ):
        if isinstance(outcome, BaseException):
            rec.error(f"warm-up: {outcome!r}")

    async def ping_pong(pair: Pair) -> None:
        try:
            for _ in range(spec["rounds"]):
                await round_trip(pair, rec)
        except (ServerError, TimeoutError, WebSocketException, OSError) as error:
            rec.error(repr(error))

    async def run() -> None:
        await asyncio.gather(*(ping_pong(p) for p in pairs))

    return run


async def relay_floor(spec: dict[str, Any], rec: Recorder) -> Callable[[], Awaitable[None]]:
    """`relay` against bench/floor.py: the same ping-pong with nothing of the chat's in it."""

    async def open_floor_pair(index: int) -> tuple[ClientConnection, ClientConnection]:
        visitor = await open_socket(f"{spec['visitor_url']}/floor/relay/{index}/")
        operator = await open_socket(f"{spec['operator_url']}/floor/relay/{index}/")
        return visitor, operator

    pairs = await open_all(spec["pairs"], open_floor_pair, rec, limit=5)

    async def ping_pong(
        visitor: ClientConnection, operator: ClientConnection, rounds: int, record: bool = True
    ) -> None:
        try:
            for _ in range(rounds):
                started = now()
                await visitor.send("пинг")
                await asyncio.wait_for(operator.recv(), FRAME_TIMEOUT)
                await operator.send("понг")
                await asyncio.wait_for(visitor.recv(), FRAME_TIMEOUT)
                if record:
                    rec.add("round_trip", now() - started)
                    rec.messages += 1
        except (TimeoutError, WebSocketException, OSError) as error:
            rec.error(repr(error))

    # The same unrecorded warm-up round as `relay`, so the two compare.
    await asyncio.gather(*(ping_pong(v, o, 1, record=False) for v, o in pairs))

    async def run() -> None:
        await asyncio.gather(*(ping_pong(v, o, spec["rounds"]) for v, o in pairs))

    return run


async def open_all(
    count: int, make: Callable[[int], Awaitable[Any]], rec: Recorder, limit: int = 50
) -> list[Any]:
    opened = await gather_limited(count, make, limit=limit)
    good = [item for item in opened if not isinstance(item, BaseException)]
    for item in opened:
        if isinstance(item, BaseException):
            rec.error(f"set-up: {item!r}")
    return good


SCENARIOS = {
    "ai": ai_chat,
    "saturation": saturation,
    "idle": idle,
    "relay": relay,
    "relay-floor": relay_floor,
}


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def reply(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    spec = json.loads(await reader.readline())
    rec = Recorder()
    run = await SCENARIOS[spec["scenario"]](spec, rec)
    reply({"ready": True, "errors": len(rec.errors)})
    await reader.readline()  # "go"

    monitor = LatenessMonitor()
    monitor.start()
    cpu_before, wall_before = process_cpu(), now()
    await run()
    wall = now() - wall_before
    cpu = process_cpu() - cpu_before
    await monitor.stop()
    reply(
        {
            "result": {
                "messages": rec.messages,
                "errors": rec.errors,
                "wall_seconds": round(wall, 3),
                "samples": rec.samples,
                "generator": {
                    "cpu_seconds": round(cpu, 3),
                    "cpu_share_of_core": round(cpu / wall, 3) if wall else None,
                    "lateness_ms": summarize(monitor.lateness_ms),
                },
            }
        }
    )
    await reader.readline()  # "close"


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1:] * 2)
    asyncio.run(main())
