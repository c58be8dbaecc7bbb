"""The overview in headless Chromium on the hand city: drill down by clicking the map, back by the breadcrumb."""
from __future__ import annotations

import re

import pytest

from tests import handcity

pytestmark = pytest.mark.browser

DISTRICT, STREET, COMMUNITY = "329902", "329902001", "329902001001"
BUILDING = handcity.A1 + "002"

# (code clicked, breadcrumb shown after, KPI tiles: reported today, open, overdue, closed, on-time rate, median h)
DRILL = [
    (DISTRICT, "云州市 › 东城区", ("3", "3", "1", "3", "25.0%", "6.5")),
    (STREET, "云州市 › 东城区 › 东街街道", ("3", "2", "1", "2", "33.3%", "3.7")),
    (COMMUNITY, "云州市 › 东城区 › 东街街道 › 东街社区", ("3", "2", "1", "2", "33.3%", "3.7")),
    (handcity.A1, "云州市 › 东城区 › 东街街道 › 东街社区 › 东街第01网格", ("1", "1", "1", "2", "33.3%", "3.7")),
]
CITY_TILES = ("5", "5", "2", "3", "20.0%", "6.5")
TILE_KEYS = ("reported_today", "open", "overdue", "closed", "on_time_rate", "median_hours")


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def feature(page, code: str):
    return page.locator(f"path.gcc-code-{code}")


def crumb_names(page) -> str:
    return " › ".join(page.locator("#overview-breadcrumb .ovw-crumb-name").all_inner_texts())


def assert_tiles(page, values) -> None:
    for key, value in zip(TILE_KEYS, values):
        expect()(page.locator(f'[data-kpi="{key}"] .ovw-kpi-value')).to_have_text(value)


def assert_breadcrumb(page, text: str) -> None:
    expect()(page.locator("#overview-breadcrumb .ovw-crumb-current .ovw-crumb-name")).to_have_text(text.split(" › ")[-1])
    assert crumb_names(page) == text


FIT = """() => {
    const box = document.querySelector('#overview-map').getBoundingClientRect();
    const focus = document.querySelector('path.gcc-focus');  // the area's own outline (none for the top area)
    const parts = (focus ? [focus] : [...document.querySelectorAll('path.gcc-feature')]).map(e => e.getBoundingClientRect());
    const left = Math.min(...parts.map(r => r.left)), right = Math.max(...parts.map(r => r.right));
    const top = Math.min(...parts.map(r => r.top)), bottom = Math.max(...parts.map(r => r.bottom));
    const inside = left >= box.left - 1 && right <= box.right + 1 && top >= box.top - 1 && bottom <= box.bottom + 1;
    const centred = Math.abs((left + right - box.left - box.right) / 2) < box.width * 0.05
        && Math.abs((top + bottom - box.top - box.bottom) / 2) < box.height * 0.05;
    return inside && centred && Math.max((right - left) / box.width, (bottom - top) / box.height) > 0.6;
}"""


def assert_map_fits_the_area(page) -> None:
    """The area in view (its outline, or its children at the top) is centred, large, and inside the map."""
    page.wait_for_function(FIT, timeout=5000)


NOTHING_CLIPPED = """() => {
    const page = document.documentElement, side = document.querySelector('.ovw-side');
    return page.scrollHeight <= window.innerHeight && page.scrollWidth <= window.innerWidth
        && side.scrollHeight <= side.clientHeight + 1;
}"""


def open_overview(page, base: str, query: str = "") -> None:
    page.goto(base + "/" + query)
    expect()(page.locator("#overview-breadcrumb .ovw-crumb-current")).to_be_visible()


