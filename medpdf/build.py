"""Build orchestration: gather and validate everything first, then render.

Like MkDocs, a run reads and checks the whole collection before any PDF is
made, so ``check`` and ``build`` report exactly the same problems. Rendering
is per monograph: one failure is reported and the rest still build, and every
PDF is written to a temporary file and renamed so ``output/`` never holds a
half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeVar

from medpdf import model, sources, templating
from medpdf.cache import Cache, Summary, digest_of, resources_fingerprint, software_fingerprint
from medpdf.config import Config
from medpdf.errors import (
    BusyError,
    Diagnostic,
    Level,
    MedpdfError,
    RenderError,
    SourceError,
    UsageError,
    sort_key,
)
from medpdf.model import Monograph
from medpdf.workers import Failure, Limits, RenderPool

if TYPE_CHECKING:
    from medpdf import pdf


@dataclass(frozen=True)
class Checked:
    """What validating a collection found, whichever form its valid files take."""

    diagnostics: tuple[Diagnostic, ...]
    files_seen: int

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """Problems that keep a file out of the build."""
        return tuple(d for d in self.diagnostics if d.is_error)


@dataclass(frozen=True)
class Collection(Checked):
    """Every monograph that parsed, and every problem found on the way (for ``check``)."""

    monographs: tuple[Monograph, ...]


class _Named(Protocol):
    @property
    def slug(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def source_path(self) -> str: ...


N = TypeVar("N", bound=_Named)


def _duplicates(monographs: Iterable[N]) -> tuple[list[N], list[Diagnostic]]:
    """Keep the first of each slug and title (in path order); the rest are errors."""
    kept: list[N] = []
    problems: list[Diagnostic] = []
    by_slug: dict[str, N] = {}
    by_title: dict[str, N] = {}
    for mono in monographs:
        title_key = mono.title.casefold()
        if (first := by_slug.get(mono.slug)) is not None:
            message = f"duplicate slug '{mono.slug}' (also {first.source_path})"
        elif (first := by_title.get(title_key)) is not None:
            message = f"duplicate title '{mono.title}' (also {first.source_path})"
        else:
            by_slug[mono.slug] = mono
            by_title[title_key] = mono
            kept.append(mono)
            continue
        problems.append(Diagnostic(mono.source_path, None, Level.ERROR, message))
    return kept, problems


def parse_sources(items: Iterable[sources.Source | SourceError]) -> Collection:
    """Build the model of every source, collecting errors instead of raising."""
    parsed: list[Monograph] = []
    diagnostics: list[Diagnostic] = []
    seen = 0
    for item in items:
        seen += 1
        if isinstance(item, SourceError):
            diagnostics.append(item.diagnostic)
            continue
        try:
            mono = model.build(item)
        except SourceError as exc:
            diagnostics.append(exc.diagnostic)
            continue
        except Exception as exc:  # a parser bug must not stop the other files
            diagnostics.append(
                Diagnostic(item.display_path, None, Level.ERROR, f"cannot parse: {exc!r}")
            )
            continue
        parsed.append(mono)
        diagnostics.extend(mono.warnings)
    kept, duplicates = _duplicates(parsed)
    diagnostics.extend(duplicates)
    diagnostics.sort(key=sort_key)
    return Collection(diagnostics=tuple(diagnostics), files_seen=seen, monographs=tuple(kept))


def load_collection(content_dir: Path) -> Collection:
    """Read and validate every monograph below ``content_dir``."""
    return parse_sources(sources.read_all(content_dir))


def suggestions(name: str, candidates: Iterable[_Named], limit: int = 3) -> list[str]:
    """Up to ``limit`` slugs that look like ``name``."""
    from rapidfuzz import fuzz, process  # only needed when a name is not found

    choices = {m.slug: f"{m.slug} {m.title}".casefold() for m in candidates}
    matches = process.extract(
        name.casefold(), choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=60
    )
    return [slug for _, _, slug in matches]


def find_source(content_dir: Path, name: str) -> sources.Source:
    """Resolve a slug or title (case-insensitive) to the source of one monograph.

    A slug is the file name, so the common case reads one file; a title needs
    the whole collection.
    """
    wanted = name.strip().casefold()
    for path in sources.discover(content_dir):
        if sources.slug_for(path) == wanted:
            return sources.read(path)
    catalog = scan_catalog(content_dir)
    for entry in catalog.entries:
        if entry.title.casefold() == wanted:
            return entry.source
    hint = suggestions(name, catalog.entries)
    message = f"no monograph named '{name}' in {content_dir}"
    if hint:
        message += "; did you mean: " + ", ".join(hint) + "?"
    raise UsageError(message)


def find_monograph(content_dir: Path, name: str) -> Monograph:
    """The parsed monograph named ``name`` (slug or title)."""
    return model.build(find_source(content_dir, name))


_TMP_SUFFIX = ".medpdf-tmp"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temps(folder: Path) -> int:
    """Delete temporary files left by writers that were killed (their PID is gone).

    Temp names carry the writer's PID, so a concurrent live build's files are kept.
    """
    removed = 0
    if not folder.is_dir():
        return removed
    for tmp in folder.glob(f".*{_TMP_SUFFIX}"):
        parts = tmp.name.split(".")  # "", pid, random part, "medpdf-tmp"
        pid = parts[1] if len(parts) == 4 else ""
        if pid.isdigit() and not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed += 1
    return removed


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so that readers see the old file or the new, never half."""
    write_atomic_with(target, lambda handle: handle.write(data))


