"""Open311 GeoReport v2 under /open311/v2: the catalogue as services, events as service requests.

Formats ``.json`` and ``.xml`` (UTF-8). Errors use the spec's shape: ``[{"code": 400, "description":
"..."}]`` in JSON, ``<errors><error><code/><description/></error></errors>`` in XML. New requests go
through the same ingest path as every other source. The field mapping is in docs/open311.md.
"""
from __future__ import annotations

import json
import math
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import flask
from werkzeug.exceptions import HTTPException

from dashboard import access, context, data
from dashboard.api import BadRequest, _parse_instant
from dashboard.i18n import status_name
from dashboard.privacy import mask_numbers
from queries import open311 as queries

bp = flask.Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMATS = ("json", "xml")
DEFAULT_LIMIT = 50
MAX_LIMIT = queries.MAX_REQUESTS
MAX_PAGE = 100_000
MAX_WINDOW = timedelta(days=90)
MAX_LIST = 100  # ids or service codes in one query
MAX_ID_DIGITS = 18
STATUSES = ("open", "closed")
ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]
SOURCE = "citizen"
UNIT_NAMES = {"hours": "小时", "work_hours": "工作小时", "work_days": "工作日"}
# Why a terminal or exceptional stage ended where it did, after its names.
STAGE_REASONS = {"void": "invalid report", "parked": "cannot be handled this season"}
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SERVICE_CODE = re.compile(r"^[0-9]{4}$")