def test_ovw001_drill_city_to_building_and_back(watched):
    page, watch, base = watched
    open_overview(page, base)
    expect()(page.locator("#shell-as-of")).to_have_text("数据截至 15:00:00")
    expect()(page.locator("#shell-clock")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    assert_breadcrumb(page, "云州市")
    assert_tiles(page, CITY_TILES)
    for code, trail, tiles in DRILL:
        feature(page, code).click()
        assert_breadcrumb(page, trail)
        assert_tiles(page, tiles)
        assert_map_fits_the_area(page)
        assert f"area={code}" in page.url
    feature(page, BUILDING).click()
    assert_breadcrumb(page, DRILL[-1][1] + " › 2号楼")
    card = page.locator("#overview-building-card")
    expect()(card).to_be_visible()
    expect()(card.locator('[data-fact="households"]')).to_have_text("150")
    expect()(card.locator('[data-fact="floors"]')).to_have_text("7")
    expect()(card.locator('[data-fact="open"]')).to_have_text("1")
    expect()(card.locator('[data-fact="overdue_count"]')).to_have_text("1")
    expect()(card.locator("tbody tr")).to_have_count(1)
    assert page.evaluate(NOTHING_CLIPPED)
    assert f"building={BUILDING}" in page.url
    page.locator("#overview-breadcrumb button.ovw-crumb", has_text="东街第01网格").click()
    assert_breadcrumb(page, DRILL[-1][1])
    expect()(card).to_be_hidden()
    page.locator("#overview-breadcrumb button.ovw-crumb", has_text="云州市").click()
    assert_breadcrumb(page, "云州市")
    assert_tiles(page, CITY_TILES)
    expect()(feature(page, DISTRICT)).to_be_visible()
    assert_map_fits_the_area(page)
    assert "area=" not in page.url
    assert watch.errors == [] and watch.offsite == []


def test_ovw002_language_switch_keeps_area(watched):
    page, watch, base = watched
    open_overview(page, base)
    feature(page, DISTRICT).click()
    assert_breadcrumb(page, "云州市 › 东城区")
    page.locator("#shell-lang-en").click()
    expect()(page.locator("#shell-title")).to_have_text("Overview")
    expect()(page.locator("#shell-as-of")).to_have_text("Data as of 15:00:00")
    expect()(page.locator('[data-kpi="open"] .ovw-kpi-label')).to_have_text("Open")
    expect()(page.locator(".ovw-legend-title")).to_have_text("Open")
    assert_breadcrumb(page, "云州市 › 东城区")
    assert_tiles(page, DRILL[0][2])
    assert re.search(r"[?&]lang=en", page.url) and "area=329902" in page.url
    page.locator("#shell-lang-zh").click()
    expect()(page.locator("#shell-title")).to_have_text("综合态势")
    expect()(page.locator('[data-kpi="open"] .ovw-kpi-label')).to_have_text("在办")
    assert_breadcrumb(page, "云州市 › 东城区")
    assert "lang=" not in page.url
    assert watch.errors == [] and watch.offsite == []


def test_ovw003_no_console_errors_no_offsite_requests(watched):
    page, watch, base = watched
    open_overview(page, base, "?area=329999&lang=en")
    expect()(page.locator("#overview-notice")).to_contain_text("329999")
    assert_breadcrumb(page, "云州市")
    feature(page, "329903").hover()
    expect()(page.locator(".gcc-tooltip")).to_contain_text("西城区")
    page.locator("#overview-metric label", has_text="Overdue").click()
    expect()(page.locator(".ovw-legend-title")).to_have_text("Overdue")
    feature(page, "329903").click()
    assert_breadcrumb(page, "云州市 › 西城区")
    page.set_viewport_size({"width": 1366, "height": 768})
    feature(page, handcity.C2[:9]).click()
    assert_breadcrumb(page, "云州市 › 西城区 › 西湖街道")
    page.wait_for_load_state("networkidle")
    assert page.evaluate(NOTHING_CLIPPED)
    assert watch.offsite == []
    assert watch.errors == []


def test_ovw004_metric_switch_recolours_without_refetching(watched):
    page, watch, base = watched
    open_overview(page, base)
    east, west = feature(page, DISTRICT), feature(page, "329903")
    expect()(east).to_have_attribute("fill", "#bd0026")  # open 3: the top class
    expect()(west).to_have_attribute("fill", "#ffffb2")  # open 2
    page.wait_for_load_state("networkidle")
    fetched = list(watch.geo)
    assert fetched == ["/geo/children/329900.json"]
    page.locator("#overview-metric label", has_text="30日按期率").click()
    expect()(page.locator(".ovw-legend-title")).to_have_text("30日按期率")
    # On-time rate is reversed: 西城区 0.0% is the bad (dark) class, 东城区 25.0% the light one.
    expect()(west).to_have_attribute("fill", "#bd0026")
    expect()(east).to_have_attribute("fill", "#ffffb2")
    expect()(page.locator(".ovw-legend-rows")).to_contain_text("25.0%")
    east.hover()
    expect()(page.locator(".gcc-tooltip")).to_contain_text("25.0%")
    page.wait_for_load_state("networkidle")
    assert watch.geo == fetched
    assert "metric=on_time_rate" in page.url
