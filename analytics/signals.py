"""Counts every stored chat message in Prometheus, whichever code path stores it.

Visitor, AI, operator and system messages are created by several apps, and
a metric that misses one path silently is worse than no metric: messages
saved through the ORM are counted by a `post_save` receiver; the message
path's actions, which write with prebuilt SQL (tatartours/lean_rows.py,
no model signals), call `message_stored` (or, once committed, `message_committed`) through
`chat.hooks.instrumentation()`. The counter moves only once the message is
committed.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from analytics.prometheus import (
    AI_ANSWER_SECONDS,
    AI_ANSWERS,
    AI_FIRST_TOKEN_SECONDS,
    AI_TOKENS,
    AUTHORS,
    MESSAGES,
    model_label,
)
from chat.models import ChatMessage

logger = logging.getLogger(__name__)


def observe_message(
    *,
    author: str,
    source: str = "",
    model: str = "",
    fallback: bool = False,
    latency_ms: int | None = None,
    first_token_ms: int | None = None,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> None:
    """Record one committed message in the live metrics. Never raises."""
    try:
        MESSAGES.labels(author=author if author in AUTHORS else "other").inc()
        if author != ChatMessage.Author.AI:
            return
        label = model_label(model)
        AI_ANSWERS.labels(
            model=label, source=source or "unknown", fallback=str(fallback).lower()
        ).inc()
        if latency_ms is not None:
            AI_ANSWER_SECONDS.labels(model=label).observe(latency_ms / 1000)
        if first_token_ms is not None:
            AI_FIRST_TOKEN_SECONDS.labels(model=label).observe(first_token_ms / 1000)
        if prompt_tokens:
            AI_TOKENS.labels(model=label, kind="prompt").inc(prompt_tokens)
        if completion_tokens:
            AI_TOKENS.labels(model=label, kind="completion").inc(completion_tokens)
    except Exception:
        logger.warning("could not record message metrics", exc_info=True)


def _observer(message: ChatMessage) -> functools.partial[None]:
    # Read the values now: the instance may change before the commit.
    return functools.partial(
        observe_message,
        author=message.author,
        source=message.ai_source,
        model=message.ai_model,
        fallback=message.ai_fallback_used,
        latency_ms=message.ai_latency_ms,
        first_token_ms=message.ai_first_token_ms,
        prompt_tokens=message.ai_prompt_tokens,
        completion_tokens=message.ai_completion_tokens,
    )


def message_stored(message: ChatMessage) -> None:
    """Count `message`, just written in the current transaction, once that commits."""
    observe = _observer(message)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(observe)
    else:
        observe()  # autocommit: stored and committed already


def message_committed(message: ChatMessage) -> None:
    """Count `message`, whose statement has committed (the message path on the event loop)."""
    _observer(message)()


def _message_saved(sender: Any, instance: ChatMessage, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        message_stored(instance)


def connect() -> None:
    post_save.connect(_message_saved, sender=ChatMessage, dispatch_uid="analytics.message_saved")
