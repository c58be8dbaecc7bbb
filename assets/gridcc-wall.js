/* The wall (/wall, layouts/wall.py): rotation, pause on touch, the arrow keys, header, badge and a watchdog.
 *
 * Three slots hold drawn views: position 0 is shown (and position 1 beside it on a 32:9 wall), the others are
 * drawn ahead, hidden. A rotation only starts when the view to be shown is drawn in its slot (its
 * .wall-built[data-index] says which stop it holds); then the slots change positions and the CSS cross-fades.
 * Which stop each slot draws is asked through its dcc.Store "wall-want-<k>" (callbacks/wall.py draws it).
 *
 * A refresh (a live change, at most every 5 s, and every minute) redraws the hidden slots in place; a shown
 * view is redrawn in the fourth, spare slot and, when its content changed, takes the shown one's place once
 * drawn (its map painted): Dash remounts whatever a callback's "children" replaces, so redrawing a shown slot
 * in place would blank its map for a moment on every change. Live changes come through the page-tick list
 * of assets/gridcc-live.js. The watchdog:
 * when nothing succeeded for 3 minutes (no live message, no Dash answer), it asks the server for this page and
 * reloads only when the server answers it; while the server is down it backs off; when the answer is the
 * sign-in page (the session ended) it says "please sign in again" and stops asking.
 * Runs only while a .wall is on the page; everything it adds (listeners, timers) is added once and removed
 * when the wall goes away, so a wall rotating for days does not grow.
 */
