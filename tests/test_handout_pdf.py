# ruff: noqa: RUF001 (the typographic characters are what is under test)
"""Open real handout PDFs and check what a patient (and a PDF reader) gets.

Every test here renders through the public render path (``find_monograph``,
``templating.monograph_html``, ``medpdf.pdf.typeset.render``, ``write_atomic``)
and inspects the written file with pdfplumber, pikepdf and fontTools, so a
change to templates, CSS, sanitizer or WeasyPrint options that breaks the
printed result fails here.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from conftest import REPO, normalise, write_monograph
from fontTools.ttLib import TTFont

from medpdf.atomic import write_atomic
from medpdf.content.collection import find_monograph
from medpdf.content.model import Monograph
from medpdf.html import templating
from medpdf.pdf import typeset
from medpdf.pdf.typeset import render as render_pdf
from medpdf.settings import config
from medpdf.settings.config import Config

MM = 72 / 25.4
#: The page margins of styles/handout.css: the running header lives above the
#: top margin, the footer and the page counter below the bottom margin.
HEADER_BAND = 22 * MM
FOOTER_BAND = 24 * MM
A4 = (595.0, 842.0)

FOOTER_PHRASE = normalise("not medical advice")
SECTION_HEADINGS = [
    "What it is used for",
    "How to take it",
    "Possible side effects",
    "How it works",
    "Warnings and precautions",
    "Questions and answers",
]
ALEFACEPT_DISCLAIMER = normalise(
    "This information is for educational purposes only and does not constitute medical "
    "advice. Always consult with a healthcare professional for any health concerns or "
    "before making any decisions related to your health or treatment. The information "
    "provided here reflects the knowledge surrounding Alefacept during its time on the "
    "market and does not include updated information given its discontinuation."
)
DEFAULT_DISCLAIMER_START = normalise("This information is for educational purposes only")
DEFAULT_DISCLAIMER_END = normalise("before starting, stopping or changing any treatment.")

#: Characters the collection really uses; DejaVu Sans must draw every one.
SPECIAL_CHARS = "≥≤₂₃²³βαµ⁺½éö’–…"

#: BaseFont of an embedded subset of the DejaVu Sans family (any weight/slant),
#: e.g. ``ABCDEF+DejaVu-Sans-Bold``; Mono, Serif, Condensed are other families.
DEJAVU_SANS_SUBSET = re.compile(
    r"^[A-Z]{6}\+DejaVu-?Sans(-?(Bold|Oblique|BoldOblique|Bold-Oblique|Book))?$"
)


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class PageText:
    """The text of one page, split into the bands the stylesheet defines."""

    header: str
    body: str
    footer: str
    full: str


@dataclass(frozen=True)
class Handout:
    """A rendered handout and what its pages say."""

    path: Path
    page_count: int
    pages: tuple[PageText, ...]

    @property
    def text(self) -> str:
        return "\n".join(p.full for p in self.pages)


def page_texts(path: Path) -> tuple[PageText, ...]:
    result = []
    with pdfplumber.open(path) as doc:
        for page in doc.pages:
            w, h = page.width, page.height
            result.append(
                PageText(
                    header=page.crop((0, 0, w, HEADER_BAND)).extract_text() or "",
                    body=page.crop((0, HEADER_BAND, w, h - FOOTER_BAND)).extract_text() or "",
                    footer=page.crop((0, h - FOOTER_BAND, w, h)).extract_text() or "",
                    full=page.extract_text() or "",
                )
            )
    return tuple(result)


def write_handout(settings: Config, name: str, target: Path) -> tuple[Monograph, int]:
    """The handout of ``name`` written to ``target``: (its monograph, its page count).

    Read from beside the content folder, so the source path printed at the end is the
    short ``content/NAME.md``, not a temporary path whose length moves the last breaks.
    """
    with contextlib.chdir(settings.content_dir.parent):
        monograph = find_monograph(settings.content_dir, name)
    assert not Path(monograph.source_path).is_absolute(), monograph.source_path
    result = render_pdf(templating.monograph_html(monograph, settings), settings.resources)
    write_atomic(target, result.data)
    assert target.is_file()
    assert target.read_bytes() == result.data
    return monograph, result.page_count


def render(content_dir: Path, name: str, target: Path) -> Handout:
    _, page_count = write_handout(config.make(content_dir=content_dir), name, target)
    pages = page_texts(target)
    assert len(pages) == page_count
    return Handout(target, page_count, pages)


def font_dicts(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every font dictionary in the file, however it is referenced."""
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font":
            yield obj