def write_atomic_with(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Like :func:`write_atomic`, for a streaming writer: a 70 MB booklet, not twice in memory."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        # Not named after the target: a 250-character slug plus a suffix would
        # pass the file system's 255-byte name limit.
        dir=target.parent,
        prefix=f".{os.getpid()}.",
        suffix=_TMP_SUFFIX,
    )
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def render_handout(monograph: Monograph, config: Config) -> pdf.PdfResult:
    """Model → HTML → PDF bytes for one handout."""
    # Imported here so that `check` never pays WeasyPrint's ~0.4 s import.
    from medpdf import pdf

    view = templating.monograph_view(monograph, config.online_url(monograph.slug))
    html = templating.render_handout(
        view, templating.page_options(config), config.resources.templates
    )
    return pdf.render(html, config.resources.root, config.resources.readable_dirs)


def refusal_warnings(path: str, urls: Iterable[str]) -> list[Diagnostic]:
    """One warning per URL the PDF stage refused, in the ``check`` format."""
    return [Diagnostic(path, None, Level.WARNING, f"refused to fetch {url}") for url in urls]


def write_handout(monograph: Monograph, config: Config, target: Path) -> pdf.PdfResult:
    """Render one handout and put it at ``target`` atomically."""
    try:
        result = render_handout(monograph, config)
    except (MedpdfError, MemoryError):
        raise
    except Exception as exc:
        raise RenderError(monograph.source_path, f"rendering failed: {exc!r}") from exc
    write_atomic(target, result.data)
    return result


# -- catalog: what a batch build needs to know before rendering -------------


@dataclass(frozen=True)
class Entry:
    """A valid monograph source and its title; the model is rebuilt where it is rendered."""

    source: sources.Source
    title: str

    @property
    def slug(self) -> str:
        """File-name slug."""
        return self.source.slug

    @property
    def source_path(self) -> str:
        """Path as shown to the user."""
        return self.source.display_path


@dataclass(frozen=True)
class Catalog(Checked):
    """Every valid source of a collection, with the problems ``check`` would print (for builds)."""

    entries: tuple[Entry, ...]


def summarize(source: sources.Source) -> Summary:
    """Parse one source for its title and problems, never raising."""
    try:
        mono = model.build(source)
    except SourceError as exc:
        return Summary.of(None, [exc.diagnostic])
    except Exception as exc:  # a parser bug must not stop the other files
        return Summary(None, ((None, Level.ERROR.value, f"cannot parse: {exc!r}"),))
    return Summary.of(mono.title, mono.warnings)


def _summary_key(source: sources.Source) -> str:
    return digest_of("summary", software_fingerprint(), source.slug, source.text)


def scan_catalog(content_dir: Path, store: Cache | None = None) -> Catalog:
    """Read every source and validate it, reusing earlier parses of unchanged text.

    The result holds exactly the diagnostics :func:`load_collection` reports, so
    ``build`` and ``check`` agree, but an unchanged collection is not re-parsed.
    """
    items = list(sources.read_all(content_dir))
    readable = [item for item in items if isinstance(item, sources.Source)]
    keys = {item.path: _summary_key(item) for item in readable}
    known = store.summaries(keys.values()) if store is not None else {}
    fresh: list[tuple[str, Summary]] = []
    entries: list[Entry] = []
    diagnostics: list[Diagnostic] = []
    for item in items:
        if isinstance(item, SourceError):
            diagnostics.append(item.diagnostic)
            continue
        key = keys[item.path]
        summary = known.get(key)
        if summary is None:
            summary = summarize(item)
            fresh.append((key, summary))
        diagnostics.extend(summary.diagnostics(item.display_path))
        if summary.title is not None:
            entries.append(Entry(item, summary.title))
    if store is not None and fresh:
        store.put_summaries(fresh)
    kept, duplicates = _duplicates(entries)
    diagnostics.extend(duplicates)
    diagnostics.sort(key=sort_key)
    return Catalog(diagnostics=tuple(diagnostics), files_seen=len(items), entries=tuple(kept))


