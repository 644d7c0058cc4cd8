"""Which typing flags are worth relaying to the other side of a chat.

Each relayed flag is a `group_send` and a frame on every socket of the chat.
A client may send `typing` on every keystroke, or a broken or hostile one
in a loop; the other side only needs to know when typing starts and stops,
with an occasional reminder. Kept per socket and chat, in memory, no timers:

- a change to "not typing" always passes (a stop must never be lost);
- a change to "typing" passes at most every MIN_INTERVAL seconds;
- a repeat of the state last relayed passes at most every REFRESH seconds.

Dropped flags are not errors: typing is best-effort by the protocol.
"""

from __future__ import annotations

import time

MIN_INTERVAL = 0.25
REFRESH = 3.0


class TypingGate:
    __slots__ = ("_relayed", "_relayed_at")

    def __init__(self) -> None:
        self._relayed: bool | None = None
        self._relayed_at = float("-inf")

    def admit(self, typing: bool, now: float | None = None) -> bool:
        """True if this flag should be relayed (and is now the one last relayed)."""
        now = time.monotonic() if now is None else now
        since = now - self._relayed_at
        if typing == self._relayed:
            passes = since >= REFRESH
        else:
            passes = not typing or since >= MIN_INTERVAL
        if passes:
            self._relayed, self._relayed_at = typing, now
        return passes
