"""The one error type clients see: an `error` frame with a contract code."""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """A refusal reported to the client as an `error` frame; the socket stays open.

    Codes are the contract's: invalid_json, unknown_type, invalid, too_long,
    rate_limited, moderated, not_found, already_taken, forbidden, unavailable,
    internal.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        client_id: str | None = None,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.client_id = client_id
        self.retry_after = retry_after
        self.extra = extra

    def as_frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.client_id is not None:
            frame["client_id"] = self.client_id
        if self.retry_after is not None:
            frame["retry_after"] = self.retry_after
        frame.update(self.extra)
        return frame
