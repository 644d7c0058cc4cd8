"""The AI answers of one moment as one statement (chat/message_rows.py,
`ai_answers_batch`): for each chat, the same row back and the same rows written
as its answer's statement alone (`ai_answer_statement`), and the same guard
against a second answer to one question."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from ai.types import AIAnswer
from chat import actions
from chat.message_rows import ai_answer_batch_row, ai_answer_statement
from chat.models import ChatMessage, ChatSession
from tatartours import async_db, group_commit
from tests.factories import new_client_id
from tests.servers import group_commit_busy, until_a_statement_waits_for_a_lock

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Case:
    """One chat in a given state, and the answer the AI finished for it."""

    name: str
    status: str = ChatSession.Status.AI
    answered_already: bool = False  # an AI answer to this question is stored
    answered_before_the_column: bool = False  # ... written without ai_answered_to


CASES = [
    Case("a chat with the AI"),
    Case("a closed chat", status=ChatSession.Status.CLOSED),
    Case("a chat an operator took", status=ChatSession.Status.OPERATOR),
    Case("a chat waiting for an operator", status=ChatSession.Status.PENDING),
    Case("a question another tab answered", answered_already=True),
    Case("a question answered before the column", answered_before_the_column=True),
]

ANSWER = {
    "author": ChatMessage.Author.AI,
    "text": "Ближайший тур в Свияжск — 12 декабря, 2 500 ₽.",
    "ai_source": "model",
    "ai_model": "test/model",
    "ai_generation_id": "gen-1",
    "ai_latency_ms": 812,
    "ai_first_token_ms": 204,
    "ai_prompt_tokens": 120,
    "ai_completion_tokens": 31,
    "ai_cost": Decimal("0.00012345"),
    "ai_fallback_used": True,
    "ai_error": "",
    "meta": {"tools": ["search_tours"], "faq_ids": [3]},
}


@dataclass
class Prepared:
    session: ChatSession
    question: ChatMessage
    sql: str
    params: dict[str, Any]


def _prepare(case: Case) -> Prepared:
    session = ChatSession.objects.create(
        token_hash=new_client_id(),
        token_expires_at=timezone.now() + timedelta(days=1),
        status=case.status,
    )
    question = ChatMessage.objects.create(
        session=session, author=ChatMessage.Author.VISITOR, text="Когда в Свияжск?"
    )
    if case.answered_already or case.answered_before_the_column:
        ChatMessage.objects.create(
            session=session, author=ChatMessage.Author.AI, text="Было", reply_to=question
        )
        if case.answered_already:
            ChatSession.objects.filter(pk=session.pk).update(ai_answered_to=question.pk)
    message = ChatMessage(session_id=session.pk, reply_to_id=question.pk, **ANSWER)
    sql, params = ai_answer_statement(message, tokens=151)
    return Prepared(session, question, sql, params)


def _outcome(prepared: Prepared, row: Any) -> dict[str, Any]:
    """What the caller and the database show, without the ids that differ between twins."""
    exists, pk, created_at, public_id = row
    session = ChatSession.objects.get(pk=prepared.session.pk)
    stored = list(
        session.messages.filter(author=ChatMessage.Author.AI)
        .order_by("id")
        .values(*ANSWER, "reply_to_id", "created_at")
    )
    return {
        "exists": exists,
        "stored": pk is not None,
        "row": (created_at == prepared.params["created_at"], public_id == session.public_id)
        if pk is not None
        else None,
        "messages": [
            {
                **m,
                "reply_to_id": m["reply_to_id"] == prepared.question.pk,
                "created_at": m["created_at"] == prepared.params["created_at"],
            }
            for m in stored
        ],
        "session": (
            session.status,
            session.ai_tokens_used,
            session.ai_answered_to == prepared.question.pk,
            session.last_activity_at == prepared.params["created_at"],
        ),
    }


async def _alone(prepared: list[Prepared]) -> list[Any]:
    rows = []
    for p in prepared:

        async def run(conn: async_db.Connection, sql: str = p.sql, params=p.params) -> Any:
            return await (await conn.execute(sql, params)).fetchone()

        rows.append(await async_db.run(run))
    return rows


async def _batched(prepared: list[Prepared]) -> list[Any]:
    parts = [ai_answer_batch_row(p.params) for p in prepared]
    return await async_db.run(lambda conn: group_commit.run_batch(conn, parts))


def _run(how: Callable[[list[Prepared]], Any], prepared: list[Prepared]) -> list[Any]:
    return async_to_sync(how)(prepared)


def test_each_chat_of_a_batch_gets_the_row_and_the_writes_of_its_statement_alone(healthy):
    alone = [_prepare(case) for case in CASES]
    batched = [_prepare(case) for case in CASES]
    # The batch's order is the group's lock order, not the cases' order.
    batched_rows = _run(_batched, batched[::-1])[::-1]
    alone_rows = _run(_alone, alone)
    pairs = zip(CASES, alone, alone_rows, batched, batched_rows, strict=True)
    for case, a, a_row, b, b_row in pairs:
        assert _outcome(b, b_row) == _outcome(a, a_row), case.name


def test_the_cases_cover_every_branch_of_the_statement(healthy):
    # Guards the comparison above against cases that all take the same path.
    prepared = [_prepare(case) for case in CASES]
    outcomes = {
        case.name: _outcome(p, row)
        for case, p, row in zip(CASES, prepared, _run(_batched, prepared), strict=True)
    }
    stored = {name for name, o in outcomes.items() if o["stored"]}
    assert stored == {"a chat with the AI", "a closed chat"}
    assert outcomes["a chat with the AI"]["session"] == (ChatSession.Status.AI, 151, True, True)
    assert outcomes["a chat with the AI"]["messages"][0]["meta"] == ANSWER["meta"]
    assert outcomes["a chat with the AI"]["messages"][0]["ai_cost"] == ANSWER["ai_cost"]
    assert outcomes["a closed chat"]["session"][0] == ChatSession.Status.AI
    assert outcomes["a chat an operator took"]["session"][0] == ChatSession.Status.OPERATOR
    assert outcomes["a chat an operator took"]["messages"] == []
    assert len(outcomes["a question another tab answered"]["messages"]) == 1
    assert len(outcomes["a question answered before the column"]["messages"]) == 1
    assert all(o["exists"] for o in outcomes.values())


def test_a_chat_that_does_not_exist_is_told_apart_and_the_others_are_stored(healthy):
    prepared = [_prepare(Case("here")), _prepare(Case("gone"))]
    prepared[1].session.delete()
    rows = _run(_batched, prepared)
    assert rows[1][:2] == (False, None)
    assert _outcome(prepared[0], rows[0])["stored"] is True


async def test_a_batch_waiting_for_a_row_sees_the_answer_committed_meanwhile(healthy):
    """Another generation's answer to the same question, in a transaction still
    open, holds one chat's row: the batch waits for it, then stores nothing for
    that chat and the others' answers."""
    racing, calm = [await asyncio.to_thread(_prepare, Case(name)) for name in ("racing", "calm")]
    other = await psycopg.AsyncConnection.connect(**async_db.connection_kwargs())
    watcher = await psycopg.AsyncConnection.connect(**async_db.connection_kwargs())
    first = ChatMessage(
        session_id=racing.session.pk,
        author=ChatMessage.Author.AI,
        text="Первый ответ",
        reply_to_id=racing.question.pk,
        ai_source="model",
    )
    try:
        await other.set_autocommit(False)
        await other.execute(*ai_answer_statement(first, tokens=0))
        late = asyncio.ensure_future(_batched([racing, calm]))
        await until_a_statement_waits_for_a_lock(watcher, timeout=10)
        await other.commit()
        rows = await late
    finally:
        await other.close()
        await watcher.close()
    assert rows[0][:2] == (True, None)
    assert rows[1][0] is True and rows[1][1] is not None
    texts = [
        m.text
        async for m in ChatMessage.objects.filter(
            session_id=racing.session.pk, author=ChatMessage.Author.AI
        )
    ]
    assert texts == ["Первый ответ"]


