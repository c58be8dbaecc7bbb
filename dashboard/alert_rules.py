"""Alert rules: a city's conditions worth a shout, checked in the background (issue 6 §3; docs/alerts.md).

A rule is configuration (``GRIDCC_ALERT_RULES``: a JSON or TOML file; the defaults below when unset):
``{"id", "kind", "params", "level", "enabled", "webhooks"}``. The kinds:

- ``red_within``: more than ``n`` open cases of one street (``per``) not handled whose deadline falls in
  the next ``hours`` hours — they turn red together (defaults n=5, hours=2);
- ``undispatched_urgent``: an urgent case not dispatched ``minutes`` after its report (default 15);
- ``overdue_surge``: more than ``n`` cases of one street turned red (went past their deadline unhandled)
  in the last ``hours`` hours (defaults n=3, hours=1).

The ``Evaluator`` (one thread per app) checks every rule over the whole store every ``alert_every_s``
seconds and soon after a write. A firing is one ``alert_firings`` row per (rule, key) while the condition
holds; it is cleared when it no longer does, and fires anew if it comes back. A new or cleared firing
moves the data version (nothing else) and is published on the live hub, so every screen's banner
shows it at once; a new one is handed to the webhooks (``dashboard.webhook``).
"""
from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from dashboard.webhook import NAME, ConfigError, Message, Target, read_config

log = logging.getLogger(__name__)

LEVELS = ("critical", "warning", "info")
LEVEL_ZH = {"critical": "紧急", "warning": "警告", "info": "提示"}
PER = ("street", "community", "district")
MAX_RULES = 100
MAX_N = 100_000
MAX_HOURS = 72.0
MAX_MINUTES = 24 * 60
NUDGE_GAP_S = 2.0  # after a write, wait this long (a burst of writes is one evaluation: at 50 writes/s, one per 2 s)
MIN_EVERY_S, MAX_EVERY_S = 0.05, 86_400.0
EVERYWHERE = "*"  # a rule's webhooks: every configured one


@dataclass(frozen=True)
class Param:
    """One parameter of a rule kind: its type, bounds and default."""

    kind: type
    low: float
    high: float
    default: object
    low_open: bool = False  # the bound itself is refused (hours > 0)


# kind -> (parameter -> its spec), and the level a rule of that kind gets unless configured.
KINDS: dict[str, dict[str, Param]] = {
    "red_within": {"n": Param(int, 0, MAX_N, 5), "hours": Param(float, 0, MAX_HOURS, 2, low_open=True),
                   "per": Param(str, 0, 0, "street")},
    "undispatched_urgent": {"minutes": Param(int, 1, MAX_MINUTES, 15)},
    "overdue_surge": {"n": Param(int, 0, MAX_N, 3), "hours": Param(float, 0, MAX_HOURS, 1, low_open=True),
                      "per": Param(str, 0, 0, "street")},
}
DEFAULT_LEVEL = {"red_within": "warning", "undispatched_urgent": "critical", "overdue_surge": "warning"}


@dataclass(frozen=True)
class Rule:
    """One configured rule."""

    id: str
    kind: str
    params: tuple[tuple[str, object], ...]
    level: str
    enabled: bool = True
    webhooks: tuple[str, ...] = (EVERYWHERE,)

    def param(self, name: str):
        return dict(self.params)[name]


def default_rules() -> tuple[Rule, ...]:
    """Return the rules a city gets without a configuration: one of each kind, with the default parameters."""
    return tuple(Rule(kind, kind, tuple((k, p.default) for k, p in spec.items()), DEFAULT_LEVEL[kind])
                 for kind, spec in KINDS.items())


def _param(value, spec: Param, where: str):
    if spec.kind is str:
        if value not in PER:
            raise ConfigError(f"{where}: must be one of {', '.join(PER)}, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: must be a number, not {type(value).__name__}")
    if spec.kind is int and (isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"{where}: must be a whole number, not {value!r}")
    if not math.isfinite(value) or value > spec.high or value < spec.low or (spec.low_open and value <= spec.low):
        low = f"({spec.low:g}" if spec.low_open else f"[{spec.low:g}"
        raise ConfigError(f"{where}: must lie in {low}, {spec.high:g}], not {value!r}")
    return int(value) if spec.kind is int else float(value)


