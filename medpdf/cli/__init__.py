"""The ``medpdf`` command line: parse flags, call the products, print, exit.

Flags come from the option table (:mod:`medpdf.settings.options`): each command gets
the options that list it, with the option's own parsing rule, so a flag, a
``medpdf.toml`` key and a station query reject the same values the same way.
This is the one place that turns problems into text for a terminal: exit
status 0 success, 1 problems in the content or the build, 2 a bad command
line (unknown drug, bad value, missing folder). Expected failures print one
line; only a bug in medpdf itself can produce a traceback, and even then the
message says so.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
from pathlib import Path
from typing import Any, ClassVar

import click

from medpdf import __version__
from medpdf.cli.flags import (
    config_option,
    configure_logging,
    content_option,
    friendly_errors,
    load_settings,
    output_option,
    print_diagnostics,
    progress,
    table_options,
)
from medpdf.content import approvals, sources
from medpdf.errors import (
    count_levels,
    sort_key,
)
from medpdf.settings import config
from medpdf.settings.options import ALSO, CONTENT_LANG, HOST, MAX_GRADE

__all__ = ["cli", "main"]

# -- commands ----------------------------------------------------------------------


class _Commands(click.Group):
    """The command group; some commands live in their own modules, imported when called.

    ``medpdf handout`` does not import the print record, the accounts or the pack
    list (10 ms of a 0.5 s one-shot command); ``medpdf --help`` imports them all
    to show their help lines.
    """

    #: Command name -> "module:attribute" of commands defined in their own modules.
    ELSEWHERE: ClassVar[dict[str, str]] = {
        "pack": "medpdf.cli.pack:pack",
        "print": "medpdf.cli.printout:print_command",
        "history": "medpdf.cli.record:history",
        "reprint": "medpdf.cli.record:reprint",
        "users": "medpdf.cli.users:users",
        "approve": "medpdf.cli.review:approve",
        "review": "medpdf.cli.review:review",
    }

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a reader that stops reading (``| head -1``) ends it quietly.

        Whatever the command did is done (a job sent stays sent), so the exit status is 0;
        standard output goes to /dev/null so that the last flush at exit cannot fail again.
        """
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            ctx.exit(0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Commands here and elsewhere, in name order."""
        return sorted([*super().list_commands(ctx), *self.ELSEWHERE])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A command of this module, or the one its own module defines."""
        where = self.ELSEWHERE.get(cmd_name)
        if where is None:
            return super().get_command(ctx, cmd_name)
        module, name = where.split(":")
        command: click.Command = getattr(importlib.import_module(module), name)
        return command


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="medpdf")
@click.option("-v", "--verbose", is_flag=True, help="Log refused URLs and WeasyPrint warnings.")
def cli(verbose: bool) -> None:
    """Print-ready patient handouts and a reference booklet from drug monographs."""
    configure_logging(verbose)


@cli.command()
@content_option
@config_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1 on any).")
@click.option(
    "--report",
    is_flag=True,
    help="Also print the reading grade distribution, near-duplicate ingredient names, "
    "every monograph a content rule flags (not a leaflet, discontinued), the drug classes "
    "of the medication pack's prompts and where its purposes come from.",
)
@table_options("check")
@friendly_errors
def check(
    content_dir: Path, config_file: Path | None, strict: bool, report: bool, **given: Any
) -> None:
    """Validate every monograph without rendering anything."""
    from medpdf.content import collection, content_rules, readability

    settings = load_settings(
        "check", config_file, content_dir, given
    )  # a bad file is reported here
    threshold = float(settings[MAX_GRADE])
    found = collection.scan(content_dir, rules=collection.Rules.of(settings))
    grades = readability.grades(found.monographs, settings[CONTENT_LANG])
    per_file = settings.is_given(MAX_GRADE)
    warnings = readability.warnings(grades, threshold) if per_file else []
    diagnostics = sorted([*found.diagnostics, *warnings], key=sort_key)
    print_diagnostics(diagnostics)
    if not per_file and (line := readability.summary(grades, threshold)):
        click.echo(line, err=True)
    if report:
        from medpdf.content import ingredients
        from medpdf.products.pack import drug_classes, purposes

        click.echo("")
        click.echo(readability.report(grades, threshold), nl=False)
        click.echo("")
        click.echo(ingredients.report(ingredients.near_duplicates(found.monographs)), nl=False)
        click.echo("")
        click.echo(content_rules.report(diagnostics), nl=False)
        click.echo("")
        click.echo(drug_classes.report(found.monographs), nl=False)
        click.echo("")
        click.echo(purposes.report(found.monographs, settings[CONTENT_LANG]), nl=False)
    errors, warning_count = count_levels(diagnostics)
    click.echo(
        f"checked {found.files_seen} monographs: {errors} errors, {warning_count} warnings",
        err=True,
    )
    if errors or (strict and warning_count):
        sys.exit(1)


