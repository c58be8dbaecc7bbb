"""Thin callbacks, one module per page (same stem as layouts/); each has ``register(app)``."""
from __future__ import annotations


def register_all(app) -> None:
    """Bind every page's callbacks to ``app``."""
    from callbacks import admin, overview, shell, users

    shell.register(app)
    overview.register(app)
    admin.register(app)
    users.register(app)
    from callbacks import sla

    sla.register(app)
    from callbacks import backlog

    backlog.register(app)
    from callbacks import rankings

    rankings.register(app)
    from callbacks import rank_admin

    rank_admin.register(app)
    from callbacks import wall

    wall.register(app)
    from callbacks import tour_tools, tours

    tours.register(app)
    tour_tools.register(app)
