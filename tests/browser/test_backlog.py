"""The backlog desk in headless Chromium on the hand city: rows, a ticking countdown, 催办 reaching a second screen.

东街街道's operator (dongjie) sees cases 3 and 4 (tests/handcity.py): case 3 overdue since 11-17 09:30,
case 4 due at 16:05 (65 minutes after NOW, 15:00). 东城区's manager (dongcheng) sees 3, 4 and 6.
"""
from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import open_watched, sign_in

pytestmark = pytest.mark.browser
SHOTS = "/work/main/screenshots"


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def _desk(browser, base, name, viewport=None):
    context, page, watch = open_watched(browser)
    if viewport:
        page.set_viewport_size(viewport)
    sign_in(page, base, name)
    page.goto(base + "/backlog")
    return context, page, watch


def _errors(watch):
    """Return the console errors (none: no page's live tick may name another page's stores)."""
    return list(watch.errors)


def _row(page, event_id):
    return page.locator(f".bkl-grid .ag-center-cols-container .ag-row[row-id='{event_id}']")


def test_bkl_browser001_urge_reaches_a_second_screen_and_the_countdown_ticks(browser, live_url):
    context, page, watch = _desk(browser, live_url, "dongjie")
    other, page2, watch2 = _desk(browser, live_url, "dongcheng")
    try:
        expect()(_row(page, 3)).to_be_visible(timeout=15000)
        expect()(_row(page, 4)).to_be_visible()
        expect()(page.locator(".bkl-grid .ag-center-cols-container .ag-row")).to_have_count(2)
        expect()(page.locator("#backlog-count")).to_have_text("共 2 件")
        # Case 3's countdown is red and counts up every second.
        late = _row(page, 3).locator(".bkl-countdown")
        expect()(late).to_have_class(re.compile("bkl-countdown-late"))
        expect()(late).to_contain_text("已超期 3天5时")
        soon = _row(page, 4).locator(".bkl-countdown")
        expect()(soon).to_contain_text("剩余 1时")
        first = soon.inner_text()
        page.wait_for_function(
            "([sel, text]) => { const e = document.querySelector(sel); return e && e.innerText !== text; }",
            arg=[".bkl-grid .ag-row[row-id='4'] .bkl-countdown", first], timeout=2500)
        expect()(_row(page, 3).locator(".bkl-light")).to_have_text("超时")

        expect()(_row(page2, 3)).to_be_visible(timeout=15000)
        expect()(page2.locator(".bkl-grid .ag-center-cols-container .ag-row")).to_have_count(3)

        # Select case 3, urge it with a reason.
        _row(page, 3).locator(".ag-cell[col-id='category']").click()
        expect()(page.locator("#backlog-selected")).to_have_text("已选 1 件")
        page.locator(".bkl-action-choice .dash-options-list-option", has_text="催办").click()
        page.fill("#backlog-reason", "请尽快处置，居民多次反映")
        page.click("#backlog-submit")
        expect()(page.locator("#backlog-result")).to_have_text("1 件已催办", timeout=10000)
        expect()(_row(page, 3).locator(".ag-cell[col-id='flags']")).to_have_text("催办×1", timeout=5000)
        # The second screen: no reload, the live tick refreshes the rows in view.
        expect()(_row(page2, 3).locator(".ag-cell[col-id='flags']")).to_have_text("催办×1", timeout=6000)
        # The selection stays on the refreshed row.
        expect()(_row(page, 3)).to_have_class(re.compile("ag-row-selected"))
        page.screenshot(path=f"{SHOTS}/backlog-1920x1080.png")
        assert _errors(watch) == [] and watch.offsite == []
        assert _errors(watch2) == [] and watch2.offsite == []
    finally:
        context.close()
        other.close()


def test_bkl_browser002_column_choice_survives_a_reload(browser, live_url):
    context, page, watch = _desk(browser, live_url, "dongjie", {"width": 1366, "height": 768})
    try:
        expect()(_row(page, 3)).to_be_visible(timeout=15000)
        header = page.locator(".bkl-grid .ag-header-cell[col-id='department']")
        expect()(header).to_be_visible()
        page.click(".bkl-columns > summary")
        page.locator(".bkl-columns-list label", has_text="处置部门").click()
        expect()(header).to_have_count(0)
        time.sleep(1.5)  # the grid reports its column state after 0.5 s; the save is one more round trip
        page.reload()
        expect()(_row(page, 3)).to_be_visible(timeout=15000)
        expect()(page.locator(".bkl-grid .ag-header-cell[col-id='category']")).to_be_visible()
        expect()(page.locator(".bkl-grid .ag-header-cell[col-id='department']")).to_have_count(0)
        page.screenshot(path=f"{SHOTS}/backlog-1366x768.png")
        # 恢复默认 brings it back.
        page.click("#backlog-reset")
        expect()(page.locator(".bkl-grid .ag-header-cell[col-id='department']")).to_be_visible()
        assert _errors(watch) == [] and watch.offsite == []
    finally:
        context.close()


def test_bkl_browser003_a_read_only_role_and_an_empty_scope(browser, live_url):
    # The city leader reads everything and acts on nothing: no action bar.
    context, page, watch = _desk(browser, live_url, "leader")
    try:
        expect()(_row(page, 9)).to_be_visible(timeout=15000)
        expect()(page.locator("#backlog-actions")).to_have_count(0)
        expect()(page.locator(".bkl-read-only-note")).to_be_visible()
        assert _errors(watch) == [] and watch.offsite == []
    finally:
        context.close()
    # The city hotline's handler has no case: the empty state says so.
    context, page, watch = _desk(browser, live_url, "dept_city")
    try:
        expect()(page.locator("#backlog-empty")).to_have_text("当前范围内没有待办案件", timeout=15000)
        expect()(page.locator("#backlog-empty")).to_be_visible()
        page.screenshot(path=f"{SHOTS}/backlog-empty-1920x1080.png")
        assert _errors(watch) == [] and watch.offsite == []
    finally:
        context.close()
