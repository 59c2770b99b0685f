"""Box office: which genres and release months earn most, in constant dollars, said in words.

A source reports one lifetime gross per film. Films whose gross cannot be read as
money of their release month (``movie_features.box_office_flag``: re-releases,
before the CPI series, implausible values) stay out of rankings and aggregates
unless the reader includes them. Clicking a genre or a release month narrows the
page to it; the month and quarter charts keep every month, the chosen one marked.
"""

import calendar
from datetime import date

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html
from scipy.stats import kruskal

from dash_app import components as c
from dash_app import filters, inputs
from dash_app import queries as q
from dash_app.data import NoSnapshot
from dash_app.grid_state import GridState
from movie_assets.features.transforms import (
    MAX_PLAUSIBLE_GROSS,
    MIN_PLAUSIBLE_GROSS,
    RERELEASE_ERA_END,
)
from movie_assets.schemas import BOX_OFFICE_FLAGS

dash.register_page(
    __name__, path="/box-office", name="Box office", title="Box office · Movie analytics", order=4
)
ID = c.ids("box")
TITLES = (
    "Box office: constant against nominal dollars",
    "Which genres earn most after inflation?",
    "Do release months influence box office?",
    "Box office by release quarter",
)
MONTHS = [calendar.month_abbr[m] for m in range(1, 13)]
MONTH_NAMES = [calendar.month_name[m] for m in range(1, 13)]
INCLUDE = "include"
MAX_FOUND = 240  # months a typed search adds to the dropdown: twenty years of them
FLAG_MEANING = dict(
    zip(
        BOX_OFFICE_FLAGS,
        [
            f"a gross under ${MIN_PLAUSIBLE_GROSS:,}",
            f"a gross above the largest known (${MAX_PLAUSIBLE_GROSS / 1e9:.0f} billion)",
            "released before the CPI series starts",
            f"released before {RERELEASE_ERA_END}: the lifetime gross spans re-releases",
        ],
        strict=True,
    )
)
WHAT = (
    "Box office is the lifetime gross the source reports, in US dollars (the embedded "
    "Wikidata films: the largest reported figure, often worldwide; TMDB and Kaggle: worldwide "
    "revenue). Constant dollars scale it by CPI-U (all items, not seasonally adjusted, BLS "
    "CUUR0000SA0) from the release month to the chosen month, which is only right for money "
    "earned around the release."
)


def _base(value) -> str:
    """A CPI month, as the dropdown's ISO value."""
    month = inputs.day(value, "base")
    if month.day != 1:
        raise inputs.BadInput(f"base: {inputs.short(value)} is not the first of a month")
    return month.isoformat()


def _flagged(value) -> list[str]:
    """The toggle's value: [] or ["include"]; the URL says flagged=include."""
    values = value if isinstance(value, list) else [value]
    if any(v != INCLUDE for v in values) or len(values) > 1:
        raise inputs.BadInput(f"flagged: {inputs.short(value)} is not 'include'")
    return values


def _month(value) -> int | None:
    """A release month, 1-12 (None: any)."""
    return None if value in (None, "") else inputs.integer(value, "month", 1, 12)


def month_click(point: dict, values: dict) -> dict:
    """A bar of the release-month chart selects its month; clicking it again clears it."""
    name = point.get("x")
    if name not in MONTHS:
        raise inputs.BadInput(f"clickData: {inputs.short(name)} is not a month")
    month = MONTHS.index(name) + 1
    return {"month": filters.toggle(month, values.get("month"))}


def _base_month(value) -> date:
    return date.fromisoformat(_base(value)) if value else q.default_base_month()


def _columns(base: date, flagged: bool) -> list[dict]:
    return [
        c.title(),
        c.number("year", "Year", valueFormatter=None, minWidth=80),
        c.column("release_date", "Released", minWidth=115),
        c.column("genres", "Genres", minWidth=160, flex=1),
        c.number("nominal_usd", "Gross, nominal US$", minWidth=160),
        c.number("real_usd", f"Gross, {c.money(base)}", minWidth=170),
        *([c.column("flag", "Flag", minWidth=120)] if flagged else []),
    ]


BASE = filters.Param("base", ID("base"), _base)
FLAGGED = filters.Param("flagged", ID("flagged"), _flagged, default=[])
MONTH = filters.Param("month", ID("released"), _month, clears=True)
GRID = GridState("box-office", tuple(_columns(date(2000, 1, 1), flagged=True)))
VIEW = filters.View(
    "box_office",
    "/box-office",
    params=(BASE, FLAGGED, MONTH, *GRID.params),
    clicks={ID("genre"): filters.genre_click, ID("month"): month_click},
).register()


