"""The OpenAPI 3.1 document of the JSON API and Open311, served at /api/v1/openapi.json.

The event record, the step body and the enums are built from the constants the validators use
(dashboard.ingest, dashboard.loop, queries.schema), so the document cannot drift from the contract.
tests/api/test_openapi.py checks that every route of /api/v1 and /open311/v2 is documented here.
"""
from __future__ import annotations

from dashboard.contract import (
    FIELDS, MAX_ACTOR, MAX_BATCH, MAX_ID, MAX_REPORTER, MAX_TEXT, REQUIRED, STAMP_FIELDS, STATUS_CHOICES, TIME_FIELDS,
)
from dashboard.loop import ACTIONS
from dashboard.fieldwork import openapi_paths as fieldwork_paths
from queries.schema import LIMIT_UNITS, SOURCES

_INSTANT = {"type": "string", "format": "date-time", "example": "2026-11-20T15:00:00+08:00"}
_PARAMS = [
    {"name": "as_of", "in": "query", "schema": _INSTANT,
     "description": "Instant at which `open` and `overdue` are counted (ISO 8601 with offset). Default: now."},
    {"name": "from", "in": "query", "schema": _INSTANT,
     "description": "Start of the window (inclusive) for `reported`, `closed`, `closed_on_time`. Default: `to` − 30 days."},
    {"name": "to", "in": "query", "schema": _INSTANT,
     "description": "End of the window (exclusive). Default: `as_of`. At most 366 days after `from`."},
    {"name": "v", "in": "query", "schema": {"type": "integer", "minimum": 0},
     "description": "A live screen's data version (from /api/v1/live/stream): an answer computed at that "
                    "version or later will do, so screens refreshing together share one. Default: the current one."},
]
_CODE = {"name": "code", "in": "path", "required": True,
         "schema": {"type": "string", "pattern": "^[0-9]{6,18}$"},
         "description": "Area code: city/district 6 digits, street 9, community 12, grid 15 (DOMAIN.md §1)."}
_EVENT_ID = {"name": "event_id", "in": "path", "required": True,
             "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1},
             "description": "The event's id in gridcc (`event_id` of a receipt)."}
_TIME_LENGTH = 40  # parse_instant refuses longer strings
_REF = "#/components/schemas/"


def _ref(name: str) -> dict:
    return {"$ref": _REF + name}


