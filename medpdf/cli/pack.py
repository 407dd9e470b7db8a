"""``medpdf pack``: a patient's medicines in one handout (see :mod:`medpdf.products.pack.make`)."""

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
    help="Read the medicines, times and notes from a TOML file ([[medicine]] name, take, note).",
)
@content_option
@output_option("output/packs/<name>.pdf")
@config_option
@table_options("pack")
@friendly_errors
def pack(
    names: tuple[str, ...],
    takes: tuple[str, ...],
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
    from medpdf.products import pack as packs
    from medpdf.run import RunContext, refusal_warnings

    base = packs.read_file(from_file) if from_file is not None else None
    request = packs.from_flags(names, takes, notes, base)
    settings = load_settings("pack", config_file, content_dir, given)
    made = packs.make_pack(request, RunContext.of(settings), output)
    for warning in refusal_warnings(str(made.target), made.refused_urls):
        click.echo(warning.format(), err=True)
    click.echo(
        f"wrote {made.target} ({len(made.titles)} medicines: {', '.join(made.titles)}; "
        f"{made.pages} pages)"
    )
