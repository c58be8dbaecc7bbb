"""The ``gridcc`` command: seed a store, serve the app, run the demo or the benchmarks."""
from __future__ import annotations

import argparse
import logging
import os
import runpy
import sys
from datetime import datetime
from pathlib import Path

from dashboard.settings import Settings, from_env

log = logging.getLogger("gridcc")

DEFAULT_EVENTS = 1_000_000
DEMO_HOST, DEMO_PORT = "127.0.0.1", 8050


def _settings(args) -> Settings:
    settings = from_env()
    if getattr(args, "store", None):
        settings = settings.with_(store_url=args.store)
    return settings


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _seed(settings: Settings, *, events: int, seed: int, days: int, small: bool, progress: bool) -> None:
    from dashboard import seed as seeding
    from dashboard.store import make_engine

    engine = make_engine(settings)
    try:
        report = seeding.seed_store(
            engine, events=events, seed=seed, now=settings.now(), days=days,
            spec=seeding.SMALL if small else seeding.FULL, progress=progress,
        )
    finally:
        engine.dispose()
    log.info("seeded %s: %s", settings.store_url, report)


def cmd_seed(args) -> int:
    """Build the demo city and its event history into the store."""
    _seed(_settings(args), events=args.events, seed=args.seed, days=args.days, small=args.small,
          progress=not args.quiet)
    return 0


def _serve(settings: Settings, host: str, port: int, threads: int, *, simulate: float | None = None) -> None:
    """Serve the app; with ``simulate`` (a speed-up), the demo's simulator feeds it through the ingest path."""
    import waitress

    from dashboard.app import create_app

    app = create_app(settings)
    simulator = None
    if simulate:
        from dashboard.simulator import Simulator

        simulator = Simulator(app.server.extensions["gridcc"].ingestor, speed=simulate)
        simulator.start()
        log.info("simulator: new events and steps at %g× the demo city's real rate", simulate)
    log.info("gridcc serving %s on http://%s:%d", settings.store_url, host, port)
    try:
        # Each live screen's stream holds a thread and a connection for as long as it is open.
        streams = settings.live_max_streams
        waitress.serve(app.server, host=host, port=port, threads=threads + streams, ident="gridcc",
                       # a screen holds two: its stream, and the keep-alive connection of its callbacks
                       connection_limit=threads + 2 * streams + 100)
    finally:
        if simulator is not None:
            simulator.stop()


def cmd_serve(args) -> int:
    """Serve the app on the store."""
    _serve(_settings(args), args.host, args.port, args.threads)
    return 0


def _demo_is_fresh(settings: Settings) -> bool:
    """Return True when the demo store exists and was seeded today (so 'today' has events)."""
    from sqlalchemy import inspect

    from dashboard.store import make_engine
    from queries.meta import get_meta

    url = settings.store_url
    if url.startswith("duckdb:///") and not Path(url.removeprefix("duckdb:///")).exists():
        return False
    engine = make_engine(settings)
    try:
        if not inspect(engine).has_table("store_meta"):
            return False
        with engine.connect() as conn:
            seeded_at = get_meta(conn, "seeded_at")
    finally:
        engine.dispose()
    return bool(seeded_at) and datetime.fromisoformat(seeded_at).date() == settings.now().date()


def cmd_demo(args) -> int:
    """Seed the demo store when it is missing or stale, then serve it live on 127.0.0.1:8050."""
    settings = _settings(args)
    if not args.store and "GRIDCC_STORE" not in os.environ:
        settings = settings.with_(store_url=f"duckdb:///{Path(settings.data_dir) / 'demo.duckdb'}")
    if args.reseed or not _demo_is_fresh(settings):
        log.info("seeding the demo city (%d events); this takes under a minute", args.events)
        _seed(settings, events=args.events, seed=args.seed, days=365, small=False, progress=True)
    _demo_users(settings)
    _serve(settings, args.host, args.port, args.threads, simulate=None if args.no_simulator else args.speed)
    return 0


DEMO_PASSWORD = "gridcc-demo-2026"  # documented in the README; the demo listens on 127.0.0.1 only


