"""The operator messages of one moment as one statement (support/request_rows.py,
`operator_messages_batch`): for each chat, the same row back and the same rows
written as its message's statement alone (`operator_message_statement`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import Client
from django.utils import timezone

from chat.models import ChatMessage, ChatSession
from support.access import session_operator_access_async
from support.models import SupportRequest
from support.request_rows import (
    operator_message_batch_row,
    operator_message_result,
    operator_message_statement,
)
from tatartours import async_db, group_commit
from tests.factories import make_operator, new_client_id

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Case:
    """One chat in a given state, and the message an operator sends to it."""

    name: str
    holder: str | None = "sender"  # who holds the chat: the sender, another operator, nobody
    replied_before: bool = False
    stamp_age: timedelta = timedelta(hours=1)
    checked: bool = True  # the socket's grant is checked (a socket), or not (sync callers)
    grant_holds: bool = True
    repeats_client_id: bool = False
    exists: bool = True


CASES = [
    Case("the holder's first reply"),
    Case("the holder again, soon after", replied_before=True, stamp_age=timedelta(seconds=5)),
    Case("a caller that checked the sender itself", checked=False),
    Case("a grant that no longer holds", grant_holds=False),
    Case("another operator's chat", holder="other"),
    Case("a chat nobody holds", holder=None),
    Case("a retry of a stored message", repeats_client_id=True),
    Case("a chat that does not exist", exists=False),
]


@dataclass
class Prepared:
    session: ChatSession | None
    params: dict[str, Any]


def _logged_in(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


def _prepare(case: Case, sender: Any, other: Any, now: datetime) -> Prepared:
    key = _logged_in(sender)
    access, grant = async_to_sync(session_operator_access_async)(key, sender.pk)
    assert access == "ok" and grant is not None
    if not case.grant_holds:
        grant = replace(grant, password_digest=b"\0" * len(grant.password_digest))
    session: ChatSession | None = None
    public_id = uuid.uuid4()
    client_id = new_client_id()
    if case.exists:
        session = ChatSession.objects.create(
            token_hash=new_client_id(),
            token_expires_at=now + timedelta(days=1),
            status=ChatSession.Status.OPERATOR,
        )
        public_id = session.public_id
        ChatSession.objects.filter(pk=session.pk).update(last_activity_at=now - case.stamp_age)
        if case.holder is not None:
            SupportRequest.objects.create(
                session=session,
                status=SupportRequest.Status.ASSIGNED,
                operator=sender if case.holder == "sender" else other,
                queued_at=now - timedelta(minutes=5),
                first_reply_at=now - timedelta(minutes=1) if case.replied_before else None,
            )
        if case.repeats_client_id:
            ChatMessage.objects.create(
                session=session, author=ChatMessage.Author.OPERATOR, operator=sender,
                text="Было", client_id=client_id,
            )  # fmt: skip
    _, params = operator_message_statement(
        operator_id=sender.pk, session_id=public_id, client_id=client_id, text="Добрый день",
        now=now, session_key=key if case.checked else None,
        grant=grant if case.checked else None,
    )  # fmt: skip
    return Prepared(session, params)


def _outcome(prepared: Prepared, row: Any, sender: Any) -> dict[str, Any]:
    """What the caller and the database show, without the ids that differ between twins."""
    params = prepared.params
    result = operator_message_result(
        row, operator_id=sender.pk, client_id=params["client_id"], text=params["text"]
    )
    if prepared.session is None:
        return {"result": result}
    assert result is not None
    session = ChatSession.objects.get(pk=prepared.session.pk)
    assert (result.session_pk, result.session_public_id) == (session.pk, session.public_id)
    message = result.message
    request = SupportRequest.objects.filter(session=session).first()
    return {
        "created": result.created,
        "message": message and (message.author, message.text, message.created_at == params["now"]),
        "holder": result.holder_id and (result.holder_id == sender.pk),
        "holder_active": result.holder_active,
        "holder_name": result.holder_name,
        "stored": [
            (author, text, client_id == params["client_id"])
            for author, text, client_id in session.messages.order_by("id").values_list(
                "author", "text", "client_id"
            )
        ],
        "first_reply": request and request.first_reply_at == params["now"],
        "stamp": session.last_activity_at == params["now"],
    }


async def _alone(prepared: list[Prepared]) -> list[Any]:
    rows = []
    for p in prepared:
        sql, _ = operator_message_statement(
            operator_id=p.params["operator"], session_id=p.params["session_id"],
            client_id=p.params["client_id"], text=p.params["text"], now=p.params["now"],
            session_key=None, grant=None,
        )  # fmt: skip

        async def run(conn: async_db.Connection, sql: str = sql, params=p.params) -> Any:
            return await (await conn.execute(sql, params)).fetchone()

        rows.append(await async_db.run(run))
    return rows


async def _batched(prepared: list[Prepared]) -> list[Any]:
    parts = [operator_message_batch_row(p.params) for p in prepared]
    return await async_db.run(lambda conn: group_commit.run_batch(conn, parts))


@pytest.fixture
def operators() -> tuple[Any, Any]:
    return make_operator(name="Алия"), make_operator(name="Рустем")


def test_each_chat_of_a_batch_gets_the_row_and_the_writes_of_its_statement_alone(
    healthy, operators
):
    sender, other = operators
    now = timezone.now()
    alone = [_prepare(case, sender, other, now) for case in CASES]
    batched = [_prepare(case, sender, other, now) for case in CASES]
    # The batch's order is the group's lock order, not the cases' order.
    batched_rows = async_to_sync(_batched)(batched[::-1])[::-1]
    alone_rows = async_to_sync(_alone)(alone)
    pairs = zip(CASES, alone, alone_rows, batched, batched_rows, strict=True)
    for case, a, a_row, b, b_row in pairs:
        assert _outcome(b, b_row, sender) == _outcome(a, a_row, sender), case.name


def test_the_cases_cover_every_branch_of_the_statement(healthy, operators):
    # Guards the comparison above against cases that all take the same path.
    sender, other = operators
    now = timezone.now()
    prepared = [_prepare(case, sender, other, now) for case in CASES]
    rows = async_to_sync(_batched)(prepared)
    got = {
        case.name: _outcome(p, row, sender)
        for case, p, row in zip(CASES, prepared, rows, strict=True)
    }
    first = got["the holder's first reply"]
    assert first["created"] and first["first_reply"] and first["stamp"]
    assert first["holder_name"] == "Алия"
    again = got["the holder again, soon after"]
    assert again["created"] and not again["first_reply"] and not again["stamp"]
    assert got["a caller that checked the sender itself"]["created"]
    for refused in (
        "a grant that no longer holds",
        "another operator's chat",
        "a chat nobody holds",
    ):
        assert not got[refused]["created"] and got[refused]["stored"] == [], refused
    assert got["another operator's chat"]["holder_name"] == "Рустем"
    assert got["a chat nobody holds"]["holder"] is None
    retry = got["a retry of a stored message"]
    assert not retry["created"] and retry["message"] == ("operator", "Было", False)
    assert got["a chat that does not exist"] == {"result": None}


def test_a_chat_named_in_capitals_or_without_dashes_gets_the_message(healthy, operators):
    # The frame's spelling of the chat's id; the lock order is its canonical form.
    from support.actions import do_post_operator_message

    sender, _ = operators
    now = timezone.now()
    for spell in (lambda u: str(u).upper(), lambda u: u.hex):
        prepared = _prepare(Case("spelled"), sender, sender, now)
        assert prepared.session is not None
        posted = async_to_sync(do_post_operator_message)(
            operator_id=sender.pk,
            session_id=spell(prepared.session.public_id),
            client_id=new_client_id(),
            text="Добрый день",
            session_key=None,
            grant=None,
        )
        assert posted.created
        assert prepared.session.messages.filter(author=ChatMessage.Author.OPERATOR).count() == 1
