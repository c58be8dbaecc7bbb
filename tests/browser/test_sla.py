"""The SLA page in headless Chromium on the hand city (NOW = 2026-11-20 15:00, frozen): it loads in Chinese with its
numbers, a click on a bar or a tile opens the list of its cases, and English works.

Expected figures by hand (tests/callbacks/test_sla_page.py has the working): open cases red 2 (3, 9), green 2,
not dispatched 1, turning red within 2 h 1; by sub-area over 30 days 东城区 按期处置率 2/5 = 40.0 % (handled 1, 2, 6,
7 and the overdue 3). Every test asserts that no request left the machine and no console error was logged.
"""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_watched, sign_in

pytestmark = pytest.mark.browser

LOAD_MS = 20_000


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def tile(page, key: str):
    return page.locator(f'[data-light="{key}"] .sla-tile-value')


def open_sla(page, base: str, query: str = "") -> None:
    page.goto(base + "/sla" + query)
    expect()(tile(page, "red")).to_have_text("2", timeout=LOAD_MS)


def click_centre(page, locator) -> None:
    """Click the middle of a plotly mark (plotly listens on the plot area above the marks, not on them)."""
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


@pytest.fixture
def sla_page(browser, live_url):
    context, page, watch = open_watched(browser)
    sign_in(page, live_url)
    yield page, watch, live_url
    context.close()


def test_sla201_loads_in_chinese_with_numbers(sla_page):
    page, watch, base = sla_page
    open_sla(page, base)
    for key, value in (("yellow", "0"), ("green", "2"), ("none", "1"), ("turning_red_2h", "1")):
        expect()(tile(page, key)).to_have_text(value, timeout=LOAD_MS)
    expect()(page.locator("#shell-title")).to_have_text("按期率分析")
    expect()(page.locator("#sla-breadcrumb .ovw-crumb-current .ovw-crumb-name")).to_have_text("云州市")
    expect()(page.locator("#sla-split")).to_contain_text("0.0%  0/3", timeout=LOAD_MS)
    expect()(page.locator("#sla-funnel text.funnel-text, #sla-funnel text").first).to_be_visible(timeout=LOAD_MS)
    assert "7 · 100.0%" in page.locator("#sla-funnel").inner_text()
    expect()(page.locator("#sla-funnel-table tr[data-stage='handle'] td").nth(3)).to_have_text("2.0小时")
    expect()(page.locator("#sla-handling .heatmaplayer")).to_have_count(1)
    assert "实时" in page.locator("#sla-as-of").inner_text()
    assert page.locator(".sla").get_attribute("lang") == "zh-CN"
    assert watch.offsite == [] and watch.errors == []


def test_sla202_a_bar_opens_its_cases(sla_page):
    page, watch, base = sla_page
    open_sla(page, base)
    page.locator("label[for]", has_text="下级区域").first.click()
    expect()(page.locator("#sla-split")).to_contain_text("40.0%  2/5", timeout=LOAD_MS)
    handle = page.locator("#sla-split .trace.bars").nth(1).locator(".point path")
    east = [i for i in range(handle.count()) if (handle.nth(i).bounding_box() or {}).get("width", 0) > 2]
    assert len(east) == 1  # 西城区 has no rate (0/0): no bar
    click_centre(page, handle.nth(east[0]))
    expect()(page.locator("#sla-cases-count")).to_have_text("共 5 件", timeout=LOAD_MS)
    expect()(page.locator("#sla-cases-title")).to_contain_text("按期处置率 · 东城区")
    expect()(page.locator(".sla-cases-grid .ag-row")).to_have_count(5)
    ids = sorted(int(x) for x in page.locator(".sla-cases-grid .ag-row [col-id='id']").all_inner_texts())
    assert ids == [1, 2, 3, 6, 7]
    # A case's number opens its detail (the reporter masked, no "show" button here).
    page.locator(".sla-cases-grid .ag-row [col-id='id']", has_text="3").first.click()
    expect()(page.locator("#sla-detail-body")).to_contain_text("东街第01网格", timeout=LOAD_MS)
    expect()(page.locator("#sla-detail-body button[id*='reveal']")).to_have_count(0)
    assert watch.offsite == [] and watch.errors == []


