"""User-written Markdown to safe HTML: markdown-it-py parses without raw HTML, nh3 sanitises the result.

Two layers on purpose: markdown-it escapes raw HTML and refuses javascript:/data: links, and nh3 then
keeps only an allow-list of tags, attributes and absolute http/https/mailto links, whatever slipped by.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

# fmt: off
ALLOWED_TAGS: frozenset[str] = frozenset({
    "p", "br", "h2", "h3", "h4", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre",
    "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
})
# fmt: on
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}}
URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"

# The page title is the h1, so headings in a description start at h2; h5/h6 add nothing worth a level.
_RETAG = {"h1": "h2", "h5": "h4", "h6": "h4", "s": "del"}
_ALLOWED_LINK = re.compile(r"(?:https?|mailto):", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
_ELLIPSIS = "…"


def render_markdown(text: str) -> str:
    """Render user Markdown as sanitised HTML.

    No raw HTML, no images (their alt text stays), headings from h2 to h4, and only absolute
    http, https and mailto links, each with rel="nofollow noopener noreferrer".
    """
    parser = _parser()
    tokens = parser.parse(text)
    _retag(tokens)
    return sanitize_html(parser.renderer.render(tokens, parser.options, {}))


def sanitize_html(fragment: str) -> str:
    """Reduce an HTML fragment to the allowed tags, attributes and link schemes.

    Anything else is dropped: script and style elements with their content, other tags keeping
    their text; relative links lose their href; every link gets rel="nofollow noopener noreferrer".
    """
    return _cleaner().clean(fragment)


def plain_excerpt(text: str, limit: int) -> str:
    """Return the Markdown's text without markup, at most `limit` characters long.

    Whitespace is collapsed; a longer text is cut at a word boundary and ends with an ellipsis.
    The result is plain text, not HTML: the template must escape it (Jinja does by default).
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    stripped = nh3.clean(render_markdown(text), tags=set())
    plain = _WHITESPACE.sub(" ", html.unescape(stripped)).strip()
    if len(plain) <= limit:
        return plain
    cut = plain[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-") + _ELLIPSIS


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False})
    parser.enable(["table", "strikethrough"])
    parser.validateLink = _is_allowed_link  # type: ignore[method-assign]
    parser.add_render_rule("image", _render_image_as_alt_text)
    return parser


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


def _is_allowed_link(url: str) -> bool:
    # A link markdown-it refuses stays visible as its source text, so the author sees why it failed.
    return _ALLOWED_LINK.match(url) is not None


def _retag(tokens: Sequence[Token]) -> None:
    for token in tokens:
        token.tag = _RETAG.get(token.tag, token.tag)
        if token.children:
            _retag(token.children)


def _render_image_as_alt_text(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # Images would let a campaign page load third-party content; the cover image is uploaded instead.
    children = tokens[idx].children or []
    return escapeHtml(renderer.renderInlineAsText(children, options, env))
