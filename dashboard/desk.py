"""The backlog desk's actions (docs/desk.md): what a street center and a department may do to open cases.

``act`` takes one action on one case or a selection, with a reason, in ONE transaction under the
store's write lock: the events rows, their log, the projections, whistle calls, one audit row per
case and one data version, then the live hub hears of it. A request that is wrong as a whole (an
unknown action, no reason, too many ids, a bad time or department) raises ``ActRefused`` and writes
nothing; a case that cannot take the action (closed, out of scope, not whistled to you) is refused on
its own in its ``Outcome`` while the others go through.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from dashboard.contract import MAX_ACTOR, MAX_DEADLINE_AHEAD, _is_text, parse_instant
from dashboard.ingest import _log_row, _state_columns
from dashboard.loop import MAX_FOLLOW_UP, MAX_WHISTLE, TERMINAL, Refused, Transition, apply
from queries import desk as q
from queries.schema import DISTRICT
from queries.scope import Scope

ACTIONS: tuple[str, ...] = ("urge", "supervise", "approve_extension", "refuse_extension", "redispatch", "whistle",
                            "check_close", "request_extension", "report_back")
CENTER_ACTIONS = ACTIONS[:7]  # a street center's (or district's) duty operator
DEPARTMENT_ACTIONS = ("request_extension", "report_back")  # the department handling or called
# An API token answers for an area, not for a department: it acts as the area's center does.
API_TOKEN_ROLE = "api_token"
ROLE_ACTIONS = {
    "street_operator": CENTER_ACTIONS,
    "district_manager": CENTER_ACTIONS,
    "department_handler": DEPARTMENT_ACTIONS,
    API_TOKEN_ROLE: CENTER_ACTIONS,
}
MAX_CASES = 500
MAX_REASON = 500
# The loop's steps each desk action records, in order, at the same instant.
STEPS = {
    "urge": ("urge",), "supervise": ("supervise",), "approve_extension": ("extend",),
    "refuse_extension": ("refuse_extension",), "redispatch": ("return", "dispatch"), "whistle": ("whistle",),
    "check_close": ("check", "close"), "request_extension": ("ask_extension",), "report_back": ("report_back",),
}
# Which optional inputs each action takes (any other given is refused: the sender meant something).
INPUTS = {"follow_up_at": ("supervise",), "until": ("request_extension",), "department_code": ("redispatch",),
          "departments": ("whistle",)}
_TAG = re.compile(r"<\s*[A-Za-z/!?]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def allowed(role: str | None) -> tuple[str, ...]:
    """Return the actions a role may take (none for a role without the "act" right)."""
    return ROLE_ACTIONS.get(role, ()) if isinstance(role, str) else ()


@dataclass(frozen=True)
class Outcome:
    """How the action ended for one case: done, or refused with the reason (and its status after)."""

    event_id: int
    ok: bool
    reason: str | None = None  # why it was refused, a sentence (None when done)
    status: str | None = None  # the case's status after the action (None when not found)
    key: str | None = None  # the refusal's i18n key ("act.why.*"), for the screen's own words


@dataclass(frozen=True)
class ActResult:
    """What one act() call did: the data version it made (None when nothing was written) and each case's outcome."""

    version: int | None
    outcomes: tuple[Outcome, ...]

    @property
    def done(self) -> list[int]:
        """Return the ids the action went through for."""
        return [o.event_id for o in self.outcomes if o.ok]

    @property
    def refused(self) -> dict[int, str]:
        """Return {id: reason} of the cases refused."""
        return {o.event_id: o.reason for o in self.outcomes if not o.ok}


