"""The area breadcrumb and the "go down to…" choices shared by the pages that drill (the SLA page, the rankings)."""
from __future__ import annotations

from collections.abc import Sequence

from dash import html

from dashboard.i18n import level_name


def crumbs(chain: Sequence, lang: str, crumb_type: str) -> list:
    """Return the path from the scope's top to the area in view; every step above is a button whose id is the
    pattern {"type": crumb_type, "code": code}."""
    items = []
    for i, a in enumerate(chain):
        if i:
            items.append(html.Span("›", className="ovw-crumb-sep", **{"aria-hidden": "true"}))
        label = [html.Span(a.name, className="ovw-crumb-name"),
                 html.Span(level_name(a.level, lang), className="ovw-crumb-level")]
        if i < len(chain) - 1:
            items.append(html.Button(label, id={"type": crumb_type, "code": a.code}, className="ovw-crumb",
                                     n_clicks=0, title=a.code))
        else:
            items.append(html.Span(label, className="ovw-crumb ovw-crumb-current", title=a.code,
                                   **{"aria-current": "page"}))
    return items


def child_choices(children: Sequence, first: str, lang: str) -> list[dict]:
    """Return the child areas as dropdown options, after a first option labelled ``first`` (value "")."""
    return [{"label": first, "value": ""}] + [
        {"label": f"{c.name} · {level_name(c.level, lang)}", "value": c.code} for c in children]
