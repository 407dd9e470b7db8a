"""HTML to PDF with WeasyPrint: the only module that imports it.

Monograph text is untrusted, and WeasyPrint's default fetcher reads ``file://``
URLs and makes HTTP requests. Everything WeasyPrint loads therefore goes
through :class:`RestrictedFetcher`, which serves ``data:`` URLs and files
inside the project's own templates/styles/assets folders and refuses the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint

from medpdf.markdown import is_allowed_link

LOGGER = logging.getLogger(__name__)

# Options that are security decisions, not styling: kept in one place.
_SAFE_OPTIONS: dict[str, Any] = {
    "presentational_hints": False,
    "attachments": None,
    "custom_metadata": False,
}


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


def _is_safe_link(kind: str, target: str) -> bool:
    return kind == "internal" or (kind == "external" and is_allowed_link(target))


@dataclass(frozen=True)
class PdfResult:
    """A rendered PDF and what WeasyPrint was refused while making it."""

    data: bytes
    page_count: int
    refused_urls: tuple[str, ...]


def render(html: str, base_dir: Path, allowed_dirs: Iterable[Path]) -> PdfResult:
    """Lay out one HTML document and return the PDF bytes.

    ``base_dir`` resolves the template's relative links (``styles/…``); content
    cannot add any, as the sanitizer drops every fetching element.
    """
    fetcher = RestrictedFetcher(allowed_dirs)
    document = weasyprint.HTML(
        string=html, base_url=base_dir.resolve().as_uri() + "/", url_fetcher=fetcher
    ).render(**_SAFE_OPTIONS)
    # Belt and braces: no embedded files and no javascript:/file: links, whatever the
    # HTML asked for; in-document anchors and the sanitizer's link schemes stay.
    document.metadata.attachments = []
    for page in document.pages:
        page.links[:] = [link for link in page.links if _is_safe_link(link[0], link[1])]
    data = document.write_pdf(**_SAFE_OPTIONS)
    return PdfResult(data=data, page_count=len(document.pages), refused_urls=tuple(fetcher.refused))
