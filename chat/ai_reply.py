"""Answering a visitor with the AI, outside the consumer's receive path.

The visitor consumer holds an `AnswerTask` (at the bottom), which runs
`answer_pending` as the socket's own asyncio task and retries it through an
outage; `do_route_visitor_message` decides whether a person or the AI
answers a message. One generation at a time per chat, across tabs and
processes: a short Redis lock.
Messages that arrive during a generation are answered together by the next
round, which sees all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, TypeVar

from ai import agent
from ai.types import AIAnswer, AIRequest, SupportLine
from chat import actions
from chat.errors import ClientError
from chat.events import ai_chunk_frame, ai_typing_frame, session_group
from chat.hooks import support_line
from chat.models import ChatMessage
from chat.publish import send_events
from chat.transport import DEPENDENCY_ERRORS, unavailable_error
from tatartours import redis_lock
from tatartours.redis import get_redis

logger = logging.getLogger(__name__)

R = TypeVar("R")

# The lock is short and renewed while its holder is alive, so a process that
# was killed mid-answer blocks the chat for LOCK_TTL_MS at most, not for the
# length of the longest possible answer.
LOCK_TTL_MS = 15_000
LOCK_RENEW_SECONDS = LOCK_TTL_MS / 1000 / 3
LOCK_POLL_SECONDS = 0.25
# One `ai_chunk` frame per this much of the stream (~22 a second): smooth to the
# eye, and a fraction of the frames of one per token (50 tokens/s and more).
CHUNK_FLUSH_SECONDS = 0.045
# A window's text waits for the next piece to carry it; only a stream that stalls
# this much longer (a tool call, a slow model) has it sent by a timer.
CHUNK_STALL_SECONDS = 0.045

SendFrame = Callable[[dict[str, Any]], Awaitable[None]]


def lock_key(session_public_id: object) -> str:
    return f"tatartours:ai-lock:{session_public_id}"


async def _keep_renewing(key: str, owner: str) -> None:
    while True:
        await asyncio.sleep(LOCK_RENEW_SECONDS)
        await redis_lock.renew(key, owner, LOCK_TTL_MS)


class GenerationLock:
    """The chat's generation lock as held by one round; `release` may come early, once."""

    def __init__(self, key: str, owner: str) -> None:
        self.key = key
        self.owner = owner
        self.acquired = False
        self._renewal: asyncio.Task[None] | None = None

    async def acquire(self) -> bool:
        # Cancel-safe: a socket closing with the SET on its way does not leave
        # the lock to expire (redis_lock.take). Seen in the browser suite: an
        # ack cut on the way back, the reconnected tab's answer 15 s late.
        self.acquired = await redis_lock.take(self.key, self.owner, LOCK_TTL_MS)
        if self.acquired:
            self._renewal = asyncio.create_task(_keep_renewing(self.key, self.owner))
        return self.acquired

    async def release(self) -> None:
        """Let the next round in (the same chat's next message, another tab); never raises."""
        if not self.acquired:
            return
        self.acquired = False
        if self._renewal is not None:
            self._renewal.cancel()
            self._renewal = None
        await redis_lock.give_back(self.key, self.owner)


@contextlib.asynccontextmanager
async def generation_lock(session_public_id: object, owner: str) -> AsyncIterator[GenerationLock]:
    lock = GenerationLock(lock_key(session_public_id), owner)
    await lock.acquire()
    try:
        yield lock
    finally:
        await lock.release()


async def wait_for_lock_release(session_public_id: object) -> None:
    """Until nobody holds the chat's generation lock (a live holder, or its expiry)."""
    redis = get_redis()
    key = lock_key(session_public_id)
    # Polling, not an Event: the holder may be another process (or a dead one).
    while await redis.exists(key):  # noqa: ASYNC110
        await asyncio.sleep(LOCK_POLL_SECONDS)


