"""Export a presenter's tour to PDF and PowerPoint, rendered on this server (issue 8 §3; spec §4).

Each slide is the view's page photographed by Debian's headless Chromium at 1920×1080 × 2 (as the tour's owner,
through a short-lived web session made for the export and ended after it — never a password), its title, its key
figures as real text (from the same services as the JSON API, so they equal the API's answer for the same
``as_of``), its note, and a footer with the cut-off and the data source. The PDF is HTML printed by Chromium with
Noto Sans CJK; the PPTX is built with python-pptx, its East Asian font set so PowerPoint and WPS show Chinese.

A slide whose view cannot be drawn becomes a page that says which view failed and why; the export still completes
and the failure is in the audit row. One export runs at a time per process (Chromium is heavy): a second waits up
to ``WAIT_S`` seconds, then gets 503 with Retry-After.
"""
from __future__ import annotations

import base64
import dataclasses
import html
import io
import logging
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple
from urllib.parse import quote, urlsplit

import flask

from dashboard import access, context, data, views
from dashboard.i18n import t

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
VIEWPORT = {"width": 1920, "height": 1080}
SCALE = 2  # device pixels per CSS pixel: the pictures are 3840×2160
LOAD_TIMEOUT_MS = 30_000  # the page's first load
IDLE_S = 0.5  # "network idle": no request in flight for this long (Playwright's networkidle counts 500 ms)
DRAWN_TIMEOUT_MS = 30_000  # until no element is marked data-dash-is-loading
SETTLE_MS = 300
BUDGET_S = 900.0  # a whole export's pictures: the views left when it runs out are pages saying so
MOUNTED_JS = ("() => { const root = document.getElementById('react-entry-point');"
              " return !!root && root.childElementCount > 0 && !root.querySelector('._dash-loading'); }")