class Open311Error(Exception):
    """An error answered in the spec's format, with its HTTP status."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code = code
        self.description = description


# ---- output --------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=context.current().settings.tz).isoformat()


def _xml_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _xml_element(parent: ET.Element, tag: str, value) -> None:
    child = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            _xml_element(child, key, inner)
    else:
        child.text = _xml_text(value)


def _xml_response(root: ET.Element, status: int = 200) -> flask.Response:
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8")
    return flask.Response(body, status=status, content_type="text/xml; charset=utf-8")


def _json_response(body, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(body, ensure_ascii=False), status=status,
                          content_type="application/json; charset=utf-8")


def _respond(fmt: str, root_tag: str, item_tag: str, items: list[dict], status: int = 200) -> flask.Response:
    """Return ``items`` as a JSON list or as ``<root_tag><item_tag>…`` XML."""
    if fmt == "json":
        return _json_response(items, status)
    root = ET.Element(root_tag)
    for item in items:
        _xml_element(root, item_tag, item)
    return _xml_response(root, status)


def _error_response(code: int, description: str, headers: dict | None = None) -> flask.Response:
    fmt = "xml" if flask.request.path.endswith(".xml") else "json"
    response = _respond(fmt, "errors", "error", [{"code": code, "description": description}], status=code)
    response.headers.update(headers or {})
    return response


def _service_json(service: queries.Service) -> dict:
    limit = f"{service.limit_value:g} {UNIT_NAMES.get(service.limit_unit, service.limit_unit)}"
    keywords = [service.class_name, service.name] + (["紧急"] if service.urgent else [])
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": f"{service.class_name} · {service.name}，处置时限 {limit}" + ("，紧急" if service.urgent else ""),
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(keywords),
        "group": service.class_name,
    }


def _stage(request: queries.ServiceRequest) -> str:
    return "void" if request.is_void else request.status


def _status_notes(request: queries.ServiceRequest) -> str:
    stage = _stage(request)
    notes = f"{status_name(stage)} {stage}"
    return f"{notes}: {STAGE_REASONS[stage]}" if stage in STAGE_REASONS else notes


def _request_json(request: queries.ServiceRequest, extensions: bool) -> dict:
    body = {
        "service_request_id": str(request.id),
        "status": "closed" if request.closed else "open",
        "status_notes": _status_notes(request),
        "service_name": request.category_name,
        "service_code": request.category_code,
        # Open311 is an interchange format read by other systems and their users: numbers that identify a
        # person are always masked here, whoever asks (the event API reveals them, audited).
        "description": mask_numbers(request.description),
        "agency_responsible": request.department_name,
        "service_notice": None,
        "requested_datetime": _iso(request.reported_at),
        "updated_datetime": _iso(request.updated_at),
        "expected_datetime": _iso(request.deadline_at),
        "address": " ".join(request.area_names),
        "address_id": request.grid_code,
        "zipcode": None,
        "lat": request.lat,
        "long": request.lon,
        "media_url": None,
    }
    if extensions:
        stage = _stage(request)
        body["extended_attributes"] = {
            "stage": stage,
            "stage_name": status_name(stage),
            "source": request.source,
            "extension_count": request.extension_count,
            "return_count": request.return_count,
            "rework_count": request.rework_count,
            "parked": request.is_parked,
        }
    return body


# ---- input ---------------------------------------------------------------------------------------


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, f"unknown format '.{fmt[:20]}': use .json or .xml")
    return fmt


def _list_arg(name: str) -> list[str] | None:
    text = flask.request.args.get(name, "")
    if not text.strip():
        return None
    items = [item.strip() for item in text.split(",") if item.strip()]
    if len(items) > MAX_LIST:
        raise Open311Error(400, f"'{name}' lists at most {MAX_LIST} values")
    return items


def _request_id(text: str) -> int:
    if not text.isdigit() or len(text) > MAX_ID_DIGITS:
        raise Open311Error(400, f"a service_request_id is a whole number of at most {MAX_ID_DIGITS} digits")
    return int(text)


def _whole(name: str, default: int, low: int, high: int) -> int:
    text = flask.request.args.get(name, "")
    if text == "":
        return default
    if not text.isdigit() or len(text) > 9 or not low <= int(text) <= high:
        raise Open311Error(400, f"'{name}' is a whole number from {low} to {high}")
    return int(text)


def _instant(name: str) -> datetime | None:
    try:
        return _parse_instant(name, flask.request.args.get(name), None)
    except BadRequest as error:
        raise Open311Error(400, str(error))


def _window() -> tuple[datetime, datetime]:
    """Read start_date and end_date (default: the 90 days up to now); the span is at most 90 days."""
    since, until = _instant("start_date"), _instant("end_date")
    if until is None:
        until = since + MAX_WINDOW if since is not None else context.current().settings.now()
    if since is None:
        since = until - MAX_WINDOW
    if since > until:
        raise Open311Error(400, "'start_date' must not be later than 'end_date'")
    if until - since > MAX_WINDOW:
        raise Open311Error(400, "start_date to end_date may span at most 90 days")
    return since, until


def _closed_filter() -> bool | None:
    statuses = _list_arg("status")
    if statuses is None:
        return None
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise Open311Error(400, f"unknown status {unknown[0][:20]!r}: use open, closed or both")
    return None if set(statuses) == set(STATUSES) else statuses[0] == "closed"


def _extensions() -> bool:
    return flask.request.args.get("extensions", "").lower() == "true"


def _submitted() -> dict:
    """Return the posted fields: form-encoded (the spec's way) or a JSON object."""
    charset = flask.request.mimetype_params.get("charset", "utf-8").lower().replace("_", "-")
    if charset not in ("utf-8", "utf8"):
        raise Open311Error(400, f"the body is in {charset[:20]}: send it as UTF-8 (the spec's encoding)")
    if flask.request.is_json:
        try:
            body = flask.request.get_json(silent=True)
        except RecursionError:  # nested deeper than any request needs: not a request at all
            body = None
        if not isinstance(body, dict):
            raise Open311Error(400, "the JSON body must be one object of fields")
        return {key: value for key, value in body.items() if value is not None}
    return flask.request.form.to_dict()


def _text(fields: dict, name: str) -> str:
    value = fields.get(name, "")
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise Open311Error(400, f"'{name}' must be text (or a number), not {type(value).__name__}")


def _api_key(fields: dict) -> str | None:
    header = flask.request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return _text(fields, "api_key") or flask.request.args.get("api_key") or None


def _coordinate(fields: dict, name: str, bound: float) -> float:
    try:
        value = float(_text(fields, name))
    except ValueError:
        raise Open311Error(400, f"'{name}' must be a number (WGS-84 degrees)")
    if not math.isfinite(value) or abs(value) > bound:
        raise Open311Error(400, f"'{name}' must lie between -{bound:g} and {bound:g}")
    return value


def _reporter(fields: dict) -> str | None:
    # Chinese names are written family name first: 张 (last_name) 三 (first_name) → 张三.
    name = _text(fields, "last_name") + _text(fields, "first_name")
    parts = [p for p in (name, _text(fields, "phone"), _text(fields, "email")) if p]
    return " ".join(parts) or None


def _record(fields: dict) -> dict:
    """Return the ingest record for a posted service request, or raise Open311Error."""
    code = _text(fields, "service_code")
    if not code:
        raise Open311Error(400, "service_code was not provided: see services.json")
    if not _SERVICE_CODE.match(code):
        raise Open311Error(400, f"service_code {code[:20]!r} not found: see services.json")
    if not _text(fields, "lat") and not _text(fields, "long"):
        if _text(fields, "address_string") or _text(fields, "address_id"):
            raise Open311Error(400, "this server cannot geocode address_string or address_id: send lat and long")
        raise Open311Error(400, "lat and long were not provided")
    settings = context.current().settings
    return {
        "id": "o311-" + uuid.uuid4().hex,
        "source": SOURCE,
        "category": code,
        "reported_at": settings.now().replace(tzinfo=settings.tz).isoformat(),
        "lat": _coordinate(fields, "lat", 90.0),
        "lon": _coordinate(fields, "long", 180.0),
        "description": _text(fields, "description") or None,
        "reporter": _reporter(fields),
    }


# ---- routes --------------------------------------------------------------------------------------


@bp.get("/services.<fmt>")
def list_services(fmt: str):
    """Return every event subclass as a service, by code."""
    fmt = _format(fmt)
    with context.current().connect() as conn:
        found = queries.services(conn)
    return _respond(fmt, "services", "service", [_service_json(s) for s in found])


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str):
    """Return a service's definition: ours ask for nothing beyond the standard fields."""
    fmt = _format(fmt)
    if not _SERVICE_CODE.match(code):
        raise Open311Error(404, "no service with that service_code: see services.json")
    with context.current().connect() as conn:
        found = queries.service(conn, code=code)
    if found is None:
        raise Open311Error(404, f"no service with service_code {code}: see services.json")
    if fmt == "json":
        return _json_response({"service_code": found.code, "attributes": []})
    root = ET.Element("service_definition")
    _xml_element(root, "service_code", found.code)
    ET.SubElement(root, "attributes")
    return _xml_response(root)


