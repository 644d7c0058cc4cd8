"""The question set agrees with the demo data as loaded: a FAQ edit cannot unscore it silently."""

from __future__ import annotations

import pytest
from django.utils import timezone

from evaluation import catalogue, questionset
from evaluation.scoring import Exchange, score
from tours.demo import load_demo_tours
from tours.demo_faq import load_demo_faq

pytestmark = pytest.mark.django_db


def test_every_clause_is_in_its_faq_entry_or_tour_and_every_tour_is_on_sale():
    load_demo_tours()
    load_demo_faq()
    live = catalogue.from_database()
    today = timezone.localdate()
    stale = {}
    for asked in questionset.load().questions:
        result = score(asked, Exchange(asked.id), live, today)
        if result.stale_clauses:
            stale[asked.id] = result.stale_clauses
        assert all(live.tour(slug) for slug in asked.expect.tours), asked.id
    assert not stale, f"update evaluation/questions.yaml: {stale}"