MAX_SLIDES = 60  # a tour's limit (dashboard/tours.py)
WAIT_S = 60.0  # how long a second export waits for the first
RETRY_AFTER_S = 30
MAX_TOUR_ID = 2**31 - 1
RANK_TOP = 3
FORMATS = {"pdf": "application/pdf",
           "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
CJK_FONT = "Noto Sans CJK SC"  # installed with fonts-noto-cjk: the PDF's text face
EA_FONT = "Microsoft YaHei"  # the PPTX's East Asian face: on every Chinese Windows; WPS and LibreOffice map it
LATIN_FONT = "Arial"

_one_at_a_time = threading.Lock()


class SlideFigure(NamedTuple):
    """One key figure of a slide, as the page shows it, e.g. ("按期率", "87.5%")."""

    label: str
    value: str


class Shot(NamedTuple):
    """A slide's picture (PNG bytes), or why there is none."""

    png: bytes | None
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class Page:
    """Everything one slide of the export shows."""

    title: str
    view_name: str  # the page's name ("SLA 监测"): what a failure notice names
    note: str
    figures: tuple[SlideFigure, ...]
    shot: Shot
    figures_error: str | None = None


@dataclasses.dataclass(frozen=True)
class Meta:
    """The title page's and the footers' facts."""

    title: str
    as_of: datetime  # the tour's cut-off, naive city time
    owner: str
    exported_at: datetime  # naive city time
    source: str  # "gridcc <host>"


# -- the key figures ------------------------------------------------------------------------------------------
def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _area_of(view: views.View, scope):
    code = view.get("area") or scope.area_code
    area = data.area(scope, code) if code.isdigit() and len(code) <= 15 else None
    if area is None:
        raise LookupError(f"area {code[:20]} is not in your scope")
    return area


def _overview_figures(view: views.View, scope, as_of: datetime, lang: str) -> list[SlideFigure]:
    """Return the area's figures as /api/v1/areas/{code} answers them, formatted as the overview's tiles."""
    area = _area_of(view, scope)
    as_of, since, until = data.window(as_of=as_of)
    f = data.area_figures(scope, area.code, as_of, since, until)
    rate, hours = f.on_time_rate, f.median_handling_hours
    return [
        SlideFigure(t("export.area", lang), area.name),
        SlideFigure(t("export.reported", lang), _count(f.reported)),
        SlideFigure(t("kpi.open", lang), _count(f.open)),
        SlideFigure(t("kpi.overdue", lang), _count(f.overdue)),
        SlideFigure(t("kpi.closed", lang), _count(f.closed)),
        SlideFigure(t("kpi.on_time_rate", lang), "—" if rate is None else f"{rate * 100:,.1f}%"),
        SlideFigure(t("kpi.median_hours", lang), "—" if hours is None else f"{hours:,.1f} {t('unit.hours', lang)}"),
    ]


def _sla_figures(view: views.View, scope, as_of: datetime, lang: str) -> list[SlideFigure]:
    """Return the SLA page's headline tiles: open cases by traffic light now, and those turning red within 2 h."""
    from layouts.sla import LIGHT_TILES

    area = _area_of(view, scope)
    lights = data.sla_lights(scope, area.code, data.window(as_of=as_of)[0])
    keys = ("turning_red_2h", *LIGHT_TILES)
    return [SlideFigure(t("export.area", lang), area.name),
            *(SlideFigure(t(f"sla.light.{k}", lang), _count(getattr(lights, k))) for k in keys)]


def _rankings_figures(view: views.View, scope, as_of: datetime, lang: str) -> list[SlideFigure]:
    """Return the ranking's level, scheme and period, then its first rows: rank, name (as the page shows it), score."""
    from dashboard import rank_api, rank_figures, rank_service
    from dashboard.rankings import period_label

    query = rank_api.parse_query({k: v for k, v in view.query if k in rank_api.PARAMS}, scope, today=as_of.date())
    query = dataclasses.replace(query, as_of=as_of, compare=None)
    ranking = rank_service.ranking(scope, **query.args())
    ranked, apart = rank_figures.split_rows(ranking.rows)
    # The table's first rows; when fewer units reach the minimum volume, the first of those ranked apart, marked.
    rows = [SlideFigure(t("export.rank_unranked" if row.rank is None else
                          "export.rank_apart" if row.apart else "export.rank_row", lang, rank=row.rank, name=row.name),
                        rank_figures.score_text(row.score)) for row in [*ranked, *apart][:RANK_TOP]]
    return [SlideFigure(t("rank.head.level", lang), t(f"rank.level.{ranking.level}", lang)),
            SlideFigure(t("rank.head.scheme", lang), t(f"rank.scheme.{ranking.scheme}", lang)),
            SlideFigure(t("rank.head.period", lang), period_label(ranking.period, lang)),
            *(rows or [SlideFigure(t("export.rank_none", lang), "—")])]


_FIGURES = {"/": _overview_figures, "/sla": _sla_figures, "/rankings": _rankings_figures}


def slide_figures(view: views.View, *, scope, as_of: datetime, lang: str) -> list[SlideFigure]:
    """Return the view's key figures at ``as_of`` (naive city time), from the services the JSON API uses.

    Raise LookupError for an area outside ``scope`` and ValueError for a view the service refuses.
    """
    figures = _FIGURES.get(view.path)
    return [] if figures is None else figures(view, scope, as_of.replace(second=0, microsecond=0), lang)


# -- the pictures ---------------------------------------------------------------------------------------------
def slide_url(slide, tour, lang: str) -> str:
    """Return the path a slide is shown at: its view frozen at the tour's cut-off, without the top bar."""
    return views.parse(f"{slide.path}?{slide.query}").url(as_of=tour.as_of, lang=lang, embed=True)


class _Traffic:
    """The page's requests in flight, the live stream and its polls left out (they never end while a page is live)."""

    IGNORED = ("/api/v1/live/",)

    def __init__(self):
        self.inflight: set = set()
        self.last = time.monotonic()

    def watch(self, page) -> None:
        page.on("request", self._started)
        for event in ("requestfinished", "requestfailed"):
            page.on(event, self._ended)

    def _started(self, request) -> None:
        if not urlsplit(request.url).path.startswith(self.IGNORED):
            self.inflight.add(request)
            self.last = time.monotonic()

    def _ended(self, request) -> None:
        if request in self.inflight:
            self.inflight.discard(request)
            self.last = time.monotonic()

    def quiet(self, page, *, idle_s: float = IDLE_S, timeout_s: float = DRAWN_TIMEOUT_MS / 1000) -> None:
        """Wait until nothing has been in flight for ``idle_s`` (Playwright's "networkidle", the stream aside)."""
        deadline = time.monotonic() + timeout_s
        while self.inflight or time.monotonic() - self.last < idle_s:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the page was still loading after {timeout_s:.0f} s")
            page.wait_for_timeout(50)  # Playwright delivers the request events while it waits


def _drawn(page, traffic: _Traffic) -> None:
    """Wait for spec §2's ready signal: network idle, nothing marked loading, then 300 ms more.

    "Network idle" is counted here rather than by Playwright: a page that still holds its live stream (not frozen)
    would never be idle by Playwright's count, though it is drawn.
    """
    # Dash draws after the load event: first its layout must be in (the renderer's "Loading..." gone).
    page.wait_for_function(MOUNTED_JS, timeout=DRAWN_TIMEOUT_MS)
    traffic.quiet(page)
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading=\"true\"]')",
                           timeout=DRAWN_TIMEOUT_MS)
    page.wait_for_timeout(SETTLE_MS)
    traffic.quiet(page, idle_s=0)


