"""The closed loop as a pure state machine (dashboard/loop.py): every allowed step, every refused one.

Times are naive local times in November 2026 (no holidays that month). Mon Nov 16 is a plain working
day with hours 08:30–12:00 and 13:30–17:30; every step below happens at AT = Mon Nov 16 10:00 on an
event whose last step was at or before 09:00. The category's limit is 4 working hours (240 minutes).
Expected deadlines are worked out by hand in the comments.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from dashboard.loop import (
    TRANSITIONS, EventState, Limit, Refused, SlaClock, Transition, apply, replay, steps_from_stamps,
)
from dashboard.worktime import WorkCalendar

LIMIT = Limit(4, "work_hours")
AT = datetime(2026, 11, 16, 10, 0)  # Monday
NOW = datetime(2026, 11, 30, 12, 0)  # long after every step, so no step is "in the future"
STATUSES = ("reported", "accepted", "verified", "registered", "dispatched", "handled", "checked", "closed",
            "void", "parked")

# The stamps an event carries in each status (Mon Nov 16), with the deadline a 08:40 dispatch got:
# 08:40–12:00 is 200 working minutes, 40 more from 13:30 -> 14:10.
DEADLINE = datetime(2026, 11, 16, 14, 10)
_T = {k: datetime(2026, 11, 16, 8, m) for k, m in
      (("reported", 0), ("accepted", 10), ("verified", 20), ("registered", 30), ("dispatched", 40),
       ("handled", 50))}
_T["checked"] = datetime(2026, 11, 16, 8, 55)
_T["closed"] = datetime(2026, 11, 16, 9, 0)


@pytest.fixture(scope="module")
def clock() -> SlaClock:
    return SlaClock(WorkCalendar())


def state_in(status: str, source: str = "grid_worker") -> EventState:
    """Return an event that reached ``status`` along the plain path (parked: parked while dispatched)."""
    base = EventState(source=source, status="reported", reported_at=_T["reported"], updated_at=_T["reported"])
    if status == "void":
        return replace(base, status="void", is_void=True, updated_at=_T["accepted"])
    if status == "parked":
        dispatched = state_in("dispatched", source)
        return replace(dispatched, status="parked", is_parked=True, parked_at=datetime(2026, 11, 16, 9, 0),
                       parked_from="dispatched", updated_at=datetime(2026, 11, 16, 9, 0))
    order = ("reported", "accepted", "verified", "registered", "dispatched", "handled", "checked", "closed")
    stamps = {f"{s}_at": _T[s] for s in order[1:order.index(status) + 1]}
    state = replace(base, status=status, updated_at=_T[status], **stamps)
    if "dispatched_at" in stamps:
        state = replace(state, department_code="D01", deadline_at=DEADLINE)
    return state


# (action, from status, the step's extra fields, the fields expected to change besides updated_at=AT)
ALLOWED = [
    ("accept", "reported", {}, dict(status="accepted", accepted_at=AT)),
    ("verify", "accepted", {}, dict(status="verified", verified_at=AT)),
    ("register", "accepted", {}, dict(status="registered", registered_at=AT)),
    ("register", "verified", {}, dict(status="registered", registered_at=AT)),
    # 10:00–12:00 is 120, 120 more from 13:30 -> 15:30.
    ("dispatch", "registered", {"department_code": "D07"},
     dict(status="dispatched", dispatched_at=AT, department_code="D07", deadline_at=datetime(2026, 11, 16, 15, 30),
          clock_started_at=AT)),
    # One more full limit on the old deadline 14:10: 14:10–17:30 is 200, 40 more from Tue 08:30 -> 09:10.
    ("extend", "dispatched", {},
     dict(deadline_at=datetime(2026, 11, 17, 9, 10), extension_count=1)),
    ("return", "dispatched", {}, dict(status="registered", deadline_at=None, department_code=None, return_count=1)),
    ("park", "registered", {}, dict(status="parked", is_parked=True, parked_at=AT, parked_from="registered")),
    ("park", "dispatched", {}, dict(status="parked", is_parked=True, parked_at=AT, parked_from="dispatched")),
    # Parked 09:00–10:00 = 60 working minutes: the deadline 14:10 moves to 15:10, and the clock's
    # start (the dispatch at 08:40, as a store seeded without clock_started_at has it) to 09:40.
    ("unpark", "parked", {},
     dict(status="dispatched", is_parked=False, parked_at=None, parked_from=None,
          deadline_at=datetime(2026, 11, 16, 15, 10), clock_started_at=datetime(2026, 11, 16, 9, 40))),
    ("handle", "dispatched", {}, dict(status="handled", handled_at=AT)),
    # Rework restarts the limit at 10:00 -> 15:30, as a dispatch would.
    ("rework", "handled", {},
     dict(status="dispatched", handled_at=None, deadline_at=datetime(2026, 11, 16, 15, 30), rework_count=1,
          clock_started_at=AT)),
    ("check", "handled", {}, dict(status="checked", checked_at=AT)),
    ("close", "checked", {}, dict(status="closed", closed_at=AT)),
    ("void", "reported", {}, dict(status="void", is_void=True)),
    ("void", "accepted", {}, dict(status="void", is_void=True)),
    ("void", "verified", {}, dict(status="void", is_void=True)),
    ("self_resolve", "reported", {}, dict(status="closed", handled_at=AT, checked_at=AT, closed_at=AT)),
]

FOLLOW_UP = datetime(2026, 11, 18, 9, 0)
ASKED = datetime(2026, 11, 19, 17, 0)  # a deadline a department asks for (later than DEADLINE 14:10)
PENDING = dict(extension_requested_at=datetime(2026, 11, 16, 9, 0), extension_requested_until=ASKED)
WHISTLED = dict(whistled_at=datetime(2026, 11, 16, 9, 0))
# The desk's marks: (action, from status, the state's marks before, the step's fields, the changes).
# None of them moves the status, the deadline or the clock.
MARKED = [
    ("urge", "dispatched", {}, {}, dict(urge_count=1, last_urged_at=AT)),
    ("supervise", "registered", {}, {"until": FOLLOW_UP}, dict(supervised_until=FOLLOW_UP)),
    ("supervise", "dispatched", {}, {"until": FOLLOW_UP}, dict(supervised_until=FOLLOW_UP)),
    ("supervise", "handled", {}, {"until": FOLLOW_UP}, dict(supervised_until=FOLLOW_UP)),
    ("ask_extension", "dispatched", {}, {"until": ASKED},
     dict(extension_requested_at=AT, extension_requested_until=ASKED)),
    ("refuse_extension", "dispatched", PENDING, {}, dict(extension_requested_at=None, extension_requested_until=None)),
    ("whistle", "registered", {}, {"departments": ("D01", "D02")}, dict(whistled_at=AT)),
    ("whistle", "dispatched", {}, {"departments": ("D01",)}, dict(whistled_at=AT)),
    ("report_back", "registered", WHISTLED, {"department_code": "D01"}, {}),
    ("report_back", "dispatched", WHISTLED, {"department_code": "D01"}, {}),
    ("report_back", "handled", WHISTLED, {"department_code": "D01"}, {}),
    ("report_back", "checked", WHISTLED, {"department_code": "D01"}, {}),
]

REFUSED = [(action, status) for action, (allowed, _) in TRANSITIONS.items() for status in STATUSES
           if status not in allowed]


def test_loop000_tables_cover_the_loop():
    """The hand-written table above names exactly the transitions loop.TRANSITIONS allows."""
    allowed = {(a, s) for a, (froms, _) in TRANSITIONS.items() for s in froms}
    assert {(a, s) for a, s, _, _ in ALLOWED} | {(a, s) for a, s, _, _, _ in MARKED} == allowed
    assert (len(ALLOWED), len(MARKED)) == (18, 12)
    # Every status either appears in the table as a start, or is terminal.
    assert {s for _, s, _, _ in ALLOWED} | {"closed", "void"} == set(STATUSES)
    assert len(REFUSED) == len(TRANSITIONS) * len(STATUSES) - 30 == 20 * 10 - 30


@pytest.mark.parametrize("action, status, extra, changes", ALLOWED,
                         ids=[f"{a}-from-{s}" for a, s, _, _ in ALLOWED])
def test_loop001_allowed_transition(clock, action, status, extra, changes):
    before = state_in(status)
    after = apply(before, Transition(action, AT, **extra), limit=LIMIT, clock=clock, now=NOW)
    assert after == replace(before, updated_at=AT, **changes)


@pytest.mark.parametrize("action, status, marks, extra, changes", MARKED,
                         ids=[f"{a}-from-{s}" for a, s, _, _, _ in MARKED])
def test_loop001_marks_record_without_moving_the_case(clock, action, status, marks, extra, changes):
    before = replace(state_in(status), **marks)
    after = apply(before, Transition(action, AT, **extra), limit=LIMIT, clock=clock, now=NOW)
    assert after == replace(before, updated_at=AT, **changes)
    assert (after.status, after.deadline_at, after.clock_started_at) == (
        before.status, before.deadline_at, before.clock_started_at)


@pytest.mark.parametrize("action, status", REFUSED, ids=[f"{a}-from-{s}" for a, s in REFUSED])
def test_loop002_refused_transition(clock, action, status):
    with pytest.raises(Refused) as err:
        apply(state_in(status), Transition(action, AT, department_code="D07"), limit=LIMIT, clock=clock, now=NOW)
    reason = err.value.reason
    assert err.value.field == "action"
    assert str(err.value) == reason
    if status in ("closed", "void"):
        assert reason == f"the event is {status}: nothing can happen to it any more"
    elif status == "parked":
        assert "parked" in reason and "unpark it first" in reason
    else:
        allowed_from, _ = TRANSITIONS[action]
        assert reason.startswith(f"cannot {action} an event that is {status}: it must be ")
        assert all(s in reason.split("must be ")[1] for s in allowed_from)


def test_loop003_refusal_names_every_allowed_start(clock):
    with pytest.raises(Refused, match=r"cannot void an event that is registered: "
                                      r"it must be accepted or reported or verified$"):
        apply(state_in("registered"), Transition("void", AT), limit=LIMIT, clock=clock, now=NOW)


def test_loop004_unpark_from_registered_keeps_no_deadline(clock):
    parked = apply(state_in("registered"), Transition("park", datetime(2026, 11, 16, 9, 0)),
                   limit=LIMIT, clock=clock, now=NOW)
    after = apply(parked, Transition("unpark", AT), limit=LIMIT, clock=clock, now=NOW)
    assert (after.status, after.deadline_at, after.is_parked, after.parked_at) == ("registered", None, False, None)


def test_loop005_redispatch_after_return(clock):
    returned = apply(state_in("dispatched"), Transition("return", datetime(2026, 11, 16, 9, 30)),
                     limit=LIMIT, clock=clock, now=NOW)
    # 改派 at 10:00 to another department: the limit starts again -> 15:30.
    again = apply(returned, Transition("dispatch", AT, department_code="D09"), limit=LIMIT, clock=clock, now=NOW)
    assert (again.status, again.department_code, again.dispatched_at, again.deadline_at, again.return_count) == (
        "dispatched", "D09", AT, datetime(2026, 11, 16, 15, 30), 1)


def test_loop006_dispatch_keeps_a_deadline_given(clock):
    given = datetime(2026, 11, 20, 12, 0)
    after = apply(state_in("registered"), Transition("dispatch", AT, department_code="D07", deadline_at=given),
                  limit=LIMIT, clock=clock, now=NOW)
    assert after.deadline_at == given


# --- time rules ------------------------------------------------------------------------------------

def test_loop010_going_back_in_time_is_refused(clock):
    state = state_in("dispatched")  # last step 08:40
    with pytest.raises(Refused, match="goes back in time") as err:
        apply(state, Transition("handle", datetime(2026, 11, 16, 8, 39)), limit=LIMIT, clock=clock, now=NOW)
    assert err.value.field == "at"
    assert "2026-11-16T08:40:00" in err.value.reason
    # The same minute as the last step is fine.
    same = apply(state, Transition("handle", datetime(2026, 11, 16, 8, 40)), limit=LIMIT, clock=clock, now=NOW)
    assert same.handled_at == datetime(2026, 11, 16, 8, 40)


def test_loop011_future_beyond_five_minutes_is_refused(clock):
    now = datetime(2026, 11, 16, 10, 0)
    state = state_in("dispatched")
    ok = apply(state, Transition("handle", now + timedelta(minutes=5)), limit=LIMIT, clock=clock, now=now)
    assert ok.handled_at == datetime(2026, 11, 16, 10, 5)
    with pytest.raises(Refused, match="is in the future") as err:
        apply(state, Transition("handle", now + timedelta(minutes=5, seconds=1)), limit=LIMIT, clock=clock, now=now)
    assert err.value.field == "at"


def test_loop012_self_resolve_needs_a_grid_worker(clock):
    with pytest.raises(Refused, match="only a grid worker's own report") as err:
        apply(state_in("reported", source="hotline"), Transition("self_resolve", AT), limit=LIMIT, clock=clock,
              now=NOW)
    assert err.value.field == "action"


@pytest.mark.parametrize("department", [None, ""])
def test_loop013_dispatch_needs_a_department(clock, department):
    with pytest.raises(Refused, match="needs the department") as err:
        apply(state_in("registered"), Transition("dispatch", AT, department_code=department), limit=LIMIT,
              clock=clock, now=NOW)
    assert err.value.field == "department"


@pytest.mark.parametrize("deadline", [DEADLINE, DEADLINE - timedelta(minutes=1)], ids=["same", "earlier"])
def test_loop014_extension_must_move_the_deadline_later(clock, deadline):
    with pytest.raises(Refused, match="must move the deadline later than 2026-11-16T14:10:00") as err:
        apply(state_in("dispatched"), Transition("extend", AT, deadline_at=deadline), limit=LIMIT, clock=clock,
              now=NOW)
    assert err.value.field == "deadline_at"


def test_loop015_extension_to_a_deadline_given(clock):
    later = DEADLINE + timedelta(minutes=1)
    after = apply(state_in("dispatched"), Transition("extend", AT, deadline_at=later), limit=LIMIT, clock=clock,
                  now=NOW)
    assert (after.deadline_at, after.extension_count) == (later, 1)


def test_loop016_extension_must_add_time(clock):
    with pytest.raises(Refused, match="must add time") as err:
        apply(state_in("dispatched"), Transition("extend", AT, extension=Limit(0, "work_hours")), limit=LIMIT,
              clock=clock, now=NOW)
    assert err.value.field == "extension"


def test_loop017_unknown_action(clock):
    with pytest.raises(Refused, match=r"unknown action 'approve'; one of: accept, verify, register") as err:
        apply(state_in("reported"), Transition("approve", AT), limit=LIMIT, clock=clock, now=NOW)
    assert err.value.field == "action"


# --- replay and imports ----------------------------------------------------------------------------

RECORD = {
    "reported_at": datetime(2026, 11, 16, 8, 0),
    "accepted_at": datetime(2026, 11, 16, 8, 5),
    "registered_at": datetime(2026, 11, 16, 8, 20),
    "dispatched_at": datetime(2026, 11, 16, 9, 0),
    "handled_at": datetime(2026, 11, 16, 11, 0),
    "checked_at": datetime(2026, 11, 16, 14, 0),
    "closed_at": datetime(2026, 11, 16, 14, 30),
}


def test_loop020_stamps_replay_to_closed(clock):
    steps = steps_from_stamps(RECORD, department_code="D07", actor="import")
    assert [s.action for s in steps] == ["accept", "register", "dispatch", "handle", "check", "close"]
    assert [s.department_code for s in steps] == [None, None, "D07", None, None, None]
    assert {s.actor for s in steps} == {"import"}
    state = replay("citizen_app", RECORD["reported_at"], steps, limit=LIMIT, clock=clock, now=NOW)
    assert state.status == "closed"
    assert {k: getattr(state, k) for k in RECORD} == RECORD
    assert (state.verified_at, state.updated_at, state.department_code) == (None, RECORD["closed_at"], "D07")
    # No deadline in the record: the limit runs from the 09:00 dispatch: 180 to 12:00, 60 more -> 14:30.
    assert state.deadline_at == datetime(2026, 11, 16, 14, 30)


def test_loop021_stamps_keep_the_record_deadline(clock):
    own = datetime(2026, 11, 18, 17, 0)  # the reporting system's deadline, not what our limit would give
    steps = steps_from_stamps({**RECORD, "deadline_at": own}, department_code="D07", actor=None)
    assert [s.deadline_at for s in steps] == [None, None, own, None, None, None]
    state = replay("hotline", RECORD["reported_at"], steps, limit=LIMIT, clock=clock, now=NOW)
    assert state.deadline_at == own


def test_loop022_stamps_with_a_gap_are_refused(clock):
    gap = {k: v for k, v in RECORD.items() if k != "checked_at"}
    steps = steps_from_stamps(gap, department_code="D07", actor=None)
    with pytest.raises(Refused, match="cannot close an event that is handled: it must be checked"):
        replay("hotline", gap["reported_at"], steps, limit=LIMIT, clock=clock, now=NOW)


def test_loop023_stamps_out_of_order_are_refused(clock):
    bad = {**RECORD, "handled_at": datetime(2026, 11, 16, 8, 59)}  # before its own dispatch at 09:00
    with pytest.raises(Refused, match="goes back in time"):
        replay("hotline", bad["reported_at"], steps_from_stamps(bad, department_code="D07", actor=None),
               limit=LIMIT, clock=clock, now=NOW)


def test_loop024_report_in_the_future_is_refused(clock):
    with pytest.raises(Refused, match="is in the future") as err:
        replay("hotline", NOW + timedelta(minutes=6), [], limit=LIMIT, clock=clock, now=NOW)
    assert err.value.field == "reported_at"


def test_loop025_replay_with_verify_park_and_rework(clock):
    at = lambda h, m=0: datetime(2026, 11, 16, h, m)  # noqa: E731
    steps = [
        Transition("accept", at(8, 10)), Transition("verify", at(8, 20)), Transition("register", at(8, 30)),
        # Dispatch 08:30 -> 12:00 is 210, 30 more -> 14:00.
        Transition("dispatch", at(8, 30), department_code="D07"),
        Transition("park", at(9, 0)),
        # Parked 09:00–10:30 = 90 working minutes -> 14:00 + 90 = 15:30.
        Transition("unpark", at(10, 30)),
        Transition("handle", at(11, 0)),
        # Rework at 14:00 restarts the limit: 14:00–17:30 is 210, 30 more from Tue 08:30 -> Tue 09:00.
        Transition("rework", at(14, 0)),
        Transition("handle", at(16, 0)), Transition("check", at(16, 30)), Transition("close", at(17, 0)),
    ]
    state = replay("grid_worker", at(8, 0), steps, limit=LIMIT, clock=clock, now=NOW)
    assert (state.status, state.handled_at, state.closed_at, state.rework_count, state.is_parked) == (
        "closed", at(16, 0), at(17, 0), 1, False)
    assert state.deadline_at == datetime(2026, 11, 17, 9, 0)


# --- the desk's marks (docs/desk.md) ----------------------------------------------------------------------

@pytest.mark.parametrize("action, marks, extra, field, words", [
    ("supervise", {}, {}, "follow_up_at", "needs the follow-up time"),
    ("supervise", {}, {"until": AT}, "follow_up_at", "must lie after 2026-11-16T10:00:00"),
    ("supervise", {}, {"until": AT + timedelta(days=30, minutes=1)}, "follow_up_at", "within 30 days"),
    ("ask_extension", {}, {}, "until", "needs the deadline asked for"),
    ("ask_extension", {}, {"until": DEADLINE}, "until", "later than the deadline 2026-11-16T14:10:00"),
    ("ask_extension", PENDING, {"until": ASKED}, "action", "pending already (since 2026-11-16T09:00:00)"),
    ("refuse_extension", {}, {}, "action", "no extension request is pending"),
    ("whistle", {}, {}, "departments", "1 to 10 different departments"),
    ("whistle", {}, {"departments": tuple(f"D{i:02d}" for i in range(11))}, "departments", "1 to 10"),
    ("whistle", {}, {"departments": ("D01", "D01")}, "departments", "different departments"),
    ("report_back", {}, {"department_code": "D01"}, "action", "was not whistled"),
    ("report_back", WHISTLED, {}, "department", "needs the department that reports"),
])
def test_loop030_marks_refused_with_a_reason(clock, action, marks, extra, field, words):
    before = replace(state_in("dispatched"), **marks)
    with pytest.raises(Refused) as err:
        apply(before, Transition(action, AT, **extra), limit=LIMIT, clock=clock, now=NOW)
    assert words in err.value.reason
    assert err.value.field == field


def test_loop031_ask_extension_needs_a_deadline(clock):
    no_clock = replace(state_in("dispatched"), deadline_at=None)
    with pytest.raises(Refused, match="no deadline to extend"):
        apply(no_clock, Transition("ask_extension", AT, until=ASKED), limit=LIMIT, clock=clock, now=NOW)


def test_loop032_extend_approves_the_pending_request(clock):
    after = apply(replace(state_in("dispatched"), **PENDING), Transition("extend", AT), limit=LIMIT, clock=clock,
                  now=NOW)
    # The deadline asked for (Thu 17:00), not one more limit (Tue 09:10); the request is decided.
    assert (after.deadline_at, after.extension_count, after.extension_requested_at,
            after.extension_requested_until) == (ASKED, 1, None, None)


def test_loop033_extend_to_another_deadline_also_decides_the_request(clock):
    own = DEADLINE + timedelta(hours=1)
    after = apply(replace(state_in("dispatched"), **PENDING), Transition("extend", AT, deadline_at=own),
                  limit=LIMIT, clock=clock, now=NOW)
    assert (after.deadline_at, after.extension_requested_at, after.extension_requested_until) == (own, None, None)


def test_loop034_approving_a_request_overtaken_by_the_deadline_is_refused(clock):
    stale = replace(state_in("dispatched"), extension_requested_at=AT, extension_requested_until=DEADLINE)
    with pytest.raises(Refused, match="no longer later than the deadline") as err:
        apply(stale, Transition("extend", AT), limit=LIMIT, clock=clock, now=NOW)
    assert err.value.field == "until"


@pytest.mark.parametrize("action", ["return", "handle"])
def test_loop035_return_or_handle_makes_a_request_moot(clock, action):
    after = apply(replace(state_in("dispatched"), **PENDING), Transition(action, AT), limit=LIMIT, clock=clock,
                  now=NOW)
    assert (after.extension_requested_at, after.extension_requested_until) == (None, None)


def test_loop036_marks_are_kept_along_the_loop(clock):
    marked = replace(state_in("dispatched"), urge_count=2, last_urged_at=AT, supervised_until=FOLLOW_UP,
                     whistled_at=AT)
    handled = apply(marked, Transition("handle", AT), limit=LIMIT, clock=clock, now=NOW)
    assert (handled.urge_count, handled.last_urged_at, handled.supervised_until, handled.whistled_at) == (
        2, AT, FOLLOW_UP, AT)
    urged = apply(marked, Transition("urge", AT), limit=LIMIT, clock=clock, now=NOW)
    assert urged.urge_count == 3
