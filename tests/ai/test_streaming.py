"""Reading OpenRouter's stream: keep-alives, [DONE], usage, errors inside the stream."""

from __future__ import annotations

import json

import pytest

from ai.errors import StreamCut
from ai.streaming import CompletionBuilder, SSEDecoder, decode_chunk
from tests.ai.conftest import MODELS, answer, start_chat
from tests.fakes.openrouter import Failure

pytestmark = pytest.mark.django_db(transaction=True)


def test_sse_decoder_skips_comments_and_joins_multiline_data():
    decoder = SSEDecoder()
    lines = [": OPENROUTER PROCESSING", "", 'data: {"a":', "data: 1}", "", "data: [DONE]", ""]
    events = [e for e in (decoder.feed(line) for line in lines) if e is not None]
    assert events == ['{"a":\n1}', "[DONE]"]


def test_tool_call_deltas_merge_by_index():
    builder = CompletionBuilder()
    builder.apply(
        {"choices": [{"delta": {"tool_calls": [
            {"index": 0, "id": "a", "function": {"name": "get_tour", "arguments": ""}},
            {"index": 1, "id": "b", "function": {"name": "search_tours", "arguments": "{\"mo"}},
        ]}}]}
    )  # fmt: skip
    builder.apply({"choices": [{"delta": {"tool_calls": [
        {"index": 0, "function": {"arguments": "{\"slug\": \"x\"}"}},
        {"index": 1, "function": {"arguments": "nth\": 6}"}},
    ]}}]})  # fmt: skip
    builder.apply({"choices": [{"delta": {}, "finish_reason": "tool_calls"}]})
    calls = builder.result().tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("a", "get_tour", '{"slug": "x"}'),
        ("b", "search_tours", '{"month": 6}'),
    ]


async def test_stream_with_keepalives_is_streamed_to_the_visitor(fake_openrouter):
    fake_openrouter.first_token_delay = 0.3
    fake_openrouter.keepalive_interval = 0.05
    result, streamed = await answer(await start_chat("Что посмотреть в Казани?"))
    assert result.source == "model"
    assert len(streamed.pieces) > 5  # word by word, not one block
    assert "«Что посмотреть в Казани?»" in result.text
    assert streamed.text.strip() == result.text
    assert result.model == MODELS[0]
    assert result.generation_id.startswith("gen-")
    assert result.first_token_ms is not None and result.first_token_ms >= 300
    assert result.latency_ms is not None and result.latency_ms >= result.first_token_ms


async def test_usage_and_cost_come_from_the_usage_chunk(fake_openrouter):
    result, _ = await answer(await start_chat("Привет"))
    assert result.prompt_tokens and result.prompt_tokens > 0
    assert result.completion_tokens and result.completion_tokens > 0
    assert result.cost is not None and result.cost > 0


async def test_usage_on_the_finish_chunk_is_read_too(fake_openrouter):
    fake_openrouter.usage_in_finish_chunk = True
    result, _ = await answer(await start_chat("Привет"))
    assert result.completion_tokens and result.completion_tokens > 0
    assert result.cost is not None


async def test_non_streaming_mode_answers_in_one_piece(fake_openrouter, settings):
    settings.AI_STREAM = False
    result, streamed = await answer(await start_chat("Есть экскурсии в Болгар?"))
    assert result.source == "model"
    assert streamed.pieces == [result.text]
    assert fake_openrouter.last.json["stream"] is False


async def test_mid_stream_error_after_text_keeps_the_partial_answer(fake_openrouter):
    fake_openrouter.fail_next(Failure.midstream(after_chunks=3))
    result, streamed = await answer(await start_chat("Расскажите про Свияжск"))
    assert result.source == "partial"
    assert result.text.startswith("Вы спросили: «Расскажите")
    assert "Ответ прервался" in result.text  # the notice offering a retry or a person
    assert "оператор" in result.text
    assert streamed.text.strip() == result.text
    assert result.error.startswith("stream_error")
    assert len(fake_openrouter.completions) == 1  # no retry after text reached the visitor


async def test_mid_stream_error_before_any_text_falls_back(fake_openrouter):
    fake_openrouter.fail_next(Failure.midstream(after_chunks=0))
    result, _ = await answer(await start_chat("Расскажите про Свияжск"))
    assert result.source == "model"
    assert result.fallback_used is True
    _, second = fake_openrouter.completions
    assert second.json["model"] == MODELS[1]


async def test_error_in_a_200_body_is_an_error_not_an_answer(fake_openrouter):
    fake_openrouter.fail_next(Failure.error_200(code=502))
    result, _ = await answer(await start_chat("Привет"))
    assert result.source == "model"
    assert len(fake_openrouter.completions) == 2
    assert "error" not in result.text.lower()


async def test_stream_cut_without_done_is_partial(fake_openrouter):
    fake_openrouter.fail_next(Failure.cut(after_chunks=2))
    result, _ = await answer(await start_chat("Как добраться до Раифы?"))
    assert result.source == "partial"
    assert result.error.startswith(StreamCut.kind)


async def test_connection_reset_mid_stream_is_partial(fake_openrouter):
    fake_openrouter.fail_next(Failure.reset(after_chunks=2))
    result, _ = await answer(await start_chat("Как добраться до Раифы?"))
    assert result.source == "partial"
    assert result.text.startswith("Вы спросили:")


def test_a_chunk_msgspec_refuses_reads_as_json_reads_it():
    """decode_chunk takes msgspec's fast path, and json's for what msgspec refuses
    (NaN, out-of-range numbers, lone surrogate escapes): every chunk reads as before."""
    assert decode_chunk('{"a": "\\u2028 Казань", "b": [1, 2.5, null]}') == {
        "a": "\u2028 Казань",
        "b": [1, 2.5, None],
    }
    assert decode_chunk('{"a": "\\ud83d"}') == {"a": "\ud83d"}
    assert decode_chunk('{"a": 1e999}') == {"a": float("inf")}
    with pytest.raises(json.JSONDecodeError):
        decode_chunk('{"a": ')
