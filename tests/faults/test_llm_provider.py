"""The LLM provider slow, erroring or cut mid-stream, through a real daphne:
fallback to the next model, then the offline answerer; the visitor always
gets an answer (and the typing indicator always ends)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chat.models import ChatMessage
from tests.fakes.openrouter import Failure, FakeOpenRouter, Replay, chunk, sse
from tests.faults.infra import ChatClient, app_failures
from tests.servers import ServerProcess, start_daphne_with_model

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

FIRST, SECOND = "openai/gpt-4", "meta-llama/llama-3.1-8b-instruct"


@pytest.fixture
def model() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter(api_key="test-key", tokens_per_second=400) as fake:
        yield fake


@pytest.fixture
def server(model: FakeOpenRouter) -> Iterator[ServerProcess]:
    process = start_daphne_with_model(
        model.base_url,
        AI_MODELS=f"{FIRST},{SECOND}",
        AI_FIRST_TOKEN_TIMEOUT="1.5",
        AI_TOTAL_TIMEOUT="12",
        AI_MAX_ATTEMPTS="2",
        AI_RETRY_AFTER_CAP="0.2",
        AI_BACKOFF_BASE="0.05",
    )
    yield process
    process.stop()
    assert app_failures(process.log()) == []


def slow_first_model(fake: FakeOpenRouter) -> None:
    fake.fail_model(FIRST, Failure.keepalives_only(60))


def every_model_erroring(fake: FakeOpenRouter) -> None:
    fake.fail_model(FIRST, Failure.unavailable(503))
    fake.fail_model(SECOND, Failure.unavailable(502))


def every_model_silent(fake: FakeOpenRouter) -> None:
    fake.fail_model(FIRST, Failure.keepalives_only(60))
    fake.fail_model(SECOND, Failure.keepalives_only(60))


def error_mid_stream(fake: FakeOpenRouter) -> None:
    fake.fail_next(Failure.midstream(after_chunks=3))


def connection_reset_mid_stream(fake: FakeOpenRouter) -> None:
    fake.fail_next(Failure.reset(after_chunks=2))


def stream_ends_without_done(fake: FakeOpenRouter) -> None:
    fake.fail_next(Failure.cut(after_chunks=2))


def http_200_carrying_an_error(fake: FakeOpenRouter) -> None:
    fake.fail_next(Failure.error_200(), times=4)


@pytest.mark.parametrize(
    "breakage",
    [
        slow_first_model,
        every_model_erroring,
        every_model_silent,
        error_mid_stream,
        connection_reset_mid_stream,
        stream_ends_without_done,
        http_200_carrying_an_error,
    ],
)
async def test_the_visitor_always_gets_an_answer(
    server, model, breakage: Callable[[FakeOpenRouter], None]
):
    breakage(model)
    client = ChatClient()
    await client.connect(server.ws_url, server.port)
    client_id = await client.send_message("Какие туры есть в июне?")
    ack = await client.outcome(client_id)
    assert ack["type"] == "message_ack"

    response = await client.expect("ai_response", timeout=40)
    assert response["reply_to"] == ack["id"]
    assert response["message"].strip()
    assert response["source"] in {"model", "offline", "partial"}
    typing_off = await client.expect("ai_typing", timeout=10)
    assert typing_off["typing"] is False
    stored = await ChatMessage.objects.aget(id=response["id"])
    assert stored.text == response["message"]
    await client.close()


async def answer_to(server: ServerProcess, question: str) -> dict[str, Any]:
    """A new visitor asks `question`; the `ai_response` they get."""
    client = ChatClient()
    await client.connect(server.ws_url, server.port)
    await client.send_message(question)
    try:
        return await client.expect("ai_response", timeout=40)
    finally:
        await client.close()


async def test_a_slow_first_model_falls_back_to_the_second(server, model):
    slow_first_model(model)
    response = await answer_to(server, "Сколько стоит тур в Казань?")
    stored = await ChatMessage.objects.aget(id=response["id"])
    assert stored.ai_source == "model"
    assert stored.ai_model == SECOND
    assert stored.ai_fallback_used


async def test_every_model_down_means_the_offline_answer(server, model):
    every_model_erroring(model)
    response = await answer_to(server, "Как вернуть деньги за тур?")
    assert response["source"] == "offline"


async def test_the_model_answers_again_within_seconds_of_its_recovery(model):
    """#14 item 7: an open breaker is probed early, not after a long cooldown."""
    process = start_daphne_with_model(
        model.base_url,
        AI_MODELS=f"{FIRST},{SECOND}",
        AI_MAX_ATTEMPTS="1",
        AI_BREAKER_FAILURES="1",
        AI_BREAKER_PROBE_INTERVAL="1",
    )
    try:
        every_model_erroring(model)
        assert (await answer_to(process, "Как вернуть деньги за тур?"))["source"] == "offline"
        model.heal_model(FIRST)
        model.heal_model(SECOND)
        healed = time.monotonic()
        while (await answer_to(process, "Какие туры есть в июне?"))["source"] != "model":
            assert time.monotonic() - healed < 5, "the model was not used again within 5 s"
        assert time.monotonic() - healed < 3.5
    finally:
        process.stop()
    assert app_failures(process.log()) == []


async def test_line_separators_in_the_stream_reach_the_visitor_intact(server, model):
    """#13: U+2028/U+2029 inside a JSON string are not SSE line ends."""
    text = "Кремль\u2028и Кул-Шариф\u2029рядом."
    body = sse(chunk({"role": "assistant", "content": ""}), chunk({"content": text}),
               chunk({}, "stop"), "[DONE]")  # fmt: skip
    model.replay_next(Replay([body[i : i + 9] for i in range(0, len(body), 9)]))
    response = await answer_to(server, "Что посмотреть в Кремле?")
    assert response["source"] == "model"
    assert response["message"] == text
