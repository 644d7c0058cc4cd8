"""The process's copy of the knowledge base: read once, read again whenever a row changes.

Answers search a per-process copy of the catalogue, aliases and FAQ
(`ai.retrieval.knowledge_base`); these tests pin that every kind of write
shows up in the next answer, including writes that bypass `save()` (a
booking's `places_booked`, a raw UPDATE) and writes by another process.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from ai import knowledge, prompt, retrieval
from tests.ai.conftest import start_chat
from tests.factories import make_tour
from tours.models import FaqEntry, SearchAlias, Tour

pytestmark = pytest.mark.django_db(transaction=True)


def free_places(slug: str) -> int:
    tours = retrieval.knowledge_base().catalogue.tours
    return next(t.free_places for t in tours if t.slug == slug)


def test_the_copy_is_kept_while_nothing_changes():
    make_tour(slug="kremlin")
    first = retrieval.knowledge_base()
    assert retrieval.knowledge_base() is first
    assert retrieval.cached_knowledge_base(first.today, first.stamp) is first
    assert retrieval.cached_knowledge_base(first.today, "another stamp") is None


def test_an_update_that_bypasses_save_shows_up():
    tour = make_tour(slug="kremlin", max_participants=20, places_booked=5)
    assert free_places("kremlin") == 15
    # As a booking does it: no save(), updated_at left as it was.
    Tour.objects.filter(pk=tour.pk).update(places_booked=12)
    assert free_places("kremlin") == 8
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tours_tour SET places_booked = 19 WHERE id = %s", [tour.pk])
    assert free_places("kremlin") == 1


def test_edits_inserts_and_deletes_of_every_table_show_up():
    tour = make_tour(slug="kremlin", title="Казанский Кремль")
    stamps = [retrieval.knowledge_stamp()]
    tour.title = "Белокаменный Кремль"
    tour.save()
    assert retrieval.knowledge_base().catalogue.tours[0].title == "Белокаменный Кремль"
    stamps.append(retrieval.knowledge_stamp())
    entry = FaqEntry.objects.create(question="Можно ли с собакой?", answer="Да.", tags="собаки")
    assert [e[0] for e in retrieval.knowledge_base().faq.entries] == [entry.pk]
    stamps.append(retrieval.knowledge_stamp())
    alias = SearchAlias.objects.create(name="Сююмбике", place="Казань", tour=tour)
    assert [a.name for a in retrieval.knowledge_base().catalogue.aliases] == ["Сююмбике"]
    stamps.append(retrieval.knowledge_stamp())
    alias.delete()
    assert retrieval.knowledge_base().catalogue.aliases == []
    stamps.append(retrieval.knowledge_stamp())
    entry.delete()
    tour.delete()
    assert retrieval.knowledge_base().catalogue.tours == []
    stamps.append(retrieval.knowledge_stamp())
    assert all(before != after for before, after in itertools.pairwise(stamps))
    # The same rows in the same versions are the same stamp: nothing to read again.
    assert stamps[4] == stamps[2]


def test_a_write_by_another_process_shows_up():
    make_tour(slug="kremlin", price_per_person=Decimal("2500.00"))
    assert retrieval.knowledge_base().catalogue.tours[0].price_per_person == Decimal("2500.00")
    # A management command or the admin of another server process.
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from tours.models import Tour; t = Tour.objects.get(slug='kremlin'); "
            "t.price_per_person = 3100; t.save()",
        ],
        check=True,
        capture_output=True,
        env=_child_env(),
    )
    assert retrieval.knowledge_base().catalogue.tours[0].price_per_person == Decimal("3100.00")


def _child_env() -> dict[str, str]:
    settings_dict = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}"
            f"/{settings_dict['NAME']}"
        ),
    }


async def test_an_answer_reads_the_stamp_with_its_context_and_searches_without_a_hop():
    await _make_tour(slug="kremlin", places_booked=5)
    request = await start_chat("Сколько мест на Кремль?")
    assert request.knowledge_stamp is not None
    found = await knowledge.gather_soon(
        "Сколько мест на Кремль?", stamp=request.knowledge_stamp, with_tours=True
    )
    assert [t["free_places"] for t in found.tours] == [15]
    # Now held by the process: the same stamp needs no database at all.
    today = timezone.localdate()
    assert retrieval.cached_knowledge_base(today, request.knowledge_stamp) is not None
    await _book("kremlin", 10)
    later = await start_chat("Сколько мест на Кремль?")
    assert later.knowledge_stamp != request.knowledge_stamp
    found = await knowledge.gather_soon(
        "Сколько мест на Кремль?", stamp=later.knowledge_stamp, with_tours=True
    )
    assert [t["free_places"] for t in found.tours] == [5]


async def test_the_prompt_lists_a_new_place_at_once():
    await _make_tour(slug="kremlin", place="Казань")
    request = await start_chat("Какие туры есть?")
    assert await prompt.catalogue_places(request.knowledge_stamp) == ("Казань",)
    await _make_tour(slug="bolgar", place="Болгар")
    request = await start_chat("Какие туры есть?")
    assert await prompt.catalogue_places(request.knowledge_stamp) == ("Болгар", "Казань")


async def _make_tour(**overrides: object) -> Tour:
    from channels.db import database_sync_to_async

    return await database_sync_to_async(make_tour)(**overrides)


async def _book(slug: str, places: int) -> None:
    from channels.db import database_sync_to_async
    from django.db.models import F

    def book() -> None:
        Tour.objects.filter(slug=slug).update(places_booked=F("places_booked") + places)

    await database_sync_to_async(book)()
