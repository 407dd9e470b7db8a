"""``medpdf approve`` and ``medpdf review``: a pharmacist approves editions, and sees what changed.

``approve`` records the current edition of each named monograph in the
content folder's ``approvals.toml`` (and in the record); a monograph that
``check`` calls *not a leaflet*, or that has any other error, is refused in one
line and nothing is approved. ``review`` lists what is new or changed since its
last approval, with a word-level diff against the approved edition, and never
changes anything.
"""

from __future__ import annotations

from pathlib import Path

import click

from medpdf.cli.flags import config_option, content_option, friendly_errors, load_settings
from medpdf.content import approvals, content_rules, sources
from medpdf.errors import DiagnosedError, Diagnostic, Level


@click.command()
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--by",
    "by",
    required=True,
    metavar="NAME",
    help='Who approves, as the footer prints it: "Reviewed by NAME, DATE".',
)
@content_option
@config_option
@friendly_errors
def approve(names: tuple[str, ...], by: str, content_dir: Path, config_file: Path | None) -> None:
    """Approve the current edition of each monograph NAME (slug or title).

    The edition (the file's SHA-256), the approver and the time go into
    approvals.toml in the content folder, the text of the edition into its
    _approved/ folder, and the approval into the record.
    """
    from medpdf import record
    from medpdf.content import collection as catalog
    from medpdf.record import approvals as recorded

    settings = load_settings("approve", config_file, content_dir, {})
    name = approvals.check_name(by)
    rules = catalog.Rules.of(settings)
    chosen: list[tuple[sources.Source, str]] = []
    for wanted in dict.fromkeys(names):
        source = catalog.find_source(content_dir, wanted)
        summary, monograph = catalog.examine(source, rules)
        problems = [d for d in summary.diagnostics(source.display_path) if d.is_error]
        if problems or monograph is None:
            first = problems[0]
            raise DiagnosedError(
                Diagnostic(
                    first.path, first.line, Level.ERROR, f"cannot be approved: {first.message}"
                )
            )
        chosen.append((source, monograph.title))
    kept = record.open_for(settings)  # a damaged record stops here, before anything changes
    made = approvals.approve(content_dir, chosen, name)
    recorded.note(kept, [a for a, new in made if new], via="cli")
    for approval, new in made:
        if new:
            click.echo(f"approved {approval.slug} (version {approval.version}) by {approval.by}")
        else:
            day = approval.review.on.isoformat()
            click.echo(
                f"{approval.slug}: version {approval.version} was already approved by "
                f"{approval.by} on {day}"
            )


@click.command()
@click.argument("names", nargs=-1)
@click.option("--history", is_flag=True, help="List every approval the record holds instead.")
@content_option
@config_option
@friendly_errors
def review(
    names: tuple[str, ...], history: bool, content_dir: Path, config_file: Path | None
) -> None:
    """List monographs that are new or changed since their last approval, with what changed.

    NAME limits the list to those monographs. Changes are shown word by word
    against the approved edition: [-removed-] {+added+}.
    """
    from medpdf import record
    from medpdf.content import collection as catalog
    from medpdf.record import approvals as recorded

    settings = load_settings("review", config_file, content_dir, {})
    if history:
        reader = record.reader_for(settings)
        for approved in recorded.history(reader, " ".join(names) or None):
            click.echo(approved.line())
        return
    sources.require_folder(content_dir)
    found = catalog.scan(content_dir, rules=catalog.Rules.of(settings))
    wanted = {n.casefold() for n in names}

    def asked(slug: str, title: str) -> bool:
        return not wanted or slug.casefold() in wanted or title.casefold() in wanted

    current = approvals.load(content_dir)
    changed = new = 0
    for entry in sorted(found.entries, key=lambda e: e.source_path):
        if not asked(entry.slug, entry.title):
            continue
        standing = current.standing(entry.source)
        if standing.approved:
            continue
        click.echo(f"{entry.source_path}: {approvals.awaiting(standing, entry.source)}")
        if standing.approval is None:
            new += 1
            continue
        changed += 1
        before = approvals.edition_text(content_dir, standing.approval.edition)
        if before is None:
            click.echo(f"  (the approved text is not in {approvals.ARCHIVE}/: no diff to show)")
            continue
        for hunk in approvals.word_diff(before, entry.source.text):
            click.echo(f"  {hunk.plain()}")
    refused = 0
    for finding in content_rules.findings(found.errors):
        slug = sources.slug_for(Path(finding.path))
        if finding.kind is content_rules.Kind.NOT_A_LEAFLET and asked(slug, slug):
            refused += 1
            where = finding.path if finding.line is None else f"{finding.path}:{finding.line}"
            click.echo(f"{where}: not a leaflet [{finding.rule}]: cannot be approved")
    click.echo(
        f"{changed + new} awaiting review ({changed} changed, {new} new); {refused} not a leaflet",
        err=True,
    )
