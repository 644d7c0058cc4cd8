"""The AI first line: turns an AIRequest into an AIAnswer.

Native async; runs in the chat's answer task, never inside a DB thread.
One answer is up to AI_MAX_TOOL_ROUNDS + 1 model turns: the model may call
tools (tours, policy, the visitor's bookings, handoff) and then answers
from their results. Every turn goes through `ai.fallback` (retries, model
fallback, circuit breakers) under one deadline for the whole answer.

Whatever happens the visitor gets an answer: the model's; its cut-off
start plus a notice (source "partial"); a polite refusal when moderation
flagged the message; or the knowledge-base answer of `ai.offline`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from ai import client, fallback, knowledge, offline, prompt, tools
from ai.errors import AIError, Moderated, ToolsUnsupported
from ai.types import AIAnswer, AIRequest, SupportLine

logger = logging.getLogger(__name__)

OnText = client.OnText
# What asking for an operator would do now (chat/ai_reply.py reads it).
SupportProbe = Callable[[], Awaitable[SupportLine]]

# Models OpenRouter said cannot call tools (404/400 "tool use not supported"),
# learned at run time in this process; AI_MODELS_WITHOUT_TOOLS is the static list.
_models_without_tools: set[str] = set()


def plan_models() -> tuple[bool, list[str]]:
    """(use tools?, models to ask): tool-capable models when tools are on."""
    models = list(settings.AI_MODELS)
    if not settings.AI_TOOLS_ENABLED:
        return False, models
    excluded = set(settings.AI_MODELS_WITHOUT_TOOLS) | _models_without_tools
    capable = [m for m in models if m not in excluded]
    return (True, capable) if capable else (False, models)


class _Answer:
    """The state of one answer across its turns."""

    def __init__(
        self, request: AIRequest, on_text: OnText, support: SupportProbe | None = None
    ) -> None:
        self.request = request
        self.on_text = on_text
        self.support = support
        self.loop = asyncio.get_running_loop()
        self.started = time.monotonic()
        self.started_loop = self.loop.time()
        self.deadline = self.started_loop + settings.AI_TOTAL_TIMEOUT
        self.progress = client.Progress()
        self.parts: list[str] = []
        self.first_text_at: float | None = None
        self.turn_has_text = False
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost: Decimal | None = None
        self.model = ""
        self.generation_id = ""
        self.attempts = 0
        self.fallback_used = False
        self.tool_run = tools.ToolRun(user_id=request.user_id)
        self.found = knowledge.Knowledge()
        self.mode = "tools"
        self.user = client.visitor_id(
            session_public_id=request.session_public_id, user_id=request.user_id
        )

    # --- streaming to the visitor ------------------------------------------------

    async def emit(self, piece: str) -> None:
        if not self.turn_has_text and self.parts and not self.parts[-1][-1:].isspace():
            # Text of an earlier turn ("Сейчас посмотрю…") and this turn's answer.
            self.parts.append("\n\n")
            await self.on_text("\n\n")
        self.turn_has_text = True
        if self.first_text_at is None:
            self.first_text_at = self.loop.time()
        self.parts.append(piece)
        await self.on_text(piece)

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    # --- budget -------------------------------------------------------------------

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def budget_left(self) -> int:
        return settings.AI_SESSION_TOKEN_BUDGET - self.request.tokens_used - self.tokens

    def max_tokens(self) -> int:
        return max(16, min(settings.AI_MAX_TOKENS, self.budget_left()))

    # --- the turns ------------------------------------------------------------------

    def payload(
        self, messages: list[dict[str, Any]], models: list[str], *, use_tools: bool, final: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": models[0],
            "models": models,
            "messages": messages,
            "max_tokens": self.max_tokens(),
            "stream": settings.AI_STREAM,
            "user": self.user,
            "usage": {"include": True},
        }
        if use_tools:
            body["tools"] = tools.TOOLS
            # The last turn must answer in words, whatever the model wants.
            body["tool_choice"] = "none" if final else "auto"
            # Only providers that honour `tools`, never one silently dropping them.
            body["provider"] = {"require_parameters": True}
        return body

    def account(self, result: fallback.TurnResult) -> None:
        completion = result.completion
        self.attempts += result.attempts
        self.fallback_used = self.fallback_used or result.fallback_used
        self.model = completion.model or self.model
        self.generation_id = completion.generation_id or self.generation_id
        if completion.usage is not None:
            self.prompt_tokens += completion.usage.prompt_tokens
            self.completion_tokens += completion.usage.completion_tokens
            if completion.usage.cost is not None:
                self.cost = (self.cost or Decimal(0)) + completion.usage.cost

    async def run(
        self, found: knowledge.Knowledge, *, use_tools: bool, models: list[str]
    ) -> AIAnswer:
        self.found = found
        self.mode = "tools" if use_tools else "context"
        messages = prompt.build_messages(
            self.request,
            found,
            tools=use_tools,
            places=await prompt.catalogue_places(self.request.knowledge_stamp),
        )
        rounds = settings.AI_MAX_TOOL_ROUNDS if use_tools else 0
        for round_no in range(rounds + 1):
            final = round_no >= rounds or self.budget_left() <= 0
            self.turn_has_text = False
            result = await fallback.complete_turn(
                partial(self.payload, messages, use_tools=use_tools, final=final),
                models=models,
                on_text=self.emit,
                deadline=self.deadline,
                progress=self.progress,
            )
            self.account(result)
            calls = result.completion.tool_calls
            if not (calls and use_tools and not final):
                if calls:
                    logger.info("ignoring %d tool calls on the last turn", len(calls))
                break
            assistant: dict[str, Any] = {
                "role": "assistant",
                "content": result.completion.text or None,
                "tool_calls": [call.as_message() for call in calls],
            }
            if result.completion.reasoning_details:
                # OpenRouter: pass reasoning blocks back unchanged with the tool
                # calls, or a reasoning model loses (or refuses) its chain of thought.
                assistant["reasoning_details"] = result.completion.reasoning_details
            messages.append(assistant)
            for index, call in enumerate(calls):
                if index < tools.MAX_CALLS_PER_TURN:
                    output = await tools.execute(call, self.tool_run)
                else:
                    output = {"error": "too_many_tool_calls"}
                if call.name == "handoff_to_operator" and self.support is not None:
                    # The words must follow what will happen: queued (and where),
                    # or nobody to answer (then the form for a contact).
                    output = handoff_result(await self.support())
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.id,
                        "name": call.name,
                        "content": json.dumps(output, ensure_ascii=False, default=str),
                    }
                )
        if not self.text:
            return await self.offline(offline.Reason.UNAVAILABLE, "empty_answer")
        return self.result(self.text, source="model")

    # --- the answer ---------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        tour_slugs = [self.request.tour.slug] if self.request.tour else []
        tour_slugs += self.found.tour_slugs + self.tool_run.tour_slugs
        meta: dict[str, Any] = {
            "mode": self.mode,
            "tools": list(self.tool_run.names),
            "faq_ids": list(dict.fromkeys(self.found.faq_ids + self.tool_run.faq_ids)),
            "tour_slugs": list(dict.fromkeys(tour_slugs)),
            "attempts": self.attempts,
        }
        if self.tool_run.handoff:
            meta["handoff"] = True
            meta["handoff_reason"] = self.tool_run.handoff_reason
        if self.tool_run.booking_proposals:
            meta["booking_proposals"] = list(self.tool_run.booking_proposals)
        return meta

    def result(self, text: str, *, source: str, error: str = "") -> AIAnswer:
        first = self.first_text_at or self.progress.first_token_at
        return AIAnswer(
            text=text,
            source=source,  # type: ignore[arg-type]
            model=self.model,
            generation_id=self.generation_id,
            latency_ms=int((time.monotonic() - self.started) * 1000),
            first_token_ms=int((first - self.started_loop) * 1000) if first else None,
            prompt_tokens=self.prompt_tokens or None,
            completion_tokens=self.completion_tokens or None,
            cost=self.cost,
            fallback_used=self.fallback_used,
            error=error,
            meta=self.meta(),
        )

    async def cut_short(self, error: AIError) -> AIAnswer:
        """Keep what the visitor already read, say it was cut, offer a retry or a person."""
        notice = _(
            "(The answer was interrupted. Ask again, or write “call an operator” and a "
            "person will help you.)"
        )
        await self.emit("\n\n" + notice)
        return self.result(self.text, source="partial", error=error.summary())

    async def refusal(self, error: AIError) -> AIAnswer:
        text = _(
            "Sorry, I cannot answer this message: it did not pass the automatic content "
            "check. Please rephrase it, or ask for an operator."
        )
        await self.emit(text)
        answer = self.result(text, source="offline", error=error.summary())
        answer.meta["moderated"] = True
        return answer

    async def offline(self, reason: offline.Reason, error: str) -> AIAnswer:
        answer = await offline.answer(
            self.request,
            on_text=self.emit,
            reason=reason,
            started=self.started,
            error=error,
            fallback_used=reason is offline.Reason.UNAVAILABLE,
            meta={"mode": self.mode, "tools": list(self.tool_run.names)},
        )
        # Tokens spent on turns before the failure still count against the budget.
        answer.prompt_tokens = self.prompt_tokens or None
        answer.completion_tokens = self.completion_tokens or None
        answer.cost = self.cost
        answer.model = self.model
        if self.tool_run.handoff:
            answer.meta["handoff"] = True
            answer.meta["handoff_reason"] = self.tool_run.handoff_reason
        return answer


def handoff_result(line: SupportLine) -> dict[str, Any]:
    """The handoff tool's result for the model: what asking for a person does now."""
    if line.status == "operator":
        return {
            "handoff": True,
            "status": "with_operator",
            "detail": "An operator already holds this chat and will answer here.",
        }
    if line.status in {"queued", "pending"}:
        return {
            "handoff": True,
            "status": "queued",
            "queue_position": line.position,
            "detail": (
                "The chat is in the operator queue at this position. Tell the visitor "
                "an operator will answer here in this chat, and their place in the queue."
            ),
        }
    return {
        "handoff": False,
        "status": line.reason or "no_operators",
        "working_hours": line.working_hours,
        "detail": (
            "No operator can take the chat now"
            + (f" (operators work {line.working_hours})" if line.working_hours else "")
            + ". Do not promise that a person will answer. Ask the visitor to leave their "
            "name, phone or e-mail and their question in the form shown under this "
            "message; the team will get back to them. Keep helping meanwhile."
        ),
    }


