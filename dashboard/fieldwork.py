"""The field-work and 12345 follow-up contract (issue 7; docs/ingest.md "Field work and 12345 follow-ups"), pure.

The checks of one batch's items, field by field, without the store (dashboard/fieldwork_api.py then looks up
workers, grids, buildings and tickets in the caller's scope and writes), and the OpenAPI paths built from the
same constants so the document cannot drift from the checks.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from dashboard.contract import parse_instant
from dashboard.loop import CLOCK_SKEW

MAX_ITEMS = 5_000
MAX_BODY = 4 * 1024 * 1024  # 5,000 items of a few hundred bytes each fit several times over
MAX_EXTERNAL_ID = 64
MAX_PATROL = timedelta(hours=24)
MAX_WORKER_ID = 2**31 - 1
MAX_EVENT_ID = 10**18
MAX_CHECKINS = 1_000
MAX_DISTANCE_M = 1_000_000  # 1,000 km in one patrol: anything more is a broken GPS
MAX_HOUSEHOLDS = 1_000
SATISFACTION = ("satisfied", "basic", "dissatisfied", "unknown")
GRID_CODE = re.compile(r"[0-9]{15}")  # ASCII digits: \d would take other scripts' digits too
BUILDING_CODE = re.compile(r"[0-9]{18}")
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")  # control characters and lone surrogates (not UTF-8)


@dataclass(frozen=True)
class Problem:
    index: int | None  # the item's position in the list (None: the body itself)
    field: str
    reason: str


class Refused(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"[{p.index}] {p.field}: {p.reason}" for p in problems[:20]))
        self.problems = problems


class _Item:
    """Checks one item's fields, collecting a (field, reason) for every problem."""

    def __init__(self, index: int, item, fields: frozenset[str], problems: list[Problem]):
        self.index, self.problems, self._before = index, problems, len(problems)
        self.item = item if isinstance(item, dict) else {}
        if not isinstance(item, dict):
            self.bad("", "each item must be a JSON object")
            return
        unknown = sorted(map(str, set(item) - fields))
        if unknown:
            self.bad(unknown[0][:64], f"unknown field(s) {', '.join(unknown)[:200]}; the fields are "
                                      f"{', '.join(sorted(fields))}")

    @property
    def ok(self) -> bool:
        return len(self.problems) == self._before  # none added for this item (a scan would be quadratic)

    def bad(self, field: str, reason: str) -> None:
        self.problems.append(Problem(self.index, field, reason))

    def whole(self, name: str, lo: int, hi: int, *, default=None, required: bool = False):
        value = self.item.get(name)
        if value is None:
            if required:
                self.bad(name, "is required")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(name, f"must be a whole number from {lo} to {hi}")
            return default
        if not lo <= value <= hi:
            self.bad(name, f"must be from {lo} to {hi}")
            return default
        return value

    def number(self, name: str, lo: float, hi: float):
        value = self.item.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.bad(name, f"must be a number from {lo} to {hi}")
            return None
        if not lo <= value <= hi:
            self.bad(name, f"must be from {lo} to {hi}")
            return None
        return int(round(value))

    def flag(self, name: str, *, default=None, required: bool = False):
        value = self.item.get(name)
        if value is None:
            if required:
                self.bad(name, "is required: true or false")
            return default
        if not isinstance(value, bool):
            self.bad(name, "must be true or false")
            return default
        return value

    def code(self, name: str, pattern: re.Pattern, what: str, *, required: bool = False):
        value = self.item.get(name)
        if value is None:
            if required:
                self.bad(name, "is required")
            return None
        if not isinstance(value, str) or not pattern.fullmatch(value):
            self.bad(name, f"must be {what}")
            return None
        return value

    def choice(self, name: str, choices: tuple[str, ...]):
        value = self.item.get(name)
        if value is None:
            self.bad(name, f"is required: one of {', '.join(choices)}")
            return None
        if not isinstance(value, str) or value not in choices:
            self.bad(name, f"must be one of {', '.join(choices)}")
            return None
        return value

    def external_id(self):
        value = self.item.get("external_id")
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.bad("external_id", "must be a non-empty string (your system's id of the record)")
            return None
        if len(value) > MAX_EXTERNAL_ID:
            self.bad("external_id", f"is longer than {MAX_EXTERNAL_ID} characters")
            return None
        if _CONTROL.search(value):
            self.bad("external_id", "holds control characters or lone surrogates")
            return None
        return value

    def instant(self, name: str, now: datetime, tz, *, required: bool = False):
        value = self.item.get(name)
        if value is None:
            if required:
                self.bad(name, "is required: an ISO 8601 date-time with an offset, e.g. 2026-11-20T09:30:00+08:00")
            return None
        try:
            at = parse_instant(value, tz, naive_is_local=False)
        except ValueError as error:
            self.bad(name, str(error)[:200])
            return None
        if at > now + CLOCK_SKEW:
            self.bad(name, f"lies more than {int(CLOCK_SKEW.total_seconds() // 60)} minutes after now")
            return None
        return at


