"""Security of the WeasyPrint stage: nothing outside the project is ever read.

A loopback HTTP listener records every request and a secret file holds a
unique marker. Hostile references are pushed through (a) the normal handout
path, where the sanitizer should drop them, and (b) ``medpdf.pdf.typeset``
directly, where only :class:`RestrictedFetcher` stands in the way. Either way no
request may reach the listener and the marker may not reach the PDF.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path
from urllib.parse import quote

import pdfplumber
import pikepdf
import pytest
from conftest import (
    Listener,
    Secret,
    assert_marker_absent,
    assert_no_active_content,
    assert_no_embedded_files,
    normalise,
    normalised_page_texts,
    normalised_text,
    write_monograph,
)
from waiting import PATIENCE

from medpdf.content.collection import find_monograph, find_source
from medpdf.html import templating
from medpdf.pdf import typeset as pdf
from medpdf.products.handouts import render_one
from medpdf.run.contract import RunContext
from medpdf.settings import config
from medpdf.settings.config import DEFAULT_RESOURCES, Resources

STYLES = DEFAULT_RESOURCES.styles


# --------------------------------------------------------------------------- helpers


def test_listener_records_requests(listener: Listener) -> None:
    # The security tests rely on the listener noticing a fetch.
    import urllib.request

    with urllib.request.urlopen(f"{listener.base}/probe", timeout=PATIENCE) as response:
        assert b"HTTP-REACHED" in response.read()
    assert listener.requests == ["GET /probe"]


def png_data_url(width: int = 8, height: int = 8) -> str:
    """A solid red PNG as a data: URL, built by hand."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


# --------------------------------------------------------------------------- (a) content


def hostile_monograph(secret: Secret, base: str) -> str:
    s, h = secret.uri, base
    return f"""---
title: Hostilex
---

# Hostilex
### Generic Name
Hostilex <img src="{s}">

### Usage
Inline image <img src="{s}"> and <img src="{h}/inline.png"> in text.

<img src="{h}/block.png">

<link rel="stylesheet" href="{h}/link.css">
<link rel="stylesheet" href="{s}">

<link rel="attachment" href="{s}">

<style>@import url("{h}/import.css"); @import url("{s}");</style>

<object data="{s}" type="text/css"></object>

<iframe src="{s}"></iframe>

<svg width="20" height="20"><image href="{h}/svg.png" width="10" height="10"/></svg>

### Dosage
Markdown image ![pill picture]({h}/markdown.png) and link [x]({s}) and
autolink <{s}> and <a href="{s}" rel="attachment">attach</a>.

<div><img src="{h}/div.png"><embed src="{s}"><video src="{h}/v.mp4"></video></div>

<p style="background: url('{h}/style-attr.png')">styled paragraph</p>

### Side Effects
* <img src="{h}/list.png"> listed
* ![]({s})

### FAQs
**Q: <img src="{h}/faq.png"> Safe?**

A: Sentinel answer text.

**Disclaimer:** Not advice <img src="{h}/disclaimer.png"> [d]({s}).
"""


@pytest.fixture
def hostile_content(tmp_path: Path, listener: Listener, secret: Secret) -> Path:
    content = tmp_path / "content"
    write_monograph(content, "hostilex", hostile_monograph(secret, listener.base))
    return content


def test_hostile_monograph_fetches_nothing(
    tmp_path: Path, hostile_content: Path, listener: Listener, secret: Secret
) -> None:
    content = hostile_content
    source = find_source(content, "hostilex")
    target = tmp_path / "out" / "hostilex.pdf"
    # The path `medpdf handout` takes: rendered here, under the run's limits.
    settings = config.make(content_dir=content, output_dir=tmp_path / "out")
    made = render_one(source, RunContext.of(settings), target)
    assert not made.reused
    assert made.refused_urls == ()
    data = target.read_bytes()

    # It really rendered the hostile text (so the payloads were in play).
    pages = normalised_page_texts(data)
    assert len(pages) == made.pages
    text = " ".join(pages)
    assert normalise("Sentinel answer text.") in text
    assert "Hostilex" in text
    assert normalise("pill picture") in text  # the markdown image's alt text instead of the image

    assert listener.requests == []
    assert_marker_absent(data, secret.marker)
    assert "HTTP-REACHED" not in text
    assert_no_embedded_files(data)
    assert_no_active_content(data)
    with pdfplumber.open(io.BytesIO(data)) as doc:
        assert all(not page.images for page in doc.pages)


