"""Whatever visitors, the AI or operators write is shown as text, never run."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

ATTACK = "<img src=x onerror=alert(1)>"
ANSWER = (
    "Подробности и даты:\n"
    "https://tatartours.example/tours/?place=Свияжск.\n"
    "Не открывайте javascript:alert(2) и <b onmouseover=alert(3)>это</b>."
)


async def test_html_in_messages_is_shown_as_text_and_never_runs(site, model):
    model.reply = ANSWER
    visitor = await site.visitor("/")
    await visitor.open_chat()
    await visitor.say(ATTACK)

    await visitor.wait_for_answer()
    await expect(visitor.messages("visitor").locator(".text")).to_have_text(ATTACK)
    answer = visitor.messages("ai").locator(".text")
    await expect(answer).to_contain_text("<b onmouseover=alert(3)>это</b>")
    await answer.hover()
    await visitor.page.wait_for_timeout(500)  # time for an injected handler to fire

    assert visitor.dialogs == []
    await expect(visitor.widget.locator("img, b, script, iframe")).to_have_count(0)


async def test_links_are_clickable_only_for_http_and_open_safely(site, model):
    model.reply = ANSWER
    visitor = await site.visitor("/")
    await visitor.open_chat()
    await visitor.say("Где посмотреть даты?")
    await visitor.wait_for_answer()

    links = visitor.messages("ai").get_by_role("link")
    await expect(links).to_have_count(1)
    link = links.first
    # The sentence's full stop is not part of the address.
    await expect(link).to_have_text("https://tatartours.example/tours/?place=Свияжск")
    href = await link.get_attribute("href")
    assert (
        href == "https://tatartours.example/tours/?place=%D0%A1%D0%B2%D0%B8%D1%8F%D0%B6%D1%81%D0%BA"
    )
    await expect(link).to_have_attribute("target", "_blank")
    rel = (await link.get_attribute("rel") or "").split()
    assert "noopener" in rel
    assert "noreferrer" in rel

    # Line breaks of the answer are kept.
    text = await visitor.messages("ai").locator(".text").inner_text()
    assert text.split("\n")[0] == "Подробности и даты:"
    assert len(text.split("\n")) == 3