def _json(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _ok(schema: str) -> dict:
    return _json(schema, "OK")


_ERROR = _json("Error", "Error")
_UNAUTHORIZED = {**_json("Error", "No valid API token or session"),
                 "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="gridcc"'}}}
_TOO_LARGE = _json("Error", "Body too large")
_BAD_JSON = _json("Error", "Body is not valid JSON")
_UNAVAILABLE = _json("Error", "The store holds no data yet")
_BEARER = [{"bearerAuth": []}, {"sessionCookie": []}]
# Reading needs a caller too: a system's token or a signed-in person's session (docs/access.md).
_READ = [{"bearerAuth": []}, {"sessionCookie": []}]
_FORBIDDEN = _json("Error", "The caller's role may not do this")


def _time(description: str, *, nullable: bool = False) -> dict:
    schema = {"type": ["string", "null"] if nullable else "string", "format": "date-time",
              "example": "2026-11-20T15:00:00+08:00"}
    return {**schema, "description": description}


def _record_schema() -> dict:
    """Return the schema of one event record (docs/ingest.md), checked against ingest.FIELDS."""
    stamp_text = "ISO 8601 date-time with an offset, not in the future; the loop's steps in order."
    properties = {
        "id": {"type": ["string", "integer"], "maxLength": MAX_ID, "example": "HL-20261120-0042",
               "description": f"The id in the sending system, at most {MAX_ID} characters, no control characters. "
                              "The same (source, id) sent again is stored once."},
        "source": {"type": "string", "enum": list(SOURCES), "description": "The sending channel."},
        "category": {"type": "string", "pattern": "^[0-9]{4}$", "example": "0505",
                     "description": "A 4-digit subclass code of the event catalogue (see /open311/v2/services.json)."},
        "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "WGS 84 latitude."},
        "lon": {"type": "number", "minimum": -180, "maximum": 180, "description": "WGS 84 longitude."},
        "grid_code": {"type": "string", "pattern": "^[0-9]{15}$",
                      "description": "A grid of the city, when lat/lon are not given (otherwise found from them)."},
        "description": {"type": "string", "maxLength": MAX_TEXT},
        "reporter": {"type": "string", "maxLength": MAX_REPORTER},
        "department": {"type": "string", "description": "A department code; default: the category's department "
                                                        "in the event's district, for a dispatched event."},
        "worker": {"type": "integer", "description": "The id of a grid worker."},
        "status": {"type": "string", "enum": list(STATUS_CHOICES),
                   "description": "Optional check: the status the timestamps must reach (void and parked are "
                                  "applied after the last timestamp)."},
    }
    for name in TIME_FIELDS:
        if name == "deadline_at":
            text = "ISO 8601 date-time with an offset; needs dispatched_at. Default: from the category's limit."
        elif name == "reported_at":
            text = "ISO 8601 date-time with an offset, not in the future."
        else:
            text = stamp_text
        properties[name] = {"type": "string", "format": "date-time", "maxLength": _TIME_LENGTH,
                            "example": "2026-11-20T15:00:00+08:00", "description": text}
    if set(properties) != FIELDS:  # a field added to the contract must be documented here
        raise RuntimeError(f"openapi: event fields differ from ingest.FIELDS: {sorted(set(properties) ^ FIELDS)}")
    return {
        "type": "object",
        "description": "One event (docs/ingest.md). A location is required: lat and lon, or grid_code.",
        "properties": properties,
        "required": list(REQUIRED),
        "additionalProperties": False,
        "dependentRequired": {"lat": ["lon"], "lon": ["lat"]},
        "anyOf": [{"required": ["lat", "lon"]}, {"required": ["grid_code"]}],
    }


def _step_schema() -> dict:
    return {
        "type": "object",
        "description": "One step along the closed loop (docs/loop.md).",
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "at": {**_INSTANT, "description": "When it happened (ISO 8601 with offset). Default: now."},
            "note": {"type": "string", "maxLength": MAX_TEXT},
            "actor": {"type": "string", "maxLength": MAX_ACTOR,
                      "description": "Who did it, recorded after the token's name."},
            "department": {"type": "string", "description": "Department code (dispatch: default from the category)."},
            "extension": {"type": "object", "description": "How much an `extend` adds to the limit.",
                          "properties": {"value": {"type": "number", "exclusiveMinimum": 0, "maximum": 10_000},
                                         "unit": {"type": "string", "enum": list(LIMIT_UNITS)}},
                          "required": ["value", "unit"]},
            "deadline_at": {**_INSTANT, "description": "An explicit new deadline (ISO 8601 with offset)."},
        },
        "required": ["action"],
        "additionalProperties": False,
    }


def _event_view_schema() -> dict:
    nullable_text = {"type": ["string", "null"]}
    properties = {
        "event_id": {"type": "integer"},
        "id": {**nullable_text, "description": "The id in the sending system."},
        "source": {"type": "string", "enum": list(SOURCES)},
        "category": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUS_CHOICES)},
        "reported_at": _time("When it was reported."),
        "lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]},
        "grid_code": {"type": "string"}, "building_code": nullable_text,
        "description": nullable_text, "reporter": nullable_text,
        "department": nullable_text, "worker": {"type": ["integer", "null"]},
        **{name: _time(f"The latest {name[:-3]} step.", nullable=True) for name in STAMP_FIELDS},
        "deadline_at": _time("When handling is due.", nullable=True),
        "updated_at": _time("The time of the latest step.", nullable=True),
        "extension_count": {"type": "integer"}, "return_count": {"type": "integer"},
        "rework_count": {"type": "integer"},
        "is_parked": {"type": "boolean"}, "is_void": {"type": "boolean"},
        "sla": {"type": "object", "required": ["limit", "used", "light"], "properties": {
            "limit": {"type": ["object", "null"], "properties": {
                "value": {"type": "number"}, "unit": {"type": "string", "enum": list(LIMIT_UNITS)}}},
            "used": {"type": ["number", "null"], "description": "Share of the limit used (1 = due now)."},
            "light": {"type": ["string", "null"], "enum": ["green", "yellow", "red", None]},
        }},
        "log": {"type": "array", "items": {"type": "object", "properties": {
            "at": _time("When."), "action": {"type": "string", "enum": ["report", *ACTIONS]},
            "from": nullable_text, "to": {"type": "string"}, "actor": nullable_text, "note": nullable_text,
            "department": nullable_text, "deadline_at": _time("The deadline it set.", nullable=True),
        }}},
        # The backlog desk's marks (docs/desk.md): 催办, 督办, a pending 申请延期, 吹哨 and the calls' 报到.
        "desk": {"type": "object", "properties": {
            "urge_count": {"type": "integer"}, "last_urged_at": _time("The latest urge.", nullable=True),
            "supervised_until": _time("督办: the next follow-up is due then.", nullable=True),
            "extension_requested_at": _time("A pending extension request, since.", nullable=True),
            "extension_requested_until": _time("The deadline it asks for.", nullable=True),
            "whistled_at": _time("The latest whistle.", nullable=True),
            "whistle_calls": {"type": "array", "items": {"type": "object", "properties": {
                "department": {"type": "string"}, "called_at": _time("When called."), "called_by": {"type": "string"},
                "answered_at": _time("When it reported back.", nullable=True), "answer": nullable_text}}}}},
    }
    return {"type": "object", "properties": properties, "required": sorted(properties)}