def parse_rules(document, origin: str, targets: tuple[Target, ...] = ()) -> tuple[Rule, ...]:
    """Return the rules of a parsed document ({"rules": [...]} or a list); raise ConfigError naming the key."""
    if isinstance(document, dict):
        if set(document) - {"rules"}:
            raise ConfigError(f"{origin}: unknown key(s) {sorted(set(document) - {'rules'})}; expected 'rules'")
        items = document.get("rules")
    else:
        items = document
    if not isinstance(items, list):
        raise ConfigError(f"{origin}: expected a list of rules (or {{\"rules\": [...]}})")
    if len(items) > MAX_RULES:
        raise ConfigError(f"{origin}: {len(items)} rules, more than {MAX_RULES}")
    names = {t.name for t in targets}
    rules, seen = [], set()
    for i, item in enumerate(items):
        where = f"{origin}: rules[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: must be an object with id and kind")
        unknown = set(item) - {"id", "kind", "params", "level", "enabled", "webhooks"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
        rule_id = item.get("id")
        if not isinstance(rule_id, str) or not NAME.match(rule_id):
            raise ConfigError(f"{where}.id: must be 1-64 letters, digits, '.', '_' or '-'")
        if rule_id in seen:
            raise ConfigError(f"{where}.id: {rule_id!r} is used twice")
        seen.add(rule_id)
        kind = item.get("kind")
        if kind not in KINDS:
            raise ConfigError(f"{where}.kind: must be one of {', '.join(KINDS)}, not {kind!r}")
        given = item.get("params", {})
        if not isinstance(given, dict):
            raise ConfigError(f"{where}.params: must be an object")
        unknown = set(given) - set(KINDS[kind])
        if unknown:
            raise ConfigError(f"{where}.params: unknown parameter(s) {sorted(unknown)} for {kind} "
                              f"(it takes {', '.join(KINDS[kind])})")
        params = tuple((name, _param(given[name], spec, f"{where}.params.{name}") if name in given else spec.default)
                       for name, spec in KINDS[kind].items())
        level = item.get("level", DEFAULT_LEVEL[kind])
        if level not in LEVELS:
            raise ConfigError(f"{where}.level: must be one of {', '.join(LEVELS)}, not {level!r}")
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}.enabled: must be true or false")
        hooks = item.get("webhooks", [EVERYWHERE])
        if not isinstance(hooks, list) or len(hooks) > 50 or not all(isinstance(h, str) for h in hooks):
            raise ConfigError(f"{where}.webhooks: must be a list of webhook names (or [\"*\"] for all)")
        missing = [h for h in hooks if h != EVERYWHERE and h not in names]
        if missing:
            raise ConfigError(f"{where}.webhooks: no webhook named {missing[0]!r} in GRIDCC_WEBHOOKS "
                              f"(configured: {', '.join(sorted(names)) or 'none'})")
        rules.append(Rule(rule_id, kind, params, level, enabled, tuple(hooks)))
    return tuple(rules)


def load_rules(source: str, targets: tuple[Target, ...] = (), setting: str = "GRIDCC_ALERT_RULES") -> tuple[Rule, ...]:
    """Return the rules ``source`` (a JSON or TOML file, or inline JSON) configures; the defaults when it is empty."""
    if not source or not source.strip():
        return default_rules()
    document, origin = read_config(source, setting)
    return parse_rules(document, origin, targets)


def targets_of(rule: Rule, targets: tuple[Target, ...]) -> tuple[str, ...]:
    """Return the names of the webhooks ``rule`` goes to."""
    if EVERYWHERE in rule.webhooks:
        return tuple(t.name for t in targets)
    return tuple(name for name in rule.webhooks if any(t.name == name for t in targets))


