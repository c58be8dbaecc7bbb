/* The SLA page's live tick: assets/gridcc-live.js sets sla-tick (at most once a second, after a random
 * 0–300 ms, like every page's tick) when a live message touches the area in view. A page frozen by its
 * URL's as_of (data-frozen) never ticks. */
(function () {
    "use strict";

    /* The area in view and whether the page is frozen are read from the page itself. */
    function inView() {
        var page = document.getElementById("sla-page");
        var current = page && page.querySelector("#sla-breadcrumb .ovw-crumb-current");
        return current && !page.hasAttribute("data-frozen") ? current.getAttribute("title") : null;
    }

    (window.gridccPageTicks = window.gridccPageTicks || []).push({
        anchor: "sla-page",
        store: "sla-tick",
        wants: function (message) {
            var code = inView();
            return Boolean(code) && window.gridcc.live.touches(message, code);
        }
    });
}());
