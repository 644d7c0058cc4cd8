"""The widget on another site: one script tag, its own styles, the host page untouched."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from chat.models import ChatSession
from tests.browser.conftest import PARTNER_HOST, PARTNER_PORT
from tests.browser.personas import Visitor, serving_page
from tests.factories import make_tour

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

# A partner page whose CSS would wreck any widget that shares its styles.
HOSTILE_PAGE = """<!doctype html>
<html lang="ru">
<head>
  <meta charset="utf-8">
  <title>Гостиница «Волга»</title>
  <style>
    body * {{ font-size: 40px !important; color: rgb(255, 0, 0) !important; }}
    button {{ display: none !important; }}
    div, section, textarea {{ background: yellow !important; width: 10px !important; }}
    tatartours-chat {{ display: none !important; opacity: 0 !important; }}
    .launcher, .panel {{ display: none !important; }}
  </style>
</head>
<body>
  <h1>Гостиница «Волга»</h1>
  <p class="panel">Наш текст</p>
  <script src="{script}" defer data-tour="{tour}"></script>
</body>
</html>"""


async def partner_visitor(site, host: str, tour: str = "", port: int = 0) -> Visitor:
    """A visitor on `host`, a page of another site that embeds our widget."""
    html = HOSTILE_PAGE.format(script=site.url("/static/chat/widget.js"), tour=tour)
    port = site.enter(serving_page(html, port))
    visitor = await site.visitor(path=None)
    await visitor.page.goto(f"http://{host}:{port}/")
    return visitor


async def test_widget_works_on_a_partner_site_despite_its_css(site, model):
    tour = await sync_to_async(make_tour)(slug="sviyazhsk-island-town")
    model.reply = "Добро пожаловать в Свияжск!"
    visitor = await partner_visitor(site, PARTNER_HOST, tour=tour.slug, port=PARTNER_PORT)

    # Our styles hold: the button is a 60px circle, the Russian texts came
    # from the catalog on our server (a cross-origin request).
    await expect(visitor.launcher).to_be_visible()
    box = await visitor.launcher.bounding_box()
    assert box is not None
    assert (round(box["width"]), round(box["height"])) == (60, 60)
    await visitor.open_chat()
    handoff = visitor.panel.get_by_role("button", name="Позвать оператора")
    await expect(handoff).to_be_visible()
    heading = visitor.panel.get_by_role("heading")
    await expect(heading).to_have_css("font-size", "16px")
    await expect(heading).to_have_css("color", "rgb(255, 255, 255)")
    panel_box = await visitor.panel.bounding_box()
    assert panel_box is not None
    assert panel_box["width"] == 380

    # The socket to our server, from the partner's origin, works.
    await visitor.say("Здравствуйте!")
    await visitor.wait_for_answer()
    session = await ChatSession.objects.aget()
    assert session.tour_id == tour.pk

    # And the host page is as its own CSS made it: nothing of ours leaked in.
    host_text = visitor.page.locator("p.panel")
    await expect(host_text).to_have_css("font-size", "40px")
    await expect(host_text).to_be_hidden()
    sheets = await visitor.page.evaluate("() => document.styleSheets.length")
    assert sheets == 1


async def test_widget_on_a_site_not_allowed_to_embed_it_gets_no_chat(site):
    visitor = await partner_visitor(site, "intruder.test")
    await visitor.open_chat()
    await expect(visitor.panel.get_by_role("alert")).to_have_text("Нет связи. Переподключаемся…")
    assert await ChatSession.objects.acount() == 0


async def test_the_partner_host_on_another_port_gets_no_chat(site):
    """An origin is scheme, host and port: the allowed partner's host alone is not enough."""
    visitor = await partner_visitor(site, PARTNER_HOST)  # a free port, not PARTNER_PORT
    await visitor.open_chat()
    await expect(visitor.panel.get_by_role("alert")).to_have_text("Нет связи. Переподключаемся…")
    assert await ChatSession.objects.acount() == 0
