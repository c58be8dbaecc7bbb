"""The wall (/wall, issue 8 §1) in headless Chromium on the hand city (NOW = 2026-11-20 15:00, frozen).

1. At 1920×1080, 3840×2160 and 7680×2160: no scrollbars, every visible element inside the viewport and inside
   its panel (nothing cut off), no text wider than its box, no two panels overlapping, the numerals' type
   twice as large at 4K as at 1080p; the screenshots are saved under /tmp/gridcc-wall-*.png. Then the
   rotation: a key steps and pauses, the rotation resumes after resume_s, a view moves on after its dwell.
2. A wall left running through a server restart (stopped, then a new app on the same port and store) comes
   back by itself: the watchdog says the server is away, and an event posted after the restart reaches its
   numerals without the test reloading the page.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from queries import tokens
from tests import handcity
from tests.browser.conftest import open_watched, sign_in

pytestmark = pytest.mark.browser

PLAYLIST = """
[[playlist]]
name = "t"
title = "测试大屏"
resume_s = 8

[[playlist.view]]
url = "/"
dwell_s = 3600
title = "全市态势"

[[playlist.view]]
url = "/?area=329902&metric=overdue"
dwell_s = 5
title = "东城区超期"

[[playlist.view]]
url = "/sla?area=329903"
dwell_s = 3600
title = "西城区按期率"
"""
LOAD_MS = 30_000
TODAY = '.wall-slot[data-pos="0"] [data-kpi="reported_today"] .wall-kpi-value'

# Run in the page: the layout checks of §1 (one object of findings; every list must be empty).
CHECKS = """() => {
    const vw = window.innerWidth, vh = window.innerHeight, de = document.documentElement;
    const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    const shown = el => {
        for (let e = el; e && e !== document.body; e = e.parentElement) {
            const s = getComputedStyle(e);
            if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) { return false; }
        }
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0;
    };
    // Leaflet's own panes and SVG reach past the map on purpose; the map container clips them.
    const all = [...document.querySelectorAll('.wall *')].filter(el => !el.closest('.leaflet-container > *') && shown(el));
    const box = el => el.getBoundingClientRect();
    const outside = all.filter(el => { const r = box(el);
        return r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5; }).map(name);
    const panels = [...document.querySelectorAll('.wall-panel')].filter(shown);
    const cut = [];
    panels.forEach(p => { const pr = box(p);
        p.querySelectorAll('*').forEach(el => { if (el.closest('.leaflet-container > *') || !shown(el)) { return; }
            const r = box(el);
            if (r.left < pr.left - 0.5 || r.top < pr.top - 0.5 || r.right > pr.right + 0.5 || r.bottom > pr.bottom + 0.5) {
                cut.push(name(el) + ' in ' + name(p)); } }); });
    // Text wider than its box, or a box whose content is wider than it (a numeral spilling into its neighbour).
    const blocks = all.filter(el => getComputedStyle(el).display !== 'inline' && !el.closest('.leaflet-container'));
    const overflowing = blocks.filter(el => el.scrollWidth > el.clientWidth + 1).map(el => name(el) + ' ' +
        el.scrollWidth + '>' + el.clientWidth);
    const overlaps = [];
    for (let i = 0; i < panels.length; i++) { for (let j = i + 1; j < panels.length; j++) {
        const a = box(panels[i]), b = box(panels[j]);
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 0.5 && h > 0.5) { overlaps.push(name(panels[i]) + ' × ' + name(panels[j])); } } }
    const scroll = [de.scrollWidth > de.clientWidth, de.scrollHeight > de.clientHeight,
        document.body.scrollWidth > document.body.clientWidth, document.body.scrollHeight > document.body.clientHeight]
        .some(Boolean) ? ['page scrolls'] : [];
    const kpi = document.querySelector('.wall-slot[data-pos="0"] .wall-kpi-value');
    return {scroll, outside, cut, overflowing, overlaps, panels: panels.length,
        kpiFont: kpi ? parseFloat(getComputedStyle(kpi).fontSize) : 0,
        transforms: all.filter(el => getComputedStyle(el).transform !== 'none').map(name),
        shownViews: [...document.querySelectorAll('.wall-slot')].filter(shown).map(s =>
            s.querySelector('.wall-built') && s.querySelector('.wall-built').getAttribute('data-index')).sort()};
}"""


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A hand-city app with the test playlist on a fixed port, which the test may stop and start again."""

    def __init__(self, settings, port: int):
        from dashboard.app import create_app

        self.app = create_app(settings)
        self.server = make_server("127.0.0.1", port, self.app.server, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{port}"
        self.stopped = False

    def stop(self) -> None:
        """Stop as a process would: end the live streams, stop answering, close the port and the store."""
        if not self.stopped:
            self.stopped = True
            self.app.server.extensions["gridcc_live"].stop()
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.app.server.extensions["gridcc"].engine.dispose()


@pytest.fixture
def wall_settings(hand_settings, tmp_path):
    path = tmp_path / "wall.toml"
    path.write_text(PLAYLIST, encoding="utf-8")
    return hand_settings.with_(wall_playlists=str(path))


@pytest.fixture
def served(wall_settings):
    running = [Served(wall_settings, free_port())]
    yield running
    running[-1].stop()


def open_wall(browser, base: str, init: str = ""):
    context, page, watch = open_watched(browser)
    if init:
        page.add_init_script(init)
    sign_in(page, base)
    page.goto(base + "/wall?playlist=t")
    page.wait_for_selector(".wall[data-ready='1']", timeout=LOAD_MS)
    return context, page, watch


def settle(page, shown: list[str]) -> None:
    """Wait until the views ``shown`` are drawn, their maps coloured, and the cross-fade is over."""
    page.wait_for_function("""(want) => {
        const W = window.gridcc.wall.state();
        if (W.resizedAt || W.renewing || W.queue.length) { return false; }  // a redraw for a new size is under way
        const s = [...document.querySelectorAll('.wall-slot')].filter(e => getComputedStyle(e).visibility !== 'hidden'
            && getComputedStyle(e).opacity === '1');
        return s.map(e => e.querySelector('.wall-built')?.getAttribute('data-index')).sort().join() === want.join()
            && s.every(e => !e.querySelector('.leaflet-container') || e.querySelector('path.leaflet-interactive, path'));
    }""", arg=shown, timeout=LOAD_MS)
    page.wait_for_timeout(400)


def look(page, size: tuple[int, int], shown: list[str]) -> dict:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.wait_for_timeout(1000)  # the wall redraws its views for the new size (their maps fit their area again)
    settle(page, shown)
    found = page.evaluate(CHECKS)
    page.screenshot(path=f"/tmp/gridcc-wall-{size[0]}x{size[1]}.png")
    for key in ("scroll", "outside", "cut", "overflowing", "overlaps", "transforms"):
        assert found[key] == [], (size, key, found[key])
    assert found["shownViews"] == shown, (size, found["shownViews"])
    return found


def post(served: Served, external_id: str) -> None:
    """POST one hotline report in grid A1 (东城区), today at 14:59:59, through the API."""
    with served.app.server.extensions["gridcc"].engine.begin() as conn:
        token = tokens.create_token(conn, name=external_id, now=handcity.NOW)
    answer = requests.post(served.url + "/api/v1/events", timeout=20, headers={"Authorization": f"Bearer {token}"},
                           json={"id": external_id, "source": "hotline", "category": "0505",
                                 "reported_at": "2026-11-20T14:59:59+08:00", "lat": 31.1, "lon": 120.02})
    assert answer.status_code == 201, answer.text


def header(page) -> tuple[str, str]:
    return (page.locator("#wall-view-title").inner_text(),
            page.locator("#wall-dots").get_attribute("data-position"))


def test_wall_b001_three_sizes_fit_and_the_rotation_steps_pauses_and_resumes(browser, served):
    base = served[0].url
    context, page, watch = open_wall(browser, base, "window.gridccWallConfig = {tickMs: 500};")
    try:
        small = look(page, (1920, 1080), ["0"])
        assert small["panels"] == 5  # header, map, numerals, categories, trend
        assert page.locator(TODAY).inner_text() == "5"  # by hand: events 1, 4, 5, 8, 10
        assert header(page) == ("全市态势", "1/3")
        big = look(page, (3840, 2160), ["0"])
        assert 1.9 <= big["kpiFont"] / small["kpiFont"] <= 2.1, (small["kpiFont"], big["kpiFont"])
        wide = look(page, (7680, 2160), ["0", "1"])  # 32:9: the current view and the next side by side
        assert wide["panels"] == 9 and abs(wide["kpiFont"] - big["kpiFont"]) < 0.5

        page.set_viewport_size({"width": 1920, "height": 1080})
        settle(page, ["0"])
        # A live change redraws the view in place: new numbers, new colours, the same map at the same view.
        page.evaluate("""() => { const m = document.querySelector('.wall-slot[data-pos="0"] .leaflet-container');
            m.dataset.mark = 'same'; window.__pane = m.querySelector('.leaflet-map-pane').style.transform; }""")
        post(served[0], "WALL-B1")
        expect()(page.locator(TODAY)).to_have_text("6", timeout=10000)  # by hand: 5 + the event just posted
        expect()(page.locator('.wall-slot[data-pos="0"] [data-kpi="open"] .wall-kpi-value')).to_have_text("6")
        # The map on show is never redrawn in place (Dash would remount it, blank for a moment): the new drawing
        # was made in the spare slot and took the place whole — a new map at exactly the old one's view.
        assert page.evaluate("""() => { const m = document.querySelector('.wall-slot[data-pos="0"] .leaflet-container');
            return m.dataset.mark !== 'same' && m.querySelector('path') !== null &&
                m.querySelector('.leaflet-map-pane').style.transform === window.__pane; }""")
        assert header(page) == ("全市态势", "1/3")
        page.keyboard.press("ArrowRight")  # steps, and pauses the rotation
        pressed = time.monotonic()
        expect()(page.locator("#wall-paused")).to_be_visible()
        expect()(page.locator("#wall-paused")).to_contain_text("已暂停")
        expect()(page.locator("#wall-view-title")).to_have_text("东城区超期")
        settle(page, ["1"])
        assert page.locator('.wall-slot[data-pos="0"] [data-kpi="overdue"] .wall-kpi-value').inner_text() == "1"
        # Paused: no move although this view's dwell (5 s) passes; then the rotation resumes (resume_s = 8) and,
        # the dwell being over, moves on.
        page.wait_for_timeout(max(0, 6000 - 1000 * (time.monotonic() - pressed)))
        assert header(page) == ("东城区超期", "2/3") and page.locator("#wall-paused").is_visible()
        expect()(page.locator("#wall-view-title")).to_have_text("西城区按期率", timeout=8000)
        assert time.monotonic() - pressed >= 7.5
        expect()(page.locator("#wall-paused")).to_be_hidden()
        assert header(page)[1] == "3/3"
        page.keyboard.press("ArrowLeft")
        expect()(page.locator("#wall-view-title")).to_have_text("东城区超期")
        settle(page, ["1"])
        # Nothing piles up: four slots, one drawn view each, one map per overview view.
        assert page.evaluate("document.querySelectorAll('.wall-built').length") == 4
        assert page.evaluate("document.querySelectorAll('.leaflet-container').length") <= 4
        assert watch.offsite == [] and watch.errors == []
    finally:
        context.close()


# The beat comes every 5 s (dashboard/live.py): the watchdog's and the badge's limits lie past it.
QUICK = ("window.gridccLiveConfig = {amberMs: 7000, redMs: 12000};"
         "window.gridccWallConfig = {watchdogMs: 7000, probeFirstMs: 1000, probeMaxMs: 2000};")


def test_wall_b002_a_wall_recovers_from_a_server_restart_by_itself(browser, served, wall_settings):
    first = served[0]
    context, page, watch = open_wall(browser, first.url, QUICK)
    try:
        expect()(page.locator(TODAY)).to_have_text("5", timeout=LOAD_MS)
        page.wait_for_function("() => window.gridcc.live.state.version !== null", timeout=15000)
        page.evaluate("() => { window.__sameLoad = true; }")
        first.stop()
        # The room is told: the watchdog finds the server away and keeps trying (backing off) …
        expect()(page.locator("#wall-state")).to_have_attribute("data-state", "bigwall.reconnecting", timeout=15000)
        expect()(page.locator("#wall-state")).to_contain_text("服务器无响应")
        expect()(page.locator("#wall-badge")).to_have_attribute("data-live", "amber", timeout=5000)
        # … the server comes back on the same port and store (a restart) …
        port = int(first.url.rsplit(":", 1)[1])
        served.append(Served(wall_settings, port))
        # … and the wall is live again by itself: an event posted now reaches its numerals.
        post(served[-1], "WALL-B2")
        expect()(page.locator(TODAY)).to_have_text("6", timeout=30000)
        expect()(page.locator("#wall-state")).to_be_hidden(timeout=10000)
        expect()(page.locator("#wall-badge")).to_have_attribute("data-live", "fresh", timeout=10000)
        reloaded = not page.evaluate("() => window.__sameLoad === true")
        print(f"\nrecovered {'by the watchdog reloading the page' if reloaded else 'by the live client reconnecting'}")
        assert watch.offsite == []
    finally:
        context.close()
