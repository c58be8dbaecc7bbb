"""An event's lifecycle timeline (DOMAIN.md §4): each stage's time, how long it took, and its limit. Pure.

The stages run in loop order — 上报 report, 受理 accept, 核实 verify (only when it happened), 立案 register,
派遣 dispatch, 处置 handle, 核查 check, 结案 close — with the exception steps of the log (延期 extend,
回退 return, 挂账 park / 取消挂账 unpark, 返工 rework, 作废 void) at their time. The log is the truth; an
event whose log holds only its report (an older import) is read off its timestamps instead.

Handling (dispatch → handled) is measured against the event's deadline on the SLA clock
(``dashboard.loop.SlaClock``: the category's unit, working time where it is ``work_*``, parked time
not counted). DOMAIN.md sets no limit for the other stages: ``STAGE_LIMITS`` holds assumed defaults a
city changes (docs/loop.md, "Stage limits on the event timeline").
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dashboard.loop import (
    MARKS, EventState, Limit, Refused, SlaClock, Transition, apply, steps_from_stamps, traffic_light,
)

# ASSUMED DEFAULTS, not from DOMAIN.md or any city's table: a city sets its own. The command center
# works around the clock, so its own steps (accept, verify, register, dispatch) run on clock hours;
# the on-site check and the close that follows it run on working time.
STAGE_LIMITS: dict[str, Limit] = {
    "accept": Limit(1, "hours"),  # 受理: reported → accepted
    "verify": Limit(2, "hours"),  # 核实: accepted → verified
    "register": Limit(2, "hours"),  # 立案: accepted / verified → registered
    "dispatch": Limit(2, "hours"),  # 派遣: registered (or returned, or unparked) → dispatched
    "check": Limit(1, "work_days"),  # 核查: handled → checked
    "close": Limit(1, "work_days"),  # 结案: checked → closed
}
LOOP = ("report", "accept", "verify", "register", "dispatch", "handle", "check", "close")
EXCEPTIONS = ("extend", "return", "park", "unpark", "rework", "void",
              # The desk's marks (docs/desk.md): recorded at their time; they move neither stage nor clock.
              "urge", "supervise", "ask_extension", "refuse_extension", "whistle", "report_back")
# The loop stages still ahead of an event in each status (verify is never "ahead": it is optional).
AHEAD = {
    "reported": ("accept", "register", "dispatch", "handle", "check", "close"),
    "accepted": ("register", "dispatch", "handle", "check", "close"),
    "verified": ("register", "dispatch", "handle", "check", "close"),
    "registered": ("dispatch", "handle", "check", "close"),
    "dispatched": ("handle", "check", "close"),
    "handled": ("check", "close"),
    "checked": ("close",),
    "closed": (),
    "void": (),
}
# A step sent in the log that decided a deadline: it goes back into the loop with it.
_DECIDES_DEADLINE = frozenset({"dispatch", "extend", "unpark", "rework"})
_NO_NOW = datetime.max - timedelta(days=1)  # replaying history: no step is "in the future"

# Verdicts: within / over (done, in / past its limit); running / overdue (the open stage, in / past
# it); paused (the open stage of a parked event: the clock stands still); None (no limit, or not yet).
VERDICTS = ("within", "over", "running", "overdue", "paused")


@dataclass(frozen=True)
class Stage:
    """One row of the timeline: a loop stage or an exception step.

    Durations are whole minutes on the clock of ``unit``: around the clock for ``hours``, working
    minutes for ``work_hours`` and ``work_days`` (``day_minutes`` of them make a work day).
    """

    key: str  # report, accept, verify, register, dispatch, handle, check, close, self_resolve, or an exception
    exception: bool  # an exception step (extend, return, park, unpark, rework, void)
    at: datetime | None  # when it happened; None = not yet
    since: datetime | None = None  # what the duration runs from (the previous step; the clock's start for handle)
    took_minutes: int | None = None  # since → at; for the open stage since → as_of (→ parked_at while parked)
    unit: str = "hours"  # the clock of took / allowed / over: hours, work_hours or work_days
    limit: Limit | None = None
    assumed: bool = False  # the limit is a STAGE_LIMITS default, not the category's own
    deadline_at: datetime | None = None  # when the limit runs out; extend, unpark, rework: the new deadline
    allowed_minutes: int | None = None  # since → deadline on the same clock
    over_minutes: int | None = None  # deadline → at (or → as_of) when past it
    share: float | None = None  # of the time allowed (> 1 once late; SlaClock.share)
    verdict: str | None = None  # one of VERDICTS, or None
    light: str | None = None  # green / yellow / red (dashboard.loop.traffic_light), None without a limit
    current: bool = False  # the stage the event is in now
    actor: str | None = None
    department_code: str | None = None
    note: str | None = None
    day_minutes: int = 450  # working minutes in a work day

    @property
    def working_time(self) -> bool:
        """Return True when the durations are working minutes."""
        return self.unit != "hours"


@dataclass(frozen=True)
class _Step:
    """A step to lay out: from the log, or read off a timestamp."""

    action: str
    at: datetime
    actor: str | None = None
    note: str | None = None
    department_code: str | None = None
    deadline_at: datetime | None = None


def timeline(detail, *, clock: SlaClock, as_of: datetime,
             limits: Mapping[str, Limit] = STAGE_LIMITS) -> list[Stage]:
    """Return the stages of event ``detail`` (a queries.events.EventDetail) in order, measured at ``as_of``.

    Times are naive local times; ``as_of`` is the instant the open stage's running time is measured to.
    """
    day = clock.calendar.minutes_per_day
    handling = (Limit(float(detail.limit_value), detail.limit_unit)
                if detail.limit_value is not None and detail.limit_unit else None)
    steps = _steps(detail)
    # Replay the steps through the loop to know, before each handle, the clock's start (moved on by
    # pauses) and the deadline (moved by extensions); an odd history stops the replay, not the timeline.
    state: EventState | None = EventState(source=detail.source, status="reported", reported_at=detail.reported_at,
                                          updated_at=detail.reported_at)
    stages = [Stage("report", False, detail.reported_at, day_minutes=day)]
    previous = detail.reported_at
    for step in steps:
        if step.action == "handle":
            start, deadline = _clock_of(state)
            stage = _measured("handle", step.at, start, deadline, handling, clock, day=day)
        elif step.action in limits:
            limit = limits[step.action]
            stage = _measured(step.action, step.at, previous, clock.deadline(previous, limit), limit, clock,
                              day=day, assumed=True)
        elif step.action in MARKS:
            # A mark's logged time is a follow-up or a deadline asked for, not the case's deadline.
            stage = Stage(step.action, True, step.at, since=previous,
                          took_minutes=clock.minutes(previous, step.at, "hours"), day_minutes=day)
        else:
            stage = Stage(step.action, step.action in EXCEPTIONS, step.at, since=previous,
                          took_minutes=clock.minutes(previous, step.at, "hours"), deadline_at=step.deadline_at,
                          day_minutes=day)
        stages.append(replace(stage, actor=step.actor, department_code=step.department_code, note=step.note))
        if step.action in MARKS:
            continue  # the stage in progress still runs from the loop's last step
        previous = step.at
        state = _advance(state, step, handling, clock)
    stages.extend(_ahead(detail, state, previous, handling, limits, clock, as_of, day))
    return stages


def _steps(detail) -> list[_Step]:
    """Return the event's steps after its report: its log, or its timestamps when the log has no more."""
    logged = [_Step(s.action, s.at, s.actor, s.note, s.department_code, s.deadline_at)
              for s in detail.log if s.action != "report"]
    if logged:
        return logged
    stamps = {name: getattr(detail, name) for name in (
        "accepted_at", "verified_at", "registered_at", "dispatched_at", "handled_at", "checked_at", "closed_at",
        "deadline_at")}
    return [_Step(t.action, t.at, department_code=t.department_code, deadline_at=t.deadline_at)
            for t in steps_from_stamps(stamps, department_code=detail.department_code, actor=None)]