(function () {
    "use strict";

    var config = window.gridccWallConfig || {};  // tests shorten the times
    var WATCHDOG_MS = config.watchdogMs || 180000;
    var TICK_MS = config.tickMs || 5000;
    var STEP_MS = 250;
    var PROBE_FIRST_MS = config.probeFirstMs || 5000;
    var PROBE_MAX_MS = config.probeMaxMs || 300000;
    var IDLE_CURSOR_MS = 5000;
    var liveConfig = window.gridccLiveConfig || {};
    var AMBER_MS = liveConfig.amberMs || 15000;
    var RED_MS = liveConfig.redMs || 45000;
    var REFRESH_MS = config.refreshMs || 60000;  // the time window moves: redraw every minute anyway
    var PAINT_WAIT_MS = 5000;  // a redrawn map not painted after this long takes the place anyway

    var W = null;  // the running wall's state

    function now() {
        return Date.now();
    }

    function mod(i, n) {
        return ((i % n) + n) % n;
    }

    function setProps(id, props) {
        if (window.dash_clientside && window.dash_clientside.set_props && W && document.getElementById("wall")) {
            window.dash_clientside.set_props(id, props);
        }
    }

    function wide() {
        return window.matchMedia("(min-aspect-ratio: 3/1)").matches;
    }

    function label(key) {
        return (W && W.conf.labels && W.conf.labels[key]) || key;
    }

    /* -- the slots --------------------------------------------------------------------------------------- */
    var stamp = 0;

    function ask(slot, index, extra) {
        var request = Object.assign({i: mod(index, W.n), t: now() * 1000 + (stamp++ % 1000), v: W.version}, extra || {});
        W.wanted[slot] = request;
        setProps("wall-want-" + slot, {data: request});
        return request;
    }

    function built(slot) {
        var el = document.getElementById("wall-slot-" + slot);
        return el && el.querySelector(":scope > .wall-built");
    }

    function holds(slot, index) {
        var b = built(slot);
        return Boolean(b) && !b.classList.contains("wall-same") && b.getAttribute("data-index") === String(mod(index, W.n));
    }

    function digestOf(slot) {
        var b = built(slot);
        return b && !b.classList.contains("wall-same") ? b.getAttribute("data-digest") : null;
    }

    function painted(slot) {
        var el = document.getElementById("wall-slot-" + slot);
        var maps = el ? el.querySelectorAll(".leaflet-container") : [];
        return Array.prototype.every.call(maps, function (map) {
            return Boolean(map.querySelector("path"));
        });
    }

    function place() {
        W.ring.concat([W.spare]).forEach(function (slot, pos) {
            var el = document.getElementById("wall-slot-" + slot);
            if (el) {
                el.setAttribute("data-pos", String(pos));
                el.setAttribute("aria-hidden", pos === 0 || (pos === 1 && wide()) ? "false" : "true");
            }
        });
    }

    /* -- refresh: hidden slots in place, shown ones through the spare ------------------------------------ */
    function shownPositions() {
        return wide() && W.n > 1 ? [0, 1] : [0];
    }

    /* Redraw the views; ``whole``: even when nothing changed (the screen changed size: a map fits its area
     * only when it is drawn, and a kiosk browser may draw the wall before its window is full screen). */
    function refresh(whole) {
        W.lastRefresh = now();
        W.doneVersion = W.version;
        W.whole = Boolean(whole);
        var shown = shownPositions();
        for (var pos = 0; pos < 3; pos++) {
            if (shown.indexOf(pos) < 0) {
                ask(W.ring[pos], W.index + pos, {same: W.whole ? null : digestOf(W.ring[pos])});
            }
        }
        W.queue = shown.slice();
    }

    function renew() {
        var r = W.renewing;
        if (!r) {
            if (W.queue.length && !W.pending) {
                var pos = W.queue.shift();
                var request = ask(W.spare, W.index + pos, {same: W.whole ? null : digestOf(W.ring[pos]), spare: true});
                W.renewing = {pos: pos, index: W.index + pos, t: request.t, asked: now(), drawn: 0};
            }
            return;
        }
        var b = built(W.spare);
        if (!b || b.getAttribute("data-req") !== String(r.t)) {
            if (now() - r.asked > 30000) {
                W.renewing = null;  // no answer (the server is away): the next refresh asks again
            }
            return;
        }
        if (b.classList.contains("wall-same")) {
            W.renewing = null;  // nothing changed: the shown view stays as it is
            return;
        }
        r.drawn = r.drawn || now();
        if (!painted(W.spare) && now() - r.drawn < PAINT_WAIT_MS) {
            return;
        }
        var shownSlot = W.ring[r.pos];
        W.ring[r.pos] = W.spare;
        W.spare = shownSlot;
        W.renewing = null;
        W.root.classList.add("wall-instant");  // a redraw takes the place at once: both are whole
        place();
        window.setTimeout(function () {
            if (W) {
                W.root.classList.remove("wall-instant");
            }
        }, 100);
    }

    function header() {
        var view = W.conf.views[W.index];
        var title = document.getElementById("wall-view-title");
        if (title && title.textContent !== view.title) {
            title.textContent = view.title;
        }
        var dots = document.getElementById("wall-dots");
        if (dots) {
            Array.prototype.forEach.call(dots.children, function (dot, i) {
                dot.classList.toggle("on", i === W.index);
            });
            dots.setAttribute("aria-label", (W.index + 1) + "/" + W.n);
            dots.setAttribute("data-position", (W.index + 1) + "/" + W.n);
        }
    }

    /* Move by ``by`` (+1 next, -1 previous) once the view to show is drawn; until then the wall stays as it is. */
    function step(by) {
        if (!W || W.pending || W.n < 2) {
            return;
        }
        W.renewing = null;  // a rotation goes first; the view shown next is fresh enough
        W.queue = [];
        var r = W.ring;
        if (by > 0) {
            W.pending = {index: W.index + 1, ring: [r[1], r[2], r[0]], need: wide() ? 2 : 1};
        } else {
            W.pending = {index: W.index - 1, ring: [r[2], r[0], r[1]], need: 1};
            ask(r[2], W.index - 1);  // the hidden slot draws the previous stop
        }
        W.pending.asked = now();
        settle();
    }

    function settle() {
        var p = W.pending;
        if (!p) {
            return;
        }
        for (var pos = 0; pos < p.need; pos++) {
            if (!holds(p.ring[pos], p.index + pos)) {
                if (now() - p.asked > 30000) {  // asked long ago and not drawn (the server was away): ask again
                    p.asked = now();
                    ask(p.ring[pos], p.index + pos);
                }
                return;
            }
        }
        W.ring = p.ring;
        W.index = mod(p.index, W.n);
        W.pending = null;
        W.shownAt = now();
        place();
        header();
        ask(W.ring[2], W.index + 2);  // the slot just hidden draws the stop after next
        if (!wide()) {
            ask(W.ring[1], W.index + 1);  // (already there after a forward step: the callback answers no_update)
        }
    }

    /* -- pause on touch ------------------------------------------------------------------------------------ */
    function touched() {
        W.lastTouch = now();
        W.root.classList.remove("wall-idle");
        if (!W.paused) {
            W.paused = true;
            var mark = document.getElementById("wall-paused");
            if (mark) {
                mark.hidden = false;
            }
        }
    }

    function resume() {
        // The view on show has had resume_s already: when its dwell is over too, the rotation moves on at once.
        W.paused = false;
        var mark = document.getElementById("wall-paused");
        if (mark) {
            mark.hidden = true;
        }
    }

    function onResize() {
        if (W && W.ready) {
            W.resizedAt = now();
        }
    }

    function onKey(event) {
        touched();
        if (event.key === "ArrowRight" || event.key === "PageDown") {
            step(1);
        } else if (event.key === "ArrowLeft" || event.key === "PageUp") {
            step(-1);
        }
    }

    /* -- header: clock and the data-as-of badge (from the live client's state) ------------------------------ */
    var clockFormat = null;

    function clock() {
        var el = document.getElementById("wall-clock");
        if (!el) {
            return;
        }
        var text;
        try {
            clockFormat = clockFormat || new Intl.DateTimeFormat("en-GB", {timeZone: W.conf.timezone,
                hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"});
            text = clockFormat.format(new Date());
        } catch (e) {
            text = new Date().toTimeString().slice(0, 8);
        }
        if (el.textContent !== text) {
            el.textContent = text;
        }
    }

    function liveState() {
        return window.gridcc && window.gridcc.live && window.gridcc.live.state;
    }

    function badge() {
        var el = document.getElementById("wall-badge");
        var s = liveState();
        if (!el) {
            return;
        }
        var level = "fresh";
        if (!s || !s.contact) {
            level = s && s.mode !== "starting" ? "red" : "fresh";
        } else {
            var quiet = now() - s.contact;
            level = quiet >= RED_MS ? "red" : quiet >= AMBER_MS ? "amber" : "fresh";
        }
        var text = label("clock.as_of") + " " + (s && s.serverNow ? s.serverNow.slice(11, 19) : "--:--:--");
        if (level === "amber") {
            text += " · " + label("live.delayed");
        } else if (level === "red") {
            text += " · " + label("live.lost");
        }
        if (el.textContent !== text) {
            el.textContent = text;
        }
        if (el.getAttribute("data-live") !== level) {
            el.setAttribute("data-live", level);
            el.className = "wall-badge wall-live-" + level;
        }
    }

    /* -- live refresh: the page-tick list of gridcc-live.js, throttled here to one tick per TICK_MS ---------- */
    function heard(message) {
        if (!W) {
            return false;
        }
        W.lastSuccess = now();
        W.version = message.v;
        if (!W.tickTimer) {
            var wait = Math.max(0, TICK_MS - (now() - W.lastTick));
            W.tickTimer = window.setTimeout(function () {
                if (!W) {
                    return;
                }
                W.tickTimer = null;
                W.lastTick = now();
                refresh();
            }, wait);
        }
        return false;  // the live client fires nothing itself for the wall: the tick above is the wall's own
    }

    var ticks = window.gridccPageTicks = window.gridccPageTicks || [];
    ticks.push({anchor: "wall", store: "wall-want-3", wants: heard});  // (the store is never set by the live client)

    /* Every Dash answer that came back is a sign of life (the watchdog's other source). */
    var fetchWrapped = false;

    function wrapFetch() {
        if (fetchWrapped || !window.fetch) {
            return;
        }
        fetchWrapped = true;
        var original = window.fetch;
        window.fetch = function (resource, init) {
            var promise = original.apply(this, arguments);
            var url = typeof resource === "string" ? resource : (resource && resource.url) || "";
            if (url.indexOf("/_dash-update-component") >= 0) {
                promise.then(function (response) {
                    if (W && (response.ok || response.status === 204)) {
                        W.lastSuccess = now();
                    }
                }, function () { /* counted by the watchdog: no success */ });
            }
            return promise;
        };
    }

    /* -- the watchdog ------------------------------------------------------------------------------------ */
    function showState(key, link) {
        var el = document.getElementById("wall-state");
        if (!el) {
            return;
        }
        el.textContent = label(key);
        if (link) {
            var a = document.createElement("a");
            a.href = "/auth/sign-in?next=" + encodeURIComponent(window.location.pathname + window.location.search);
            a.textContent = "→";
            a.className = "wall-state-link";
            el.appendChild(a);
        }
        el.setAttribute("data-state", key);
        el.hidden = false;
    }

    function hideState() {
        var el = document.getElementById("wall-state");
        if (el && !el.hidden) {
            el.hidden = true;
            el.removeAttribute("data-state");
        }
    }

    function probe() {
        W.probing = true;
        W.probes += 1;
        window.fetch(window.location.pathname + window.location.search, {
            cache: "no-store", credentials: "same-origin", redirect: "follow", headers: {Accept: "text/html"}
        }).then(function (response) {
            if (!W) {
                return;
            }
            var signIn = response.status === 401 || (response.url || "").indexOf("/auth/sign-in") >= 0;
            if (signIn) {
                W.signedOut = true;
                showState("bigwall.sign_in_again", true);
                return;
            }
            if (!response.ok) {
                throw new Error("probe " + response.status);
            }
            showState("bigwall.reloading");
            W.reloading = true;
            window.location.reload();
        }).catch(function () {
            if (!W) {
                return;
            }
            W.probing = false;
            W.backoff = Math.min(PROBE_MAX_MS, W.backoff ? W.backoff * 2 : PROBE_FIRST_MS);
            W.nextProbe = now() + W.backoff;
            showState("bigwall.reconnecting");
        });
    }

    function watchdog() {
        var s = liveState();
        if (s && s.contact > W.lastSuccess) {
            W.lastSuccess = s.contact;
        }
        // The server's data is newer than the views last asked for, and no change was announced (a stream
        // that reconnects by itself after a restart starts from the server's version): redraw them.
        if (s && typeof s.version === "number") {
            if (W.doneVersion === null) {
                W.doneVersion = s.version;  // the first word: the views were drawn just now
            } else if (s.version !== W.doneVersion && !W.tickTimer && now() - W.lastRefresh >= TICK_MS) {
                W.version = s.version;
                refresh();
            }
        }
        if (W.signedOut || W.reloading) {
            return;
        }
        if (now() - W.lastSuccess < WATCHDOG_MS) {
            if (W.backoff && !W.probing) {  // came back by itself (the live client reconnected): all is well
                W.backoff = 0;
                hideState();
            }
            return;
        }
        if (!W.probing && now() >= W.nextProbe) {
            probe();
        }
    }

    /* -- the loop ------------------------------------------------------------------------------------------- */
    function beat() {
        if (!W) {
            return;
        }
        if (!W.ready && holds(W.ring[0], W.index) && (!wide() || W.n < 2 || holds(W.ring[1], W.index + 1))) {
            W.ready = true;
            W.shownAt = now();
            W.root.setAttribute("data-ready", "1");
        }
        settle();
        if (W.resizedAt && now() - W.resizedAt > 700) {
            W.resizedAt = 0;
            refresh(true);
        }
        renew();
        if (W.ready && now() - W.lastRefresh >= REFRESH_MS) {
            refresh();
        }
        var dwell = (W.conf.views[W.index].dwell_s || 30) * 1000;
        if (W.paused && now() - W.lastTouch >= (W.conf.resume_s || 60) * 1000) {
            resume();
        }
        if (W.ready && !W.paused && !W.pending && !W.renewing && W.n > (wide() ? 2 : 1) && now() - W.shownAt >= dwell) {
            step(1);
        }
        if (!W.root.classList.contains("wall-idle") && now() - W.lastTouch >= IDLE_CURSOR_MS) {
            W.root.classList.add("wall-idle");  // no pointer on a wall nobody touches
        }
        if (now() - W.lastSecond >= 1000) {
            W.lastSecond = now();
            clock();
            badge();
            watchdog();
        }
    }

    function start(root) {
        var conf;
        try {
            conf = JSON.parse(root.getAttribute("data-config"));
        } catch (e) {
            return;
        }
        if (!conf || !conf.views || !conf.views.length) {
            return;
        }
        var controller = window.AbortController ? new window.AbortController() : null;
        W = {root: root, conf: conf, n: conf.views.length, index: 0, ring: [0, 1, 2], spare: 3, queue: [],
            renewing: null, lastRefresh: now(), wanted: {}, pending: null,
            ready: false, paused: false, lastTouch: 0, shownAt: now(), lastSuccess: now(), lastTick: 0,
            tickTimer: null, version: null, probing: false, probes: 0, backoff: 0, nextProbe: 0, signedOut: false,
            reloading: false, lastSecond: 0, doneVersion: null, resizedAt: 0, whole: false, controller: controller};
        W.lastTouch = -1e15;
        var opts = controller ? {signal: controller.signal, passive: true} : {passive: true};
        ["pointerdown", "pointermove", "wheel", "touchstart"].forEach(function (name) {
            window.addEventListener(name, touched, opts);
        });
        window.addEventListener("keydown", onKey, controller ? {signal: controller.signal} : false);
        window.addEventListener("resize", onResize, opts);
        wrapFetch();
        place();
        for (var k = 0; k < 3; k++) {
            ask(W.ring[k], k);
        }
        W.timer = window.setInterval(beat, STEP_MS);
        header();
        clock();
        badge();
    }

    function stop() {
        window.clearInterval(W.timer);
        window.clearTimeout(W.tickTimer);
        if (W.controller) {
            W.controller.abort();
        } else {
            ["pointerdown", "pointermove", "wheel", "touchstart"].forEach(function (name) {
                window.removeEventListener(name, touched);
            });
            window.removeEventListener("keydown", onKey);
            window.removeEventListener("resize", onResize);
        }
        W = null;
    }

    /* Start when a wall is on the page (a load, or a navigation inside the app), stop when it leaves. */
    window.setInterval(function () {
        var root = document.getElementById("wall");
        var usable = root && !root.classList.contains("wall-problem");
        if (W && (!usable || W.root !== root)) {
            stop();
        }
        if (usable && !W && window.dash_clientside && window.dash_clientside.set_props) {
            start(root);
        }
    }, 300);

    window.gridcc = window.gridcc || {};
    window.gridcc.wall = {
        state: function () {
            return W;
        },
        step: function (by) {
            step(by);
        }
    };
}());
