"""The flows an operator socket starts, and the visitor's side of the support line.

Each flow is one `do_*` coroutine: presence first (Redis; never inside a
transaction), then one unit of database work (a sync action of
support/actions.py through `run_action`, which publishes what it committed),
then its announcements (the queue, the operators list); it returns what the
caller sends back. support/consumers.py only parses, authorises and
delegates to these; support/visitor.py (the `chat.hooks.SupportLine`) calls
them for the visitor's socket; views and commands may call them too. The
table of flows: docs/support.md, "The action layer".
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.utils.translation import gettext as _

from chat.events import session_group
from chat.publish import run_action, send_events
from chat.typing_gate import TypingGate
from support import presence
from support.actions import (
    Claim,
    close_chat,
    create_offline_ticket,
    end_support_by_visitor,
    join_support_chat,
    maybe_sweep,
    operators_frame_now,
    set_ticket_status,
    transfer_chat,
)
from support.context import chat_context, held_session_ids
from support.events import (
    OPERATORS_GROUP,
    OperatorRef,
    operator_group,
    operator_state_frame,
    operator_status_frame,
    operator_typing_frame,
)
from support.models import OfflineTicket
from support.queue import announce_safely, current_queue_frame
from support.tickets import clean_ticket
from tatartours.db_health import run_db

logger = logging.getLogger(__name__)


async def sweep_if_due() -> None:
    """The opportunistic sweep (`maybe_sweep`), never raising.

    Keeps the queue honest when no `support_sweeper` runs. Usually one
    Redis SET; a due sweep is a few short DB units.
    """
    try:
        await maybe_sweep()
    except Exception:
        logger.warning("opportunistic sweep failed", exc_info=True)


async def do_presence_changed() -> None:
    """Availability changed: other dashboards' lists and visitors' estimates follow."""
    await send_events([(OPERATORS_GROUP, await operators_frame_now())])
    await announce_safely()


@dataclass(frozen=True)
class Arrival:
    frames: list[dict[str, Any]]  # `operator_state`, then the first page of the `queue`
    held: list[str]  # the chats this operator holds: the socket opens each (`do_open_chat`)


async def do_operator_arrived(seen: presence.OperatorSocket, *, name: str) -> Arrival:
    """An operator socket connected: presence, its state and the queue, the chats it holds.

    After the socket opened the held chats it calls `do_presence_changed`.
    """
    await seen.active(force=True)
    away = await presence.is_away(seen.user_id)
    state = operator_state_frame(
        {"id": seen.user_id, "name": name},
        status="away" if away else "online",
        heartbeat_seconds=settings.SUPPORT_HEARTBEAT_SECONDS,
    )
    queue = await current_queue_frame()
    held = await run_db(lambda: held_session_ids(seen.user_id))
    return Arrival([state, queue], held)


async def do_operator_left(seen: presence.OperatorSocket) -> None:
    """An operator socket closed: out of presence at once, and others are told. Never raises."""
    with contextlib.suppress(Exception):
        await presence.leave(seen.user_id, seen.socket_id)
    with contextlib.suppress(Exception):
        await do_presence_changed()


async def do_open_chat(
    *, operator_id: int, session_id: str, transferred_from: str | None = None
) -> dict[str, Any] | None:
    """`support_chat_joined` for a chat this operator holds; None if it was released meanwhile.

    Precondition: the socket already joined the chat's group, so a message
    committed after this read arrives live.
    """
    return await run_db(
        lambda: chat_context(
            operator_id=operator_id, session_id=session_id, transferred_from=transferred_from
        )
    )


async def do_get_queue(seen: presence.OperatorSocket | None, *, offset: int = 0) -> dict[str, Any]:
    """`get_queue`: presence, the sweep if one is due, then the page of the queue at `offset`."""
    if seen is not None:
        await seen.active()
    await sweep_if_due()
    return await current_queue_frame(offset)


async def do_heartbeat(seen: presence.OperatorSocket) -> None:
    """The dashboard's heartbeat: alive for another TTL, and the sweep if one is due."""
    await seen.active(force=True)
    await sweep_if_due()


async def do_join_support_chat(
    *, operator_id: int, session_id: UUID | str, seen: presence.OperatorSocket | None = None
) -> Claim:
    """Take a chat from the queue (`join_support_chat`), then the queue is announced again.

    The caller opens the chat for the winner at once (`do_open_chat`): the
    layer's `assigned` for its other tabs may be lost in a Redis hiccup.
    """
    if seen is not None:
        await seen.active()
    claim = await run_action(join_support_chat, operator_id=operator_id, session_id=session_id)
    await announce_safely()
    return claim


async def do_close_chat(*, operator_id: int, session_id: UUID | str) -> None:
    """The operator ends the conversation (`close_chat`); the queue is announced again."""
    await run_action(close_chat, operator_id=operator_id, session_id=session_id)
    await announce_safely()


async def do_transfer_chat(
    *, operator_id: int, session_id: UUID | str, to_operator_id: int
) -> OperatorRef:
    """Hand the chat to another operator available now (presence), then tell everyone.

    The queue is announced again and every dashboard gets the fresh
    `operators` list (the chats each one holds changed).
    """
    present = await presence.snapshot()
    ref = await run_action(
        transfer_chat,
        operator_id=operator_id,
        session_id=session_id,
        to_operator_id=to_operator_id,
        available_ids=present.available_ids,
    )
    await announce_safely()
    await send_events([(OPERATORS_GROUP, await operators_frame_now())])
    return ref


async def do_set_status(seen: presence.OperatorSocket, *, status: str) -> None:
    """`status` online or away (checked by the frame): presence, then this operator's tabs,
    other dashboards and the queue."""
    await presence.set_away(seen.user_id, status == "away")
    await seen.active(force=True)
    await send_events([(operator_group(seen.user_id), operator_status_frame(status))])
    await do_presence_changed()


async def do_set_ticket_status(*, ticket_id: int, status: str, operator_id: int) -> OfflineTicket:
    """An offline ticket's status (`set_ticket_status`); every dashboard is told on commit."""
    return await run_action(
        set_ticket_status, ticket_id=ticket_id, status=status, operator_id=operator_id
    )


async def do_leave_offline_ticket(
    *, session_pk: int | None, data: dict[str, Any]
) -> dict[str, Any]:
    """The visitor's `offline_ticket`: checked, stored, dashboards told; `offline_ticket_saved`."""
    ticket = await run_action(
        create_offline_ticket, fields=clean_ticket(data), session_pk=session_pk
    )
    return {
        "type": "offline_ticket_saved",
        "id": ticket.pk,
        "message": _("Thank you! We will get back to you as soon as possible."),
    }


async def do_end_support(*, session_pk: int) -> Literal["closed", "cancelled"]:
    """The visitor leaves the queue or ends the conversation; the queue is announced again."""
    result = await run_action(end_support_by_visitor, session_pk=session_pk)
    await announce_safely()
    return result


async def do_operator_typing(*, session_id: str, typing: bool, gate: TypingGate) -> None:
    """An operator's `typing` in a chat they hold (the caller checked): relayed
    to the chat's group when `gate` (the socket's, per chat) admits it."""
    if gate.admit(typing):
        await send_events([(session_group(session_id), operator_typing_frame(session_id, typing))])
