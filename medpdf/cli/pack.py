"""``medpdf pack``: a patient's medicines in one handout (see :mod:`medpdf.products.pack.make`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from medpdf.cli.flags import (
    config_option,
    content_option,
    friendly_errors,
    load_settings,
    output_option,
    table_options,
)
from medpdf.errors import UsageError
from medpdf.settings.config import Config

if TYPE_CHECKING:
    from medpdf.content.sources import Source
    from medpdf.products.pack import PackRequest
    from medpdf.run import RunContext


def fhir_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--fhir FILE``, ``--fhir-pick NAME=SLUG`` and ``--with-patient`` (pack and print)."""
    command = click.option(
        "--with-patient",
        is_flag=True,
        help="Print the patient's name and date of birth from the --fhir list on page 1 "
        "(never stored: the record keeps the pack without them).",
    )(command)
    command = click.option(
        "--fhir-pick",
        "picks",
        multiple=True,
        metavar="NAME=SLUG",
        help="The monograph of a --fhir medicine medpdf is not sure of (NAME=none: no "
        "leaflet, listed on page 1). Repeatable.",
    )(command)
    return click.option(
        "--fhir",
        "fhir_file",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Read the medicines, times, doses and notes from a FHIR R4 medication list "
        "(Bundle, MedicationRequest/MedicationStatement or NDJSON) exported by the EHR.",
    )(command)


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
@fhir_options
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
    fhir_file: Path | None,
    picks: tuple[str, ...],
    with_patient: bool,
    content_dir: Path,
    output: Path | None,
    config_file: Path | None,
    **given: Any,
) -> None:
    """Render a medication pack: "My medicines" schedule, then each medicine's handout.

    NAMES are slugs or titles, 1 to 20 of them; a name given twice counts once.
    With --fhir, the medicines, times, doses and notes come from the record's list.
    """
    from medpdf.products import pack as packs
    from medpdf.run import RunContext, refusal_warnings

    settings = load_settings("pack", config_file, content_dir, given)
    if from_file is not None and fhir_file is not None:
        raise UsageError("--from and --fhir: give one list of medicines, not two")
    base = packs.read_file(from_file) if from_file is not None else None
    if fhir_file is not None:
        base = from_record(fhir_file, picks, with_patient, settings)
    elif picks or with_patient:
        raise UsageError("--fhir-pick and --with-patient go with --fhir FILE")
    request = packs.from_flags(names, takes, notes, base, doses)
    made = packs.make_pack(request, RunContext.of(settings), output)
    for warning in refusal_warnings(str(made.target), made.refused_urls):
        click.echo(warning.format(), err=True)
    not_translated(made.unavailable, settings)
    click.echo(
        f"wrote {made.target} ({len(made.titles)} medicines: {', '.join(made.titles)}; "
        f"{made.pages} pages)"
    )


def from_record(
    path: Path, picks: tuple[str, ...], with_patient: bool, settings: Config
) -> PackRequest:
    """The pack request of a FHIR list; what was left out or has no leaflet goes to stderr."""
    from medpdf.ehr import matching, packing

    chosen = matching.parse_picks(picks)
    index, _ = packing.index_of(settings)
    made = packing.from_file(path, index, chosen, with_patient)
    for line in made.report:
        click.echo(f"{path}: note: {line}", err=True)
    return made.request


def not_translated(titles: tuple[str, ...], settings: Config) -> None:
    """One line on the terminal naming what ``--lang`` found no translation for."""
    from medpdf import i18n
    from medpdf.settings.options import LANG

    if titles:
        language = i18n.language_name(settings[LANG], "en")
        click.echo(
            f"note: no {language} translation of {', '.join(titles)}; printed in its own language",
            err=True,
        )


def in_wanted_language(source: Source, settings: Config, context: RunContext) -> Source:
    """``--lang``: the drug's translation into that language, else ``source`` and a note."""
    from medpdf.products import language_choice
    from medpdf.settings.options import LANG

    if not settings.is_given(LANG):
        return source
    chosen = language_choice.choose([source], settings[LANG], context)
    not_translated(chosen.unavailable, settings)
    return chosen.sources[0]
