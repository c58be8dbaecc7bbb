"""The tour export without a browser: key figures against the JSON API, the PDF page and PPTX builders, the file
name, the PDF text maps, and the routes' refusals (the real export, Chromium and all: tests/browser/test_tour_export.py).

By hand, from tests/handcity.py at NOW = 2026-11-20 15:00 over [10-21 15:00, 11-20 15:00):
  city 云州市: reported 8, open 5, overdue 2, closed 3, on-time 1/(3+2) = 20.0 %, median handling 6.5 h
  东城区: reported 6, open 3, overdue 1, closed 3, on-time 1/(3+1) = 25.0 %, median 6.5 h
  东城区's open cases by light (tests/callbacks/test_sla_page.py): red 3 → 1, green 4 and 6 → 2, none 0,
  yellow 0; turning red within 2 h: 4 → 1.
"""
from __future__ import annotations

import io
import re
from collections import namedtuple
from datetime import datetime

import flask
import pytest

from dashboard import data, tour_export, views
from dashboard.tour_export import Meta, Page, Shot, SlideFigure
from tests import handcity
from tests.conftest import principal_for, signed_in

NOW = handcity.NOW
AS_OF = "2026-11-20T15:00:00%2B08:00"
Tour = namedtuple("Tour", "id owner title as_of created_at updated_at")
Slide = namedtuple("Slide", "id tour_id position title note path query")


def figures_of(app, url: str, name: str = "leader", lang: str = "zh", as_of: datetime = NOW) -> dict[str, str]:
    with app.server.test_request_context():
        flask.g.gridcc_principal = principal_for(app, name)
        data.flush_marks()
        found = tour_export.slide_figures(views.parse(url), scope=flask.g.gridcc_principal.scope, as_of=as_of,
                                          lang=lang)
    return dict(found)


def test_exp001_overview_figures_equal_the_api(hand_app):
    client = signed_in(hand_app, "leader")
    for url, code, by_hand in (("/", handcity.CITY, ("云州市", "8", "5", "2", "3", "20.0%", "6.5 小时")),
                               ("/?area=329902&metric=overdue", "329902", ("东城区", "6", "3", "1", "3", "25.0%",
                                                                           "6.5 小时"))):
        api = client.get(f"/api/v1/areas/{code}?as_of={AS_OF}").get_json()["area"]
        f = api["figures"]
        from_api = (api["name"], str(f["reported"]), str(f["open"]), str(f["overdue"]), str(f["closed"]),
                    f"{f['on_time_rate'] * 100:.1f}%", f"{f['median_handling_hours']:.1f} 小时")
        shown = figures_of(hand_app, url)
        assert tuple(shown.values()) == from_api == by_hand
        assert list(shown) == ["区域", "30日上报", "在办", "超期", "30日办结", "30日按期率", "30日处置时长中位数"]
    # English labels, and an earlier cut-off moves the figures (12:00: open 3, overdue 2 — handcity's docstring).
    early = figures_of(hand_app, "/", lang="en", as_of=datetime(2026, 11, 20, 12, 0))
    assert early["Open"] == "3" and early["Overdue"] == "2" and early["Area"] == "云州市"


def test_exp002_sla_figures_equal_the_api(hand_app):
    client = signed_in(hand_app, "leader")
    lights = client.get(f"/api/v1/sla?area=329902&as_of={AS_OF}").get_json()["lights"]
    shown = figures_of(hand_app, "/sla?area=329902&period=7d")
    assert shown == {"区域": "东城区", "2小时内将超期": "1", "超时": "1", "临期": "0", "正常": "2", "未派遣": "0"}
    assert [shown[k] for k in ("2小时内将超期", "超时", "临期", "正常", "未派遣")] == [
        str(lights[k]["count"]) for k in ("turning_red_2h", "red", "yellow", "green", "none")]


