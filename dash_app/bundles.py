"""The scripts a first page load evaluates: only what the pages use.

On two shared cores a first load is mostly the browser evaluating scripts before Dash
asks for its layout (docs/dashboard.md). Dash names the same scripts in every page's
index; this module takes out the two the pages never need and gives dcc.Graph a
smaller plotly.js, which it loads on its own when the first chart mounts.
"""

from __future__ import annotations

import re
from pathlib import Path

import flask
from dash import hooks

# plotly.js with the traces the pages draw (scatter, bar, heatmap): vendor/build_plotly.sh.
PLOTLY = Path(__file__).parent / "vendor" / "plotly-4.1.1.min.js"
# Where dcc.Graph fetches plotly.js from when the page has not loaded one itself.
DASH_PLOTLY = "/_dash-component-suites/plotly/package_data/plotly.min.js"
# dash_table: no page has a DataTable. Babel's polyfill: core-js for browsers Dash no
# longer supports, plus the regenerator runtime that dcc's lazy components call, which
# assets/regenerator-runtime-*.js provides on its own.
UNUSED = re.compile(r'<script src="[^"]*/(?:dash_table/bundle|deps/polyfill@)[^"]*"></script>\n?')


@hooks.index()
def _drop_unused(index: str) -> str:
    return UNUSED.sub("", index)


def serve_plotly(server: flask.Flask) -> None:
    """Answer dcc.Graph's request for plotly.js with the smaller bundle of the same version."""

    @server.before_request
    def _plotly():
        if flask.request.path == DASH_PLOTLY:
            return flask.send_file(PLOTLY, mimetype="text/javascript")
        return None
