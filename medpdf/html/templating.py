"""From the monograph model to print HTML through Jinja2 templates.

Content only ever enters templates as data: autoescape is on, undefined names
fail loudly (StrictUndefined), and the only ``Markup`` values are fragments the
sanitizer has already cleaned. ``{{ 7*7 }}`` in a monograph therefore prints as
written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from medpdf import __version__, i18n
from medpdf.content import content_rules, markdown
from medpdf.content.approvals import Review
from medpdf.content.model import Monograph, Section, SectionKind
from medpdf.settings.config import Config
from medpdf.settings.kinds import PAPERS, Paper
from medpdf.settings.options import (
    CLINIC,
    COMPACT,
    CONTENT_LANG,
    DUPLEX,
    LANG,
    LARGE_PRINT,
    PAPER,
    PATIENT_FIELDS,
)
from medpdf.settings.table_kinds import ClinicInfo


@dataclass(frozen=True)
class SectionView:
    """A section ready for a template: HTML already sanitized."""

    key: str
    heading: str
    qualifier: str
    html: Markup


@dataclass(frozen=True)
class OnlineLink:
    """The drug's web page and a vector QR code of it, as a ``data:`` URI image."""

    url: str
    qr_uri: str


def online_link(url: str) -> OnlineLink:
    """Encode ``url`` as an SVG QR code.

    Error level M with the standard 4-module quiet zone scans reliably from
    paper; SVG keeps it sharp at any print resolution. The size on the page is
    set by the stylesheet (viewBox only, no intrinsic size).
    """
    import segno  # 12 ms to import; only handouts with an online link need it

    code = segno.make(url, micro=False, error="m")
    return OnlineLink(url=url, qr_uri=code.svg_data_uri(border=4, omitsize=True))


@dataclass(frozen=True)
class MonographView:
    """Everything a template may show about one monograph."""

    slug: str
    title: str
    generic_name: str | None
    intro_html: Markup
    sections: tuple[SectionView, ...]
    disclaimer_html: Markup | None
    #: The edition a printout names: the version hash (its file's path is never printed).
    digest: str
    reviewed: dt.date | None = None
    online: OnlineLink | None = None
    #: The text says the medicine is no longer made (:mod:`medpdf.content.content_rules`): a banner.
    discontinued: bool = False
    #: Who approved this edition and when (:mod:`medpdf.content.approvals`): the footer says so.
    review: Review | None = None


@dataclass(frozen=True)
class PageOptions:
    """Document-wide settings the templates and stylesheets need."""

    lang: str
    paper: Paper
    #: The date printed in the footer; None where it is stamped later (the booklet).
    generated: dt.date | None
    generator: str
    large_print: bool = False
    patient_fields: bool = False
    clinic: ClinicInfo | None = None
    #: Booklet pages for two-sided printing: mirrored margins (booklet-duplex.css).
    duplex: bool = False
    #: The compact booklet's pages: two columns, monographs running on.
    compact: bool = False
    #: Set when the handout is shown in a browser (the printing station's
    #: preview): where the stylesheets are served, and a screen stylesheet.
    screen_base: str | None = None

    @property
    def dir(self) -> str:
        """``rtl`` for Arabic, Hebrew, Persian, Urdu; else ``ltr`` (HTML ``dir``)."""
        return i18n.direction(self.lang)

    @property
    def printed(self) -> str:
        """The printed date as the language writes it."""
        return i18n.long_date(self.generated, self.lang) if self.generated else ""


def _section_key(section: Section) -> str:
    if section.kind is not None:
        return section.kind.key
    return "component" if section.component else "other"


#: A paragraph that introduces what follows: nothing but bold text ending with a colon
#: or a question mark (a label, "Calcium Phosphate:", or a question), or a line or two
#: that ends with a colon ("Dosage varies greatly depending on the intended use:"). A
#: longer one is not kept with the next block: the chain would move its lines over the
#: page too. Matched on the sanitizer's output, where text has no "<".
_LEAD_IN = re.compile(r"<p>(\s*<strong>[^<]*[:?]\s*</strong>\s*|[^<]{1,100}:\s*)</p>")
#: A list item that is only a bold question or label, as a tight or a loose list writes it
#: (a list of bold side effects, "Nausea", "Vomiting", is no chain of lead-ins).
_LEAD_IN_ITEM = re.compile(
    r'<li>(\s*(?:<p class="lead-in">)?\s*<strong>[^<]*[:?]\s*</strong>\s*(?:</p>)?\s*)</li>'
)
#: A list item of a few plain words ("Rash"): one line in every layout, even half a
#: page wide in large print.
_SHORT_ITEM = re.compile(r"<li>([^<]{1,24})</li>")


