"""Trends: how much and how well people rated over time, overall and per genre.

Clicking a point narrows the page to its rating year or month (``rated`` in the URL) and
shows that period one grain finer; clicking it again widens the page back.
"""

import calendar
from datetime import date

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, callback, dcc, html

from dash_app import components as c
from dash_app import filters, inputs
from dash_app import queries as q
from dash_app.data import NoSnapshot

dash.register_page(
    __name__, path="/trends", name="Trends", title="Trends · Movie analytics", order=1
)
ID = c.ids("trends")
TITLES = ("Ratings over time", "Average rating over time", "Genre popularity over time")
GRAIN_LABELS = {"day": "Day", "week": "Week", "month": "Month", "year": "Year"}
FREQ = {"day": "D", "week": "W-MON", "month": "MS", "year": "YS"}
# Daily and weekly means jump with a handful of ratings: a trailing mean shows the trend.
ROLLING = {"day": (28, "28 days"), "week": (8, "8 weeks")}
# A clicked year is shown per month, a clicked month per day (unless the grain is finer).
FINER = {"year": "month", "month": "day"}
ORDER = list(GRAIN_LABELS)


def _grain(value) -> str:
    return inputs.choice(value, q.GRAINS, "grain")


def _rated(value) -> str | None:
    """A rating year ('2005') or month ('2005-03'): the period the page is narrowed to."""
    if value in (None, ""):
        return None
    text = inputs.text(value, "rated", 7)
    try:
        if len(text) == 4 and text.isdigit() and 1000 <= int(text) <= 3000:
            return text
        if len(text) == 7 and date.fromisoformat(text + "-01").year >= 1000:
            return text
    except ValueError:
        pass
    raise inputs.BadInput(f"rated: {inputs.short(value)} is not a year (YYYY) or month (YYYY-MM)")


def window(rated: str | None) -> q.Window:
    """The days of a rated period: its first day and the first day after it."""
    if rated is None:
        return None
    year, month = int(rated[:4]), int(rated[5:] or 0)
    if not month:
        return date(year, 1, 1), date(year + 1, 1, 1)
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def period_label(rated: str) -> str:
    if len(rated) == 4:
        return rated
    return f"{calendar.month_name[int(rated[5:])]} {rated[:4]}"


def narrow(rated: str, values: dict) -> dict:
    """Controls after a click on ``rated``: the period, one grain finer; again: no period."""
    if values.get("rated") == rated:
        return {"rated": None}
    unit = "year" if len(rated) == 4 else "month"
    grain = values.get("grain") if values.get("grain") in ORDER else "month"
    if ORDER.index(grain) >= ORDER.index(unit):
        return {"rated": rated, "grain": FINER[unit]}
    return {"rated": rated}


def time_click(point: dict, values: dict) -> dict:
    """A point of the time series: its year at a yearly grain, else its month."""
    day = inputs.day(point.get("x"), "clickData.x")
    return narrow(f"{day:%Y}" if values.get("grain") == "year" else f"{day:%Y-%m}", values)


def genre_click(point: dict, values: dict) -> dict:
    """The genre chart: a year (per year), or a month once the page is narrowed."""
    x = point.get("x")
    if isinstance(x, str) and len(x) > 4:
        return narrow(f"{inputs.day(x, 'clickData.x'):%Y-%m}", values)
    return narrow(str(inputs.integer(x, "clickData.x", 1000, 3000)), values)


GRAIN = filters.Param("grain", ID("grain"), _grain, default="month")
RATED = filters.Param("rated", ID("rated"), _rated, clears=True)
VIEW = filters.View(
    "trends",
    "/trends",
    params=(GRAIN, RATED),
    clicks={ID("count"): time_click, ID("mean"): time_click, ID("genres"): genre_click},
).register()


def _rated_options() -> list[dict]:
    try:
        first, last = q.rating_days()
    except NoSnapshot:
        return []
    options = []
    for year in range(first.year, last.year + 1):
        options.append({"label": str(year), "value": str(year)})
        options += [
            {"label": f"{calendar.month_name[m]} {year}", "value": f"{year}-{m:02d}"}
            for m in range(1, 13)
            if (year, m) >= (first.year, first.month) and (year, m) <= (last.year, last.month)
        ]
    return options


def layout(**query):
    grain, rated = VIEW.value(query, GRAIN), VIEW.value(query, RATED)
    return html.Div(
        [
            html.H1("Trends"),
            *VIEW.layout(query, [grain, rated]),
            html.Div(
                [
                    html.Label("Ratings per", htmlFor=ID("grain")),
                    dcc.RadioItems(
                        id=ID("grain"),
                        value=grain,
                        inline=True,
                        options=[{"label": v, "value": k} for k, v in GRAIN_LABELS.items()],
                    ),
                    html.Label("Rated in", htmlFor=ID("rated")),
                    dcc.Dropdown(
                        id=ID("rated"),
                        options=_rated_options(),
                        value=rated,
                        clearable=True,
                        placeholder="Any time",
                        className="control-wide",
                    ),
                ],
                className="control",
            ),
            html.P(
                "Click a point to narrow the page to its year or month; click it again to "
                "widen it.",
                className="note",
            ),
            html.Div(
                [
                    c.panel(c.chart(ID("count"))),
                    c.panel(c.chart(ID("mean"))),
                ],
                className="row",
            ),
            c.panel(
                c.chart(ID("genres"), height=460),
                note="Ratings of movies in each genre per year (per month once narrowed to a "
                "period); a movie counts once per genre.",
            ),
        ]
    )


