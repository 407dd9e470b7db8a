"""The ``medpdf`` command line: parse flags, call the build stage, print, exit.

Exit status: 0 success, 1 problems in the content or the build, 2 a bad
command line (unknown drug, missing folder). Expected failures print one line;
only a bug in medpdf itself can produce a traceback, and even then the
message says so.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from medpdf import __version__, build, sources
from medpdf.config import Config
from medpdf.errors import Diagnostic, MedpdfError, UsageError, count_levels
from medpdf.workers import Limits, default_jobs

F = TypeVar("F", bound=Callable[..., Any])

content_option = click.option(
    "--content",
    "content_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("content"),
    show_default=True,
    help="Folder of monographs (searched recursively).",
)


def _friendly_errors(func: F) -> F:
    """Turn medpdf's own errors into one line and the right exit status."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            click.echo(f"medpdf: error: {exc}", err=True)
            sys.exit(2)
        except MedpdfError as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        except OSError as exc:
            click.echo(f"medpdf: error: {exc}", err=True)
            sys.exit(1)
        except Exception as exc:  # a bug in medpdf: still one line, unless debugging
            if os.environ.get("MEDPDF_DEBUG"):
                raise
            click.echo(
                f"medpdf: internal error: {exc!r} (set MEDPDF_DEBUG=1 for a traceback)", err=True
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(format="medpdf: %(levelname)s: %(message)s", stream=sys.stderr)
    logging.getLogger("medpdf").setLevel(logging.INFO if verbose else logging.WARNING)
    # WeasyPrint reports every refused URL and unsupported CSS; medpdf reports what matters.
    logging.getLogger("weasyprint").setLevel(logging.WARNING if verbose else logging.ERROR)


def _print_diagnostics(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        click.echo(diagnostic.format())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="medpdf")
@click.option("-v", "--verbose", is_flag=True, help="Log refused URLs and WeasyPrint warnings.")
def cli(verbose: bool) -> None:
    """Print-ready patient handouts and a reference booklet from drug monographs."""
    _configure_logging(verbose)


@cli.command()
@content_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any).")
@_friendly_errors
def check(content_dir: Path, strict: bool) -> None:
    """Validate every monograph without rendering anything."""
    collection = build.load_collection(content_dir)
    _print_diagnostics(collection.diagnostics)
    errors, warnings = count_levels(collection.diagnostics)
    click.echo(
        f"checked {collection.files_seen} monographs: {errors} errors, {warnings} warnings",
        err=True,
    )
    if errors or (strict and warnings):
        sys.exit(1)


def limits_options(func: F) -> F:
    """``--jobs`` and the per-render limits, shared by every command that renders."""
    func = click.option(
        "--memory-limit",
        type=click.IntRange(min=128),
        default=Limits.memory_mib,
        show_default=True,
        help="Memory limit of each render process, in MiB.",
    )(func)
    func = click.option(
        "--time-limit",
        type=click.FloatRange(min=1),
        default=Limits.seconds,
        show_default=True,
        help="Seconds one handout may take to render.",
    )(func)
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        default=None,
        help="Render processes to run at once [default: one per CPU].",
    )(func)


def _limits(jobs: int | None, time_limit: float, memory_limit: int) -> Limits:
    return Limits(jobs=jobs or default_jobs(), seconds=time_limit, memory_mib=memory_limit)


def _progress(length: int, label: str) -> Any:
    """A progress bar on a terminal; silent when output goes to a file or a pipe."""
    return click.progressbar(
        length=length, label=label, file=sys.stderr if sys.stderr.isatty() else io.StringIO()
    )


@cli.command()
@click.argument("name")
@content_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write the PDF [default: output/handouts/<slug>.pdf].",
)
@limits_options
@_friendly_errors
def handout(
    name: str,
    content_dir: Path,
    output: Path | None,
    jobs: int | None,
    time_limit: float,
    memory_limit: int,
) -> None:
    """Render the patient handout of one drug, by slug or title."""
    config = Config(content_dir=content_dir)
    source = build.find_source(content_dir, name)
    target = output or config.handouts_dir / f"{source.slug}.pdf"
    limits = _limits(1, time_limit, memory_limit)
    result = build.render_one_handout(source, config, target, limits)
    for url in result.refused_urls:
        click.echo(f"{source.display_path}: warning: refused to fetch {url}", err=True)
    click.echo(f"wrote {target} ({result.pages} pages)")


def _run_handouts(config: Config, limits: Limits) -> int:
    """Build every handout; returns how many monographs failed."""
    sources.require_folder(config.content_dir)
    with build.locked_output(config.output_dir) as store:
        catalog = build.scan_catalog(config.content_dir, store)
        _print_diagnostics(catalog.errors)
        with _progress(len(catalog.entries), "handouts") as bar:
            report = build.build_handouts(catalog, config, store, limits, progress=bar.update)
    _print_diagnostics(report.problems)
    failed = len(catalog.errors) + report.failed
    click.echo(
        f"handouts: {len(report.built)} built, {report.unchanged} unchanged, "
        f"{report.removed} removed ({report.pages} pages) in {config.handouts_dir} "
        f"in {report.seconds:.1f} s; {failed} monographs failed",
        err=True,
    )
    return failed


@cli.command()
@content_option
@limits_options
@_friendly_errors
def handouts(content_dir: Path, jobs: int | None, time_limit: float, memory_limit: int) -> None:
    """Render a handout for every monograph whose inputs changed."""
    config = Config(content_dir=content_dir)
    if _run_handouts(config, _limits(jobs, time_limit, memory_limit)):
        sys.exit(1)


def _run_booklet(config: Config, limits: Limits, target: Path) -> int:
    """Build the booklet; returns how many monographs were left out."""
    from medpdf import booklet

    sources.require_folder(config.content_dir)
    with build.locked_output(config.output_dir) as store:
        catalog = build.scan_catalog(config.content_dir, store)
        _print_diagnostics(catalog.errors)
        with _progress(len(catalog.entries), "booklet") as bar:
            report = booklet.build_booklet(
                catalog, config, store, limits, target, progress=bar.update
            )
    _print_diagnostics(report.problems)
    failed = len(catalog.errors) + report.failed
    where = report.target or "(nothing to put in it)"
    click.echo(
        f"booklet: {report.monographs} monographs, {report.pages} pages in {where} "
        f"in {report.seconds:.1f} s ({report.chunks_laid_out} chunks laid out, "
        f"{report.chunks_reused} reused); {failed} monographs left out",
        err=True,
    )
    return failed


@cli.command(name="booklet")
@content_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write the booklet [default: output/booklet.pdf].",
)
@limits_options
@_friendly_errors
def booklet_command(
    content_dir: Path,
    output: Path | None,
    jobs: int | None,
    time_limit: float,
    memory_limit: int,
) -> None:
    """Build the reference booklet of every monograph (cover, contents, A-Z)."""
    config = Config(content_dir=content_dir)
    target = output or config.booklet_path
    if _run_booklet(config, _limits(jobs, time_limit, memory_limit), target):
        sys.exit(1)


@cli.command(name="build")
@content_option
@limits_options
@_friendly_errors
def build_command(
    content_dir: Path, jobs: int | None, time_limit: float, memory_limit: int
) -> None:
    """Check the collection, then render every handout and the booklet."""
    config = Config(content_dir=content_dir)
    limits = _limits(jobs, time_limit, memory_limit)
    failed = _run_handouts(config, limits)
    failed = max(failed, _run_booklet(config, limits, config.booklet_path))
    if failed:
        sys.exit(1)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="medpdf")
