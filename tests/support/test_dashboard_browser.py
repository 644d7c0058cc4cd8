"""The dashboard in a real Chromium against a real daphne, a visitor on the wire.

The issue's "done when": a visitor asks for an operator, the request shows
up live on /support/, the operator takes it, sees the AI conversation so
far, they chat with typing indicators both ways, the operator closes and
the AI takes over again. Visitor text is shown as text, never markup.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from playwright.async_api import Browser, Page, async_playwright, expect
from websockets.asyncio.client import connect
from websockets.typing import Origin

from support.models import CannedReply
from support.operators import make_operator
from tests.servers import ROOT, ServerProcess, start_daphne
from tests.wsclient import next_of, send

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "Kazan-Kremlin-2026"


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    process = start_daphne()
    yield process
    process.stop()


@pytest.fixture
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser`")
    return CHROMIUM


@pytest.fixture
async def page(chromium: str) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser: Browser = await playwright.chromium.launch(
            executable_path=chromium,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        context = await browser.new_context(locale="ru-RU", viewport={"width": 1400, "height": 860})
        yield await context.new_page()
        await browser.close()


async def test_an_operator_takes_a_chat_on_the_dashboard_and_hands_it_back_to_the_ai(
    server: ServerProcess, page: Page
):
    await database_sync_to_async(make_operator)(
        username="alia", display_name="Алия", password=PASSWORD
    )
    await CannedReply.objects.acreate(title="Приветствие", text="Здравствуйте! Чем помочь?")

    await page.goto(f"{server.http_url}/support/")
    await expect(page.locator("h1")).to_have_text("Войти")
    await page.fill("input[name=username]", "alia")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await expect(page.locator("#me")).to_have_text("Алия")

    async with connect(
        f"{server.ws_url}/ws/chat/", origin=Origin(server.http_url), open_timeout=10
    ) as widget:
        await send(widget, type="register")
        session_id = (await next_of(widget, "registered"))["session_id"]
        await send(widget, type="message", client_id=str(uuid.uuid4()), message="Сколько стоит?")
        await next_of(widget, "ai_response")
        await send(widget, type="request_support", reason="Нужен человек")
        await next_of(widget, "support_pending")

        request = page.locator("#queue-list .item")
        await expect(request).to_have_count(1)
        await expect(request).to_contain_text("Сколько стоит?")
        await request.get_by_role("button", name="Взять").click()

        await expect(page.locator("#chat-list .item")).to_have_count(1)
        await expect(page.locator("#transcript .message.visitor")).to_contain_text("Сколько стоит?")
        await expect(page.locator("#transcript .message.ai")).to_have_count(1)
        assert (await next_of(widget, "support_joined"))["operator"] == {"name": "Алия"}

        hostile = "<img src=x onerror=\"document.title='pwned'\">Можно картой?"
        await send(widget, type="typing", typing=True)
        await expect(page.locator("#typing-indicator")).to_be_visible()
        await send(widget, type="message", client_id=str(uuid.uuid4()), message=hostile)
        last_visitor = page.locator("#transcript .message.visitor .bubble").last
        await expect(last_visitor).to_have_text(hostile)
        assert await page.locator("#transcript img").count() == 0

        await page.locator("#canned .chip", has_text="Приветствие").click()
        await expect(page.locator("#composer-input")).to_have_value("Здравствуйте! Чем помочь?")
        assert (await next_of(widget, "operator_typing"))["typing"] is True
        await page.locator("#composer-input").press("Enter")
        answer = await next_of(widget, "operator_message")
        assert answer["message"] == "Здравствуйте! Чем помочь?"
        await expect(page.locator("#transcript .message.operator")).to_have_count(1)

        await save_screenshot(page, "support-dashboard.png")
        page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await page.locator("#close-button").click()
        closed = await next_of(widget, "chat_closed")
        assert closed["by"] == "operator" and closed["ask_rating"] is True
        await expect(page.locator("#chat-list .item")).to_have_count(0)

        await send(widget, type="message", client_id=str(uuid.uuid4()), message="А ещё вопрос")
        await next_of(widget, "ai_response")
    assert session_id
    assert await page.title() != "pwned"


async def save_screenshot(page: Page, name: str) -> None:
    artifacts = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
    artifacts.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=artifacts / name)
