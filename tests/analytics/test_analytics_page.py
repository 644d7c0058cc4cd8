"""The staff analytics page: who may see it, the date range, the figures and charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tests.analytics.dataset import DAY1, DAY2, Chat, local

pytestmark = pytest.mark.django_db

URL = "/support/analytics/"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def staff_client(client: Client) -> Client:
    user = get_user_model().objects.create_user("manager", password="x", is_staff=True)
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/support/analytics/")


def test_logged_in_users_without_staff_status_are_refused(client: Client) -> None:
    client.force_login(get_user_model().objects.create_user("tourist", password="x"))

    assert client.get(URL).status_code == 403
    assert client.get(URL + "export.csv").status_code == 403


def test_inactive_staff_are_refused(client: Client) -> None:
    user = get_user_model().objects.create_user("gone", password="x", is_staff=True)
    client.force_login(user)
    user.is_active = False
    user.save()

    assert client.get(URL).status_code in {302, 403}


def test_default_range_is_the_last_30_days(staff_client: Client) -> None:
    response = staff_client.get(URL)

    assert response.status_code == 200
    report = response.context["report"]
    today = timezone.localdate()
    assert report.period.last_day == today
    assert report.period.first_day == today - timedelta(days=29)
    assert len(report.days) == 30


def _conversation_on(day: Any, text: str) -> None:
    chat = Chat(local(day, 9))
    chat.visitor(text, local(day, 9))
    chat.ai(local(day, 9, 1), latency_ms=1200, first_token_ms=300)


def test_the_date_filter_selects_the_period(staff_client: Client) -> None:
    _conversation_on(DAY1, "Сколько стоит экскурсия?")
    _conversation_on(DAY2, "Есть ли экскурсия в Болгар?")

    response = staff_client.get(URL, {"from": DAY2.isoformat(), "to": DAY2.isoformat()})

    report = response.context["report"]
    assert (report.period.first_day, report.period.last_day) == (DAY2, DAY2)
    assert report.outcomes.conversations == 1
    page = response.content.decode()
    assert "экскурсия" in page
    assert "1,20" in page  # the median answer time in seconds, Russian decimal comma


def test_an_inverted_range_shows_an_error_and_the_default_period(staff_client: Client) -> None:
    response = staff_client.get(URL, {"from": DAY2.isoformat(), "to": DAY1.isoformat()})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["report"].period.last_day == timezone.localdate()
    assert 'role="alert"' in response.content.decode()


def test_every_chart_is_a_well_formed_svg_with_a_title_and_axes(staff_client: Client) -> None:
    _conversation_on(DAY1, "Экскурсия по Кремлю")

    response = staff_client.get(URL, {"from": DAY1.isoformat(), "to": DAY2.isoformat()})

    charts = response.context["charts"]
    for name in ("volume", "response_times", "handoff_rate", "csat", "top_tours", "top_words"):
        svg = ET.fromstring(str(getattr(charts, name)))  # noqa: S314 - our own output
        texts = [t.text for t in svg.iter(f"{SVG}text")]
        assert svg.find(f"{SVG}title") is not None, name
        assert len(texts) >= 4, name  # title, tick labels, unit
        assert svg.find(f".//{SVG}line") is not None, name


def test_the_page_loads_nothing_from_other_sites(staff_client: Client) -> None:
    page = staff_client.get(URL).content.decode()

    assert "<script src=" not in page
    assert "https://" not in page
    assert 'rel="stylesheet"' not in page


def test_the_page_links_a_served_page_of_definitions_not_a_repository_path(
    staff_client: Client,
) -> None:
    page = staff_client.get(URL).content.decode()
    assert "docs/metrics.md" not in page
    assert 'href="/support/analytics/definitions/"' in page

    definitions = staff_client.get(URL + "definitions/")
    assert definitions.status_code == 200
    text = definitions.content.decode()
    for term in ("Разговор", "Решены ИИ", "Время до первого токена", "Частые слова", "CSAT"):
        assert f"<dt>{term}</dt>" in text
    assert "вежливые формулы чата" in text


def test_the_definitions_are_for_staff_only(client: Client) -> None:
    assert client.get(URL + "definitions/").status_code == 302
    client.force_login(get_user_model().objects.create_user("tourist", password="x"))
    assert client.get(URL + "definitions/").status_code == 403
