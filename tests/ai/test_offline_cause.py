"""The offline answer's notice names its real cause, decided by the agent."""

from __future__ import annotations

import pytest

from ai.breaker import breakers
from tests.ai.conftest import MODELS, answer, start_chat
from tests.fakes.openrouter import Failure

pytestmark = pytest.mark.django_db(transaction=True)

NOT_CONFIGURED = "(Автоматический ответ по каталогу и FAQ сайта.)"
FAILING = "(Автоматический ответ: ИИ-ассистент сейчас недоступен.)"
LIMIT = "(Автоматический ответ: лимит ИИ-ассистента в этом чате исчерпан.)"


async def test_no_key_configured_says_it_is_the_catalogue_answering(settings):
    settings.OPENROUTER_API_KEY = ""
    result, _ = await answer(await start_chat("Как оплатить тур?"))
    assert result.meta["offline_reason"] == "not_configured"
    assert result.text.endswith(NOT_CONFIGURED)


@pytest.mark.parametrize("how", ["erroring", "every_breaker_open"])
async def test_every_model_failing_says_the_assistant_is_unavailable(fake_openrouter, how):
    if how == "erroring":
        fake_openrouter.fail_next(Failure.unavailable(503), times=10)
    else:
        for model in MODELS:
            for _ in range(10):
                breakers.record_failure(model)
    result, _ = await answer(await start_chat("Как оплатить тур?"))
    assert result.meta["offline_reason"] == "unavailable"
    assert result.text.endswith(FAILING)


async def test_the_chats_spent_limit_says_so(fake_openrouter, settings):
    settings.AI_SESSION_TOKEN_BUDGET = 0
    result, _ = await answer(await start_chat("Как оплатить тур?"))
    assert fake_openrouter.completions == []
    assert result.meta["offline_reason"] == "token_budget"
    assert result.text.endswith(LIMIT)
