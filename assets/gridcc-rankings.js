/* The rankings page in the browser (layouts/rankings.py): the 12-period sparkline drawn by an AG Grid cell
 * renderer (inline SVG, nothing fetched), and the page's query mirrored into the URL so a pasted link shows the
 * same view.
 *
 * Cell renderers follow dash-ag-grid's convention: functions on window.dashAgGridComponentFunctions, named by
 * the column's cellRenderer.
 */
(function () {
    "use strict";

    var React = window.React;
    var W = 120, H = 24;

    /* The SVG path of scores on 0…100, oldest first; a period without a score leaves a gap. */
    function sparkPath(values) {
        var step = W / Math.max(1, values.length - 1);
        var parts = [], pen = false;
        values.forEach(function (v, i) {
            if (v === null || v === undefined || !isFinite(v)) {
                pen = false;
                return;
            }
            var y = H - 2 - (H - 4) * Math.max(0, Math.min(100, v)) / 100;
            parts.push((pen ? "L" : "M") + (i * step).toFixed(1) + "," + y.toFixed(1));
            pen = true;
        });
        return parts.join(" ");
    }

    var components = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

    /* The sparkline: the line, a dot on the latest score, and the scores as the tooltip (not a picture alone). */
    components.GridccSpark = function (props) {
        var values = (props.data && props.data.spark) || [];
        var shown = values.filter(function (v) { return v !== null && v !== undefined; });
        if (!shown.length) {
            return React.createElement("span", {className: "rnk-spark-none"}, "—");
        }
        var last = values.length - 1;
        var lastValue = values[last];
        var dot = null;
        if (lastValue !== null && lastValue !== undefined) {
            var x = W, y = H - 2 - (H - 4) * Math.max(0, Math.min(100, lastValue)) / 100;
            dot = React.createElement("circle", {cx: x - 2, cy: y, r: 2.2, className: "rnk-spark-dot"});
        }
        var title = values.map(function (v) { return v === null || v === undefined ? "—" : v.toFixed(2); }).join(" → ");
        return React.createElement("svg", {
            className: "rnk-spark", width: W, height: H, viewBox: "-2 0 " + (W + 2) + " " + H, role: "img",
            "aria-label": title
        }, React.createElement("title", null, title),
            React.createElement("path", {d: sparkPath(values), className: "rnk-spark-line"}), dot);
    };

    window.gridcc = window.gridcc || {};
    window.gridcc.rankings = {sparkPath: sparkPath};

    var NAMES = ["level", "scheme", "period", "area", "norm", "compare", "as_of", "lang"];

    window.dash_clientside = Object.assign(window.dash_clientside || {}, {
        gridcc_rankings: {
            /* Put the page's query in the URL (replaceState: no reload, no history entry per click). */
            mirrorUrl: function (query) {
                if (!query) {
                    return;
                }
                var params = new URLSearchParams(window.location.search);
                NAMES.forEach(function (key) {
                    if (query[key]) {
                        params.set(key, query[key]);
                    } else {
                        params.delete(key);
                    }
                });
                var text = params.toString();
                var url = window.location.pathname + (text ? "?" + text : "") + window.location.hash;
                if (url !== window.location.pathname + window.location.search + window.location.hash) {
                    window.history.replaceState(window.history.state, "", url);
                }
            }
        }
    });
}());
