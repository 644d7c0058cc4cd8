"""The visitor messages of one moment as one statement (chat/message_rows.py,
`visitor_messages_batch`): for each chat, the same row back and the same rows
written as its message's statement alone (`visitor_message_statement`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from chat import actions
from chat.message_rows import (
    ACTIVITY_STAMP_GRANULARITY,
    visitor_message_batch_row,
    visitor_message_result,
    visitor_message_statement,
)
from chat.models import ChatMessage, ChatSession
from tatartours import async_db, group_commit
from tests.factories import make_tour, new_client_id
from tests.servers import group_commit_busy
from tours.models import Tour

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Case:
    """One chat in a given state, and the message its visitor sends."""

    name: str
    status: str = ChatSession.Status.AI
    stamp_age: timedelta = timedelta(hours=1)
    tour_slug: str | None = None
    repeats_client_id: bool = False


CASES = [
    Case("a new message after a quiet spell"),
    Case("a new message soon after the last", stamp_age=timedelta(seconds=5)),
    Case("a closed chat", status=ChatSession.Status.CLOSED, stamp_age=timedelta(seconds=5)),
    Case("a new published tour page", tour_slug="sviyazhsk", stamp_age=timedelta(seconds=5)),
    Case("an unpublished tour page", tour_slug="draft-trip", stamp_age=timedelta(seconds=5)),
    Case("the chat's own tour page", tour_slug="kremlin", stamp_age=timedelta(seconds=5)),
    Case("a retry of a stored message", repeats_client_id=True),
    Case("a chat with an operator", status=ChatSession.Status.OPERATOR),
]


@pytest.fixture
def tours() -> dict[str, Tour]:
    return {
        "kremlin": make_tour(slug="kremlin"),
        "sviyazhsk": make_tour(slug="sviyazhsk"),
        "draft-trip": make_tour(slug="draft-trip", status=Tour.Status.DRAFT),
    }


@dataclass
class Prepared:
    session: ChatSession
    params: dict[str, Any]


def _prepare(case: Case, tours: dict[str, Tour], now: datetime) -> Prepared:
    session = ChatSession.objects.create(
        token_hash=new_client_id(),
        token_expires_at=now + timedelta(days=1),
        status=case.status,
        tour=tours["kremlin"],
    )
    ChatSession.objects.filter(pk=session.pk).update(last_activity_at=now - case.stamp_age)
    client_id = new_client_id()
    if case.repeats_client_id:
        ChatMessage.objects.create(
            session=session, author=ChatMessage.Author.VISITOR, text="Было", client_id=client_id
        )
    _, params = visitor_message_statement(
        session_pk=session.pk, client_id=client_id, text="Есть места?", tour_slug=case.tour_slug,
        now=now,
    )  # fmt: skip
    return Prepared(session, params)


def _outcome(prepared: Prepared, row: Any) -> dict[str, Any]:
    """What the caller and the database show, without the ids that differ between twins."""
    params = prepared.params
    result = visitor_message_result(
        row, session_pk=prepared.session.pk, client_id=params["client_id"], text=params["text"]
    )
    session = ChatSession.objects.select_related("tour").get(pk=prepared.session.pk)
    assert result.session_public_id == session.public_id
    message = result.message
    return {
        "status_before": result.status_before,
        "status": result.status,
        "created": result.created,
        "message": message and (message.author, message.text, message.created_at == params["now"]),
        "stored": [
            (author, text, client_id == params["client_id"])
            for author, text, client_id in session.messages.order_by("id").values_list(
                "author", "text", "client_id"
            )
        ],
        "row": (session.status, session.tour.slug if session.tour else None),
        "stamp": session.last_activity_at == params["now"],
    }


async def _alone(prepared: list[Prepared]) -> list[Any]:
    rows = []
    for p in prepared:
        sql, params = visitor_message_statement(
            session_pk=p.params["session"], client_id=p.params["client_id"],
            text=p.params["text"], tour_slug=p.params["tour"], now=p.params["now"],
        )  # fmt: skip

        async def run(conn: async_db.Connection, sql: str = sql, params=params) -> Any:
            return await (await conn.execute(sql, params)).fetchone()

        rows.append(await async_db.run(run))
    return rows


async def _batched(prepared: list[Prepared]) -> list[Any]:
    parts = [visitor_message_batch_row(p.params) for p in prepared]
    return await async_db.run(lambda conn: group_commit.run_batch(conn, parts))


def _run(how: Callable[[list[Prepared]], Any], prepared: list[Prepared]) -> list[Any]:
    return async_to_sync(how)(prepared)


def test_each_chat_of_a_batch_gets_the_row_and_the_writes_of_its_statement_alone(healthy, tours):
    now = timezone.now()
    alone = [_prepare(case, tours, now) for case in CASES]
    batched = [_prepare(case, tours, now) for case in CASES]
    # The batch's order is the group's lock order, not the cases' order.
    batched_rows = _run(_batched, batched[::-1])[::-1]
    alone_rows = _run(_alone, alone)
    pairs = zip(CASES, alone, alone_rows, batched, batched_rows, strict=True)
    for case, a, a_row, b, b_row in pairs:
        assert _outcome(b, b_row) == _outcome(a, a_row), case.name


def test_the_cases_cover_every_branch_of_the_statement(healthy, tours):
    # Guards the comparison above against cases that all take the same path.
    now = timezone.now()
    prepared = [_prepare(case, tours, now) for case in CASES]
    outcomes = {
        case.name: _outcome(p, row)
        for case, p, row in zip(CASES, prepared, _run(_batched, prepared), strict=True)
    }
    assert outcomes["a new message after a quiet spell"]["stamp"] is True
    assert outcomes["a new message soon after the last"]["stamp"] is False
    assert outcomes["a closed chat"]["status_before"] == ChatSession.Status.CLOSED
    assert outcomes["a closed chat"]["status"] == ChatSession.Status.AI
    assert outcomes["a new published tour page"]["row"][1] == "sviyazhsk"
    assert outcomes["an unpublished tour page"]["row"][1] == "kremlin"
    retry = outcomes["a retry of a stored message"]
    assert retry["created"] is False and retry["message"][1] == "Было"
    assert len(retry["stored"]) == 1
    assert outcomes["a chat with an operator"]["status"] == ChatSession.Status.OPERATOR
    assert all(o["created"] for name, o in outcomes.items() if "retry" not in name)
    assert timedelta(hours=1) > ACTIVITY_STAMP_GRANULARITY


def test_a_chat_that_does_not_exist_gets_no_row_and_the_others_are_stored(healthy, tours):
    now = timezone.now()
    prepared = [_prepare(Case("here"), tours, now), _prepare(Case("gone"), tours, now)]
    prepared[1].session.delete()
    rows = _run(_batched, prepared)
    assert rows[1] is None
    assert _outcome(prepared[0], rows[0])["created"] is True


async def _post(session: ChatSession, text: str) -> actions.VisitorMessage:
    return await actions.do_post_visitor_message(
        session_pk=session.pk,
        session_public_id=str(session.public_id),
        client_ip="203.0.113.7",
        client_id=new_client_id(),
        text=text,
        tour_slug=None,
    )


async def test_visitors_of_several_chats_writing_at_the_same_moment_each_get_their_own_message(
    healthy, settings
):
    # One committer, busy: the five messages wait together and go as the next group.
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    sessions = [
        (
            await actions.do_register_visitor(
                token=None, tour_slug=None, user_id=None, client_ip="203.0.113.7"
            )
        ).session
        for _ in range(5)
    ]
    texts = [f"Сколько мест на {n} декабря?" for n in range(1, 6)]
    async with group_commit_busy(0x67C1):
        posting = [
            asyncio.ensure_future(_post(session, text))
            for session, text in zip(sessions, texts, strict=True)
        ]
    posted = await asyncio.gather(*posting)
    for session, text, one in zip(sessions, texts, posted, strict=True):
        assert one.created and one.message.text == text
        stored = [m async for m in ChatMessage.objects.filter(session=session)]
        assert [(m.pk, m.text) for m in stored] == [(one.message.pk, text)]
