"""The page registry: every page of the app, registered in one place."""
from __future__ import annotations

import dash

from layouts import admin, overview, shell, users


def register(app: dash.Dash) -> None:
    """Register the pages and the shell around them on ``app``."""
    dash.register_page("overview", path="/", layout=overview.layout, title="gridcc 城市运行指挥中心", name="overview")
    dash.register_page("admin_audit", path="/admin/audit", layout=admin.layout, title="审计日志 · gridcc", name="admin_audit")
    dash.register_page("admin_users", path=users.PATH, layout=users.layout, title="用户管理 · gridcc", name="admin_users")
    from layouts import sla

    dash.register_page("sla", path="/sla", layout=sla.layout, title="按期率分析 · gridcc", name="sla")
    from layouts import backlog

    dash.register_page("backlog", path=backlog.PATH, layout=backlog.layout, title="待办案件 · gridcc", name="backlog")
    from layouts import rankings

    dash.register_page("rankings", path=rankings.PATH, layout=rankings.layout, title="排名考核 · gridcc", name="rankings")
    from layouts import rank_admin

    dash.register_page("admin_rankings", path=rank_admin.PATH, layout=rank_admin.layout, title="考核配置 · gridcc",
                       name="admin_rankings")
    from layouts import wall

    dash.register_page("wall", path=wall.PATH, layout=wall.layout, title="大屏 · gridcc", name="wall")
    from layouts import present, tours

    dash.register_page("tours", path=tours.PATH, layout=tours.layout, title="演示讲稿 · gridcc", name="tours")
    dash.register_page("present", path=present.PATH, layout=present.layout, title="演示 · gridcc", name="present")
    app.layout = shell.layout