def _mark_blocks(html: str) -> str:
    """Class the blocks the stylesheet's pagination rules need to tell apart.

    ``lead-in``: a paragraph or list item of only bold text, or a paragraph
    ending with a colon, kept with what it introduces; ``short``: a one-line
    list item, which alone would leave a heading above it with a single line
    at a page foot.
    """
    html = _LEAD_IN.sub(r'<p class="lead-in">\1</p>', html)
    html = _LEAD_IN_ITEM.sub(r'<li class="lead-in">\1</li>', html)
    return _SHORT_ITEM.sub(r'<li class="short">\1</li>', html)


def _section_view(section: Section) -> SectionView:
    return SectionView(
        key=_section_key(section),
        heading=section.kind.value if section.kind else section.heading,
        qualifier=section.qualifier,
        html=Markup(_mark_blocks(markdown.to_html(section.body))),
    )


def monograph_view(
    monograph: Monograph, online_url: str | None = None, lang: str | None = None
) -> MonographView:
    """Convert the Markdown parts of a monograph to sanitized HTML.

    ``online_url`` (the drug's web page, from the config) adds a QR code;
    ``lang`` (the text's language) applies that language's content rules, so a
    discontinued medicine gets its banner.
    """
    generic = monograph.generic_name
    sections = monograph.ordered_sections()
    if generic is not None:
        # A single short generic name is shown under the title instead of as a section.
        sections = tuple(s for s in sections if s.kind is not SectionKind.GENERIC_NAME)
    return MonographView(
        slug=monograph.slug,
        title=monograph.title,
        generic_name=generic,
        intro_html=Markup(_mark_blocks(markdown.to_html(monograph.intro))),
        sections=tuple(_section_view(s) for s in sections),
        disclaimer_html=(
            Markup(markdown.to_inline_html(monograph.disclaimer)) if monograph.disclaimer else None
        ),
        digest=monograph.digest[:12],
        reviewed=monograph.reviewed,
        online=online_link(online_url) if online_url else None,
        discontinued=lang is not None and content_rules.says_discontinued(monograph, lang),
    )


