"""Content-Security-Policy: every page has one, and nothing we serve breaks it.

Chromium reports each violation as a `securitypolicyviolation` event; the
pages are used as people use them (the widget chatting over its socket, the
dashboard connected, the admin, the analytics page) and none may be reported.
A partner's page with a strict policy of its own that lists our origin runs
the widget too, as docs/widget.md tells partners to write it.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.async_api import BrowserContext, Page, expect

from support.operators import make_operator
from tests.browser.conftest import PARTNER_HOST, PARTNER_PORT
from tests.browser.personas import serving_page
from tests.factories import make_tour

PASSWORD = "csp-test-password-1"

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""


def test_every_response_has_the_policy(client: Client, db: Any) -> None:
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"


async def recording_page(context: BrowserContext) -> Page:
    await context.add_init_script(RECORD_VIOLATIONS)
    return await context.new_page()


async def violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("() => window.__cspViolations")
    return found


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.django_db(transaction=True)
async def test_no_violations_on_the_site_dashboard_admin_and_analytics(site, model):
    tour = await database_sync_to_async(make_tour)()
    model.reply = "Здравствуйте! Подробнее: https://tours.example/kremlin"
    operator = await database_sync_to_async(make_operator)(
        username="csp-alia", display_name="Алия", password=PASSWORD
    )
    await get_user_model().objects.filter(pk=operator.user.pk).aupdate(is_superuser=True)

    visitor_page = await recording_page(await site.new_context())
    await visitor_page.goto(site.url(tour.get_absolute_url()))
    widget = visitor_page.locator("tatartours-chat")
    await widget.locator(".launcher").click()
    await widget.locator("textarea").fill("Сколько стоит?")
    await widget.locator("textarea").press("Enter")
    await expect(widget.locator(".msg--ai").last).to_contain_text("Подробнее")
    await visitor_page.goto(site.url("/"))
    # The panel stays open across pages: either the launcher or the panel shows.
    await expect(widget.locator(".launcher, .panel").filter(visible=True)).to_have_count(1)
    assert await violations(visitor_page) == []

    staff_page = await recording_page(await site.new_context())
    await staff_page.goto(site.url("/support/"))
    await staff_page.locator("input[name=username]").fill("csp-alia")
    await staff_page.locator("input[name=password]").fill(PASSWORD)
    await staff_page.locator("input[name=password]").press("Enter")
    await expect(staff_page.locator("#connection")).to_have_attribute("data-state", "open")
    assert await violations(staff_page) == []
    for path in ["/admin/", "/admin/tours/tour/", f"/admin/tours/tour/{tour.pk}/change/"]:
        await staff_page.goto(site.url(path))
        await expect(staff_page.locator("#content")).to_be_visible()
        assert await violations(staff_page) == [], path
    await staff_page.goto(site.url("/support/analytics/"))
    await expect(staff_page.locator("h1")).to_be_visible()
    assert await violations(staff_page) == []
    # The recorder hears a real violation: an injected foreign script is refused.
    await staff_page.evaluate(
        """() => document.body.append(Object.assign(document.createElement("script"),
                 {src: "https://evil.example/x.js"}))"""
    )
    await staff_page.wait_for_function("() => window.__cspViolations.length > 0")
    assert await violations(staff_page) == ["script-src-elem https://evil.example/x.js"]


PARTNER_PAGE = """<!doctype html>
<html lang="ru">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="default-src 'self';
    script-src {server}; style-src 'self' {server}; connect-src {server} {ws}">
  <title>Гостиница «Волга»</title>
</head>
<body>
  <h1>Гостиница «Волга»</h1>
  <script src="{server}/static/chat/widget.js" defer></script>
</body>
</html>"""


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.django_db(transaction=True)
async def test_the_widget_works_under_a_partners_strict_policy(site, model):
    model.reply = "Добро пожаловать!"
    server = site.url("").rstrip("/")
    html = PARTNER_PAGE.format(server=server, ws=server.replace("http://", "ws://"))
    site.enter(serving_page(html, PARTNER_PORT))
    page = await recording_page(await site.new_context())
    await page.goto(f"http://{PARTNER_HOST}:{PARTNER_PORT}/")
    widget = page.locator("tatartours-chat")
    await widget.locator(".launcher").click()
    await widget.locator("textarea").fill("Здравствуйте!")
    await widget.locator("textarea").press("Enter")
    await expect(widget.locator(".msg--ai").last).to_contain_text("Добро пожаловать")
    assert await violations(page) == []
