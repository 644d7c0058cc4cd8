"""Staff pages fit a 1440 px window: nothing on the right is cut off.

The analytics page (its "По дням" table has 14 columns), the admin's tour
list with the demo catalogue and its support requests with demo traffic,
in a real Chromium at 1440×900.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import Page, expect

from analytics.demo import generate
from tours.demo import load_demo_tours
from tours.demo_faq import load_demo_faq

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1440, "height": 900}
PASSWORD = "Kremlin-Kul-Sharif-1552"


def make_manager() -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("manager", password=PASSWORD)


async def overflow(page: Page) -> list[str]:
    """What is past the window's right edge, or hidden in a box that scrolls sideways."""
    found: list[str] = await page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const out = [];
            if (document.documentElement.scrollWidth > width) out.push("page scrolls sideways");
            // A table in a scrolling box is cut off too, if the box must scroll.
            for (const box of document.querySelectorAll(".scroll, #changelist .results")) {
                if (box.scrollWidth > box.clientWidth + 1) out.push("scrolls: " + box.className);
            }
            for (const node of document.querySelectorAll("table, th, td")) {
                const box = node.getBoundingClientRect();
                const name = node.tagName + ": " + node.textContent.trim().slice(0, 40);
                if (box.width && box.right > width + 1) out.push(name);
            }
            return out.slice(0, 5);
        }"""
    )
    return found


async def test_analytics_and_the_admin_tour_list_fit_1440_px(site):
    await sync_to_async(load_demo_tours)()
    await sync_to_async(load_demo_faq)()
    await sync_to_async(generate)(days=5)  # real figures: wide numbers in every column
    await sync_to_async(make_manager)()
    context = await site.new_context(WIDE)
    page = await context.new_page()
    await page.goto(site.url("/admin/login/?next=/admin/tours/tour/"))
    await page.locator("input[name=username]").fill("manager")
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("input[name=password]").press("Enter")
    await expect(page.locator("#result_list")).to_be_visible()
    await expect(page.locator("#site-name")).to_contain_text("Туры по Татарстану")
    assert await overflow(page) == []

    # The support requests of a month of demo traffic, with their many times.
    await page.goto(site.url("/admin/support/supportrequest/"))
    await expect(page.locator("#result_list")).to_be_visible()
    assert await overflow(page) == []

    await page.goto(site.url("/support/analytics/"))
    daily = page.locator("table.daily")
    await expect(daily).to_be_visible()
    await daily.scroll_into_view_if_needed()
    assert await overflow(page) == []
    await context.close()
