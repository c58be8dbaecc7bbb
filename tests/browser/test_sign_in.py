"""Signing in, seeing one's own scope, the audited "show", the public wall and signing out, in headless Chromium.

Each test opens its own browser context (not the shared signed-in fixture) and signs in through the form
the way a person does. Every request that would leave the machine is recorded and aborted, and every
console error is recorded: both lists must stay empty.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from queries.schema import audit_log
from tests import handcity
from tests.browser.conftest import open_watched

pytestmark = pytest.mark.browser

# Event 3: grid A1, building 002; its reporter is 李娜 13812345678 (tests/handcity.py REPORTERS).
EVENT3_BUILDING = handcity.A1 + "002"
EVENT3_URL = f"/?area={handcity.A1}&building={EVENT3_BUILDING}"


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


@pytest.fixture
def quick_argon2(monkeypatch, hand_app):
    """Hash the hand city's password with cheap argon2 parameters (the server runs in this process): the
    same sign-in, a fraction of the time. argon2's cost is tests/test_auth.py's business."""
    from argon2 import PasswordHasher
    from sqlalchemy import update

    from dashboard import auth
    from queries.schema import users

    cheap = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    monkeypatch.setattr(auth, "_HASHER", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("not a password anyone has"))
    with hand_app.server.extensions["gridcc"].engine.begin() as conn:
        conn.execute(update(users).values(password_hash=cheap.hash(handcity.PASSWORD)))


@pytest.fixture
def visit(browser, live_url, quick_argon2):
    """Return (page, watch, base URL) in a fresh, signed-out browser context; check the watch afterwards."""
    context, page, watch = open_watched(browser)
    yield page, watch, live_url
    context.close()
    assert watch.offsite == [], watch.offsite
    assert watch.errors == [], watch.errors


def sign_in(page, base: str, name: str, *, password: str = handcity.PASSWORD, then: str = "/") -> None:
    """Fill the sign-in form at /auth/sign-in?next=``then`` and submit it; wait for the overview's breadcrumb."""
    page.goto(base + "/auth/sign-in?next=" + quote(then, safe=""))
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + then)
    expect()(page.locator("#overview-breadcrumb .ovw-crumb-current")).to_be_visible()


def crumbs(page) -> list[str]:
    return page.locator("#overview-breadcrumb .ovw-crumb-name").all_inner_texts()


def audit(hand_app, action: str) -> list[tuple]:
    with hand_app.server.extensions["gridcc"].engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_log.c.actor, audit_log.c.target, audit_log.c.outcome)
                                               .where(audit_log.c.action == action))]


def test_signing_in_in_chinese_shows_who_and_starts_at_the_users_street(visit):
    page, _, base = visit
    page.goto(base + "/auth/sign-in")
    expect()(page.locator("h1")).to_have_text("登录城市运行指挥中心")
    sign_in(page, base, "dongjie")
    expect()(page.locator(".gcc-user-name")).to_have_text("测试dongjie")
    expect()(page.locator(".gcc-user-scope")).to_contain_text("街道中心操作员")
    expect()(page.locator(".gcc-user-scope")).to_contain_text("东街街道")
    expect()(page.locator(".gcc-user-scope .gcc-en-only")).to_be_hidden()
    # The map starts at the street: one crumb, nothing above it.
    expect()(page.locator("#overview-breadcrumb .ovw-crumb-current .ovw-crumb-name")).to_have_text("东街街道")
    assert crumbs(page) == ["东街街道"]
    expect()(page.locator('[data-kpi="open"] .ovw-kpi-value')).to_have_text("2")
    page.screenshot(path="/tmp/gridcc-signin-dongjie.png")


