"""The backlog desk's actions (dashboard/desk.py) on the hand city: one case and selections, refusals, records.

From tests/handcity.py (NOW = Fri 2026-11-20 15:00, frozen; working hours 08:30–12:00 / 13:30–17:30):
东城区 329902 holds 1, 2, 7 (closed), 3 (dispatched, overdue, A1, 0110: 5 work days), 4 (dispatched 14:05,
deadline 16:05, A2, 0505: 2 work hours), 5 (void), 6 (checked, B1); 西城区 holds 8 (parked), 9 (dispatched),
10 (reported). Every dispatched case is with its district's 城管执法局 (329902-01 / 329903-01); 329900-12 is
the city's hotline center. Users: dongjie (street operator, 东街街道: A1, A2), dongcheng (district manager),
dept_dc / dept_city (department handlers), leader, viewer.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from dashboard import desk
from dashboard.desk import ActRefused
from queries.meta import data_version
from queries.schema import audit_log, closures, event_log, events, open_events, whistle_calls
from queries.scope import Scope
from tests.conftest import principal_for
from tests.handcity import A1, A2, NOW

REASON = "已超期，请尽快处置"
FRI_17 = datetime(2026, 11, 20, 17, 0)


@pytest.fixture
def ingestor(hand_app):
    return hand_app.server.extensions["gridcc"].ingestor


@pytest.fixture
def engine(hand_app):
    return hand_app.server.extensions["gridcc"].engine


def act(hand_app, user: str, ids, action: str, reason: str = REASON, **inputs) -> desk.ActResult:
    """Take ``action`` as hand-city user ``user`` (their role and scope), from 127.0.0.1."""
    who = principal_for(hand_app, user)
    return desk.act(hand_app.server.extensions["gridcc"].ingestor, ids, action, reason=reason, actor=who.name,
                    role=who.role, scope=who.scope, audit_from="127.0.0.1", **inputs)


def row(engine, table, event_id: int, *columns):
    key = table.c.event_id if "event_id" in table.c else table.c.id
    with engine.connect() as conn:
        return conn.execute(select(*(table.c[c] for c in columns)).where(key == event_id)).first()


def log_of(engine, event_id: int) -> list[tuple]:
    """Return the event's log after its report: (action, from, to, actor, note, department, deadline)."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(event_log.c.action, event_log.c.from_status, event_log.c.to_status, event_log.c.actor,
                   event_log.c.note, event_log.c.department_code, event_log.c.deadline_at, event_log.c.occurred_at)
            .where(event_log.c.event_id == event_id, event_log.c.action != "report").order_by(event_log.c.id))]


def audits(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(audit_log.c.actor, audit_log.c.action, audit_log.c.target, audit_log.c.outcome,
                   audit_log.c.source, audit_log.c.detail).where(audit_log.c.action.like("event.%"))
            .order_by(audit_log.c.id))]


def counts(engine) -> tuple[int, ...]:
    """Return (event_log, audit_log, whistle_calls, closures rows, data version): unchanged by a refusal."""
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar()
                     for t in (event_log, audit_log, whistle_calls, closures)) + (data_version(conn),)


# -- who may do what -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, actions", [
    ("street_operator", desk.ACTIONS[:7]),
    ("district_manager", desk.ACTIONS[:7]),
    ("department_handler", ("request_extension", "report_back")),
    ("api_token", desk.ACTIONS[:7]),
    ("city_leader", ()), ("viewer", ()), ("admin", ()), ("nobody", ()), (None, ()),
])
def test_desk001_allowed_per_role(role, actions):
    assert desk.allowed(role) == actions
    assert desk.ACTIONS == ("urge", "supervise", "approve_extension", "refuse_extension", "redispatch", "whistle",
                            "check_close", "request_extension", "report_back")


@pytest.mark.parametrize("user, action", [("leader", "urge"), ("viewer", "urge"), ("admin", "whistle"),
                                          ("dept_dc", "urge"), ("dongjie", "report_back"),
                                          ("dongjie", "request_extension")])