@bp.route("/requests.<fmt>", methods=["GET", "POST"])
def requests_(fmt: str):
    """List service requests (GET), or create one from a citizen's report (POST)."""
    fmt = _format(fmt)
    if flask.request.method == "POST":
        return _create(fmt)
    scope = data.request_scope()
    limit = _whole("limit", _whole("page_size", DEFAULT_LIMIT, 1, MAX_LIMIT), 1, MAX_LIMIT)
    page = _whole("page", 1, 1, MAX_PAGE)
    extensions = _extensions()
    ids = _list_arg("service_request_id")
    with context.current().connect() as conn:
        if ids is not None:
            # The spec: a list of ids overrides every other filter.
            found = queries.service_requests(conn, scope=scope, ids=tuple(_request_id(i) for i in ids),
                                             limit=MAX_LIST)
        else:
            codes = _list_arg("service_code")
            if codes is not None and not all(_SERVICE_CODE.match(c) for c in codes):
                raise Open311Error(400, "a service_code is 4 digits: see services.json")
            closed = _closed_filter()
            since, until = _window()
            found = queries.service_requests(conn, scope=scope, service_codes=None if codes is None else tuple(codes),
                                             since=since, until=until, closed=closed, limit=limit,
                                             offset=(page - 1) * limit)
    return _respond(fmt, "service_requests", "request", [_request_json(r, extensions) for r in found])


