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
            dot = React.createElement("circle", {cx: x - 2, cy: y, r: 3, className: "rnk-spark-dot"});
        }
        var title = values.map(function (v) { return v === null || v === undefined ? "—" : v.toFixed(2); }).join(" → ");
        return React.createElement("svg", {
            className: "rnk-spark", width: W, height: H, viewBox: "-2 0 " + (W + 2) + " " + H, role: "img",
            "aria-label": title
        }, React.createElement("title", null, title),
            React.createElement("path", {d: sparkPath(values), className: "rnk-spark-line"}), dot);
    };

    /* A count as a cell shows it: thousands separated; a weighted count (2.9 satisfied) to one decimal. */
    function number(n) {
        return Number.isInteger(n) ? n.toLocaleString("en-US")
            : n.toLocaleString("en-US", {minimumFractionDigits: 1, maximumFractionDigits: 1});
    }

    /* [numerator, denominator] → "99.9% (999/1,000)": dashboard/rank_figures.py pct and cell_text, step by step
     * (half up on the same float product; never 100.0% unless whole, never 0.0% unless nil). */
    function rankCell(pair) {
        if (!pair || pair.length !== 2) {
            return "";
        }
        var num = pair[0], den = pair[1];
        if (!den) {
            return "— (0/0)";
        }
        var value = num / den;
        var tenths = Math.floor(value * 1000 + 0.5);
        if (tenths >= 1000 && value < 1) {
            tenths = 999;
        } else if (tenths <= 0 && value > 0) {
            tenths = 1;
        }
        return (tenths / 10).toFixed(1) + "% (" + number(num) + "/" + number(den) + ")";
    }

    function fill(template, values) {
        return String(template || "").replace(/\{(\w+)\}/g, function (_, key) {
            return values[key] === undefined || values[key] === null ? "" : values[key];
        });
    }

    /* The rank change in words (the arrow's tooltip): dashboard/rank_figures.py change_title, from the grid's labels. */
    function rankChange(params) {
        var row = params && params.data;
        var labels = (params && params.context && params.context.labels) || {};
        if (!row) {
            return "";
        }
        var change = row.change, prev = row.prev_rank;
        if (change === null || change === undefined) {
            return fill(labels["rank.change.none"], {});
        }
        if (change > 0) {
            return fill(labels["rank.change.up"], {n: change, prev: prev});
        }
        if (change < 0) {
            return fill(labels["rank.change.down"], {n: -change, prev: prev});
        }
        return fill(labels["rank.change.same"], {prev: prev});
    }

    var functions = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
    functions.gridccRankCell = rankCell;
    functions.gridccRankChange = rankChange;

    window.gridcc = window.gridcc || {};
    window.gridcc.rankings = {sparkPath: sparkPath, rankCell: rankCell, rankChange: rankChange};

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
