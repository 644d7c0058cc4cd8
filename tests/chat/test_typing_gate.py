"""Typing flags: starts and stops reach the other side, floods do not (chat/typing_gate.py)."""

from __future__ import annotations

import pytest

from chat.typing_gate import MIN_INTERVAL, REFRESH, TypingGate
from tests.support.flows import drain, in_conversation


def test_a_stop_always_passes_and_a_start_waits_its_interval():
    gate = TypingGate()
    assert gate.admit(True, now=0.0)
    assert gate.admit(False, now=0.01)
    assert not gate.admit(True, now=0.02)  # restarted too soon after the last relay
    assert gate.admit(True, now=0.01 + MIN_INTERVAL)


def test_a_repeat_passes_only_as_a_reminder():
    gate = TypingGate()
    assert gate.admit(True, now=0.0)
    assert not gate.admit(True, now=REFRESH / 2)
    assert gate.admit(True, now=REFRESH)
    assert gate.admit(False, now=REFRESH)  # the stop right after still passes


def test_a_flood_of_alternating_flags_is_bounded():
    gate = TypingGate()
    relayed = [gate.admit(i % 2 == 0, now=i * 0.001) for i in range(1000)]  # 1,000 in a second
    assert sum(relayed) <= 2 * (1 / MIN_INTERVAL + 1)


@pytest.mark.django_db(transaction=True)
async def test_a_visitor_typing_in_a_loop_reaches_the_operator_as_one_start_and_one_stop(
    visitor, operator
):
    guest, alia = await in_conversation(visitor, operator)
    for _ in range(40):
        await guest.send({"type": "typing", "typing": True})
    await guest.send({"type": "typing", "typing": False})
    flags = [f["typing"] for f in await drain(alia) if f["type"] == "visitor_typing"]
    assert flags == [True, False]


@pytest.mark.django_db(transaction=True)
async def test_an_operator_typing_in_a_loop_reaches_the_visitor_as_one_start_and_one_stop(
    visitor, operator
):
    guest, alia = await in_conversation(visitor, operator)
    for _ in range(40):
        await alia.send({"type": "typing", "session_id": guest.session_id, "typing": True})
    await alia.send({"type": "typing", "session_id": guest.session_id, "typing": False})
    flags = [f["typing"] for f in await drain(guest) if f["type"] == "operator_typing"]
    assert flags == [True, False]
