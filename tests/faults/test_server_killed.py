"""A server process killed mid-chat, and reconnect storms across processes:
every acknowledged message is there exactly once, and resends never duplicate."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from chat.models import ChatMessage, ChatSession
from tests.faults.infra import ChatClient, app_failures
from tests.servers import ServerProcess, start_daphne

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def servers() -> Iterator[tuple[ServerProcess, ServerProcess]]:
    first = start_daphne(OPENROUTER_API_KEY="")
    second = start_daphne(OPENROUTER_API_KEY="")
    yield first, second
    first.stop()
    second.stop()
    assert app_failures(second.log()) == []


async def _drain(client: ChatClient, seconds: float) -> None:
    """Read whatever the server still says (acks) until it goes quiet or dies."""
    with contextlib.suppress(ConnectionClosed, TimeoutError, OSError):
        async with asyncio.timeout(seconds):
            while True:
                await client.next_frame()


async def _stored_visitor_client_ids(session_id: str) -> list[str]:
    return [
        m.client_id
        async for m in ChatMessage.objects.filter(
            session__public_id=session_id, author="visitor"
        ).order_by("id")
        if m.client_id
    ]


async def test_a_killed_server_loses_no_acknowledged_message(servers):
    doomed, survivor = servers
    client = ChatClient()
    await client.connect(doomed.ws_url, doomed.port)
    for n in range(4):
        client_id = await client.send_message(f"Вопрос {n}")
        assert (await client.outcome(client_id))["type"] == "message_ack"

    # Three messages in flight, then the process dies at once (SIGKILL).
    for n in range(3):
        await client.send_message(f"В полёте {n}")
    doomed.kill()
    await _drain(client, 2)
    await client.close()
    acked_before_the_crash = dict(client.acked)

    # The widget reconnects to another process with its token and `after`,
    # then resends everything not acknowledged, with the same client_ids.
    await client.connect_retrying(survivor.ws_url, survivor.port)
    await client.resend_pending()
    assert client.pending == []
    for client_id, message_id in acked_before_the_crash.items():
        assert client.acked[client_id] == message_id

    history = await client.full_history(survivor.ws_url, survivor.port)
    visitor_ids = [m["client_id"] for m in history if m["author"] == "visitor"]
    assert len(visitor_ids) == len(set(visitor_ids)) == 7
    assert set(visitor_ids) == set(client.acked)
    assert await _stored_visitor_client_ids(client.session_id or "") == visitor_ids
    await client.close()


async def test_many_reconnects_with_resends_never_duplicate(servers):
    processes = list(servers)
    client = ChatClient()
    await client.connect(processes[0].ws_url, processes[0].port)
    sent: list[str] = []
    for round_number in range(24):
        server = processes[round_number % 2]
        if client.ws is None:
            await client.connect_retrying(server.ws_url, server.port)
        # Resend everything ever sent (acked or not), as a confused client might.
        for client_id in sent:
            await client.send_message(client.texts[client_id], client_id)
        if round_number % 2 == 0:
            sent.append(await client.send_message(f"Сообщение {round_number}"))
        if round_number % 3 == 0:
            # Cut without a close frame, before the acks arrive.
            assert client.ws is not None
            client.ws.transport.abort()
            client.ws = None
        else:
            await _drain(client, 0.5)
            await client.close()

    server = processes[0]
    await client.connect_retrying(server.ws_url, server.port)
    await client.resend_pending()
    stored = await _stored_visitor_client_ids(client.session_id or "")
    assert sorted(stored) == sorted(sent)  # every message once, none twice
    assert set(client.acked) == set(sent)
    await client.close()


async def test_a_waiting_visitor_of_a_killed_process_leaves_the_queue(settings):
    """SIGKILL closes no socket cleanly: the dead process's heartbeat is what tells."""
    from asgiref.sync import sync_to_async
    from django.utils import timezone

    from support import actions
    from support.models import SupportRequest

    settings.SUPPORT_VISITOR_GONE_SECONDS = 2
    doomed, survivor = (
        start_daphne(SUPPORT_PROCESS_HEARTBEAT_SECONDS="0.3", OPENROUTER_API_KEY="")
        for _ in range(2)
    )
    try:
        waiting = []
        for server in (doomed, survivor):
            client = ChatClient()
            await client.connect(server.ws_url, server.port)
            waiting.append(client)
        for client in waiting:
            # Straight into the queue: the handoff itself is tested in tests/support.
            assert client.session_id is not None
            session = await ChatSession.objects.aget(public_id=client.session_id)
            await sync_to_async(SupportRequest.objects.create)(
                session=session, status=SupportRequest.Status.WAITING, queued_at=timezone.now()
            )
        doomed.kill()
        await asyncio.sleep(settings.SUPPORT_VISITOR_GONE_SECONDS + 1)
        result = await actions.sweep()
        assert result.abandoned == [waiting[0].session_id]
        assert await SupportRequest.objects.filter(status="waiting").acount() == 1
        await waiting[1].close()
    finally:
        doomed.stop()
        survivor.stop()