@bp.get("/requests/<rid>.<fmt>")
def get_request(rid: str, fmt: str):
    """Return one service request, as a list of one."""
    fmt = _format(fmt)
    event_id = _request_id(rid)
    with context.current().connect() as conn:
        found = queries.service_requests(conn, scope=data.request_scope(), ids=(event_id,), limit=1)
    if not found:
        raise Open311Error(404, f"no service request {event_id}")
    return _respond(fmt, "service_requests", "request", [_request_json(found[0], _extensions())])


def _create(fmt: str) -> flask.Response:
    """Create a service request through the ingest path; answer its id."""
    from dashboard.ingest import IngestRefused, authenticate

    fields = _submitted()
    actor = authenticate(_api_key(fields))
    if actor is None:
        raise Open311Error(403, "a valid api_key is required to create a service request")
    record = _record(fields)
    with context.current().connect() as conn:
        service = queries.service(conn, code=record["category"])
    if service is None:
        raise Open311Error(400, f"service_code {record['category']} not found: see services.json")
    try:
        ingestor = context.current().ingestor
        (receipt,) = ingestor.submit([record], actor=actor, scope=ingestor.token_scope(actor),
                                     audit_from=access.source())
    except IngestRefused as refused:
        problems = "; ".join(f"{_open311_field(p.field)}: {p.reason}" for p in refused.problems)
        access.audit("events.report", "refused", actor=actor, target="open311", detail=problems[:500])
        raise Open311Error(400, problems or "the service request was refused")
    limit = f"{service.limit_value:g} {UNIT_NAMES.get(service.limit_unit, service.limit_unit)}"
    notice = f"已上报 reported: {service.name}，处置时限 {limit}"
    return _respond(fmt, "service_requests", "request",
                    [{"service_request_id": str(receipt.id), "service_notice": notice, "account_id": None}])


def _open311_field(field: str | None) -> str:
    """Return the Open311 name of an ingest record field."""
    return {"category": "service_code", "lon": "long", "reporter": "first_name/last_name/phone/email"}.get(
        field or "", field or "request")


@bp.route("/", defaults={"rest": ""}, methods=ANY_METHOD)
@bp.route("/<path:rest>", methods=ANY_METHOD)
def unknown(rest: str):
    """Answer a wrong method with 405 and any other path under /open311/v2 with 404, in the spec's format."""
    allowed = _allowed_methods()
    if allowed:
        raise Open311Error(405, f"{flask.request.method} is not allowed here; use {', '.join(allowed)}")
    raise Open311Error(404, f"no such Open311 resource: /open311/v2/{rest[:100]}")


def _allowed_methods() -> list[str]:
    """Return the methods another Open311 route accepts on this path."""
    adapter = flask.current_app.create_url_adapter(flask.request)
    allowed = []
    for method in ("GET", "POST"):
        try:
            endpoint, _ = adapter.match(flask.request.path, method=method)
        except HTTPException:
            continue
        if endpoint.startswith(bp.name + ".") and endpoint != f"{bp.name}.unknown":
            allowed.append(method)
    return allowed


@bp.errorhandler(Open311Error)
def _open311_error(error: Open311Error):
    headers = {"Allow": ", ".join(_allowed_methods())} if error.code == 405 else None
    return _error_response(error.code, error.description, headers)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return _error_response(error.code or 500, error.description or error.name)


@bp.errorhandler(LookupError)
def _empty_store(error: LookupError):
    return _error_response(503, str(error))


def init_app(server: flask.Flask) -> None:
    """Register the Open311 GeoReport v2 endpoints on the Flask server."""
    server.register_blueprint(bp)