def page_options(config: Config, *, dated: bool = True, lang: str | None = None) -> PageOptions:
    """Settings shared by every document of one run.

    ``dated=False`` leaves the date out of the layout: the booklet's parts are
    cached across days and its date is stamped when they are merged. ``lang``
    is the monograph's own language (front matter), else the run's.
    """
    return PageOptions(
        lang=lang or config[LANG],
        paper=PAPERS[config[PAPER]],
        generated=config.printed if dated else None,
        generator=f"medpdf {__version__}",
        large_print=config[LARGE_PRINT],
        patient_fields=config[PATIENT_FIELDS],
        clinic=config[CLINIC],
    )


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string, safe inside a ``<style>`` element."""
    escaped = "".join(f"\\{ord(c):x} " if c in '"\\<>&' or ord(c) < 0x20 else c for c in str(text))
    return Markup(f'"{escaped}"')


def css_content(message: str, **fragments: str) -> Markup:
    """A translated message as a CSS ``content`` value, placeholders replaced by CSS.

    ``"Página %(page)s de %(pages)s"`` with ``page="counter(page)"`` gives
    ``"Página " counter(page) " de " counter(pages)``: each language puts the
    numbers where its grammar wants them.
    """
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(message):
        if match.start() > position:
            parts.append(css_string(message[position : match.start()]))
        parts.append(fragments[match.group(1)])
        position = match.end()
    if position < len(message) or not parts:
        parts.append(css_string(message[position:]))
    return Markup(" ".join(parts))


def booklet_page_options(config: Config, lang: str | None = None) -> PageOptions:
    """Settings of the booklet's documents: undated (the date is stamped), duplex if asked.

    The compact booklet keeps the same margins on both sides even in duplex: it has
    no mirrored pages, so no part of it needs to start on a right-hand one.
    """
    compact = config[COMPACT]
    return replace(
        page_options(config, dated=False, lang=lang),
        duplex=config[DUPLEX] and not compact,
        compact=compact,
    )


#: How every environment compiles templates; also part of the compiled templates' file
#: names, as Jinja keys them by template and source only.
_SYNTAX: dict[str, object] = {
    "autoescape": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
    "extensions": ("jinja2.ext.i18n",),
}


@cache
def _compiled_templates() -> jinja2.BytecodeCache | None:
    """Templates compiled by an earlier process, reused while their source is unchanged.

    Compiling the handout's templates took 18-21 ms of every one-shot command;
    loading them compiled takes 3 ms. Jinja checks each entry against a
    checksum of the template's source and its own version, and keeps them in
    its default folder, which it makes private to the user (mode 0700) and
    refuses when it is not; where that folder cannot be had, templates are
    compiled each time.
    """
    syntax = hashlib.sha256(repr(sorted(_SYNTAX.items())).encode()).hexdigest()[:12]
    try:
        return jinja2.FileSystemBytecodeCache(pattern=f"medpdf-{syntax}-%s.cache")
    except (OSError, RuntimeError):
        return None


@cache
def environment(templates_dir: Path, catalog: str = i18n.FALLBACK) -> jinja2.Environment:
    """One Jinja2 environment per templates folder and catalog, strict and autoescaping.

    Each language has its own environment with its catalog installed
    (``_``, ``gettext``, ``{% trans %}``), so no render ever switches a shared one.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_compiled_templates(),
        **_SYNTAX,  # type: ignore[arg-type]
    )
    locale_dir = templates_dir.parent / "locale"
    env.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(locale_dir, catalog), newstyle=False
    )
    env.filters["css_string"] = css_string
    env.filters["css_content"] = css_content
    env.filters["local_date"] = i18n.long_date
    env.filters["language_name"] = i18n.language_name
    env.filters["local_number"] = i18n.number
    env.filters["local_list"] = i18n.list_of
    env.filters["is_rtl"] = i18n.is_rtl
    return env


def environment_for(config: Config, lang: str) -> jinja2.Environment:
    """The environment that speaks ``lang`` (its shipped catalog, else English)."""
    return environment(config.resources.templates, i18n.catalog_for(lang))


def monograph_html(
    monograph: Monograph,
    config: Config,
    *,
    booklet_letter: str | None = None,
    screen_base: str | None = None,
    in_pack: bool = False,
    own_disclaimer: bool = True,
    review: Review | None = None,
) -> str:
    """The one way a monograph becomes HTML: handouts, booklet entries and the station's preview.

    ``booklet_letter`` makes it a booklet entry (a non-empty letter opens that
    letter's group); ``screen_base`` makes it a handout shown in a browser,
    with stylesheets served from that URL; ``in_pack`` makes it a handout of a
    medication pack, whose first page carries the patient fields and whose end
    carries the disclaimer when ``own_disclaimer`` is false. (A bilingual
    handout builds on this module's views: :func:`medpdf.html.bilingual.handout_html`.)
    ``review`` is the approval of this edition, which the footer names.
    """
    lang = monograph.lang or config[CONTENT_LANG]
    templates = environment_for(config, lang)
    if booklet_letter is not None:
        page = booklet_page_options(config, lang)
        view = monograph_view(monograph, lang=lang)
        template = templates.get_template("booklet-entry.html.j2")
        return template.render(drug=view, page=page, letter=booklet_letter)
    page = page_options(config, lang=lang)
    if screen_base is not None:
        page = replace(page, screen_base=screen_base)
    view = replace(
        monograph_view(monograph, config.online_url(monograph.slug), lang), review=review
    )
    if in_pack:
        page = replace(page, patient_fields=False)
        template = templates.get_template("pack-entry.html.j2")
        return template.render(drug=view, page=page, own_disclaimer=own_disclaimer)
    return templates.get_template("handout.html.j2").render(drug=view, page=page)


def render_page(
    name: str, templates_dir: Path, catalog: str = i18n.FALLBACK, **context: object
) -> str:
    """One page of the printing station's web interface, from ``templates/serve/``.

    ``catalog`` is the interface language (:mod:`medpdf.station.language`).
    """
    template = environment(templates_dir, catalog).get_template(f"serve/{name}.html.j2")
    return template.render(**context)