def test_sanitizer_leaves_nothing_for_the_fetcher_to_refuse(
    hostile_content: Path, listener: Listener
) -> None:
    # The first layer drops every fetching element: WeasyPrint never even asks.
    content = hostile_content
    settings = config.make(content_dir=content)
    html = templating.monograph_html(find_monograph(content, "hostilex"), settings)
    result = pdf.render(html, settings.resources)
    assert result.data.startswith(b"%PDF-")
    assert result.refused_urls == ()
    assert listener.requests == []


# --------------------------------------------------------------------------- (b) render()


def hostile_html(secret: Secret, listener: Listener, extra_head: str = "") -> tuple[str, list[str]]:
    s, h = secret.uri, listener.base
    refused = [
        f"{h}/link.css",
        s,  # <link rel=stylesheet>, @import, <img> all point at it
        f"{h}/import.css",
        f"{h}/font.woff",
        f"{h}/img.png",
        "https://example.invalid/img.png",
        f"ftp://127.0.0.1:{listener.port}/img.png",
        "https://example.invalid/background.png",
        f"{h}/svg-image.png",
        # <use href> to another file: WeasyPrint 70 does not even ask for it.
    ]
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Hand written</title>
<link rel="stylesheet" href="styles/fonts.css">
<link rel="stylesheet" href="styles/handout.css">
<link rel="stylesheet" href="styles/paper-a4.css">
<link rel="stylesheet" href="{h}/link.css">
<link rel="stylesheet" href="{s}">
<link rel="attachment" href="{s}" title="secret">
<link rel="attachment" href="{h}/attachment.bin">
<link rel="attachment" href="styles/paper-a4.css">
<link rel="attachment" href="data:text/plain,attached%20data">
<style>
  @import url("{h}/import.css");
  @import url("{s}");
  @font-face {{ font-family: Sneaky; src: url("{h}/font.woff"); }}
  .bg {{ background-image: url("https://example.invalid/background.png"); }}
</style>
{extra_head}
</head><body>
<h1>Handwritten</h1>
<p class="bg">Body paragraph.</p>
<img src="{s}" alt="">
<img src="{h}/img.png" alt="">
<img src="https://example.invalid/img.png" alt="">
<img src="ftp://127.0.0.1:{listener.port}/img.png" alt="">
<object data="{s}" type="text/plain"></object>
<iframe src="{s}"></iframe>
<svg width="20" height="20"><image href="{h}/svg-image.png" width="10" height="10"/></svg>
<svg width="20" height="20"><use href="{h}/svg-use.svg#shape"/></svg>
<script>document.write("SCRIPT-RAN")</script>
<p><a href="javascript:alert(1)">js link</a> <a href="JaVaScRiPt:alert(2)">js upper</a>
<a href="{s}">file link</a> <a href="https://example.org/">web link</a> <a href="#ok">anchor</a></p>
<p><a rel="attachment" href="{s}">attached secret</a></p>
<p><a rel="attachment" href="styles/handout.css">attached stylesheet</a></p>
<p><img id="ok" src="{png_data_url()}" style="width: 40px; height: 40px" alt=""></p>
</body></html>"""
    return html, refused


@pytest.fixture
def rendered(listener: Listener, secret: Secret) -> tuple[pdf.PdfResult, list[str]]:
    html, refused = hostile_html(secret, listener)
    result = pdf.render(html, DEFAULT_RESOURCES)
    return result, refused


def test_render_reaches_no_listener(
    rendered: tuple[pdf.PdfResult, list[str]], listener: Listener
) -> None:
    assert listener.requests == []
    assert "HTTP-REACHED" not in normalised_text(rendered[0].data)


def test_render_leaks_no_secret(rendered: tuple[pdf.PdfResult, list[str]], secret: Secret) -> None:
    assert_marker_absent(rendered[0].data, secret.marker)


def test_render_embeds_no_files(rendered: tuple[pdf.PdfResult, list[str]]) -> None:
    # Even attachments the fetcher may serve (project files, data: URLs) are dropped.
    assert_no_embedded_files(rendered[0].data)


def test_render_keeps_only_web_and_internal_links(
    rendered: tuple[pdf.PdfResult, list[str]],
) -> None:
    # javascript: and file: hrefs would become clickable PDF actions; only the
    # https link and the in-document anchor survive.
    data = rendered[0].data
    assert_no_active_content(data)
    with pikepdf.open(io.BytesIO(data)) as doc:
        links = [annot for page in doc.pages for annot in page.get("/Annots", [])]
        uris = [str(link.A.URI) for link in links if "/A" in link]
        anchors = [link for link in links if "/Dest" in link]
    assert uris and set(uris) == {"https://example.org/"}  # one annotation per line it spans
    assert len(anchors) == 1
    assert "SCRIPT-RAN" not in normalised_text(data)


def test_render_reports_refused_urls(rendered: tuple[pdf.PdfResult, list[str]]) -> None:
    result, expected = rendered
    missing = [url for url in expected if url not in result.refused_urls]
    assert not missing, (missing, result.refused_urls)
    # Only what was refused is listed: the project stylesheets were served.
    assert not any("styles/" in url for url in result.refused_urls)
    assert not any(url.startswith("data:") for url in result.refused_urls)


def test_render_still_uses_project_css_and_data_urls(
    rendered: tuple[pdf.PdfResult, list[str]],
) -> None:
    result = rendered[0]
    assert result.page_count == 1
    with pdfplumber.open(io.BytesIO(result.data)) as doc:
        page = doc.pages[0]
        # styles/paper-a4.css, fonts.css and handout.css: A4, DejaVu, 24 pt title. (The
        # margin boxes' words are set by the templates, translated: test_handout_pdf.)
        assert page.width == pytest.approx(595, abs=1)
        assert page.height == pytest.approx(842, abs=1)
        title = [c for c in page.chars if c["text"] in "Handwritten"]
        assert {round(c["size"]) for c in title if c["size"] > 20} == {24}
        assert all("DejaVu-Sans" in c["fontname"] for c in page.chars)
        assert "Handwritten" in normalised_page_texts(result.data)[0]
        # The data: URL PNG is drawn (and it is the only image).
        assert len(page.images) == 1
        image = page.images[0]
        assert image["srcsize"] == (8, 8)
        assert image["width"] == pytest.approx(30, abs=1)  # 40 CSS px = 30 pt


def test_render_refuses_fetches_nested_in_data_urls(listener: Listener, secret: Secret) -> None:
    h, s = listener.base, secret.uri
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' "
        "width='20' height='20'>"
        f"<image href='{h}/nested-svg.png' width='10' height='10'/>"
        f"<image xlink:href='{s}' width='10' height='10'/></svg>"
    )
    css = f"@import url('{h}/nested-import.css'); @import url('{s}');"
    html = f"""<html lang="en"><head>