def test_desk002_a_role_refused_writes_nothing(hand_app, engine, user, action):
    before = counts(engine)
    with pytest.raises(ActRefused) as err:
        act(hand_app, user, [3], action)
    assert err.value.field == "action" and "may not" in err.value.reason
    assert counts(engine) == before


# -- one case, a selection ---------------------------------------------------------------------------------------

def test_desk010_urge_one_case_records_everything(hand_app, engine):
    version = counts(engine)[-1]
    result = act(hand_app, "dongjie", [3], "urge")
    assert result == desk.ActResult(version + 1, (desk.Outcome(3, True, None, "dispatched"),))
    assert result.done == [3] and result.refused == {}
    # The marks, on events and on the current state alike; status and deadline unchanged.
    assert tuple(row(engine, events, 3, "urge_count", "last_urged_at", "status", "deadline_at")) == (
        1, NOW, "dispatched", datetime(2026, 11, 17, 9, 30))
    assert tuple(row(engine, open_events, 3, "urge_count", "last_urged_at")) == (1, NOW)
    assert log_of(engine, 3) == [("urge", "dispatched", "dispatched", "dongjie", REASON, None, None, NOW)]
    assert audits(engine) == [("dongjie", "event.urge", "3", "ok", "127.0.0.1", REASON)]
    assert act(hand_app, "dongjie", [3], "urge").version == version + 2
    assert tuple(row(engine, events, 3, "urge_count")) == (2,)


def test_desk011_a_selection_goes_through_where_it_can_in_one_version(hand_app, engine):
    before = counts(engine)
    result = act(hand_app, "dongcheng", [3, 4, 6, 1, 9, 999], "urge")
    assert result.version == before[-1] + 1  # one data version for the whole selection
    assert result.done == [3, 4]
    assert {i: o.key for i, o in ((o.event_id, o) for o in result.outcomes) if not o.ok} == {
        6: "act.why.status", 1: "act.why.finished", 9: "act.why.not_found", 999: "act.why.not_found"}
    assert result.refused[6] == "cannot urge an event that is checked: it must be dispatched"
    assert result.refused[1] == "the event is closed: nothing can happen to it any more"
    # 9 is 西城区's: refused exactly as an id that does not exist (nothing learnt of other areas).
    assert result.refused[9] == result.refused[999] == "no such case in your scope"
    assert [o.status for o in result.outcomes] == ["dispatched", "dispatched", "checked", "closed", None, None]
    after = counts(engine)
    assert after[0] == before[0] + 2  # two log rows
    assert after[1] == before[1] + 6  # one audit row per case, refused ones too
    assert [(a[2], a[3]) for a in audits(engine)] == [("3", "ok"), ("4", "ok"), ("6", "refused"), ("1", "refused"),
                                                      ("9", "refused"), ("999", "refused")]
    assert audits(engine)[2][5] == f"cannot urge an event that is checked: it must be dispatched — {REASON}"


def test_desk012_a_live_listener_hears_one_change_per_act(hand_app, ingestor):
    heard = []
    ingestor.listeners.append(lambda version, at, grids: heard.append((version, at, tuple(grids))))
    result = act(hand_app, "dongcheng", [3, 4], "urge")
    assert heard == [(result.version, NOW, (A1, A2))]
    act(hand_app, "dongcheng", [1], "urge")  # refused: nothing written, nothing announced
    assert len(heard) == 1


def test_desk013_nothing_done_makes_no_version(hand_app, engine):
    before = counts(engine)
    result = act(hand_app, "dongcheng", [1, 6], "urge")
    assert (result.version, result.done) == (None, [])
    assert counts(engine)[-1] == before[-1]


# -- each action -------------------------------------------------------------------------------------------------

