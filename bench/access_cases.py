"""The cases `gridcc bench access` times: what the gate, the audit row and a sign-in cost (issue 4).

Everything runs in this one process on a copy of the bench store, each case against a baseline
measured in the same loop (variants interleaved, so drift of a busy machine falls on both):
- the gate per request: `GET /api/v1/areas/<district>` (figures cached) through Flask's test client
  with a session cookie and with an API token, against the same request with the gate swapped for
  one that presets the principal, and against the route's view function called directly;
- the audit row on the write path: `Ingestor.submit` and `Ingestor.transition` with and without
  ``audit_from`` (which writes the row in the write's own transaction);
- a sign-in through the form's route (argon2id verify, session row, audit row), wall and CPU time;
- the process's memory.

The helpers at the top (the bench user, a token, a city-level principal) are also what
bench/overview_cases.py and bench/run.py use to get past the gate.
"""
from __future__ import annotations

import contextlib
import time

from bench.stats import percentile

BENCH_USER = "bench-leader"
BENCH_PASSWORD = "gridcc-bench-2026"  # the bench stores are throw-away copies on this machine
SOURCE = "127.0.0.1"


# -- getting past the gate ---------------------------------------------------------------------------------
def city_code(conn) -> str:
    """Return the store's city (its first root area)."""
    from queries import areas

    return areas.root_area_codes(conn)[0]


def city_principal(conn):
    """Return a city leader's Principal for the store (what a signed-in city leader's request carries)."""
    from dashboard import access

    return access.Principal(name=BENCH_USER, display_name=BENCH_USER, kind="user", role="city_leader",
                            scope=access.scope_of(conn, "area", city_code(conn)),
                            rights=access.RIGHTS["city_leader"], session="0" * 64)


@contextlib.contextmanager
def as_principal(server, principal, *args, **kwargs):
    """A Flask test request context whose caller is ``principal`` (as the gate would have set it)."""
    import flask

    with server.test_request_context(*args, **kwargs):
        flask.g.gridcc_principal = principal
        yield


def add_bench_user(conn, *, now) -> None:
    """Add the bench's city leader (password BENCH_PASSWORD) unless it exists; reset its password if it does."""
    from dashboard import auth
    from queries import users

    digest = auth.hash_password(BENCH_PASSWORD)
    if users.get_user(conn, name=BENCH_USER) is not None:
        users.set_password(conn, name=BENCH_USER, password_hash=digest, now=now)
        users.set_disabled(conn, name=BENCH_USER, disabled=False)
        return
    scope = auth.check_scope(conn, "city_leader", city_code(conn))
    users.add_user(conn, name=BENCH_USER, display_name="基准测试市领导", password_hash=digest, role="city_leader",
                   scope_kind=scope.kind, scope_code=scope.code, now=now)
    users.audit(conn, at=now, actor="bench", action="user.add", target=BENCH_USER, outcome="ok", source="bench",
                detail=f"city_leader of {scope.kind} {scope.code}")


def create_bench_token(conn, *, now, name: str = "bench", scope_code: str | None = None) -> str:
    """Create an API token (a fresh name each time) and return it."""
    from queries import tokens

    return tokens.create_token(conn, name=f"{name}-{time.time_ns()}", now=now, scope_code=scope_code)


def prepare_store(settings) -> str:
    """Give the store at ``settings`` the bench user and an API token; return the token.

    Run it before a server process opens the store: DuckDB lets one process at a time open a file.
    """
    from dashboard.store import init_schema, make_engine

    engine = make_engine(settings)
    try:
        init_schema(engine)
        with engine.begin() as conn:
            add_bench_user(conn, now=settings.now())
            return create_bench_token(conn, now=settings.now(), name="bench-overview")
    finally:
        engine.dispose()


