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

from medpdf import __version__, build, readability
from medpdf.config import Config
from medpdf.errors import Diagnostic, MedpdfError, UsageError, count_levels, sort_key

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
@click.option(
    "--max-grade",
    type=click.FloatRange(min=0),
    default=readability.DEFAULT_MAX_GRADE,
    show_default=True,
    help="Warn when a monograph's Flesch-Kincaid reading grade is above this.",
)
@click.option("--report", is_flag=True, help="Also print the reading grade distribution.")
@_friendly_errors
def check(content_dir: Path, strict: bool, max_grade: float, report: bool) -> None:
    """Validate every monograph without rendering anything."""
    collection = build.load_collection(content_dir)
    grades = readability.grades(collection.monographs)
    diagnostics = sorted(
        [*collection.diagnostics, *readability.warnings(grades, max_grade)], key=sort_key
    )
    _print_diagnostics(diagnostics)
    if report:
        click.echo("")
        click.echo(readability.report(grades, max_grade), nl=False)
    errors, warnings = count_levels(diagnostics)
    click.echo(
        f"checked {collection.files_seen} monographs: {errors} errors, {warnings} warnings",
        err=True,
    )
    if errors or (strict and warnings):
        sys.exit(1)


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
@_friendly_errors
def handout(name: str, content_dir: Path, output: Path | None) -> None:
    """Render the patient handout of one drug, by slug or title."""
    config = Config(content_dir=content_dir)
    monograph = build.find_monograph(content_dir, name)
    target = output or config.handouts_dir / f"{monograph.slug}.pdf"
    result = build.write_handout(monograph, config, target)
    for warning in build.refusal_warnings(monograph, result):
        click.echo(warning.format(), err=True)
    click.echo(f"wrote {target} ({result.page_count} pages)")


@cli.command(name="build")
@content_option
@_friendly_errors
def build_command(content_dir: Path) -> None:
    """Check the collection, then render a handout for every monograph."""
    config = Config(content_dir=content_dir)
    collection = build.load_collection(content_dir)
    _print_diagnostics(collection.errors)
    with click.progressbar(
        length=len(collection.monographs),
        label="handouts",
        file=sys.stderr if sys.stderr.isatty() else io.StringIO(),
    ) as bar:
        report = build.build_handouts(collection, config, progress=lambda _: bar.update(1))
    _print_diagnostics(report.problems)
    failed = len(collection.errors) + report.failed
    click.echo(
        f"built {len(report.built)} handouts ({report.pages} pages) in {config.handouts_dir} "
        f"in {report.seconds:.1f} s; {failed} monographs failed",
        err=True,
    )
    if failed:
        sys.exit(1)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="medpdf")
