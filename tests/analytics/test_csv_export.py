"""CSV export of the analytics figures: the same report, one figure per row."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.analytics.dataset import DAY1, DAY2, Chat, local

pytestmark = pytest.mark.django_db

URL = "/support/analytics/export.csv"


def rows(response: object) -> list[list[str]]:
    body = response.content.decode("utf-8-sig")  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(get_user_model().objects.create_user("boss", is_staff=True))
    return client


def test_anonymous_users_cannot_download_the_csv(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_csv_holds_the_figures_of_the_chosen_period(staff: Client) -> None:
    chat = Chat(local(DAY1))
    chat.visitor("Сколько стоит экскурсия?", local(DAY1, 10))
    chat.ai(local(DAY1, 10, 1), latency_ms=2000, first_token_ms=500)
    chat.rate(5, local(DAY1, 10, 2))

    response = staff.get(URL, {"from": DAY1.isoformat(), "to": DAY2.isoformat()})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"tatartours-analytics-{DAY1}-{DAY2}.csv" in response["Content-Disposition"]
    table = rows(response)
    assert table[0] == ["section", "key", "metric", "value"]
    figures = {(s, k, m): v for s, k, m, v in table[1:]}
    assert figures["period", "", "from"] == DAY1.isoformat()
    assert figures["conversations", "", "total"] == "1"
    assert figures["conversations", "", "resolution_rate"] == "1.0"
    assert figures["ai_response_time", "", "total_ms.p50"] == "2000.0"
    assert figures["ai_response_time", "openai/gpt-4", "answers"] == "1"
    assert figures["csat", "", "ai_only.distribution.5"] == "1"
    assert figures["days", DAY1.isoformat(), "messages.visitor"] == "1"
    assert figures["days", DAY2.isoformat(), "conversations"] == "0"
    assert figures["top_words", "экскурс", "word"] == "экскурсия"
    # Undefined figures are empty cells, not zeros.
    assert figures["handoffs", "", "queue_wait_s.p50"] == ""
