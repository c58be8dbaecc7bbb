"""The store's tables, in SQLAlchemy Core, for the embedded DuckDB store and for PostgreSQL.

All timestamps are naive wall-clock times in the city's time zone (Asia/Shanghai by default; China
has had no daylight saving since 1991), so a day bucket is a plain ``date_trunc('day', ...)`` on
either engine. The API converts to and from ISO 8601 with an explicit offset at the edge.

Events are appended in ``reported_at`` order: DuckDB prunes time windows by its zone maps, so the
table needs no secondary index there. PostgreSQL gets btree indexes (see ``_pg_only``).
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    Sequence,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# Levels of the hierarchy; the code length of each follows DOMAIN.md §1.
CITY, DISTRICT, STREET, COMMUNITY, GRID, BUILDING = range(6)
LEVEL_NAMES = ("city", "district", "street", "community", "grid", "building")
CODE_LENGTHS = {CITY: 6, DISTRICT: 6, STREET: 9, COMMUNITY: 12, GRID: 15, BUILDING: 18}

# Event statuses along the closed loop (DOMAIN.md §4), plus the two terminal exceptions.
STATUSES = (
    "reported", "accepted", "verified", "registered", "dispatched",
    "handled", "checked", "closed", "void", "parked",
)
SOURCES = ("grid_worker", "hotline", "citizen", "iot", "video_ai", "other")
LIMIT_UNITS = ("hours", "work_hours", "work_days")
H3_RESOLUTION = 11  # of events.h3: cells of about 2,150 m²; coarser ones are its parents (queries/sqlfuncs.h3_parent)


def _pg_only(index: Index) -> Index:
    """Create ``index`` on PostgreSQL only: DuckDB scans by zone maps and ART indexes slow its loads."""
    return index.ddl_if(dialect="postgresql")


areas = Table(
    "areas",
    metadata,
    Column("code", String(15), primary_key=True),
    Column("level", SmallInteger, nullable=False),
    Column("name", String(64), nullable=False),
    Column("parent_code", String(15)),
    Column("kind", String(16)),  # 街道 / 镇 / 乡, 居委会 / 村委会, 网格 …
    Column("households", Integer, nullable=False, default=0),
    Column("population", Integer, nullable=False, default=0),
    Column("area_m2", Double, nullable=False, default=0.0),
    Column("centroid_lat", Double, nullable=False),
    Column("centroid_lon", Double, nullable=False),
    Column("min_lat", Double, nullable=False),
    Column("min_lon", Double, nullable=False),
    Column("max_lat", Double, nullable=False),
    Column("max_lon", Double, nullable=False),
    Column("geometry", Text, nullable=False),  # GeoJSON geometry, lon/lat, 5 decimals
)
_pg_only(Index("ix_areas_parent", areas.c.parent_code))

buildings = Table(
    "buildings",
    metadata,
    Column("code", String(18), primary_key=True),  # grid code + 3-digit sequence
    Column("grid_code", String(15), nullable=False),
    Column("name", String(64), nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("footprint", Text),  # optional GeoJSON polygon
    Column("households", Integer, nullable=False, default=0),
    Column("floors", SmallInteger, nullable=False, default=1),
)
_pg_only(Index("ix_buildings_grid", buildings.c.grid_code))

departments = Table(
    "departments",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("kind", String(32), nullable=False),  # the department type categories are routed to
    Column("district_code", String(6)),  # null for a city-level department
)

categories = Table(
    "categories",
    metadata,
    Column("code", String(4), primary_key=True),  # 2-digit class + 2-digit subclass
    Column("class_code", String(2), nullable=False),
    Column("class_name", String(32), nullable=False),
    Column("name", String(64), nullable=False),
    Column("limit_value", Double, nullable=False),
    Column("limit_unit", String(16), nullable=False),  # one of LIMIT_UNITS
    Column("urgent", Boolean, nullable=False, default=False),
    Column("department_kind", String(32), nullable=False),
    Column("source_of_limit", String(128)),
)

workers = Table(
    "workers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(32), nullable=False),
    Column("phone", String(20)),
    Column("kind", String(16), nullable=False),  # full_time / part_time
    Column("grid_code", String(15), nullable=False),
)

def _desk_marks() -> list[Column]:
    """Return the backlog desk's marks on a case (issue 6; docs/desk.md), kept on events and open_events alike.

    Nullable: a store from before them gets the columns added empty, and readers take empty as "none".
    """
    return [
        Column("urge_count", SmallInteger),  # 催办: how often the handler was urged
        Column("last_urged_at", DateTime),
        Column("supervised_until", DateTime),  # 督办: under supervision, next follow-up due at this time
        Column("extension_requested_at", DateTime),  # a department's pending request for more time (申请延期)
        Column("extension_requested_until", DateTime),  # the deadline the request asks for
        Column("whistled_at", DateTime),  # 吹哨: escalated to the district; whistle_calls says to whom
    ]


event_id_seq = Sequence("events_id_seq")
events = Table(
    "events",
    metadata,
    Column("id", BigInteger, event_id_seq, primary_key=True),
    Column("source", String(16), nullable=False),
    Column("external_id", String(64)),
    Column("category_code", String(4), nullable=False),
    Column("class_code", String(2), nullable=False),
    Column("urgent", Boolean, nullable=False, default=False),
    Column("description", Text),  # stored as written; every screen shows it escaped
    Column("reporter", Text),  # who reported it (name / phone): personal data, masked on screen
    Column("lat", Double),
    Column("lon", Double),
    Column("district_code", String(6), nullable=False),
    Column("street_code", String(9), nullable=False),
    Column("community_code", String(12), nullable=False),
    Column("grid_code", String(15), nullable=False),
    Column("building_code", String(18)),
    Column("status", String(16), nullable=False),
    Column("reported_at", DateTime, nullable=False),
    Column("accepted_at", DateTime),
    Column("verified_at", DateTime),
    Column("registered_at", DateTime),
    Column("dispatched_at", DateTime),
    Column("handled_at", DateTime),
    Column("checked_at", DateTime),
    Column("closed_at", DateTime),
    Column("deadline_at", DateTime),
    Column("department_code", String(16)),
    Column("worker_id", Integer),
    Column("extension_count", SmallInteger, nullable=False, default=0),
    Column("return_count", SmallInteger, nullable=False, default=0),
    Column("rework_count", SmallInteger, nullable=False, default=0),
    Column("is_parked", Boolean, nullable=False, default=False),
    Column("is_void", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime),  # the time of the latest step in the log
    Column("clock_started_at", DateTime),  # the running limit's start, moved on by pauses (dashboard/loop.py)
    # The H3 cell (resolution H3_RESOLUTION, as an integer) of the event's point, or of its building's or
    # grid's centroid when it came without one: what the heat layer counts (docs/heat.md).
    Column("h3", BigInteger),
    *_desk_marks(),
    UniqueConstraint("source", "external_id", name="uq_events_source_external"),
)
_pg_only(Index("ix_events_reported", events.c.reported_at))
_pg_only(Index("ix_events_closed", events.c.closed_at))
_pg_only(Index("ix_events_grid", events.c.grid_code))

# The current state: every event open at store_meta 'state_as_of' (not closed, not void). A small
# table (tens of thousands of rows against millions of events) answers "open / overdue now" in
# about a millisecond instead of scanning every event; queries fall back to events for an earlier
# as_of. Whoever writes events keeps it in step (queries/state.py).
open_events = Table(
    "open_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("category_code", String(4), nullable=False),
    Column("class_code", String(2), nullable=False),
    Column("urgent", Boolean, nullable=False, default=False),
    Column("district_code", String(6), nullable=False),
    Column("street_code", String(9), nullable=False),
    Column("community_code", String(12), nullable=False),
    Column("grid_code", String(15), nullable=False),
    Column("building_code", String(18)),
    Column("status", String(16), nullable=False),
    Column("reported_at", DateTime, nullable=False),
    Column("dispatched_at", DateTime),
    Column("handled_at", DateTime),
    Column("deadline_at", DateTime),
    Column("department_code", String(16)),
    Column("is_parked", Boolean, nullable=False, default=False),
    Column("clock_started_at", DateTime),
    *_desk_marks(),
)

# Closures in the order they happened: one row per closed (non-void) event. Events are stored in
# report order, and a case can close months after it was reported, so a "closed in the last 30 days"
# scan of events touches a third of the table; this projection, appended at close, reads only the
# window. It also keeps what the closed figures need ready: on time or not, and the handling minutes.
closures = Table(
    "closures",
    metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("closed_at", DateTime, nullable=False),
    Column("reported_at", DateTime, nullable=False),
    Column("category_code", String(4), nullable=False),
    Column("class_code", String(2), nullable=False),
    Column("district_code", String(6), nullable=False),
    Column("street_code", String(9), nullable=False),
    Column("community_code", String(12), nullable=False),
    Column("grid_code", String(15), nullable=False),
    Column("building_code", String(18)),
    Column("department_code", String(16)),
    Column("on_time", Boolean, nullable=False),  # handled by the deadline
    Column("handling_minutes", Integer),  # whole minutes from dispatch to handled
    # What the SLA page counts per closed case without going back to events (issue 6; docs/sla.md).
    # Nullable: filled for a store from before them by the upgrade's backfill.
    Column("handled_at", DateTime),
    Column("deadline_at", DateTime),
    Column("extension_count", SmallInteger),
    Column("return_count", SmallInteger),
    Column("rework_count", SmallInteger),
)
_pg_only(Index("ix_closures_closed", closures.c.closed_at))

event_log_id_seq = Sequence("event_log_id_seq")
event_log = Table(
    "event_log",
    metadata,
    Column("id", BigInteger, event_log_id_seq, primary_key=True),
    Column("event_id", BigInteger, nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("actor", String(64)),
    Column("note", Text),
    # The state the step left behind that the step itself decided: where it was dispatched, and the
    # deadline after it (dispatch, extension, unpark, rework). Null where the step changed neither.
    Column("department_code", String(16)),
    Column("deadline_at", DateTime),
)
_pg_only(Index("ix_event_log_event", event_log.c.event_id))

# Systems that push events authenticate with a bearer token; only its SHA-256 is stored.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("scope_code", String(16)),  # the area it may report for and read; null = the whole store
)

# People who sign in (issue 4). A scope is one area of the hierarchy (scope_kind 'area', scope_code an
# area code) or a department ('department', its code). Passwords are stored as argon2id hashes only.
users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("display_name", String(64), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("scope_kind", String(16), nullable=False),
    Column("scope_code", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_sign_ins", SmallInteger, nullable=False, default=0),
    Column("locked_until", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("password_changed_at", DateTime, nullable=False),
    # Set when an administrator gave the user a one-time password: they must choose their own first.
    Column("must_change_password", Boolean),
)

# Signed-in browser sessions (issue 4). The cookie carries a random id; only its SHA-256 is stored, so a
# copy of the store opens no session. A session ends on sign-out, when it is idle or old, or when its
# user is disabled, changes password or role (the fingerprint no longer matches).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("fingerprint", String(32), nullable=False),  # of the user's hash, role and scope at sign-in
    Column("created_at", DateTime, nullable=False),
    Column("seen_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Column("source", String(64)),
    Column("public_wall", Boolean, nullable=False, default=False),  # masks everything personal
)

# Append-only: who did what, when, from where, and how it ended. Nothing updates or deletes a row.
audit_log_id_seq = Sequence("audit_log_id_seq")
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, audit_log_id_seq, primary_key=True),
    Column("occurred_at", DateTime, nullable=False),
    Column("actor", String(64), nullable=False),  # a user's name, a token's name, or 'cli:<os user>'
    Column("action", String(32), nullable=False),  # sign_in, user.add, user.disable, …
    Column("target", String(128)),
    Column("outcome", String(16), nullable=False),  # ok / refused / locked
    Column("source", String(64)),  # the client's address, or 'cli'
    Column("detail", Text),
)
_pg_only(Index("ix_audit_log_occurred", audit_log.c.occurred_at))

# Urgent events' alerts that someone signed for (签收): one row per event, the first acknowledgement.
# The banner of every screen shows the urgent events of its scope that have none yet (issue 5 §3).
alert_acks = Table(
    "alert_acks",
    metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_name", String(64), nullable=False),
    Column("acknowledged_at", DateTime, nullable=False),
)

# 吹哨报到 (issue 6): a case escalated to the district names the departments that must report back;
# one row per department called, answered when it reports (报到).
whistle_calls = Table(
    "whistle_calls",
    metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("department_code", String(16), primary_key=True),
    Column("called_at", DateTime, nullable=False),
    Column("called_by", String(64), nullable=False),
    Column("answered_at", DateTime),
    Column("answer", Text),
)

# Alerts raised by the rules (issue 6 §3; docs/alerts.md): one row per firing of a rule for one key
# (a street, a case), and one row per attempt to deliver it to a webhook.
alert_firing_id_seq = Sequence("alert_firings_id_seq")
alert_firings = Table(
    "alert_firings",
    metadata,
    Column("id", BigInteger, alert_firing_id_seq, primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("key", String(64), nullable=False),  # what it fired for: an area code or an event id
    Column("area_code", String(15), nullable=False),  # where: whose screens see it (scope)
    Column("raised_at", DateTime, nullable=False),
    Column("title", Text, nullable=False),
    Column("detail", Text),  # JSON: the rule's kind, parameters and what it counted (screens word it themselves)
    Column("acknowledged_by", String(64)),
    Column("acknowledged_at", DateTime),
    # Nullable, so an older store gets them added: the firing holds until cleared_at (the condition no
    # longer met); level is the rule's (critical / warning / info); department_code the case's, for a
    # rule about one case (a department handler sees only those of their department).
    Column("cleared_at", DateTime),
    Column("level", String(16)),
    Column("department_code", String(16)),
)
webhook_delivery_id_seq = Sequence("webhook_deliveries_id_seq")
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigInteger, webhook_delivery_id_seq, primary_key=True),
    Column("firing_id", BigInteger, nullable=False),
    Column("target", String(64), nullable=False),  # the webhook's configured name, never its secret URL
    Column("attempt", SmallInteger, nullable=False),
    Column("attempted_at", DateTime, nullable=False),
    Column("outcome", String(16), nullable=False),  # delivered / failed / gave_up
    Column("http_status", Integer),
    Column("error", Text),
)

# A user's own settings kept between visits (issue 6: the backlog desk's columns, sort and filters).
user_prefs = Table(
    "user_prefs",
    metadata,
    Column("user_name", String(64), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("updated_at", DateTime, nullable=False),
)

# -- Rankings (issue 7; docs/metrics.md "Rankings") --
# Grid workers' field work: patrols (巡查 check-ins) and household visits (走访). One row per patrol or visit,
# from the demo or POST /api/v1/fieldwork; ``external_id`` (unique per worker) makes a resend harmless.
patrol_id_seq = Sequence("patrols_id_seq")
patrols = Table(
    "patrols",
    metadata,
    Column("id", BigInteger, patrol_id_seq, primary_key=True),
    Column("worker_id", Integer, nullable=False),
    Column("grid_code", String(15), nullable=False),  # the grid patrolled (the worker's own, as a rule)
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Column("checkins", SmallInteger, nullable=False, default=1),  # check-in points touched on the way
    Column("distance_m", Integer),
    Column("external_id", String(64)),
    UniqueConstraint("worker_id", "external_id", name="uq_patrols_worker_external"),
)
visit_id_seq = Sequence("visits_id_seq")
visits = Table(
    "visits",
    metadata,
    Column("id", BigInteger, visit_id_seq, primary_key=True),
    Column("worker_id", Integer, nullable=False),
    Column("grid_code", String(15), nullable=False),
    Column("building_code", String(18), nullable=False),
    Column("visited_at", DateTime, nullable=False),
    Column("households", SmallInteger, nullable=False, default=1),  # households met on this visit
    Column("external_id", String(64)),
    UniqueConstraint("worker_id", "external_id", name="uq_visits_worker_external"),
)
# 12345 回访: the hotline's follow-up of a ticket (an event of source 'hotline'), one per event, the latest.
hotline_followups = Table(
    "hotline_followups",
    metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("followed_at", DateTime, nullable=False),
    Column("valid", Boolean, nullable=False, default=True),  # 有效回访 (reached, not a duplicate or abuse)
    Column("contacted", Boolean, nullable=False, default=False),  # 响应: the unit contacted the caller in time
    Column("resolved", Boolean, nullable=False, default=False),  # 解决
    Column("satisfaction", String(16), nullable=False),  # satisfied / basic / dissatisfied / unknown
)
# A city's ranking configuration (weights, counted items, minimum volumes, grade bands): versions, each
# effective from the first day of a month on; the file's configuration is the version before the first row.
rank_config_id_seq = Sequence("rank_configs_id_seq")
rank_configs = Table(
    "rank_configs",
    metadata,
    Column("id", Integer, rank_config_id_seq, primary_key=True),
    Column("effective_from", Date, nullable=False),
    Column("body", Text, nullable=False),  # JSON, validated by dashboard/rank_config.py
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("note", Text),
)
# A month whose rankings are frozen (closed): its counts and the configuration it is scored with never change.
rank_periods = Table(
    "rank_periods",
    metadata,
    Column("month", Date, primary_key=True),  # the month's first day
    Column("frozen_at", DateTime, nullable=False),
    Column("as_of", DateTime, nullable=False),  # the instant its counts are as of (the month's end)
    Column("config", Text, nullable=False),  # JSON: the configuration its scores use, resolved when frozen
)
# The counts of a frozen month, one row per unit of each level (docs/metrics.md names every count).
RANK_COUNTS = (
    "reports", "valid_reports", "to_verify", "verified_on_time", "to_check", "checked_on_time",
    "grid_registered", "missed", "patrol_days", "work_days", "grid_buildings", "buildings_visited", "visits",
    "handled", "handled_on_time", "overdue_open", "closed", "closed_on_time", "reworked", "extended",
    "registered", "public_registered", "followups", "contacted", "resolved", "satisfied", "basically_satisfied",
)
rank_facts = Table(
    "rank_facts",
    metadata,
    Column("month", Date, primary_key=True),
    Column("level", String(12), primary_key=True),  # district / street / community / grid / worker / department
    Column("unit_code", String(16), primary_key=True),  # an area code, a department code, a worker id as text
    *(Column(name, Integer, nullable=False, default=0) for name in RANK_COUNTS),
)

# -- Presenter tours (issue 8; docs/presenter.md) --
# A tour is a presenter's list of saved views for a review meeting, all shown as of one cut-off time.
tour_id_seq = Sequence("tours_id_seq")
tours = Table(
    "tours",
    metadata,
    Column("id", BigInteger, tour_id_seq, primary_key=True),
    Column("owner", String(64), nullable=False),  # users.name; only its owner sees and edits a tour
    Column("title", String(200), nullable=False),
    Column("as_of", DateTime, nullable=False),  # the cut-off (naive local minute): every slide's data as of it
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)
_pg_only(Index("ix_tours_owner", tours.c.owner))
tour_slide_id_seq = Sequence("tour_slides_id_seq")
tour_slides = Table(
    "tour_slides",
    metadata,
    Column("id", BigInteger, tour_slide_id_seq, primary_key=True),
    Column("tour_id", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),  # 0, 1, 2 … in showing order
    Column("title", String(200), nullable=False),
    Column("note", Text, nullable=False, default=""),  # the presenter's words for the slide
    Column("path", String(64), nullable=False),  # the page: "/", "/sla", "/rankings"
    Column("query", String(2000), nullable=False, default=""),  # the view's query string, without as_of and lang
)
_pg_only(Index("ix_tour_slides_tour", tour_slides.c.tour_id, tour_slides.c.position))

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
