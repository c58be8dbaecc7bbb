/* The event-density (heat) layer: H3 hexagons coloured by their event count.
 * The server sends only the hideout (dashboard/heat.py heat_hideout):
 *   {cells: {id: count}, bounds, colours, labels, label, countLabel: "{n} 件", noneLabel, noData, total,
 *    resolution, truncated}
 * where an id is the cell's 15-digit hex index less its first two digits ("8" and the resolution) and its
 * trailing f's: "8" + resolution in hex + id, padded to 15 with "f", gives the cell back.
 * A clientside callback (window.dash_clientside.gridcc_heat.toGeojson) turns it into hexagon polygons
 * with h3-js (assets/vendor/h3-js, which sets window.h3; it loads after this file, and is only used
 * when a callback or the map calls these functions); dl.GeoJSON draws them with
 * {"variable": "gridcc.heat.style"} and {"variable": "gridcc.heat.onEachFeature"}. */
(function () {
    "use strict";

    var EMPTY = {type: "FeatureCollection", features: []};
    var ID = /^[0-9a-f]{0,13}$/;
    var LINE = "#0a1220";

    function cellOf(id, resolution) {
        var cell = "8" + resolution.toString(16) + id;
        while (cell.length < 15) {
            cell += "f";
        }
        return cell;
    }

    function classOf(value, bounds) {
        var index = null;
        for (var i = 0; bounds && i < bounds.length; i++) {
            if (value >= bounds[i]) {
                index = i;
            }
        }
        return index;
    }

    function escape(text) {
        return String(text).replace(/[&<>"']/g, function (c) {
            return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
        });
    }

    function countOf(feature) {
        var count = feature && feature.properties && feature.properties.count;
        return typeof count === "number" && isFinite(count) ? count : 0;
    }

    /* The hexagons of hideout.cells as a GeoJSON FeatureCollection; anything malformed is left out. */
    function toGeojson(hideout) {
        var h3 = window.h3;
        var cells = hideout && hideout.cells;
        var resolution = hideout && hideout.resolution;
        if (!h3 || !cells || typeof cells !== "object" || Array.isArray(cells) ||
                !(resolution >= 0 && resolution <= 15 && Math.floor(resolution) === resolution)) {
            return EMPTY;
        }
        var features = [];
        Object.keys(cells).forEach(function (id) {
            var count = cells[id];
            if (!ID.test(id) || typeof count !== "number" || !isFinite(count) || count <= 0) {
                return;
            }
            var cell = cellOf(id, resolution);
            if (!h3.isValidCell(cell) || h3.getResolution(cell) !== resolution) {
                return;
            }
            features.push({
                type: "Feature",
                id: cell,
                geometry: {type: "Polygon", coordinates: [h3.cellToBoundary(cell, true)]},
                properties: {cell: cell, count: count}
            });
        });
        return {type: "FeatureCollection", features: features};
    }

    function style(feature, context) {
        var hideout = (context && context.hideout) || {};
        var index = classOf(countOf(feature), hideout.bounds);
        return {
            fillColor: index === null ? (hideout.noData || "#4b5563") : hideout.colours[index],
            fillOpacity: 0.72,
            color: LINE,
            weight: 0.6,
            opacity: 0.9,
            className: "gcc-heat-cell"
        };
    }

    function onEachFeature(feature, layer, context) {
        layer.bindTooltip(function () {
            var hideout = (context && context.hideout) || {};
            var template = typeof hideout.countLabel === "string" ? hideout.countLabel : "{n}";
            var count = countOf(feature).toLocaleString("en-US");
            return '<div class="gcc-tip-value"><span>' + escape(hideout.label || "") + "</span> <b>" +
                escape(template.replace("{n}", count)) + "</b></div>";
        }, {sticky: true, direction: "top", className: "gcc-tooltip", opacity: 1});
    }

    /* Onto the existing objects: whichever gridcc-*.js loads first, none drops another's keys. */
    window.gridcc = window.gridcc || {};
    window.gridcc.heat = {style: style, onEachFeature: onEachFeature, toGeojson: toGeojson, classOf: classOf};
    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.gridcc_heat = Object.assign({}, window.dash_clientside.gridcc_heat, {
        toGeojson: toGeojson
    });
}());