# -- what a rule finds, and how it reads (pure) ----------------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    """A rule's condition holding for one key: where, its title and detail, the webhook message."""

    rule: str
    key: str
    area_code: str
    level: str
    title: str
    detail: dict
    message: Message
    department_code: str | None = None


def _hours(value: float) -> str:
    return f"{value:g}"


def _link(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/?area={code}"


def _text(level: str, headline: str, lines: list[str], link: str) -> str:
    body = "\n".join(f"- {line}" for line in lines)
    return f"### 【{LEVEL_ZH[level]}】{headline}\n{body}\n- [在指挥中心查看]({link})"


def area_hit(rule: Rule, code: str, place: str, count: int, now: datetime, link_base: str = "") -> Hit:
    """Return the hit of a counting rule (red_within, overdue_surge) for area ``code``, worded in Chinese."""
    n, hours = rule.param("n"), rule.param("hours")
    if rule.kind == "red_within":
        headline = f"{place}：{_hours(hours)}小时内将有{count}件案件超期"
    else:
        headline = f"{place}：近{_hours(hours)}小时新增超期{count}件"
    lines = [f"规则：{rule.id}（超过{n}件即告警）", f"时间：{now:%Y-%m-%d %H:%M}"]
    detail = {"kind": rule.kind, "place": place, "count": count, "n": n, "hours": hours, "per": rule.param("per")}
    return Hit(rule.id, code, code, rule.level, headline, detail,
               Message(headline, _text(rule.level, headline, lines, _link(link_base, code))))


def case_hit(rule: Rule, case, now: datetime, link_base: str = "") -> Hit:
    """Return the hit of undispatched_urgent for one case (queries.alert_rules.LateDispatch)."""
    minutes = rule.param("minutes")
    place = f"{case.community_name}·{case.grid_name}"
    headline = f"紧急事件超{minutes}分钟未派遣：{case.category_name}（{place}）"
    waited = int((now - case.reported_at).total_seconds() // 60)
    lines = [f"事件：#{case.id}，{case.reported_at:%m-%d %H:%M}上报，已等{waited}分钟", f"规则：{rule.id}",
             f"时间：{now:%Y-%m-%d %H:%M}"]
    detail = {"kind": rule.kind, "place": place, "category": case.category_name, "event_id": case.id,
              "minutes": minutes, "reported_at": case.reported_at.isoformat()}
    return Hit(rule.id, str(case.id), case.grid_code, rule.level, headline, detail,
               Message(headline, _text(rule.level, headline, lines, _link(link_base, case.grid_code))),
               case.department_code)


def rule_hits(conn, rule: Rule, scope, now: datetime, link_base: str = "") -> list[Hit]:
    """Return where ``rule`` holds at ``now`` under ``scope``."""
    from queries import alert_rules as q

    if rule.kind == "undispatched_urgent":
        return [case_hit(rule, case, now, link_base)
                for case in q.undispatched_urgent(conn, scope=scope, as_of=now, minutes=rule.param("minutes"))]
    span = timedelta(hours=rule.param("hours"))
    since, until = (now, now + span) if rule.kind == "red_within" else (now - span, now)
    rows = q.cases_due_by_area(conn, scope=scope, per=rule.param("per"), since=since, until=until, as_of=now,
                               more_than=rule.param("n"))
    return [area_hit(rule, row.code, row.name, row.count, now, link_base) for row in rows]


def changes(holding: dict[tuple[str, str], Hit], active: dict[tuple[str, str], int]) -> tuple[list[Hit], list[int]]:
    """Return (hits to raise: holding and not active; firing ids to clear: active and no longer holding)."""
    raise_ = [hit for key, hit in holding.items() if key not in active]  # in the rules' order, oldest first
    clear = sorted(firing for key, firing in active.items() if key not in holding)
    return raise_, clear


SUMMARY_FROM = 4  # this many new firings or more for one webhook in one evaluation go as one summary
SUMMARY_LINES = 10


def summary_message(hits: list[Hit], now: datetime, link_base: str = "") -> Message:
    """Return one message for many new firings (robots limit messages a minute: DingTalk 20)."""
    level = min((hit.level for hit in hits), key=LEVELS.index)
    title = f"新增告警{len(hits)}条（{now:%H:%M}）"
    lines = [hit.title for hit in hits[:SUMMARY_LINES]]
    if len(hits) > SUMMARY_LINES:
        lines.append(f"另有{len(hits) - SUMMARY_LINES}条，详见指挥中心")
    return Message(title, _text(level, title, lines, f"{link_base.rstrip('/')}/"))


def messages_for(raised: list[tuple[int, Hit]], rules: tuple[Rule, ...], targets: tuple[Target, ...],
                 now: datetime, link_base: str = "") -> list[tuple[str, object, Message]]:
    """Return (webhook name, firing id or ids, message) to send for the firings one evaluation raised:
    one message per firing, or one summary per webhook when it would get SUMMARY_FROM or more."""
    by_id = {rule.id: rule for rule in rules}
    per_target: dict[str, list[tuple[int, Hit]]] = {}
    for firing_id, hit in raised:
        rule = by_id.get(hit.rule)
        for name in targets_of(rule, targets) if rule is not None else ():
            per_target.setdefault(name, []).append((firing_id, hit))
    out = []
    for name, items in per_target.items():
        if len(items) >= SUMMARY_FROM:
            out.append((name, tuple(i for i, _ in items), summary_message([h for _, h in items], now, link_base)))
        else:
            out.extend((name, firing_id, hit.message) for firing_id, hit in items)
    return out


# -- one evaluation ---------------------------------------------------------------------------------------------
@dataclass
class Evaluation:
    """What one evaluation did: the firings raised (id, hit), the ids cleared, the data version it made."""

    raised: list[tuple[int, Hit]] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    version: int | None = None
    at: datetime | None = None
    areas: tuple[str, ...] = ()
    now: datetime | None = None  # the instant evaluated


def evaluate(engine, rules: tuple[Rule, ...], *, now: datetime, lock, link_base: str = "") -> Evaluation:
    """Check every enabled rule over the whole store at ``now``; raise and clear firings; return what changed.

    The conditions are read without the write lock; the firings are written under it (a short transaction
    that re-reads the active firings, so two evaluations never raise the same one twice).
    """
    from queries import alert_rules as q
    from queries.areas import root_area_codes
    from queries.meta import bump_data_version, live_marks
    from queries.schema import CITY
    from queries.scope import Scope

    with engine.connect() as conn:
        scopes = [Scope(code, CITY) for code in root_area_codes(conn)]
        holding: dict[tuple[str, str], Hit] = {}
        for rule in rules:
            if rule.enabled:
                for scope in scopes:
                    for hit in rule_hits(conn, rule, scope, now, link_base):
                        holding[(hit.rule, hit.key)] = hit
        active = {k: v for scope in scopes for k, v in q.active_firings(conn, scope=scope).items()}
    raised, cleared = changes(holding, active)
    if not raised and not cleared:
        return Evaluation()
    out = Evaluation(now=now)
    with lock, engine.begin() as conn:
        active = {k: v for scope in scopes for k, v in q.active_firings(conn, scope=scope).items()}
        raised, cleared = changes(holding, active)
        if not raised and not cleared:
            return out
        for hit in raised:
            firing_id = q.raise_firing(conn, rule=hit.rule, key=hit.key, area_code=hit.area_code, level=hit.level,
                                       raised_at=now, title=hit.title, detail=hit.detail,
                                       department_code=hit.department_code)
            out.raised.append((firing_id, hit))
        q.clear_firings(conn, ids=cleared, at=now)
        out.cleared = cleared
        areas = {hit.area_code for hit in raised}
        if cleared:
            areas |= {code for code in q.firing_areas(conn, ids=cleared)}
        out.areas = tuple(sorted(areas))
        out.version = bump_data_version(conn)
        out.at = live_marks(conn)[1]
    return out


# -- the background evaluator -----------------------------------------------------------------------------------
class Evaluator:
    """Evaluate the rules every ``every_s`` seconds and soon after a write; publish and deliver what fires."""

    def __init__(self, engine, rules: tuple[Rule, ...], *, now: Callable[[], datetime], lock, every_s: float,
                 publish: Callable[[Evaluation], None] | None = None, deliverer=None,
                 targets: tuple[Target, ...] = (), link_base: str = "",
                 stopped: Callable[[], bool] = lambda: False):
        self.engine = engine
        self.rules = rules
        self.every_s = every_s
        self._now = now
        self._lock = lock
        self._publish = publish
        self.deliverer = deliverer
        self.targets = targets
        self.link_base = link_base
        self._outside_stop = stopped
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.last_error: str | None = None

    def start(self) -> None:
        """Start the thread (once); it evaluates at once, then every ``every_s`` seconds and after writes."""
        if self._thread is not None or self.every_s <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="gridcc-alert-rules", daemon=True)
        self._thread.start()

    def nudge(self, *_args) -> None:
        """Evaluate soon (a write committed): only sets a flag, so the write path never waits for it."""
        self._wake.set()

    def stopped(self) -> bool:
        return self._stop.is_set() or self._outside_stop()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop evaluating (and delivering); wait for a running evaluation to end."""
        self._stop.set()
        self._wake.set()
        if self.deliverer is not None:
            self.deliverer.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run_once(self) -> Evaluation:
        """Evaluate now; publish the change and hand new firings to their webhooks."""
        result = evaluate(self.engine, self.rules, now=self._now(), lock=self._lock, link_base=self.link_base)
        self.runs += 1
        if result.version is not None and self._publish is not None:
            self._publish(result)
        if self.deliverer is not None:
            for name, firing_ids, message in messages_for(result.raised, self.rules, self.targets,
                                                          result.now or self._now(), self.link_base):
                self.deliverer.submit(firing_ids, message, [name])
        for firing_id, hit in result.raised:
            log.info("alert %s fired for %s (firing %d): %s", hit.rule, hit.key, firing_id, hit.title)
        return result

    def _loop(self) -> None:
        waited = 0.0  # the first evaluation comes at once
        while True:
            nudged = self._wake.wait(waited)
            if self.stopped():
                if self.deliverer is not None:
                    self.deliverer.stop()
                return
            if nudged:
                self._wake.clear()
                # A burst of writes (fifty a second) is one evaluation, two seconds after it began.
                self._stop.wait(NUDGE_GAP_S)
                self._wake.clear()
                if self.stopped():
                    return
            try:
                self.run_once()
                self.last_error = None
            except Exception as error:  # a busy or closed store: try again at the next turn, never die
                self.last_error = str(error)
                log.exception("alert rules: evaluation failed")
            waited = self.every_s


def check_every(value: float) -> float:
    """Return the evaluation period in seconds (0 = no evaluator); refuse a negative or absurd one."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or \
            value < 0 or (0 < value < MIN_EVERY_S) or value > MAX_EVERY_S:
        raise ConfigError(f"GRIDCC_ALERT_EVERY_S: must be 0 (off) or between {MIN_EVERY_S} and {MAX_EVERY_S:g} "
                          f"seconds, not {value!r}")
    return float(value)


def check_tries(value: int) -> int:
    """Return the webhook attempts per message; refuse fewer than 1 or more than 20."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 20:
        raise ConfigError(f"GRIDCC_WEBHOOK_TRIES: must be a whole number from 1 to 20, not {value!r}")
    return value


# -- wiring: one evaluator per app, and the firings' API --------------------------------------------------------
EXTENSION_KEY = "gridcc_alerts"
LIST_DAYS = 7
MAX_LIST = 500


def init_app(server, ctx, hub) -> Evaluator:
    """Load the rules and webhooks (ConfigError when bad: the server must not start), add the firings route,
    and start the evaluator when ``settings.alert_every_s`` > 0; return it (``stop()`` it with the app)."""
    from dashboard import live
    from queries import alert_rules as q

    settings = ctx.settings
    from dashboard.webhook import Deliverer, load_targets

    every = check_every(settings.alert_every_s)
    tries = check_tries(settings.webhook_tries)
    targets = load_targets(settings.webhooks)
    rules = load_rules(settings.alert_rules, targets)
    lock = ctx.ingestor.write_lock

    def record(firing_id: int, target: Target, attempt: int, outcome: str, result) -> None:
        with lock, ctx.engine.begin() as conn:
            q.record_attempt(conn, firing_id=firing_id, target=target.name, attempt=attempt, at=settings.now(),
                             outcome=outcome, http_status=result.status, error=result.error)

    def publish(result: Evaluation) -> None:
        hub.publish(live.Change(result.version, result.at, result.areas))

    deliverer = Deliverer(targets, tries=tries, record=record) if targets else None
    evaluator = Evaluator(ctx.engine, rules, now=settings.now, lock=lock, every_s=every, publish=publish,
                          deliverer=deliverer, targets=targets, link_base=settings.alert_link_base,
                          stopped=hub._stopped.is_set)  # the hub stops with the app (tests, shutdown)
    server.extensions[EXTENSION_KEY] = evaluator
    server.add_url_rule("/api/v1/alerts/firings", "alert_firings", firings_route, methods=["GET"])
    ctx.ingestor.listeners.append(evaluator.nudge)
    evaluator.start()
    log.info("alert rules: %d (%d enabled), %d webhook(s), every %g s", len(rules),
             sum(r.enabled for r in rules), len(targets), every)
    return evaluator


def firings_route():
    """``GET /api/v1/alerts/firings?from=&to=&limit=``: the caller's scope's firings and their deliveries."""
    import flask

    from dashboard import access, context
    from dashboard.api import BadRequest, _iso, _parse_instant
    from queries import alert_rules as q

    principal = access.current()
    if principal is None:  # the gate answered already
        flask.abort(401)
    ctx = context.current()
    args = flask.request.args
    try:
        until = _parse_instant("to", args.get("to"), ctx.settings.now() + timedelta(seconds=1))
        since = _parse_instant("from", args.get("from"), until - timedelta(days=LIST_DAYS))
        raw = args.get("limit", "100")
        if not (raw.isascii() and raw.isdigit() and 1 <= len(raw) <= 4 and 1 <= int(raw) <= MAX_LIST):
            raise BadRequest(f"'limit' must be a whole number from 1 to {MAX_LIST}")
        if since >= until:
            raise BadRequest("'from' must be earlier than 'to'")
    except BadRequest as error:
        response = flask.jsonify({"error": "bad_request", "message": str(error)})
        response.status_code = 400
        return response
    with ctx.connect() as conn:
        found = q.firings(conn, scope=principal.scope, since=since, until=until, limit=int(raw))
        attempts = q.deliveries(conn, firing_ids=[f.id for f in found])
    by_firing: dict[int, list] = {}
    for a in attempts:
        by_firing.setdefault(a.firing_id, []).append({
            "target": a.target, "attempt": a.attempt, "attempted_at": _iso(a.attempted_at), "outcome": a.outcome,
            "http_status": a.http_status, "error": a.error})
    response = flask.jsonify({"firings": [{
        "id": f.id, "rule": f.rule, "kind": f.detail.get("kind"), "key": f.key, "area_code": f.area_code,
        "level": f.level, "title": f.title, "raised_at": _iso(f.raised_at),
        "cleared_at": _iso(f.cleared_at) if f.cleared_at else None, "acknowledged_by": f.acknowledged_by,
        "acknowledged_at": _iso(f.acknowledged_at) if f.acknowledged_at else None,
        "deliveries": by_firing.get(f.id, [])} for f in found]})
    response.headers["Cache-Control"] = "no-store"
    return response
