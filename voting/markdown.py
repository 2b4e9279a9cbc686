"""Proposal descriptions: Markdown rendered by markdown-it-py, then sanitized by nh3.

Two locks, because either alone has failed somewhere before: markdown-it runs with raw HTML off
(``<script>`` comes out as text) and refuses ``javascript:`` links, and nh3 (ammonia) keeps only
an allow-list of tags, attributes and URL schemes of whatever comes out. Pure: no Django import.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def render_markdown(text: str) -> str:
    """Safe HTML for ``text``: no raw HTML, no event attributes, no script URLs, links nofollow."""
    html = _renderer.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
