"""The cases bench/run.py times: overview callbacks in-process, the same screens the naive way,
HTTP payloads of a real server, and a drill click in headless Chromium.

Since the gate (issue 4) every read needs a caller: the callbacks run as a city leader's principal
preset in each request context; the HTTP cases send an API token to /api/ (and use a signed-in
session for /geo/, which takes no token); the browser signs in through the form as the bench user
that bench/run.py adds to the server's store before starting it (bench/access_cases.py).
"""
from __future__ import annotations

import gzip
import http.cookiejar
import json
import time
import urllib.parse
import urllib.request

import plotly

from bench.access_cases import BENCH_PASSWORD, BENCH_USER, as_principal, city_principal
from bench.stats import percentile, timed

LEVELS = ("city", "district", "street", "community", "grid")
CALLBACKS = ("update_view", "update_map", "update_kpis", "update_categories", "update_trend")


def _drill_codes(app, principal) -> list[str]:
    """Return one area code per level, following the busiest-looking first child down."""
    from dashboard import data

    with as_principal(app.server, principal):
        scope = data.request_scope()
        codes = [scope.area_code]
        while len(codes) < len(LEVELS):
            kids = data.children(scope, codes[-1])
            codes.append(kids[len(kids) // 2].code)
    return codes


def _stats(ms: list[float]) -> dict:
    return {"p50": round(percentile(ms, 0.5), 2), "p95": round(percentile(ms, 0.95), 2), "n": len(ms)}


def callback_cases(settings, reps: int) -> dict:
    """Time each overview callback per level, uncached and from cache; measure map-update bytes."""
    from callbacks import overview as cb
    from dashboard.app import create_app

    app = create_app(settings)
    cache = app.server.extensions["gridcc"].cache
    with app.server.extensions["gridcc"].engine.connect() as conn:
        principal = city_principal(conn)  # what the gate finds for a signed-in city leader
    out: dict = {}
    def in_request(fn):
        # Each Dash callback is its own request: a fresh flask.g, so the data version is read again.
        def call():
            with as_principal(app.server, principal):
                return fn()
        return call

    for level, code in zip(LEVELS, _drill_codes(app, principal)):
        with as_principal(app.server, principal):
            view = cb.update_view({"area": code}, None, "zh")[0]
            calls = {
                "update_view": lambda: cb.update_view({"area": code}, None, "zh"),
                "update_map": lambda: cb.update_map({"area": code}, "open", 0, "zh"),
                "update_map_on_time": lambda: cb.update_map({"area": code}, "on_time_rate", 0, "zh"),
                "update_kpis": lambda: cb.update_kpis(view, 0, "zh"),
                "update_median": lambda: cb.update_median(view, 0, "zh"),
                "update_categories": lambda: cb.update_categories(view, 0, "zh"),
                "update_trend": lambda: cb.update_trend(view, 0, "zh"),
            }
            row = {}
            for name, fn in calls.items():
                call = in_request(fn)
                call()  # warm DuckDB's buffers
                row[name] = {"uncached": _stats(timed(call, reps, before=cache.clear)),
                             "cached": _stats(timed(call, reps))}
            map_out = cb.update_map({"area": code}, "open", 0, "zh")
            row["map_update_bytes"] = len(json.dumps(map_out, cls=plotly.utils.PlotlyJSONEncoder).encode())
            out[level] = {"code": code, **row}
    app.server.extensions["gridcc"].engine.dispose()
    return out


def api_get(url: str, token: str, timeout: float = 60) -> bytes:
    """GET ``url`` with the API token; return the body."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    return urllib.request.urlopen(request, timeout=timeout).read()


def session_opener(base: str) -> urllib.request.OpenerDirector:
    """Sign in as the bench user through the form at /auth/sign-in; return an opener that keeps the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/auth/sign-in").read()
    csrf = next(c.value for c in jar if c.name == "_csrf_token")
    form = urllib.parse.urlencode({"name": BENCH_USER, "password": BENCH_PASSWORD, "csrf_token": csrf,
                                   "next": "/api/v1/openapi.json"}).encode()
    opener.open(base + "/auth/sign-in", data=form).read()  # 303 to a small page when it worked
    if not any(c.name == "gridcc_session" for c in jar):
        raise RuntimeError("the bench user could not sign in")
    return opener


def http_cases(base: str, reps: int, token: str) -> dict:
    """Fetch the polygon layers and the API from a real server; return sizes and times."""
    browser = session_opener(base)  # /geo/ is a browser's route: it takes a session, not a token
    codes = json.loads(api_get(base + "/api/v1/areas", token))["areas"]
    city = codes[0]["code"]
    out: dict = {}
    code = city
    for level in LEVELS:
        body = browser.open(f"{base}/geo/children/{code}.json").read()
        children = json.loads(api_get(f"{base}/api/v1/areas/{code}/children", token))["children"]
        ms = timed(lambda: api_get(f"{base}/api/v1/areas/{code}/children", token), reps)
        out[level] = {"code": code, "geo_bytes": len(body), "geo_gzip_bytes": len(gzip.compress(body)),
                      "children": len(children), "api_children_ms": _stats(ms)}
        code = children[len(children) // 2]["code"]
    return out


def browser_drill(base: str, token: str) -> dict:
    """Sign in through the form, then click down the map from city to grid and back up by the breadcrumb,
    twice; time each repaint.

    The first round meets a cold server (nothing cached, DuckDB buffers cold); the second is what a
    user sees coming back to areas the screen has shown (the figures are cached until data changes).
    """
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]

    def children(code: str) -> list[dict]:
        return json.loads(api_get(f"{base}/api/v1/areas/{code}/children", token))["children"]

    city = json.loads(api_get(base + "/api/v1/areas", token))["areas"][0]["code"]
    steps = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        # Sign in the way a person does; the session cookie then carries every round below.
        page.goto(base + "/auth/sign-in")
        page.fill("#name", BENCH_USER)
        page.fill("#password", BENCH_PASSWORD)
        with page.expect_navigation(url=base + "/", timeout=60_000):
            page.click("button[type=submit]")
        for round_name in ("cold", "warm"):
            page.goto(base + "/")
            page.locator("path[class*='gcc-code-']").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            code = city
            for level in LEVELS[1:]:
                kids = children(code)
                target = kids[len(kids) // 2]["code"]
                first_grandchild = children(target)[0]["code"]
                page.locator(f"path.gcc-code-{target}").wait_for()
                start = time.perf_counter()
                page.locator(f"path.gcc-code-{target}").click(force=True)
                page.locator(f".gcc-code-{first_grandchild}").first.wait_for(state="attached", timeout=30_000)
                steps.append({"round": round_name, "to": level, "code": target,
                              "ms": round((time.perf_counter() - start) * 1000, 1)})
                code = target
                page.wait_for_timeout(500)
            start = time.perf_counter()
            page.locator(f'#overview-breadcrumb [id*="{city}"]').first.click()
            page.locator(f"path.gcc-code-{children(city)[0]['code']}").wait_for(state="attached", timeout=30_000)
            steps.append({"round": round_name, "to": "city (breadcrumb)", "code": city,
                          "ms": round((time.perf_counter() - start) * 1000, 1)})
        browser.close()
    return {"steps": steps, "max_ms": {r: max(s["ms"] for s in steps if s["round"] == r) for r in ("cold", "warm")}}


def naive_cases(settings, reps: int) -> dict:
    """Time the naive pandas implementation of the same screens on the same store."""
    import resource

    from bench.naive import NaiveOverview
    from dashboard.store import make_engine

    engine = make_engine(settings)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    naive = NaiveOverview(engine)
    load_s = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine.dispose()
    as_of = settings.now().replace(second=0)
    from datetime import timedelta

    since = as_of - timedelta(days=30)
    out: dict = {"load_s": round(load_s, 1), "frame_peak_rss_growth_mb": round((rss_after - rss_before) / 1024)}
    codes = naive.areas.sort_index()
    city = codes[codes.level == 0].index[0]
    district = codes[codes.level == 1].index[len(codes[codes.level == 1]) // 2]
    for level, code in (("city", city), ("district", district)):
        out[level] = {
            "update_map": _stats(timed(lambda: naive.map_values(code, "open", as_of, since, as_of), reps)),
            "update_map_on_time": _stats(timed(lambda: naive.map_values(code, "on_time_rate", as_of, since, as_of), reps)),
            # The naive kpis include the median: it is compared with update_kpis + update_median.
            "update_kpis": _stats(timed(lambda: naive.kpis(code, as_of, since, as_of), reps)),
            "update_categories": _stats(timed(lambda: naive.top_categories(code, since, as_of), reps)),
            "update_trend": _stats(timed(lambda: naive.trend(code, since, as_of), reps)),
        }
    return out


def markdown(results: dict) -> str:
    """Return the results as the Markdown tables of docs/benchmarks.md."""
    lines = [f"Run {results['date']} on {results['machine']}, {results['events']:,} events.", "",
             "| level | callback | uncached p50 / p95 ms | cached p50 / p95 ms | naive pandas p50 ms | ratio naive / uncached p50 |",
             "|---|---|---|---|---|---|"]
    naive = results.get("naive", {})
    for level, row in results["callbacks"].items():
        for name, stats in row.items():
            if not isinstance(stats, dict) or "uncached" not in stats:
                continue
            n = naive.get(level, {}).get(name)
            ratio = f"{n['p50'] / stats['uncached']['p50']:.0f}×" if n else "—"
            lines.append(f"| {level} | {name} | {stats['uncached']['p50']} / {stats['uncached']['p95']} | "
                         f"{stats['cached']['p50']} / {stats['cached']['p95']} | {n['p50'] if n else '—'} | {ratio} |")
    lines += ["", "| level | map update bytes | polygons bytes (gzip) | children |", "|---|---|---|---|"]
    http = results.get("server", {}).get("http", {})
    for level, row in results["callbacks"].items():
        h = http.get(level, {})
        lines.append(f"| {level} | {row['map_update_bytes']:,} | {h.get('geo_bytes', 0):,} ({h.get('geo_gzip_bytes', 0):,}) | "
                     f"{h.get('children', '—')} |")
    server = results.get("server", {})
    lines += ["", f"Server RSS after the HTTP and browser runs: {server.get('server_rss_mb', 0):.0f} MB "
                  f"(peak {server.get('server_peak_rss_mb', 0):.0f} MB)."]
    if "browser" in server:
        lines += ["", "| round | drill to | ms from click to repainted map |", "|---|---|---|"]
        lines += [f"| {s['round']} | {s['to']} | {s['ms']} |" for s in server["browser"]["steps"]]
    if naive:
        lines += ["", f"Naive baseline: loading the frame took {naive['load_s']} s and grew the process by "
                      f"{naive['frame_peak_rss_growth_mb']} MB."]
    return "\n".join(lines)
