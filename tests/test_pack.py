"""``medpdf pack``: a patient's medicines in one PDF, opened and read like a patient would.

Two packs are rendered once per module and looked at from every side: an A4 pack
of three invented medicines (times, notes, a duplicate name, one common
disclaimer) and a Letter, large-print pack from a medicine-list file with a
clinic header and QR codes. The error cases render nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from card_checks import card_of, missing_names, odd_panels
from conftest import invoke_cli, normalise, normalised_page_texts, write_monograph
from private_cups import Cups
from waiting import PATIENCE

FIXTURES = Path(__file__).parent / "fixtures" / "pack"
LOGO = Path(__file__).parent / "fixtures" / "clinic" / "logo.svg"
A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)
MM = 72 / 25.4
SHORT_DISCLAIMER = "For information only \u2013 not medical advice."
FULL_DISCLAIMER = "This is an invented test leaflet, not medical advice."
TITLES = ("Zorvatin", "Klémorex", "Pallidone + Quessar")
NOON_OF_THE_DAY = dt.datetime(2031, 12, 28, 12, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Pack:
    path: Path
    output: str
    pages: list[str]


def make_content(root: Path) -> Path:
    content = root / "content"
    content.mkdir(parents=True)
    for path in FIXTURES.glob("*.md"):
        shutil.copy(path, content / path.name)
    return content


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pack")
    make_content(root)
    (root / "assets").mkdir()
    shutil.copy(LOGO, root / "assets" / "logo.svg")
    return root


@pytest.fixture(scope="module")
def a4_pack(project: Path) -> Iterator[Pack]:
    target = project / "a4.pdf"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        patch.setenv("SOURCE_DATE_EPOCH", str(int(NOON_OF_THE_DAY.timestamp())))
        result = invoke_cli(
            "pack", "zorvatin", "klemorex", "Zorvatin", "pallidone-quessar",
            "--take", "zorvatin=morning,evening", "--take", "Klémorex=bedtime",
            "--note", "zorvatin=with food", "--dose", "Zorvatin=5 mg, 1 tablet",
            "-o", str(target),
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    yield Pack(target, result.output, normalised_page_texts(target))


@pytest.fixture(scope="module")
def clinic_pack(project: Path) -> Iterator[Pack]:
    (project / "medpdf.toml").write_text(
        '[clinic]\nname = "Willowbank Health Centre"\nlogo = "assets/logo.svg"\n'
        '[output]\nqr_url = "https://example.org/drugs/{slug}"\n',
        encoding="utf-8",
    )
    (project / "list.toml").write_text(
        'name = "Example list"\n[[medicine]]\nname = "klemorex"\ntake = ["noon"]\n'
        '[[medicine]]\nname = "Zorvatin"\nnote = "after meals"\ndose = "2 puffs"\n',
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        result = invoke_cli("pack", "--from", "list.toml", "--paper", "letter", "--large-print")
    (project / "medpdf.toml").unlink()
    assert result.exit_code == 0, result.output
    target = project / "output" / "packs" / "example-list.pdf"
    yield Pack(target, result.output, normalised_page_texts(target))


def count_tags(node: object, kind: str) -> int:
    """Structure elements of one kind under ``node``."""
    if isinstance(node, pikepdf.Array):
        return sum(count_tags(child, kind) for child in node)
    if isinstance(node, pikepdf.Dictionary):
        own = 1 if node.get("/S") == kind else 0
        return own + (count_tags(node.K, kind) if "/K" in node else 0)
    return 0


def leaflet_starts(pack: Pack) -> dict[str, int]:
    """Page index where each medicine's leaflet starts (its own page 1), in page order."""
    found = {
        title: index
        for index, text in enumerate(pack.pages)
        for title in TITLES
        if f"{title} Leaflet page 1 of" in text
    }
    return dict(sorted(found.items(), key=lambda item: item[1]))


# -- page 1 ---------------------------------------------------------------------------------


def test_the_command_names_the_pack_and_a_duplicate_counts_once(a4_pack: Pack) -> None:
    assert f"wrote {a4_pack.path} (3 medicines: {', '.join(TITLES)};" in normalise(a4_pack.output)


