"""`manage.py chat_report`: a readable table, CSV or JSON, and its exit codes."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError
from django.utils import timezone

from tests.analytics.commands import manage, run
from tests.analytics.dataset import Chat, local


@pytest.fixture
def recent_chats() -> None:
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    chat = Chat(local(yesterday, 10))
    chat.visitor("Сколько стоит экскурсия в Свияжск?", local(yesterday, 10))
    chat.ai(local(yesterday, 10, 1), latency_ms=2400, first_token_ms=600)
    chat.rate(5, local(yesterday, 10, 3))
    other = Chat(local(yesterday, 11))
    other.visitor("Позовите оператора", local(yesterday, 11))
    other.handoff(local(yesterday, 11, 1), wait_s=45, first_reply_s=20, closed_after_s=600)
    old = Chat(local(today - timedelta(days=20)))
    old.visitor("Старый вопрос", local(today - timedelta(days=20)))


@pytest.mark.django_db
@pytest.mark.usefixtures("recent_chats")
def test_the_table_shows_every_section_for_the_last_days() -> None:
    text = run("chat_report", "--days", "7", "--top", "10")

    lines = text.splitlines()
    assert lines[0].startswith("Отчёт чата: с ")
    total = next(line for line in lines if line.startswith("Всего"))
    assert total.split()[-1] == "2"  # the 20-day-old chat is outside the 7 days
    assert "2,40 с" in text  # the AI's median answer time, in Russian
    assert "45" in text  # the queue wait in seconds
    assert "экскурсия" in text  # the top word, in its commonest form
    assert sum(1 for line in lines if line[:4].isdigit() and line[4] == "-") == 7  # days


@pytest.mark.django_db
@pytest.mark.usefixtures("recent_chats")
def test_json_holds_the_same_figures() -> None:
    data = json.loads(run("chat_report", "--days", "7", "--format", "json"))

    assert data["period"]["days"] == 7
    assert data["conversations"]["total"] == 2
    assert data["conversations"]["handed_off"] == 1
    assert data["ai_response_time"]["all"]["total_ms"]["p50"] == 2400.0
    assert data["handoffs"]["queue_wait_s"]["p50"] == 45.0
    assert data["csat"]["ai_only"]["distribution"]["5"] == 1
    assert len(data["days"]) == 7


@pytest.mark.django_db
@pytest.mark.usefixtures("recent_chats")
def test_csv_is_one_figure_per_row() -> None:
    rows = list(csv.reader(io.StringIO(run("chat_report", "--days", "30", "--format", "csv"))))

    assert rows[0] == ["section", "key", "metric", "value"]
    assert ["conversations", "", "total", "3"] in rows
    assert all(len(row) == 4 for row in rows)


@pytest.mark.django_db
def test_a_bad_number_of_days_is_refused() -> None:
    with pytest.raises(CommandError, match="--days"):
        run("chat_report", "--days", "0")


@pytest.mark.django_db(transaction=True)
def test_exit_codes_of_the_real_command() -> None:
    ok = manage("chat_report", "--days", "3", "--format", "json")
    assert ok.code == 0, ok.err
    assert json.loads(ok.out)["period"]["days"] == 3

    bad_days = manage("chat_report", "--days", "1000")
    assert bad_days.code == 1
    assert "--days" in bad_days.err

    bad_format = manage("chat_report", "--format", "xml")
    assert bad_format.code == 2  # argparse refuses the choice
