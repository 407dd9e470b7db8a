"""HTML to PDF with WeasyPrint: the only module that imports it.

Monograph text is untrusted, and WeasyPrint's default fetcher reads ``file://``
URLs and makes HTTP requests. Everything WeasyPrint loads therefore goes
through :class:`RestrictedFetcher`, which serves ``data:`` URLs and files
inside the project's own templates/styles/assets folders and refuses the rest.

The stylesheets a template links in its ``<head>`` are parsed once per process
and handed to WeasyPrint as parsed objects, in the same order: re-parsing them
cost about 20 ms of a 155 ms handout, and a booklet chunk parsed them once per
monograph. They apply as the only stylesheets besides WeasyPrint's own
defaults, so the cascade among them is unchanged. Every document a thread lays
out shares one font configuration (:func:`_fonts`).
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from medpdf.content.markdown import is_allowed_link
from medpdf.pdf import CROSS_DOCUMENT_SCHEME, archival, parttags, serialize, sheets
from medpdf.pdf.libraries import linker_cache_lookup
from medpdf.settings.config import Resources

with linker_cache_lookup():  # 150-200 ms of child processes less per process
    import pydyf
    import weasyprint
    import weasyprint.pdf
    from weasyprint.formatting_structure.boxes import MarginBox
    from weasyprint.pdf.metadata import DocumentMetadata
    from weasyprint.pdf.tags import _build_box_tree
    from weasyprint.text.fonts import FontConfiguration

LOGGER = logging.getLogger(__name__)

# Options that are security decisions, not styling: kept in one place.
_SAFE_OPTIONS: dict[str, Any] = {
    "presentational_hints": False,
    "attachments": None,
    "custom_metadata": False,
}

# Tagged PDF/UA-1 (a structure tree, /MarkInfo and /Lang from <html lang>, the
# <title> shown as the window title, so screen readers can read the handout) and
# archival PDF/A-2a at once: WeasyPrint's pdf/a-2a variant tags the file as its
# pdf/ua-1 does; medpdf.pdf.archival then adds the PDF/UA-1 identification.
_HANDOUT_OPTIONS: dict[str, Any] = {"pdf_variant": archival.VARIANT}
# A booklet part only needs its tags: the merged file gets its own metadata.
_TAGGED_OPTIONS: dict[str, Any] = {"pdf_tags": True, "pdf_version": "1.7"}
_UNTAGGED_OPTIONS: dict[str, Any] = {"pdf_version": "1.7"}


class FetchRefused(ValueError):
    """Raised inside WeasyPrint for a URL outside the allow list; WeasyPrint logs and skips it."""


class RestrictedFetcher(weasyprint.URLFetcher):  # type: ignore[misc]
    """Serve ``data:`` URLs and files under the allowed folders; refuse everything else."""

    def __init__(self, allowed_dirs: Iterable[Path]) -> None:
        super().__init__(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False)
        self._roots = tuple(d.resolve() for d in allowed_dirs)
        self.refused: list[str] = []

    def is_allowed(self, url: str) -> bool:
        """Decide without touching the network or any file outside the roots."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return True
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        try:
            path = Path(url2pathname(parts.path))
            if not path.is_absolute():
                return False
            path = path.resolve()
            return any(path.is_relative_to(root) for root in self._roots) and path.is_file()
        except (OSError, ValueError):  # NUL bytes, over-long names: not a file we serve
            return False

    def fetch(self, url: str, headers: Any = None) -> Any:
        """Fetch an allowed URL or raise :class:`FetchRefused`."""
        if not self.is_allowed(url):
            self.refused.append(url)
            # INFO: the build reports refusals per monograph; -v shows them as they happen.
            LOGGER.info("refused to fetch %s (only project styles and assets)", url[:200])
            raise FetchRefused(f"medpdf does not fetch {url[:200]}")
        return super().fetch(url, headers)