# -- the three kinds of record -------------------------------------------------------------------------------
PATROL_FIELDS = frozenset({"worker_id", "grid_code", "started_at", "ended_at", "checkins", "distance_m",
                           "external_id"})
VISIT_FIELDS = frozenset({"worker_id", "building_code", "visited_at", "households", "external_id"})
FOLLOWUP_FIELDS = frozenset({"event_id", "followed_at", "valid", "contacted", "resolved", "satisfaction"})


def check_patrols(items: list, now: datetime, tz) -> tuple[list[dict | None], list[Problem]]:
    """Return each item's row (None for a bad one) and every problem found without the store."""
    problems: list[Problem] = []
    rows: list[dict | None] = []
    for index, raw in enumerate(items):
        item = _Item(index, raw, PATROL_FIELDS, problems)
        if not isinstance(raw, dict):
            rows.append(None)
            continue
        row = dict(worker_id=item.whole("worker_id", 1, MAX_WORKER_ID, required=True),
                   grid_code=item.code("grid_code", GRID_CODE, "a grid's 15-digit code"),
                   started_at=item.instant("started_at", now, tz, required=True),
                   ended_at=item.instant("ended_at", now, tz),
                   checkins=item.whole("checkins", 0, MAX_CHECKINS, default=1),
                   distance_m=item.number("distance_m", 0, MAX_DISTANCE_M),
                   external_id=item.external_id())
        if row["started_at"] and row["ended_at"]:
            if row["ended_at"] < row["started_at"]:
                item.bad("ended_at", "is before started_at")
            elif row["ended_at"] - row["started_at"] > MAX_PATROL:
                item.bad("ended_at", f"lies more than {MAX_PATROL.total_seconds() / 3600:.0f} hours after started_at")
        rows.append(row if item.ok else None)
    return rows, problems


def check_visits(items: list, now: datetime, tz) -> tuple[list[dict | None], list[Problem]]:
    problems: list[Problem] = []
    rows: list[dict | None] = []
    for index, raw in enumerate(items):
        item = _Item(index, raw, VISIT_FIELDS, problems)
        if not isinstance(raw, dict):
            rows.append(None)
            continue
        row = dict(worker_id=item.whole("worker_id", 1, MAX_WORKER_ID, required=True),
                   building_code=item.code("building_code", BUILDING_CODE, "a building's 18-digit code",
                                           required=True),
                   visited_at=item.instant("visited_at", now, tz, required=True),
                   households=item.whole("households", 1, MAX_HOUSEHOLDS, default=1),
                   external_id=item.external_id())
        rows.append(row if item.ok else None)
    return rows, problems


def check_followups(items: list, now: datetime, tz) -> tuple[list[dict | None], list[Problem]]:
    problems: list[Problem] = []
    rows: list[dict | None] = []
    for index, raw in enumerate(items):
        item = _Item(index, raw, FOLLOWUP_FIELDS, problems)
        if not isinstance(raw, dict):
            rows.append(None)
            continue
        row = dict(event_id=item.whole("event_id", 1, MAX_EVENT_ID, required=True),
                   followed_at=item.instant("followed_at", now, tz, required=True),
                   valid=item.flag("valid", default=True), contacted=item.flag("contacted", required=True),
                   resolved=item.flag("resolved", required=True),
                   satisfaction=item.choice("satisfaction", SATISFACTION))
        rows.append(row if item.ok else None)
    return rows, problems


# -- the OpenAPI paths (dashboard/openapi.py adds them) --------------------------------------------------------
def _time_field(description: str) -> dict:
    return {"type": "string", "format": "date-time", "maxLength": 40, "example": "2026-11-20T09:30:00+08:00",
            "description": description + f" ISO 8601 with an offset; at most {CLOCK_SKEW.seconds // 60} minutes "
                                         "after now."}


def _external_id() -> dict:
    return {"type": "string", "minLength": 1, "maxLength": MAX_EXTERNAL_ID,
            "description": "Your system's id of the record, unique per worker: a resend with it is a duplicate."}