# ---- Open311 GeoReport v2 ----------------------------------------------------------------------------

_FORMAT = {"name": "format", "in": "path", "required": True, "schema": {"type": "string", "enum": ["json", "xml"]},
           "description": "Response format."}
_XML = {"schema": {"type": "string"}}


def _o311(schema: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema)}, "text/xml": _XML}}


_O311_ERROR = _o311("Open311Errors", "Error")


def _open311_paths() -> dict:
    from dashboard import open311

    list_of = {"name": "", "in": "query", "schema": {"type": "string"}}
    requests_params = [
        {**list_of, "name": "service_request_id",
         "description": f"Comma-separated ids (at most {open311.MAX_LIST}); overrides every other filter."},
        {**list_of, "name": "service_code", "description": "Comma-separated 4-digit service codes."},
        {"name": "start_date", "in": "query", "schema": _INSTANT,
         "description": "Earliest requested_datetime (ISO 8601 with offset)."},
        {"name": "end_date", "in": "query", "schema": _INSTANT,
         "description": "Latest requested_datetime; at most 90 days after start_date. Default: now."},
        {**list_of, "name": "status", "description": "open, closed, or both (comma-separated)."},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": open311.MAX_LIMIT},
         "description": f"Page size (default {open311.DEFAULT_LIMIT})."},
        {"name": "page_size", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": open311.MAX_LIMIT}, "description": "Alias of limit."},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": open311.MAX_PAGE}},
        {"name": "extensions", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]},
         "description": "true adds extended_attributes (the loop stage, source and counters)."},
    ]
    new_request = {
        "type": "object",
        "properties": {
            "service_code": {"type": "string", "pattern": "^[0-9]{4}$"},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "minimum": -180, "maximum": 180},
            "address_string": {"type": "string", "description": "Not geocoded: send lat and long."},
            "address_id": {"type": "string", "description": "Not geocoded: send lat and long."},
            "description": {"type": "string", "maxLength": MAX_TEXT},
            "first_name": {"type": "string"}, "last_name": {"type": "string"},
            "phone": {"type": "string"}, "email": {"type": "string"},
            "api_key": {"type": "string", "description": "An API token (or send it as a Bearer header)."},
        },
        "required": ["service_code", "lat", "long"],
    }
    return {
        "/open311/v2/services.{format}": {"get": {
            "tags": ["open311"], "summary": "Every event subclass as a service", "parameters": [_FORMAT],
            "responses": {"200": _o311("Services", "OK"), "404": _O311_ERROR, "503": _O311_ERROR}}},
        "/open311/v2/services/{service_code}.{format}": {"get": {
            "tags": ["open311"], "summary": "A service's definition (no extra attributes)",
            "parameters": [{"name": "service_code", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9]{4}$"}}, _FORMAT],
            "responses": {"200": _o311("ServiceDefinition", "OK"), "404": _O311_ERROR, "503": _O311_ERROR}}},
        "/open311/v2/requests.{format}": {
            "get": {"tags": ["open311"], "summary": "Service requests (events), newest first",
                    "parameters": [_FORMAT, *requests_params],
                    "security": [{"bearerAuth": []}, {"open311ApiKey": []}, {"sessionCookie": []}],
                    "responses": {"200": _o311("ServiceRequests", "OK"), "400": _O311_ERROR, "401": _O311_ERROR,
                                  "404": _O311_ERROR, "503": _O311_ERROR}},
            "post": {"tags": ["open311"], "summary": "Report a new service request (a citizen's event)",
                     "parameters": [_FORMAT], "security": [{"bearerAuth": []}, {"open311ApiKey": []}],
                     "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": new_request},
                         "application/json": {"schema": new_request}}},
                     "responses": {"200": _o311("NewServiceRequests", "Created"), "400": _O311_ERROR,
                                   "403": _O311_ERROR, "404": _O311_ERROR, "413": _O311_ERROR,
                                   "503": _O311_ERROR}},
        },
        "/open311/v2/requests/{service_request_id}.{format}": {"get": {
            "tags": ["open311"], "summary": "One service request, as a list of one",
            "parameters": [{"name": "service_request_id", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": f"^[0-9]{{1,{open311.MAX_ID_DIGITS}}}$"}},
                           _FORMAT, requests_params[-1]],
            "security": [{"bearerAuth": []}, {"open311ApiKey": []}, {"sessionCookie": []}],
            "responses": {"200": _o311("ServiceRequests", "OK"), "400": _O311_ERROR, "401": _O311_ERROR,
                          "404": _O311_ERROR, "503": _O311_ERROR}}},
    }


