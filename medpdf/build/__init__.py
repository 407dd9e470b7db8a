"""The build stage: gather and validate everything first, then render, then write.

=============  ==========================================================
module         what it does
=============  ==========================================================
``catalog``    one parse-or-diagnose path for ``check``, builds, station
``render``     the run context and the worker tasks (source → PDF)
``handouts``   every handout (workers, cached) or one now (in process)
``booklet``    chunks, front pages, then :mod:`medpdf.pdf.assemble`
``outputs``    atomic writes, stale temp files, one build per folder
=============  ==========================================================

This module only orchestrates: it takes the output folder's lock, scans the
collection once, and hands the same catalog and run context to each product.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medpdf import approvals, sources
from medpdf.build import catalog as catalogs
from medpdf.build.outputs import locked_output
from medpdf.build.render import RunContext
from medpdf.errors import Diagnostic
from medpdf.options import APPROVED_ONLY
from medpdf.workers import RenderPool, Runners

if TYPE_CHECKING:
    from medpdf.build.booklet import BookletReport
    from medpdf.build.handouts import BuildReport

#: Makes a progress callback for a product: (label, total) → context giving ``advance(n)``.
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


@contextlib.contextmanager
def _silent(label: str, total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _: None


@dataclass(frozen=True)
class RunReport:
    """What one build did: the catalog's errors and each product's report."""

    catalog_errors: tuple[Diagnostic, ...]
    handouts: BuildReport | None
    booklet: BookletReport | None

    @property
    def problems(self) -> list[Diagnostic]:
        """Every problem, catalog first, in the order the products ran."""
        found = list(self.catalog_errors)
        for report in (self.handouts, self.booklet):
            if report is not None:
                found += report.problems
        return found

    @property
    def failed_files(self) -> list[str]:
        """The files left out anywhere, each once, sorted."""
        return sorted({d.path for d in self.problems if d.is_error})


def run(
    context: RunContext,
    *,
    handouts: bool,
    booklet_target: Path | None,
    progress: Progress = _silent,
    on_catalog: Callable[[catalogs.Catalog], None] | None = None,
    runners: Runners = RenderPool,
) -> RunReport:
    """Lock the output folder, validate once, then build what was asked for.

    Approved editions carry their approval to the footer; with ``approved_only``
    the others are left out (:func:`medpdf.approvals.apply`).

    ``runners`` is where the renders run: the local pool unless a cluster is given.
    """
    # The products are imported here, not at the top: any ``medpdf.build.*`` import runs
    # this package first, and the booklet's PDF stack (pikepdf) is not cheap to import.
    from medpdf.build.booklet import build_booklet
    from medpdf.build.handouts import build_handouts

    config = context.config
    sources.require_folder(config.content_dir)
    with locked_output(config.output_dir) as store:
        catalog = catalogs.scan(config.content_dir, store, catalogs.Rules.of(config))
        catalog = approvals.apply(
            catalog, approvals.load(config.content_dir), config[APPROVED_ONLY]
        )
        if on_catalog is not None:
            on_catalog(catalog)
        made_handouts = made_booklet = None
        if handouts:
            with progress("handouts", len(catalog.entries)) as advance:
                made_handouts = build_handouts(catalog, context, store, advance, runners)
        if booklet_target is not None:
            with progress("booklet", len(catalog.entries)) as advance:
                made_booklet = build_booklet(
                    catalog, context, store, booklet_target, advance, runners
                )
    return RunReport(catalog.errors, made_handouts, made_booklet)