@cli.command()
@click.argument("name")
@content_option
@output_option("output/handouts/<slug>.pdf")
@config_option
@table_options("handout")
@friendly_errors
def handout(
    name: str, content_dir: Path, output: Path | None, config_file: Path | None, **given: Any
) -> None:
    """Render the patient handout of one drug, by slug or title."""
    from medpdf.cli.pack import in_wanted_language
    from medpdf.content import collection
    from medpdf.products import handouts
    from medpdf.run import RunContext, refusal_warnings

    settings = load_settings("handout", config_file, content_dir, given)
    source = collection.find_source(content_dir, name)
    # The build cache is the output folder's: a PDF written elsewhere is not recorded there.
    context = RunContext.of(settings)
    source = in_wanted_language(source, settings, context)
    collection.require_printable(source, collection.Rules.of(settings))
    review = approvals.for_handout(source, settings)
    wanted: str | None = settings[ALSO]
    also = handouts.translation_for(source, wanted, context) if wanted else None
    name_part = f"{source.slug}+{also.slug}" if also is not None else source.slug
    target = output or settings.handouts_dir / f"{name_part}.pdf"
    made = handouts.render_one(
        source, context, target, cached=output is None, also=also, review=review
    )
    for warning in refusal_warnings(source.display_path, made.refused_urls):
        click.echo(warning.format(), err=True)
    unchanged = ", unchanged" if made.reused else ""
    click.echo(f"wrote {target} ({made.pages} pages{unchanged})")


def _report(settings: config.Config, report: Any, label: str) -> list[str]:
    """Print one build's problems and summary lines; the files it left out."""
    errors = len(report.collection_errors)
    if (made := report.handouts) is not None:
        print_diagnostics(made.problems)
        click.echo(
            f"{label}handouts: {len(made.built)} built, {made.unchanged} unchanged, "
            f"{made.removed} removed ({made.pages} pages) in {settings.handouts_dir} "
            f"in {made.seconds:.1f} s; {errors + made.failed} monographs failed",
            err=True,
        )
    if (book := report.booklet) is not None:
        print_diagnostics(book.problems)
        where = book.target or "(nothing to put in it)"
        if book.volumes:
            where = f"{len(book.volumes)} volumes {book.volumes[0]} ... {book.volumes[-1].name}"
        click.echo(
            f"{label}booklet: {book.monographs} monographs, {book.pages} pages in "
            f"{where} in {book.seconds:.1f} s "
            f"({book.chunks_laid_out} chunks laid out, {book.chunks_reused} reused); "
            f"{errors + book.failed} monographs left out",
            err=True,
        )
    failed: list[str] = report.failed_files
    return failed


def _build(
    settings: config.Config,
    handouts: bool,
    booklet_target: Path | None,
    variants_file: Path | None = None,
) -> None:
    """Run a batch build (once, or once per variant), print what it found and did.

    Exits 1 if any monograph failed. The renders run on the local pool, or on
    the Dask cluster that ``--scheduler`` names (one connection for the run).
    """
    from medpdf import cluster
    from medpdf import products as build
    from medpdf.run import RunContext
    from medpdf.settings import variants

    runs = [("", settings, booklet_target)]
    if variants_file is not None:
        chosen = [v.apply(settings) for v in variants.load(variants_file)]
        runs = [(f"{c.output_dir.name}: ", c, c.booklet_path) for c in chosen]

    def collection_found(found: Any) -> None:
        print_diagnostics(found.errors)

    failed: set[str] = set()
    with cluster.runners_for(settings) as runners:
        for index, (label, run_settings, target) in enumerate(runs):
            report = build.run(
                RunContext.of(run_settings),
                handouts=handouts,
                booklet_target=target,
                progress=progress,
                # Every variant reads the same collection: its errors are printed once.
                on_collection=collection_found if index == 0 else None,
                runners=runners,
            )
            failed.update(_report(run_settings, report, label))
    if failed:
        listed = sorted(failed)
        more = f" and {len(listed) - 10} more" if len(listed) > 10 else ""
        click.echo(f"left out: {', '.join(listed[:10])}{more}", err=True)
        sys.exit(1)


