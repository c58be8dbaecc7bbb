"""Pure builders of the rankings page (issue 7 §2): the ranked table's rows and columns, the rank change, the
"why this rank" breakdown, the comparison of two periods, and the header block shared with the export and the
print view.

Rows are ``dashboard.rankings.Row`` (cells ``Cell``) — read by attribute only, so tests may pass any object of the
same shape. No SQL, no Dash callbacks; Plotly figures and plain dicts out.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from dashboard.figures import GRID_LINE, INK, TEMPLATE
from dashboard.i18n import t

NORMS = ("none", "households", "grids", "cases")
LEVELS = ("district", "street", "community", "grid", "worker", "department")
KINDS = ("month", "quarter", "year", "custom")
UP, DOWN, SAME = "▲", "▼", "—"
PRIMARY, LOST, GOOD, BAD = "#35c4f0", "#55606e", "#3fb68b", "#e8833a"


def pct(value: float | None) -> str:
    """Return a rate as a percentage to a tenth: "99.9%"; never "100.0%" unless whole, never "0.0%" unless nil."""
    if value is None:
        return "—"
    # Half up on the float product: the same IEEE steps as gridccRankCell in assets/gridcc-rankings.js, so the
    # screen, the print view and the workbook agree to the tenth.
    tenths = math.floor(value * 1000 + 0.5)
    if tenths >= 1000 and value < 1:
        tenths = 999  # 99.96 % is not a full score: people read the tenth
    elif tenths <= 0 and value > 0:
        tenths = 1
    return f"{tenths / 10:.1f}%"


def number(value: float) -> str:
    """Return a count as it reads in a cell: thousands separated; a weighted count to one decimal."""
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def score_text(score: float | None) -> str:
    """Return a score to 2 decimals (what ties are decided on), "—" when there is none."""
    return "—" if score is None else f"{score:.2f}"


def cell_text(cell) -> str:
    """Return an indicator's cell: "99.9% (999/1,000)", numerator and denominator always beside the rate."""
    if not cell.denominator:
        return "— (0/0)"
    return f"{pct(cell.value)} ({number(cell.numerator)}/{number(cell.denominator)})"


def change_text(change: int | None, lang: str) -> tuple[str, str]:
    """Return (text, key) of a rank change: "▲2" up, "▼1" down, "=" level, "—" not comparable; the key names the class."""
    if change is None:
        return SAME, "none"
    if change > 0:
        return f"{UP}{change}", "up"
    if change < 0:
        return f"{DOWN}{-change}", "down"
    return "=", "same"


def change_title(change: int | None, prev_rank: int | None, lang: str) -> str:
    """Return the words behind a change arrow (colour and arrows are never the only cue)."""
    if change is None:
        return t("rank.change.none", lang)
    if change > 0:
        return t("rank.change.up", lang, n=change, prev=prev_rank)
    if change < 0:
        return t("rank.change.down", lang, n=-change, prev=prev_rank)
    return t("rank.change.same", lang, prev=prev_rank)


def per(row, value: float, how: str) -> float | None:
    """Return ``value`` of a row per 1,000 households, per grid or per case of its volume; None without a base."""
    base = {"households": row.households / 1000, "grids": row.grids, "cases": row.volume}.get(how)
    if not base:
        return None
    return value / base


def item_width(largest: int) -> int:
    """Return an item column's width (px) that shows "99.9% (n/d)" whole for denominators up to ``largest``."""
    digits = len(f"{max(0, int(largest)):,}")
    return max(150, round(7.6 * (10 + 2 * digits) + 36))