# -- the output folder: one build at a time, a cache beside the PDFs ----------


@contextlib.contextmanager
def locked_output(output_dir: Path) -> Iterator[Cache]:
    """Hold the output folder for this build and open its cache.

    Two builds writing the same folder would race on the same files and the
    same cache, so the second one is refused with a clear message.
    """
    from filelock import FileLock, Timeout

    output_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(output_dir / ".medpdf.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BusyError(
            f"medpdf: error: another medpdf build is writing to {output_dir}; "
            "try again when it has finished"
        ) from None
    try:
        with Cache(output_dir / ".cache") as store:
            yield store
    finally:
        lock.release()


# -- batch handouts -------------------------------------------------------------


@dataclass(frozen=True)
class HandoutJob:
    """One handout to render in a worker: everything it needs, picklable."""

    source: sources.Source
    config: Config
    target: Path
    key: str


@dataclass(frozen=True)
class HandoutDone:
    """What a worker reports back for a handout it wrote."""

    pages: int
    refused_urls: tuple[str, ...]


def handout_task(job: HandoutJob) -> HandoutDone | Failure:
    """Worker side: parse, render and write one handout; errors come back as values."""
    try:
        mono = model.build(job.source)
        result = write_handout(mono, job.config, job.target)
    except MemoryError:
        raise  # the pool reports it with the limit that was hit
    except Exception as exc:
        return Failure.of(exc)
    return HandoutDone(result.page_count, result.refused_urls)


def render_one_handout(
    source: sources.Source, config: Config, target: Path, limits: Limits
) -> HandoutDone:
    """Render one handout in a worker process, under the same limits as a batch.

    The source is parsed here first so a content error is reported with its line.
    """
    model.build(source)
    job = HandoutJob(source, config, target, "")
    with RenderPool(limits) as pool:
        outcome = next(iter(pool.run(handout_task, [job])))
    if isinstance(outcome.result, Failure):
        raise RenderError(source.display_path, outcome.result.message)
    return outcome.result


def render_fingerprint(config: Config) -> str:
    """Everything besides the monograph that shapes a PDF made with ``config``."""
    options = {
        k: str(v)
        for k, v in sorted(vars(config).items())
        if k not in {"content_dir", "output_dir", "resources", "max_grade", "printer"}
    }
    return digest_of(
        software_fingerprint(),
        resources_fingerprint(config.resources),
        json.dumps(options, sort_keys=True),
    )


def handout_key(source: sources.Source, fingerprint: str) -> str:
    """The cache key of one handout: its text, where it came from and the run."""
    return digest_of("handout", fingerprint, source.display_path, source.slug, source.text)


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


def build_handouts(
    catalog: Catalog,
    config: Config,
    store: Cache,
    limits: Limits,
    progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Render every handout whose inputs changed, in worker processes.

    Results are recorded in the cache as each one finishes, so a build killed
    midway keeps the work it completed; a failure never stops the rest.
    """
    started = time.perf_counter()
    folder = config.handouts_dir
    sweep_stale_temps(folder)
    fingerprint = render_fingerprint(config)
    jobs: list[HandoutJob] = []
    pages = 0
    unchanged = 0
    for entry in catalog.entries:
        target = folder / f"{entry.slug}.pdf"
        key = handout_key(entry.source, fingerprint)
        done = store.output_current(target, key)
        if done is not None:
            unchanged += 1
            pages += int(done.get("pages", 0))
        else:
            jobs.append(HandoutJob(entry.source, config, target, key))
    if progress is not None and unchanged:
        progress(unchanged)
    removed = _remove_orphans(store, folder, {folder / f"{e.slug}.pdf" for e in catalog.entries})

    built: list[Path] = []
    problems: list[Diagnostic] = []
    if jobs:
        with RenderPool(limits) as pool:
            for outcome in pool.run(handout_task, jobs):
                job = outcome.item
                result = outcome.result
                if isinstance(result, Failure):
                    problems.append(
                        Diagnostic(job.source.display_path, None, Level.ERROR, result.message)
                    )
                else:
                    store.record_outputs([(job.target, job.key, {"pages": result.pages})])
                    built.append(job.target)
                    pages += result.pages
                    problems += refusal_warnings(job.source.display_path, result.refused_urls)
                if progress is not None:
                    progress(1)
    problems.sort(key=sort_key)
    return BuildReport(
        tuple(built), tuple(problems), pages, time.perf_counter() - started, unchanged, removed
    )