@cli.command()
@content_option
@config_option
@table_options("handouts")
@friendly_errors
def handouts(content_dir: Path, config_file: Path | None, **given: Any) -> None:
    """Render a handout for every monograph whose inputs changed."""
    _build(load_settings("handouts", config_file, content_dir, given), True, None)


@cli.command(name="booklet")
@content_option
@output_option("output/booklet.pdf")
@config_option
@table_options("booklet")
@friendly_errors
def booklet_command(
    content_dir: Path, output: Path | None, config_file: Path | None, **given: Any
) -> None:
    """Build the reference booklet of the monographs in --lang (cover, contents, A-Z)."""
    settings = load_settings("booklet", config_file, content_dir, given)
    _build(settings, False, output or settings.booklet_path)


@cli.command(name="build")
@content_option
@config_option
@click.option(
    "--variants",
    "variants_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="TOML file of named variants (options or a matrix): each is built into "
    "<output>/<variant>/ with its own cache.",
)
@table_options("build")
@friendly_errors
def build_command(
    content_dir: Path, config_file: Path | None, variants_file: Path | None, **given: Any
) -> None:
    """Check the collection, then render every handout and the booklet."""
    settings = load_settings("build", config_file, content_dir, given)
    _build(settings, True, settings.booklet_path, variants_file)


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
@table_options("serve")
@friendly_errors
def serve(content_dir: Path, config_file: Path | None, output_dir: Path, **given: Any) -> None:
    """Run the clinic printing station: search, preview and print handouts in a browser."""
    from medpdf import record
    from medpdf.settings.options import PORT
    from medpdf.station import serve as serving
    from medpdf.station.listing import Listing

    sources.require_folder(content_dir)
    settings = load_settings("serve", config_file, content_dir, given, output_dir)
    record.open_for(settings)  # a damaged record stops the station here, in one line
    plan = serving.plan(settings)
    station = plan.settings
    sock = serving.listen(settings[HOST], int(settings[PORT]))
    click.echo(
        f"medpdf: serving {serving.url_of(sock, plan.tls is not None)} from {content_dir} "
        f"with {station.context.limits.jobs} render workers; press Ctrl+C to stop",
        err=True,
    )
    if station.access.users_file is not None:
        click.echo(f"medpdf: accounts from {station.access.users_file}", err=True)
    if station.access.cleartext:
        click.echo(
            "medpdf: warning: no TLS (--certfile/--keyfile): passwords cross the network "
            "in clear text",
            err=True,
        )

    def ready(listing: Listing) -> None:
        problems = (
            f"; {listing.errors} left out for errors (see medpdf check)" if listing.errors else ""
        )
        click.echo(f"medpdf: ready: {len(listing.entries)} monographs{problems}", err=True)

    verbose = logging.getLogger("medpdf").isEnabledFor(logging.INFO)
    serving.run(
        station,
        sock,
        access_log=verbose,
        ready=ready,
        limits=plan.limits,
        tls=plan.tls,
        proxies=plan.proxies,
    )


#: Container allocations between young-generation collections (Python's default is 700).
#: A handout allocates about 180,000 (WeasyPrint's boxes, parsed CSS, the imports):
#: with the default the cyclic collector ran 278 times and took 93 ms of a 0.6 s
#: one-shot handout, at 50,000 it runs 3 times and takes 41 ms, with the same
#: peak memory (93 MB; a 20-medicine pack: 141 MB against 139 MB). Older
#: generations keep their default thresholds, so a long-running station still
#: collects its old cycles; worker processes (spawned) keep Python's defaults.
GC_YOUNG_THRESHOLD = 50_000


def main() -> None:
    """Console-script entry point: the process runs one command and ends."""
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    try:
        cli(prog_name="medpdf")
    finally:
        # Interpreter shutdown collects every object once more (75 ms after a handout,
        # measured from the command's last line to the process's end); frozen objects are
        # skipped. Files and databases are closed by then: nothing relies on that pass.
        gc.freeze()
