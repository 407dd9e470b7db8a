"""Monographs in other languages: glyphs, translations, localised words, right to left.

The fixtures in ``tests/fixtures/languages`` are short monographs written for
these tests (an English original and its Spanish, Chinese and Arabic
translations); the handouts are read back from the PDFs.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from conftest import invoke_cli, normalise, normalised_text, write_monograph
from waiting import PATIENCE

from medpdf.content import model, sources
from medpdf.content.model import SectionKind

FIXTURES = Path(__file__).parent / "fixtures" / "languages"
PRINTED = dt.date(2031, 7, 9)


def content_with(tmp_path: Path, *extra: tuple[str, str]) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(FIXTURES, folder)
    for slug, text in extra:
        write_monograph(folder, slug, text)
    return folder


def font_names(data: bytes) -> set[str]:
    """Base names of the embedded fonts, without the subset prefix."""
    names = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            for font in page.Resources.get("/Font", {}).values():
                names.add(str(font.BaseFont).split("+", 1)[-1])
    return names


def notdef_glyphs(data: bytes) -> int:
    """How many glyphs drawn are glyph 0 (.notdef, the empty box) in any text operator."""
    count = 0
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) == "Tj":
                    runs = [bytes(operands[0])]
                elif str(operator) == "TJ":
                    runs = [bytes(item) for item in operands[0] if isinstance(item, pikepdf.String)]
                else:
                    continue
                for run in runs:  # Identity-H: two bytes per glyph id
                    count += sum(1 for i in range(0, len(run) - 1, 2) if run[i : i + 2] == b"\0\0")
    return count


# --------------------------------------------------------------------------- check


def test_check_names_file_line_and_code_point_of_a_character_no_font_covers(tmp_path):
    tofu = (
        "---\ntitle: Boxed\n---\nIntro.\n\n### Usage\n"
        "Take one \U0001f48a daily.\n\nPrivate \ue000 use.\n"
    )
    content = content_with(tmp_path, ("boxed", tofu))
    result = invoke_cli("check", "--content", str(content))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "boxed.md" in line]
    assert any(":7: error: U+1F48A (PILL) has no glyph" in line for line in lines), lines
    assert any(":9: error: U+E000" in line for line in lines), lines
    # The Chinese and Arabic fixtures are fully covered by their stacks.
    assert "ibuprofen.zh.md: error" not in result.output
    assert "ibuprofen.ar.md: error" not in result.output

    # A build leaves the file out with the same line instead of printing boxes.
    made = invoke_cli("handout", "boxed", "--content", str(content), "-o", str(tmp_path / "b.pdf"))
    assert made.exit_code == 1
    assert "U+1F48A" in made.output
    assert not (tmp_path / "b.pdf").exists()


def test_check_reports_translation_of_missing_drug_and_duplicate_language(tmp_path):
    orphan = "---\ntitle: Fantasma\nlang: es\ntranslation_of: ghostamine\n---\nTexto.\n"
    second = "---\ntitle: Ibuprofeno B\nlang: es\ntranslation_of: ibuprofen\n---\nTexto.\n"
    content = content_with(tmp_path, ("fantasma", orphan), ("z-ibuprofeno", second))
    result = invoke_cli("check", "--content", str(content))
    assert result.exit_code == 1
    assert "fantasma.md: error: translation of 'ghostamine', which is not in the collection" in (
        result.output
    )
    assert (
        "z-ibuprofeno.md: error: second monograph of drug 'ibuprofen' in language 'es' "
        "(also " in result.output
    )
    assert "ibuprofen.es.md: error" not in result.output


def test_a_bad_lang_tag_is_a_one_line_error_at_its_line(tmp_path):
    bad = "---\ntitle: Bad\nlang: not a tag\n---\nText.\n"
    content = content_with(tmp_path, ("bad", bad))
    result = invoke_cli("check", "--content", str(content))
    assert "bad.md:3: error: front matter 'lang' must be a language tag" in result.output


@pytest.mark.parametrize("name", ["ibuprofen.es", "ibuprofen.zh", "ibuprofen.ar"])
def test_translated_headings_and_disclaimer_are_recognised(name):
    monograph = model.build(sources.read(FIXTURES / f"{name}.md"))
    kinds = [s.kind for s in monograph.sections]
    assert kinds == [
        SectionKind.USAGE,
        SectionKind.DOSAGE,
        SectionKind.SIDE_EFFECTS,
        SectionKind.PRECAUTIONS,
    ]
    assert monograph.disclaimer and "médico" not in (monograph.intro or "")
    assert not [w for w in monograph.warnings if "unknown heading" in w.message]
    assert monograph.translation_of == "ibuprofen"


def test_an_unknown_heading_in_spanish_is_still_reported(tmp_path):
    text = "---\ntitle: X\nlang: es\n---\nIntro.\n\n### Usos\nA.\n\n### Curiosidades\nB.\n"
    path = write_monograph(tmp_path, "x", text)
    warnings = [w.message for w in model.build(sources.read(path)).warnings]
    assert "unknown heading 'Curiosidades'" in warnings


# --------------------------------------------------------------------------- handouts


@dataclass(frozen=True)
class Handout:
    data: bytes
    text: str
    lang: str
    fonts: set[str]


@pytest.fixture(scope="module")
def handouts(tmp_path_factory) -> Iterator[dict[str, Handout]]:
    folder = tmp_path_factory.mktemp("languages")
    epoch = str(int(dt.datetime.combine(PRINTED, dt.time(12), tzinfo=dt.UTC).timestamp()))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", epoch)
        made = {}
        for slug in ("ibuprofen", "ibuprofen.es", "ibuprofen.zh", "ibuprofen.ar"):
            target = folder / f"{slug}.pdf"
            result = invoke_cli("handout", slug, "--content", str(FIXTURES), "-o", str(target))
            assert result.exit_code == 0, result.output
            data = target.read_bytes()
            with pikepdf.open(io.BytesIO(data)) as pdf:
                lang = str(pdf.Root.Lang)
            made[slug] = Handout(data, normalised_text(data), lang, font_names(data))
    yield made


def test_english_handout_still_embeds_dejavu_only(handouts):
    english = handouts["ibuprofen"]
    assert english.lang == "en"
    assert english.fonts <= {"DejaVu-Sans", "DejaVu-Sans-Bold"}, english.fonts
    assert "Printed July 9, 2031" in english.text
    assert "Reviewed October 5, 2026" in english.text


def test_spanish_handout_speaks_spanish_around_its_text(handouts):
    spanish = handouts["ibuprofen.es"]
    assert spanish.lang == "es"
    for phrase in (
        "Información para el paciente",
        "Para qué se usa",
        "Cómo tomarlo",
        "Posibles efectos secundarios",
        "Advertencias y precauciones",
        "Página 1 de 1",
        "Impreso el 9 de julio de 2031",
        "Revisado el 5 de octubre de 2026",
        "Aviso importante",
    ):
        assert phrase in spanish.text, phrase
    assert "Patient information" not in spanish.text
    assert spanish.fonts <= {"DejaVu-Sans", "DejaVu-Sans-Bold"}, spanish.fonts
    assert notdef_glyphs(spanish.data) == 0


def test_chinese_handout_uses_noto_cjk_and_chinese_words(handouts):
    chinese = handouts["ibuprofen.zh"]
    assert chinese.lang == "zh-Hans"
    text = chinese.text.replace(" ", "")
    page_of = "第1页\uff0c共1页"  # "page 1 of 1", with a full-width comma
    for phrase in ("患者用药须知", "用途", "如何服用", "可能的副作用", page_of, "2031年7月9日"):
        assert phrase in text, phrase
    assert any(name.startswith("Noto-Sans-CJK-SC") for name in chinese.fonts), chinese.fonts
    assert notdef_glyphs(chinese.data) == 0


def test_arabic_handout_is_laid_out_right_to_left(handouts):
    arabic = handouts["ibuprofen.ar"]
    assert arabic.lang == "ar"
    assert any(name.startswith("Noto-Naskh-Arabic") for name in arabic.fonts), arabic.fonts
    assert notdef_glyphs(arabic.data) == 0
    with pdfplumber.open(io.BytesIO(arabic.data)) as pdf:
        page = pdf.pages[0]
        width = float(page.width)
        chars = page.chars
    title = [c for c in chars if round(c["size"]) == 24]
    # Right to left: the title's first letter (alef with hamza below) is its rightmost glyph.
    assert max(title, key=lambda c: c["x0"])["text"] == "\u0625"
    # The running header mirrors: drug name at the right, "Page 1 of 1" at the left.
    header = [c for c in chars if c["top"] < 60]
    assert header and all(c["x0"] > width / 2 for c in header if round(c["size"]) == 10)
    bottom = normalise("".join(c["text"] for c in chars if c["top"] > 760 and c["x0"] < 150))
    assert "1" in bottom
    # Body lines start at the right margin, not the left.
    body = [c for c in chars if 100 < c["top"] < 600 and round(c["size"]) == 13]
    assert max(c["x1"] for c in body) > width - 60
    assert min(c["x0"] for c in body) > 80


# --------------------------------------------------------------------------- station


def test_station_finds_drugs_by_translated_title_and_lists_translations(tmp_path):
    from starlette.testclient import TestClient

    from medpdf.run.contract import RunContext
    from medpdf.run.workers import Limits
    from medpdf.settings import config
    from medpdf.station import app, state

    cfg = config.make(content_dir=FIXTURES, output_dir=tmp_path / "output")
    settings = state.StationSettings(RunContext.of(cfg, Limits(jobs=1, seconds=PATIENCE)))
    with TestClient(app.create_app(settings)) as client:
        found = client.get("/", params={"q": "布洛芬"}).text
        assert "/drug/ibuprofen.zh" in found and "/drug/ibuprofen.es" not in found
        assert "/drug/ibuprofen.es" in client.get("/", params={"q": "ibuprofeno"}).text
        page = client.get("/drug/ibuprofen").text
        assert 'Handout language: <span lang="en">English</span>' in page
        for slug, name in (("es", "español"), ("zh", "中文"), ("ar", "العربية")):
            assert f'href="/drug/ibuprofen.{slug}"' in page, slug
            assert name in page, name
        arabic = client.get("/drug/ibuprofen.ar").text
        assert 'href="/drug/ibuprofen"' in arabic
        assert '<h1 lang="ar" dir="rtl">' in arabic


# --------------------------------------------------------------------------- bilingual


def test_bilingual_handout_puts_each_section_beside_its_translation(tmp_path):
    target = tmp_path / "both.pdf"
    result = invoke_cli(
        "handout", "ibuprofen", "--also", "ar", "--content", str(FIXTURES), "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert {"DejaVu-Sans", "Noto-Naskh-Arabic"} <= {n.split("-Bold")[0] for n in font_names(data)}
    assert notdef_glyphs(data) == 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        middle = float(page.width) / 2
        words = page.extract_words()
        arabic = [c for c in page.chars if "\u0600" <= c["text"] <= "\u06ff"]
    # The English heading on the left, its Arabic counterpart on the right, on one line.
    english = next(w for w in words if w["text"] == "Possible")
    assert english["x1"] < middle
    assert arabic and all(c["x0"] > middle for c in arabic if c["top"] > 150)
    same_row = [c for c in arabic if abs(c["top"] - english["top"]) < 8]
    assert same_row, "the Arabic side-effects heading is not beside the English one"
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert str(pdf.Root.Lang) == "en"


def test_bilingual_handout_without_that_translation_is_one_line(tmp_path):
    result = invoke_cli("handout", "ibuprofen", "--also", "de", "--content", str(FIXTURES))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "medpdf: error: no translation of 'ibuprofen' into 'de' for --also "
        "(translations: ar, es, zh-Hans)"
    ]


def test_large_print_arabic_and_bilingual_keep_every_character_at_16_pt_or_more(tmp_path):
    for name, extra in (("ar.pdf", ()), ("both.pdf", ("--also", "es"))):
        target = tmp_path / name
        slug = "ibuprofen.ar" if not extra else "ibuprofen"
        args = ("handout", slug, *extra, "--large-print", "--content", str(FIXTURES))
        result = invoke_cli(*args, "-o", str(target))
        assert result.exit_code == 0, result.output
        with pdfplumber.open(target) as pdf:
            page = pdf.pages[0]
            # The page body (not the header and footer margin boxes) is at least 16 pt.
            body = [c for c in page.chars if 100 < c["top"] < float(page.height) - 120]
            small = {c["text"] for c in body if c["size"] < 15.9}
        assert not small - {" ", "\u00b7"}, (name, sorted(small)[:20])
