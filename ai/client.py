"""One request to OpenRouter's chat completions, streamed, with its timeouts.

One shared httpx.AsyncClient per event loop (a server process has one loop;
each test has its own), so connections are reused across answers. Base URL,
key and timeouts are read from settings on every call.

Timeouts: connect (httpx), first token (our own deadline: OpenRouter's
keep-alive comments reset httpx's read timeout, so that alone would wait
forever) and the whole answer (`deadline`, shared by every attempt and tool
round). Cancelling the calling task leaves the `stream` context, which
closes the upstream connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
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

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def http_client() -> httpx.AsyncClient:
    """The process's shared client for the running event loop."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=settings.AI_MAX_CONNECTIONS,
                # Keep every connection a busy minute used: with httpx's default of
                # 20, the 21st concurrent answer onwards paid a new TCP (and TLS)
                # handshake each time. Idle ones still close after keepalive_expiry.
                max_keepalive_connections=settings.AI_MAX_CONNECTIONS,
            ),
            follow_redirects=False,
        )
        _clients[loop] = client
    return client


async def aclose_http_client() -> None:
    """Close the running loop's client (tests, shutdown)."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


def _header_value(value: str) -> str | bytes:
    # Header values are bytes on the wire; non-ASCII titles go as UTF-8.
    return value if value.isascii() else value.encode("utf-8")


def request_headers() -> dict[str, Any]:
    title = _header_value(settings.AI_SITE_TITLE)
    return {
        "Authorization": f"Bearer {settings.OPENROUTER_API_KEY}",
        "HTTP-Referer": settings.AI_SITE_URL,
        "X-OpenRouter-Title": title,
        "X-Title": title,  # the older name, still read by OpenRouter
        "Content-Type": "application/json",
    }


def visitor_id(*, session_public_id: object, user_id: int | None) -> str:
    """Stable, opaque id for OpenRouter's `user` field (abuse isolation per visitor).

    A logged-in user is one visitor across sessions; otherwise the chat
    session is. Keyed with SECRET_KEY so it reveals neither.
    """
    subject = f"user:{user_id}" if user_id else f"session:{session_public_id}"
    digest = hmac.new(settings.SECRET_KEY.encode(), subject.encode(), hashlib.sha256)
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

    first_token_at: float | None = None  # loop time of the first text or tool call
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

    async def deliver(piece: str) -> None:
        progress.delivered = True
        await on_text(piece)

    def first_token(scope: asyncio.Timeout) -> None:
        if progress.first_token_at is None:
            progress.first_token_at = loop.time()
            scope.reschedule(deadline)

    try:
        async with asyncio.timeout_at(first_deadline) as scope:
            async with http_client().stream(
                "POST",
                f"{settings.OPENROUTER_BASE_URL}/chat/completions",
                json=payload,
                headers=request_headers(),
                timeout=_timeout(),
            ) as response:
                if response.status_code != 200:
                    raise await _status_error(response, model=model, tools_sent=tools_sent)
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" not in content_type:
                    # Not streamed: an error with status 200, or stream=false.
                    body = _json(await response.aread(), model)
                    completion = completion_from_body(body, model=model, tools_sent=tools_sent)
                    first_token(scope)
                    if completion.text:
                        await deliver(completion.text)
                    return completion
                decoder = SSEDecoder()
                async for line in response.aiter_lines():
                    data = decoder.feed(line)
                    if data is None or builder.done:
                        continue
                    piece = builder.feed_data(data)
                    if piece or builder.has_tool_calls:
                        first_token(scope)
                    if piece:
                        await deliver(piece)
                    # After [DONE] keep reading to the end of the body, so
                    # the connection goes back to the pool instead of closing.
    except TimeoutError:
        if builder.done:
            return builder.result()
        if progress.first_token_at is None:
            raise FirstTokenTimeout(
                f"no token within {settings.AI_FIRST_TOKEN_TIMEOUT:g}s", model=model
            ) from None
        raise TotalTimeout(
            "the answer took too long", model=model, partial_text=builder.text
        ) from None
    except httpx.ConnectTimeout as exc:
        raise ConnectTimeout(str(exc) or "connect timeout", model=model) from None
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        if progress.first_token_at is not None or builder.text:
            raise StreamCut(
                f"connection dropped: {exc}", model=model, partial_text=builder.text
            ) from None
        raise TransportError(str(exc) or type(exc).__name__, model=model) from None
    except httpx.TimeoutException as exc:
        raise TransportError(
            f"{type(exc).__name__}: {exc}", model=model, partial_text=builder.text
        ) from None
    except httpx.HTTPError as exc:
        raise TransportError(
            f"{type(exc).__name__}: {exc}", model=model, partial_text=builder.text
        ) from None
    if not builder.finished:
        raise StreamCut("the stream ended without [DONE]", model=model, partial_text=builder.text)
    return builder.result()


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
