"""Patient handouts: every one of a collection in worker processes, or one at once here.

A batch renders only the handouts whose layout key changed; the printed date
is not in that key, so an unchanged handout keeps the day it was made and a
build on the next day lays out nothing. A one-shot command (``handout``,
``print``) wants today's date: it reuses a recorded output only when it was
made today, and otherwise renders in this process, under the same limits.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from medpdf.approvals import Review
from medpdf.build.catalog import Catalog
from medpdf.build.outputs import sweep_stale_temps
from medpdf.build.render import HandoutJob, Rendered, RunContext, handout_key, handout_pdf
from medpdf.cache import Cache
from medpdf.errors import DiagnosedError, Diagnostic, Level, RenderError, UsageError, sort_key
from medpdf.sources import Source
from medpdf.workers import Failure, RenderPool, Runners, run_here


def refusal_warnings(path: str, urls: Iterable[str]) -> list[Diagnostic]:
    """One warning per URL the PDF stage refused, in the ``check`` format."""
    return [Diagnostic(path, None, Level.WARNING, f"refused to fetch {url}") for url in urls]


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


def _remove_orphans(store: Cache, folder: Path, wanted: set[Path]) -> int:
    """Delete handouts this cache wrote for monographs that are gone."""
    orphans = [t for t in store.recorded_outputs(folder) if t not in wanted]
    for target in orphans:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
    store.forget_outputs(orphans)
    return len(orphans)


def _record(store: Cache, job: HandoutJob, key: str, result: Rendered) -> None:
    printed = job.context.config.printed.isoformat()
    store.record_outputs([(job.target, key, {"pages": result.pages, "printed": printed})])


def build_handouts(
    catalog: Catalog,
    context: RunContext,
    store: Cache,
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
    for entry in catalog.entries:
        target = folder / f"{entry.slug}.pdf"
        key = handout_key(entry.source, context, review=entry.review)
        done = store.output_current(target, key)
        if done is not None:
            unchanged += 1
            pages += int(done.get("pages", 0))
        else:
            jobs.append((HandoutJob(entry.source, context, target, review=entry.review), key))
    if progress is not None and unchanged:
        progress(unchanged)
    removed = _remove_orphans(store, folder, {folder / f"{e.slug}.pdf" for e in catalog.entries})

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
                    result = made.write(job.target)
                    _record(store, job, keys[id(job)], result)
                    built.append(job.target)
                    pages += result.pages
                    problems += refusal_warnings(path, result.refused_urls)
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
def _optional_cache(folder: Path, create: bool) -> Iterator[Cache | None]:
    """The build cache if it can be opened now; a busy or unwritable one is skipped.

    Looking up never creates it: a command that fails leaves no ``output/`` behind.
    """
    if not create and not folder.is_dir():
        yield None
        return
    try:
        store = Cache(folder)
    except (sqlite3.OperationalError, OSError):
        yield None
        return
    with store:
        yield store


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
        with _optional_cache(folder, create=False) as store:
            done = store.output_current(target, key) if store is not None else None
            if done is not None and done.get("printed") == today:
                return OneHandout(int(done.get("pages", 0)), (), reused=True)
    job = HandoutJob(source, context, target, also, review)
    made = run_here(handout_pdf, job, context.limits)
    if isinstance(made, Failure):
        if made.diagnostic is not None:
            raise DiagnosedError(made.diagnostic)
        raise RenderError(source.display_path, made.message)
    result = made.write(target)
    if cached:
        with _optional_cache(folder, create=True) as store:
            if store is not None:
                with contextlib.suppress(sqlite3.OperationalError):  # busy: the next run renders
                    _record(store, job, key, result)
    return OneHandout(result.pages, result.refused_urls, reused=False)


def translation_for(source: Source, lang: str, context: RunContext) -> Source:
    """The monograph of ``source``'s drug in ``lang``, for a bilingual handout.

    The collection is scanned (with the build cache's parse summaries when there
    is one), so the link is checked as ``check`` checks it. A missing
    translation is one line naming the languages there are.
    """
    from medpdf.build import catalog, translations

    config = context.config
    with _optional_cache(config.cache_dir, create=False) as store:
        found = catalog.scan(config.content_dir, store, catalog.Rules.of(config))
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
