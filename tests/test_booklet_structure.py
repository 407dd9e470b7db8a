"""The booklet's tagged structure, walked with pikepdf after a real build.

The small booklet of ``test_booklet`` (several chunks of two monographs) is
built once; its structure tree is walked from the root and matched against
the marked content actually drawn on every page. The same walk then runs over
a booklet in volumes, two-sided, with its ingredient index, where chunks are
cut between volumes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pypdf
import pytest
from conftest import assert_pdfua_clean, normalised_page_texts, write_monograph
from pikepdf import Array, Dictionary, Name, NumberTree
from test_booklet import ORDER, make, monograph, starts_from_text, write_collection

from medpdf.pdf import assemble, slices, stamp
from medpdf.pdf.archival import PDFUA_NAMESPACE
from medpdf.products import booklet
from medpdf.products.booklet import plan

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tagged")
    content = write_collection(root / "content")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "CHUNK_LIMIT", 2)  # several chunks to merge
        patch.setattr(stamp, "STAMP_PAGES", 3)  # and several stamp files
        report = make(content, root / "output")
    assert report.target is not None
    return report.target


def is_element(obj: Any) -> bool:
    return isinstance(obj, Dictionary) and "/S" in obj and obj.get("/Type") != Name.OBJR


def kids(element: Any) -> list[Any]:
    k = element.get("/K")
    if k is None:
        return []
    return list(k) if isinstance(k, Array) else [k]


def walk(element: Any, parent: Any = None) -> Iterator[tuple[Any, Any]]:
    """(element, its parent) for every element under ``element``, in document order."""
    for kid in kids(element):
        if is_element(kid):
            yield kid, element
            yield from walk(kid, kid)


def page_marks(page: pikepdf.Page) -> list[int]:
    """The MCIDs drawn on a page, in stream order."""
    found = []
    for operands, operator in pikepdf.parse_content_stream(page):
        properties = operands[-1] if operands else None
        is_bdc = operator == pikepdf.Operator("BDC")
        if is_bdc and isinstance(properties, Dictionary) and "/MCID" in properties:
            found.append(int(properties.MCID))
    return found


def tree_marks(root: Any, pages: dict[tuple[int, int], int]) -> Counter[tuple[int, int]]:
    """(page index, MCID) for every marked-content reference in the tree, counted."""
    reached: Counter[tuple[int, int]] = Counter()
    for element, _ in walk(root):
        for kid in kids(element):
            if isinstance(kid, int):  # pikepdf gives integers as int
                reached[(pages[element.Pg.objgen], int(kid))] += 1
            elif isinstance(kid, Dictionary) and kid.get("/Type") == Name.MCR:
                page = kid.get("/Pg", element.get("/Pg"))
                reached[(pages[page.objgen], int(kid.MCID))] += 1
    return reached


def test_one_root_one_document_and_the_catalog_entries(built: Path) -> None:
    with pikepdf.open(built) as pdf:
        root = pdf.Root.StructTreeRoot
        assert len(kids(root)) == 1 and Name.Document == kids(root)[0].S
        assert kids(root)[0].P.objgen == root.objgen
        assert bool(pdf.Root.MarkInfo.Marked) is True
        assert str(pdf.Root.Lang) == "en"
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
        assert str(pdf.docinfo.Title) == booklet.BOOKLET_TITLE
        assert pdf.pdf_version >= "1.7"
        meta = pdf.open_metadata()
        meta.register_xml_namespace(PDFUA_NAMESPACE, "pdfuaid")
        assert meta["pdfuaid:part"] == "1"
        assert meta["dc:title"] == booklet.BOOKLET_TITLE


def test_the_file_is_compressed_and_reads_strictly(built: Path) -> None:
    # Written part by part in one pass: one cross-reference stream (no update after it),
    # and every object that is not a stream inside an object stream.
    data = built.read_bytes()
    assert b"/Type /ObjStm" in data
    at = int(data[data.rindex(b"startxref") + 9 :].split()[0])
    head = data[at : at + 1000]
    assert re.match(rb"\d+ 0 obj\s*<<", head), head[:40]
    assert b"/Type /XRef" in head[: head.index(b"stream")], head[:200]
    assert b"/Prev" not in head[: head.index(b"stream")]
    tops = re.findall(rb"\n\d+ 0 obj\n(<<.*?>>)\n(stream|endobj)", data[:at], re.DOTALL)
    assert tops and all(kind == b"stream" for _, kind in tops), tops[:3]
    reader = pypdf.PdfReader(built, strict=True)
    texts = [page.extract_text() for page in reader.pages]
    assert len(texts) == len(normalised_page_texts(built))
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text, (number, text)
    if shutil.which("pdftotext"):  # poppler, where it is installed
        done = subprocess.run(["pdftotext", str(built), "-"], capture_output=True, check=False)
        assert done.returncode == 0 and not done.stderr, done.stderr


def test_the_stamp_files_share_one_font(built: Path) -> None:
    with pikepdf.open(built) as pdf:
        faces = [
            str(obj.BaseFont)
            for obj in pdf.objects
            if isinstance(obj, Dictionary) and obj.get("/Type") == Name.Font
        ]
    assert sum("DejaVuSans" in face and "-" not in face for face in faces) == 1, faces


def test_every_marked_sequence_is_reached_from_the_tree_exactly_once(built: Path) -> None:
    assert_marks_match_the_tree(built)


def assert_marks_match_the_tree(path: Path) -> None:
    """Every marked sequence drawn is reached from the tree once, and nothing else is."""
    with pikepdf.open(path) as pdf:
        root = pdf.Root.StructTreeRoot
        page_of = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
        parents = NumberTree(root.ParentTree)
        in_tree = {element.objgen for element, _ in walk(root)}
        drawn: set[tuple[int, int]] = set()
        keys = set()
        for index, page in enumerate(pdf.pages):
            marks = page_marks(page)
            assert marks, f"page {index + 1} has no tagged content"
            assert len(marks) == len(set(marks))
            key = int(page.obj.StructParents)
            keys.add(key)
            for entry in parents[key]:  # no entry points outside the tree
                assert entry is None or entry.objgen in in_tree
            for mcid in marks:
                element = parents[key][mcid]
                assert element.objgen in in_tree, f"page {index + 1} MCID {mcid}: not in the tree"
                assert page_of[element.Pg.objgen] == index
                drawn.add((index, mcid))
        assert len(keys) == len(pdf.pages)  # one parent-tree entry per page, no sharing
        reached = tree_marks(root, page_of)
        assert set(reached) == drawn  # nothing dangling either way
        assert set(reached.values()) == {1}
        # Every element's parent link is the element that holds it.
        for element, parent in walk(root):
            assert element.P.objgen == parent.objgen


def test_running_heads_and_stamp_are_artifacts(built: Path) -> None:
    texts = normalised_page_texts(built)
    with pikepdf.open(built) as pdf:
        for index, page in enumerate(pdf.pages):
            last = page.obj.Contents[len(page.obj.Contents) - 1].read_bytes()
            assert last.startswith(b"Q\n/Artifact <</Type /Pagination>> BDC\n")
            assert last.rstrip().endswith(b"Do Q\nEMC")
            # The stamp is drawn only from inside that artifact.
            assert f"Page {index + 1} of {len(pdf.pages)}" in texts[index]
        # Margin boxes (running header, the drug's page x of y, footer) are artifacts too.
        artifacts = 0
        for page in pdf.pages:
            for operands, _ in pikepdf.parse_content_stream(page, "BDC"):
                tag, properties = operands
                if tag == "/Artifact" and properties.get("/Type") == "/Pagination":
                    artifacts += 1
        assert artifacts > 2 * len(pdf.pages)


def test_every_link_has_its_structure_parent(built: Path) -> None:
    assert_links_have_structure_parents(built, len(ORDER))


def assert_links_have_structure_parents(path: Path, at_least: int) -> None:
    """Each link annotation is the OBJR of one Link element, keyed in the parent tree."""
    with pikepdf.open(path) as pdf:
        parents = NumberTree(pdf.Root.StructTreeRoot.ParentTree)
        links = 0
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") != Name.Link:
                    continue
                links += 1
                element = parents[int(annot.StructParent)]
                assert Name.Link == element.S
                objrs = [
                    k
                    for k in kids(element)
                    if isinstance(k, Dictionary) and k.get("/Type") == Name.OBJR
                ]
                assert [o.Obj.objgen for o in objrs] == [annot.objgen]
                assert objrs[0].Pg.objgen == page.obj.objgen
        assert links >= at_least
        keys = list(parents.keys())
        assert len(keys) == len(set(keys)) == int(pdf.Root.StructTreeRoot.ParentTreeNextKey)


def test_each_drug_is_one_article_with_h1_then_h2(built: Path) -> None:
    starts = starts_from_text(normalised_page_texts(built))
    with pikepdf.open(built) as pdf:
        page_of = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
        document = kids(pdf.Root.StructTreeRoot)[0]
        articles = [k for k in kids(document) if Name.Art == k.S]
        assert len(articles) == len(ORDER)
        for title, article in zip(ORDER, articles, strict=True):
            headings = [e for e, _ in walk(article) if str(e.S).startswith("/H")]
            assert [str(h.S) for h in headings[:1]] == ["/H1"]
            assert {str(h.S) for h in headings[1:]} == {"/H2"}
            assert page_of[headings[0].Pg.objgen] + 1 == starts[title]
        # The article follows its pages in order: no element points to an earlier page.
        pages = [page_of[e.Pg.objgen] for e, _ in walk(document)]
        assert pages == sorted(pages)


def test_front_pages_are_tagged_with_a_toc(built: Path) -> None:
    with pikepdf.open(built) as pdf:
        page_of = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
        document = kids(pdf.Root.StructTreeRoot)[0]
        first_article = next(k for k in kids(document) if Name.Art == k.S)
        front = [
            e for e, _ in walk(document) if page_of[e.Pg.objgen] < page_of[first_article.Pg.objgen]
        ]
        headings = [str(e.S) for e in front if str(e.S).startswith("/H")]
        assert headings[:3] == ["/H1", "/H2", "/H2"]  # title, Disclaimer, Contents
        assert set(headings[3:]) == {"/H3"}  # one per letter
        assert not [e for e in front if e.S in (Name.Table, Name.TR, Name.TD)]
        items = [e for e in front if e.S == Name.TOCI]
        assert len(items) == len(ORDER)
        for item in items:
            assert item.P.S == Name.TOC
            references = [k for k in kids(item) if Name.Reference == k.S]
            assert len(references) == 1
            links = [e for e, _ in walk(references[0]) if Name.Link == e.S]
            assert len(links) == 1
            objr = next(
                k
                for k in kids(links[0])
                if isinstance(k, Dictionary) and k.get("/Type") == Name.OBJR
            )
            assert "/Dest" in objr.Obj  # turned into an in-document destination
            # Announced as the drug and its page, not as the private link it was.
            assert re.fullmatch(r"\S.*, page \d+", str(objr.Obj.Contents))


def shape(pdf: pikepdf.Pdf) -> list[Any]:
    """The tree as plain data: types, pages, MCIDs and link targets, in order."""
    page_of = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}

    def of(element: Any) -> Any:
        out: list[Any] = [
            str(element.S),
            page_of.get(element.Pg.objgen) if "/Pg" in element else None,
        ]
        for kid in kids(element):
            if is_element(kid):
                out.append(of(kid))
            elif isinstance(kid, Dictionary):
                out.append(("OBJR", page_of[kid.Pg.objgen], str(kid.Obj.get("/Rect"))))
            else:
                out.append(int(kid))
        return out

    return [of(k) for k in kids(pdf.Root.StructTreeRoot)]


def test_incremental_rebuild_gives_the_cold_tree(tmp_path: Path) -> None:
    content = write_collection(tmp_path / "content")
    make(content, tmp_path / "warm")
    edited = content / "b" / "brantix.md"
    edited.write_text(
        edited.read_text(encoding="utf-8").replace("### Usage\n", "### Usage\nChanged.\n\n"),
        encoding="utf-8",
    )
    # A damaged kept segment is written again, never copied (checked against its digest).
    damaged = sorted((tmp_path / "warm").rglob("*.segment"))[0]
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"?")
    written: list[int] = []
    real = assemble.write_segment

    def counted(*args: Any) -> Any:
        written.append(args[2].first_page)
        return real(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(assemble, "write_segment", counted)
        warm = make(content, tmp_path / "warm")
        rebuilt = len(written)
        cold = make(content, tmp_path / "cold")
    assert warm.chunks_reused > 0
    assert cold.chunks_reused == 0
    # The rebuild wrote again only what the edit moved; the cold build wrote every part.
    assert 0 < rebuilt < len(written) - rebuilt, written
    with pikepdf.open(warm.target) as a, pikepdf.open(cold.target) as b:
        assert shape(a) == shape(b)
        assert any("Changed." in text for text in normalised_page_texts(warm.target))
    # The kept segments are the very bytes a cold build writes.
    assert warm.target.read_bytes() == cold.target.read_bytes()


def test_pdfua_checker_finds_nothing(built: Path) -> None:
    assert_pdfua_clean(built)


# -- a booklet in volumes, two-sided, with its index ---------------------------------


#: The volume set's monographs: the booklet tests' and Aarox.
VOLUME_ORDER = ["Aarox", *ORDER]


@pytest.fixture(scope="module")
def volume_set(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("volumes")
    content = write_collection(root / "content")
    # One page before Abrelin's one page: Acmotril starts on an even page of chunk A,
    # where a duplex volume may begin, so the chunk can be cut there.
    write_monograph(content / "a", "aarox", monograph("Aarox", 1))
    cuts: list[tuple[int, int]] = []
    real = slices.write_slice

    def spy(source: Path, start: int, stop: int, *rest: Any) -> int:
        cuts.append((start, stop))
        return real(source, start, stop, *rest)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "CHUNK_LIMIT", 4)  # chunks longer than a volume's share
        patch.setattr(slices, "write_slice", spy)
        report = make(content, root / "output", volume_pages=12, duplex=True)
    assert len(report.volumes) >= 3
    assert cuts, "no chunk was cut between two volumes: the slices go untested"
    # Two-sided: a volume begins on a right-hand page, so a slice starts on one too.
    assert all(start % 2 == 0 for start, _ in cuts), cuts
    return list(report.volumes)


def blank_pages(path: Path) -> list[int]:
    """0-based indexes of the pages left empty on purpose."""
    texts = normalised_page_texts(path)
    return [n for n, text in enumerate(texts) if "intentionally left blank" in text]


def test_each_volume_is_one_tagged_tree_with_the_stamp_as_artifact(volume_set: list[Path]) -> None:
    for path in volume_set:
        with pikepdf.open(path) as pdf:
            root = pdf.Root.StructTreeRoot
            assert len(kids(root)) == 1 and Name.Document == kids(root)[0].S, path.name
            assert bool(pdf.Root.MarkInfo.Marked) is True
            assert str(pdf.Root.Lang) == "en"
            for page in pdf.pages:
                last = page.obj.Contents[len(page.obj.Contents) - 1].read_bytes()
                assert last.startswith(b"Q\n/Artifact <</Type /Pagination>> BDC\n")
        assert_marks_match_the_tree(path)
        assert_links_have_structure_parents(path, 1)  # at least the contents line
        assert_pdfua_clean(path)


def test_each_volume_holds_one_article_per_drug_even_from_a_cut_chunk(
    volume_set: list[Path],
) -> None:
    seen: list[str] = []
    for path in volume_set:
        starts = starts_from_text(normalised_page_texts(path), VOLUME_ORDER)
        with pikepdf.open(path) as pdf:
            page_of = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
            document = kids(pdf.Root.StructTreeRoot)[0]
            articles = [k for k in kids(document) if Name.Art == k.S]
            titles = sorted(starts, key=starts.__getitem__)
            assert len(articles) == len(titles), path.name
            for title, article in zip(titles, articles, strict=True):
                h1 = next(e for e, _ in walk(article) if Name.H1 == e.S)
                assert page_of[h1.Pg.objgen] + 1 == starts[title]
        seen += titles
    assert seen == VOLUME_ORDER


def test_blank_pages_hold_one_paragraph_and_nothing_else(volume_set: list[Path]) -> None:
    found = 0
    for path in volume_set:
        blanks = blank_pages(path)
        found += len(blanks)
        with pikepdf.open(path) as pdf:
            page_of = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
            on_page: dict[int, list[str]] = {}
            for element, _ in walk(pdf.Root.StructTreeRoot):
                if "/Pg" in element:
                    on_page.setdefault(page_of[element.Pg.objgen], []).append(str(element.S))
            for index in blanks:
                assert index % 2 == 1, f"{path.name}: blank page {index + 1} is a right-hand page"
                assert on_page[index] == ["/P"], (path.name, index + 1, on_page[index])
    assert found


def test_the_index_is_a_toc_of_links_to_every_volume(volume_set: list[Path]) -> None:
    last = volume_set[-1]
    texts = normalised_page_texts(last)
    first_index = next(n for n, text in enumerate(texts) if text.startswith("Ingredient index"))
    with pikepdf.open(last) as pdf:
        page_of = {page.obj.objgen: index for index, page in enumerate(pdf.pages)}
        parents = NumberTree(pdf.Root.StructTreeRoot.ParentTree)
        back = [
            e
            for e, _ in walk(pdf.Root.StructTreeRoot)
            if "/Pg" in e and page_of[e.Pg.objgen] >= first_index
        ]
        assert not [e for e in back if e.S in (Name.Table, Name.TR, Name.TD)]
        assert Name.H2 in [e.S for e in back]  # "Ingredient index"
        items = [e for e in back if e.S == Name.TOCI]
        assert len(items) == len(VOLUME_ORDER)  # one ingredient per invented drug
        targets = set()
        for item in items:
            assert item.P.S == Name.TOC
            (reference,) = [k for k in kids(item) if Name.Reference == k.S]
            (link,) = [e for e, _ in walk(reference) if Name.Link == e.S]
            (objr,) = [k for k in kids(link) if isinstance(k, Dictionary) and "/Obj" in k]
            annot = objr.Obj
            assert parents[int(annot.StructParent)].objgen == link.objgen
            if "/Dest" in annot:  # a drug in this volume
                targets.add(last.name)
            else:  # a drug in another volume: that file, at its page
                assert Name.GoToR == annot.A.S
                targets.add(str(annot.A.F))
        assert targets == {path.name for path in volume_set}


def test_the_contents_bookmark_opens_the_contents_page(volume_set: list[Path]) -> None:
    # It opened page 3 whatever came first; in volume 1 that was the disclaimer.
    for path in volume_set:
        texts = normalised_page_texts(path)
        reader = pypdf.PdfReader(path)
        item = reader.outline[0]
        assert item.title == "Contents"
        page = reader.get_destination_page_number(item)
        assert " Contents " in f" {texts[page]} ", (path.name, page + 1)
        assert all(" Contents " not in f" {text} " for text in texts[:page]), path.name


def test_each_volume_embeds_one_font_file_per_typeface(volume_set: list[Path]) -> None:
    # Every part embedded its own subset of each face: 18 files for 4 faces in a volume
    # of 300 monographs. The stamp's DejaVuSans (reportlab) is a face of its own.
    for path in volume_set:
        with pikepdf.open(path) as pdf:
            files: dict[str, set[tuple[int, int]]] = {}
            for obj in pdf.objects:
                if isinstance(obj, Dictionary) and obj.get("/Type") == Name.FontDescriptor:
                    face = str(obj.FontName).split("+", 1)[-1]
                    files.setdefault(face, set()).add(obj.FontFile2.objgen)
            assert len(files) >= 2, files
            assert all(len(streams) == 1 for streams in files.values()), (path.name, files)
