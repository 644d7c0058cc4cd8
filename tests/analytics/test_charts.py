"""The SVG charts: round axis steps, escaped text, gaps for missing values."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from analytics.charts import BLUE, Series, bar_chart, line_chart, nice_scale, ranking_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


# The step is the first of 1, 2, 2.5, 5, 10 x 10^k that is at least maximum / 5.
@pytest.mark.parametrize(
    ("maximum", "integer", "expected"),
    [
        (87, True, (100, 20)),
        (7, True, (8, 2)),
        (0.9, False, (1.0, 0.2)),
        (1234, True, (1250, 250)),
        (0, True, (5, 1)),
    ],
)
def test_axes_end_on_round_numbers(maximum: float, integer: bool, expected: tuple) -> None:
    top, step = nice_scale(maximum, integer=integer)

    assert (top, step) == pytest.approx(expected)


def test_labels_from_the_database_are_escaped() -> None:
    svg = ranking_chart("Топ", ['<script>alert("x")</script>'], [3], unit="разговоров")

    assert "<script>" not in svg
    root = parse(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert '<script>alert("x")</script>' in texts  # shown as text, not markup


def test_bars_have_axes_units_and_a_tooltip_per_bar() -> None:
    svg = bar_chart(
        "Сообщения по дням",
        ["01.03", "02.03"],
        [Series("Посетители", [4, 10], BLUE)],
        unit="сообщений",
        axis_title="День",
    )

    root = parse(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Сообщения по дням", "сообщений", "День", "01.03", "02.03", "0"} <= set(texts)
    tooltips = [t.text for t in root.iter(f"{SVG}title")]
    assert "02.03 · Посетители: 10 сообщений" in tooltips


def test_a_missing_value_breaks_the_line_instead_of_dropping_to_zero() -> None:
    svg = line_chart(
        "Время ответа",
        ["01.03", "02.03", "03.03"],
        [Series("Медиана", [1.5, None, 2.0], BLUE)],
        unit="секунды",
        axis_title="День",
    )

    root = parse(svg)
    assert len(list(root.iter(f"{SVG}polyline"))) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 2


def test_an_empty_chart_says_so() -> None:
    svg = bar_chart(
        "Оценки",
        ["1", "2"],
        [Series("Все", [0, 0], BLUE)],
        unit="оценок",
        axis_title="Балл",
        empty="Нет данных за этот период",
    )

    assert "Нет данных за этот период" in svg
