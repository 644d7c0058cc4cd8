"""OpenRouter's wire format replayed byte for byte: the shapes its documentation describes.

Sources (docs/ai.md lists them): the API reference on streaming (comments,
mid-stream errors as `data:` events with `error` and finish_reason
"error"), errors and debugging (error bodies, codes), model fallbacks (the
answering model in `model`), reasoning tokens (`delta.reasoning`,
`reasoning_details` passed back with tool calls), provider routing
(`require_parameters` and its 404), the SSE spec's line endings, and what
openai-python and OpenRouter's SDKs do with repeated tool-call ids.
"""

from __future__ import annotations

import json
import time

import pytest

from ai.breaker import breakers
from tests.ai.conftest import MODELS, answer, start_chat
from tests.fakes.openrouter import Failure, Replay, chunk, sse

pytestmark = pytest.mark.django_db(transaction=True)


def pieces_of(data: bytes, size: int) -> list[bytes]:
    """The body cut into reads of `size` bytes: lines, CRLFs and UTF-8 split anywhere."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def text_stream(*texts: str, model: str = MODELS[0]) -> bytes:
    return sse(
        ": OPENROUTER PROCESSING",
        chunk({"role": "assistant", "content": ""}, model=model),
        *(chunk({"content": text}, model=model) for text in texts),
        chunk({}, "stop", model=model),
        "[DONE]",
    )


async def test_line_separators_inside_json_strings_do_not_cut_the_answer(fake_openrouter):
    texts = ["Кремль\u2028и мечеть", " Кул-Шариф\u2029", " рядом\u0085 с Казанкой."]
    body = text_stream(*texts).replace(b"\n\n", b"\r\n\r\n", 1)  # a CRLF event end too
    fake_openrouter.replay_next(Replay(pieces_of(body, 7)))
    result, streamed = await answer(await start_chat("Что посмотреть в Кремле?"))
    assert result.source == "model"
    assert result.text == "".join(texts).strip()
    assert streamed.text == "".join(texts)
    assert len(fake_openrouter.completions) == 1


async def test_line_separators_inside_tool_arguments_reach_the_tool_intact(fake_openrouter):
    arguments = json.dumps({"query": "Казань\u2028Кремль"}, ensure_ascii=False)
    call = {"index": 0, "id": "call_a", "type": "function"}
    body = sse(
        chunk(
            {"role": "assistant", "tool_calls": [{**call, "function": {"name": "search_tours"}}]}
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments[:12]}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments[12:]}}]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    )
    fake_openrouter.replay_next(Replay(pieces_of(body, 5)))
    result, _ = await answer(await start_chat("Туры по Казани"))
    assert result.source == "model"
    _, second = fake_openrouter.completions
    sent_back = second.messages[-2]["tool_calls"][0]["function"]["arguments"]
    assert sent_back == arguments
    assert second.messages[-1]["role"] == "tool"
    assert "error" not in json.loads(second.messages[-1]["content"])


async def test_no_endpoints_for_the_requested_parameters_retries_without_tools(fake_openrouter):
    fake_openrouter.fail_next(Failure.no_endpoints_for_parameters())
    result, _ = await answer(await start_chat("Какие туры есть в Свияжск?"))
    first, second = fake_openrouter.completions
    assert first.json.get("tools")
    assert "tools" not in second.json
    assert result.source == "model"
    assert result.meta["mode"] == "context"


async def test_the_answering_model_is_matched_by_its_exact_id_first(fake_openrouter, settings):
    settings.AI_MODELS = ["openai/gpt-4o", "openai/gpt-4o-mini"]
    settings.AI_BREAKER_FAILURES = 1
    fake_openrouter.fail_model("openai/gpt-4o", Failure.unavailable(503))
    result, _ = await answer(await start_chat("Привет"))
    assert result.model == "openai/gpt-4o-mini"
    assert result.fallback_used is True
    assert breakers.state("openai/gpt-4o") == "open"  # the primary's failure counted
    assert breakers.state("openai/gpt-4o-mini") == "closed"


def error_event(error: dict[str, object], *, in_choice: bool = False) -> dict[str, object]:
    event = chunk({"content": ""}, "error")
    if in_choice:
        event["choices"][0]["error"] = error
        return event
    return {**event, "error": error}


@pytest.mark.parametrize("code", [400, "context_length_exceeded"])
async def test_a_mid_stream_error_that_cannot_succeed_is_not_retried(fake_openrouter, code):
    message = "This model's maximum context length is 8192 tokens."
    body = sse(
        chunk({"role": "assistant", "content": ""}), error_event({"code": code, "message": message})
    )
    fake_openrouter.replay_next(Replay([body]))
    result, _ = await answer(await start_chat("Привет"))
    assert len(fake_openrouter.completions) == 1
    assert result.source == "offline"
    assert result.error.startswith("stream_error")
    assert "maximum context length" in result.error


async def test_an_error_inside_the_choice_keeps_its_code(fake_openrouter):
    body = sse(
        chunk({"role": "assistant", "content": ""}),
        error_event({"code": 400, "message": "Invalid tool schema"}, in_choice=True),
    )
    fake_openrouter.replay_next(Replay([body]))
    result, _ = await answer(await start_chat("Привет"))
    assert result.error.startswith("stream_error 400")
    assert len(fake_openrouter.completions) == 1  # a 400 is not retried


async def test_parallel_tool_calls_sharing_an_id_are_answered_one_by_one(fake_openrouter):
    def call(index: int, name: str, arguments: str) -> dict[str, object]:
        return {"index": index, "id": "call_1", "type": "function",
                "function": {"name": name, "arguments": arguments}}  # fmt: skip

    body = sse(
        chunk({"role": "assistant", "tool_calls": [call(0, "get_booking_policy", "{}")]}),
        chunk({"tool_calls": [call(1, "search_tours", '{"month": 6}')]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    )
    fake_openrouter.replay_next(Replay([body]))
    result, _ = await answer(await start_chat("Правила брони и туры в июне?"))
    assert result.source == "model"
    _, second = fake_openrouter.completions
    assistant = second.messages[-3]
    ids = [c["id"] for c in assistant["tool_calls"]]
    assert len(set(ids)) == 2
    assert [m["tool_call_id"] for m in second.messages[-2:]] == ids
    assert [m["name"] for m in second.messages[-2:]] == ["get_booking_policy", "search_tours"]


async def test_reasoning_before_the_first_token_keeps_the_answer_alive(fake_openrouter, settings):
    settings.AI_FIRST_TOKEN_TIMEOUT = 0.6
    thinking = [chunk({"role": "assistant", "content": "", "reasoning": "Думаю… "})] * 5
    body = [sse(event) for event in thinking]
    body.append(sse(chunk({"content": "Туры в Болгар есть в мае."}), chunk({}, "stop"), "[DONE]"))
    fake_openrouter.replay_next(Replay(body, gap=0.3))  # 1.5 s of reasoning, no text
    result, _ = await answer(await start_chat("Есть туры в Болгар?"))
    assert len(fake_openrouter.completions) == 1
    assert result.source == "model"
    assert result.text == "Туры в Болгар есть в мае."
    assert "Думаю" not in result.text  # reasoning is never shown to the visitor


async def test_reasoning_details_are_sent_back_with_the_tool_calls(fake_openrouter):
    detail = {"type": "reasoning.text", "format": "anthropic-claude-v1", "index": 0}
    call = {"index": 0, "id": "toolu_1", "type": "function",
            "function": {"name": "get_booking_policy", "arguments": "{}"}}  # fmt: skip
    body = sse(
        chunk({"role": "assistant", "content": "", "reasoning": "Нужно ",
               "reasoning_details": [{**detail, "text": "Нужно ", "signature": None}]}),
        chunk({"reasoning": "узнать правила.",
               "reasoning_details": [{**detail, "text": "узнать правила.", "signature": "c2ln"}]}),
        chunk({"tool_calls": [call]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    )  # fmt: skip
    fake_openrouter.replay_next(Replay([body]))
    await answer(await start_chat("Как отменить бронь?"))
    _, second = fake_openrouter.completions
    assistant = second.messages[-2]
    assert assistant["tool_calls"][0]["id"] == "toolu_1"
    assert assistant["reasoning_details"] == [
        {**detail, "text": "Нужно узнать правила.", "signature": "c2ln"}
    ]


async def test_a_body_held_open_after_done_is_a_complete_answer(fake_openrouter, settings):
    settings.AI_FIRST_TOKEN_TIMEOUT = 2  # also httpx's read timeout between two bytes
    fake_openrouter.replay_next(Replay([text_stream("Да, ", "места есть.")], hold_open=30))
    started = time.monotonic()
    result, _ = await answer(await start_chat("Есть места?"))
    assert result.source == "model"
    assert result.text == "Да, места есть."
    assert time.monotonic() - started < 1.5
    assert len(fake_openrouter.completions) == 1


async def test_the_generation_id_header_names_the_answer_when_the_chunks_do_not(fake_openrouter):
    # OpenRouter returns the generation's id in X-Generation-Id on every endpoint; a
    # provider's chunks may come without one.
    body = sse(
        *(
            {key: value for key, value in piece.items() if key != "id"}
            for piece in (chunk({"content": "Кремль открыт"}), chunk({}, "stop"))
        ),
        "[DONE]",
    )
    headers = {"X-Generation-Id": "gen-1700000001-header"}
    fake_openrouter.replay_next(Replay([body], headers=headers))
    result, _ = await answer(await start_chat("Кремль открыт?"))
    assert (result.source, result.generation_id) == ("model", "gen-1700000001-header")