def test_page_one_is_the_schedule_with_blank_lines_for_the_patient(a4_pack: Pack) -> None:
    first = a4_pack.pages[0]
    assert first.index("My medicines") < first.index("Patient name")
    for words in ("Prescriber", "Date", "Medicine What it is for Morning Noon Evening Bedtime"):
        assert words in first
    rows = [
        first.index(title)
        for title in ("Zorvatin 5 mg, 1 tablet with food", "Klémorex", "Pallidone + Quessar")
    ]
    assert rows == sorted(rows)
    assert "To calm an invented itch of the elbows" in first
    assert "To treat an invented dryness of the knees, which often returns in winter " in first


def test_ticks_are_where_take_says_and_boxes_are_left_empty_elsewhere(a4_pack: Pack) -> None:
    with pdfplumber.open(a4_pack.path) as pdf:
        page = pdf.pages[0]
        schedule = page.extract_table()
    header, *rows = schedule
    assert header[2:] == ["Morning", "Noon", "Evening", "Bedtime"]
    ticks = {normalise(row[0]): [cell.strip() for cell in row[2:]] for row in rows}
    assert ticks == {
        "Zorvatin 5 mg, 1 tablet with food": ["✓", "", "✓", ""],
        "Klémorex": ["", "", "", "✓"],
        "Pallidone + Quessar": ["", "", "", ""],
    }


def test_mentions_say_who_names_whom_and_where_one_line_per_pair(a4_pack: Pack) -> None:
    first = a4_pack.pages[0]
    assert "Ask your pharmacist about 2 pairs of these medicines" in first
    assert (
        "Ask your pharmacist about taking these medicines together: "
        "Zorvatin and Klémorex: Zorvatin's leaflet mentions Klémorex (How it works). "
        "Zorvatin and Pallidone + Quessar: Zorvatin's leaflet mentions Pallidone + Quessar "
        "(Warnings and precautions)."
    ) in first
    assert "Klémorex's leaflet mentions" not in first
    assert first.count("Zorvatin and Klémorex") == 1


def test_page_one_always_says_it_is_not_an_interaction_check(a4_pack: Pack) -> None:
    assert (
        "This list is not a check for interactions between medicines. Tell your pharmacist "
        "about every medicine you take, including those bought without a prescription and "
        "herbal products."
    ) in a4_pack.pages[0]


def card_page_of(pages: list[str], marker: str = "Emergency contact") -> int:
    """The page that holds the wallet card (its emergency contact line, in the pack's words)."""
    (found,) = [i for i, text in enumerate(pages) if marker in text]
    return found


def card_page(pack: Pack) -> int:
    """The page of the pack's own pages that holds the wallet card."""
    return card_page_of(pack.pages)


def test_the_wallet_card_is_a_bank_card_with_a_dashed_cut_line(a4_pack: Pack) -> None:
    with pdfplumber.open(a4_pack.path) as pdf:
        page = pdf.pages[card_page(a4_pack)]
        dashed = [line for line in page.lines if line.get("dash") and line["dash"][0]]
        text = normalise(page.extract_text())
        bedtimes = [w for w in page.extract_words() if w["text"] == "Bedtime"]
    assert len(dashed) == 4
    width = (max(d["x1"] for d in dashed) - min(d["x0"] for d in dashed)) / MM
    height = (max(d["bottom"] for d in dashed) - min(d["top"] for d in dashed)) / MM
    assert width == pytest.approx(85.6, abs=0.5)
    assert height == pytest.approx(54.0, abs=0.5)
    assert "Cut out along the dashed line" in text
    assert "M = Morning · N = Noon · E = Evening · B = Bedtime" in text
    # Nothing of the card runs past its cut line: its key (the one "Bedtime" inside it).
    key = [w for w in bedtimes if w["top"] > min(d["top"] for d in dashed)]
    assert len(key) == 1 and key[0]["bottom"] < max(d["bottom"] for d in dashed)


