"""The render path every product shares: source → model → HTML → PDF, in a worker or here.

A :class:`RunContext` is made once per run (or once per station request's
options) and travels with every task: the config and the presentation
fingerprint, computed once instead of once per product and per request. The
tasks below are what worker processes run; :func:`medpdf.workers.guarded`
turns whatever they raise into a failure value, the same for every product.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from medpdf import model, templating
from medpdf.approvals import Review
from medpdf.build.outputs import write_atomic
from medpdf.cache import digest_of, presentation_fingerprint
from medpdf.config import Config
from medpdf.options import DUPLEX, output_values
from medpdf.sources import Source
from medpdf.workers import Limits


@dataclass(frozen=True)
class RunContext:
    """One run's settings and the fingerprint of everything besides content that shapes a PDF."""

    config: Config
    #: The presentation fingerprint when the caller has it (a station request reuses
    #: its run's); otherwise it is computed on first use, once.
    known_presentation: str | None = None
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def of(cls, config: Config, limits: Limits | None = None) -> RunContext:
        """The run's context; its limits from the options."""
        return cls(config, None, limits or Limits.of(config))

    @cached_property
    def presentation(self) -> str:
        """Code, libraries, templates, styles and fonts, hashed once per run.

        On first use, not at start: a handout written outside the cache (``-o``)
        never needs it, and hashing costs 15-20 ms of a 0.5 s one-shot command.
        """
        return self.known_presentation or presentation_fingerprint(self.config.resources)

    def __getstate__(self) -> dict[str, Any]:
        """A context sent to a worker carries its fingerprint: no worker hashes the files again."""
        return {**self.__dict__, "known_presentation": self.presentation}

    @cached_property
    def fingerprint(self) -> str:
        """Presentation plus the options that change a PDF (an allowlist from the option table)."""
        return digest_of(self.presentation, output_values(self.config.settings))

    def with_options(self, **changes: Any) -> RunContext:
        """The same run with some options changed (the station's per-request options)."""
        return RunContext(self.config.replace(**changes), self.presentation, self.limits)


def handout_key(
    source: Source, context: RunContext, also: Source | None = None, review: Review | None = None
) -> str:
    """The cache key of one handout's layout: its text, where it came from and the run.

    The printed date is not part of it: whether an output of another day will
    do is the caller's decision (batch builds keep it, one-shot commands do not).
    """
    parts: tuple[str, ...] = (source.display_path, source.slug, source.text)
    if also is not None:  # a bilingual handout: the translation's text too
        parts += (also.display_path, also.text)
    if review is not None:  # the footer names who approved this edition
        parts += ("reviewed", review.by, review.on.isoformat())
    return digest_of("handout", context.fingerprint, *parts)


@dataclass(frozen=True)
class Rendered:
    """What was written for one PDF: enough to record it in the cache."""

    page_counts: tuple[int, ...]
    refused_urls: tuple[str, ...]
    sha256: str
    #: Booklet entries: each monograph's ingredients, from the model (for the index).
    ingredients: tuple[tuple[str, ...], ...] = ()

    @property
    def pages(self) -> int:
        """Pages in all."""
        return sum(self.page_counts)


@dataclass(frozen=True)
class Pdf:
    """A PDF a task made, on its way back to the one process that writes ``output/``.

    Tasks return bytes rather than write files, so a task can run on a machine
    that has no access to the output folder (a Dask worker) and the client
    still writes every file atomically itself.
    """

    data: bytes
    page_counts: tuple[int, ...]
    refused_urls: tuple[str, ...]
    #: Booklet chunks: each entry's ingredients, for the index (read from the model).
    ingredients: tuple[tuple[str, ...], ...] = ()

    @property
    def pages(self) -> int:
        """Pages in all."""
        return sum(self.page_counts)

    def write(self, target: Path) -> Rendered:
        """Write the PDF atomically at ``target``."""
        write_atomic(target, self.data)
        digest = hashlib.sha256(self.data).hexdigest()
        return Rendered(self.page_counts, self.refused_urls, digest, self.ingredients)


