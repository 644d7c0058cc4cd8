"""What can go wrong when asking OpenRouter, as one small hierarchy.

`retryable` says whether another attempt (the same or the next model) may
succeed; the fallback loop only retries while nothing reached the visitor.
"""

from __future__ import annotations

from typing import Any

# Statuses worth another attempt: timeouts, rate limits, provider outages
# (524: Cloudflare timeout, 529: provider overloaded).
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 524, 529})


class AIError(Exception):
    """Base of every failure of the model call."""

    retryable = False
    kind = "error"  # short tag stored with the message (ai_error)

    def __init__(
        self,
        message: str,
        *,
        model: str = "",
        status: int | None = None,
        code: int | str | None = None,
        retry_after: float | None = None,
        metadata: dict[str, Any] | None = None,
        partial_text: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.model = model
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.metadata = metadata or {}
        self.partial_text = partial_text  # text received before the failure

    def summary(self) -> str:
        """One line for the ai_error column and logs."""
        where = f" ({self.model})" if self.model else ""
        status = f" {self.status}" if self.status is not None else ""
        return f"{self.kind}{status}{where}: {self.message}"[:300]


class NotConfigured(AIError):
    kind = "not_configured"


class AllModelsUnavailable(AIError):
    """Every model's circuit breaker is open: do not even try."""

    kind = "circuit_open"


# --- before any response -----------------------------------------------------


class TransportError(AIError):
    """Connection refused, reset, DNS, TLS: the request may not have arrived."""

    retryable = True
    kind = "network"


class ConnectTimeout(TransportError):
    kind = "connect_timeout"


class FirstTokenTimeout(AIError):
    """Nothing but keep-alives (or nothing at all) for too long."""

    retryable = True
    kind = "first_token_timeout"


class TotalTimeout(AIError):
    retryable = True
    kind = "total_timeout"


# --- HTTP errors with OpenRouter's error body --------------------------------


class APIStatusError(AIError):
    kind = "http"

    def __init__(self, message: str, *, retryable: bool | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        if retryable is not None:
            self.retryable = retryable


class BadRequest(APIStatusError):
    """400, 413, 422 and 404 other than missing tool support: our request is wrong."""

    kind = "bad_request"


class AuthenticationFailed(APIStatusError):
    kind = "auth"


class PaymentRequired(APIStatusError):
    kind = "no_credits"


class PermissionDenied(APIStatusError):
    kind = "forbidden"


class Moderated(PermissionDenied):
    """403 because the input was flagged: the visitor gets a polite refusal."""

    kind = "moderation"


class ToolsUnsupported(APIStatusError):
    """No endpoint of the models supports tool calling: retry without tools."""

    kind = "tools_unsupported"


class RateLimited(APIStatusError):
    retryable = True
    kind = "rate_limited"


class ProviderUnavailable(APIStatusError):
    retryable = True
    kind = "unavailable"


# --- during the stream -----------------------------------------------------------


class StreamError(AIError):
    """A chunk with an `error` (top level or in the choice) or finish_reason "error".

    Retryable unless its code says the request itself is wrong (400, context
    length, moderation): those fail the same way on every model.
    """

    retryable = True
    kind = "stream_error"

    def __init__(self, message: str, *, retryable: bool | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        if retryable is not None:
            self.retryable = retryable


class StreamCut(AIError):
    """The stream ended (or the connection dropped) before it finished."""

    retryable = True
    kind = "stream_cut"


class InvalidResponse(AIError):
    """A body or chunk that is not what OpenRouter sends."""

    retryable = True
    kind = "invalid_response"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # An HTTP date: rare here; the backoff applies instead.
    return max(seconds, 0.0)


def _availability_retryable(error: dict[str, Any]) -> bool | None:
    metadata = error.get("metadata") if isinstance(error.get("metadata"), dict) else {}
    for holder in (error, metadata or {}):
        availability = holder.get("availability")
        if isinstance(availability, dict) and "retryable" in availability:
            return bool(availability["retryable"])
    return None


def _mentions_tools(message: str) -> bool:
    lowered = message.lower()
    return (
        "tool" in lowered
        or "function call" in lowered
        # What OpenRouter answers when no provider of the models supports every
        # parameter sent with `provider.require_parameters` (tools, tool_choice):
        # "No endpoints found that can handle the requested parameters."
        or "requested parameters" in lowered
    )


# String codes (mid-stream errors, OpenAI-style providers) that say the request
# itself cannot succeed: retrying it, on any model, fails the same way.
NOT_RETRYABLE_CODES = frozenset(
    {
        "bad_request",
        "invalid_request",
        "invalid_request_error",
        "invalid_prompt",
        "context_length_exceeded",
        "string_above_max_length",
        "content_filter",
        "content_policy_violation",
        "moderation",
        "unsupported_parameter",
        "insufficient_quota",
    }
)


def error_from_body(
    error: Any,
    *,
    status: int | None,
    model: str,
    retry_after: str | None = None,
    tools_sent: bool = False,
) -> AIError:
    """Map OpenRouter's `{"error": {...}}` (HTTP error, 200 body or chunk) to an AIError."""
    if not isinstance(error, dict):
        error = {"message": str(error)}
    code = error.get("code")
    message = str(error.get("message") or "no message")
    metadata = error.get("metadata") if isinstance(error.get("metadata"), dict) else {}
    # The body's code is a number or a string; a number is the HTTP status.
    effective = status if status is not None and status != 200 else None
    if effective is None and isinstance(code, int):
        effective = code
    elif effective is None and isinstance(code, str) and code.isdigit():
        effective = int(code)
    kwargs: dict[str, Any] = {
        "model": model,
        "status": effective,
        "code": code,
        "retry_after": _retry_after(retry_after),
        "metadata": metadata,
    }
    retryable = _availability_retryable(error)
    if effective == 401:
        return AuthenticationFailed(message, **kwargs)
    if effective == 402:
        return PaymentRequired(message, **kwargs)
    if effective == 403:
        flagged = "reasons" in (metadata or {}) or "flag" in message.lower()
        cls = Moderated if flagged or "moderat" in message.lower() else PermissionDenied
        return cls(message, **kwargs)
    if effective in {400, 404} and tools_sent and _mentions_tools(message):
        return ToolsUnsupported(message, **kwargs)
    if effective in {400, 404, 413, 422}:
        return BadRequest(message, **kwargs)
    if effective == 429:
        return RateLimited(message, retryable=retryable, **kwargs)
    if effective is not None:
        is_retryable = effective in RETRYABLE_STATUSES or effective >= 500
        return ProviderUnavailable(
            message, retryable=is_retryable if retryable is None else retryable, **kwargs
        )
    # A string code without a status ("server_error", "timeout"): a provider
    # failure; retry unless the code or OpenRouter says it is not retryable.
    if retryable is None:
        retryable = not (isinstance(code, str) and code.lower() in NOT_RETRYABLE_CODES)
    return ProviderUnavailable(message, retryable=retryable, **kwargs)