def _default_base() -> str | None:
    try:
        return q.default_base_month().isoformat()
    except NoSnapshot:
        return None


def base_options(chosen: str | None, search: str = "") -> list[dict]:
    """The base months the dropdown holds, newest first: each January, the newest twelve
    months, the chosen month, and, while the reader types, the CPI months that match.

    A month matches when each typed word is part of a word of its label ("March 1987") or
    of its value ("1987-03-01"), the dropdown's own rule, so it keeps every month sent.
    Listing all 1,282 CPI months in the layout cost a first load 0.2-0.3 s of the
    browser's time: the dropdown indexes every substring of every option when it mounts.
    """
    months = [m.date() for m in pd.to_datetime(q.cpi_months()["month"])]
    words = search.lower().split()
    found = [
        m
        for m in months
        if words and all(any(w in t for t in f"{m:%B %Y %Y-%m-%d}".lower().split()) for w in words)
    ]
    keep = set(months[:12]) | {m for m in months if m.month == 1} | set(found[:MAX_FOUND])
    if chosen:
        keep.add(date.fromisoformat(chosen))
    return [{"label": f"{m:%B %Y}", "value": f"{m:%Y-%m-%d}"} for m in sorted(keep, reverse=True)]


def layout(**query):
    base = VIEW.value(query, BASE, default=_default_base())
    try:
        options = base_options(base)
    except NoSnapshot:
        options = []
    flagged = VIEW.value(query, FLAGGED)
    month = VIEW.value(query, MONTH)
    return html.Div(
        [
            html.H1("Box office"),
            *VIEW.layout(query, [base, flagged, month, *GRID.values(query)]),
            html.P(WHAT, className="note"),
            html.P(
                "The month list shows each January and the last twelve months; type a month "
                'and year ("March 1987") to find any month since the CPI series began.',
                className="note",
            ),
            html.Div(
                [
                    html.Label("Constant dollars of", htmlFor=ID("base")),
                    dcc.Dropdown(
                        id=ID("base"),
                        options=options,
                        value=base,
                        clearable=False,
                        placeholder="Type a month and year",
                        className="control-wide",
                    ),
                    html.Label("Released in", htmlFor=ID("released")),
                    dcc.Dropdown(
                        id=ID("released"),
                        options=[{"label": n, "value": i} for i, n in enumerate(MONTH_NAMES, 1)],
                        value=month,
                        clearable=True,
                        placeholder="Any month",
                        className="control-wide",
                    ),
                    dcc.Checklist(
                        id=ID("flagged"),
                        options=[{"label": " Include flagged films", "value": INCLUDE}],
                        value=flagged,
                    ),
                ],
                className="control",
            ),
            html.Div(id=ID("flags"), className="notice"),
            html.Section(id=ID("answer"), className="card answer"),
            html.Div(id=ID("budget"), className="notice"),
            html.Div(
                [
                    c.panel(
                        c.chart(ID("genre"), height=460),
                        note="Click a genre to filter the page by it; click again to clear.",
                    ),
                    c.panel(
                        c.chart(ID("month"), height=460),
                        note="Click a month to narrow the page to films released in it.",
                    ),
                ],
                className="row",
            ),
            html.Div(
                [
                    c.panel(c.chart(ID("quarter"))),
                    c.panel(c.chart(ID("scatter"), height=460)),
                ],
                className="row",
            ),
            c.section(
                "Highest grossing, in constant dollars",
                GRID.grid(
                    query,
                    "box_office.csv",
                    # Columns from the start, so the URL's sort has columns to sort.
                    columns=_columns(date.fromisoformat(base), bool(flagged)) if base else [],
                    height=420,
                ),
            ),
            html.Div(id=ID("roi")),
        ]
    )


def _money(value: float) -> str:
    return f"${value / 1e6:,.1f} million" if value < 1e9 else f"${value / 1e9:,.2f} billion"


def genre_answer(genres: pd.DataFrame, films: int) -> str:
    """Which genres earn most, in words: the top three medians, the lowest, and the counts."""
    if genres.empty:
        return "No film with a usable gross matches these filters."
    ranked = genres[genres["movies"] >= 5].sort_values(["median_real", "genre"], ascending=False)
    if ranked.empty:
        return f"Too few films ({films:,}) for a genre comparison: no genre has five."
    top = ", ".join(
        f"{r.genre} ({_money(r.median_real)}, {r.movies:,} films)"
        for r in ranked.head(3).itertuples()
    )
    low = ranked.iloc[-1]
    return (
        f"Highest median gross after inflation: {top}. Lowest: {low.genre} "
        f"({_money(low.median_real)}, {low.movies:,} films). Over {films:,} films; a film "
        "counts in each of its genres, genres with fewer than five films are left out."
    )


