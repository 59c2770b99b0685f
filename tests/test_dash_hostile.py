"""Hostile requests against the app as served (gunicorn on 127.0.0.1): never a 5xx.

Every server callback the app registers (read from ``/_dash-dependencies``) gets
each of its inputs replaced, one at a time, by a value of the wrong type, a
missing one, a long list, odd unicode, a value too large to accept; then malformed
envelopes, oversized bodies and path traversal under ``_dash-component-suites``.
A request the app cannot accept must get a 4xx with a short plain message, and
the server log must stay small.
"""

from __future__ import annotations

import json

import pytest
import requests

from dash_app import inputs

CALLBACK = "/_dash-update-component"
MB = 1024 * 1024
HOSTILE = [
    None,
    -1,
    1.5,
    True,
    "x",
    "2016-13-45",
    "../../etc/passwd",
    "'; DROP TABLE ratings; --",
    "\u202e\U0001f600\x00\ud7ff",
    [None],
    [1, 2, 3],
    ["Drama"] * 1000,
    [[["deep"]]],
    {},
    {"genres": ["Drama"] * 1000},
    {"year_from": "1990", "genres": "Drama"},
    {"min_rating": 1e308},
    {"eras": ["Not an era"]},
    {"unknown": 1},
    "é" * 5000,
    2**70,
]
TOO_BIG = ["x" * (10 * MB), ["Drama"] * 100_000]


def _concrete(component_id: str):
    """A dependency id as a request carries it: wildcards replaced by a value."""
    if not component_id.startswith("{"):
        return component_id
    spec = json.loads(component_id)
    return {k: ("x" if isinstance(v, list) else v) for k, v in spec.items()}


def _outputs(output: str) -> list[dict]:
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    found = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        found.append({"id": _concrete(component), "property": prop.split("@")[0]})
    return found


def _envelope(dependency: dict, values: list) -> dict:
    outputs = _outputs(dependency["output"])
    inputs_ = [
        {"id": _concrete(i["id"]), "property": i["property"], "value": v}
        for i, v in zip(dependency["inputs"], values, strict=True)
    ]
    return {
        "output": dependency["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs_,
        "changedPropIds": [f"{json.dumps(inputs_[0]['id'])}.{inputs_[0]['property']}"]
        if inputs_
        else [],
        "state": [
            {"id": _concrete(s["id"]), "property": s["property"], "value": None}
            for s in dependency.get("state", [])
        ],
    }


@pytest.fixture(scope="module")
def callbacks(server):
    dependencies = requests.get(server.url + "/_dash-dependencies", timeout=30).json()
    server_side = [d for d in dependencies if not d.get("clientside_function")]
    assert len(server_side) >= 20, "the app's callbacks were not all found"
    return server_side


def _problem(response: requests.Response, what: str) -> str | None:
    if response.status_code >= 500:
        return f"{what}: {response.status_code} {response.text[:200]}"
    if response.status_code >= 400 and (
        len(response.content) >= 400
        or "Traceback" in response.text
        or "<html" in response.text.lower()
    ):
        return f"{what}: long or HTML error body {response.text[:200]}"
    return None


def _check(response: requests.Response, what: str) -> None:
    problem = _problem(response, what)
    assert problem is None, problem


def test_wrong_values_in_every_callback_input_get_4xx_not_5xx(server, callbacks):
    statuses: dict[int, int] = {}
    problems = []
    with requests.Session() as session:
        for dependency in callbacks:
            slots = len(dependency["inputs"])
            for slot in range(slots):
                if dependency["inputs"][slot]["id"] == "snapshot-version":
                    continue  # a store only the server writes, whose value no callback reads
                for value in HOSTILE:
                    values = [None] * slots
                    values[slot] = value
                    response = session.post(
                        server.url + CALLBACK, json=_envelope(dependency, values), timeout=60
                    )
                    what = f"{dependency['output']} input {slot} = {str(value)[:40]}"
                    problems.append(_problem(response, what))
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    problems = [p for p in problems if p]
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems[:40])
    assert statuses.get(400, 0) > 100, statuses  # the checks answered, not only the happy path
    assert statuses.get(200, 0) + statuses.get(204, 0) > 20, statuses


