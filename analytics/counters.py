"""Daily counts of refusals (rate_limited, moderated): nothing else stores them.

The socket path must never wait on Postgres for a statistic, and a flood of
refused messages must not become a flood of DB hops on the shared sync
thread. So `record_refusal`, called from the event loop, only schedules one
Redis HINCRBY and returns; `flush_buffer` later moves the buffered counts
into `DailyCounter` with one upsert per (day, name). It runs when staff open
the analytics page, when `chat_report` runs and when Prometheus scrapes
/metrics. The day is fixed when the event happens, so flushing late never
moves a count to another day.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import date

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from analytics.models import DailyCounter
from analytics.prometheus import ERRORS, error_label
from tatartours.redis import get_redis

logger = logging.getLogger(__name__)

REFUSAL_CODES = frozenset({"rate_limited", "moderated"})
BUFFER_KEY = "tatartours:analytics:daily-counters"

# Read and delete in one step, so two flushes never both move the same counts.
_TAKE_ALL = """
local values = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return values
"""

# Strong references: the event loop keeps only weak ones to running tasks.
_pending: set[asyncio.Task[None]] = set()


def _field(day: date, name: str) -> str:
    return f"{day.isoformat()}|{name}"


def _parse_field(field: str) -> tuple[date, str]:
    day, name = field.split("|", 1)
    return date.fromisoformat(day), name


def add_counts(counts: Iterable[tuple[date, str, int]]) -> None:
    """Add to the daily counters atomically (INSERT ... ON CONFLICT DO UPDATE count + n)."""
    rows = [(day, name, n) for day, name, n in counts if n]
    if not rows:
        return
    table = connection.ops.quote_name(DailyCounter._meta.db_table)
    sql = (
        f"INSERT INTO {table} (day, name, count) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT (day, name) DO UPDATE SET count = {table}.count + EXCLUDED.count"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def record_refusal(code: str) -> None:
    """Count one refused visitor frame (`rate_limited` or `moderated`) for today.

    Safe anywhere and never raises. On an event loop it only schedules a
    Redis increment (fire and forget); in sync code it writes the counter
    in its own savepoint.
    """
    try:
        if code not in REFUSAL_CODES:
            return
        field = _field(timezone.localdate(), code)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            task = loop.create_task(_buffer(field))
            _pending.add(task)
            task.add_done_callback(_pending.discard)
        else:
            add_counts([(*_parse_field(field), 1)])
    except Exception:
        logger.warning("could not count a %s refusal", code, exc_info=True)


def error_frame_sent(code: str) -> None:
    """Instrumentation hook for every `error` frame a socket sends. Never raises."""
    try:
        ERRORS.labels(code=error_label(code)).inc()
    except Exception:
        logger.warning("could not count an error frame", exc_info=True)
    record_refusal(code)


async def _buffer(field: str) -> None:
    try:
        await get_redis().hincrby(BUFFER_KEY, field, 1)
    except Exception:
        # Redis down: the Prometheus counter still has it; the daily figure loses one.
        logger.warning("could not buffer refusal count %s", field, exc_info=True)


def flush_buffer() -> int:
    """Move the counts buffered in Redis into DailyCounter; returns how many were moved.

    If Postgres refuses, the counts are put back into Redis for the next
    flush. A Redis failure is logged and reported as 0.
    """
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        raw = client.eval(_TAKE_ALL, 1, BUFFER_KEY)
        pairs = list(zip(raw[::2], raw[1::2], strict=True))
        if not pairs:
            return 0
        counts = [(*_parse_field(f.decode()), int(n)) for f, n in pairs]
        try:
            add_counts(counts)
        except Exception:
            for field, n in pairs:
                client.hincrby(BUFFER_KEY, field, int(n))
            raise
        return sum(n for _, _, n in counts)
    except redis.RedisError:
        logger.warning("could not flush the buffered daily counters", exc_info=True)
        return 0
    finally:
        client.close()


def daily_counts(
    first_day: date, last_day: date, names: Iterable[str]
) -> dict[date, dict[str, int]]:
    """{day: {name: count}} for the days in [first_day, last_day] that have any count."""
    result: dict[date, dict[str, int]] = {}
    rows = DailyCounter.objects.filter(
        day__gte=first_day, day__lte=last_day, name__in=list(names)
    ).values_list("day", "name", "count")
    for day, name, count in rows:
        result.setdefault(day, {})[name] = count
    return result
