"""The message path's prebuilt statements stay small enough for psycopg's query cache.

psycopg 3 converts a query with `%(name)s` placeholders to PostgreSQL's `$n`
form on every execute unless the query is at most 4,096 bytes and has at
most 50 parameters: then the conversion is cached (psycopg's
`_queries.py`, discussion psycopg/psycopg#628). The operator's statement
was 4,561 bytes and paid the conversion on every message: 10% of the relay
servers' samples were in it (docs/benchmarks.md). Column lists come from
the models, so a new field can grow a statement past the limit unnoticed;
this test notices. (The statements of a group, `visitor_messages_batch` and
`operator_messages_batch`, run once per group of messages: the operator's is
longer than the limit, and its conversion, 22 µs measured, is paid once for
the whole group.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chat.message_rows import _ai_answer_sql, _visitor_message_sql
from support.request_rows import _operator_message_sql

# psycopg 3.2-3.3's limits for caching a query's conversion (not a public name).
PSYCOPG_CACHED_QUERY_BYTES = 4096
PSYCOPG_CACHED_QUERY_PARAMS = 50

STATEMENTS: dict[str, Callable[[], tuple[str, dict[str, Any]]]] = {
    "visitor message": _visitor_message_sql,
    "operator message": _operator_message_sql,
    "AI answer": _ai_answer_sql,
}


@pytest.mark.parametrize("name", STATEMENTS)
def test_each_message_statement_fits_psycopgs_query_cache(name: str) -> None:
    sql, defaults = STATEMENTS[name]()
    assert len(sql.encode()) <= PSYCOPG_CACHED_QUERY_BYTES, (
        f"the {name} statement is {len(sql.encode())} bytes: psycopg would convert it on "
        "every execute; shorten it (aliases, fewer columns)"
    )
    placeholders = {part.split(")s", 1)[0] for part in sql.split("%(")[1:]}
    assert len(placeholders | set(defaults)) <= PSYCOPG_CACHED_QUERY_PARAMS