def test_the_card_has_the_dose_and_lines_for_allergies_and_an_emergency_contact(
    a4_pack: Pack,
) -> None:
    card = a4_pack.pages[card_page(a4_pack)]
    assert "Zorvatin 5 mg, 1 tablet" in card
    assert (
        card.index("My medicines Name") < card.index("Allergies") < card.index("Emergency contact")
    )


LONG_WORDS = (
    "Zorvatinium", "Klemorexate", "Pallidonic Acid", "Quessarine Hydrochloride",
    "Orbixaparin", "Veltomycin", "Fendralizumab", "Tobrinostat",
)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("large_print", [False, True], ids=["a4", "large-print"])
def test_twenty_long_names_are_never_cut_on_the_card(tmp_path: Path, large_print: bool) -> None:
    content = tmp_path / "content"
    titles = [
        " + ".join(LONG_WORDS[(n + k) % len(LONG_WORDS)] for k in range(2 + n % 5)) + f" {n}"
        for n in range(20)
    ]
    for number, title in enumerate(titles):
        body = f"### Usage\nUsed for invented thing {number}.\n"
        write_monograph(content, f"m{number:02}", f"---\ntitle: {title}\n---\n\n# {title}\n{body}")
    target = tmp_path / "p.pdf"
    flags = ["--large-print"] if large_print else []
    names = [f"m{n:02}" for n in range(20)]
    result = invoke_cli("pack", "--content", str(content), *names, *flags, "-o", str(target))
    assert result.exit_code == 0, result.output
    card = card_of(target)
    assert missing_names(card, titles) == []
    assert "…" not in card.text
    # Every panel is a bank card: none grew to fit its names, none was cut short.
    assert odd_panels(card) == []
    assert len(card.panels) >= 3  # a folding card


