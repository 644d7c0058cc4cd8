"""The support side of the visitor socket: the `chat.hooks.SupportLine` this app installs.

Kept apart so the visitor consumer stays a shell and every support rule
lives in the support app; chat reaches these only through the hook
(support/apps.py installs `LINE`), so it never imports support.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.conf import settings

from ai.types import SupportLine as HandoffOutlook
from chat.hooks import SupportOutcome
from chat.models import ChatSession
from chat.publish import run_action
from support import actions, flows, presence
from support.estimate import estimated_wait_seconds
from support.events import support_joined_frame, support_pending_frame
from support.models import SupportRequest
from support.names import display_name
from support.queue import position_of, recent_waits
from tatartours.db_health import run_db
from tours.hours import working_hours_label

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
    """The `offline_ticket` event: store it, answer `offline_ticket_saved` (support.flows)."""
    return await flows.do_leave_offline_ticket(session_pk=session_pk, data=data)


async def end_support(*, session_pk: int) -> None:
    """The visitor's `end_support`: leave the queue, or end the conversation (support.flows)."""
    await flows.do_end_support(session_pk=session_pk)


async def request_support(*, session_pk: int, reason: str) -> SupportOutcome:
    """The visitor or the AI's handoff asks for a person (support.actions.do_request_support)."""
    return await actions.do_request_support(session_pk=session_pk, reason=reason)


async def handoff_outlook(*, session_pk: int) -> HandoffOutlook:
    """What asking for an operator would do now: the model words its handoff by it.

    Read only; the AI's handoff makes the request after the answer is stored,
    and the visitor then gets `support_pending` or `support_unavailable`.
    """
    unavailable = await actions.unavailable_now()
    state, position = await run_action(actions.support_line, session_pk)
    if state == "operator":
        return HandoffOutlook("operator")
    if state == "pending":
        return HandoffOutlook("pending", position=position)
    if unavailable is not None:
        hours = working_hours_label() if unavailable == "outside_hours" else ""
        return HandoffOutlook("unavailable", reason=unavailable, working_hours=hours)
    return HandoffOutlook("queued", position=position)


def unrated_conversation(session_pk: int) -> int | None:
    """The newest closed operator conversation of the session that has no rating yet."""
    return (
        SupportRequest.objects.filter(
            session_id=session_pk, status=SupportRequest.Status.CLOSED, rating__isnull=True
        )
        .order_by("-closed_at")
        .values_list("pk", flat=True)
        .first()
    )


class VisitorSupportLine:
    """`chat.hooks.SupportLine`: the functions above, as the visitor's conversation calls them."""

    request_support = staticmethod(request_support)
    handoff_outlook = staticmethod(handoff_outlook)
    visitor_registered = staticmethod(visitor_registered)
    visitor_left = staticmethod(visitor_left)
    leave_offline_ticket = staticmethod(leave_offline_ticket)
    end_support = staticmethod(end_support)
    unrated_conversation = staticmethod(unrated_conversation)


LINE = VisitorSupportLine()
