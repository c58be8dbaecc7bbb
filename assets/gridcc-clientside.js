/* Clientside callbacks: work that happens in the browser anyway (labels, clock, URL, drill clicks). */
(function () {
    "use strict";

    function langOf(search) {
        return new URLSearchParams(search || "").get("lang") === "en" ? "en" : "zh";
    }

    /* The CSRF token the server set for this session (dash-renderer sends the same one on callbacks). */
    function csrfToken() {
        var match = document.cookie.match(/(?:^|;\s*)_csrf_token=([^;]*)/);
        return match ? decodeURIComponent(match[1]) : "";
    }

    /* POST a form body to this site with the CSRF header; resolves whatever the answer. */
    function post(url, body) {
        return window.fetch(url, {
            method: "POST", credentials: "same-origin", redirect: "manual",
            headers: {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": csrfToken()},
            body: body
        }).catch(function () { return null; });
    }

    /* A session that ended (signed out elsewhere, disabled, idle) answers 401: go to the sign-in page
     * instead of leaving a screen of failed callbacks. */
    if (window.fetch && !window.fetch.gridccWrapped) {
        var fetchBefore = window.fetch.bind(window);
        window.fetch = function () {
            return fetchBefore.apply(null, arguments).then(function (response) {
                if (response.status === 401 && response.url && new URL(response.url).origin === window.location.origin &&
                        new URL(response.url).pathname.indexOf("/_dash-") === 0) {
                    var here = window.location.pathname + window.location.search;
                    window.location.assign("/auth/sign-in?next=" + encodeURIComponent(here));
                }
                return response;
            });
        };
        window.fetch.gridccWrapped = true;
    }

    /* Links between pages keep the language the user chose (it lives in the URL). */
    document.addEventListener("click", function (event) {
        var link = event.target.closest ? event.target.closest("a[data-keep-lang]") : null;
        if (link && langOf(window.location.search) === "en") {
            var url = new URL(link.href, window.location.href);
            url.searchParams.set("lang", "en");
            link.href = url.pathname + url.search;
        }
    }, true);

    /* ?embed=1: the page without the top bar (the presenter's frame, the export) — at once, before Dash draws. */
    function embedded(search) {
        return new URLSearchParams(search || "").get("embed") === "1";
    }
    if (embedded(window.location.search)) {
        document.documentElement.classList.add("gcc-embed");
    }

    /* "返回实时 Back to live": the same address without its as_of (the link is shown on a frozen page). */
    document.addEventListener("click", function (event) {
        var link = event.target.closest ? event.target.closest("a[data-drop-as-of]") : null;
        if (link) {
            var params = new URLSearchParams(window.location.search);
            params.delete("as_of");
            var query = params.toString();
            link.href = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
        }
    }, true);

    /* -- Copy link: the full address (with lang) to the clipboard; on a plain-http intranet host (no secure
     * context: no navigator.clipboard) through a hidden textarea; if even that is refused, the link is shown
     * selected in a small box to copy by hand. -- */
    function copyByHand(text) {
        var area = document.createElement("textarea");
        area.value = text;
        area.setAttribute("readonly", "");
        area.style.position = "fixed";
        area.style.top = "0";
        area.style.left = "-9999px";
        area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        area.setSelectionRange(0, text.length);
        var ok = false;
        try {
            ok = document.execCommand("copy");
        } catch (e) {
            ok = false;
        }
        document.body.removeChild(area);
        return ok;
    }

    function copyText(text) {
        if (navigator.clipboard && window.isSecureContext) {
            return navigator.clipboard.writeText(text).then(function () { return true; },
                function () { return copyByHand(text); });
        }
        return Promise.resolve(copyByHand(text));
    }

    var toastTimer = null;

    function showToast() {
        var toast = document.getElementById("shell-toast");
        if (!toast) {
            return;
        }
        toast.hidden = false;
        toast.classList.add("gcc-toast-on");
        window.clearTimeout(toastTimer);
        toastTimer = window.setTimeout(function () {
            toast.classList.remove("gcc-toast-on");
            toast.hidden = true;
        }, 3000);
    }

    function showBox(text) {
        var box = document.getElementById("shell-copy-box");
        var field = document.getElementById("shell-copy-text");
        if (!box || !field) {
            return;
        }
        field.value = text;
        box.hidden = false;
        field.focus();
        field.select();
    }

    document.addEventListener("click", function (event) {
        var target = event.target.closest ? event.target : null;
        if (target && target.closest("#shell-copy-link")) {
            var href = window.location.href;
            copyText(href).then(function (ok) {
                if (ok) {
                    document.getElementById("shell-copy-box").hidden = true;
                    showToast();
                } else {
                    showBox(href);
                }
            });
        } else if (target && target.closest("#shell-copy-close")) {
            document.getElementById("shell-copy-box").hidden = true;
        }
    });
    document.addEventListener("keydown", function (event) {
        var box = document.getElementById("shell-copy-box");
        if (event.key === "Escape" && box && !box.hidden) {
            box.hidden = true;
        }
    });
    window.gridcc = window.gridcc || {};
    window.gridcc.copyLink = {copyText: copyText, copyByHand: copyByHand, showBox: showBox};

    /* Put ``query`` ({key: value, or null/"" for absent}) into the address bar without a navigation (no
     * history entry per click), keeping every other key (lang, as_of, embed). */
    function replaceQuery(query) {
        var params = new URLSearchParams(window.location.search);
        Object.keys(query).forEach(function (key) {
            var value = query[key];
            if (value === null || value === undefined || value === "" || value === false) {
                params.delete(key);
            } else {
                params.set(key, String(value));
            }
        });
        // ":" and "," need no escaping in a query: "as_of=2026-11-20T15:00", "quick=red,soon" stay readable.
        var text = params.toString().replace(/%3A/gi, ":").replace(/%2C/gi, ",");
        var url = window.location.pathname + (text ? "?" + text : "") + window.location.hash;
        if (url !== window.location.pathname + window.location.search + window.location.hash) {
            window.history.replaceState(window.history.state, "", url);
        }
    }

    function pad(n) {
        return (n < 10 ? "0" : "") + n;
    }

    var shell = {
        /* Put the frame's labels in the URL's language; mark the active language button. */
        labels: function (pathname, search, store) {
            var lang = langOf(search);
            var labels = store.langs[lang];
            var titleKey = store.pages[pathname || "/"];
            document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
            document.querySelectorAll(".gcc-nav-link").forEach(function (link) {
                var here = new URL(link.href, window.location.href).pathname === (pathname || "/");
                link.classList.toggle("active", here);
                if (here) { link.setAttribute("aria-current", "page"); } else { link.removeAttribute("aria-current"); }
            });
            var button = function (mine) {
                return "gcc-lang-btn" + (mine === lang ? " active" : "");
            };
            return [labels["product.short"], titleKey ? labels[titleKey] : "", button("zh"), button("en"),
                labels.signout, labels["wall.on"], labels["wall.hint"], labels["link.copy_hint"],
                "gcc-shell" + (embedded(search) ? " gcc-shell-embed" : "")];
        },

        /* Show the wall clock, hh:mm:ss, in the city's time zone (the browser's may differ). */
        clock: function (_tick, store) {
            try {
                return new Intl.DateTimeFormat("en-GB", {
                    timeZone: store.timezone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
                }).format(new Date());
            } catch (e) {
                var now = new Date();
                return pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
            }
        },

        /* Sign out: a POST with the session's CSRF token, then the sign-in page. */
        signOut: function () {
            post("/auth/sign-out", "lang=" + langOf(window.location.search)).then(function () {
                window.location.assign("/auth/sign-in" + (langOf(window.location.search) === "en" ? "?lang=en" : ""));
            });
        },

        /* Turn this screen's public-wall masking on or off, then reload it so every panel re-renders masked. */
        toggleWall: function (_clicks, on) {
            post("/auth/public-wall", "on=" + (on === "1" ? "0" : "1")).then(function () {
                window.location.reload();
            });
        },

        /* Re-open the current URL (with the drill state mirrored into it) in the other language. */
        switchLang: function () {
            var ctx = window.dash_clientside.callback_context;
            var wanted = ctx.triggered_id === "shell-lang-en" ? "en" : "zh";
            var params = new URLSearchParams(window.location.search);
            if (langOf(window.location.search) === wanted) {
                return window.dash_clientside.no_update;
            }
            if (wanted === "en") {
                params.set("lang", "en");
            } else {
                params.delete("lang");
            }
            var query = params.toString();
            return window.location.origin + window.location.pathname + (query ? "?" + query : "") +
                window.location.hash;
        }
    };

    /* Start fetching an area's children now, beside the server round trip; the map's own request for
     * the same URL is then answered from the browser cache (the route sends max-age). */
    function prefetchChildren(code) {
        if (window.fetch && code) {
            window.fetch("/geo/children/" + encodeURIComponent(code) + ".json", {credentials: "same-origin"})
                .catch(function () { return null; });
        }
    }

    var overview = {
        /* Turn a click on the map (a feature) or on the breadcrumb (an area code) into the requested view. */
        drill: function (clickData, crumbClicks, heatClick, view) {
            var ctx = window.dash_clientside.callback_context;
            var trigger = ctx.triggered_id;
            var value = ctx.triggered.length ? ctx.triggered[0].value : null;
            if (trigger === "overview-heat") {
                // A hexagon: drill into the area under its centre (the server finds which).
                var cell = heatClick && heatClick.properties && heatClick.properties.cell;
                if (!cell || !window.h3 || !view) {
                    return window.dash_clientside.no_update;
                }
                var centre = window.h3.cellToLatLng(cell);
                return {area: view.code, building: null, at: [centre[0], centre[1]]};
            }
            if (trigger && typeof trigger === "object") {
                if (!value) {
                    return window.dash_clientside.no_update;
                }
                prefetchChildren(trigger.code);
                return {area: trigger.code, building: null};
            }
            if (!clickData || !clickData.properties) {
                return window.dash_clientside.no_update;
            }
            var p = clickData.properties;
            if (p.level === 5) {
                return {area: view ? view.code : null, building: p.code};
            }
            prefetchChildren(p.code);
            return {area: p.code, building: null};
        },

        /* Mirror the view into the address bar without a navigation, so the link reproduces it: the area and
         * building, the metric, and the heat layer (on, window, filters); defaults are left out
         * (dashboard/addresses.py reads the same keys). Playback is not in the address: it is this screen's. */
        mirrorUrl: function (view, metric, heatOn, heatWindow, heatClass, heatSource, heatUrgent) {
            if (!view) {
                return;
            }
            var query = {
                area: view.code === view.top ? null : view.code,
                building: view.building ? view.building.code : null
            };
            if (metric !== undefined) {  // the overview (the SLA page mirrors only its area here)
                query.metric = metric === "open" ? null : metric;
                query.heat = heatOn ? "1" : null;
                query.heat_window = heatOn && heatWindow && heatWindow !== "24h" ? heatWindow : null;
                query.heat_class = heatOn && heatClass && heatClass !== "all" ? heatClass : null;
                query.heat_source = heatOn && heatSource && heatSource !== "all" ? heatSource : null;
                query.heat_urgent = heatOn && heatUrgent ? "1" : null;
            } else {
                query.metric = null;
            }
            replaceQuery(query);
        },

        /* The SLA page's period (a custom one with its days), grain and splits; defaults left out. */
        mirrorSla: function (period, start, end, grain, splitBy, ageBy, handlingBy, exceptionsBy) {
            var custom = period === "custom" && start && end;
            replaceQuery({
                period: period && period !== "30d" && (period !== "custom" || custom) ? period : null,
                start: custom ? String(start).slice(0, 10) : null,
                end: custom ? String(end).slice(0, 10) : null,
                grain: grain && grain !== "day" ? grain : null,
                split_by: splitBy && splitBy !== "class" ? splitBy : null,
                age_by: ageBy && ageBy !== "class" ? ageBy : null,
                handling_by: handlingBy && handlingBy !== "class" ? handlingBy : null,
                exceptions_by: exceptionsBy && exceptionsBy !== "department" ? exceptionsBy : null
            });
        },

        /* The backlog desk's quick filters, search, sort and column filters, as the server wrote them. */
        mirrorQuery: function (query) {
            if (query && typeof query === "object") {
                replaceQuery(query);
            }
            return query || null;
        }
    };

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        gridcc_shell: shell,
        gridcc_overview: overview
    });
}());
