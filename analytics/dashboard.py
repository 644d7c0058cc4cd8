"""The charts of the analytics page, drawn from a Report."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from analytics.charts import (
    BLUE,
    GREEN,
    ORANGE,
    RED,
    TEAL,
    Series,
    bar_chart,
    line_chart,
    plain_number,
    ranking_chart,
)
from analytics.report import Report


@dataclass(frozen=True)
class Charts:
    volume: SafeString
    response_times: SafeString
    handoff_rate: SafeString
    csat: SafeString
    top_tours: SafeString
    top_words: SafeString
    tokens: SafeString


def _seconds(value: float) -> str:
    return plain_number(round(value, 1))


def _percent(value: float) -> str:
    return f"{plain_number(round(value))} %"


def build_charts(report: Report) -> Charts:
    days = report.days
    labels = [date_format(row.day, "d.m") for row in days]
    no_data = _("No data for this period")
    day_axis = _("Day")

    def ms_to_s(value: float | None) -> float | None:
        return None if value is None else value / 1000

    volume = bar_chart(
        _("Messages per day"),
        labels,
        [
            Series(_("Visitors"), [row.messages.get("visitor", 0) for row in days], BLUE),
            Series(_("AI assistant"), [row.messages.get("ai", 0) for row in days], ORANGE),
            Series(_("Operators"), [row.messages.get("operator", 0) for row in days], GREEN),
        ],
        unit=_("messages"),
        axis_title=day_axis,
        stacked=True,
        empty=no_data,
    )
    response_times = line_chart(
        _("AI answer time per day"),
        labels,
        [
            Series(_("Median"), [ms_to_s(row.answer_p50_ms) for row in days], BLUE),
            Series(_("95th percentile"), [ms_to_s(row.answer_p95_ms) for row in days], RED),
            Series(
                _("First token, median"), [ms_to_s(row.first_token_p50_ms) for row in days], TEAL
            ),
        ],
        unit=_("seconds"),
        axis_title=day_axis,
        fmt=_seconds,
        empty=no_data,
    )
    handoff_rate = bar_chart(
        _("Conversations handed to operators"),
        labels,
        [
            Series(
                _("Handed off"),
                [None if row.handoff_rate is None else row.handoff_rate * 100 for row in days],
                ORANGE,
            )
        ],
        unit=_("share of conversations") + ", %",
        axis_title=day_axis,
        integer=False,
        fmt=_percent,
        maximum=100,
        empty=no_data,
    )
    scores = [str(score) for score in range(1, 6)]
    csat = bar_chart(
        _("Ratings by score"),
        scores,
        [
            Series(_("AI only"), [report.csat.ai_only.distribution[s] for s in range(1, 6)], BLUE),
            Series(
                _("With an operator"),
                [report.csat.operator.distribution[s] for s in range(1, 6)],
                GREEN,
            ),
        ],
        unit=_("ratings"),
        axis_title=_("Score (1 = very bad, 5 = excellent)"),
        empty=no_data,
    )
    top_tours = ranking_chart(
        _("Most asked-about tours"),
        [tour.title for tour in report.top_tours],
        [tour.conversations for tour in report.top_tours],
        unit=_("conversations"),
        empty=no_data,
    )
    words = report.top_words[:15]
    top_words = ranking_chart(
        _("Most frequent words in visitor messages"),
        [word.word for word in words],
        [word.messages for word in words],
        unit=_("messages"),
        color=TEAL,
        empty=no_data,
    )
    tokens = bar_chart(
        _("AI tokens per day"),
        labels,
        [
            Series(_("Prompt"), [row.prompt_tokens for row in days], BLUE),
            Series(_("Completion"), [row.completion_tokens for row in days], ORANGE),
        ],
        unit=_("tokens"),
        axis_title=day_axis,
        stacked=True,
        empty=no_data,
    )
    return Charts(volume, response_times, handoff_rate, csat, top_tours, top_words, tokens)
