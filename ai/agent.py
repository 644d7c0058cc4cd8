"""The AI first line: turns an AIRequest into an AIAnswer.

Native async; called from the chat's answer task, never from a DB thread.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from ai.types import AIAnswer, AIRequest

OnText = Callable[[str], Awaitable[None]]

SYSTEM_PROMPT = (
    "Ты — ассистент платформы «Туры по Татарстану». Помогаешь подобрать тур, "
    "объясняешь бронирование и оплату, рассказываешь о достопримечательностях. "
    "Отвечай вежливо и по делу, на русском языке. Если не знаешь ответа, предложи "
    "связаться с оператором."
)


async def answer(request: AIRequest, *, on_text: OnText) -> AIAnswer:
    if not settings.OPENROUTER_API_KEY:
        text = _(
            "The AI assistant is not configured on this site yet. "
            "Press “Call an operator” and a person will answer you."
        )
        await on_text(text)
        return AIAnswer(text=text, source="offline", error="no_api_key")
    started = time.monotonic()
    messages = [{"role": "system", "content": SYSTEM_PROMPT}] + [
        {"role": item.role, "content": item.text} for item in request.history
    ]
    async with httpx.AsyncClient(timeout=settings.AI_TOTAL_TIMEOUT) as client:
        response = await client.post(
            f"{settings.OPENROUTER_BASE_URL}/chat/completions",
            headers={"Authorization": f"Bearer {settings.OPENROUTER_API_KEY}"},
            json={
                "model": settings.AI_MODELS[0],
                "models": settings.AI_MODELS,
                "messages": messages,
                "max_tokens": settings.AI_MAX_TOKENS,
            },
        )
    body = response.json()
    text = body["choices"][0]["message"]["content"]
    await on_text(text)
    usage = body.get("usage") or {}
    return AIAnswer(
        text=text,
        source="model",
        model=body.get("model", ""),
        generation_id=body.get("id", ""),
        latency_ms=int((time.monotonic() - started) * 1000),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
    )
