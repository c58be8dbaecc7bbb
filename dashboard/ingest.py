"""The ingest path: every event that comes in (API, Open311, imports, the demo's simulator) passes here.

``Ingestor.submit`` validates a batch against the contract (docs/ingest.md) and the closed loop,
finds each event's grid from its location, and writes the batch in one transaction: all or nothing,
committed (durable) before it returns. The same (source, id) sent again is stored once.
``Ingestor.transition`` moves one event a step along the loop. Writes are serialised by one lock
per store, so the embedded DuckDB never sees two writers (and its data version stays a counter).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from sqlalchemy import Engine

from dashboard.loop import (
    STAGE_ACTION, STAGES, EventState, Limit, Refused, SlaClock, Transition, apply, replay, steps_from_stamps,
    traffic_light,
)
from dashboard.contract import (
    MAX_ACTOR, MAX_BATCH, MAX_DEADLINE_AHEAD, STAMP_FIELDS, Category, Prepared, check_record, check_step,
)
from dashboard.heat import h3_cells
from dashboard.worktime import WorkCalendar
from queries import desk as desk_queries
from queries import ingest as q
from queries import tokens
from queries import users as audit_queries
from queries.areas import scope_area_level
from queries.schema import DISTRICT, event_id_seq, event_log_id_seq
from queries.scope import Scope

log = logging.getLogger(__name__)

BUILDING_RADIUS_DEG = 0.0005  # about 50 m: an event that close to a building is filed under it
RECHECK_S = 5.0  # how long the grid map and a token's validity are trusted before looking again


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record: its position (batch index or file line), the field, and why."""

    index: int
    field: str
    reason: str


class IngestRefused(ValueError):
    """A batch (or step) refused as a whole, with every problem found."""

    def __init__(self, problems: list[Problem], *, conflict: bool = False):
        super().__init__(f"{len(problems)} problem(s); first: {problems[0].reason}" if problems else "refused")
        self.problems = problems
        self.conflict = conflict  # the input was well formed, but the event's state does not allow it


class NotFound(LookupError):
    """No event with that id in the caller's scope."""


@dataclass(frozen=True)
class Receipt:
    """What happened to one record of a batch."""

    index: int
    id: int
    source: str
    external_id: str
    created: bool  # False: the same (source, id) was stored before, nothing written
    status: str
    version: int | None = None  # the data version the write made (None: it wrote nothing new)


class Reference:
    """What validation looks up: the catalogue, departments, workers, and the grid map as a tree."""

    def __init__(self, conn, version: str):
        self.version = version
        self.categories = {r.code: Category(r.code, r.class_code, bool(r.urgent), Limit(r.limit_value, r.limit_unit),
                                            r.department_kind) for r in q.category_rows(conn)}
        self.departments = {r.code: r for r in q.department_rows(conn)}
        self._default_department: dict[tuple[str, str | None], str] = {}
        for r in self.departments.values():
            self._default_department.setdefault((r.kind, r.district_code), r.code)
        self.workers = q.worker_ids(conn)
        grids = q.grid_shapes(conn)
        self.grid_codes = np.array([g.code for g in grids], dtype=object)
        self.grid_set = set(self.grid_codes)
        self.grid_centroids = {g.code: (g.centroid_lat, g.centroid_lon) for g in grids}
        self.grid_tree = shapely.STRtree(shapely.from_geojson([g.geometry for g in grids])) if grids else None
        houses = q.building_points(conn)
        self.building_codes = np.array([b.code for b in houses], dtype=object)
        self.building_grid = np.array([b.grid_code for b in houses], dtype=object)
        self.building_tree = (shapely.STRtree(shapely.points([b.lon for b in houses], [b.lat for b in houses]))
                              if houses else None)

    def default_department(self, category: Category, district_code: str) -> str | None:
        """Return the department a category goes to in a district (a city-level one if it has none)."""
        return (self._default_department.get((category.department_kind, district_code))
                or self._default_department.get((category.department_kind, None)))

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Return the grid code under each point (None outside every grid)."""
        out = np.full(len(lon), None, dtype=object)
        if self.grid_tree is None or len(lon) == 0:
            return out
        points, hits = shapely.points(lon, lat), None
        hits = self.grid_tree.query(points, predicate="intersects")
        # A point on a shared border touches two grids: take the first (lowest code).
        first = np.unique(hits[0], return_index=True)[1]
        out[hits[0][first]] = self.grid_codes[hits[1][first]]
        return out

    def buildings(self, lon: np.ndarray, lat: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """Return the building within about 50 m of each point in the same grid (None if none)."""
        out = np.full(len(lon), None, dtype=object)
        if self.building_tree is None or len(lon) == 0:
            return out
        idx_in, idx_tree = self.building_tree.query_nearest(shapely.points(lon, lat), max_distance=BUILDING_RADIUS_DEG,
                                                            all_matches=False)
        same = self.building_grid[idx_tree] == grid[idx_in]
        out[idx_in[same]] = self.building_codes[idx_tree[same]]
        return out


class Recent:
    """Answers remembered for RECHECK_S seconds (at most 1,000 of them), then looked up again."""

    def __init__(self):
        self._known: dict = {}

    def get(self, key, look):
        """Return the remembered answer for ``key``, or ``look()``'s (and remember it)."""
        now = time.monotonic()
        known = self._known.get(key)
        if known is not None and now - known[1] < RECHECK_S:
            return known[0]
        value = look()
        if len(self._known) >= 1000:
            self._known.clear()
        self._known[key] = (value, now)
        return value


