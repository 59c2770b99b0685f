"""Title handling shared by the catalogue cleaner and the film matcher."""

from __future__ import annotations

import re
import unicodedata

_YEAR_SUFFIX = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_TRAILING_PARENS = re.compile(r"(\s*\([^()]*\))+\s*$")
_ARTICLE = re.compile(
    r"^(?P<rest>.+), (?P<article>the|a|an|les|la|le|l'|il|el|der|die|das|los|las)$", re.IGNORECASE
)


def split_year(title: str) -> tuple[str, int | None]:
    """'Toy Story (1995)' -> ('Toy Story', 1995); titles without a year pass through."""
    match = _YEAR_SUFFIX.search(title)
    if not match:
        return title.strip(), None
    return title[: match.start()].strip(), int(match.group(1))


def display_title(title: str) -> str:
    """MovieLens 'Matrix, The' becomes 'The Matrix'; alternate titles in parentheses stay."""
    match = _TRAILING_PARENS.search(title)
    head, tail = (title[: match.start()], title[match.start() :]) if match else (title, "")
    art = _ARTICLE.match(head.strip())
    if art:
        sep = "" if art.group("article").endswith("'") else " "
        head = f"{art.group('article')}{sep}{art.group('rest')}"
    return (head.strip() + tail).strip()


def match_key(title: str) -> str:
    """Lower-case ASCII words of the main title, article first, alternates dropped."""
    head = _TRAILING_PARENS.sub("", title).strip() or title
    head = display_title(head)
    ascii_title = unicodedata.normalize("NFKD", head).encode("ascii", "ignore").decode()
    ascii_title = ascii_title.lower().replace("&", " and ")
    return " ".join(re.findall(r"[a-z0-9]+", ascii_title))
