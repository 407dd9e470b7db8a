"""The products: handouts, the booklet and medication packs, and a build of them.

=============  ==========================================================
module         what it makes
=============  ==========================================================
``handouts``   every handout (workers, cached) or one now (in process)
``booklet``    the reference booklet, in cached parts (a package)
``pack``       a patient's medicines in one PDF (a package)
``language_choice``  ``--lang``: each medicine's translation where there is one
=============  ==========================================================

:func:`run` only orchestrates a build: it takes the output folder's lock
(:func:`medpdf.run.locked_output`), scans the collection once
(:mod:`medpdf.content.collection`), and hands the same collection, run
context and store to each product.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medpdf.content import approvals, collection, sources
from medpdf.errors import Diagnostic
from medpdf.run import RenderPool, RunContext, Runners, locked_output
from medpdf.settings.options import APPROVED_ONLY

if TYPE_CHECKING:
    from medpdf.products.booklet import BookletReport
    from medpdf.products.handouts import BuildReport

__all__ = ["Progress", "RunReport", "booklet", "handouts", "language_choice", "pack", "run"]

#: Makes a progress callback for a product: (label, total) → context giving ``advance(n)``.
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


@contextlib.contextmanager
def _silent(label: str, total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _: None


@dataclass(frozen=True)
class RunReport:
    """What one build did: the collection's errors and each product's report."""

    collection_errors: tuple[Diagnostic, ...]
    handouts: BuildReport | None
    booklet: BookletReport | None

    @property
    def problems(self) -> list[Diagnostic]:
        """Every problem, the collection's first, in the order the products ran."""
        found = list(self.collection_errors)
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
    on_collection: Callable[[collection.Collection], None] | None = None,
    runners: Runners = RenderPool,
) -> RunReport:
    """Lock the output folder, validate once, then build what was asked for.

    Approved editions carry their approval to the footer; with ``approved_only``
    the others are left out (:func:`medpdf.content.approvals.apply`).

    ``runners`` is where the renders run: the local pool unless a cluster is given.
    """
    # The products are imported here, not at the top: any ``medpdf.products.*`` import runs
    # this package first, and the booklet's PDF stack (pikepdf) is not cheap to import.
    from medpdf.products.booklet import build_booklet
    from medpdf.products.handouts import build_handouts

    config = context.config
    sources.require_folder(config.content_dir)
    with locked_output(config.output_dir) as store:
        scanned = collection.scan(config.content_dir, store.cache, collection.Rules.of(config))
        scanned = approvals.apply(
            scanned, approvals.load(config.content_dir), config[APPROVED_ONLY]
        )
        if on_collection is not None:
            on_collection(scanned)
        made_handouts = made_booklet = None
        if handouts:
            with progress("handouts", len(scanned.entries)) as advance:
                made_handouts = build_handouts(scanned, context, store, advance, runners)
        if booklet_target is not None:
            with progress("booklet", len(scanned.entries)) as advance:
                made_booklet = build_booklet(
                    scanned, context, store, booklet_target, advance, runners
                )
    return RunReport(scanned.errors, made_handouts, made_booklet)