def table_columns(items: Sequence, lang: str, norm: str = "none", *, level: str = "", spans: str = "",
                  largest: int = 0) -> list[dict]:
    """Return the ranked table's AG Grid columns: rank, change, name, score, grade, each item, volume, sparkline.

    An item's cell holds [numerator, denominator]; the browser writes it "99.9% (999/1,000)" (gridccRankCell in
    assets/gridcc-rankings.js, the rules of ``cell_text``): 5,000 rows × 6 items are not formatted on the server.
    """
    cols = [
        {"field": "rank_text", "headerName": t("rank.col.rank", lang), "width": 78, "pinned": "left",
         "cellClass": "rnk-rank", "type": "rightAligned"},
        {"field": "change_text", "headerName": t("rank.col.change", lang), "width": 92, "pinned": "left",
         "tooltipValueGetter": {"function": "gridccRankChange(params)"}, "cellClass": "rnk-change",
         "cellClassRules": {f"rnk-change-{k}": f"params.data.change_key === '{k}'" for k in ("up", "down", "same")}},
        {"field": "name", "headerName": t(f"rank.col.name.{level}" if level in LEVELS else "rank.col.name", lang),
         "width": 150, "pinned": "left", "tooltipField": "code", "cellClass": "rnk-name"},
        {"field": "parent", "headerName": t("rank.col.parent", lang), "width": 140},
        {"field": "score_text", "headerName": t("rank.col.score", lang), "width": 88, "type": "rightAligned",
         "cellClass": "rnk-score"},
        {"field": "grade", "headerName": t("rank.col.grade", lang), "width": 84, "cellClass": "rnk-grade"},
    ]
    for item in items:
        key = item.indicator
        head = t(f"rank.ind.{key}", lang)
        cols.append({"field": f"i_{key}", "headerName": head, "width": item_width(largest), "type": "rightAligned",
                     "valueFormatter": {"function": "gridccRankCell(params.value)"},
                     "headerTooltip": t("rank.col.item_hint", lang, name=head, w=number(item.weight)),
                     "cellClass": "rnk-item" + (" rnk-item-zero" if not item.weight else "")})
        if norm != "none":
            cols.append({"field": f"n_{key}", "headerName": f"{head} · {t(f'rank.norm.{norm}', lang)}",
                         "width": 150, "type": "rightAligned", "cellClass": "rnk-norm"})
    cols.append({"field": "volume_text", "headerName": t("rank.col.volume", lang), "width": 96, "type": "rightAligned"})
    if norm != "none":
        cols.append({"field": "volume_norm", "headerName": f"{t('rank.col.volume', lang)} · {t(f'rank.norm.{norm}', lang)}",
                     "width": 140, "type": "rightAligned", "cellClass": "rnk-norm"})
    cols.append({"field": "spark", "headerName": t("rank.col.spark", lang), "width": 150, "cellRenderer": "GridccSpark",
                 "sortable": False, **({"headerTooltip": spans} if spans else {})})
    return cols


def table_rows(rows: Sequence, lang: str, norm: str = "none") -> list[dict]:
    """Return the AG Grid rows of a ranked table: every item as "99.9% (n/d)", the change arrow with its words,
    the last 12 periods' scores for the sparkline (None where unscored)."""
    # 5,000 grid workers: the row dicts are what the browser receives, so only what the grid shows (and the
    # sparkline's scores, rounded by the service already) — the numbers themselves are in the JSON API.
    # The change's sentence (its tooltip) is written in the browser from the grid's labels (gridccRankChange).
    out = []
    unit = t(f"rank.norm.unit.{norm}", lang) if norm in NORMS[1:] else ""
    for row in rows:
        change, key = change_text(row.change, lang)
        rec = {
            "code": row.code, "name": row.name, "parent": row.parent_name or "—",
            "rank_text": "—" if row.rank is None else str(row.rank),
            "change_text": change, "change_key": key, "change": row.change, "prev_rank": row.prev_rank,
            "score_text": score_text(row.score), "grade": row.grade or "—", "volume_text": number(row.volume),
            "spark": list(row.spark),
        }
        for cell in row.cells:
            rec[f"i_{cell.indicator}"] = [cell.numerator, cell.denominator]
        if norm != "none":
            base = {"households": row.households / 1000, "grids": row.grids, "cases": row.volume}[norm]
            for cell in row.cells:
                rec[f"n_{cell.indicator}"] = unit.format(v=f"{cell.numerator / base:,.2f}") if base else "—"
            rec["volume_norm"] = unit.format(v=f"{row.volume / base:,.2f}") if base else "—"
        out.append(rec)
    return out


def history_span(periods: Sequence, lang: str) -> str:
    """Return the sparkline's periods as they read: "2025年11月 – 2026年10月" (oldest first); "" without any."""
    from dashboard.rankings import period_label

    if not periods:
        return ""
    return f"{period_label(periods[0], lang)} – {period_label(periods[-1], lang)}"


def split_rows(rows: Sequence) -> tuple[list, list]:
    """Return (ranked, apart): the units at or over the minimum volume, then those ranked on their own."""
    return [r for r in rows if not r.apart], [r for r in rows if r.apart]


def header_facts(ranking, lang: str, *, scope_name: str = "") -> list[tuple[str, str]]:
    """Return the header block as (label, value) pairs: period, cut-off, provisional, configuration, minimum volume."""
    from dashboard.rankings import period_label

    facts = [
        (t("rank.head.level", lang), t(f"rank.level.{ranking.level}", lang)),
        (t("rank.head.scheme", lang), t(f"rank.scheme.{ranking.scheme}", lang)),
        (t("rank.head.period", lang), period_label(ranking.period, lang)),
        (t("rank.head.area", lang), getattr(ranking.area, "name", "") or "—"),
        (t("rank.head.cutoff", lang), f"{ranking.cutoff:%Y-%m-%d %H:%M}"),
        (t("rank.head.state", lang), t("rank.provisional" if ranking.provisional else "rank.final", lang)),
        (t("rank.head.config", lang), str(ranking.config_label)),
        (t("rank.head.min_volume", lang), number(ranking.min_volume)),
        (t("rank.head.weights", lang), ("，" if lang == "zh" else ", ").join(f"{t(f'rank.ind.{i.indicator}', lang)} {number(i.weight)}"
                                                for i in ranking.items)),
    ]
    if scope_name:
        facts.insert(3, (t("rank.head.scope", lang), scope_name))
    return facts