def _open311_schemas() -> dict:
    text = {"type": ["string", "null"]}
    request = {"type": "object", "properties": {
        "service_request_id": {"type": "string"}, "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": {"type": "string"}, "service_name": text, "service_code": {"type": "string"},
        "description": text, "agency_responsible": text, "service_notice": text,
        "requested_datetime": _time("Reported at."), "updated_datetime": _time("Last step.", nullable=True),
        "expected_datetime": _time("Deadline.", nullable=True), "address": {"type": "string"},
        "address_id": text, "zipcode": text, "lat": {"type": ["number", "null"]},
        "long": {"type": ["number", "null"]}, "media_url": text,
        "extended_attributes": {"type": "object", "properties": {
            "stage": {"type": "string"}, "stage_name": {"type": "string"},
            "source": {"type": "string", "enum": list(SOURCES)}, "extension_count": {"type": "integer"},
            "return_count": {"type": "integer"}, "rework_count": {"type": "integer"}, "parked": {"type": "boolean"}}},
    }, "required": ["service_request_id", "status", "requested_datetime"]}
    return {
        "Service": {"type": "object", "properties": {
            "service_code": {"type": "string"}, "service_name": {"type": "string"}, "description": {"type": "string"},
            "metadata": {"type": "boolean"}, "type": {"type": "string"}, "keywords": {"type": "string"},
            "group": {"type": "string"}}, "required": ["service_code", "service_name"]},
        "Services": {"type": "array", "items": _ref("Service")},
        "ServiceDefinition": {"type": "object", "properties": {
            "service_code": {"type": "string"}, "attributes": {"type": "array", "maxItems": 0}}},
        "ServiceRequest": request,
        "ServiceRequests": {"type": "array", "items": _ref("ServiceRequest")},
        "NewServiceRequests": {"type": "array", "items": {"type": "object", "properties": {
            "service_request_id": {"type": "string"}, "service_notice": text, "account_id": text}}},
        "Open311Errors": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "integer"}, "description": {"type": "string"}}, "required": ["code", "description"]}},
    }


_LIVE_VERSION = {"name": "v", "in": "query", "description": "The data version the screen has (from its last message).",
                 "schema": {"type": "integer", "minimum": 0}}