@dataclass(eq=False)
class _Ticket:
    """One submit() waiting for the write lock, and how it ended."""

    records: list
    actor: str
    naive_is_local: bool
    scope: Scope | None
    audit_from: str | None
    receipts: list[Receipt] | None = None
    error: BaseException | None = None
    done: bool = False


class Ingestor:
    """The one writer of a store: validates, writes, and keeps the projections and versions in step."""

    def __init__(self, engine: Engine, *, tz: ZoneInfo, now, calendar: WorkCalendar | None = None):
        self.engine = engine
        self.tz = tz
        self.now = now  # a callable: naive local time now
        self.clock = SlaClock(calendar or WorkCalendar())
        self._lock = threading.Lock()
        self._reference: Reference | None = None
        self._reference_checked = 0.0
        self._tokens = Recent()  # token digest -> its name (None: not a valid token)
        self._scopes = Recent()  # token name -> its scope
        # Called with (data version, data time, grid codes) after each write commits: the live hub.
        self.listeners: list = []
        self._written: list[tuple[int, datetime, set[str]]] = []
        self._queue: list[_Ticket] = []  # requests waiting for the write lock (submit: group commit)
        self._queue_lock = threading.Lock()

    @property
    def write_lock(self) -> threading.Lock:
        """The store's one write lock: every write of this process (sessions and audit too) takes it."""
        return self._lock

    # -- reading ----------------------------------------------------------------------------------------
    def reference(self, conn) -> Reference:
        """Return the lookups, reloaded when a city imports its own areas (looked for every few seconds)."""
        checked = time.monotonic()
        if self._reference is not None and checked - self._reference_checked < RECHECK_S:
            return self._reference
        version = q.areas_version(conn)
        if self._reference is None or self._reference.version != version:
            self._reference = Reference(conn, version)
        self._reference_checked = checked
        return self._reference

    def event(self, event_id: int, *, scope: Scope) -> dict:
        """Return one event as the API shows it: its fields, SLA light and log."""
        with self.engine.connect() as conn:
            row = q.event_row(conn, scope=scope, event_id=event_id)
            if row is None:
                raise NotFound(f"no event {event_id} in this scope")
            ref = self.reference(conn)
            log = q.event_log_rows(conn, event_id=event_id)
            return self._view(row, ref, log, conn)

    def find(self, source: str, external_id: str, *, scope: Scope) -> dict:
        """Return the event a system sent as (source, id), as the API shows it."""
        with self.engine.connect() as conn:
            found = q.existing_ids(conn, keys=[(source, external_id.strip())])
        unknown = NotFound(f"no event from {source} with id {external_id[:64]!r} in this scope")
        if not found:
            raise unknown
        try:
            return self.event(next(iter(found.values())), scope=scope)
        except NotFound:
            raise unknown from None  # another area's event answers exactly as one never sent

    def _view(self, row, ref: Reference, log, conn) -> dict:
        category = ref.categories.get(row.category_code)
        state = self._state(row, conn)  # with the connection: a parked case's pause is read from its log
        used = self.clock.used(state, self.now(), category.limit.unit) if category else None
        iso = self._iso
        return {
            "event_id": row.id, "id": row.external_id, "source": row.source, "category": row.category_code,
            "status": row.status, "reported_at": iso(row.reported_at), "lat": row.lat, "lon": row.lon,
            "grid_code": row.grid_code, "building_code": row.building_code, "description": row.description,
            "reporter": row.reporter, "department": row.department_code, "worker": row.worker_id,
            **{f: iso(getattr(row, f)) for f in STAMP_FIELDS + ("deadline_at", "updated_at")},
            "extension_count": row.extension_count, "return_count": row.return_count, "rework_count": row.rework_count,
            "is_parked": bool(row.is_parked), "is_void": bool(row.is_void),
            "sla": {"limit": {"value": category.limit.value, "unit": category.limit.unit} if category else None,
                    "used": None if used is None else round(used, 4), "light": traffic_light(used)},
            "log": [{"at": iso(r.occurred_at), "action": r.action, "from": r.from_status, "to": r.to_status,
                     "actor": r.actor, "note": r.note, "department": r.department_code,
                     "deadline_at": iso(r.deadline_at)} for r in log],
            "desk": self._marks(row, conn),
        }

    def _marks(self, row, conn) -> dict:
        """Return the desk's marks on an event (docs/desk.md) and its whistle calls, by department."""
        iso = self._iso
        calls = desk_queries.calls_of(conn, ids=[row.id]).get(row.id, {})
        return {
            "urge_count": getattr(row, "urge_count", None) or 0,
            "last_urged_at": iso(getattr(row, "last_urged_at", None)),
            **{name: iso(getattr(row, name, None)) for name in (
                "supervised_until", "extension_requested_at", "extension_requested_until", "whistled_at")},
            "whistle_calls": [{"department": c.department_code, "called_at": iso(c.called_at), "called_by": c.called_by,
                               "answered_at": iso(c.answered_at), "answer": c.answer} for c in calls.values()],
        }

    def _iso(self, value: datetime | None) -> str | None:
        return None if value is None else value.replace(tzinfo=self.tz).isoformat()

    # -- a batch of new events -------------------------------------------------------------------------
    def submit(self, records, *, actor: str, naive_is_local: bool = False, scope: Scope | None = None,
               audit_from: str | None = None) -> list[Receipt]:
        """Validate and store ``records`` (all or nothing, committed before returning); one receipt each.

        ``naive_is_local`` accepts timestamps without an offset as the city's local time (imports);
        ``scope``, when given, is the area the sender may report for: an event outside it is refused.
        ``audit_from`` (the caller's address) writes the request's audit row in the same transaction.
        """
        if not isinstance(records, list):
            raise IngestRefused([Problem(0, "", "expected an event object or a list of them")])
        if len(records) > MAX_BATCH:
            raise IngestRefused([Problem(0, "", f"a batch holds at most {MAX_BATCH} events, this one {len(records)}")])
        if not records:
            raise IngestRefused([Problem(0, "", "the batch is empty")])
        ticket = _Ticket(records, str(actor), naive_is_local, scope, audit_from)
        with self._queue_lock:
            self._queue.append(ticket)
        with self._lock:
            # Whoever holds the lock writes every request queued meanwhile, in one transaction: at fifty
            # single-event requests a second, each no longer waits for its own commit (group commit).
            if not ticket.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._write_group(group)
        if ticket.error is not None:
            raise ticket.error
        return ticket.receipts

    def _write_group(self, group: list["_Ticket"]) -> None:
        """Write the queued requests (under the write lock): together when they can be, else one by one."""
        try:
            if len(group) > 1:
                try:
                    self._write_together(group)
                    return
                except q.DuplicateKey:
                    pass  # a resend among them: each alone, the way that handles it
                except BaseException as error:  # the store failed: no request of the group is acknowledged
                    for ticket in group:
                        ticket.error = error
                    return
            for ticket in group:
                try:
                    ticket.receipts = self._submit_alone(ticket)
                except BaseException as error:
                    ticket.error = error
        finally:
            for ticket in group:
                ticket.done = True

    def _write_together(self, group: list["_Ticket"]) -> None:
        """Write the requests of ``group`` in one transaction, their rows in one statement per table.

        Each request is validated on its own; a refused one is left out (it wrote nothing). A resend
        (a (source, id) stored before, or twice in the group) raises DuplicateKey: the caller then
        writes each alone.
        """
        with self.engine.connect() as conn:
            try:
                now = self.now()
                ref = self.reference(conn)
                plans = []
                for ticket in group:
                    actor = ticket.actor[:MAX_ACTOR]
                    try:
                        _, _, built = self._plan(conn, ticket.records, actor=actor, naive_is_local=ticket.naive_is_local,
                                                 lines=None, keys={}, optimistic=True, scope=ticket.scope, now=now,
                                                 ref=ref)
                    except IngestRefused as refused:
                        ticket.error = refused
                        continue
                    plans.append((ticket, actor, built))
                keys = [(p.source, p.external_id) for _, _, built in plans for p, _, _ in built]
                if len(set(keys)) < len(keys):  # two requests of the group send the same event
                    raise q.DuplicateKey("the same (source, id) twice in one group")
                counts = [(len(built), sum(1 + len(steps) for _, _, steps in built)) for _, _, built in plans]
                ids, log_ids = _draw(conn, {event_id_seq: sum(n for n, _ in counts),
                                            event_log_id_seq: sum(n for _, n in counts)}, {})
                rows, log_rows, at_event, at_log = [], [], 0, 0
                for (ticket, actor, built), (n_events, n_logs) in zip(plans, counts):
                    mine = ids[at_event:at_event + n_events]
                    ticket_rows, ticket_logs = self._rows(built, mine, log_ids[at_log:at_log + n_logs], actor) \
                        if built else ([], [])
                    rows += ticket_rows
                    log_rows += ticket_logs
                    at_event, at_log = at_event + n_events, at_log + n_logs
                    ticket.receipts = [Receipt(p.index, event_id, p.source, p.external_id, True, state.status)
                                       for (p, state, _), event_id in zip(built, mine)]
                if rows:
                    q.insert_events(conn, rows, log_rows)
                    q.add_projections(conn, rows)
                    version = q.mark_written(conn, now=now)
                    self._written.append((version, now, {r["grid_code"] for r in rows}))
                    for ticket, _, _ in plans:
                        ticket.receipts = [replace(r, version=version) for r in ticket.receipts]
                for ticket, _, _ in plans:
                    self._audit_report(conn, ticket, ticket.receipts)
                conn.commit()
            except BaseException:
                conn.rollback()
                self._written.clear()
                for ticket in group:
                    ticket.receipts = ticket.error = None
                raise
        self._announce()

    def _submit_alone(self, ticket: "_Ticket") -> list[Receipt]:
        """Write one request in its own transaction (the caller holds the write lock)."""
        records, actor, scope = ticket.records, ticket.actor, ticket.scope
        with self.engine.connect() as conn:
            # Most batches are new: insert straight away and let the unique (source, id) index catch a
            # resend, instead of scanning for every key first; on a duplicate, start again and look.
            taken: dict = {}
            try:
                receipts = self._write(conn, records, actor=actor, naive_is_local=ticket.naive_is_local, lines=None,
                                       keys={}, optimistic=True, taken=taken, scope=scope)
            except q.DuplicateKey:
                conn.rollback()
                self._written.clear()
                # Sequences do not roll back: hand the ids already drawn to the second attempt, so a
                # resend leaves no gap in the numbering.
                taken = {(name, "reuse"): ids for name, ids in taken.items() if isinstance(name, str)}
                receipts = self._write(conn, records, actor=actor, naive_is_local=ticket.naive_is_local, lines=None,
                                       keys={}, taken=taken, scope=scope)
            self._audit_report(conn, ticket, receipts)
            conn.commit()
            version = self._written[-1][0] if self._written else None
            self._announce()
        return [replace(r, version=version) for r in receipts]

    def _audit_report(self, conn, ticket: "_Ticket", receipts: list[Receipt]) -> None:
        if ticket.audit_from is not None:
            created = sum(r.created for r in receipts)
            audit_queries.audit(conn, at=self.now(), actor=ticket.actor, action="events.report", outcome="ok",
                                target=_ids(r.id for r in receipts), source=ticket.audit_from,
                                detail=f"{created} created, {len(receipts) - created} existing")

    def import_chunks(self, chunks, *, actor: str, progress=None) -> tuple[int, int]:
        """Store every record of ``chunks`` ((lines, records) pairs) in one transaction, or none.

        Problems are numbered by file line; every chunk is checked even after a problem, so the
        caller hears of all of them. Return (created, already stored).
        """
        problems: list[Problem] = []
        created = existing = 0
        keys: dict[tuple[str, str], int] = {}
        with self._lock, self.engine.connect() as conn:
            for lines, records in chunks:
                try:
                    receipts = self._write(conn, records, actor=actor, naive_is_local=True, lines=lines,
                                           keys=keys, check_only=bool(problems))
                except IngestRefused as refused:
                    problems.extend(refused.problems)
                else:
                    created += sum(r.created for r in receipts)
                    existing += sum(not r.created for r in receipts)
                if progress is not None:
                    progress(len(records))
            if problems:
                conn.rollback()
                self._written.clear()
                raise IngestRefused(problems)
            conn.commit()
            self._announce()
        return created, existing

    def _write(self, conn, records: list, *, actor: str, naive_is_local: bool, lines: list[int] | None,
               keys: dict, check_only: bool = False, optimistic: bool = False,
               taken: dict | None = None, scope: Scope | None = None) -> list[Receipt]:
        """Validate and write ``records`` inside the caller's transaction; raise IngestRefused."""
        actor = str(actor)[:MAX_ACTOR]
        now = self.now()
        ref = self.reference(conn)
        prepared, seen, built = self._plan(conn, records, actor=actor, naive_is_local=naive_is_local, lines=lines,
                                           keys=keys, optimistic=optimistic, scope=scope, now=now, ref=ref)
        if check_only:
            return []
        receipts: dict[int, Receipt] = {}
        statuses = q.statuses(conn, ids=list(seen.values())) if seen else {}
        for p in prepared:
            if (p.source, p.external_id) in seen:
                event_id = seen[(p.source, p.external_id)]
                receipts[p.index] = Receipt(p.index, event_id, p.source, p.external_id, False, statuses.get(event_id, ""))
        if built:
            taken = {} if taken is None else taken
            n_log = sum(1 + len(steps) for _, _, steps in built)
            ids, log_ids = _draw(conn, {event_id_seq: len(built), event_log_id_seq: n_log}, taken)
            rows, log_rows = self._rows(built, ids, log_ids, actor)
            q.insert_events(conn, rows, log_rows)
            q.add_projections(conn, rows)
            self._written.append((q.mark_written(conn, now=now), now, {r["grid_code"] for r in rows}))
            for (p, state, _), event_id in zip(built, ids):
                receipts[p.index] = Receipt(p.index, event_id, p.source, p.external_id, True, state.status)
        return [receipts[p.index] for p in prepared]

    def _plan(self, conn, records: list, *, actor: str, naive_is_local: bool, lines, keys: dict, optimistic: bool,
              scope: Scope | None, now: datetime, ref: Reference):
        """Validate ``records`` and replay their lifecycles (nothing written); return (prepared, seen, built)."""
        prepared, problems = self._validate(records, ref, now, naive_is_local, lines, keys)
        if scope is not None and not problems:
            # Without the foreign grid's code: a sender learns nothing of the areas outside its own.
            problems = [Problem(p.index, "grid_code" if p.lat is None else "lat",
                                f"lies outside the area {scope.area_code} this sender may report for")
                        for p in prepared if not scope.covers(p.grid_code)]
        if problems:
            raise IngestRefused(problems)
        seen = {} if optimistic else q.existing_ids(conn, keys=[(p.source, p.external_id) for p in prepared])
        fresh = [p for p in prepared if (p.source, p.external_id) not in seen]
        built, problems = self._build(fresh, ref, now, actor)
        if problems:
            raise IngestRefused(problems)
        return prepared, seen, built

    def _validate(self, records, ref: Reference, now: datetime, naive_is_local: bool, lines, keys: dict):
        prepared: list[Prepared] = []
        problems: list[Problem] = []
        for offset, record in enumerate(records):
            index = lines[offset] if lines is not None else offset
            found = check_record(record, ref, now, self.tz, naive_is_local)
            if isinstance(found, list):
                problems.extend(Problem(index, f, r) for f, r in found)
                continue
            found.index = index
            key = (found.source, found.external_id)
            if key in keys:
                where = "line" if naive_is_local else "record"
                problems.append(Problem(index, "id", f"the same (source, id) as {where} {keys[key]}"))
                continue
            keys[key] = index
            prepared.append(found)
        # Locations: one vectorised lookup for the whole batch. A grid_code given with a point must agree
        # with it, or the map and the grid's figures would disagree.
        need = [p for p in prepared if p.lat is not None]
        if need:
            grids = ref.locate(np.array([p.lon for p in need]), np.array([p.lat for p in need]))
            for p, grid in zip(need, grids):
                if grid is None:
                    problems.append(Problem(p.index, "lat", f"({p.lat}, {p.lon}) lies outside every grid of the city"))
                elif p.grid_code is not None and grid != p.grid_code:
                    problems.append(Problem(p.index, "grid_code", f"({p.lat}, {p.lon}) lies in grid {grid}, "
                                                                  f"not in {p.grid_code}"))
                p.grid_code = p.grid_code or grid
        return prepared, sorted(problems, key=lambda x: x.index)

    def _build(self, fresh: list[Prepared], ref: Reference, now: datetime, actor: str):
        """Replay each record's lifecycle through the loop; return [(prepared, state, steps)] or problems."""
        built, problems = [], []
        for p in fresh:
            district = p.grid_code[:6]
            department = p.department
            if department is None and p.times.get("dispatched_at") is not None:
                department = ref.default_department(p.category, district)
                if department is None:
                    problems.append(Problem(p.index, "department", "dispatched, but no department given and none "
                                                                   f"handles {p.category.department_kind} here"))
                    continue
            steps = steps_from_stamps(p.times, department_code=department, actor=actor)
            last = max((s.at for s in steps), default=p.times["reported_at"])
            if p.status == "void":
                steps.append(Transition("void", last, actor=actor))
            elif p.status == "parked":
                steps.append(Transition("park", last, actor=actor))
            try:
                state = replay(p.source, p.times["reported_at"], steps, limit=p.category.limit, clock=self.clock, now=now)
            except Refused as refused:
                problems.append(Problem(p.index, _field_of(refused), refused.reason))
                continue
            if p.status is not None and p.status != state.status:
                problems.append(Problem(p.index, "status", _status_mismatch(p.status, state.status)))
                continue
            if p.times.get("deadline_at") is not None and state.dispatched_at is None:
                problems.append(Problem(p.index, "deadline_at", "a deadline needs dispatched_at: the clock runs "
                                                                "from dispatch"))
                continue
            if department is not None and state.department_code is None:
                state = replace(state, department_code=department)
            built.append((p, state, steps))
        return built, problems

    def _rows(self, built, ids: list[int], log_ids: list[int], actor: str) -> tuple[list[dict], list[dict]]:
        """Return the events rows and event_log rows (ids assigned) of the records built."""
        ref = self._reference
        lon = np.array([p.lon if p.lon is not None else np.nan for p, _, _ in built], dtype=float)
        lat = np.array([p.lat if p.lat is not None else np.nan for p, _, _ in built], dtype=float)
        grid = np.array([p.grid_code for p, _, _ in built], dtype=object)
        located = ~np.isnan(lon)
        house = np.full(len(built), None, dtype=object)
        if located.any():
            house[located] = ref.buildings(lon[located], lat[located], grid[located])
        cells = _cells(lat, lon, grid, ref)
        rows, log_rows = [], []
        for (p, s, steps), event_id, building, cell in zip(built, ids, house, cells):
            rows.append({
                "id": event_id, "source": p.source, "external_id": p.external_id, "category_code": p.category.code,
                "class_code": p.category.class_code, "urgent": p.category.urgent, "description": p.description,
                "reporter": p.reporter, "lat": p.lat, "lon": p.lon, "district_code": p.grid_code[:6],
                "street_code": p.grid_code[:9], "community_code": p.grid_code[:12], "grid_code": p.grid_code,
                "building_code": building, "status": s.status, "reported_at": s.reported_at,
                "accepted_at": s.accepted_at, "verified_at": s.verified_at, "registered_at": s.registered_at,
                "dispatched_at": s.dispatched_at, "handled_at": s.handled_at, "checked_at": s.checked_at,
                "closed_at": s.closed_at, "deadline_at": s.deadline_at, "department_code": s.department_code,
                "worker_id": p.worker, "extension_count": s.extension_count, "return_count": s.return_count,
                "rework_count": s.rework_count, "is_parked": s.is_parked, "is_void": s.is_void,
                "updated_at": s.updated_at, "clock_started_at": s.clock_started_at, "h3": cell,
            })
            log_rows.extend(_log_rows(event_id, p, steps, self.clock, actor))
        for row, log_id in zip(log_rows, log_ids):
            row["id"] = log_id
        return rows, log_rows

    # -- one step along the loop -----------------------------------------------------------------------
    def transition(self, event_id: int, payload, *, actor: str, scope: Scope, audit_from: str | None = None) -> dict:
        """Apply one step to event ``event_id`` and return the event as the API shows it.

        ``audit_from`` (the caller's address) writes the step's audit row in the same transaction.
        """
        step_input = check_step(payload, self.tz)
        if isinstance(step_input, list):
            raise IngestRefused([Problem(0, f, r) for f, r in step_input])
        with self._lock, self.engine.connect() as conn:
            now = self.now()
            row = q.event_row(conn, scope=scope, event_id=event_id)
            if row is None:
                raise NotFound(f"no event {event_id} in this scope")
            ref = self.reference(conn)
            category = ref.categories[row.category_code]
            state = self._state(row, conn)
            # Without an 'at' the step happens now, or at the event's last step if a sender's clock ran
            # a little ahead (within the allowed skew) when it reported: never "back in time" by default.
            step = step_input(max(now, state.updated_at), actor)
            if step.deadline_at is not None and step.deadline_at > now + MAX_DEADLINE_AHEAD:
                raise IngestRefused([Problem(0, "deadline_at", f"lies more than {MAX_DEADLINE_AHEAD.days} days after now")])
            if step.action == "dispatch" and not step.department_code:
                step = replace(step, department_code=ref.default_department(category, row.district_code))
            if step.department_code is not None and step.department_code not in ref.departments:
                raise IngestRefused([Problem(0, "department", f"unknown department {step.department_code!r}")])
            try:
                after = apply(state, step, limit=category.limit, clock=self.clock, now=now)
            except Refused as refused:
                raise IngestRefused([Problem(0, refused.field, refused.reason)], conflict=refused.conflict)
            q.update_event(conn, event_id=event_id, values=_state_columns(after))
            q.append_log(conn, [_log_row(event_id, state, after, step)])
            q.replace_projections(conn, {**row._asdict(), **_state_columns(after)})
            self._written.append((q.mark_written(conn, now=now), now, {row.grid_code}))
            if audit_from is not None:
                audit_queries.audit(conn, at=now, actor=str(actor), action=f"event.{step.action}", outcome="ok",
                                    target=str(event_id), source=audit_from, detail=f"now {after.status}")
            conn.commit()
            self._announce()
            # Read back in the event's own district: a step may take it out of the caller's scope (a
            # department passing it to another), and the caller still hears how the step ended.
            row = q.event_row(conn, scope=Scope(row.district_code, DISTRICT), event_id=event_id)
            log = q.event_log_rows(conn, event_id=event_id)
            return self._view(row, ref, log, conn)

    def _announce(self) -> None:
        """Tell the listeners what the transaction just committed wrote (under the write lock, in order)."""
        written, self._written = self._written, []
        if not written:
            return
        version = max(v for v, _, _ in written)
        at = max(at for _, at, _ in written)
        grids = sorted({code for _, _, codes in written for code in codes})
        for listener in self.listeners:
            try:
                listener(version, at, grids)
            except Exception:  # a screen's trouble never fails a write that has committed
                log.exception("a live listener failed")

    def state(self, row, conn) -> EventState:
        """Return the loop's state of an events row (``conn`` reads a parked case's pause from its log)."""
        return self._state(row, conn)

    def record_write(self, conn, *, now: datetime, grids: set[str]) -> int:
        """Advance the data version in the caller's transaction and remember it for ``announce``; return it."""
        version = q.mark_written(conn, now=now)
        self._written.append((version, now, set(grids)))
        return version

    def announce(self) -> None:
        """Tell the live listeners what the last commit wrote (call under the write lock, after commit)."""
        self._announce()

    def forget_writes(self) -> None:
        """Drop what a rolled-back transaction meant to announce."""
        self._written.clear()

    def _state(self, row, conn) -> EventState:
        stamps = [getattr(row, c) for c, _ in STAGES]
        updated = row.updated_at or max(t for t in stamps if t is not None)
        parked_at = parked_from = None
        if row.is_parked and conn is not None:
            park = q.last_park(conn, event_id=row.id)
            if park is not None:
                parked_at, parked_from = park.occurred_at, park.from_status
            parked_from = parked_from or ("dispatched" if row.dispatched_at else "registered")
            parked_at = parked_at or updated
        return EventState(
            source=row.source, status=row.status, reported_at=row.reported_at, updated_at=updated,
            accepted_at=row.accepted_at, verified_at=row.verified_at, registered_at=row.registered_at,
            dispatched_at=row.dispatched_at, handled_at=row.handled_at, checked_at=row.checked_at,
            closed_at=row.closed_at, deadline_at=row.deadline_at, department_code=row.department_code,
            worker_id=row.worker_id, extension_count=row.extension_count, return_count=row.return_count,
            rework_count=row.rework_count, is_parked=bool(row.is_parked), is_void=bool(row.is_void),
            parked_at=parked_at, parked_from=parked_from, clock_started_at=row.clock_started_at,
            # The desk's marks: empty (NULL) in a store from before them means none.
            urge_count=getattr(row, "urge_count", None) or 0, last_urged_at=getattr(row, "last_urged_at", None),
            supervised_until=getattr(row, "supervised_until", None),
            extension_requested_at=getattr(row, "extension_requested_at", None),
            extension_requested_until=getattr(row, "extension_requested_until", None),
            whistled_at=getattr(row, "whistled_at", None),
        )

    # -- tokens ------------------------------------------------------------------------------------------
    def token_scope(self, name: str) -> Scope | None:
        """Return the area a token may report for and read, or None for the whole store (kept RECHECK_S)."""
        def look() -> Scope | None:
            with self.engine.connect() as conn:
                code = tokens.token_scope_code(conn, name=name)
                return None if code is None else Scope(code, scope_area_level(conn, code=code))
        return self._scopes.get(name, look)

    def authenticate(self, token: str | None) -> str | None:
        """Return the name of a valid API token, or None."""
        if not token or len(token) > 200:
            return None
        # Remembered for a few seconds: a revoked token stops working within RECHECK_S.
        def look() -> str | None:
            with self.engine.connect() as conn:
                return tokens.token_name(conn, token=token)
        return self._tokens.get(tokens.digest(token), look)


