"""The ``medpdf`` command line: parse flags, call the build stage, print, exit.

Exit status: 0 success, 1 problems in the content or the build, 2 a bad
command line (unknown drug, missing folder). Expected failures print one line;
only a bug in medpdf itself can produce a traceback, and even then the
message says so.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from medpdf import __version__, build, config, model, printing, readability, sources
from medpdf.config import Config
from medpdf.errors import Diagnostic, MedpdfError, UsageError, count_levels, sort_key
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

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Clinic and output settings [default: ./medpdf.toml if present].",
)


def print_options(func: F) -> F:
    """Flags that change how a handout looks; each wins over medpdf.toml."""
    options = [
        click.option(
            "--paper",
            type=click.Choice(config.PAPER_SIZES, case_sensitive=False),
            default=None,
            help="Page size [default: a4, or [output] paper].",
        ),
        click.option(
            "--large-print/--no-large-print",
            default=None,
            help="Body text 16 pt, headings and margins scaled.",
        ),
        click.option("--lang", default=None, help="Language tag of the text, e.g. en or pt-BR."),
        click.option(
            "--patient-fields",
            is_flag=True,
            default=False,
            help="Blank lines for patient name, prescriber and date on page 1.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


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
@config_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any).")
@click.option(
    "--max-grade",
    type=click.FloatRange(min=0),
    default=None,
    help="Warn when a monograph's Flesch-Kincaid reading grade is above this "
    "[default: [check] max_grade of medpdf.toml, else 8].",
)
@click.option("--report", is_flag=True, help="Also print the reading grade distribution.")
@_friendly_errors
def check(
    content_dir: Path,
    config_file: Path | None,
    strict: bool,
    max_grade: float | None,
    report: bool,
) -> None:
    """Validate every monograph without rendering anything."""
    settings = config.load(config_file, content_dir=content_dir)  # a bad file is reported here
    threshold = max_grade if max_grade is not None else settings.max_grade
    collection = build.load_collection(content_dir)
    grades = readability.grades(collection.monographs)
    diagnostics = sorted(
        [*collection.diagnostics, *readability.warnings(grades, threshold)], key=sort_key
    )
    _print_diagnostics(diagnostics)
    if report:
        click.echo("")
        click.echo(readability.report(grades, threshold), nl=False)
    errors, warnings = count_levels(diagnostics)
    click.echo(
        f"checked {collection.files_seen} monographs: {errors} errors, {warnings} warnings",
        err=True,
    )
    if errors or (strict and warnings):
        sys.exit(1)


def output_option(default: str) -> Callable[[F], F]:
    """``-o/--output`` for the commands that write one PDF."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=f"Where to write the PDF [default: {default}].",
    )


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


def _settings(
    config_file: Path | None, content_dir: Path, look: dict[str, Any], printer: str | None = None
) -> Config:
    """medpdf.toml (or --config) with the print flags given on the command line on top."""
    return config.load(
        config_file,
        content_dir=content_dir,
        paper=look["paper"],
        lang=look["lang"],
        large_print=look["large_print"],
        patient_fields=look["patient_fields"] or None,
        printer=printer,
    )


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
@output_option("output/handouts/<slug>.pdf")
@config_option
@print_options
@limits_options
@_friendly_errors
def handout(
    name: str,
    content_dir: Path,
    output: Path | None,
    config_file: Path | None,
    jobs: int | None,
    time_limit: float,
    memory_limit: int,
    **look: Any,
) -> None:
    """Render the patient handout of one drug, by slug or title."""
    settings = _settings(config_file, content_dir, look)
    source = build.find_source(content_dir, name)
    target = output or settings.handouts_dir / f"{source.slug}.pdf"
    limits = _limits(1, time_limit, memory_limit)
    result = build.render_one_handout(source, settings, target, limits)
    for warning in build.refusal_warnings(source.display_path, result.refused_urls):
        click.echo(warning.format(), err=True)
    click.echo(f"wrote {target} ({result.pages} pages)")


