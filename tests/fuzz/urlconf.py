"""Every URL pattern of the URL configuration, as the route text a person reads
(``voting/<slug:slug>/booth/``), with the view behind it. The authorization matrix and the
schema-coverage test start from this list, so a new pattern cannot be forgotten."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    route: str  # the pattern as written, prefixes joined ("api/voting/elections/<slug:slug>/tally")
    name: str | None
    callback: Any

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    def openapi_path(self) -> str:
        """``/api/x/<slug:slug>/y`` → ``/api/x/{slug}/y`` (drf-spectacular's form)."""
        return "/" + re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", self.route)


def _walk(resolver: URLResolver, prefix: str) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, text)
        elif isinstance(entry, URLPattern):
            yield Route(text, entry.name, entry.callback)


def routes() -> list[Route]:
    """Every URL pattern once (the first of two identical routes wins, as in Django)."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver(), ""):
        seen.setdefault(route.route, route)
    return list(seen.values())