def breakdown_rows(row, lang: str) -> list[dict]:
    """Return one line per indicator of a unit: value, numerator/denominator, weight, points won and lost."""
    out = []
    for cell in row.cells:
        out.append({
            "indicator": cell.indicator, "name": t(f"rank.ind.{cell.indicator}", lang),
            "value": pct(cell.value), "fraction": f"{number(cell.numerator)}/{number(cell.denominator)}",
            "weight": number(cell.weight),
            "points": "—" if cell.points is None else f"{cell.points:.2f}",
            "lost": "—" if cell.lost is None else f"{cell.lost:.2f}",
            "counted": cell.points is not None and cell.weight > 0,
        })
    return out


def _lean(fig: go.Figure) -> dict:
    """Return ``fig`` as the dict dcc.Graph takes, on the app's one lean template (plotly's default adds ~6.4 KB)."""
    out = fig.to_plotly_json()
    out["layout"]["template"] = TEMPLATE
    return out


def breakdown_figure(row, lang: str) -> dict:
    """Return the points each indicator contributed and lost as horizontal stacked bars (they sum to the score)."""
    cells = [c for c in row.cells if c.points is not None and c.weight > 0]
    names = [t(f"rank.ind.{c.indicator}", lang) for c in cells]
    fig = go.Figure()
    fig.add_bar(y=names, x=[round(c.points, 2) for c in cells], orientation="h", name=t("rank.why.points", lang),
                marker_color=PRIMARY, text=[f"{c.points:.2f}" for c in cells], textposition="inside",
                hovertemplate="%{y}: %{x:.2f}<extra></extra>")
    # A thin sliver of lost points has no room for its number: the table above gives it, and the hover.
    fig.add_bar(y=names, x=[round(c.lost, 2) for c in cells], orientation="h", name=t("rank.why.lost", lang),
                marker_color=LOST, marker_pattern_shape="/",
                text=[f"−{c.lost:.2f}" if c.lost >= 4 else "" for c in cells],
                textposition="inside", hovertemplate="%{y}: −%{x:.2f}<extra></extra>")
    fig.update_layout(template="none", barmode="stack", height=70 + 34 * max(1, len(cells)),
                      margin=dict(l=8, r=8, t=8, b=30), paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      font=dict(color=INK), legend=dict(orientation="h", y=-0.15, traceorder="normal"),
                      xaxis=dict(title=None, gridcolor=GRID_LINE),
                      yaxis=dict(autorange="reversed", automargin=True))
    if not cells:
        fig.add_annotation(text=t("rank.why.nothing", lang), showarrow=False, x=0.5, y=0.5, xref="paper",
                           yref="paper")
    return _lean(fig)


def case_counts(row, items: Sequence, listable=None) -> list[tuple[str, str, int]]:
    """Return (indicator, count, n) of every count behind the row's items, in item order: numerators first, then
    the stored parts of the denominator; only those in ``listable`` when given (work days have no cases)."""
    from dashboard.rankings import INDICATORS

    seen, out = set(), []
    for item in items:
        ind = INDICATORS[item.indicator]
        for count in (*(name for name, _ in ind.numerator), *_parts(ind.denominator)):
            if count in seen or (listable is not None and count not in listable):
                continue
            seen.add(count)
            out.append((item.indicator, count, int(row.counts.get(count, 0)) if count in row.counts else _derived(
                row.counts, count)))
    return out


def _parts(count: str) -> tuple[str, ...]:
    """Return the stored counts a derived denominator is made of (to_handle = handled + overdue_open …)."""
    return {"to_handle": ("handled", "overdue_open"), "to_close": ("closed", "overdue_open")}.get(count, (count,))


def _derived(counts: Mapping[str, int], count: str) -> int:
    return sum(int(counts.get(c, 0)) for c in _parts(count))