def test_sla203_a_tile_opens_its_cases_and_english(sla_page):
    page, watch, base = sla_page
    open_sla(page, base, "?lang=en")
    expect()(page.locator('[data-light="red"] .sla-tile-label')).to_have_text("Late")
    page.locator('[data-light="red"]').click()
    expect()(page.locator("#sla-cases-count")).to_have_text("2 cases", timeout=LOAD_MS)
    rows = page.locator(".sla-cases-grid .ag-row")
    expect()(rows).to_have_count(2)
    assert sorted(int(x) for x in page.locator(".sla-cases-grid .ag-row [col-id='id']").all_inner_texts()) == [3, 9]
    assert set(page.locator(".sla-cases-grid .ag-row [col-id='light']").all_inner_texts()) == {"✕ Late"}
    assert watch.offsite == [] and watch.errors == []


def test_sla207_drill_down_and_back(sla_page):
    page, watch, base = sla_page
    open_sla(page, base)
    page.select_option("#sla-child", "329902")
    current = page.locator("#sla-breadcrumb .ovw-crumb-current .ovw-crumb-name")
    expect()(current).to_have_text("东城区", timeout=LOAD_MS)
    expect()(tile(page, "red")).to_have_text("1", timeout=LOAD_MS)  # 东城区: 3 (9 is 西城区's)
    assert "area=329902" in page.url
    page.locator("#sla-breadcrumb button.ovw-crumb").first.click()
    expect()(current).to_have_text("云州市", timeout=LOAD_MS)
    expect()(tile(page, "red")).to_have_text("2", timeout=LOAD_MS)
    assert watch.offsite == [] and watch.errors == []


def test_sla204_a_street_operator_cannot_look_at_another_district(browser, live_url):
    context, page, watch = open_watched(browser)
    try:
        sign_in(page, live_url, "dongjie")
        page.goto(live_url + "/sla?area=329903")
        expect()(page.locator("#sla-breadcrumb .ovw-crumb-current .ovw-crumb-name")).to_have_text("东街街道",
                                                                                                 timeout=LOAD_MS)
        expect()(page.locator("#sla-notice")).to_contain_text("329903")
        expect()(tile(page, "red")).to_have_text("1", timeout=LOAD_MS)  # 东街街道's open cases: 3 (overdue), 4
        assert watch.offsite == [] and watch.errors == []
    finally:
        context.close()


# -- live ---------------------------------------------------------------------------------------------------------

def post_report(base: str, hand_app, n: int) -> None:
    """POST one hotline report in grid A1 (东城区), reported 14:59:59 and not dispatched."""
    import requests

    from queries import tokens
    from tests import handcity

    with hand_app.server.extensions["gridcc"].engine.begin() as conn:
        token = tokens.create_token(conn, name=f"sla-live-{n}", now=handcity.NOW)
    body = {"id": f"SLA-LIVE-{n}", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:59:59+08:00",
            "lat": 31.1, "lon": 120.02, "description": "井盖缺失"}
    response = requests.post(base + "/api/v1/events", json=body, headers={"Authorization": f"Bearer {token}"},
                             timeout=20)
    assert response.status_code == 201, response.text


def test_sla205_a_new_event_reaches_the_open_page(sla_page, hand_app):
    page, watch, base = sla_page
    open_sla(page, base)
    expect()(tile(page, "none")).to_have_text("1", timeout=LOAD_MS)
    post_report(base, hand_app, 1)
    # No reload: the live message ticks the page, the lights' callback answers anew.
    expect()(tile(page, "none")).to_have_text("2", timeout=LOAD_MS)
    expect()(tile(page, "red")).to_have_text("2")
    # Every page's tick is set by assets/gridcc-live.js: none may log an error here or take this page's place.
    assert watch.offsite == [] and watch.errors == []
