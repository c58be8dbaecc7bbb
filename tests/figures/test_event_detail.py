"""layouts/event_detail.py: the tree of an event's detail, in both languages, with hostile text kept inert."""
from __future__ import annotations

import json
import re
from datetime import datetime

import plotly
import pytest
from dash import dcc, html

from dashboard.i18n import CATALOGUE, t
from dashboard.loop import Limit, SlaClock
from dashboard.privacy import mask_text
from dashboard.timeline import timeline
from dashboard.worktime import WorkCalendar
from layouts import event_detail as ed
from queries.events import EventDetail, LogStep

HOSTILE = '<img src=x onerror=alert(1)><script>alert("x")</script>'
CJK = re.compile(r"[\u3400-\u9fff]")


def _d(text: str) -> datetime:
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M")


def detail(**more) -> EventDetail:
    """Return the hand city's event 2 as the loader hands it over: reporter masked, its log by stamps."""
    fields = dict(
        id=2, source="hotline", external_id="H-2", category_code="0102", category_name="暴露垃圾", class_code="01",
        class_name="市容环境", urgent=False, description="楼下垃圾堆放", reporter=mask_text("李娜 13812345678"),
        lat=31.1, lon=120.02, status="closed", is_parked=False, is_void=False, extension_count=0, return_count=0,
        rework_count=0, reported_at=_d("11-19 10:00"), accepted_at=_d("11-19 10:00"), verified_at=None,
        registered_at=_d("11-19 10:05"), dispatched_at=_d("11-19 10:05"), handled_at=_d("11-19 16:35"),
        checked_at=_d("11-19 16:50"), closed_at=_d("11-19 17:00"), deadline_at=_d("11-19 15:35"),
        clock_started_at=_d("11-19 10:05"), updated_at=_d("11-19 17:00"),
        district_code="329902", district_name="东城区", street_code="329902001", street_name="东街街道",
        community_code="329902001001", community_name="东街社区", grid_code="329902001001001",
        grid_name="东街第01网格", building_code="329902001001001001", building_name="1号楼",
        department_code="329902-01", department_name="东城区城管执法局", worker_id=1, worker_name="张伟",
        limit_value=4.0, limit_unit="work_hours",
        log=(LogStep(2, "report", _d("11-19 10:00"), None, "reported", None, None, "hand", None),),
    )
    fields.update(more)
    return EventDetail(**fields)


@pytest.fixture(scope="module")
def clock() -> SlaClock:
    return SlaClock(WorkCalendar())


def body(clock, lang="zh", may_reveal=False, as_of=_d("11-20 15:00"), **more):
    event = detail(**more)
    return ed.detail_body(event, timeline(event, clock=clock, as_of=as_of), lang, may_reveal)


def walk(node):
    """Yield every component of a tree (a component, a list, or a string)."""
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from walk(child)
    elif hasattr(node, "to_plotly_json"):
        yield node
        yield from walk(getattr(node, "children", None))