def test_exp003_ranking_figures_equal_the_api(hand_app):
    client = signed_in(hand_app, "leader")
    api = client.get(f"/api/v1/rankings?level=district&period=2026-10&as_of={AS_OF}").get_json()
    shown = list(figures_of(hand_app, "/rankings?level=district&period=2026-10").items())
    assert shown[:3] == [("层级", "区县"), ("考核方案", "区域考核"), ("考核期", "2026年10月")]
    # The hand city's districts are all below the minimum volume: the page ranks them apart, and so does the slide.
    expected = []
    for row in api["rows"][:3]:
        score = "—" if row["score"] is None else f"{row['score']:.2f}"
        label = f"未排名 {row['name']}" if row["rank"] is None else (
            f"另行排名第{row['rank']}名 {row['name']}" if row["apart"] else f"第{row['rank']}名 {row['name']}")
        expected.append((label, score))
    assert shown[3:] == expected and expected[0] == ("另行排名第1名 东城区", "60.00")


def test_exp004_figures_refuse_what_the_caller_may_not_see(hand_app):
    with pytest.raises(LookupError):
        figures_of(hand_app, "/?area=329902", name="viewer")  # 西城区's viewer
    with pytest.raises(LookupError):
        figures_of(hand_app, "/sla?area=" + "9" * 40)
    with pytest.raises(ValueError):
        figures_of(hand_app, "/rankings?level=galaxy")
    assert figures_of(hand_app, "/backlog") == {}  # the backlog is always live: no slide of it has figures
    assert figures_of(hand_app, "/sla", name="viewer")["区域"] == "西城区"  # no area: the caller's own


def _png(size=(3840, 2160)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (20, 40, 60)).save(out, "PNG")
    return out.getvalue()


META = Meta(title='例会 <script>alert(1)</script> "q"', as_of=NOW, owner="市领导", exported_at=datetime(2026, 11, 21, 9, 30),
            source="gridcc 127.0.0.1:8050")
PAGES = [Page(title="全市 <b>", view_name="综合态势", note="第一行\n<i>第二行</i>",
              figures=(SlideFigure("在办", "5"), SlideFigure("超期", "2")), shot=Shot(_png())),
         Page(title="坏页", view_name="按期率分析", note="", figures=(), shot=Shot(None, "HTTP 500"),
              figures_error="area 1 is not in your scope")]


def test_exp005_pdf_document_escapes_and_says_what_failed():
    doc = tour_export.pdf_html(META, PAGES, "zh")
    assert "<script>" not in doc and "&lt;script&gt;" in doc and "<b>" not in doc and "<i>" not in doc
    assert doc.count('<section class="page') == 3  # the title page and two slides
    assert "本页未能生成：按期率分析（HTTP 500）" in doc and "area 1 is not in your scope" in doc
    assert "数据截至 2026-11-20 15:00 · 数据来源：gridcc 127.0.0.1:8050 · 2/2" in doc
    assert doc.count("data:image/png;base64,") == 1
    assert "size: 13.333in 7.5in" in doc and "Noto Sans CJK SC" in doc
    english = tour_export.pdf_html(META, PAGES, "en")
    assert "This slide could not be drawn: 按期率分析 (HTTP 500)" in english and "Data as of 2026-11-20 15:00" in english


def test_exp006_pptx_slides_pictures_notes_and_east_asian_font():
    from PIL import Image
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation(io.BytesIO(tour_export.pptx_bytes(META, PAGES, "zh")))
    assert (deck.slide_width, deck.slide_height) == (Inches(13.333), Inches(7.5))
    slides = list(deck.slides)
    assert len(slides) == 3
    shapes = [{s.name: s for s in slide.shapes} for slide in slides]
    assert shapes[0]["gridcc-title"].text == META.title
    assert "讲稿人：市领导" in shapes[0]["gridcc-cover"].text and "导出时间：2026-11-21 09:30" in shapes[0]["gridcc-cover"].text
    assert shapes[1]["gridcc-title"].text == "全市 <b>"
    assert Image.open(io.BytesIO(shapes[1]["gridcc-picture"].image.blob)).size == (3840, 2160)
    assert [p.text for p in shapes[1]["gridcc-figures"].text_frame.paragraphs] == ["在办", "5", "超期", "2"]
    assert slides[1].notes_slide.notes_text_frame.text == "第一行\n<i>第二行</i>"
    assert shapes[1]["gridcc-footer"].text == "数据截至 2026-11-20 15:00 · 数据来源：gridcc 127.0.0.1:8050 · 1/2"
    assert "gridcc-picture" not in shapes[2] and shapes[2]["gridcc-failed"].text == "本页未能生成：按期率分析（HTTP 500）"
    assert not slides[2].has_notes_slide or slides[2].notes_slide.notes_text_frame.text == ""
    for slide in slides:  # everything on the slide, nothing overlapping the picture
        for shape in slide.shapes:
            assert 0 <= shape.left and shape.left + shape.width <= deck.slide_width, shape.name
            assert 0 <= shape.top and shape.top + shape.height <= deck.slide_height, shape.name
    picture, figures = shapes[1]["gridcc-picture"], shapes[1]["gridcc-figures"]
    assert picture.left + picture.width < figures.left and picture.top + picture.height < shapes[1]["gridcc-footer"].top
    assert abs(picture.width / picture.height - 16 / 9) < 0.01
    xml = slides[1].shapes[0]._element.xml
    assert re.search(r'<a:latin typeface="Arial"/>\s*<a:ea typeface="Microsoft YaHei"/>', xml)


