"""Objects copied from an open PDF into a file written object by object (medpdf.pdf.copier).

The booklet is written this way, part by part. A source page is copied with
everything it refers to, renumbered; a reference-like text inside a string
stays text; a proxy stands for an object of the new file and is not copied;
the whole file (no ``/Prev``) is read by pikepdf, strict pypdf and poppler.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zlib
from pathlib import Path

import pikepdf
import pypdf

from medpdf.pdf.copier import Copier
from medpdf.pdf.update import UpdateWriter


def source_with_a_page() -> pikepdf.Pdf:
    pdf = pikepdf.Pdf.new()
    pdf.add_blank_page(page_size=(200, 100))
    page = pdf.pages[0].obj
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(b"BT /F1 12 Tf 10 50 Td (7 0 R stays text) Tj ET")
    # Strings that look like references, literal (with escaped parentheses) and hex.
    page.Note = pikepdf.String("see 3 0 R (and 4 0 R)")
    page.Hex = pikepdf.String(b"\x00\x01 5 0 R")
    return pdf


def whole_file(source: pikepdf.Pdf) -> tuple[bytes, int]:
    """The source's page written as the only page of a new file; and the stand-in's number."""
    handle = io.BytesIO()
    handle.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    writer = UpdateWriter(handle, 1)
    catalog, tree, page_number = writer.reserve(), writer.reserve(), writer.reserve()
    elsewhere = writer.add(b"<</Kind /Written /By /TheWriter>>")
    copier = Copier(source, writer)
    page = source.pages[0].obj
    copier.alias(page.objgen, page_number)
    page.Parent = copier.proxy(tree)
    page.Elsewhere = copier.proxy(elsewhere)
    writer.add(copier.text(page), page_number)
    copier.drain()
    writer.add(b"<</Type /Pages /Count 1 /Kids [%d 0 R]>>" % page_number, tree)
    writer.add(b"<</Type /Catalog /Pages %d 0 R>>" % tree, catalog)
    writer.finish(b"/Root %d 0 R /ID [<00> <00>]" % catalog, None)
    return handle.getvalue(), elsewhere


def test_a_page_and_what_it_refers_to_are_copied_renumbered() -> None:
    data, elsewhere = whole_file(source_with_a_page())
    assert b"/Prev" not in data and data.count(b"/Type /XRef") == 1
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0].obj
        assert page.Resources.Font.F1.BaseFont == pikepdf.Name.Helvetica
        assert page.Contents.read_bytes() == b"BT /F1 12 Tf 10 50 Td (7 0 R stays text) Tj ET"
        assert str(page.Note) == "see 3 0 R (and 4 0 R)"
        assert bytes(page.Hex) == b"\x00\x01 5 0 R"
        # The proxy became a reference to the new file's own object; it was not copied.
        assert page.Elsewhere.objgen == (elsewhere, 0)
        assert page.Elsewhere.Kind == pikepdf.Name.Written
        assert all(
            "/Kind" not in obj or obj.Kind == pikepdf.Name.Written
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Dictionary)
        )
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    assert "7 0 R stays text" in reader.pages[0].extract_text()


def test_a_stream_is_copied_as_stored(tmp_path: Path) -> None:
    source = source_with_a_page()
    packed = zlib.compress(b"BT /F1 9 Tf 10 20 Td (packed) Tj ET")
    source.pages[0].obj.Contents = pikepdf.Stream(source, packed, Filter=pikepdf.Name.FlateDecode)
    data, _ = whole_file(source)
    assert packed in data  # not decoded and compressed again
    path = tmp_path / "copied.pdf"
    path.write_bytes(data)
    if shutil.which("pdftotext"):  # poppler, where it is installed
        done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=False)
        assert done.returncode == 0 and not done.stderr, done.stderr
        assert b"packed" in done.stdout