def _demo_users(settings: Settings) -> None:
    """Give the demo one user of each role (password DEMO_PASSWORD), so the sign-in page can be tried at once."""
    from dashboard import auth
    from queries import areas, users
    from queries.scope import Scope

    engine = _engine(settings)
    now = settings.now()
    try:
        with engine.begin() as conn:
            city = areas.root_area_codes(conn)[0]
            district = areas.child_areas(conn, scope=Scope(city, 0), code=city)[0].code
            street = areas.child_areas(conn, scope=Scope(city, 0), code=district)[0].code
            department = areas.district_departments(conn, district_code=district)[0]
            wanted = {"demo": ("viewer", city, "演示观众"), "demo-leader": ("city_leader", city, "演示市领导"),
                      "demo-district": ("district_manager", district, "演示区管理员"),
                      "demo-street": ("street_operator", street, "演示街道操作员"),
                      "demo-dept": ("department_handler", department, "演示部门人员"),
                      "demo-admin": ("admin", city, "演示管理员"),
                      "demo-wall": ("wall_display", city, "演示大屏")}
            digest = None
            for name, (role, code, display) in wanted.items():
                if users.get_user(conn, name=name) is not None:
                    continue
                digest = digest or auth.hash_password(DEMO_PASSWORD)
                scope = auth.check_scope(conn, role, code)
                users.add_user(conn, name=name, display_name=display, password_hash=digest, role=role,
                               scope_kind=scope.kind, scope_code=scope.code, now=now)
                users.audit(conn, at=now, actor="cli:demo", action="user.add", target=name, outcome="ok",
                            source="cli", detail=f"{role} of {scope.kind} {scope.code}")
    finally:
        engine.dispose()
    log.info("demo users (password %s): demo (viewer), demo-leader, demo-district, demo-street, demo-dept, "
             "demo-admin, demo-wall (a wall display: signs in to /wall)", DEMO_PASSWORD)


def _engine(settings: Settings):
    from dashboard.store import init_schema, make_engine

    engine = make_engine(settings)
    init_schema(engine)
    return engine


def cmd_token(args) -> int:
    """Create, list or revoke the API tokens systems push events with."""
    from queries import tokens

    settings = _settings(args)
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            if args.action == "create":
                token = tokens.create_token(conn, name=args.name, now=settings.now(), scope_code=args.scope)
                print(f"token {args.name!r} created; it is shown only this once. Send it as "
                      "'Authorization: Bearer <token>':", file=sys.stderr)
                print(token)
            elif args.action == "revoke":
                if not tokens.revoke_token(conn, name=args.name, now=settings.now()):
                    log.error("no active token called %r", args.name)
                    return 1
                print(f"token {args.name!r} revoked")
            else:
                for name, created, revoked, scope in tokens.list_tokens(conn):
                    state = f"revoked {revoked:%Y-%m-%d %H:%M}" if revoked else "active"
                    print(f"{name}\tcreated {created:%Y-%m-%d %H:%M}\t{state}\tscope {scope or 'all'}")
    except ValueError as error:
        log.error("%s", error)
        return 1
    finally:
        engine.dispose()
    return 0


