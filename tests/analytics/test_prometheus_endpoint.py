"""/metrics: the Prometheus text format, live counters, access by loopback or token."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from analytics.counters import error_frame_sent
from analytics.sockets import socket_open
from tests.analytics.dataset import Chat

pytestmark = pytest.mark.django_db

EXPECTED = {
    "tatartours_chat_messages",
    "tatartours_ai_answers",
    "tatartours_ai_answer_seconds",
    "tatartours_ai_first_token_seconds",
    "tatartours_ai_tokens",
    "tatartours_chat_errors",
    "tatartours_websockets_open",
    "tatartours_websocket_connections",
    "tatartours_support_queue_length",
    "tatartours_support_chats_with_operator",
    "tatartours_support_operators_online",
    "tatartours_support_operators_available",
    "tatartours_live_state_up",
}


def get(client: Client, *, remote: str = "127.0.0.1", token: str = "") -> HttpResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", headers=headers, REMOTE_ADDR=remote)
    assert isinstance(response, HttpResponse)
    return response


def scrape(client: Client, *, remote: str = "127.0.0.1", token: str = "") -> dict[str, object]:
    response = get(client, remote=remote, token=token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def sample(families: dict[str, object], name: str, sample_name: str, **labels: str) -> float:
    family = families[name]
    for s in family.samples:  # type: ignore[attr-defined]
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()):
            return float(s.value)
    return 0.0


def test_the_output_parses_and_names_every_metric(client: Client) -> None:
    families = scrape(client)

    assert set(families) >= EXPECTED
    assert families["tatartours_ai_answer_seconds"].type == "histogram"  # type: ignore[attr-defined]
    assert families["tatartours_websockets_open"].type == "gauge"  # type: ignore[attr-defined]


def test_stored_messages_and_ai_timings_move_the_counters(
    client: Client, django_capture_on_commit_callbacks: object
) -> None:
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        now = timezone.now()
        chat = Chat(now)
        chat.visitor("Привет", now)
        chat.ai(
            now,
            model="test/model-a",
            latency_ms=1500,
            first_token_ms=400,
            ai_prompt_tokens=100,
            ai_completion_tokens=20,
        )

    after = scrape(client)

    def grew(name: str, sample_name: str, **labels: str) -> float:
        return sample(after, name, sample_name, **labels) - sample(
            before, name, sample_name, **labels
        )

    assert grew("tatartours_chat_messages", "tatartours_chat_messages_total", author="visitor") == 1
    assert grew("tatartours_chat_messages", "tatartours_chat_messages_total", author="ai") == 1
    seconds = "tatartours_ai_answer_seconds"
    assert grew(seconds, f"{seconds}_count", model="test/model-a") == 1
    assert grew(seconds, f"{seconds}_sum", model="test/model-a") == pytest.approx(1.5)
    assert grew(seconds, f"{seconds}_bucket", model="test/model-a", le="2.0") == 1
    assert grew(seconds, f"{seconds}_bucket", model="test/model-a", le="1.0") == 0
    first = "tatartours_ai_first_token_seconds"
    assert grew(first, f"{first}_sum", model="test/model-a") == pytest.approx(0.4)
    tokens = "tatartours_ai_tokens"
    assert grew(tokens, f"{tokens}_total", model="test/model-a", kind="prompt") == 100


def test_messages_stored_by_the_chats_own_actions_move_the_counters(
    client: Client, django_capture_on_commit_callbacks: object
) -> None:
    """The actions write with prebuilt SQL (tatartours/lean_rows.py) and count what they store."""
    from ai.types import AIAnswer
    from chat import actions
    from chat.publish import collecting
    from tests.factories import new_client_id

    before = scrape(client)
    with collecting(), django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        session = actions.register_visitor(
            token=None, tour_slug=None, user_id=None, client_ip=None
        ).session
        posted = actions.post_visitor_message(
            session_pk=session.pk, client_id=new_client_id(), text="Сколько стоит Свияжск?"
        )
        answer = AIAnswer(text="3 500 ₽.", source="model", model="test/model-b", latency_ms=900)
        actions.store_ai_answer(session_pk=session.pk, reply_to=posted.message.id, answer=answer)
    after = scrape(client)

    messages = "tatartours_chat_messages"
    for author in ("visitor", "ai"):
        grew = sample(after, messages, f"{messages}_total", author=author) - sample(
            before, messages, f"{messages}_total", author=author
        )
        assert grew == 1, author
    seconds = "tatartours_ai_answer_seconds"
    assert (
        sample(after, seconds, f"{seconds}_count", model="test/model-b")
        - sample(before, seconds, f"{seconds}_count", model="test/model-b")
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_messages_stored_on_the_event_loop_move_the_counters(client: Client) -> None:
    """The async actions' statements commit by themselves; each message counts once."""
    from asgiref.sync import async_to_sync

    from ai.types import AIAnswer
    from chat import actions
    from support.actions import do_post_operator_message
    from support.models import SupportRequest
    from tests.factories import make_operator, new_client_id

    before = scrape(client)
    session = actions.register_visitor(
        token=None, tour_slug=None, user_id=None, client_ip=None
    ).session
    public_id = str(session.public_id)
    posted = async_to_sync(actions.do_post_visitor_message)(
        session_pk=session.pk, session_public_id=public_id, client_ip=None,
        client_id=new_client_id(), text="Сколько стоит Свияжск?", tour_slug=None,
    )  # fmt: skip
    answer = AIAnswer(text="3 500 ₽.", source="model", model="test/model-c", latency_ms=700)
    stored, _ = async_to_sync(actions.do_store_ai_answer)(
        session_pk=session.pk, session_public_id=public_id, reply_to=posted.message.id,
        answer=answer,
    )  # fmt: skip
    assert stored is not None
    operator = make_operator()
    session.status = session.Status.OPERATOR
    session.save(update_fields=["status"])
    SupportRequest.objects.create(
        session=session, status=SupportRequest.Status.ASSIGNED, operator=operator,
        queued_at=timezone.now(),
    )  # fmt: skip
    replied = async_to_sync(do_post_operator_message)(
        operator_id=operator.pk, session_id=public_id, client_id=new_client_id(),
        text="Добрый день!", session_key=None, grant=None,
    )  # fmt: skip
    assert replied.created
    after = scrape(client)

    messages = "tatartours_chat_messages"
    for author in ("visitor", "ai", "operator"):
        grew = sample(after, messages, f"{messages}_total", author=author) - sample(
            before, messages, f"{messages}_total", author=author
        )
        assert grew == 1, author