def test_a_bad_dose_is_one_line_and_exit_2(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    for value, message in [
        ("zorvatin=", '--dose zorvatin: no dose given; write it as "5 mg, 1 tablet"'),
        ("zorvatin=" + "5 mg " * 20, "--dose zorvatin: a dose is at most 60 characters"),
        ("klemorex=5 mg", "--dose klemorex: not a medicine of this pack"),
    ]:
        result = invoke_cli("pack", "zorvatin", "--dose", value, "-o", "bad.pdf")
        assert result.exit_code == 2
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (project / "bad.pdf").exists()


# -- the handouts after it ---------------------------------------------------------------


def test_each_medicine_follows_on_a_new_page_in_order(a4_pack: Pack) -> None:
    starts = leaflet_starts(a4_pack)
    assert list(starts) == list(TITLES)
    assert list(starts.values()) == sorted(starts.values())
    assert starts["Zorvatin"] >= 1
    for title, index in starts.items():
        # Its page 1 is a page of its own: the page before belongs to another document.
        assert f"{title} Leaflet page" not in a4_pack.pages[index - 1]
        assert f"{title} Generic name" in a4_pack.pages[index] or title == TITLES[2]


def test_every_page_has_the_pack_wide_number_and_the_short_disclaimer(a4_pack: Pack) -> None:
    total = len(a4_pack.pages)
    for number, text in enumerate(a4_pack.pages, start=1):
        assert f"Page {number} of {total}" in text
        assert SHORT_DISCLAIMER in text


def test_a_common_disclaimer_is_printed_once_at_the_end(a4_pack: Pack) -> None:
    everything = " ".join(a4_pack.pages)
    assert everything.count(FULL_DISCLAIMER) == 1
    assert FULL_DISCLAIMER in a4_pack.pages[-1]
    assert "This applies to every leaflet in this pack." in a4_pack.pages[-1]


def test_the_outline_is_my_medicines_then_each_medicine(a4_pack: Pack) -> None:
    with pikepdf.open(a4_pack.path) as pdf, pdf.open_outline() as outline:
        top = [(str(item.title), [str(c.title) for c in item.children]) for item in outline.root]
    assert top == [("My medicines", list(TITLES)), ("Disclaimer", [])]


def test_the_pack_is_tagged_with_title_and_language(a4_pack: Pack) -> None:
    with pikepdf.open(a4_pack.path) as pdf:
        assert "/StructTreeRoot" in pdf.Root
        assert bool(pdf.Root.MarkInfo.Marked) is True
        assert str(pdf.Root.Lang) == "en"
        assert (
            str(pdf.docinfo["/Title"])
            == "My medicines \u2013 Zorvatin, Klémorex, and Pallidone + Quessar"
        )
        assert str(pdf.open_metadata().get("pdfuaid:part")) == "1"
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
        # My medicines, one per medicine, the closing disclaimer; the schedule is a table.
        assert count_tags(pdf.Root.StructTreeRoot, "/H1") == 1 + len(TITLES) + 1
        assert count_tags(pdf.Root.StructTreeRoot, "/TH") >= 6
        # The stamped page number is an artifact, not untagged content.
        content = pdf.pages[0].Contents
        streams = content if isinstance(content, pikepdf.Array) else [content]
        assert b"/Artifact" in streams[-1].read_bytes()


def test_a4_pages_and_todays_date(a4_pack: Pack) -> None:
    with pikepdf.open(a4_pack.path) as pdf:
        sizes = {
            (round(float(p.mediabox[2]), 2), round(float(p.mediabox[3]), 2)) for p in pdf.pages
        }
    assert sizes == {A4}
    assert "Printed December 28, 2031 · 3 medicines" in a4_pack.pages[0]  # Babel, as handouts


# -- options that work in packs -------------------------------------------------------------


def test_a_medicine_list_file_with_letter_large_print_clinic_and_qr(clinic_pack: Pack) -> None:
    with pikepdf.open(clinic_pack.path) as pdf:
        sizes = {
            (round(float(p.mediabox[2]), 1), round(float(p.mediabox[3]), 1)) for p in pdf.pages
        }
    assert sizes == {LETTER}
    first = clinic_pack.pages[0]
    assert first.startswith("Willowbank Health Centre My medicines")
    # In large print what a medicine is for goes under its name, then the note. On Letter
    # paper, with the note on interactions and 29 mm time columns, the schedule runs on to
    # page 2 (its header row repeated there).
    schedule = " ".join(clinic_pack.pages[:2])
    assert schedule.index("Klémorex To treat an invented dryness of the knees") < schedule.index(
        "Zorvatin To calm an invented itch of the elbows 2 puffs after meals"
    )
    starts = leaflet_starts(clinic_pack)
    assert list(starts) == ["Klémorex", "Zorvatin"]
    for index in starts.values():
        leaflet = clinic_pack.pages[index]
        assert "Willowbank Health Centre" in leaflet
        assert "Scan for the online version" in leaflet
        assert re.search(r"Version [0-9a-f]{12}", leaflet)


def test_large_print_schedule_text_is_at_least_16pt(clinic_pack: Pack) -> None:
    with pdfplumber.open(clinic_pack.path) as pdf:
        page = pdf.pages[0]
        words = page.extract_words(extra_attrs=["size", "fontname"])
        words += pdf.pages[1].extract_words(extra_attrs=["size", "fontname"])
        cells = {(round(c["x0"]), round(c["x1"])) for c in page.rects if c["height"] > 15}
    schedule = [w for w in words if w["text"] in {"Morning", "Bedtime", "Zorvatin", "Klémorex"}]
    assert len(schedule) >= 4
    assert min(w["size"] for w in schedule) >= 15.9
    # The column headers are bold, and "Bedtime" has room in its cell on both sides.
    bedtime = next(w for w in words if w["text"] == "Bedtime")
    assert "Bold" in bedtime["fontname"]
    left = max(x0 for x0, _ in cells if x0 <= bedtime["x0"])
    right = min(x1 for _, x1 in cells if x1 >= bedtime["x1"])
    assert min(bedtime["x0"] - left, right - bedtime["x1"]) >= 3  # points; it was 1.7
    # Every character on the page, the footer's too, is 16 pt or more, but the card's.
    footer = [c for c in page.chars if c["top"] > page.height - 46 * 72 / 25.4]
    assert footer and min(c["size"] for c in footer) >= 15.9


# -- disclaimers that differ ------------------------------------------------------------------


def test_different_disclaimers_stay_with_each_medicine(tmp_path: Path) -> None:
    content = make_content(tmp_path)
    text = (content / "klemorex.md").read_text(encoding="utf-8")
    (content / "klemorex.md").write_text(
        text.replace(FULL_DISCLAIMER, "Another invented disclaimer."), encoding="utf-8"
    )
    target = tmp_path / "p.pdf"
    result = invoke_cli(
        "pack", "--content", str(content), "zorvatin", "klemorex", "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    pages = normalised_page_texts(target)
    everything = " ".join(pages)
    assert everything.count(FULL_DISCLAIMER) == 1
    assert everything.count("Another invented disclaimer.") == 1
    assert "This applies to every leaflet" not in everything
    assert "Klémorex" in pages[-1]


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["zorvatin", "zorvatn"],
            "no monograph named 'zorvatn' in content; did you mean: zorvatin",
        ),
        (["zorvatin", "--take", "zorvatin=dawn"], "'dawn' is not a time of day"),
        (["zorvatin", "--take", "klemorex=noon"], "--take klemorex: not a medicine of this pack"),
        (["zorvatin", "--note", "zorvatin"], "--note 'zorvatin': expected NAME=VALUE"),
        ([], "a pack needs at least one medicine"),
        (["--from", "missing.toml"], "cannot read the medicine list missing.toml"),
    ],
)
def test_bad_requests_are_one_line_and_exit_2(
    project: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(project)
    result = invoke_cli("pack", *args, "-o", "bad.pdf")
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (project / "bad.pdf").exists()


def test_more_than_twenty_medicines_is_refused(tmp_path: Path) -> None:
    content = tmp_path / "content"
    names = [f"drug{i:02}" for i in range(21)]
    for name in names:
        write_monograph(content, name, f"---\ntitle: {name}\n---\n\n# {name}\n### Usage\nX.\n")
    result = invoke_cli("pack", "--content", str(content), *names, "-o", str(tmp_path / "p.pdf"))
    assert result.exit_code == 2
    assert "a pack holds at most 20 medicines" in result.stderr
    assert not (tmp_path / "p.pdf").exists()


def test_a_broken_medicine_names_its_file_and_nothing_is_written(tmp_path: Path) -> None:
    content = make_content(tmp_path)
    (content / "broken.md").write_text("---\ntitle: [unclosed\n---\n# Broken\n", encoding="utf-8")
    target = tmp_path / "p.pdf"
    result = invoke_cli("pack", "--content", str(content), "zorvatin", "broken", "-o", str(target))
    assert result.exit_code == 1
    assert re.match(r"^\S*broken\.md:\d+: error: ", result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not target.exists()
    assert not list(tmp_path.glob(".*medpdf-tmp"))


# -- printing a pack ----------------------------------------------------------------------------


def test_print_with_several_names_prints_their_pack_through_a_real_cups(
    cups: Cups, project: Path
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "medpdf",
            "print",
            "zorvatin",
            "klemorex",
            "--printer",
            cups.printer,
        ],
        cwd=project,
        env=cups.env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    sent = re.fullmatch(
        rf"sent medication pack of 2 medicines \((\d+) pages\) to {cups.printer} "
        rf"as job ({cups.printer}-\d+)\n",
        done.stdout,
    )
    assert sent, done.stdout
    pdf, accounting = cups.wait_for_pdf(sent.group(2))
    pages = normalised_page_texts(pdf)
    assert len(pages) == int(sent.group(1))
    assert "My medicines" in pages[0] and "Zorvatin" in pages[0] and "Klémorex" in pages[0]
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert "title=My medicines: Zorvatin, Klémorex \u2013 patient handout" in accounting
    assert not (project / "output" / "packs").exists() or not any(
        (project / "output" / "packs").glob("zorvatin*")
    )
    history = subprocess.run(
        [sys.executable, "-m", "medpdf", "history", "--json"],
        cwd=project,
        env=cups.env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=True,
    )
    (recorded,) = [json.loads(line) for line in history.stdout.splitlines()]
    assert [d["slug"] for d in recorded["drugs"]] == ["zorvatin", "klemorex"]
    assert (recorded["action"], recorded["via"]) == ("printed", "pack")
    assert (recorded["printer"], recorded["job"]) == (cups.printer, sent.group(2))


def test_print_with_an_unknown_name_among_several_asks_no_printer(project: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        patch.setenv("PATH", "/nonexistent")  # no lp or lpstat: CUPS must not be reached
        result = invoke_cli("print", "zorvatin", "zorvatn")
    assert result.exit_code == 2
    assert "no monograph named 'zorvatn'" in result.stderr


def test_a_medicine_that_fails_to_render_names_itself_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from medpdf.html import templating

    real = templating.monograph_html

    def failing(monograph: object, *args: object, **kwargs: object) -> str:
        if getattr(monograph, "slug", "") == "klemorex":
            raise ValueError("invented layout failure")
        return real(monograph, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(templating, "monograph_html", failing)
    content = make_content(tmp_path)
    target = tmp_path / "p.pdf"
    result = invoke_cli(
        "pack", "--content", str(content), "zorvatin", "klemorex", "-o", str(target)
    )
    assert result.exit_code == 1
    assert re.match(
        r"^\S*klemorex\.md: error: rendering failed: .*invented layout failure", result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert not target.exists()


def test_a_misspelt_name_suggests_the_single_medicine_before_its_combinations(
    tmp_path: Path,
) -> None:
    content = tmp_path / "content"
    for slug, title in [
        ("velarin-anthex", "Velarin + Anthex"),
        ("velarin-bromid", "Velarin + Bromid"),
        ("velarin-cotrel", "Velarin + Cotrel"),
        ("velarin", "Velarin"),
    ]:
        write_monograph(content, slug, f"---\ntitle: {title}\n---\n\n# {title}\n### Usage\nX.\n")
    result = invoke_cli("pack", "--content", str(content), "velarn", "-o", str(tmp_path / "p.pdf"))
    assert result.exit_code == 2
    assert "did you mean: velarin, " in result.stderr


# -- languages ---------------------------------------------------------------------------


def visual(text: str) -> str:
    """Arabic as pdfplumber reads it off the page: in drawing order, left to right."""
    return text[::-1]


@pytest.fixture(scope="module")
def language_packs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A Spanish and an Arabic pack: each speaks its first medicine's language."""
    root = tmp_path_factory.mktemp("pack-languages")
    content = make_content(root)
    for path in (FIXTURES.parent / "languages").glob("*.md"):
        shutil.copy(path, content / path.name)
    made = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("SOURCE_DATE_EPOCH", str(int(NOON_OF_THE_DAY.timestamp())))
        for lang, first in (("es", "ibuprofen.es"), ("ar", "ibuprofen.ar")):
            target = root / f"{lang}.pdf"
            result = invoke_cli(
                "pack", first, "zorvatin", "--take", f"{first}=morning,bedtime", "-o", str(target)
            )
            assert result.exit_code == 0, result.output
            made[lang] = target
    return made


def test_a_spanish_pack_speaks_spanish_on_page_one(language_packs: dict[str, Path]) -> None:
    pages = normalised_page_texts(language_packs["es"])
    first = pages[0]
    for words in (
        "Mis medicamentos",
        "Nombre del paciente",
        "Medicamento Para qué sirve Mañana Mediodía Tarde",
        "Pregunte a su farmacéutico",
        "Esta lista no comprueba las interacciones entre medicamentos.",
        "Impreso el 28 de diciembre de 2031 · 2 medicamentos",
    ):
        assert words in first
    card = pages[card_page_of(pages, "Contacto de emergencia")]  # page 1, or 2 on a long list
    for words in (
        "Recorte por la línea discontinua",
        "Alergias",
        "Contacto de emergencia",
        "M = Mañana · Md = Mediodía · T = Tarde · Ac = Al acostarse",
    ):
        assert words in card
    for english in ("My medicines", "Morning", "Bedtime", "Ask your pharmacist", "Page 1"):
        assert english not in first and english not in card
    assert all(f"Página {n} de {len(pages)}" in text for n, text in enumerate(pages, start=1))
    with pikepdf.open(language_packs["es"]) as pdf:
        assert str(pdf.Root.Lang) == "es"
        assert str(pdf.docinfo["/Title"]) == "Mis medicamentos \u2013 Ibuprofeno y Zorvatin"
        with pdf.open_outline() as outline:
            assert str(outline.root[0].title) == "Mis medicamentos"


def test_an_arabic_pack_is_arabic_and_right_to_left(language_packs: dict[str, Path]) -> None:
    with pdfplumber.open(language_packs["ar"]) as pdf:
        page = pdf.pages[0]
        text = normalise(page.extract_text())
        words = page.extract_words()
        total = len(pdf.pages)
    for arabic in ("أدويتي", "الصباح", "الظهر", "المساء", "الصيدلي", "اسأل"):
        assert visual(arabic) in text, arabic
    assert "My medicines" not in text and "Morning" not in text
    assert f"{total} {visual('من')} 1 {visual('صفحة')}" in text  # "صفحة 1 من N", drawn
    # The schedule runs from the right: Medicine first at the right edge, then Morning,
    # ... Bedtime last at the left; the medicine names sit in the rightmost column.
    x = {w["text"]: w["x0"] for w in words}
    medicine, morning, bedtime = x[visual("الدواء")], x[visual("الصباح")], x[visual("النوم")]
    assert medicine > morning > bedtime
    schedule_name = min((w for w in words if w["text"] == "Zorvatin"), key=lambda w: w["top"])
    assert schedule_name["x0"] > page.width / 2
    with pikepdf.open(language_packs["ar"]) as pdf:
        assert str(pdf.Root.Lang) == "ar"


# -- --lang: each medicine in the patient's language ------------------------------------------


@pytest.fixture(scope="module")
def language_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pack-lang")
    content = make_content(root)
    for path in (FIXTURES.parent / "languages").glob("*.md"):
        shutil.copy(path, content / path.name)
    return root


def test_lang_picks_each_translation_and_names_those_without_one(
    language_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(language_project)
    target = language_project / "es.pdf"
    result = invoke_cli("pack", "ibuprofen", "zorvatin", "--lang", "es", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "(2 medicines: Ibuprofeno, Zorvatin;" in normalise(result.stdout)
    assert result.stderr.strip() == (
        "note: no Spanish translation of Zorvatin; printed in its own language"
    )
    first = normalised_page_texts(target)[0]
    assert first.startswith("Mis medicamentos")
    assert "No disponibles en español, por eso se imprimen en su propio idioma: Zorvatin." in first
    assert "Ibuprofeno Para el dolor de cabeza" in first


def test_a_monograph_and_its_own_translation_are_one_medicine(
    language_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(language_project)
    target = language_project / "one.pdf"
    result = invoke_cli(
        "pack", "ibuprofen", "ibuprofen.es", "zorvatin", "--take", "ibuprofen.es=noon",
        "-o", str(target),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "(2 medicines: Ibuprofen, Zorvatin;" in normalise(result.stdout)
    first = normalised_page_texts(target)[0]
    assert "Same active ingredient" not in first and "Ibuprofeno" not in first


def test_handout_lang_prints_the_translation_or_says_there_is_none(
    language_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(language_project)
    spanish = invoke_cli("handout", "ibuprofen", "--lang", "es", "-o", "ibu.pdf")
    assert spanish.exit_code == 0, spanish.output
    assert spanish.stderr == ""
    assert normalised_page_texts(language_project / "ibu.pdf")[0].startswith("Ibuprofeno")
    english = invoke_cli("handout", "ibuprofen.es", "--lang", "en", "-o", "en.pdf")
    assert english.exit_code == 0, english.output
    assert "Ibuprofeno" not in normalised_page_texts(language_project / "en.pdf")[0]
    missing = invoke_cli("handout", "zorvatin", "--lang", "pt", "-o", "z.pdf")
    assert missing.exit_code == 0, missing.output
    assert missing.stderr.strip() == (
        "note: no Portuguese translation of Zorvatin; printed in its own language"
    )