def openapi_document() -> dict:
    """Return the OpenAPI document as a dict."""
    from dashboard.rank_api import openapi_paths as rank_paths

    figures = {
        "type": "object",
        "properties": {
            "reported": {"type": "integer", "description": "Events reported in [from, to), void ones included (上报数)."},
            "open": {"type": "integer", "description": "Events open at as_of: not closed, void or parked (在办)."},
            "overdue": {"type": "integer", "description": "Open, not handled, past the deadline at as_of (超期未处置)."},
            "closed": {"type": "integer", "description": "Events closed in [from, to) (结案数)."},
            "closed_on_time": {"type": "integer", "description": "Of those, handled by their deadline (按期结案数)."},
            "on_time_rate": {"type": ["number", "null"],
                             "description": "closed_on_time / (closed + overdue), 0–1; null when both are 0."},
            "median_handling_hours": {"type": ["number", "null"],
                                      "description": "Median clock hours from dispatch to handled, over `closed`."},
        },
    }
    area = {
        "type": "object",
        "properties": {
            "code": {"type": "string"}, "name": {"type": "string"},
            "level": {"type": "string", "enum": ["city", "district", "street", "community", "grid", "building"]},
            "parent": {"type": ["string", "null"]}, "households": {"type": "integer"},
            "centroid": {"type": "object", "description": "WGS 84 (areas only; a building gives its point).",
                         "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}},
            "bbox": {"type": "object", "description": "WGS 84 bounding box (areas only).",
                     "properties": {k: {"type": "number"} for k in ("south", "west", "north", "east")}},
            "figures": _ref("Figures"),
        },
    }
    window = {"as_of": _INSTANT, "from": _INSTANT, "to": _INSTANT}
    record = _ref("EventRecord")
    return {
        "openapi": "3.1.0",
        "info": {"title": "gridcc API", "version": "1",
                 "description": "Figures of the areas of the grid hierarchy (the same numbers as the overview "
                                "screen), the ingest of events and their steps along the closed loop, and Open311 "
                                "GeoReport v2. Times are ISO 8601 with an offset; the city's local zone is "
                                "Asia/Shanghai (+08:00)."},
        "tags": [{"name": "areas"}, {"name": "events"}, {"name": "live", "description": "docs/live.md"}, {"name": "open311", "description": "docs/open311.md"}],
        "paths": {
            "/api/v1/areas": {"get": {"tags": ["areas"], "summary": "The top-level area(s) the caller may see",
                                      "parameters": _PARAMS, "security": _READ,
                                      "responses": {"200": _ok("AreaList"), "400": _ERROR, "401": _UNAUTHORIZED,
                                                    "503": _UNAVAILABLE}}},
            "/api/v1/areas/{code}": {"get": {"tags": ["areas"], "summary": "One area and its figures",
                                             "parameters": [_CODE, *_PARAMS], "security": _READ,
                                             "responses": {"200": _ok("AreaOne"), "400": _ERROR, "401": _UNAUTHORIZED,
                                                           "404": _ERROR, "503": _UNAVAILABLE}}},
            "/api/v1/areas/{code}/children": {"get": {
                "tags": ["areas"], "summary": "An area's children (a grid's buildings), in code order",
                "parameters": [_CODE, *_PARAMS], "security": _READ,
                "responses": {"200": _ok("AreaChildren"), "400": _ERROR, "401": _UNAUTHORIZED, "404": _ERROR,
                              "503": _UNAVAILABLE}}},
            "/api/v1/events": {"get": {
                "tags": ["events"], "summary": "Find an event by the sending system's own id",
                "description": "The event with this (source, id), as GET /api/v1/events/{event_id} shows it.",
                "parameters": [
                    {"name": "source", "in": "query", "required": True, "schema": {"type": "string", "enum": list(SOURCES)}},
                    {"name": "id", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 64}},
                ],
                "security": _READ,
                "responses": {"200": _ok("EventView"), "400": _json("Error", "source or id missing or malformed"),
                              "401": _UNAUTHORIZED, "404": _json("Error", "No such event here"),
                              "503": _UNAVAILABLE}},
                "post": {
                "tags": ["events"], "summary": "Store one event or a batch (all or nothing)",
                "description": "Validated against the contract and the closed loop, then committed in one "
                               "transaction. The same (source, id) sent again is stored once.",
                "security": _BEARER,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                    record, {"type": "array", "items": record, "maxItems": MAX_BATCH}]}}}},
                "responses": {"201": _json("Receipts", "Stored; at least one event is new"),
                              "200": _json("Receipts", "Every event was stored before"),
                              "400": _BAD_JSON, "401": _UNAUTHORIZED, "403": _FORBIDDEN, "413": _TOO_LARGE,
                              "422": _json("Refusal", "Refused; nothing stored"), "503": _UNAVAILABLE}}},
            "/api/v1/events/{event_id}": {"get": {
                "tags": ["events"], "summary": "One event with its SLA light and log", "parameters": [_EVENT_ID],
                "description": "A person sees the reporter and the numbers in the description masked; a system "
                               "with a token sees them whole, and each such read is written to the audit log.",
                "security": _READ,
                "responses": {"200": _ok("EventView"), "401": _UNAUTHORIZED, "404": _json("Error", "No such event here"),
                              "503": _UNAVAILABLE}}},
            "/api/v1/events/{event_id}/reveal": {"post": {
                "tags": ["events"], "summary": "Show one event's reporter and description in full (audited)",
                "description": "For roles that need personal data (district manager, street operator, department "
                               "handler); never on a public wall. The audit row is written before the answer.",
                "security": _BEARER, "parameters": [_EVENT_ID],
                "responses": {"200": _json("Revealed", "The event's personal data, unmasked"),
                              "401": _UNAUTHORIZED, "403": _FORBIDDEN, "404": _json("Error", "No such event here"),
                              "503": _UNAVAILABLE}}},
            # -- case actions (issue 6 §2; docs/desk.md) --
            "/api/v1/events/actions": {"post": {
                "tags": ["events"], "summary": "Take one desk action on one case or a selection, with a reason",
                "description": "催办 urge, 督办 supervise, 延期审批 approve/refuse an extension request, 改派 redispatch, "
                               "吹哨 whistle, 核查结案 check_close (street operators, district managers, tokens); "
                               "申请延期 request_extension and 报到 report_back (department handlers). One "
                               "transaction and one data version for the whole selection; a case that cannot take "
                               "the action is refused on its own in `outcomes` while the others go through. Each "
                               "case gets an event_log row (the reason as its note) and an audit row. docs/desk.md.",
                "security": _BEARER,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["ids", "action", "reason"], "additionalProperties": False,
                    "properties": {
                        "ids": {"type": "array", "minItems": 1, "maxItems": 500, "uniqueItems": True,
                                "items": {"type": "integer", "minimum": 1}},
                        "action": {"type": "string", "enum": ["urge", "supervise", "approve_extension",
                                                              "refuse_extension", "redispatch", "whistle",
                                                              "check_close", "request_extension", "report_back"]},
                        "reason": {"type": "string", "minLength": 1, "maxLength": 500,
                                   "description": "Why (plain text, no HTML); the log row's note."},
                        "follow_up_at": {**_INSTANT, "description": "supervise: the next follow-up (within 30 days)."},
                        "until": {**_INSTANT, "description": "request_extension: the deadline asked for."},
                        "department": {"type": "string", "description": "redispatch: the department it goes to."},
                        "departments": {"type": "array", "minItems": 1, "maxItems": 10, "uniqueItems": True,
                                        "items": {"type": "string"},
                                        "description": "whistle: the departments that must report back."}}}}}},
                "responses": {"200": {"description": "Each case's outcome", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["data_version", "done", "refused", "outcomes"], "properties": {
                        "data_version": {"type": ["integer", "null"],
                                         "description": "The version this act made (null: no case changed)."},
                        "done": {"type": "integer"}, "refused": {"type": "integer"},
                        "outcomes": {"type": "array", "items": {
                            "type": "object", "required": ["id", "ok", "reason", "key", "status"], "properties": {
                                "id": {"type": "integer"}, "ok": {"type": "boolean"},
                                "reason": {"type": ["string", "null"], "description": "Why it was refused."},
                                "key": {"type": ["string", "null"], "description": "The refusal's label (act.why.*)."},
                                "status": {"type": ["string", "null"]}}}}}}}}},
                    "400": _BAD_JSON, "401": _UNAUTHORIZED, "403": _FORBIDDEN, "413": _TOO_LARGE,
                    "422": _json("Error", "The request is wrong as a whole (nothing written): `field` and `reason`"),
                    "503": _UNAVAILABLE}}},
            "/api/v1/events/{event_id}/transitions": {"post": {
                "tags": ["events"], "summary": "Move one event a step along the loop",
                "security": _BEARER, "parameters": [_EVENT_ID],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Step")}}},
                "responses": {"200": _json("EventView", "The event after the step"), "400": _BAD_JSON,
                              "401": _UNAUTHORIZED, "403": _FORBIDDEN, "404": _json("Error", "No such event here"),
                              "409": _json("Refusal", "The loop does not allow this step now"),
                              "413": _TOO_LARGE, "422": _json("Refusal", "The step is malformed"),
                              "503": _UNAVAILABLE}}},
            "/api/v1/live/stream": {"get": {
                "tags": ["live"], "summary": "Server-sent events: each change of the data, as it commits",
                "description": "text/event-stream. First `hello`, then `change` when the data version moves (at "
                               "most four a second: writes in between are folded) and `beat` every 5 s otherwise; "
                               "each `data:` is a LiveMessage. `ended` when the session ends. The stream closes "
                               "after 10 minutes: reconnect (EventSource does) with ?v= the last version. Past "
                               "the server's stream limit: 503, poll instead. docs/live.md.",
                "parameters": [_LIVE_VERSION],
                "security": _READ,
                "responses": {"200": {"description": "The stream", "content": {"text/event-stream": {
                    "schema": {"type": "object", "description": "One server-sent event.", "properties": {
                        "event": {"type": "string", "enum": ["hello", "change", "beat", "ended"]},
                        "data": {"type": "string", "contentMediaType": "application/json",
                                 "description": "A LiveMessage (for `ended`: {\"reason\": …})."}}}}}},
                    "401": _UNAUTHORIZED,
                    "503": _json("Error", "Too many streams: poll /api/v1/live/poll")}}},
            "/api/v1/live/poll": {"get": {
                "tags": ["live"], "summary": "Long poll: the next change after version v, or a beat",
                "description": "The fallback when a proxy blocks the stream. Answers at once when the data "
                               "version is past v (or v is unknown: areas ['*']), else after at most `wait` s.",
                "parameters": [_LIVE_VERSION, {"name": "wait", "in": "query", "schema": {
                    "type": "number", "minimum": 0, "maximum": 20, "default": 20}}],
                "security": _READ,
                "responses": {"200": _ok("LiveMessage"), "400": _ERROR, "401": _UNAUTHORIZED}}},
            # -- alert rules (issue 6 §3; docs/alerts.md) --
            "/api/v1/alerts/firings": {"get": {
                "tags": ["alerts"], "summary": "The alert rules' firings in the caller's scope, with their deliveries",
                "description": "One firing per rule and key (a street, a case) while its condition holds; "
                               "`cleared_at` once it no longer does. A department sees only firings about its own "
                               "cases. Each delivery attempt names the webhook by its configured name (never its "
                               "URL). Newest first.",
                "parameters": [
                    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date-time"},
                     "description": "Raised at or after (ISO 8601 with an offset). Default: 7 days before `to`."},
                    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"},
                     "description": "Raised before. Default: now."},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500,
                                                                "default": 100}}],
                "security": _READ,
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"firings": {"type": "array", "items": {
                        "type": "object", "properties": {
                            "id": {"type": "integer"}, "rule": {"type": "string"},
                            "kind": {"type": "string",
                                     "enum": ["red_within", "undispatched_urgent", "overdue_surge"]},
                            "key": {"type": "string"}, "area_code": {"type": "string"},
                            "level": {"type": "string", "enum": ["critical", "warning", "info"]},
                            "title": {"type": "string"}, "raised_at": _time("When it fired"),
                            "cleared_at": _time("When it stopped holding", nullable=True),
                            "acknowledged_by": {"type": ["string", "null"]},
                            "acknowledged_at": _time("When it was signed for (签收)", nullable=True),
                            "deliveries": {"type": "array", "items": {"type": "object", "properties": {
                                "target": {"type": "string"}, "attempt": {"type": "integer"},
                                "attempted_at": _time("When"),
                                "outcome": {"type": "string", "enum": ["delivered", "failed", "gave_up"]},
                                "http_status": {"type": ["integer", "null"]},
                                "error": {"type": ["string", "null"]}}}}}}}}}}}},
                    "400": _ERROR, "401": _UNAUTHORIZED}}},
            # -- SLA (issue 6; docs/sla.md defines every figure) --
            "/api/v1/sla": {"get": {
                "tags": ["sla"], "summary": "Every figure of the SLA page for one area and window",
                "description": "On-time rates (按期处置率 `handle`, 按期结案率 `close`) per day/week/month and split by "
                               "class, department, child area and street; the backlog's age; traffic lights now; "
                               "the loop as a funnel; handling-time distributions; extension, return, rework and "
                               "void rates. Every rate is {numerator, denominator, value (null when the "
                               "denominator is 0), cases: {numerator, denominator}} and every count {count, cases}, "
                               "where `cases` is a selector: its fields added to `cases_url` list the cases behind "
                               "the figure. Open-and-overdue cases count against the unit (docs/sla.md).",
                "parameters": [
                    {"name": "area", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{6,15}$"},
                     "description": "The drill area's code. Default: the caller's own area."},
                    {"name": "grain", "in": "query", "schema": {"type": "string", "enum": ["day", "week", "month"],
                                                                "default": "day"},
                     "description": "The trend's bucket (a week starts on Monday)."}, *_PARAMS],
                "security": _READ,
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["as_of", "from", "to", "area", "cases_url", "on_time", "backlog_age",
                                                   "lights", "funnel", "handling", "exceptions"],
                    "properties": {**window, "area": _ref("Area"), "cases_url": {"type": "string"},
                                   **{k: {"type": ["object", "array"]} for k in (
                                       "on_time", "backlog_age", "lights", "funnel", "handling", "exceptions")}}}}}},
                              "400": _ERROR, "401": _UNAUTHORIZED, "404": _ERROR, "503": _UNAVAILABLE}}},
            "/api/v1/sla/cases": {"get": {
                "tags": ["sla"], "summary": "The cases behind one figure of the SLA page, a page at a time",
                "description": "Oldest report first; no personal data. The selector comes as `selector` (a JSON "
                               "object) or as flat fields (figure, part, grain, bucket, by, key, stage, bin); a "
                               "malformed one is a 400 saying what is wrong.",
                "parameters": [
                    {"name": "area", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{6,15}$"}},
                    {"name": "selector", "in": "query", "schema": {"type": "string", "maxLength": 1000},
                     "description": 'e.g. {"figure":"light","key":"red"}'},
                    *({"name": name, "in": "query", "schema": {"type": "string", "maxLength": 40}} for name in (
                        "figure", "part", "grain", "bucket", "by", "key", "stage", "bin")),
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1000000,
                                                                 "default": 0}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200,
                                                                "default": 50}},
                    *_PARAMS],
                "security": _READ,
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["total", "cases"], "properties": {
                        **window, "total": {"type": "integer"}, "offset": {"type": "integer"},
                        "limit": {"type": "integer"}, "selector": {"type": "object"},
                        "cases": {"type": "array", "items": {"type": "object", "properties": {
                            "id": {"type": "integer"}, "category": {"type": "string"},
                            "place": {"type": "string", "description": "community · grid"},
                            "department": {"type": ["string", "null"]}, "status": {"type": "string"},
                            "reported_at": _INSTANT, "deadline_at": {"type": ["string", "null"]},
                            "light": {"type": ["string", "null"], "enum": ["green", "yellow", "red", None]}}}}}}}}},
                              "400": _ERROR, "401": _UNAUTHORIZED, "404": _ERROR, "503": _UNAVAILABLE}}},
            **rank_paths(),  # -- Rankings (issue 7): described beside their routes, dashboard/rank_api.py --
            "/api/v1/openapi.json": {"get": {
                "tags": ["meta"], "summary": "This document",
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "schema": {"type": "object"}}}}}}},
            **_open311_paths(),
            **fieldwork_paths(),  # issue 7: field work and 12345 follow-ups in (dashboard/fieldwork.py)
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "An API token: `gridcc token create NAME`."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "gridcc_session",
                                  "description": "A signed-in person's session (POST /auth/sign-in); its writes "
                                                 "also need the X-CSRFToken header (the _csrf_token cookie)."},
                "open311ApiKey": {"type": "apiKey", "in": "query", "name": "api_key",
                                  "description": "Open311's api_key (also accepted as a form field)."},
            },
            "schemas": {
                "Figures": figures,
                "Area": area,
                "AreaList": {"type": "object", "properties": {**window, "areas": {"type": "array", "items": _ref("Area")}}},
                "AreaOne": {"type": "object", "properties": {**window, "area": _ref("Area")}},
                "AreaChildren": {"type": "object", "properties": {**window, "area": _ref("Area"),
                                                                  "children": {"type": "array", "items": _ref("Area")}}},
                "Error": {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                          "required": ["error", "message"]},
                "Problem": {"type": "object", "required": ["index", "field", "reason"], "properties": {
                    "index": {"type": "integer", "description": "Position of the record in the batch (0 for one)."},
                    "field": {"type": "string", "description": "The field at fault; empty for the whole record."},
                    "reason": {"type": "string"}}},
                "Refusal": {"type": "object", "required": ["error", "message", "problems"], "properties": {
                    "error": {"type": "string", "const": "refused"}, "message": {"type": "string"},
                    "problems": {"type": "array", "items": _ref("Problem")}}},
                "EventRecord": _record_schema(),
                "Receipts": {"type": "object", "required": ["created", "existing", "events"], "properties": {
                    "created": {"type": "integer"}, "existing": {"type": "integer"},
                    "data_version": {"type": ["integer", "null"],
                                     "description": "The data version this write made (null: nothing new was "
                                                    "written); a live message with v at or past it includes it."},
                    "events": {"type": "array", "items": {
                        "type": "object", "required": ["index", "event_id", "id", "source", "created", "status"],
                        "properties": {
                            "index": {"type": "integer"}, "event_id": {"type": "integer"}, "id": {"type": "string"},
                            "source": {"type": "string", "enum": list(SOURCES)},
                            "created": {"type": "boolean", "description": "false: stored before, nothing written"},
                            "status": {"type": "string"}}}}}},
                "Step": _step_schema(),
                "Revealed": {"type": "object", "required": ["event_id", "reporter", "description"], "properties": {
                    "event_id": {"type": "integer"}, "reporter": {"type": ["string", "null"]},
                    "description": {"type": ["string", "null"]}}},
                "EventView": _event_view_schema(),
                "LiveMessage": {"type": "object", "required": ["v", "at", "now", "areas"], "properties": {
                    "v": {"type": "integer", "description": "The data version (caches key on it)."},
                    "at": {"type": ["string", "null"], "description": "The data time: the last write (local)."},
                    "now": {"type": "string", "description": "The server's clock (local): proves the link is alive."},
                    "areas": {"type": "array", "items": {"type": "string"},
                              "description": "Grid codes changed since the caller's last message, only those in "
                                             "its scope; ['*'] when anything may have changed."}}},
                **_open311_schemas(),
            },
        },
    }
