"""The rankings page in headless Chromium on the rankings' hand city (tests/rankcity.py, NOW 2026-11-20 15:00, every
minimum volume 1): it opens on last month's districts, switches to streets, a row opens "why this rank" with the
points won and lost, a count lists its cases, and a case id opens its timeline. The numbers are worked by hand in
tests/api/test_rankings_api.py (October streets: 329903001 100.00, 东街街道 83.39, 329902002 66.67).

Every test asserts that no request left the machine and no console error was logged. Screenshots at 1920×1080 go to
$GRIDCC_SCREENSHOTS when it is set (to look at them).
"""
from __future__ import annotations

import os
import threading

import pytest

from tests.browser.conftest import open_watched, sign_in
from tests.rankapp import rank_app, rank_store_template  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

LOAD_MS = 20_000


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def shot(page, name: str) -> None:
    folder = os.environ.get("GRIDCC_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"rankings-{name}.png"), full_page=False)


@pytest.fixture
def rank_url(rank_app):  # noqa: F811
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, rank_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    rank_app.server.extensions["gridcc_live"].stop()
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def ranking_page(browser, rank_url):
    context, page, watch = open_watched(browser)
    sign_in(page, rank_url)
    yield page, watch, rank_url
    context.close()


def cell(page, grid: str, row_id: str, col: str):
    return page.locator(f"#{grid} .ag-center-cols-container .ag-row[row-id='{row_id}'] [col-id='{col}'], "
                        f"#{grid} .ag-pinned-left-cols-container .ag-row[row-id='{row_id}'] [col-id='{col}']")


def test_rnkb001_switch_level_and_explain_a_rank(ranking_page):
    page, watch, base = ranking_page
    page.goto(base + "/rankings")
    expect()(page.locator("#shell-title")).to_have_text("排名考核", timeout=LOAD_MS)
    expect()(page.locator("#rank-header")).to_contain_text("2026年10月", timeout=LOAD_MS)
    expect()(page.locator("#rank-header")).to_contain_text("暂定")
    expect()(page.locator("#rank-header")).to_contain_text("2026-11-01 00:00")
    expect()(page.locator("#rank-level")).to_have_value("district")
    expect()(page.locator("#rank-grid .ag-row").first).to_be_visible(timeout=LOAD_MS)
    expect()(page.locator("#rank-grid .rnk-spark").first).to_be_visible(timeout=LOAD_MS)  # the sparkline is drawn
    shot(page, "districts")
    page.select_option("#rank-level", "street")
    expect()(cell(page, "rank-grid", "329902001", "score_text")).to_have_text("83.39", timeout=LOAD_MS)
    expect()(cell(page, "rank-grid", "329902001", "i_handle_rate")).to_have_text("87.5% (7/8)")
    expect()(cell(page, "rank-grid", "329903001", "rank_text")).to_have_text("1")
    assert "level=street" in page.url and "period=2026-10" in page.url  # the URL holds the view
    shot(page, "streets")
    cell(page, "rank-grid", "329902001", "name").click()
    expect()(page.locator("#rank-why")).to_be_visible(timeout=LOAD_MS)
    expect()(page.locator("#rank-why-summary")).to_contain_text("第 2 名（共 3 个）", timeout=LOAD_MS)
    expect()(page.locator("#rank-why-table")).to_contain_text("26.25")
    expect()(page.locator("#rank-why-chart .barlayer").first).to_be_attached(timeout=LOAD_MS)
    page.locator(".rnk-count", has_text="超期待处置").click()
    expect()(page.locator("#rank-cases-count")).to_have_text("共 1 件", timeout=LOAD_MS)
    expect()(page.locator("#rank-cases-grid .ag-row [col-id='id']")).to_have_text("104")
    shot(page, "why")
    page.locator("#rank-cases-grid .ag-row [col-id='id']").click()
    expect()(page.locator("#rank-detail")).to_be_visible(timeout=LOAD_MS)
    expect()(page.locator("#rank-detail-body")).to_contain_text("104", timeout=LOAD_MS)
    assert watch.offsite == [] and watch.errors == []


def test_rnkb002_a_pasted_link_shows_the_same_view_and_compares(ranking_page):
    page, watch, base = ranking_page
    page.goto(base + "/rankings?level=street&period=2026-11&compare=2026-10&norm=households")
    expect()(cell(page, "rank-grid", "329902002", "change_text")).to_have_text("▲2", timeout=LOAD_MS)
    expect()(cell(page, "rank-grid", "329902001", "change_text")).to_have_text("=")
    expect()(page.locator("#rank-compare-block")).to_be_visible()
    expect()(page.locator("#rank-compare-grid")).to_contain_text("+13.33", timeout=LOAD_MS)
    expect()(page.locator("#rank-apart")).to_contain_text("样本不足，另行排名")
    expect()(page.locator("#rank-grid")).to_contain_text("/千户")
    shot(page, "compare")
    print_link = page.locator("#rank-print")
    assert "compare=2026-10" in print_link.get_attribute("href")
    with page.context.expect_page() as opened:
        print_link.click()
    printed = opened.value
    printed.wait_for_load_state()
    assert "83.39" not in printed.content() and "80.00" in printed.content() and "A4 landscape" in printed.content()
    shot(printed, "print")
    assert watch.offsite == [] and watch.errors == []


def test_rnkb004_the_browser_writes_a_cell_as_the_server_does(ranking_page):
    from dashboard import rank_figures

    page, watch, base = ranking_page
    page.goto(base + "/rankings?level=street&period=2026-10")
    expect()(cell(page, "rank-grid", "329902001", "i_handle_rate")).to_have_text("87.5% (7/8)", timeout=LOAD_MS)
    pairs = [[7, 8], [999, 1000], [9996, 10000], [1, 2500], [0, 5], [5, 0], [1234567, 1234568], [2.9, 4], [49, 400],
             [1, 8], [3, 8], [5, 8], [7, 80], [12345, 100000], [1, 3], [2, 3]]
    shown = page.evaluate("pairs => pairs.map(window.gridcc.rankings.rankCell)", pairs)
    from types import SimpleNamespace

    expected = [rank_figures.cell_text(SimpleNamespace(numerator=n, denominator=d, value=n / d if d else None))
                for n, d in pairs]
    assert shown == expected
    change = page.evaluate("""() => [[2, 5], [-1, 2], [0, 3], [null, null]].map(([c, p]) =>
        window.gridcc.rankings.rankChange({data: {change: c, prev_rank: p}, context: {labels: {
            "rank.change.up": "up {n} was {prev}", "rank.change.down": "down {n} was {prev}",
            "rank.change.same": "same {prev}", "rank.change.none": "none"}}}))""")
    assert change == ["up 2 was 5", "down 1 was 2", "same 3", "none"]
    assert watch.offsite == [] and watch.errors == []


def test_rnkb003_english_and_an_empty_level(ranking_page):
    page, watch, base = ranking_page
    page.goto(base + "/rankings?level=community&period=2026-11&lang=en")
    expect()(page.locator("#rank-header")).to_contain_text("Nov 2026", timeout=LOAD_MS)
    expect()(page.locator("#rank-grid")).to_contain_text("Closed on time", timeout=LOAD_MS)
    page.goto(base + "/rankings?level=street&period=2026-13")
    expect()(page.locator("#rank-period")).to_have_value("2026-10", timeout=LOAD_MS)  # a bad period: last month
    assert watch.offsite == [] and watch.errors == []