def texts(node) -> list[str]:
    """Return every string child of a tree, in order."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, (list, tuple)):
        return [s for child in node for s in texts(child)]
    if hasattr(node, "to_plotly_json"):
        return texts(getattr(node, "children", None))
    return []


def by_id(tree, kind: str):
    return [c for c in walk(tree) if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == kind]


def by_class(tree, name: str):
    return [c for c in walk(tree) if name in (getattr(c, "className", "") or "").split()]


def test_evd001_reporter_masked_reveal_only_when_allowed(clock):
    plain = body(clock)
    (reporter,) = by_id(plain, ed.REPORTER)
    assert reporter.id == {"type": ed.REPORTER, "event": 2} and reporter.children == "李* 138****5678"
    assert "李娜" not in json.dumps(plain, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)
    assert by_id(plain, ed.REVEAL) == []
    shown = body(clock, may_reveal=True)
    (button,) = by_id(shown, ed.REVEAL)
    assert button.id == {"type": ed.REVEAL, "event": 2} and button.children == "显示"
    assert button.title == t("event.reveal_hint", "zh")
    assert by_id(body(clock, "en", True), ed.REVEAL)[0].children == "Show"
    # Nothing to reveal: no button, a dash.
    nobody = body(clock, may_reveal=True, reporter=None)
    assert by_id(nobody, ed.REVEAL) == [] and by_id(nobody, ed.REPORTER)[0].children == "—"


def test_evd002_hostile_description_is_inert(clock):
    tree = body(clock, description=HOSTILE)
    (description,) = by_class(tree, "evd-description")
    assert isinstance(description, html.P) and description.children == HOSTILE  # a text child: React escapes it
    assert not any(isinstance(c, (dcc.Markdown, html.Iframe, html.Script)) for c in walk(tree))
    encoded = json.dumps(tree, cls=plotly.utils.PlotlyJSONEncoder)
    assert "dangerously" not in encoded and "srcDoc" not in encoded
    # A hostile category name or place name is text too.
    tree = body(clock, category_name=HOSTILE, building_name=HOSTILE)
    assert texts(tree).count(HOSTILE) == 2


def test_evd003_header_where_and_what(clock):
    tree = body(clock, urgent=True)
    words = texts(tree)
    assert words[:4] == ["暴露垃圾", "紧急", "已结案", "事件 #2"]
    assert "东城区" in words and "东街第01网格" in words and "1号楼" in words
    assert words.index("东城区") < words.index("东街街道") < words.index("东街社区") < words.index("1号楼")
    assert "31.10000, 120.02000" in words
    assert "市容环境 › 暴露垃圾 (0102)" in words and "12345 热线" in words and "东城区城管执法局" in words
    assert by_class(body(clock), "evd-urgent") == []


def test_evd004_timeline_words_and_colours(clock):
    tree = body(clock)
    (timeline_list,) = [c for c in walk(tree) if getattr(c, "id", None) == ed.TIMELINE]
    stages = timeline_list.children
    assert [s.to_plotly_json()["props"]["data-stage"] for s in stages] == [
        "report", "accept", "register", "dispatch", "handle", "check", "close"]
    handle = stages[4]
    # 4 working hours from 11-19 10:05 to 15:35; handled 16:35: 300 working minutes, an hour over.
    assert texts(handle) == ["处置", "超时 1 小时（工作时间）", "2026-11-19 16:35", "用时 5 小时（工作时间）",
                             "时限 4 工作小时", "截止 2026-11-19 15:35"]
    (badge,) = by_class(handle, "evd-verdict")
    assert "gcc-light-red" in badge.className and badge.to_plotly_json()["props"]["data-light"] == "red"
    check = stages[5]
    assert texts(check) == ["核查", "按时", "2026-11-19 16:50", "用时 15 分钟（工作时间）", "时限 1 工作日*",
                            "截止 2026-11-20 16:35"]
    assert "gcc-light-green" in by_class(check, "evd-verdict")[0].className
    assert by_class(tree, "evd-current") == []  # closed: nothing runs
    assert texts(by_class(tree, "evd-note")) == [t("evd.assumed_note", "zh")]


def test_evd005_current_stage_highlighted(clock):
    # Hand event 4 at 15:00: dispatched 14:05, 2 working hours; 55 minutes in, running (green).
    tree = body(clock, lang="en", status="dispatched", handled_at=None, checked_at=None, closed_at=None,
                dispatched_at=_d("11-20 14:05"), registered_at=_d("11-20 14:05"), accepted_at=_d("11-20 14:00"),
                reported_at=_d("11-20 14:00"), deadline_at=_d("11-20 16:05"), clock_started_at=_d("11-20 14:05"),
                limit_value=2.0, log=())
    (current,) = by_class(tree, "evd-current")
    assert current.to_plotly_json()["props"]["data-stage"] == "handle"
    assert texts(current) == ["Handled", "Current stage", "Running", "Not yet", "Running for 55 min working time",
                              "Limit 2 working hours", "Due 2026-11-20 16:05"]
    assert "gcc-light-green" in by_class(current, "evd-verdict")[0].className
    assert [texts(s)[:2] for s in by_class(tree, "evd-pending")[1:]] == [["Checked", "Not yet"], ["Closed", "Not yet"]]
    # At 15:55, 110 of 120 minutes used (92 %): still running, now yellow.
    open4 = detail(**_open4())
    later = ed.detail_body(open4, timeline(open4, clock=clock, as_of=_d("11-20 15:55")),
                           "en", False)
    (badge,) = by_class(by_class(later, "evd-current")[0], "evd-verdict")
    assert "gcc-light-yellow" in badge.className and texts(badge) == ["Running"]


def _open4() -> dict:
    return dict(status="dispatched", handled_at=None, checked_at=None, closed_at=None, dispatched_at=_d("11-20 14:05"),
                registered_at=_d("11-20 14:05"), accepted_at=_d("11-20 14:00"), reported_at=_d("11-20 14:00"),
                deadline_at=_d("11-20 16:05"), clock_started_at=_d("11-20 14:05"), limit_value=2.0, log=())


def test_evd006_every_label_in_both_languages(clock):
    keys = [k for k in CATALOGUE if k.startswith("evd.")]
    assert len(keys) >= 60
    for key in keys:
        zh, en = CATALOGUE[key]
        assert CJK.search(zh), key
        assert not CJK.search(en), key
    zh_tree, en_tree = body(clock, "zh", True), body(clock, "en", True)
    data = {"暴露垃圾", "东城区", "东街街道", "东街社区", "东街第01网格", "1号楼", "楼下垃圾堆放", "李* 138****5678",
            "市容环境 › 暴露垃圾 (0102)", "东城区城管执法局", "张伟"}
    leftover = [s for s in texts(en_tree) if CJK.search(s) and s not in data]
    assert leftover == []  # every label of the English tree is English
    for key in ("evd.where", "evd.what", "evd.who", "evd.timeline", "evd.coords", "evd.source", "evd.department",
                "evd.worker"):
        assert t(key, "zh") in texts(zh_tree) and t(key, "en") in texts(en_tree)
    assert [ed.empty_body(lang)[0].children for lang in ("zh", "en")] == [
        "未找到该事件，或不在您的权限范围内。", "No such event in your scope."]


@pytest.mark.parametrize("minutes, unit, lang, expected", [
    (135, "hours", "en", "2 h 15 min"),
    (135, "hours", "zh", "2 小时 15 分钟"),
    (45, "hours", "en", "45 min"),
    (0, "hours", "en", "under 1 min"),
    (3000, "hours", "en", "2 d 2 h"),  # 50 hours
    (90, "work_hours", "en", "1 h 30 min working time"),
    (3000, "work_hours", "en", "50 h working time"),  # working hours never read as days
    (675, "work_days", "zh", "1.5 工作日"),
    (3840, "work_days", "en", "8.5 work days"),  # hand event 3: 8.53 work days
    (300, "work_days", "zh", "5 小时（工作时间）"),  # under a work day: hours of working time
])
def test_evd007_durations(minutes, unit, lang, expected):
    assert ed.duration(minutes, unit, lang, 450) == expected


def test_evd008_limits_and_exceptions(clock):
    assert [ed.limit_text(Limit(v, u), "zh") for v, u in ((1, "hours"), (4, "work_hours"), (1.5, "work_days"))] == [
        "1 小时", "4 工作小时", "1.5 工作日"]
    log = (LogStep(1, "report", _d("11-16 09:00"), None, "reported", None, None, None, None),
           LogStep(2, "accept", _d("11-16 09:05"), "reported", "accepted", None, None, "center", None),
           LogStep(3, "register", _d("11-16 09:10"), "accepted", "registered", None, None, "center", None),
           LogStep(4, "dispatch", _d("11-16 09:30"), "registered", "dispatched", "329902-01", _d("11-16 11:30"),
                   "center", None),
           LogStep(5, "park", _d("11-16 10:30"), "dispatched", "parked", None, None, "center", HOSTILE))
    tree = body(clock, status="parked", is_parked=True, handled_at=None, checked_at=None, closed_at=None,
                limit_value=2.0, log=log)
    (park,) = [li for li in walk(tree) if isinstance(li, html.Li) and "evd-stage-park" in li.className]
    assert "evd-exception" in park.className and texts(park) == [
        "挂账", "2026-11-16 10:30", "用时 1 小时", "经办 center", HOSTILE]
    (current,) = by_class(tree, "evd-current")
    assert texts(current)[:3] == ["处置", "当前环节", "已暂停（挂账）"]
    assert "gcc-light-none" in by_class(current, "evd-verdict")[0].className


def test_evd020_a_desk_mark_is_named_on_the_timeline(clock):
    # Event 2 urged (催办) at 11-19 14:00, between its dispatch and its handling: the mark is named in words.
    log = (LogStep(2, "report", _d("11-19 10:00"), None, "reported", None, None, "hand", None),
           LogStep(3, "urge", _d("11-19 14:00"), "dispatched", "dispatched", None, None, "dongjie", "请尽快处置"))
    for lang, word in (("zh", "催办"), ("en", "Urged")):
        names = texts(by_class(body(clock, lang=lang, log=log), "evd-stage-name"))
        assert word in names and "urge" not in names, (lang, names)