def _advance(state: EventState | None, step: _Step, handling: Limit | None, clock: SlaClock) -> EventState | None:
    """Return the loop's state after ``step`` (None once the history cannot be replayed)."""
    if state is None or handling is None:
        return None
    transition = Transition(step.action, step.at, department_code=step.department_code or "-",
                            deadline_at=step.deadline_at if step.action in _DECIDES_DEADLINE else None)
    try:
        return apply(state, transition, limit=handling, clock=clock, now=_NO_NOW)
    except Refused:
        return None


def _clock_of(state: EventState | None) -> tuple[datetime | None, datetime | None]:
    """Return (the handling clock's start, the deadline) of a replayed state."""
    if state is None:
        return None, None
    return state.clock_started_at or state.dispatched_at, state.deadline_at


def _measured(key: str, at: datetime | None, since: datetime | None, deadline: datetime | None, limit: Limit | None,
              clock: SlaClock, *, day: int, assumed: bool = False, current: bool = False,
              until: datetime | None = None, paused: bool = False) -> Stage:
    """Return a stage measured from ``since`` to ``at`` (or, open, to ``until``) against ``deadline``."""
    unit = limit.unit if limit is not None else "hours"
    end = at if at is not None else until
    if since is None or end is None:
        return Stage(key, False, at, since=since, unit=unit, limit=limit, assumed=assumed, deadline_at=deadline,
                     current=current, verdict="paused" if paused else None, day_minutes=day)
    took = max(clock.minutes(since, end, unit), 0)
    if deadline is None or limit is None:
        return Stage(key, False, at, since=since, took_minutes=took, unit=unit, limit=limit, assumed=assumed,
                     current=current, verdict="paused" if paused else None, day_minutes=day)
    share = clock.share(since, deadline, end, unit)
    late = end > deadline
    if at is not None:
        verdict = "over" if late else "within"
    else:
        verdict = "paused" if paused else ("overdue" if late else "running")
    return Stage(key, False, at, since=since, took_minutes=took, unit=unit, limit=limit, assumed=assumed,
                 deadline_at=deadline, allowed_minutes=clock.minutes(since, deadline, unit),
                 over_minutes=clock.minutes(deadline, end, unit) if late else None, share=share, verdict=verdict,
                 light=traffic_light(share), current=current, day_minutes=day)


