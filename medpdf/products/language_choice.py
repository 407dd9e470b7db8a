"""``--lang`` for ``handout``, ``pack`` and ``print``: each medicine in the patient's language.

A medicine asked for by any of its names (``ibuprofen``, ``ibuprofen.es``,
"Ibuprofeno") is printed in its translation into ``--lang`` when the
collection has one (:func:`medpdf.content.translations.find`: the exact tag,
else the same primary language), else in the original, which is then named
as not available in that language (the pack says so on page 1; ``handout`` and
``print`` in one line on the terminal). The collection is scanned as ``check``
scans it (with the build cache's parse summaries when there is one), so a
broken translation link is never followed.

Two monographs of one drug in one pack (an original and its own translation)
are one medicine, not two: :func:`one_per_drug` keeps the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from medpdf.content import model, sources, translations
from medpdf.errors import SourceError
from medpdf.run import RunContext


@dataclass(frozen=True)
class Chosen:
    """The sources to print, in order, and the titles of those not in the wanted language."""

    sources: tuple[sources.Source, ...]
    unavailable: tuple[str, ...]


def choose(found: Sequence[sources.Source], lang: str, context: RunContext) -> Chosen:
    """Each source's monograph in ``lang`` where the collection has one, else the source."""
    from medpdf.products.handouts import scan_collection

    entries = scan_collection(context).entries
    by_slug = {entry.slug: entry for entry in entries}
    chosen: list[sources.Source] = []
    unavailable: list[str] = []
    for source in found:
        match = translations.find(entries, source.slug, lang)
        if match is not None:
            chosen.append(match.source)
            continue
        chosen.append(source)
        entry = by_slug.get(source.slug)
        unavailable.append(entry.title if entry else model.build(source).title)
    return Chosen(tuple(chosen), tuple(unavailable))


def drug_of(monograph: model.Monograph) -> str:
    """The drug a monograph is about: the original's slug, shared by its translations."""
    return monograph.translation_of or monograph.slug


def one_per_drug(monographs: Sequence[model.Monograph]) -> list[int]:
    """Indices of the monographs to keep: the first of each drug, in order."""
    seen: set[str] = set()
    kept: list[int] = []
    for index, monograph in enumerate(monographs):
        drug = drug_of(monograph)
        if drug not in seen:
            seen.add(drug)
            kept.append(index)
    return kept


def originals(
    monographs: Sequence[model.Monograph], content_dir: Path
) -> tuple[model.Monograph | None, ...]:
    """For each translation, the monograph it translates (its names and classes are the drug's).

    ``None`` for an original, and for a translation whose original is not there
    (``check`` reports that; the pack then knows the medicine by its own text).
    """
    wanted = {m.translation_of for m in monographs if m.translation_of}
    found: dict[str, model.Monograph] = {}
    if wanted:
        for path in sources.discover(content_dir):
            slug = sources.slug_for(path)
            if slug in wanted:
                try:
                    found[slug] = model.build(sources.read(path))
                except SourceError:  # a broken original is check's business, not the pack's
                    continue
    return tuple(found.get(m.translation_of) if m.translation_of else None for m in monographs)
