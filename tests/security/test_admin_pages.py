"""Every admin list renders, with its search, date drill-down and filters.

The database runs with server-side binding and prepared statements
(DB_PREPARE_THRESHOLD); Django warns that some queries, such as GROUP BY
over a parameter (the date hierarchy's truncations), can fail that way. This
walks every registered model's pages with data in them, so such a query
fails here, not in an operator's browser.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat.models import ChatMessage, ChatSession
from tests.factories import make_tour, new_client_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", password=None))
    return client


def _some_data() -> None:
    make_tour()
    session = ChatSession.objects.create(
        token_hash=new_client_id(), token_expires_at=timezone.now()
    )
    ChatMessage.objects.create(session=session, author="visitor", text="Здравствуйте")


def _lists() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


@pytest.mark.parametrize("query", ["", "?q=а", "?o=-1"], ids=["plain", "search", "ordered"])
def test_every_admin_list_renders(superuser_client, query):
    _some_data()
    for url in _lists():
        response = superuser_client.get(url + query)
        assert response.status_code == 200, url + query


def test_the_date_drill_downs_render(superuser_client):
    _some_data()
    today = timezone.localdate()
    for model, field in admin_date_hierarchies():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for drill in (
            f"?{field}__year={today.year}",
            f"?{field}__year={today.year}&{field}__month={today.month}",
        ):
            response = superuser_client.get(url + drill)
            assert response.status_code == 200, url + drill


def admin_date_hierarchies() -> list[tuple[type[Model], str]]:
    return [
        (model, model_admin.date_hierarchy)
        for model, model_admin in admin.site._registry.items()
        if model_admin.date_hierarchy
    ]
