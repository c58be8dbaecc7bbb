"""The wall's SLA, rankings and backlog views (layouts/wall_views.py) on /wall in headless Chromium, hand city.

At 1920×1080, 3840×2160 and 7680×2160 each view fits its slot: no scrollbar, nothing outside its panel or the
screen, no text cut short, no two panels overlapping, and the big numerals twice as large at 4K as at 1080p.
The numbers are the hand-worked ones of tests/test_wall_views.py: 东城区 over 7 days 33.3 %; the city's backlog
2 overdue, 0 nearly due; the rankings' hand city has no ranking (every unit under the minimum volume) and says so.
Screenshots: /tmp/gridcc-wall-views-<size>-<stop>.png.
"""
from __future__ import annotations

import pytest

from tests.browser.conftest import open_watched, sign_in

pytestmark = pytest.mark.browser

PLAYLIST = """
[[playlist]]
name = "v"
title = "视图测试"
resume_s = 3600

[[playlist.view]]
url = "/sla?area=329902&period=7d"
dwell_s = 3600

[[playlist.view]]
url = "/backlog"
dwell_s = 3600

[[playlist.view]]
url = "/rankings?level=street&period=2026-10"
dwell_s = 3600
"""
LOAD_MS = 30_000
KINDS = ("wall-view-sla", "wall-view-backlog", "wall-view-rankings")  # the playlist's stops in order

CHECKS = """() => {
    const vw = innerWidth, vh = innerHeight, de = document.documentElement;
    const shown = el => { for (let e = el; e && e !== document.body; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) < 0.99) return false; }
        const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const name = el => (el.className || el.tagName) + ' ' + (el.textContent || '').slice(0, 24);
    const views = [...document.querySelectorAll('.wall-view')].filter(shown);
    const panels = views.flatMap(v => [...v.querySelectorAll('.wall-panel')]).filter(shown);
    const out = [], cut = [], overlaps = [];
    for (const p of panels) { const r = p.getBoundingClientRect();
        if (p.scrollHeight > p.clientHeight + 1 || p.scrollWidth > p.clientWidth + 1) out.push('scrolls: ' + name(p));
        for (const e of p.querySelectorAll('*')) { if (!shown(e)) continue; const q = e.getBoundingClientRect();
            if (q.left < r.left - 0.5 || q.right > r.right + 0.5 || q.bottom > r.bottom + 0.5 || q.right > vw + 0.5
                || q.bottom > vh + 0.5) out.push(name(e));
            if (getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1) cut.push(name(e)); } }
    for (let i = 0; i < panels.length; i++) for (let j = i + 1; j < panels.length; j++) {
        const a = panels[i].getBoundingClientRect(), b = panels[j].getBoundingClientRect();
        if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) -
            Math.max(a.top, b.top) > 0.5) overlaps.push(name(panels[i]) + ' × ' + name(panels[j])); }
    const big = document.querySelector('.wall-view-sla .wv-big');
    return {scrolls: de.scrollWidth > vw || de.scrollHeight > vh, out, cut, overlaps, panels: panels.length,
            kinds: views.map(v => v.className), big: big ? parseFloat(getComputedStyle(big).fontSize) : 0,
            bigs: Object.fromEntries(views.map(v => [v.className.split(' ').pop(),
                                                   [...v.querySelectorAll('.wv-big')].map(e => e.textContent)]))};
}"""


@pytest.fixture
def wall_url(hand_settings, tmp_path):
    import threading

    from werkzeug.serving import make_server

    from dashboard.app import create_app

    path = tmp_path / "wall.toml"
    path.write_text(PLAYLIST, encoding="utf-8")
    app = create_app(hand_settings.with_(wall_playlists=str(path)))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    app.server.extensions["gridcc_live"].stop()
    server.shutdown()
    thread.join(timeout=5)
    app.server.extensions["gridcc"].engine.dispose()


def showing(page, index: int, slots: int) -> None:
    """Wait until the view at ``index`` is drawn in the slot in front, ``slots`` slots show a drawn view (two on a
    32:9 wall) and the cross-fade is over."""
    page.wait_for_function("""([i, n]) => {
        const s = [...document.querySelectorAll('.wall-slot')].filter(e => getComputedStyle(e).opacity === '1'
            && getComputedStyle(e).visibility !== 'hidden' && e.querySelector('.wall-built .wall-view'));
        return s.length === n && s.some(e => e.querySelector('.wall-built').getAttribute('data-index') === String(i));
    }""", arg=[index, slots], timeout=LOAD_MS)
    page.wait_for_timeout(400)


def test_wallviews_b001_three_views_fit_three_sizes(browser, wall_url):
    context, page, watch = open_watched(browser)
    try:
        sign_in(page, wall_url)
        page.goto(wall_url + "/wall?playlist=v")
        page.wait_for_selector(".wall[data-ready='1']", timeout=LOAD_MS)
        fonts, seen = {}, set()
        # 4K is 1080p with every size doubled (all in var(--u)): its first stop shows the type scaling; on 32:9 two
        # stops show all three views (each beside the next).
        for width, height, stops in ((1920, 1080, 3), (3840, 2160, 1), (7680, 2160, 2)):
            page.set_viewport_size({"width": width, "height": height})
            for stop in range(stops):
                showing(page, stop, 2 if width == 7680 else 1)
                found = page.evaluate(CHECKS)
                page.screenshot(path=f"/tmp/gridcc-wall-views-{width}x{height}-{stop}.png")
                assert not found["scrolls"] and found["out"] == [] and found["cut"] == [], (width, stop, found)
                assert found["overlaps"] == [], (width, stop, found["overlaps"])
                front = KINDS[stop]
                assert any(front in k for k in found["kinds"]), (width, stop, found["kinds"])
                seen.update(k.split()[-1] for k in found["kinds"])
                if stop == 0:
                    fonts[width] = found["big"]
                    assert found["bigs"]["wall-view-sla"] == ["33.3%"]
                if stop == 1:
                    assert found["bigs"]["wall-view-backlog"] == ["2", "0"]
                    assert len(found["kinds"]) == (2 if width == 7680 else 1)  # 32:9: the next view beside it
                if stop == 2:
                    assert "本期暂无排名" in page.locator(".wall-view-rankings").first.inner_text()
                if stops == 3 or stop < stops - 1:
                    page.keyboard.press("ArrowRight")  # at 1080p the third step goes round to the first stop
        assert seen == set(KINDS)
        assert 1.9 <= fonts[3840] / fonts[1920] <= 2.1 and abs(fonts[7680] - fonts[3840]) < 0.5, fonts
        assert watch.offsite == [] and watch.errors == [], (watch.offsite, watch.errors)
    finally:
        context.close()
