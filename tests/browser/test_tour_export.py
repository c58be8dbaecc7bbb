"""A tour on the hand city exported to PDF and PPTX by the served app (its own headless Chromium): once per format,
everything asserted on those two files. Export is slow (Chromium photographs each view), so this module exports a
3-slide tour (and one slide whose stored view no longer parses) exactly twice.

Checked: page/slide count = slides + title page, the titles in order, each slide's figures equal to the JSON API's
for the tour's as_of (by hand, tests/test_tour_export.py: 云州市 open 5, overdue 2, on-time 20.0 %; 东城区 lights
red 1, green 2, turning red 1), each picture 3840×2160, the note, the footer, the failed slide's notice, the
Content-Disposition, the audit row, and that the export's web session has ended.
"""
from __future__ import annotations

import io
import re
import shutil
import threading
import time
from datetime import datetime
from urllib.parse import unquote

import pytest

from dashboard.settings import Settings
from tests import handcity
from tests.browser.conftest import open_watched, sign_in

pytestmark = pytest.mark.browser

NOW = handcity.NOW
AS_OF = "2026-11-20T15:00:00%2B08:00"
TITLE = "十一月例会 <b>东城区</b>"
SLIDES = (  # title, note, path, query
    ("全市综合态势", "先看全市在办与超期。", "/", ""),
    ("东城区 部门按期率", "东城区超时 1 件，请部门说明原因。", "/sla", "area=329902&period=7d"),
    ("区县排名", "", "/rankings", "level=district&period=2026-10"),
    ("旧的页面", "", "/sla", "bogus=1"),  # stored before the page lost its setting: it can no longer be shown
)
EXPORT_MS = 300_000


@pytest.fixture(scope="module")
def served(tmp_path_factory, hand_store_template):
    """Serve a copy of the hand city (module-wide: both exports run on it); yield (app, base URL, tour id)."""
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from queries import tours as tour_queries

    folder = tmp_path_factory.mktemp("tour-export")
    shutil.copy(hand_store_template, folder / "gridcc.duckdb")
    app = create_app(Settings(data_dir=folder, frozen_now=NOW, cache_type="NullCache"))
    ctx = app.server.extensions["gridcc"]
    with ctx.engine.begin() as conn:
        tour_id = tour_queries.create(conn, owner="leader", title=TITLE, as_of=NOW, now=NOW)
        for title, note, path, query in SLIDES:
            tour_queries.add_slide(conn, owner="leader", tour_id=tour_id, title=title, note=note, path=path,
                                   query=query, now=NOW)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}", tour_id
    app.server.extensions["gridcc_live"].stop()
    server.shutdown()
    thread.join(timeout=5)
    ctx.engine.dispose()


@pytest.fixture(scope="module")
def exported(browser, served):
    """Sign in as the leader, export the tour once as PDF and once as PPTX; yield what the tests read."""
    app, base, tour_id = served
    context, page, watch = open_watched(browser)
    sign_in(page, base, "leader")
    files, timing = {}, {}
    for fmt in ("pdf", "pptx"):
        started = time.monotonic()
        answer = context.request.get(f"{base}/tours/{tour_id}/export.{fmt}?lang=zh", timeout=EXPORT_MS)
        timing[fmt] = time.monotonic() - started
        assert answer.status == 200, answer.text()[:300]
        files[fmt] = (answer.body(), answer.headers)
    api = {
        "city": context.request.get(f"{base}/api/v1/areas/{handcity.CITY}?as_of={AS_OF}").json()["area"],
        "sla": context.request.get(f"{base}/api/v1/sla?area=329902&as_of={AS_OF}").json(),
        "rank": context.request.get(f"{base}/api/v1/rankings?level=district&period=2026-10&as_of={AS_OF}").json(),
    }
    print(f"tour export, 4 slides: pdf {timing['pdf']:.1f} s, pptx {timing['pptx']:.1f} s")
    yield {"files": files, "api": api, "app": app, "tour_id": tour_id, "watch": watch}
    context.close()


def expected_figures(api) -> list[list[tuple[str, str]]]:
    """Return each good slide's figures as the JSON API gives them, formatted as the pages show them."""
    city = api["city"]
    f = city["figures"]
    overview = [("区域", city["name"]), ("30日上报", str(f["reported"])), ("在办", str(f["open"])),
                ("超期", str(f["overdue"])), ("30日办结", str(f["closed"])),
                ("30日按期率", f"{f['on_time_rate'] * 100:.1f}%"),
                ("30日处置时长中位数", f"{f['median_handling_hours']:.1f} 小时")]
    lights = api["sla"]["lights"]
    sla = [("区域", api["sla"]["area"]["name"]),
           *((label, str(lights[key]["count"])) for label, key in (("2小时内将超期", "turning_red_2h"), ("超时", "red"),
                                                                   ("临期", "yellow"), ("正常", "green"),
                                                                   ("未派遣", "none")))]
    rows = api["rank"]["rows"][:3]
    rank = [("层级", "区县"), ("考核方案", "区域考核"), ("考核期", "2026年10月"),
            *((("未排名 " if r["rank"] is None else f"另行排名第{r['rank']}名 " if r["apart"] else f"第{r['rank']}名 ")
               + r["name"], "—" if r["score"] is None else f"{r['score']:.2f}") for r in rows)]
    return [overview, sla, rank]


