"""Calling an operator and hanging up are limited per session and per socket:
each call reaches every operator's dashboard, so a script cycling them must stop."""

from __future__ import annotations

import pytest

from support.models import SupportRequest

pytestmark = pytest.mark.django_db(transaction=True)


async def call_and_hang_up(guest) -> None:
    await guest.send({"type": "request_support", "reason": "Хочу человека"})
    await guest.until("support_pending")
    await guest.send({"type": "end_support"})
    await guest.until("chat_closed")


async def test_request_and_end_support_cycles_are_rate_limited(visitor, operator, settings):
    settings.CHAT_SUPPORT_REQUEST_LIMIT = 2
    await operator()  # someone online, so each call enters the queue
    guest = await visitor()
    for _ in range(2):
        await call_and_hang_up(guest)
    await guest.send({"type": "request_support"})
    refused, _ = await guest.until("error")
    assert (refused["code"], refused["limit"]) == ("rate_limited", "support")
    assert 1 <= refused["retry_after"] <= settings.CHAT_SUPPORT_WINDOW_SECONDS
    assert "оператора" in refused["message"]  # Russian, as every visitor-facing text
    assert await SupportRequest.objects.acount() == 2
    # Hanging up is limited the same way (a chat cannot be ended again and again).
    await guest.send({"type": "end_support"})
    refused, _ = await guest.until("error")
    assert refused["limit"] == "support"


async def test_a_new_session_on_the_same_socket_does_not_reset_the_limit(
    visitor, operator, settings
):
    settings.CHAT_SUPPORT_REQUEST_LIMIT = 1
    await operator()
    guest = await visitor()
    await call_and_hang_up(guest)
    await guest.register()  # no token: a fresh session, the same socket
    await guest.send({"type": "request_support"})
    refused, _ = await guest.until("error")
    assert (refused["code"], refused["limit"]) == ("rate_limited", "support")
    assert await SupportRequest.objects.acount() == 1