def _in(rated: str | None) -> str:
    return f", rated in {period_label(rated)}" if rated else ""


@callback(
    Output(ID("count"), "figure"),
    Output(ID("mean"), "figure"),
    Input(ID("grain"), "value"),
    Input(ID("rated"), "value"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(*TITLES[:2])
def update_time(grain, rated, stored, _version):
    f, grain, rated = filters.parse(stored), _grain(grain), _rated(rated)
    frame = q.ratings_over_time(f, grain, window(rated))
    if frame.empty:
        return c.message_figure(TITLES[0], c.EMPTY), c.message_figure(TITLES[1], c.EMPTY)
    label = GRAIN_LABELS[grain]
    frame = every_period(frame, grain)
    count = c.figure(f"{TITLES[0]} (per {label.lower()}{_in(rated)})", label, "Ratings (count)")
    count.add_trace(
        go.Scatter(
            x=frame["period"],
            y=frame["ratings"],
            mode="lines",
            name="Ratings",
            line={"width": 1.5},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,} ratings<extra></extra>",
        )
    )
    mean = c.figure(
        f"{TITLES[1]} (per {label.lower()}{_in(rated)})", label, "Average rating (stars)"
    )
    noisy = grain in ROLLING
    mean.add_trace(
        go.Scatter(
            x=frame["period"],
            y=frame["average_rating"],
            customdata=frame["ratings"],
            mode=mode(frame) if noisy else "lines+markers",
            name=f"Per {label.lower()}",
            line={"width": 1},
            opacity=0.4 if noisy else 1,
            marker={"size": 4 if noisy else 6},
            connectgaps=False,
            hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} stars over %{customdata:,} ratings"
            "<extra></extra>",
        )
    )
    if noisy:
        periods, text = ROLLING[grain]
        mean.add_trace(
            go.Scatter(
                x=frame["period"],
                y=rolling_mean(frame, periods),
                mode="lines",
                name=f"Rolling mean over {text}",
                line={"width": 2},
                connectgaps=False,
                hovertemplate="%{x|%Y-%m-%d}: %{y:.2f} stars" + f" ({text})<extra></extra>",
            )
        )
    mean.update_yaxes(range=[0.5, 5])
    return count, mean


def every_period(frame: pd.DataFrame, grain: str) -> pd.DataFrame:
    """One row per period from the first to the last: none rated is 0 ratings and no mean,
    so lines show a gap instead of joining straight across it."""
    periods = pd.to_datetime(frame["period"])
    full = pd.date_range(periods.min(), periods.max(), freq=FREQ[grain])
    out = frame.assign(period=periods).set_index("period").reindex(full)
    out["ratings"] = out["ratings"].fillna(0).astype(int)
    out = out.rename_axis("period").reset_index()
    # ISO strings: Plotly reads them as dates, and they serialize ~20x faster than Timestamps.
    return out.assign(period=out["period"].dt.strftime("%Y-%m-%d"))


def mode(frame: pd.DataFrame) -> str:
    """A dense noisy series as a faint line (one SVG path, where 8,000 daily markers at 25M
    ratings are 8,000 nodes to draw); a sparse one as markers, so a lone rated day shows."""
    return "lines" if (frame["ratings"] > 0).mean() >= 0.9 else "markers"


def rolling_mean(frame: pd.DataFrame, periods: int) -> pd.Series:
    """The mean of every rating in the trailing window (weighted by each period's count)."""
    total = (frame["average_rating"].fillna(0) * frame["ratings"]).rolling(periods, 1).sum()
    count = frame["ratings"].rolling(periods, 1).sum()
    return (total / count).where(count > 0)


@callback(
    Output(ID("genres"), "figure"),
    Input(ID("rated"), "value"),
    Input(VIEW.filters, "data"),
    Input("snapshot-version", "data"),
)
@c.guarded(TITLES[2])
def update_genres(rated, stored, _version):
    """Stacked areas per year; inside a narrowed period, stacked bars per month (a single
    month is still a bar)."""
    f, rated = filters.parse(stored), _rated(rated)
    if rated:
        frame = q.genre_ratings_per_month(f, window(rated))
        frame["period"] = pd.to_datetime(frame["month"]).dt.strftime("%Y-%m-%d")
        title, x = f"Genre popularity in {period_label(rated)} (per month)", "Month rated"
    else:
        frame = q.genre_ratings_per_year(f).rename(columns={"year": "period"})
        title, x = TITLES[2], "Year rated"
    if frame.empty:
        return c.message_figure(title, c.EMPTY)
    fig = c.figure(title, x, "Ratings (count, stacked by genre)", barmode="stack")
    wide = frame.pivot_table(index="period", columns="genre", values="ratings", fill_value=0)
    for genre in wide.columns:
        fig.add_trace(
            go.Bar(x=wide.index, y=wide[genre], name=genre)
            if rated
            else go.Scatter(
                x=wide.index,
                y=wide[genre],
                name=genre,
                mode="lines",
                stackgroup="genres",
                line={"width": 0.5},
            )
        )
    if rated:
        fig.update_xaxes(type="date", dtick="M1", tickformat="%b %Y")
    fig.update_layout(margin={"b": 200})
    return fig
