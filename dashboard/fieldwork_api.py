"""Field work and 12345 follow-ups in (issue 7; docs/ingest.md "Field work and 12345 follow-ups").

* ``POST /api/v1/fieldwork/patrols`` — {"patrols": [{worker_id, grid_code?, started_at, ended_at?, checkins?,
  distance_m?, external_id?}, …]}
* ``POST /api/v1/fieldwork/visits`` — {"visits": [{worker_id, building_code, visited_at, households?,
  external_id?}, …]}: the building's grid is the visit's, and it must be the worker's grid.
* ``POST /api/v1/hotline/followups`` — {"followups": [{event_id, followed_at, valid?, contacted, resolved,
  satisfaction}, …]}: one follow-up per 12345 ticket, a newer one replacing an older.

A token or a signed-in user with the right to act (the gate checks a browser's CSRF token), each inside their
scope: a worker, grid, building or ticket outside it is refused exactly as one that does not exist. A batch is
all or nothing: any bad item refuses the whole batch with 400 and every problem (item index, field, reason).
A resend (the same worker and external_id; the same follow-up) is counted as a duplicate and changes nothing.
One audit row per batch. The pure checks are dashboard/fieldwork.py's; the rows are written in queries/fieldwork.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import flask

from dashboard import access, context
from dashboard.api import bp
from dashboard.fieldwork import (
    FOLLOWUP_FIELDS, MAX_BODY, MAX_ITEMS, PATROL_FIELDS, VISIT_FIELDS, Problem, Refused, check_followups,
    check_patrols, check_visits,
)
from queries import fieldwork as q
from queries import users as user_queries


# -- the body ------------------------------------------------------------------------------------------------
def _items(key: str, fields: frozenset[str]) -> list:
    """Return the list under ``key`` of the request's JSON object, or raise Refused / abort 413."""
    length = flask.request.content_length
    if length is not None and length > MAX_BODY:
        flask.abort(413, description=f"the body is {length} bytes; at most {MAX_BODY} are accepted "
                                     f"(send at most {MAX_ITEMS} items a batch)")
    raw = flask.request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        flask.abort(413, description=f"the body is larger than {MAX_BODY} bytes")
    try:
        body = json.loads(raw.decode("utf-8"))  # strict: json.loads(bytes) would let lone surrogates through
    except (ValueError, RecursionError) as error:
        raise Refused([Problem(None, "", f"the body is not valid JSON (UTF-8): {str(error)[:200]}")]) from None
    if not isinstance(body, dict):
        raise Refused([Problem(None, "", f'the body must be a JSON object: {{"{key}": [ … ]}}')])
    unknown = sorted(map(str, set(body) - {key}))
    if unknown:
        raise Refused([Problem(None, unknown[0][:64], f"unknown field(s) {', '.join(unknown)[:200]}; the body is "
                                                      f'{{"{key}": [ … ]}}')])
    items = body.get(key)
    if not isinstance(items, list):
        raise Refused([Problem(None, key, f"is required: a list of 1 to {MAX_ITEMS} objects with the fields "
                                          f"{', '.join(sorted(fields))}")])
    if not items:
        raise Refused([Problem(None, key, "is empty: send at least one item")])
    if len(items) > MAX_ITEMS:
        raise Refused([Problem(None, key, f"holds {len(items)} items; at most {MAX_ITEMS} a batch")])
    return items


@dataclass(frozen=True)
class Outcome:
    accepted: int
    duplicates: int
    superseded: int = 0


def _keyed(rows: list[dict], known: set) -> tuple[list[dict], int]:
    """Return the rows to write and the duplicate count: a stored or earlier (worker, external_id) is one."""
    fresh, seen, duplicates = [], set(known), 0
    for row in rows:
        key = (row["worker_id"], row["external_id"])
        if row["external_id"] is not None and key in seen:
            duplicates += 1
            continue
        seen.add(key)
        fresh.append(row)
    return fresh, duplicates


def write_patrols(conn, rows: list[dict], scope) -> tuple[Outcome | None, list[Problem], set[str]]:
    problems: list[Problem] = []
    mine = q.workers_in_scope(conn, scope=scope, ids=[r["worker_id"] for r in rows])
    grids = q.grids_in_scope(conn, scope=scope, codes=[r["grid_code"] for r in rows if r["grid_code"]])
    for index, row in enumerate(rows):
        if row["worker_id"] not in mine:
            problems.append(Problem(index, "worker_id", f"no worker {row['worker_id']} here"))
        elif row["grid_code"] is not None and row["grid_code"] not in grids:
            problems.append(Problem(index, "grid_code", f"no grid {row['grid_code']} here"))
        else:
            row["grid_code"] = row["grid_code"] or mine[row["worker_id"]]
    if problems:
        return None, problems, set()
    known = q.known_patrols(conn, keys=[(r["worker_id"], r["external_id"]) for r in rows if r["external_id"]])
    fresh, duplicates = _keyed(rows, known)
    return Outcome(q.insert_patrols(conn, fresh), duplicates), [], {r["grid_code"] for r in fresh}


