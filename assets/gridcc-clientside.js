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
            return [labels.product, titleKey ? labels[titleKey] : "", button("zh"), button("en"),
                labels.signout, labels["wall.on"], labels["wall.hint"]];
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

        /* Mirror the view into the address bar without a navigation, so the link reproduces it. */
        mirrorUrl: function (view, metric) {
            if (!view) {
                return;
            }
            var params = new URLSearchParams(window.location.search);
            var set = function (key, value) {
                if (value) {
                    params.set(key, value);
                } else {
                    params.delete(key);
                }
            };
            set("area", view.code === view.top ? null : view.code);
            set("building", view.building ? view.building.code : null);
            set("metric", metric === "open" ? null : metric);
            var query = params.toString();
            var url = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
            if (url !== window.location.pathname + window.location.search + window.location.hash) {
                window.history.replaceState(window.history.state, "", url);
            }
        }
    };

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        gridcc_shell: shell,
        gridcc_overview: overview
    });
}());