def month_answer(movies: pd.DataFrame, months: pd.DataFrame) -> str:
    """Do release months matter, in words: the spread of medians and a rank test's verdict."""
    if len(months) < 2:
        return "Too few release months with films to compare."
    best = months.loc[months["median_real"].idxmax()]
    worst = months.loc[months["median_real"].idxmin()]
    groups = [g["real_usd"].to_numpy() for _, g in movies.groupby("release_month") if len(g) >= 2]
    verdict = ""
    if len(groups) >= 2:
        p = kruskal(*groups).pvalue
        verdict = (
            " The months differ by more than chance would explain (Kruskal–Wallis "
            + ("p < 0.001)." if p < 0.001 else f"p = {p:.3f}).")
            if p < 0.05
            else f" The differences are within what chance explains (Kruskal–Wallis "
            f"p = {p:.2f}): on this data, the release month does not clearly matter."
        )
    return (
        f"Films released in {MONTH_NAMES[int(best.period) - 1]} have the highest median gross "
        f"after inflation ({_money(best.median_real)}, {int(best.movies):,} films), "
        f"{MONTH_NAMES[int(worst.period) - 1]} the lowest ({_money(worst.median_real)}, "
        f"{int(worst.movies):,} films), over {len(movies):,} films.{verdict}"
    )


def flags_notice(counts: pd.DataFrame, included: bool) -> list:
    flagged = counts[counts["flag"].notna()]
    usable = int(counts.loc[counts["flag"].isna(), "movies"].sum())
    if flagged.empty:
        return [f"All {usable:,} films with a gross here are usable: none is flagged."]
    parts = "; ".join(
        f"{int(n):,} {FLAG_MEANING[flag]}" for flag, n in flagged.itertuples(index=False)
    )
    action = "included below (shown in the table's Flag column)" if included else "left out"
    return [
        html.Strong(f"{int(flagged['movies'].sum()):,} flagged films {action}: "),
        f"{parts}. {usable:,} films are ranked and aggregated.",
    ]


@callback(
    Output(ID("base"), "options"),
    Input(ID("base"), "search_value"),
    Input(ID("base"), "value"),
    prevent_initial_call=True,
)
@c.guarded(None)
def update_base_options(text, chosen):
    """Options follow the typed text and always hold the chosen month (set by Back too)."""
    return base_options(_base(chosen) if chosen else None, inputs.text(text, "search"))


