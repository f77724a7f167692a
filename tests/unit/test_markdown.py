"""Markdown rendering: ordinary Markdown renders, hostile input comes out inert."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from crowdfund.markdown import plain_excerpt, render_markdown, sanitize_html

# fmt: off
SAFE_TAGS = {
    "p", "br", "h2", "h3", "h4", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre",
    "hr", "table", "thead", "tbody", "tr", "th", "td", "del",
}
# fmt: on
SAFE_SCHEMES = ("http://", "https://", "mailto:")
REL = "nofollow noopener noreferrer"


class Elements(HTMLParser):
    """Collects every start tag with its attributes, the way a browser would tokenise them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def hrefs(html: str) -> list[str]:
    return [attrs["href"] or "" for tag, attrs in elements(html) if "href" in attrs]


def assert_inert(html: str) -> None:
    lowered = html.lower()
    for tag in ("<script", "<img", "<iframe", "<svg", "<style", "<object", "<embed", "<form", "<div"):
        assert tag not in lowered
    for tag, attrs in elements(html):
        assert tag in SAFE_TAGS
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert "style" not in attrs and "src" not in attrs
    for href in hrefs(html):
        assert "javascript:" not in href.lower()
        assert href.lower().startswith(SAFE_SCHEMES)


HOSTILE = {
    "script element": "<script>alert(1)</script>",
    "script inside text": "Hello <script src=https://evil.example/x.js></script> world",
    "img onerror": '<img src=x onerror="alert(1)">',
    "raw anchor with onclick": '<a href="x" onclick="alert(1)">click</a>',
    "raw anchor with javascript": '<a href="javascript:alert(1)">click</a>',
    "raw html block": '<div>\n<script>alert(1)</script>\n</div>\n\n<p style="color:red">styled</p>',
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "svg onload": "<svg onload=alert(1)><circle r=1 /></svg>",
    "style attribute": '<span style="background:url(javascript:alert(1))">x</span>',
    "style element": "<style>body { display: none }</style>",
    "markdown javascript link": "[x](javascript:alert(1))",
    "mixed case scheme": "[x](JaVaScRiPt:alert(1))",
    "tab inside scheme": "[x](java&#x09;script:alert(1))",
    "newline entity inside scheme": "[x](java&#10;script:alert(1))",
    "entity encoded scheme": "[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "named entity colon": "[x](javascript&colon;alert(1))",
    "leading space in destination": "[x](< javascript:alert(1)>)",
    "angle bracket destination": "[x](<javascript:alert(1)>)",
    "reference link": "[x][evil]\n\n[evil]: javascript:alert(1)",
    "data url link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "vbscript link": "[x](vbscript:msgbox(1))",
    "javascript autolink": "<javascript:alert(1)>",
    "data autolink": "<data:text/html,<script>alert(1)</script>>",
    "image with javascript": "![x](javascript:alert(1))",
    "image with onerror title": '![x](https://evil.example/x.png "a\\" onerror=\\"alert(1)")',
    "link title breaking out": '[x](https://example.org "a\\" onclick=\\"alert(1)")',
    "html comment": "<!-- <script>alert(1)</script> -->",
    "details ontoggle": "<details open ontoggle=alert(1)>",
    "code span with html": "`<script>alert(1)</script>`",
    "fenced html": "```html\n<script>alert(1)</script>\n```",
}


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markdown_renders_inert(source: str) -> None:
    assert_inert(render_markdown(source))


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_markup_is_inert_even_when_sanitised_as_raw_html(source: str) -> None:
    assert_inert(sanitize_html(source))


def test_raw_html_is_shown_as_text_not_interpreted() -> None:
    html = render_markdown('<img src=x onerror="alert(1)">')
    assert elements(html) == [("p", {})]
    assert "&lt;img" in html


def test_sanitiser_drops_script_content_and_keeps_harmless_text() -> None:
    assert sanitize_html("<p>a<script>alert(1)</script>b<iframe>c</iframe></p>") == "<p>abc</p>"


def test_sanitiser_strips_event_handlers_and_styles_but_keeps_the_element() -> None:
    assert sanitize_html('<p style="x" onclick="alert(1)">a</p>') == "<p>a</p>"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java&#x09;script:alert(1)",
        "&#106;avascript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "/relative/path",
        "//evil.example/x",
        "ftp://example.org",
    ],
)
def test_sanitiser_removes_every_href_outside_http_https_and_mailto(href: str) -> None:
    assert hrefs(sanitize_html(f'<a href="{href}">x</a>')) == []


def test_markdown_link_with_disallowed_scheme_stays_visible_as_text() -> None:
    html = render_markdown("[x](javascript:alert(1))")
    assert hrefs(html) == []
    assert html == "<p>[x](javascript:alert(1))</p>\n"


