"""Webhooks: DingTalk and WeCom group robots told of alert firings, with retries (issue 6 §3; docs/alerts.md).

Targets come from ``GRIDCC_WEBHOOKS``: a JSON file, or the JSON itself, listing
``{"name", "kind": "dingtalk" | "wecom", "url", "secret"?}``. Nothing is sent when none is configured.
A message is markdown; its body is the robot's own shape:

- DingTalk: ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; with a secret (加签), the URL
  gets ``timestamp`` (ms) and ``sign`` = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")).
- WeCom: ``{"msgtype": "markdown", "markdown": {"content": …}}``.

Delivery runs in one worker thread per target (never in a request or the write path): a POST with a 5 s
timeout, no proxy and no redirects; a 2xx whose JSON says ``errcode`` != 0 is a failure. Failures are
retried after 1, 2, 4, 8, 16 … s up to ``tries`` attempts; every attempt is recorded (by the target's
name — the URL carries the robot's token and is never stored or logged), and giving up is logged.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

KINDS = ("dingtalk", "wecom")
TIMEOUT_S = 5.0
MAX_CONFIG_BYTES = 1_000_000  # a configuration file larger than this is refused, not read
MAX_TARGETS = 50
MAX_URL = 2048
MAX_BACKOFF_S = 300.0
MAX_ANSWER_BYTES = 65_536
MAX_QUEUE = 1000  # messages waiting per target; past that the newest are dropped (and logged)
NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
OUTCOMES = ("delivered", "failed", "gave_up")


class ConfigError(ValueError):
    """A configuration the server refuses to start with: names the file (or setting), the key and the problem."""


@dataclass(frozen=True)
class Target:
    """A group robot: its name (what logs and the store show), kind, URL (with its token) and signing secret."""

    name: str
    kind: str
    url: str
    secret: str | None = None

    def __repr__(self) -> str:  # never the URL or the secret, whatever prints a target
        return f"Target(name={self.name!r}, kind={self.kind!r})"


@dataclass(frozen=True)
class Message:
    """What a firing says: a short title and a markdown text (Chinese, with the place and a link)."""

    title: str
    text: str


# -- configuration --------------------------------------------------------------------------------------------
def read_config(source: str, setting: str) -> tuple[object, str]:
    """Return (the parsed JSON or TOML, where it came from) of ``source``: inline JSON, or a file's path.

    Refuse a file larger than 1 MB or unreadable, and a document that does not parse, naming the problem.
    """
    text = source.strip()
    if text.startswith(("{", "[")):
        origin = f"{setting} (inline JSON)"
        if len(text.encode()) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{origin}: larger than {MAX_CONFIG_BYTES:,} bytes")
        return _parse_json(text, origin), origin
    path = Path(text)
    origin = f"{setting}={path}"
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ConfigError(f"{origin}: cannot read the file ({error.strerror or error})") from None
    if not path.is_file():
        raise ConfigError(f"{origin}: not a file")
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{origin}: the file is {size:,} bytes, larger than {MAX_CONFIG_BYTES:,}")
    try:
        raw = path.read_bytes()[:MAX_CONFIG_BYTES + 1].decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{origin}: cannot read the file as UTF-8 ({error})") from None
    if path.suffix.lower() == ".toml":
        import tomllib

        try:
            return tomllib.loads(raw), origin
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{origin}: not valid TOML ({error})") from None
    return _parse_json(raw, origin), origin


def _parse_json(text: str, origin: str):
    try:
        return json.loads(text)
    except ValueError as error:
        raise ConfigError(f"{origin}: not valid JSON ({error})") from None
    except RecursionError:
        raise ConfigError(f"{origin}: nested too deeply") from None


def _check_url(url, where: str) -> str:
    if not isinstance(url, str) or not url:
        raise ConfigError(f"{where}.url: must be the robot's http(s) address")
    if len(url) > MAX_URL:
        raise ConfigError(f"{where}.url: longer than {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ConfigError(f"{where}.url: contains spaces or control characters")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # The problem without the URL itself: it may carry a token.
        raise ConfigError(f"{where}.url: must start with http:// or https:// and name a host "
                          f"(the scheme is {parts.scheme or 'missing'!r})")
    return url


def parse_targets(document, origin: str) -> tuple[Target, ...]:
    """Return the targets of a parsed document: a list, or {"webhooks": [...]}; raise ConfigError naming the key."""
    items = document.get("webhooks") if isinstance(document, dict) else document
    if isinstance(document, dict) and set(document) - {"webhooks"}:
        raise ConfigError(f"{origin}: unknown key(s) {sorted(set(document) - {'webhooks'})}; expected 'webhooks'")
    if not isinstance(items, list):
        raise ConfigError(f"{origin}: expected a list of webhooks (or {{\"webhooks\": [...]}})")
    if len(items) > MAX_TARGETS:
        raise ConfigError(f"{origin}: {len(items)} webhooks, more than {MAX_TARGETS}")
    targets, seen = [], set()
    for i, item in enumerate(items):
        where = f"{origin}: webhooks[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: must be an object with name, kind and url")
        unknown = set(item) - {"name", "kind", "url", "secret"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
        name = item.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise ConfigError(f"{where}.name: must be 1-64 letters, digits, '.', '_' or '-'")
        if name in seen:
            raise ConfigError(f"{where}.name: {name!r} is used twice")
        seen.add(name)
        kind = item.get("kind")
        if kind not in KINDS:
            raise ConfigError(f"{where}.kind: must be one of {', '.join(KINDS)}, not {kind!r}")
        url = _check_url(item.get("url"), where)
        secret = item.get("secret")
        if secret is not None:
            if kind != "dingtalk":
                raise ConfigError(f"{where}.secret: only DingTalk robots sign their messages")
            if not isinstance(secret, str) or not 1 <= len(secret) <= 256 or not secret.isprintable():
                raise ConfigError(f"{where}.secret: must be the robot's secret, 1-256 printable characters")
        targets.append(Target(name, kind, url, secret))
    return tuple(targets)


def load_targets(source: str, setting: str = "GRIDCC_WEBHOOKS") -> tuple[Target, ...]:
    """Return the webhook targets ``source`` names (a file or inline JSON); none when it is empty."""
    if not source or not source.strip():
        return ()
    document, origin = read_config(source, setting)
    return parse_targets(document, origin)


# -- bodies and signing (pure) --------------------------------------------------------------------------------
def dingtalk_body(message: Message) -> dict:
    """Return a DingTalk robot's markdown message."""
    return {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.text}}


