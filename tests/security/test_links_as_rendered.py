"""The link limits count what the widget makes clickable: one definition, in widget.js."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from chat.links import count_links

# Texts whose links a looser or stricter reading would count differently.
LINK_TEXTS = {
    "https://a.example'https://b.example'https://c.example'https://d.example"
    "'https://e.example'https://f.example'https://g.example": 7,
    'https://a.example"https://b.example<https://c.example>': 3,
    "https://a.example«https://b.example»": 2,
    "https://a.example\ufeffhttps://b.example": 2,
    "Экскурсия (https://tours.example/kremlin), потом https://tours.example/raifa.": 2,
    "Пишите на kazan-tours.ru или www.example.com": 2,  # written, not clickable: counted too
    "http:// и https://": 0,
    "ftp://files.example/x": 0,
}


@pytest.mark.parametrize(("text", "links"), LINK_TEXTS.items())
def test_links_are_counted_as_the_widget_renders_them(text, links):
    assert count_links(text) == links


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.django_db(transaction=True)
async def test_the_widget_makes_exactly_the_counted_links_clickable(site, model):
    clickable = [text for text in LINK_TEXTS if "kazan-tours.ru" not in text]
    model.reply = "\n".join(clickable)
    visitor = await site.visitor()
    await visitor.open_chat()
    await visitor.say("Дайте ссылки")
    await visitor.wait_for_answer()
    anchors = visitor.messages("ai").last.locator("a")
    await expect(anchors).to_have_count(sum(count_links(text) for text in clickable))
