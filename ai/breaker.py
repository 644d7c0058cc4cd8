"""A circuit breaker per model, in this process's memory, with an early probe.

After AI_BREAKER_FAILURES consecutive retryable failures of a model (5xx,
timeouts, network errors, rate limits, or OpenRouter answering with another
model of the list because this one failed), the breaker opens: answers skip
the model. Every AI_BREAKER_PROBE_INTERVAL seconds one real request may use
it again (half-open, one probe at a time): success closes the breaker, so
the model answers again within seconds of its recovery; failure keeps it
open until the next probe. A probe that never reports back (its task was
cancelled) frees its slot after AI_TOTAL_TIMEOUT, the longest a request
can take.

Per process on purpose: each server process learns on its own within a few
requests, there is nothing to share or clean up in Redis, and a restart
starts fresh. A dead model gets AI_BREAKER_FAILURES requests, then one
probe per interval, from each process; each probe still lists the other
models, so OpenRouter answers that visitor with one of them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

from django.conf import settings

State = Literal["closed", "open", "half_open"]


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None  # when it opened, or when its last probe failed
    probe_started_at: float | None = None


class CircuitBreakers:
    def __init__(self) -> None:
        self._circuits: dict[str, _Circuit] = {}
        # Answer tasks run on one event loop, but the fake server's tests and
        # sync callers may touch it from other threads.
        self._lock = threading.Lock()

    @staticmethod
    def _threshold() -> int:
        return int(settings.AI_BREAKER_FAILURES)

    @staticmethod
    def _probe_interval() -> float:
        return float(settings.AI_BREAKER_PROBE_INTERVAL)

    def _probe_due(self, circuit: _Circuit, now: float) -> bool:
        assert circuit.opened_at is not None
        if now - circuit.opened_at < self._probe_interval():
            return False
        probe = circuit.probe_started_at
        return probe is None or now - probe >= float(settings.AI_TOTAL_TIMEOUT)

    def state(self, model: str) -> State:
        with self._lock:
            circuit = self._circuits.get(model)
            if circuit is None or circuit.opened_at is None:
                return "closed"
            return "half_open" if self._probe_due(circuit, time.monotonic()) else "open"

    def allows(self, model: str) -> bool:
        """May a request go to `model` now? While open, only the due probe may."""
        with self._lock:
            circuit = self._circuits.get(model)
            if circuit is None or circuit.opened_at is None:
                return True
            return self._probe_due(circuit, time.monotonic())

    def begin_trial(self, model: str) -> None:
        """Take the probe slot, so that other answers keep skipping the model meanwhile."""
        with self._lock:
            circuit = self._circuits.get(model)
            if circuit is not None and circuit.opened_at is not None:
                circuit.probe_started_at = time.monotonic()

    def record_success(self, model: str) -> None:
        with self._lock:
            self._circuits.pop(model, None)

    def record_failure(self, model: str) -> None:
        with self._lock:
            circuit = self._circuits.setdefault(model, _Circuit())
            circuit.failures += 1
            circuit.probe_started_at = None
            if circuit.opened_at is not None or circuit.failures >= self._threshold():
                # A failed probe, or the threshold reached: (re)open.
                circuit.opened_at = time.monotonic()

    def reset(self) -> None:
        with self._lock:
            self._circuits.clear()


breakers = CircuitBreakers()
