"""One request to OpenRouter's chat completions, streamed, with its timeouts.

One shared httpx.AsyncClient per event loop (a server process has one loop;
each test has its own), so connections are reused across answers. Base URL,
key and timeouts are read from settings on every call.

Timeouts: connect (httpx), first token (our own deadline: OpenRouter's
keep-alive comments reset httpx's read timeout, so that alone would wait
forever) and the whole answer (`deadline`, shared by every attempt and tool
round). Cancelling the calling task leaves the `stream` context, which
closes the upstream connection.

The transport is aiohttp's, through httpx-aiohttp, with httpx's API kept:
streaming one answer costs about a third of the CPU of httpx's own
transport (bench/stream_floor.py, docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import httpx_aiohttp
import msgspec
from django.conf import settings

from ai.errors import (
    AIError,
    ConnectTimeout,
    FirstTokenTimeout,
    InvalidResponse,
    StreamCut,
    TotalTimeout,
    TransportError,
    error_from_body,
)
from ai.streaming import Completion, CompletionBuilder, SSEDecoder, completion_from_body

logger = logging.getLogger(__name__)

OnText = Callable[[str], Awaitable[None]]

# After `data: [DONE]`, how long the end of the body may take before the
# connection is dropped instead of reused (the answer is complete either way).
AFTER_DONE_GRACE_SECONDS = 0.5

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)
# One task per loop that closes its client when the loop shuts down (asyncio.run
# and test runners cancel every task then): aiohttp's pool must be closed on
# its own loop, or it complains of unclosed connections.
_closers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = (
    weakref.WeakKeyDictionary()
)


async def _close_with_the_loop(client: httpx.AsyncClient) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        await client.aclose()


def http_client() -> httpx.AsyncClient:
    """The process's shared client for the running event loop."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            transport=_transport(),
            limits=_limits(),
            follow_redirects=False,
        )
        _clients[loop] = client
        previous = _closers.get(loop)
        if previous is not None:
            previous.cancel()
        _closers[loop] = loop.create_task(_close_with_the_loop(client), name="ai-http-client")
    return client


def _limits() -> httpx.Limits:
    return httpx.Limits(
        max_connections=settings.AI_MAX_CONNECTIONS,
        # Keep every connection a busy minute used: with httpx's default of
        # 20, the 21st concurrent answer onwards paid a new TCP (and TLS)
        # handshake each time. Idle ones still close after keepalive_expiry.
        max_keepalive_connections=settings.AI_MAX_CONNECTIONS,
    )


def _transport() -> httpx.AsyncBaseTransport:
    # The transport sizes aiohttp's connection pool from the same limits.
    return httpx_aiohttp.AiohttpTransport(limits=_limits())


async def aclose_http_client() -> None:
    """Close the running loop's client (tests, shutdown)."""
    loop = asyncio.get_running_loop()
    client = _clients.pop(loop, None)
    closer = _closers.pop(loop, None)
    if closer is not None:
        closer.cancel()
    if client is not None:
        await client.aclose()


def header_text(value: str) -> str:
    """A header value that survives every HTTP hop: non-ASCII percent-encoded as UTF-8.

    Raw UTF-8 in a header is "obs-text" that recipients treat as opaque
    (RFC 9110 5.5) and that fetch-based clients cannot even send; OpenRouter's
    own SDKs send `X-OpenRouter-Title` as such a string. Percent-encoding
    (RFC 3986, as encodeURIComponent) keeps ASCII titles unchanged and
    Russian ones readable after one unquote. Control characters are encoded
    too, so a title can never split a header.
    """
    return quote(value, safe=" !#$&'()*+,-./:;=?@[]_~")


def request_headers() -> httpx.Headers:
    """The headers of every request, from settings now (built once per distinct value)."""
    return _headers(settings.OPENROUTER_API_KEY, settings.AI_SITE_URL, settings.AI_SITE_TITLE)


@functools.lru_cache(maxsize=8)
def _headers(api_key: str, site_url: str, site_title: str) -> httpx.Headers:
    # httpx.Headers, not a dict: httpx normalises a dict's names and values on
    # every request; a Headers instance is copied as it is.
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
    }
    if site_url:
        headers["HTTP-Referer"] = header_text(site_url)
    if site_title:
        # The current name (X-Title is its older alias; one is enough).
        headers["X-OpenRouter-Title"] = header_text(site_title)
    return httpx.Headers(headers)


@functools.lru_cache(maxsize=8)
def completions_url(base_url: str) -> httpx.URL:
    """Parsed once per base URL: httpx parses a string URL twice per request, in Python."""
    return httpx.URL(f"{base_url}/chat/completions")


_encode_fast = msgspec.json.Encoder().encode


def request_body(payload: dict[str, Any]) -> bytes:
    """The payload as httpx's `json=` writes it (compact, UTF-8 unescaped), in a tenth of the time.

    The prompt is most of the body and is encoded for every request. The
    payload is built of JSON's own types only (ai/agent.py, ai/prompt.py),
    for which msgspec writes the bytes of httpx's `json.dumps(ensure_ascii=
    False, separators=(",", ":"), allow_nan=False)` (tests/ai/test_request.py).
    """
    return _encode_fast(payload)


def visitor_id(*, session_public_id: object, user_id: int | None) -> str:
    """Stable, opaque id for OpenRouter's `user` field (abuse isolation per visitor).

    A logged-in user is one visitor across sessions; otherwise the chat
    session is. Keyed with SECRET_KEY so it reveals neither.
    """
    subject = f"user:{user_id}" if user_id else f"session:{session_public_id}"
    return _visitor_digest(settings.SECRET_KEY, subject)


