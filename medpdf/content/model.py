"""Building the monograph model from a source's text.

Pure functions over strings: front matter, section splitting, heading
recognition and per-file warnings. Line numbers are kept so every problem can
be reported as ``path:line``.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from medpdf.content import front_matter, markdown
from medpdf.content.codes import Code
from medpdf.content.section_names import DISCLAIMER_LABELS, TRANSLATED_HEADINGS
from medpdf.content.sources import Source
from medpdf.errors import Diagnostic, Level, SourceError


class SectionKind(enum.Enum):
    """The standard sections, in the order a handout presents them."""

    GENERIC_NAME = "Generic Name"
    USAGE = "Usage"
    DOSAGE = "Dosage"
    SIDE_EFFECTS = "Side Effects"
    HOW_IT_WORKS = "How it Works"
    PRECAUTIONS = "Precautions"
    FAQS = "FAQs"

    @property
    def key(self) -> str:
        """Identifier for templates and CSS classes."""
        return self.name.lower()


STANDARD_ORDER: tuple[SectionKind, ...] = tuple(SectionKind)

_ALIASES: dict[str, SectionKind] = {
    "generic name": SectionKind.GENERIC_NAME,
    "generic names": SectionKind.GENERIC_NAME,
    "generic name(s)": SectionKind.GENERIC_NAME,
    "usage": SectionKind.USAGE,
    "usages": SectionKind.USAGE,
    "uses": SectionKind.USAGE,
    "use": SectionKind.USAGE,
    "indications": SectionKind.USAGE,
    "dosage": SectionKind.DOSAGE,
    "dosages": SectionKind.DOSAGE,
    "dose": SectionKind.DOSAGE,
    "dosage and administration": SectionKind.DOSAGE,
    "side effects": SectionKind.SIDE_EFFECTS,
    "side effect": SectionKind.SIDE_EFFECTS,
    "adverse effects": SectionKind.SIDE_EFFECTS,
    "how it works": SectionKind.HOW_IT_WORKS,
    "how they work": SectionKind.HOW_IT_WORKS,
    "mechanism of action": SectionKind.HOW_IT_WORKS,
    "precautions": SectionKind.PRECAUTIONS,
    "precaution": SectionKind.PRECAUTIONS,
    "warnings and precautions": SectionKind.PRECAUTIONS,
    "faqs": SectionKind.FAQS,
    "faq": SectionKind.FAQS,
    "frequently asked questions": SectionKind.FAQS,
}

for _names in TRANSLATED_HEADINGS.values():
    _ALIASES.update({name: SectionKind[kind] for name, kind in _names.items()})

_PARENTHETICAL = re.compile(r"^(?P<name>.*?)\s*\((?P<qualifier>[^()]*)\)$")
_DASHED = re.compile(r"^(?P<name>.*?)\s+[-\u2013\u2014]\s+(?P<qualifier>.+)$")
# "**Disclaimer:**", "**Disclaimer**:", "*Disclaimer: …*", "**Important Disclaimer:**";
# the colon is required so that prose such as "Disclaimers are printed…" is not taken.
_DISCLAIMER_LABEL = re.compile(
    r"^\s*(?P<stars>[*_]{0,2})\s*(?:" + "|".join(DISCLAIMER_LABELS) + r")\b\s*"
    r"(?:[*_]{1,2}\s*[:\uff1a]|[:\uff1a]\s*[*_]{0,2})\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class HeadingMatch:
    """What a section heading says about its section."""

    kind: SectionKind | None
    qualifier: str = ""
    inline_value: str = ""


def _alias(text: str) -> SectionKind | None:
    return _ALIASES.get(" ".join(text.lower().replace("\u2019", "'").split()))


def classify_heading(heading: str) -> HeadingMatch:
    """Recognise the real variants of the standard headings.

    ``Dosage:``, ``Generic Name: X`` (value inline), ``Dosage (Not Applicable)``,
    ``Side Effects - Combined`` and ``Cefixime Usage`` all map to a standard kind;
    anything else is an unknown heading, kept as written.
    """
    text = heading.strip().rstrip(":\uff1a").strip()
    if kind := _alias(text):
        return HeadingMatch(kind)
    name, sep, value = text.partition(":")
    if sep and (kind := _alias(name)):
        return HeadingMatch(kind, inline_value=value.strip())
    for pattern in (_PARENTHETICAL, _DASHED):
        match = pattern.match(text)
        if match and (kind := _alias(match.group("name"))):
            return HeadingMatch(kind, qualifier=match.group("qualifier").strip())
    if not sep:
        for alias, kind in _ALIASES.items():
            if text.lower().endswith(" " + alias):
                prefix = text[: -len(alias)].strip()
                if prefix:
                    return HeadingMatch(kind, qualifier=prefix)
    return HeadingMatch(None)


@dataclass(frozen=True)
class Section:
    """One section of a monograph; ``kind`` is None for headings we do not know.

    ``component`` marks the per-drug sections of a combination monograph
    (``### Alprazolam`` in "Mebeverine + Alprazolam"): not standard, but expected.
    """

    heading: str
    kind: SectionKind | None
    qualifier: str
    body: str
    line: int
    component: bool = False


_WORDS = re.compile(r"[^\w]+")
_COMPONENT_SPLIT = re.compile(r"\s*[+&/]\s*|\s+and\s+", re.IGNORECASE)
_NUMBERING = re.compile(r"^\s*\d+[.)]\s*")


def _words(text: str) -> str:
    return _WORDS.sub(" ", text.casefold()).strip()


def components_of(title: str) -> tuple[str, ...]:
    """The drugs a combination title names ("A + B" -> ("a", "b")); () for a single drug."""
    parts = tuple(p for p in (_words(part) for part in _COMPONENT_SPLIT.split(title)) if p)
    return parts if len(parts) > 1 else ()


def is_component_heading(heading: str, components: tuple[str, ...]) -> bool:
    """True when ``heading`` names one component ("2. Cetirizine", "Metoprolol")."""
    name = _words(_NUMBERING.sub("", heading))
    return len(name) > 3 and any(
        name == part or part.startswith(name) or name.startswith(part) for part in components
    )


@dataclass(frozen=True)
class Monograph:
    """A parsed, validated monograph: what every later stage works from."""

    slug: str
    title: str
    source_path: str
    digest: str
    metadata: Mapping[str, Any]
    intro: str
    sections: tuple[Section, ...]
    disclaimer: str | None
    warnings: tuple[Diagnostic, ...]
    #: When a person last reviewed the text (front matter ``reviewed:``), if stated.
    reviewed: dt.date | None = None
    #: Language of the text (front matter ``lang:``, BCP 47); None: the ``[output] content_lang``.
    lang: str | None = None
    #: Slug of the monograph this one translates (front matter ``translation_of:``).
    translation_of: str | None = None
    #: What a patient reads: the inline Markdown of every block of the intro and
    #: sections (not the title heading or the disclaimer), for readability checks.
    #: Raw, so that builds, which never grade, do not pay for inline parsing.
    text_blocks: tuple[str, ...] = ()
    #: What it is for, in plain words (front matter ``purpose:``), for the medication pack.
    purpose: str | None = None
    #: The drug's codes (front matter ``codes:``), by which an EHR's list finds it.
    codes: tuple[Code, ...] = ()

    @property
    def layout(self) -> str | None:
        """The Jekyll layout named in front matter, kept for provenance."""
        value = self.metadata.get("layout")
        return str(value) if value is not None else None

    def sections_of(self, kind: SectionKind) -> tuple[Section, ...]:
        """All sections of one standard kind, in source order."""
        return tuple(s for s in self.sections if s.kind is kind)

    @property
    def generic_name(self) -> str | None:
        """The generic name as plain text, when the monograph states a single short one."""
        found = self.sections_of(SectionKind.GENERIC_NAME)
        if len(found) != 1 or found[0].qualifier:
            return None
        text = markdown.plain_text(found[0].body)
        return text if 0 < len(text) <= 200 else None

    def ordered_sections(self) -> tuple[Section, ...]:
        """Sections in the standard order when each standard kind appears once.

        Combination monographs repeat kinds per component; their own order is the
        only one that keeps each component together, so it is left alone. An
        unknown section travels with the standard section before it.
        """
        kinds = [s.kind for s in self.sections if s.kind is not None]
        if len(kinds) != len(set(kinds)):
            return self.sections
        rank = -1
        ranked: list[tuple[int, int, Section]] = []
        for position, section in enumerate(self.sections):
            if section.kind is not None:
                rank = STANDARD_ORDER.index(section.kind)
            ranked.append((rank, position, section))
        return tuple(section for _, _, section in sorted(ranked, key=lambda r: r[:2]))


def _strip_disclaimer_label(paragraph: str) -> str:
    match = _DISCLAIMER_LABEL.match(paragraph)
    if match is None:
        return paragraph.strip()
    rest = paragraph[match.end() :].strip()
    if match.group("stars") in {"*", "_"} and rest.endswith(match.group("stars")):
        rest = rest[:-1].rstrip()
    return rest


class _Heading(NamedTuple):
    level: int
    start: int  # 0-based line of the heading in the body
    end: int  # first line after it
    text: str


class _Scan(NamedTuple):
    headings: list[_Heading]
    disclaimer: tuple[int, int] | None  # line span of the last disclaimer paragraph
    sentences: list[tuple[int, str]]  # (first line, inline Markdown) of every text block


def _scan(body: str) -> _Scan:
    """Top-level headings, the disclaimer's span and the text of every block."""
    tokens = markdown.block_tokens(body)
    headings: list[_Heading] = []
    disclaimer: tuple[int, int] | None = None
    sentences: list[tuple[int, str]] = []
    for index, token in enumerate(tokens):
        if token.type == "inline" and token.map is not None:
            sentences.append((token.map[0], token.content))
        if token.map is None or token.level != 0:
            continue
        if token.type == "heading_open":
            text = markdown.plain_text(tokens[index + 1].content)
            headings.append(_Heading(int(token.tag[1]), token.map[0], token.map[1], text))
        elif token.type == "paragraph_open" and _DISCLAIMER_LABEL.match(tokens[index + 1].content):
            disclaimer = (token.map[0], token.map[1])
    return _Scan(headings, disclaimer, sentences)


def _flatten_if_deep(body: str, path: str, offset: int) -> tuple[str, list[Diagnostic]]:
    flat, deep = markdown.flatten_nesting_at(body)
    if deep is None:
        return body, []
    warning = Diagnostic(
        path,
        offset + deep,
        Level.WARNING,
        f"Markdown nested more than {markdown.MAX_DEPTH} levels deep, or more than "
        f"{markdown.MAX_BRACKETS} '[' in a paragraph; shown flattened",
    )
    return flat, [warning]


def build(source: Source) -> Monograph:
    """Parse one source into a :class:`Monograph`, or raise :class:`SourceError`."""
    path = source.display_path
    metadata, body, offset = front_matter.split_front_matter(source)
    title = front_matter.title_of(metadata, path)
    if not body.strip():
        raise SourceError(path, offset, "monograph has no body text")

    reviewed, warnings = front_matter.reviewed_of(metadata, source)
    lang, translation_of = front_matter.language_of(metadata, source)
    purpose = front_matter.purpose_of(metadata, source)
    drug_codes, code_warnings = front_matter.codes_of(metadata, source)
    warnings.extend(code_warnings)
    body, flat_warnings = _flatten_if_deep(body, path, offset)
    warnings.extend(flat_warnings)
    # markdown-it counts only "\n" as a line break; str.splitlines would also split
    # on U+2028, form feeds and others and put every later section off by a line.
    lines = body.split("\n")
    headings, disclaimer_span, sentences = _scan(body)

    disclaimer: str | None = None
    if disclaimer_span is not None:
        start, end = disclaimer_span
        disclaimer = _strip_disclaimer_label("\n".join(lines[start:end])) or None
        lines[start:end] = [""] * (end - start)

    # A leading H1 repeats the title; sections are the shallowest headings after it.
    title_heading = headings[0] if headings and headings[0].level == 1 else None
    rest = headings[1:] if title_heading else headings
    section_level = min((h.level for h in rest), default=0)
    boundaries = [h for h in rest if h.level == section_level]

    # The title, the section headings and the disclaimer are not what a patient reads.
    skipped = {h.start for h in boundaries}
    skipped.update(range(*disclaimer_span) if disclaimer_span else ())
    skipped.update(range(title_heading.end) if title_heading else ())
    text_blocks = tuple(text for line, text in sentences if text.strip() and line not in skipped)

    intro_start = title_heading.end if title_heading else 0
    intro_end = boundaries[0].start if boundaries else len(lines)
    intro = "\n".join(lines[intro_start:intro_end]).strip()

    components = components_of(title)
    sections: list[Section] = []
    stops = [h.start for h in boundaries[1:]] + [len(lines)] if boundaries else []
    for heading, stop in zip(boundaries, stops, strict=True):
        match = classify_heading(heading.text)
        section_body = "\n".join(lines[heading.end : stop]).strip()
        if match.inline_value:
            section_body = f"{match.inline_value}\n\n{section_body}".strip()
        name = heading.text.strip().rstrip(":").strip() or "(untitled)"
        line = offset + heading.start
        component = match.kind is None and is_component_heading(name, components)
        sections.append(
            Section(name, match.kind, match.qualifier, section_body, line, component=component)
        )
        if match.kind is None and not component:
            warnings.append(Diagnostic(path, line, Level.WARNING, f"unknown heading '{name}'"))

    present = {s.kind for s in sections}
    missing = [kind.value for kind in STANDARD_ORDER if kind not in present]
    if missing:
        warnings.append(
            Diagnostic(
                path, None, Level.WARNING, f"missing standard sections: {', '.join(missing)}"
            )
        )
    if not intro and not any(s.body for s in sections) and disclaimer is None:
        raise SourceError(path, offset, "monograph has headings but no text")

    return Monograph(
        slug=source.slug,
        title=title,
        source_path=path,
        digest=source.digest,
        metadata=MappingProxyType(dict(metadata)),
        intro=intro,
        sections=tuple(sections),
        disclaimer=disclaimer,
        warnings=tuple(warnings),
        reviewed=reviewed,
        lang=lang,
        translation_of=translation_of,
        text_blocks=text_blocks,
        purpose=purpose,
        codes=drug_codes,
    )