def test_desk020_supervise_sets_the_follow_up(hand_app, engine):
    follow = datetime(2026, 11, 23, 9, 0)
    result = act(hand_app, "dongcheng", [3, 6, 4], "supervise", follow_up_at=follow)
    # 督办 applies to registered, dispatched or handled cases: 6 is checked.
    assert result.done == [3, 4] and result.refused[6].startswith("cannot supervise an event that is checked")
    assert tuple(row(engine, open_events, 4, "supervised_until", "status")) == (follow, "dispatched")
    assert log_of(engine, 4)[-1][:7] == ("supervise", "dispatched", "dispatched", "dongcheng", REASON, None, follow)
    # An ISO string without an offset is the city's local time (the screen's datetime input).
    act(hand_app, "dongcheng", [4], "supervise", follow_up_at="2026-11-24T10:30")
    assert tuple(row(engine, events, 4, "supervised_until")) == (datetime(2026, 11, 24, 10, 30),)


def test_desk021_extension_requested_then_approved(hand_app, engine):
    asked = datetime(2026, 11, 23, 17, 0)
    result = act(hand_app, "dept_dc", [4, 3], "request_extension", "需要协调产权单位", until=asked)
    # 3's deadline (11-17 09:30) is earlier than asked too: both go through.
    assert result.done == [4, 3]
    assert tuple(row(engine, open_events, 4, "extension_requested_at", "extension_requested_until", "deadline_at")) \
        == (NOW, asked, datetime(2026, 11, 20, 16, 5))
    again = act(hand_app, "dept_dc", [4], "request_extension", "再次申请", until=asked + timedelta(days=1))
    assert again.outcomes[0].key == "act.why.pending"
    approved = act(hand_app, "dongcheng", [4], "approve_extension", "同意延期")
    assert approved.done == [4]
    assert tuple(row(engine, events, 4, "deadline_at", "extension_count", "extension_requested_at",
                     "extension_requested_until")) == (asked, 1, None, None)
    assert log_of(engine, 4)[-1][:7] == ("extend", "dispatched", "dispatched", "dongcheng", "同意延期", "329902-01",
                                         asked)
    assert act(hand_app, "dongcheng", [4], "approve_extension").outcomes[0].key == "act.why.no_request"


def test_desk022_extension_refused_keeps_the_deadline(hand_app, engine):
    act(hand_app, "dept_dc", [4], "request_extension", "申请", until=datetime(2026, 11, 23, 17, 0))
    result = act(hand_app, "dongjie", [4, 3], "refuse_extension", "时限内可完成")
    assert result.done == [4] and result.outcomes[1].key == "act.why.no_request"
    assert tuple(row(engine, events, 4, "deadline_at", "extension_count", "extension_requested_at")) == (
        datetime(2026, 11, 20, 16, 5), 0, None)
    assert log_of(engine, 4)[-1][0] == "refuse_extension"


def test_desk023_redispatch_records_return_then_dispatch(hand_app, engine):
    result = act(hand_app, "dongcheng", [3, 4], "redispatch", "非本部门职责", department_code="329900-12")
    assert result.done == [3, 4]
    # 0110 has 5 work days from Fri 15:00: 150 min on Fri, 4 × 450 Mon–Thu, 300 on Fri 11-27 -> 15:00.
    assert tuple(row(engine, events, 3, "department_code", "deadline_at", "return_count", "dispatched_at",
                     "clock_started_at")) == ("329900-12", datetime(2026, 11, 27, 15, 0), 1, NOW, NOW)
    assert [r[:6] for r in log_of(engine, 3)] == [
        ("return", "dispatched", "registered", "dongcheng", "非本部门职责", None),
        ("dispatch", "registered", "dispatched", "dongcheng", "非本部门职责", "329900-12")]
    assert tuple(row(engine, open_events, 4, "department_code", "deadline_at")) == ("329900-12", FRI_17)
    same = act(hand_app, "dongcheng", [3], "redispatch", department_code="329900-12")
    assert same.outcomes[0].key == "act.why.same_department"


def test_desk024_redispatch_of_a_returned_case_is_one_dispatch(hand_app, engine, ingestor):
    ingestor.transition(4, {"action": "return", "note": "不属本部门"}, actor="dept_dc", scope=Scope("329902", 1))
    result = act(hand_app, "dongjie", [4], "redispatch", "改派热线中心", department_code="329900-12")
    assert result.outcomes == (desk.Outcome(4, True, None, "dispatched"),)
    assert [r[0] for r in log_of(engine, 4)] == ["return", "dispatch"]
    assert tuple(row(engine, events, 4, "return_count", "department_code")) == (1, "329900-12")


