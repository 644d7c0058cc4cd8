"""The fault suite's ledger: what was acknowledged, stored and received, per chat.

Each fault test records every acknowledgement (the sender's view), every
message the peer received (live or from a resync's history) and what the
database holds at the end, then asserts on the report:

- lost: acknowledged but not in the database (never acceptable);
- missed: in the database, acknowledged, older than the newest message the
  peer received, and never received (the peer's `after` moved past it);
- duplicated: received twice on one socket;
- late: received more than `late_after` seconds after it was acknowledged.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass
class Report:
    rows: list[tuple[str, int, int, int, int, int, int, int]]

    def _total(self, column: int) -> int:
        return sum(int(row[column]) for row in self.rows)

    @property
    def acked(self) -> int:
        return self._total(1)

    @property
    def lost_in_db(self) -> int:
        return self._total(4)

    @property
    def missed(self) -> int:
        return self._total(5)

    @property
    def duplicated(self) -> int:
        return self._total(6)

    @property
    def late(self) -> int:
        return self._total(7)

    def publish(self, name: str, summary: str) -> None:
        """Log the table; keep it in TEST_ARTIFACTS/ledger-<name>.txt (`make faults` prints it)."""
        text = f"{name}: {summary}\n{self.table()}\n"
        logger.info("%s", text)
        directory = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"ledger-{name}.txt").write_text(text)

    def table(self) -> str:
        header = ("chat", "acked", "stored", "received", "lost", "missed", "dup", "late")
        lines = [" ".join(f"{h:>9}" for h in header)]
        for row in [*self.rows, ("total", *(self._total(i) for i in range(1, 8)))]:
            lines.append(" ".join(f"{str(v)[:9]:>9}" for v in row))
        return "\n".join(lines)


@dataclass
class Ledger:
    late_after: float = 10.0
    _acked: dict[str, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    _received: dict[str, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    _duplicates: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _stored: dict[str, set[int]] = field(default_factory=dict)

    def acked(self, chat: str, message_id: int) -> None:
        self._acked[chat].setdefault(message_id, time.monotonic())

    def received(self, chat: str, message_id: int, *, duplicate: bool = False) -> None:
        if duplicate:
            self._duplicates[chat] += 1
        self._received[chat].setdefault(message_id, time.monotonic())

    def stored(self, chat: str, message_ids: list[int]) -> None:
        self._stored[chat] = set(message_ids)

    def report(self) -> Report:
        rows = []
        for chat in sorted(set(self._acked) | set(self._stored)):
            acked = self._acked[chat]
            received = self._received[chat]
            stored = self._stored.get(chat, set())
            newest = max(received, default=0)
            lost = [m for m in acked if m not in stored]
            missed = [m for m in acked if m in stored and m < newest and m not in received]
            late = [
                m for m, at in acked.items() if m in received and received[m] - at > self.late_after
            ]
            rows.append(
                (
                    chat[:8],
                    len(acked),
                    len(stored),
                    len(received),
                    len(lost),
                    len(missed),
                    self._duplicates[chat],
                    len(late),
                )
            )
        return Report(rows)
