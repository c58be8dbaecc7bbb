"""A tour in headless Chromium on the hand city (NOW = 2026-11-20 15:00, frozen): add the overview of 东城区 as a
slide from the top bar, open /tours, present, step with → and ← (also with the focus inside the slide's frame),
reload on the same slide; the frames carry the tour's cut-off; nothing leaves the machine, no console error.
"""
from __future__ import annotations

import flask
import pytest

from tests.conftest import principal_for

pytestmark = pytest.mark.browser

LOAD_MS = 20_000


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def test_present201_add_open_present_step(watched, hand_app):
    page, watch, base = watched
    page.goto(base + "/?area=329902")
    add = page.locator("#tour-add")
    expect()(add).to_be_enabled(timeout=LOAD_MS)
    expect()(page.locator("#ovw-title, .gcc-title, body").first).to_be_visible()
    add.click()
    expect()(page.locator("#tour-add-title")).to_have_value("综合态势 · 东城区", timeout=LOAD_MS)
    expect()(page.locator("#tour-add-as-of")).to_have_value("2026-11-20T15:00")
    page.fill("#tour-add-new-title", "周例会")
    page.fill("#tour-add-as-of", "2026-11-20T12:00")
    page.fill("#tour-add-note", "东城区在办最多")
    page.click("#tour-add-save")
    expect()(page.locator("#tour-add-result")).to_contain_text("已加入讲稿“周例会”，第 1 页", timeout=LOAD_MS)
    expect()(page.locator("#tour-add-save")).to_be_disabled()  # one press, one slide

    # A second slide, the SLA page of 西城区, straight through dashboard/tours.py as the same user.
    from dashboard import tours

    with hand_app.server.test_request_context():
        flask.g.gridcc_principal = principal_for(hand_app, "leader")
        (row,) = tours.my_tours()
        tours.add_slide(row.tour.id, url="/sla?area=329903&period=7d", title="西城区按期率", note="")
    tour_id = row.tour.id

    page.goto(base + "/tours")
    link = page.locator(".trs-link", has_text="周例会")
    expect()(link).to_be_visible(timeout=LOAD_MS)
    expect()(page.locator(".trs-row td").nth(1)).to_have_text("2026-11-20 12:00")
    link.click()
    expect()(page.locator(".trs-slide")).to_have_count(2, timeout=LOAD_MS)
    expect()(page.locator(".trs-slide-title input").first).to_have_value("综合态势 · 东城区")
    assert page.get_attribute("a[data-export='pdf']", "href") == f"/tours/{tour_id}/export.pdf"

    page.click(".trs-present")
    expect()(page.locator(".prs-count")).to_have_text("1 / 2", timeout=LOAD_MS)
    shown = page.locator(".prs-frame.prs-shown")
    expect()(shown).to_have_attribute("src", "/?area=329902&as_of=2026-11-20T12%3A00&lang=zh&embed=1")
    expect()(page.locator(".prs-as-of")).to_have_text("数据截至 2026-11-20 12:00")
    # The next slide is already loading in the frame underneath.
    expect()(page.locator(".prs-frame.prs-waiting")).to_have_attribute(
        "src", "/sla?area=329903&period=7d&as_of=2026-11-20T12%3A00&lang=zh&embed=1")
    page.wait_for_function("document.querySelector('.prs-frame.prs-waiting').dataset.ready === '1'", timeout=LOAD_MS)

    page.keyboard.press("ArrowRight")
    expect()(page.locator(".prs-count")).to_have_text("2 / 2")
    expect()(page.locator(".prs-title")).to_have_text("西城区按期率")
    expect()(shown).to_have_attribute("src", "/sla?area=329903&period=7d&as_of=2026-11-20T12%3A00&lang=zh&embed=1")
    assert page.url.endswith(f"/present?tour={tour_id}&slide=2")
    page.keyboard.press("ArrowRight")  # past the end: stays
    expect()(page.locator(".prs-count")).to_have_text("2 / 2")

    # The focus inside the slide's frame: ← still steps back.
    page.locator(".prs-frame.prs-shown").content_frame.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("ArrowLeft")
    expect()(page.locator(".prs-count")).to_have_text("1 / 2")
    assert page.url.endswith(f"/present?tour={tour_id}&slide=1")
    page.keyboard.press("n")
    expect()(page.locator(".prs-note")).to_be_visible()
    expect()(page.locator(".prs-note")).to_have_text("东城区在办最多")

    page.goto(base + f"/present?tour={tour_id}&slide=2")
    expect()(page.locator(".prs-count")).to_have_text("2 / 2", timeout=LOAD_MS)
    page.goto(base + f"/present?tour={tour_id + 1000}")
    expect()(page.locator(".prs-missing")).to_contain_text("找不到该讲稿", timeout=LOAD_MS)

    assert watch.offsite == []
    assert watch.errors == []
