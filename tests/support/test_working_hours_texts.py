"""Every text that states the operators' hours reads SUPPORT_WORKING_HOURS/_DAYS.

The site's footer, the FAQ entry about operators and the outside-hours reply
(tests/support/test_availability.py) say the same sentence; none is written
by hand, so changing the setting changes them all.
"""

from __future__ import annotations

from datetime import time

import pytest
from django.test import Client

from tours.demo_faq import load_demo_faq
from tours.hours import working_hours_sentence
from tours.models import FaqEntry

pytestmark = pytest.mark.django_db

OPERATORS_FAQ = "Как связаться с живым оператором?"


def footer() -> str:
    page = Client().get("/").content.decode()
    return page.split('class="site-footer__note">', 1)[1].split("</p>", 1)[0]


def test_round_the_clock_by_default_everywhere(settings):
    settings.SUPPORT_WORKING_HOURS = (time(0, 0), time(0, 0))
    settings.SUPPORT_WORKING_DAYS = frozenset(range(1, 8))
    load_demo_faq()
    said = "Операторы на связи круглосуточно и без выходных."
    assert working_hours_sentence() == said
    assert footer() == f"Чат отвечает круглосуточно. {said}"
    answer = FaqEntry.objects.get(question=OPERATORS_FAQ).answer
    assert said in answer and "21:00" not in answer


def test_office_hours_on_weekdays_change_the_footer_and_the_faq(settings):
    settings.SUPPORT_WORKING_HOURS = (time(9, 0), time(18, 30))
    settings.SUPPORT_WORKING_DAYS = frozenset({1, 2, 3, 4, 5})
    load_demo_faq()
    said = "Операторы на связи: пн–пт, с 9:00 до 18:30 по московскому времени."
    assert working_hours_sentence() == said
    assert said in footer()
    assert said in FaqEntry.objects.get(question=OPERATORS_FAQ).answer


def test_other_time_zones_and_windows_across_midnight_are_named(settings):
    settings.TIME_ZONE = "Asia/Yekaterinburg"
    settings.SUPPORT_WORKING_HOURS = (time(20, 0), time(0, 0))
    settings.SUPPORT_WORKING_DAYS = frozenset({1, 2, 3, 4, 5, 7})
    assert working_hours_sentence() == (
        "Операторы на связи: пн–пт, вс, с 20:00 до 24:00 часовой пояс Asia/Yekaterinburg."
    )
