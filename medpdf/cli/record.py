"""``medpdf history`` and ``medpdf reprint``: read the record, hand out a kept edition again.

``history`` never creates or changes the record (a missing one is simply
empty). ``reprint`` takes the exact PDF a record kept, checks it against its
SHA-256, writes or prints it, and records that too.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import click

from medpdf import printing
from medpdf.cli.flags import (
    config_option,
    copies_option,
    friendly_errors,
    load_settings,
    table_options,
)
from medpdf.errors import UsageError
from medpdf.settings.options import PRINTER


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--since must be a date like 2026-12-01, not '{value}'") from None


@click.command()
@click.argument("name", required=False)
@click.option("--since", metavar="DATE", help="Only records printed on or after DATE (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, for scripts.")
@config_option
@friendly_errors
def history(name: str | None, since: str | None, as_json: bool, config_file: Path | None) -> None:
    """List what was handed out, one line per record starting with its ID.

    NAME limits the list to drugs whose slug or title contains it.
    """
    from medpdf import record  # imported when run: the record's stack is not small

    first = _date(since)
    settings = load_settings("history", config_file, Path("content"), {})
    show = record.as_json if as_json else record.line
    for entry in record.reader_for(settings).entries(name=name, since=first):
        click.echo(show(entry))


@click.command()
@click.argument("number", metavar="ID", type=click.IntRange(min=1))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the kept PDF to this file instead of printing it.",
)
@copies_option
@config_option
@table_options("reprint")
@friendly_errors
def reprint(
    number: int, output: Path | None, copies: int, config_file: Path | None, **given: Any
) -> None:
    """Write or print again the exact PDF a record handed out (same edition, same date).

    Without -o it goes to --printer, else [print] printer, else CUPS's default.
    """
    from medpdf import record
    from medpdf.run import write_atomic

    settings = load_settings("reprint", config_file, Path("content"), given)
    if output is not None and given.get("printer"):
        raise UsageError("give either -o PATH or --printer, not both")
    # Found first through a reader: asking for a record that is not there creates nothing.
    original = record.reader_for(settings).entry(number)
    kept = record.open_for(settings)
    data = kept.pdf_of(original)
    if output is not None:
        write_atomic(output, data)
        entry = kept.keep(
            data,
            original.drugs,
            original.options,
            action=record.WRITTEN,
            via="cli",
            day=settings.printed,
            reprint_of=original.id,
        )
        click.echo(f"wrote {output} ({original.pages} pages) from record {original.id}")
        click.echo(f"recorded as {entry.id}")
        return
    destination = printing.choose_printer(printing.destinations(), settings[PRINTER])
    title = printing.job_title(" + ".join(d.title for d in original.drugs))
    paper = str(original.option_values.get("paper") or "a4")
    entry, job = record.send(
        kept,
        data,
        original.drugs,
        original.options,
        lambda: _submit(data, destination, title, copies, paper),
        via="cli",
        day=settings.printed,
        copies=copies,
        printer=destination,
        reprint_of=original.id,
    )
    copies_note = f", {job.copies} copies" if job.copies > 1 else ""
    click.echo(
        f"sent record {original.id} ({original.pages} pages{copies_note}) to {job.printer} "
        f"as job {job.job_id}"
    )
    click.echo(f"recorded as {entry.id}")


def _submit(data: bytes, printer: str, title: str, copies: int, paper: str) -> printing.PrintJob:
    """Hand the kept PDF to lp from a private temporary file (lp has read it when it returns)."""
    with tempfile.TemporaryDirectory(prefix="medpdf-reprint-") as folder:
        path = Path(folder) / "handout.pdf"
        path.write_bytes(data)
        return printing.submit(path, printer, title=title, copies=copies, paper=paper)
