"""What the fault tests break, under their own control, never the shared services.

- `TcpProxy`: a loopback TCP proxy (in its own thread) in front of the shared
  PostgreSQL or Redis; `cut()` resets every connection and refuses new ones (or,
  with `blackhole=True`, accepts and never answers), `restore()` lets them
  through again; `hold_replies()` passes what clients send but keeps the
  server's answers until `release_replies()`. The shared server itself is
  never stopped.
- `RedisServer`: a private redis-server on a free port, killed and started
  again by the test.
- `ChatClient`: a visitor over a real WebSocket (the `websockets` library),
  who remembers what the server acknowledged and resends what it did not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from tests.servers import free_port, wait_for_port


class TcpProxy:
    """127.0.0.1:<port> -> target, with a switch."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.mode = "open"  # "open", "reset" (refuse at once) or "blackhole" (never answer)
        self._loop = asyncio.new_event_loop()
        self._links: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._replies_flow = asyncio.Event()  # cleared: the server's answers wait
        self._replies_flow.set()

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", self.port), self._loop
        ).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._links):
                writer.transport.abort()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def cut(self, *, blackhole: bool = False) -> None:
        """Break every open connection; new ones fail (reset) or hang (blackhole)."""
        self.mode = "blackhole" if blackhole else "reset"

        async def drop_all() -> None:
            for writer in list(self._links):
                writer.transport.abort()
            self._links.clear()

        asyncio.run_coroutine_threadsafe(drop_all(), self._loop).result(10)

    def restore(self) -> None:
        self.mode = "open"

    def hold_replies(self) -> None:
        """Requests still reach the server (and run there); its answers wait here.

        In effect when it returns, like `cut()`: an answer already on its way
        through the proxy's loop is the only one that can still pass.
        """
        self._in_proxy_loop(self._replies_flow.clear)

    def release_replies(self) -> None:
        self._in_proxy_loop(self._replies_flow.set)

    def _in_proxy_loop(self, switch: Callable[[], None]) -> None:
        async def flip() -> None:
            switch()

        asyncio.run_coroutine_threadsafe(flip(), self._loop).result(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "reset":
            writer.transport.abort()
            return
        if self.mode == "blackhole":
            self._links.add(writer)
            return  # Read nothing, answer nothing; cut() or restore+drop ends it.
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links.update({writer, up_writer})
        await asyncio.gather(
            self._pipe(reader, up_writer),
            self._pipe(up_reader, writer, replies=True),
            return_exceptions=True,
        )

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, replies: bool = False
    ) -> None:
        try:
            while data := await reader.read(65536):
                if replies:
                    await self._replies_flow.wait()
                writer.write(data)
                await writer.drain()
        finally:
            self._links.discard(writer)
            writer.transport.abort()


class RedisServer:
    """A private redis-server for one test: no persistence, free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, process=self.process)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def new_client_id() -> str:
    return str(uuid.uuid4())


@dataclass
class ChatClient:
    """One visitor (one session) talking to whichever server it is pointed at.

    `acked` maps client_id -> message id for every message the server
    acknowledged; `pending` holds client_ids sent but not yet acknowledged,
    which `resend_pending` sends again after a reconnect (as the widget does).
    """

    token: str | None = None
    session_id: str | None = None
    acked: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    last_id: int = 0
    ws: ClientConnection | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def connect(self, ws_url: str, port: int, *, after: bool = True) -> dict[str, Any]:
        """Open a socket and register (resuming the session once there is a token)."""
        self.ws = await connect(
            f"{ws_url}/ws/chat/", origin=Origin(f"http://127.0.0.1:{port}"), open_timeout=10
        )
        register: dict[str, Any] = {"type": "register"}
        if self.token:
            register["token"] = self.token
            if after:
                register["after"] = self.last_id
        await self.ws.send(json.dumps(register))
        registered = await self.expect("registered")
        if self.session_id is not None:
            assert registered["session_id"] == self.session_id, "the session was not resumed"
        self.token, self.session_id = registered["token"], registered["session_id"]
        for message in registered["messages"]:
            self.last_id = max(self.last_id, message["id"])
        return registered

    async def connect_retrying(self, ws_url: str, port: int, timeout: float = 30) -> None:
        """Reconnect as the widget does: with backoff, until the server takes us."""
        deadline = time.monotonic() + timeout
        delay = 0.2
        while True:
            try:
                await self.connect(ws_url, port)
                return
            except (OSError, ConnectionClosed, InvalidStatus, TimeoutError, AssertionError):
                await self.close()
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def send_message(self, text: str, client_id: str | None = None) -> str:
        assert self.ws is not None
        client_id = client_id or new_client_id()
        self.texts[client_id] = text
        if client_id not in self.pending and client_id not in self.acked:
            self.pending.append(client_id)
        await self.ws.send(json.dumps({"type": "message", "client_id": client_id, "message": text}))
        return client_id

    async def outcome(self, client_id: str, timeout: float = 15) -> dict[str, Any]:
        """The `message_ack` or `error` for client_id; records acks."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.next_frame()
                if frame.get("client_id") == client_id and frame["type"] in {
                    "message_ack",
                    "error",
                }:
                    return frame

    async def resend_pending(self, timeout: float = 15) -> None:
        for client_id in list(self.pending):
            await self.send_message(self.texts[client_id], client_id)
            frame = await self.outcome(client_id, timeout)
            assert frame["type"] == "message_ack", frame

    async def next_frame(self) -> dict[str, Any]:
        assert self.ws is not None
        frame: dict[str, Any] = json.loads(await self.ws.recv())
        self.seen.append(frame)
        if frame["type"] == "message_ack":
            client_id = frame["client_id"]
            if client_id in self.acked:
                assert self.acked[client_id] == frame["id"], "one client_id, two message ids"
            self.acked[client_id] = frame["id"]
            if client_id in self.pending:
                self.pending.remove(client_id)
            self.last_id = max(self.last_id, frame["id"])
        elif frame["type"] in {"ai_response", "visitor_message", "operator_message"}:
            self.last_id = max(self.last_id, frame["id"])
        return frame

    async def expect(self, frame_type: str, timeout: float = 15) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.next_frame()
                if frame["type"] == frame_type:
                    return frame

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.ws = None

    async def full_history(self, ws_url: str, port: int) -> list[dict[str, Any]]:
        """Every stored message of the session, through a fresh register with after=0."""
        saved = self.last_id
        self.last_id = 0
        await self.close()
        registered = await self.connect(ws_url, port)
        self.last_id = max(saved, self.last_id)
        return list(registered["messages"])


# Log lines that mean our code failed, as opposed to a library reporting the
# outage the test caused (channels-redis logs its own background tasks' Redis
# errors through asyncio as "Task exception was never retrieved").
APP_FAILURES = (
    "Exception inside application",
    " ERROR chat.",
    " ERROR support.",
    " ERROR ai.",
    " ERROR tours.",
    " ERROR django.request",
)


# Noise a storm used to leave (issue 14, item 6): frames sent on sockets already
# closed, and consumers whose cleanup outlived daphne's shutdown timeout.
STORM_NOISE = (
    "Attempt to send on a closed protocol",
    "took too long to shut down and was killed",
)


def app_failures(log: str) -> list[str]:
    """Failures and storm noise; an INFO line (an answer streamed to a tab that just
    left, still stored) is the code noting a handled case."""
    marks = APP_FAILURES + STORM_NOISE
    return [
        line
        for line in log.splitlines()
        if any(mark in line for mark in marks) and " INFO " not in line
    ]
