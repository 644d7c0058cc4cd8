"""The widget on a desktop and on a phone, by mouse and by keyboard.

These tests also take the README's screenshots (UPDATE_SCREENSHOTS=1 writes
them to docs/): the chat on a tour page of the demo catalogue.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from tests.browser.personas import PHONE, screenshot
from tours.demo import load_demo_tours

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

TOUR_PAGE = "/tours/sviyazhsk-island-town/"
QUESTION = "Сколько стоит тур в Свияжск и есть ли места на двоих?"
ANSWER = (
    "Экскурсия «Остров-град Свияжск» стоит 3 200 ₽ за человека, свободных мест сейчас 18, "
    "так что для двоих места есть.\n\n"
    "В цену входят трансфер из Казани и вход в Успенский монастырь. "
    "Забронировать можно на странице тура или через оператора."
)


@pytest.fixture
async def demo_catalogue() -> None:
    await sync_to_async(load_demo_tours)()


async def test_desktop_chat_on_a_tour_page(site, model, demo_catalogue):
    model.reply = ANSWER
    visitor = await site.visitor(TOUR_PAGE)
    await expect(visitor.page.get_by_role("heading", level=1)).to_have_text("Остров-град Свияжск")

    # The page's own "ask about this tour" button opens the chat.
    await visitor.page.get_by_role("button", name="Спросить об этом туре").click()
    await expect(visitor.panel).to_be_visible()
    box = await visitor.panel.bounding_box()
    assert box is not None
    assert (box["width"], box["x"] + box["width"]) == (380, 1280 - 20)
    await visitor.say(QUESTION)
    await visitor.wait_for_answer()
    await expect(visitor.messages("ai").locator(".text")).to_have_text(ANSWER)
    await visitor.input.fill("А можно с ребёнком 6 лет?")
    await screenshot(visitor.page, "widget.png")


async def test_phone_gets_a_full_screen_chat(site, model, demo_catalogue):
    model.reply = ANSWER
    visitor = await site.visitor(TOUR_PAGE, viewport=PHONE, is_mobile=True, has_touch=True)
    launcher = await visitor.launcher.bounding_box()
    assert launcher is not None
    assert launcher["x"] + launcher["width"] <= PHONE["width"]
    assert launcher["y"] + launcher["height"] <= PHONE["height"]

    await visitor.launcher.tap()
    await expect(visitor.panel).to_be_visible()
    await visitor.panel.evaluate(
        "(panel) => Promise.all(panel.getAnimations().map((a) => a.finished))"
    )
    box = await visitor.panel.bounding_box()
    assert box is not None
    assert {key: round(value) for key, value in box.items()} == {
        "x": 0,
        "y": 0,
        "width": PHONE["width"],
        "height": PHONE["height"],
    }
    await visitor.say(QUESTION)
    await visitor.wait_for_answer()
    composer = await visitor.input.bounding_box()
    assert composer is not None
    assert composer["y"] + composer["height"] <= PHONE["height"]
    await screenshot(visitor.page, "widget-mobile.png")

    await visitor.panel.get_by_role("button", name="Свернуть чат").tap()
    await expect(visitor.launcher).to_be_visible()


async def test_keyboard_and_screen_reader_use(site, model):
    model.reply = "Здравствуйте! Чем помочь?"
    visitor = await site.visitor("/")
    keyboard = visitor.page.keyboard

    await visitor.launcher.focus()
    await keyboard.press("Enter")
    dialog = visitor.widget.get_by_role("dialog", name="Туры по Татарстану")
    await expect(dialog).to_be_visible()
    await expect(visitor.input).to_be_focused()
    await expect(dialog.get_by_role("log", name="Сообщения")).to_be_attached()

    await keyboard.type("Добрый день")
    await keyboard.press("Shift+Enter")  # a new line, not sending
    await keyboard.type("Есть туры на выходные?")
    await expect(visitor.input).to_have_value("Добрый день\nЕсть туры на выходные?")
    await keyboard.press("Enter")
    await visitor.wait_for_answer()
    await expect(visitor.messages("visitor").locator(".text")).to_have_text(
        "Добрый день\nЕсть туры на выходные?"
    )

    # The answer is read out by screen readers (a polite live region).
    announcer = visitor.widget.locator("[aria-live=polite].sr")
    await expect(announcer).to_have_text("ИИ-ассистент: Здравствуйте! Чем помочь?")

    await keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(visitor.launcher).to_be_focused()
    await expect(visitor.launcher).to_have_attribute("aria-expanded", "false")
