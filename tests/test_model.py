"""The monograph model: front matter, section splitting, headings, disclaimers, warnings.

The fixtures in ``tests/fixtures/variants`` are invented monographs written in the
shapes the real collection uses (see the brief in each test).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from medpdf.content import model, sources
from medpdf.content.model import HeadingMatch, SectionKind, classify_heading
from medpdf.errors import Level, SourceError

VARIANTS = Path(__file__).resolve().parent / "fixtures" / "variants"

K = SectionKind
ALL_KINDS = [
    K.GENERIC_NAME,
    K.USAGE,
    K.DOSAGE,
    K.SIDE_EFFECTS,
    K.HOW_IT_WORKS,
    K.PRECAUTIONS,
    K.FAQS,
]


def load(name: str) -> model.Monograph:
    return model.build(sources.read(VARIANTS / f"{name}.md"))


def source_of(text: str, slug: str = "zentorex") -> sources.Source:
    """A Source that never touched the disk, for error cases."""
    return sources.Source(
        path=Path(f"{slug}.md"),
        display_path=f"content/{slug}.md",
        slug=slug,
        text=text,
        digest="0" * 64,
    )


def build_text(text: str, slug: str = "zentorex") -> model.Monograph:
    return model.build(source_of(text, slug))


def shape(mono: model.Monograph) -> list[tuple[str, SectionKind | None, str, int]]:
    return [(s.heading, s.kind, s.qualifier, s.line) for s in mono.sections]


def fixture_lines(name: str) -> list[str]:
    return (VARIANTS / f"{name}.md").read_text(encoding="utf-8").splitlines()


ALL_FIXTURES = sorted(p.stem for p in VARIANTS.glob("*.md"))


def test_fixture_set_is_complete():
    assert set(ALL_FIXTURES) >= {
        "standard",
        "colon-headings",
        "qualifiers",
        "component-prefixed",
        "combination",
        "missing-sections",
        "inline-html",
        "shuffled",
    }


# --------------------------------------------------------------------------- standard


def test_standard_monograph():
    mono = load("standard")
    assert mono.slug == "standard"
    assert mono.title == "Zentorex"
    assert mono.layout == "minimal-medicine"
    assert mono.metadata["title"] == "Zentorex"
    assert mono.source_path == sources.display_path(VARIANTS / "standard.md")
    assert len(mono.digest) == 64
    assert mono.intro == ""
    assert shape(mono) == [
        ("Generic Name", K.GENERIC_NAME, "", 7),
        ("Usage", K.USAGE, "", 10),
        ("Dosage", K.DOSAGE, "", 13),
        ("Side Effects", K.SIDE_EFFECTS, "", 16),
        ("How it Works", K.HOW_IT_WORKS, "", 20),
        ("Precautions", K.PRECAUTIONS, "", 23),
        ("FAQs", K.FAQS, "", 26),
    ]
    bodies = {s.kind: s.body for s in mono.sections}
    assert bodies[K.GENERIC_NAME] == "Zentorex"
    assert bodies[K.DOSAGE] == "Adults take one 10 mg tablet each morning."
    assert bodies[K.SIDE_EFFECTS] == (
        "* **Common:** Mild headache, dry mouth.\n* **Rare:** Sneezing fits."
    )
    # The disclaimer is lifted out of the last section, which keeps only the FAQ.
    assert (
        bodies[K.FAQS] == "**Q: Can I take Zentorex with food?**\n\nA: Yes, with or without food."
    )
    assert mono.disclaimer == "This fixture text is for testing only and is not medical advice."
    assert mono.generic_name == "Zentorex"
    assert mono.warnings == ()
    assert mono.ordered_sections() == mono.sections


def test_metadata_is_read_only():
    mono = load("standard")
    with pytest.raises(TypeError):
        mono.metadata["title"] = "Other"  # type: ignore[index]


def test_slug_is_lower_cased_file_name(tmp_path: Path):
    path = tmp_path / "Zentorex-XR.md"
    path.write_text((VARIANTS / "standard.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert model.build(sources.read(path)).slug == "zentorex-xr"


# --------------------------------------------------------------------------- variants


def test_trailing_colons_and_inline_values():
    mono = load("colon-headings")
    assert mono.title == "Quorvalin"
    assert [s.kind for s in mono.sections] == ALL_KINDS
    assert [s.line for s in mono.sections] == [7, 9, 11, 14, 17, 20, 23]
    assert all(s.qualifier == "" for s in mono.sections)
    # `### Dosage:` loses its colon.
    assert [s.heading for s in mono.sections][2:] == [
        "Dosage",
        "Side Effects",
        "How it Works",
        "Precautions",
        "FAQs",
    ]
    bodies = {s.kind: s.body for s in mono.sections}
    # `### Generic Name: Quorvalin` and `### Usage: text` carry their value inline.
    assert bodies[K.GENERIC_NAME] == "Quorvalin"
    assert bodies[K.USAGE] == "Quorvalin is a pretend nasal spray for pretend congestion."
    assert bodies[K.DOSAGE] == "Two sprays in each nostril twice a day."
    assert mono.generic_name == "Quorvalin"
    # `*Disclaimer: ...*` loses the label and both emphasis markers.
    assert mono.disclaimer == "This fixture is invented for tests and is not medical advice."
    assert "Disclaimer" not in bodies[K.FAQS]
    assert mono.warnings == ()


def test_parenthetical_and_dashed_qualifiers():
    mono = load("qualifiers")
    assert mono.title == "Brintafen + Moxaline"
    assert (
        mono.intro == "Brintafen and Moxaline are two invented medicines described together here."
    )
    assert shape(mono) == [
        ("Generic Name (Not Applicable)", K.GENERIC_NAME, "Not Applicable", 9),
        ("Usage (Individual Components)", K.USAGE, "Individual Components", 13),
        ("Dosage (Not Applicable)", K.DOSAGE, "Not Applicable", 18),
        ("Side Effects (Individual Components)", K.SIDE_EFFECTS, "Individual Components", 22),
        ("How it Works - Combined", K.HOW_IT_WORKS, "Combined", 27),
        ("Storage Tips", None, "", 31),
        ("Precautions", K.PRECAUTIONS, "", 35),
        ("FAQs (Combined Use)", K.FAQS, "Combined Use", 39),
    ]
    assert mono.sections[5].body == "Keep both in a cool, dry place."
    # A generic name that is "(Not Applicable)" is no name at all.
    assert mono.generic_name is None
    # `**Important Disclaimer:**` is a disclaimer too.
    assert mono.disclaimer == "This fixture is invented for tests.  It is not medical advice."
    assert (
        mono.sections[-1].body
        == "**Q: Can they be taken together?**\n\nA: Only if a doctor says so."
    )
    # Only the unknown heading is worth a warning: every standard kind is present.
    assert [(w.line, w.level, w.message) for w in mono.warnings] == [
        (31, Level.WARNING, "unknown heading 'Storage Tips'")
    ]
    assert mono.warnings[0].path == mono.source_path
    assert mono.warnings[0].format() == (
        f"{mono.source_path}:31: warning: unknown heading 'Storage Tips'"
    )


def test_component_prefixed_headings():
    mono = load("component-prefixed")
    assert shape(mono) == [
        ("Generic Name", K.GENERIC_NAME, "", 7),
        ("Velcitrin Usage", K.USAGE, "Velcitrin", 10),
        ("Dorapam Usage", K.USAGE, "Dorapam", 14),
        ("Dosage (Velcitrin & Dorapam)", K.DOSAGE, "Velcitrin & Dorapam", 18),
        ("Side Effects (Velcitrin & Dorapam)", K.SIDE_EFFECTS, "Velcitrin & Dorapam", 23),
        ("How it Works (Velcitrin & Dorapam)", K.HOW_IT_WORKS, "Velcitrin & Dorapam", 27),
        ("Precautions (Velcitrin & Dorapam)", K.PRECAUTIONS, "Velcitrin & Dorapam", 31),
        ("FAQs", K.FAQS, "", 35),
    ]
    usages = mono.sections_of(K.USAGE)
    assert [s.body for s in usages] == [
        "Velcitrin is an invented antibiotic for pretend infections.",
        "Dorapam is an invented antibiotic for other pretend infections.",
    ]
    assert mono.generic_name == "Velcitrin + Dorapam"
    assert mono.disclaimer == "This fixture is invented for tests and is not medical advice."
    assert mono.warnings == ()
    # Usage repeats per component, so the source order is kept as written.
    assert mono.ordered_sections() == mono.sections


def test_combination_with_per_component_sections():
    mono = load("combination")
    assert mono.title == "Aldravix + Serumet"
    assert mono.intro == (
        "Aldravix and Serumet are **two separate invented medicines** "
        "that are sometimes given together."
    )
    assert shape(mono) == [
        ("Aldravix", None, "", 9),
        ("Serumet", None, "", 21),
        ("Combined Use of Aldravix and Serumet", None, "", 29),
        ("FAQs (Combined Use)", K.FAQS, "Combined Use", 33),
    ]
    aldravix, serumet = mono.sections[0], mono.sections[1]
    # The bold `**Usage:**` paragraphs stay inside their component's section.
    assert aldravix.body.startswith("**Generic Name:** Aldravix\n\n**Usage:** Aldravix is")
    assert aldravix.body.endswith("* **Common:** Yawning.")
    assert "Serumet" not in aldravix.body
    assert serumet.body == (
        "**Generic Name:** Serumet\n\n"
        "**Usage:** Serumet is a pretend remedy for pretend low mood.\n\n"
        "**Dosage:** One capsule each morning."
    )
    assert mono.sections_of(K.USAGE) == ()
    assert mono.generic_name is None
    assert mono.disclaimer is None
    # Headings naming a component of the title are expected, not unknown.
    assert [s.component for s in mono.sections] == [True, True, False, False]
    assert [(w.line, w.message) for w in mono.warnings] == [
        (29, "unknown heading 'Combined Use of Aldravix and Serumet'"),
        (
            None,
            "missing standard sections: Generic Name, Usage, Dosage, Side Effects, "
            "How it Works, Precautions",
        ),
    ]
    assert all(w.level is Level.WARNING for w in mono.warnings)


def test_missing_sections_and_no_disclaimer():
    mono = load("missing-sections")
    assert shape(mono) == [("Usage", K.USAGE, "", 7), ("Dosage", K.DOSAGE, "", 10)]
    assert mono.sections[-1].body == "One drop in each eye at bedtime."
    assert mono.disclaimer is None
    assert mono.generic_name is None
    assert len(mono.warnings) == 1
    warning = mono.warnings[0]
    assert warning.level is Level.WARNING
    assert warning.line is None
    assert warning.message == (
        "missing standard sections: Generic Name, Side Effects, How it Works, Precautions, FAQs"
    )
    assert warning.format() == f"{mono.source_path}: warning: {warning.message}"


def test_inline_html_and_special_characters_survive_parsing():
    mono = load("inline-html")
    bodies = {s.kind: s.body for s in mono.sections}
    assert "GABA<sub>A</sub>" in bodies[K.USAGE]
    assert "H<sup>+</sup>, K<sup>+</sup>" in bodies[K.USAGE]
    assert "<i>Imaginaria fictiva</i>" in bodies[K.USAGE]
    assert "≥18" in bodies[K.DOSAGE]
    assert "5 µg/kg" in bodies[K.DOSAGE]
    assert "m²" in bodies[K.DOSAGE]
    assert bodies[K.SIDE_EFFECTS] == (
        "Raised CaCO₃ levels and changes in β-receptor activity; H⁺ reflux."
    )
    assert [s.line for s in mono.sections] == [7, 10, 13, 16, 19, 22, 25]
    # `**Disclaimer:** *text*` keeps the emphasis of its text, not the label.
    assert mono.disclaimer == "*This fixture is invented for tests and is not medical advice.*"
    assert mono.warnings == ()


def test_shuffled_sections_are_put_in_standard_order():
    mono = load("shuffled")
    assert mono.intro == "Okavir is an invented cream whose sections were written out of order."
    assert [s.heading for s in mono.sections] == [
        "Overview",
        "FAQs",
        "Dosage",
        "Storage",
        "Usage",
        "Precautions",
        "Side Effects",
        "How it Works",
        "Generic Name",
    ]
    # An unknown section before any standard one stays first; `Storage` travels with
    # the Dosage section it followed.
    assert [s.heading for s in mono.ordered_sections()] == [
        "Overview",
        "Generic Name",
        "Usage",
        "Dosage",
        "Storage",
        "Side Effects",
        "How it Works",
        "Precautions",
        "FAQs",
    ]
    # ordered_sections() never drops or invents a section.
    assert sorted(mono.ordered_sections(), key=lambda s: s.line) == list(mono.sections)
    # The disclaimer was the last paragraph of the Generic Name section.
    assert mono.sections_of(K.GENERIC_NAME)[0].body == "Okavir"
    assert mono.generic_name == "Okavir"
    assert [(w.line, w.message) for w in mono.warnings] == [
        (9, "unknown heading 'Overview'"),
        (20, "unknown heading 'Storage'"),
    ]


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_section_lines_point_at_their_headings(name: str):
    mono = load(name)
    lines = fixture_lines(name)
    assert mono.sections
    for section in mono.sections:
        line = lines[section.line - 1]
        assert line.startswith("### "), (section.heading, section.line, line)
        assert section.heading in " ".join(line.split())


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_disclaimer_never_left_in_a_body(name: str):
    mono = load(name)
    text = "\n".join([mono.intro, *(s.body for s in mono.sections)])
    assert "Disclaimer" not in text
    has_disclaimer = any("isclaimer" in line for line in fixture_lines(name))
    assert (mono.disclaimer is not None) == has_disclaimer
    if mono.disclaimer is not None:
        assert "Disclaimer" not in mono.disclaimer
        assert not mono.disclaimer.startswith((":", "*:", " "))


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_slug_and_title_of_every_fixture(name: str):
    mono = load(name)
    assert mono.slug == name
    assert mono.title
    assert f"# {mono.title}" in fixture_lines(name)


# --------------------------------------------------------------------------- disclaimers

BASE = (
    "---\nlayout: minimal-medicine\ntitle: Zentorex\n---\n\n# Zentorex\n### FAQs\nA question.\n\n"
)


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("**Disclaimer:** Not medical advice.", "Not medical advice."),
        ("**Disclaimer:**  Not medical advice.", "Not medical advice."),
        ("**Disclaimer**: Not medical advice.", "Not medical advice."),
        ("*Disclaimer: Not medical advice.*", "Not medical advice."),
        ("**Important Disclaimer:** Not medical advice.", "Not medical advice."),
        ("**IMPORTANT DISCLAIMER:** Not medical advice.", "Not medical advice."),
        ("Disclaimer: Not medical advice.", "Not medical advice."),
        ("**Disclaimer:** *Not medical advice.*", "*Not medical advice.*"),
        ("**Disclaimer:** Line one\nline two.", "Line one\nline two."),
    ],
)
def test_disclaimer_variants(paragraph: str, expected: str):
    mono = build_text(BASE + paragraph + "\n")
    assert mono.disclaimer == expected
    assert mono.sections[-1].body == "A question."


def test_no_disclaimer():
    mono = build_text(BASE)
    assert mono.disclaimer is None
    assert mono.sections[-1].body == "A question."


def test_word_starting_with_disclaimer_is_not_a_disclaimer():
    # "Disclaimers ..." is ordinary text, not the labelled disclaimer paragraph.
    mono = build_text(BASE + "Disclaimers are printed on every box.\n")
    assert mono.disclaimer is None
    assert mono.sections[-1].body == "A question.\n\nDisclaimers are printed on every box."


def test_disclaimer_inside_a_list_is_left_alone():
    mono = build_text(BASE + "* **Disclaimer:** part of a list\n")
    assert mono.disclaimer is None
    assert "part of a list" in mono.sections[-1].body


# --------------------------------------------------------------------------- generic_name

GENERIC = "---\ntitle: Zentorex\n---\n# Zentorex\n{sections}\n### Usage\nSomething.\n"


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ("### Generic Name\nZentorex", "Zentorex"),
        ("### Generic Name\n**Zentorex** *sodium*", "Zentorex sodium"),
        ("### Generic Name: Zentorex", "Zentorex"),
        ("### Generic Names\nZentorex + Pellorin", "Zentorex + Pellorin"),
        ("### Generic Name (Not Applicable)\nNone.", None),
        ("### Generic Name\nZentorex\n\n### Generic Name\nPellorin", None),
        ("### Generic Name\n" + "Zentorex " * 30, None),
        ("### Dosage\nOne.", None),
    ],
)
def test_generic_name(sections: str, expected: str | None):
    assert build_text(GENERIC.format(sections=sections)).generic_name == expected


# --------------------------------------------------------------------------- structure


def test_line_numbers_with_leading_blank_lines_and_bom():
    text = "\ufeff\n\n---\ntitle: Zentorex\n---\n# Zentorex\n### Usage\nOne.\n\n### Dosage\nTwo.\n"
    mono = build_text(text)
    assert [(s.heading, s.line) for s in mono.sections] == [("Usage", 7), ("Dosage", 10)]
    assert mono.title == "Zentorex"


def test_line_numbers_with_crlf():
    text = (
        "---\r\ntitle: Zentorex\r\n---\r\n# Zentorex\r\n### Usage\r\nOne.\r\n### Dosage\r\nTwo.\r\n"
    )
    mono = build_text(text)
    assert [(s.heading, s.line, s.body) for s in mono.sections] == [
        ("Usage", 5, "One."),
        ("Dosage", 7, "Two."),
    ]


def test_without_h1_every_heading_is_a_section():
    mono = build_text("---\ntitle: Zentorex\n---\n### Usage\nOne.\n### Dosage\nTwo.\n")
    assert [(s.heading, s.line) for s in mono.sections] == [("Usage", 4), ("Dosage", 6)]
    assert mono.intro == ""


def test_deeper_headings_stay_inside_their_section():
    text = (
        "---\ntitle: Zentorex\n---\n# Zentorex\n### Side Effects\nSome.\n"
        "#### Rare\nVery few.\n### Precautions\nCare.\n"
    )
    mono = build_text(text)
    assert [s.heading for s in mono.sections] == ["Side Effects", "Precautions"]
    assert mono.sections[0].body == "Some.\n#### Rare\nVery few."


def test_headings_inside_blockquotes_are_not_sections():
    text = "---\ntitle: Zentorex\n---\n# Zentorex\n### Usage\nOne.\n> ### Dosage\n> quoted\n"
    mono = build_text(text)
    assert [s.heading for s in mono.sections] == ["Usage"]
    assert "quoted" in mono.sections[0].body


def test_title_whitespace_is_collapsed_and_numbers_become_text():
    assert build_text('---\ntitle: "  Zen\\n  torex  "\n---\nText.\n').title == "Zen torex"
    assert build_text("---\ntitle: 42\n---\nText.\n").title == "42"


def test_body_without_headings_is_intro():
    mono = build_text("---\ntitle: Zentorex\n---\nJust a paragraph.\n")
    assert mono.sections == ()
    assert mono.intro == "Just a paragraph."


@pytest.mark.parametrize(
    "deep",
    [
        pytest.param(">" * 5000 + " deep", id="blockquotes"),
        pytest.param("- " * 5000 + "deep", id="bullets"),
        pytest.param("\n".join("  " * i + "- deep" for i in range(200)), id="indented-200"),
        pytest.param("Text\n" + "![" * 5000 + " deep", id="unclosed-brackets"),
    ],
)
def test_absurd_nesting_is_flattened_with_a_warning_on_its_line(deep: str):
    text = (
        "---\ntitle: Zentorex\n---\n# Zentorex\n### Usage\n"
        + deep
        + "\n\n### Precautions\nAvoid alcohol.\n\n**Disclaimer:** Not advice.\n"
    )
    started = time.perf_counter()
    mono = build_text(text)
    assert time.perf_counter() - started < 10
    assert [s.heading for s in mono.sections] == ["Usage", "Precautions"]
    assert "deep" in mono.sections[0].body
    assert mono.sections[1].body == "Avoid alcohol."
    assert mono.disclaimer == "Not advice."
    nesting = [w for w in mono.warnings if "nested more than" in w.message]
    assert len(nesting) == 1
    assert nesting[0].line is not None and nesting[0].line >= 6


@pytest.mark.parametrize(
    "deep",
    [
        pytest.param(">" * 20 + " deep", id="blockquotes-20"),
        pytest.param("[" * 5000, id="brackets"),
        pytest.param("- " * 12 + "deep", id="bullets-12"),
        pytest.param("1. " * 12 + "deep", id="ordered-12"),
        pytest.param("\n".join("  " * i + "- deep" for i in range(12)), id="indented-12"),
    ],
)
def test_sections_after_deep_nesting_are_not_lost(deep: str):
    text = (
        "---\ntitle: Zentorex\n---\n# Zentorex\n"
        f"### Side Effects\n{deep}\n\n"
        "### Precautions\nAvoid alcohol.\n\n**Disclaimer:** Not advice.\n"
    )
    mono = build_text(text)
    assert [s.heading for s in mono.sections] == ["Side Effects", "Precautions"]
    assert mono.sections[1].body == "Avoid alcohol."
    assert mono.disclaimer == "Not advice."


@pytest.mark.parametrize("separator", ["\u2028", "\x0c", "\x85"])
def test_unicode_line_separators_inside_a_paragraph(separator: str):
    # Markdown does not treat these as line breaks; the split into sections must agree.
    text = (
        "---\ntitle: Zentorex\n---\n# Zentorex\n"
        f"### Usage\nfirst{separator}second\n\n"
        "### Dosage\nOne tablet.\n\n**Disclaimer:** Not advice.\n"
    )
    mono = build_text(text)
    assert [(s.heading, s.line) for s in mono.sections] == [("Usage", 5), ("Dosage", 8)]
    assert mono.sections[1].body == "One tablet."
    assert mono.disclaimer == "Not advice."


# --------------------------------------------------------------------------- errors


def error_of(text: str) -> SourceError:
    with pytest.raises(SourceError) as info:
        build_text(text)
    assert info.value.diagnostic.level is Level.ERROR
    assert info.value.diagnostic.path == "content/zentorex.md"
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("# Zentorex\n### Usage\nOne.\n", 1, "missing front matter (expected '---' block)"),
        ("", 1, "missing front matter (expected '---' block)"),
        (
            "---\ntitle: Zentorex\n# Zentorex\n### Usage\nOne.\n",
            1,
            "front matter is not closed with '---'",
        ),
        ("---\nlayout: minimal-medicine\n---\n# Z\nOne.\n", 1, "front matter has no 'title'"),
        ("---\ntitle: ''\n---\n# Z\nOne.\n", 1, "front matter has no 'title'"),
        ("---\ntitle: '   '\n---\n# Z\nOne.\n", 1, "front matter has no 'title'"),
        ("---\ntitle:\n---\n# Z\nOne.\n", 1, "front matter has no 'title'"),
        ("---\n---\n# Z\nOne.\n", 1, "front matter has no 'title'"),
        (
            "---\ntitle: [Zentorex, Pellorin]\n---\n# Z\nOne.\n",
            1,
            "front matter 'title' must be text",
        ),
        ("---\ntitle:\n  - Zentorex\n---\n# Z\nOne.\n", 1, "front matter 'title' must be text"),
        ("---\ntitle: {a: 1}\n---\n# Z\nOne.\n", 1, "front matter 'title' must be text"),
        ("---\ntitle: !!binary aGk=\n---\n# Z\nOne.\n", 1, "front matter 'title' must be text"),
        ("---\ntitle: !!set {a, b}\n---\n# Z\nOne.\n", 1, "front matter 'title' must be text"),
        (
            "---\n- Zentorex\n- Pellorin\n---\n# Z\nOne.\n",
            1,
            "front matter must be a mapping of keys to values",
        ),
    ],
)
def test_source_errors(text: str, line: int, message: str):
    error = error_of(text)
    assert error.diagnostic.line == line
    assert error.diagnostic.message == message
    assert str(error) == f"content/zentorex.md:{line}: error: {message}"


@pytest.mark.parametrize(
    "text",
    [
        "---\ntitle: Zentorex\n---\n",
        "---\ntitle: Zentorex\n---\n\n\n   \n",
    ],
)
def test_empty_body(text: str):
    error = error_of(text)
    assert error.diagnostic.message == "monograph has no body text"
    # Reported after the front matter, not at its start.
    assert error.diagnostic.line is not None and error.diagnostic.line > 3


def test_headings_without_text():
    error = error_of("---\ntitle: Zentorex\n---\n# Zentorex\n### Usage\n### Dosage\n")
    assert error.diagnostic.message == "monograph has headings but no text"


MAPPING = "broken front matter: mapping values are not allowed in this context"
TAB = "broken front matter: found a tab character that violates indentation"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param(
            "---\nlayout: minimal-medicine\ntitle: Zentorex: XR\n---\n# Z\nOne.\n",
            3,
            MAPPING,
            id="colon-in-value-line-3",
        ),
        pytest.param(
            "---\nlayout: minimal-medicine\n\ttitle: Zentorex\n---\n# Z\nOne.\n",
            3,
            TAB,
            id="tab-line-3",
        ),
        pytest.param(
            "\n\n---\nlayout: minimal-medicine\ntitle: Zentorex: XR\n---\n# Z\nOne.\n",
            5,
            MAPPING,
            id="blank-lines-before-front-matter-line-5",
        ),
        pytest.param(
            "---\n\nlayout: minimal-medicine\ntitle: Zentorex: XR\n---\n# Z\nOne.\n",
            4,
            MAPPING,
            id="blank-first-line-in-front-matter-line-4",
        ),
    ],
)
def test_broken_yaml_reports_the_offending_line(text: str, line: int, message: str):
    error = error_of(text)
    assert error.diagnostic.message == message
    assert error.diagnostic.line == line


# --------------------------------------------------------------------------- classify_heading


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Generic Name", HeadingMatch(K.GENERIC_NAME)),
        ("Generic Names", HeadingMatch(K.GENERIC_NAME)),
        ("Generic Name(s)", HeadingMatch(K.GENERIC_NAME)),
        ("Usage", HeadingMatch(K.USAGE)),
        ("usage", HeadingMatch(K.USAGE)),
        ("USAGE", HeadingMatch(K.USAGE)),
        ("Uses", HeadingMatch(K.USAGE)),
        ("Indications", HeadingMatch(K.USAGE)),
        ("Dosage", HeadingMatch(K.DOSAGE)),
        ("Dose", HeadingMatch(K.DOSAGE)),
        ("Dosage and Administration", HeadingMatch(K.DOSAGE)),
        ("Side Effects", HeadingMatch(K.SIDE_EFFECTS)),
        ("Side  Effects", HeadingMatch(K.SIDE_EFFECTS)),
        ("Adverse Effects", HeadingMatch(K.SIDE_EFFECTS)),
        ("How it Works", HeadingMatch(K.HOW_IT_WORKS)),
        ("How It Works", HeadingMatch(K.HOW_IT_WORKS)),
        ("How They Work", HeadingMatch(K.HOW_IT_WORKS)),
        ("Mechanism of Action", HeadingMatch(K.HOW_IT_WORKS)),
        ("Precautions", HeadingMatch(K.PRECAUTIONS)),
        ("Warnings and Precautions", HeadingMatch(K.PRECAUTIONS)),
        ("FAQs", HeadingMatch(K.FAQS)),
        ("FAQ", HeadingMatch(K.FAQS)),
        ("Frequently Asked Questions", HeadingMatch(K.FAQS)),
        # trailing colons and stray spaces
        ("Dosage:", HeadingMatch(K.DOSAGE)),
        ("Usage :", HeadingMatch(K.USAGE)),
        ("  Side Effects:  ", HeadingMatch(K.SIDE_EFFECTS)),
        ("FAQs:", HeadingMatch(K.FAQS)),
        # value inline
        ("Generic Name: Zentorex", HeadingMatch(K.GENERIC_NAME, inline_value="Zentorex")),
        (
            "Generic Name: Zentorex (XR)",
            HeadingMatch(K.GENERIC_NAME, inline_value="Zentorex (XR)"),
        ),
        (
            "Usage:  Treats pretend pain: quickly.",
            HeadingMatch(K.USAGE, inline_value="Treats pretend pain: quickly."),
        ),
        (
            "Side Effects: Mild drowsiness.",
            HeadingMatch(K.SIDE_EFFECTS, inline_value="Mild drowsiness."),
        ),
        # parenthetical qualifiers
        ("Dosage (Not Applicable)", HeadingMatch(K.DOSAGE, qualifier="Not Applicable")),
        (
            "Generic Name (Not Applicable)",
            HeadingMatch(K.GENERIC_NAME, qualifier="Not Applicable"),
        ),
        (
            "Usage (Individual Components)",
            HeadingMatch(K.USAGE, qualifier="Individual Components"),
        ),
        (
            "Side Effects (Individual Components):",
            HeadingMatch(K.SIDE_EFFECTS, qualifier="Individual Components"),
        ),
        ("Generic Names (Components)", HeadingMatch(K.GENERIC_NAME, qualifier="Components")),
        ("FAQs (Combined Use):", HeadingMatch(K.FAQS, qualifier="Combined Use")),
        (
            "Precautions (Velcitrin & Dorapam)",
            HeadingMatch(K.PRECAUTIONS, qualifier="Velcitrin & Dorapam"),
        ),
        ("Usage (Outdated):", HeadingMatch(K.USAGE, qualifier="Outdated")),
        # dashed qualifiers
        ("Side Effects - Combined", HeadingMatch(K.SIDE_EFFECTS, qualifier="Combined")),
        ("Side Effects \u2013 Combined", HeadingMatch(K.SIDE_EFFECTS, qualifier="Combined")),
        ("How it Works \u2014 Overview", HeadingMatch(K.HOW_IT_WORKS, qualifier="Overview")),
        # component-prefixed
        ("Cefixime Usage", HeadingMatch(K.USAGE, qualifier="Cefixime")),
        ("Velcitrin Usage:", HeadingMatch(K.USAGE, qualifier="Velcitrin")),
        ("Zentorex Side Effects", HeadingMatch(K.SIDE_EFFECTS, qualifier="Zentorex")),
        (
            "Zentorex (Vitamin Z7) Dosage",
            HeadingMatch(K.DOSAGE, qualifier="Zentorex (Vitamin Z7)"),
        ),
        # unknown
        ("Zentorex", HeadingMatch(None)),
        ("Storage Tips", HeadingMatch(None)),
        ("Combined Use of Aldravix and Serumet", HeadingMatch(None)),
        ("Zentorex: Usage, Dosage, Side Effects", HeadingMatch(None)),
        ("Why Aldravix and Serumet Are Prescribed Together:", HeadingMatch(None)),
        ("Misuse", HeadingMatch(None)),
        ("Overdose", HeadingMatch(None)),
        ("Disclaimer", HeadingMatch(None)),
        ("", HeadingMatch(None)),
        (":", HeadingMatch(None)),
    ],
)
def test_classify_heading(heading: str, expected: HeadingMatch):
    assert classify_heading(heading) == expected


@pytest.mark.parametrize("kind", list(SectionKind))
def test_every_standard_name_is_recognised_as_written(kind: SectionKind):
    assert classify_heading(kind.value) == HeadingMatch(kind)
    assert classify_heading(kind.value + ":") == HeadingMatch(kind)
    assert classify_heading(kind.value.upper()) == HeadingMatch(kind)


def test_standard_order():
    assert tuple(ALL_KINDS) == model.STANDARD_ORDER
    assert [k.key for k in ALL_KINDS] == [
        "generic_name",
        "usage",
        "dosage",
        "side_effects",
        "how_it_works",
        "precautions",
        "faqs",
    ]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Zentorex", ()),
        ("Aldravix + Serumet", ("aldravix", "serumet")),
        ("Velcitrin & Dorapam", ("velcitrin", "dorapam")),
        ("Salt A/Salt B + Quorvalin", ("salt a", "salt b", "quorvalin")),
        ("Quorvalin and Pellorin", ("quorvalin", "pellorin")),
    ],
)
def test_components_of(title: str, expected: tuple[str, ...]):
    assert model.components_of(title) == expected


@pytest.mark.parametrize(
    ("heading", "component"),
    [
        ("Aldravix", True),
        ("2. Serumet", True),
        ("Aldravix Hydrochloride", True),
        ("Serumet:", True),
        ("Ald", False),  # too short to be sure
        ("Combined Use of Aldravix and Serumet", False),
        ("Storage", False),
    ],
)
def test_is_component_heading(heading: str, component: bool):
    components = model.components_of("Aldravix + Serumet")
    assert model.is_component_heading(heading, components) is component