def _is_safe_link(kind: str, target: str, cross_document: bool) -> bool:
    if kind == "internal":
        return True
    if kind != "external":
        return False
    return is_allowed_link(target) or (cross_document and target.startswith(CROSS_DOCUMENT_SCHEME))


@dataclass(frozen=True)
class PdfResult:
    """A rendered PDF and what WeasyPrint was refused while making it."""

    data: bytes
    page_count: int
    refused_urls: tuple[str, ...]


class _AccessibleMetadata(DocumentMetadata):  # type: ignore[misc]
    """WeasyPrint's metadata, whose XMP also declares PDF/UA-1 (see :mod:`.archival`)."""

    def generate_rdf_metadata(self, variant: str, version: int, conformance: str) -> bytes:
        """WeasyPrint's ``rdf:RDF`` element with ``pdfuaid:part`` added."""
        rdf: bytes = super().generate_rdf_metadata(variant, version, conformance)
        return archival.declare_accessible(rdf)


def _write(
    document: Any, options: dict[str, Any] | None = None, cross_document: bool = False
) -> bytes:
    if (options or {}).get("pdf_variant") == archival.VARIANT:  # PDF/A-2a and PDF/UA-1
        document.metadata = _AccessibleMetadata(**vars(document.metadata))
    # Belt and braces: no embedded files and no javascript:/file: links, whatever the
    # HTML asked for; in-document anchors and the sanitizer's link schemes stay.
    document.metadata.attachments = []
    for page in document.pages:
        page.links[:] = [
            link for link in page.links if _is_safe_link(link[0], link[1], cross_document)
        ]
    data: bytes = document.write_pdf(finisher=serialize.once, **(options or {}), **_SAFE_OPTIONS)
    return data


@functools.cache
def _stylesheet(path: str, size: int, mtime_ns: int, fetcher_roots: tuple[Path, ...]) -> Any:
    """One parsed stylesheet, kept until the file changes."""
    return weasyprint.CSS(filename=path, url_fetcher=RestrictedFetcher(fetcher_roots))


def _version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


_THREAD = threading.local()


def _fonts() -> Any:
    """The calling thread's WeasyPrint font configuration (a Pango font map), made once.

    A new one per document (WeasyPrint's default) loads and matches every font
    afresh: a handout took 300-320 ms of CPU instead of 230-270. Per thread, as a
    font map must not be used by two threads at once. medpdf's stylesheets
    declare no ``@font-face``: the configuration holds only system fonts.
    """
    fonts = getattr(_THREAD, "fonts", None)
    if fonts is None:
        fonts = _THREAD.fonts = FontConfiguration()
    return fonts


def _document(html: str, resources: Resources, fetcher: RestrictedFetcher, **options: Any) -> Any:
    body, paths = sheets.take_own(html, resources)
    parsed = [_stylesheet(str(path), *_version(path), resources.readable_dirs) for path in paths]
    base_url = resources.root.resolve().as_uri() + "/"
    return weasyprint.HTML(string=body, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=parsed, font_config=_fonts(), **options, **_SAFE_OPTIONS
    )


def render(html: str, resources: Resources) -> PdfResult:
    """Lay out one HTML document and return the PDF bytes.

    Relative links of the template (``styles/…``) resolve against the resources
    root; content cannot add any, as the sanitizer drops every fetching element.
    """
    fetcher = RestrictedFetcher(resources.readable_dirs)
    document = _document(html, resources, fetcher, **_HANDOUT_OPTIONS)
    data = _scoped(_write(document, _HANDOUT_OPTIONS), [html])
    return PdfResult(data=data, page_count=len(document.pages), refused_urls=tuple(fetcher.refused))


def _scoped(data: bytes, htmls: Sequence[str]) -> bytes:
    """``data`` with its header cells scoped, when a document has any (pikepdf: 16 ms)."""
    if not any("<th" in html for html in htmls):
        return data
    from medpdf.pdf import structure

    return structure.scope_headers(data)


