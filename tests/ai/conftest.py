"""AI tests: chats built through the chat actions, answers against the fake OpenRouter."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from ai import agent, prompt
from ai.breaker import breakers
from ai.types import AIAnswer, AIRequest
from chat import actions
from chat.publish import run_action
from tests.factories import new_client_id
from tours.demo import load_demo_tours
from tours.demo_faq import load_demo_faq
from tours.models import Tour

MODELS = ["openai/gpt-4", "meta-llama/llama-3.1-8b-instruct"]


@pytest.fixture(autouse=True)
def _fresh_ai_state(settings: Any) -> Iterator[None]:
    settings.AI_MODELS = list(MODELS)
    settings.AI_MODELS_WITHOUT_TOOLS = []
    # Small waits so retries do not slow the suite; tests that pin waits set their own.
    settings.AI_BACKOFF_BASE = 0.01
    breakers.reset()
    agent._models_without_tools.clear()
    prompt.forget_catalogue_places()  # each test has its own catalogue
    yield
    breakers.reset()
    agent._models_without_tools.clear()


@pytest.fixture
def faq(transactional_db: None) -> None:
    load_demo_faq()


def coming_day(month: int, day: int = 15) -> date:
    """A date in the coming `month` that is still ahead of today."""
    today = timezone.localdate()
    year = today.year if month >= today.month else today.year + 1
    candidate = date(year, month, day)
    if candidate <= today:
        candidate = today + timedelta(days=1)
        if candidate.month != month:
            candidate = date(year + 1, month, day)
    return candidate


async def start_chat(
    *messages: str, tour: Tour | None = None, user_id: int | None = None
) -> AIRequest:
    """A visitor's chat through the actions, with `messages` waiting for an answer."""
    registration = await run_action(
        actions.register_visitor,
        token=None,
        tour_slug=tour.slug if tour else None,
        user_id=user_id,
        client_ip="127.0.0.1",
    )
    for text in messages:
        await run_action(
            actions.post_visitor_message,
            session_pk=registration.session.pk,
            client_id=new_client_id(),
            text=text,
        )
    request = await run_action(actions.prepare_ai_reply, registration.session.pk)
    assert request is not None
    return request


@dataclass
class Streamed:
    """What `on_text` received: what the visitor saw, piece by piece."""

    pieces: list[str] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, piece: str) -> None:
        self.pieces.append(piece)
        self.started.set()

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@pytest.fixture
async def offline_demo(settings: Any, transactional_db: None) -> None:
    """The demo catalogue and FAQ as of today, answered by the offline answerer."""
    settings.OPENROUTER_API_KEY = ""
    await sync_to_async(load_demo_tours)(timezone.localdate())
    await sync_to_async(load_demo_faq)()


async def converse(*turns: str) -> list[AIAnswer]:
    """Each turn asked and answered in one chat off any tour page, as a visitor would
    (through the actions: stored, so the next turn has the history); the answers."""
    registration = await run_action(
        actions.register_visitor, token=None, tour_slug=None, user_id=None, client_ip="127.0.0.1"
    )
    session_pk = registration.session.pk
    answers = []
    for text in turns:
        await run_action(
            actions.post_visitor_message,
            session_pk=session_pk,
            client_id=new_client_id(),
            text=text,
        )
        request = await run_action(actions.prepare_ai_reply, session_pk)
        assert request is not None
        result = await agent.answer(request, on_text=Streamed())
        await run_action(
            actions.store_ai_answer, session_pk=session_pk, reply_to=request.reply_to, answer=result
        )
        answers.append(result)
    return answers


async def answer(request: AIRequest) -> tuple[AIAnswer, Streamed]:
    streamed = Streamed()
    result = await agent.answer(request, on_text=streamed)
    return result, streamed