def test_relative_link_is_not_turned_into_a_link() -> None:
    assert hrefs(render_markdown("[projects](/projects/x)")) == []


# Ordinary Markdown


def test_headings_start_at_h2_and_stop_at_h4() -> None:
    html = render_markdown("# One\n\n## Two\n\n### Three\n\n#### Four\n\n##### Five\n\n###### Six")
    assert [tag for tag, _ in elements(html)] == ["h2", "h2", "h3", "h4", "h4", "h4"]
    assert "<h2>One</h2>" in html and "<h4>Six</h4>" in html


def test_emphasis_strong_and_strikethrough_render() -> None:
    html = render_markdown("*soft* **loud** ~~gone~~")
    assert html == "<p><em>soft</em> <strong>loud</strong> <del>gone</del></p>\n"


def test_lists_render_as_ul_and_ol() -> None:
    html = render_markdown("- apples\n- pears\n\n1. first\n2. second")
    assert [tag for tag, _ in elements(html)] == ["ul", "li", "li", "ol", "li", "li"]
    assert "<li>pears</li>" in html and "<li>second</li>" in html


def test_links_keep_href_and_title_and_get_rel() -> None:
    html = render_markdown('[Kassel](https://www.kassel.de "Stadt Kassel")')
    assert elements(html)[1] == ("a", {"href": "https://www.kassel.de", "title": "Stadt Kassel", "rel": REL})


def test_autolinks_for_urls_and_email_addresses_render() -> None:
    html = render_markdown("<https://example.org> and <team@example.org>")
    assert hrefs(html) == ["https://example.org", "mailto:team@example.org"]


def test_bare_urls_are_not_linkified() -> None:
    assert hrefs(render_markdown("see https://example.org")) == []


def test_inline_code_and_fenced_code_escape_their_content() -> None:
    html = render_markdown("Use `<b>` here.\n\n```python\nprint('<i>')\n```")
    assert "<code>&lt;b&gt;</code>" in html
    assert "<pre><code>print('&lt;i&gt;')\n</code></pre>" in html


def test_blockquote_rule_and_line_break_render() -> None:
    html = render_markdown("> quoted\n\n---\n\nline one  \nline two")
    assert [tag for tag, _ in elements(html)] == ["blockquote", "p", "hr", "p", "br"]


def test_tables_render() -> None:
    html = render_markdown("| Reward | Euro |\n|---|---|\n| Mug | 15 |")
    assert [tag for tag, _ in elements(html)] == [
        "table",
        "thead",
        "tr",
        "th",
        "th",
        "tbody",
        "tr",
        "td",
        "td",
    ]
    assert "<td>Mug</td>" in html


def test_images_are_replaced_by_their_alt_text() -> None:
    html = render_markdown("Look: ![our *garden*](https://example.org/g.png)")
    assert html == "<p>Look: our garden</p>\n"


def test_empty_text_renders_as_empty_string() -> None:
    assert render_markdown("") == ""


# Excerpts


def test_excerpt_drops_markup_and_collapses_whitespace() -> None:
    text = "# A garden\n\nFor **Nord-Holland**,   with [friends](https://example.org).\n\n- soil\n- seeds"
    assert plain_excerpt(text, 200) == "A garden For Nord-Holland, with friends. soil seeds"


def test_excerpt_unescapes_entities_into_plain_characters() -> None:
    assert plain_excerpt('Tom & Jerry say "hi" <3', 100) == 'Tom & Jerry say "hi" <3'


def test_excerpt_keeps_raw_html_as_literal_text_for_the_template_to_escape() -> None:
    assert plain_excerpt("<script>alert(1)</script>", 100) == "<script>alert(1)</script>"


def test_long_excerpt_is_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    excerpt = plain_excerpt("Ein Gemeinschaftsgarten für alle Menschen im Stadtteil", 30)
    assert excerpt == "Ein Gemeinschaftsgarten für…"
    assert len(excerpt) <= 30


def test_excerpt_of_one_long_word_is_cut_hard() -> None:
    assert plain_excerpt("Donaudampfschifffahrtsgesellschaft", 10) == "Donaudamp…"


def test_excerpt_that_fits_is_returned_unchanged() -> None:
    assert plain_excerpt("Exactly ten", 11) == "Exactly ten"


def test_excerpt_drops_trailing_punctuation_before_the_ellipsis() -> None:
    assert plain_excerpt("First part, second part", 13) == "First part…"


@pytest.mark.parametrize("limit", [0, -5])
def test_excerpt_refuses_a_limit_below_one(limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        plain_excerpt("text", limit)
