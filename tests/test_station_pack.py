"""“My medicines” at the printing station: the pack PDF, its preview, printing and roles.

The station runs in-process with its real worker pool (as in test_server); the
list the browser keeps travels as ``m``/``take``/``note`` fields. Printing goes
through the private CUPS of private_cups.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pytest
from conftest import assert_marker_absent, normalised_page_texts, normalised_text
from private_cups import Cups
from starlette.testclient import TestClient
from test_server import STATION, make_content, settings_for

from medpdf import accounts
from medpdf.record.store import Record
from medpdf.station import app
from medpdf.station.sessions import Access

ORIGIN = {"origin": STATION}
PACK = [
    ("m", "gamma"),
    ("m", "beta-cafe"),
    ("take", "gamma=morning,bedtime"),
    ("note", "gamma=with food"),
]


def form_of(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """A form with repeated fields, as the print form's hidden inputs send them."""
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    tmp = tmp_path_factory.mktemp("pack-station")
    content = make_content(tmp / "content")
    with TestClient(app.create_app(settings_for(tmp, content)), base_url=STATION) as client:
        yield client, tmp / "output" / "record"


def test_the_pack_pdf_holds_my_medicines_then_each_handout_and_is_recorded(
    site: tuple[TestClient, Path],
) -> None:
    client, folder = site
    before = len(Record(folder).entries())
    response = client.get("/pack.pdf", params=PACK)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pages = normalised_page_texts(response.content)
    first = pages[0]
    assert "My medicines" in first
    assert first.index("Gammazol") < first.index("Bétacafé")  # the list's order
    assert "with food" in first
    handouts = " ".join(pages[1:])
    for sentence in ("Gammazol treats an imaginary condition.", "Bétacafé treats an imaginary"):
        assert sentence in handouts
    assert len(pages) >= 3

    entries = Record(folder).entries()
    assert len(entries) == before + 1
    entry = entries[-1]
    assert [d.slug for d in entry.drugs] == ["gamma", "beta-cafe"]
    assert (entry.action, entry.via) == ("opened", "station")
    # The record keeps the pack without its note: a line to write it by hand instead.
    kept = normalised_page_texts(Record(folder).pdf_of(entry))
    assert "with food" not in kept[0] and "Note" in kept[0]
    assert kept[1:] == pages[1:]

    no_note = [pair for pair in PACK if pair[0] != "note"]
    first = client.get("/pack.pdf", params=no_note)
    assert Record(folder).pdf_of(Record(folder).entries()[-1]) == first.content
    rendered = client.get("/health").json()["renders_done"]
    again = client.get("/pack.pdf", params=no_note)  # from the shelf: no second render
    assert again.content == first.content
    assert client.get("/health").json()["renders_done"] == rendered
    other = client.get("/pack.pdf", params=[*PACK[:3], ("note", "gamma=after meals")])
    assert "after meals" in normalised_page_texts(other.content)[0]
    # Made with its note (never kept); its copy for the record, without the note, is the
    # one made for the first request: one render.
    assert client.get("/health").json()["renders_done"] == rendered + 1


def assert_nowhere_under(folder: Path, needle: str) -> int:
    """``needle`` is in no file under ``folder``: raw bytes, and every PDF's streams decoded.

    PDF text is compressed, so a PDF is also opened and searched stream by stream and in
    its extracted text. Returns how many files were searched.
    """
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    for path in files:
        data = path.read_bytes()
        for encoded in (needle.encode(), needle.encode("utf-16-be")):
            assert encoded not in data, path
        if data.startswith(b"%PDF-"):
            assert needle not in normalised_text(data), path
            assert_marker_absent(data, needle)
    return len(files)


