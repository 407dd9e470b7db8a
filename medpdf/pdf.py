"""HTML to PDF with WeasyPrint: the only module that imports it.

Monograph text is untrusted, and WeasyPrint's default fetcher reads ``file://``
URLs and makes HTTP requests. Everything WeasyPrint loads therefore goes
through :class:`RestrictedFetcher`, which serves ``data:`` URLs and files
inside the project's own templates/styles/assets folders and refuses the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint
from weasyprint.text.fonts import FontConfiguration

from medpdf.config import CROSS_DOCUMENT_SCHEME
from medpdf.markdown import is_allowed_link

LOGGER = logging.getLogger(__name__)

# Options that are security decisions, not styling: kept in one place.
_SAFE_OPTIONS: dict[str, Any] = {
    "presentational_hints": False,
    "attachments": None,
    "custom_metadata": False,
}

# Tagged PDF/UA-1: a structure tree, /MarkInfo and /Lang from <html lang>, the
# <title> shown as the window title, so screen readers can read the handout.
_ACCESSIBLE_OPTIONS: dict[str, Any] = {"pdf_variant": "pdf/ua-1"}


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


def _write(
    document: Any, options: dict[str, Any] | None = None, cross_document: bool = False
) -> bytes:
    # Belt and braces: no embedded files and no javascript:/file: links, whatever the
    # HTML asked for; in-document anchors and the sanitizer's link schemes stay.
    document.metadata.attachments = []
    for page in document.pages:
        page.links[:] = [
            link for link in page.links if _is_safe_link(link[0], link[1], cross_document)
        ]
    data: bytes = document.write_pdf(**(options or {}), **_SAFE_OPTIONS)
    return data


def render(html: str, base_dir: Path, allowed_dirs: Iterable[Path]) -> PdfResult:
    """Lay out one HTML document and return the PDF bytes.

    ``base_dir`` resolves the template's relative links (``styles/…``); content
    cannot add any, as the sanitizer drops every fetching element.
    """
    fetcher = RestrictedFetcher(allowed_dirs)
    document = weasyprint.HTML(
        string=html, base_url=base_dir.resolve().as_uri() + "/", url_fetcher=fetcher
    ).render(**_ACCESSIBLE_OPTIONS, **_SAFE_OPTIONS)
    data = _write(document, _ACCESSIBLE_OPTIONS)
    return PdfResult(data=data, page_count=len(document.pages), refused_urls=tuple(fetcher.refused))


@dataclass(frozen=True)
class CombinedResult:
    """Several documents laid out separately and written as one PDF."""

    data: bytes
    page_counts: tuple[int, ...]
    refused_urls: tuple[str, ...]


def render_combined(
    htmls: Sequence[str], base_dir: Path, allowed_dirs: Iterable[Path]
) -> CombinedResult:
    """Lay out each document on its own, then write all their pages as one PDF.

    Each document keeps its own page counters (a drug's "page x of y"), while
    the chunk shares one set of font subsets instead of one per document.
    """
    if not htmls:
        raise ValueError("nothing to render")
    fetcher = RestrictedFetcher(allowed_dirs)
    fonts = FontConfiguration()
    base_url = base_dir.resolve().as_uri() + "/"
    documents = [
        weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
            font_config=fonts, **_SAFE_OPTIONS
        )
        for html in htmls
    ]
    pages = [page for document in documents for page in document.pages]
    data = _write(documents[0].copy(pages), cross_document=True)
    return CombinedResult(
        data=data,
        page_counts=tuple(len(d.pages) for d in documents),
        refused_urls=tuple(fetcher.refused),
    )