def _add_margin_boxes(pages: Sequence[Any], strip: Sequence[Any]) -> None:
    """Draw each strip page's margin boxes on the page of the same number.

    WeasyPrint 70 (pinned) keeps a laid-out page's boxes in ``Page._page_box``; its
    margin boxes are placed on the page, so they fit any page of the same size. A
    stamp drawn over the written PDF instead embedded a second subset of the same
    font under the same name, which CUPS' pdftocairo step turned into Type 3 glyphs
    without text ("Page 1 o").
    """
    if len(strip) != len(pages):
        raise ValueError(f"{len(strip)} pages of page numbers for {len(pages)} pages")
    for page, numbers in zip(pages, strip, strict=True):
        if (page.width, page.height) != (numbers.width, numbers.height):
            raise ValueError("page numbers laid out for another paper size")
        margins = [box for box in numbers._page_box.children if isinstance(box, MarginBox)]
        page._page_box.children = [*page._page_box.children, *margins]


@dataclass(frozen=True)
class CombinedResult:
    """Several documents laid out separately and written as one PDF."""

    data: bytes
    page_counts: tuple[int, ...]
    refused_urls: tuple[str, ...]


def render_combined(
    htmls: Sequence[str],
    resources: Resources,
    *,
    accessible: bool = False,
    contents: bool = False,
    page_numbers: Callable[[int], str] | None = None,
    pad_html: str | None = None,
    verso_sheet: str | None = None,
    starts_on_verso: bool = False,
    tagged: bool = True,
) -> CombinedResult:
    """Lay out each document on its own, then write all their pages as one tagged PDF.

    Each document keeps its own page counters (a drug's "page x of y"), while
    the chunk shares one set of font subsets instead of one per document. By
    default the result is a booklet part, tagged, its tree kept as data for the
    booklet's structure merge (:mod:`.parttags`); ``contents`` says it is a
    contents part (its tables become a ``TOC``). For two-sided printing, a
    document that starts on a left-hand page (after an odd number of pages) is
    laid out with ``verso_sheet`` added (a stylesheet href that starts it on a
    verso: its first page gets the left page's margins), and with ``pad_html``
    (a duplex booklet's blank page) the whole is padded to an even page count,
    so that whatever follows starts on a right-hand page (``starts_on_verso``:
    the part itself begins on a left-hand page, after an odd part it runs on
    from); the last document's count then includes the blank. Only the part's
    end is padded, never each document: a blank page after every
    monograph of odd length made 15 % of a duplex booklet blank. ``accessible`` makes
    the whole what a handout is instead, tagged PDF/UA-1 and PDF/A-2a (a
    medication pack); its title and language are the first document's.

    ``page_numbers`` gives, for the total page count, the HTML of a document with
    as many pages whose margin boxes are added to the pages: numbers that run across
    the documents ("Page X of Y" in a pack), set in the same fonts and subsets and
    marked as artifacts like any margin box. ``tagged=False`` writes a booklet
    part without its structure tree (for a benchmark's untagged build).
    """
    if not htmls:
        raise ValueError("nothing to render")
    fetcher = RestrictedFetcher(resources.readable_dirs)
    options = _HANDOUT_OPTIONS if accessible else {}
    documents = []
    pages: list[Any] = []
    # Pages before this part's first: one when it starts on a left-hand page.
    before = int(starts_on_verso)
    for html in htmls:
        if verso_sheet is not None and (before + len(pages)) % 2:
            html = sheets.with_link(html, verso_sheet)
        documents.append(_document(html, resources, fetcher, **options))
        pages += documents[-1].pages
    counts = [len(d.pages) for d in documents]
    if pad_html is not None and (before + len(pages)) % 2:
        pages.append(_document(pad_html, resources, fetcher, **options).pages[0])
        counts[-1] += 1
    if page_numbers is not None:
        html = page_numbers(len(pages))
        strip = _document(html, resources, fetcher, **options)
        _add_margin_boxes(pages, strip.pages)
    if accessible:
        data = _scoped(_write(documents[0].copy(pages), options, cross_document=True), htmls)
    else:
        data = _part(documents[0].copy(pages), tagged, contents)
    return CombinedResult(
        data=data,
        page_counts=tuple(counts),
        refused_urls=tuple(fetcher.refused),
    )


