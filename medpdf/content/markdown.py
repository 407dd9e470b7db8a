"""Markdown to safe HTML.

Monographs are written by many hands and treated as untrusted. Two layers keep
them harmless: markdown-it's render rules escape raw tags outside a tiny inline
safe list and drop images, then nh3 (the Ammonia sanitizer) re-parses the whole
fragment against an allow list, so a bug in one layer is caught by the other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

#: Raw HTML the collection really uses, and nothing that can fetch or run anything.
INLINE_SAFE_TAGS = frozenset({"sub", "sup", "i", "em", "b", "strong", "br"})

#: Tags markdown-it itself emits for the syntax we enable.
_MARKDOWN_TAGS = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre",
        "code", "hr", "a", "table", "thead", "tbody", "tr", "th", "td", "s",
    }
)  # fmt: skip

ALLOWED_TAGS = _MARKDOWN_TAGS | INLINE_SAFE_TAGS

LINK_SCHEMES = frozenset({"http", "https", "mailto"})

#: Deepest quote/list nesting accepted; real monographs use three at most.
MAX_DEPTH = 30

#: ``[`` in one paragraph past which unclosed or deeply nested ones become text.
#: markdown-it looks for each ``[``'s ``]`` up to maxNesting tokens ahead, so a
#: 400 kB paragraph of ``![`` took 28 s to check; real monographs have at most 3.
MAX_BRACKETS = 20

#: Deepest element nesting kept in a sanitized fragment. WeasyPrint lays out
#: recursively and hits Python's recursion limit at ~130 nested list elements;
#: thousands of ``*`` or ``<sub>`` nest inline elements far past that.
MAX_ELEMENT_DEPTH = 80

_BLOCK_LEAD = re.compile(r"[ >]*(?:(?:[-*+]|\d{1,9}[.)])(?: [ >]*|$))*")
_LIST_MARKER = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?= |$)")
_TAG_NAME = re.compile(r"^<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)")
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*):")
# A tag in serializer output: text there has "<" escaped, attribute values are double-quoted.
_SERIALIZED_TAG = re.compile(r'<(/?)([A-Za-z][A-Za-z0-9]*)(?:[^>"]|"[^"]*")*>')
_VOID_TAGS = frozenset({"br", "hr"})


def is_allowed_link(url: str) -> bool:
    """Only absolute http(s) and mailto links survive; relative ones would resolve to files."""
    match = _SCHEME.match(url)
    return match is not None and match.group(1).lower() in LINK_SCHEMES


def _excess_prefix(line: str) -> int:
    """Length of the quote/list prefix of ``line`` if it nests past :data:`MAX_DEPTH`, else 0.

    An upper estimate (quote markers, list markers, half the indentation) is
    enough: it only has to stay well below markdown-it's own limit, past which
    the rest of the document would be dropped without a word.
    """
    lead = _BLOCK_LEAD.match(line)
    assert lead is not None  # the pattern matches the empty string
    prefix = lead.group(0)
    if len(prefix) <= MAX_DEPTH:
        return 0
    indent = len(prefix) - len(prefix.lstrip(" "))
    depth = prefix.count(">") + len(_LIST_MARKER.findall(prefix)) + indent // 2
    return len(prefix) if depth > MAX_DEPTH else 0


def _defuse_brackets(paragraph: str) -> tuple[str, int | None]:
    """``&#91;`` for each ``[`` that no ``]`` closes or that nests past :data:`MAX_DEPTH`.

    markdown-it shows ``&#91;`` as ``[`` and never tries to match it; links with
    both brackets (a long reference list) keep working. Returns the text and
    the index of the first ``[`` replaced (None: none).
    """
    open_at: list[int] = []
    closes: dict[int, int] = {}  # "]" index -> the "[" index it closes
    for index, char in enumerate(paragraph):
        if char == "[":
            open_at.append(index)
        elif char == "]" and open_at:
            closes[index] = open_at.pop()
    defuse = set(open_at)
    opens = set(closes.values())
    depth = 0
    for index in sorted(opens | closes.keys()):
        if index in opens:
            depth += 1
            if depth > MAX_DEPTH:
                defuse.add(index)
        else:
            depth -= 1
    if not defuse:
        return paragraph, None
    chars = list(paragraph)
    for index in defuse:
        chars[index] = "&#91;"
    return "".join(chars), min(defuse)


def flatten_nesting_at(source: str) -> tuple[str, int | None]:
    """Strip the quote/list markers of absurdly nested lines, keeping their text.

    Paragraphs with more than :data:`MAX_BRACKETS` ``[`` lose their unclosed and
    deeply nested ones (:func:`_defuse_brackets`). Returns the text and the index
    of the first line changed (None: unchanged). Line numbers stay the same, so
    the model's line map stays valid.
    """
    lines = source.split("\n")
    changed: list[int] = []
    brackets = start = 0  # "[" seen since the blank line before line `start`
    for index, line in enumerate([*lines, ""]):
        if not line.strip():
            if brackets > MAX_BRACKETS:
                paragraph = "\n".join(lines[start:index])
                defused, first = _defuse_brackets(paragraph)
                if first is not None:
                    lines[start:index] = defused.split("\n")
                    changed.append(start + paragraph.count("\n", 0, first))
            brackets, start = 0, index + 1
            continue
        if len(line) > MAX_DEPTH:  # a shorter line cannot have too deep a prefix
            expanded = line.expandtabs(4)
            if cut := _excess_prefix(expanded):
                line = lines[index] = expanded[cut:]
                changed.append(index)
        brackets += line.count("[")
    return ("\n".join(lines), min(changed)) if changed else (source, None)


def flatten_nesting(source: str) -> str:
    """:func:`flatten_nesting_at` without the line index."""
    return flatten_nesting_at(source)[0]


def new_parser() -> MarkdownIt:
    """The one markdown-it configuration medpdf uses, for structure and for HTML alike."""
    # markdown-it silently drops the rest of a document past maxNesting, so sources
    # are flattened well before that point (flatten_nesting); the limit is a backstop.
    md = MarkdownIt("commonmark", {"html": True, "typographer": False, "maxNesting": 100})
    md.enable(["table", "strikethrough"])
    md.validateLink = is_allowed_link  # type: ignore[method-assign]
    md.add_render_rule("html_inline", _render_html_inline)
    md.add_render_rule("html_block", _render_html_block)
    md.add_render_rule("image", _render_image)
    return md


def _render_html_inline(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    raw = tokens[idx].content
    if raw.startswith(("<!--", "<?", "<!")):
        return ""
    match = _TAG_NAME.match(raw)
    if match and match.group(2).lower() in INLINE_SAFE_TAGS:
        closing, name = match.group(1), match.group(2).lower()
        if name == "br":
            return "<br>"
        return f"<{closing}{name}>"
    return escapeHtml(raw)


def _render_html_block(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # Block-level raw HTML keeps only its text and the inline safe tags.
    cleaned = nh3.clean(
        tokens[idx].content,
        tags=set(INLINE_SAFE_TAGS),
        attributes={},
        clean_content_tags={"script", "style"},
        strip_comments=True,
    ).strip()
    return f"<p>{cleaned}</p>\n" if cleaned else ""


def _render_image(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # Images would be fetched at render time; a handout shows their description instead.
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or [])
    return escapeHtml(alt)


_PARSER = new_parser()
# The model only needs block structure; skipping inline parsing halves `check`.
_BLOCK_PARSER = new_parser().disable("inline")


def sanitize(html: str) -> str:
    """The final allow-list pass over any HTML fragment built from content."""
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}},
        url_schemes=set(LINK_SCHEMES),
        link_rel=None,
        clean_content_tags={"script", "style"},
        strip_comments=True,
    )
    return limit_depth(cleaned)


def limit_depth(html: str, max_depth: int = MAX_ELEMENT_DEPTH) -> str:
    """Unwrap elements nested deeper than ``max_depth``, keeping their text.

    Works on balanced serializer output (nh3's), where every ``<`` starts a tag.
    """
    if html.count("<") <= 2 * max_depth:  # cannot be that deep: the common case
        return html
    out: list[str] = []
    kept: list[bool] = []  # for each open element: was its tag kept?
    depth = pos = 0
    for match in _SERIALIZED_TAG.finditer(html):
        out.append(html[pos : match.start()])
        pos = match.end()
        closing, name = match.group(1), match.group(2).lower()
        if name in _VOID_TAGS:
            out.append(match.group(0))
        elif not closing:
            keep = depth < max_depth
            kept.append(keep)
            depth += keep
            if keep:
                out.append(match.group(0))
        elif kept and kept.pop():
            depth -= 1
            out.append(match.group(0))
    out.append(html[pos:])
    return "".join(out)


def to_html(source: str) -> str:
    """Render a Markdown fragment to sanitized HTML."""
    return sanitize(_PARSER.render(flatten_nesting(source)))


def to_inline_html(source: str) -> str:
    """Render a one-paragraph fragment without the wrapping ``<p>``."""
    return sanitize(_PARSER.renderInline(flatten_nesting(source)))


def block_tokens(source: str) -> list[Token]:
    """Block-level tokens with line maps, for the model's section splitting.

    Inline tokens keep their raw ``content`` but have no children.
    """
    return _BLOCK_PARSER.parse(flatten_nesting(source))


def plain_text(source: str) -> str:
    """Text content of a Markdown fragment, for titles, metadata and matching."""
    parts: list[str] = []
    for token in _PARSER.parseInline(source):
        for child in token.children or []:
            if child.type in {"text", "code_inline"}:
                parts.append(child.content)
            elif child.type in {"softbreak", "hardbreak"}:
                parts.append(" ")
    return " ".join("".join(parts).split())


_TERMINAL = (".", "!", "?", ":", ";")


def sentence_of(source: str) -> str:
    """Plain text of one block's inline Markdown (a paragraph, heading, cell), ended as a sentence.

    Readability formulas count sentences by their full stops; a list item or a
    heading without one would otherwise run into the next as one long sentence.
    """
    parts = [
        " " if child.type in {"softbreak", "hardbreak"} else child.content
        for token in _PARSER.parseInline(source)
        for child in token.children or []
        if child.type in {"text", "code_inline", "softbreak", "hardbreak"}
    ]
    text = " ".join("".join(parts).split())
    return text if not text or text.endswith(_TERMINAL) else text + "."