def test_desk025_whistle_calls_each_department_once(hand_app, engine):
    called = ["329902-01", "329900-12"]
    result = act(hand_app, "dongcheng", [3, 4], "whistle", "需多部门联合处置", departments=called)
    assert result.done == [3, 4]
    with engine.connect() as conn:
        calls = conn.execute(select(whistle_calls).order_by(whistle_calls.c.event_id,
                                                             whistle_calls.c.department_code)).fetchall()
    assert [tuple(c) for c in calls] == [(e, d, NOW, "dongcheng", None, None) for e in (3, 4) for d in sorted(called)]
    assert tuple(row(engine, open_events, 3, "whistled_at", "status")) == (NOW, "dispatched")
    assert act(hand_app, "dongcheng", [3], "whistle", departments=called).outcomes[0].key == "act.why.called"


def test_desk026_report_back_by_a_called_department_that_does_not_hold_the_case(hand_app, engine):
    act(hand_app, "dongcheng", [3, 4], "whistle", "联合处置", departments=["329900-12"])
    # dept_city holds no case (every one is with 329902-01), yet it was called on 3 and 4: it answers.
    result = act(hand_app, "dept_city", [3, 6], "report_back", "已派员到场")
    assert result.done == [3]
    assert result.outcomes[1].key == "act.why.not_called"
    assert tuple(row(engine, whistle_calls, 3, "department_code", "answered_at", "answer")) == (
        "329900-12", NOW, "已派员到场")
    assert tuple(row(engine, whistle_calls, 4, "answered_at")) == (None,)
    assert log_of(engine, 3)[-1][:6] == ("report_back", "dispatched", "dispatched", "dept_city", "已派员到场",
                                         "329900-12")
    assert act(hand_app, "dept_city", [3], "report_back", "再报").outcomes[0].key == "act.why.answered"
    # A department not called answers nothing, even on its own case.
    assert act(hand_app, "dept_dc", [3], "report_back", "我也来").outcomes[0].key == "act.why.not_called"


def test_desk027_check_close_closes_and_appends_the_closure(hand_app, engine, ingestor):
    ingestor.transition(4, {"action": "handle"}, actor="dept_dc", scope=Scope("329902", 1))
    result = act(hand_app, "dongcheng", [4, 6, 3], "check_close", "现场核查已整改")
    assert result.done == [4, 6]
    assert result.refused[3] == "cannot check and close an event that is dispatched: it must be checked or handled"
    assert [r[0] for r in log_of(engine, 4)] == ["handle", "check", "close"]
    assert [r[0] for r in log_of(engine, 6)] == ["close"]  # checked already: only the close
    assert row(engine, open_events, 4, "id") is None
    # 4 was handled at 15:00, by its deadline 16:05: on time, 55 minutes from the 14:05 dispatch.
    assert tuple(row(engine, closures, 4, "closed_at", "on_time", "handling_minutes")) == (NOW, True, 55)
    assert tuple(row(engine, events, 4, "status", "checked_at", "closed_at")) == ("closed", NOW, NOW)


# -- hostile input: refused whole, nothing written -----------------------------------------------------------------