@callback(
    Output(ID("scatter"), "figure"),
    Output(ID("genre"), "figure"),
    Output(c.grid_id("box-office"), "rowData"),
    Output(c.grid_id("box-office"), "columnDefs"),
    Output(ID("flags"), "children"),
    Output(ID("answer"), "children"),
    Input(ID("base"), "value"),
    Input(ID("flagged"), "value"),
    Input(ID("released"), "value"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
    State(c.grid_id("box-office"), "columnDefs"),
    State(c.grid_id("box-office"), "columnState"),
)
@c.guarded(TITLES[0], TITLES[1], None, None, None, None)
def update_movies(base_value, flagged_value, month_value, stored, _version, shown, state):
    f, base = filters.parse(stored), _base_month(base_value)
    flagged, month = bool(_flagged(flagged_value or [])), _month(month_value)
    money = c.money(base)
    every_month = q.box_office_movies(f, base, flagged)
    movies = q.box_office_movies(f, base, flagged, month) if month else every_month
    columns = GRID.new_columns(_columns(base, flagged), shown, state)
    notice = flags_notice(q.box_office_flags(f, month), flagged)
    if movies.empty:
        empty = c.message_figure(
            TITLES[0],
            c.EMPTY + " Only movies with a box office figure and a release date appear here.",
        )
        answer = "No film with a usable gross matches these filters."
        return empty, c.message_figure(TITLES[1], c.EMPTY), [], columns, notice, answer
    genres = q.box_office_by_genre(f, base, flagged, month)
    months = q.box_office_by_period(f, base, "month", flagged)
    among = f" Among films released in {MONTH_NAMES[month - 1]}: " if month else ""
    answer = [
        html.H2("The answers, in words"),
        html.P(
            [
                html.Strong("Which genres earn most after inflation? "),
                among,
                genre_answer(genres, len(movies)),
            ]
        ),
        html.P(
            [
                html.Strong("Do release months influence box office? "),
                month_answer(every_month, months),
            ]
        ),
    ]
    scatter = c.figure(
        TITLES[0],
        "Nominal gross (US$ of the release month, log scale)",
        f"Gross ({money}, log scale)",
    )
    for label, part in [
        ("Usable", movies[movies["flag"].isna()]),
        ("Flagged", movies[movies["flag"].notna()]),
    ]:
        if part.empty:
            continue
        scatter.add_trace(
            go.Scatter(
                x=part["nominal_usd"],
                y=part["real_usd"],
                mode="markers",
                text=part["title"],
                name=f"{label} ({len(part):,})",
                marker={
                    "size": 6,
                    "opacity": 0.6,
                    "symbol": "circle" if label == "Usable" else "x",
                },
                hovertemplate="%{text}<br>nominal $%{x:,.0f}<br>constant $%{y:,.0f}<extra></extra>",
            )
        )
    low, high = float(movies["nominal_usd"].min()), float(movies["real_usd"].max())
    scatter.add_trace(
        go.Scatter(
            x=[low, high],
            y=[low, high],
            mode="lines",
            name="No inflation (y = x)",
            line={"dash": "dot"},
        )
    )
    scatter.update_xaxes(type="log")
    scatter.update_yaxes(type="log")

    by_genre = c.figure(TITLES[1], "", f"Median gross ({money})")
    chosen = set(f.genres)
    by_genre.add_trace(
        go.Bar(
            x=genres["genre"],
            y=genres["median_real"],
            name="Median",
            customdata=genres[["movies", "total_real"]],
            marker={
                "color": [c.COLORS[1] if g in chosen else c.COLORS[0] for g in genres["genre"]]
            },
            hovertemplate="%{x}: median $%{y:,.0f}<br>%{customdata[0]:,} films, total "
            "$%{customdata[1]:,.0f}<extra></extra>",
        )
    )
    by_genre.update_layout(showlegend=False)
    return scatter, by_genre, c.records(movies.head(200)), columns, notice, answer


@callback(
    Output(ID("month"), "figure"),
    Output(ID("quarter"), "figure"),
    Input(ID("base"), "value"),
    Input(ID("flagged"), "value"),
    Input(ID("released"), "value"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(TITLES[2], TITLES[3])
def update_periods(base_value, flagged_value, month_value, stored, _version):
    """Every month and quarter, whatever the chosen month: the chosen one is drawn solid."""
    f, base = filters.parse(stored), _base_month(base_value)
    flagged, month = bool(_flagged(flagged_value or [])), _month(month_value)
    chosen = {"month": month, "quarter": (month - 1) // 3 + 1 if month else None}
    money = c.money(base)
    figures = []
    for period, title, labels in [
        ("month", TITLES[2], MONTHS),
        ("quarter", TITLES[3], ["Q1", "Q2", "Q3", "Q4"]),
    ]:
        frame = q.box_office_by_period(f, base, period, flagged)
        if frame.empty:
            figures.append(c.message_figure(title, c.EMPTY))
            continue
        fig = c.figure(title, f"Release {period}", f"Gross per film ({money})", barmode="group")
        x = [labels[int(p) - 1] for p in frame["period"]]
        opacity = [1 if chosen[period] in (None, int(p)) else 0.35 for p in frame["period"]]
        for name, column in [("Median", "median_real"), ("Mean", "mean_real")]:
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=frame[column],
                    name=name,
                    marker={"opacity": opacity},
                    customdata=frame["movies"],
                    hovertemplate=f"%{{x}}: {name.lower()} $%{{y:,.0f}} over "
                    "%{customdata:,} films<extra></extra>",
                )
            )
        fig.update_xaxes(categoryorder="array", categoryarray=labels)
        figures.append(fig)
    return tuple(figures)


@callback(
    Output(ID("budget"), "children"),
    Output(ID("roi"), "children"),
    Input(ID("released"), "value"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
def update_budget(month_value, stored, _version):
    f, month = filters.parse(stored), _month(month_value)
    try:
        coverage = q.budget_coverage(f, month)
    except NoSnapshot as missing:
        return str(missing), None
    if coverage["with_budget"] == 0:
        return (
            html.Strong("Budget and ROI: not available. "),
            f"No source in this build provides budgets (0 of {coverage['linked']:,} linked films "
            "have one), so budget and return on investment are not shown.",
        ), None
    roi = q.return_on_investment(f, month)
    columns = [
        c.title(),
        c.number("year", "Year", valueFormatter=None, minWidth=80),
        c.number("budget_usd", "Budget, nominal US$", minWidth=160),
        c.number("box_office_usd", "Gross, nominal US$", minWidth=160),
        c.number("roi", "Gross / budget", 2, minWidth=130),
    ]
    note = (
        f"Budgets known for {coverage['with_budget']:,} of {coverage['linked']:,} linked "
        "films; ROI is the lifetime gross over the budget, both nominal."
    )
    grid = c.grid("roi", columns, "roi.csv", height=360)
    grid.children[1].children.rowData = c.records(roi)
    return note, c.section("Return on investment", grid)
