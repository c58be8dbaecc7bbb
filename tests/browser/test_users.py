"""The user management page in headless Chromium on the hand city: an administrator adds a user and resets one."""
from __future__ import annotations

import re
import pytest

from tests.browser.conftest import open_watched, sign_in

pytestmark = pytest.mark.browser

OTP = re.compile(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}")


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


@pytest.fixture
def admin_page(browser, live_url):
    """Return (page, watch, base URL) signed in as the administrator; off-machine requests are aborted."""
    context, page, watch = open_watched(browser)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm before disable and reset
    sign_in(page, live_url, "admin")
    yield page, watch, live_url
    context.close()


def test_usr_browser001_admin_adds_a_user_and_resets_a_password(admin_page):
    page, watch, base = admin_page
    page.goto(base + "/admin/users")
    expect()(page.locator(".usr-grid .ag-row")).to_have_count(10)
    expect()(page.locator("#admin-users-count")).to_have_text("共 10 人")

    page.fill("#admin-users-name", "zhang.san")
    page.fill("#admin-users-display-name", "张三")
    page.click("#admin-users-role")
    page.get_by_role("option", name="街道中心操作员").click()
    page.click("#admin-users-scope")
    page.get_by_role("option", name=re.compile("329902001$")).click()
    page.click("#admin-users-add-button")
    expect()(page.locator("#admin-users-result")).to_contain_text("已新增用户 zhang.san")
    assert OTP.fullmatch(page.inner_text("#admin-users-result .usr-otp-value"))
    expect()(page.locator(".usr-grid .ag-row")).to_have_count(11)

    # Nothing selected: no action applies. The administrator's own row: neither disable nor reset.
    assert page.is_disabled("#admin-users-disable-button") and page.is_disabled("#admin-users-reset-button")
    page.locator(".usr-grid .ag-row[row-id='admin'] .ag-cell").first.click()
    assert page.is_disabled("#admin-users-disable-button") and page.is_disabled("#admin-users-reset-button")
    page.locator(".usr-grid .ag-row[row-id='dongjie'] .ag-cell").first.click()
    expect()(page.locator("#admin-users-selected")).to_have_text("已选：测试dongjie (dongjie)")
    page.click("#admin-users-reset-button")
    expect()(page.locator("#admin-users-result")).to_contain_text("已重置 dongjie 的密码")
    assert OTP.fullmatch(page.inner_text("#admin-users-result .usr-otp-value"))
    expect()(page.locator("#admin-users-result")).not_to_contain_text("zhang.san")  # one password on screen at a time
    assert watch.errors == [] and watch.offsite == []


def test_usr_browser002_a_viewer_sees_only_the_refusal(browser, live_url):
    context, page, _ = open_watched(browser)
    sign_in(page, live_url, "viewer")
    page.goto(live_url + "/admin/users?lang=en")
    expect()(page.locator(".adm-refused-title")).to_have_text("You may not manage users")
    assert page.locator(".usr-grid").count() == 0
    context.close()