@cli.command(name="print")
@click.argument("name")
@click.option(
    "--printer",
    default=None,
    help="CUPS printer (queue) name [default: [print] printer, else CUPS's default].",
)
@click.option(
    "--copies",
    type=click.IntRange(min=1, max=100),
    default=1,
    show_default=True,
    help="Copies to print.",
)
@content_option
@config_option
@print_options
@limits_options
@_friendly_errors
def print_command(
    name: str,
    printer: str | None,
    copies: int,
    content_dir: Path,
    config_file: Path | None,
    jobs: int | None,
    time_limit: float,
    memory_limit: int,
    **look: Any,
) -> None:
    """Render the patient handout of one drug and send it to a CUPS printer."""
    settings = _settings(config_file, content_dir, look, printer)
    source = build.find_source(content_dir, name)
    title = printing.job_title(model.build(source).title)
    # Ask CUPS first: a wrong printer name should not cost a render.
    destination = printing.choose_printer(printing.destinations(), settings.printer)
    with tempfile.TemporaryDirectory(prefix="medpdf-print-") as folder:
        target = Path(folder) / f"{source.slug}.pdf"
        result = build.render_one_handout(
            source, settings, target, _limits(1, time_limit, memory_limit)
        )
        for warning in build.refusal_warnings(source.display_path, result.refused_urls):
            click.echo(warning.format(), err=True)
        job = printing.submit(target, destination, title=title, copies=copies, paper=settings.paper)
    copies_note = f", {job.copies} copies" if job.copies > 1 else ""
    click.echo(
        f"sent {source.slug} handout ({result.pages} pages{copies_note}) to {job.printer} "
        f"as job {job.job_id}"
    )


def _left_out(problems: list[Diagnostic]) -> str:
    """The files a build left out, named in its last line."""
    paths = sorted({d.path for d in problems if d.is_error})
    if not paths:
        return ""
    shown = ", ".join(paths[:10])
    more = f" and {len(paths) - 10} more" if len(paths) > 10 else ""
    return f"left out: {shown}{more}"


def _run(config: Config, limits: Limits, handouts: bool, booklet_target: Path | None) -> int:
    """Lock the output folder, validate once, then build what was asked for.

    Returns how many monographs failed anywhere.
    """
    sources.require_folder(config.content_dir)
    problems: list[Diagnostic] = []
    with build.locked_output(config.output_dir) as store:
        catalog = build.scan_catalog(config.content_dir, store)
        _print_diagnostics(catalog.errors)
        problems += catalog.errors
        if handouts:
            with _progress(len(catalog.entries), "handouts") as bar:
                report = build.build_handouts(catalog, config, store, limits, progress=bar.update)
            _print_diagnostics(report.problems)
            problems += report.problems
            click.echo(
                f"handouts: {len(report.built)} built, {report.unchanged} unchanged, "
                f"{report.removed} removed ({report.pages} pages) in {config.handouts_dir} "
                f"in {report.seconds:.1f} s; {len(catalog.errors) + report.failed} "
                "monographs failed",
                err=True,
            )
        if booklet_target is not None:
            from medpdf import booklet

            with _progress(len(catalog.entries), "booklet") as bar:
                made = booklet.build_booklet(
                    catalog, config, store, limits, booklet_target, progress=bar.update
                )
            _print_diagnostics(made.problems)
            problems += made.problems
            click.echo(
                f"booklet: {made.monographs} monographs, {made.pages} pages in "
                f"{made.target or '(nothing to put in it)'} in {made.seconds:.1f} s "
                f"({made.chunks_laid_out} chunks laid out, {made.chunks_reused} reused); "
                f"{len(catalog.errors) + made.failed} monographs left out",
                err=True,
            )
    if summary := _left_out(problems):
        click.echo(summary, err=True)
    return len({d.path for d in problems if d.is_error})