def font_program(font: pikepdf.Dictionary) -> bytes | None:
    """The embedded TrueType program of a simple or Type0 font, if any."""
    descriptor = font.get("/FontDescriptor")
    if descriptor is None and "/DescendantFonts" in font:
        descriptor = font.DescendantFonts[0].get("/FontDescriptor")
    if descriptor is None or "/FontFile2" not in descriptor:
        return None
    return descriptor.FontFile2.read_bytes()


def embedded_fonts(path: Path) -> dict[str, TTFont]:
    """BaseFont (without the slash, as pdfplumber names it) -> parsed font program."""
    fonts: dict[str, TTFont] = {}
    with pikepdf.open(path) as pdf:
        for font in font_dicts(pdf):
            if font.get("/Subtype") == "/CIDFontType2":
                continue  # reached through its Type0 parent
            data = font_program(font)
            if data is not None:
                fonts[str(font.BaseFont).lstrip("/")] = TTFont(io.BytesIO(data))
    return fonts


@cache
def system_dejavu_cmap() -> dict[int, str]:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        pytest.skip("fc-match not available for the system DejaVu Sans fallback check")
    file = subprocess.run(
        [fc_match, "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if "DejaVuSans" not in Path(file).name:
        pytest.skip(f"fc-match resolves DejaVu Sans to {file!r}")
    return TTFont(file).getBestCmap()


def has_outline(font: TTFont, glyph_name: str) -> bool:
    if glyph_name == ".notdef":
        return False
    if "glyf" not in font:
        return True  # CFF outlines: the cmap entry is all we can check cheaply
    return font["glyf"][glyph_name].numberOfContours != 0


# --------------------------------------------------------------------------- alefacept


@pytest.fixture(scope="module")
def alefacept(tmp_path_factory: pytest.TempPathFactory) -> Handout:
    out = tmp_path_factory.mktemp("alefacept") / "alefacept.pdf"
    return render(REPO / "content", "alefacept", out)


def test_alefacept_has_several_pages(alefacept: Handout) -> None:
    # The per-page checks below only mean something on a multi-page handout.
    assert alefacept.page_count >= 2


def test_page_size_is_a4(alefacept: Handout) -> None:
    with pdfplumber.open(alefacept.path) as doc:
        for page in doc.pages:
            assert page.width == pytest.approx(A4[0], abs=1)
            assert page.height == pytest.approx(A4[1], abs=1)
    with pikepdf.open(alefacept.path) as pdf:
        for page in pdf.pages:
            x0, y0, x1, y1 = (float(v) for v in page.MediaBox)
            assert (x1 - x0, y1 - y0) == (pytest.approx(A4[0], abs=1), pytest.approx(A4[1], abs=1))


def test_title_on_first_page(alefacept: Handout) -> None:
    first = alefacept.pages[0].body.splitlines()
    assert first[0].strip() == "Alefacept"
    with pdfplumber.open(alefacept.path) as doc:
        chars = doc.pages[0].chars
        biggest = max(c["size"] for c in chars)
        title_chars = [c for c in chars if c["size"] == biggest]
    assert biggest >= 18
    assert "".join(c["text"] for c in title_chars) == "Alefacept"


def test_running_header_on_every_page(alefacept: Handout) -> None:
    for number, page in enumerate(alefacept.pages, 1):
        assert page.header.startswith("Alefacept"), (number, page.header)
        assert "Patient information" in normalise(page.header), number


def test_footer_disclaimer_on_every_page(alefacept: Handout) -> None:
    for number, page in enumerate(alefacept.pages, 1):
        assert FOOTER_PHRASE in normalise(page.footer), (number, page.footer)
        assert normalise("For information only") in normalise(page.footer), number


def test_page_x_of_y_on_every_page(alefacept: Handout) -> None:
    total = alefacept.page_count
    for number, page in enumerate(alefacept.pages, 1):
        found = re.findall(r"Page (\d+) of (\d+)", normalise(page.footer))
        assert found == [(str(number), str(total))], (number, page.footer)


def test_full_disclaimer_once_on_last_page(alefacept: Handout) -> None:
    *others, last = alefacept.pages
    assert normalise(last.body).count(ALEFACEPT_DISCLAIMER) == 1
    assert normalise(alefacept.text).count(ALEFACEPT_DISCLAIMER) == 1
    for page in others:
        assert "Disclaimer" not in page.body
    assert "Disclaimer" in last.body.splitlines()
    # The monograph's own disclaimer replaces the default one, not added to it.
    assert normalise("Always consult a doctor, pharmacist") not in normalise(alefacept.text)


def test_section_headings_in_order(alefacept: Handout) -> None:
    with pdfplumber.open(alefacept.path) as doc:
        headings = []
        for page in doc.pages:
            h2 = page.filter(
                lambda obj: (
                    obj.get("object_type") != "char"
                    or (abs(obj["size"] - 15) < 0.1 and "Bold" in obj["fontname"])
                )
            )
            headings += [line for line in (h2.extract_text() or "").splitlines() if line]
    assert headings == SECTION_HEADINGS
    # And in the running text, in the same order.
    text = normalise(alefacept.text)
    positions = [text.find(h) for h in SECTION_HEADINGS]
    assert -1 not in positions
    assert positions == sorted(positions)


def test_no_page_ends_with_a_question_cut_from_its_answer(alefacept: Handout) -> None:
    for number, page in enumerate(alefacept.pages[:-1], start=1):
        last = [line for line in page.body.splitlines() if line.strip()][-1]
        assert not last.startswith("Q:"), (number, last)


def test_pdf_metadata_title_and_lang(alefacept: Handout) -> None:
    with pikepdf.open(alefacept.path) as pdf:
        assert "Alefacept" in str(pdf.docinfo["/Title"])
        assert str(pdf.Root.Lang) == "en"


def test_every_stream_is_whole_and_the_file_has_its_identifier(alefacept: Handout) -> None:
    """medpdf makes each object's bytes itself (pdf/serialize.py), not pydyf: they must hold."""
    with pikepdf.open(alefacept.path) as pdf:
        streams = [o for o in pdf.objects if isinstance(o, pikepdf.Stream)]
        assert len(streams) > 5  # pages, fonts, metadata, the object stream...
        for stream in streams:
            assert stream.get("/Filter") == "/FlateDecode"
            assert len(stream.read_raw_bytes()) == int(stream.Length)
            assert stream.read_bytes()  # inflates
        assert pdf.check_pdf_syntax() == []
        assert pdf.get_warnings() == []
        # PDF/A's file identifier: pydyf's hash of every object's bytes, twice.
        first, second = (bytes(part) for part in pdf.trailer.ID)
        assert first == second and re.fullmatch(rb"[0-9a-f]{32}", first)


def test_every_font_is_an_embedded_dejavu_sans_subset(alefacept: Handout) -> None:
    with pikepdf.open(alefacept.path) as pdf:
        fonts = list(font_dicts(pdf))
        assert fonts
        for font in fonts:
            name = str(font.BaseFont).lstrip("/")
            assert DEJAVU_SANS_SUBSET.match(name), name
            assert font_program(font) is not None, f"{name} is not embedded"
    with pdfplumber.open(alefacept.path) as doc:
        names = {c["fontname"] for page in doc.pages for c in page.chars}
    assert names
    assert all(DEJAVU_SANS_SUBSET.match(n) for n in names), names


def test_body_text_is_at_least_11pt(alefacept: Handout) -> None:
    sizes: list[float] = []
    with pdfplumber.open(alefacept.path) as doc:
        for page in doc.pages:
            body = page.crop((0, HEADER_BAND, page.width, page.height - FOOTER_BAND))
            for line in body.extract_text_lines(return_chars=True):
                if line["text"].startswith("Printed ") and "medpdf" in line["text"]:
                    continue  # the provenance line is small print, not body text
                sizes += [c["size"] for c in line["chars"] if not c["text"].isspace()]
    assert len(sizes) > 1000
    small = sorted({round(s, 2) for s in sizes if s < 11 - 0.01})
    assert not small, f"body text smaller than 11 pt: {small}"


# --------------------------------------------------------------------------- glyphs

GLYPH_MONOGRAPH = """---
title: Glyphtest β
---

# Glyphtest β
### Generic Name
Glyphtest

### Usage
All at once: ≥ ≤ ₂ ₃ ² ³ β α µ ⁺ ½ é ö ’ – …

In context: CO₂ and SO₃, 5 m² and 2 cm³, β-blocker, α-agonist, 250 µg, Na⁺,
½ tablet, café, Döbereiner’s reagent – see above… for ≥ 18 and ≤ 65 years.

### Dosage
**Bold: ≥ ≤ ₂ ₃ ² ³ β α µ ⁺ ½ é ö ’ – …**

*Italic: ≥ ≤ ₂ ₃ ² ³ β α µ ⁺ ½ é ö ’ – …*

### FAQs
**Q: Is ½ of 250 µg ≥ 100 µg?**

A: Yes – it’s 125 µg…
"""


@pytest.fixture(scope="module")
def glyphs(tmp_path_factory: pytest.TempPathFactory) -> Handout:
    folder = tmp_path_factory.mktemp("glyphs")
    write_monograph(folder / "content", "glyphtest", GLYPH_MONOGRAPH)
    return render(folder / "content", "glyphtest", folder / "glyphtest.pdf")


def test_special_characters_survive_text_extraction(glyphs: Handout) -> None:
    text = normalise(glyphs.text)
    missing = [ch for ch in SPECIAL_CHARS if ch not in text]
    assert not missing, missing
    assert normalise("CO₂ and SO₃") in text
    assert "Döbereiner’s" in text


def test_special_characters_drawn_with_real_dejavu_glyphs(glyphs: Handout) -> None:
    fonts = embedded_fonts(glyphs.path)
    assert fonts
    with pdfplumber.open(glyphs.path) as doc:
        chars = [c for page in doc.pages for c in page.chars if c["text"] in SPECIAL_CHARS]
    seen = {c["text"] for c in chars}
    assert seen == set(SPECIAL_CHARS), set(SPECIAL_CHARS) - seen
    # Regular, bold and italic all drew them.
    assert {c["fontname"].split("+", 1)[1] for c in chars} >= {
        "DejaVu-Sans",
        "DejaVu-Sans-Bold",
        "DejaVu-Sans-Oblique",
    }
    problems = []
    for char in chars:
        ch, fontname = char["text"], char["fontname"]
        if not DEJAVU_SANS_SUBSET.match(fontname):
            problems.append(f"{ch!r} drawn in {fontname}")
            continue
        font = fonts.get(fontname)
        cmap = font.getBestCmap() if font is not None and "cmap" in font else None
        if cmap:
            glyph = cmap.get(ord(ch))
            if glyph is None or not has_outline(font, glyph):
                problems.append(f"{ch!r} has no glyph in embedded {fontname} ({glyph})")
        elif ord(ch) not in system_dejavu_cmap():
            problems.append(f"{ch!r} is not in the system DejaVu Sans")
    assert not problems, problems


TEMPLATE_MONOGRAPH = """---
title: Injecto {{ 7*7 }}
---

# Injecto {{ 7*7 }}

### Usage
Literal braces: {{ 7*7 }} and {% if true %}yes{% endif %} and {# hidden #}.

### Dosage
None.

**Disclaimer:** Made up {{ 7*7 }}.
"""


def test_jinja_syntax_in_content_prints_literally(tmp_path: Path) -> None:
    write_monograph(tmp_path / "content", "injecto", TEMPLATE_MONOGRAPH)
    handout = render(tmp_path / "content", "injecto", tmp_path / "injecto.pdf")
    first = handout.pages[0]
    assert first.body.splitlines()[0] == "Injecto {{ 7*7 }}"  # the h1
    assert first.header.startswith("Injecto {{ 7*7 }}")
    text = normalise(handout.text)
    literal = "Literal braces: {{ 7*7 }} and {% if true %}yes{% endif %} and {# hidden #}."
    assert normalise(literal) in text
    assert normalise("Made up {{ 7*7 }}.") in text
    readable = [line for line in handout.text.splitlines() if not line.startswith("Printed ")]
    assert not any("49" in line for line in readable), readable
    with pikepdf.open(handout.path) as pdf:
        title = str(pdf.docinfo["/Title"])
    assert "Injecto {{ 7*7 }}" in title
    assert "49" not in title


# --------------------------------------------------------------------------- long


def long_monograph(paragraphs: int) -> str:
    sentence = "Take this medicine with a full glass of water, with or without food. "
    body = "\n\n".join(f"Paragraph {i}. " + sentence * 5 for i in range(1, paragraphs + 1))
    return (
        "---\ntitle: Longdrug\n---\n\n# Longdrug\n\n### Usage\n"
        f"{body}\n\n### Dosage\nOne tablet daily.\n\n### Side Effects\nNone known.\n"
    )


@pytest.fixture(scope="module")
def long_handout(tmp_path_factory: pytest.TempPathFactory) -> Handout:
    folder = tmp_path_factory.mktemp("long")
    write_monograph(folder / "content", "longdrug", long_monograph(200))
    return render(folder / "content", "longdrug", folder / "longdrug.pdf")


@pytest.mark.slow
def test_long_monograph_has_header_footer_and_counter_on_every_page(long_handout: Handout) -> None:
    total = long_handout.page_count
    assert total >= 10
    for number, page in enumerate(long_handout.pages, 1):
        assert page.header.startswith("Longdrug"), (number, page.header)
        assert FOOTER_PHRASE in normalise(page.footer), (number, page.footer)
        assert re.findall(r"Page (\d+) of (\d+)", normalise(page.footer)) == [
            (str(number), str(total))
        ]


@pytest.mark.slow
def test_long_monograph_keeps_every_paragraph_and_one_default_disclaimer(
    long_handout: Handout,
) -> None:
    text = normalise(long_handout.text)
    numbers = [int(n) for n in re.findall(r"Paragraph (\d+)\.", text)]
    assert numbers == list(range(1, 201))
    *others, last = long_handout.pages
    # No disclaimer in the source: the default one, once, at the end.
    assert text.count(DEFAULT_DISCLAIMER_START) == 1
    assert DEFAULT_DISCLAIMER_START in normalise(last.body)
    assert DEFAULT_DISCLAIMER_END in normalise(last.body)
    assert not any(DEFAULT_DISCLAIMER_START in normalise(p.body) for p in others)


# --------------------------------------------------------------------------- kept fonts

#: Scripts whose glyphs come from other fonts than DejaVu Sans (Noto CJK, Arabic, Devanagari).
MIXED_SCRIPTS = GLYPH_MONOGRAPH.replace(
    "In context:", "Other scripts: 患者用药须知, معلومات للمريض, रोगी जानकारी.\n\nIn context:"
)


def test_a_handout_does_not_depend_on_what_its_thread_laid_out_before(tmp_path: Path) -> None:
    """A thread lays out every document with one font configuration (``typeset._fonts``):
    the fonts an earlier document loaded must not change the next one's bytes."""
    write_monograph(tmp_path / "content", "mixed", MIXED_SCRIPTS)
    with contextlib.chdir(REPO):
        plain = config.make(content_dir=REPO / "content")
        alefacept_html = templating.monograph_html(
            find_monograph(plain.content_dir, "alefacept"), plain
        )
    mixed_settings = config.make(content_dir=tmp_path / "content")
    mixed_html = templating.monograph_html(
        find_monograph(mixed_settings.content_dir, "mixed"), mixed_settings
    )

    def first() -> tuple[bytes, object]:
        return render_pdf(alefacept_html, plain.resources).data, typeset._fonts()

    def after_mixed() -> tuple[bytes, bytes, object, object]:
        fonts = typeset._fonts()
        mixed = render_pdf(mixed_html, mixed_settings.resources).data
        return mixed, render_pdf(alefacept_html, plain.resources).data, fonts, typeset._fonts()

    # A new executor is a new thread, so each call starts without a font configuration.
    with ThreadPoolExecutor(1) as fresh:
        alone, fonts_alone = fresh.submit(first).result()
    with ThreadPoolExecutor(1) as fresh:
        mixed, after, fonts_before, fonts_after = fresh.submit(after_mixed).result()

    assert fonts_before is fonts_after, "one thread, one font configuration"
    assert fonts_alone is not fonts_after, "each thread has its own"
    with pikepdf.open(io.BytesIO(mixed)) as pdf:
        names = {str(font.BaseFont) for font in font_dicts(pdf)}
    assert any("Noto" in name for name in names), f"the mixed handout loaded only {names}"
    assert after == alone