class ChunkBatcher:
    """Coalesces streamed text into one `ai_chunk` frame per CHUNK_FLUSH_SECONDS.

    The first piece goes out at once (the visitor sees the answer start);
    later pieces wait for the window to end and leave with the first piece
    after it, from the stream's own task. A timer sends what waited only
    when no piece came for CHUNK_STALL_SECONDS after the window, so the last
    words never sit until the next piece (and the end of the answer flushes
    at once). Before, a task slept to the end of every window: 2.4% of the
    AI path's samples for its creation and sleep alone. Chunks go straight
    to the socket that asked, not through the chat group: a dozen group
    round trips per answer for frames nothing else needs. Other tabs show
    typing and then the stored answer (`ai_response`).
    """

    def __init__(self, send: SendFrame, reply_to: int) -> None:
        self._send = send
        self._reply_to = reply_to
        self._buffer: list[str] = []
        self._last_flush = -CHUNK_FLUSH_SECONDS
        self._timer: asyncio.TimerHandle | None = None
        self._stalled: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # frames leave in the order of the text

    async def add(self, text: str) -> None:
        if not text:
            return
        self._buffer.append(text)
        wait = self._last_flush + CHUNK_FLUSH_SECONDS - time.monotonic()
        if wait <= 0:
            await self.flush()
        elif self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(wait + CHUNK_STALL_SECONDS, self._on_stall)

    def _on_stall(self) -> None:
        self._timer = None
        if self._buffer:
            self._stalled = asyncio.ensure_future(self._flush())

    async def flush(self) -> None:
        """Send what waits now (the end of the answer, or its window ended)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self._flush()

    async def _flush(self) -> None:
        async with self._lock:
            if not self._buffer:
                return
            text = "".join(self._buffer)
            self._buffer.clear()
            self._last_flush = time.monotonic()
            await self._send(ai_chunk_frame(self._reply_to, text))

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None


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
            request = await actions.do_prepare_ai_reply(session_pk)
        if request is None:
            return False
        async with generation_lock(request.session_public_id, owner) as lock:
            if lock.acquired:
                return await _generate(session_pk, request, owner=owner, send=send, lock=lock)
        # Another tab or process is answering, or a killed one left its lock:
        # wait it out, then look again (the other answer may cover ours).
        await wait_for_lock_release(request.session_public_id)
        request = None


async def _generate(
    session_pk: int, request: AIRequest, *, owner: str, send: SendFrame, lock: GenerationLock
) -> bool:
    group = session_group(request.session_public_id)
    await send(ai_typing_frame(True))
    await send_events([(group, ai_typing_frame(True))], origin=owner)
    batcher = ChunkBatcher(send, request.reply_to)
    announced = False
    try:
        answer = await agent.answer(
            request, on_text=batcher.add, support=partial(handoff_outlook, session_pk)
        )
        await batcher.flush()
        # Once the answer is complete, storing and announcing it is one unit
        # that the socket closing cannot cut in half: cancelled between the
        # commit and the publish, the answer was stored but never announced,
        # and a tab that had registered again meanwhile (its history read
        # before the commit) never showed it; its own AI task found nothing
        # left to answer.
        # The lock goes with the announcement, not after it: the visitor's
        # next message (sent on `ai_typing` false) found it still held now and
        # then, and its answer waited a LOCK_POLL_SECONDS poll. A hand-off
        # keeps it until the chat is queued, so no answer slips in before.
        release = None if answer.meta.get("handoff") else lock.release
        stored = await _shielded(_store_and_announce(request, answer, group, release))
        announced = True
    finally:
        batcher.cancel()
        if not announced:
            await asyncio.shield(send_events([(group, ai_typing_frame(False))]))
    if stored is not None and answer.meta.get("handoff"):
        await hand_off(session_pk, str(answer.meta.get("handoff_reason") or ""))
    return stored is not None


async def _store_and_announce(
    request: AIRequest,
    answer: AIAnswer,
    group: str,
    release: Callable[[], Awaitable[None]] | None,
) -> ChatMessage | None:
    stored, committed = await actions.do_store_ai_answer(
        session_pk=request.session_pk,
        session_public_id=str(request.session_public_id),
        reply_to=request.reply_to,
        answer=answer,
    )
    # The stored answer and the end of typing leave as one layer message;
    # the lock is released beside it (the answer is committed: a next round
    # sees it), its Redis command sent first.
    announce = send_events([*committed, (group, ai_typing_frame(False))])
    if release is None:
        await announce
    else:
        await asyncio.gather(release(), announce)
    return stored


# Shielded work outlives the task that started it; held here until it ends
# (the event loop keeps only weak references to tasks).
_running: set[asyncio.Task[Any]] = set()


async def _shielded(work: Coroutine[Any, Any, R]) -> R:
    task = asyncio.ensure_future(work)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return await asyncio.shield(task)


async def handoff_outlook(session_pk: int) -> SupportLine:
    """What asking for an operator would do now, from the support app (chat.hooks)."""
    return await support_line().handoff_outlook(session_pk=session_pk)


async def hand_off(session_pk: int, reason: str) -> None:
    """The model called its handoff tool: queue the chat for an operator.

    Shielded: the `support_pending` this publishes makes the consumer cancel
    its AI task, which is this one; the request must still complete.
    """
    try:
        await asyncio.shield(support_line().request_support(session_pk=session_pk, reason=reason))
    except ClientError as error:
        logger.warning("AI handoff for session %s refused: %s", session_pk, error)


# --- Who answers, and the answer task of one visitor socket ---------------------------------

# Seconds between attempts to answer while the database or Redis is down.
OUTAGE_BACKOFF = (1.0, 2.0, 4.0, 8.0)


async def do_route_visitor_message(
    *, session_pk: int, posted: actions.VisitorMessage, text: str
) -> bool:
    """Whether the AI answers the message just posted (`actions.do_post_visitor_message`).

    A visitor who asks for a person ("позовите оператора") in a message the
    AI would answer is put in the operator queue instead, if anyone can take
    the chat; with nobody available (outside hours, nobody online) the AI
    still answers, and the visitor gets `support_unavailable` with the
    offline form. Call it after the message's ack was sent: the queue's
    `support_pending` follows the ack.
    """
    if posted.wants_person:
        outcome = await support_line().request_support(session_pk=session_pk, reason=text[:500])
        if outcome != "unavailable":
            return False
    return posted.needs_ai


class AnswerTask:
    """The AI answers owed to one visitor socket, one asyncio task at a time.

    The socket only schedules (`schedule`) and stops (`cancel`: it left, or
    an operator took over); this holds the rest. Messages that arrive
    during a generation are answered together by the next round
    (`answer_pending` reads the chat afresh). While PostgreSQL or Redis is
    down the question stays stored and is tried again after
    OUTAGE_BACKOFF; after the last try the socket is told `unavailable`
    (a reconnect answers it: `resync`'s needs_ai).
    """

    def __init__(self, session_pk: int, *, owner: str, send: SendFrame) -> None:
        self._session_pk = session_pk
        self._owner = owner
        self._send = send
        self._task: asyncio.Task[None] | None = None
        self._again = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def schedule(self, request: AIRequest | None = None) -> None:
        """Answer now, or after the round running (`request`: the context already read)."""
        if self.running:
            self._again = True
            return
        self._task = asyncio.create_task(self._loop(request))

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _loop(self, request: AIRequest | None) -> None:
        outage_retries = 0
        try:
            while True:
                self._again = False
                try:
                    await answer_pending(
                        self._session_pk, owner=self._owner, send=self._send, request=request
                    )
                except DEPENDENCY_ERRORS as error:
                    outage_retries += 1
                    logger.warning("AI answer postponed (%r), try %d", error, outage_retries)
                    if outage_retries > len(OUTAGE_BACKOFF):
                        await self._send(unavailable_error().as_frame())
                        return
                    await asyncio.sleep(OUTAGE_BACKOFF[outage_retries - 1])
                    self._again = True
                request = None  # Later rounds read the chat afresh.
                if not self._again:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("AI answer failed for session %s", self._session_pk)