def sign_in(client) -> float:
    """Sign the test ``client`` in through the form's route as the bench user; return the POST's ms."""
    from dashboard import access

    cookie = client.get_cookie(access.CSRF_COOKIE)
    if cookie is None:
        client.get("/auth/sign-in")
        cookie = client.get_cookie(access.CSRF_COOKIE)
    form = {"name": BENCH_USER, "password": BENCH_PASSWORD, access.CSRF_FIELD: cookie.value, "next": "/"}
    start = time.perf_counter()
    response = client.post("/auth/sign-in", data=form)
    ms = (time.perf_counter() - start) * 1000
    if response.status_code != 303 or response.headers.get("Location") != "/":
        raise RuntimeError(f"sign-in failed: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return ms


# -- figures -------------------------------------------------------------------------------------------------
def _stats(ms: list[float]) -> dict:
    return {"p50": round(percentile(ms, 0.5), 3), "p95": round(percentile(ms, 0.95), 3),
            "max": round(max(ms), 2), "n": len(ms)}


def _diff(a: dict, b: dict) -> dict:
    """Return a - b at p50 and p95 (ms) and the ratio a / b at p50."""
    return {"p50": round(a["p50"] - b["p50"], 3), "p95": round(a["p95"] - b["p95"], 3),
            "ratio_p50": round(a["p50"] / b["p50"], 2) if b["p50"] else None}


def rss_mb() -> dict:
    from bench.ingest_cases import rss_mb as rss

    return rss()


def _interleaved(variants: dict, reps: int) -> dict:
    """Time each variant ``reps`` times, round-robin with a rotating first, so drift falls on all alike."""
    names = list(variants)
    out: dict = {n: [] for n in names}
    for i in range(reps):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            start = time.perf_counter()
            variants[name]()
            out[name].append((time.perf_counter() - start) * 1000)
    return out


# -- the cases ---------------------------------------------------------------------------------------------
def gate_case(app, *, district: str, principal, token: str, city_token: str, reps: int) -> dict:
    """The gate's cost per request on a cached API read: session vs token vs the gate swapped out."""
    import flask

    from dashboard import access

    server = app.server
    url = f"/api/v1/areas/{district}"
    session_client = server.test_client()
    sign_in(session_client)
    token_client, city_token_client, open_client = server.test_client(), server.test_client(), server.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    city_bearer = {"Authorization": f"Bearer {city_token}"}

    # The "no gate" request: the same route, with the gate replaced by a hook that only sets the caller.
    def preset():
        flask.g.gridcc_principal = principal

    hooks = server.before_request_funcs[None]
    at = hooks.index(access.gate)

    def without_gate():
        hooks[at] = preset
        try:
            response = open_client.get(url)
        finally:
            hooks[at] = access.gate
        return response

    view = server.view_functions["api.get_area"]

    def loader():
        with as_principal(server, principal, url):
            return view(code=district)

    variants = {
        "session": lambda: session_client.get(url),
        "token": lambda: token_client.get(url, headers=bearer),
        "token_city_scope": lambda: city_token_client.get(url, headers=city_bearer),
        "no_gate": without_gate,
        "view_only": loader,
    }
    for name, fn in variants.items():  # fill the cache and check every variant answers the same figures
        for _ in range(5):
            response = fn()
        body = response.get_json() if hasattr(response, "get_json") else None
        if body is None or "area" not in body:
            raise RuntimeError(f"{name}: {getattr(response, 'status_code', '?')} {body}")
    times = _interleaved(variants, reps)
    out = {name: _stats(ms) for name, ms in times.items()}
    base = out["no_gate"]
    out["added"] = {name: _diff(out[name], base) for name in ("session", "token", "token_city_scope")}

    # The gate function alone, in the request context a real request builds (cookie or header parsed).
    session_cookie = session_client.get_cookie(access.SESSION_COOKIE).value

    def gate_alone(**kwargs):
        def call():
            with server.test_request_context(url, **kwargs):
                start = time.perf_counter()
                refused = access.gate()
                ms = (time.perf_counter() - start) * 1000
            if refused is not None:
                raise RuntimeError(f"the gate refused: {refused.status_code}")
            return ms
        return call

    alone = {"session": gate_alone(headers={"Cookie": f"{access.SESSION_COOKIE}={session_cookie}"}),
             "token": gate_alone(headers=bearer), "token_city_scope": gate_alone(headers=city_bearer)}
    ms: dict = {n: [] for n in alone}
    for i in range(reps):
        for name, fn in alone.items():
            ms[name].append(fn())
    out["gate_alone"] = {name: _stats(v) for name, v in ms.items()}
    out["url"] = url
    return out


def audit_case(ingestor, *, reports, scope, writes: int, settings) -> dict:
    """The audit row's cost on the write path: submit and transition with and without ``audit_from``."""
    actor = "bench-access"
    records = reports.make(2 * writes + 10)
    warm = records[:10]
    for r in warm[:5]:
        ingestor.submit([r], actor=actor)
    for r in warm[5:]:
        ingestor.submit([r], actor=actor, audit_from=SOURCE)
    pending = iter(records[10:])
    created = {"plain": [], "audited": []}

    def submit(audit_from):
        def call():
            receipt = ingestor.submit([next(pending)], actor=actor, audit_from=audit_from)[0]
            created["audited" if audit_from else "plain"].append(receipt.id)
        return call

    submits = _interleaved({"plain": submit(None), "audited": submit(SOURCE)}, writes)

    # Transitions: pairs of the events just written step through the loop together, one of each pair
    # audited; which goes first alternates.
    at = settings.now().replace(tzinfo=settings.tz).isoformat()
    loop = ("accept", "register", "dispatch", "handle", "check", "close")
    steps = {"plain": [], "audited": []}
    n = 0
    for a, b in zip(created["plain"], created["audited"]):
        for action in loop:
            if n >= writes:
                break
            pair = [("plain", a, None), ("audited", b, SOURCE)]
            if n % 2:
                pair.reverse()
            for name, event_id, audit_from in pair:
                start = time.perf_counter()
                ingestor.transition(event_id, {"action": action, "at": at}, actor=actor, scope=scope,
                                    audit_from=audit_from)
                steps[name].append((time.perf_counter() - start) * 1000)
            n += 1
        if n >= writes:
            break
    out = {"submit": {k: _stats(v) for k, v in submits.items()},
           "transition": {k: _stats(v) for k, v in steps.items()}}
    for kind in ("submit", "transition"):
        out[kind]["added"] = _diff(out[kind]["audited"], out[kind]["plain"])
    return out


def sign_in_case(app, *, sign_ins: int) -> dict:
    """A sign-in through POST /auth/sign-in (argon2id verify, session row, audit row): wall and CPU time."""
    from dashboard import auth
    from queries import users

    client = app.server.test_client()
    sign_in(client)  # warm
    wall, cpu = [], []
    for _ in range(sign_ins):
        c0 = time.process_time()
        wall.append(sign_in(client))
        cpu.append((time.process_time() - c0) * 1000)
    ctx = app.server.extensions["gridcc"]
    with ctx.engine.connect() as conn:
        stored = users.password_hash(conn, name=BENCH_USER)
    verify_wall, verify_cpu = [], []
    for _ in range(sign_ins):
        c0, w0 = time.process_time(), time.perf_counter()
        assert auth.verify_password(stored, BENCH_PASSWORD)
        verify_wall.append((time.perf_counter() - w0) * 1000)
        verify_cpu.append((time.process_time() - c0) * 1000)
    hasher = auth._HASHER
    cpu_p50 = percentile(cpu, 0.5)
    return {"route": _stats(wall), "route_cpu": _stats(cpu), "argon2_verify": _stats(verify_wall),
            "argon2_verify_cpu": _stats(verify_cpu),
            "per_core_per_s": round(1000 / cpu_p50, 1) if cpu_p50 else None,
            "argon2": {"time_cost": hasher.time_cost, "memory_kib": hasher.memory_cost,
                       "parallelism": hasher.parallelism}}


def access_cases(settings, *, reps: int, writes: int, sign_ins: int) -> dict:
    """Run the cases on the store at ``settings`` (a copy: they write) and return the figures."""
    from bench.ingest_cases import Reports
    from dashboard.app import create_app
    from queries import areas

    started = time.perf_counter()
    app = create_app(settings)
    ctx = app.server.extensions["gridcc"]
    out: dict = {"app_start_s": round(time.perf_counter() - started, 1)}
    now = settings.now()
    with ctx.engine.begin() as conn:
        add_bench_user(conn, now=now)
        city = city_code(conn)
        token = create_bench_token(conn, now=now, name="bench-access")
        city_token = create_bench_token(conn, now=now, name="bench-access-city", scope_code=city)
    with ctx.engine.connect() as conn:
        principal = city_principal(conn)
        kids = areas.child_areas(conn, scope=principal.scope, code=city)
        district = kids[len(kids) // 2].code
        reports = Reports(conn, principal.scope, now=now, tz=settings.tz)
        out["events_before"] = conn.exec_driver_sql("SELECT count(*) FROM events").scalar()

    t0 = time.perf_counter()
    out["gate"] = gate_case(app, district=district, principal=principal, token=token, city_token=city_token,
                            reps=reps)
    out["gate"]["seconds"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    out["audit"] = audit_case(ctx.ingestor, reports=reports, scope=principal.scope, writes=writes, settings=settings)
    out["audit"]["seconds"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    out["sign_in"] = sign_in_case(app, sign_ins=sign_ins)
    out["sign_in"]["seconds"] = round(time.perf_counter() - t0, 1)
    out.update(rss_mb())
    ctx.engine.dispose()
    return out


def markdown(results: dict) -> str:
    """Return the figures as the Markdown tables of docs/benchmarks.md."""
    r = results["cases"]
    g, a, s = r["gate"], r["audit"], r["sign_in"]
    met = lambda ok: "met" if ok else "**missed**"  # noqa: E731
    ms = lambda x: f"{x['p50']:.2f} / {x['p95']:.2f}"  # noqa: E731
    lines = [f"Run {results['date']} on {results['machine']}; store of {r['events_before']:,} events (a copy), "
             "in-process.", "",
             f"Gate, `GET {g['url']}` (figures cached), {g['session']['n']} each, interleaved:", "",
             "| caller | request p50 / p95 ms | added vs no gate p50 / p95 ms | ratio p50 | gate() alone p50 / p95 ms | ≤ 2 ms p95 |",
             "|---|---|---|---|---|---|"]
    for name, label in (("session", "session cookie"), ("token", "API token (whole store)"),
                        ("token_city_scope", "API token (scoped to the city)")):
        d = g["added"][name]
        lines.append(f"| {label} | {ms(g[name])} | {d['p50']:+.2f} / {d['p95']:+.2f} | {d['ratio_p50']}× | "
                     f"{ms(g['gate_alone'][name])} | {met(g['gate_alone'][name]['p95'] <= 2)} |")
    lines += [f"| no gate (caller preset) | {ms(g['no_gate'])} | — | 1× | — | |",
              f"| the view function alone | {ms(g['view_only'])} | — | — | — | |", "",
              "Audit row on the write path, interleaved:", "",
              "| write | without p50 / p95 ms | with p50 / p95 ms | added p50 / p95 ms | ≤ 2 ms p95 |",
              "|---|---|---|---|---|"]
    for kind in ("submit", "transition"):
        x = a[kind]
        lines.append(f"| {kind} ({x['plain']['n']} each) | {ms(x['plain'])} | {ms(x['audited'])} | "
                     f"{x['added']['p50']:+.2f} / {x['added']['p95']:+.2f} | {met(x['added']['p95'] <= 2)} |")
    lines += ["", f"Sign-in ({s['route']['n']}): route {ms(s['route'])} ms wall, {ms(s['route_cpu'])} ms CPU; "
                  f"argon2id verify alone {ms(s['argon2_verify'])} ms wall, {ms(s['argon2_verify_cpu'])} ms CPU "
                  f"(t={s['argon2']['time_cost']}, m={s['argon2']['memory_kib']} KiB, p={s['argon2']['parallelism']}); "
                  f"**{s['per_core_per_s']} sign-ins/s per core**.", "",
              "The gate's verdict is on `gate()` alone, timed directly (a difference of two p95s is mostly noise).",
              "", f"Process memory: {r['rss_mb']} MB RSS, peak {r['peak_rss_mb']} MB."]
    return "\n".join(lines)