HOSTILE = [
    (dict(ids="3"), "ids"), (dict(ids=[]), "ids"), (dict(ids=["3"]), "ids"), (dict(ids=[True]), "ids"),
    (dict(ids=[3.0]), "ids"), (dict(ids=[-3]), "ids"), (dict(ids=[0]), "ids"), (dict(ids=[2**63]), "ids"),
    (dict(ids=[3, 3]), "ids"), (dict(ids=list(range(1, 502))), "ids"), (dict(ids=list(range(1, 10_001))), "ids"),
    (dict(reason=None), "reason"), (dict(reason=""), "reason"), (dict(reason="   "), "reason"),
    (dict(reason="x" * 501), "reason"), (dict(reason="x" * 1_000_000), "reason"),
    (dict(reason="<script>alert(1)</script>"), "reason"), (dict(reason="ok <img src=x onerror=1>"), "reason"),
    (dict(reason="a\x00b"), "reason"), (dict(reason="a\x1bb"), "reason"), (dict(reason="\ud800"), "reason"),
    (dict(reason=["list"]), "reason"),
    (dict(action="drop table"), "action"), (dict(action=None), "action"), (dict(action="extend"), "action"),
    (dict(follow_up_at="2026-11-21T10:00"), "follow_up_at"),  # urge takes no follow-up
    (dict(departments=["329902-01"]), "departments"),
    (dict(action="supervise"), "follow_up_at"),
    (dict(action="supervise", follow_up_at="2026-11-20T14:00"), "follow_up_at"),  # the past
    (dict(action="supervise", follow_up_at="2026-12-21T10:00"), "follow_up_at"),  # more than 30 days
    (dict(action="supervise", follow_up_at="9999-01-01T00:00"), "follow_up_at"),
    (dict(action="supervise", follow_up_at="tomorrow"), "follow_up_at"),
    (dict(action="supervise", follow_up_at=12), "follow_up_at"),
    (dict(action="redispatch"), "department_code"),
    (dict(action="redispatch", department_code="nope"), "department_code"),
    (dict(action="redispatch", department_code="329903-01"), "department_code"),  # 西城区's
    (dict(action="whistle"), "departments"),
    (dict(action="whistle", departments=[]), "departments"),
    (dict(action="whistle", departments="329902-01"), "departments"),
    (dict(action="whistle", departments=[f"d{i}" for i in range(11)]), "departments"),
    (dict(action="whistle", departments=["329902-01", "329902-01"]), "departments"),
    (dict(action="whistle", departments=["329902-01", 7]), "departments"),
    (dict(action="whistle", departments=["329903-01"]), "departments"),  # not in 东城区
    (dict(action="whistle", departments=["' OR 1=1 --"]), "departments"),
]


@pytest.mark.parametrize("changes, field", HOSTILE, ids=[f"{i}-{f}" for i, (_, f) in enumerate(HOSTILE)])
def test_desk030_hostile_requests_are_refused_whole(hand_app, engine, changes, field):
    request = {"ids": [3, 4], "action": "urge", "reason": REASON, **changes}
    before = counts(engine)
    with pytest.raises(ActRefused) as err:
        act(hand_app, "dongcheng", request.pop("ids"), request.pop("action"), request.pop("reason"), **request)
    assert err.value.field == field
    assert err.value.reason and len(err.value.reason) < 300
    assert counts(engine) == before


def test_desk031_the_request_extension_bounds(hand_app, engine):
    before = counts(engine)
    for until in ("2026-11-20T14:00", "2027-12-01T00:00", None):
        with pytest.raises(ActRefused) as err:
            act(hand_app, "dept_dc", [4], "request_extension", until=until)
        assert err.value.field == "until"
    assert counts(engine) == before


def test_desk032_a_selection_of_the_maximum_is_taken(hand_app, engine):
    ids = [3, 4] + list(range(1000, 1000 + desk.MAX_CASES - 2))
    result = act(hand_app, "dongcheng", ids, "urge")
    assert len(result.outcomes) == desk.MAX_CASES and result.done == [3, 4]


def test_desk033_sql_in_a_reason_is_stored_as_written(hand_app, engine):
    text = "'); DROP TABLE events;-- 1 < 2 & 3 > 2"
    act(hand_app, "dongjie", [3], "urge", text)
    assert log_of(engine, 3)[-1][4] == text
    assert counts(engine)[0] > 0


# -- the timeline shows the marks without moving the stages ----------------------------------------------------

