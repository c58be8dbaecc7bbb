"""Callbacks of the frame: labels in the URL's language, the clock, the language switch, the live badge."""
from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State

from layouts import shell as ids


def register(app: dash.Dash) -> None:
    """Bind the shell's callbacks to ``app``."""
    app.clientside_callback(
        ClientsideFunction("gridcc_shell", "labels"),
        Output(ids.PRODUCT, "children"),
        Output(ids.TITLE, "children"),
        Output(ids.LANG_ZH, "className"),
        Output(ids.LANG_EN, "className"),
        Output(ids.SIGN_OUT, "children"),
        Output(ids.WALL, "children"),
        Output(ids.WALL, "title"),
        Output(ids.COPY, "title"),
        Output(ids.ROOT, "className"),
        Input(ids.LOCATION, "pathname"),
        Input(ids.LOCATION, "search"),
        State(ids.LABELS, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_shell", "clock"),
        Output(ids.CLOCK, "children"),
        Input(ids.CLOCK_TICK, "n_intervals"),
        State(ids.LABELS, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_shell", "switchLang"),
        Output(ids.LOCATION, "href"),
        Input(ids.LANG_ZH, "n_clicks"),
        Input(ids.LANG_EN, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_shell", "signOut"),
        Input(ids.SIGN_OUT, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_shell", "toggleWall"),
        Input(ids.WALL, "n_clicks"),
        State(ids.WALL, "data-on"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_live", "start"),
        Input(ids.LABELS, "data"),
    )
