"""The stylesheet links in a document's ``<head>``, as medpdf's own templates write them.

Typesetting hands WeasyPrint the project's stylesheets parsed once per process
(:mod:`.typeset`), so it takes their links out of the document first; a
two-sided booklet adds one to start a document on a left-hand page. Plain text
work on the HTML, kept apart from WeasyPrint.
"""

from __future__ import annotations

import re
from pathlib import Path

from medpdf.settings.config import Resources

#: ``<link rel="stylesheet" href="...">`` as medpdf's own templates write it.
_LINK = re.compile(r'<link rel="stylesheet" href="([^"<>]+)">')


def take_own(html: str, resources: Resources) -> tuple[str, list[Path]]:
    """The document without its links to files in the styles folder, and those files in order.

    Any other link is left in place, for the fetcher to decide on as for any other URL.
    """
    head_end = html.find("</head>")
    if head_end < 0:
        return html, []
    head = html[:head_end]
    styles = resources.styles.resolve()
    found: list[Path] = []
    for href in _LINK.findall(head):
        path = (resources.root / href).resolve()
        if path.is_relative_to(styles) and path.is_file():
            found.append(path)
            head = head.replace(f'<link rel="stylesheet" href="{href}">', "", 1)
    return head + html[head_end:], found


def with_link(html: str, href: str) -> str:
    """``html`` with one more stylesheet link, last in its head (so it wins the cascade)."""
    head_end = html.find("</head>")
    if head_end < 0:
        raise ValueError("a document without <head>")
    return f'{html[:head_end]}<link rel="stylesheet" href="{href}">\n{html[head_end:]}'