def _shoot(page, base_url: str, path: str, failures: list[str], traffic: _Traffic) -> Shot:
    """Open ``path`` and photograph the viewport; a failure is a Shot without picture saying why."""
    failures.clear()
    try:
        response = page.goto(base_url + path, wait_until="load", timeout=LOAD_TIMEOUT_MS)
        if response is None or response.status >= 400:
            return Shot(None, f"HTTP {getattr(response, 'status', '?')}")
        if urlsplit(page.url).path != urlsplit(path).path:
            return Shot(None, f"redirected to {urlsplit(page.url).path[:80]}")
        _drawn(page, traffic)
        if failures:
            return Shot(None, failures[0])
        return Shot(page.screenshot(type="png", full_page=False))
    except Exception as error:  # noqa: BLE001 — one view's failure must not lose the others
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return Shot(None, first[:200])


class _Browser:
    """Headless Chromium for one export: a signed-in context for the pictures, a script-less one for printing."""

    def __init__(self, base_url: str, cookie: Mapping[str, str]):
        self.base_url = base_url.rstrip("/")
        self.cookie = dict(cookie)

    def __enter__(self) -> _Browser:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self.browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception:
            self._playwright.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.browser.close()
        finally:
            self._playwright.stop()

    def shots(self, paths: Sequence[str | Shot]) -> list[Shot]:
        """Photograph each path at 1920×1080 × 2, signed in by the cookie (a Shot given: a view with no address)."""
        context = self.browser.new_context(viewport=VIEWPORT, device_scale_factor=SCALE, locale="zh-CN",
                                           timezone_id="Asia/Shanghai")
        try:
            context.add_cookies([{"name": name, "value": value, "url": self.base_url}
                                 for name, value in self.cookie.items()])
            origin = urlsplit(self.base_url).netloc
            failures: list[str] = []

            def route(request_route):  # nothing leaves this server: no CDN, no tiles, no other host
                if urlsplit(request_route.request.url).netloc != origin:
                    request_route.abort()
                else:
                    request_route.continue_()

            def answered(response):  # a callback that failed leaves a panel undrawn: the picture would mislead
                if "/_dash-update-component" in response.url and response.status >= 500:
                    failures.append(f"a panel failed to draw (HTTP {response.status})")

            page = context.new_page()
            page.route("**/*", route)
            page.on("response", answered)
            traffic = _Traffic()
            traffic.watch(page)
            deadline = time.monotonic() + BUDGET_S
            return [path if isinstance(path, Shot) else
                    _shoot(page, self.base_url, path, failures, traffic) if time.monotonic() < deadline else
                    Shot(None, f"not drawn: the export's {BUDGET_S // 60:.0f} minutes ran out") for path in paths]
        finally:
            context.close()

    def pdf(self, document: str, lang: str = "zh") -> bytes:
        """Print ``document`` (HTML, no script) to PDF with its own page size."""
        context = self.browser.new_context(java_script_enabled=False, offline=True)
        try:
            page = context.new_page()
            page.set_content(document, wait_until="load")
            printed = page.pdf(print_background=True, prefer_css_page_size=True)
            check, chars = _calibration(document, lang)
            page.set_content(check, wait_until="load")
            table = alias_table(_read_back(page.pdf(), chars)) if chars else {}
            return unified_text_pdf(printed, table)
        finally:
            context.close()


# -- the PDF --------------------------------------------------------------------------------------------------
# Chromium's PDF writer names each glyph by the lowest code point that maps to it, so an ideograph whose glyph a
# radical shares (十 and ⼗ U+2F17, 页 and ⻚ U+2EDA; 门 and ⻔ U+2EC7 once the Chinese forms are chosen) copies and
# searches as the radical. The document's own characters are printed once more, one a line, and read back: what
# comes back different is what the text maps must say instead (unified_text_pdf puts them right).
CALIBRATE_FROM = 0x2E80  # the radicals, CJK symbols and ideographs lie above