def test_exp020_pdf(exported):
    import pypdf

    body, headers = exported["files"]["pdf"]
    assert headers["content-type"] == "application/pdf"
    disposition = headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and unquote(disposition.split("UTF-8''")[1]) == \
        "十一月例会 _b_东城区_b.pdf"
    reader = pypdf.PdfReader(io.BytesIO(body))
    assert len(reader.pages) == 1 + len(SLIDES)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (960, 540)  # 13.333 × 7.5 in: 16:9
    texts = [page.extract_text() for page in reader.pages]
    assert texts[0].splitlines()[0] == TITLE and "讲稿人" in texts[0] and "数据截至 2026-11-20 15:00" in texts[0]
    # Chinese is text (not pictures of text, nor radicals in place of ideographs: 十 is U+5341, not ⼗ U+2F17;
    # 门 U+95E8, not ⻔ U+2EC7, the radical its Chinese form shares a glyph with).
    assert not [ch for text in texts for ch in text if 0x2E80 <= ord(ch) <= 0x2FDF]
    assert "十一月例会" in texts[0] and "部门按期率" in texts[2]
    figures = expected_figures(exported["api"])
    assert figures[0][2:4] == [("在办", "5"), ("超期", "2")] and figures[1][2] == ("超时", "1")  # by hand
    for n, (text, (title, note, _, _)) in enumerate(zip(texts[1:], SLIDES), 1):
        lines = text.splitlines()
        assert lines[0] == title
        assert f"数据截至 2026-11-20 15:00 · 数据来源：gridcc 127.0.0.1:" in text and text.rstrip().endswith(
            f"· {n}/{len(SLIDES)}")
        if note:
            assert note in text
        if n <= 3:
            pairs = [item for pair in figures[n - 1] for item in pair]
            at = lines.index(pairs[0])
            assert lines[at:at + len(pairs)] == pairs, (title, lines)
            [image] = reader.pages[n].images
            assert image.image.size == (3840, 2160)
        else:
            assert "本页未能生成：按期率分析" in text and "bogus" in text and not reader.pages[n].images


def test_exp021_pptx(exported):
    from PIL import Image
    from pptx import Presentation

    body, headers = exported["files"]["pptx"]
    assert headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.presentationml")
    assert headers["content-disposition"].endswith(".pptx")
    deck = Presentation(io.BytesIO(body))
    slides = list(deck.slides)
    assert len(slides) == 1 + len(SLIDES)
    named = [{shape.name: shape for shape in slide.shapes} for slide in slides]
    assert named[0]["gridcc-title"].text == TITLE and "讲稿人：" in named[0]["gridcc-cover"].text
    figures = expected_figures(exported["api"])
    for n, (title, note, _, _) in enumerate(SLIDES, 1):
        shapes = named[n]
        assert shapes["gridcc-title"].text == title
        assert shapes["gridcc-footer"].text.endswith(f"· {n}/{len(SLIDES)}")
        assert (slides[n].notes_slide.notes_text_frame.text if slides[n].has_notes_slide else "") == note
        if n <= 3:
            lines = [p.text for p in shapes["gridcc-figures"].text_frame.paragraphs]
            assert lines == [item for pair in figures[n - 1] for item in pair]
            assert Image.open(io.BytesIO(shapes["gridcc-picture"].image.blob)).size == (3840, 2160)
        else:
            assert "gridcc-picture" not in shapes and "本页未能生成：按期率分析" in shapes["gridcc-failed"].text
    assert 'typeface="Microsoft YaHei"' in named[1]["gridcc-title"]._element.xml


def test_exp022_audited_session_ended_nothing_left_the_machine(exported):
    from sqlalchemy import select

    from queries import users as user_queries
    from queries.schema import web_sessions

    ctx = exported["app"].server.extensions["gridcc"]
    with ctx.engine.connect() as conn:
        rows = [r for r in user_queries.audit_rows(conn, since=datetime(2000, 1, 1), until=datetime(2100, 1, 1))
                if r.action == "tour.export"]
        sessions = conn.execute(select(web_sessions.c.ended_at).where(web_sessions.c.source == "tour-export")).all()
    assert [(r.actor, r.outcome, r.target) for r in rows] == [("leader", "partial", f"tour:{exported['tour_id']}")] * 2
    assert re.match(r"pdf, 4 slides, [\d.]+ s; failed 4: 按期率分析: the page /sla has no setting 'bogus'", rows[0].detail)
    assert len(sessions) == 2 and all(ended is not None for (ended,) in sessions)  # one per export, both ended
    assert exported["watch"].offsite == []


def test_exp023_a_view_that_fails_to_draw_says_why(served, monkeypatch):
    """Without a session the pages send the browser to sign in, and the API answers 401: both are failures; once
    the export's time is up, the views left are not opened at all."""
    from dashboard import tour_export

    _, base, _ = served
    shots = []

    def shoot():  # the server's own Playwright, in its own thread (the test's browser holds this one's loop)
        with tour_export._Browser(base, {}) as chromium:
            shots.extend(chromium.shots(["/sla?as_of=2026-11-20T15%3A00&embed=1", "/api/v1/areas/329902"]))
            monkeypatch.setattr(tour_export, "BUDGET_S", 0.0)
            shots.extend(chromium.shots(["/sla"]))

    worker = threading.Thread(target=shoot)
    worker.start()
    worker.join(timeout=120)
    assert [(s.png, s.error) for s in shots] == [(None, "redirected to /auth/sign-in"), (None, "HTTP 401"),
                                                 (None, "not drawn: the export's 0 minutes ran out")]
