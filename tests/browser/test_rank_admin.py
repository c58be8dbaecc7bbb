"""The ranking configuration page in headless Chromium on the hand city: an administrator saves a new version."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import open_watched, sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


@pytest.fixture
def admin_page(browser, live_url):
    """Return (page, watch, base URL) signed in as the administrator; off-machine requests are aborted."""
    context, page, watch = open_watched(browser)
    sign_in(page, live_url, "admin")
    yield page, watch, live_url
    context.close()


def test_rcf_browser001_admin_changes_a_weight_and_saves_a_version(admin_page):
    page, watch, base = admin_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(base + "/admin/rankings")
    expect()(page.locator(".rcf-scheme")).to_have_count(4)
    expect()(page.locator("#admin-rankings-status")).to_contain_text("本月（2026年11月）执行：配置文件（默认）")
    expect()(page.locator(".rcf-versions")).to_contain_text("尚无保存的版本")
    weight = page.locator("#admin-rankings-weight-worker-valid_report_rate")
    expect()(weight).to_have_value("40")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "rank-admin-1920x1080.png"))

    # A bad value is a message in words, and nothing is saved.
    weight.fill("")
    page.click("#admin-rankings-save")
    expect()(page.locator("#admin-rankings-result")).to_contain_text("网格员考核 · 有效上报率 的权重：须为 0–1000 之间的数")
    expect()(page.locator(".rcf-versions")).to_contain_text("尚无保存的版本")

    weight.fill("60")
    page.fill("#admin-rankings-note", "有效上报率加重")
    page.click("#admin-rankings-month")
    page.get_by_role("option", name="2027年1月").click()
    page.click("#admin-rankings-save")
    expect()(page.locator("#admin-rankings-result")).to_contain_text("已保存为版本 #1，自 2027年1月 起生效")
    expect()(page.locator(".rcf-versions-table tbody tr")).to_have_count(1)
    expect()(page.locator(".rcf-versions-table tbody tr")).to_contain_text("有效上报率加重")
    expect()(page.locator(".rcf-versions-table tbody tr")).to_contain_text("待生效")
    page.screenshot(path=str(SHOTS / "rank-admin-saved-1920x1080.png"))
    assert watch.errors == [] and watch.offsite == []


def test_rcf_browser002_a_leader_sees_only_the_refusal(browser, live_url):
    context, page, watch = open_watched(browser)
    sign_in(page, live_url, "leader")
    page.goto(live_url + "/admin/rankings")
    expect()(page.locator(".adm-refused-title")).to_have_text("仅系统管理员可修改考核配置")
    assert page.locator("#admin-rankings-save").count() == 0
    assert watch.errors == [] and watch.offsite == []
    context.close()