@functools.lru_cache(maxsize=4096)
def _visitor_digest(secret: str, subject: str) -> str:
    # Every answer asks for the same visitor's id again: an HMAC each time was
    # 0.4% of the server's samples in ai-50x10.
    digest = hmac.new(secret.encode(), subject.encode(), hashlib.sha256)
    return "tt-" + digest.hexdigest()[:32]


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.AI_CONNECT_TIMEOUT,
        # Between two bytes; keep-alives arrive every few seconds.
        read=settings.AI_FIRST_TOKEN_TIMEOUT,
        write=settings.AI_CONNECT_TIMEOUT,
        pool=settings.AI_CONNECT_TIMEOUT,
    )


@dataclass
class Progress:
    """What reached the visitor so far, across every request of one answer."""

    first_token_at: float | None = None  # loop time of the first text, tool call or reasoning
    delivered: bool = False  # some text went to on_text


async def complete(
    payload: dict[str, Any],
    *,
    on_text: OnText,
    deadline: float,
    progress: Progress | None = None,
) -> Completion:
    """POST one chat completion; stream text pieces to `on_text`.

    `deadline` is the loop time by which the whole answer must be done.
    Raises an AIError; its `partial_text` is what reached `on_text`.
    """
    progress = progress or Progress()
    loop = asyncio.get_running_loop()
    model = str(payload.get("model", ""))
    tools_sent = bool(payload.get("tools"))
    first_deadline = min(loop.time() + settings.AI_FIRST_TOKEN_TIMEOUT, deadline)
    builder = CompletionBuilder(model=model)
    alive = False  # this request showed life (earlier turns of the answer do not count)

    async def deliver(piece: str) -> None:
        progress.delivered = True
        await on_text(piece)

    def first_token(scope: asyncio.Timeout) -> None:
        nonlocal alive
        if not alive:
            alive = True
            scope.reschedule(deadline)
        if progress.first_token_at is None:
            progress.first_token_at = loop.time()

    def after_done(scope: asyncio.Timeout) -> None:
        # The answer is complete. Read on briefly for the end of the body, so
        # the connection goes back to the pool; a body held open is not waited for.
        scope.reschedule(min(deadline, loop.time() + AFTER_DONE_GRACE_SECONDS))

    try:
        async with asyncio.timeout_at(first_deadline) as scope:
            async with http_client().stream(
                "POST",
                completions_url(settings.OPENROUTER_BASE_URL),
                content=request_body(payload),
                headers=request_headers(),
                timeout=_timeout(),
            ) as response:
                if response.status_code != 200:
                    raise await _status_error(response, model=model, tools_sent=tools_sent)
                # The generation's id, before any chunk names it (OpenRouter sends it
                # on every endpoint): an answer whose chunks carry no id still has it.
                builder.completion.generation_id = response.headers.get("x-generation-id", "")
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" not in content_type:
                    # Not streamed: an error with status 200, or stream=false.
                    body = _json(await response.aread(), model)
                    completion = completion_from_body(body, model=model, tools_sent=tools_sent)
                    completion.generation_id = (
                        completion.generation_id or builder.completion.generation_id
                    )
                    first_token(scope)
                    if completion.text:
                        await deliver(completion.text)
                    return completion
                decoder = SSEDecoder()
                async for raw in response.aiter_bytes():
                    if builder.done:
                        continue  # Bytes after [DONE]: the rest of the body, ignored.
                    for data in decoder.feed_bytes(raw):
                        if builder.done:
                            break
                        piece = builder.feed_data(data)
                        if piece or builder.has_tool_calls or builder.reasoning_seen:
                            # Reasoning models think for seconds before any text:
                            # their reasoning deltas are life, not silence.
                            first_token(scope)
                        if piece:
                            await deliver(piece)
                        if builder.done:
                            after_done(scope)
    except TimeoutError:
        if builder.done:
            return builder.result()
        if not alive:
            raise FirstTokenTimeout(
                f"no token within {settings.AI_FIRST_TOKEN_TIMEOUT:g}s", model=model
            ) from None
        raise TotalTimeout(
            "the answer took too long", model=model, partial_text=builder.text
        ) from None
    except httpx.HTTPError as exc:
        if builder.done:
            # [DONE] arrived: whatever happened to the rest of the body, the answer is whole.
            return builder.result()
        raise _transport_error(exc, model=model, started=alive, partial_text=builder.text) from None
    if not builder.finished:
        raise StreamCut("the stream ended without [DONE]", model=model, partial_text=builder.text)
    return builder.result()


def _transport_error(
    exc: httpx.HTTPError, *, model: str, started: bool, partial_text: str
) -> AIError:
    detail = str(exc) or type(exc).__name__
    if started or partial_text:
        # The answer had begun: whatever broke, the stream was cut.
        return StreamCut(f"connection dropped: {detail}", model=model, partial_text=partial_text)
    if isinstance(exc, httpx.ConnectTimeout):
        return ConnectTimeout(detail, model=model)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return TransportError(detail, model=model)
    return TransportError(f"{type(exc).__name__}: {detail}", model=model)


def _json(raw: bytes, model: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidResponse(f"body is not JSON: {raw[:100]!r}", model=model) from None


async def _status_error(response: httpx.Response, *, model: str, tools_sent: bool) -> AIError:
    raw = await response.aread()
    try:
        body = json.loads(raw)
        error = body.get("error", body) if isinstance(body, dict) else body
    except ValueError:
        error = {"message": raw[:200].decode("utf-8", "replace") or response.reason_phrase}
    return error_from_body(
        error,
        status=response.status_code,
        model=model,
        retry_after=response.headers.get("retry-after"),
        tools_sent=tools_sent,
    )


def elapsed_ms(since: float, until: float | None = None) -> int:
    return int(((until if until is not None else time.monotonic()) - since) * 1000)
