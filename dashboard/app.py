"""The app factory: one Dash app per call, wired to its own store and cache."""
from __future__ import annotations

import logging
from pathlib import Path

import dash
from flask_caching import Cache
from sqlalchemy import Engine

from dashboard import context
from dashboard.settings import Settings, from_env
from dashboard.store import init_schema, make_engine

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> dash.Dash:
    """Create the gridcc Dash app for ``settings`` (from the environment when omitted)."""
    from callbacks import register_all
    from dashboard import access, api, geo, ingest_api, open311, pages  # noqa: F401  (ingest_api adds the write routes)
    from dashboard import alert_rules, audit_export, live, rank_config, rank_service
    from dashboard import sla_api  # noqa: F401  (adds /api/v1/sla and /api/v1/sla/cases)
    from dashboard import rank_api  # noqa: F401  (adds /api/v1/rankings and /api/v1/rankings/cases)
    from dashboard import fieldwork_api  # noqa: F401  (adds /api/v1/fieldwork/* and /api/v1/hotline/followups)
    from dashboard.ingest import Ingestor

    settings = settings or from_env()
    rank_config.load_file(settings.rankings or None)  # a bad rankings configuration stops here, naming the key
    from dashboard import wall

    wall.load_file(settings.wall_playlists or None)  # a bad wall playlist file stops here, naming the entry
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        serve_locally=True,
        title="gridcc 城市运行指挥中心",
        update_title=None,
        suppress_callback_exceptions=True,
        compress=False,
    )
    server = app.server
    server.secret_key = settings.secret()
    cache = Cache(config={"CACHE_TYPE": settings.cache_type, "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout_s,
                          "CACHE_THRESHOLD": 5000})
    cache.init_app(server)
    server.config["MAX_CONTENT_LENGTH"] = ingest_api.MAX_BODY
    engine = engine or make_engine(settings)
    init_schema(engine)  # an empty store gets its tables; an older one the columns it lacks
    ingestor = Ingestor(engine, tz=settings.tz, now=settings.now, calendar=settings.calendar())
    context.init_app(server, context.AppContext(settings=settings, engine=engine, cache=cache, ingestor=ingestor))
    access.init_app(server)  # the gate first: no route answers before it has found the caller
    hub = live.init_app(server, engine)
    ingestor.listeners.append(lambda version, at, grids: hub.publish(live.Change(version, at, tuple(grids))))
    # The alert rules and webhooks (a bad configuration stops here); the evaluator stops with the hub.
    alert_rules.init_app(server, server.extensions[context.EXTENSION_KEY], hub)
    # Rankings: months due are frozen off the request path (dashboard/rank_service.py).
    rank_service.start_freezer(engine, settings, lock=ingestor.write_lock, every_s=settings.rank_freeze_every_s,
                               stopped=hub._stopped.is_set)
    pages.register(app)
    register_all(app)
    api.init_app(server)
    open311.init_app(server)
    geo.init_app(server)
    audit_export.init_app(server)
    from dashboard import tour_export  # /tours/<id>/export.pdf and .pptx (issue 8 §3)
    tour_export.init_app(server)
    return app