def write_visits(conn, rows: list[dict], scope) -> tuple[Outcome | None, list[Problem], set[str]]:
    problems: list[Problem] = []
    mine = q.workers_in_scope(conn, scope=scope, ids=[r["worker_id"] for r in rows])
    found = q.buildings_in_scope(conn, scope=scope, codes=[r["building_code"] for r in rows])
    for index, row in enumerate(rows):
        if row["worker_id"] not in mine:
            problems.append(Problem(index, "worker_id", f"no worker {row['worker_id']} here"))
        elif row["building_code"] not in found:
            problems.append(Problem(index, "building_code", f"no building {row['building_code']} here"))
        elif found[row["building_code"]] != mine[row["worker_id"]]:
            problems.append(Problem(index, "building_code", f"is not in worker {row['worker_id']}'s grid "
                                                            f"{mine[row['worker_id']]}"))
        else:
            row["grid_code"] = found[row["building_code"]]
    if problems:
        return None, problems, set()
    known = q.known_visits(conn, keys=[(r["worker_id"], r["external_id"]) for r in rows if r["external_id"]])
    fresh, duplicates = _keyed(rows, known)
    return Outcome(q.insert_visits(conn, fresh), duplicates), [], {r["grid_code"] for r in fresh}


def write_followups(conn, rows: list[dict], scope) -> tuple[Outcome | None, list[Problem], set[str]]:
    problems: list[Problem] = []
    tickets = q.hotline_tickets_in_scope(conn, scope=scope, ids=[r["event_id"] for r in rows])
    for index, row in enumerate(rows):
        if row["event_id"] not in tickets:
            problems.append(Problem(index, "event_id", f"no 12345 ticket {row['event_id']} here "
                                                       "(an event of source 'hotline' in your area)"))
        elif row["followed_at"] < tickets[row["event_id"]]:
            problems.append(Problem(index, "followed_at", "is before the ticket was reported"))
    if problems:
        return None, problems, set()
    fields = ("followed_at", "valid", "contacted", "resolved", "satisfaction")
    stored = q.stored_followups(conn, ids=list(tickets))
    latest: dict[int, dict] = {}
    duplicates = superseded = 0
    for row in rows:  # the newest of each ticket (the later item on a tie) is the one that counts
        event_id = row["event_id"]
        before = latest.get(event_id)
        if before is not None and before["followed_at"] > row["followed_at"]:
            superseded += 1
            continue
        if before is not None:
            superseded += 1
        latest[event_id] = row
    fresh = []
    for event_id, row in latest.items():
        old = stored.get(event_id)
        if old is not None and old == tuple(row[f] for f in fields):
            duplicates += 1
        elif old is not None and old[0] > row["followed_at"]:
            superseded += 1
        else:
            fresh.append(row)
    return Outcome(q.replace_followups(conn, fresh), duplicates, superseded), [], set()


ROUTES = {
    # kind: (list key, fields, action audited, check, write)
    "patrols": ("patrols", PATROL_FIELDS, "fieldwork.patrols", check_patrols, write_patrols),
    "visits": ("visits", VISIT_FIELDS, "fieldwork.visits", check_visits, write_visits),
    "followups": ("followups", FOLLOWUP_FIELDS, "hotline.followups", check_followups, write_followups),
}


def _caller() -> access.Principal:
    """Return the caller (a token, or a signed-in user whose role may act), or abort with 401/403."""
    from dashboard.ingest_api import _caller as ingest_caller

    return ingest_caller("act")


def _refused(problems: list[Problem]):
    return flask.jsonify({
        "error": "refused",
        "message": f"{len(problems)} problem(s); nothing of the batch was written",
        "problems": [{"index": p.index, "field": p.field, "reason": p.reason} for p in problems],
    }), 400


def _take(kind: str):
    """Check, look up and write one batch of ``kind``, all or nothing; answer with the counts."""
    key, fields, action, check, write = ROUTES[kind]
    caller = _caller()
    ctx = context.current()
    ingestor = ctx.ingestor
    try:
        items = _items(key, fields)
    except Refused as refused:
        access.audit(action, "refused", target=kind, detail=str(refused)[:500])
        return _refused(refused.problems)
    rows, problems = check(items, ingestor.now(), ingestor.tz)
    if problems:
        access.audit(action, "refused", target=f"{len(items)} {kind}", detail=str(Refused(problems))[:500])
        return _refused(problems)
    with ingestor.write_lock, ctx.engine.connect() as conn:
        now = ingestor.now()
        try:
            outcome, problems, grids = write(conn, rows, caller.scope)
            version = None
            if outcome is not None:
                # The data version moves with the rows (the rankings' cached figures key on it), and the
                # batch's audit row is written in the same transaction: no rows without their audit.
                version = ingestor.record_write(conn, now=now, grids=grids) if outcome.accepted else None
                detail = f"accepted {outcome.accepted}, duplicates {outcome.duplicates}" + (
                    f", superseded {outcome.superseded}" if kind == "followups" else "")
                user_queries.audit(conn, at=now, actor=caller.name, action=action, outcome="ok",
                                   target=f"{len(items)} {kind}", source=access.source(), detail=detail)
                conn.commit()
            else:
                conn.rollback()
        except BaseException:
            conn.rollback()
            ingestor.forget_writes()
            raise
        ingestor.announce()
    if outcome is None:
        access.audit(action, "refused", target=f"{len(items)} {kind}", detail=str(Refused(problems))[:500])
        return _refused(problems)
    answer = {"accepted": outcome.accepted, "duplicates": outcome.duplicates}
    if kind == "followups":
        answer["superseded"] = outcome.superseded
    answer["data_version"] = version
    return flask.jsonify(answer), 201 if outcome.accepted else 200


@bp.post("/fieldwork/patrols")
def post_patrols():
    """Record grid workers' patrols (巡查), all or nothing."""
    return _take("patrols")


@bp.post("/fieldwork/visits")
def post_visits():
    """Record grid workers' household visits (走访), all or nothing."""
    return _take("visits")


@bp.post("/hotline/followups")
def post_followups():
    """Record 12345 follow-ups (回访) of hotline tickets, all or nothing; a newer one replaces an older."""
    return _take("followups")


__all__ = ["post_followups", "post_patrols", "post_visits"]
