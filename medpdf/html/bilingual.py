"""A bilingual handout: a drug's monograph and its translation, section beside section.

For a patient and a caregiver who read different languages. Two columns per
section, not facing pages: both readers look at the same section on the same
page and can point at it; facing pages drift apart as soon as one language
needs more lines than the other. Each column is rendered with its own
language's catalog (headings, disclaimer title), ``lang`` and direction, so
fonts, hyphenation and right-to-left text follow each column's language.

Sections are paired by their standard kind (Usage with Usos); a section one
side lacks gets an empty cell, so no text is ever dropped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from markupsafe import Markup

from medpdf import i18n
from medpdf.content.approvals import Review
from medpdf.content.model import Monograph
from medpdf.html.templating import (
    MonographView,
    SectionView,
    environment_for,
    monograph_view,
    page_options,
)
from medpdf.settings.config import Config
from medpdf.settings.options import CONTENT_LANG


@dataclass(frozen=True)
class Side:
    """One language's half of the handout."""

    lang: str
    dir: str
    view: MonographView


@dataclass(frozen=True)
class Row:
    """One row of the two columns: the same part in each language (either may be empty)."""

    left: Markup
    right: Markup


def side(monograph: Monograph, config: Config) -> Side:
    """A monograph's view, in its language (front matter, else the run's)."""
    lang = monograph.lang or config[CONTENT_LANG]
    return Side(lang, i18n.direction(lang), monograph_view(monograph))


def _pairs(
    first: tuple[SectionView, ...], second: tuple[SectionView, ...]
) -> list[tuple[SectionView | None, SectionView | None]]:
    """Sections of the same standard kind side by side, in the first monograph's order."""
    unused = list(second)
    pairs: list[tuple[SectionView | None, SectionView | None]] = []
    for section in first:
        match = next(
            (s for s in unused if s.key == section.key and s.key not in ("other", "component")),
            None,
        )
        if match is not None:
            unused.remove(match)
        pairs.append((section, match))
    pairs.extend((None, s) for s in unused)
    return pairs


def rows(left: Side, right: Side, config: Config) -> tuple[Row, ...]:
    """Intro, each section and the disclaimer, each in both languages."""
    macros = [
        environment_for(config, s.lang).get_template("_monograph.html.j2").module
        for s in (left, right)
    ]
    a, b = macros

    def cell(module: object, section: SectionView | None) -> Markup:
        return Markup(module.section(section)) if section is not None else Markup("")  # type: ignore[attr-defined]

    found = [Row(Markup(a.intro(left.view)), Markup(b.intro(right.view)))]  # type: ignore[attr-defined]
    for one, other in _pairs(left.view.sections, right.view.sections):
        found.append(Row(cell(a, one), cell(b, other)))
    found.append(
        Row(Markup(a.disclaimer(left.view)), Markup(b.disclaimer(right.view)))  # type: ignore[attr-defined]
    )
    return tuple(found)


def handout_html(
    monograph: Monograph, also: Monograph, config: Config, review: Review | None = None
) -> str:
    """The bilingual handout: ``monograph`` and its translation ``also``, section by section.

    ``review`` is the approval of ``monograph``'s edition, which the footer names.
    """
    first = side(monograph, config)
    page = page_options(config, lang=first.lang)
    view = monograph_view(monograph, config.online_url(monograph.slug), first.lang)
    view = dataclasses.replace(view, review=review)
    rendered = rows(Side(first.lang, page.dir, view), side(also, config), config)
    template = environment_for(config, first.lang).get_template("bilingual.html.j2")
    return template.render(drug=view, other=side(also, config), rows=rendered, page=page)
