"""Any input gets an answer: a model, safe HTML or medpdf's own error, never a crash.

`medpdf check` is fuzzed end to end with bytes and monograph-like text; the
stages under it are fuzzed directly (many more examples per second) with
strategies that mix Markdown syntax, HTML tag fragments and arbitrary Unicode.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from click.testing import CliRunner
from conftest import assert_safe, tags_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medpdf.cli import cli
from medpdf.content import collection, markdown, model, sources
from medpdf.content.sources import Source
from medpdf.errors import Diagnostic, MedpdfError

LINE = re.compile(r"^[^\n]+?(?::\d+)?: (error|warning): \S.*$")
SUMMARY = re.compile(r"^checked 1 monographs: (\d+) errors, (\d+) warnings$")

FRONT = st.sampled_from(
    ["", "---\n", "---\ntitle: X\n---\n", "---\ntitle: [unclosed\n---\n", "---\n---\n"]
)
MARKDOWN_BITS = st.sampled_from(
    [
        "# T\n", "### Usage\n", "### Dosage:\n", "### Generic Name: X\n", "> ", "- ", "1. ",
        "[", "](", "**Disclaimer:** ", "<sub>", "<script>", "{{ 7*7 }}", "\n", "\u2028",
        "\x00", "\t", "```\n", "---\n", "text ", "≥ ₃ µ ",
    ]
)  # fmt: skip


def _check(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        content = Path(tmp) / "content"
        content.mkdir()
        (content / "fuzz.md").write_bytes(data)
        result = CliRunner().invoke(cli, ["check", "--content", str(content)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for line in result.stdout.splitlines():
        assert LINE.match(line), line
    assert SUMMARY.match(result.stderr.splitlines()[-1]), result.stderr


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_check_survives_any_bytes(data: bytes) -> None:
    _check(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRONT, st.lists(MARKDOWN_BITS, max_size=60), st.text(max_size=80))
def test_check_survives_monograph_like_text(front: str, bits: list[str], noise: str) -> None:
    _check((front + "".join(bits) + noise).encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------- stages

HTML_BITS = st.sampled_from(
    [
        "<script>alert(1)</script>", "<script", "</script>", "<SCRIPT SRC=//x>",
        "<img src=x onerror=alert(1)>", "<img src='file:///etc/passwd'>", "<IMG\nSRC=x>",
        "<iframe src=x>", "<object data=x>", "<embed src=x>", "<style>@import url(x);</style>",
        "<link rel=stylesheet href=x>", "<svg onload=alert(1)><image href=x /><use href=x#a/>",
        "<a href=\"javascript:alert(1)\">", "<a href='java\tscript:x'>", "</a>",
        "<a href=\"&#106;avascript:alert(1)\">", "<p onclick=x style='color:red'>",
        "<b onmouseover=x>", "<sub>", "</sub>", "<em>", "<br/>", "<div>", "</div>",
        "<!--", "-->", "<![CDATA[", "]]>", "<?", "?>", "&lt;script&gt;", "&#x3C;img&#x3E;",
        "<", ">", "\"", "'", "=", " on", "onerror=", "javascript:", "JaVaScRiPt:",
        "[x](javascript:alert(1))", "[x](<javascript:alert(1)>)", "<javascript:alert(1)>",
        "[x](file:///etc/passwd)", "![i](http://127.0.0.1/x.png)", "<http://127.0.0.1/>",
        "[r]: javascript:alert(1)\n", "[r]", "{{ 7*7 }}", "{% include x %}",
    ]
)  # fmt: skip
SYNTAX = st.one_of(MARKDOWN_BITS, HTML_BITS, st.sampled_from(["*", "_", "`", "~~", "|", "\\"]))
FRAGMENT = st.lists(st.one_of(SYNTAX, st.text(max_size=12)), max_size=40).map("".join)
MONOGRAPH = st.builds(lambda front, body: front + body, FRONT, FRAGMENT)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _source(text: str, name: str = "fuzz") -> Source:
    return Source(Path(f"{name}.md"), f"{name}.md", name, text, "0" * 64)


@FAST
@given(MONOGRAPH)
def test_model_build_gives_a_monograph_or_a_source_error(text: str) -> None:
    try:
        mono = model.build(_source(text))
    except MedpdfError as exc:
        assert str(exc).startswith("fuzz.md")
        assert "\n" not in str(exc)
        return
    assert mono.title and mono.title == " ".join(mono.title.split())
    assert all(isinstance(w, Diagnostic) and w.path == "fuzz.md" for w in mono.warnings)
    assert all(section.line >= 1 for section in mono.sections)


@FAST
@given(st.lists(MONOGRAPH, max_size=4))
def test_collection_scan_reports_instead_of_raising(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        content = Path(tmp) / "content"
        content.mkdir()
        paths = [content / f"f{i}.md" for i in range(len(texts))]
        for path, text in zip(paths, texts, strict=True):
            path.write_bytes(text.encode("utf-8"))
        found = collection.scan(content)
        shown = {sources.display_path(path) for path in paths}
    assert found.files_seen == len(texts)
    assert {d.path for d in found.diagnostics} <= shown
    # Without a cache every entry keeps the model parsed in this scan.
    assert all(entry.monograph is not None for entry in found.entries)
    # "cannot parse" is the catch-all for a bug in medpdf: it must never be needed.
    assert not [d for d in found.diagnostics if d.message.startswith("cannot parse")]
    # Each file is either a monograph or (exactly) one error line.
    errors = [d.path for d in found.errors]
    assert len(errors) == len(set(errors))
    assert len(found.monographs) + len(errors) == len(texts)


_DANGER = ("<script", "<iframe", "<object", "<embed", "<style", "<link", "<img", "<svg")


def _assert_html_safe(html: str) -> None:
    lowered = html.lower()
    for marker in _DANGER:
        assert marker not in lowered, (marker, html)
    assert_safe(html)  # allow-listed tags and attributes, no on*=, only web/mail links
    for _, attrs in tags_of(html):
        for value in attrs.values():
            squashed = "".join((value or "").lower().split())
            assert "javascript:" not in squashed, html


@FAST
@given(FRAGMENT)
def test_markdown_html_is_always_safe(source: str) -> None:
    _assert_html_safe(markdown.to_html(source))
    _assert_html_safe(markdown.to_inline_html(source))
    assert isinstance(markdown.plain_text(source), str)
