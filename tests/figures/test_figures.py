"""Chart builders and the label catalogue: rows in, figures out."""
from __future__ import annotations

import json
from datetime import date

import plotly.graph_objects as go
import pytest

from dashboard import figures, i18n
from queries.overview import CategoryCount, DayCount

ROWS = [
    CategoryCount("0505", "机动车乱停放", "街面秩序", 4),
    CategoryCount("0102", "暴露垃圾", "市容环境", 1),
    CategoryCount("0110", "道路破损", "市容环境", 1),
]


def test_categories_figure_puts_the_most_reported_on_top():
    fig = figures.categories_figure(ROWS, "zh")
    (bar,) = fig["data"]
    assert bar["orientation"] == "h"
    assert list(bar["y"]) == ["道路破损", "暴露垃圾", "机动车乱停放"]
    assert list(bar["x"]) == [1, 1, 4]
    assert [list(c) for c in bar["customdata"]][-1] == ["0505", "街面秩序"]
    assert fig["layout"]["xaxis"]["range"] == [0, pytest.approx(4.8)]  # room for the "4" beside the longest bar


@pytest.mark.parametrize("lang, text", [("zh", "近30日无上报"), ("en", "Nothing reported in the last 30 days")])
def test_categories_figure_empty_says_so(lang, text):
    fig = figures.categories_figure([], lang)
    assert fig["data"] == []
    assert fig["layout"]["annotations"][0]["text"] == text


def test_trend_figure_has_reported_and_closed_by_day():
    rows = [DayCount(date(2026, 11, 19), 1, 1), DayCount(date(2026, 11, 20), 5, 1)]
    fig = figures.trend_figure(rows, "en")
    assert [trace["name"] for trace in fig["data"]] == ["Reported", "Closed"]
    assert list(fig["data"][0]["x"]) == ["2026-11-19", "2026-11-20"]
    assert list(fig["data"][0]["y"]) == [1, 5] and list(fig["data"][1]["y"]) == [1, 1]
    assert [t["name"] for t in figures.trend_figure(rows, "zh")["data"]] == ["上报", "办结"]


@pytest.mark.parametrize("top, step", [(1, 1), (5, 1), (6, 2), (10, 2), (11, 5), (26, 10), (60, 20), (1200, 500)])
def test_count_axis_steps_are_whole_numbers(top, step):
    assert figures.count_step(top) == step


def test_trend_axis_never_shows_half_events():
    rows = [DayCount(date(2026, 11, 19), 2, 0), DayCount(date(2026, 11, 20), 1, 1)]
    assert figures.trend_figure(rows, "zh")["layout"]["yaxis"]["dtick"] == 1


def test_trend_figure_of_a_quiet_area_is_a_note_not_a_broken_chart():
    fig = figures.trend_figure([DayCount(date(2026, 11, 20), 0, 0)], "zh")
    assert fig["data"] == []
    assert fig["layout"]["annotations"][0]["text"] == "近30日无上报、无办结"


def test_figures_are_lean_and_local():
    fig = figures.categories_figure(ROWS, "zh")
    size = len(json.dumps(fig, default=str))
    assert size < 3000, size  # the default template alone would add ~6.4 KB
    assert fig["layout"]["template"]["layout"]["font"]["family"].startswith('"Noto Sans CJK SC"')
    go.Figure(fig)  # and it is a valid plotly figure (validation raises otherwise)
    go.Figure(figures.trend_figure([DayCount(date(2026, 11, 20), 1, 0)], "zh"))
    assert figures.GRAPH_CONFIG["displaylogo"] is False


def test_catalogue_has_both_languages_for_every_label():
    for key, pair in i18n.CATALOGUE.items():
        assert len(pair) == 2 and all(pair), key
    assert i18n.t("kpi.open") == "在办"
    assert i18n.t("kpi.open", "en") == "Open"
    assert i18n.t("kpi.open", "fr") == "在办"
    assert [i18n.level_name(level) for level in range(6)] == ["市", "区", "街道", "社区", "网格", "楼栋"]
    assert i18n.t("notice.unknown_area", "en", code="1", name="云州市").startswith("Area 1 ")


@pytest.mark.parametrize("search, lang", [("", "zh"), (None, "zh"), ("?lang=en", "en"), ("?area=1&lang=en", "en"),
                                          ("?lang=xx", "zh")])
def test_lang_from_search(search, lang):
    assert i18n.lang_from_search(search) == lang