<link rel="stylesheet" href="data:text/css,{quote(css)}">
</head><body><p>Nested</p>
<img src="data:image/svg+xml,{quote(svg)}" alt="">
</body></html>"""
    result = pdf.render(html, DEFAULT_RESOURCES)
    assert listener.requests == []
    assert_marker_absent(result.data, secret.marker)
    assert f"{h}/nested-import.css" in result.refused_urls


def test_render_refuses_symlink_out_of_an_allowed_folder(tmp_path: Path, secret: Secret) -> None:
    resources = Resources(tmp_path)
    allowed = resources.styles
    allowed.mkdir()
    (allowed / "real.css").write_text("h1 { font-size: 30pt; }", encoding="utf-8")
    (allowed / "link.css").symlink_to(secret.path)
    html = f"""<html lang="en"><head>
<link rel="stylesheet" href="{(allowed / "real.css").as_uri()}">
<link rel="stylesheet" href="{(allowed / "link.css").as_uri()}">
</head><body><h1>Symlinked</h1></body></html>"""
    result = pdf.render(html, resources)
    assert_marker_absent(result.data, secret.marker)
    assert result.refused_urls == ((allowed / "link.css").as_uri(),)
    with pdfplumber.open(io.BytesIO(result.data)) as doc:
        sizes = {round(c["size"]) for c in doc.pages[0].chars}
    assert sizes == {30}  # the real stylesheet inside the folder was served


# --------------------------------------------------------------------------- (c) is_allowed


@pytest.fixture(scope="module")
def fetcher() -> pdf.RestrictedFetcher:
    return pdf.RestrictedFetcher(DEFAULT_RESOURCES.readable_dirs)


def test_allowed_file_in_styles_exists() -> None:
    assert (STYLES / "handout.css").is_file()


@pytest.mark.parametrize(
    "url",
    [
        "data:,hello",
        "data:text/css,h1%7Bcolor:red%7D",
        png_data_url(1, 1),
        (STYLES / "handout.css").as_uri(),
        f"file://localhost{(STYLES / 'handout.css').as_posix()}",
    ],
    ids=["data-plain", "data-css", "data-png", "styles-file", "styles-file-localhost"],
)
def test_is_allowed_yes(fetcher: pdf.RestrictedFetcher, url: str) -> None:
    assert fetcher.is_allowed(url) is True


@pytest.mark.parametrize(
    "url",
    [
        (DEFAULT_RESOURCES.root / "pyproject.toml").as_uri(),
        "file:///etc/passwd",
        f"{STYLES.as_uri()}/../pyproject.toml",
        f"{STYLES.as_uri()}/%2e%2e/pyproject.toml",
        f"{STYLES.as_uri()}/../../main/pyproject.toml",
        f"{STYLES.as_uri()}/missing.css",
        f"file://otherhost{(STYLES / 'handout.css').as_posix()}",
        f"file://127.0.0.1{(STYLES / 'handout.css').as_posix()}",
        "http://127.0.0.1/styles/handout.css",
        "http://localhost:8000/x.css",
        "https://example.com/x.css",
        "ftp://example.com/x.css",
        "HTTP://example.com/x.css",
        "javascript:alert(1)",
        "about:blank",
        "",
    ],
    ids=[
        "outside-roots",
        "etc-passwd",
        "traversal",
        "traversal-encoded",
        "traversal-deep",
        "missing-file",
        "other-host",
        "ip-host",
        "http-loopback",
        "http-localhost",
        "https",
        "ftp",
        "http-uppercase",
        "javascript",
        "about",
        "empty",
    ],
)
def test_is_allowed_no(fetcher: pdf.RestrictedFetcher, url: str) -> None:
    assert fetcher.is_allowed(url) is False


@pytest.mark.parametrize(
    "suffix",
    ["/%00/handout.css", "/" + "a" * 300 + ".css"],
    ids=["nul-byte", "name-too-long"],
)
def test_is_allowed_no_for_malformed_paths(fetcher: pdf.RestrictedFetcher, suffix: str) -> None:
    # A URL no file can match is refused (and so reported), not an exception.
    url = STYLES.as_uri() + suffix
    assert fetcher.is_allowed(url) is False
    with pytest.raises(pdf.FetchRefused):
        fetcher.fetch(url)
    assert url in fetcher.refused


@pytest.fixture
def tmp_roots(tmp_path: Path, secret: Secret) -> tuple[pdf.RestrictedFetcher, Path]:
    allowed = tmp_path / "styles"
    copy = allowed / "handout.css"
    allowed.mkdir()
    copy.write_bytes((STYLES / "handout.css").read_bytes())
    (allowed / "inside-link.css").symlink_to(copy)
    (allowed / "outside-link.css").symlink_to(secret.path)
    (allowed / "outside-dir").symlink_to(secret.path.parent, target_is_directory=True)
    (allowed / "nested").mkdir()
    (allowed / "nested" / "up.css").symlink_to(Path("..") / ".." / "private" / "secret.css")
    return pdf.RestrictedFetcher([allowed]), allowed


def test_is_allowed_with_tmp_root(tmp_roots: tuple[pdf.RestrictedFetcher, Path]) -> None:
    fetcher, allowed = tmp_roots
    assert fetcher.is_allowed((allowed / "handout.css").as_uri())
    assert fetcher.is_allowed((allowed / "inside-link.css").as_uri())
    # The project's own folders are not roots of this fetcher.
    assert not fetcher.is_allowed((STYLES / "handout.css").as_uri())


@pytest.mark.parametrize(
    "relative",
    ["outside-link.css", "outside-dir/secret.css", "nested/up.css", "../private/secret.css"],
)
def test_is_allowed_refuses_symlinks_and_paths_out_of_the_root(
    tmp_roots: tuple[pdf.RestrictedFetcher, Path], secret: Secret, relative: str
) -> None:
    fetcher, allowed = tmp_roots
    url = f"{allowed.as_uri()}/{relative}"
    assert secret.path.samefile(allowed / relative)  # it really leads to the secret
    assert fetcher.is_allowed(url) is False


def test_fetch_serves_allowed_and_records_refused(
    tmp_roots: tuple[pdf.RestrictedFetcher, Path], secret: Secret
) -> None:
    fetcher, allowed = tmp_roots
    response = fetcher.fetch((allowed / "handout.css").as_uri())
    try:
        assert b"DejaVu Sans" in response.read()
    finally:
        response.close()
    with pytest.raises(pdf.FetchRefused):
        fetcher.fetch((allowed / "outside-link.css").as_uri())
    with pytest.raises(pdf.FetchRefused):
        fetcher.fetch("http://127.0.0.1:9/x.css")
    assert fetcher.refused == [(allowed / "outside-link.css").as_uri(), "http://127.0.0.1:9/x.css"]
