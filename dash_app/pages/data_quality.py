"""Data quality: what the pipeline itself published about its checks and its rejected rows."""

import dash
from dash import Input, Output, callback, html

from dash_app import components as c
from dash_app import filters, grid_state
from dash_app import queries as q
from dash_app.data import NoSnapshot
from movie_assets import settings

dash.register_page(
    __name__,
    path="/data-quality",
    name="Data quality",
    title="Data quality · Movie analytics",
    order=7,
)
ID = c.ids("dq")


def dagster_url() -> str:
    return settings.current().dagster_ui_url.rstrip("/")


CHECKS = [
    c.column("asset_link", "Asset", cellRenderer="markdown", minWidth=170),
    c.column("check_name", "Check", minWidth=170),
    c.column(
        "status",
        "Result",
        cellClassRules={
            "cell-failed": "params.value === 'failed'",
            "cell-passed": "params.value === 'passed'",
        },
    ),
    c.number("failures", "Failing rows"),
    c.column("evaluated_at", "Evaluated (UTC)"),
    c.column("description", "What it checks", minWidth=320),
    c.column("asset", "Asset name", hide=True),
]
RECONCILIATION = [
    c.column("asset", "Asset"),
    c.number("raw_rows", "Raw rows"),
    c.number("clean_rows", "Clean rows"),
    c.number("rejected_rows", "Rejected (check)"),
    c.number("rejects_in_table", "Rejected (rejects table)"),
    c.number("unaccounted_rows", "Unaccounted"),
    c.column("passed", "raw = clean + rejected"),
    c.column("consistent", "Check agrees with table"),
]
LINKS = [
    c.column("method", "Linked by"),
    c.number("movies", "Movies"),
    c.number(
        "share",
        "Share of catalogue",
        valueFormatter={"function": "params.value == null ? '' : d3.format('.1%')(params.value)"},
    ),
]
REJECTS = [
    c.column("asset", "Asset"),
    c.column("reason", "Reason", minWidth=300),
    c.column("source", "Source"),
    c.number("rows", "Rows"),
]
GRIDS = {
    "checks": grid_state.GridState("checks", tuple(CHECKS), "checks_"),
    "reconciliation": grid_state.GridState("reconciliation", tuple(RECONCILIATION), "recon_"),
    "rejects": grid_state.GridState("rejects", tuple(REJECTS), "rejects_"),
    "links": grid_state.GridState("links", tuple(LINKS), "links_"),
}
VIEW = filters.View(
    "data_quality",
    "/data-quality",
    bar=False,
    params=grid_state.params(GRIDS.values()),
).register()


def layout(**query):
    return html.Div(
        [
            html.H1("Data quality"),
            *VIEW.layout(query, grid_state.values(query, GRIDS.values())),
            html.Div(id=ID("summary"), className="kpis"),
            c.section(
                "Asset checks: latest result of each",
                GRIDS["checks"].grid(query, "asset_checks.csv", height=520),
                note="Published by the pipeline with the snapshot. Asset names link to the "
                "asset in the Dagster UI.",
            ),
            html.Div(
                [
                    c.section(
                        "Reconciliation: raw = clean + rejected",
                        GRIDS["reconciliation"].grid(query, "reconciliation.csv", height=300),
                    ),
                    c.section(
                        "Rejected rows by reason",
                        GRIDS["rejects"].grid(
                            query,
                            "rejects.csv",
                            height=300,
                            no_rows="No rows were rejected.",
                        ),
                    ),
                ],
                className="row",
            ),
            c.section(
                "Movies linked to film metadata",
                GRIDS["links"].grid(query, "film_links.csv", height=200),
                note="MovieLens links.csv gives TMDB and IMDb ids where the source has it; "
                "the other movies are matched on title and year, one-to-one.",
            ),
        ]
    )


@callback(
    Output(ID("summary"), "children"),
    Output(c.grid_id("checks"), "rowData"),
    Output(c.grid_id("reconciliation"), "rowData"),
    Output(c.grid_id("rejects"), "rowData"),
    Output(c.grid_id("links"), "rowData"),
    Input("snapshot-version", "data"),
)
def update(_version):
    try:
        checks = q.check_results()
        recon = q.reconciliation()
        rejects = q.rejects_by_reason()
        links = q.film_link_methods()
    except NoSnapshot as missing:
        return html.P(str(missing), className="notice"), [], [], [], []
    base = dagster_url()
    rows = c.records(checks.drop(columns=["metadata", "run_id"]))
    for row in rows:
        row["asset_link"] = f"[{row['asset']}]({base}/assets/{row['asset']})"
    counts = checks["status"].value_counts()
    summary = [
        html.Div(
            [
                html.Div(label, className="kpi-label"),
                html.Div(f"{value:,}", className="kpi-value", id=ID(key)),
            ],
            className="kpi" + (" kpi-bad" if key == "failed" and value else ""),
        )
        for label, key, value in [
            ("Checks", "total", len(checks)),
            ("Passed", "passed", int(counts.get("passed", 0))),
            ("Failed", "failed", int(counts.get("failed", 0))),
            (
                "Not evaluated",
                "not-run",
                int(len(checks) - counts.get("passed", 0) - counts.get("failed", 0)),
            ),
            ("Rejected rows", "rejected", int(rejects["rows"].sum()) if len(rejects) else 0),
        ]
    ]
    return summary, rows, c.records(recon), c.records(rejects), c.records(links)