class ActRefused(ValueError):
    """The request is wrong as a whole: nothing was written. ``field`` names the input, ``reason`` says why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class _Request:
    action: str
    ids: tuple[int, ...]
    reason: str
    actor: str
    follow_up_at: datetime | None
    until: datetime | None
    department_code: str | None
    departments: tuple[str, ...]
    reporter: str | None  # report_back: the department answering (the caller's)


def act(ingestor, ids, action: str, *, reason: str, actor: str, role: str | None, scope, audit_from: str | None,
        follow_up_at=None, until=None, department_code=None, departments=None) -> ActResult:
    """Take ``action`` on the cases ``ids`` in ``scope``, each with ``reason``; one transaction, one data version.

    Times are datetimes (naive = the city's local time) or ISO 8601 strings (without an offset: local).
    Raise ActRefused (nothing written) when the request is wrong as a whole.
    """
    with ingestor.engine.connect() as conn:
        ref = ingestor.reference(conn)
    request = _check(ingestor, ref, ids, action, reason=reason, actor=actor, role=role, scope=scope,
                     follow_up_at=follow_up_at, until=until, department_code=department_code, departments=departments)
    with ingestor.write_lock, ingestor.engine.connect() as conn:
        try:
            result = _apply(ingestor, conn, request, scope=scope, audit_from=audit_from)
            conn.commit()
        except BaseException:
            conn.rollback()
            ingestor.forget_writes()
            raise
        ingestor.announce()
    return result


# -- the request as a whole ------------------------------------------------------------------------------
def _check(ingestor, ref, ids, action, *, reason, actor, role, scope, follow_up_at, until, department_code,
           departments) -> _Request:
    """Return the request checked as a whole, or raise ActRefused (nothing is read or written yet)."""
    if not isinstance(action, str) or action not in ACTIONS:
        raise ActRefused("action", f"unknown action {str(action)[:32]!r}; one of: {', '.join(ACTIONS)}")
    if action not in allowed(role):
        raise ActRefused("action", f"the role {str(role)[:32]!r} may not {action}")
    ids = _ids(ids)
    text = _reason(reason)
    given = {"follow_up_at": follow_up_at, "until": until, "department_code": department_code,
             "departments": departments}
    for name, actions in INPUTS.items():
        if given[name] is not None and action not in actions:
            raise ActRefused(name, f"applies only to {' / '.join(actions)}, not to {action!r}")
    now = ingestor.now()
    tz = ingestor.tz
    if action == "supervise":
        follow_up_at = _time("follow_up_at", follow_up_at, tz)
        if not now < follow_up_at <= now + MAX_FOLLOW_UP:
            raise ActRefused("follow_up_at", f"must lie after now ({now.isoformat()}) and within "
                                             f"{MAX_FOLLOW_UP.days} days")
    if action == "request_extension":
        until = _time("until", until, tz)
        if not now < until <= now + MAX_DEADLINE_AHEAD:
            raise ActRefused("until", f"must lie after now ({now.isoformat()}) and within "
                                      f"{MAX_DEADLINE_AHEAD.days} days")
    area_district = scope.area_code[:6] if scope.level >= DISTRICT else None
    if action == "redispatch":
        if not isinstance(department_code, str) or not department_code.strip():
            raise ActRefused("department_code", "a re-dispatch (改派) needs the department it goes to")
        department_code = department_code.strip()
        _serving("department_code", department_code, ref, area_district)
    calls: tuple[str, ...] = ()
    if action == "whistle":
        if not isinstance(departments, (list, tuple)) or not 1 <= len(departments) <= MAX_WHISTLE:
            raise ActRefused("departments", f"a whistle (吹哨) names 1 to {MAX_WHISTLE} department codes")
        if not all(isinstance(d, str) for d in departments):
            raise ActRefused("departments", "department codes are strings")
        calls = tuple(d.strip() for d in departments)
        if len(set(calls)) < len(calls):
            raise ActRefused("departments", "a department is named twice")
        for code in calls:
            _serving("departments", code, ref, area_district)
    reporter = None
    if action == "report_back":
        reporter = getattr(scope, "department", None)
        if not reporter:
            raise ActRefused("action", "a report back (报到) is a department's: this caller answers for none")
    return _Request(action, ids, text, str(actor)[:MAX_ACTOR], follow_up_at, until, department_code, calls, reporter)


def _ids(ids) -> tuple[int, ...]:
    if not isinstance(ids, (list, tuple)):
        raise ActRefused("ids", "must be a list of event ids (whole numbers)")
    if not ids:
        raise ActRefused("ids", "select at least one case")
    if len(ids) > MAX_CASES:
        raise ActRefused("ids", f"at most {MAX_CASES} cases at once, this selection has {len(ids)}")
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids):
        raise ActRefused("ids", "every id must be a positive whole number")
    if len(set(ids)) < len(ids):
        raise ActRefused("ids", "an id is given twice")
    return tuple(ids)


def _reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ActRefused("reason", "is required: say why (1–500 characters)")
    text = reason.strip()
    if len(text) > MAX_REASON:
        raise ActRefused("reason", f"at most {MAX_REASON} characters, this one has {len(text)}")
    if not _is_text(text) or _CONTROL.search(text):
        raise ActRefused("reason", "must be plain text, without control characters or invalid Unicode")
    if _TAG.search(text):
        raise ActRefused("reason", "must be plain text, without HTML tags")
    return text


def _time(name: str, value, tz) -> datetime:
    if value is None:
        raise ActRefused(name, "is required")
    try:
        return parse_instant(value, tz, naive_is_local=True)
    except ValueError as error:
        raise ActRefused(name, str(error)) from None


def _serving(field: str, code: str, ref, district: str | None) -> None:
    """Refuse a department that does not exist, or serves another district than the caller's."""
    row = ref.departments.get(code)
    if row is None:
        raise ActRefused(field, f"unknown department {code[:32]!r}")
    if district is not None and row.district_code not in (None, district):
        raise ActRefused(field, f"the department {code!r} serves another district than yours ({district})")


# -- the cases, one by one, in one transaction ---------------------------------------------------------------
def _apply(ingestor, conn, request: _Request, *, scope, audit_from: str | None) -> ActResult:
    ids = list(request.ids)
    ref = ingestor.reference(conn)
    now = ingestor.now()
    if request.action == "report_back":
        # A department answers a case whistled to it even when the case is another department's.
        whistled = q.whistled_to(conn, scope=scope, department=request.reporter, ids=ids)
        rows = q.event_rows(conn, scope=Scope(scope.area_code, scope.level), ids=sorted(whistled))
    else:
        rows = q.event_rows(conn, scope=scope, ids=ids)
    calls = q.calls_of(conn, ids=list(rows)) if request.action in ("whistle", "report_back") else {}
    outcomes, changed, updates, log_rows, new_calls, answers, grids = [], [], [], [], [], {}, set()
    for event_id in ids:
        row = rows.get(event_id)
        if row is None:
            outcomes.append(_not_called(event_id) if request.action == "report_back" else
                            Outcome(event_id, False, "no such case in your scope", key="act.why.not_found"))
            continue
        state = ingestor.state(row, conn)
        at = max(now, state.updated_at)
        try:
            steps = _steps(request, row, state, at, calls.get(event_id, {}), ref)
            after, logged = state, []
            category = ref.categories[row.category_code]
            for step in steps:
                before = after
                after = apply(before, step, limit=category.limit, clock=ingestor.clock, now=now)
                logged.append(_log_row(event_id, before, after, step))
        except Refused as refused:
            outcomes.append(Outcome(event_id, False, refused.reason, state.status, key=_key(refused, state)))
            continue
        values = _state_columns(after)
        changed.append({**row._asdict(), **values})
        updates.append({"id": event_id, **values})
        log_rows.extend(logged)
        grids.add(row.grid_code)
        if request.action == "whistle":
            fresh = [d for d in request.departments if d not in calls.get(event_id, {})]
            new_calls.extend({"event_id": event_id, "department_code": d, "called_at": at,
                              "called_by": request.actor} for d in fresh)
        if request.action == "report_back":
            answers[event_id] = (at, request.reason)
        outcomes.append(Outcome(event_id, True, None, after.status))
    version = None
    if changed:
        q.update_events(conn, updates)
        q.append_log(conn, log_rows)
        q.replace_projections(conn, changed)
        q.add_calls(conn, new_calls)
        q.answer_calls(conn, department=request.reporter, answers=answers)
        version = ingestor.record_write(conn, now=now, grids=grids)
    # One audit row per case, in one statement (500 single inserts cost most of a big selection's time).
    q.audit_many(conn, [{"occurred_at": now, "actor": request.actor, "action": f"event.{request.action}"[:32],
                         "target": str(o.event_id), "outcome": "ok" if o.ok else "refused",
                         "source": None if audit_from is None else str(audit_from)[:64],
                         "detail": request.reason if o.ok else f"{o.reason} — {request.reason}"}
                        for o in outcomes])
    return ActResult(version, tuple(outcomes))


def _not_called(event_id: int) -> Outcome:
    """Refuse a report back on a case not whistled to the department (or not in its district: the same words)."""
    return Outcome(event_id, False, "this case was not whistled to your department", key="act.why.not_called")


def _steps(request: _Request, row, state, at: datetime, called: dict, ref) -> list[Transition]:
    """Return the loop steps ``request`` makes of one case, or raise Refused with the reason it cannot."""
    note, actor = request.reason, request.actor
    step = lambda action, **kw: Transition(action, at, actor=actor, note=note, **kw)  # noqa: E731
    match request.action:
        case "approve_extension":
            if state.status in TERMINAL or state.extension_requested_at is None:
                _refuse_status(state, "extend")
                raise Refused("no extension request is pending on this case")
            return [step("extend")]
        case "supervise":
            return [step("supervise", until=request.follow_up_at)]
        case "request_extension":
            return [step("ask_extension", until=request.until)]
        case "redispatch":
            _refuse_unless(state, "re-dispatch", {"registered", "dispatched"})
            target = ref.departments[request.department_code]
            if target.district_code not in (None, row.district_code):
                raise Refused(f"the department {request.department_code} does not serve this case's district "
                              f"{row.district_code}", "department_code")
            if state.department_code == request.department_code:
                raise Refused(f"the case is with {request.department_code} already: choose another department",
                              "department_code")
            dispatch = step("dispatch", department_code=request.department_code)
            if state.status == "registered":  # returned by a department (回退): this is the 改派 itself
                return [dispatch]
            return [step("return"), dispatch]
        case "whistle":
            for code in request.departments:
                district = ref.departments[code].district_code
                if district not in (None, row.district_code):
                    raise Refused(f"the department {code} does not serve this case's district {row.district_code}",
                                  "departments")
            if all(code in called for code in request.departments):
                raise Refused("every department named was called on this case already")
            return [step("whistle", departments=request.departments)]
        case "check_close":
            _refuse_unless(state, "check and close", {"handled", "checked"})
            # A case checked already (核查 done) only needs the close.
            return [step("close")] if state.status == "checked" else [step("check"), step("close")]
        case "report_back":
            call = called.get(request.reporter)
            if call is None:
                raise Refused("this case was not whistled to your department")
            if call.answered_at is not None:
                raise Refused(f"your department reported back already, at {call.answered_at.isoformat()}")
            return [step("report_back", department_code=request.reporter)]
        case _:
            return [step(name) for name in STEPS[request.action]]


def _refuse_unless(state, doing: str, statuses: set[str]) -> None:
    """Raise Refused, in the loop's words, when the case's status is not one of ``statuses``."""
    from dashboard.loop import _why_not

    if state.status in TERMINAL or state.status == "parked":
        raise Refused(_why_not(state.status, "handle"))
    if state.status not in statuses:
        raise Refused(f"cannot {doing} an event that is {state.status}: it must be {' or '.join(sorted(statuses))}")


def _refuse_status(state, action: str) -> None:
    """Raise the loop's own refusal when ``action`` cannot start from the case's status."""
    from dashboard.loop import TRANSITIONS, _why_not

    if state.status not in TRANSITIONS[action][0]:
        raise Refused(_why_not(state.status, action))


def _key(refused: Refused, state) -> str:
    """Return the i18n key (act.why.*) of a case's refusal: the screen says it in its own words."""
    reason = refused.reason
    if state.status in TERMINAL:
        return "act.why.finished"
    if state.status == "parked":
        return "act.why.parked"
    for words, key in (("cannot ", "act.why.status"), ("no extension request", "act.why.no_request"),
                       ("pending already", "act.why.pending"), ("no deadline", "act.why.no_deadline"),
                       ("already: choose another", "act.why.same_department"),
                       ("does not serve", "act.why.other_district"), ("not whistled", "act.why.not_called"),
                       ("reported back already", "act.why.answered"), ("called on this case already", "act.why.called"),
                       ("must be later than", "act.why.until"), ("no longer later", "act.why.until")):
        if words in reason:
            return key
    return "act.why.other"


__all__ = ["ACTIONS", "API_TOKEN_ROLE", "ActRefused", "ActResult", "MAX_CASES", "MAX_REASON", "Outcome", "act",
           "allowed"]
