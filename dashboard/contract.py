"""The ingest contract (docs/ingest.md): the checks of an event record and of a step, pure.

Every way in (API, Open311, imports, the simulator) is held to these; ``dashboard.ingest`` runs them
and then the closed loop. A bad record gives [(field, reason), ...], never an exception.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard.loop import CLOCK_SKEW, LOOP_ACTIONS, MARKS, STAGES, Limit, Transition
from queries.schema import SOURCES

MAX_BATCH = 10_000
MAX_ID, MAX_TEXT, MAX_REPORTER, MAX_ACTOR = 64, 4_000, 200, 64
STAMP_FIELDS = tuple(column for column, _ in STAGES[1:])  # accepted_at … closed_at
TIME_FIELDS = ("reported_at",) + STAMP_FIELDS + ("deadline_at",)
FIELDS = frozenset({"id", "source", "category", "lat", "lon", "grid_code", "description", "reporter",
                    "department", "worker", "status"} | set(TIME_FIELDS))
REQUIRED = ("id", "source", "category", "reported_at")
STATUS_CHOICES = ("reported", "accepted", "verified", "registered", "dispatched", "handled", "checked", "closed",
                  "void", "parked")
OLDEST, NEWEST = datetime(2000, 1, 1), datetime(2100, 1, 1)
# The furthest a deadline may lie after now: a limit is days or weeks; a year is generous, and the SLA
# clock's working-minute table (and its memory) grows with the span it has to cover.
MAX_DEADLINE_AHEAD = timedelta(days=366)
# The step fields that only some actions use.
STEP_FIELDS = {"department": ("dispatch",), "extension": ("extend",),
               "deadline_at": ("dispatch", "extend", "unpark", "rework")}
MAX_EXTENSION = {"hours": 24 * 366, "work_hours": 250 * 7.5, "work_days": 250}


@dataclass(frozen=True)
class BadLine:
    """A line of an import file that is not a record at all (bad JSON, too many cells), and why."""

    reason: str


@dataclass(frozen=True)
class Category:
    code: str
    class_code: str
    urgent: bool
    limit: Limit
    department_kind: str


@dataclass
class Prepared:
    index: int
    source: str
    external_id: str
    category: Category
    lat: float | None
    lon: float | None
    grid_code: str | None
    description: str | None
    reporter: str | None
    department: str | None
    worker: int | None
    status: str | None
    times: dict


def parse_instant(value, tz: ZoneInfo, *, naive_is_local: bool) -> datetime:
    """Return an ISO 8601 string as a naive local time to the second; raise ValueError with the reason."""
    if isinstance(value, datetime):
        parsed = value
    else:
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date-time string, e.g. 2026-11-20T15:00:00+08:00")
        if len(value) > 40:
            raise ValueError("is too long to be an ISO 8601 date-time")
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date-time, e.g. 2026-11-20T15:00:00+08:00") from None
    if parsed.tzinfo is None and not naive_is_local:
        raise ValueError(f"{value!r} needs a time zone offset, e.g. 2026-11-20T15:00:00+08:00")
    # Checked before converting: converting year 1 or 9999 across an offset overflows.
    if parsed.year < OLDEST.year:
        raise ValueError(f"{value!r} is before {OLDEST.year}: not a plausible event time")
    if parsed.year >= NEWEST.year:
        raise ValueError(f"{value!r} is after {NEWEST.year - 1}: not a plausible event time")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(tz).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def check_record(record, ref, now: datetime, tz: ZoneInfo, naive_is_local: bool):
    """Return a Prepared for a good record, or [(field, reason), ...] for a bad one."""
    if isinstance(record, BadLine):
        return [("", record.reason)]
    if not isinstance(record, dict):
        return [("", "each event must be a JSON object")]
    bad: list[tuple[str, str]] = []
    unknown = sorted(set(record) - FIELDS)
    if unknown:
        bad.append((str(unknown[0])[:64], f"unknown field(s) {', '.join(map(str, unknown))[:200]}; "
                                          "the fields are listed in docs/ingest.md"))
    for name in REQUIRED:
        value = record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            bad.append((name, "is required"))
    external = record.get("id")
    if isinstance(external, str) and not external.strip():
        external = None  # blank: "is required" above
    if isinstance(external, bool) or not isinstance(external, (str, int)):
        if external not in (None, ""):
            bad.append(("id", "must be a string (or an integer)"))
        external = None
    else:
        external = str(external).strip()
        if len(external) > MAX_ID:
            bad.append(("id", f"is longer than {MAX_ID} characters"))
        elif any(ord(ch) < 32 for ch in external) or not _is_text(external):
            bad.append(("id", "holds control characters or invalid Unicode"))
    source = record.get("source")
    if source not in (None, "") and source not in SOURCES:
        bad.append(("source", f"must be one of {', '.join(SOURCES)}"))
    code = record.get("category")
    category = ref.categories.get(code) if isinstance(code, str) else None
    if code not in (None, "") and category is None:
        hint = "use a 4-digit subclass code of the catalogue, as a string"
        padded = f"{code:0>4}" if isinstance(code, (str, int)) and not isinstance(code, bool) else None
        if padded in ref.categories and padded != code:
            hint = f"did you mean \"{padded}\"? Codes are 4-digit strings (2-digit class + 2-digit subclass)"
        bad.append(("category", f"unknown category {str(code)[:16]!r}: {hint}"))
    lat, lon = record.get("lat"), record.get("lon")
    grid_code = record.get("grid_code")
    if grid_code is not None:
        if not isinstance(grid_code, str):
            bad.append(("grid_code", "must be a string of 15 digits, e.g. \"329902001001001\""))
        elif grid_code not in ref.grid_set:
            bad.append(("grid_code", f"unknown grid {str(grid_code)[:20]!r}"))
    if lat is None and lon is None:
        if grid_code is None:
            bad.append(("lat", "a location is required: lat and lon (WGS 84), or grid_code"))
    elif lat is None or lon is None:
        missing = "lat" if lat is None else "lon"
        bad.append((missing, f"is required with {'lon' if missing == 'lat' else 'lat'}: a point needs both"))
    elif (_number(lat) and _number(lon) and not -90 <= lat <= 90 and -90 <= lon <= 90):
        bad.append(("lat", f"must be between -90 and 90; ({lat}, {lon}) looks like lon and lat swapped"))
    else:
        for name, value, low, high in (("lat", lat, -90, 90), ("lon", lon, -180, 180)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                bad.append((name, "must be a number (WGS 84 degrees)"))
            elif not (_finite(value) and low <= value <= high):
                bad.append((name, f"must be between {low} and {high}"))
    description, reporter = record.get("description"), record.get("reporter")
    for name, value, most in (("description", description, MAX_TEXT), ("reporter", reporter, MAX_REPORTER)):
        if value is not None and not isinstance(value, str):
            bad.append((name, "must be a string"))
        elif value is not None and len(value) > most:
            bad.append((name, f"is longer than {most} characters"))
        elif value is not None and not _is_text(value):
            bad.append((name, "holds a NUL character or invalid Unicode (a lone surrogate)"))
    department = record.get("department")
    if department is not None and (not isinstance(department, str) or department not in ref.departments):
        bad.append(("department", f"unknown department {str(department)[:20]!r}"))
    elif department is not None and record.get("dispatched_at") in (None, ""):
        bad.append(("department", "applies to a dispatched event: give dispatched_at too"))
    worker = record.get("worker")
    if worker is not None:
        if isinstance(worker, bool) or not isinstance(worker, int):
            bad.append(("worker", "must be an integer: the grid worker's id"))
        elif worker not in ref.workers:
            bad.append(("worker", f"unknown grid worker {worker}"))
    status = record.get("status")
    if status is not None and status not in STATUS_CHOICES:
        bad.append(("status", f"must be one of {', '.join(STATUS_CHOICES)}"))
    times: dict[str, datetime | None] = {}
    for name in TIME_FIELDS:
        value = record.get(name)
        if value is None or value == "":
            times[name] = None
            continue
        try:
            times[name] = parse_instant(value, tz, naive_is_local=naive_is_local)
        except ValueError as error:
            bad.append((name, str(error)))
            continue
        if name != "deadline_at" and times[name] > now + CLOCK_SKEW:
            bad.append((name, f"{times[name].isoformat()} is in the future (now is {now.isoformat()})"))
        if name == "deadline_at" and times[name] > now + MAX_DEADLINE_AHEAD:
            bad.append((name, f"lies more than {MAX_DEADLINE_AHEAD.days} days after now"))
    previous = None
    for name in ("reported_at",) + STAMP_FIELDS:
        at = times.get(name)
        if at is None:
            continue
        if previous is not None and at < times[previous]:
            bad.append((name, f"is earlier than {previous}: the loop's steps happen in order"))
        previous = name
    if bad:
        return bad
    return Prepared(0, source, external, category, None if lat is None else float(lat),
                     None if lon is None else float(lon), grid_code, description, reporter, department, worker,
                     status, times)


def check_step(payload, tz: ZoneInfo):
    """Return a function (now, actor) -> Transition for a good step body, or [(field, reason), ...]."""
    if not isinstance(payload, dict):
        return [("", "the body must be a JSON object with an 'action'")]
    bad = []
    allowed = {"action", "at", "note", "department", "extension", "deadline_at", "actor"}
    unknown = sorted(set(payload) - allowed)
    if unknown:
        bad.append((str(unknown[0])[:64], f"unknown field(s) {', '.join(map(str, unknown))[:200]}"))
    action = payload.get("action")
    if not isinstance(action, str) or not action:
        bad.append(("action", "is required"))
    elif action in MARKS:
        # The desk's marks need their own fields and checks (whistled departments, a reason): one route.
        bad.append(("action", f"{action!r} is a desk action: send it to POST /api/v1/events/actions"))
    elif action not in LOOP_ACTIONS:
        bad.append(("action", f"unknown action {action[:32]!r}; one of: {', '.join(LOOP_ACTIONS)}"))
    at = deadline = None
    for name in ("at", "deadline_at"):
        if payload.get(name) is not None:
            try:
                value = parse_instant(payload[name], tz, naive_is_local=False)
            except ValueError as error:
                bad.append((name, str(error)))
                continue
            at, deadline = (value, deadline) if name == "at" else (at, value)
    note = payload.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_TEXT or not _is_text(note)):
        bad.append(("note", f"must be a string of at most {MAX_TEXT} characters, without NUL or invalid Unicode"))
    who = payload.get("actor")
    if who is not None and (not isinstance(who, str) or len(who) > MAX_ACTOR or not _is_text(who)):
        bad.append(("actor", f"must be a string of at most {MAX_ACTOR} characters, without NUL or invalid Unicode"))
    department = payload.get("department")
    if department is not None and not isinstance(department, str):
        bad.append(("department", "must be a department code (string)"))
    # A field the action does not use is an error, not silently dropped: the sender meant something.
    for name, actions in STEP_FIELDS.items():
        if payload.get(name) is not None and isinstance(action, str) and action not in actions:
            bad.append((name, f"applies only to {' / '.join(actions)}, not to {action[:32]!r}"))
    extension = payload.get("extension")
    limit = None
    if extension is not None:
        value = extension.get("value") if isinstance(extension, dict) else None
        unit = extension.get("unit") if isinstance(extension, dict) else None
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value)
                or unit not in MAX_EXTENSION or not 0 < value <= MAX_EXTENSION[unit]):
            bad.append(("extension", "must be {\"value\": a positive number, \"unit\": hours|work_hours|work_days}, "
                                     "at most a year: " + ", ".join(f"{v:g} {u}" for u, v in MAX_EXTENSION.items())))
        else:
            limit = Limit(float(value), unit)
    if at is not None and deadline is not None and deadline <= at:
        bad.append(("deadline_at", "must be later than the step's 'at'"))
    if bad:
        return bad

    def build(default_at: datetime, actor: str) -> Transition:
        name = f"{actor}:{who}" if who else actor
        return Transition(action, at or default_at, actor=name[:MAX_ACTOR], note=note, department_code=department,
                          extension=limit, deadline_at=deadline)
    return build


def _number(value) -> bool:
    """Return True for a finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and _finite(value)


def _finite(value) -> bool:
    """Return True for a finite number a float can hold (a 400-digit integer is not one)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _is_text(value: str) -> bool:
    """Return True for text every store can hold: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
