"""Build orchestration: gather and validate everything first, then render.

Like MkDocs, a run reads and checks the whole collection before any PDF is
made, so ``check`` and ``build`` report exactly the same problems. Rendering
is per monograph: one failure is reported and the rest still build, and every
PDF is written to a temporary file and renamed so ``output/`` never holds a
half-written file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from medpdf import model, sources, templating
from medpdf.config import Config
from medpdf.errors import (
    Diagnostic,
    Level,
    MedpdfError,
    RenderError,
    SourceError,
    UsageError,
    sort_key,
)
from medpdf.model import Monograph

if TYPE_CHECKING:
    from medpdf import pdf


@dataclass(frozen=True)
class Collection:
    """Every monograph that parsed, and every problem found on the way."""

    monographs: tuple[Monograph, ...]
    diagnostics: tuple[Diagnostic, ...]
    files_seen: int

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """Problems that keep a file out of the build."""
        return tuple(d for d in self.diagnostics if d.is_error)


def _duplicates(monographs: Iterable[Monograph]) -> tuple[list[Monograph], list[Diagnostic]]:
    """Keep the first of each slug and title (in path order); the rest are errors."""
    kept: list[Monograph] = []
    problems: list[Diagnostic] = []
    by_slug: dict[str, Monograph] = {}
    by_title: dict[str, Monograph] = {}
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
    return Collection(tuple(kept), tuple(diagnostics), seen)


def load_collection(content_dir: Path) -> Collection:
    """Read and validate every monograph below ``content_dir``."""
    return parse_sources(sources.read_all(content_dir))


def suggestions(name: str, collection: Collection, limit: int = 3) -> list[str]:
    """Up to ``limit`` slugs that look like ``name``."""
    from rapidfuzz import fuzz, process  # only needed when a name is not found

    choices = {m.slug: f"{m.slug} {m.title}".casefold() for m in collection.monographs}
    matches = process.extract(
        name.casefold(), choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=60
    )
    return [slug for _, _, slug in matches]


def find_monograph(content_dir: Path, name: str) -> Monograph:
    """Resolve a slug or title (case-insensitive) to one monograph.

    A slug is the file name, so the common case reads one file; a title needs
    the whole collection.
    """
    wanted = name.strip().casefold()
    for path in sources.discover(content_dir):
        if sources.slug_for(path) == wanted:
            return model.build(sources.read(path))
    collection = load_collection(content_dir)
    for mono in collection.monographs:
        if mono.title.casefold() == wanted:
            return mono
    hint = suggestions(name, collection)
    message = f"no monograph named '{name}' in {content_dir}"
    if hint:
        message += "; did you mean: " + ", ".join(hint) + "?"
    raise UsageError(message)


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
            handle.write(data)
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


def refusal_warnings(monograph: Monograph, result: pdf.PdfResult) -> list[Diagnostic]:
    """One warning per URL the PDF stage refused, in the ``check`` format."""
    return [
        Diagnostic(monograph.source_path, None, Level.WARNING, f"refused to fetch {url}")
        for url in result.refused_urls
    ]


def write_handout(monograph: Monograph, config: Config, target: Path) -> pdf.PdfResult:
    """Render one handout and put it at ``target`` atomically."""
    try:
        result = render_handout(monograph, config)
    except MedpdfError:
        raise
    except Exception as exc:
        raise RenderError(monograph.source_path, f"rendering failed: {exc!r}") from exc
    write_atomic(target, result.data)
    return result


@dataclass(frozen=True)
class BuildReport:
    """What a batch build did, for the summary line and the exit status."""

    built: tuple[Path, ...]
    problems: tuple[Diagnostic, ...]
    pages: int
    seconds: float

    @property
    def failed(self) -> int:
        """Monographs that produced no PDF."""
        return sum(1 for d in self.problems if d.is_error)


def build_handouts(
    collection: Collection,
    config: Config,
    progress: Callable[[Monograph], None] | None = None,
) -> BuildReport:
    """Render a handout for every valid monograph; a failure never stops the rest."""
    started = time.perf_counter()
    built: list[Path] = []
    problems: list[Diagnostic] = []
    pages = 0
    sweep_stale_temps(config.handouts_dir)
    for mono in collection.monographs:
        target = config.handouts_dir / f"{mono.slug}.pdf"
        try:
            result = write_handout(mono, config, target)
        except RenderError as exc:
            problems.append(exc.diagnostic)
        except OSError as exc:
            problems.append(
                Diagnostic(mono.source_path, None, Level.ERROR, f"cannot write {target}: {exc}")
            )
        else:
            built.append(target)
            pages += result.page_count
            problems.extend(refusal_warnings(mono, result))
        if progress is not None:
            progress(mono)
    return BuildReport(tuple(built), tuple(problems), pages, time.perf_counter() - started)
