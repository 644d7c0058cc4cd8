"""Live Prometheus metrics: the metric objects and the /metrics exposition.

Counters and histograms live in the memory of each server process. With
several daphne processes either scrape each one (each exposes its own), or
set PROMETHEUS_MULTIPROC_DIR before the processes start: prometheus-client
then writes every process's values to files in that directory and /metrics
of any process reports the sum (see docs/metrics.md).

Queue length and operators online are not counted in memory: they are read
from Postgres and Redis when Prometheus scrapes, so every process reports
the same true value.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# Error codes of the wire contract; anything else is counted as "other" so a
# bug cannot explode the number of time series.
ERROR_CODES = frozenset(
    {
        "invalid_json",
        "unknown_type",
        "invalid",
        "too_long",
        "rate_limited",
        "moderated",
        "not_found",
        "already_taken",
        "forbidden",
        "unavailable",
        "internal",
    }
)
AUTHORS = frozenset({"visitor", "ai", "operator", "system"})
NO_MODEL = "none"
MAX_LABEL_CHARS = 120

# Answer times of hosted models: from a fraction of a second to the 60 s cap.
ANSWER_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90)
FIRST_TOKEN_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 15, 30)

MESSAGES = Counter(
    "tatartours_chat_messages",
    "Chat messages stored, by author.",
    ["author"],
)
AI_ANSWERS = Counter(
    "tatartours_ai_answers",
    "AI answers stored, by model, source (model/offline/partial) and whether a fallback "
    "model answered.",
    ["model", "source", "fallback"],
)
AI_ANSWER_SECONDS = Histogram(
    "tatartours_ai_answer_seconds",
    "Total AI answer time, from the start of the generation to the complete answer.",
    ["model"],
    buckets=ANSWER_BUCKETS,
)
AI_FIRST_TOKEN_SECONDS = Histogram(
    "tatartours_ai_first_token_seconds",
    "Time from the start of the AI generation to its first streamed token.",
    ["model"],
    buckets=FIRST_TOKEN_BUCKETS,
)
AI_TOKENS = Counter(
    "tatartours_ai_tokens",
    "Tokens reported by the model provider, by model and kind (prompt/completion).",
    ["model", "kind"],
)
ERRORS = Counter(
    "tatartours_chat_errors",
    "`error` frames sent to WebSocket clients, by the contract's error code.",
    ["code"],
)
SOCKETS_OPEN = Gauge(
    "tatartours_websockets_open",
    "WebSocket connections currently open, by consumer.",
    ["consumer"],
    # Multi-process mode: the sum over the processes still alive.
    multiprocess_mode="livesum",
)
SOCKETS_OPENED = Counter(
    "tatartours_websocket_connections",
    "WebSocket connections opened, by consumer.",
    ["consumer"],
)


def model_label(model: str) -> str:
    return model[:MAX_LABEL_CHARS] if model else NO_MODEL


def error_label(code: str) -> str:
    return code if code in ERROR_CODES else "other"


_LIVE_GAUGES = (
    ("queue_length", "tatartours_support_queue_length", "Chats waiting for an operator."),
    (
        "chats_with_operator",
        "tatartours_support_chats_with_operator",
        "Chats an operator currently holds.",
    ),
    (
        "operators_online",
        "tatartours_support_operators_online",
        "Operators with the dashboard open.",
    ),
    (
        "operators_available",
        "tatartours_support_operators_available",
        "Operators online and not away: they take new chats.",
    ),
)


class LiveStateCollector(Collector):
    """Gauges read from Postgres and Redis at scrape time, identical in every process."""

    def collect(self) -> Iterator[Metric]:
        from analytics import live

        state = live.read_state()
        up = GaugeMetricFamily(
            "tatartours_live_state_up",
            "1 if the live support state could be read from the store, else 0.",
            labels=["store"],
        )
        up.add_metric(["postgres"], 0 if state.queue_length is None else 1)
        up.add_metric(["redis"], 0 if state.operators_online is None else 1)
        yield up
        for attribute, name, documentation in _LIVE_GAUGES:
            value = getattr(state, attribute)
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=value)


class _ThisProcess(Collector):
    """The default registry's metrics (this process's counters, process_* and python_*)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def scrape_registry(*collectors: Collector) -> CollectorRegistry:
    """What one scrape of /metrics reports, built per request, with `collectors` added."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(LiveStateCollector())
    for collector in collectors:
        registry.register(collector)
    return registry
