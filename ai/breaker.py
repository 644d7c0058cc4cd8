"""A circuit breaker per model, in this process's memory.

After AI_BREAKER_FAILURES consecutive retryable failures of a model (5xx,
timeouts, network errors, rate limits, or OpenRouter answering with another
model of the list because this one failed), the model is skipped for
AI_BREAKER_COOLDOWN seconds. Then one trial request may use it again
(half-open): success closes the breaker, failure opens it for another
cooldown.

Per process on purpose: each server process learns on its own within a few
requests, there is nothing to share or clean up in Redis, and a restart
starts fresh. With N processes a failing provider gets at most
N x AI_BREAKER_FAILURES requests per cooldown.
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
    opened_at: float | None = None
    trial_started_at: float | None = None


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
    def _cooldown() -> float:
        return float(settings.AI_BREAKER_COOLDOWN)

    def state(self, model: str) -> State:
        with self._lock:
            circuit = self._circuits.get(model)
            if circuit is None or circuit.opened_at is None:
                return "closed"
            if time.monotonic() - circuit.opened_at < self._cooldown():
                return "open"
            return "half_open"

    def allows(self, model: str) -> bool:
        """May a request go to `model` now? In half-open state only one trial at a time."""
        with self._lock:
            circuit = self._circuits.get(model)
            if circuit is None or circuit.opened_at is None:
                return True
            now = time.monotonic()
            if now - circuit.opened_at < self._cooldown():
                return False
            trial = circuit.trial_started_at
            # A trial that never reported back (its task was cancelled) expires.
            return trial is None or now - trial >= self._cooldown()

    def begin_trial(self, model: str) -> None:
        """Mark the half-open trial as taken, so other answers keep skipping the model."""
        with self._lock:
            circuit = self._circuits.get(model)
            if circuit is not None and circuit.opened_at is not None:
                circuit.trial_started_at = time.monotonic()

    def record_success(self, model: str) -> None:
        with self._lock:
            self._circuits.pop(model, None)

    def record_failure(self, model: str) -> None:
        with self._lock:
            circuit = self._circuits.setdefault(model, _Circuit())
            circuit.failures += 1
            circuit.trial_started_at = None
            if circuit.opened_at is not None or circuit.failures >= self._threshold():
                # A failed trial, or the threshold reached: (re)open.
                circuit.opened_at = time.monotonic()

    def reset(self) -> None:
        with self._lock:
            self._circuits.clear()


breakers = CircuitBreakers()
