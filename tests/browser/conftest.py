"""Browser fixtures: headless Chromium watching the network (the served hand city is tests/conftest.py live_url)."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest

from tests import handcity

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
VIEWPORT = {"width": 1920, "height": 1080}


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


def sign_in(page, base: str, name: str = "leader", password: str = handcity.PASSWORD) -> None:
    """Sign in as hand-city user ``name`` the way a person does: fill the form at /auth/sign-in and submit it.

    A good sign-in is answered by a redirect to the overview with the session cookie set (a refused one
    shows the form again). The overview is not waited for: the page is left for a blank one at once,
    so each test opens the page it is about and nothing of the landing page is still in flight.
    """
    page.goto(base + "/auth/sign-in")
    page.fill("#name", name)
    page.fill("#password", password)
    with page.expect_navigation(url=base + "/", wait_until="commit"):
        page.click("button[type=submit]")
    assert "gridcc_session" in {cookie["name"] for cookie in page.context.cookies(base)}
    page.goto("about:blank")


def open_watched(browser):
    """Return (context, page, watch) in a fresh browser context: every off-machine request is recorded and
    aborted, every console error recorded, every GeoJSON fetch listed."""
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
    return context, page, watch


@pytest.fixture
def watched(browser, live_url):
    """Return (page, watch, base URL) signed in as the city leader: every off-machine request is recorded and aborted.

    The sign-in goes through the real form with the watch on, so its page too may not reach off the
    machine or log an error; only the GeoJSON fetched by the overview it lands on is forgotten.
    """
    context, page, watch = open_watched(browser)
    sign_in(page, live_url)
    watch.geo.clear()
    yield page, watch, live_url
    context.close()
