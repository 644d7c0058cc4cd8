"""The harness hears a handoff that comes after the answer, and ends without one.

A model answering through its handoff tool stores the answer first and
queues the chat afterwards (chat/ai_reply.py), so `support_unavailable`
arrives after `ai_response`; the harness must wait for it, but only when
the stored answer says it is coming, never by sleeping. Real daphne, our
fake OpenRouter scripted turn by turn.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evaluation import harness
from evaluation.questionset import Expect, Question
from evaluation.run import handoff_coming
from tests.fakes.openrouter import FakeOpenRouter, Reply, ToolCall
from tests.servers import ServerProcess, start_daphne_with_model

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def model() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter(api_key="test-key") as fake:
        yield fake


@pytest.fixture
def server(model: FakeOpenRouter) -> Iterator[ServerProcess]:
    process = start_daphne_with_model(model.base_url, AI_MODELS="openai/gpt-4")
    yield process
    process.stop()


async def test_a_handoff_after_the_answer_is_caught_and_a_plain_answer_ends_at_once(server, model):
    model.script(
        Reply(tool_calls=[ToolCall("handoff_to_operator", {"reason": "жалоба"})]),
        Reply(text="Передаю разговор оператору."),
        Reply(text="Советую «Остров-град Свияжск»."),
    )
    complaint = Question("c", "handoff", "гид нагрубил, я буду жаловаться", Expect(handoff=True))
    plain = Question("p", "typo", "что посмотреть в свияжске", Expect(tours=("x",)))

    handed = await harness.ask(server.ws_url, complaint, handoff_coming=handoff_coming)
    answered = await harness.ask(server.ws_url, plain, handoff_coming=handoff_coming)

    assert handed.error == ""
    assert handed.answer == "Передаю разговор оператору."
    assert handed.handoff_signals == ["support_unavailable"]
    assert handed.frame_types.index("ai_response") < handed.frame_types.index("support_unavailable")
    assert (answered.error, answered.handoff_signals) == ("", [])
    assert answered.answer == "Советую «Остров-град Свияжск»."
    assert answered.frame_types[-2:] == ["ai_response", "ai_typing"]
