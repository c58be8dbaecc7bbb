/* The user management page's clientside callback: the selected user and which actions apply to them.
 * The server checks every action again; this only keeps buttons that cannot apply from being pressed. */
(function () {
    "use strict";

    var users = {
        /* selectedRows → [label, disable.disabled, enable.disabled, reset.disabled] */
        selection: function (rows, labels) {
            labels = labels || {};
            var row = Array.isArray(rows) && rows.length === 1 ? rows[0] : null;
            if (!row || typeof row.name !== "string") {
                return [labels.none || "", true, true, true];
            }
            var who = row.display_name && row.display_name !== row.name
                ? row.display_name + " (" + row.name + ")" : row.name;
            var label = (labels.selected || "{name}").replace("{name}", who);
            var disabled = row.state_code === "disabled";
            return [label, disabled || row.self === true, !disabled, row.self === true];
        }
    };

    window.dash_clientside = Object.assign({}, window.dash_clientside, {gridcc_users: users});
}());
