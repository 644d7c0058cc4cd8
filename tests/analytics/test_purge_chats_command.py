"""`manage.py purge_chats`: data retention, dry run unless --yes, counts what it deletes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError
from django.utils import timezone

from chat.models import ChatMessage, ChatSession, Rating
from support.models import OfflineTicket, SupportRequest
from tests.analytics.commands import manage, run
from tests.analytics.dataset import Chat

pytestmark = pytest.mark.django_db


def counts(text: str) -> dict[str, int]:
    """The command's table as {row label: count}."""
    table: dict[str, int] = {}
    for line in text.splitlines():
        label, _, value = line.rpartition("  ")
        if value.strip().isdigit():
            table[label.strip()] = int(value)
    return table


@pytest.fixture
def history() -> dict[str, Chat]:
    now = timezone.now()
    old = Chat(now - timedelta(days=100))
    old.visitor("Старый вопрос", now - timedelta(days=100))
    old.ai(now - timedelta(days=100))
    request = old.handoff(now - timedelta(days=100), wait_s=5, closed_after_s=60)
    old.rate(4, now - timedelta(days=100), support_request=request)
    OfflineTicket.objects.create(
        session=old.session, name="Ильдар", phone="+79000000000", question="Перезвоните"
    )
    # Old, but still waiting for an operator: never purged.
    waiting = Chat(now - timedelta(days=100))
    waiting.visitor("Ау?", now - timedelta(days=100))
    waiting.handoff(now - timedelta(days=100))
    recent = Chat(now - timedelta(days=2))
    recent.visitor("Новый вопрос", now - timedelta(days=2))
    return {"old": old, "waiting": waiting, "recent": recent}


@pytest.mark.usefixtures("history")
def test_the_default_is_a_dry_run_that_counts_and_deletes_nothing() -> None:
    text = run("purge_chats", "--older-than", "90")

    assert counts(text) == {
        "chat sessions": 1,
        "messages": 2,
        "support requests": 1,
        "ratings": 1,
        "offline tickets unlinked (kept)": 1,
    }
    assert "Nothing was deleted" in text
    assert ChatSession.objects.count() == 3


def test_yes_deletes_stale_chats_and_keeps_the_rest(history: dict[str, Chat]) -> None:
    text = run("purge_chats", "--older-than", "90", "--yes")

    assert counts(text)["chat sessions"] == 1
    assert counts(text)["messages"] == 2
    assert counts(text)["ratings"] == 1
    assert not ChatSession.objects.filter(pk=history["old"].session.pk).exists()
    assert set(ChatSession.objects.values_list("pk", flat=True)) == {
        history["waiting"].session.pk,
        history["recent"].session.pk,
    }
    assert ChatMessage.objects.count() == 2
    assert Rating.objects.count() == 0
    assert SupportRequest.objects.count() == 1
    ticket = OfflineTicket.objects.get()
    assert ticket.session_id is None  # the ticket stays, unlinked


@pytest.mark.usefixtures("history")
def test_a_second_purge_finds_nothing() -> None:
    run("purge_chats", "--older-than", "90", "--yes")

    assert counts(run("purge_chats", "--older-than", "90"))["chat sessions"] == 0


def test_the_retention_period_must_be_positive() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        run("purge_chats", "--older-than", "0")


@pytest.mark.django_db(transaction=True)
def test_exit_codes_of_the_real_command() -> None:
    assert manage("purge_chats", "--older-than", "30").code == 0
    assert manage("purge_chats", "--older-than", "-5").code == 1
    assert manage("purge_chats").code == 2  # --older-than is required