def test_exp007_download_name_rfc5987():
    value = tour_export.download_name("十一月例会", 7, "pdf")
    assert value == ("attachment; filename=\"tour-7.pdf\"; "
                     "filename*=UTF-8''%E5%8D%81%E4%B8%80%E6%9C%88%E4%BE%8B%E4%BC%9A.pdf")
    hostile = tour_export.download_name('a"b\r\nSet-Cookie: x=1/../..\\c', 8, "pptx")
    assert "\r" not in hostile and "\n" not in hostile and "/" not in hostile.split("filename*=")[0]
    assert hostile.startswith('attachment; filename="a_b') and hostile.count('"') == 2
    assert "%2F" not in hostile and "%5C" not in hostile and "%22" not in hostile
    assert tour_export.download_name("   ", 9, "pdf").startswith('attachment; filename="tour-9.pdf"')
    assert len(tour_export.download_name("长" * 200, 9, "pdf")) < 900


def test_exp008_pdf_text_maps_say_the_characters_meant():
    # What the calibration page read back: 十 and 一 as the Kangxi radicals, 门 as the simplified radical, 东 right;
    # ⻚ both for 页 and for 頁 (ambiguous: left alone).
    table = tour_export.alias_table({"十": "\u2f17", "一": "\u2f00", "门": "\u2ec7", "东": "东", "页": "\u2eda",
                                     "頁": "\u2eda", "丨": "\u2f01"})
    assert table == {0x2F17: ord("十"), 0x2F00: ord("一"), 0x2EC7: ord("门"), 0x2F01: ord("丨")}
    # A radical the document itself holds is not remapped (it is what was written).
    assert tour_export.alias_table({"十": "\u2f17", "\u2f17": "\u2f17"}) == {}
    cmap = ("/CIDInit /ProcSet findresource begin\n1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
            "3 beginbfchar\n<2E> <2F17>\n<56> <4E1C>\n<57> <2EC7>\nendbfchar\n1 beginbfrange\n<10> <11> <2F00>\n"
            "endbfrange\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
    fixed = tour_export._fixed_cmap(cmap, table)
    pairs = dict(re.findall(r"<([0-9A-F]{2})> <([0-9A-F]+)>", fixed.split("endcodespacerange")[1]))
    assert pairs == {"2E": "5341", "56": "4E1C", "57": "95E8", "10": "4E00", "11": "4E28"}  # 十 东 门 一 丨
    assert fixed.startswith("/CIDInit") and "<00> <FF>" in fixed and fixed.count("beginbfchar") == 1
    assert tour_export._fixed_cmap(cmap, {}) is None
    page, chars = tour_export._calibration("<h1>十月 <b>x</b> &amp; 门</h1>", "zh")
    assert chars == ["十", "月", "门"] and page.count("<p>") == 6 and "Noto Sans CJK SC" in page


def test_exp009_slide_addresses_are_frozen_embedded_and_checked():
    tour = Tour(1, "leader", "t", datetime(2026, 11, 20, 15, 0), NOW, NOW)
    good = Slide(1, 1, 0, "s", "", "/sla", "period=7d&area=329902")
    assert tour_export.slide_url(good, tour, "en") == "/sla?area=329902&period=7d&as_of=2026-11-20T15%3A00&lang=en&embed=1"
    bad = [Slide(2, 1, 1, "s", "", "/sla", "bogus=1"), Slide(3, 1, 2, "s", "", "javascript:alert(1)//", ""),
           Slide(4, 1, 3, "s", "", "/admin/users", "")]
    found = tour_export._paths(tour, [good, *bad], "zh")
    assert found[0].startswith("/sla?") and all(isinstance(p, Shot) and p.png is None and p.error for p in found[1:])


def _tour(app, owner: str = "leader", slides: int = 1) -> int:
    from queries import tours as tour_queries

    ctx = app.server.extensions["gridcc"]
    with ctx.engine.begin() as conn:
        tour_id = tour_queries.create(conn, owner=owner, title="十一月例会", as_of=NOW, now=NOW)
        for n in range(slides):
            tour_queries.add_slide(conn, owner=owner, tour_id=tour_id, title=f"第{n + 1}页", note="", path="/sla",
                                   query="area=329902", now=NOW)
    return tour_id


def _audit(app, action: str) -> list:
    from queries import users as user_queries

    ctx = app.server.extensions["gridcc"]
    with ctx.engine.connect() as conn:
        rows = user_queries.audit_rows(conn, since=datetime(2000, 1, 1), until=datetime(2100, 1, 1))
    return [r for r in rows if r.action == action]


def test_exp010_routes_refuse_other_users_hostile_input_and_too_many_slides(hand_app):
    mine, theirs, big = _tour(hand_app), _tour(hand_app, owner="dongcheng"), _tour(hand_app, slides=61)
    leader = signed_in(hand_app, "leader")
    for path in (f"/tours/{theirs}/export.pdf", f"/tours/{theirs}/export.pptx", "/tours/999999/export.pdf",
                 f"/tours/{mine}/export.doc", f"/tours/{mine}/export.PDF", "/tours/0/export.pdf",
                 f"/tours/{2**63}/export.pdf"):
        assert leader.get(path).status_code == 404, path
    # Not the export's address at all: Dash's page route answers (its "no such page"), never with a file.
    for path in ("/tours/abc/export.pdf", "/tours/-1/export.pdf", f"/tours/{mine}/export.", f"/tours/{mine}%2F..%2F1/export.pdf",
                 f"/tours/{mine}/export.pdf/x"):
        answer = leader.get(path)
        assert "Content-Disposition" not in answer.headers and answer.mimetype == "text/html", path
    for lang in ("fr", "<script>", "zh" * 500, "en%00"):
        answer = leader.get(f"/tours/{mine}/export.pdf?lang={lang}")
        assert answer.status_code == 400 and b"lang" in answer.data, lang
    assert leader.get(f"/tours/{big}/export.pptx").status_code == 400
    anonymous = hand_app.server.test_client().get(f"/tours/{mine}/export.pdf", headers={"Accept": "text/html"})
    assert anonymous.status_code in (302, 303) and "/auth/sign-in" in anonymous.headers["Location"]
    assert _audit(hand_app, "tour.export") == []  # refusals before the export are not exports


def test_exp011_one_export_at_a_time(hand_app, monkeypatch):
    mine = _tour(hand_app)
    monkeypatch.setattr(tour_export, "WAIT_S", 0.05)
    assert tour_export._one_at_a_time.acquire(timeout=1)
    try:
        answer = signed_in(hand_app, "leader").get(f"/tours/{mine}/export.pptx?lang=en")
    finally:
        tour_export._one_at_a_time.release()
    assert answer.status_code == 503 and answer.headers["Retry-After"] == str(tour_export.RETRY_AFTER_S)
    [row] = _audit(hand_app, "tour.export")
    assert (row.outcome, row.target, row.actor) == ("busy", f"tour:{mine}", "leader")


def test_exp012_the_browser_never_follows_the_host_header(hand_app, monkeypatch):
    tour = Tour(1, "leader", "t", NOW, NOW, NOW)
    with hand_app.server.test_request_context(headers={"Host": "intranet.example:9000"},
                                              environ_overrides={"SERVER_PORT": "8123"}):
        assert tour_export.base_url() == "http://127.0.0.1:8123"
        assert tour_export._meta(tour, tour_export.base_url(), None).source == "gridcc intranet.example:9000"
        ctx = hand_app.server.extensions["gridcc"]
        monkeypatch.setattr(ctx, "settings", ctx.settings.with_(self_url="https://gridcc.example.gov.cn"))
        assert tour_export.base_url() == "https://gridcc.example.gov.cn"