def test_signing_in_in_english_shows_who_in_english(visit):
    page, _, base = visit
    page.goto(base + "/auth/sign-in?lang=en&next=%2F%3Flang%3Den")
    expect()(page.locator("h1")).to_have_text("Sign in to the command center")
    page.fill("#name", "xicheng")
    page.fill("#password", handcity.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/?lang=en")
    expect()(page.locator("#overview-breadcrumb .ovw-crumb-current .ovw-crumb-name")).to_have_text("西城区")
    assert crumbs(page) == ["西城区"]
    expect()(page.locator(".gcc-user-name")).to_have_text("测试xicheng")
    expect()(page.locator(".gcc-user-scope .gcc-en-only")).to_have_text("District manager")
    expect()(page.locator(".gcc-user-scope")).to_contain_text("西城区")
    expect()(page.locator('[data-kpi="open"] .ovw-kpi-value')).to_have_text("2")


def test_a_wrong_password_shows_the_error_and_no_data(visit):
    page, _, base = visit
    page.goto(base + "/auth/sign-in")
    page.fill("#name", "dongjie")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    expect()(page.locator(".gcc-signin-error")).to_contain_text("用户名或密码错误")
    assert page.url.startswith(base + "/auth/sign-in")
    expect()(page.locator("#name")).to_have_value("dongjie")
    expect()(page.locator("#password")).to_have_value("")
    page.goto(base + "/")
    page.wait_for_url(base + "/auth/sign-in?next=%2F")  # still signed out


def test_show_reveals_event_3s_reporter_audited_then_the_public_wall_hides_it_then_sign_out(visit, hand_app):
    """One street operator's session: the audited "show", the public wall, signing out and the back button."""
    page, _, base = visit
    sign_in(page, base, "dongjie", then=EVENT3_URL)
    reporter = page.locator('#overview-building .ovw-reporter-cell').filter(has_text="李")
    expect()(reporter.locator(".ovw-reporter")).to_have_text("李* 138****5678")
    assert audit(hand_app, "reveal") == []
    reporter.locator("button.ovw-reveal").click()
    expect()(reporter.locator(".ovw-reporter")).to_have_text("李娜 13812345678")
    assert audit(hand_app, "reveal") == [("dongjie", "3", "ok")]
    # The public wall: the screen reloads masked, without the name and without any "show".
    with page.expect_navigation():
        page.click("#shell-wall")  # posts the switch, then reloads the screen
    expect()(page.locator("#overview-building .ovw-reporter").filter(has_text="李")).to_have_text("李* 138****5678")
    expect()(page.locator("#overview-building button.ovw-reveal")).to_have_count(0)
    expect()(page.get_by_text("显示", exact=True)).to_have_count(0)
    expect()(page.locator(".gcc-user-name")).to_have_count(0)
    expect()(page.locator(".gcc-user-scope")).to_have_count(0)
    assert "测试dongjie" not in page.content()
    page.screenshot(path="/tmp/gridcc-public-wall.png")
    assert ("dongjie", None, "ok") in audit(hand_app, "public_wall")
    # Signing out lands on the sign-in page; the back button brings no data back.
    page.click("#shell-sign-out")
    page.wait_for_url(base + "/auth/sign-in")
    expect()(page.locator("h1")).to_have_text("登录城市运行指挥中心")
    page.go_back()
    page.wait_for_load_state("networkidle")
    # Whatever the back button brings, it is no page of data: the sign-in form, or an empty frame.
    assert page.locator("#overview-building .ovw-reporter").count() == 0
    assert page.locator("#overview-breadcrumb .ovw-crumb-name").count() == 0
    assert "东街街道" not in page.content() and "李*" not in page.content()


def test_a_viewer_gets_no_show_button(visit, hand_app):
    """The viewer of 西城区 sees an event with a reporter in C1 masked, and no way to show it."""
    from queries import tokens

    with hand_app.server.extensions["gridcc"].engine.begin() as conn:
        token = tokens.create_token(conn, name="west-app", now=handcity.NOW)
    posted = hand_app.server.test_client().post("/api/v1/events", headers={"Authorization": f"Bearer {token}"}, json={
        "id": "V-1", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T14:00:00+08:00",
        "lat": 31.08, "lon": 120.25, "reporter": "周七 13600001111"})
    assert posted.status_code == 201
    page, _, base = visit
    sign_in(page, base, "viewer", then=f"/?area={handcity.C1}&building={handcity.C1}001")
    expect()(page.locator("#overview-building .ovw-reporter").filter(has_text="周")).to_have_text("周* 136****1111")
    expect()(page.locator("#overview-building button.ovw-reveal")).to_have_count(0)
    expect()(page.get_by_text("显示", exact=True)).to_have_count(0)
