"""Deadlines: first token, whole answer; and a cancelled answer closes the upstream stream."""

from __future__ import annotations

import asyncio

import pytest

from ai import agent
from tests.ai.conftest import MODELS, Streamed, answer, start_chat
from tests.fakes.openrouter import Failure, Reply, ToolCall

pytestmark = pytest.mark.django_db(transaction=True)


async def test_keepalives_alone_hit_the_first_token_timeout_and_fall_back(
    fake_openrouter, settings
):
    # Long enough for the second model to answer on a loaded machine.
    settings.AI_FIRST_TOKEN_TIMEOUT = 2.0
    fake_openrouter.keepalive_interval = 0.05  # keep-alives keep httpx's read timeout happy
    fake_openrouter.fail_next(Failure.keepalives_only(seconds=30))
    result, _ = await answer(await start_chat("Привет"))
    first, second = fake_openrouter.completions
    assert result.source == "model"
    assert result.model == MODELS[1]
    assert second.json["model"] == MODELS[1]
    fake_openrouter.wait_until(lambda: first.client_closed)


async def test_first_token_timeout_everywhere_ends_offline(fake_openrouter, settings):
    settings.AI_FIRST_TOKEN_TIMEOUT = 0.3
    settings.AI_MAX_ATTEMPTS = 2
    fake_openrouter.fail_next(Failure.keepalives_only(seconds=30), times=5)
    result, _ = await answer(await start_chat("Привет"))
    assert len(fake_openrouter.completions) == 2
    assert result.source == "offline"
    assert result.error.startswith("first_token_timeout")


async def test_total_timeout_after_text_keeps_the_partial_answer(fake_openrouter, settings):
    settings.AI_TOTAL_TIMEOUT = 2.5
    fake_openrouter.tokens_per_second = 2  # ~20 words: far longer than the deadline
    result, _ = await answer(await start_chat("Расскажите про Елабугу"))
    assert result.source == "partial"
    assert result.error.startswith("total_timeout")
    assert result.text.startswith("Вы спросили:")
    assert len(fake_openrouter.completions) == 1


async def test_cancelled_answer_closes_the_upstream_stream(fake_openrouter):
    fake_openrouter.tokens_per_second = 5
    request = await start_chat("Расскажите про Болгар")
    streamed = Streamed()
    task = asyncio.create_task(agent.answer(request, on_text=streamed))
    await asyncio.wait_for(streamed.started.wait(), 10)  # the stream is flowing
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    recorded = fake_openrouter.last
    fake_openrouter.wait_until(lambda: recorded.client_closed, timeout=10)


async def test_each_turn_of_a_tool_round_gets_its_own_first_token_deadline(
    fake_openrouter, settings
):
    """A later turn streaming longer than the first-token timeout is not cut by it."""
    settings.AI_FIRST_TOKEN_TIMEOUT = 0.8
    words = " ".join(["слово"] * 12)
    fake_openrouter.script(
        Reply(tool_calls=[ToolCall("get_booking_policy", {})]),
        Reply(text=words),
    )
    fake_openrouter.tokens_per_second = 8  # the second turn streams for ~1.5 s
    result, _ = await answer(await start_chat("Как отменить бронь?"))
    assert result.source == "model"
    assert result.text == words
    assert len(fake_openrouter.completions) == 2
