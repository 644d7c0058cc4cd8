"""`python -m bench.frame_codec`: what decoding and encoding one frame costs, per way.

Incoming: today's json.loads + the chat/wire.py helpers, against one msgspec
decode into the typed frame (chat/frames_in.py). Outgoing: dict + json.dumps
(what FrameConsumer.send_frame did), dict + msgspec.json.encode, and a msgspec
Struct + msgspec.json.encode. Each way runs in turn, several rounds, CPU time of
this process (time.process_time); `cpu_other_processes_s` is what every other
process on the machine spent meanwhile (the machine is shared: noise to know).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tatartours.settings")
django.setup()

import msgspec  # noqa: E402

from bench.procstat import machine_cpu_seconds  # noqa: E402
from chat import wire  # noqa: E402
from chat.frames_in import VISITOR_FRAMES  # noqa: E402

TEXT = "Здравствуйте! Сколько стоит экскурсия в Свияжск на двоих в субботу?"
CLIENT_ID = str(uuid.uuid4())
INCOMING = json.dumps({"type": "message", "client_id": CLIENT_ID, "message": TEXT})


def old_decode() -> Any:
    data = wire.decode_frame(INCOMING)
    client_id = wire.require_client_id(data)
    return (client_id, wire.require_message_text(data, client_id), wire.optional_slug(data, "tour"))


def new_decode() -> Any:
    return VISITOR_FRAMES.decode(INCOMING)


class Operator(msgspec.Struct):
    name: str


class OperatorMessage(msgspec.Struct, tag_field="type", tag="operator_message"):
    id: int
    message: str
    timestamp: str
    operator: Operator
    session_id: str
    client_id: str


def frame_dict() -> dict[str, Any]:
    return {
        "type": "operator_message",
        "id": 123456,
        "message": TEXT,
        "timestamp": "2026-12-02T05:00:00.123456+00:00",
        "operator": {"name": "Алия"},
        "session_id": "8c4f7b1e-9d7e-4c55-a1b2-3c4d5e6f7a8b",
        "client_id": CLIENT_ID,
    }


def frame_struct() -> OperatorMessage:
    return OperatorMessage(
        id=123456,
        message=TEXT,
        timestamp="2026-12-02T05:00:00.123456+00:00",
        operator=Operator(name="Алия"),
        session_id="8c4f7b1e-9d7e-4c55-a1b2-3c4d5e6f7a8b",
        client_id=CLIENT_ID,
    )


_encode = msgspec.json.Encoder().encode


def dict_json() -> str:
    return json.dumps(frame_dict(), ensure_ascii=False)


def dict_msgspec() -> str:
    return _encode(frame_dict()).decode()


def struct_msgspec() -> str:
    return _encode(frame_struct()).decode()


WAYS: dict[str, Callable[[], Any]] = {
    "in: json.loads + wire helpers": old_decode,
    "in: msgspec typed frame": new_decode,
    "out: dict + json.dumps": dict_json,
    "out: dict + msgspec encode": dict_msgspec,
    "out: Struct + msgspec encode": struct_msgspec,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=50_000)
    args = parser.parse_args()
    assert json.loads(dict_msgspec()) == json.loads(dict_json()) == json.loads(struct_msgspec())
    spent: dict[str, list[float]] = {name: [] for name in WAYS}
    other: list[float] = []
    for _round in range(args.rounds):
        for name, way in WAYS.items():
            machine, mine = machine_cpu_seconds(), time.process_time()
            for _ in range(args.count):
                way()
            used = time.process_time() - mine
            other.append(max(0.0, machine_cpu_seconds() - machine - used))
            spent[name].append(used / args.count * 1e6)
    for name, figures in spent.items():
        print(
            f"{name:32} median {statistics.median(figures):6.2f} µs"
            f"  (min {min(figures):.2f}, max {max(figures):.2f})"
        )
    measured = sum(sum(f) for f in spent.values()) * args.count / 1e6
    print(f"cpu_other_processes_s {sum(other):.1f} over {measured:.1f} s measured")


if __name__ == "__main__":
    main()
