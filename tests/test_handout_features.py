"""Handouts clinics can hand out: clinic header, provenance footer, QR code,
patient fields, large print, US Letter and PDF/UA tagging.

Every test renders through the public render path with a config read from a
medpdf.toml written in a temporary folder, then opens the PDF (pdfplumber,
pikepdf) or a raster of it (pdftoppm, zbarimg) and checks what is printed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from conftest import REPO, invoke_cli, normalise, write_monograph
from PIL import Image
from test_handout_pdf import MM, Handout, page_texts, write_handout

from medpdf.content.model import Monograph
from medpdf.settings import config
from medpdf.settings.config import Config

LOGO = REPO / "tests" / "fixtures" / "clinic" / "logo.svg"
LOGO_GREEN = (0x2E, 0x8B, 0x57)
LETTER = (612.0, 792.0)
TODAY = dt.date(2031, 7, 9)
QR_URL = "https://example.org/drugs/{slug}"

CLINIC_TOML = f"""\
[clinic]
name = "Willowbank Health Centre"
address = "4 Orchard Lane, Eastfield"
phone = "+1 555 0199"
logo = "assets/logo.svg"

[output]
qr_url = "{QR_URL}"
"""


def monograph_text(title: str, paragraphs: int, reviewed: str | None = "2025-03-14") -> str:
    sentence = "Take one capsule with a glass of water after breakfast. "
    body = "\n\n".join(f"Paragraph {i}. " + sentence * 4 for i in range(1, paragraphs + 1))
    front = f"title: {title}\n" + (f"reviewed: {reviewed}\n" if reviewed else "")
    return (
        f"---\n{front}---\n\n# {title}\n### Generic Name\n{title}\n\n### Usage\n{body}\n\n"
        "### Dosage\nOne capsule daily.\n\n### Side Effects\nMild headache.\n\n"
        "**Disclaimer:** Invented fixture for these tests.\n"
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clinic")
    (root / "assets").mkdir()
    shutil.copy(LOGO, root / "assets" / "logo.svg")
    (root / "medpdf.toml").write_text(CLINIC_TOML, encoding="utf-8")
    content = root / "content"
    write_monograph(content, "zentorex", monograph_text("Zentorex", 14))
    write_monograph(content, "café+b", monograph_text("Cafebrin", 2, reviewed=None))
    return root


def clinic_config(project: Path, **changes: object) -> Config:
    settings = config.load(project / "medpdf.toml", content_dir=project / "content")
    return replace(settings, printed=TODAY).replace(**changes)


def render(settings: Config, name: str, target: Path) -> tuple[Monograph, Handout]:
    monograph, page_count = write_handout(settings, name, target)
    pages = page_texts(target)
    assert len(pages) == page_count
    return monograph, Handout(target, page_count, pages)


def raster(pdf: Path, page: int, dpi: int) -> Path:
    prefix = pdf.with_name(f"{pdf.stem}-{dpi}")
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            pdf,
            prefix,
        ],
        check=True,
    )
    return prefix.with_suffix(".png")


def scan_qr(png: Path) -> list[str]:
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg not installed (Debian package zbar-tools)")
    done = subprocess.run(
        [zbarimg, "--quiet", "--raw", png], capture_output=True, text=True, check=False
    )
    return done.stdout.splitlines()


@pytest.fixture(scope="module")
def clinic_handout(project: Path) -> tuple[Monograph, Handout]:
    settings = clinic_config(project, patient_fields=True)
    return render(settings, "zentorex", project / "zentorex.pdf")


# --------------------------------------------------------------------------- clinic header


def test_clinic_header_on_first_page_above_the_title(clinic_handout: tuple[Monograph, Handout]):
    _, handout = clinic_handout
    assert handout.page_count >= 2
    first = normalise(handout.pages[0].body)
    assert first.startswith(
        "Willowbank Health Centre 4 Orchard Lane, Eastfield · Phone +1 555 0199"
    )
    assert first.index("Willowbank") < first.index("Zentorex")
    for page in handout.pages[1:]:
        assert "Willowbank" not in page.full


def test_clinic_logo_is_drawn(clinic_handout: tuple[Monograph, Handout]):
    _, handout = clinic_handout
    image = Image.open(raster(handout.path, 1, 40)).convert("RGB")
    width, height = image.size
    top = image.crop((0, 0, width, height // 5))
    assert LOGO_GREEN in {color for _, color in top.getcolors(maxcolors=1 << 16) or []}


def test_no_clinic_header_without_config(tmp_path: Path, project: Path):
    _, handout = render(
        config.make(content_dir=project / "content", printed=TODAY), "zentorex", tmp_path / "z.pdf"
    )
    assert normalise(handout.pages[0].body).startswith("Zentorex")
    text = normalise(handout.text)
    assert "Willowbank" not in text
    assert normalise("Scan for the online version") not in text
    assert normalise("Patient name") not in text


# --------------------------------------------------------------------------- provenance


def test_provenance_footer_on_every_page(clinic_handout: tuple[Monograph, Handout]):
    monograph, handout = clinic_handout
    expected = (
        f"Printed July 9, 2031 · {monograph.slug} · Version {monograph.digest[:12]}"
        " · Reviewed March 14, 2025"
    )
    for number, page in enumerate(handout.pages, 1):
        assert expected in normalise(page.footer), (number, page.footer)
        assert f"Page {number} of {handout.page_count}" in normalise(page.footer)


def test_no_page_names_a_file(clinic_handout: tuple[Monograph, Handout]):
    # The edition (slug, version) says which leaflet it is; where its file lives is
    # of no use to a patient and none of their business.
    monograph, handout = clinic_handout
    texts = [normalise(page.full) for page in handout.pages]
    assert not any(".md" in text or "source " in text for text in texts), texts
    assert f"· {monograph.slug} · Version" in texts[-1]


def test_footer_without_review_date(tmp_path: Path, project: Path):
    monograph, handout = render(clinic_config(project), "café+b", tmp_path / "c.pdf")
    assert monograph.reviewed is None
    for page in handout.pages:
        footer = normalise(page.footer)
        edition = f"{monograph.slug} · Version {monograph.digest[:12]}"
        assert f"Printed July 9, 2031 · {edition}" in footer
        assert "Reviewed" not in footer


def test_invalid_review_date_is_a_check_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write_monograph(
        tmp_path / "content", "vexol", monograph_text("Vexol", 1, reviewed="last spring")
    )
    result = invoke_cli("check")
    assert result.exit_code == 0, result.output
    assert (
        "content/vexol.md:3: warning: front matter 'reviewed' is not a date (YYYY-MM-DD): "
        "'last spring'; not printed"
    ) in result.stdout.splitlines()


# --------------------------------------------------------------------------- QR code


def test_qr_code_scans_to_the_exact_url(clinic_handout: tuple[Monograph, Handout]):
    _, handout = clinic_handout
    assert normalise("Scan for the online version") in normalise(handout.pages[0].body)
    assert scan_qr(raster(handout.path, 1, 150)) == ["https://example.org/drugs/zentorex"]
    assert scan_qr(raster(handout.path, 2, 150)) == []  # once, on the first page


def test_qr_url_slug_is_percent_encoded(tmp_path: Path, project: Path):
    _, handout = render(clinic_config(project), "café+b", tmp_path / "c.pdf")
    assert scan_qr(raster(handout.path, 1, 150)) == ["https://example.org/drugs/caf%C3%A9%2Bb"]


def test_qr_code_is_vector(clinic_handout: tuple[Monograph, Handout]):
    _, handout = clinic_handout
    with pikepdf.open(handout.path) as pdf:
        images = [
            obj
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"
        ]
    assert images == []  # logo and QR are both drawn as paths


# --------------------------------------------------------------------------- patient fields


def test_patient_fields_on_first_page_only(clinic_handout: tuple[Monograph, Handout]):
    _, handout = clinic_handout
    first = normalise(handout.pages[0].body)
    for label in ("Patient name", "Prescriber", "Date"):
        assert normalise(label) in first
    assert (
        first.index("Zentorex") < first.index("Patient name") < first.index("What it is used for")
    )
    for page in handout.pages[1:]:
        assert normalise("Patient name") not in normalise(page.full)
        assert "Prescriber" not in page.full


# --------------------------------------------------------------------------- large print


@pytest.fixture(scope="module")
def large(project: Path) -> Handout:
    return render(clinic_config(project, large_print=True), "zentorex", project / "large.pdf")[1]


def test_large_print_body_text_is_at_least_16pt(
    large: Handout, clinic_handout: tuple[Monograph, Handout]
):
    header, footer = 26 * MM, 46 * MM  # styles/large-print.css page margins
    sizes: list[float] = []
    with pdfplumber.open(large.path) as doc:
        for page in doc.pages:
            body = page.crop((0, header, page.width, page.height - footer))
            sizes += [c["size"] for c in body.chars if not c["text"].isspace()]
    assert len(sizes) > 2000
    small = sorted({round(s, 2) for s in sizes if s < 16 - 0.01})
    assert not small, f"large-print text below 16 pt: {small}"
    assert max(sizes) >= 30  # the title scaled too
    assert large.page_count > clinic_handout[1].page_count  # reflowed, not shrunk


def test_large_print_is_large_everywhere_on_the_page(large: Handout):
    # The running header, the footer's disclaimer and edition, "Page X of Y": 16 pt too
    # (they were 11 to 13 pt).
    with pdfplumber.open(large.path) as doc:
        for page in doc.pages:
            footer = [c for c in page.chars if c["top"] > page.height - 46 * MM]
            header = [c for c in page.chars if c["bottom"] < 26 * MM]
            assert footer and header
            small = {c["text"] for c in footer + header if c["size"] < 16 - 0.01}
            assert not small - {" "}, sorted(small)
    for number, text in enumerate(large.pages, 1):
        assert f"Page {number} of {large.page_count}" in normalise(text.full)
        assert "Printed July 9, 2031" in normalise(text.full)


# --------------------------------------------------------------------------- paper


def test_letter_paper_on_every_page(tmp_path: Path, project: Path):
    _, handout = render(clinic_config(project, paper="letter"), "zentorex", tmp_path / "l.pdf")
    with pikepdf.open(handout.path) as pdf:
        assert len(pdf.pages) >= 2
        for page in pdf.pages:
            x0, y0, x1, y1 = (float(v) for v in page.MediaBox)
            assert (x1 - x0, y1 - y0) == (
                pytest.approx(LETTER[0], abs=0.5),
                pytest.approx(LETTER[1], abs=0.5),
            )
    for number, page in enumerate(handout.pages, 1):
        assert f"Page {number} of {handout.page_count}" in normalise(page.full)
        assert "Printed July 9, 2031" in normalise(page.full)


# --------------------------------------------------------------------------- PDF/UA


def test_pdf_ua_structure(clinic_handout: tuple[Monograph, Handout]):
    _, handout = clinic_handout
    with pikepdf.open(handout.path) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root
        assert bool(root.MarkInfo.Marked) is True
        assert str(root.Lang) == "en"
        assert bool(root.ViewerPreferences.DisplayDocTitle) is True
        assert str(pdf.docinfo["/Title"]) == "Zentorex \u2013 patient information"
        meta = pdf.open_metadata()
        assert str(meta.get("pdfuaid:part")) == "1"
        assert str(meta.get("dc:title")) == "Zentorex \u2013 patient information"
        figures = list(struct_elements(root.StructTreeRoot, "/Figure"))
    alts = sorted(str(f.get("/Alt")) for f in figures)
    assert alts == [
        "Logo of Willowbank Health Centre",
        "QR code linking to https://example.org/drugs/zentorex",
    ]


def struct_elements(node: object, kind: str):
    if isinstance(node, pikepdf.Array):
        for child in node:
            yield from struct_elements(child, kind)
    elif isinstance(node, pikepdf.Dictionary):
        if node.get("/S") == kind:
            yield node
        if "/K" in node:
            yield from struct_elements(node.K, kind)


def test_headings_are_tagged(clinic_handout: tuple[Monograph, Handout]):
    _, handout = clinic_handout
    with pikepdf.open(handout.path) as pdf:
        tree = pdf.Root.StructTreeRoot
        assert len(list(struct_elements(tree, "/H1"))) == 1
        assert len(list(struct_elements(tree, "/H2"))) >= 3


# --------------------------------------------------------------------------- CLI


def run_cli(project: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Path:
    monkeypatch.chdir(project)
    result = invoke_cli(*args)
    assert result.exit_code == 0, result.output
    return project / args[args.index("-o") + 1]


@pytest.mark.slow
def test_cli_flags_override_medpdf_toml(project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(project)
    toml = project / "override.toml"
    toml.write_text(
        CLINIC_TOML.replace(
            "[output]\n", '[output]\npaper = "letter"\nlarge_print = true\ncontent_lang = "de"\n'
        ),
        encoding="utf-8",
    )
    file_only = run_cli(
        project, monkeypatch, "handout", "zentorex", "--config", "override.toml", "-o", "a.pdf"
    )
    flags = run_cli(
        project,
        monkeypatch,
        "handout",
        "zentorex",
        "--config",
        "override.toml",
        "--paper",
        "a4",
        "--no-large-print",
        "--content-lang",
        "fr",
        "--patient-fields",
        "-o",
        "b.pdf",
    )
    with pdfplumber.open(file_only) as a, pdfplumber.open(flags) as b:
        assert (a.pages[0].width, a.pages[0].height) == LETTER
        assert (round(b.pages[0].width), round(b.pages[0].height)) == (595, 842)
        body_a = {round(c["size"]) for c in a.pages[0].chars}
        body_b = {round(c["size"]) for c in b.pages[0].chars}
    assert 16 in body_a and 12 in body_b and 16 not in body_b
    with pikepdf.open(file_only) as a, pikepdf.open(flags) as b:
        assert (str(a.Root.Lang), str(b.Root.Lang)) == ("de", "fr")
    # --content-lang fr: a monograph without lang: is French, and so are the words around it.
    assert "Nom du patient" not in normalise(page_texts(file_only)[0].body)
    assert "Nom du patient" in normalise(page_texts(flags)[0].body)


@pytest.mark.slow
def test_cli_build_uses_medpdf_toml(project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    work = tmp_path / "work"
    shutil.copytree(project, work)
    monkeypatch.chdir(work)
    result = invoke_cli("build", "--paper", "letter", "--patient-fields")
    assert result.exit_code == 0, result.output
    for slug in ("zentorex", "café+b"):
        pdf = work / "output" / "handouts" / f"{slug}.pdf"
        first = page_texts(pdf)[0]
        assert normalise("Willowbank Health Centre") in normalise(first.body)
        assert "Patient name" in normalise(first.body)
        with pdfplumber.open(pdf) as doc:
            assert (doc.pages[0].width, doc.pages[0].height) == LETTER
