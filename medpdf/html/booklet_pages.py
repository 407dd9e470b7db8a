"""The booklet's own pages as HTML: cover, contents, ingredient index, and the blank page.

The lines they show (:class:`TocGroup`, :class:`IndexGroup`, ...) carry
literal page numbers, known after a first layout; their links use the PDF
stage's private scheme (:data:`medpdf.pdf.CROSS_DOCUMENT_SCHEME`), which
turns them into destinations once the parts are merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from medpdf.content.model import Monograph
from medpdf.html.templating import booklet_page_options, environment_for, monograph_view
from medpdf.pdf import CROSS_DOCUMENT_SCHEME
from medpdf.settings.config import Config
from medpdf.settings.options import CONTENT_LANG


@dataclass(frozen=True)
class TocEntry:
    """One line of the booklet's contents."""

    slug: str
    title: str
    page: int


@dataclass(frozen=True)
class TocGroup:
    """The contents lines under one letter."""

    letter: str
    entries: tuple[TocEntry, ...]


@dataclass(frozen=True)
class BookletInfo:
    """What the booklet's (or a volume's) cover says about it."""

    title: str
    clinic: str | None
    count: int
    #: Volume number and count; 0 for a booklet in one volume.
    volume: int = 0
    volumes: int = 0
    #: The volume's range of monographs: "Cefaclor - Dexamethasone" (en dash);
    #: empty for a volume of the index alone.
    span: str = ""


@dataclass(frozen=True)
class VolumeLine:
    """One line of the master contents in volume 1: a volume and its range."""

    number: int
    span: str
    file_name: str


@dataclass(frozen=True)
class Ref:
    """One monograph under an ingredient of the index: where it starts."""

    slug: str
    title: str
    page: int
    #: Volume number, or 0 for a booklet in one volume.
    volume: int = 0


@dataclass(frozen=True)
class IndexEntry:
    """One ingredient and every monograph that contains it, alphabetical by title."""

    key: str
    name: str
    refs: tuple[Ref, ...]


@dataclass(frozen=True)
class IndexGroup:
    """The index entries under one letter."""

    letter: str
    entries: tuple[IndexEntry, ...]


def render_booklet_front(
    part: str,
    toc: tuple[TocGroup, ...],
    first: bool,
    info: BookletInfo,
    config: Config,
    volumes: tuple[VolumeLine, ...] = (),
) -> str:
    """One part of the booklet's front pages: ``cover``, or the ``contents``.

    ``volumes`` (volume 1 of a booklet in volumes) adds the master contents to the cover part.
    """
    page = booklet_page_options(config)
    template = environment_for(config, page.lang).get_template("booklet-front.html.j2")
    return template.render(
        part=part,
        toc=toc,
        first=first,
        booklet=info,
        page=page,
        link=CROSS_DOCUMENT_SCHEME,
        volumes=volumes,
    )


def render_booklet_index(
    groups: tuple[IndexGroup, ...], first: bool, info: BookletInfo, config: Config
) -> str:
    """Letters of the ingredient index at the back of the booklet (or of its last volume)."""
    page = booklet_page_options(config)
    template = environment_for(config, page.lang).get_template("booklet-index.html.j2")
    return template.render(
        groups=groups, first=first, booklet=info, page=page, link=CROSS_DOCUMENT_SCHEME
    )


def booklet_blank_html(config: Config) -> str:
    """The left-hand page left empty before a monograph in a duplex booklet, marked as such."""
    page = booklet_page_options(config)
    template = environment_for(config, page.lang).get_template("booklet-blank.html.j2")
    return template.render(page=page)


def compact_run_html(monographs: Sequence[Monograph], letter: str, config: Config) -> str:
    """Monographs of the compact booklet running on in two columns, as one document.

    ``letter`` is the A-Z group the run opens ("" when it goes on with one). The
    run speaks the booklet's language (its monographs are all in it).
    """
    page = booklet_page_options(config)
    template = environment_for(config, page.lang).get_template("booklet-compact.html.j2")
    drugs = [monograph_view(m, lang=m.lang or config[CONTENT_LANG]) for m in monographs]
    return template.render(drugs=drugs, letter=letter, page=page)