def alias_table(printed: Mapping[str, str]) -> dict[int, int]:
    """Return {code point the PDF says: character meant} from ``printed`` ({character: what its PDF text reads})."""
    meant: dict[int, set[int]] = {}
    for char, read in printed.items():
        if len(read) == 1 and read != char and read not in printed:
            meant.setdefault(ord(read), set()).add(ord(char))
    return {alias: chars.pop() for alias, chars in meant.items() if len(chars) == 1}


def _calibration(document: str, lang: str) -> tuple[str, list[str]]:
    """Return a page printing each CJK character of ``document`` on its own line, regular and bold, and the list."""
    chars = sorted({ch for ch in document if ord(ch) >= CALIBRATE_FROM})
    lines = "".join(f"<p>{html.escape(ch)}</p><p><b>{html.escape(ch)}</b></p>" for ch in chars)
    return (f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8"><style>'
            f'body {{ font-family: "{CJK_FONT}", sans-serif; font-size: 9pt; }} p {{ margin: 0; }} b {{ font-weight: 700; }}'
            f"</style></head><body>{lines}</body></html>", chars)


def _read_back(pdf: bytes, chars: Sequence[str]) -> dict[str, str]:
    """Return {character: what the calibration PDF's text reads for it} (both weights must agree), {} if unclear."""
    import pypdf

    lines = [line.strip() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
             for line in page.extract_text().splitlines() if line.strip()]
    if len(lines) != 2 * len(chars):
        log.warning("the PDF text check read %d lines for %d characters: left as printed", len(lines), 2 * len(chars))
        return {}
    return {ch: regular for ch, regular, bold in zip(chars, lines[::2], lines[1::2]) if regular == bold}