async def answer(
    request: AIRequest, *, on_text: OnText, support: SupportProbe | None = None
) -> AIAnswer:
    """The visitor's answer; `support` tells what a handoff would do (None: not asked)."""
    current = _Answer(request, on_text, support)
    if not settings.OPENROUTER_API_KEY or not settings.AI_MODELS:
        return await offline.answer(
            request, on_text=on_text, reason=offline.Reason.NOT_CONFIGURED, started=current.started
        )
    if current.budget_left() <= 0:
        return await offline.answer(
            request, on_text=on_text, reason=offline.Reason.BUDGET, started=current.started
        )
    use_tools, models = plan_models()
    question = prompt.pending_question(request)
    found = await knowledge.gather_soon(
        question,
        stamp=request.knowledge_stamp,
        with_tours=not use_tools,
        faq_limit=settings.AI_FAQ_IN_PROMPT,
    )
    if not use_tools:
        # "а сколько стоит?" after "расскажи про свияжск": the tours in the prompt are
        # the trip the conversation is on, not the catalogue's soonest. (With tools
        # the model searches itself, with the history in front of it.)
        question, found = await offline.read_in_context(
            request, question, found, faq_limit=settings.AI_FAQ_IN_PROMPT
        )
    try:
        try:
            return await current.run(found, use_tools=use_tools, models=models)
        except ToolsUnsupported as error:
            logger.warning(
                "no tool calling for %s, enriching the prompt instead: %s", models, error
            )
            _models_without_tools.update(models)
            found = await knowledge.gather_soon(
                question,
                stamp=request.knowledge_stamp,
                with_tours=True,
                faq_limit=settings.AI_FAQ_IN_PROMPT,
            )
            return await current.run(found, use_tools=False, models=list(settings.AI_MODELS))
    except fallback.PartialAnswer as failure:
        return await current.cut_short(failure.error)
    except Moderated as error:
        return await current.refusal(error)
    except AIError as error:
        return await current.offline(offline.Reason.UNAVAILABLE, error.summary())
