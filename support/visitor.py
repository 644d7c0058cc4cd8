"""The support side of the visitor socket: what `chat.consumers` delegates here.

Kept apart so the visitor consumer stays a shell and every support rule
lives in the support app.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from chat.models import ChatSession
from chat.publish import run_action
from support import actions, presence
from support.estimate import estimated_wait_seconds
from support.events import support_joined_frame, support_pending_frame
from support.models import SupportRequest
from support.names import display_name
from support.queue import announce_queue, position_of, recent_waits
from support.tickets import clean_ticket
from tatartours.db_health import run_db

logger = logging.getLogger(__name__)


def _state_now(session_pk: int) -> tuple[str, int, list[float], str]:
    """(status, position, recent waits, operator name) of an open request."""
    request = (
        SupportRequest.objects.filter(session_id=session_pk, status__in=actions.OPEN_STATUSES)
        .select_related("operator__operator_profile")
        .first()
    )
    if request is None:
        return "", 0, [], ""
    if request.status == SupportRequest.Status.ASSIGNED:
        name = display_name(request.operator) if request.operator else ""
        return "operator", 0, [], name
    return "pending", position_of(request), recent_waits(), ""


async def visitor_registered(
    *, session_pk: int, status: str, socket_id: str
) -> list[dict[str, Any]]:
    """Note the visitor's socket; a chat in the queue or with an operator gets its state again.

    A visitor who reloads while waiting sees their position; one talking to
    an operator sees who.
    """
    with contextlib.suppress(Exception):
        await presence.visitor_connected(session_pk, socket_id)
    if status not in (ChatSession.Status.PENDING, ChatSession.Status.OPERATOR):
        return []
    state, position, waits, name = await run_db(lambda: _state_now(session_pk))
    if state == "operator":
        return [support_joined_frame(name)]
    if state == "pending":
        try:
            available = len((await presence.snapshot()).available_ids)
        except Exception:
            available = 0  # Redis trouble: no estimate rather than no position
            logger.warning("presence unavailable for a waiting visitor", exc_info=True)
        estimate = estimated_wait_seconds(
            position=position,
            available_operators=available,
            recent_waits=waits,
            default=settings.SUPPORT_DEFAULT_WAIT_SECONDS,
        )
        return [support_pending_frame(position=position, estimated_wait_seconds=estimate)]
    return []


async def visitor_left(*, session_pk: int, socket_id: str) -> None:
    """Never raises: a socket closing must not fail on Redis."""
    try:
        await presence.visitor_disconnected(session_pk, socket_id)
    except Exception:
        logger.warning("could not record that a visitor left", exc_info=True)


async def leave_offline_ticket(*, session_pk: int | None, data: dict[str, Any]) -> dict[str, Any]:
    """The `offline_ticket` event: store it, answer `offline_ticket_saved`."""
    fields = clean_ticket(data)
    ticket = await run_action(actions.create_offline_ticket, fields=fields, session_pk=session_pk)
    return {
        "type": "offline_ticket_saved",
        "id": ticket.pk,
        "message": _("Thank you! We will get back to you as soon as possible."),
    }


async def end_support(*, session_pk: int) -> None:
    """The visitor's `end_support`: leave the queue, or end the operator conversation."""
    await run_action(actions.end_support_by_visitor, session_pk=session_pk)
    await announce_queue()
