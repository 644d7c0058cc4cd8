"""The typed frames (chat/frames_*.py, support/frames_*.py) against docs/protocol.md.

Every frame type and field of the document's tables has its type and field in
the modules, and every type and field of the modules is in the document. Only
top-level fields are compared (the nested objects are defined by the Structs
and checked on every frame the test clients receive, tests/wsclient.py).
"""

from __future__ import annotations

import re
import typing
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

import msgspec
import pytest

from chat.consumers import VisitorConsumer
from chat.frames_in import VISITOR_FRAMES
from chat.frames_out import VISITOR_OUT, Booking, MessageData
from support.consumers import OperatorConsumer
from support.frames_in import OPERATOR_FRAMES
from support.frames_out import OPERATOR_OUT, Request

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"

Side = Literal["visitor", "operator"]
Direction = Literal["in", "out"]  # in: client -> server; out: server -> client
Key = tuple[Side, Direction, str]

MODULES: dict[tuple[Side, Direction], dict[str, type[msgspec.Struct]]] = {
    ("visitor", "in"): dict(VISITOR_FRAMES.types),
    ("visitor", "out"): dict(VISITOR_OUT.types),
    ("operator", "in"): dict(OPERATOR_FRAMES.types),
    ("operator", "out"): dict(OPERATOR_OUT.types),
}

_TOKEN = re.compile(r"`([a-z_][a-z0-9_]*)`")


def field_tokens(cell: str) -> list[str]:
    """The field names a table cell lists: backticked, at the top level, first or after a comma.

    `status` `online`/`away` names one field (its values follow it); nested
    objects ({...}, [...]) and remarks in parentheses are skipped.
    """
    tokens: list[str] = []
    depth = 0
    expect_field = True
    i = 0
    while i < len(cell):
        ch = cell[i]
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        elif depth == 0 and ch == ",":
            expect_field = True
        elif depth == 0 and ch == "`":
            match = _TOKEN.match(cell, i)
            end = cell.index("`", i + 1)
            if match and expect_field:
                tokens.append(match.group(1))
            expect_field = False
            i = end
        i += 1
    return tokens


def types_of(cell: str) -> list[str]:
    return _TOKEN.findall(cell.split("(")[0])


def documented() -> dict[Key, set[str]]:
    """(side, direction, type) -> the fields the document gives it."""
    doc: dict[Key, set[str]] = defaultdict(set)
    heading = ""
    header: list[str] = []
    for line in DOC.read_text().splitlines():
        if line.startswith("Request: `{"):
            # The contract's Request, whose fields `new_support_request` carries.
            doc["operator", "out", "new_support_request"].update(re.findall(r'"(\w+)"', line))
        if line.startswith("#"):
            heading, header = line.lstrip("#").strip(), []
            continue
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = [c.lower() for c in cells]
            continue
        if set(line) <= set("|-: "):
            continue
        row = dict(zip(header, cells, strict=False))
        for key in rows_of(heading, row):
            fields = row.get("fields", row.get("field", row.get("what", "")))
            doc[key].update(field_tokens(fields))
    return doc


_FIXED: dict[str, list[tuple[Side, Direction]]] = {
    "Visitor -> server": [("visitor", "in")],
    "Server -> visitor": [("visitor", "out")],
    "Server -> operator": [("operator", "out")],
    "Operator -> server": [("operator", "in")],
}


def sides_of_direction(direction: str) -> list[tuple[Side, Direction]]:
    """`server -> visitor (group), operator holding the chat` -> both sides, out."""
    source, _, target = direction.partition("->")
    way: Direction = "out" if "server" in source else "in"
    if way == "in":
        return [("operator" if "operator" in source else "visitor", "in")]
    sides: list[tuple[Side, Direction]] = []
    if "visitor" in target:
        sides.append(("visitor", "out"))
    if "operator" in target:
        sides.append(("operator", "out"))
    return sides