def wecom_body(message: Message) -> dict:
    """Return a WeCom (企业微信) robot's markdown message."""
    return {"msgtype": "markdown", "markdown": {"content": message.text}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """Return DingTalk's 加签 signature: base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")), not yet URL-quoted."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def request_for(target: Target, message: Message, *, timestamp_ms: int) -> tuple[str, bytes]:
    """Return (URL, JSON body) to POST ``message`` to ``target`` (signed when it has a secret)."""
    body = dingtalk_body(message) if target.kind == "dingtalk" else wecom_body(message)
    url = target.url
    if target.kind == "dingtalk" and target.secret:
        query = urllib.parse.urlencode({"timestamp": timestamp_ms, "sign": dingtalk_sign(target.secret, timestamp_ms)})
        url = f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{query}"
    return url, json.dumps(body, ensure_ascii=False).encode()


# -- one attempt and its retries ------------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a robot never redirects; following one could leak the token
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: delivered or not, the HTTP status, the error (without the URL)."""

    ok: bool
    status: int | None
    error: str | None


def _scrub(text: str, target: Target) -> str:
    """Return ``text`` without the target's URL or secret (an error message may quote them)."""
    for secret in (target.url, urllib.parse.urlsplit(target.url).query, target.secret):
        if secret and len(secret) >= 6:  # a shorter one would scrub ordinary words, and guards nothing
            text = text.replace(secret, "…")
    return text[:500]


def post(target: Target, message: Message, *, timeout: float = TIMEOUT_S,
         clock_ms: Callable[[], int] | None = None) -> Attempt:
    """POST ``message`` to ``target`` once; a 2xx is delivered unless its JSON has an ``errcode`` other than 0."""
    url, body = request_for(target, message, timestamp_ms=(clock_ms or (lambda: int(time.time() * 1000)))())
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = response.status
            answer = response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as error:
        return Attempt(False, error.code, _scrub(f"HTTP {error.code} {error.reason}", target))
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Attempt(False, None, _scrub(f"{type(error).__name__}: {reason}", target))
    if not 200 <= status < 300:
        return Attempt(False, status, f"HTTP {status}")
    try:
        reply = json.loads(answer.decode("utf-8", "replace"))
    except ValueError:
        return Attempt(True, status, None)  # a relay that answers plain text: the 2xx is all it says
    if isinstance(reply, dict) and "errcode" in reply and reply["errcode"] not in (0, "0"):
        return Attempt(False, status, _scrub(f"errcode {reply.get('errcode')}: {reply.get('errmsg', '')}", target))
    return Attempt(True, status, None)


def backoff(attempt: int) -> float:
    """Return the seconds to wait after failed attempt ``attempt`` (1, 2, 4, 8, 16 … capped at 300)."""
    return min(2.0 ** (attempt - 1), MAX_BACKOFF_S)


def deliver(target: Target, message: Message, *, tries: int, record: Callable[[int, str, Attempt], None],
            sleep: Callable[[float], object] = time.sleep, timeout: float = TIMEOUT_S,
            clock_ms: Callable[[], int] | None = None, stopped: Callable[[], bool] = lambda: False) -> str:
    """Try to deliver ``message`` up to ``tries`` times with back-off; record each attempt; return the outcome.

    ``record(attempt, outcome, result)`` is called once per attempt: 'delivered', 'failed', or 'gave_up' for
    the last failed one.
    """
    for attempt in range(1, tries + 1):
        result = post(target, message, timeout=timeout, clock_ms=clock_ms)
        last = attempt == tries or stopped()
        outcome = "delivered" if result.ok else ("gave_up" if last else "failed")
        record(attempt, outcome, result)
        if result.ok:
            return outcome
        if last:
            log.warning("webhook %s: gave up on %r after %d attempts (%s)", target.name, message.title, attempt,
                        result.error)
            return outcome
        log.info("webhook %s: attempt %d failed (%s); next in %g s", target.name, attempt, result.error,
                 backoff(attempt))
        sleep(backoff(attempt))
    return "gave_up"


class Deliverer:
    """One worker thread per target delivering queued messages in order; a slow robot delays only its own."""

    def __init__(self, targets: tuple[Target, ...], *, tries: int, record: Callable[[int, Target, int, str, Attempt],
                 None], sleep: Callable[[float], object] | None = None, timeout: float = TIMEOUT_S,
                 clock_ms: Callable[[], int] | None = None):
        self.targets = {t.name: t for t in targets}
        self.tries = tries
        self._record = record
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait  # stopping cuts a back-off short
        self._timeout = timeout
        self._clock_ms = clock_ms
        self._queues: dict[str, queue.Queue] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def submit(self, firing_id: int | tuple[int, ...], message: Message, names) -> list[str]:
        """Queue ``message`` (of firing ``firing_id``, or of several for a summary) for each target in ``names``;
        return the names queued. Each attempt is recorded once per firing it speaks for."""
        queued = []
        for name in names:
            target = self.targets.get(name)
            if target is None or self._stop.is_set():
                continue
            try:
                self._queue(target).put_nowait((firing_id, message))
            except queue.Full:
                log.error("webhook %s: %d messages waiting; dropped firing(s) %s", name, MAX_QUEUE, firing_id)
                continue
            queued.append(name)
        return queued

    def _queue(self, target: Target) -> queue.Queue:
        with self._lock:
            if target.name not in self._queues:
                self._queues[target.name] = queue.Queue(MAX_QUEUE)
                thread = threading.Thread(target=self._work, args=(target,), name=f"gridcc-webhook-{target.name}",
                                          daemon=True)
                self._threads[target.name] = thread
                thread.start()
            return self._queues[target.name]

    def _work(self, target: Target) -> None:
        jobs = self._queues[target.name]
        while not self._stop.is_set():
            try:
                job = jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            if job is None:
                break
            firing_id, message = job
            firing_ids = firing_id if isinstance(firing_id, tuple) else (firing_id,)
            try:
                deliver(target, message, tries=self.tries, sleep=self._sleep, timeout=self._timeout,
                        clock_ms=self._clock_ms, stopped=self._stop.is_set,
                        record=lambda attempt, outcome, result: [
                            self._record(one, target, attempt, outcome, result) for one in firing_ids])
            except Exception:  # a store that refuses the record: the next message is tried all the same
                log.exception("webhook %s: delivering firing(s) %s failed", target.name, firing_id)
            finally:
                jobs.task_done()

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until every queued message is delivered or given up (tests); return True when all are."""
        deadline = time.monotonic() + timeout
        for jobs in list(self._queues.values()):
            while jobs.unfinished_tasks:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)
        return True

    def stop(self) -> None:
        """Stop the workers: a delivery under way ends after its current attempt."""
        self._stop.set()
        for jobs in list(self._queues.values()):
            try:
                jobs.put_nowait(None)
            except queue.Full:
                pass
