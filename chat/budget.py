"""Every frame the server sends fits daphne's 64 KiB frame limit.

A frame over `--websocket-max-frame-size` is not sent at all (autobahn
raises PayloadExceededError) and the socket is lost: operators could not
connect once a few hundred chats were open. Lists that grow with the data
(the queue, transcripts, history) are cut to a byte budget here; the frame
says how much was left out, and the client asks for the rest where the
protocol allows it (docs/protocol.md, part 2).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# Bytes of one list in a frame, leaving room for the frame's other fields
# and a second list under the 64 KiB of CHAT_MAX_FRAME_BYTES.
LIST_BUDGET = 40 * 1024
SMALL_LIST_BUDGET = 12 * 1024


def encoded_size(value: Any) -> int:
    """Bytes of `value` as the transport encodes it (JSON, UTF-8, non-ASCII kept)."""
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))


def fit_first(items: Sequence[T], budget: int = LIST_BUDGET, limit: int | None = None) -> list[T]:
    """The longest prefix of `items` (at most `limit` of them) within `budget` bytes."""
    kept: list[T] = []
    used = 2  # the brackets
    for item in items[:limit] if limit is not None else items:
        used += encoded_size(item) + 1  # and a comma
        if used > budget:
            break
        kept.append(item)
    return kept


def fit_last(items: Sequence[T], budget: int = LIST_BUDGET) -> list[T]:
    """The longest suffix of `items` within `budget` bytes (the newest messages)."""
    return fit_first(list(reversed(items)), budget)[::-1]