#: Booklet parts being written, whose tags become data (True: a contents part).
_AS_DATA: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_ADD_TAGS = weasyprint.pdf.add_tags


class _Elements:
    """Stands in for the PDF while WeasyPrint builds a part's elements: they stay out of it.

    Also hands out the pages' references once: pydyf makes the tuple anew on each
    call, once per element, which made tagging quadratic in a chunk's pages.
    """

    def __init__(self, page_references: tuple[bytes, ...]) -> None:
        self.page_references = page_references
        self.objects: list[Any] = [None]  # numbered from 1, as in a PDF

    def add_object(self, element: Any) -> None:
        element.number = len(self.objects)
        self.objects.append(element)


def _add_tags(pdf: Any, document: Any, pdf_version: Any, page_streams: Any) -> None:
    """WeasyPrint's tagging step; a booklet part's tree goes to :mod:`.parttags` as data."""
    contents = _AS_DATA.get(document)
    if contents is None:
        _ADD_TAGS(pdf, document, pdf_version, page_streams)
        return
    elements = _Elements(pdf.page_references)
    root = pydyf.Dictionary({"Type": "/StructElem", "S": "/Document", "K": pydyf.Array()})
    elements.add_object(root)
    marks: list[dict[int, bytes]] = []  # per page: MCID -> element
    annotations: list[Any] = []
    for number, (page, stream) in enumerate(zip(document.pages, page_streams, strict=True)):
        marks.append({})
        for kid in _build_box_tree(
            page._page_box, root, elements, number, marks[-1], annotations, stream._tags
        ):
            root["K"].append(kid.reference)
    parttags.attach(pdf, elements.objects, root, marks, page_streams, contents)


# WeasyPrint 70 (pinned) calls its module's add_tags while writing a tagged PDF.
weasyprint.pdf.add_tags = _add_tags


def _part(document: Any, tagged: bool, contents: bool = False) -> bytes:
    """A booklet part's PDF: its structure tree as data for the merge, or untagged."""
    if not tagged:
        return _write(document, _UNTAGGED_OPTIONS, cross_document=True)
    _AS_DATA[document] = contents
    try:
        return _write(document, _TAGGED_OPTIONS, cross_document=True)
    finally:
        del _AS_DATA[document]


def render_run(
    html: str,
    resources: Resources,
    anchors: Sequence[str],
    *,
    pad_html: str | None = None,
    tagged: bool = True,
) -> CombinedResult:
    """Lay out one document holding several items one after another (a compact booklet's run).

    Each item starts where the anchor of the same place in ``anchors`` (an
    element id) falls; its count is the pages from there to the next item's
    start, so items that share a page count 0 and the counts add up to the
    document's pages (the first item counts from the first page). Written as a
    tagged booklet part, padded to an even count with ``pad_html`` if given.
    """
    if not anchors:
        raise ValueError("nothing to render")
    fetcher = RestrictedFetcher(resources.readable_dirs)
    document = _document(html, resources, fetcher)
    pages: list[Any] = list(document.pages)
    where: dict[str, int] = {}
    for number, page in enumerate(pages):
        for name in page.anchors:
            where.setdefault(name, number)
    missing = [name for name in anchors if name not in where]
    if missing:
        raise ValueError(f"anchors not laid out: {missing[:3]}")
    starts = [0, *(where[name] for name in anchors[1:])]
    if pad_html is not None and len(pages) % 2:
        pages.append(_document(pad_html, resources, fetcher).pages[0])
    counts = [stop - start for start, stop in zip(starts, [*starts[1:], len(pages)], strict=True)]
    return CombinedResult(
        data=_part(document.copy(pages), tagged),
        page_counts=tuple(counts),
        refused_urls=tuple(fetcher.refused),
    )