async def test_answers_of_several_chats_finished_at_one_moment_each_store_their_own(
    healthy, settings
):
    # One committer, busy: the five answers wait together and go as the next group.
    settings.ASYNC_DB_GROUP_COMMITTERS = 1
    prepared = [await asyncio.to_thread(_prepare, Case(f"chat {n}")) for n in range(5)]
    texts = [f"Ответ {n}" for n in range(5)]
    async with group_commit_busy(0x6A1B):
        storing = [
            asyncio.ensure_future(
                actions.do_store_ai_answer(
                    session_pk=p.session.pk,
                    session_public_id=str(p.session.public_id),
                    reply_to=p.question.pk,
                    answer=AIAnswer(text=text, source="model", prompt_tokens=10),
                )
            )
            for p, text in zip(prepared, texts, strict=True)
        ]
    stored = await asyncio.gather(*storing)
    for p, text, (message, events) in zip(prepared, texts, stored, strict=True):
        assert message is not None and message.text == text and events
        in_db = [
            (m.pk, m.text)
            async for m in ChatMessage.objects.filter(
                session_id=p.session.pk, author=ChatMessage.Author.AI
            )
        ]
        assert in_db == [(message.pk, text)]
        session = await ChatSession.objects.aget(pk=p.session.pk)
        assert (session.ai_answered_to, session.ai_tokens_used) == (p.question.pk, 10)
