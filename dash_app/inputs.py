"""What the app accepts from a request, and a short 4xx for everything else.

Every value a callback receives comes from the browser, so from anyone: each is
checked here (type, known choice, bounded size) before it reaches a query or a
cache key. A value the app cannot accept raises ``BadInput``, which the server
answers with 400 and one short line; a body over ``MAX_BODY`` is refused with 413
before it is parsed; logged values are cut to ``LOG_LIMIT`` characters.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

import flask
import pydantic
from dash.exceptions import DependencyException
from werkzeug.exceptions import HTTPException

# The largest callback request the pages send is a few kilobytes.
MAX_BODY = 256 * 1024
# Longer than any list a control offers (19 genres in MovieLens, 20 in ml-25m).
MAX_ITEMS = 64
MAX_TEXT = 200
LOG_LIMIT = 2000
CALLBACK_PATH = "/_dash-update-component"


class BadInput(ValueError):
    """A request value the app does not accept; the message is shown to the client."""


def short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def choice(value: Any, allowed, name: str):
    """One of ``allowed`` (a list, tuple or dict's keys)."""
    if not isinstance(value, str | int) or isinstance(value, bool) or value not in allowed:
        raise BadInput(f"{name}: {short(value)} is not one of the choices")
    return value


def integer(value: Any, name: str, low: int = -(2**31), high: int = 2**31 - 1) -> int:
    """An integer, or a string of one (URLs), within bounds."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 12:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadInput(f"{name}: {short(value)} is not a whole number from {low} to {high}")
    return value


def day(value: Any, name: str) -> date:
    """An ISO date (a date picker sends 'YYYY-MM-DD', sometimes with a time)."""
    try:
        if isinstance(value, str) and len(value) <= 32:
            return date.fromisoformat(value[:10])
    except ValueError:
        pass
    raise BadInput(f"{name}: {short(value)} is not a date (YYYY-MM-DD)")


def text(value: Any, name: str, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise BadInput(f"{name}: expected text of at most {limit} characters")
    return value


def model(cls: type[pydantic.BaseModel], data: Any, name: str):
    """Validate ``data`` into a pydantic model; its first error becomes the short message."""
    try:
        return cls.model_validate(data)
    except pydantic.ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        raise BadInput(f"{name}.{where}: {first['msg']}") from None


# --- the envelope of a callback request -------------------------------------------------------

_ENVELOPE_LISTS = ("inputs", "state", "changedPropIds")


def _check_dependency(item: Any) -> None:
    if isinstance(item, list):  # pattern-matching inputs (ALL) arrive as lists
        for inner in item:
            _check_dependency(inner)
        return
    if not isinstance(item, dict) or not isinstance(item.get("property"), str):
        raise BadInput("malformed callback request: each input needs an id and a property")
    if not isinstance(item.get("id"), str | dict):
        raise BadInput("malformed callback request: each input needs an id and a property")


def _declared(output: str) -> list[tuple[Any, str]]:
    """A callback's outputs from its key: ``..a.children...b.figure..`` or ``a.children``."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    found = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        found.append((json.loads(component) if component.startswith("{") else component, prop))
    return found


def _matches(spec: Any, declared: Any) -> bool:
    if isinstance(declared, str):
        return spec == declared
    if not isinstance(spec, dict) or set(spec) != set(declared):
        return False
    return all(isinstance(v, list) or spec[k] == v for k, v in declared.items())


def _check_outputs(outputs: Any, output: str) -> None:
    declared = _declared(output)
    given = outputs if isinstance(outputs, list) and len(declared) > 1 else [outputs]
    if len(given) != len(declared):
        raise BadInput("malformed callback request: 'outputs' do not match the callback")
    for spec, (component, prop) in zip(given, declared, strict=True):
        items = spec if isinstance(spec, list) and isinstance(component, dict) else [spec]
        for item in items:
            if not (
                isinstance(item, dict)
                and item.get("property") == prop.split("@")[0]
                and _matches(item.get("id"), component)
            ):
                raise BadInput("malformed callback request: 'outputs' do not match the callback")


# Dash's page router (a hidden callback of its own) takes the browser's location as is.
ROUTER = "_pages_location"


def _check_location(item: dict) -> None:
    value = item.get("value")
    if value is None:
        return
    if not isinstance(value, str) or (item["property"] == "pathname" and not value.startswith("/")):
        raise BadInput(f"malformed callback request: {item['property']} is not a URL part")


def check_envelope(body: Any, known_outputs) -> None:
    """Dash's own dispatch indexes the body without checking it: check its shape first."""
    if not isinstance(body, dict):
        raise BadInput("malformed callback request: expected a JSON object")
    if body.get("output") not in known_outputs:
        raise BadInput("malformed callback request: no such callback")
    for key in _ENVELOPE_LISTS:
        if key in body and not isinstance(body[key], list):
            raise BadInput(f"malformed callback request: '{key}' must be a list")
    if not isinstance(body.get("inputs"), list) or not isinstance(body.get("outputs"), dict | list):
        raise BadInput("malformed callback request: 'inputs' and 'outputs' are required")
    _check_outputs(body["outputs"], body["output"])
    for item in body["inputs"] + body.get("state", []):
        _check_dependency(item)
        if isinstance(item, dict) and item["id"] == ROUTER:
            _check_location(item)
    if not all(isinstance(p, str) for p in body.get("changedPropIds", [])):
        raise BadInput("malformed callback request: 'changedPropIds' must hold strings")


# --- logging ----------------------------------------------------------------------------------


def _cut(message: str) -> str:
    if len(message) <= LOG_LIMIT:
        return message
    return f"{message[:LOG_LIMIT]}… [{len(message) - LOG_LIMIT:,} more characters]"


class TruncateLogs(logging.Filter):
    """Cut every logged message and traceback: one request must not write megabytes of log."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = _cut(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = "\n".join(_cut(line) for line in record.exc_text.splitlines())
            record.exc_text = _cut(record.exc_text)
        return True


LOGGERS = ("gunicorn.error", "gunicorn.access", "dash", "werkzeug")


def protect(server: flask.Flask, app) -> None:
    """Body cap, envelope check, 4xx for bad input, truncated logs."""
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    truncate = TruncateLogs()
    for logger in (server.logger, *map(logging.getLogger, LOGGERS)):
        logger.addFilter(truncate)

    @server.before_request
    def _envelope():
        if flask.request.path.endswith(CALLBACK_PATH) and flask.request.method == "POST":
            try:
                body = flask.request.get_json(silent=True)
            except RecursionError:
                raise BadInput("malformed callback request: JSON nested too deeply") from None
            check_envelope(body, app.callback_map)

    @server.errorhandler(BadInput)
    def _bad_input(error: BadInput):
        return flask.Response(_cut(str(error))[:300], status=400, mimetype="text/plain")

    @server.errorhandler(DependencyException)
    def _no_such_file(_error):
        """A script path that is not one of the registered component bundles."""
        return flask.Response("404 Not Found", status=404, mimetype="text/plain")

    @server.errorhandler(HTTPException)
    def _http(error: HTTPException):
        """Werkzeug's own 4xx (413, 415, 405, bad JSON) as one plain line, not an HTML page."""
        return flask.Response(
            f"{error.code} {error.name}", status=error.code or 400, mimetype="text/plain"
        )
