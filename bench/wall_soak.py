"""The wall left running (issue 8 §1): does a /wall page hold steady over many rotations? `gridcc bench wall`.

A wall runs for days; a page that grows by a few hundred kilobytes a rotation is dead in a week. This runs the
demo (a copy of the demo store, its simulator writing events at ``--speed``) with a playlist of every wall view
at ``--dwell`` seconds each, opens /wall in headless Chromium at 1920×1080 as a wall display, and every
``--every`` seconds records: the page's JS heap after a forced garbage collection, its DOM nodes, the Leaflet
layers drawn, the rotations so far, the data-as-of badge's state, and the server's RSS. It prints the samples
and the growth per hour fitted over the second half (the first minutes are warm-up: caches, fonts, layers).

    gridcc bench wall [--minutes 10] [--dwell 5] [--speed 60] [--store data/demo.duckdb]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "gridcc-bench-wall-1"
VIEWS = ["/?metric=open", "/?metric=on_time_rate", "/sla?period=30d", "/rankings?level=district", "/backlog"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-precise-memory-info",
                 "--js-flags=--expose-gc"]
SAMPLE_JS = """() => {
    if (window.gc) { window.gc(); }
    const wall = document.querySelector('.wall');
    return {heap: performance.memory ? performance.memory.usedJSHeapSize : null,
            nodes: document.getElementsByTagName('*').length,
            layers: document.querySelectorAll('.leaflet-interactive').length,
            ready: wall ? wall.dataset.ready || null : null,
            badge: (document.querySelector('[data-live]') || {dataset: {}}).dataset.live || null};
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _slope_per_hour(samples: list[dict], key: str) -> float | None:
    """Least-squares growth of ``key`` per hour over the second half of the samples."""
    half = [s for s in samples[len(samples) // 2:] if s.get(key) is not None]
    if len(half) < 3:
        return None
    xs = [s["t"] / 3600 for s in half]
    ys = [s[key] for s in half]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gridcc bench wall", description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / "data" / "demo.duckdb", help="the demo store to copy")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--dwell", type=float, default=5, help="seconds per view (5 is the playlist minimum)")
    parser.add_argument("--every", type=float, default=30, help="seconds between samples")
    parser.add_argument("--speed", type=float, default=60, help="the simulator's speed-up (events keep coming)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "wall_soak.json")
    args = parser.parse_args(argv)
    if not args.store.exists():
        print(f"no demo store at {args.store}: run `gridcc demo` once first", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="gridcc-wall-soak-"))
    store = work / "demo.duckdb"
    shutil.copy(args.store, store)
    playlist = work / "wall.toml"
    playlist.write_text('[[playlist]]\nname = "soak"\ntitle = "Soak"\nresume_s = 5\n' + "".join(
        f'\n[[playlist.view]]\nurl = "{url}"\ndwell_s = {args.dwell}\n' for url in VIEWS), encoding="utf-8")
    env = dict(os.environ, GRIDCC_DATA_DIR=str(work), GRIDCC_WALL_PLAYLISTS=str(playlist))
    url = f"duckdb:///{store}"
    python = sys.executable
    subprocess.run([python, "-m", "dashboard", "user", "add", "bench-wall", "--role", "wall_display", "--scope",
                    _city(python, url, env), "--password-stdin", "--store", url], input=PASSWORD + "\n", text=True,
                   env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([python, "-m", "dashboard", "demo", "--store", url, "--port", str(port),
                               "--speed", str(args.speed)], env=env, cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    samples: list[dict] = []
    errors: list[str] = []
    offsite: list[str] = []
    try:
        _wait_up(base, server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
            page.route("**/*", lambda route: (offsite.append(route.request.url), route.abort())
                       if not route.request.url.startswith((base, "data:", "blob:")) else route.continue_())
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/auth/sign-in")
            page.fill("#name", "bench-wall")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(base + "/wall**")
            page.goto(base + "/wall?playlist=soak")
            page.wait_for_selector(".wall[data-ready='1']", timeout=60_000)
            start = time.monotonic()
            while (elapsed := time.monotonic() - start) < args.minutes * 60:
                sample = page.evaluate(SAMPLE_JS)
                sample.update(t=round(elapsed, 1), rotations=int(elapsed // args.dwell),
                              server_rss_mb=round(_rss_mb(server.pid), 1),
                              heap_mb=None if sample["heap"] is None else round(sample["heap"] / 2 ** 20, 2))
                samples.append(sample)
                print(json.dumps(sample), flush=True)
                page.wait_for_timeout(args.every * 1000)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    result = {"minutes": args.minutes, "dwell_s": args.dwell, "views": VIEWS, "samples": samples,
              "heap_mb_per_hour": _slope_per_hour(samples, "heap_mb"),
              "nodes_per_hour": _slope_per_hour(samples, "nodes"),
              "server_rss_mb_per_hour": _slope_per_hour(samples, "server_rss_mb"),
              "page_errors": errors, "offsite_requests": offsite}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    first, last = samples[0], samples[-1]
    print(f"\n{len(samples)} samples over {last['t'] / 60:.1f} min, about {last['rotations']} rotations")
    print("| | first | last | growth per hour (second half) |\n|---|---|---|---|")
    for key, unit in (("heap_mb", "MB"), ("nodes", ""), ("layers", ""), ("server_rss_mb", "MB")):
        slope = _slope_per_hour(samples, key)
        print(f"| {key} | {first.get(key)} | {last.get(key)} | {'—' if slope is None else f'{slope:+.2f} {unit}'} |")
    print(f"page errors: {len(errors)}; off-machine requests: {len(offsite)}")
    return 0


def _city(python: str, url: str, env: dict) -> str:
    code = ("from sqlalchemy import create_engine; from queries import areas; "
            f"e = create_engine({url!r}); c = e.connect(); print(areas.root_area_codes(c)[0])")
    return subprocess.run([python, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()


def _wait_up(base: str, server: subprocess.Popen, timeout_s: float = 180) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the demo server stopped (exit {server.returncode})")
        try:
            urllib.request.urlopen(base + "/auth/sign-in", timeout=2).read()
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError("the demo server did not answer within 3 minutes")


if __name__ == "__main__":
    sys.exit(main())
