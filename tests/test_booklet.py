"""The reference booklet, built from small invented collections and read back.

One module-scoped build is shared by the read-only checks (building costs a
few seconds); tests that edit the collection build their own.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pytest
from conftest import MINIMAL, invoke_cli, normalised_page_texts, normalised_text, write_monograph
from waiting import PATIENCE

from medpdf.content.collection import Entry, scan
from medpdf.html import booklet_pages
from medpdf.i18n import long_date
from medpdf.products import booklet
from medpdf.products.booklet import estimate, plan
from medpdf.run.contract import RunContext
from medpdf.run.store import locked_output
from medpdf.settings import config

pytestmark = pytest.mark.slow

# Invented drugs over several letters; "long" ones run to two or more pages.
DRUGS = {
    "zorvane": ("Zorvane", 1),
    "abrelin": ("Abrelin", 1),
    "acmotril": ("Acmotril", 4),
    "brantix": ("Brantix", 1),
    "bellumax": ("Bellumax", 2),
    "cortinel": ("Cortinel", 1),
    "ebrovan": ("Ébrovan", 1),
    "nine-tonic": ("9-Tonic", 1),
}
ORDER = ["Abrelin", "Acmotril", "Bellumax", "Brantix", "Cortinel", "Ébrovan", "Zorvane", "9-Tonic"]
LETTERS = {"A", "B", "C", "E", "Z", "#"}
#: The date the booklets made by :func:`make` carry.
PRINTED = dt.date(2030, 1, 2)

FILLER = (
    "This paragraph is here to make the monograph longer, so that it runs over "
    "more than one page of the booklet and page numbers have to be counted. "
) * 6


def monograph(title: str, length: int) -> str:
    text = MINIMAL.format(title=title)
    extra = "\n\n".join(f"Note {i}: {FILLER}" for i in range(length * 5 if length > 1 else 0))
    return text.replace("### Dosage\n", f"### Dosage\n{extra}\n\n")


def write_collection(folder: Path) -> Path:
    for slug, (title, length) in DRUGS.items():
        write_monograph(folder / slug[0], slug, monograph(title, length))
    return folder


def make(
    content: Path, output: Path, printed: dt.date = PRINTED, **options: object
) -> booklet.BookletReport:
    """Build the booklet in-process; ``options`` are further settings (``duplex=True``...)."""
    settings = config.make(
        content_dir=content,
        output_dir=output,
        printed=printed,
        jobs=2,
        time_limit=PATIENCE,
        **options,
    )
    with locked_output(output) as store:
        found = scan(content, store.cache)
        return booklet.build_booklet(found, RunContext.of(settings), store, settings.booklet_path)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, booklet.BookletReport]:
    root = tmp_path_factory.mktemp("booklet")
    content = write_collection(root / "content")
    # Small chunks, so the booklet is assembled from several of them.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "CHUNK_LIMIT", 2)
        report = make(content, root / "output")
    assert report.target is not None
    return report.target, report


def starts_from_text(texts: list[str], titles: Sequence[str] = ORDER) -> dict[str, int]:
    """1-based page where each drug starts (its running footer says '<title> page 1 of')."""
    found = {}
    for number, text in enumerate(texts, start=1):
        for title in titles:
            if re.search(rf"(?<!\S){re.escape(title)} page 1 of \d+ of this drug", text):
                found.setdefault(title, number)
    return found


def index_start(texts: list[str]) -> int:
    """1-based page where the ingredient index (at the back) starts."""
    return next(n for n, t in enumerate(texts, 1) if t.startswith("Ingredient index"))


def front_pages(texts: list[str]) -> int:
    return min(starts_from_text(texts).values()) - 1


def toc_numbers(texts: list[str]) -> dict[str, int]:
    numbers = {}
    for text in texts[: front_pages(texts)]:
        for title in ORDER:
            match = re.search(rf"(?<!\S){re.escape(title)}[ .]*?(\d+)(?!\S)", text)
            if match:
                numbers[title] = int(match.group(1))
    return numbers


def test_contents_numbers_are_the_real_start_pages(small):
    path, report = small
    texts = normalised_page_texts(path)
    assert report.monographs == len(DRUGS)
    assert report.chunks_laid_out >= 4
    starts = starts_from_text(texts)
    assert set(starts) == set(ORDER)
    assert toc_numbers(texts) == starts
    # Cover, disclaimer, then the contents: its letters run on, all on one page here.
    assert front_pages(texts) == 3
    assert "Contents" in texts[2]
    contents = texts[2]
    positions = [contents.index(f" {letter} ") for letter in sorted(LETTERS - {"#"})]
    assert positions == sorted(positions)
    assert texts[0].count("Printed") == 1  # the stamp's, not a cover row
    # Alphabetical, letters A-Z, then "#".
    assert sorted(starts, key=starts.__getitem__) == ORDER


def test_every_page_has_disclaimer_and_booklet_page_number(small):
    path, _ = small
    texts = normalised_page_texts(path)
    total = len(texts)
    assert total >= len(DRUGS) + 3 + 3  # front pages, and long drugs spill over
    for number, text in enumerate(texts, start=1):
        assert "not medical advice" in text, number
        # The stamp: "Page X of Y" and below it the run's date, the only date on the page
        # (neither the cover nor the entry footers carry one).
        assert f"Page {number} of {total} Printed {PRINTED.isoformat()}" in text, (
            number,
            text[-200:],
        )
        assert text.count("Printed") == 1, (number, text)


def test_drug_page_numbers_count_each_drug(small):
    path, _ = small
    texts = normalised_page_texts(path)
    starts = starts_from_text(texts)
    ordered_starts = [*sorted(starts.values()), index_start(texts)]
    for title, first in starts.items():
        pages = ordered_starts[ordered_starts.index(first) + 1] - first
        for offset in range(pages):
            text = texts[first - 1 + offset]
            assert f"page {offset + 1} of {pages} of this drug" in text, (title, offset)
    long_pages = ordered_starts[ordered_starts.index(starts["Acmotril"]) + 1] - starts["Acmotril"]
    assert long_pages >= 2


def test_contents_links_land_on_the_start_page(small):
    path, _ = small
    texts = normalised_page_texts(path)
    starts = starts_from_text(texts)
    with pikepdf.open(path) as pdf:
        page_index = {page.obj.objgen: n for n, page in enumerate(pdf.pages, start=1)}
        links = []
        for page in pdf.pages[: front_pages(texts)]:
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") == "/Link" and "/Dest" in annot:
                    links.append(page_index[annot.Dest[0].objgen])
                assert "/URI" not in annot.get("/A", {}), "an x-dest: link was left unresolved"
    # WeasyPrint gives one link several rectangles (title, leader, number): compare sets.
    assert set(links) == set(starts.values())
    assert len(links) >= len(starts)


def test_outline_is_letter_then_drug(small):
    path, _ = small
    texts = normalised_page_texts(path)
    starts = starts_from_text(texts)
    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        page_index = {page.obj.objgen: n for n, page in enumerate(pdf.pages, start=1)}
        tree = {}
        for item in outline.root:
            if item.title in ("Contents", "Ingredient index"):
                continue
            tree[item.title] = {
                child.title: page_index[child.destination[0].objgen] for child in item.children
            }
    assert set(tree) == LETTERS
    flat = {title: page for children in tree.values() for title, page in children.items()}
    assert flat == starts
    assert set(tree["A"]) == {"Abrelin", "Acmotril"}
    assert set(tree["E"]) == {"Ébrovan"}
    assert set(tree["#"]) == {"9-Tonic"}


def test_title_language_and_fonts(small):
    path, _ = small
    with pikepdf.open(path) as pdf:
        assert str(pdf.Root.Lang) == "en"
        assert str(pdf.docinfo["/Title"]) == booklet.BOOKLET_TITLE
        assert not pdf.attachments
        fonts = set()
        for page in pdf.pages:
            for font in page.obj.Resources.get("/Font", {}).values():
                fonts.add(str(font.get("/BaseFont", "")))
            for xobject in page.obj.Resources.get("/XObject", {}).values():
                for font in xobject.get("/Resources", {}).get("/Font", {}).values():
                    fonts.add(str(font.get("/BaseFont", "")))
    assert fonts
    assert all("DejaVu" in name for name in fonts), fonts


def test_unchanged_rebuild_lays_nothing_out_and_edit_matches_cold(tmp_path: Path):
    content = write_collection(tmp_path / "content")
    first = make(content, tmp_path / "out")
    assert first.target is not None
    again = make(content, tmp_path / "out")
    assert again.chunks_laid_out == 0
    assert normalised_page_texts(first.target) == normalised_page_texts(again.target)

    # Edit one monograph so it grows a page, add one and delete one.
    write_monograph(content / "b", "brantix", monograph("Brantix", 3))
    write_monograph(content / "d", "dovarex", monograph("Dovarex", 1))
    (content / "z" / "zorvane.md").unlink()
    incremental = make(content, tmp_path / "out")
    assert 1 <= incremental.chunks_laid_out < first.chunks_laid_out + 2

    cold = make(content, tmp_path / "cold")
    assert incremental.target is not None and cold.target is not None
    assert normalised_page_texts(incremental.target) == normalised_page_texts(cold.target)
    text = normalised_text(cold.target)
    assert "Dovarex" in text and "Zorvane" not in text


def test_damaged_cache_means_rebuild_not_wrong_booklet(tmp_path: Path):
    content = write_collection(tmp_path / "content")
    first = make(content, tmp_path / "out")
    assert first.target is not None
    expected = normalised_page_texts(first.target)
    blobs = sorted((tmp_path / "out" / ".cache" / "blobs").glob("*.pdf"))
    assert blobs
    blobs[0].write_bytes(blobs[0].read_bytes()[:100])  # truncated chunk
    (tmp_path / "out" / ".cache" / "medpdf.sqlite3").write_bytes(b"not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp_path / 'out' / '.cache' / 'medpdf.sqlite3'}{suffix}").unlink(missing_ok=True)
    again = make(content, tmp_path / "out")
    assert again.chunks_laid_out >= 1
    assert again.target is not None
    assert normalised_page_texts(again.target) == expected


def test_damaged_cached_files_are_laid_out_again(tmp_path: Path):
    content = write_collection(tmp_path / "content")
    first = make(content, tmp_path / "out")
    assert first.target is not None
    expected = normalised_page_texts(first.target)
    for blob in (tmp_path / "out" / ".cache" / "blobs").glob("*.pdf"):
        data = blob.read_bytes()  # same size, second half zeroed: only the hash can tell
        blob.write_bytes(data[: len(data) // 2] + bytes(len(data) - len(data) // 2))
    again = make(content, tmp_path / "out")
    assert again.chunks_laid_out == first.chunks_laid_out
    assert again.target is not None
    assert normalised_page_texts(again.target) == expected


def test_cli_booklet_leaves_out_bad_monographs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write_monograph(tmp_path / "content", "abrelin", monograph("Abrelin", 1))
    write_monograph(tmp_path / "content", "brantix", monograph("Brantix", 1))
    write_monograph(tmp_path / "content", "broken", "no front matter at all\n")
    result = invoke_cli("booklet", "--jobs", "1")
    assert result.exit_code == 1, result.output
    assert "content/broken.md:1: error: missing front matter" in result.stdout
    summary = result.stderr.strip().splitlines()
    assert re.fullmatch(
        r"booklet: 2 monographs, \d+ pages in output/booklet\.pdf in \d+\.\d s "
        r"\(\d+ chunks laid out, 0 reused\); 1 monographs left out",
        summary[-2],
    ), summary
    assert summary[-1] == "left out: content/broken.md"
    assert "Brantix" in normalised_text(tmp_path / "output" / "booklet.pdf")
    assert [p.name for p in (tmp_path / "output").iterdir() if p.suffix == ".pdf"] == [
        "booklet.pdf"
    ]


def test_booklet_refuses_patient_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write_monograph(tmp_path / "content", "abrelin", monograph("Abrelin", 1))
    for flag in ("--patient-fields", "--no-patient-fields"):
        result = invoke_cli("booklet", flag)
        assert result.exit_code == 2
        assert f"Error: No such option '{flag}'" in result.stderr
    assert not (tmp_path / "output").exists()


def test_empty_collection_writes_no_booklet(tmp_path: Path):
    content = tmp_path / "content"
    content.mkdir()
    report = make(content, tmp_path / "out")
    assert report.target is None
    assert not (tmp_path / "out" / "booklet.pdf").exists()


def test_chunks_are_content_defined():
    """Adding a monograph changes the chunk it lands in, not every later chunk."""
    from medpdf.content.sources import Source

    def entry(slug: str) -> Entry:
        title = slug.capitalize()
        return Entry(Source(Path(f"{slug}.md"), f"{slug}.md", slug, title, slug), title)

    names = [f"a{n:04d}" for n in range(0, 400, 2)]
    before = plan.plan_chunks(plan.ordered(entry(n) for n in names), "fp")
    after = plan.plan_chunks(plan.ordered(entry(n) for n in [*names, "a0101"]), "fp")
    changed = {c.key for c in after} - {c.key for c in before}
    assert len(before) > 4
    assert len(changed) == 1
    assert all(len(c.sources) <= plan.CHUNK_LIMIT for c in after)


def test_the_contents_guess_counts_a_page_begun_by_each_part():
    def group(letter: str, titles: int, length: int = 20) -> booklet_pages.TocGroup:
        entries = tuple(
            booklet_pages.TocEntry(f"{letter}{n}", letter * length, 1) for n in range(titles)
        )
        return booklet_pages.TocGroup(letter, entries)

    per_page = estimate.LINES_PER_PAGE
    # 2 x 40 titles, 2 letter headings of 2 lines, the heading's 3 lines: 87 lines, two
    # pages; cut in two parts, 45 and 42 lines: each begins a page, so three.
    one, two = (group("A", per_page - 4),), (group("B", per_page - 4),)
    assert estimate.parts_estimate([one + two]) == 2
    assert estimate.parts_estimate([one, two]) == 3
    # A title too long for one line takes two.
    wrapping = (group("C", per_page - 5, estimate.TITLE_CHARS + 1),)
    assert estimate.parts_estimate([(group("C", per_page - 5),)]) == 1
    assert estimate.parts_estimate([wrapping]) == 2


def test_letter_of():
    assert plan.letter_of("Ébrovan") == "E"
    assert plan.letter_of("  alpha") == "A"
    assert plan.letter_of("5-FU") == "#"
    assert plan.letter_of("β-blocker") == "#"


def run_on(day: dt.date, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """``medpdf build`` in-process with the clock at ``day``: its handouts and booklet summaries."""
    midday = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(midday.timestamp())))
    result = invoke_cli("build", "--jobs", "2")
    assert result.exit_code == 0, result.output
    [handouts] = [line for line in result.stderr.splitlines() if line.startswith("handouts: ")]
    [book] = [line for line in result.stderr.splitlines() if line.startswith("booklet: ")]
    return handouts, book


def test_the_next_day_costs_no_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    slugs = ["abrelin", "brantix", "cortinel"]
    for slug in slugs:
        write_monograph(tmp_path / "content", slug, monograph(DRUGS[slug][0], 1))
    day = dt.date(2030, 1, 2)
    next_day = day + dt.timedelta(days=1)
    target = tmp_path / "output" / "booklet.pdf"
    handout_dir = tmp_path / "output" / "handouts"

    handouts, book = run_on(day, monkeypatch)
    assert handouts.startswith(f"handouts: {len(slugs)} built, 0 unchanged, 0 removed ")
    # One letter each: one chunk each.
    assert f"({len(slugs)} chunks laid out, 0 reused)" in book, book
    assert all(f"Printed {day}" in page for page in normalised_page_texts(target))
    data, mtime = target.read_bytes(), target.stat().st_mtime_ns

    # The next day, nothing changed: no layout, and the booklet (and its date) is kept.
    handouts, book = run_on(next_day, monkeypatch)
    assert handouts.startswith(f"handouts: 0 built, {len(slugs)} unchanged, 0 removed ")
    assert "(0 chunks laid out, " in book, book
    assert target.read_bytes() == data
    assert target.stat().st_mtime_ns == mtime
    for slug in slugs:
        assert f"Printed {long_date(day, 'en')}" in normalised_text(handout_dir / f"{slug}.pdf")

    # An edit that day lays out its chunk again; the re-assembled booklet carries the new date.
    edited = monograph("Brantix", 1).replace("One tablet daily.", "Two tablets at night.")
    write_monograph(tmp_path / "content", "brantix", edited)
    handouts, book = run_on(next_day, monkeypatch)
    assert handouts.startswith(f"handouts: 1 built, {len(slugs) - 1} unchanged, 0 removed ")
    assert "(1 chunks laid out, " in book, book
    assert target.read_bytes() != data
    texts = normalised_page_texts(target)
    assert "Two tablets at night." in " ".join(texts)
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)} Printed {next_day}" in text, (number, text)
        assert text.count("Printed") == 1, (number, text)
    # Handouts write the date as their language does; the booklet's stamp is ISO 8601.
    assert f"Printed {long_date(next_day, 'en')}" in normalised_text(handout_dir / "brantix.pdf")
    assert f"Printed {long_date(day, 'en')}" in normalised_text(handout_dir / "abrelin.pdf")


def test_the_benchmarks_untagged_switch_never_reuses_tagged_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    content = write_collection(tmp_path / "content")
    tagged = make(content, tmp_path / "out")
    assert tagged.target is not None
    texts = normalised_page_texts(tagged.target)
    with pikepdf.open(tagged.target) as pdf:
        assert all("/StructParents" in page.obj for page in pdf.pages)

    monkeypatch.setenv("MEDPDF_BENCHMARK_UNTAGGED", "1")
    untagged = make(content, tmp_path / "out")
    assert untagged.target == tagged.target
    # Every chunk laid out again (the switch is in the cache key), the same pages.
    assert untagged.chunks_laid_out == tagged.chunks_laid_out > 0
    assert normalised_page_texts(untagged.target) == texts
    with pikepdf.open(untagged.target) as pdf:
        assert not any("/StructParents" in page.obj for page in pdf.pages)


def first_word_x(path: Path, page_numbers: Sequence[int]) -> dict[int, float]:
    """Left edge of each page's first word (1-based pages): a page's margins show in it."""
    with pdfplumber.open(path) as pdf:
        return {n: min(w["x0"] for w in pdf.pages[n - 1].extract_words()) for n in page_numbers}


def test_long_contents_and_index_are_parts_that_run_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # A few lines per part, so this small booklet's contents and index are cut as the
    # whole collection's are (one WeasyPrint document for its index needed 1 GB).
    monkeypatch.setattr(plan, "PART_LINES", 4)
    content = write_collection(tmp_path / "content")
    report = make(content, tmp_path / "out", duplex=True)
    assert report.target is not None
    texts = normalised_page_texts(report.target)
    starts = starts_from_text(texts)
    assert toc_numbers(texts) == starts
    front = front_pages(texts)
    assert front % 2 == 0  # the first monograph on a right-hand page
    contents = [n for n in range(3, front + 1) if any(t in texts[n - 1] for t in ORDER)]
    # Several parts, each a page here, none followed by a blank: only the front's end is padded.
    assert len(contents) >= 4
    assert contents == list(range(3, 3 + len(contents)))
    assert front - contents[-1] <= 1
    back = list(range(index_start(texts), len(texts) + 1))
    assert len(back) >= 2
    # A part that begins on a left-hand page was laid out as one: mirrored margins.
    lefts = first_word_x(report.target, [*contents, *back])
    even = {round(x) for n, x in lefts.items() if n % 2 == 0}
    odd = {round(x) for n, x in lefts.items() if n % 2 == 1}
    assert len(even) == 1 and len(odd) == 1 and even != odd, lefts
    with pikepdf.open(report.target) as pdf:
        page_index = {page.obj.objgen: n for n, page in enumerate(pdf.pages, start=1)}
        links = {
            page_index[annot.Dest[0].objgen]
            for page in pdf.pages[:front]
            for annot in page.obj.get("/Annots", [])
            if annot.get("/Subtype") == "/Link" and "/Dest" in annot
        }
    assert links == set(starts.values())


def index_numbers(texts: list[str]) -> dict[str, int]:
    """The page number the ingredient index prints after each drug's title."""
    back = " ".join(texts[index_start(texts) - 1 :])
    return {
        title: int(found.group(1))
        for title in ORDER
        if (found := re.search(rf"{re.escape(title)}[ .]*?(\d+)\b", back))
    }


