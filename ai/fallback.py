"""Retries and model fallback around one model turn.

Two layers: OpenRouter's own `models` list in every request (it tries them
in order before the first token), and on top, client-side attempts when the
whole request failed with something worth retrying (network, timeouts,
408/429/5xx/524/529, `availability.retryable`). Each new attempt starts the
list at the next model, skips models whose circuit breaker is open, waits
`Retry-After` (capped for a live chat) or a jittered backoff, and never
outlives the answer's deadline. Nothing is retried once text has reached
the visitor: that failure is raised as PartialAnswer.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from ai import client
from ai.breaker import breakers
from ai.errors import (
    AIError,
    AllModelsUnavailable,
    AuthenticationFailed,
    PaymentRequired,
)
from ai.streaming import Completion

logger = logging.getLogger(__name__)

_random = secrets.SystemRandom()


class PartialAnswer(Exception):
    """The model failed after some text reached the visitor."""

    def __init__(self, error: AIError) -> None:
        super().__init__(error.summary())
        self.error = error


@dataclass
class TurnResult:
    completion: Completion
    attempts: int
    fallback_used: bool
    errors: list[str] = field(default_factory=list)


def backoff_delay(attempt: int, retry_after: float | None) -> float:
    """Seconds before attempt `attempt + 1`: Retry-After if given, else jittered exponential."""
    cap = float(settings.AI_RETRY_AFTER_CAP)
    if retry_after is not None:
        return min(retry_after, cap)
    base = float(settings.AI_BACKOFF_BASE) * (2**attempt)
    return min(cap, base * _random.uniform(0.5, 1.5))


def configured_model(answered: str, models: list[str]) -> str | None:
    """Which configured model an answer's `model` is.

    The exact id first: "openai/gpt-4o-mini" starts with "openai/gpt-4o", so
    a prefix match alone would take the fallback for the primary. Then the
    longest configured id the answer extends (a variant such as ":free" or a
    dated snapshot the provider reports).
    """
    if answered in models:
        return answered
    extended = [m for m in models if answered.startswith(m)]
    return max(extended, key=len) if extended else None


def _log_failure(error: AIError, attempt: int) -> None:
    if isinstance(error, AuthenticationFailed | PaymentRequired):
        # Configuration or billing: every answer fails until a human acts.
        logger.error("OpenRouter refused the request, check the key/credits: %s", error.summary())
    elif error.retryable:
        logger.warning("OpenRouter attempt %d failed: %s", attempt + 1, error.summary())
    else:
        logger.warning("OpenRouter request rejected (not retried): %s", error.summary())


async def complete_turn(
    build_payload: Callable[[list[str]], dict[str, Any]],
    *,
    models: list[str],
    on_text: client.OnText,
    deadline: float,
    progress: client.Progress,
) -> TurnResult:
    """One model turn with retries and fallback; `build_payload(models)` makes the request.

    Raises PartialAnswer if it failed after text reached the visitor, the
    AIError itself if it is not retryable, AllModelsUnavailable if every
    breaker is open, or the last error when attempts or time ran out.
    """
    loop = asyncio.get_running_loop()
    errors: list[AIError] = []
    max_attempts = int(settings.AI_MAX_ATTEMPTS)
    for attempt in range(max_attempts):
        shift = attempt % len(models)
        ordered = models[shift:] + models[:shift]
        allowed = [m for m in ordered if breakers.allows(m)]
        if not allowed:
            if errors:
                raise errors[-1]
            raise AllModelsUnavailable("every model's circuit breaker is open")
        primary = allowed[0]
        if breakers.state(primary) == "half_open":
            breakers.begin_trial(primary)
        payload = build_payload(allowed)
        try:
            completion = await client.complete(
                payload, on_text=on_text, deadline=deadline, progress=progress
            )
        except AIError as error:
            error.model = error.model or primary
            _log_failure(error, attempt)
            if error.retryable:
                breakers.record_failure(primary)
            if progress.delivered:
                raise PartialAnswer(error) from error
            if not error.retryable:
                raise
            errors.append(error)
            if attempt + 1 >= max_attempts:
                break
            delay = backoff_delay(attempt, error.retry_after)
            if loop.time() + delay >= deadline:
                break
            await asyncio.sleep(delay)
            continue

        answered = configured_model(completion.model, models) or primary
        if answered != primary:
            # OpenRouter fell back along `models`: the primary failed upstream.
            breakers.record_failure(primary)
        breakers.record_success(answered)
        return TurnResult(
            completion=completion,
            attempts=attempt + 1,
            fallback_used=attempt > 0 or answered != models[0],
            errors=[e.summary() for e in errors],
        )
    assert errors
    raise errors[-1]
