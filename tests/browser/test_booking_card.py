"""Booking in a real browser: the card, and only its «Подтвердить», makes a booking."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from tests.browser.personas import Visitor, screenshot
from tests.factories import make_operator, make_site_user, make_tour
from tests.fakes.openrouter import Reply, ToolCall
from tests.waiting import eventually
from tours.models import Booking, Tour

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


async def booking_count() -> int:
    return await Booking.objects.acount()


async def places_booked(tour: Tour) -> int:
    return (await Tour.objects.aget(pk=tour.pk)).places_booked


def card(visitor: Visitor):
    return visitor.widget.locator("form.booking")


def with_password(user):
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


async def test_an_anonymous_visitor_books_from_the_tour_pages_button(site):
    tour = await sync_to_async(make_tour)(
        title="Остров-град Свияжск", places_booked=5, max_participants=20
    )
    visitor = await site.visitor(tour.get_absolute_url())
    await visitor.page.get_by_role("button", name="Забронировать").click()

    form = card(visitor)
    await expect(form).to_be_visible()
    proposal = await form.get_attribute("data-proposal")
    # A reload brings the open card back (the panel stays open).
    await visitor.reload()
    await expect(form).to_have_attribute("data-proposal", proposal or "")
    await expect(form).to_contain_text("Остров-град Свияжск")
    await expect(form.locator(".booking-total")).to_contain_text("2 500")
    await form.get_by_label("Человек").fill("3")
    await expect(form.locator(".booking-total")).to_contain_text("7 500")
    await form.get_by_label("Ваше имя").fill("Анна Сафина")
    await form.get_by_label("Телефон или e-mail").fill("+7 917 123-45-67")
    await screenshot(visitor.page, "booking-card.png")
    # The server checks the contact: a bad phone is refused next to its field.
    await form.get_by_label("Телефон или e-mail").fill("12")
    await form.get_by_role("button", name="Подтвердить").click()
    await expect(form.locator(".form-error")).to_contain_text("не похоже на номер телефона")
    assert await booking_count() == 0

    await form.get_by_label("Телефон или e-mail").fill("+7 917 123-45-67")
    await form.get_by_role("button", name="Подтвердить").click()
    done = visitor.widget.locator('[data-kind="booking"]')
    await expect(done).to_contain_text("Бронь TT-")
    await expect(done).to_contain_text("Ожидает оплаты")
    # The log keeps the reference and the hold.
    await expect(visitor.messages("system").last).to_contain_text("30 мин")
    booking = await Booking.objects.aget()
    assert (booking.contact_name, booking.phone, booking.participants) == (
        "Анна Сафина",
        "+7 917 123-45-67",
        3,
    )
    await expect(done).to_contain_text(booking.reference)
    assert await places_booked(tour) == 8


async def test_a_logged_in_visitor_confirms_the_ai_card_and_sees_it_in_my_bookings(site, model):
    user = await sync_to_async(lambda: with_password(make_site_user(first_name="Руслан")))()
    tour = await sync_to_async(make_tour)(title="Болгар", place="Болгар")
    model.script(
        Reply(tool_calls=[ToolCall("propose_booking", {"slug": tour.slug, "participants": 2})]),
        Reply(text="Я подготовил карточку брони на двоих, проверьте её."),
        Reply(text="Чтобы забронировать, нажмите «Подтвердить» в карточке."),
    )
    visitor = await site.visitor(None)
    await visitor.page.goto(site.url(f"/accounts/login/?next={tour.get_absolute_url()}"))
    await visitor.page.locator("input[name=username]").fill(user.username)
    await visitor.page.locator("input[name=password]").fill(PASSWORD)
    await visitor.page.locator("input[name=password]").press("Enter")
    await expect(visitor.page).to_have_url(site.url(tour.get_absolute_url()))
    await visitor.open_chat()
    await visitor.say("Хочу забронировать Болгар на двоих")
    await visitor.wait_for_answer()
    form = card(visitor)
    await expect(form).to_be_visible()
    await expect(form.get_by_label("Ваше имя")).to_have_count(0)  # the account is the contact
    await expect(form.get_by_label("Человек")).to_have_value("2")

    # Typing "подтверждаю" is a message, not the click: the AI answers, nothing is booked.
    await visitor.say("Подтверждаю")
    await visitor.wait_for_answer(2)
    assert await booking_count() == 0

    await form.get_by_role("button", name="Подтвердить").click()
    await expect(visitor.widget.locator('[data-kind="booking"]')).to_contain_text("Бронь TT-")
    booking = await Booking.objects.aget()
    assert booking.user_id == user.pk

    await visitor.page.get_by_role("link", name="Мои бронирования").click()
    row = visitor.page.locator(f'tr[data-reference="{booking.reference}"]')
    await expect(row).to_contain_text("Болгар")
    await expect(row).to_contain_text("Ожидает оплаты")


async def test_the_operator_confirms_the_chats_booking_and_the_visitor_is_told(site):
    operator_user = await sync_to_async(lambda: with_password(make_operator(name="Айгуль")))()
    tour = await sync_to_async(make_tour)(title="Раифа")
    visitor = await site.visitor(tour.get_absolute_url())
    await visitor.page.get_by_role("button", name="Забронировать").click()
    form = card(visitor)
    await form.get_by_label("Ваше имя").fill("Анна")
    await form.get_by_label("Телефон или e-mail").fill("anna@example.com")
    await form.get_by_role("button", name="Подтвердить").click()
    await expect(visitor.widget.locator('[data-kind="booking"]')).to_contain_text("Бронь TT-")
    reference = (await Booking.objects.aget()).reference

    operator = await site.operator(operator_user.username, PASSWORD)
    await visitor.say("Позовите оператора, пожалуйста")
    await operator.take("Позовите оператора")
    row = operator.page.locator(f'#chat-bookings li[data-reference="{reference}"]')
    await expect(row).to_contain_text("Раифа")
    await row.get_by_role("button", name="Подтвердить").click()

    async def confirmed() -> bool:
        return (await Booking.objects.aget()).status == Booking.Status.CONFIRMED

    await eventually(confirmed)
    await expect(row).to_have_attribute("data-status", "confirmed")
    await expect(visitor.messages("system").last).to_contain_text(f"{reference} подтверждена")
