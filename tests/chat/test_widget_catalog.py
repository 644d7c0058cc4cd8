"""The widget's strings: Django's djangojs catalog, served as JSON to any origin."""

from __future__ import annotations

from django.urls import reverse


def test_catalog_is_russian_for_a_russian_page(client):
    response = client.get(reverse("widget-i18n"), {"lang": "ru"})
    assert response.status_code == 200
    catalog = response.json()["catalog"]
    assert catalog["Call an operator"] == "Позвать оператора"
    assert catalog["Send"] == "Отправить"


def test_catalog_follows_the_page_language_not_the_browser(client):
    response = client.get(reverse("widget-i18n"), {"lang": "en"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert "Call an operator" not in response.json()["catalog"]


def test_unknown_language_falls_back_to_negotiation(client):
    response = client.get(reverse("widget-i18n"), {"lang": "de"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.json()["catalog"]["Send"] == "Отправить"


def test_catalog_may_be_read_by_a_partner_site(client):
    response = client.get(
        reverse("widget-i18n"), {"lang": "ru-RU"}, HTTP_ORIGIN="https://partner.example"
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age=3600" in response["Cache-Control"]
    assert response.json()["catalog"]["Send"] == "Отправить"