_BFCHAR = re.compile(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_BFRANGE = re.compile(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def _fixed_cmap(text: str, table: Mapping[int, int]) -> str | None:
    """Return a ToUnicode CMap with aliases replaced by their unified ideographs, or None when nothing changes."""
    head, _, rest = text.partition("endcodespacerange")
    if not rest:
        return None
    codes: dict[str, str] = {}
    for kind, body in re.findall(r"begin(bfchar|bfrange)(.*?)end\1", rest, re.S):
        if kind == "bfchar":
            codes.update((lo, bytes.fromhex(dst).decode("utf-16-be", "replace")) for lo, dst in _BFCHAR.findall(body))
            continue
        for lo, hi, dst in _BFRANGE.findall(body):
            first = bytes.fromhex(dst).decode("utf-16-be", "replace")
            for n in range(min(int(hi, 16) - int(lo, 16) + 1, 256)):
                codes[f"{int(lo, 16) + n:0{len(lo)}X}"] = first[:-1] + chr(ord(first[-1]) + n)
    fixed = {code: "".join(chr(table.get(ord(ch), ord(ch))) for ch in value) for code, value in codes.items()}
    if fixed == codes:
        return None
    items = list(fixed.items())
    blocks = [f"{len(chunk)} beginbfchar\n" + "".join(f"<{code}> <{value.encode('utf-16-be').hex().upper()}>\n"
                                                      for code, value in chunk) + "endbfchar\n"
              for chunk in (items[i:i + 100] for i in range(0, len(items), 100))]
    return head + "endcodespacerange\n" + "".join(blocks) + \
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"


def unified_text_pdf(pdf: bytes, table: Mapping[int, int]) -> bytes:
    """Return ``pdf`` with its fonts' text maps saying the characters meant ({code point said: meant})."""
    import pypdf

    if not table:
        return pdf
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    seen: set[int] = set()
    changed = False
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            stream = font.get("/ToUnicode")
            if stream is None or id(stream.get_object()) in seen:
                continue
            stream = stream.get_object()
            seen.add(id(stream))
            fixed = _fixed_cmap(stream.get_data().decode("latin-1"), table)
            if fixed is not None:
                stream.set_data(fixed.encode("latin-1"))
                changed = True
    if not changed:
        return pdf
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF_CSS = f"""
@page {{ size: 13.333in 7.5in; margin: 0; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; font-family: "{CJK_FONT}", "Noto Sans", sans-serif; color: #1b2733; }}
.page {{ width: 13.333in; height: 7.5in; padding: 0.32in 0.45in 0.25in; display: flex; flex-direction: column;
         overflow: hidden; break-after: page; }}
.page:last-child {{ break-after: auto; }}
h1 {{ font-size: 22pt; font-weight: 700; margin: 0 0 0.14in; line-height: 1.2; white-space: nowrap;
      overflow: hidden; text-overflow: ellipsis; }}
.body {{ flex: 1; display: flex; gap: 0.25in; min-height: 0; }}
.shot {{ flex: 0 0 9.5in; height: 5.344in; border: 1px solid #c8d0d8; display: flex; align-items: center;
         justify-content: center; background: #f4f6f8; }}
.shot img {{ width: 100%; height: 100%; object-fit: contain; display: block; }}
.failed {{ padding: 0.4in; font-size: 16pt; color: #8a1c1c; text-align: center; line-height: 1.6; }}
.failed small {{ display: block; font-size: 11pt; color: #444; margin-top: 0.1in; word-break: break-all; }}
.side {{ flex: 1; min-width: 0; display: flex; flex-direction: column; gap: 0.1in; }}
.fig {{ border-bottom: 1px solid #e1e6eb; padding: 0.03in 0 0.06in; }}
.fig .label {{ display: block; font-size: 10pt; color: #52606d; }}
.fig .value {{ display: block; font-size: 17pt; font-weight: 700; line-height: 1.25; overflow-wrap: anywhere; }}
.fig.error .value {{ font-size: 10.5pt; font-weight: 400; color: #8a1c1c; }}
.note {{ font-size: 10.5pt; line-height: 1.5; white-space: pre-wrap; overflow: hidden; overflow-wrap: anywhere;
         border-left: 3px solid #2f6fab; padding-left: 0.1in; margin-top: 0.06in; }}
footer {{ margin-top: 0.12in; padding-top: 0.06in; border-top: 1px solid #c8d0d8; font-size: 9pt; color: #52606d;
          display: flex; justify-content: space-between; }}
.cover {{ justify-content: center; padding: 0.9in 1.1in; }}
.cover h1 {{ font-size: 34pt; white-space: normal; margin-bottom: 0.35in; }}
.cover dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 0.1in 0.35in; font-size: 15pt; margin: 0; }}
.cover dt {{ color: #52606d; }}
.cover dd {{ margin: 0; }}
"""


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def footer_text(meta: Meta, n: int, total: int, lang: str) -> str:
    """Return a slide's footer: cut-off (city time) · data source · n/N."""
    return t("export.footer", lang, as_of=f"{meta.as_of:%Y-%m-%d %H:%M}", source=meta.source, n=n, total=total)


def cover_facts(meta: Meta, slides: int, lang: str) -> list[tuple[str, str]]:
    """Return the title page's facts: cut-off, owner, exported at, number of slides."""
    return [(t("export.cover.as_of", lang), f"{meta.as_of:%Y-%m-%d %H:%M}"),
            (t("export.cover.owner", lang), meta.owner),
            (t("export.cover.exported", lang), f"{meta.exported_at:%Y-%m-%d %H:%M}"),
            (t("export.cover.slides", lang), str(slides)),
            (t("export.cover.source", lang), meta.source)]


def failure_text(page: Page, lang: str) -> str:
    """Return what a slide without picture says: which view failed and why."""
    return t("export.failed", lang, view=page.view_name, why=page.shot.error or "?")


def pdf_html(meta: Meta, pages: Sequence[Page], lang: str) -> str:
    """Return the export as one HTML document: a title page, then one 16:9 page per slide (everything escaped)."""
    out = [f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">'
           f"<title>{_esc(meta.title)}</title><style>{PDF_CSS}</style></head><body>",
           '<section class="page cover">', f"<h1>{_esc(meta.title)}</h1><dl>",
           *(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in cover_facts(meta, len(pages), lang)),
           "</dl></section>"]
    for n, page in enumerate(pages, 1):
        if page.shot.png is not None:
            picture = f'<img alt="{_esc(page.title)}" src="data:image/png;base64,' \
                      f'{base64.b64encode(page.shot.png).decode()}">'
        else:
            picture = f'<div class="failed">{_esc(failure_text(page, lang))}</div>'
        figures = "".join(f'<div class="fig"><span class="label">{_esc(f.label)}</span>'
                          f'<span class="value">{_esc(f.value)}</span></div>' for f in page.figures)
        if page.figures_error and page.figures_error != page.shot.error:
            figures += f'<div class="fig error"><span class="label">{_esc(t("export.no_figures", lang))}</span>' \
                       f'<span class="value">{_esc(page.figures_error)}</span></div>'
        note = f'<div class="note">{_esc(page.note)}</div>' if page.note else ""
        out.append(f'<section class="page"><h1>{_esc(page.title)}</h1><div class="body">'
                   f'<div class="shot">{picture}</div><div class="side">{figures}{note}</div></div>'
                   f"<footer><span>{_esc(footer_text(meta, n, len(pages), lang))}</span></footer></section>")
    out.append("</body></html>")
    return "".join(out)


# -- the PPTX -------------------------------------------------------------------------------------------------
def _font(run, size_pt: float, *, bold: bool = False, grey: bool = False) -> None:
    """Set a run's size and faces: Latin and, for Chinese, the East Asian face (a:ea)."""
    from lxml import etree
    from pptx.dml.color import RGBColor
    from pptx.oxml.ns import qn
    from pptx.util import Pt

    run.font.size = Pt(size_pt)
    run.font.bold = bold
    run.font.color.rgb = RGBColor(0x52, 0x60, 0x6D) if grey else RGBColor(0x1B, 0x27, 0x33)
    run.font.name = LATIN_FONT  # a:latin, after the fill (schema order: fill, latin, ea, cs)
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:ea", "a:cs"):
        found = rpr.find(qn(tag))
        if found is None:
            found = etree.SubElement(rpr, qn(tag))
        found.set("typeface", EA_FONT)


def _text_box(slide, name: str, left, top, width, height, lines: Sequence[tuple[str, float, bool, bool]]):
    """Add a text box of ``lines`` (text, size pt, bold, grey), each its own paragraph, word-wrapped."""
    box = slide.shapes.add_textbox(left, top, width, height)
    box.name = name
    frame = box.text_frame
    frame.word_wrap = True
    for i, (text, size, bold, grey) in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        _font(paragraph.add_run(), size, bold=bold, grey=grey)
        paragraph.runs[0].text = text
    return box


def pptx_bytes(meta: Meta, pages: Sequence[Page], lang: str) -> bytes:
    """Return the export as a 16:9 PowerPoint file: a title slide, then one slide per view (note in the notes)."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Inches

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    blank = deck.slide_layouts[6]
    cover = deck.slides.add_slide(blank)
    _text_box(cover, "gridcc-title", Inches(1.1), Inches(1.4), Inches(11.1), Inches(1.6), [(meta.title, 36, True, False)])
    _text_box(cover, "gridcc-cover", Inches(1.1), Inches(3.2), Inches(11.1), Inches(3.0),
              [(f"{k}：{v}" if lang != "en" else f"{k}: {v}", 16, False, False)
               for k, v in cover_facts(meta, len(pages), lang)])
    for n, page in enumerate(pages, 1):
        slide = deck.slides.add_slide(blank)
        _text_box(slide, "gridcc-title", Inches(0.45), Inches(0.25), Inches(12.4), Inches(0.7),
                  [(page.title, 24, True, False)])
        left, top, width, height = Inches(0.45), Inches(1.05), Inches(9.5), Inches(5.344)
        if page.shot.png is not None:
            picture = slide.shapes.add_picture(io.BytesIO(page.shot.png), left, top, width, height)
            picture.name = "gridcc-picture"
        else:
            box = _text_box(slide, "gridcc-failed", left, top, width, height, [(failure_text(page, lang), 18, True, False)])
            box.line.color.rgb = RGBColor(0x8A, 0x1C, 0x1C)
        lines = [line for f in page.figures for line in ((f.label, 11, False, True), (f.value, 20, True, False))]
        if page.figures_error and page.figures_error != page.shot.error:
            lines += [(t("export.no_figures", lang), 11, False, True), (page.figures_error, 12, False, False)]
        if lines:
            _text_box(slide, "gridcc-figures", Inches(10.2), Inches(1.05), Inches(2.7), Inches(5.344), lines)
        _text_box(slide, "gridcc-footer", Inches(0.45), Inches(6.85), Inches(12.4), Inches(0.4),
                  [(footer_text(meta, n, len(pages), lang), 10, False, True)])
        if page.note:
            slide.notes_slide.notes_text_frame.text = page.note
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


# -- putting a tour together ----------------------------------------------------------------------------------
def _view_name(slide, lang: str) -> str:
    key = views.PAGES.get(slide.path)
    return t(key, lang) if key else str(slide.path)[:60]


def _pages(tour, slides, shots: Sequence[Shot], figures, lang: str) -> list[Page]:
    out = []
    for slide, shot, found in zip(slides, shots, figures):
        error = found if isinstance(found, str) else None
        out.append(Page(title=slide.title, view_name=_view_name(slide, lang), note=slide.note or "",
                        figures=() if error else tuple(found), shot=shot, figures_error=error))
    return out


def _paths(tour, slides, lang: str) -> list[str | Shot]:
    """Return each slide's address, or a Shot saying why it has none (a stored view this app no longer reads)."""
    paths: list[str | Shot] = []
    for slide in slides:
        try:
            paths.append(slide_url(slide, tour, lang))
        except ValueError as error:
            paths.append(Shot(None, str(error)[:200]))
    return paths


def _render(tour, slides, *, base_url, cookie, lang, figures, meta, build) -> tuple[bytes, list[Page]]:
    with _Browser(base_url, cookie) as browser:
        pages = _pages(tour, slides, browser.shots(_paths(tour, slides, lang)), figures, lang)
        if build == "pdf":
            return browser.pdf(pdf_html(meta, pages, lang), lang), pages
    return pptx_bytes(meta, pages, lang), pages


def _meta(tour, base_url: str, owner_name: str | None) -> Meta:
    # The source names the host the presenter asked (what the room knows it by), not the browser's loopback.
    host = flask.request.host if flask.has_request_context() else urlsplit(base_url).netloc
    host = "".join(ch for ch in host if ch.isprintable())[:100]
    return Meta(title=tour.title, as_of=tour.as_of, owner=owner_name or tour.owner,
                exported_at=context.current().settings.now().replace(microsecond=0), source=f"gridcc {host}")


def _figures_of(tour, slides, lang: str) -> list:
    """Return each slide's figures for the requesting user, or a short reason they could not be read."""
    scope = data.request_scope()
    out = []
    for slide in slides:
        try:
            view = views.parse(f"{slide.path}?{slide.query}")
            out.append(slide_figures(view, scope=scope, as_of=tour.as_of, lang=lang))
        except (LookupError, ValueError) as error:
            out.append(str(error)[:200] or type(error).__name__)
    return out


def render_pdf(tour, slides, *, base_url: str, cookie: Mapping[str, str], lang: str, figures=None,
               owner_name: str | None = None) -> bytes:
    """Return the tour as PDF: a title page and one landscape 16:9 page per slide (call inside a request)."""
    figures = _figures_of(tour, slides, lang) if figures is None else figures
    return _render(tour, slides, base_url=base_url, cookie=cookie, lang=lang, figures=figures,
                   meta=_meta(tour, base_url, owner_name), build="pdf")[0]


def render_pptx(tour, slides, *, base_url: str, cookie: Mapping[str, str], lang: str, figures=None,
                owner_name: str | None = None) -> bytes:
    """Return the tour as PowerPoint: a title slide and one 16:9 slide per view (call inside a request)."""
    figures = _figures_of(tour, slides, lang) if figures is None else figures
    return _render(tour, slides, base_url=base_url, cookie=cookie, lang=lang, figures=figures,
                   meta=_meta(tour, base_url, owner_name), build="pptx")[0]


# -- the browser's session ------------------------------------------------------------------------------------
def start_session(principal) -> tuple[str, dict[str, str]]:
    """Start a web session for ``principal`` (masked as theirs is); return its id hash and the browser's cookies."""
    from queries import sessions as session_queries
    from queries import users as user_queries

    ctx = context.current()
    session_id = secrets.token_urlsafe(32)
    digest = access._digest(session_id)
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        user = user_queries.get_user(conn, name=principal.name)
        session_queries.start(conn, id_sha256=digest, user_name=user.name, now=ctx.settings.now(), source="tour-export",
                              fingerprint=access.fingerprint(user_queries.password_hash(conn, name=user.name),
                                                             user.role, user.scope_kind, user.scope_code))
        if principal.public_wall:
            session_queries.set_public_wall(conn, id_sha256=digest, on=True)
    app = flask.current_app
    signed = app.session_interface.get_signing_serializer(app).dumps({"sid": session_id, "_permanent": True})
    return digest, {access.SESSION_COOKIE: signed, access.CSRF_COOKIE: access.csrf_token(digest)}


def end_session(digest: str) -> None:
    """End the export's web session."""
    from queries import sessions as session_queries

    ctx = context.current()
    with ctx.ingestor.write_lock, ctx.engine.begin() as conn:
        session_queries.end(conn, id_sha256=digest, now=ctx.settings.now())


# -- the routes -----------------------------------------------------------------------------------------------
bp = flask.Blueprint("tour_export", __name__)


def base_url() -> str:
    """Return where the headless browser finds this app: GRIDCC_SELF_URL when set, else the port this request
    came in on, on the loopback.

    Never the request's Host header: the caller writes it, and the browser would carry the export's session to,
    and photograph, whatever host it names (a server-side request forgery).
    """
    told = context.current().settings.self_url
    if told:
        return told.rstrip("/")
    port = str(flask.request.environ.get("SERVER_PORT", ""))
    return f"http://127.0.0.1:{port}" if port.isdigit() else "http://127.0.0.1"


def download_name(title: str, tour_id: int, ext: str) -> str:
    """Return a Content-Disposition value: an ASCII fallback and the title itself (RFC 5987) as the file name."""
    clean = "".join(ch for ch in unicodedata.normalize("NFC", title)
                    if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    clean = re.sub(r'[\\/:*?"<>|]+', "_", clean).strip(" ._")[:80] or f"tour-{tour_id}"
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]+", "_", clean).strip(" _") or f"tour-{tour_id}"
    if not re.search(r"[A-Za-z0-9]", ascii_name):
        ascii_name = f"tour-{tour_id}"
    return f"attachment; filename=\"{ascii_name}.{ext}\"; filename*=UTF-8''{quote(clean + '.' + ext, safe='')}"


def _refuse(status: int, message: str, **headers) -> flask.Response:
    response = flask.make_response(message + "\n", status)
    response.mimetype = "text/plain"
    response.headers.update(headers)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/tours/<int:tour_id>/export.<fmt>")
def export(tour_id: int, fmt: str):
    """Send the caller's tour ``tour_id`` as PDF or PPTX (``?lang=zh|en``); another user's tour is a 404."""
    from queries import tours as tour_queries

    principal = access.current()
    lang = flask.request.args.get("lang") or "zh"
    if fmt not in FORMATS or principal is None or principal.kind != "user" or not 0 < tour_id <= MAX_TOUR_ID:
        return _refuse(404, "no such export")
    if lang not in ("zh", "en"):
        return _refuse(400, "'lang' must be zh or en")
    ctx = context.current()
    with ctx.connect() as conn:
        tour = tour_queries.tour(conn, owner=principal.name, tour_id=tour_id)
        slides = tour_queries.slides(conn, owner=principal.name, tour_id=tour_id) if tour is not None else []
    if tour is None:
        return _refuse(404, "no such tour")
    if len(slides) > MAX_SLIDES:
        return _refuse(400, f"a tour of more than {MAX_SLIDES} slides cannot be exported")
    figures = _figures_of(tour, slides, lang)
    if not _one_at_a_time.acquire(timeout=WAIT_S):
        access.audit("tour.export", "busy", target=f"tour:{tour_id}", detail=fmt)
        return _refuse(503, "another export is running: try again shortly", **{"Retry-After": str(RETRY_AFTER_S)})
    started = time.monotonic()
    try:
        digest, cookie = start_session(principal)
        try:
            home = base_url()
            body, pages = _render(tour, slides, base_url=home, cookie=cookie, lang=lang, figures=figures,
                                  meta=_meta(tour, home, principal.display_name), build=fmt)
        finally:
            end_session(digest)
    except Exception as error:
        log.exception("tour %s: the %s export failed", tour_id, fmt)
        access.audit("tour.export", "failed", target=f"tour:{tour_id}", detail=f"{fmt}: {str(error)[:300]}")
        return _refuse(500, "the export failed (the error is logged)")
    finally:
        _one_at_a_time.release()
    failed = [f"{n}: {p.view_name}: {p.shot.error or p.figures_error}" for n, p in enumerate(pages, 1)
              if p.shot.png is None or p.figures_error]
    detail = f"{fmt}, {len(pages)} slides, {time.monotonic() - started:.1f} s" + \
             (f"; failed {'; '.join(failed)}" if failed else "")
    access.audit("tour.export", "partial" if failed else "ok", target=f"tour:{tour_id}", detail=detail[:1000])
    response = flask.make_response(body)
    response.mimetype = FORMATS[fmt]
    response.headers["Content-Disposition"] = download_name(tour.title, tour_id, fmt)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(server: flask.Flask) -> None:
    """Add the export routes."""
    server.register_blueprint(bp)