@dataclass(frozen=True)
class HandoutJob:
    """One handout to render: everything it needs, picklable.

    ``target`` is where the client writes it; a task never opens it (except
    :func:`handout_task`, which the station runs on its own machine).
    """

    source: Source
    context: RunContext
    target: Path
    #: The translation put beside it (``--also``), for a bilingual handout.
    also: Source | None = None
    #: Who approved this edition, printed in the footer (None: not approved, or not asked).
    review: Review | None = None


def handout_pdf(job: HandoutJob) -> Pdf:
    """Parse and render one handout."""
    from medpdf.pdf import render  # a worker imports WeasyPrint; `check` never does

    monograph, config = model.build(job.source), job.context.config
    if job.also is not None:
        from medpdf import bilingual

        html = bilingual.handout_html(monograph, model.build(job.also), config, job.review)
    else:
        html = templating.monograph_html(monograph, config, review=job.review)
    result = render.render(html, config.resources)
    return Pdf(result.data, (result.page_count,), result.refused_urls)


def handout_task(job: HandoutJob) -> Rendered:
    """Render one handout and write it at its target (the station's shelf, same machine)."""
    return handout_pdf(job).write(job.target)


def _pad(config: Config) -> str | None:
    """The blank page that keeps every booklet part starting on a right-hand page (duplex)."""
    return templating.booklet_blank_html(config) if config[DUPLEX] else None


@dataclass(frozen=True)
class EntriesJob:
    """Booklet entries laid out together as one PDF (a chunk)."""

    sources: tuple[Source, ...]
    #: The letter each entry opens ("" for none), one per source.
    letters: tuple[str, ...]
    context: RunContext
    key: str


def entries_task(job: EntriesJob) -> Pdf:
    """Lay out booklet entries, each its own document (its own "page x of y"), as one PDF."""
    from medpdf.build.index import ingredients_of
    from medpdf.pdf import render

    config = job.context.config
    monographs = [model.build(source) for source in job.sources]
    htmls = [
        templating.monograph_html(monograph, config, booklet_letter=letter)
        for monograph, letter in zip(monographs, job.letters, strict=True)
    ]
    result = render.render_combined(htmls, config.resources, pad_html=_pad(config))
    found = tuple(ingredients_of(m) for m in monographs)
    return Pdf(result.data, result.page_counts, result.refused_urls, found)


@dataclass(frozen=True)
class FrontJob:
    """One part of the booklet's front pages: the cover, or one letter's contents."""

    part: str  # "cover" or "contents"
    toc: tuple[templating.TocGroup, ...]
    first: bool
    info: templating.BookletInfo
    context: RunContext
    key: str
    #: Volume 1 of a booklet in volumes: the master contents, on the cover part.
    volumes: tuple[templating.VolumeLine, ...] = ()


def front_task(job: FrontJob) -> Pdf:
    """Lay out one front part."""
    from medpdf.pdf import render

    config = job.context.config
    html = templating.render_booklet_front(
        job.part, job.toc, job.first, job.info, config, job.volumes
    )
    result = render.render_combined(
        [html], config.resources, contents=job.part == "contents", pad_html=_pad(config)
    )
    return Pdf(result.data, result.page_counts, result.refused_urls)


@dataclass(frozen=True)
class IndexJob:
    """Letters of the booklet's ingredient index laid out together (page numbers known)."""

    groups: tuple[templating.IndexGroup, ...]
    first: bool
    info: templating.BookletInfo
    context: RunContext
    key: str


def index_task(job: IndexJob) -> Pdf:
    """Lay out some letters of the ingredient index."""
    from medpdf.pdf import render

    config = job.context.config
    html = templating.render_booklet_index(job.groups, job.first, job.info, config)
    # Tagged as the contents are: each line a TOCI whose title is a Reference to its link.
    result = render.render_combined([html], config.resources, contents=True, pad_html=_pad(config))
    return Pdf(result.data, result.page_counts, result.refused_urls)


def warm_up(_: object) -> None:
    """Worker side: import the PDF stage so the first real task does not pay for it."""
    from medpdf.pdf import render  # noqa: F401
