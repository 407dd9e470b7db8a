"""The clinic's booklet: a formulary, bound volumes and the ingredient index, read back.

Small invented collections with combination titles; every number printed in
a contents or index line is checked against the page where the monograph
really starts (its running header says "page 1 of n of this drug").
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pytest
from conftest import MINIMAL, invoke_cli, normalised_page_texts, write_monograph

from medpdf.content import ingredients
from medpdf.html.booklet_pages import TocEntry, TocGroup
from medpdf.pdf.assemble import Placed
from medpdf.products.booklet.plan import Volume, plan_volumes, runs

pytestmark = pytest.mark.slow

FILLER = "This sentence makes the monograph longer so that it needs more pages. " * 8

# slug: (title, generic name or None for the title, length in pages (roughly))
DRUGS: dict[str, tuple[str, str | None, int]] = {
    "paracetamol": ("Paracetamol", None, 1),
    "aceclofenac-paracetamol": ("Aceclofenac + Paracetamol", None, 2),
    "caffeine-paracetamol": ("Caffeine + Paracetamol", None, 1),
    "cyanocobalamin": ("Cyanocobalamin", "Vitamin B12", 1),
    "folic-acid-b12": ("Folic Acid + Vitamin B 12", None, 1),
    "ebastine": ("Ébastine", None, 1),
    "dexamethasone": ("Dexamethasone", None, 3),
    "cefaclor": ("Cefaclor", None, 1),
    "bromhexine-guaifenesin": ("Bromhexine / Guaifenesin", None, 1),
    "betahistine": ("Betahistine (Oral)", None, 2),
    "zinc-sulfate": ("Zinc Sulfate", None, 1),
    "zinc-sulphate-vitamin-c": ("Zinc Sulphate + Vitamin C", None, 1),
    "lamivudine": ("Lamivudine", None, 2),
    "metformin": ("Metformin", None, 1),
}


def monograph(title: str, generic: str | None, length: int) -> str:
    text = MINIMAL.format(title=title)
    if generic is not None:
        text = text.replace(f"### Generic Name\n{title}\n", f"### Generic Name\n{generic}\n")
    extra = "\n\n".join(f"Note {i}: {FILLER}" for i in range(length * 4 if length > 1 else 0))
    return text.replace("### Dosage\n", f"### Dosage\n{extra}\n\n")


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clinic") / "content"
    for slug, (title, generic, length) in DRUGS.items():
        write_monograph(folder / slug[0], slug, monograph(title, generic, length))
    return folder


def build(content: Path, output: Path, *flags: str) -> str:
    # In the test's own folder: the build's cache and lock live in ./output, and tests
    # running side by side must not share (or wait on) one; a "cold" build has its own.
    output.mkdir(parents=True, exist_ok=True)
    with contextlib.chdir(output):
        result = invoke_cli(
            "booklet", "--content", str(content), "-o", str(output / "booklet.pdf"), "-j", "2",
            *flags,
        )  # fmt: skip
    assert result.exit_code == 0, result.output + result.stderr
    return result.stderr


def starts(texts: list[str]) -> dict[str, int]:
    """1-based page where each drug starts, from its running header."""
    found: dict[str, int] = {}
    # Longest first: "Paracetamol page 1 of" is also the end of "Caffeine + Paracetamol page 1 of".
    titles = sorted((title for title, _, _ in DRUGS.values()), key=len, reverse=True)
    for number, text in enumerate(texts, start=1):
        for title in titles:
            if re.search(rf"(?<!\S){re.escape(title)} page 1 of \d+ of this drug", text):
                found.setdefault(title, number)
                break
    return found


def index_rows(path: Path) -> dict[str, list[tuple[str, int, int]]]:
    """The printed index: ingredient -> [(monograph title, volume, page)], volume 0 if none."""
    rows: dict[str, list[tuple[str, int, int]]] = {}
    number = re.compile(r"^(?P<text>.*?) (?:Vol\. (?P<volume>\d+) · )?(?P<page>\d+)$")
    with pdfplumber.open(path) as pdf:
        heading: tuple[str, float] | None = None
        for page in pdf.pages:
            words = page.extract_text() or ""
            if "Ingredient index" not in words.split("\n")[0]:
                continue
            for line in page.extract_text_lines():
                text = line["text"]
                if line["top"] < 60 or line["bottom"] > page.height - 80 or len(text) == 1:
                    continue  # running header, footer, letter band
                if text.startswith(("Ingredient index", "Every active")) or text == "contains it.":
                    continue  # the heading and the note under it
                if "Bold" in line["chars"][0]["fontname"]:  # an ingredient over its monographs
                    heading = (text, line["x0"])
                    rows[text] = []
                    continue
                match = number.match(text)
                assert match is not None, text
                ref = (match["text"], int(match["volume"] or 0), int(match["page"]))
                if heading is not None and line["x0"] > heading[1] + 3:
                    rows[heading[0]].append(ref)
                else:
                    heading = None
                    name, _, title = ref[0].partition(" in ")
                    rows[name] = [(title or name, ref[1], ref[2])]
    return rows


def test_the_index_lists_every_component_at_its_real_page(content: Path, tmp_path: Path):
    build(content, tmp_path)
    path = tmp_path / "booklet.pdf"
    texts = normalised_page_texts(path)
    first = starts(texts)
    assert set(first) == {title for title, _, _ in DRUGS.values()}
    rows = index_rows(path)
    # Every component of every combination title, with that monograph, at its start page.
    for title, _, _ in DRUGS.values():
        for name in ingredients.split_names(title):
            key = next(k for k in rows if ingredients.name_key(k) == ingredients.name_key(name))
            assert (title, 0, first[title]) in rows[key], (name, rows[key])
    assert [t for t, _, _ in rows["Paracetamol"]] == [
        "Aceclofenac + Paracetamol",
        "Caffeine + Paracetamol",
        "Paracetamol",
    ]
    # "Vitamin B12" (a generic name) and "Vitamin B 12" (a title) are one entry; accents
    # and the "(Oral)" qualifier do not make names of their own.
    assert [t for t, _, _ in rows["Vitamin B12"]] == ["Cyanocobalamin", "Folic Acid + Vitamin B 12"]
    assert "Vitamin B 12" not in rows
    assert rows["Betahistine"] == [("Betahistine (Oral)", 0, first["Betahistine (Oral)"])]
    assert "Ébastine" in rows
    # Alphabetical, and "Sulfate" and "Sulphate" are not merged (check --report names them).
    names = list(rows)
    assert names == sorted(names, key=ingredients.name_key)
    assert "Zinc Sulfate" in rows and "Zinc Sulphate" in rows

    # Index links land on the start page of the monograph on their line.
    with pikepdf.open(path) as pdf:
        page_of = {page.obj.objgen: n for n, page in enumerate(pdf.pages, start=1)}
        index_pages = [
            n for n, t in enumerate(texts, 1) if "Ingredient index" in t and "this drug" not in t
        ]
        assert index_pages and index_pages == list(range(index_pages[0], len(texts) + 1))
        linked = 0
        for n in range(index_pages[0], len(texts) + 1):
            for annot in pdf.pages[n - 1].obj.get("/Annots", []):
                assert "/A" not in annot  # no x-dest: URI left behind
                linked += 1
                target = page_of[annot.Dest[0].objgen]
                assert target in first.values()
        assert linked == sum(len(refs) for refs in rows.values())
        outline_titles = [item.title for item in pdf.open_outline().root]
        assert outline_titles[-1] == "Ingredient index"


def test_only_builds_exactly_the_formulary(content: Path, tmp_path: Path):
    formulary = tmp_path / "formulary.txt"
    formulary.write_text(
        "# Riverside clinic formulary\n"
        "paracetamol\n"
        "Caffeine + Paracetamol   # by title\n"
        "\n"
        "PARACETAMOL\n"  # the same again: once
        "cefaclor\n",
        encoding="utf-8",
    )
    build(content, tmp_path, "--only", str(formulary))
    texts = normalised_page_texts(tmp_path / "booklet.pdf")
    assert set(starts(texts)) == {"Paracetamol", "Caffeine + Paracetamol", "Cefaclor"}
    assert "Drug reference booklet 3 medpdf" in texts[0]  # the cover counts 3 monographs
    rows = index_rows(tmp_path / "booklet.pdf")
    assert set(rows) == {"Caffeine", "Cefaclor", "Paracetamol"}


def test_unknown_formulary_names_are_one_line_each_with_suggestions(content: Path, tmp_path: Path):
    formulary = tmp_path / "formulary.txt"
    formulary.write_text("paracetamoll\ncefaclor\nDexamethazone\n", encoding="utf-8")
    with contextlib.chdir(tmp_path):
        result = invoke_cli(
            "booklet", "--content", str(content), "-o", str(tmp_path / "b.pdf"),
            "--only", str(formulary),
        )  # fmt: skip
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines  # one line per unknown name, nothing else
    assert lines[0].startswith(
        f"{formulary}:1: error: no monograph named 'paracetamoll' in the collection; did you mean: "
    )
    assert "paracetamol," in lines[0] or lines[0].endswith(" paracetamol?")
    assert lines[1] == (
        f"{formulary}:3: error: no monograph named 'Dexamethazone' in the collection; "
        "did you mean: dexamethasone?"
    )
    assert not (tmp_path / "b.pdf").exists()


def test_formulary_from_medpdf_toml(content: Path, tmp_path: Path):
    settings = tmp_path / "medpdf.toml"
    settings.write_text('[formulary]\nnames = ["metformin", "Lamivudine"]\n', encoding="utf-8")
    build(content, tmp_path, "--config", str(settings))
    texts = normalised_page_texts(tmp_path / "booklet.pdf")
    assert set(starts(texts)) == {"Metformin", "Lamivudine"}
    settings.write_text("[formulary]\nnames = 3\n", encoding="utf-8")
    with contextlib.chdir(tmp_path):
        result = invoke_cli("booklet", "--content", str(content), "--config", str(settings))
    assert result.exit_code == 2
    assert "formulary.names: must be a list of names or a file name, not 3" in result.stderr


def volume_files(output: Path) -> list[Path]:
    return sorted(output.glob("booklet-vol*.pdf"))


def test_volumes_respect_the_limit_and_number_their_own_pages(content: Path, tmp_path: Path):
    limit = 14
    build(content, tmp_path, "--volume-pages", str(limit))
    files = volume_files(tmp_path)
    assert len(files) >= 2
    assert [f.name for f in files] == [f"booklet-vol{n:02d}.pdf" for n in range(1, len(files) + 1)]
    seen: list[str] = []
    spans = []
    for number, path in enumerate(files, start=1):
        texts = normalised_page_texts(path)
        total = len(texts)
        assert total <= limit, (path.name, total)
        for page, text in enumerate(texts, start=1):
            assert "not medical advice" in text
            assert f"Page {page} of {total} Printed" in text, (path.name, page)
        first = starts(texts)
        ordered = sorted(first, key=first.__getitem__)
        seen += ordered
        if not ordered:  # the index, when it does not fit beside any monograph
            span = "Ingredient index"
        else:
            span = ordered[0] if len(ordered) == 1 else f"{ordered[0]} \u2013 {ordered[-1]}"
        spans.append(span)
        assert f"Volume {number} of {len(files)} · {span}" in texts[0]
        # No monograph is split: each drug's own pages all follow its start here.
        for title, start in first.items():
            match = re.search(r"page 1 of (\d+) of this drug", texts[start - 1])
            assert match is not None
            pages = int(match[1])
            assert f"{title} page {pages} of {pages} of this drug" in texts[start + pages - 2]
        # The volume's own contents point at its own pages.
        contents = " ".join(texts[: min(first.values(), default=1) - 1])
        for title, start in first.items():
            assert re.search(rf"{re.escape(title)} {start}(?!\d)", contents), (path.name, title)
        with pikepdf.open(path) as pdf:
            outline = [item.title for item in pdf.open_outline().root]
            assert outline[0] == "Contents"
            assert ("Ingredient index" in outline) == (number == len(files))
    # Every monograph once, in order, across the volumes.
    assert len(seen) == len(DRUGS) and len(set(seen)) == len(DRUGS)
    # Volume 1 lists every volume and its range.
    cover = " ".join(normalised_page_texts(files[0])[:3])
    for number, span in enumerate(spans, start=1):
        assert f"{number} {span} booklet-vol{number:02d}.pdf" in cover
    # Its column heads stand over one rule, not in boxes (monographs' table cells are boxed).
    with pdfplumber.open(files[0]) as pdf:
        page = next(p for p in pdf.pages if "From \u2013 to" in (p.extract_text() or ""))
        head = next(w for w in page.extract_words() if w["text"] == "From")
        strokes = [s for s in page.lines if not s.get("dash")]
        around = [
            s for s in strokes if head["top"] - 4 < s["bottom"] and s["top"] < head["bottom"] + 6
        ]
        assert len(around) >= 1 and all(s["top"] == s["bottom"] > head["bottom"] for s in around)
    # The index is in the last volume, with volume and page of each monograph.
    starts_by_title = {}
    for number, path in enumerate(files, start=1):
        for title, page in starts(normalised_page_texts(path)).items():
            starts_by_title[title] = (number, page)
    rows = index_rows(files[-1])
    assert rows
    for refs in rows.values():
        for title, volume, page in refs:
            assert starts_by_title[title] == (volume, page), title
    # Its links open the right page: in this file, or in the other volume's file.
    targets = Counter()
    last_texts = normalised_page_texts(files[-1])
    with pikepdf.open(files[-1]) as pdf:
        page_of = {page.obj.objgen: n for n, page in enumerate(pdf.pages, start=1)}
        for page, text in zip(pdf.pages, last_texts, strict=True):
            if "Ingredient index" not in text or "this drug" in text:
                continue  # only the index pages (the contents link too)
            for annot in page.obj.get("/Annots", []):
                if "/Dest" in annot:
                    targets[(len(files), page_of[annot.Dest[0].objgen])] += 1
                else:
                    assert annot.A.S == "/GoToR"
                    name = str(annot.A.F)
                    targets[(int(name[-6:-4]), int(annot.A.D[0]) + 1)] += 1
    expected = Counter((v, p) for refs in rows.values() for _, v, p in refs)
    assert targets == expected
    assert any(volume != len(files) for volume, _ in targets)


def test_an_edit_rebuilds_volumes_the_same_as_a_cold_build(content: Path, tmp_path: Path):
    import shutil

    mine = tmp_path / "content"
    shutil.copytree(content, mine)
    build(mine, tmp_path / "out", "--volume-pages", "14")
    write_monograph(mine / "c", "cefaclor", monograph("Cefaclor", None, 3))
    log = build(mine, tmp_path / "out", "--volume-pages", "14")
    assert "1 chunks laid out" in log
    build(mine, tmp_path / "cold", "--volume-pages", "14")
    warm, cold = volume_files(tmp_path / "out"), volume_files(tmp_path / "cold")
    assert [p.name for p in warm] == [p.name for p in cold]
    for a, b in zip(warm, cold, strict=True):
        assert normalised_page_texts(a) == normalised_page_texts(b)
    # Back to one booklet: the volume files of the earlier build are removed.
    build(mine, tmp_path / "out")
    assert volume_files(tmp_path / "out") == []


def placed(*pages: int, letters: str = "") -> list[Placed]:
    items, start = [], 0
    for n, count in enumerate(pages):
        letter = letters[n] if letters else "A"
        items.append(Placed(f"d{n}", f"D{n}", letter, start, count))
        start += count
    return items


def test_volume_plan_cuts_at_a_letter_near_the_end_and_keeps_room_for_the_index():
    # 100-page volumes; a letter starts 8 pages before the first would be full.
    items = placed(*[10] * 9, *[4] * 10, letters="AAAAAAAAABBBBBBBBBB")
    volumes = plan_volumes(items, 100, index_pages=0)
    assert [v.placed[0].letter for v in volumes] == ["A", "B"]
    assert all(isinstance(v, Volume) and v.number for v in volumes)
    # With a 30-page index, monographs move on so the last volume still fits.
    with_index = plan_volumes(items, 100, index_pages=30)
    sizes = [v.body_pages for v in with_index]
    assert sum(sizes) == sum(p.pages for p in items)
    assert sizes[-1] + 30 + 3 <= 100
    # A monograph longer than a volume gets one of its own rather than being split.
    alone = plan_volumes(placed(5, 300, 5), 100, index_pages=0)
    assert [len(v.placed) for v in alone] == [1, 1, 1]


def test_contents_parts_are_cut_before_a_letter_and_inside_one_only_when_it_is_too_long():
    def group(letter: str, count: int) -> TocGroup:
        return TocGroup(
            letter, tuple(TocEntry(f"{letter}{i}", f"{letter}{i}", i) for i in range(count))
        )

    groups = [group("A", 3), group("B", 4), group("C", 12), group("D", 1)]
    cut = runs(groups, lambda _: 1, budget=8)
    # A and B (5 + 6 lines with headings) do not share a part; C is cut between entries.
    assert [[(g.letter, len(g.entries)) for g in part] for part in cut] == [
        [("A", 3)],
        [("B", 4)],
        [("C", 6)],
        [("C", 6)],
        [("D", 1)],
    ]
    assert all(sum(2 + len(g.entries) for g in part) <= 8 for part in cut)
    # Nothing lost, nothing repeated, order kept.
    assert [e for part in cut for g in part for e in g.entries] == [
        e for g in groups for e in g.entries
    ]
    assert runs(groups, lambda _: 1, budget=100) == [tuple(groups)]


def test_check_report_lists_near_duplicate_ingredients(content: Path):
    result = invoke_cli("check", "--content", str(content), "--report")
    assert "ingredient names that look like near-duplicates: 1" in result.output
    assert "'Zinc Sulfate' / 'Zinc Sulphate' (2 monographs)" in result.output


def test_check_reports_title_components_that_make_junk_index_entries(tmp_path: Path):
    folder = tmp_path / "content"
    write_monograph(folder, "omega", monograph("Omega- + Vitamin E", None, 1))
    write_monograph(
        folder, "rotavirus", monograph("Rotavirus vaccine live attenuated + oral", None, 1)
    )
    write_monograph(folder, "fine", monograph("Omega-3 Fatty Acids + Vitamin E", None, 1))
    result = invoke_cli("check", "--content", str(folder))
    warnings = [line for line in result.stdout.splitlines() if "component" in line]
    assert warnings == [
        f"{folder / 'omega.md'}:3: warning: title component 'Omega-' ends with a hyphen; "
        "the index would list it as 'Omega'",
        f"{folder / 'rotavirus.md'}:3: warning: title component 'oral' is a descriptor, "
        "not an ingredient",
    ], result.stdout


def test_name_rules():
    assert (
        ingredients.name_key("Vitamin B 12")
        == ingredients.name_key("vitamin b-12")
        == "vitamin b12"
    )
    assert ingredients.name_key("Ébastine") == "ebastine"
    assert ingredients.name_key("Omega 3") == ingredients.name_key("Omega-3")
    assert ingredients.name_key("Sodium Sulfate") != ingredients.name_key("Sodium Sulphate")
    assert ingredients.split_names("Rifampicin [Rifampin] +Isoniazid") == (
        "Rifampicin",
        "Isoniazid",
    )
    assert ingredients.split_names("Abacavir/Dolutegravir/Lamivudine") == (
        "Abacavir",
        "Dolutegravir",
        "Lamivudine",
    )
    prose = "Potassium Iodide + Sodium Chloride (This is a mixture. It varies.)"
    assert ingredients.split_names(prose) == ("Potassium Iodide", "Sodium Chloride")


def test_duplex_wastes_no_page_and_mirrors_each_monograph_where_it_falls(
    content: Path, tmp_path: Path
):
    build(content, tmp_path, "--duplex")
    path = tmp_path / "booklet.pdf"
    texts = normalised_page_texts(path)
    first = starts(texts)
    assert set(first) == {title for title, _, _ in DRUGS.values()}
    # A monograph starts on the next page, left or right: no blank page before it.
    assert {page % 2 for page in first.values()} == {0, 1}, first
    blanks = [n for n, t in enumerate(texts, 1) if "This page is intentionally left blank." in t]
    # Only a part (front matter, a chunk of monographs, the index) is padded, at its end,
    # so that the next part starts on a right-hand page.
    assert all(n % 2 == 0 for n in blanks), blanks
    letters = {title.removeprefix("É")[0] for title in first}
    assert len(blanks) <= len(letters) + 3, blanks  # a chunk per letter here, front, index
    for n in blanks:  # a blank page still carries the disclaimer and the page number
        assert "not medical advice" in texts[n - 1]
        assert f"Page {n} of {len(texts)}" in texts[n - 1]
        if n < len(texts):  # and the next part starts after it
            assert n + 1 in first.values() or texts[n].startswith("Ingredient index"), n
    # The contents and the index point at the start pages.
    rows = index_rows(path)
    for refs in rows.values():
        for title, _, page in refs:
            assert page == first[title]
    # Mirrored margins, the wider inside, on whichever side a monograph starts.
    mm = 72 / 25.4
    with pdfplumber.open(path) as pdf:
        for title, number in first.items():
            page = pdf.pages[number - 1]
            inner = 24 if number % 2 else 12
            assert min(c["x0"] for c in page.chars) == pytest.approx(inner * mm, abs=1), title
        right = pdf.pages[first["Dexamethasone"] - 1]
        left = pdf.pages[first["Dexamethasone"]]
        assert first["Dexamethasone"] % 2 == 1
        # The stamp sits at the right margin of each: outer on the right, inner on the left.
        for page, margin in ((right, 12), (left, 24)):
            stamp = [w for w in page.extract_words() if w["text"] == "Page"][-1]
            words = [w for w in page.extract_words() if abs(w["top"] - stamp["top"]) < 1]
            assert max(w["x1"] for w in words) == pytest.approx(page.width - margin * mm, abs=1)


def test_an_edit_rewrites_only_the_volumes_it_touches(content: Path, tmp_path: Path):
    import shutil

    mine = tmp_path / "content"
    shutil.copytree(content, mine)
    build(mine, tmp_path, "--volume-pages", "14")
    before = {p.name: p.stat().st_mtime_ns for p in volume_files(tmp_path)}
    metformin = mine / "m" / "metformin.md"
    metformin.write_text(
        metformin.read_text(encoding="utf-8").replace("Avoid alcohol.", "Avoid wine."),
        encoding="utf-8",
    )
    log = build(mine, tmp_path, "--volume-pages", "14")
    assert "(1 chunks laid out" in log
    after = {p.name: p.stat().st_mtime_ns for p in volume_files(tmp_path)}
    assert set(after) == set(before)
    changed = {name for name in after if after[name] != before[name]}
    holder = next(
        p.name for p in volume_files(tmp_path) if "Metformin" in starts(normalised_page_texts(p))
    )
    assert holder in changed
    # Volume 1 (A-B) holds nothing that moved: not even re-assembled.
    assert "booklet-vol01.pdf" not in changed
    assert "Avoid wine." in " ".join(normalised_page_texts(tmp_path / holder))


def index_pdf(groups: tuple[Any, ...], tmp_path: Path) -> Path:
    """An index of these groups laid out on its own, as the booklet lays out an index part."""
    from medpdf.html import booklet_pages
    from medpdf.pdf import typeset
    from medpdf.settings import config

    info = booklet_pages.BookletInfo("Booklet", None, 2)
    settings = config.make(content_dir=tmp_path)
    html = booklet_pages.render_booklet_index(groups, True, info, settings)
    pdf = tmp_path / "index.pdf"
    pdf.write_bytes(typeset.render_combined([html], settings.resources, contents=True).data)
    return pdf


def test_a_wrapped_index_line_goes_on_under_its_own_start(tmp_path: Path):
    from medpdf.html import booklet_pages

    long = (
        "Dextromethorphan Hydrobromide + Menthol + Cetirizine + Chlorpheniramine Maleate"
        " + Guaifenesin + Phenylpropanolamine"
    )
    refs = tuple(booklet_pages.Ref(f"d{i}", title, 10 + i) for i, title in enumerate([long, "X"]))
    groups = (booklet_pages.IndexGroup("D", (booklet_pages.IndexEntry("d", "Dextro", refs),)),)
    with pdfplumber.open(index_pdf(groups, tmp_path)) as doc:
        words = doc.pages[0].extract_words()
        strokes, boxes = doc.pages[0].lines, doc.pages[0].rects
    entry = next(w for w in words if w["text"] == "Dextro")
    first = next(w for w in words if w["text"] == "Dextromethorphan")
    tail = next(w for w in words if w["text"] == "Phenylpropanolamine")
    start = next(w for w in words if w["text"] == "Maleate")  # the wrapped line's first word
    assert tail["top"] > first["top"] + 5  # it wraps
    # The monograph is indented under its ingredient, and its second line further still.
    assert first["x0"] > entry["x0"] + 10
    assert start["x0"] > first["x0"] + 5
    # Each monograph's dots are one dashed stroke (not a pattern per line) along its
    # last line; before the words of that line they are hidden by a white box that
    # starts at or before the stroke (its round cap included) and reaches the words.
    leaders = [s for s in strokes if s.get("dash") and s["x1"] - s["x0"] > 100]
    assert len(leaders) == 2
    dots = min(leaders, key=lambda s: abs(s["top"] - tail["bottom"]))
    assert 0 < dots["top"] - tail["bottom"] < 5
    white = [
        r
        for r in boxes
        if r["fill"]
        and tuple(r["non_stroking_color"] or ()) == (1.0, 1.0, 1.0)
        and r["top"] <= dots["top"] - 0.5
        and r["bottom"] >= dots["top"] + 0.5
    ]
    assert any(r["x0"] <= dots["x0"] - 0.5 and r["x1"] >= start["x0"] for r in white)


@pytest.mark.parametrize("compact", [False, True])
def test_dots_are_not_drawn_again_where_the_contents_go_on(tmp_path: Path, compact: bool):
    """The rule under a line is shared with the next line: at a break it belongs above it.

    Every line's dots are one dashed stroke just under that line; where the table goes on
    after a page (or column) break, nothing is drawn above its first line.
    """
    from medpdf.html import booklet_pages
    from medpdf.pdf import typeset
    from medpdf.settings import config

    entries = tuple(booklet_pages.TocEntry(f"d{i}", f"Drug number {i}", 3 + i) for i in range(140))
    info = booklet_pages.BookletInfo("Booklet", None, len(entries))
    settings = config.make(content_dir=tmp_path, compact=compact)
    toc = (booklet_pages.TocGroup("D", entries),)
    html = booklet_pages.render_booklet_front("contents", toc, True, info, settings)
    pdf = tmp_path / "contents.pdf"
    pdf.write_bytes(typeset.render_combined([html], settings.resources, contents=True).data)
    with pdfplumber.open(pdf) as doc:
        assert len(doc.pages) >= 2
        for page in doc.pages:
            lines = [w for w in page.extract_words() if w["text"] == "Drug"]
            dots = [s for s in page.lines if s.get("dash") and s["x1"] - s["x0"] > 20]
            assert lines and dots
            # Each stroke lies just under a line of this page (within a line's height).
            for stroke in dots:
                assert any(0 < stroke["top"] - word["bottom"] < 5 for word in lines), stroke


def test_no_dots_run_under_the_monograph_an_ingredient_is_in(tmp_path: Path):
    """'Cetirizine in Aceclofenac + ...': the dots start after the italic title, wrapped or not."""
    from medpdf.html import booklet_pages

    long = "Aceclofenac + Benzyl Alcohol + Linoleic Acid + Menthol + Methyl Salicylate + Camphor"
    titles = {"Benzyl Alcohol": long, "Cetirizine": "Cetirizine + Phenylephrine"}
    groups = tuple(
        booklet_pages.IndexGroup(
            name[0], (booklet_pages.IndexEntry(name, name, (booklet_pages.Ref(name, title, 7),)),)
        )
        for name, title in titles.items()
    )
    with pdfplumber.open(index_pdf(groups, tmp_path)) as doc:
        page = doc.pages[0]
        words = page.extract_words(extra_attrs=["fontname"])
        strokes, boxes = page.lines, page.rects
        # One link a line, on the ingredient's name (a box inside a link is one more link).
        assert len(page.hyperlinks) == 2
    leaders = [s for s in strokes if s.get("dash") and s["x1"] - s["x0"] > 20]
    assert len(leaders) == 2
    for dots in leaders:
        # The line over these dots: its last word is italic ("... Camphor", "... Phenylephrine").
        line = [w for w in words if 0 < dots["top"] - w["bottom"] < 5 and w["x0"] < dots["x1"]]
        last = max(line, key=lambda w: w["x1"])
        assert "Oblique" in last["fontname"] or "Italic" in last["fontname"], last
        white = sorted(
            (r["x0"], r["x1"])
            for r in boxes
            if r["fill"]
            and tuple(r["non_stroking_color"] or ()) == (1.0, 1.0, 1.0)
            and r["top"] <= dots["top"] - 0.5
            and r["bottom"] >= dots["top"] + 0.5
        )
        # White boxes hide the dots from the stroke's start to past the last word.
        reach = dots["x0"] - 0.5
        for x0, x1 in white:
            if x0 <= reach:
                reach = max(reach, x1)
        assert reach >= last["x1"], (last["text"], reach, last["x1"])
    # Both titles are there in full, the long one over two lines.
    text = " ".join(w["text"] for w in words)
    assert "in Aceclofenac + Benzyl" in text and "Camphor" in text
    assert "in Cetirizine + Phenylephrine" in text
