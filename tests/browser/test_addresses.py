"""Every view has an address (issue 8 §2) in headless Chromium on the hand city (NOW = 2026-11-20 15:00, frozen).

One well-packed test: a deep overview URL with as_of opens frozen (no live stream, so "networkidle" returns; the top
bar says 数据冻结于), a fresh browser shows the same KPI text for the same URL, Copy link puts location.href on the
clipboard with a toast (and shows the link to copy by hand where the browser may not copy), a change of control
goes into the address, 返回实时 drops as_of, and embed=1 hides the top bar. By hand (tests/test_addresses.py): the
city has 3 open cases at 12:00 (5 now).
"""
from __future__ import annotations

import os

import pytest

from tests.browser.conftest import open_watched, sign_in

pytestmark = pytest.mark.browser

LOAD_MS = 20_000
DEEP = "/?metric=overdue&heat=1&heat_window=7d&as_of=2026-11-20T12:00"
SHOTS = os.environ.get("GRIDCC_SHOTS")  # a folder to keep the screenshots in (to look at them)


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def ready(page) -> None:
    """Wait for the ready signal of spec §2: network idle, nothing loading, 300 ms more."""
    page.wait_for_load_state("networkidle", timeout=LOAD_MS)
    page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')", timeout=LOAD_MS)
    page.wait_for_timeout(300)


def kpi_text(page) -> list[str]:
    expect()(page.locator('[data-kpi="median_hours"]')).to_be_visible(timeout=LOAD_MS)
    return page.locator(".ovw-kpi").all_inner_texts()


def test_addr201_a_deep_frozen_link_reproduces_the_view_and_copies(browser, live_url):
    base = live_url
    context, page, watch = open_watched(browser)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    streams = []
    page.on("request", lambda r: streams.append(r.url) if "/api/v1/live/" in r.url else None)
    sign_in(page, base)
    page.goto(base + DEEP)
    ready(page)  # returns: a frozen page opens no live stream
    first = kpi_text(page)
    expect()(page.locator('[data-kpi="open"] .ovw-kpi-value')).to_have_text("3")
    expect()(page.locator("#shell-as-of")).to_have_text("数据冻结于 2026-11-20 12:00")
    expect()(page.locator("#shell-back-live")).to_be_visible()
    expect()(page.locator(".ovw-playback")).to_be_hidden()
    assert page.locator("#overview-metric input[value=overdue]").is_checked()
    assert page.locator("#overview-heat-on").is_checked()

    # Copy link: the whole address, on the clipboard, and a toast.
    page.click("#shell-copy-link")
    expect()(page.locator("#shell-toast")).to_be_visible()
    assert page.locator("#shell-toast").inner_text() == "链接已复制"  # the Chinese words on a Chinese page
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "addr-frozen-toast.png"))
    href = page.evaluate("location.href")
    assert page.evaluate("navigator.clipboard.readText()") == href
    assert "as_of=2026-11-20T12:00" in href and "heat_window=7d" in href
    # A plain-http intranet host: no clipboard API, and here execCommand refused too → the link shown, selected.
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined});"
                  "document.execCommand = function () { return false; };")
    page.click("#shell-copy-link")
    expect()(page.locator("#shell-copy-box")).to_be_visible()
    assert page.locator("#shell-copy-text").input_value() == href
    assert page.evaluate("(() => { const f = document.activeElement; "
                         "return f.value.slice(f.selectionStart, f.selectionEnd); })()") == href
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "addr-copy-by-hand.png"))
    page.keyboard.press("Escape")
    expect()(page.locator("#shell-copy-box")).to_be_hidden()

    # The same link in a fresh browser (its own sign-in), embedded: no top bar, the same numbers as text.
    other, fresh, fresh_watch = open_watched(browser)
    sign_in(fresh, base)
    fresh.goto(href + "&embed=1")
    ready(fresh)
    assert kpi_text(fresh) == first
    expect()(fresh.locator(".gcc-topbar")).to_be_hidden()
    assert fresh.evaluate("document.documentElement.classList.contains('gcc-embed')")
    assert not fresh_watch.offsite and not fresh_watch.errors, (fresh_watch.offsite, fresh_watch.errors)
    other.close()
    assert streams == [], streams  # no stream, no poll: nothing ticks on a frozen page

    # A change of control goes into the address (replaceState, no reload) …
    page.click("#overview-heat-window label:has-text('近1小时')")
    page.wait_for_function("location.search.includes('heat_window=1h')", timeout=LOAD_MS)
    # … and 返回实时 drops as_of only: the page is live again, with the same controls.
    page.click("#shell-back-live")
    page.wait_for_url(lambda url: "as_of" not in url and "heat_window=1h" in url and "metric=overdue" in url,
                      timeout=LOAD_MS)
    expect()(page.locator('[data-kpi="open"] .ovw-kpi-value')).to_have_text("5", timeout=LOAD_MS)
    expect()(page.locator("#shell-as-of")).to_contain_text("数据截至", timeout=LOAD_MS)
    expect()(page.locator("#shell-back-live")).to_be_hidden()
    assert not watch.offsite and not watch.errors, (watch.offsite, watch.errors)
    context.close()