def _read_password(args) -> str:
    """Read a new password from stdin (--password-stdin) or ask for it twice on the terminal."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise ValueError("the two passwords differ")
    return password


def cmd_user(args) -> int:
    """Add, list or disable the people who sign in (the first administrator starts here)."""
    import getpass

    from dashboard import auth
    from queries import sessions, users

    settings = _settings(args)
    engine = _engine(settings)
    actor = f"cli:{getpass.getuser()}"[:64]
    now = settings.now()
    try:
        with engine.begin() as conn:
            if args.action == "add":
                password = _read_password(args)
                scope = auth.check_scope(conn, args.role, args.scope)
                users.add_user(conn, name=args.name, display_name=args.display_name or args.name,
                               password_hash=auth.hash_password(password), role=args.role, scope_kind=scope.kind,
                               scope_code=scope.code, now=now)
                users.audit(conn, at=now, actor=actor, action="user.add", target=args.name, outcome="ok",
                            source="cli", detail=f"{args.role} of {scope.kind} {scope.code}")
                print(f"user {args.name!r} added: {args.role} of {scope.kind} {scope.code}")
            elif args.action == "disable":
                if not users.set_disabled(conn, name=args.name, disabled=True):
                    raise ValueError(f"no user called {args.name!r}")
                ended = sessions.end_all(conn, user_name=args.name, now=now)  # signed out everywhere, now
                users.audit(conn, at=now, actor=actor, action="user.disable", target=args.name, outcome="ok",
                            source="cli", detail=f"{ended} sessions ended")
                print(f"user {args.name!r} disabled ({ended} sessions ended)")
            elif args.action == "enable":
                if not users.set_disabled(conn, name=args.name, disabled=False):
                    raise ValueError(f"no user called {args.name!r}")
                users.audit(conn, at=now, actor=actor, action="user.enable", target=args.name, outcome="ok",
                            source="cli")
                print(f"user {args.name!r} enabled")
            elif args.action == "password":
                if users.get_user(conn, name=args.name) is None:
                    raise ValueError(f"no user called {args.name!r}")
                users.set_password(conn, name=args.name, password_hash=auth.hash_password(_read_password(args)),
                                   now=now)
                ended = sessions.end_all(conn, user_name=args.name, now=now)
                users.audit(conn, at=now, actor=actor, action="user.password", target=args.name, outcome="ok",
                            source="cli", detail=f"{ended} sessions ended; lock-out cleared")
                print(f"password of {args.name!r} changed ({ended} sessions ended)")
            else:
                for u in users.list_users(conn):
                    state = "disabled" if u.disabled else ("locked" if u.locked_until and u.locked_until > now
                                                           else "active")
                    print(f"{u.name}\t{u.display_name}\t{u.role}\t{u.scope_kind}:{u.scope_code}\t{state}")
    except ValueError as error:
        log.error("%s", error)
        return 1
    finally:
        engine.dispose()
    return 0


def cmd_import_events(args) -> int:
    """Import events from a CSV, Excel or JSON Lines file: all of them, or none and every problem listed."""
    from tqdm import tqdm

    from dashboard import events_import
    from dashboard.ingest import IngestRefused, Ingestor

    path = Path(args.file)
    if not path.is_file():
        log.error("no file %s", path)
        return 2
    settings = _settings(args)
    engine = _engine(settings)
    try:
        ingestor = Ingestor(engine, tz=settings.tz, now=settings.now, calendar=settings.calendar())
        total = events_import.count_records(path)
        with tqdm(total=total, unit="event", disable=args.quiet, file=sys.stderr, desc="import") as bar:
            records = events_import.read_records(path)
            created, existing = ingestor.import_chunks(events_import.chunks(records), actor=args.actor,
                                                       progress=bar.update)
    except events_import.UnreadableFile as error:
        log.error("%s", error)
        return 2
    except IngestRefused as refused:
        for p in refused.problems[:args.max_problems]:
            print(f"{path.name}:{p.index}: {p.field or '-'}: {p.reason}", file=sys.stderr)
        more = len(refused.problems) - args.max_problems
        if more > 0:
            print(f"... and {more} more problem(s)", file=sys.stderr)
        print(f"nothing imported: {len(refused.problems)} problem(s) in {path.name}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"imported {created} event(s) from {path.name}; {existing} were stored before")
    return 0


def cmd_bench(rest: list[str]) -> int:
    """Run the benchmarks in bench/ (see docs/benchmarks.md)."""
    script = Path(__file__).resolve().parent.parent / "bench" / "run.py"
    if not script.exists():
        log.error("no benchmarks at %s", script)
        return 2
    sys.argv = [str(script), *rest]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``gridcc`` command."""
    parser = argparse.ArgumentParser(prog="gridcc", description="gridcc 城市运行指挥中心 — grid governance command center")
    sub = parser.add_subparsers(dest="command", required=True)

    def store_arg(p):
        p.add_argument("--store", help="SQLAlchemy URL of the store (default: $GRIDCC_STORE or a DuckDB file in ./data)")

    p = sub.add_parser("seed", help=cmd_seed.__doc__, description=cmd_seed.__doc__)
    store_arg(p)
    p.add_argument("--events", type=_positive, default=DEFAULT_EVENTS, help="events to generate (default 1,000,000)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--days", type=_positive, default=365, help="days of history ending now (default 365)")
    p.add_argument("--small", action="store_true", help="a tiny city (for trying things out)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_seed)

    for name, fn, host, port in (("serve", cmd_serve, "127.0.0.1", 8050), ("demo", cmd_demo, DEMO_HOST, DEMO_PORT)):
        p = sub.add_parser(name, help=fn.__doc__, description=fn.__doc__)
        store_arg(p)
        p.add_argument("--host", default=host, help=f"address to listen on (default {host})")
        p.add_argument("--port", type=int, default=port, help=f"port (default {port})")
        p.add_argument("--threads", type=int, default=16, help="server threads (default 16)")
        p.set_defaults(func=fn)
    demo = sub.choices["demo"]
    demo.add_argument("--events", type=_positive, default=DEFAULT_EVENTS, help="events to seed (default 1,000,000)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument("--reseed", action="store_true", help="seed again even if the demo store is fresh")
    demo.add_argument("--speed", type=float, default=1.0,
                      help="the simulator's speed-up: 1 = the demo city's real rate (about 2 reports a minute), "
                           "60 = an hour of the city's life a minute (default 1)")
    demo.add_argument("--no-simulator", action="store_true", help="serve the seeded history without new events")

    p = sub.add_parser("token", help=cmd_token.__doc__, description=cmd_token.__doc__)
    store_arg(p)
    p.add_argument("action", choices=("create", "list", "revoke"))
    p.add_argument("name", nargs="?", help="the system the token is for, e.g. hotline-12345")
    p.add_argument("--scope", help="create: the area (city, district, street or community code) it may report for "
                                   "and read; default: the whole store")
    p.set_defaults(func=cmd_token)

    from dashboard.auth import ROLES

    p = sub.add_parser("user", help=cmd_user.__doc__, description=cmd_user.__doc__)
    store_arg(p)
    p.add_argument("action", choices=("add", "list", "disable", "enable", "password"))
    p.add_argument("name", nargs="?", help="the sign-in name")
    p.add_argument("--role", choices=list(ROLES), help="add: the role (" + "; ".join(
        f"{k} {v[0]}" for k, v in ROLES.items()) + ")")
    p.add_argument("--scope", help="add: the area code (city, district, street, community) or department code")
    p.add_argument("--display-name", help="add: the name shown, e.g. 张伟 (default: the sign-in name)")
    p.add_argument("--password-stdin", action="store_true", help="add, password: read the password from stdin (scripts)")
    p.set_defaults(func=cmd_user)

    p = sub.add_parser("import-events", help=cmd_import_events.__doc__, description=cmd_import_events.__doc__)
    store_arg(p)
    p.add_argument("file", help="a .csv, .xlsx or .jsonl file whose columns are the API's fields (docs/ingest.md)")
    p.add_argument("--actor", default="import", help="who the event log names as the source (default: import)")
    p.add_argument("--max-problems", type=_positive, default=200, help="problems to list at most (default 200)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_import_events)

    from dashboard.areas_import import register_cli as register_import_areas

    register_import_areas(sub)

    # Listed for the overview; main() hands every argument after "bench" to bench/run.py as it is.
    sub.add_parser("bench", help=cmd_bench.__doc__ + " Try: gridcc bench --help")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``gridcc`` command line."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        return cmd_bench(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "quiet", False):
        logging.getLogger().setLevel(logging.WARNING)  # --quiet: no progress bar and no INFO lines
    if args.command == "token" and args.action in ("create", "revoke") and not args.name:
        parser.error(f"gridcc token {args.action} needs a NAME")
    if args.command == "user" and args.action in ("add", "disable", "enable", "password") and not args.name:
        parser.error(f"gridcc user {args.action} needs a NAME")
    if args.command == "user" and args.action == "add" and not (args.role and args.scope):
        parser.error("gridcc user add needs --role and --scope")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
