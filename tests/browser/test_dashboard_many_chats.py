"""The dashboard with 1,000 open chats: the count, the first page, the rest on demand
(issue 14, item 5; the chats are built as in tests/scale/test_thousand_open_chats.py)."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from tests.scale.test_thousand_open_chats import PASSWORD, WAITING, _open_chats

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
]

PAGE = 50  # support.queue.QUEUE_PAGE: at most this many, fewer when they are long


async def test_the_dashboard_shows_700_waiting_and_pages_on_demand(site):
    _holder, other = await sync_to_async(_open_chats)()
    operator = await site.operator(await sync_to_async(other.get_username)(), PASSWORD)
    await expect(operator.page.locator("#queue-count")).to_have_text(str(WAITING))
    items = operator.queue.locator("li.item:not(.more)")
    more = operator.queue.get_by_role("button", name=re.compile(r"^Показать ещё \(\d+\)$"))
    await expect(more).to_be_visible()
    first_page = await items.count()
    assert 0 < first_page <= PAGE
    await expect(more).to_have_text(f"Показать ещё ({WAITING - first_page})")
    await more.click()
    await expect(items).not_to_have_count(first_page)
    shown = await items.count()
    assert first_page < shown <= 2 * PAGE
    await expect(more).to_have_text(f"Показать ещё ({WAITING - shown})")
