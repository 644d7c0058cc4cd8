"""Bookings from the chat: conversations that led to one, per tour, without an operator.

One hand-built data set, its figures worked out by hand (docs/metrics.md,
"Bookings from the chat"):

| chat | day | what happened | bookings |
|---|---|---|---|
| 1 | DAY1 | AI only | Свияжск ×2 (no operator) |
| 2 | DAY1 | operator took it at 12:01 | Болгар ×3 at 12:10 (operator) |
| 3 | DAY2 | booked, then an operator | Свияжск ×1 at 10:00 (none); ×4 at 11:30 (operator), |
|   |      |                          | later cancelled |
| 4 | DAY2 | asked, booked nothing | — |
| 5 | DAY3 | outside the period | Болгар ×2 (no operator) |
| – | DAY1 | a booking not made in the chat | not counted |

Period DAY1–DAY2: 4 conversations, 3 led to a booking; 4 bookings (10
places), 2 made without an operator; Свияжск 3 bookings (7 places),
Болгар 1 (3 places).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from analytics.bookings import chat_bookings
from analytics.metrics import Period
from tests.analytics.dataset import DAY1, DAY2, DAY3, Chat, chat_booking, local
from tests.factories import make_tour
from tours.models import Booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset() -> None:
    sviyazhsk = make_tour(title="Свияжск", slug="sviyazhsk")
    bolgar = make_tour(title="Болгар", slug="bolgar")

    one = Chat(local(DAY1, 12))
    one.visitor("Хочу в Свияжск на двоих", local(DAY1, 12))
    one.ai(local(DAY1, 12, 1))
    chat_booking(one, sviyazhsk, 2, local(DAY1, 12, 5))

    two = Chat(local(DAY1, 12))
    two.visitor("Позовите оператора", local(DAY1, 12))
    two.handoff(local(DAY1, 12), wait_s=60)
    chat_booking(two, bolgar, 3, local(DAY1, 12, 10))

    three = Chat(local(DAY2, 9))
    three.visitor("Бронирую Свияжск", local(DAY2, 9))
    chat_booking(three, sviyazhsk, 1, local(DAY2, 10))
    three.handoff(local(DAY2, 11), wait_s=60)
    chat_booking(three, sviyazhsk, 4, local(DAY2, 11, 30), status=Booking.Status.CANCELLED)

    four = Chat(local(DAY2, 15))
    four.visitor("Сколько стоит Болгар?", local(DAY2, 15))

    five = Chat(local(DAY3, 10))
    five.visitor("На двоих в Болгар", local(DAY3, 10))
    chat_booking(five, bolgar, 2, local(DAY3, 10, 5))

    # Made elsewhere (the admin, say): not a chat booking.
    Booking.objects.create(tour=bolgar, contact_name="Офис", participants=5)


def test_the_figures_of_the_period_are_exact(dataset: None) -> None:
    figures = chat_bookings(Period(DAY1, DAY2))
    assert (figures.conversations, figures.with_booking) == (4, 3)
    assert figures.booking_rate == 0.75
    assert (figures.bookings, figures.places, figures.without_operator) == (4, 10, 2)
    assert figures.without_operator_share == 0.5
    assert [(t.slug, t.bookings, t.places) for t in figures.per_tour] == [
        ("sviyazhsk", 3, 7),
        ("bolgar", 1, 3),
    ]


def test_a_period_without_bookings_shows_no_share(dataset: None) -> None:
    figures = chat_bookings(Period(DAY3.replace(day=20), DAY3.replace(day=21)))
    assert (figures.conversations, figures.bookings, figures.per_tour) == (0, 0, [])
    assert figures.booking_rate is None and figures.without_operator_share is None


def test_the_analytics_page_shows_them(dataset: None, client: Client) -> None:
    staff = get_user_model().objects.create_user("manager", password="x", is_staff=True)
    client.force_login(staff)
    response = client.get(
        "/support/analytics/",
        {"from": DAY1.isoformat(), "to": DAY2.isoformat()},
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    html = response.content.decode()
    assert "Бронирования из чата" in html
    assert '<td data-figure="with_booking">3</td>' in html
    assert '<td data-figure="bookings">4</td>' in html
    assert '<td data-figure="without_operator">2</td>' in html
    assert '<td data-figure="without_operator_share">50,0\u00a0%</td>' in html
    assert (
        '<tr data-tour="sviyazhsk"><td class="text">Свияжск</td><td>3</td><td>7</td></tr>' in html
    )


def test_metrics_count_every_chat_booking_by_tour_and_operator(
    dataset: None, client: Client
) -> None:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    samples = {
        (s.labels["tour"], s.labels["operator"]): s.value
        for s in families["tatartours_chat_bookings"].samples
        if s.name == "tatartours_chat_bookings_total"
    }
    assert samples == {
        ("sviyazhsk", "none"): 2,
        ("sviyazhsk", "involved"): 1,
        ("bolgar", "involved"): 1,
        ("bolgar", "none"): 1,
    }
    sessions = families["tatartours_chat_conversations_with_booking"].samples[0].value
    assert sessions == 4


def test_the_csv_export_and_chat_report_carry_them(dataset: None) -> None:
    from analytics.management.commands.chat_report import table
    from analytics.report import build_report, csv_rows

    report = build_report(Period(DAY1, DAY2), flush_counters=False)
    rows = list(csv_rows(report))
    assert ["bookings", "", "conversations_with_booking", "3"] in rows
    assert ["bookings", "", "without_operator_share", "0.5"] in rows
    assert ["bookings_per_tour", "sviyazhsk", "places", "7"] in rows
    from django.utils import translation

    with translation.override("ru"):
        text = table(report, top=10)
    assert "Разговоры, закончившиеся бронью" in text
