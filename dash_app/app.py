"""The Dash app shell: navigation from the page registry, the snapshot badge, the pages.

Served by gunicorn as ``dash_app.app:server``; each page in ``pages/`` owns its
layout and callbacks. Data comes only from the published snapshot (dash_app.data).
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, Input, Output, State, callback, clientside_callback, dcc, html

from dash_app import bundles, data, inputs
from dash_app import filters as _filters  # noqa: F401  (registers the URL writer)
from movie_assets.settings import current

# How often the browser asks whether a newer snapshot was published (milliseconds).
POLL_MS = current().movie_dash_poll_ms

app = Dash(
    "dash_app",
    use_pages=True,
    pages_folder=str(Path(__file__).parent / "pages"),
    suppress_callback_exceptions=True,
    title="Movie analytics",
    update_title=None,
)
server = app.server
inputs.protect(server, app)
bundles.serve_plotly(server)
server.before_request(data.choose_day)


def _version() -> str | None:
    try:
        return data.version()
    except data.NoSnapshot:
        return None


def _day_options() -> list[dict]:
    try:
        newest = data.days()
    except OSError:
        return []
    return [
        {"label": f"{day:%Y-%m-%d}" + (" (newest)" if i == 0 else ""), "value": day.isoformat()}
        for i, day in enumerate(newest)
    ]


def _chosen() -> str | None:
    """The day the page's URL names (see data.choose_day), else the newest published one."""
    try:
        return (data.chosen_day() or data.current().as_of).isoformat()
    except data.NoSnapshot:
        return None


def layout() -> html.Div:
    nav = [
        dcc.Link(
            page["name"],
            href=page["relative_path"],
            id={"type": "nav", "page": page["module"]},
            className="nav-link",
        )
        for page in dash.page_registry.values()
    ]
    return html.Div(
        [
            dcc.Store(id="snapshot-version", data=_version()),
            dcc.Interval(id="snapshot-poll", interval=POLL_MS),
            html.Header(
                [
                    html.Div("Movie analytics", className="brand"),
                    html.Nav(nav, className="nav"),
                    html.Div(
                        [
                            html.Label("Snapshot", htmlFor="snapshot-day"),
                            dcc.Dropdown(
                                id="snapshot-day",
                                options=_day_options(),
                                value=_chosen(),
                                clearable=False,
                                searchable=False,
                            ),
                        ],
                        className="snapshot-picker",
                    ),
                    html.Div(id="snapshot-badge", className="badge"),
                ],
                className="top",
            ),
            html.Main(dash.page_container, className="content"),
        ]
    )


app.layout = layout


@callback(
    Output("snapshot-version", "data"),
    Input("snapshot-poll", "n_intervals"),
    State("snapshot-version", "data"),
    prevent_initial_call=True,
)
def poll_snapshot(_n, known):
    """Pages depend on this store: a new publish refreshes what is on screen."""
    latest = _version()
    return dash.no_update if latest == known else latest


@callback(Output("snapshot-badge", "children"), Input("snapshot-version", "data"))
def badge(_version_name):
    try:
        published = data.current()
    except data.NoSnapshot:
        return "No snapshot published yet"
    stamp = published.published_at[:16].replace("T", " ")
    past = " · a past snapshot" if data.chosen_day() is not None else ""
    return f"Data as of {published.as_of:%Y-%m-%d} · published {stamp} UTC{past}"


# Another day is another dataset: the page reloads on it, with the day in its URL (none for
# the newest, which is also what a URL without a day shows).
clientside_callback(
    """function (day, options) {
        const newest = options && options.length ? options[0].value : null;
        const query = new URLSearchParams(window.location.search);
        if (day === newest) { query.delete('snapshot'); } else { query.set('snapshot', day); }
        const search = query.toString() ? '?' + query.toString() : '';
        if (search !== window.location.search) {
            window.location.assign(window.location.pathname + search);
        }
        return window.dash_clientside.no_update;
    }""",
    Output("snapshot-day", "className"),
    Input("snapshot-day", "value"),
    State("snapshot-day", "options"),
    prevent_initial_call=True,
)


def _first_request() -> None:
    """Serve one request in-process before gunicorn serves any.

    Dash registers its script bundles on the first request but sets its guard flag
    first (plotly/dash#3971): with gunicorn threads, bundle requests racing that first
    page load fail with 500 "not a registered library".
    """
    server.test_client().get("/")


_first_request()

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8050, debug=False)
