"""The live overview (issue 5) in headless Chromium on the hand city: events posted to the API reach an open
page without a reload, the data-as-of badge tells a stopped server, urgent alerts, playback, heat, detail.

Every expected figure is worked out by hand from tests/handcity.py (NOW = 2026-11-20 15:00, frozen).
The hand city's events take ids 1–11, so the first event posted here is 12. An event reported at
14:59:59 sorts before event 10 (same second, higher id) and counts in "today" and in the 30-day window.
Every test also asserts that the page made no request off the machine and logged no console error.
"""
from __future__ import annotations

import json
import re
import threading
import time

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from queries import tokens
from queries.schema import alert_acks
from tests import handcity
from tests.browser.conftest import open_watched, sign_in

pytestmark = pytest.mark.browser

DISTRICT, WEST = "329902", "329903"
KPI_TODAY = '[data-kpi="reported_today"] .ovw-kpi-value'
TICKER_ROWS = "#overview-ticker li.ovw-tick"
BADGE = "#shell-as-of"
FIRST_ID = 12  # the hand city's events are 1–11
URGENT_NAME = "路面塌陷"  # 0401 in dashboard/catalog/event-categories.csv (urgent, class 04)
A1_PLACE = "东街社区 · 东街第01网格"
MAX_LATENCY_S = 3.0
LOAD_MS = 20_000  # a first load on a busy machine (the other waits keep Playwright's 5 s)


def expect():
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


# -- a server of our own (the live_url pattern, but stoppable mid-test) ------------------------------------