def compare_rows(a: Sequence, b: Sequence, lang: str) -> list[dict]:
    """Return both periods side by side per unit (A is the page's period, B the other): score and rank, and Δ.

    Units in either period appear once, A's order first; Δ = A − B (score) and B − A (rank: positive = moved up).
    """
    by_b = {r.code: r for r in b}
    codes = [r.code for r in a] + [r.code for r in b if r.code not in {x.code for x in a}]
    by_a = {r.code: r for r in a}
    out = []
    for code in codes:
        ra, rb = by_a.get(code), by_b.get(code)
        sa = None if ra is None or ra.score is None else round(ra.score, 2)
        sb = None if rb is None or rb.score is None else round(rb.score, 2)
        ka = None if ra is None or ra.apart else ra.rank
        kb = None if rb is None or rb.apart else rb.rank
        delta = None if sa is None or sb is None else round(sa - sb, 2)
        move = None if ka is None or kb is None else kb - ka
        text, key = change_text(move, lang)
        out.append({"code": code, "name": (ra or rb).name, "score_a": score_text(sa), "rank_a": str(ka or "—"),
                    "score_b": score_text(sb), "rank_b": str(kb or "—"),
                    "delta": "—" if delta is None else f"{delta:+.2f}", "delta_value": delta,
                    "move": text, "move_key": key, "move_value": move})
    return out


def compare_figure(pairs: Sequence[dict], label_a: str, label_b: str, lang: str) -> dict:
    """Return the score change per unit (A − B) as a diverging bar chart, largest rise on top; words on each bar."""
    shown = [p for p in pairs if p["delta_value"] is not None]
    shown.sort(key=lambda p: (-p["delta_value"], p["code"]))
    fig = go.Figure()
    fig.add_bar(
        y=[p["name"] for p in shown], x=[p["delta_value"] for p in shown], orientation="h",
        marker_color=[GOOD if p["delta_value"] >= 0 else BAD for p in shown],
        marker_pattern_shape=["" if p["delta_value"] >= 0 else "x" for p in shown],
        text=[p["delta"] for p in shown], textposition="outside", cliponaxis=False,
        customdata=[[p["score_b"], p["score_a"]] for p in shown],
        hovertemplate="%{y}: %{customdata[0]} → %{customdata[1]} (%{text})<extra></extra>")
    reach = max([abs(p["delta_value"]) for p in shown] or [1.0]) * 1.3 or 1.0  # room for the numbers outside
    fig.update_layout(
        template="none", height=90 + 24 * max(1, len(shown)), margin=dict(l=8, r=8, t=30, b=30),
        title=dict(text=t("rank.compare.chart", lang, a=label_a, b=label_b), font=dict(size=13)),
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", font=dict(color=INK),
        xaxis=dict(zeroline=True, zerolinecolor="#8899aa", gridcolor=GRID_LINE, title=t("rank.compare.delta", lang),
                   range=[-reach, reach]),
        yaxis=dict(autorange="reversed", automargin=True), showlegend=False)
    if not shown:
        fig.add_annotation(text=t("rank.compare.nothing", lang), showarrow=False, x=0.5, y=0.5, xref="paper",
                           yref="paper")
    return _lean(fig)


def spark_path(values: Sequence[float | None], width: int = 120, height: int = 24) -> str:
    """Return the SVG path of a sparkline over 0…100 (gaps where a period has no score): what the print view draws."""
    step = width / max(1, len(values) - 1)
    parts, pen = [], False
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            pen = False
            continue
        x, y = round(i * step, 1), round(height - 2 - (height - 4) * max(0.0, min(100.0, v)) / 100, 1)
        parts.append(f"{'L' if pen else 'M'}{x},{y}")
        pen = True
    return " ".join(parts)


def period_keys(kind: str, today, n: int | None = None) -> list[str]:
    """Return the keys of the latest periods of ``kind`` up to ``today``'s, newest first (24 months, 8 quarters,
    5 years); [] for a custom period (it is chosen by dates)."""
    if kind == "month":
        out, (y, m) = [], (today.year, today.month)
        for _ in range(n or 24):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        return out
    if kind == "quarter":
        out, (y, q) = [], (today.year, (today.month - 1) // 3 + 1)
        for _ in range(n or 8):
            out.append(f"{y:04d}-Q{q}")
            y, q = (y - 1, 4) if q == 1 else (y, q - 1)
        return out
    if kind == "year":
        return [f"{today.year - i:04d}" for i in range(n or 5)]
    return []


def default_period(kind: str, today) -> str:
    """Return the period a review meeting wants first: last month, last quarter, last year (this one in January …
    never: the last whole one); a custom period defaults to the month so far."""
    keys = period_keys(kind, today, 2)
    if keys:
        return keys[1]
    first = today.replace(day=1)
    return f"{first:%Y-%m-%d}..{today:%Y-%m-%d}"


def period_options(kind: str, today, lang: str) -> list[dict]:
    """Return the period choices of ``kind`` as select options, labelled as people say them."""
    from dashboard.rankings import parse_period, period_label

    return [{"label": period_label(parse_period(key, today=today), lang), "value": key}
            for key in period_keys(kind, today)]
