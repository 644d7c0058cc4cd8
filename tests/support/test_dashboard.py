"""The /support/ page: operators only; the login page; the admin's read-only transcripts."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from chat import actions as chat_actions
from chat.models import ChatMessage
from support.models import CannedReply, SupportRequest
from tests.factories import make_operator, make_site_user, make_staff, new_client_id

pytestmark = pytest.mark.django_db


def django_user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_users_are_sent_to_the_login_page():
    response = Client().get("/support/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/support/"


def test_the_login_page_is_russian():
    response = Client().get("/accounts/login/?next=/support/")
    assert response.status_code == 200
    assert "Войти" in response.content.decode()


def test_users_without_the_permission_get_403():
    assert logged_in(make_site_user()).get("/support/").status_code == 403
    assert logged_in(make_staff()).get("/support/").status_code == 403


def test_the_dashboard_renders_for_an_operator_with_canned_replies():
    CannedReply.objects.create(title="Приветствие", text="Здравствуйте! <b>Чем</b> помочь?")
    CannedReply.objects.create(title="Скрытый", text="...", is_active=False)
    response = logged_in(make_operator()).get("/support/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'lang="ru"' in page
    assert "support/dashboard.js" in page
    config = response.context["config"]
    assert [c["title"] for c in config["canned_replies"]] == ["Приветствие"]
    assert config["socket_path"] == "/ws/support/"
    # Embedded as JSON, never as markup.
    assert "<b>Чем</b>" not in page
    assert config["strings"]["take"]


def _chat_with_an_operator() -> tuple[int, object]:
    operator = make_operator()
    session = chat_actions.register_visitor(
        token=None, tour_slug=None, user_id=None, client_ip=None
    ).session
    chat_actions.post_visitor_message(
        session_pk=session.pk, client_id=new_client_id(), text="<script>alert(1)</script>"
    )
    SupportRequest.objects.create(
        session=session, status="assigned", operator=operator, queued_at=session.created_at
    )
    return session.pk, operator


def test_operators_read_transcripts_in_the_admin_but_cannot_edit_them():
    session_pk, operator = _chat_with_an_operator()
    client = logged_in(operator)
    page = client.get(f"/admin/chat/chatsession/{session_pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert 'name="_save"' not in html
    message = ChatMessage.objects.get()
    edit = client.post(
        f"/admin/chat/chatmessage/{message.pk}/change/", {"text": "подделка", "author": "visitor"}
    )
    assert edit.status_code == 403
    message.refresh_from_db()
    assert message.text == "<script>alert(1)</script>"


def test_admins_cannot_edit_transcripts_either(django_user_model):
    session_pk, _ = _chat_with_an_operator()
    admin = django_user_model.objects.create_superuser("root", password=None)
    client = logged_in(admin)
    assert client.get(f"/admin/chat/chatsession/{session_pk}/change/").status_code == 200
    message = ChatMessage.objects.get()
    assert (
        client.post(f"/admin/chat/chatmessage/{message.pk}/change/", {"text": "x"}).status_code
        == 403
    )


@pytest.mark.parametrize(
    "url",
    [
        "/admin/support/supportrequest/",
        "/admin/support/offlineticket/",
        "/admin/support/cannedreply/",
        "/admin/chat/chatsession/",
        "/admin/chat/rating/",
        "/admin/tours/booking/",
    ],
)
def test_operators_see_the_admin_lists_they_need(url):
    assert logged_in(make_operator()).get(url + "?q=x").status_code == 200


@pytest.mark.parametrize("url", ["/support/", "/accounts/login/"])
def test_the_dashboard_and_login_pages_link_a_favicon_that_is_served(url):
    page = logged_in(make_operator()).get(url) if url == "/support/" else Client().get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<link rel="icon" href="/static/tours/favicon.svg"' in html
    icon = Client().get("/static/tours/favicon.svg")
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)  # type: ignore[attr-defined]


def test_make_run_seeds_canned_replies_signed_with_the_operator_name(settings, tmp_path):
    from django.core.management import call_command

    settings.BASE_DIR = tmp_path  # .demo-admin lives here, not in the checkout
    call_command("ensure_demo_admin", stdout=io.StringIO())
    call_command("ensure_demo_admin", stdout=io.StringIO())  # again: nothing doubled
    admin = django_user("admin")
    config = logged_in(admin).get("/support/").context["config"]
    titles = [c["title"] for c in config["canned_replies"]]
    assert len(titles) >= 5 and len(set(titles)) == len(titles)
    assert titles[0] == "Приветствие"
    assert "Меня зовут Алия" in config["canned_replies"][0]["text"]


def test_the_tour_card_reads_in_russian_as_on_the_site():
    from datetime import date
    from decimal import Decimal

    from support.context import tour_info
    from tests.factories import make_tour

    tour = make_tour(
        price_per_person=Decimal("3200.00"),
        start_date=date(2026, 12, 21),
        end_date=date(2026, 12, 21),
    )
    card = tour_info(tour)
    assert card is not None
    assert card["dates_label"] == "21\u00a0декабря\u00a02026"
    assert card["price_label"] == "3\u00a0200\u00a0₽"
    longer = make_tour(start_date=date(2026, 6, 30), end_date=date(2026, 7, 1))
    assert tour_info(longer)["dates_label"] == "30\u00a0июня\u00a0– 1\u00a0июля\u00a02026"  # type: ignore[index]
