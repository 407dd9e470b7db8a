"""``medpdf pack``: a patient's medicines in one handout (see :mod:`medpdf.build.pack`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from medpdf.cli.flags import (
    config_option,
    content_option,
    friendly_errors,
    load_settings,
    output_option,
    table_options,
)
from medpdf.config import Config


@click.command(name="pack")
@click.argument("names", nargs=-1)
@click.option(
    "--take",
    "takes",
    multiple=True,
    metavar="NAME=TIMES",
    help="When to take a medicine: morning, noon, evening, bedtime, comma-separated "
    "(ticked on page 1; without it the boxes are left to tick by hand). Repeatable.",
)
@click.option(
    "--dose",
    "doses",
    multiple=True,
    metavar='NAME="DOSE"',
    help="Dose and strength, shown in the schedule and on the wallet card, e.g. "
    '--dose apixaban="5 mg, 1 tablet". Repeatable.',
)
@click.option(
    "--note",
    "notes",
    multiple=True,
    metavar='NAME="TEXT"',
    help='A short note for a medicine\'s row, e.g. --note metformin="with food". Repeatable.',
)
@click.option(
    "--from",
    "from_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Read the medicines, times, doses and notes from a TOML file "
    "([[medicine]] name, take, dose, note).",
)
@content_option
@output_option("output/packs/<name>.pdf")
@config_option
@table_options("pack")
@friendly_errors
def pack(
    names: tuple[str, ...],
    takes: tuple[str, ...],
    doses: tuple[str, ...],
    notes: tuple[str, ...],
    from_file: Path | None,
    content_dir: Path,
    output: Path | None,
    config_file: Path | None,
    **given: Any,
) -> None:
    """Render a medication pack: "My medicines" schedule, then each medicine's handout.

    NAMES are slugs or titles, 1 to 20 of them; a name given twice counts once.
    """
    from medpdf import packlist
    from medpdf.build import handouts, render
    from medpdf.build import pack as packs

    base = packlist.read_file(from_file) if from_file is not None else None
    request = packlist.from_flags(names, takes, notes, base, doses)
    settings = load_settings("pack", config_file, content_dir, given)
    made = packs.make_pack(request, render.RunContext.of(settings), output)
    for warning in handouts.refusal_warnings(str(made.target), made.refused_urls):
        click.echo(warning.format(), err=True)
    not_translated(made.unavailable, settings)
    click.echo(
        f"wrote {made.target} ({len(made.titles)} medicines: {', '.join(made.titles)}; "
        f"{made.pages} pages)"
    )


def print_pack(names: tuple[str, ...], copies: int, settings: Config) -> None:
    """``medpdf print`` with several names: their pack, rendered into a temporary folder."""
    import tempfile

    from medpdf import packlist, printing, record
    from medpdf.build import handouts, render
    from medpdf.build import pack as packs
    from medpdf.options import PRINTER

    request = packlist.from_flags(names, (), ())
    # Unknown names, the printer and the record are checked before anything is rendered.
    packs.resolve(settings.content_dir, request.names)
    destination = printing.choose_printer(printing.destinations(), settings[PRINTER])
    kept = record.open_for(settings)
    with tempfile.TemporaryDirectory(prefix="medpdf-print-") as folder:
        made = packs.make_pack(request, render.RunContext.of(settings), Path(folder) / "pack.pdf")
        for warning in handouts.refusal_warnings("medication pack", made.refused_urls):
            click.echo(warning.format(), err=True)
        not_translated(made.unavailable, settings)
        drugs = [record.Drug.of(monograph) for monograph in made.monographs]
        title = printing.job_title("My medicines: " + ", ".join(made.titles))
        job = record.print_made(
            settings,
            kept,
            made.target,
            drugs,
            printer=destination,
            title=title,
            copies=copies,
            via="pack",
        )
    copies_note = f", {job.copies} copies" if job.copies > 1 else ""
    click.echo(
        f"sent medication pack of {len(made.titles)} medicines ({made.pages} pages{copies_note}) "
        f"to {job.printer} as job {job.job_id}"
    )


def not_translated(titles: tuple[str, ...], settings: Config) -> None:
    """One line on the terminal naming what ``--lang`` found no translation for."""
    from medpdf import i18n
    from medpdf.options import LANG

    if titles:
        language = i18n.language_name(settings[LANG], "en")
        click.echo(
            f"note: no {language} translation of {', '.join(titles)}; printed in its own language",
            err=True,
        )