def test_malformed_envelopes(server, callbacks):
    dependency = callbacks[0]
    valid = _envelope(dependency, [None] * len(dependency["inputs"]))
    bodies = [
        "not json",
        "[]",
        "null",
        '"a string"',
        "{}",
        json.dumps({"output": "nope.children", "outputs": {}, "inputs": []}),
        json.dumps({**valid, "inputs": "x"}),
        json.dumps({**valid, "inputs": [1, 2]}),
        json.dumps({**valid, "inputs": [{"id": 1}]}),
        json.dumps({**valid, "state": {"a": 1}}),
        json.dumps({**valid, "changedPropIds": [1]}),
        json.dumps({k: v for k, v in valid.items() if k != "outputs"}),
        json.dumps({k: v for k, v in valid.items() if k != "inputs"}),
        json.dumps({**valid, "outputs": {"id": "nope", "property": "x"}}),
        '{"output": ' * 5000,
    ]
    with requests.Session() as session:
        for body in bodies:
            response = session.post(
                server.url + CALLBACK,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            _check(response, body[:60])
            assert 400 <= response.status_code < 500, (body[:60], response.status_code)
        # The page's URL (the Referer) names the snapshot day: a bad one means the newest.
        badge = next(d for d in callbacks if d["output"] == "snapshot-badge.children")
        for referer in ["/?snapshot=9999-99-99", "/?snapshot=" + "x" * 5000, "/?snapshot=%00"]:
            response = session.post(
                server.url + CALLBACK,
                json=_envelope(badge, [None]),
                headers={"Referer": server.url + referer},
                timeout=60,
            )
            _check(response, referer[:40])
            assert response.status_code == 200, referer[:40]
        response = session.post(server.url + CALLBACK, data="{}", timeout=60)  # no JSON type
        assert 400 <= response.status_code < 500
        _check(session.get(server.url + CALLBACK, timeout=60), "GET")  # the page shell


def test_oversized_bodies_are_refused_before_parsing(server, callbacks):
    dependency = next(d for d in callbacks if len(d["inputs"]) >= 2)
    for value in TOO_BIG:
        values = [value] + [None] * (len(dependency["inputs"]) - 1)
        body = json.dumps(_envelope(dependency, values))
        assert len(body) > inputs.MAX_BODY
        response = requests.post(
            server.url + CALLBACK,
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        assert response.status_code == 413
        _check(response, "oversized")
        # Without a Content-Length (chunked), the cap holds while the body is read.
        data = body.encode()
        response = requests.post(
            server.url + CALLBACK,
            data=(data[i : i + 65536] for i in range(0, len(data), 65536)),
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
        assert response.request.headers["Transfer-Encoding"] == "chunked"
        assert 400 <= response.status_code < 500
        _check(response, "oversized, chunked")


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/dash/../../../../etc/passwd",
        "/_dash-component-suites/dash/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/_dash-component-suites/dash/..%2f..%2f..%2fetc%2fpasswd",
        "/_dash-component-suites/os/path.py",
        "/_dash-component-suites/dash/dash.py",
        "/_dash-component-suites/dash/dcc/../../dash.py",
        "/_dash-component-suites/movie_assets/settings.py",
        "/_dash-component-suites/nothing/x.js",
        "/_dash-component-suites/dash/%00.js",
        "/assets/../app.py",
        "/assets/%2e%2e/app.py",
    ],
)
def test_path_traversal_under_component_suites(server, path):
    response = requests.get(server.url + path, timeout=30)
    _check(response, path)
    assert "root:" not in response.text and "import " not in response.text


def test_the_log_stays_small(server, callbacks):
    """Runs after the corpus (same module, file order): no line carries a request's bulk."""
    text = server.log.read_text(errors="replace")
    assert len(text) < 2 * MB
    assert max(map(len, text.splitlines()), default=0) < inputs.LOG_LIMIT + 200


def test_logged_values_are_truncated():
    import io
    import logging

    from dash_app.app import server as flask_app

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    flask_app.logger.addHandler(handler)
    try:
        try:
            int("9" * (10 * MB))
        except ValueError:
            flask_app.logger.exception("Exception on /x [POST] %s", "v" * (10 * MB))
    finally:
        flask_app.logger.removeHandler(handler)
    written = stream.getvalue()
    assert "Exception on /x [POST] vvv" in written and "more characters" in written
    assert len(written) < 3 * inputs.LOG_LIMIT + 500


def test_a_bad_community_gets_a_4xx_or_an_empty_state(server, callbacks):
    """The movie graph's community comes from the URL and from a clicked grid row."""
    movies = next(d for d in callbacks if d["output"].endswith("graph-caption.children.."))
    choose = next(d for d in callbacks if d["output"] == "graph-community.value")
    with requests.Session() as session:
        for value in ["x", -1, 2**40, 1.5, [0], {"community": 0}]:
            response = session.post(
                server.url + CALLBACK, json=_envelope(movies, [value, None]), timeout=60
            )
            _check(response, f"community {value!r}")
            assert response.status_code == 400, value
            assert "community" in response.text
        response = session.post(
            server.url + CALLBACK, json=_envelope(movies, [2**31 - 1, None]), timeout=60
        )
        assert response.status_code == 200
        rows, caption = response.json()["response"].values()
        assert rows == {"rowData": []}
        assert caption == {"children": f"No community {2**31 - 1} in this snapshot."}
        for cell in [{"rowId": "../1"}, {"rowId": None}, {"rowId": "-3"}, {}, "x", [1]]:
            response = session.post(
                server.url + CALLBACK, json=_envelope(choose, [cell]), timeout=60
            )
            _check(response, f"cellClicked {cell!r}")
            assert response.status_code == 400, cell


def _dependency(callbacks, output: str) -> dict:
    return next(d for d in callbacks if d["output"].startswith(output))


def _with(dependency: dict, values: dict) -> list:
    """The dependency's input values: None but those named ("id.property", or a page's
    store as "page.view")."""

    def key(item) -> str:
        if not item["id"].startswith("{"):
            return f"{item['id']}.{item['property']}"
        spec = json.loads(item["id"])
        if "view" in spec:
            return f"{spec['page']}.{spec['view']}"
        return f"{spec['name']}.{item['property']}"  # a grid's prop

    return [values.get(key(i)) for i in dependency["inputs"]]


@pytest.mark.parametrize(
    ("output", "values", "message"),
    [
        # filters.from_values took the filter bar's values without type checks
        (
            "..top_movies-filter-years.value",
            {"top_movies-filter-genre.value": [{"x": 1}]},
            "filters.genres",
        ),
        ("..top_movies-filter-years.value", {"top_movies-filter-years.value": "1990"}, "filters"),
        # ... and the filters store reaching the queries
        (
            '..{"name":"top-movies"',
            {"top_movies.filters": {"genres": [["Drama"]]}, "top-kind.value": "weighted"},
            "filters.genres",
        ),
        # lists and dicts reached the query cache as keys
        ('..{"name":"top-movies"', {"top-kind.value": ["weighted"]}, "list: "),
        (
            '..{"name":"top-movies"',
            {"top-kind.value": "highest", "top-min-votes.value": [50]},
            "min_votes: [50] is not a whole",
        ),
        # int() on the recommendations page's user and movie
        ('..{"name":"user-recs"', {"recs-user.value": "abc"}, "user: 'abc' is not a whole"),
        ('{"name":"similar"', {"recs-movie.value": "1.5"}, "movie: '1.5' is not a whole"),
        # unknown sort kinds and time grains (KeyError)
        ('..{"name":"top-movies"', {"top-kind.value": "nope"}, "list: 'nope' is not one of"),
        ("..trends-count.figure", {"trends-grain.value": "decade"}, "grain: 'decade' is not one"),
    ],
)
def test_each_named_cause_of_the_500s_is_a_400_that_says_why(
    server, callbacks, output, values, message
):
    """The four causes of the 947 answers 500 in the hostile sweep, one request each."""
    dependency = _dependency(callbacks, output)
    body = _envelope(dependency, _with(dependency, values))
    response = requests.post(server.url + CALLBACK, json=body, timeout=60)
    _check(response, f"{output} {values}")
    assert response.status_code == 400, (response.status_code, response.text[:200])
    assert message in response.text, response.text


VIEW_OF_TOP = "..top_movies-filter-years.value"
TOP_CONTROLS = {"top-kind.value": "weighted", "top-min-votes.value": 50}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"top-movies.columnState": [{"colId": "nope", "sort": "asc"}]}, "sort: 'nope' is not"),
        ({"top-movies.columnState": [{"colId": "year", "sort": "up"}]}, "'up' is not asc or"),
        ({"top-movies.columnState": {"year": "asc"}}, "sort: expected column:asc"),
        (
            {"top-movies.filterModel": {"year": {"type": "contains", "filter": "x"}}},
            "filter: 'contains' is not a number filter",
        ),
        (
            {"top-movies.filterModel": {"year": {"type": "greaterThan", "filter": "1e400"}}},
            "filter: inf is not a number",
        ),
        (
            {"top-movies.filterModel": {"title": {"operator": "OR", "conditions": []}}},
            "filter: expected one condition for title",
        ),
        ({"top-movies.filterModel": {"nope": {"type": "blank"}}}, "'nope' is not a column"),
    ],
)
def test_a_grid_state_the_app_cannot_use_is_a_400_that_says_why(server, callbacks, values, message):
    """A grid's sort and filters reach the page's view callback from the browser."""
    dependency = _dependency(callbacks, VIEW_OF_TOP)
    response = requests.post(
        server.url + CALLBACK,
        json=_envelope(dependency, _with(dependency, {**TOP_CONTROLS, **values})),
        timeout=60,
    )
    _check(response, str(values))
    assert response.status_code == 400, (response.status_code, response.text[:200])
    assert message in response.text, response.text


def test_a_grid_state_in_the_url_the_app_cannot_use_is_named_and_left_out(server, callbacks):
    """A page's URL: the page renders, says what it left out, and Back (the pop) does too."""
    router = _dependency(callbacks, ".._pages_content.children")
    search = "?list=most&sort=year:sideways&filter=title:contains:" + "x" * 300
    response = requests.post(
        server.url + CALLBACK, json=_envelope(router, ["/top-movies", search]), timeout=60
    )
    _check(response, "router")
    assert response.status_code == 200
    page = json.dumps(response.json())
    assert "so they were left out: sort: 'year:sideways' is not column:asc or :desc" in page
    assert "filter: expected text of at most 200 characters" in page
    view = _dependency(callbacks, VIEW_OF_TOP)
    popped = {**TOP_CONTROLS, "top_movies.pop": search + "#1", "top-movies.columnState": []}
    body = _envelope(view, _with(view, popped))
    body["changedPropIds"] = ['{"page":"top_movies","view":"pop"}.data']
    response = requests.post(server.url + CALLBACK, json=body, timeout=60)
    _check(response, "pop")
    assert response.status_code == 200
    state = response.json()["response"]['{"page":"top_movies","view":"url"}']["data"]
    assert state["search"] == "?list=most"