def test_a_note_typed_for_a_patient_is_never_kept_on_disk(
    tmp_path: Path, cups: Cups, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUPS_SERVER", str(cups.socket))
    for name in ("LPDEST", "PRINTER"):
        monkeypatch.delenv(name, raising=False)
    marker = "Jane Doe MRN 123456 with food"
    pack = [("m", "gamma"), ("m", "beta-cafe"), ("note", f"gamma={marker}")]
    content = make_content(tmp_path / "content")
    with TestClient(app.create_app(settings_for(tmp_path, content)), base_url=STATION) as client:
        opened = client.get("/pack.pdf", params=pack)
        assert opened.status_code == 200 and marker in normalised_page_texts(opened.content)[0]
        form = form_of([*pack, ("printer", cups.printer), ("copies", "1")])
        sent = client.post("/pack/print", data=form, headers=ORIGIN, follow_redirects=False)
        assert sent.status_code == 303, sent.text
        job = re.search(r"\(job (\S+)\)", client.get(sent.headers["location"]).text)
        assert job is not None
        # The patient got the note; the record and the station's disk hold no trace of it.
        printed, _ = cups.wait_for_pdf(job.group(1))
        assert marker in normalised_text(printed)
        record = tmp_path / "output" / "record"
        entries = Record(record).entries()
        assert [e.action for e in entries] == ["opened", "printed"]
        for needle in (marker, "Jane Doe", "123456"):
            assert assert_nowhere_under(tmp_path / "output", needle) >= 3
        # A reprint shows the pack with an empty line where the note was.
        again = client.get(f"/printed/{entries[-1].id}.pdf")
        first = normalised_page_texts(again.content)[0]
        assert "Gammazol" in first and "Note" in first and marker not in first


def ticks_on_page_one(client: TestClient, params: list[tuple[str, str]]) -> int:
    with pdfplumber.open(io.BytesIO(client.get("/pack.pdf", params=params).content)) as pdf:
        return sum(1 for w in pdf.pages[0].extract_words() if w["text"] == "✓")


def test_times_set_in_the_list_are_ticked_on_page_one(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    untimed = ticks_on_page_one(client, [("m", "gamma"), ("m", "beta-cafe")])
    # Morning and bedtime of Gammazol: ticked in the schedule and on the wallet card.
    assert ticks_on_page_one(client, PACK) == untimed + 4


def test_bad_lists_are_one_line_400s_and_unknown_drugs_404(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    empty = client.get("/pack.pdf")
    assert empty.status_code == 400 and "no medicines" in empty.text
    bad_time = client.get("/pack.pdf", params=[("m", "gamma"), ("take", "gamma=lunch")])
    assert (
        bad_time.status_code == 400
        and "times for gamma: &#39;lunch&#39; is not a time of day" in bad_time.text
    )
    stranger = client.get("/pack.pdf", params=[("m", "gamma"), ("take", "beta-cafe=noon")])
    assert stranger.status_code == 400 and "not a medicine of this pack" in stranger.text
    many = client.get("/pack.pdf", params=[("m", f"drug-{n}") for n in range(21)])
    assert many.status_code == 400 and "at most 20 medicines" in many.text
    assert client.get("/pack.pdf", params=[("m", "nope")]).status_code == 404
    long_note = client.get("/pack/preview", params=[("m", "gamma"), ("note", "gamma=" + "x" * 121)])
    assert long_note.status_code == 400
    twice = client.get("/pack/preview", params=[("m", "gamma"), ("m", "gamma")])
    assert twice.status_code == 200 and twice.text.count("Gammazol") >= 1


def test_the_list_page_the_preview_and_the_add_button(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    page = client.get("/pack")
    assert page.status_code == 200
    assert '<script src="/static/assets/serve/pack.js" defer></script>' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # no inline script: the CSP would refuse it
    assert 'data-time="bedtime"' in page.text
    drug = client.get("/drug/gamma").text
    assert 'id="add-to-pack"' in drug and 'data-slug="gamma"' in drug
    assert client.get("/static/assets/serve/pack.js").status_code == 200
    preview = client.get("/pack/preview", params=PACK)
    assert preview.status_code == 200
    assert preview.headers["content-security-policy"].startswith("default-src 'none'")
    assert "My medicines" in preview.text and "with food" in preview.text
    assert '<base href="/static/">' in preview.text


def test_a_pack_prints_on_a_real_cups_printer_and_is_recorded(
    tmp_path: Path, cups: Cups, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUPS_SERVER", str(cups.socket))
    for name in ("LPDEST", "PRINTER"):
        monkeypatch.delenv(name, raising=False)
    content = make_content(tmp_path / "content")
    with TestClient(app.create_app(settings_for(tmp_path, content)), base_url=STATION) as client:
        page = client.get("/pack").text
        assert f'<option value="{cups.printer}">{cups.printer}</option>' in page
        form = form_of([*PACK, ("printer", cups.printer), ("copies", "1"), ("paper", "letter")])
        forged = client.post("/pack/print", data=form, headers={"origin": "http://evil.test"})
        assert forged.status_code == 403
        sent = client.post("/pack/print", data=form, headers=ORIGIN, follow_redirects=False)
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].startswith("/pack?sent=")
        notice = client.get(sent.headers["location"]).text
        job = re.search(rf"Sent 1 copy of the pack to {cups.printer} \(job (\S+)\)\.", notice)
        assert job is not None, notice
        assert "Sent 1 copy" not in client.get("/pack?sent=made-up").text
    pdf, accounting = cups.wait_for_pdf(job.group(1))
    text = normalised_text(pdf)
    assert "My medicines" in text and "Gammazol treats an imaginary condition." in text
    assert " media=Letter " in accounting
    (entry,) = Record(tmp_path / "output" / "record").entries()
    assert (entry.action, entry.printer, entry.job) == ("printed", cups.printer, job.group(1))
    assert [d.slug for d in entry.drugs] == ["gamma", "beta-cafe"]


def test_a_view_account_may_open_a_pack_but_not_print_it(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    password = "victor views packs"
    accounts.save(
        users, {"victor": accounts.Account("victor", "view", accounts.hash_password(password))}
    )
    content = make_content(tmp_path / "content")
    settings = settings_for(tmp_path, content, access=Access(users_file=users), printers_ttl=3600)
    with TestClient(app.create_app(settings), base_url=STATION) as client:
        assert client.get("/pack.pdf", params=PACK).status_code == 401
        login = {"name": "victor", "password": password}
        assert (
            client.post("/login", data=login, headers=ORIGIN, follow_redirects=False).status_code
            == 303
        )
        page = client.get("/pack").text
        assert "printing needs an account with the print role" in page
        assert 'id="pack-print"' not in page
        refused = client.post("/pack/print", data=form_of([*PACK, ("copies", "1")]), headers=ORIGIN)
        assert refused.status_code == 403 and "not print them" in refused.text
        opened = client.get("/pack.pdf", params=PACK)
        assert opened.status_code == 200
    (entry,) = Record(tmp_path / "output" / "record").entries()
    assert (entry.action, entry.user) == ("opened", "victor")
