"""The per-model circuit breaker: opens after repeated failures, probed early, closes on success."""

from __future__ import annotations

import asyncio

import pytest

from ai.breaker import breakers
from tests.ai.conftest import MODELS, answer, start_chat
from tests.fakes.openrouter import Failure

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quick_breaker(settings):
    settings.AI_BREAKER_FAILURES = 2
    settings.AI_BREAKER_PROBE_INTERVAL = 0.5


async def test_failing_model_is_skipped_once_its_breaker_opens(fake_openrouter, quick_breaker):
    fake_openrouter.fail_model(MODELS[0], Failure.unavailable(503))
    for _ in range(2):
        result, _ = await answer(await start_chat("Привет"))
        assert result.model == MODELS[1]  # OpenRouter fell back each time
    assert breakers.state(MODELS[0]) == "open"

    await answer(await start_chat("Привет ещё раз"))
    request = fake_openrouter.last
    assert request.json["model"] == MODELS[1]
    assert request.json["models"] == [MODELS[1]]  # the open model is not even offered


async def test_breaker_half_opens_after_cooldown_and_closes_on_success(
    fake_openrouter, quick_breaker
):
    fake_openrouter.fail_model(MODELS[0], Failure.unavailable(503))
    for _ in range(2):
        await answer(await start_chat("Привет"))
    assert breakers.state(MODELS[0]) == "open"

    fake_openrouter.heal_model(MODELS[0])
    await asyncio.sleep(0.6)  # past the probe interval
    assert breakers.state(MODELS[0]) == "half_open"
    result, _ = await answer(await start_chat("Снова привет"))
    assert fake_openrouter.last.json["model"] == MODELS[0]  # the trial request
    assert result.model == MODELS[0]
    assert breakers.state(MODELS[0]) == "closed"


async def test_failed_trial_opens_the_breaker_again(fake_openrouter, quick_breaker):
    fake_openrouter.fail_model(MODELS[0], Failure.unavailable(503))
    for _ in range(2):
        await answer(await start_chat("Привет"))
    await asyncio.sleep(0.6)
    await answer(await start_chat("Снова привет"))
    assert fake_openrouter.last.json["model"] == MODELS[0]
    assert breakers.state(MODELS[0]) == "open"


async def test_every_breaker_open_means_no_request_and_an_offline_answer(
    fake_openrouter, quick_breaker
):
    for model in MODELS:
        for _ in range(2):
            breakers.record_failure(model)
    result, _ = await answer(await start_chat("Какие туры есть в июне?"))
    assert fake_openrouter.completions == []
    assert result.source == "offline"
    assert result.error.startswith("circuit_open")


async def test_client_errors_do_not_open_the_breaker(fake_openrouter, quick_breaker):
    for _ in range(3):
        fake_openrouter.fail_next(Failure.bad_request())
        await answer(await start_chat("Привет"))
    assert breakers.state(MODELS[0]) == "closed"


async def test_with_every_breaker_open_the_next_probe_brings_the_model_back(
    fake_openrouter, quick_breaker
):
    for model in MODELS:
        for _ in range(2):
            breakers.record_failure(model)
    await asyncio.sleep(0.6)  # the model recovered meanwhile: a probe is due
    result, _ = await answer(await start_chat("Какие туры есть в июне?"))
    assert result.source == "model"
    assert breakers.state(fake_openrouter.last.json["model"]) == "closed"


async def test_one_probe_at_a_time_while_other_answers_skip_the_model(
    fake_openrouter, quick_breaker
):
    fake_openrouter.fail_model(MODELS[0], Failure.unavailable(503))
    for _ in range(2):
        await answer(await start_chat("Привет"))
    fake_openrouter.heal_model(MODELS[0])
    await asyncio.sleep(0.6)
    fake_openrouter.first_token_delay = 0.3  # the probe is still in flight for the second
    chats = [await start_chat("Первый"), await start_chat("Второй")]
    before = len(fake_openrouter.completions)
    await asyncio.gather(*(answer(chat) for chat in chats))
    primaries = sorted(r.json["model"] for r in fake_openrouter.completions[before:])
    assert primaries == sorted(MODELS)  # one probe; the other answer went to the fallback
    assert breakers.state(MODELS[0]) == "closed"
