/* The SLA page's live tick: when a live message touches the area in view, set sla-tick (at most once a second,
 * after a random 0–300 ms so screens told at the same instant do not ask at the same instant). A page frozen
 * by its URL's as_of (data-frozen) never ticks. The message and its areas come from assets/gridcc-live.js
 * (shell-live). */
(function () {
    "use strict";

    var JITTER_MS = (window.gridccLiveConfig || {}).jitterMs === undefined ? 300 : window.gridccLiveConfig.jitterMs;
    var last = 0;
    var pending = null;
    var version = null;

    function touches(message, code) {
        if (!message || !message.areas || !code) {
            return false;
        }
        var city = code.length === 6 && code.slice(4) === "00";  // a city (xxxx00) covers its districts' grids
        var prefix = city ? code.slice(0, 4) : code;
        return message.areas.some(function (area) {
            return area === "*" || area.indexOf(prefix) === 0;
        });
    }

    function fire() {
        last = Date.now();
        pending = null;
        // Only while the SLA page is the page shown (the store lives in it).
        if (document.getElementById("sla-page") && window.dash_clientside.set_props) {
            window.dash_clientside.set_props("sla-tick", {data: {v: version, t: last}});
        }
    }

    /* The area in view and whether the page is frozen are read from the page itself: a callback's State on a
     * store of this page would be an error on every other page, where shell-live changes too. */
    function inView() {
        var page = document.getElementById("sla-page");
        var current = page && page.querySelector("#sla-breadcrumb .ovw-crumb-current");
        return current && !page.hasAttribute("data-frozen") ? current.getAttribute("title") : null;
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        gridcc_sla: {
            tick: function (message) {
                if (touches(message, inView())) {
                    version = message.v;
                    if (!pending) {
                        pending = window.setTimeout(fire, Math.max(0, 1000 - (Date.now() - last)) +
                            Math.random() * JITTER_MS);
                    }
                }
                return window.dash_clientside.no_update;
            }
        }
    });
}());