def _ahead(detail, state: EventState | None, previous: datetime, handling: Limit | None,
           limits: Mapping[str, Limit], clock: SlaClock, as_of: datetime, day: int) -> list[Stage]:
    """Return the loop stages not reached yet; the first runs from the last step up to ``as_of``."""
    status = detail.status
    parked = status == "parked" or detail.is_parked
    parked_at = state.parked_at if state is not None and state.is_parked else None
    if parked:
        status = (state.parked_from if state is not None and state.parked_from
                  else "dispatched" if detail.dispatched_at is not None and detail.deadline_at is not None
                  else "registered")
    ahead = AHEAD.get(status, ())
    stages = []
    for i, key in enumerate(ahead):
        current = i == 0
        if key == "handle":
            start = detail.clock_started_at or detail.dispatched_at
            stage = _measured("handle", None, start if current else None, detail.deadline_at, handling, clock,
                              day=day, current=current, until=parked_at if parked else as_of, paused=parked and current)
        else:
            limit = limits.get(key)
            # Parked before dispatch, a center stage has no clock to stand still: it waits, unmeasured.
            since = previous if current and not parked else None
            deadline = clock.deadline(since, limit) if since is not None and limit is not None else None
            stage = _measured(key, None, since, deadline, limit, clock, day=day, assumed=limit is not None,
                              current=current, until=parked_at if parked else as_of, paused=parked and current)
        stages.append(stage)
    return stages


__all__ = ["AHEAD", "EXCEPTIONS", "LOOP", "STAGE_LIMITS", "Stage", "VERDICTS", "timeline"]
