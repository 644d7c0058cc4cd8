"""What the visitor's conversation asks of the apps built on it, as hooks they install.

Dependencies point one way: `chat` (the visitor's conversation) sits below
`support` (operators, the queue) and `analytics` (figures), which import it,
never the other way round (the import-linter contracts in pyproject.toml
keep it so in `make lint` and CI). Where the visitor socket or a chat action
must reach the support line (ask for a person, note that a visitor came or
left, find the operator conversation a rating belongs to), it calls the
`SupportLine` that the support app installs when Django starts
(`support/apps.py`). Instrumentation (sockets open and error frames sent by
the socket shell, messages the actions store with prebuilt SQL) is an
`Instrumentation` that analytics installs; without one nothing is counted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from ai.types import SupportLine as HandoffOutlook
    from chat.models import ChatMessage

Frame = dict[str, Any]
SupportOutcome = Literal["queued", "pending", "operator", "unavailable"]


class SupportLine(Protocol):
    """The second line as the visitor's conversation sees it (support/visitor.py)."""

    async def request_support(self, *, session_pk: int, reason: str) -> SupportOutcome:
        """The visitor, or the AI's handoff, asks for a person; publishes what the visitor reads."""
        ...

    async def handoff_outlook(self, *, session_pk: int) -> HandoffOutlook:
        """What asking for a person would do now (read only): the model words its handoff by it."""
        ...

    async def visitor_registered(
        self, *, session_pk: int, status: str, socket_id: str
    ) -> list[Frame]:
        """A visitor socket registered: the frames that restate its queue or operator state."""
        ...

    async def visitor_left(self, *, session_pk: int, socket_id: str) -> None:
        """A visitor socket closed. Never raises."""
        ...

    async def leave_offline_ticket(self, *, session_pk: int | None, data: Frame) -> Frame:
        """Store an `offline_ticket` frame's contact request; returns the answer frame."""
        ...

    async def end_support(self, *, session_pk: int) -> None:
        """The visitor leaves the queue or ends the operator conversation."""
        ...

    def unrated_conversation(self, session_pk: int) -> int | None:
        """The newest closed operator conversation of the session without a rating (its pk).

        Runs inside the caller's transaction (the rating's), on Django's connection.
        """
        ...


@dataclass(frozen=True)
class Instrumentation:
    """What the chat reports as it runs; none of these may raise or wait."""

    # Wraps a socket's whole life; called with the consumer class's name.
    socket_open: Callable[[str], AbstractContextManager[None]]
    # An `error` frame sent, with its code.
    error_frame_sent: Callable[[str], None]
    # A message an action stored with prebuilt SQL (tatartours/lean_rows.py)
    # inside its transaction on Django's connection: counted once that commits.
    # Messages saved through the ORM are counted from post_save by the same observer.
    message_stored: Callable[[ChatMessage], None]
    # A message whose statement has committed (the async path, tatartours/async_db.py):
    # counted now. (Asking Django's connection whether a transaction is open was
    # 3.5% of the relay servers' samples: a context-local lookup per message.)
    message_committed: Callable[[ChatMessage], None]


def _nothing(*args: Any) -> None:
    return None


_support_line: SupportLine | None = None
_instrumentation = Instrumentation(
    socket_open=lambda consumer: contextlib.nullcontext(),
    error_frame_sent=_nothing,
    message_stored=_nothing,
    message_committed=_nothing,
)


def install_support_line(line: SupportLine) -> None:
    global _support_line
    _support_line = line


def support_line() -> SupportLine:
    if _support_line is None:
        raise ImproperlyConfigured(
            "No support line is installed: add the support app to INSTALLED_APPS."
        )
    return _support_line


def install_instrumentation(instruments: Instrumentation) -> None:
    global _instrumentation
    _instrumentation = instruments


def instrumentation() -> Instrumentation:
    return _instrumentation
