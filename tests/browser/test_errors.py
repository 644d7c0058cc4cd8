"""Refusals reach the visitor in plain Russian, and nothing is silently lost."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from chat.models import ChatMessage

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("server_overrides", [{"CHAT_RATE_LIMIT_PER_MINUTE": "2"}])
async def test_rate_limit_shows_a_countdown_and_keeps_the_message(site, model):
    model.reply = "Отвечаю."
    visitor = await site.visitor("/")
    await visitor.open_chat()
    await visitor.say("Первый вопрос")
    await visitor.say("Второй вопрос")
    await expect(visitor.stored("visitor")).to_have_count(2)
    await visitor.say("Третий вопрос")

    banner = visitor.panel.get_by_role("alert")
    countdown = re.compile(r"Слишком много сообщений\. Писать снова можно через (\d+) с")
    await expect(banner).to_have_text(countdown)
    first = int(countdown.search(await banner.inner_text()).group(1))  # type: ignore[union-attr]
    assert 1 <= first <= 60
    await expect(banner).not_to_have_text(re.compile(rf"через {first} с"))  # it counts down
    await expect(visitor.panel.get_by_role("button", name="Отправить")).to_be_disabled()

    # Held, not dropped: shown as sending and kept for the resend.
    third = visitor.messages("visitor").filter(has_text="Третий вопрос")
    await expect(third.locator(".state")).to_have_text("Отправляется…")
    outbox = (await visitor.local_state())["outbox"]
    assert [item["message"] for item in outbox] == ["Третий вопрос"]
    assert not await ChatMessage.objects.filter(text="Третий вопрос").aexists()


async def test_an_obscene_message_is_refused_and_can_be_edited(site):
    visitor = await site.visitor("/")
    await visitor.open_chat()
    await visitor.say("Ну ты и сука")

    refused = visitor.messages("visitor")
    await expect(refused.locator(".state")).to_contain_text(
        "Не отправлено: сообщение нарушает правила чата."
    )
    await refused.get_by_role("button", name="Исправить и отправить снова").click()
    await expect(visitor.input).to_have_value("Ну ты и сука")
    await expect(visitor.input).to_be_focused()
    await expect(visitor.messages("visitor")).to_have_count(0)
    assert await ChatMessage.objects.acount() == 0
    assert (await visitor.local_state())["outbox"] == []


async def test_too_long_a_message_is_stopped_before_it_is_sent(site):
    visitor = await site.visitor("/")
    await visitor.open_chat()
    await visitor.input.fill("а" * 1900)
    await expect(visitor.panel.locator(".counter")).to_have_text("Осталось символов: 100")

    # The field's maxlength stops typing; a pasted-in value is checked on sending.
    await visitor.input.evaluate("(input) => { input.value = 'б'.repeat(2001); }")
    await visitor.input.press("Enter")
    await expect(visitor.panel.get_by_role("alert")).to_have_text(
        "Сообщение слишком длинное: не больше 2000 символов."
    )
    await expect(visitor.messages()).to_have_count(0)
    assert await ChatMessage.objects.acount() == 0
