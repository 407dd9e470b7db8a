"""The incremental update the booklet's tree is written in (medpdf.pdf.update).

A small PDF saved with object streams gets an update that adds objects and
replaces one: pikepdf and pypdf (strict) read the new objects through the
update's cross-reference stream, the replaced one as replaced, and the old
ones through ``/Prev``.
"""

from __future__ import annotations

import io
import os
import re

import pikepdf
import pypdf
import pytest

from medpdf.pdf import update


def naive_up(rows: bytes, width: int) -> bytes:
    """The PNG "Up" predictor, byte by byte, as the spec writes it."""
    out = bytearray()
    above = bytes(width)
    for start in range(0, len(rows), width):
        row = rows[start : start + width]
        out.append(2)
        out += bytes((a - b) & 0xFF for a, b in zip(row, above, strict=True))
        above = row
    return bytes(out)


@pytest.mark.parametrize("count", [1, 2, 3, 500])
def test_prediction_matches_the_spec(count: int) -> None:
    rows = os.urandom(7 * count)
    assert update._up_predicted(rows, 7) == naive_up(rows, 7)


def saved_with_update(objects: int) -> bytes:
    pdf = pikepdf.Pdf.new()
    pdf.add_blank_page()
    pdf.Root.Placeholder = pdf.make_indirect(pikepdf.Dictionary(Old=True))
    handle = io.BytesIO()
    pdf.save(handle, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    data = handle.getvalue()
    previous = int(data[data.rindex(b"startxref") + 9 :].split()[0])
    with pikepdf.open(io.BytesIO(data)) as saved:
        size = int(saved.trailer.Size)
        placeholder = saved.Root.Placeholder.objgen[0]
        fixed = b"/Root %d 0 R /ID %s" % (saved.Root.objgen[0], saved.trailer.ID.unparse())
    handle.seek(0, io.SEEK_END)
    writer = update.UpdateWriter(handle, size)
    first = writer.reserve()  # written last, below
    numbers = [writer.add(b"<</Value %d>>" % index) for index in range(objects)]
    writer.add(b"<</Values [%s]>>" % b" ".join(b"%d 0 R" % n for n in numbers), first)
    writer.add(b"<</New true /List %d 0 R>>" % first, placeholder)
    writer.finish(fixed, previous)
    return handle.getvalue()


@pytest.mark.parametrize("objects", [3, update.OBJECTS_PER_STREAM * 2 + 5])
def test_an_update_is_read_by_pikepdf_and_strict_pypdf(objects: int) -> None:
    data = saved_with_update(objects)
    assert data.count(b"/Type /XRef") == 2 and b"/Type /ObjStm" in data[data.index(b"%%EOF") :]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == 1
        replaced = pdf.Root.Placeholder
        assert bool(replaced.New) and "/Old" not in replaced
        assert [int(item.Value) for item in replaced.List.Values] == list(range(objects))
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 1
    values = reader.trailer["/Root"]["/Placeholder"]["/List"]["/Values"]
    assert [int(item.get_object()["/Value"]) for item in values] == list(range(objects))
    # Only streams are written outside object streams: each object stream and the xref.
    tail = data[data.index(b"%%EOF") :]
    streams = -(-(objects + 2) // update.OBJECTS_PER_STREAM)  # rounded up
    assert len(re.findall(rb"\d+ 0 obj", tail)) == streams + 1


def test_segments_made_apart_are_read_where_they_land() -> None:
    # Two segments written on their own (offsets from 0, numbers in their own ranges),
    # then taken into one file after a stream of its own: every object is found.
    handle = io.BytesIO()
    handle.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    writer = update.UpdateWriter(handle, 1)
    catalog, tree, page = writer.reserve(), writer.reserve(), writer.reserve()
    writer.stream(b"", b"% a stream before the segments " + bytes(20_000))
    values: list[int] = []
    for count in (3, update.OBJECTS_PER_STREAM + 7):
        start = writer.begin_segment()
        apart = update.UpdateWriter(io.BytesIO(), start)
        values += [apart.add(b"<</Value %d>>" % (len(values) + i)) for i in range(count)]
        apart.stream(b"", b"data")  # a stream of the segment's own, outside object streams
        entries = apart.segment()  # writes what is pending first
        writer.take(apart._handle.getvalue(), entries)  # type: ignore[attr-defined]
        # The segment holds the numbers it used, rounded up; the rest stay free.
        held = writer.begin_segment() - start
        assert held % update.NUMBERS_STEP == 0 and 0 <= held - (count + 2) < update.NUMBERS_STEP
    writer.add(b"<</Type /Page /Parent %d 0 R /MediaBox [0 0 10 10]>>" % tree, page)
    writer.add(b"<</Type /Pages /Count 1 /Kids [%d 0 R]>>" % page, tree)
    listed = b" ".join(b"%d 0 R" % n for n in values)
    writer.add(b"<</Type /Catalog /Pages %d 0 R /Values [%s]>>" % (tree, listed), catalog)
    writer.finish(b"/Root %d 0 R" % catalog, None)
    data = handle.getvalue()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert [int(item.Value) for item in pdf.Root.Values] == list(range(len(values)))
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 1
    got = [int(item.get_object()["/Value"]) for item in reader.trailer["/Root"]["/Values"]]
    assert got == list(range(len(values)))
