"""The write side of /api/v1: systems push events and move them along the loop (docs/ingest.md)."""
from __future__ import annotations

import json

import flask

from dashboard import access, context, desk
from dashboard.api import bp
from dashboard.contract import MAX_ID, parse_instant
from dashboard.ingest import IngestRefused, NotFound
from queries.schema import SOURCES
from dashboard.privacy import mask_numbers, mask_text

MAX_BODY = 32 * 1024 * 1024  # a full batch of 10,000 events with long descriptions fits easily


def _caller(right: str = "act") -> access.Principal:
    """Return the caller (a token, or a signed-in user whose role may ``right``), or abort with 401/403."""
    try:
        return access.require(right)
    except access.Refused as refused:
        response = flask.jsonify({"error": "unauthorized" if refused.status == 401 else "forbidden",
                                  "message": refused.message if refused.status == 403 else
                                  "send a valid API token as 'Authorization: Bearer <token>' (create one with "
                                  "`gridcc token create NAME`), or sign in"})
        response.status_code = refused.status
        if refused.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="gridcc"'
        flask.abort(response)


def _body():
    """Return the request's JSON body, or abort with 400/413 and the reason."""
    length = flask.request.content_length
    if length is not None and length > MAX_BODY:
        flask.abort(413, description=f"the body is {length} bytes; at most {MAX_BODY} are accepted")
    raw = flask.request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        flask.abort(413, description=f"the body is larger than {MAX_BODY} bytes")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        if flask.request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            flask.abort(400, description="this route takes JSON: send the event as a JSON body with "
                                         "'Content-Type: application/json' (forms are for Open311)")
        flask.abort(400, description=f"the body is not valid JSON (UTF-8): {str(error)[:200]}")


def _refused(error: IngestRefused, status: int):
    problems = [{"index": p.index, "field": p.field, "reason": p.reason} for p in error.problems]
    return flask.jsonify({"error": "refused", "message": str(error), "problems": problems}), status


@bp.post("/events")
def post_events():
    """Store one event or a batch (all or nothing); answer with one receipt per event."""
    caller = _caller()
    body = _body()
    records = body if isinstance(body, list) else [body]
    try:
        # The audit row is written in the write's own transaction: no event without its row.
        receipts = context.current().ingestor.submit(records, actor=caller.name, scope=caller.scope,
                                                     audit_from=access.source())
    except IngestRefused as error:
        access.audit("events.report", "refused", target=f"{len(records)} events", detail=str(error)[:500])
        return _refused(error, 422)
    created = sum(r.created for r in receipts)
    return flask.jsonify({
        "created": created,
        "existing": len(receipts) - created,
        # The data version this write made: GET …?v=<it> (or a live message with v ≥ it) counts the events.
        "data_version": max((r.version for r in receipts if r.version is not None), default=None),
        "events": [{"index": r.index, "event_id": r.id, "id": r.external_id, "source": r.source,
                    "created": r.created, "status": r.status} for r in receipts],
    }), 201 if created else 200


def _event_id(text: str) -> int:
    """Return the path's event id, or answer 404 (any text reaches here, so a bad one is never a 405)."""
    if not text.isdigit() or len(text) > 18:
        flask.abort(404, description=f"no event {text[:24]!r}: an event id is a positive whole number")
    return int(text)


@bp.post("/events/<event_id>/transitions")
def post_transition(event_id: str):
    """Move one event a step along the loop; answer with the event after it."""
    event_id = _event_id(event_id)
    caller = _caller()
    body = _body()
    action = str(body.get("action"))[:24] if isinstance(body, dict) else "?"
    try:
        # The caller's scope: a token limited to an area, a user's area or department, acts only there.
        event = context.current().ingestor.transition(event_id, body, actor=caller.name, scope=caller.scope,
                                                      audit_from=access.source())
    except NotFound as error:
        access.audit(f"event.{action}", "refused", target=str(event_id), detail="not found in scope")
        flask.abort(404, description=str(error))
    except IngestRefused as error:
        access.audit(f"event.{action}", "refused", target=str(event_id), detail=str(error)[:500])
        # 409 when the body was fine but the loop refuses the step in the event's present state.
        return _refused(error, 409 if error.conflict else 422)
    return flask.jsonify(event)


ACTION_FIELDS = frozenset({"ids", "action", "reason", "follow_up_at", "until", "department", "departments"})
MAX_ACTION_BODY = 256 * 1024  # 500 ids, a reason and ten departments fit many times over