def _batch(key: str, item: dict, required: list[str], summary: str, description: str) -> dict:
    fields = {"patrols": PATROL_FIELDS, "visits": VISIT_FIELDS, "followups": FOLLOWUP_FIELDS}[key]
    assert set(item) == fields, key  # the document lists exactly the fields the checks take
    error = {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    problem = {"type": "object", "required": ["index", "field", "reason"], "properties": {
        "index": {"type": ["integer", "null"], "description": "The item's position in the list; null: the body."},
        "field": {"type": "string", "description": "The field at fault; empty for the whole item or body."},
        "reason": {"type": "string"}}}
    counts = {"accepted": {"type": "integer", "description": "Items written."},
              "duplicates": {"type": "integer", "description": "Items stored before (resent): nothing written."},
              "data_version": {"type": ["integer", "null"],
                               "description": "The data version this write made (null: nothing new was written)."}}
    if key == "followups":
        counts["superseded"] = {"type": "integer",
                                "description": "Items older than the ticket's stored (or a newer sent) follow-up."}
    answer = {"content": {"application/json": {"schema": {"type": "object", "required": list(counts),
                                                          "properties": counts}}}}
    return {"post": {
        "tags": ["fieldwork"], "summary": summary, "description": description,
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": [key], "additionalProperties": False, "properties": {key: {
                "type": "array", "minItems": 1, "maxItems": MAX_ITEMS, "items": {
                    "type": "object", "required": required, "additionalProperties": False, "properties": item}}}}}}},
        "responses": {
            "201": {**answer, "description": "Written (all of the batch that was not stored before)"},
            "200": {**answer, "description": "Nothing new: every item was stored before"},
            "400": {"description": "Refused, nothing written: every problem, by item index and field",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": ["error", "message", "problems"], "properties": {
                            "error": {"type": "string", "const": "refused"}, "message": {"type": "string"},
                            "problems": {"type": "array", "items": problem}}}}}},
            "401": {**error, "description": "No valid API token or session"},
            "403": {**error, "description": "The caller's role may not act, or a session's write lacks the CSRF token"},
            "413": {**error, "description": f"Body larger than {MAX_BODY} bytes"},
        }}}


def openapi_paths() -> dict:
    """Return the OpenAPI paths of the three routes, from the constants the checks use."""
    worker = {"type": "integer", "minimum": 1, "maximum": MAX_WORKER_ID,
              "description": "workers.id; a worker outside the caller's area is refused as unknown."}
    scope = (" A worker, grid, building or ticket outside the caller's area is refused exactly as one that does not "
             "exist. All or nothing; one audit row a batch.")
    return {
        "/api/v1/fieldwork/patrols": _batch("patrols", {
            "worker_id": worker,
            "grid_code": {"type": "string", "pattern": "^[0-9]{15}$",
                          "description": "The grid patrolled; default the worker's own."},
            "started_at": _time_field("When the patrol (巡查) started."),
            "ended_at": _time_field(f"When it ended: after started_at, within {int(MAX_PATROL.total_seconds() // 3600)} h."),
            "checkins": {"type": "integer", "minimum": 0, "maximum": MAX_CHECKINS, "default": 1,
                         "description": "Check-in points touched."},
            "distance_m": {"type": "number", "minimum": 0, "maximum": MAX_DISTANCE_M,
                           "description": "Metres walked (rounded to whole metres)."},
            "external_id": _external_id(),
        }, ["worker_id", "started_at"], "Record grid workers' patrols (巡查)", "Patrols count toward 巡查完成率." + scope),
        "/api/v1/fieldwork/visits": _batch("visits", {
            "worker_id": worker,
            "building_code": {"type": "string", "pattern": "^[0-9]{18}$",
                              "description": "The building visited: it must lie in the worker's grid (its grid is "
                                             "the visit's)."},
            "visited_at": _time_field("When the visit (走访) took place."),
            "households": {"type": "integer", "minimum": 1, "maximum": MAX_HOUSEHOLDS, "default": 1,
                           "description": "Households met."},
            "external_id": _external_id(),
        }, ["worker_id", "building_code", "visited_at"], "Record grid workers' household visits (走访)",
            "Visits count toward 走访覆盖率." + scope),
        "/api/v1/hotline/followups": _batch("followups", {
            "event_id": {"type": "integer", "minimum": 1, "maximum": MAX_EVENT_ID,
                         "description": "The 12345 ticket: an event of source 'hotline' in the caller's scope."},
            "followed_at": _time_field("When the caller was called back (回访); not before the ticket's report."),
            "valid": {"type": "boolean", "default": True, "description": "有效回访: only valid ones are counted."},
            "contacted": {"type": "boolean", "description": "响应: the handling unit contacted the caller."},
            "resolved": {"type": "boolean", "description": "解决: the caller says it was solved."},
            "satisfaction": {"type": "string", "enum": list(SATISFACTION),
                             "description": "满意 / 基本满意 / 不满意 / unknown."},
        }, ["event_id", "followed_at", "contacted", "resolved", "satisfaction"], "Record 12345 follow-ups (回访)",
            "One follow-up per ticket: a newer one replaces the stored one; an identical resend is a duplicate, "
            "an older one is superseded. They count toward 响应率, 解决率 and 满意率." + scope),
    }


__all__ = ["FOLLOWUP_FIELDS", "MAX_BODY", "MAX_ITEMS", "PATROL_FIELDS", "Problem", "Refused", "VISIT_FIELDS",
           "check_followups", "check_patrols", "check_visits", "openapi_paths"]
