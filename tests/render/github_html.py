"""A PR comment as GitHub shows it: cmark-gfm (GitHub's own parser) to HTML, then an allowlist sanitiser
configured like GitHub's (html-pipeline's SanitizationFilter): img src only http, https or relative; no
svg, style, iframe or data: URIs. cmark-gfm's own safe mode lets data:image/png through, so it is not used."""

from __future__ import annotations

import html
import re

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "b", "i", "strong", "em", "code", "pre", "tt",
        "blockquote", "a", "img", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "details",
        "summary", "sub", "sup", "del", "kbd", "div", "span", "input"}
ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt", "width", "height"}, "th": {"align"}, "td": {"align"},
              "div": {"align"}, "details": {"open"}, "code": {"class"}, "pre": {"lang"}, "input": {"type", "checked", "disabled"}}


def github_html(markdown: str) -> str:
    raw = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return nh3.clean(raw, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https"}, strip_comments=True,
                     link_rel=None)


def code_blocks(rendered: str) -> list[str]:
    """The text of every <pre> block, unescaped, as a reader sees it."""
    return [html.unescape(block) for block in re.findall(r"<pre[^>]*><code[^>]*>(.*?)</code></pre>", rendered, re.S)]


def image_sources(rendered: str) -> list[str]:
    return re.findall(r'<img[^>]* src="([^"]*)"', rendered)