def rows_of(heading: str, row: dict[str, str]) -> list[Key]:
    if heading in _FIXED:
        return [(side, way, t) for side, way in _FIXED[heading] for t in types_of(row["type"])]
    if "direction" in row:
        sides = sides_of_direction(row["direction"])
        return [(side, way, t) for side, way in sides for t in types_of(row["type"])]
    event = row.get("event") or row.get("where")
    if event is None:
        return []  # close codes
    if event.startswith("Request"):
        return [("operator", "out", "new_support_request")]
    if not event.startswith("`"):
        return []  # a nested object's fields (Message, Booking): documented_objects()
    frame_type = _TOKEN.findall(event)[0]
    remark = event.partition("(")[2]
    if "->" in remark:
        return [(side, way, frame_type) for side, way in sides_of_direction(remark)]
    candidates: list[Side] = ["visitor", "operator"]
    if "operator" in remark:
        candidates = ["operator"]
    elif "visitor" in remark or "ticket" in remark:
        candidates = ["visitor"]
    return [(s, "out", frame_type) for s in candidates if frame_type in MODULES[s, "out"]]


def literal_values(cls: type[msgspec.Struct]) -> set[str]:
    values: set[str] = set()
    for hint in typing.get_type_hints(cls).values():
        for arg in [hint, *typing.get_args(hint)]:
            if typing.get_origin(arg) is Literal:
                values.update(str(v) for v in typing.get_args(arg))
    return values


def fields_of(cls: type[msgspec.Struct]) -> set[str]:
    return {f.name for f in msgspec.structs.fields(cls)}


def test_the_document_names_frames_the_modules_define():
    doc = documented()
    assert len(doc) > 40, "the document's tables were not read"
    for (side, way, frame_type), fields in doc.items():
        modules = MODULES[side, way]
        assert frame_type in modules, f"{side} {way} `{frame_type}` is documented, not typed"
        cls = modules[frame_type]
        unknown = fields - fields_of(cls) - literal_values(cls)
        assert not unknown, f"{side} {way} `{frame_type}`: {unknown} documented, not typed"


@pytest.mark.parametrize("key", sorted(MODULES))
def test_every_typed_frame_and_field_is_documented(key):
    side, way = key
    doc = documented()
    for frame_type, cls in MODULES[key].items():
        assert (side, way, frame_type) in doc, f"{side} {way} `{frame_type}` is not documented"
        missing = fields_of(cls) - doc[side, way, frame_type]
        assert not missing, f"{side} {way} `{frame_type}`: {missing} not in docs/protocol.md"


def test_the_tables_are_read_as_written():
    assert field_tokens("`status` one of `ai`, `pending`, `messages` list of Message") == [
        "status",
        "pending",
        "messages",
    ]
    assert field_tokens(
        "`operator` {`id`, `name`}, `status` `online`/`away`, `heartbeat_seconds`"
    ) == [
        "operator",
        "status",
        "heartbeat_seconds",
    ]


@pytest.mark.parametrize(
    ("consumer", "decoder"),
    [(VisitorConsumer, VISITOR_FRAMES), (OperatorConsumer, OPERATOR_FRAMES)],
)
def test_every_frame_a_socket_accepts_has_its_handler(consumer: Any, decoder: Any):
    for frame_type in decoder.types:
        assert callable(getattr(consumer, f"on_{frame_type}", None)), frame_type


def _names_in(definition: str) -> set[str]:
    """`{"id", "author": "visitor"|"ai", ...}` or `{reference, tour: {...}, ...}`: the names."""
    body = definition.replace("`", "")
    body = body[body.index("{") + 1 : body.rindex("}")]
    flat, depth = "", 0
    for ch in body:  # drop nested objects and remarks
        depth += ch in "{(["
        if depth == 0:
            flat += ch
        depth -= ch in "})]"
    names = set()
    for part in flat.split(","):
        name = part.split(":")[0].strip().strip('"?').strip('"')
        if name:
            names.add(name)
    return names


def documented_objects() -> dict[str, set[str]]:
    """The fields of the objects frames nest (Message, Request, Booking), as documented:
    their definition in the text, and the rows of part 2 that add to them."""
    text = DOC.read_text()
    objects: dict[str, set[str]] = {}
    for name in ("Message", "Request", "Booking"):
        match = re.search(rf"^{name}[^:\n]*: `\{{.*?\}}`", text, re.MULTILINE | re.DOTALL)
        assert match, f"the definition of {name} is not in docs/protocol.md"
        objects[name] = _names_in(match.group(0).split(": ", 1)[1])
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2:
            for name in objects:
                if cells[0].startswith(name):
                    objects[name].update(field_tokens(cells[1]))
    return objects


@pytest.mark.parametrize(
    ("name", "cls"), [("Message", MessageData), ("Request", Request), ("Booking", Booking)]
)
def test_the_objects_frames_nest_are_typed_as_documented(name: str, cls: Any):
    assert documented_objects()[name] == fields_of(cls)