def test_desk040_marks_on_the_timeline(hand_app, engine, ingestor):
    from dashboard.timeline import timeline
    from queries.events import event_detail

    act(hand_app, "dongcheng", [4], "urge", "第一次催办")
    act(hand_app, "dongcheng", [4], "supervise", "挂牌督办", follow_up_at=datetime(2026, 11, 23, 9, 0))
    with engine.connect() as conn:
        detail = event_detail(conn, scope=Scope("329902", 1), event_id=4)
    stages = timeline(detail, clock=ingestor.clock, as_of=NOW)
    marks = [s for s in stages if s.key in ("urge", "supervise")]
    assert [(s.key, s.exception, s.at, s.note, s.deadline_at) for s in marks] == [
        ("urge", True, NOW, "第一次催办", None), ("supervise", True, NOW, "挂牌督办", None)]
    # The handling stage still runs from the 14:05 dispatch to the 16:05 deadline: 55 of 120 minutes.
    handle = next(s for s in stages if s.key == "handle")
    assert (handle.since, handle.deadline_at, handle.took_minutes, handle.verdict) == (
        datetime(2026, 11, 20, 14, 5), datetime(2026, 11, 20, 16, 5), 55, "running")


def test_desk034_a_big_selection_is_written_through_one_join(hand_app, engine, ingestor):
    """From 20 cases on, the events rows are staged and updated with one join: every one must land."""
    records = [{"id": f"HL-{i}", "source": "hotline", "category": "0505", "reported_at": "2026-11-20T13:00:00+08:00",
                "accepted_at": "2026-11-20T13:01:00+08:00", "registered_at": "2026-11-20T13:02:00+08:00",
                "dispatched_at": f"2026-11-20T13:{10 + i:02d}:00+08:00", "lat": 31.1, "lon": 120.01}
               for i in range(30)]
    ids = [r.id for r in ingestor.submit(records, actor="test")]
    result = act(hand_app, "dongjie", ids + [3], "urge")
    assert result.done == ids + [3]
    with engine.connect() as conn:
        marks = {r.id: (r.urge_count, r.last_urged_at, r.status, r.deadline_at) for r in conn.execute(
            select(events).where(events.c.id.in_(ids + [3])))}
        state = {r.id: (r.urge_count, r.last_urged_at) for r in conn.execute(
            select(open_events).where(open_events.c.id.in_(ids + [3])))}
    assert {i: m[:3] for i, m in marks.items()} == {i: (1, NOW, "dispatched") for i in ids + [3]}
    # Deadlines untouched: dispatched at 13:10 + k with 2 work hours, the clock starting at 13:30 at the
    # earliest (the lunch break), so 15:30 up to k = 20 and 15:30 + (k - 20) minutes after.
    assert [marks[i][3] for i in ids] == [datetime(2026, 11, 20, 15, 30 + max(k - 20, 0)) for k in range(30)]
    assert state == {i: (1, NOW) for i in ids + [3]}
    again = act(hand_app, "dongjie", ids, "urge")
    assert again.done == ids
    with engine.connect() as conn:
        assert set(conn.execute(select(events.c.urge_count).where(events.c.id.in_(ids))).scalars()) == {2}
    # The log and audit rows of both acts, written in one statement each: one per case.
    assert [r[0] for r in log_of(engine, ids[7])] == ["accept", "register", "dispatch", "urge", "urge"]
    rows = audits(engine)
    assert len(rows) == 31 + 30 and {r[2] for r in rows} == {str(i) for i in ids + [3]}
    assert {(r[0], r[1], r[3], r[4], r[5]) for r in rows} == {("dongjie", "event.urge", "ok", "127.0.0.1", REASON)}


def test_desk014_the_app_live_hub_hears_the_act_at_once(hand_app):
    """The app's own hub (what every open screen's stream waits on) moves by one version per act."""
    hub = hand_app.server.extensions["gridcc_live"]
    before = act(hand_app, "dongcheng", [3], "urge").version  # the hub now knows of this version
    assert hub.version == before
    result = act(hand_app, "dongcheng", [3, 4, 6], "supervise", follow_up_at=datetime(2026, 11, 23, 9, 0))
    assert result.version == before + 1 == hub.version
    # Only the grids of the cases it changed; the data time stays the store's 16:00 (it moves forward only).
    assert hub.since(before) == (before + 1, datetime(2026, 11, 20, 16, 0), {A1, A2})
