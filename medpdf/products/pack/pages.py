"""The medication pack's own pages as HTML: "My medicines" first, the shared disclaimer last.

The medicines' handouts in between come from :func:`medpdf.html.templating.monograph_html`
(the one render path); this module only adds the two pages a pack has and a
handout has not. Every word a patient reads on them is in
``templates/pack.html.j2``, so that it can be translated with the rest.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from markupsafe import Markup

from medpdf.content import markdown
from medpdf.content.model import Monograph
from medpdf.html.templating import environment_for, page_options
from medpdf.products.pack import interactions, medicines, purposes, wallet_card
from medpdf.products.pack.packlist import Patient, Taking, Wanted
from medpdf.settings.config import Config


@dataclass(frozen=True)
class Row:
    """One medicine on the schedule and the wallet card."""

    slug: str
    title: str
    purpose: str
    #: The times ticked (words of :data:`.medicines.TIMES`); empty boxes for the rest.
    times: tuple[str, ...]
    note: str
    #: The monograph's language: its name and purpose are in it, whatever the page's.
    lang: str = "en"
    #: Dose, meal and "when needed": a record's list (``--fhir``), or ``--dose`` for the dose.
    taking: Taking = field(default_factory=Taking)
    #: False for a medicine of a record's list that has no leaflet in the collection.
    leaflet: bool = True
    #: An empty line where a note was left out, to write it by hand.
    note_line: bool = False

    @property
    def dose(self) -> str:
        """Dose and strength ("5 mg, 1 tablet"); empty when not given."""
        return self.taking.dose

    @property
    def dose_dir(self) -> str:
        """The dose's own direction (its first strong letter): "5 mg" stays "5 mg" in Arabic."""
        for char in self.dose:
            kind = unicodedata.bidirectional(char)
            if kind in {"R", "AL"}:
                return "rtl"
            if kind == "L":
                return "ltr"
        return "ltr"


@dataclass(frozen=True)
class PackView:
    """Everything the pack's own pages show."""

    rows: tuple[Row, ...]
    #: Prompts to ask a pharmacist and shared-ingredient warnings (:mod:`.interactions`).
    findings: interactions.Findings
    times: tuple[str, ...]
    #: The monographs' common disclaimer, printed once at the end; None when they differ.
    shared_disclaimer: Markup | None
    #: The language of the pack's own pages and page numbers.
    lang: str = "en"
    #: ``--lang``, and the medicines printed in their original language for want of it.
    wanted_lang: str | None = None
    unavailable: tuple[str, ...] = ()
    #: The patient's name and birth date (``--with-patient``): printed, never stored.
    patient: Patient | None = None


def shared_disclaimer(monographs: tuple[Monograph, ...]) -> str | None:
    """The disclaimer text when every monograph has the same one ("" for the default)."""
    texts = {" ".join((m.disclaimer or "").split()) for m in monographs}
    return texts.pop() if len(texts) == 1 else None


def pack_view(
    monographs: tuple[Monograph, ...],
    wanted: tuple[Wanted, ...],
    run_lang: str,
    purpose_limit: int = purposes.PURPOSE_LIMIT,
    unlisted: tuple[Wanted, ...] = (),
    patient: Patient | None = None,
    originals: Sequence[Monograph | None] | None = None,
    page_lang: str | None = None,
    unavailable: tuple[str, ...] = (),
) -> PackView:
    """Rows in the order asked for, prompts among the medicines, and the common disclaimer.

    ``run_lang`` (``--content-lang``) is the language of a monograph without ``lang:``; the
    pack speaks its first medicine's language, as a handout speaks its monograph's.
    ``unlisted`` medicines (a record's list, no leaflet) are rows of their own at the end.
    ``originals`` holds, for each translation, the monograph it translates (its
    ingredients and classes are the original's). ``page_lang`` (``--lang``) makes
    the pack speak that language, and ``unavailable`` names the medicines that
    have no translation into it.
    """
    pack = [
        interactions.Medicine(m, o)
        for m, o in zip(monographs, originals or [None] * len(monographs), strict=True)
    ]
    # A medicine of a record's list without a leaflet still counts, by its name alone.
    pack += [interactions.named_only(w.name) for w in unlisted]
    lang = page_lang or (monographs[0].lang if monographs else None) or run_lang
    rows = tuple(
        Row(
            m.slug,
            m.title,
            purposes.purpose(m, purpose_limit, run_lang),
            w.times,
            w.note,
            m.lang or run_lang,
            w.taking,
            note_line=w.note_line,
        )
        for m, w in zip(monographs, wanted, strict=True)
    )
    rows += tuple(
        Row("", w.name, "", w.times, w.note, lang, w.taking, False, note_line=w.note_line)
        for w in unlisted
    )
    common = shared_disclaimer(monographs)
    html = Markup(markdown.to_inline_html(common)) if common else Markup("")
    return PackView(
        rows=rows,
        findings=interactions.findings(pack),
        times=medicines.TIMES,
        shared_disclaimer=html if common is not None else None,
        lang=lang,
        wanted_lang=page_lang,
        unavailable=unavailable,
        patient=patient,
    )


def pack_html(part: str, view: PackView, config: Config, screen_base: str | None = None) -> str:
    """One of the pack's own documents: ``schedule`` (page 1) or ``disclaimer`` (the end).

    They speak the pack's language (:func:`pack_view`); Arabic pages run right to left.
    ``screen_base`` shows the page in a browser (the station's preview), as for handouts.
    """
    template = environment_for(config, view.lang).get_template("pack.html.j2")
    page = page_options(config, lang=view.lang)
    if screen_base is not None:
        page = replace(page, screen_base=screen_base)
    size = wallet_card.LARGE if page.large_print else wallet_card.STANDARD
    card = wallet_card.panels([f"{row.title} {row.dose}" for row in view.rows], size)
    return template.render(part=part, pack=view, page=page, card=card)


def numbers_html(pages: int, view: PackView, config: Config) -> str:
    """The pack-wide "Page X of Y" for ``pages`` pages, in the pack's language, as margin boxes."""
    template = environment_for(config, view.lang).get_template("pack-numbers.html.j2")
    return template.render(pages=pages, page=page_options(config, lang=view.lang))