@bp.post("/events/actions")
def post_actions():
    """Take one desk action (催办, 督办, 延期审批, 改派, 吹哨, 核查结案, 申请延期, 报到) on one case or a selection."""
    caller = _caller()
    length = flask.request.content_length
    if length is not None and length > MAX_ACTION_BODY:
        flask.abort(413, description=f"the body is {length} bytes; at most {MAX_ACTION_BODY} are accepted")
    body = _body()
    if not isinstance(body, dict):
        flask.abort(400, description="the body must be a JSON object: {ids, action, reason, …}")
    unknown = sorted(map(str, set(body) - ACTION_FIELDS))
    if unknown:
        flask.abort(400, description=f"unknown field(s) {', '.join(unknown)[:200]}; the fields are "
                                     f"{', '.join(sorted(ACTION_FIELDS))}")
    action = body.get("action")
    # A token answers for an area, not a department: it acts as that area's center (docs/desk.md).
    role = desk.API_TOKEN_ROLE if caller.kind == "token" else caller.role
    if isinstance(action, str) and action in desk.ACTIONS and action not in desk.allowed(role):
        access.audit(f"event.{action}", "refused", target="desk", detail=f"role {role} may not {action}")
        return flask.jsonify({"error": "forbidden", "message": f"your role may not {action}; it may: "
                              f"{', '.join(desk.allowed(role)) or 'none of the desk actions'}"}), 403
    ingestor = context.current().ingestor
    times = {}
    try:
        for name in ("follow_up_at", "until"):
            if body.get(name) is not None:
                try:  # the API speaks ISO 8601 with an offset, as everywhere else
                    times[name] = parse_instant(body[name], ingestor.tz, naive_is_local=False)
                except ValueError as error:
                    raise desk.ActRefused(name, str(error)) from None
        result = desk.act(ingestor, body.get("ids"), action, reason=body.get("reason"), actor=caller.name, role=role,
                          scope=caller.scope, audit_from=access.source(), department_code=body.get("department"),
                          departments=body.get("departments"), **times)
    except desk.ActRefused as error:
        access.audit(f"event.{str(action)[:20]}", "refused", target="desk", detail=str(error)[:500])
        field = {"department_code": "department"}.get(error.field, error.field)
        return flask.jsonify({"error": "refused", "message": f"{field}: {error.reason}", "field": field,
                              "reason": error.reason}), 422
    return flask.jsonify({
        "data_version": result.version,
        "done": len(result.done),
        "refused": len(result.refused),
        "outcomes": [{"id": o.event_id, "ok": o.ok, "reason": o.reason, "key": o.key, "status": o.status}
                     for o in result.outcomes],
    })


@bp.get("/events")
def find_event():
    """Return the event a system sent, by its own (source, id)."""
    source, external = flask.request.args.get("source", ""), flask.request.args.get("id", "")
    if source not in SOURCES:
        flask.abort(400, description=f"'source' must be one of {', '.join(SOURCES)}")
    if not external.strip() or len(external) > MAX_ID:
        flask.abort(400, description=f"'id' is required: the sending system's id, at most {MAX_ID} characters")
    return _answer(lambda ingestor, scope: ingestor.find(source, external, scope=scope))


@bp.get("/events/<event_id>")
def get_event(event_id: str):
    """Return one event with its SLA traffic light and its log."""
    event_id = _event_id(event_id)
    return _answer(lambda ingestor, scope: ingestor.event(event_id, scope=scope))


def _answer(read):
    """Answer with the event ``read(ingestor, scope)`` returns, with personal data masked unless revealed.

    A system with a token reads events whole (each such read is audited); a person sees them masked
    and uses POST /events/{id}/reveal, the explicit "show" that is audited.
    """
    caller = _caller("read")
    try:
        event = read(context.current().ingestor, caller.scope)
    except NotFound as error:
        flask.abort(404, description=str(error))
    if caller.kind == "token" and caller.may("reveal"):
        personal = [name for name, whole, masked in (
            ("reporter", event["reporter"], mask_text(event["reporter"])),
            ("description", event["description"], mask_numbers(event["description"]))) if whole != masked]
        if personal:
            access.audit("reveal", "ok", target=str(event["event_id"]), detail=f"{', '.join(personal)} (API read)")
    else:
        event["reporter"] = mask_text(event["reporter"])
        event["description"] = mask_numbers(event["description"])
        for step in event["log"]:  # a handler's note may quote a phone or ID number
            step["note"] = mask_numbers(step["note"])
        for call in event["desk"]["whistle_calls"]:  # so may a department's answer (报到)
            call["answer"] = mask_numbers(call["answer"])
    return flask.jsonify(event)


@bp.post("/events/<event_id>/reveal")
def reveal(event_id: str):
    """Return one event's reporter and description unmasked, for a role that needs them; audited first."""
    event_id = _event_id(event_id)
    caller = _caller("reveal")
    try:
        event = context.current().ingestor.event(event_id, scope=caller.scope)
    except NotFound as error:
        access.audit("reveal", "refused", target=str(event_id), detail="not found in scope")
        flask.abort(404, description=str(error))
    access.audit("reveal", "ok", target=str(event_id), detail="reporter, description")
    response = flask.jsonify({"event_id": event["event_id"], "reporter": event["reporter"],
                              "description": event["description"]})
    response.headers["Cache-Control"] = "no-store"
    return response
