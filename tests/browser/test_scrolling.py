"""The widget keeps the conversation in view, on a desktop and on a phone.

A visitor's own message and every answer to it are on screen (a long answer
from its first line), unless the visitor scrolled up to read: then the
position stays and a "new message" pill takes them to what arrived. Numbers
and dates in the text never break across lines.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Locator, expect

from tests.browser.personas import PHONE, Visitor
from tests.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 900}

# Tall answers: a few of them overflow the log on either screen.
ANSWERS = [
    "\n".join(
        [f"Подобрал туры, вариант {n}:"]
        + [f"• «Тур {n}.{i}» — Казань, 21 декабря 2026, 2 900 ₽ за человека" for i in range(1, 7)]
    )
    for n in (1, 2, 3)
]
LONG_ANSWER = "\n".join(f"{i}. Пункт программы с подробностями о маршруте." for i in range(1, 40))

IN_VIEW = """(node) => {
  const log = node.closest(".log").getBoundingClientRect();
  const box = node.getBoundingClientRect();
  return {
    top: box.top >= log.top - 1 && box.top < log.bottom,
    bottom: box.bottom <= log.bottom + 1 && box.bottom > log.top,
    tall: box.height > log.height,
  };
}"""


async def view(node: Locator) -> dict[str, bool]:
    seen: dict[str, bool] = await node.evaluate(IN_VIEW)
    return seen


async def until_in_view(node: Locator) -> None:
    """The message's first line is on screen, and all of it unless it is taller than the log."""

    async def shown() -> bool:
        seen = await view(node)
        return seen["top"] and (seen["bottom"] or seen["tall"])

    await eventually(shown, timeout=10)


async def scroll_top(visitor: Visitor) -> float:
    top: float = await visitor.widget.locator(".log").evaluate("(log) => log.scrollTop")
    return top


@pytest.mark.parametrize(
    "screen",
    [
        pytest.param({"viewport": LAPTOP}, id="desktop-1366x900"),
        pytest.param({"viewport": PHONE, "is_mobile": True, "has_touch": True}, id="phone-390"),
    ],
)
async def test_own_message_and_each_answer_stay_in_view(site, model, screen: dict[str, Any]):
    model.tokens_per_second = 400
    visitor = await site.visitor("/", **screen)
    await visitor.open_chat()
    for n, answer in enumerate(ANSWERS, start=1):
        model.reply = answer
        await visitor.say(f"Какие туры есть? Вопрос {n}")
        await until_in_view(visitor.messages("visitor").nth(n - 1))
        await visitor.wait_for_answer(n)
        await until_in_view(visitor.stored("ai").nth(n - 1))

    # Prices and dates are glued with non-breaking spaces: "2 900 ₽" never wraps.
    text = await visitor.stored("ai").last.locator(".text").text_content()
    assert text is not None
    assert "2\u00a0900\u00a0₽" in text and "21\u00a0декабря\u00a02026" in text

    # A long answer that does not fit is shown from its start, not from its end.
    model.reply = LONG_ANSWER
    await visitor.say("Расскажите программу подробно")
    await visitor.wait_for_answer(4)
    await until_in_view(visitor.stored("ai").nth(3))
    assert (await view(visitor.stored("ai").nth(3)))["tall"]

    # Scrolled up on purpose while an answer streams: it stays there, with a pill.
    model.tokens_per_second = 15
    model.reply = ANSWERS[0]
    await visitor.say("А ещё?")
    await until_in_view(visitor.messages("visitor").last)
    log = visitor.widget.locator(".log")
    await log.hover()

    async def wheel_up() -> bool:
        # Again if a wheel was swallowed by the smooth scroll still under way.
        await visitor.page.mouse.wheel(0, -1500)
        return await _scrolled_up(visitor)

    await eventually(wheel_up)
    pill = visitor.widget.get_by_role("button", name="Новое сообщение")
    await expect(pill).to_be_visible()
    await visitor.wait_for_answer(5)
    position = await scroll_top(visitor)
    assert not (await view(visitor.stored("ai").last))["top"]
    await pill.click()
    await until_in_view(visitor.stored("ai").last)
    await expect(pill).to_be_hidden()
    assert await scroll_top(visitor) > position


async def _scrolled_up(visitor: Visitor) -> bool:
    return bool(
        await visitor.widget.locator(".log").evaluate(
            "(log) => log.scrollHeight - log.scrollTop - log.clientHeight > 200"
        )
    )
