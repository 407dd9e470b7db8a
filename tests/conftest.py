"""Shared test helpers.

Tests that need the real collection use the ``corpus_dir`` fixture, which skips
cleanly when ``../shared/corpus`` is absent (a user's fresh clone). The security
tests share a loopback ``listener`` that records every request, a ``secret`` file
holding a unique marker, and PDF checks that look for either.
"""

from __future__ import annotations

import datetime as dt
import http.server
import io
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pdfplumber
import pikepdf
import pypdf
import pytest
from click.testing import CliRunner, Result

# The private CUPS scheduler fixture, for the printing tests of the CLI and the station.
from private_cups import cups  # noqa: F401

from medpdf.cli import cli
from medpdf.content import markdown

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MEDPDF_CORPUS", REPO.parent / "shared" / "corpus"))


# --------------------------------------------------------------------------- tiers

#: Fixtures whose tests get the marker of the same tier, wherever they are.
FIXTURE_TIERS = {"cups": "cups", "corpus_dir": "corpus"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it needs, so ``-m`` can pick a tier (see pyproject.toml).

    A test that uses the private CUPS or the real corpus, even through another
    fixture, is marked ``cups`` or ``corpus``; modules mark the rest themselves
    (``browser``, ``cluster``, ``slow``). ``make test-fast`` leaves all five out.
    """
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in FIXTURE_TIERS:
                item.add_marker(FIXTURE_TIERS[fixture])


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session", autouse=True)
def private_config_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The station's default users file lives under XDG_CONFIG_HOME: never the real one."""
    saved = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config-home"))
    yield
    if saved is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = saved


#: The day every PDF of the suite is printed on, unless a test picks its own (noon UTC).
PRINTED_ON = dt.date(2029, 9, 30)


@pytest.fixture(scope="session", autouse=True)
def fixed_printing_date() -> Iterator[None]:
    """Every PDF gives the same printing date, whatever the clock says.

    The date is laid out with the rest of a page: a longer month name can move a
    line or page break, and two builds either side of midnight would differ. The
    commands (and the station and build processes the tests start, which inherit
    the environment) read it from ``SOURCE_DATE_EPOCH``.
    """
    noon = dt.datetime.combine(PRINTED_ON, dt.time(12), tzinfo=dt.UTC)
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    # A date given for the run (reproducible-build set-ups export one) is fixed too: keep it.
    if not saved:
        os.environ["SOURCE_DATE_EPOCH"] = str(int(noon.timestamp()))
    yield
    if saved is None:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
    else:
        os.environ["SOURCE_DATE_EPOCH"] = saved


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS.is_dir() and any(CORPUS.glob("*/*.md"))):
        pytest.skip(f"real corpus not found at {CORPUS}")
    return CORPUS


def write_monograph(folder: Path, slug: str, text: str) -> Path:
    """Write a fixture monograph and return its path."""
    path = folder / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """---
layout: minimal-medicine
title: {title}
---

# {title}
### Generic Name
{title}

### Usage
{title} treats an imaginary condition.

### Dosage
One tablet daily.

### Side Effects
Drowsiness.

### How it Works
It binds to a receptor.

### Precautions
Avoid alcohol.

### FAQs
**Q: Is this real?**

A: No, it is a test fixture.

**Disclaimer:** Fixture disclaimer for {title}.
"""


# --------------------------------------------------------------------------- command line


def invoke_cli(*args: str) -> Result:
    """Run ``medpdf ARGS`` in-process; whatever it prints, never a traceback."""
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# --------------------------------------------------------------------------- listener


@dataclass
class Listener:
    """A loopback HTTP server that answers everything and remembers it."""

    server: http.server.ThreadingHTTPServer
    requests: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


