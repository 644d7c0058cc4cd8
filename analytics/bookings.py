"""Bookings made in the chat: the figures of docs/metrics.md, "Bookings from the chat".

A **chat booking** is a `tours.Booking` made by the chat's confirmation card
(it has a `chat.BookingProposal`), counted on the day it was made
(`Booking.created_at`) whatever became of it later (confirmed, cancelled,
expired). It was made **without an operator** if no operator had taken the
chat (`SupportRequest.assigned_at`) at or before that moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from analytics.metrics import Period, _conversations_cte, _fetch, _ratio, _table
from chat.models import BookingProposal
from support.models import SupportRequest
from tours.models import Booking, Tour


@dataclass(frozen=True)
class TourBookings:
    slug: str
    title: str
    bookings: int
    places: int


@dataclass(frozen=True)
class ChatBookings:
    conversations: int  # conversations of the period (docs/metrics.md, "Conversation")
    with_booking: int  # of them, those with a chat booking made in the period
    bookings: int  # chat bookings made in the period
    without_operator: int  # of them, made before any operator took the chat
    places: int
    per_tour: list[TourBookings] = field(default_factory=list)

    @property
    def booking_rate(self) -> float | None:
        return _ratio(self.with_booking, self.conversations)

    @property
    def without_operator_share(self) -> float | None:
        return _ratio(self.without_operator, self.bookings)


def _chat_bookings_sql(where: str) -> str:
    """Chat bookings (session, tour, places, alone) matching `where` on the booking `b`."""
    bookings, proposals, requests = _table(Booking), _table(BookingProposal), _table(SupportRequest)
    return f"""
        SELECT p.session_id, b.tour_id, b.participants,
            NOT EXISTS (
                SELECT 1 FROM {requests} r WHERE r.session_id = p.session_id
                AND r.assigned_at IS NOT NULL AND r.assigned_at <= b.created_at
            ) AS alone
        FROM {bookings} b JOIN {proposals} p ON p.booking_id = b.id
        WHERE {where}
    """  # noqa: S608 - table names come from the models, values are parameters


def chat_bookings(period: Period, limit: int = 10) -> ChatBookings:
    """What the chat booked in `period`, and how many of its conversations led to a booking."""
    tours = _table(Tour)
    in_period = "b.created_at >= %(start)s AND b.created_at < %(end)s"
    sql = f"""
        WITH {_conversations_cte()},
        made AS ({_chat_bookings_sql(in_period)})
        SELECT
            (SELECT count(*) FROM conv),
            (SELECT count(DISTINCT made.session_id) FROM made JOIN conv USING (session_id)),
            (SELECT count(*) FROM made),
            (SELECT count(*) FROM made WHERE alone),
            (SELECT coalesce(sum(participants), 0) FROM made)
    """  # noqa: S608
    params = period.sql_params()
    conversations, with_booking, count, alone, places = _fetch(sql, params)[0]
    per_tour_sql = f"""
        WITH made AS ({_chat_bookings_sql(in_period)})
        SELECT t.slug, t.title, count(*) AS n, sum(made.participants)
        FROM made JOIN {tours} t ON t.id = made.tour_id
        GROUP BY t.slug, t.title ORDER BY n DESC, t.slug LIMIT %(limit)s
    """  # noqa: S608
    per_tour = [
        TourBookings(slug, title, n, int(p))
        for slug, title, n, p in _fetch(per_tour_sql, {**params, "limit": limit})
    ]
    return ChatBookings(conversations, with_booking, count, alone, int(places), per_tour)


class ChatBookingsCollector(Collector):
    """/metrics: chat bookings since the start, read from Postgres at scrape time.

    Every process reports the same true totals (no per-process counters):
    `tatartours_chat_bookings_total{tour, operator}` with operator `none`
    (made without an operator) or `involved`, and
    `tatartours_chat_conversations_with_booking` (chat sessions with at least one).
    """

    def collect(self) -> Iterator[Metric]:
        tours, made = _table(Tour), _chat_bookings_sql("TRUE")
        rows = _fetch(
            f"""
            WITH made AS ({made})
            SELECT t.slug, made.alone, count(*)
            FROM made JOIN {tours} t ON t.id = made.tour_id
            GROUP BY t.slug, made.alone ORDER BY t.slug
            """,  # noqa: S608
            {},
        )
        sessions = _fetch(
            f"WITH made AS ({made}) SELECT count(DISTINCT session_id) FROM made",  # noqa: S608
            {},
        )[0][0]
        total = CounterMetricFamily(
            "tatartours_chat_bookings",
            "Bookings made with the chat's confirmation card, by tour and whether an operator "
            "had taken the chat before (operator=involved) or not (operator=none).",
            labels=["tour", "operator"],
        )
        for slug, alone, count in rows:
            total.add_metric([slug, "none" if alone else "involved"], count)
        yield total
        yield GaugeMetricFamily(
            "tatartours_chat_conversations_with_booking",
            "Chat sessions in which at least one booking was made with the card.",
            value=sessions,
        )
