"""The admin reads as the site's own, in Russian: branding, headers, labels, names.

Every registered list and a transcript's page are walked with data in them;
every column header, filter title and field label must be Russian, the
operator is named as visitors see them ("Алия"), not by login, and counts
never read "20 туры".
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat.models import ChatMessage, ChatSession, Rating
from support.models import CannedReply, OfflineTicket, SupportRequest
from tests.factories import make_operator, make_site_user, make_tour, new_client_id
from tours.models import Booking

pytestmark = pytest.mark.django_db

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
BORROWED = {"E-mail", "E-mail:"}  # written so in Russian too


@pytest.fixture
def staff(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", password=None))
    return client


@pytest.fixture
def chat() -> ChatSession:
    """A visitor on a tour page who talked to the AI, then to the operator Алия."""
    tour = make_tour(title="Остров-град Свияжск")
    visitor = make_site_user("guest")
    alia = make_operator("alia-login", name="Алия")
    session = ChatSession.objects.create(
        token_hash=new_client_id(), token_expires_at=timezone.now(), user=visitor, tour=tour
    )
    ChatMessage.objects.create(session=session, author="visitor", text="Здравствуйте")
    ChatMessage.objects.create(session=session, author="ai", text="Чем помочь?")
    ChatMessage.objects.create(session=session, author="operator", operator=alia, text="Я тут")
    request = SupportRequest.objects.create(
        session=session, operator=alia, status="closed", queued_at=timezone.now()
    )
    Rating.objects.create(session=session, support_request=request, score=5)
    OfflineTicket.objects.create(
        session=session, name="Мария", phone="+79001234567", question="Есть места?"
    )
    CannedReply.objects.create(title="Приветствие", text="Здравствуйте!")
    Booking.objects.create(tour=tour, user=visitor, contact_name="Мария", participants=2)
    return session


def texts(html: str, pattern: str) -> list[str]:
    found = (re.sub(r"<[^>]+>", " ", m) for m in re.findall(pattern, html, re.DOTALL))
    return [" ".join(unescape(text).split()) for text in found]


def english(labels: list[str]) -> list[str]:
    return [
        label for label in labels if label and label not in BORROWED and not CYRILLIC.search(label)
    ]


def test_every_list_has_russian_headers_filters_and_branding(staff, chat):
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        html = staff.get(url).content.decode()
        headers = texts(html, r'<th scope="col"[^>]*>(.*?)</th>')
        assert headers, url
        assert english(headers) == [], url
        assert (
            english(
                texts(html, r'<details data-filter-title="[^"]*"[^>]*>\s*<summary>(.*?)</summary>')
            )
            == []
        ), url
        assert "Туры по Татарстану" in html and "Django" not in html, url
        count = texts(html, r'<p class="paginator">(.*?)</p>')
        assert count and re.fullmatch(r"Всего: \d+", count[0]), (url, count)


def test_a_transcript_names_rows_and_operators_as_people_read_them(staff, chat):
    html = staff.get(f"/admin/chat/chatsession/{chat.pk}/change/").content.decode()
    labels = texts(html, r"<label[^>]*>(.*?)</label>")
    assert english(labels) == []
    assert "Пользователь сайта:" in labels and "Тур:" in labels
    # Inline rows are titled by the author's Russian name, not "visitor: …".
    titles = texts(html, r'<td class="original">\s*<p>(.*?)</p>')
    assert titles[-3:] == [
        "Посетитель: Здравствуйте",
        "ИИ-ассистент: Чем помочь?",
        "Оператор: Я тут",
    ]
    assert "Алия" in html and "alia-login" not in html


def test_support_requests_name_and_filter_the_operator_by_display_name(staff, chat):
    html = staff.get("/admin/support/supportrequest/").content.decode()
    assert "Алия" in html and "alia-login" not in html
    filtered = staff.get(
        "/admin/support/supportrequest/",
        {"operator__id__exact": chat.support_requests.get().operator_id},
    )
    assert filtered.status_code == 200
    assert "Всего: 1" in " ".join(filtered.content.decode().split())
