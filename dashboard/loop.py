"""The closed loop (闭环, DOMAIN.md §4): which transitions an event may take, and where they lead. Pure.

An event's state is what its log says: ``replay`` folds the log rows into an ``EventState``, and the
writer (queries/ingest.py) applies one more transition with ``apply`` before appending it. A refused
transition raises ``Refused`` with a reason a person can act on. The SLA clock (``SlaClock``) moves
deadlines: it starts at dispatch (at the next working minute for working-time limits), extensions
add to it, and parked time does not count. The diagram is in docs/loop.md.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from dashboard.worktime import WorkCalendar

# action: (the statuses it may start from, the status it leads to; None = it stays: a mark, or unpark,
# which goes back to where it was parked from)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "accept": (frozenset({"reported"}), "accepted"),  # 受理
    "verify": (frozenset({"accepted"}), "verified"),  # 核实 (optional)
    "register": (frozenset({"accepted", "verified"}), "registered"),  # 立案
    "dispatch": (frozenset({"registered"}), "dispatched"),  # 派遣 (again after a return: 改派)
    "extend": (frozenset({"dispatched"}), "dispatched"),  # 延期: the deadline moves
    "return": (frozenset({"dispatched"}), "registered"),  # 回退: back to the center for re-dispatch
    "park": (frozenset({"registered", "dispatched"}), "parked"),  # 挂账: clock paused, not a case
    "unpark": (frozenset({"parked"}), None),  # 取消挂账: back where it was, the deadline moved on
    "handle": (frozenset({"dispatched"}), "handled"),  # 处置
    "rework": (frozenset({"handled"}), "dispatched"),  # 返工: the check failed, same department again
    "check": (frozenset({"handled"}), "checked"),  # 核查 (passed)
    "close": (frozenset({"checked"}), "closed"),  # 结案
    "void": (frozenset({"reported", "accepted", "verified"}), "void"),  # 作废: an invalid report
    "self_resolve": (frozenset({"reported"}), "closed"),  # 自行处置: a grid worker fixed it on the spot
    # The backlog desk's marks (docs/desk.md): recorded in the log, the status stays where it is.
    "urge": (frozenset({"dispatched"}), None),  # 催办: the department holding it is urged
    "supervise": (frozenset({"registered", "dispatched", "handled"}), None),  # 督办: a follow-up time is set
    "ask_extension": (frozenset({"dispatched"}), None),  # 申请延期: the department asks for a later deadline
    "refuse_extension": (frozenset({"dispatched"}), None),  # 驳回延期: the pending request is turned down
    "whistle": (frozenset({"registered", "dispatched"}), None),  # 吹哨: escalated to the district's departments
    "report_back": (frozenset({"registered", "dispatched", "handled", "checked"}), None),  # 报到: a called one answers
}
ACTIONS = tuple(TRANSITIONS)
# Steps that mark a case without moving it along the loop (status, deadline and clock unchanged).
# (The log's action column holds 16 characters: the desk's "request_extension" is logged as ask_extension.)
MARKS = frozenset({"urge", "supervise", "ask_extension", "refuse_extension", "whistle", "report_back"})
# The loop's own steps: what the transitions route and imports speak (the marks go through the desk).
LOOP_ACTIONS = tuple(a for a in ACTIONS if a not in MARKS)
MAX_FOLLOW_UP = timedelta(days=30)  # 督办: the furthest a follow-up may lie after the step
MAX_WHISTLE = 10  # 吹哨: the most departments one whistle calls
TERMINAL = frozenset({"closed", "void"})
# The timestamp column each action stamps (the last time it happened).
STAMPS = {
    "accept": "accepted_at", "verify": "verified_at", "register": "registered_at", "dispatch": "dispatched_at",
    "handle": "handled_at", "check": "checked_at", "close": "closed_at",
}
# The loop's stages in order, with the status each one reaches: imports carry these timestamps.
STAGES = (
    ("reported_at", "reported"), ("accepted_at", "accepted"), ("verified_at", "verified"),
    ("registered_at", "registered"), ("dispatched_at", "dispatched"), ("handled_at", "handled"),
    ("checked_at", "checked"), ("closed_at", "closed"),
)
STAGE_ACTION = {"accepted_at": "accept", "verified_at": "verify", "registered_at": "register",
                "dispatched_at": "dispatch", "handled_at": "handle", "checked_at": "check", "closed_at": "close"}
# How far into the future a timestamp may lie (clocks of the systems that report drift a little).
CLOCK_SKEW = timedelta(minutes=5)
GREEN_BELOW, RED_FROM = 0.8, 1.0


class Refused(ValueError):
    """A transition the loop does not allow; ``reason`` says why, ``field`` which input is at fault."""

    def __init__(self, reason: str, field: str = "action", step: "Transition | None" = None, *,
                 conflict: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.field = field
        # True when the step is refused because of the event's present state (HTTP 409), False when
        # the step is wrong whatever the state (a time in the future: 422).
        self.conflict = conflict
        self.step = step  # the step refused (set by replay)


@dataclass(frozen=True)
class Limit:
    """A handling limit: ``value`` in ``unit`` (hours around the clock, work_hours or work_days)."""

    value: float
    unit: str


@dataclass(frozen=True)
class EventState:
    """What the loop needs to know about one event (the events row, less its place and text)."""

    source: str
    status: str
    reported_at: datetime
    updated_at: datetime  # the time of the latest transition
    accepted_at: datetime | None = None
    verified_at: datetime | None = None
    registered_at: datetime | None = None
    dispatched_at: datetime | None = None
    handled_at: datetime | None = None
    checked_at: datetime | None = None
    closed_at: datetime | None = None
    deadline_at: datetime | None = None
    department_code: str | None = None
    worker_id: int | None = None
    extension_count: int = 0
    return_count: int = 0
    rework_count: int = 0
    is_parked: bool = False
    is_void: bool = False
    parked_at: datetime | None = None  # while parked: since when
    parked_from: str | None = None  # while parked: the status to go back to
    # When the running limit's clock started, moved on by any pause: the dispatch, a rework (a fresh
    # limit), or that plus the parked time. None falls back to dispatched_at (stores seeded before).
    clock_started_at: datetime | None = None
    # The desk's marks (docs/desk.md); none of them moves the status, the deadline or the clock.
    urge_count: int = 0
    last_urged_at: datetime | None = None
    supervised_until: datetime | None = None  # 督办: the next follow-up is due then
    extension_requested_at: datetime | None = None  # a pending 申请延期 (None: none pending)
    extension_requested_until: datetime | None = None  # the deadline it asks for
    whistled_at: datetime | None = None  # 吹哨: the latest whistle


@dataclass(frozen=True)
class Transition:
    """One step along the loop, as the log records it."""

    action: str
    at: datetime
    actor: str | None = None
    note: str | None = None
    department_code: str | None = None  # dispatch: to whom (required); others: ignored
    extension: Limit | None = None  # extend: how much more time (default: one more full limit)
    deadline_at: datetime | None = None  # the deadline after this step, when set by hand or recorded
    until: datetime | None = None  # supervise: the follow-up time; ask_extension: the deadline asked for
    departments: tuple[str, ...] = ()  # whistle: the departments called (report_back: department_code answers)


class SlaClock:
    """Deadlines on a category's clock: around the clock for ``hours``, working time otherwise."""

    def __init__(self, calendar: WorkCalendar):
        self.calendar = calendar

    def deadline(self, start: datetime, limit: Limit) -> datetime:
        """Return the deadline of ``limit`` started at ``start`` (the next working minute if outside working time)."""
        return self.calendar.deadline(start, limit.value, limit.unit)

    def minutes(self, start: datetime, end: datetime, unit: str) -> int:
        """Return the minutes from ``start`` to ``end`` on the clock of ``unit`` (working minutes unless hours)."""
        if unit == "hours":
            return int((end - start).total_seconds() // 60)
        (out,) = self.calendar.work_minutes_between(np.array([np.datetime64(start, "m")]),
                                                   np.array([np.datetime64(end, "m")]))
        return int(out)

    def add(self, start: datetime, minutes: int, unit: str) -> datetime:
        """Return ``start`` plus ``minutes`` on the clock of ``unit``."""
        if unit == "hours":
            return start + timedelta(minutes=minutes)
        (out,) = self.calendar.add_work_minutes(np.array([np.datetime64(start, "m")]), np.array([minutes]))
        return out.astype(datetime)

    def used(self, state: EventState, now: datetime, unit: str) -> float | None:
        """Return the share of the time allowed that is used at ``now`` (None when no clock runs)."""
        start = state.clock_started_at or state.dispatched_at
        if state.deadline_at is None or start is None or state.status in TERMINAL:
            return None
        until = state.parked_at if state.is_parked and state.parked_at else (state.handled_at or now)
        return self.share(start, state.deadline_at, until, unit)

    def share(self, start: datetime, deadline: datetime, until: datetime, unit: str) -> float:
        """Return the share of [start, deadline] used by ``until`` on the clock of ``unit`` (> 1 once late)."""
        allowed = self.minutes(start, deadline, unit)
        if until > deadline:
            # Late: 1 plus the time over on the same clock (1.5 = half a limit late); at least a hair
            # over 1, so a case late only by minutes outside working time is still red.
            over = self.minutes(deadline, until, unit) / allowed if allowed > 0 else 0.0
            return 1.0 + max(over, 0.0001)
        if allowed <= 0:  # no working minute before the deadline: nothing used until it, all of it then
            return 1.0 if until >= deadline else 0.0
        remaining = self.minutes(until, deadline, unit)
        return max(0.0, 1.0 - remaining / allowed)


def traffic_light(used: float | None) -> str | None:
    """Return green (< 80 % used), yellow (80–100 %), red (past the deadline), or None with no clock."""
    if used is None:
        return None
    if used > RED_FROM:
        return "red"
    return "yellow" if used >= GREEN_BELOW else "green"


def apply(state: EventState, step: Transition, *, limit: Limit, clock: SlaClock, now: datetime) -> EventState:
    """Return the state after ``step``, or raise ``Refused`` with the reason it is not allowed."""
    if step.action not in TRANSITIONS:
        raise Refused(f"unknown action {step.action!r}; one of: {', '.join(ACTIONS)}")
    allowed_from, to = TRANSITIONS[step.action]
    if state.status not in allowed_from:
        raise Refused(_why_not(state.status, step.action))
    at = step.at
    if at > now + CLOCK_SKEW:
        raise Refused(f"'{at.isoformat()}' is in the future (now is {now.isoformat()})", "at", conflict=False)
    if at < state.updated_at:
        raise Refused(f"'{at.isoformat()}' goes back in time: the event's last step was at "
                      f"{state.updated_at.isoformat()}", "at")
    if step.action == "self_resolve" and state.source != "grid_worker":
        raise Refused("only a grid worker's own report can be resolved on the spot (自行处置)")

    changes: dict = {"updated_at": at}
    if step.action in STAMPS:
        changes[STAMPS[step.action]] = at
    if to is not None:
        changes["status"] = to
    if step.deadline_at is not None and step.deadline_at <= at and step.action in ("dispatch", "rework"):
        raise Refused(f"the deadline {step.deadline_at.isoformat()} must be later than the {step.action} at "
                      f"{at.isoformat()}", "deadline_at", conflict=False)
    match step.action:
        case "dispatch":
            if not step.department_code:
                raise Refused("a dispatch needs the department it goes to", "department")
            changes.update(department_code=step.department_code, clock_started_at=at,
                           deadline_at=step.deadline_at or clock.deadline(at, limit), handled_at=None, checked_at=None)
        case "extend":
            if state.deadline_at is None:
                raise Refused("this case has no deadline to extend")
            pending = state.extension_requested_until
            if step.deadline_at is None and step.extension is None and pending is not None:
                # Approving a department's request (申请延期): the deadline it asked for.
                if pending <= state.deadline_at:
                    raise Refused(f"the deadline asked for, {pending.isoformat()}, is no longer later than the "
                                  f"deadline {state.deadline_at.isoformat()}: refuse the request instead", "until")
                deadline = pending
            elif step.deadline_at is not None:
                if step.deadline_at <= state.deadline_at:
                    raise Refused(f"an extension must move the deadline later than {state.deadline_at.isoformat()}",
                                  "deadline_at")
                deadline = step.deadline_at
            else:
                more = step.extension or limit
                if not more.value > 0:
                    raise Refused("an extension must add time", "extension")
                deadline = _extend(clock, state.deadline_at, more)
            # Any extension decides a pending request: it is cleared.
            changes.update(deadline_at=deadline, extension_count=state.extension_count + 1,
                           extension_requested_at=None, extension_requested_until=None)
        case "return":
            changes.update(deadline_at=None, department_code=None, clock_started_at=None,
                           return_count=state.return_count + 1, extension_requested_at=None,
                           extension_requested_until=None)
        case "handle":
            changes.update(extension_requested_at=None, extension_requested_until=None)  # moot once handled
        case "park":
            changes.update(is_parked=True, parked_at=at, parked_from=state.status)
        case "unpark":
            changes.update(status=state.parked_from or "registered", is_parked=False, parked_at=None,
                           parked_from=None)
            if state.deadline_at is not None and state.parked_at is not None:
                paused = clock.minutes(state.parked_at, at, limit.unit)
                changes["deadline_at"] = step.deadline_at or clock.add(state.deadline_at, paused, limit.unit)
                start = state.clock_started_at or state.dispatched_at
                if start is not None:
                    changes["clock_started_at"] = clock.add(start, paused, limit.unit)
        case "rework":
            changes.update(handled_at=None, checked_at=None, clock_started_at=at,
                           deadline_at=step.deadline_at or clock.deadline(at, limit),
                           rework_count=state.rework_count + 1)
        case "void":
            changes.update(is_void=True)
        case "self_resolve":
            changes.update(handled_at=at, checked_at=at, closed_at=at)
        case "urge":
            changes.update(urge_count=state.urge_count + 1, last_urged_at=at)
        case "supervise":
            if step.until is None:
                raise Refused("supervision (督办) needs the follow-up time", "follow_up_at", conflict=False)
            if not at < step.until <= at + MAX_FOLLOW_UP:
                raise Refused(f"the follow-up time {step.until.isoformat()} must lie after {at.isoformat()} and "
                              f"within {MAX_FOLLOW_UP.days} days of it", "follow_up_at", conflict=False)
            changes.update(supervised_until=step.until)
        case "ask_extension":
            if state.deadline_at is None:
                raise Refused("this case has no deadline to extend")
            if state.extension_requested_at is not None:
                raise Refused(f"an extension request is pending already (since "
                              f"{state.extension_requested_at.isoformat()}): wait for its decision")
            if step.until is None:
                raise Refused("an extension request needs the deadline asked for", "until", conflict=False)
            if step.until <= state.deadline_at:
                raise Refused(f"the deadline asked for must be later than the deadline {state.deadline_at.isoformat()}",
                              "until")
            changes.update(extension_requested_at=at, extension_requested_until=step.until)
        case "refuse_extension":
            if state.extension_requested_at is None:
                raise Refused("no extension request is pending on this case")
            changes.update(extension_requested_at=None, extension_requested_until=None)
        case "whistle":
            if not 1 <= len(step.departments) <= MAX_WHISTLE or len(set(step.departments)) < len(step.departments):
                raise Refused(f"a whistle (吹哨) calls 1 to {MAX_WHISTLE} different departments", "departments",
                              conflict=False)
            changes.update(whistled_at=at)
        case "report_back":
            if state.whistled_at is None:
                raise Refused("this case was not whistled (吹哨): there is no call to report back to")
            if not step.department_code:
                raise Refused("a report back (报到) needs the department that reports", "department", conflict=False)
    return replace(state, **changes)


def _extend(clock: SlaClock, deadline: datetime, more: Limit) -> datetime:
    """Return ``deadline`` moved on by ``more`` (in its own unit; work days are days of working time)."""
    if more.unit == "hours":
        return deadline + timedelta(hours=more.value)
    minutes = clock.calendar.limit_minutes(more.value, more.unit)
    return clock.add(deadline, minutes, "work_hours")


def _why_not(status: str, action: str) -> str:
    """Say why ``action`` cannot happen to an event in ``status``, in terms of the loop."""
    if status in TERMINAL:
        return f"the event is {status}: nothing can happen to it any more"
    if status == "parked" and action != "unpark":
        return "the event is parked (挂账): unpark it first"
    allowed_from, _ = TRANSITIONS[action]
    needs = " or ".join(sorted(allowed_from))
    return f"cannot {action} an event that is {status}: it must be {needs}"


def replay(source: str, reported_at: datetime, steps: list[Transition], *, limit: Limit, clock: SlaClock,
           now: datetime) -> EventState:
    """Fold a report and its later steps into the event's state (raise ``Refused`` at the first bad step)."""
    state = EventState(source=source, status="reported", reported_at=reported_at, updated_at=reported_at)
    if reported_at > now + CLOCK_SKEW:
        raise Refused(f"'{reported_at.isoformat()}' is in the future (now is {now.isoformat()})", "reported_at")
    for step in steps:
        try:
            state = apply(state, step, limit=limit, clock=clock, now=now)
        except Refused as refused:
            refused.step = step
            raise
    return state


def steps_from_stamps(record: dict, *, department_code: str | None, actor: str | None) -> list[Transition]:
    """Return the steps a lifecycle given as timestamps (``accepted_at`` … ``closed_at``) stands for.

    A ``deadline_at`` in the record is the reporting system's own deadline: the dispatch keeps it.
    """
    steps = []
    for column, action in STAGE_ACTION.items():
        at = record.get(column)
        if at is None:
            continue
        dispatch = action == "dispatch"
        steps.append(Transition(action, at, actor=actor, department_code=department_code if dispatch else None,
                                deadline_at=record.get("deadline_at") if dispatch else None))
    return steps


__all__ = [
    "ACTIONS", "LOOP_ACTIONS", "MARKS", "MAX_FOLLOW_UP", "MAX_WHISTLE", "TRANSITIONS", "STAGES", "TERMINAL",
    "CLOCK_SKEW", "EventState", "Limit", "Refused", "SlaClock",
    "Transition", "apply", "replay", "steps_from_stamps", "traffic_light",
]
