"""Retries and model fallback: which failures are retried, in what order, how long we wait."""

from __future__ import annotations

import logging

import pytest

from tests.ai.conftest import MODELS, answer, start_chat
from tests.fakes.openrouter import Failure

pytestmark = pytest.mark.django_db(transaction=True)


async def test_openrouter_models_list_answers_with_the_second_model(fake_openrouter):
    fake_openrouter.fail_model(MODELS[0], Failure.unavailable(503))
    result, _ = await answer(await start_chat("Привет"))
    assert result.source == "model"
    assert result.model == MODELS[1]
    assert result.fallback_used is True
    request = fake_openrouter.last
    assert request.json["model"] == MODELS[0]
    assert request.json["models"] == MODELS
    assert len(fake_openrouter.completions) == 1  # OpenRouter fell back, not us


async def test_whole_request_failing_is_retried_starting_with_the_next_model(fake_openrouter):
    fake_openrouter.fail_next(Failure.unavailable(502))
    result, _ = await answer(await start_chat("Привет"))
    first, second = fake_openrouter.completions
    assert first.json["models"] == MODELS
    assert second.json["model"] == MODELS[1]
    assert second.json["models"] == [MODELS[1], MODELS[0]]
    assert result.model == MODELS[1]
    assert result.fallback_used is True
    assert result.meta["attempts"] == 2


@pytest.mark.parametrize(
    "failure",
    [
        Failure.unavailable(503),
        Failure.rate_limited(retry_after=None),
        Failure("status", 524, "A timeout occurred", 524),
        Failure("status", 529, "Provider overloaded", 529),
        Failure("status", 408, "Request timeout", 408),
    ],
    ids=["503", "429", "524", "529", "408"],
)
async def test_transient_statuses_are_retried(fake_openrouter, failure):
    fake_openrouter.fail_next(failure)
    result, _ = await answer(await start_chat("Привет"))
    assert result.source == "model"
    assert len(fake_openrouter.completions) == 2


async def test_unavailable_marked_not_retryable_is_not_retried(fake_openrouter):
    fake_openrouter.fail_next(Failure.unavailable(503, retryable=False))
    result, _ = await answer(await start_chat("Привет"))
    assert result.source == "offline"
    assert len(fake_openrouter.completions) == 1


async def test_retry_after_is_honoured(fake_openrouter, settings):
    settings.AI_RETRY_AFTER_CAP = 5
    fake_openrouter.fail_next(Failure.rate_limited(retry_after=1))
    result, _ = await answer(await start_chat("Привет"))
    first, second = fake_openrouter.completions
    assert result.source == "model"
    assert second.received_at - first.received_at >= 1.0


async def test_retry_after_is_capped_for_a_live_chat(fake_openrouter, settings):
    settings.AI_RETRY_AFTER_CAP = 0.5
    fake_openrouter.fail_next(Failure.rate_limited(retry_after=120))
    result, _ = await answer(await start_chat("Привет"))
    first, second = fake_openrouter.completions
    assert result.source == "model"
    assert 0.5 <= second.received_at - first.received_at < 30


async def test_attempts_are_bounded(fake_openrouter, settings):
    settings.AI_MAX_ATTEMPTS = 3
    fake_openrouter.fail_next(Failure.unavailable(503), times=10)
    result, _ = await answer(await start_chat("Какие туры есть в июне?"))
    assert len(fake_openrouter.completions) == 3
    assert result.source == "offline"  # the knowledge base answers instead
    assert result.fallback_used is True
    assert result.error.startswith("unavailable 503")


async def test_wrong_key_is_not_retried_and_is_logged(fake_openrouter, settings, caplog):
    settings.OPENROUTER_API_KEY = "revoked-key"
    with caplog.at_level(logging.ERROR, logger="ai.fallback"):
        result, _ = await answer(await start_chat("Привет"))
    assert len(fake_openrouter.completions) == 1
    assert result.source == "offline"
    assert result.error.startswith("auth 401")
    assert any("check the key" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (Failure.no_credits(), "no_credits 402"),
        (Failure.bad_request("context too long"), "bad_request 400"),
        (Failure("status", 413, "Payload too large", 413), "bad_request 413"),
        (Failure("status", 422, "Unprocessable", 422), "bad_request 422"),
        (Failure.not_found("Model not found"), "bad_request 404"),
    ],
    ids=["402", "400", "413", "422", "404"],
)
async def test_client_errors_are_not_retried(fake_openrouter, failure, kind):
    fake_openrouter.fail_next(failure)
    result, _ = await answer(await start_chat("Привет"))
    assert len(fake_openrouter.completions) == 1
    assert result.source == "offline"
    assert result.error.startswith(kind)


async def test_moderation_refusal_is_polite_and_not_retried(fake_openrouter):
    fake_openrouter.fail_next(Failure.moderation(["harassment"]))
    result, streamed = await answer(await start_chat("какой-то грубый текст"))
    assert len(fake_openrouter.completions) == 1
    assert result.text.startswith("Извините, я не могу ответить на это сообщение")
    assert "оператора" in result.text
    assert streamed.text == result.text
    assert result.meta["moderated"] is True
    assert result.error.startswith("moderation 403")
