"""The page registry: every page of the app, registered in one place."""
from __future__ import annotations

import dash

from layouts import overview, shell


def register(app: dash.Dash) -> None:
    """Register the pages and the shell around them on ``app``."""
    dash.register_page("overview", path="/", layout=overview.layout, title="gridcc 城市运行指挥中心", name="overview")
    app.layout = shell.layout
