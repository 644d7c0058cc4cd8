"""The dashboard's queue, paged: the pages an operator opened stay open when the queue
is announced again (an announcement carries the first page only)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from playwright.async_api import expect

from chat import actions as chat_actions
from chat.publish import collecting
from support import actions
from tests.factories import make_operator

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

WAITING = 120  # more than three pages of long requests
REASON = ("Хочу узнать про тур в Свияжск " * 20)[:500]
PASSWORD = "Kazan-Kremlin-1552"


def _queue_and_two_operators() -> tuple[Any, Any]:
    with collecting(), transaction.atomic():
        first, second = make_operator(name="Руслан"), make_operator(name="Алия")
        for user in (first, second):
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        for _ in range(WAITING):
            session = chat_actions.register_visitor(
                token=None, tour_slug=None, user_id=None, client_ip="127.0.0.1"
            ).session
            actions.request_support(session_pk=session.pk, reason=REASON)
    return first, second


async def test_the_pages_opened_stay_open_when_the_queue_is_announced_again(site):
    first, second = await sync_to_async(_queue_and_two_operators)()
    desk = await site.operator(await sync_to_async(first.get_username)(), PASSWORD)
    await expect(desk.page.locator("#queue-count")).to_have_text(str(WAITING))
    await expect(desk.page.locator("#operators-count")).to_have_text("1")
    items = desk.queue.locator("li.item:not(.more)")
    more = desk.queue.get_by_role("button", name=re.compile(r"^Показать ещё \(\d+\)$"))
    await expect(more).to_be_visible()
    one_page = await items.count()
    await more.click()
    await expect(items).not_to_have_count(one_page)
    opened = await items.count()
    assert opened > one_page

    # A second operator comes online: the queue is announced to every dashboard
    # (its first page, with two operators available now).
    await site.operator(await sync_to_async(second.get_username)(), PASSWORD)
    await expect(desk.page.locator("#operators-count")).to_have_text("2")
    assert await items.count() == opened
    await expect(more).to_have_text(f"Показать ещё ({WAITING - opened})")
    assert desk.page_errors == []
