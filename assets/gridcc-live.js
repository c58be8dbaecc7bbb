/* Live: listen for data changes (server-sent events, or a long poll when a proxy blocks the stream),
 * keep the "data as of" badge honest, and tell the page when the area in view changed.
 *
 * The server's messages (dashboard/live.py): {v: data version, at: data time, now: server time,
 * areas: grid codes changed inside the caller's scope, or ["*"]}. The page's own callbacks fetch the
 * data: this file only decides *when*. dcc.Store "shell-live" gets each message, and each page that
 * listens (window.gridccPageTicks, below) has its tick store set when the message concerns it — in
 * plain JS, not a Dash callback on shell-live: such a callback exists on every page, so a State or
 * Input of one page would be an error on all the others.
 */
(function () {
    "use strict";

    // window.gridccLiveConfig (set before this file loads: a wall's own page, a browser test) may change the times.
    var config = window.gridccLiveConfig || {};
    var STREAM = "/api/v1/live/stream";
    var POLL = "/api/v1/live/poll";
    var HELLO_MS = config.helloMs || 8000;   // no hello this long after opening the stream: a proxy holds it back, poll
    var AMBER_MS = config.amberMs || 15000;  // no word from the server this long: the badge turns amber (3 beats missed)
    var RED_MS = config.redMs || 45000;      // … and red: the screen says it is cut off
    var RETRY_STREAM_MS = config.retryStreamMs || 120000;  // while polling, try the stream again this often

    var live = {
        version: null,
        at: null,              // the store's data time (last write)
        serverNow: null,       // the server's clock at the last message
        contact: 0,            // Date.now() of the last message
        mode: "starting",      // push | poll | starting | down
        labels: null,
        started: false,
        source: null,
        pollTimer: null,
        paused: false,         // playback: the page shows the past, the badge says so
        frozen: null           // the minute a page frozen by its URL's as_of shows ("2026-11-20 15:00"), else null
    };

    /* The pages that honour ?as_of= (dashboard/views.py FREEZABLE). Whether this one is frozen is the page's
     * word, not the URL's: it marks its root data-frozen-at when the server took the as_of (a bad, future or
     * hostile one leaves the page live). */
    var FREEZABLE = {"/": true, "/sla": true, "/rankings": true};

    function asOfInUrl() {
        return FREEZABLE[window.location.pathname] === true &&
            new URLSearchParams(window.location.search).has("as_of");
    }

    function frozenVerdict() {
        var page = document.querySelector("#_pages_content [data-frozen-at]");
        return page ? page.getAttribute("data-frozen-at") : null;
    }

    /* A dcc.Store has no element on the page: it is known to be there by an element that is ("anchor"). */
    var ANCHORS = {"shell-live": "shell-as-of"};

    function setProps(id, props) {
        if (window.dash_clientside && window.dash_clientside.set_props &&
                document.getElementById(ANCHORS[id] || id)) {
            window.dash_clientside.set_props(id, props);
        }
    }

    function lang() {
        return new URLSearchParams(window.location.search).get("lang") === "en" ? "en" : "zh";
    }

    function label(key) {
        var l = live.labels && live.labels[lang()];
        return (l && l[key]) || key;
    }

    function hhmmss(iso) {
        return iso ? iso.slice(11, 19) : "--:--:--";
    }

    /* How stale the screen is: fresh, amber or red, from the time since the server last spoke. */
    function staleness() {
        if (!live.contact) {
            return live.mode === "starting" || live.mode === "frozen" ? "fresh" : "red";
        }
        var quiet = Date.now() - live.contact;
        return quiet >= RED_MS ? "red" : quiet >= AMBER_MS ? "amber" : "fresh";
    }

    var shown = "";

    var backShown = false;

    function renderBadge() {
        live.frozen = frozenVerdict();
        if (Boolean(live.frozen) !== backShown) {
            backShown = Boolean(live.frozen);
            setProps("shell-back-live", {hidden: !backShown});
        }
        if (live.frozen) {
            var frozenText = label("link.frozen") + " " + live.frozen;
            if (frozenText !== shown) {
                shown = frozenText;
                setProps("shell-as-of", {children: frozenText, title: label("link.frozen_hint"),
                    className: "gcc-as-of gcc-live-frozen", "data-live": "frozen"});
            }
            return;
        }
        if (live.paused) {
            return;
        }
        var level = staleness();
        var text = label("clock.as_of") + " " + hhmmss(live.serverNow);
        if (level === "amber") {
            text += " · " + label("live.delayed");
        } else if (level === "red") {
            text += " · " + label("live.lost");
        }
        var title = label("live.data_time") + " " + (live.at ? live.at.replace("T", " ") : "—") + " · " +
            label(live.mode === "poll" ? "live.mode_poll" : "live.mode_push");
        var key = text + "|" + level + "|" + title;
        if (key !== shown) {
            shown = key;
            setProps("shell-as-of", {children: text, title: title, className: "gcc-as-of gcc-live-" + level,
                "data-live": level});
        }
    }

    /* ``fresh``: the first message after (re)connecting — a stream's hello, a poll's answer after failures. */
    function deliver(message, fresh) {
        if (!message || typeof message.v !== "number") {
            return;
        }
        live.contact = Date.now();
        live.serverNow = message.now || live.serverNow;
        live.at = message.at || live.at;
        var moved = live.version === null || message.v > live.version;
        if (live.version !== null && message.v < live.version) {
            moved = true;  // the store went back (restored, re-seeded): everything may have changed
            message.areas = ["*"];
        } else if (fresh && live.version !== null && moved && !(message.areas && message.areas.length)) {
            // A newer version with nothing named: changes made while we were away (a server restart, a lost
            // connection whose stream came back without them). Every page redraws what it shows.
            message.areas = ["*"];
        }
        live.version = message.v;
        renderBadge();
        if (moved && message.areas && message.areas.length) {
            setProps("shell-live", {data: {v: message.v, areas: message.areas, t: Date.now()}});
            tellPages(message);
        }
    }

    function signInAgain() {
        var here = window.location.pathname + window.location.search;
        window.location.assign("/auth/sign-in?next=" + encodeURIComponent(here));
    }

    /* -- the stream ------------------------------------------------------------------------------ */
    function openStream() {
        if (!window.EventSource) {
            startPolling();
            return;
        }
        stopPolling();
        var url = STREAM + (live.version !== null ? "?v=" + live.version : "");
        var source = new window.EventSource(url, {withCredentials: true});
        var hello = false;
        live.source = source;
        var helloTimer = window.setTimeout(function () {
            if (!hello && live.source === source) {
                source.close();
                live.source = null;
                startPolling();  // the stream opened but nothing came through: a buffering proxy
            }
        }, HELLO_MS);
        var on = function (name) {
            source.addEventListener(name, function (event) {
                hello = true;
                live.mode = "push";
                window.clearTimeout(helloTimer);
                try {
                    deliver(JSON.parse(event.data), name === "hello");
                } catch (e) { /* a malformed message is dropped; the next beat comes in 5 s */ }
            });
        };
        on("hello");
        on("change");
        on("beat");
        source.addEventListener("ended", function () {
            source.close();
            signInAgain();
        });
        source.onerror = function () {
            if (source.readyState === window.EventSource.CLOSED) {
                // Refused (401 signed out, 503 too many streams, a proxy's error page): ask the poll why.
                window.clearTimeout(helloTimer);
                if (live.source === source) {
                    live.source = null;
                }
                startPolling();
            }
            // CONNECTING: the browser reconnects by itself after the server's retry delay.
        };
    }

    /* -- the long poll ------------------------------------------------------------------------------ */
    var pollFailures = 0;
    var streamRetry = null;

    function stopPolling() {
        if (live.pollTimer) {
            window.clearTimeout(live.pollTimer);
            live.pollTimer = null;
        }
        if (streamRetry) {
            window.clearTimeout(streamRetry);
            streamRetry = null;
        }
        live.polling = false;
    }

    function startPolling() {
        if (live.polling) {
            return;
        }
        live.polling = true;
        live.mode = "poll";
        pollOnce();
        streamRetry = window.setTimeout(function () {
            streamRetry = null;
            if (live.polling) {
                stopPolling();
                openStream();
            }
        }, RETRY_STREAM_MS);
    }

    function pollOnce() {
        if (!live.polling) {
            return;
        }
        var url = POLL + "?wait=20" + (live.version !== null ? "&v=" + live.version : "");
        window.fetch(url, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
            if (response.status === 401) {
                signInAgain();
                return null;
            }
            if (!response.ok) {
                throw new Error("poll " + response.status);
            }
            return response.json();
        }).then(function (message) {
            if (message) {
                var fresh = pollFailures > 0;
                pollFailures = 0;
                deliver(message, fresh);
                live.pollTimer = window.setTimeout(pollOnce, 50);
            }
        }).catch(function () {
            // The server is down or unreachable: back off (1, 2, 4 … 30 s); the badge goes amber, then red.
            pollFailures += 1;
            live.pollTimer = window.setTimeout(pollOnce, Math.min(30000, 1000 * Math.pow(2, pollFailures - 1)));
        });
    }

    /* A page whose URL has as_of opens no stream (spec §2: "networkidle" then means drawn) and never ticks,
     * once the page says it took the as_of; a page that refused it (bad, future) is live and streams. */
    function openUnlessFrozen() {
        var content = document.getElementById("_pages_content");
        if (!content || !content.firstElementChild) {
            window.setTimeout(openUnlessFrozen, 100);  // the page is not drawn yet
            return;
        }
        if (!frozenVerdict()) {
            openStream();
        }
        renderBadge();
    }

    /* Start once per page load (the shell's labels store triggers it); later calls only refresh labels. */
    function start(labels) {
        live.labels = labels && labels.langs ? labels.langs : live.labels;
        if (!live.started) {
            live.started = true;
            if (asOfInUrl()) {
                live.mode = "frozen";
                openUnlessFrozen();
            } else {
                openStream();
            }
            window.setInterval(renderBadge, 1000);
        }
        renderBadge();
        return window.dash_clientside.no_update;
    }

    /* Whether a message touches the area in view: one of its grids lies inside it (codes nest by prefix). */
    function touches(message, code) {
        if (!message || !message.areas || !code) {
            return false;
        }
        for (var i = 0; i < message.areas.length; i++) {
            var area = message.areas[i];
            var city = code.length === 6 && code.slice(4) === "00";  // a city (xxxx00) covers its districts' grids
            if (area === "*" || area.indexOf(city ? code.slice(0, 4) : code) === 0) {
                return true;
            }
        }
        return false;
    }

    /* A page's tick: at most one a second, the last one never lost (a burst ends with a refresh), and a
     * random 0–300 ms first, so two hundred screens told at the same instant do not ask at the same instant.
     * It carries the version announced: the server may answer from a cache at least that new. */
    var JITTER_MS = config.jitterMs === undefined ? 300 : config.jitterMs;

    function throttled(id, anchor) {
        var last = 0;
        var pending = null;
        var version = null;
        return function (v) {
            version = v;
            if (pending) {
                return;
            }
            var wait = Math.max(0, 1000 - (Date.now() - last)) + Math.random() * JITTER_MS;
            pending = window.setTimeout(function () {
                last = Date.now();
                pending = null;
                // Only while the page is still shown (its store lives in it): a tick may outlive a navigation.
                if (window.dash_clientside && window.dash_clientside.set_props && document.getElementById(anchor)) {
                    window.dash_clientside.set_props(id, {data: {v: version, t: last}});
                }
            }, wait);
        };
    }

    /* The pages that refresh on a change, each {anchor: the id of an element only that page has, store: the
     * id of its tick dcc.Store, wants(message): whether the change concerns what it shows}. A page's own
     * asset file may add itself (window.gridccPageTicks.push(…)), before or after this file loads. */
    var pageTicks = window.gridccPageTicks = window.gridccPageTicks || [];

    function tellPages(message) {
        if (frozenVerdict()) {
            return;  // a frozen page never ticks
        }
        pageTicks.forEach(function (page) {
            if (!document.getElementById(page.anchor) || !page.wants(message)) {
                return;
            }
            page.fire = page.fire || throttled(page.store, page.anchor);
            page.fire(message.v);
        });
    }

    /* The area in view, as a page's breadcrumb names it (a building's code: its grid's). */
    function crumbInView(breadcrumb) {
        var current = document.querySelector("#" + breadcrumb + " .ovw-crumb-current");
        var code = current && current.getAttribute("title");
        return code && code.length > 15 ? code.slice(0, 15) : code;
    }

    function anyChange(message) {
        return Boolean(message.areas && message.areas.length);
    }

    pageTicks.push(
        // The overview's alerts are the scope's, whatever the view or the replay …
        {anchor: "overview-map-wrap", store: "overview-scope-tick", wants: anyChange},
        // … its panels the area in view's, and not while it replays the past.
        {anchor: "overview-map-wrap", store: "overview-tick", wants: function (message) {
            return !live.paused && touches(message, crumbInView("overview-breadcrumb"));
        }},
        // The backlog desk: every message names only grids in the caller's scope, so any change counts.
        {anchor: "backlog-grid-wrap", store: "backlog-tick", wants: anyChange}
    );

    /* -- playback -------------------------------------------------------------------------------------- */
    var STEP_MIN = 10;  // the slider's step (layouts/overview.py PLAY_STEP_MIN)

    function parseLocal(iso) {
        return new Date(iso + "Z").getTime();  // naive local time handled as UTC: no browser zone involved
    }

    function formatLocal(ms) {
        return new Date(ms).toISOString().slice(0, 19);
    }

    function today() {
        return (live.serverNow || formatLocal(Date.now() + 8 * 3600000)).slice(0, 10);
    }

    function nowLocal() {
        return live.serverNow ? parseLocal(live.serverNow) + (Date.now() - live.contact) : Date.now() + 8 * 3600000;
    }

    /* Every playback control in one place: day, play/pause, exit, slider, the timer, the speed. */
    function playback(day, _play, _exit, slider, _timer, speed, state, playLabel, pauseLabel) {
        var ctx = window.dash_clientside.callback_context;
        var fired = {};
        (ctx.triggered || []).forEach(function (t) {
            fired[String(t.prop_id).split(".")[0]] = true;
        });
        var p = Object.assign({on: false}, state || {});
        var seconds = parseInt(speed, 10) || 600;
        var begin = function (date) {
            var start = parseLocal(date + "T00:00:00");
            if (isNaN(start)) {
                return false;
            }
            var end = Math.min(start + 86400000, nowLocal());
            if (end <= start) {
                return false;
            }
            p = {on: true, start: formatLocal(start), end: formatLocal(end), cursor: formatLocal(start),
                 playing: false, speed: seconds};
            return true;
        };
        var changed = false;
        // Several may fire at once (typing a day, then clicking play commits the day): day first, then play.
        if (fired["overview-play-exit"]) {
            p = {on: false};
            changed = true;
        } else {
            if (fired["overview-play-day"] && day && (!p.on || p.start.slice(0, 10) !== day)) {
                changed = begin(day) || changed;
            }
            if (fired["overview-play-speed"]) {
                p.speed = seconds;
                changed = true;
            }
            if (fired["overview-play-button"]) {
                if (p.on || begin(day || today())) {
                    if (parseLocal(p.cursor) >= parseLocal(p.end)) {
                        p.cursor = p.start;  // at the end: play again from the start
                    }
                    p.playing = !p.playing;
                    changed = true;
                }
            } else if (fired["overview-play-slider"] && p.on) {
                var at = parseLocal(p.start) + (parseInt(slider, 10) || 0) * STEP_MIN * 60000;
                p.cursor = formatLocal(Math.min(at, parseLocal(p.end)));
                changed = true;
            } else if (fired["overview-play-timer"] && p.on && p.playing) {
                var next = parseLocal(p.cursor) + (p.speed || seconds) * 1000;
                if (next >= parseLocal(p.end)) {
                    next = parseLocal(p.end);
                    p.playing = false;
                }
                p.cursor = formatLocal(next);
                changed = true;
            }
        }
        if (!changed) {
            return window.dash_clientside.no_update;
        }
        window.gridcc.live.pause(p.on ? label("play.badge") + " " + p.cursor.replace("T", " ").slice(0, 16) : null);
        var step = p.on ? Math.round((parseLocal(p.cursor) - parseLocal(p.start)) / (STEP_MIN * 60000)) : 0;
        return [p, !(p.on && p.playing), step, !p.on, !p.on, p.playing ? pauseLabel : playLabel,
            p.on ? p.cursor.replace("T", " ").slice(0, 16) : "—"];
    }

    /* -- alert sound: a short two-tone beep made in the browser (no file to fetch), only when switched on -- */
    var knownAlerts = null;
    var audio = null;

    function beep() {
        try {
            audio = audio || new (window.AudioContext || window.webkitAudioContext)();
            [0, 0.25].forEach(function (offset, i) {
                var osc = audio.createOscillator();
                var gain = audio.createGain();
                osc.frequency.value = i ? 660 : 880;
                gain.gain.setValueAtTime(0.2, audio.currentTime + offset);
                gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + offset + 0.22);
                osc.connect(gain).connect(audio.destination);
                osc.start(audio.currentTime + offset);
                osc.stop(audio.currentTime + offset + 0.23);
            });
        } catch (e) { /* no audio device: the banner and the pulse still show */ }
    }

    window.gridcc = window.gridcc || {};
    window.gridcc.live = {
        state: live,
        touches: touches,
        deliver: deliver,
        /* Playback: the badge shows the replayed moment instead of the data time; null returns to live. */
        pause: function (text) {
            live.paused = Boolean(text);
            if (text) {
                shown = "";
                setProps("shell-as-of", {children: text, className: "gcc-as-of gcc-live-replay", "data-live": "replay",
                    title: label("live.replay_hint")});
            } else {
                renderBadge();
            }
        }
    };

    window.dash_clientside = Object.assign(window.dash_clientside || {}, {
        gridcc_live: {
            start: start,
            playback: playback,
            heatClass: function (on) {
                return "ovw-map-wrap" + (on ? " ovw-heat-on" : "");
            },
            /* The heat layer: hexagons drawn here from the server's cells (h3-js), styled from the same hideout. */
            heatLayer: function (hideout) {
                var empty = {type: "FeatureCollection", features: []};
                if (!hideout) {
                    return [empty, {cells: {}, bounds: [], colours: []}];
                }
                var convert = window.dash_clientside.gridcc_heat && window.dash_clientside.gridcc_heat.toGeojson;
                return [convert ? convert(hideout) : empty, hideout];
            },
            /* A new urgent alert beeps when the screen's sound is on; the first list after loading never does. */
            alertSound: function (ids, soundOn) {
                var fresh = (ids || []).filter(function (id) {
                    return knownAlerts !== null && knownAlerts.indexOf(id) < 0;
                });
                knownAlerts = (ids || []).slice();
                if (fresh.length && soundOn) {
                    beep();
                }
                window.gridcc.live.lastAlerts = {ids: knownAlerts, fresh: fresh, beeped: Boolean(fresh.length && soundOn)};
            }
        }
    });
}());
