"""The offline form carries the visitor's real question, not their request for a person."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]


async def test_asking_for_a_person_in_words_prefills_the_question_asked_before(site, model):
    model.reply = "Туров в Болгар на майские пока нет."
    visitor = await site.visitor("/")
    await visitor.open_chat()
    await visitor.say("Есть ли туры в Болгар на майские?")
    await visitor.wait_for_answer()
    await visitor.say("Позовите оператора")  # nobody is online: the form is offered

    form = visitor.panel.locator("form.offline")
    await expect(form).to_contain_text("Сейчас нет операторов")
    await expect(form.get_by_label("Вопрос")).to_have_value("Есть ли туры в Болгар на майские?")
