/* The backlog desk in the browser (layouts/backlog.py): the live countdown and the light drawn in AG Grid's
 * cells, and the grid's own work — refresh the blocks in view on a live tick, start over on a new search,
 * show or hide columns, and keep the export link on the current view.
 *
 * Cell renderers follow dash-ag-grid's convention: functions on window.dashAgGridComponentFunctions, named
 * by the column's cellRenderer. The countdown runs on the server's clock as the live stream tells it
 * (window.gridcc.live.state), so a browser whose clock is off still counts down to the right moment.
 */
(function () {
    "use strict";

    var GRID = "backlog-grid";
    var React = window.React;

    function parseLocal(iso) {
        return new Date(iso + "Z").getTime();  // naive local time handled as UTC: no browser zone involved
    }

    /* The city's "now" in ms: the server's clock at its last message plus the time since, else the browser's. */
    function nowLocal() {
        var live = window.gridcc && window.gridcc.live && window.gridcc.live.state;
        if (live && live.serverNow && live.contact) {
            return parseLocal(live.serverNow.slice(0, 19)) + (Date.now() - live.contact);
        }
        return Date.now() + 8 * 3600000;
    }

    function fill(template, values) {
        return String(template || "").replace(/\{(\w+)\}/g, function (_, key) {
            return values[key] === undefined ? "" : values[key];
        });
    }

    /* Under a day the browser shows the seconds too (the server's text stops at minutes): it visibly ticks. */
    function span(minutes, labels) {
        if (minutes < 1440 && labels["desk.dur.seconds"]) {
            var secs = Math.max(0, Math.floor(minutes * 60));
            return fill(labels["desk.dur.seconds"], {h: Math.floor(secs / 3600), m: Math.floor((secs % 3600) / 60),
                s: secs % 60});
        }
        var m = Math.max(0, Math.floor(minutes));
        var days = Math.floor(m / 1440);
        var hours = Math.floor((m % 1440) / 60);
        var mins = m % 60;
        if (days >= 10 && labels["desk.dur.long_days"]) {
            return fill(labels["desk.dur.long_days"], {d: days});  // "已超期 364天": fits the column
        }
        if (days) {
            return fill(labels["desk.dur.days"], {d: days, h: hours});
        }
        if (hours) {
            return fill(labels["desk.dur.hours"], {h: hours, m: mins});
        }
        return fill(labels["desk.dur.minutes"], {m: mins});
    }

    /* "剩余 2时13分" / "已超期 1天3时" for a deadline (naive local ISO) at ``now`` (ms); "" without one. */
    function countdownText(deadlineIso, now, labels) {
        if (!deadlineIso) {
            return "";
        }
        var left = (parseLocal(deadlineIso.slice(0, 19)) - now) / 60000;
        return left >= 0 ? fill(labels["desk.left"], {span: span(left, labels)})
            : fill(labels["desk.over"], {span: span(-left, labels)});
    }

    /* One clock for every countdown cell: a cell subscribes while it is drawn. */
    var listeners = [];
    window.setInterval(function () {
        var now = nowLocal();
        listeners.slice().forEach(function (fn) { fn(now); });
    }, 1000);

    function useNow() {
        var state = React.useState(nowLocal());
        React.useEffect(function () {
            var fn = function (now) { state[1](now); };
            listeners.push(fn);
            return function () {
                var i = listeners.indexOf(fn);
                if (i >= 0) {
                    listeners.splice(i, 1);
                }
            };
        }, []);
        return state[0];
    }

    function labelsOf(props) {
        return (props.context && props.context.labels) || {};
    }

    var components = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

    /* The countdown: ticks every second while the case's clock runs; a handled or parked case shows the server's text. */
    components.GridccCountdown = function (props) {
        var now = useNow();
        var row = props.data;
        if (!row) {
            return null;
        }
        var text = row.running ? countdownText(row.deadline_iso, now, labelsOf(props)) : (row.countdown || "");
        var late = row.deadline_iso && parseLocal(row.deadline_iso.slice(0, 19)) < now && row.running;
        return React.createElement("span", {
            className: "bkl-countdown" + (late ? " bkl-countdown-late" : "") + (row.running ? "" : " bkl-countdown-still"),
            "data-deadline": row.deadline_iso || ""
        }, text);
    };

    /* The traffic light: a dot in its colour and its word (colour alone is not enough to read). */
    components.GridccLight = function (props) {
        var row = props.data;
        if (!row) {
            return null;
        }
        var light = row.light || "none";
        return React.createElement("span", {className: "bkl-light bkl-light-" + light},
            React.createElement("span", {className: "bkl-light-dot", "aria-hidden": "true"}),
            row.light_label || "—");
    };

    function api() {
        return window.dash_ag_grid && window.dash_ag_grid.getApi ? window.dash_ag_grid.getApi(GRID) : null;
    }

    function safely(fn) {
        try {
            var grid = api();
            if (grid && !grid.isDestroyed()) {
                fn(grid);
            }
        } catch (e) { /* the grid is not ready yet: its first request reads the current inputs anyway */ }
        return window.dash_clientside.no_update;
    }

    window.gridcc = window.gridcc || {};
    window.gridcc.backlog = {countdownText: countdownText, nowLocal: nowLocal};

    window.dash_clientside = Object.assign(window.dash_clientside || {}, {
        gridcc_backlog: {
            /* A live change reached the scope: ask again for the blocks in view (scroll and selection stay). */
            refresh: function () {
                return safely(function (grid) { grid.refreshInfiniteCache(); });
            },
            /* A new search or quick filter: the rows start over from the top. */
            restart: function () {
                return safely(function (grid) {
                    grid.ensureIndexVisible(0, "top");
                    grid.purgeInfiniteCache();
                });
            },
            /* The column choice: show the ticked columns, hide the others. */
            columns: function (visible) {
                var shown = visible || [];
                return safely(function (grid) {
                    var all = grid.getColumns().map(function (c) { return c.getColId(); });
                    grid.setColumnsVisible(all.filter(function (c) { return shown.indexOf(c) >= 0; }), true);
                    grid.setColumnsVisible(all.filter(function (c) { return shown.indexOf(c) < 0; }), false);
                });
            },
            /* The export link carries the view on screen: the server exports every row of it. */
            exportHref: function (columns, filters, search, quick, lang) {
                var view = {columns: (columns || []).map(function (c) {
                    return {colId: c.colId, hide: c.hide, sort: c.sort, sortIndex: c.sortIndex};
                }), filter: filters || {}, search: search || "", quick: quick || []};
                return "/backlog/export.xlsx?lang=" + (lang === "en" ? "en" : "zh") +
                    "&view=" + encodeURIComponent(JSON.stringify(view));
            }
        }
    });
}());