@cli.command()
@content_option
@config_option
@print_options
@limits_options
@_friendly_errors
def handouts(
    content_dir: Path,
    config_file: Path | None,
    jobs: int | None,
    time_limit: float,
    memory_limit: int,
    **look: Any,
) -> None:
    """Render a handout for every monograph whose inputs changed."""
    settings = _settings(config_file, content_dir, look)
    if _run(settings, _limits(jobs, time_limit, memory_limit), True, None):
        sys.exit(1)


@cli.command(name="booklet")
@content_option
@output_option("output/booklet.pdf")
@config_option
@print_options
@limits_options
@_friendly_errors
def booklet_command(
    content_dir: Path,
    output: Path | None,
    config_file: Path | None,
    jobs: int | None,
    time_limit: float,
    memory_limit: int,
    **look: Any,
) -> None:
    """Build the reference booklet of every monograph (cover, contents, A-Z)."""
    if look["patient_fields"]:
        raise UsageError("--patient-fields is for handouts; the booklet has no patient fields")
    settings = _settings(config_file, content_dir, look)
    target = output or settings.booklet_path
    if _run(settings, _limits(jobs, time_limit, memory_limit), False, target):
        sys.exit(1)


@cli.command(name="build")
@content_option
@config_option
@print_options
@limits_options
@_friendly_errors
def build_command(
    content_dir: Path,
    config_file: Path | None,
    jobs: int | None,
    time_limit: float,
    memory_limit: int,
    **look: Any,
) -> None:
    """Check the collection, then render every handout and the booklet."""
    settings = _settings(config_file, content_dir, look)
    limits = _limits(jobs, time_limit, memory_limit)
    failed = _run(settings, limits, True, settings.booklet_path)
    if failed:
        sys.exit(1)


@cli.command()
@content_option
@config_option
@click.option(
    "--output",
    "output_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("output"),
    show_default=True,
    help="Output folder: the booklet is served from it, rendered PDFs are kept in it.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--queue",
    type=click.IntRange(min=0),
    default=64,
    show_default=True,
    help="Renders that may wait for a free worker; more requests get 503 Busy.",
)
@click.option(
    "--cache-size",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    help="MiB of rendered PDFs to keep; the least recently used go first.",
)
@limits_options
@_friendly_errors
def serve(
    content_dir: Path,
    config_file: Path | None,
    output_dir: Path,
    host: str,
    port: int,
    queue: int,
    cache_size: int,
    jobs: int | None,
    time_limit: float,
    memory_limit: int,
) -> None:
    """Run the clinic printing station: search, preview and print handouts in a browser."""
    from medpdf import server

    sources.require_folder(content_dir)
    settings = server.StationSettings(
        config=dataclasses.replace(
            config.load(config_file, content_dir=content_dir), output_dir=output_dir
        ),
        limits=_limits(jobs, time_limit, memory_limit),
        queue=queue,
        cache_mib=cache_size,
        allowed_hosts=server.hosts_for(host),
    )
    sock = server.listen(host, port)
    click.echo(
        f"medpdf: serving {server.url_of(sock)} from {content_dir} "
        f"with {settings.limits.jobs} render workers; press Ctrl+C to stop",
        err=True,
    )
    if settings.allowed_hosts == ("*",):
        click.echo(
            f"medpdf: warning: the station has no login; anyone who can reach {host} "
            "on this network can use it",
            err=True,
        )

    def ready(listing: server.Listing) -> None:
        problems = (
            f"; {listing.errors} left out for errors (see medpdf check)" if listing.errors else ""
        )
        click.echo(f"medpdf: ready: {len(listing.entries)} monographs{problems}", err=True)

    verbose = logging.getLogger("medpdf").isEnabledFor(logging.INFO)
    server.run(settings, sock, access_log=verbose, ready=ready)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="medpdf")
