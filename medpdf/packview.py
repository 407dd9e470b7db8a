"""The medication pack's own pages as HTML: "My medicines" first, the shared disclaimer last.

The medicines' handouts in between come from :func:`medpdf.templating.monograph_html`
(the one render path); this module only adds the two pages a pack has and a
handout has not. Every word a patient reads on them is in
``templates/pack.html.j2``, so that it can be translated with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from markupsafe import Markup

from medpdf import markdown, medicines
from medpdf.config import Config
from medpdf.ehr.fhir import Patient
from medpdf.model import Monograph
from medpdf.packlist import Taking, Wanted
from medpdf.templating import environment_for, page_options


@dataclass(frozen=True)
class Row:
    """One medicine on the schedule and the wallet card."""

    slug: str
    title: str
    purpose: str
    #: The times ticked (words of :data:`medpdf.medicines.TIMES`); empty boxes for the rest.
    times: tuple[str, ...]
    note: str
    #: The monograph's language: its name and purpose are in it, whatever the page's.
    lang: str = "en"
    #: Dose, meal and "when needed", when a record's list gave them (``--fhir``).
    taking: Taking = field(default_factory=Taking)
    #: False for a medicine of a record's list that has no leaflet in the collection.
    leaflet: bool = True
    #: An empty line where a note was left out, to write it by hand.
    note_line: bool = False


@dataclass(frozen=True)
class PackView:
    """Everything the pack's own pages show."""

    rows: tuple[Row, ...]
    mentions: tuple[medicines.Mention, ...]
    times: tuple[str, ...]
    #: The monographs' common disclaimer, printed once at the end; None when they differ.
    shared_disclaimer: Markup | None
    #: The language of the pack's own pages and page numbers.
    lang: str = "en"
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
    purpose_limit: int = medicines.PURPOSE_LIMIT,
    unlisted: tuple[Wanted, ...] = (),
    patient: Patient | None = None,
) -> PackView:
    """Rows in the order asked for, mentions among the medicines, and the common disclaimer.

    ``run_lang`` (``--content-lang``) is the language of a monograph without ``lang:``; the
    pack speaks its first medicine's language, as a handout speaks its monograph's.
    ``unlisted`` medicines (a record's list, no leaflet) are rows of their own at the end.
    """
    lang = (monographs[0].lang if monographs else None) or run_lang
    rows = tuple(
        Row(
            m.slug,
            m.title,
            medicines.purpose(m, purpose_limit),
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
        mentions=medicines.mentions(monographs),
        times=medicines.TIMES,
        shared_disclaimer=html if common is not None else None,
        lang=lang,
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
    return template.render(part=part, pack=view, page=page)


def numbers_html(pages: int, view: PackView, config: Config) -> str:
    """The pack-wide "Page X of Y" for ``pages`` pages, in the pack's language, as margin boxes."""
    template = environment_for(config, view.lang).get_template("pack-numbers.html.j2")
    return template.render(pages=pages, page=page_options(config, lang=view.lang))