def test_front_and_index_are_laid_out_in_one_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from medpdf.products.booklet import matter
    from medpdf.run.workers import RenderPool

    batches: list[str] = []
    run = RenderPool.run

    def recorded(self: RenderPool, function: Any, items: Any, seconds: Any = None) -> Any:
        items = list(items)
        if items:
            batches.append(function.__name__)
        return run(self, function, items, seconds)

    monkeypatch.setattr(RenderPool, "run", recorded)
    monkeypatch.setattr(plan, "PART_LINES", 4)  # several contents and index parts
    content = write_collection(tmp_path / "content")
    first = make(content, tmp_path / "first")
    assert first.target is not None
    texts = normalised_page_texts(first.target)
    starts = starts_from_text(texts)
    assert toc_numbers(texts) == index_numbers(texts) == starts
    front = front_pages(texts)

    for presumed, laid_out in (
        # Presumed right: the fronts and the index in one batch, nothing laid out twice.
        (front, ["entries_task", "matter_task"]),
        # A front longer than presumed: laid out again, and the index with it, right.
        (front - 1, ["entries_task", "matter_task", "front_task", "index_task"]),
    ):
        batches.clear()
        # Cover and disclaimer, then the contents.
        monkeypatch.setattr(matter, "parts_estimate", lambda _, n=presumed - 2: n)
        report = make(content, tmp_path / str(presumed))
        assert report.target is not None
        again = normalised_page_texts(report.target)
        assert again == texts
        assert toc_numbers(again) == index_numbers(again) == starts
        assert batches == laid_out, (presumed, batches)
