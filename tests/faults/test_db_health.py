"""The process's PostgreSQL health state (tatartours/db_health.py), in one process.

The outage itself, under load across two daphne processes, is
test_postgres_outage_under_load.py; this pins the rules it relies on.
"""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from django.db import IntegrityError, OperationalError

from chat.models import ChatSession
from tatartours.db_health import DatabaseUnavailable, health, is_outage, run_db

pytestmark = pytest.mark.django_db(transaction=True)


async def test_while_the_database_is_down_no_hop_runs_and_the_probe_brings_it_back():
    ran: list[int] = []
    health.attach()
    health.mark_down("a test")
    with pytest.raises(DatabaseUnavailable):
        await run_db(lambda: ran.append(1))
    assert ran == [], "a hop ran while the database was known to be down"
    # PostgreSQL is in fact up: the probe finds it within a second or two.
    async with asyncio.timeout(5):
        await health.until_up()
    assert not health.down
    assert await run_db(ChatSession.objects.count) == 0


def _wrapped(cause: Exception) -> OperationalError:
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (_wrapped(psycopg.OperationalError("server closed the connection")), True),
        (_wrapped(psycopg.errors.AdminShutdown()), True),  # 57P01: the server shuts down
        (_wrapped(psycopg.errors.ConnectionFailure()), True),  # 08006
        (_wrapped(psycopg.errors.DeadlockDetected()), False),  # 40P01: a statement failed
        (
            _wrapped(psycopg.errors.QueryCanceled()),
            False,
        ),  # 57014: a statement timeout, not an outage
        (IntegrityError("duplicate key"), False),
        (ValueError("not a database error"), False),
    ],
    ids=[
        "connection-lost",
        "admin-shutdown",
        "connection-failure",
        "deadlock",
        "cancel",
        "integrity",
        "other",
    ],
)
def test_only_connection_level_errors_count_as_an_outage(error, outage):
    assert is_outage(error) is outage
