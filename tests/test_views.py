"""dashboard/views.py: a view's address, parsed from outside and written back."""
from __future__ import annotations

from datetime import datetime

import pytest

from dashboard import views


def test_parse_keeps_the_view_and_drops_the_frame():
    view = views.parse("http://wall-pc:8050/sla?period=7d&area=329902&as_of=2026-11-20T15:00&lang=en&embed=1")
    assert view == views.View("/sla", (("area", "329902"), ("period", "7d")))
    assert view.get("area") == "329902" and view.get("norm") is None and view.freezable


def test_url_round_trip_with_cut_off_language_and_frame():
    view = views.parse("rankings?level=street&period=2026-10")
    url = view.url(as_of=datetime(2026, 11, 20, 15, 0, 42), lang="en", embed=True)
    assert url == "/rankings?level=street&period=2026-10&as_of=2026-11-20T15%3A00&lang=en&embed=1"
    assert views.parse(url) == view
    assert views.as_of_of(url) == datetime(2026, 11, 20, 15, 0)
    assert views.lang_of(url) == "en"
    assert views.parse("/").url() == "/" and not views.parse("/backlog").freezable


def test_blank_values_are_dropped():
    assert views.parse("/?area=&metric=overdue") == views.View("/", (("metric", "overdue"),))


@pytest.mark.parametrize("text, words", [
    (None, "must be text"),
    (42, "must be text"),
    ("", "empty"),
    ("   ", "empty"),
    ("/" + "a" * 2001, "at most 2000"),
    ("/admin/users", "not a page"),
    ("/../etc/passwd", "not a page"),
    ("javascript:alert(1)", "not a javascript: link"),
    ("file:///etc/passwd", "not a file: link"),
    ("/sla?area=1&area=2", "appears twice"),
    ("/sla?evil=1", "has no setting 'evil'"),
    ("/sla?area=" + "9" * 201, "longer than 200"),
    ("/sla?area=32%00", "control characters"),
    ("/sla?area=32\u202e99", "control characters"),
    ("/sla\n?area=1", "control characters"),
    ("/sla?area", "cannot be read"),
    ("/sla?" + "&".join(f"area{i}=1" for i in range(50)), "cannot be read"),
])
def test_parse_refuses_what_is_not_a_view(text, words):
    with pytest.raises(ValueError, match=words):
        views.parse(text)


@pytest.mark.parametrize("text", ["/?as_of=yesterday", "/?as_of=2026-11-20T15:00+08:00", "/?as_of=1999-12-31T23:59",
                                  "/?as_of=2026-11-20T15:00&as_of=2026-11-21T15:00", "/?as_of=" + "1" * 40, None])
def test_a_bad_cut_off_is_none(text):
    assert views.as_of_of(text) is None


def test_a_cut_off_after_now_is_none():
    assert views.as_of_of("/?as_of=2026-11-21T00:00", now=datetime(2026, 11, 20, 15)) is None
    assert views.as_of_of("/?as_of=2026-11-20T14:59:59", now=datetime(2026, 11, 20, 15)) == datetime(2026, 11, 20, 14, 59)
    assert views.lang_of("/?lang=fr") is None
