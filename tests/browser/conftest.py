"""Browser fixtures: the hand-city app on a free localhost port, and headless Chromium watching the network."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
VIEWPORT = {"width": 1920, "height": 1080}


@pytest.fixture
def live_url(hand_app):
    """Serve the hand-city app on a free port in a background thread; return its base URL."""
    server = make_server("127.0.0.1", 0, hand_app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """Launch Debian's Chromium once per session (never `playwright install`)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What a page did: requests that tried to leave the machine, console errors, GeoJSON fetches."""

    offsite: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    geo: list[str] = field(default_factory=list)


@pytest.fixture
def watched(browser, live_url):
    """Return (page, watch, base URL): every off-machine request is recorded and aborted."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    watch = Watch()

    def route(request_route):
        url = request_route.request.url
        if urlparse(url).hostname not in LOCAL_HOSTS and not url.startswith(("data:", "blob:")):
            watch.offsite.append(url)
            request_route.abort()
            return
        if urlparse(url).path.startswith("/geo/"):
            watch.geo.append(urlparse(url).path)
        request_route.continue_()

    page.route("**/*", route)
    page.on("console", lambda msg: watch.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    yield page, watch, live_url
    context.close()
