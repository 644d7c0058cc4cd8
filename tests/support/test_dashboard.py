"""The /support/ page: operators only; the login page; the admin's read-only transcripts."""

from __future__ import annotations

import pytest
from django.test import Client

from chat import actions as chat_actions
from chat.models import ChatMessage
from support.models import CannedReply, SupportRequest
from tests.factories import make_operator, make_site_user, make_staff, new_client_id

pytestmark = pytest.mark.django_db


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
