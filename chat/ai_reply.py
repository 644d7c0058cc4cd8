"""Answering a visitor with the AI, outside the consumer's receive path.

The visitor consumer runs `answer_pending` as its own asyncio task. One
generation at a time per chat, across tabs and processes: a short Redis lock.
Messages that arrive during a generation are answered together by the next
round, which sees all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ai import agent
from ai.types import AIRequest
from chat import actions
from chat.errors import ClientError
from chat.events import ai_chunk_frame, ai_typing_frame, session_group
from chat.hooks import support_line
from chat.publish import Outgoing, run_action, run_action_collected, send_events
from tatartours.redis import get_redis

logger = logging.getLogger(__name__)

# The lock is short and renewed while its holder is alive, so a process that
# was killed mid-answer blocks the chat for LOCK_TTL_MS at most, not for the
# length of the longest possible answer.
LOCK_TTL_MS = 15_000
LOCK_RENEW_SECONDS = LOCK_TTL_MS / 1000 / 3
LOCK_POLL_SECONDS = 0.25
# Each flush is one frame; ten a second still reads as streaming.
CHUNK_FLUSH_SECONDS = 0.1

SendFrame = Callable[[dict[str, Any]], Awaitable[None]]

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


def _lock_key(session_public_id: object) -> str:
    return f"tatartours:ai-lock:{session_public_id}"


async def _keep_renewing(key: str, owner: str) -> None:
    redis = get_redis()
    while True:
        await asyncio.sleep(LOCK_RENEW_SECONDS)
        with contextlib.suppress(Exception):
            await redis.eval(_RENEW, 1, key, owner, LOCK_TTL_MS)


@contextlib.asynccontextmanager
async def generation_lock(session_public_id: object, owner: str) -> AsyncIterator[bool]:
    key = _lock_key(session_public_id)
    redis = get_redis()
    acquired = bool(await redis.set(key, owner, nx=True, px=LOCK_TTL_MS))
    renewal = asyncio.create_task(_keep_renewing(key, owner)) if acquired else None
    try:
        yield acquired
    finally:
        if renewal is not None:
            renewal.cancel()
        if acquired:
            with contextlib.suppress(Exception):
                await asyncio.shield(redis.eval(_RELEASE, 1, key, owner))


async def wait_for_lock_release(session_public_id: object) -> None:
    """Until nobody holds the chat's generation lock (a live holder, or its expiry)."""
    redis = get_redis()
    key = _lock_key(session_public_id)
    # Polling, not an Event: the holder may be another process (or a dead one).
    while await redis.exists(key):  # noqa: ASYNC110
        await asyncio.sleep(LOCK_POLL_SECONDS)


class ChunkBatcher:
    """Sends streamed text as `ai_chunk` frames at most every CHUNK_FLUSH_SECONDS.

    Chunks go straight to the socket that asked, not through the chat group:
    a dozen group round trips per answer for frames nothing else needs.
    Other tabs show typing and then the stored answer (`ai_response`).
    """

    def __init__(self, send: SendFrame, reply_to: int) -> None:
        self._send = send
        self._reply_to = reply_to
        self._buffer: list[str] = []
        self._last_flush = 0.0

    async def add(self, text: str) -> None:
        if not text:
            return
        self._buffer.append(text)
        now = time.monotonic()
        if now - self._last_flush >= CHUNK_FLUSH_SECONDS:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        text = "".join(self._buffer)
        self._buffer.clear()
        self._last_flush = time.monotonic()
        await self._send(ai_chunk_frame(self._reply_to, text))


async def answer_pending(
    session_pk: int, *, owner: str, send: SendFrame, request: AIRequest | None = None
) -> bool:
    """Answer the session's unanswered visitor messages, if any and if we hold the lock.

    `owner` is the channel name of the asking socket and `send` sends a frame
    to it; `request` is the AI context already read with the message, if any.
    Returns True if an answer was stored.

    Frames on the asking socket, in order: `ai_typing` true and the
    `ai_chunk`s sent directly, then `ai_response` and `ai_typing` false
    through the chat group (publish after commit). Other tabs get typing
    and the answer through the group; the asking socket skips the group's
    copy of the typing flag it already has (`origin`).
    """
    while True:
        if request is None:
            request = await run_action(actions.prepare_ai_reply, session_pk)
        if request is None:
            return False
        async with generation_lock(request.session_public_id, owner) as acquired:
            if acquired:
                return await _generate(session_pk, request, owner=owner, send=send)
        # Another tab or process is answering, or a killed one left its lock:
        # wait it out, then look again (the other answer may cover ours).
        await wait_for_lock_release(request.session_public_id)
        request = None


async def _generate(session_pk: int, request: AIRequest, *, owner: str, send: SendFrame) -> bool:
    group = session_group(request.session_public_id)
    await send(ai_typing_frame(True))
    await send_events([(group, ai_typing_frame(True))], origin=owner)
    committed: list[Outgoing] = []
    try:
        batcher = ChunkBatcher(send, request.reply_to)
        answer = await agent.answer(request, on_text=batcher.add)
        await batcher.flush()
        stored, committed = await run_action_collected(
            actions.store_ai_answer,
            session_pk=session_pk,
            reply_to=request.reply_to,
            answer=answer,
        )
    finally:
        # The stored answer and the end of typing leave as one layer message.
        await asyncio.shield(send_events([*committed, (group, ai_typing_frame(False))]))
    if stored is not None and answer.meta.get("handoff"):
        await hand_off(session_pk, str(answer.meta.get("handoff_reason") or ""))
    return stored is not None


async def hand_off(session_pk: int, reason: str) -> None:
    """The model called its handoff tool: queue the chat for an operator.

    Shielded: the `support_pending` this publishes makes the consumer cancel
    its AI task, which is this one; the request must still complete.
    """
    try:
        await asyncio.shield(support_line().request_support(session_pk=session_pk, reason=reason))
    except ClientError as error:
        logger.warning("AI handoff for session %s refused: %s", session_pk, error)
