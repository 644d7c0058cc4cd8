"""The fake OpenRouter speaks the wire format our client relies on.

Raw httpx here, not our client: these tests pin the fake itself, so that the
client's tests against it mean something.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from tests.fakes.openrouter import Failure, FakeOpenRouter, Reply, ToolCall
from tests.servers import ROOT, free_port, wait_for_port

AUTH = {"Authorization": "Bearer test-key"}
MODELS = ["openai/gpt-4", "meta-llama/llama-3.1-8b-instruct"]


def ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": MODELS[0], "messages": [{"role": "user", "content": text}], **extra}


async def sse_lines(fake: FakeOpenRouter, body: dict[str, Any]) -> list[str]:
    async with (
        httpx.AsyncClient(base_url=fake.base_url, headers=AUTH) as client,
        client.stream("POST", "/chat/completions", json={**body, "stream": True}) as response,
    ):
        assert response.status_code == 200
        return [line async for line in response.aiter_lines() if line]


def data_events(lines: list[str]) -> list[Any]:
    return [
        line.removeprefix("data: ")
        if line == "data: [DONE]"
        else json.loads(line.removeprefix("data: "))
        for line in lines
        if line.startswith("data: ")
    ]


async def test_non_streaming_answer_echoes_the_question(fake_openrouter):
    async with httpx.AsyncClient(base_url=fake_openrouter.base_url, headers=AUTH) as client:
        response = await client.post("/chat/completions", json=ask("Есть ли туры в Свияжск?"))
    body = response.json()
    assert response.status_code == 200
    assert body["model"] == MODELS[0]
    assert body["id"].startswith("gen-")
    assert "Есть ли туры в Свияжск?" in body["choices"][0]["message"]["content"]
    assert body["usage"]["cost"] > 0
    recorded = fake_openrouter.last
    assert recorded.headers["authorization"] == "Bearer test-key"
    assert recorded.json["messages"][0]["content"] == "Есть ли туры в Свияжск?"


async def test_stream_has_keepalives_role_content_finish_usage_and_done(fake_openrouter):
    fake_openrouter.first_token_delay = 0.25
    lines = await sse_lines(fake_openrouter, ask("Привет"))
    assert lines[0] == ": OPENROUTER PROCESSING"
    events = data_events(lines)
    assert events[-1] == "[DONE]"
    role, *content, finish, usage = events[:-1]
    assert role["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"]["content"] for c in content)
    assert "«Привет»" in text
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == len(content)


async def test_tool_call_arguments_are_split_over_deltas(fake_openrouter):
    fake_openrouter.script(Reply(tool_calls=[ToolCall("search_tours", {"month": 6})]))
    events = data_events(await sse_lines(fake_openrouter, ask("Туры в июне?")))
    deltas = [
        e["choices"][0]["delta"]["tool_calls"][0]
        for e in events[:-1]
        if e["choices"] and "tool_calls" in e["choices"][0]["delta"]
    ]
    assert len(deltas) > 2
    assert deltas[0]["function"]["name"] == "search_tours"
    merged = "".join(d["function"]["arguments"] for d in deltas)
    assert json.loads(merged) == {"month": 6}
    finishes = [e["choices"][0]["finish_reason"] for e in events[:-1] if e["choices"]]
    assert finishes[-1] == "tool_calls"


async def test_models_fallback_reports_the_model_that_answered(fake_openrouter):
    fake_openrouter.fail_model(MODELS[0], Failure.unavailable(502))
    async with httpx.AsyncClient(base_url=fake_openrouter.base_url, headers=AUTH) as client:
        response = await client.post("/chat/completions", json=ask("Привет", models=MODELS))
    assert response.json()["model"] == MODELS[1]
    assert fake_openrouter.last.tried == MODELS


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (Failure.unauthorized(), 401),
        (Failure.no_credits(), 402),
        (Failure.moderation(), 403),
        (Failure.rate_limited(retry_after=3), 429),
        (Failure.unavailable(503), 503),
    ],
)
async def test_injected_status_failures_carry_openrouter_error_bodies(
    fake_openrouter, failure, status
):
    fake_openrouter.fail_next(failure)
    async with httpx.AsyncClient(base_url=fake_openrouter.base_url, headers=AUTH) as client:
        response = await client.post("/chat/completions", json=ask("Привет", models=MODELS))
    assert response.status_code == status
    assert response.json()["error"]["code"] == status
    if status == 429:
        assert response.headers["retry-after"] == "3"
    if status == 503:
        assert response.json()["error"]["metadata"]["availability"]["retryable"] is True


async def test_wrong_key_gets_401(fake_openrouter):
    async with httpx.AsyncClient(base_url=fake_openrouter.base_url) as client:
        response = await client.post(
            "/chat/completions", json=ask("Привет"), headers={"Authorization": "Bearer nope"}
        )
    assert response.status_code == 401


async def test_mid_stream_error_event_ends_the_stream_without_done(fake_openrouter):
    fake_openrouter.fail_next(Failure.midstream(after_chunks=2))
    events = data_events(await sse_lines(fake_openrouter, ask("Привет, как дела?")))
    assert "[DONE]" not in events
    last = events[-1]
    assert last["error"]["code"] == "server_error"
    assert last["choices"][0]["finish_reason"] == "error"
    assert len(events) == 4  # role, two content chunks, the error


async def test_error_with_status_200_for_a_streaming_request(fake_openrouter):
    fake_openrouter.fail_next(Failure.error_200())
    async with (
        httpx.AsyncClient(base_url=fake_openrouter.base_url, headers=AUTH) as client,
        client.stream("POST", "/chat/completions", json=ask("Привет", stream=True)) as response,
    ):
        body = json.loads(await response.aread())
    assert response.status_code == 200
    assert body["error"]["code"] == 502


async def test_cut_stream_ends_without_done(fake_openrouter):
    fake_openrouter.fail_next(Failure.cut(after_chunks=1))
    events = data_events(await sse_lines(fake_openrouter, ask("Привет")))
    assert len(events) == 2
    assert "[DONE]" not in events


async def test_client_leaving_a_keepalive_only_stream_is_recorded(fake_openrouter):
    fake_openrouter.keepalive_interval = 0.02
    fake_openrouter.fail_next(Failure.keepalives_only())
    async with (
        httpx.AsyncClient(base_url=fake_openrouter.base_url, headers=AUTH) as client,
        client.stream("POST", "/chat/completions", json=ask("Привет", stream=True)) as response,
    ):
        lines = response.aiter_lines()
        for _ in range(3):
            assert (await anext(lines)) in {": OPENROUTER PROCESSING", ""}
    fake_openrouter.wait_until(lambda: fake_openrouter.last.client_closed, timeout=10)


def test_cli_prints_its_base_url_and_answers_in_russian():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openrouter", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"http://127.0.0.1:{port}/api/v1"
        wait_for_port(port)
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/chat/completions",
            json=ask("Что посмотреть в Казани?"),
            timeout=10,
        )
        assert "Что посмотреть в Казани?" in response.json()["choices"][0]["message"]["content"]
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_paced_stream_keeps_its_schedule_when_the_fake_was_held_up(fake_openrouter):
    # A real model's tokens come at its own rate whatever the load on our
    # machine: a stall of the fake's loop mid-stream must not push the end of
    # the stream back by the stall (each token's sleep measured from the last
    # token did, and the benchmark counted it as the server's overhead).
    fake_openrouter.tokens_per_second = 20.0
    ten_words = "раз два три четыре пять шесть семь восемь девять десять"
    fake_openrouter.script(ten_words)
    first_content: float | None = None
    async with (
        httpx.AsyncClient(base_url=fake_openrouter.base_url, headers=AUTH) as client,
        client.stream(
            "POST", "/chat/completions", json={**ask("Привет"), "stream": True}
        ) as response,
    ):
        async for line in response.aiter_lines():
            if first_content is None and '"content": "' in line and '"content": ""' not in line:
                first_content = time.monotonic()
                fake_openrouter.stall(0.3)
            if line == "data: [DONE]":
                done = time.monotonic()
    assert first_content is not None
    # Nine more tokens due over 0.45 s; held up by 0.3 s with relative sleeps, 0.75 s.
    assert done - first_content < 0.6


async def test_every_answer_names_its_generation_in_a_header_as_its_chunks_do(fake_openrouter):
    # OpenRouter's streaming docs: X-Generation-Id on every endpoint.
    async with httpx.AsyncClient(base_url=fake_openrouter.base_url, headers=AUTH) as client:
        plain = await client.post("/chat/completions", json=ask("Есть ли туры в Болгар?"))
        body = {**ask("Есть ли туры в Болгар?"), "stream": True}
        async with client.stream("POST", "/chat/completions", json=body) as streamed:
            lines = [line async for line in streamed.aiter_lines() if line]
    assert plain.headers["x-generation-id"] == plain.json()["id"]
    chunks = [event for event in data_events(lines) if isinstance(event, dict)]
    assert chunks and {c["id"] for c in chunks} == {streamed.headers["x-generation-id"]}
