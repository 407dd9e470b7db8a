"""``medpdf print``: a handout, or the medication pack of several drugs, sent to CUPS.

One flow for both: the names are checked, then the printer and the record,
before anything is rendered; the PDF is made in a private temporary folder,
recorded with the drugs it holds, and handed to ``lp``. What differs between
a handout and a pack is only how the PDF is made and what the job is called
(:class:`Printout`). A pack may come from the clinic's record system
(``--fhir``); with the patient's name on it (``--with-patient``) the record
keeps the same pack made without it: the record never holds patient data.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from medpdf.cli.flags import (
    config_option,
    content_option,
    copies_option,
    friendly_errors,
    load_settings,
    table_options,
)
from medpdf.cli.pack import fhir_options, from_record, in_wanted_language, not_translated
from medpdf.errors import UsageError
from medpdf.settings.config import Config
from medpdf.settings.options import ALSO, PRINTER

if TYPE_CHECKING:  # the record and the pack are imported when a printout is made
    from medpdf import record
    from medpdf.products.pack import PackRequest


@dataclass(frozen=True)
class Printout:
    """A PDF made for printing: where it is and what the job and the record say about it."""

    target: Path
    pages: int
    refused_urls: tuple[str, ...]
    #: Where a refused URL is reported from (the monograph's path, or the pack).
    source: str
    drugs: tuple[record.Drug, ...]
    #: The job's title in the printer's queue.
    title: str
    #: What the closing line names: "aspirin handout", "medication pack of 3 medicines".
    what: str
    #: How the record says it was printed.
    via: str
    #: The PDF the record keeps: ``target``, or the same made without the patient's name.
    kept: Path


#: Renders a checked printout into a (temporary) folder.
Render = Callable[[Path], Printout]


def _handout(name: str, settings: Config) -> Render:
    """One drug's handout; the name is resolved and the monograph checked now."""
    from medpdf import printing, record
    from medpdf.content import approvals, collection, model
    from medpdf.products import handouts
    from medpdf.run import RunContext

    source = collection.find_source(settings.content_dir, name)
    source = in_wanted_language(source, settings, RunContext.of(settings))
    collection.require_printable(source, collection.Rules.of(settings))
    review = approvals.for_handout(source, settings)
    monograph = model.build(source)

    def render(folder: Path) -> Printout:
        target = folder / f"{source.slug}.pdf"
        context = RunContext.of(settings)
        wanted: str | None = settings[ALSO]
        also = handouts.translation_for(source, wanted, context) if wanted else None
        made = handouts.render_one(source, context, target, cached=False, also=also, review=review)
        return Printout(
            target,
            made.pages,
            made.refused_urls,
            source.display_path,
            (record.Drug.of(monograph),),
            printing.job_title(monograph.title),
            f"{source.slug} handout",
            "cli",
            target,
        )

    return render


def _pack(names: tuple[str, ...], settings: Config, base: PackRequest | None = None) -> Render:
    """A medication pack, as ``medpdf pack`` makes it; names resolved now.

    ``base`` is a record's list (``--fhir``), the names adding to it.
    """
    from medpdf import printing, record
    from medpdf.products import pack as packs
    from medpdf.run import RunContext

    request = packs.from_flags(names, (), (), base)
    packs.resolve(settings.content_dir, request.names)  # unknown names: before the printer

    def render(folder: Path) -> Printout:
        context = RunContext.of(settings)
        made = packs.make_pack(request, context, folder / "pack.pdf")
        not_translated(made.unavailable, settings)
        drugs = tuple(record.Drug.of(monograph) for monograph in made.monographs)
        kept = made.target
        if request.patient is not None:
            anonymous = replace(request, patient=None)
            kept = packs.make_pack(anonymous, context, folder / "recorded.pdf").target
        return Printout(
            made.target,
            made.pages,
            made.refused_urls,
            "medication pack",
            drugs,
            printing.job_title("My medicines: " + ", ".join(made.titles)),
            f"medication pack of {len(made.titles)} medicines",
            "pack",
            kept,
        )

    return render


@click.command(name="print")
@click.argument("names", nargs=-1)
@copies_option
@fhir_options
@content_option
@config_option
@table_options("print")
@friendly_errors
def print_command(
    names: tuple[str, ...],
    copies: int,
    fhir_file: Path | None,
    picks: tuple[str, ...],
    with_patient: bool,
    content_dir: Path,
    config_file: Path | None,
    **given: Any,
) -> None:
    """Render the patient handout of one drug and send it to a CUPS printer.

    Given several drugs, or a record's list with --fhir, print their medication pack
    (as ``medpdf pack`` makes it).
    """
    from medpdf import printing, record
    from medpdf.run import refusal_warnings

    settings = load_settings("print", config_file, content_dir, given)
    if fhir_file is not None or picks or with_patient:
        if fhir_file is None:
            raise UsageError("--fhir-pick and --with-patient go with --fhir FILE")
        render = _pack(names, settings, from_record(fhir_file, picks, with_patient, settings))
    elif not names:
        raise UsageError("name a drug to print (or several for a pack, or --fhir FILE)")
    elif len(names) > 1:
        render = _pack(names, settings)
    else:
        render = _handout(names[0], settings)
    # Ask CUPS and open the record first: neither problem should cost a render.
    destination = printing.choose_printer(printing.destinations(), settings[PRINTER])
    kept = record.open_for(settings)
    with tempfile.TemporaryDirectory(prefix="medpdf-print-") as folder:
        made = render(Path(folder))
        for warning in refusal_warnings(made.source, made.refused_urls):
            click.echo(warning.format(), err=True)
        job = record.print_made(
            settings,
            kept,
            made.target,
            list(made.drugs),
            printer=destination,
            title=made.title,
            copies=copies,
            via=made.via,
            kept_pdf=made.kept,
        )
    copies_note = f", {job.copies} copies" if job.copies > 1 else ""
    click.echo(
        f"sent {made.what} ({made.pages} pages{copies_note}) to {job.printer} as job {job.job_id}"
    )
