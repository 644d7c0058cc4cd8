"""The FAQ search's prebuilt WHERE is the GIN index's expression (tours.models, written once)."""

from __future__ import annotations

import pytest
from django.db import connection

from ai.knowledge import search_faq, search_terms
from tours.demo_faq import load_demo_faq

pytestmark = pytest.mark.django_db


def test_the_faq_search_is_served_by_the_gin_index_even_as_a_generic_prepared_plan():
    load_demo_faq()
    terms = search_terms("Как вернуть деньги за отменённый тур?")
    assert search_faq("Как вернуть деньги за отменённый тур?")
    from ai.knowledge import _faq_search_sql

    with connection.cursor() as cursor:
        # Force what a prepared statement turns into after a few runs, and make
        # a sequential scan unattractive on the few demo rows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"EXPLAIN {_faq_search_sql(len(terms))}", [*terms, 3])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan on faq_search_ru_idx" in plan, plan
