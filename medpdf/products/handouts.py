"""Patient handouts: every one of a collection in worker processes, or one at once here.

A batch renders only the handouts whose layout key changed; the printed date
is not in that key, so an unchanged handout keeps the day it was made and a
build on the next day lays out nothing. A one-shot command (``handout``,
``print``) wants today's date: it reuses a recorded output only when it was
made today, and otherwise renders in this process, under the same limits.
The task itself (:func:`handout_pdf`: source → model → HTML → PDF) is the
same for both, and for the station's worker pool (:func:`handout_task`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from medpdf.content import model
from medpdf.content.approvals import Review
from medpdf.content.collection import Collection
from medpdf.content.sources import Source
from medpdf.digests import digest_of
from medpdf.errors import DiagnosedError, Diagnostic, Level, RenderError, UsageError, sort_key
from medpdf.html import templating
from medpdf.run import (
    Cache,
    Failure,
    Pdf,
    Rendered,
    RenderPool,
    RunContext,
    Runners,
    Store,
    refusal_warnings,
    run_here,
    sweep_stale_temps,
    write_atomic,
)

# -- the task: what a worker runs ---------------------------------------------------


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
    from medpdf.pdf import typeset  # a worker imports WeasyPrint; `check` never does

    monograph, config = model.build(job.source), job.context.config
    if job.also is not None:
        from medpdf.html import bilingual

        html = bilingual.handout_html(monograph, model.build(job.also), config, job.review)
    else:
        html = templating.monograph_html(monograph, config, review=job.review)
    result = typeset.render(html, config.resources)
    return Pdf(result.data, (result.page_count,), result.refused_urls)


def handout_task(job: HandoutJob) -> Rendered:
    """Render one handout and write it at its target (the station's shelf, same machine)."""
    made = handout_pdf(job)
    write_atomic(job.target, made.data)
    return Rendered(made.page_counts, made.refused_urls)


# -- a batch: every handout of a collection -----------------------------------------


@dataclass(frozen=True)
class BuildReport:
    """What a batch build did, for the summary line and the exit status."""

    built: tuple[Path, ...]
    problems: tuple[Diagnostic, ...]
    pages: int
    seconds: float
    unchanged: int = 0
    removed: int = 0

    @property
    def failed(self) -> int:
        """Monographs that produced no PDF."""
        return sum(1 for d in self.problems if d.is_error)


def _keep(store: Store, job: HandoutJob, key: str, made: Pdf) -> None:
    """Write the handout at its target and record it, with the day it was printed for."""
    printed = job.context.config.printed.isoformat()
    store.keep(job.target, key, made.data, {"pages": made.pages, "printed": printed})


def build_handouts(
    collection: Collection,
    context: RunContext,
    store: Store,
    progress: Callable[[int], None] | None = None,
    runners: Runners = RenderPool,
) -> BuildReport:
    """Render every handout whose inputs changed, on the workers ``runners`` opens.

    Each PDF comes back to this process, which writes it atomically and records
    it in the cache as it arrives, so a build killed midway keeps the work it
    completed; a failure never stops the rest.
    """
    started = time.perf_counter()
    folder = context.config.handouts_dir
    sweep_stale_temps(folder)
    jobs: list[tuple[HandoutJob, str]] = []
    pages = 0
    unchanged = 0
    for entry in collection.entries:
        target = folder / f"{entry.slug}.pdf"
        key = handout_key(entry.source, context, review=entry.review)
        done = store.current(target, key)
        if done is not None:
            unchanged += 1
            pages += int(done.get("pages", 0))
        else:
            jobs.append((HandoutJob(entry.source, context, target, review=entry.review), key))
    if progress is not None and unchanged:
        progress(unchanged)
    # Handouts this store wrote for monographs that are gone.
    wanted = {folder / f"{e.slug}.pdf" for e in collection.entries}
    removed = store.remove(t for t in store.recorded(folder) if t not in wanted)

    keys = {id(job): key for job, key in jobs}
    built: list[Path] = []
    problems: list[Diagnostic] = []
    if jobs:
        with runners(context.limits) as runner:
            for outcome in runner.run(handout_pdf, [job for job, _ in jobs]):
                job, made = outcome.item, outcome.result
                path = job.source.display_path
                if isinstance(made, Failure):
                    problems.append(Diagnostic(path, None, Level.ERROR, made.message))
                else:
                    _keep(store, job, keys[id(job)], made)
                    built.append(job.target)
                    pages += made.pages
                    problems += refusal_warnings(path, made.refused_urls)
                if progress is not None:
                    progress(1)
    problems.sort(key=sort_key)
    return BuildReport(
        tuple(built), tuple(problems), pages, time.perf_counter() - started, unchanged, removed
    )


@dataclass(frozen=True)
class OneHandout:
    """What a one-shot handout produced."""

    pages: int
    refused_urls: tuple[str, ...]
    reused: bool


@contextlib.contextmanager
def _optional_store(folder: Path, create: bool) -> Iterator[Store | None]:
    """The build cache's store if it can be opened now; a busy or unwritable one is skipped.

    Looking up never creates it: a command that fails leaves no ``output/`` behind.
    """
    if not create and not folder.is_dir():
        yield None
        return
    try:
        cache = Cache(folder)
    except (sqlite3.OperationalError, OSError):
        yield None
        return
    with cache:
        yield Store(cache)


def render_one(
    source: Source,
    context: RunContext,
    target: Path,
    *,
    cached: bool = True,
    also: Source | None = None,
    review: Review | None = None,
) -> OneHandout:
    """One handout at ``target``, dated today: reused when this layout was written today.

    Rendered in this process under the run's time and memory limits; a
    content error is reported with its line. ``cached=False`` neither looks in
    nor records to the build cache (a file outside the output folder).
    ``also`` puts that translation beside the text (a bilingual handout);
    ``review`` is the approval of this edition, which the footer names.
    """
    # Only the cache needs the key, and its fingerprint hashes every presentation file.
    key = handout_key(source, context, also, review) if cached else ""
    today = context.config.printed.isoformat()
    folder = context.config.cache_dir
    if cached:
        with _optional_store(folder, create=False) as store:
            done = store.current(target, key) if store is not None else None
            if done is not None and done.get("printed") == today:
                return OneHandout(int(done.get("pages", 0)), (), reused=True)
    job = HandoutJob(source, context, target, also, review)
    made = run_here(handout_pdf, job, context.limits)
    if isinstance(made, Failure):
        if made.diagnostic is not None:
            raise DiagnosedError(made.diagnostic)
        raise RenderError(source.display_path, made.message)
    one = OneHandout(made.pages, made.refused_urls, reused=False)
    if not cached:
        write_atomic(target, made.data)
        return one
    with _optional_store(folder, create=True) as store:
        if store is None:
            write_atomic(target, made.data)
        else:
            # Busy: the file is written but not recorded, and the next run renders it again.
            with contextlib.suppress(sqlite3.OperationalError):
                _keep(store, job, key, made)
    return one


def scan_collection(context: RunContext) -> Collection:
    """The collection as ``check`` sees it, with the build cache's parse summaries if any.

    Looking never creates the cache: a one-shot command leaves no ``output/`` behind.
    """
    from medpdf.content import collection

    config = context.config
    with _optional_store(config.cache_dir, create=False) as store:
        cache = store.cache if store is not None else None
        return collection.scan(config.content_dir, cache, collection.Rules.of(config))


def translation_for(source: Source, lang: str, context: RunContext) -> Source:
    """The monograph of ``source``'s drug in ``lang``, for a bilingual handout.

    The collection is scanned (with the build cache's parse summaries when there
    is one), so the link is checked as ``check`` checks it. A missing
    translation is one line naming the languages there are.
    """
    from medpdf.content import translations

    found = scan_collection(context)
    entry = next((e for e in found.entries if e.slug == source.slug), None)
    if entry is None:  # the file itself has an error: say it, as `check` does
        problem = next((d for d in found.errors if d.path == source.display_path), None)
        if problem is not None:
            raise DiagnosedError(problem)
        raise UsageError(f"'{source.slug}' is not a valid monograph; see medpdf check")
    match = translations.find(found.entries, source.slug, lang)
    if match is None or match.slug == source.slug:
        others = sorted(translations.by_drug(found.entries).get(entry.drug, {}))
        there = ", ".join(o for o in others if o != entry.lang) or "none"
        raise UsageError(
            f"no translation of '{entry.drug}' into '{lang}' for --also (translations: {there})"
        )
    return match.source