class Served:
    """The hand-city app on a free port, which a test may stop (hub first, so open streams end)."""

    def __init__(self, app):
        self.app = app
        self.hub = app.server.extensions["gridcc_live"]
        self.server = make_server("127.0.0.1", 0, app.server, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.stopped = False

    def stop(self) -> None:
        """Stop answering: release every open stream (hub.stop), then stop accepting connections."""
        if not self.stopped:
            self.stopped = True
            self.hub.stop()
            self.server.shutdown()
            self.thread.join(timeout=5)

    def close(self) -> None:
        self.stop()
        self.server.server_close()


@pytest.fixture
def served(hand_app):
    served = Served(hand_app)
    yield served
    served.close()


@pytest.fixture
def token(hand_app) -> str:
    with hand_app.server.extensions["gridcc"].engine.begin() as conn:
        return tokens.create_token(conn, name="hotline-gw", now=handcity.NOW)


def report(n: int, *, lat: float = 31.1, lon: float = 120.02, category: str = "0505",
           at: str = "14:59:59") -> dict:
    """Return a hotline report (grid A1 by default: lon 120.0–120.05, lat 31.0–31.2) on 2026-11-20 at ``at``."""
    return {"id": f"LIVE-B-{n}", "source": "hotline", "category": category,
            "reported_at": f"2026-11-20T{at}+08:00", "lat": lat, "lon": lon, "description": "井盖缺失"}


def post(base: str, token: str, body: dict) -> tuple[int, float]:
    """POST one event to the API; return its event id and the monotonic time its answer came."""
    response = requests.post(base + "/api/v1/events", json=body, headers={"Authorization": f"Bearer {token}"},
                             timeout=20)
    answered = time.monotonic()
    assert response.status_code == 201, response.text
    return response.json()["events"][0]["event_id"], answered


# -- the page ------------------------------------------------------------------------------------------------

@pytest.fixture
def leader(browser, served):
    """Return (page, watch, served) signed in as the city leader, watched like every browser test."""
    context, page, watch = open_watched(browser)
    sign_in(page, served.url)
    yield page, watch, served
    context.close()


@pytest.fixture
def duty(browser, served):
    """Return (page, watch, served) signed in as 东城区's district manager: a role that may sign for alerts."""
    context, page, watch = open_watched(browser)
    sign_in(page, served.url, "dongcheng")
    yield page, watch, served
    context.close()


def open_live(page, base: str, query: str = "") -> None:
    """Open the overview and wait until it is drawn and its live stream (or poll) has said hello."""
    page.goto(base + "/" + query)
    expect()(page.locator("#overview-breadcrumb .ovw-crumb-current")).to_be_visible(timeout=LOAD_MS)
    expect()(page.locator(KPI_TODAY)).to_be_visible(timeout=LOAD_MS)
    expect()(page.locator(TICKER_ROWS).first).to_be_visible(timeout=LOAD_MS)
    page.wait_for_function("() => window.gridcc && window.gridcc.live && window.gridcc.live.state.version !== null",
                           timeout=15000)
    expect()(page.locator(BADGE)).to_have_attribute("data-live", "fresh")


def crumbs(page) -> str:
    return " › ".join(page.locator("#overview-breadcrumb .ovw-crumb-name").all_inner_texts())


def first_tick(page) -> str | None:
    return page.locator(TICKER_ROWS).first.get_attribute("data-event")


PANE = "() => document.querySelector('.leaflet-map-pane').style.transform"
STILL = """() => new Promise(done => {
    const pane = document.querySelector('.leaflet-map-pane');
    const first = pane.style.transform;
    setTimeout(() => done(first === pane.style.transform && !document.querySelector('.leaflet-zoom-anim')
        && !pane.classList.contains('leaflet-pan-anim')), 400);
})"""


def settle_map(page) -> str:
    """Wait until the map stopped moving (the fit to the area animates); return its pane transform."""
    deadline = time.monotonic() + 10
    while not page.evaluate(STILL):
        assert time.monotonic() < deadline, "the map never stopped moving"
    return page.evaluate(PANE)


def clean(watch, failed: list[str] | None = None, expected: str | None = None) -> None:
    """Assert the page stayed on this machine and logged no console error.

    A test that makes requests fail on purpose (a stopped server, a blocked stream) passes the list of
    failed request URLs (``failures``) and the pattern they must all match: only then are Chromium's
    "Failed to load resource: net::ERR_…" lines allowed, one per failed request at most.
    """
    assert watch.offsite == []
    errors = list(watch.errors)
    if expected is not None:
        assert failed and all(re.search(expected, url) for url in failed), failed
        loads = [e for e in errors if re.fullmatch(r"Failed to load resource: net::ERR_[A-Z_]+", e)]
        assert len(loads) <= len(failed), (loads, failed)
        errors = [e for e in errors if e not in loads]
    assert errors == []


def failures(page) -> list[str]:
    """Start recording the URLs of the page's failed requests."""
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    return failed


def dash_requests(page) -> list[dict]:
    """Start recording every Dash callback request of ``page``: its outputs and what triggered it."""
    seen: list[dict] = []

    def on_request(request):
        if "/_dash-update-component" in request.url and request.method == "POST":
            body = json.loads(request.post_data or "{}")
            seen.append({"output": body.get("output", ""), "changed": body.get("changedPropIds", []),
                         "t": time.monotonic()})

    page.on("request", on_request)
    return seen


# -- 1. an event posted to the API reaches the open page, and nothing else moves -----------------------------

def test_liv_b001_posted_event_reaches_the_open_page_without_reload(leader, token):
    page, watch, served = leader
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    open_live(page, served.url, f"?area={DISTRICT}")
    assert crumbs(page) == "云州市 › 东城区"
    # 东城区 reported today (11-20 00:00–15:00): events 1, 4, 5 (void counts: it was reported) → 3; newest is 4.
    expect()(page.locator(KPI_TODAY)).to_have_text("3")
    expect()(page.locator(TICKER_ROWS).first).to_have_attribute("data-event", "4")
    fitted = settle_map(page)
    # Pan the map by hand, then zoom in one step: the view the person chose must survive the update.
    box = page.locator("#overview-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 30, steps=8)
    page.mouse.move(cx + 120, cy + 60, steps=8)
    page.mouse.up()
    panned = settle_map(page)
    assert panned != fitted  # the drag really moved it (else "unchanged" below proves nothing)
    outline_before_zoom = page.locator("path.gcc-focus").get_attribute("d")
    page.locator(".leaflet-control-zoom-in").click()
    chosen = settle_map(page)
    outline = page.locator("path.gcc-focus").get_attribute("d")
    assert outline != outline_before_zoom  # the zoom really redrew the outline bigger
    page.evaluate("() => { window.__marker = 1; }")
    before_url, before_navs = page.url, len(navigations)

    event_id, answered = post(served.url, token, report(1))
    assert event_id == FIRST_ID
    page.wait_for_function(
        """([id]) => {
            const row = document.querySelector('#overview-ticker li.ovw-tick');
            const today = document.querySelector('[data-kpi="reported_today"] .ovw-kpi-value');
            return row && row.dataset.event === id && today && today.textContent === '4';
        }""", arg=[str(event_id)], polling=20, timeout=15000)
    latency = time.monotonic() - answered
    print(f"\nlive latency (POST answered → ticker row and KPI on screen): {latency * 1000:.0f} ms")
    assert latency <= MAX_LATENCY_S, f"the new event took {latency:.2f} s to show"
    assert page.locator(TICKER_ROWS).nth(1).get_attribute("data-event") == "4"
    assert crumbs(page) == "云州市 › 东城区"
    assert page.evaluate(PANE) == chosen
    assert page.locator("path.gcc-focus").get_attribute("d") == outline
    assert page.evaluate("() => window.__marker") == 1
    assert page.url == before_url and len(navigations) == before_navs
    clean(watch)


# -- 2. a change elsewhere does not redraw the view ----------------------------------------------------------

PANEL_OUTPUTS = ("overview-kpis.children", "overview-kpi-median.children", "overview-ticker.children",
                 "overview-categories.figure", "overview-trend.figure", "overview-geojson.hideout",
                 "overview-building.children", "overview-heat-data.data")


def test_liv_b002_an_event_in_another_district_asks_only_for_the_alerts(leader, token):
    page, watch, served = leader
    open_live(page, served.url, f"?area={DISTRICT}")
    expect()(page.locator(KPI_TODAY)).to_have_text("3")
    settle_map(page)
    seen = dash_requests(page)
    version = page.evaluate("() => window.gridcc.live.state.version")

    # 西城区, grid C1 (lon 120.2–120.3): the leader's scope covers it, the view (东城区) does not.
    post(served.url, token, report(1, lon=120.25))
    page.wait_for_function("([v]) => window.gridcc.live.state.version > v", arg=[version], timeout=10000)
    deadline = time.monotonic() + 10
    while not any("overview-alerts.children" in r["output"] for r in seen):
        assert time.monotonic() < deadline, "the scope tick never asked for the alerts"
        page.wait_for_timeout(50)
    page.wait_for_timeout(2000)  # past the tick's one-second throttle: a late panel request would show by now
    by_change = [r for r in seen if not any(c.startswith("overview-minute.") for c in r["changed"])]
    asked = [r["output"] for r in by_change]
    assert all("overview-alerts.children" in o for o in asked), asked
    assert not any(panel in o for o in asked for panel in PANEL_OUTPUTS)
    expect()(page.locator(KPI_TODAY)).to_have_text("3")
    assert first_tick(page) == "4"

    # The control: the same recorder does see the panels asked for when the change is in 东城区 (A1).
    event_id, _ = post(served.url, token, report(2))
    deadline = time.monotonic() + 10
    while not any("overview-kpis.children" in r["output"] for r in seen):
        assert time.monotonic() < deadline, "an 东城区 event never asked for the KPIs"
        page.wait_for_timeout(50)
    expect()(page.locator(KPI_TODAY)).to_have_text("4")
    expect()(page.locator(TICKER_ROWS).first).to_have_attribute("data-event", str(event_id))
    clean(watch)


# -- 3. the badge tells a stopped server -----------------------------------------------------------------------

# Beats come every 5 s (dashboard/live.py BEAT_S), so the thresholds must lie past a beat's gap: with
# amber at 2 s the badge would turn amber between two beats of a healthy server and the test could not fail.
STALE_CONFIG = "window.gridccLiveConfig = {amberMs: 7000, redMs: 10000};"
RECORD_BADGE = """() => {
    window.__badge = [];
    const badge = document.getElementById('shell-as-of');
    const note = () => window.__badge.push([Date.now(), badge.getAttribute('data-live'), badge.textContent]);
    note();
    new MutationObserver(note).observe(badge, {attributes: true, childList: true, characterData: true, subtree: true});
}"""


def test_liv_b003_badge_turns_amber_then_red_when_the_server_stops(leader):
    page, watch, served = leader
    page.add_init_script(STALE_CONFIG)
    failed = failures(page)
    open_live(page, served.url)
    expect()(page.locator(BADGE)).to_have_text("数据截至 15:00:00")
    expect()(page.locator(BADGE)).to_have_class(re.compile(r"\bgcc-live-fresh\b"))
    page.evaluate(RECORD_BADGE)
    # A healthy server keeps it fresh: wait for a beat (a new contact), the badge never left "fresh".
    contact = page.evaluate("() => window.gridcc.live.state.contact")
    page.wait_for_function("([c]) => window.gridcc.live.state.contact > c", arg=[contact], timeout=8000)
    assert page.evaluate("() => window.gridcc.live.state.mode") == "push"
    assert {state for _, state, _ in page.evaluate("() => window.__badge")} == {"fresh"}
    assert served.hub.listeners == 1

    stopped = time.monotonic()
    served.stop()
    # The stream really ended: the server let go of it, and the page's EventSource is no longer open.
    deadline = time.monotonic() + 5
    while served.hub.listeners:
        assert time.monotonic() < deadline, "the live stream stayed open after hub.stop()"
        time.sleep(0.05)
    page.wait_for_function("() => { const s = window.gridcc.live.state.source; return !s || s.readyState !== 1; }",
                           timeout=5000)
    expect()(page.locator(BADGE)).to_have_attribute("data-live", "amber", timeout=12000)
    expect()(page.locator(BADGE)).to_contain_text("更新延迟")
    expect()(page.locator(BADGE)).to_have_class(re.compile(r"\bgcc-live-amber\b"))
    amber_at = time.monotonic() - stopped
    expect()(page.locator(BADGE)).to_have_attribute("data-live", "red", timeout=8000)
    expect()(page.locator(BADGE)).to_contain_text("连接中断")
    expect()(page.locator(BADGE)).to_have_class(re.compile(r"\bgcc-live-red\b"))
    red_at = time.monotonic() - stopped
    print(f"\nbadge after the stop: amber at {amber_at:.1f} s, red at {red_at:.1f} s")
    states = [state for _, state, _ in page.evaluate("() => window.__badge")]
    assert states.index("amber") < states.index("red")
    assert amber_at >= 5.0  # not before the last beat's age reached amberMs (7 s after the last word)
    # With the server gone, only the live stream's reconnects and the polls fall back to fail.
    clean(watch, failed, expected=r"/api/v1/live/(stream|poll)")


# -- 4. an urgent event raises the alert; signing for it clears it -------------------------------------------

def test_liv_b004_urgent_event_raises_the_banner_and_acknowledging_clears_it(duty, token, hand_app):
    page, watch, served = duty  # signing needs the act right: a district manager, not the city leader
    open_live(page, served.url)
    banner = page.locator("#overview-alerts .ovw-alert")
    pulses = page.locator(".gcc-pulse")
    # Event 6 (0401) is urgent but 11-18: older than the banner's 24 hours. Nothing shows yet.
    expect()(banner).to_have_count(0)
    expect()(pulses).to_have_count(0)

    event_id, _ = post(served.url, token, report(1, category="0401"))
    expect()(banner).to_have_count(1, timeout=10000)
    expect()(banner).to_have_attribute("data-event", str(event_id))
    expect()(banner.locator(".ovw-alert-what")).to_have_text(URGENT_NAME)
    expect()(banner.locator(".ovw-alert-where")).to_have_text(A1_PLACE)
    expect()(banner.locator(".ovw-alert-time")).to_have_text("14:59")
    expect()(pulses).to_have_count(1)
    expect()(pulses.first).to_be_visible()
    expect()(page.locator(TICKER_ROWS).first).to_have_attribute("data-event", str(event_id))
    expect()(page.locator(TICKER_ROWS).first).to_have_class(re.compile(r"\bgcc-urgent\b"))

    banner.get_by_role("button", name="确认签收").click()
    expect()(banner).to_have_count(0, timeout=10000)
    expect()(pulses).to_have_count(0)
    engine = hand_app.server.extensions["gridcc"].engine
    with engine.connect() as conn:
        rows = conn.execute(select(alert_acks.c.event_id, alert_acks.c.user_name)).all()
    assert [tuple(r) for r in rows] == [(event_id, "dongcheng")]
    clean(watch)


# -- 5. playback -------------------------------------------------------------------------------------------------

# Reported on 11-20 in the whole city (void included: it was reported), by time of day.
TODAY_REPORTS = ["08:00", "09:00", "10:00", "14:00", "14:59:59"]


def reported_by(cursor_hhmm: str) -> int:
    """Return the city's reports of 11-20 up to the replayed minute (the window ends at it, inclusive)."""
    return sum(1 for t in TODAY_REPORTS if t[:5] <= cursor_hhmm)


def test_liv_b005_playback_moves_the_slider_and_replays_the_figures(leader):
    page, watch, served = leader
    open_live(page, served.url)
    expect()(page.locator(KPI_TODAY)).to_have_text("5")  # live, 15:00: events 1, 4, 5, 8, 10
    day = page.locator("#overview-play-day")
    day.fill("2026-11-20")
    day.press("Enter")
    page.select_option("#overview-play-speed", "3600")
    clock = page.locator("#overview-play-clock")
    thumb = page.locator("#overview-play-slider [role=slider]").first
    start_value = int(thumb.get_attribute("aria-valuenow") or 0)
    page.locator("#overview-play-button").click()
    expect()(page.locator(BADGE)).to_have_attribute("data-live", "replay")
    expect()(page.locator(BADGE)).to_have_class(re.compile(r"\bgcc-live-replay\b"))
    expect()(page.locator(BADGE)).to_contain_text("回放 2026-11-20")
    # One hour a second: wait until the replay is past 09:00, then pause and read where it stopped.
    page.wait_for_function("() => { const t = document.getElementById('overview-play-clock').textContent;"
                           " return t >= '2026-11-20 09:00'; }", timeout=20000)
    page.locator("#overview-play-button").click()
    expect()(page.locator("#overview-play-button")).to_have_text("播放")
    shown = clock.inner_text()
    assert re.fullmatch(r"2026-11-20 \d\d:\d\d", shown), shown
    hhmm = shown[11:]
    assert "09:00" <= hhmm < "15:00", f"the replay ran to {hhmm} before the pause (1 h/s)"
    minutes = int(hhmm[:2]) * 60 + int(hhmm[3:])
    expect()(thumb).to_have_attribute("aria-valuenow", str(minutes // 10))
    assert minutes // 10 > start_value
    expect()(page.locator(BADGE)).to_have_text(f"回放 2026-11-20 {hhmm}")
    expected = reported_by(hhmm)
    assert expected != 5
    expect()(page.locator(KPI_TODAY)).to_have_text(str(expected))

    page.locator("#overview-play-exit").click()
    expect()(page.locator(BADGE)).to_have_text("数据截至 15:00:00")
    expect()(page.locator(BADGE)).to_have_attribute("data-live", "fresh")
    expect()(page.locator(KPI_TODAY)).to_have_text("5")
    expect()(clock).to_have_text("—")
    clean(watch)


# -- 6. the heat layer ---------------------------------------------------------------------------------------

def test_liv_b006_heat_layer_draws_the_servers_cells_and_a_click_drills(leader, token):
    page, watch, served = leader
    # Every hand-city event stands at (31.1, 120.0); one more in C1 (西城区) gives a second, separate cell.
    post(served.url, token, report(1, lon=120.25, at="14:30:00"))
    open_live(page, served.url)
    sent: list[dict] = []

    def on_response(response):
        if "/_dash-update-component" in response.url and "overview-heat-data.data" in (
                json.loads(response.request.post_data or "{}").get("output", "")):
            data = response.json().get("response", {}).get("overview-heat-data", {}).get("data")
            if data:
                sent.append(data)

    page.on("response", on_response)
    page.locator("label[for=overview-heat-on]").click()
    cells = page.locator(".leaflet-gcc-heat-pane path.gcc-heat-cell")
    expect()(cells.first).to_be_visible(timeout=10000)
    deadline = time.monotonic() + 5
    while not sent:
        assert time.monotonic() < deadline, "no heat cells seen coming from the server"
        page.wait_for_timeout(50)
    # 24 hours to 15:00 in the city: events 1, 4, 5, 8, 10 in one cell, the new one in another.
    assert len(sent[-1]["cells"]) == 2
    expect()(cells).to_have_count(len(sent[-1]["cells"]))

    east = max(range(cells.count()), key=lambda i: cells.nth(i).bounding_box()["x"])
    hexagon = cells.nth(east)
    hexagon.hover()
    expect()(page.locator(".gcc-tooltip")).to_contain_text("件")
    expect()(page.locator(".gcc-tooltip")).to_contain_text("1 件")
    hexagon.click()
    expect()(page.locator("#overview-breadcrumb .ovw-crumb-current .ovw-crumb-name")).to_have_text("西城区")
    assert crumbs(page) == "云州市 › 西城区"
    assert f"area={WEST}" in page.url
    clean(watch)


# -- 7. a ticker row opens the event's detail -----------------------------------------------------------------

def test_liv_b007_ticker_row_opens_the_detail_with_the_reporter_masked(leader):
    page, watch, served = leader
    open_live(page, served.url)
    # Event 6 (0401, B1, 11-18 10:00) is in the city's 7-day ticker; its reporter is 王芳 13912345678.
    row = page.locator(f'{TICKER_ROWS}[data-event="6"] button.ovw-tick-btn')
    row.click()
    modal = page.locator("#overview-detail")
    expect()(modal).to_be_visible()
    timeline = modal.locator("#event-detail-timeline")
    expect()(timeline).to_be_visible()
    expect()(timeline.locator("li").first).to_be_visible()
    reporter = modal.locator(".evd-reporter")
    expect()(reporter).to_have_text(re.compile(r"^王\*+ 139\*{4}5678$"))
    text = page.locator("body").inner_text()
    assert "王芳" not in text and "13912345678" not in text
    assert "李娜" not in text and "13812345678" not in text
    assert "王芳" not in page.content() and "13912345678" not in page.content()
    clean(watch)


# -- 8. the long-poll fallback -----------------------------------------------------------------------------------

def test_liv_b008_page_updates_by_polling_when_the_stream_is_blocked(leader, token):
    page, watch, served = leader
    page.add_init_script("window.gridccLiveConfig = {helloMs: 1500};")
    blocked = []

    def block(route):
        blocked.append(route.request.url)
        route.abort()

    page.route("**/api/v1/live/stream*", block)
    failed = failures(page)
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/api/v1/live/poll" in r.url else None)
    open_live(page, served.url, f"?area={DISTRICT}")
    assert blocked, "the stream was never tried"
    assert page.evaluate("() => window.gridcc.live.state.mode") == "poll"
    expect()(page.locator(BADGE)).to_have_attribute("title", re.compile("轮询"))
    expect()(page.locator(KPI_TODAY)).to_have_text("3")
    assert served.hub.listeners == 0

    event_id, answered = post(served.url, token, report(1))
    expect()(page.locator(TICKER_ROWS).first).to_have_attribute("data-event", str(event_id), timeout=10000)
    expect()(page.locator(KPI_TODAY)).to_have_text("4")
    print(f"\npoll latency: {(time.monotonic() - answered) * 1000:.0f} ms")
    assert polls
    expect()(page.locator(BADGE)).to_have_attribute("data-live", "fresh")
    expect()(page.locator(BADGE)).to_have_attribute("title", re.compile("轮询"))
    # The only console errors allowed are the blocked stream's own (the test aborted it).
    clean(watch, failed, expected=r"/api/v1/live/stream")