def authenticate(token: str | None) -> str | None:
    """Return the name of a valid API token for the app serving this request, or None."""
    from dashboard import context

    return context.current().ingestor.authenticate(token)


def _cells(lat: np.ndarray, lon: np.ndarray, grid: np.ndarray, ref: Reference) -> list[int]:
    """Return the H3 cell of each event: of its point, or of its grid's centroid when it has none.

    (An event without a point has no building either: buildings are found by location.)
    """
    missing = np.isnan(lat)
    if missing.any():
        lat, lon = lat.copy(), lon.copy()
        centroids = [ref.grid_centroids[code] for code in grid[missing]]
        lat[missing] = [c[0] for c in centroids]
        lon[missing] = [c[1] for c in centroids]
    return h3_cells(lat, lon).tolist()


def _ids(ids) -> str:
    """Return event ids as "1,2,3" for an audit row's target (at most 128 characters)."""
    text = ",".join(str(i) for i in ids)
    return text if len(text) <= 128 else text[:120].rsplit(",", 1)[0] + ",…"


def _draw(conn, counts: dict, taken: dict) -> list[list[int]]:
    """Return ids of each sequence in ``counts``: first the unused ones of a rolled-back attempt, then new ones.

    ``taken`` maps a sequence's name to the ids drawn so far, and ``(name, "reuse")`` to those a
    rolled-back attempt drew and this one may use again. New ones come in one round trip.
    """
    out, missing = {}, {}
    for sequence, count in counts.items():
        reuse = taken.setdefault((sequence.name, "reuse"), [])
        out[sequence.name] = reuse[:count]
        del reuse[:count]
        missing[sequence] = count - len(out[sequence.name])
    if any(missing.values()):
        for name, ids in q.next_ids_of(conn, missing).items():
            out[name] += ids
    for name, ids in out.items():
        taken.setdefault(name, []).extend(ids)
    return [out[sequence.name] for sequence in counts]


