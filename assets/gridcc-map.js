/* Map functions referenced by name from dl.GeoJSON ({"variable": "gridcc.map.style"}).
 * dash-leaflet calls them as f(feature, context) / f(feature, latlng, context) / f(feature, layer, context),
 * where context.hideout is the hideout the server sent: {values: {code: value}, bounds, colours, ...}.
 * dash-leaflet rebuilds the layers when the hideout changes, so closures over context stay current. */
(function () {
    "use strict";

    var LINE = "#0a1220";
    var SELECTED = "#ffffff";

    function classOf(value, bounds) {
        if (value === null || value === undefined || !bounds || !bounds.length) {
            return null;
        }
        var index = 0;
        for (var i = 0; i < bounds.length; i++) {
            if (value >= bounds[i]) {
                index = i;
            }
        }
        return index;
    }

    function valueOf(feature, hideout) {
        var values = (hideout && hideout.values) || {};
        var value = values[feature.properties.code];
        return value === undefined ? null : value;
    }

    function fillOf(feature, hideout) {
        var index = classOf(valueOf(feature, hideout), hideout && hideout.bounds);
        return index === null ? (hideout && hideout.noData) || "#4b5563" : hideout.colours[index];
    }

    /* How bad a value is, 0 (best class) upwards: sizes the building points. */
    function severity(feature, hideout) {
        var index = classOf(valueOf(feature, hideout), hideout && hideout.bounds);
        if (index === null) {
            return 0;
        }
        return hideout.reverse ? hideout.bounds.length - 1 - index : index;
    }

    function format(value, hideout) {
        if (value === null || value === undefined) {
            return "—";
        }
        var digits = hideout.digits || 0;
        return value.toLocaleString("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits}) +
            (hideout.unit || "");
    }

    function escape(text) {
        return String(text).replace(/[&<>"']/g, function (c) {
            return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
        });
    }

    function classNameOf(feature) {
        return "gcc-feature gcc-level-" + feature.properties.level + " gcc-code-" + feature.properties.code;
    }

    function style(feature, context) {
        var hideout = context.hideout || {};
        var selected = hideout.selected && hideout.selected === feature.properties.code;
        var s = {
            fillColor: fillOf(feature, hideout),
            fillOpacity: 0.82,
            color: selected ? SELECTED : LINE,
            weight: selected ? 3 : 1.2,
            opacity: 1,
            className: classNameOf(feature)
        };
        if (feature.geometry && feature.geometry.type === "Point") {
            s.radius = 7 + 3 * severity(feature, hideout) + (selected ? 2 : 0);
            s.color = selected ? SELECTED : "#e2e8f0";
            s.weight = selected ? 3 : 1.5;
            s.fillOpacity = 0.95;
        }
        return s;
    }

    function pointToLayer(feature, latlng, context) {
        return L.circleMarker(latlng, style(feature, context));
    }

    function onEachFeature(feature, layer, context) {
        var p = feature.properties;
        layer.bindTooltip(function () {
            var hideout = context.hideout || {};
            return '<div class="gcc-tip-name">' + escape(p.name) + "</div>" +
                '<div class="gcc-tip-code">' + escape(p.code) + "</div>" +
                '<div class="gcc-tip-value"><span>' + escape(hideout.label || "") + "</span> <b>" +
                escape(format(valueOf(feature, hideout), hideout)) + "</b></div>";
        }, {sticky: true, direction: "top", className: "gcc-tooltip", opacity: 1});
    }

    function contextStyle(feature, context) {
        var focus = context.hideout && context.hideout.focus;
        if (feature.properties.code === focus) {
            return {fill: false, color: "#7dd3fc", weight: 2.5, opacity: 0.9, className: "gcc-context gcc-focus"};
        }
        return {fillColor: "#17243a", fillOpacity: 0.55, color: "#40557a", weight: 1, opacity: 0.8,
                className: "gcc-context"};
    }

    window.gridcc = Object.assign(window.gridcc || {}, {
        map: {
            classOf: classOf,
            style: style,
            pointToLayer: pointToLayer,
            onEachFeature: onEachFeature,
            contextStyle: contextStyle
        }
    });
}());