@pytest.fixture
def listener() -> Iterator[Listener]:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(f"{self.command} {self.path}")
            body = b"p::after { content: 'HTTP-REACHED' }"
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Listener(server, seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --------------------------------------------------------------------------- secret


@dataclass(frozen=True)
class Secret:
    path: Path
    marker: str

    @property
    def uri(self) -> str:
        return self.path.as_uri()


@pytest.fixture
def secret(tmp_path: Path) -> Secret:
    marker = f"MEDPDF-SECRET-{uuid.uuid4().hex}"
    path = tmp_path / "private" / "secret.css"
    path.parent.mkdir()
    # Valid CSS, so loading it as a stylesheet would print the marker; as an
    # attachment or image its bytes would be embedded.
    path.write_text(f"/* {marker} */\nbody::after {{ content: '{marker}'; }}\n", encoding="utf-8")
    return Secret(path, marker)


# --------------------------------------------------------------------------- PDF checks


def pdf_texts(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as doc:
        return "\n".join(page.extract_text() or "" for page in doc.pages)


def normalise(text: str) -> str:
    """``text`` with every run of whitespace as one space (PDF text breaks lines anywhere)."""
    return " ".join(text.split())


def squeezed(text: str) -> str:
    """``text`` without any whitespace: for phrases a line may break inside of.

    Lines break at spaces, but also after a ``/`` or ``-`` (a URL, a path, a markup
    fragment), where extraction then adds a space :func:`normalise` keeps.
    """
    return "".join(text.split())


def normalised_page_texts(source: bytes | Path) -> list[str]:
    """Each page's extracted text (pypdf, strict), whitespace-normalised.

    Where a line breaks depends on everything printed before it (a temporary
    path, a date), so compare phrases against this, normalised the same way
    (:func:`normalise`), never against the raw extraction.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    return [
        normalise(page.extract_text() or "") for page in pypdf.PdfReader(stream, strict=True).pages
    ]


def normalised_text(source: bytes | Path) -> str:
    """The whole document's normalised text, pages joined by one space."""
    return " ".join(normalised_page_texts(source))


def pypdf_text(data: bytes) -> str:
    """Text as pypdf extracts it: a second extractor, and faster than pdfplumber."""
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def assert_marker_absent(data: bytes, marker: str, text: str | None = None) -> None:
    """The marker is in no raw byte, no extracted text, no decoded stream and no PDF string."""
    needle = marker.encode()
    assert needle not in data
    assert marker not in (pypdf_text(data) if text is None else text)
    with pikepdf.open(io.BytesIO(data)) as doc:
        for obj in doc.objects:  # every stream is an indirect object
            if isinstance(obj, pikepdf.Stream):
                try:
                    decoded = obj.read_bytes()
                except pikepdf.PdfError:
                    decoded = obj.read_raw_bytes()
                assert needle not in decoded, f"marker in stream {obj.objgen}"
        for dictionary in pdf_dictionaries(doc):
            for key, value in dictionary.items():
                assert marker not in key
                values = value if isinstance(value, pikepdf.Array) else [value]
                for item in values:
                    if isinstance(item, pikepdf.String):
                        assert needle not in bytes(item), f"marker in {key}"


def assert_no_embedded_files(data: bytes) -> None:
    """No /EmbeddedFiles name tree, no file specifications, no file attachment annotations."""
    with pikepdf.open(io.BytesIO(data)) as doc:
        names = doc.Root.get("/Names")
        assert names is None or "/EmbeddedFiles" not in names
        assert len(doc.attachments) == 0
        for page in doc.pages:
            for annot in page.get("/Annots", []):
                assert annot.get("/Subtype") != "/FileAttachment"
        for obj in pdf_dictionaries(doc):
            assert obj.get("/Type") not in ("/EmbeddedFile", "/Filespec")
            assert obj.get("/Subtype") != "/FileAttachment"
            assert "/EF" not in obj and "/EmbeddedFiles" not in obj


_ACTIVE_KEYS = ("/JS", "/JavaScript", "/AA", "/OpenAction", "/Launch", "/XFA", "/AcroForm")
_ACTIVE_ACTIONS = ("/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE")


def pdf_dictionaries(doc: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary | pikepdf.Stream]:
    """Every dictionary in the file, direct ones nested in arrays and dictionaries included."""
    seen: set[tuple[int, int]] = set()
    todo: list[object] = [doc.trailer, *doc.objects]
    while todo:
        obj = todo.pop()
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream | pikepdf.Array):
            if obj.is_indirect:
                if obj.objgen in seen:
                    continue
                seen.add(obj.objgen)
            if isinstance(obj, pikepdf.Array):
                todo.extend(obj)
            else:
                yield obj
                todo.extend(obj.values())


def assert_no_active_content(data: bytes) -> None:
    """No scripts, automatic actions, forms or links other than http(s)/mailto in the PDF."""
    with pikepdf.open(io.BytesIO(data)) as doc:
        for obj in pdf_dictionaries(doc):
            for key in _ACTIVE_KEYS:
                assert key not in obj, (key, obj)
            assert obj.get("/S") not in _ACTIVE_ACTIONS, obj
            assert obj.get("/Subtype") != "/FileAttachment"
            if "/URI" in obj:
                uri = str(obj["/URI"]).strip().lower()
                assert uri.startswith(("http://", "https://", "mailto:")), uri


def assert_pdf_safe(data: bytes, marker: str, text: str | None = None) -> None:
    """Every check a PDF built from hostile content must pass (``text``: already extracted)."""
    assert data.startswith(b"%PDF-")
    assert_marker_absent(data, marker, text)
    assert_no_embedded_files(data)
    assert_no_active_content(data)


# --------------------------------------------------------------------------- HTML checks


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every real element in ``html`` (escaped text such as ``&lt;img&gt;`` is not one)."""
    collector = _TagCollector()
    collector.feed(html)
    collector.close()
    assert collector.comments == []
    return collector.tags


def assert_safe(html: str) -> None:
    """Only allow-listed elements, no event handlers, no styles, only safe links."""
    for tag, attrs in tags_of(html):
        assert tag in markdown.ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, html)
            assert name in {"href", "title", "start", "align"}, (tag, name, html)
            if name == "href":
                assert tag == "a"
                assert value is not None
                assert value.split(":", 1)[0].lower() in {"http", "https", "mailto"}, html


def assert_pdfua_clean(path: Path) -> None:
    """The pdfua checker (16 PDF/UA rules) finds nothing in ``path``, not even a warning."""
    done = subprocess.run(
        [sys.executable, "-m", "pdfua", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[WARN" not in done.stdout, done.stdout