def _field_of(refused: Refused) -> str:
    """Name the record field behind a refused replay: the stamp (or status) of the step that failed."""
    step = refused.step
    if step is None or refused.field not in ("at", "action"):
        return refused.field
    if step.action in ("void", "park"):
        return "status"
    return next((column for column, action in STAGE_ACTION.items() if action == step.action), refused.field)


def _status_mismatch(given: str, reached: str) -> str:
    return (f"status {given!r} does not match the timestamps, which reach {reached!r}: give the timestamp of "
            f"each step up to {given!r}")


def _state_columns(state: EventState) -> dict:
    return {name: getattr(state, name) for name in (
        "status", "accepted_at", "verified_at", "registered_at", "dispatched_at", "handled_at", "checked_at",
        "closed_at", "deadline_at", "department_code", "extension_count", "return_count", "rework_count",
        "is_parked", "is_void", "updated_at", "clock_started_at") + MARK_COLUMNS}


# The desk's marks, as columns of events and open_events (docs/desk.md).
MARK_COLUMNS = ("urge_count", "last_urged_at", "supervised_until", "extension_requested_at",
                "extension_requested_until", "whistled_at")


def _log_row(event_id: int, before: EventState, after: EventState, step: Transition) -> dict:
    """Return the event_log row of ``step``; its department and deadline are what the step decided.

    The marks keep the time they name in deadline_at (a follow-up, a deadline asked for) and a report
    back the department that answered in department_code (docs/desk.md).
    """
    decided = step.action in ("dispatch", "extend", "unpark", "rework", "return")
    department = after.department_code if decided else None
    deadline = after.deadline_at if decided else None
    if step.action in ("supervise", "ask_extension"):
        deadline = step.until
    elif step.action == "report_back":
        department = step.department_code
    return {"event_id": event_id, "occurred_at": step.at, "action": step.action, "from_status": before.status,
            "to_status": after.status, "actor": step.actor, "note": step.note,
            "department_code": department, "deadline_at": deadline}


def _log_rows(event_id: int, p: Prepared, steps: list[Transition], clock: SlaClock, actor: str | None) -> list[dict]:
    """Return the log of a new event: its report, then each step its timestamps stand for."""
    state = EventState(source=p.source, status="reported", reported_at=p.times["reported_at"],
                       updated_at=p.times["reported_at"])
    rows = [{"event_id": event_id, "occurred_at": state.reported_at, "action": "report", "from_status": None,
             "to_status": "reported", "actor": actor, "note": None,
             "department_code": None, "deadline_at": None}]
    for step in steps:
        after = apply(state, step, limit=p.category.limit, clock=clock, now=datetime.max - timedelta(days=1))
        rows.append(_log_row(event_id, state, after, step))
        state = after
    return rows


__all__ = ["Ingestor", "IngestRefused", "MARK_COLUMNS", "NotFound", "Problem", "Receipt", "authenticate"]
