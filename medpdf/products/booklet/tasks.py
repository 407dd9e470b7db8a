"""The worker side of the booklet: what a worker lays out, each part its own PDF.

A job carries everything it needs (the sources or the lines to show, the run)
and its cache key; the task returns the PDF's bytes (:class:`medpdf.run.Pdf`),
which :mod:`.parts` keeps in the store. Nothing here touches the output folder.
"""

from __future__ import annotations

from dataclasses import dataclass

from medpdf.content import model
from medpdf.content.ingredients import ingredients_of
from medpdf.content.sources import Source
from medpdf.html import booklet_pages, templating
from medpdf.products.booklet.plan import mirrored
from medpdf.run import Pdf, RunContext
from medpdf.settings.config import Config
from medpdf.settings.options import COMPACT


def _pad(config: Config) -> str | None:
    """The blank page that keeps every booklet part starting on a right-hand page (duplex)."""
    return booklet_pages.booklet_blank_html(config) if mirrored(config) else None


#: Added to a monograph that starts on a left-hand page of a duplex chunk.
VERSO_SHEET = "styles/booklet-verso.css"


def _verso(config: Config) -> str | None:
    """The sheet for a document that begins on a left-hand page: duplex only."""
    return VERSO_SHEET if mirrored(config) else None


@dataclass(frozen=True)
class EntriesJob:
    """Booklet entries laid out together as one PDF (a chunk)."""

    sources: tuple[Source, ...]
    #: The letter each entry opens ("" for none), one per source.
    letters: tuple[str, ...]
    context: RunContext
    key: str


def entries_task(job: EntriesJob) -> Pdf:
    """Lay out booklet entries, each its own document (its own "page x of y"), as one PDF.

    In the compact booklet they run on in one document instead.
    """
    from medpdf.pdf import typeset

    config = job.context.config
    monographs = [model.build(source) for source in job.sources]
    found = tuple(ingredients_of(m) for m in monographs)
    if config[COMPACT]:
        html = booklet_pages.compact_run_html(monographs, job.letters[0], config)
        anchors = [f"drug-{m.slug}" for m in monographs]
        run = typeset.render_run(
            html, config.resources, anchors, pad_html=_pad(config), tagged=job.context.tagged
        )
        return Pdf(run.data, run.page_counts, run.refused_urls, found)
    htmls = [
        templating.monograph_html(monograph, config, booklet_letter=letter)
        for monograph, letter in zip(monographs, job.letters, strict=True)
    ]
    # Monographs follow each other on either side (duplex); only the chunk's end is padded.
    result = typeset.render_combined(
        htmls,
        config.resources,
        pad_html=_pad(config),
        verso_sheet=_verso(config),
        tagged=job.context.tagged,
    )
    return Pdf(result.data, result.page_counts, result.refused_urls, found)


@dataclass(frozen=True)
class FrontJob:
    """One part of the booklet's front pages: the cover, or the contents."""

    part: str  # "cover" or "contents"
    toc: tuple[booklet_pages.TocGroup, ...]
    first: bool
    info: booklet_pages.BookletInfo
    context: RunContext
    key: str
    #: Volume 1 of a booklet in volumes: the master contents, on the cover part.
    volumes: tuple[booklet_pages.VolumeLine, ...] = ()
    #: Duplex: the part begins on a left-hand page (the contents part before it was odd).
    verso: bool = False
    #: Duplex: padded to an even count; only the front's last part is, so that
    #: the contents run on from part to part.
    pad: bool = True


def front_task(job: FrontJob) -> Pdf:
    """Lay out one front part."""
    from medpdf.pdf import typeset

    config = job.context.config
    html = booklet_pages.render_booklet_front(
        job.part, job.toc, job.first, job.info, config, job.volumes
    )
    result = typeset.render_combined(
        [html],
        config.resources,
        contents=job.part == "contents",
        pad_html=_pad(config) if job.pad else None,
        verso_sheet=_verso(config),
        starts_on_verso=job.verso,
        tagged=job.context.tagged,
    )
    return Pdf(result.data, result.page_counts, result.refused_urls)


@dataclass(frozen=True)
class IndexJob:
    """Letters of the booklet's ingredient index laid out together (page numbers known)."""

    groups: tuple[booklet_pages.IndexGroup, ...]
    first: bool
    info: booklet_pages.BookletInfo
    context: RunContext
    key: str
    #: Duplex: the part begins on a left-hand page (the index part before it was odd).
    verso: bool = False


def index_task(job: IndexJob) -> Pdf:
    """Lay out some letters of the ingredient index."""
    from medpdf.pdf import typeset

    config = job.context.config
    html = booklet_pages.render_booklet_index(job.groups, job.first, job.info, config)
    # Tagged as the contents are: each line a TOCI whose title is a Reference to its link.
    # Not padded: the index ends the booklet, and no part follows it on a right-hand page.
    result = typeset.render_combined(
        [html],
        config.resources,
        contents=True,
        verso_sheet=_verso(config),
        starts_on_verso=job.verso,
        tagged=job.context.tagged,
    )
    return Pdf(result.data, result.page_counts, result.refused_urls)


def matter_task(job: FrontJob | IndexJob) -> Pdf:
    """Lay out a front or an index part: one batch can hold both (see ``matter.prefetch``)."""
    return front_task(job) if isinstance(job, FrontJob) else index_task(job)
