"""`manage.py export_transcripts`: one session or a date range, JSON lines or text."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError

from tests.analytics.commands import manage, run
from tests.analytics.dataset import DAY1, DAY2, DAY3, Chat, local, operator_user
from tests.factories import make_tour

pytestmark = pytest.mark.django_db


@pytest.fixture
def chats() -> dict[str, Chat]:
    tour = make_tour(slug="sviyazhsk")
    first = Chat(local(DAY1, 9), tour=tour)
    first.visitor("Есть места на субботу?", local(DAY1, 9))
    first.ai(local(DAY1, 9, 1), text="Да, осталось 4 места.")
    request = first.handoff(local(DAY1, 9, 2), wait_s=30, first_reply_s=10, closed_after_s=300)
    first.operator("Здравствуйте! Забронировала для вас.", local(DAY1, 9, 3), operator_user())
    first.rate(5, local(DAY1, 9, 8), support_request=request)
    first.visitor("А через неделю?", local(DAY3, 10))  # outside DAY1..DAY2
    second = Chat(local(DAY2, 15))
    second.visitor("Как оплатить?", local(DAY2, 15))
    return {"first": first, "second": second}


def test_a_date_range_exports_the_sessions_and_messages_within_it(chats: dict[str, Chat]) -> None:
    lines = run(
        "export_transcripts", "--since", DAY1.isoformat(), "--until", DAY2.isoformat()
    ).splitlines()

    records = [json.loads(line) for line in lines]
    assert [r["session_id"] for r in records] == [
        str(chats["first"].session.public_id),
        str(chats["second"].session.public_id),
    ]
    first = records[0]
    assert first["tour"] == "sviyazhsk"
    assert [m["author"] for m in first["messages"]] == ["visitor", "ai", "operator"]
    assert first["messages"][1]["ai_model"] == "openai/gpt-4"
    assert first["messages"][2]["operator"] == "aliya"
    assert first["support_requests"][0]["status"] == "closed"
    assert first["ratings"] == [
        {
            "score": 5,
            "comment": "",
            "operator_conversation": True,
            "created_at": first["ratings"][0]["created_at"],
        }
    ]
    assert "client_ip" not in first
    assert "token_hash" not in first


def test_one_session_as_readable_text(chats: dict[str, Chat]) -> None:
    session = str(chats["first"].session.public_id)

    text = run("export_transcripts", "--session", session, "--format", "text")

    lines = text.splitlines()
    assert lines[0].startswith("=== ")
    assert session in lines[0]
    assert lines[1].endswith(": Есть места на субботу?")
    assert "Здравствуйте! Забронировала для вас." in lines[3]
    assert "А через неделю?" in text  # no date range: the whole session
    assert "5/5" in text


def test_an_unknown_or_malformed_session_is_an_error() -> None:
    with pytest.raises(CommandError, match="No chat session"):
        run("export_transcripts", "--session", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(CommandError, match="Not a session id"):
        run("export_transcripts", "--session", "nope")


def test_nothing_to_select_is_an_error() -> None:
    with pytest.raises(CommandError, match="--session"):
        run("export_transcripts")
    with pytest.raises(CommandError, match="before"):
        run("export_transcripts", "--since", DAY2.isoformat(), "--until", DAY1.isoformat())


@pytest.mark.django_db(transaction=True)
def test_exit_codes_of_the_real_command() -> None:
    chat = Chat(local(DAY1))
    chat.visitor("Привет", local(DAY1))

    ok = manage("export_transcripts", "--since", DAY1.isoformat(), "--until", DAY1.isoformat())
    assert ok.code == 0, ok.err
    assert json.loads(ok.out)["messages"][0]["text"] == "Привет"
    assert "Exported 1 chat session" in ok.err

    assert manage("export_transcripts", "--since", "yesterday").code == 1