def test_error_frames_and_open_sockets_are_live(client: Client) -> None:
    before = scrape(client)
    error_frame_sent("moderated")
    with socket_open("TestConsumer"):
        during = scrape(client)
    after = scrape(client)

    errors = "tatartours_chat_errors"
    assert sample(during, errors, f"{errors}_total", code="moderated") == (
        sample(before, errors, f"{errors}_total", code="moderated") + 1
    )
    gauge = "tatartours_websockets_open"
    assert sample(during, gauge, gauge, consumer="TestConsumer") == 1
    assert sample(after, gauge, gauge, consumer="TestConsumer") == 0


def test_queue_length_is_read_from_the_database_at_scrape_time(client: Client) -> None:
    now = timezone.now()
    Chat(now).handoff(now)
    Chat(now).handoff(now)
    Chat(now).handoff(now, wait_s=10)

    families = scrape(client)

    queue = "tatartours_support_queue_length"
    held = "tatartours_support_chats_with_operator"
    assert sample(families, queue, queue) == 2
    assert sample(families, held, held) == 1
    up = "tatartours_live_state_up"
    assert sample(families, up, up, store="postgres") == 1
    assert sample(families, up, up, store="redis") == 1


def test_other_hosts_are_refused_without_the_token(client: Client) -> None:
    response = get(client, remote="203.0.113.7")

    assert response.status_code == 403
    assert b"tatartours" not in response.content


@override_settings(METRICS_TOKEN="s3cret-token")
def test_a_bearer_token_opens_the_endpoint_from_anywhere(client: Client) -> None:
    remote = "203.0.113.7"

    assert get(client, remote=remote).status_code == 403
    assert get(client, remote=remote, token="wrong").status_code == 403
    assert scrape(client, remote=remote, token="s3cret-token")


@override_settings(METRICS_ALLOW_LOOPBACK=False)
def test_loopback_trust_can_be_turned_off(client: Client) -> None:
    assert get(client).status_code == 403


def test_openmetrics_is_served_when_prometheus_asks_for_it(client: Client) -> None:
    accept = "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5"

    response = client.get("/metrics", headers={"Accept": accept})

    assert response["Content-Type"].startswith("application/openmetrics-text")
    families = {f.name for f in openmetrics_families(response.content.decode())}
    assert "tatartours_support_queue_length" in families
