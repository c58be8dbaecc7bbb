"""The write side of /api/v1: systems push events and move them along the loop (docs/ingest.md)."""
from __future__ import annotations

import json

import flask

from dashboard import context, data
from dashboard.api import bp
from dashboard.contract import MAX_ID
from dashboard.ingest import IngestRefused, NotFound
from queries.schema import SOURCES
from dashboard.privacy import mask_numbers, mask_text

MAX_BODY = 32 * 1024 * 1024  # a full batch of 10,000 events with long descriptions fits easily


def _caller() -> str:
    """Return the name of the API token the request carries, or abort with 401."""
    header = flask.request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    name = context.current().ingestor.authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if name is None:
        response = flask.jsonify({"error": "unauthorized", "message": "send a valid API token as "
                                  "'Authorization: Bearer <token>' (create one with `gridcc token create NAME`)"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridcc"'
        flask.abort(response)
    return name


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
    actor = _caller()
    body = _body()
    records = body if isinstance(body, list) else [body]
    try:
        ingestor = context.current().ingestor
        receipts = ingestor.submit(records, actor=actor, scope=ingestor.token_scope(actor))
    except IngestRefused as error:
        return _refused(error, 422)
    created = sum(r.created for r in receipts)
    return flask.jsonify({
        "created": created,
        "existing": len(receipts) - created,
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
    actor = _caller()
    body = _body()
    try:
        ingestor = context.current().ingestor
        scope = ingestor.token_scope(actor) or data.request_scope()  # a token limited to an area acts only there
        event = ingestor.transition(event_id, body, actor=actor, scope=scope)
    except NotFound as error:
        flask.abort(404, description=str(error))
    except IngestRefused as error:
        # 409 when the body was fine but the loop refuses the step in the event's present state.
        return _refused(error, 409 if error.conflict else 422)
    return flask.jsonify(event)


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
    """Answer with the event ``read(ingestor, scope)`` returns, masked for a caller without a token."""
    ingestor = context.current().ingestor
    try:
        event = read(ingestor, data.request_scope())
    except NotFound as error:
        flask.abort(404, description=str(error))
    # Reading is open until sign-in exists: the reporter, and the numbers in the description that
    # identify a person, only to a system with a token.
    scheme, _, token = flask.request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or ingestor.authenticate(token.strip()) is None:
        event["reporter"] = mask_text(event["reporter"])
        event["description"] = mask_numbers(event["description"])
    return flask.jsonify(event)
