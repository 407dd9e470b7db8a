"""The printing station (`medpdf serve`) through its HTTP interface.

The app runs in-process under Starlette's TestClient with its real worker pool,
so every PDF here was rendered by a spawn-started worker, as in production.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pdfplumber
import psutil
import pypdf
import pytest
from conftest import (
    MINIMAL,
    Listener,
    Secret,
    assert_pdf_safe,
    pdf_texts,
    tags_of,
    write_monograph,
)
from private_cups import Cups
from starlette.testclient import TestClient
from test_hostile_content import hostile_html
from waiting import PATIENCE, wait_until

from medpdf.content import markdown
from medpdf.run.contract import RunContext
from medpdf.run.workers import Failure, Limits
from medpdf.settings import config
from medpdf.station import app, guards, listing, serve, state
from medpdf.station import jobs as renderer

DRUGS = {
    "alpha-blocker": "Alphablockin",
    "beta-cafe": "Bétacafé",
    "gamma": "Gammazol",
    "zeta-alpha": "Zetalpha Combination",
}


def make_content(folder: Path) -> Path:
    for slug, title in DRUGS.items():
        write_monograph(folder, slug, MINIMAL.format(title=title))
    return folder


def settings_for(
    tmp: Path, content: Path, limits: Limits | None = None, **changes: Any
) -> state.StationSettings:
    cfg = config.make(content_dir=content, output_dir=tmp / "output")
    context = RunContext.of(cfg, limits or Limits(jobs=1, seconds=PATIENCE))
    return state.StationSettings(context, **changes)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    tmp = tmp_path_factory.mktemp("station")
    content = make_content(tmp / "content")
    with TestClient(app.create_app(settings_for(tmp, content))) as client:
        yield client, tmp


@pytest.fixture
def client(site: tuple[TestClient, Path]) -> TestClient:
    return site[0]


def links(html: str) -> list[str]:
    return re.findall(r'<li id="result-\d+"><a href="/drug/([^"]+)">', html)


# --------------------------------------------------------------------------- pages


def test_home_lists_every_drug_in_title_order(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert links(response.text) == ["alpha-blocker", "beta-cafe", "gamma", "zeta-alpha"]
    assert 'id="search"' in response.text
    assert "4 drugs" in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_search_without_script_filters_on_the_server(client: TestClient) -> None:
    # Titles starting with the word come before titles containing it.
    assert links(client.get("/", params={"q": "alpha"}).text) == ["alpha-blocker", "zeta-alpha"]
    # Accents and case do not matter; every word must match.
    assert links(client.get("/", params={"q": "BETACAFE"}).text) == ["beta-cafe"]
    assert links(client.get("/", params={"q": "zet comb"}).text) == ["zeta-alpha"]
    page = client.get("/", params={"q": "gamazol"}).text
    assert links(page) == []
    assert re.search(r'Did you mean\s*<a href="/drug/gamma">Gammazol</a>\?', page)


def test_search_text_is_escaped(client: TestClient) -> None:
    page = client.get("/", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


def test_drug_list_for_the_search_script(client: TestClient) -> None:
    data = client.get("/drugs.json").json()
    assert data[0] == {"slug": "alpha-blocker", "title": "Alphablockin"}
    assert [d["slug"] for d in data] == ["alpha-blocker", "beta-cafe", "gamma", "zeta-alpha"]


def test_drug_page_shows_options_and_pdf_link(client: TestClient) -> None:
    page = client.get("/drug/gamma", params={"paper": "letter", "large_print": "1"})
    assert page.status_code == 200
    assert "<h1>Gammazol</h1>" in page.text
    # The query carries every station option, the ones not asked for at their defaults.
    query = "paper=letter&amp;large_print=1&amp;patient_fields=0"
    assert f'href="/drug/gamma.pdf?{query}"' in page.text
    assert f'src="/drug/gamma/preview?{query}"' in page.text
    assert '<option value="letter" selected>' in page.text
    assert 'name="large_print" value="1" checked' in page.text
    assert 'name="patient_fields" value="1">' in page.text


def test_preview_is_the_handout_html_without_scripts(client: TestClient) -> None:
    response = client.get("/drug/gamma/preview", params={"patient_fields": "1"})
    assert response.status_code == 200
    html = response.text
    assert "<h1>Gammazol</h1>" in html
    assert "Gammazol treats an imaginary condition." in html
    assert "Patient name" in html
    assert '<base href="/static/">' in html
    assert "styles/serve/preview.css" in html
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    # Every stylesheet the preview links is served.
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)">', html):
        assert client.get(f"/static/{href}").status_code == 200, href


def test_big_lists_are_compressed_small_pages_and_pdfs_are_not(tmp_path: Path) -> None:
    content = tmp_path / "content"
    for number in range(1200):  # lists over 32 kB, as in any real collection
        write_monograph(content, f"drug-{number:04}", MINIMAL.format(title=f"Drug {number:04}"))
    gzip = {"accept-encoding": "gzip"}
    with TestClient(app.create_app(settings_for(tmp_path, content))) as client:
        home = client.get("/", headers=gzip)
        names = client.get("/drugs.json", headers=gzip)
        page = client.get("/drug/drug-0007", headers=gzip)
        pdf = client.get("/drug/drug-0007.pdf", headers=gzip)
    assert home.headers["content-encoding"] == "gzip"
    assert len(links(home.text)) == 1200
    assert names.headers["content-encoding"] == "gzip"
    assert len(names.json()) == 1200
    assert "content-encoding" not in page.headers
    assert "content-encoding" not in pdf.headers
    assert pdf.content.startswith(b"%PDF-")


def test_health(client: TestClient) -> None:
    data = client.get("/health").json()
    assert data["status"] == "ok"
    assert data["monographs"] == 4
    assert data["workers"] == 1
    assert client.get("/health").headers["cache-control"] == "no-store"


# --------------------------------------------------------------------------- PDFs


def test_pdf_is_the_handout_with_the_options_asked_for(client: TestClient) -> None:
    a4 = client.get("/drug/alpha-blocker.pdf")
    assert a4.status_code == 200
    assert a4.headers["content-type"] == "application/pdf"
    assert a4.headers["content-disposition"] == 'inline; filename="alpha-blocker.pdf"'
    reader = pypdf.PdfReader(io.BytesIO(a4.content))
    assert "Alphablockin" in reader.metadata.title
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [595, 842]

    letter = client.get("/drug/alpha-blocker.pdf?paper=letter&large_print=1&patient_fields=1")
    reader = pypdf.PdfReader(io.BytesIO(letter.content))
    assert [round(float(v)) for v in reader.pages[0].mediabox[2:]] == [612, 792]
    text = pdf_texts(letter.content)
    assert "Alphablockin treats an imaginary condition." in text
    assert "Patient name" in text
    with pdfplumber.open(io.BytesIO(letter.content)) as doc:
        words = doc.pages[0].extract_words(extra_attrs=["size"])
    sizes = {round(w["size"], 2) for w in words if w["text"] in {"treats", "imaginary"}}
    assert sizes and min(sizes) >= 16, "large print asks for 16 pt body text"


def test_second_request_comes_from_the_cache(client: TestClient) -> None:
    first = client.get("/drug/beta-cafe.pdf?paper=letter")
    done = client.get("/health").json()["renders_done"]
    second = client.get("/drug/beta-cafe.pdf?paper=letter")
    assert second.content == first.content
    assert client.get("/health").json()["renders_done"] == done


def test_identical_requests_at_once_share_one_render(client: TestClient) -> None:
    before = client.get("/health").json()["renders_done"]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.get("/drug/gamma.pdf?patient_fields=1"), range(8)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert client.get("/health").json()["renders_done"] == before + 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("paper=a3", "paper must be &#34;a4&#34; or &#34;letter&#34;, not &#34;a3&#34;"),
        ("large_print=maybe", "large_print must be 1 or 0"),
    ],
)
def test_bad_options_are_a_400_page(client: TestClient, query: str, message: str) -> None:
    response = client.get(f"/drug/gamma.pdf?{query}")
    assert response.status_code == 400
    assert message in response.text
    assert "<h1>Bad request</h1>" in response.text


# --------------------------------------------------------------------------- 404s and paths


@pytest.mark.parametrize(
    "path",
    [
        "/drug/nothing",
        "/drug/nothing.pdf",
        "/drug/..%2F..%2Fetc%2Fpasswd",
        "/drug/..%2F..%2Fetc%2Fpasswd.pdf",
        "/drug/%2e%2e",
        "/static/../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2F..%2Fmedpdf%2Fstation%2Fapp.py",
        "/static/styles/../../medpdf/station/app.py",
        "/static/templates/handout.html.j2",
        "/static/styles/booklet-stamp.toml",
        "/static//etc/passwd",
        "/no/such/page",
    ],
)
def test_unknown_paths_are_404_pages_and_read_nothing(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text
    assert "root:" not in response.text
    assert "def " not in response.text


def test_unknown_drug_page_names_it(client: TestClient) -> None:
    response = client.get("/drug/nothing")
    assert "There is no drug called “nothing” in this collection." in response.text
    assert 'href="/"' in response.text


def test_a_broken_monograph_is_temporarily_unavailable_not_missing(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    (content / "delta.md").write_text("---\ntitle: [unclosed\n---\n# Deltamin\n")
    with TestClient(app.create_app(settings_for(tmp_path, content))) as client:
        page = client.get("/drug/delta")
        assert page.status_code == 422
        assert "temporarily unavailable" in page.text and "There is no drug" not in page.text
        assert re.search(r'<details class="editors">.*delta\.md:\d+: error: ', page.text, re.S)
        state = client.get("/drug/delta.json")
        assert state.status_code == 422
        assert "delta.md" in state.json()["editor_note"]
        home = client.get("/").text
        assert "1 monograph has errors: it is listed as temporarily unavailable" in home
        assert "medpdf check" not in home
        drug = client.get("/drug/gamma").text
        assert str(content) not in drug and "gamma.md" not in drug
        suggested = client.get("/suggestions.json", params={"q": "gamazol"}).json()
        assert suggested == [{"slug": "gamma", "title": "Gammazol"}]
        assert client.get("/suggestions.json", params={"q": ""}).json() == []


def test_a_broken_monograph_is_found_by_search_and_marked_temporarily_unavailable(
    tmp_path: Path,
) -> None:
    content = make_content(tmp_path / "content")
    # "gamma" breaks; a combination product that names it stays readable.
    write_monograph(content, "alpha-gamma", MINIMAL.format(title="Alphablockin + Gammazol"))
    (content / "gamma.md").write_text("---\ntitle: [unclosed\n---\n# Gammazol\n")
    with TestClient(app.create_app(settings_for(tmp_path, content))) as client:
        home = client.get("/", params={"q": "gamma"}).text
        found = re.findall(r'<li id="result-\d+"( class="unavailable")?><a href="([^"]+)">', home)
        assert found == [(' class="unavailable"', "/drug/gamma"), ("", "/drug/alpha-gamma")]
        assert 'Gamma <span class="flag">temporarily unavailable</span>' in home
        assert "2 of 5 drugs match" in home
        listed = client.get("/drugs.json").json()
        assert {"slug": "gamma", "title": "Gamma", "unavailable": True} in listed
        assert {"slug": "alpha-gamma", "title": "Alphablockin + Gammazol"} in listed
        spanish = client.get("/", params={"q": "gamma", "ui": "es"}).text
        assert "temporalmente no disponible" in spanish


def test_a_loopback_station_answers_only_to_loopback_names(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    hosts = guards.hosts_for("127.0.0.1")
    settings = settings_for(tmp_path, content, allowed_hosts=hosts)
    with TestClient(app.create_app(settings), base_url="http://127.0.0.1:8000") as client:
        assert client.get("/health").status_code == 200
        assert client.get("/health", headers={"host": "localhost:8000"}).status_code == 200
        # A page on another site that rebinds its name to 127.0.0.1 gets nothing.
        assert client.get("/drugs.json", headers={"host": "evil.example"}).status_code == 400
        # Said in the interface language, though no page of the station is reached.
        arabic = client.get("/?ui=ar", headers={"host": "evil.example"})
        assert arabic.status_code == 400 and "اسم المضيف غير صالح" in arabic.text
    # Beyond loopback: the configured names (and IP literals, which no other site owns).
    names = ("printing.clinic.lan",)
    assert guards.hosts_for("0.0.0.0", names) == ("localhost", "printing.clinic.lan")
    assert guards.hosts_for("::1") == hosts


def test_booklet_is_served_once_built(site: tuple[TestClient, Path]) -> None:
    client, tmp = site
    missing = client.get("/booklet.pdf")
    assert missing.status_code == 404
    assert "The booklet has not been built yet" in missing.text
    booklet = tmp / "output" / "booklet.pdf"
    booklet.write_bytes(client.get("/drug/gamma.pdf").content)
    try:
        response = client.get("/booklet.pdf")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.content == booklet.read_bytes()
        assert 'href="/booklet.pdf"' in client.get("/").text
    finally:
        booklet.unlink()


def test_hostile_monograph_through_the_station(
    tmp_path: Path, listener: Listener, secret: Secret
) -> None:
    """Preview, page and PDF of the threat model's hostile file fetch and run nothing."""
    content = make_content(tmp_path / "content")
    write_monograph(content, "hostilex", hostile_html(secret, listener.base))
    with TestClient(app.create_app(settings_for(tmp_path, content))) as client:
        preview = client.get("/drug/hostilex/preview")
        benign = client.get("/drug/gamma/preview")
        page = client.get("/drug/hostilex")
        home = client.get("/", params={"q": "hostilex"})
        names = client.get("/drugs.json").text
        pdf = client.get("/drug/hostilex.pdf")
    assert {r.status_code for r in (preview, page, home, pdf)} == {200}
    # The page around the monograph is the benign fixture's; the rest must be allow-listed.
    template_tags = {tag for tag, _ in tags_of(benign.text)}
    for tag, attrs in tags_of(preview.text):
        assert tag in template_tags | markdown.ALLOWED_TAGS, tag
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
        if tag == "link":
            assert attrs["href"] in {
                f"styles/{n}"
                for n in ("fonts.css", "handout.css", "paper-a4.css", "serve/preview.css")
            }
        if tag == "base":
            assert attrs["href"] == "/static/"
        if tag == "a":
            assert str(attrs["href"]).split(":", 1)[0] in {"http", "https", "mailto"}
    for response in (preview, page, home):
        assert secret.marker not in response.text
        assert "<script" not in response.text.replace('<script src="/static/assets/serve/', "")
        assert "<b>bold</b>" not in response.text  # the title is text, not markup
    assert "{% if true %}JINJA-RAN{% endif %} stays literal." in preview.text
    assert "<b>bold</b>" in names  # JSON carries the title as data; the script sets textContent
    assert_pdf_safe(pdf.content, secret.marker)
    assert listener.requests == []


# --------------------------------------------------------------------------- live changes


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    content = make_content(tmp_path / "content")
    settings = settings_for(tmp_path, content, watch_debounce_ms=50)
    with TestClient(app.create_app(settings)) as client:
        yield client, content


def test_an_edited_monograph_shows_on_the_next_request(live: tuple[TestClient, Path]) -> None:
    client, content = live
    before = client.get("/drug/gamma.pdf").content
    assert "One tablet daily." in pdf_texts(before)
    path = content / "gamma.md"
    path.write_text(path.read_text().replace("One tablet daily.", "Two tablets at night."))
    page = client.get("/drug/gamma/preview").text
    assert "Two tablets at night." in page
    after = client.get("/drug/gamma.pdf").content
    assert "Two tablets at night." in pdf_texts(after)
    assert "One tablet daily." not in pdf_texts(after)
    state = client.get("/drug/gamma.json").json()
    assert state["version"] in client.get("/drug/gamma").text


def test_a_broken_edit_is_a_one_line_error_page(live: tuple[TestClient, Path]) -> None:
    client, content = live
    (content / "gamma.md").write_text("---\ntitle: [unclosed\n---\n# Gammazol\n")
    response = client.get("/drug/gamma.pdf")
    assert response.status_code == 422
    assert re.search(r"gamma\.md:\d+: error: ", response.text)
    assert "Traceback" not in response.text


def test_added_and_removed_files_change_the_list(live: tuple[TestClient, Path]) -> None:
    client, content = live
    write_monograph(content, "delta", MINIMAL.format(title="Deltamine"))
    wait_until(lambda: "delta" in links(client.get("/").text), "delta in the list")
    assert client.get("/drug/delta").status_code == 200
    (content / "gamma.md").unlink()
    # The drug's own requests know at once; the list follows the watcher.
    assert client.get("/drug/gamma").status_code == 404
    wait_until(lambda: "gamma" not in links(client.get("/").text), "gamma gone from the list")
    assert client.get("/health").json()["monographs"] == 4


def test_a_render_over_the_time_limit_is_a_500_page(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    settings = settings_for(tmp_path, content, Limits(jobs=1, seconds=0.01))
    with TestClient(app.create_app(settings)) as client:
        response = client.get("/drug/gamma.pdf")
    assert response.status_code == 500
    assert "rendering took longer than the 0.01 s limit and was stopped" in response.text
    assert not list((tmp_path / "output" / ".cache" / "station").glob("*.pdf"))


# --------------------------------------------------------------------------- printing

STATION = "http://127.0.0.1:8000"


@pytest.fixture
def printing_site(
    tmp_path: Path, cups: Cups, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Cups]]:
    monkeypatch.setenv("CUPS_SERVER", str(cups.socket))
    for name in ("LPDEST", "PRINTER"):
        monkeypatch.delenv(name, raising=False)
    content = make_content(tmp_path / "content")
    station = app.create_app(settings_for(tmp_path, content))
    with TestClient(station, base_url=STATION) as client:
        yield client, cups


def queued_jobs(cups: Cups) -> list[str]:
    return cups.tool("lpstat", "-W", "all", "-o").stdout.split()


def test_the_station_prints_on_a_real_cups_printer(
    printing_site: tuple[TestClient, Cups],
) -> None:
    client, cups = printing_site
    page = client.get("/drug/gamma", params={"paper": "letter", "patient_fields": "1"}).text
    assert f'<option value="{cups.printer}">{cups.printer}</option>' in page
    # Staff read that a printer is not taking jobs; CUPS's reason is for the log.
    assert '<option value="full" disabled>full \u2013 not taking jobs</option>' in page
    assert '<option value="paused" disabled>paused \u2013 paused</option>' in page
    assert '<input type="hidden" name="paper" value="letter">' in page
    form = {"printer": cups.printer, "copies": "2", "paper": "letter", "patient_fields": "1"}
    sent = client.post(
        "/drug/gamma/print", data=form, headers={"origin": STATION}, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    # The page after printing asks the station's own record by a random token.
    assert re.fullmatch(
        r"/drug/gamma\?paper=letter&large_print=0&patient_fields=1&sent=[\w-]{22}", location
    ), location
    after = client.get(location).text
    match = re.search(rf"Sent 2 copies to {cups.printer} \(job ({cups.printer}-\d+)\)\.", after)
    assert match, after
    pdf, accounting = cups.wait_for_pdf(match.group(1))
    text = pdf_texts(pdf.read_bytes())
    assert "Gammazol treats an imaginary condition." in text
    assert "Patient name" in text
    with pdfplumber.open(pdf) as doc:
        assert (round(doc.pages[0].width), round(doc.pages[0].height)) == (612, 792)
    assert accounting.endswith("copies=2 media=Letter title=Gammazol \u2013 patient handout")
    # The token shows nothing on another drug's page, and a made-up job nothing anywhere.
    other = location.replace("/drug/gamma?", "/drug/beta-cafe?")
    assert "Sent " not in client.get(other).text
    forged = client.get("/drug/gamma", params={"sent": f"{cups.printer}-42", "copies": "999999"})
    assert "Sent " not in forged.text and "999999" not in forged.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"origin": "http://evil.example"},
        {"origin": STATION, "sec-fetch-site": "cross-site"},
    ],
)
def test_only_the_stations_own_page_can_print(
    printing_site: tuple[TestClient, Cups], headers: dict[str, str]
) -> None:
    client, cups = printing_site
    before = queued_jobs(cups)
    response = client.post(
        "/drug/gamma/print", data={"printer": cups.printer, "copies": "1"}, headers=headers
    )
    assert response.status_code == 403
    # The route says so, or (for a browser that says cross-site) the guard before it.
    assert "own pages." in response.text
    assert queued_jobs(cups) == before


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"copies": "0"}, 400, "copies must be a whole number from 1 to 20"),
        ({"copies": "lots"}, 400, "copies must be a whole number from 1 to 20"),
        ({"printer": "nosuch"}, 400, "There is no printer called “nosuch”: choose one from"),
        (
            {"printer": "full"},
            502,
            "The printer full is not taking jobs — ask the person who looks after the printers.",
        ),
        (
            {"printer": "paused"},
            502,
            "The printer paused is paused — ask the person who looks after the printers.",
        ),
    ],
)
def test_print_problems_are_one_line_pages(
    printing_site: tuple[TestClient, Cups],
    form: dict[str, str],
    status: int,
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, cups = printing_site
    data = {"printer": cups.printer, "copies": "1", **form}
    response = client.post("/drug/gamma/print", data=data, headers={"origin": STATION})
    assert response.status_code == status
    assert message in response.text
    # CUPS's internals (its reason, the administrator's command) are logged, not shown.
    assert "cupsenable" not in response.text and "cupsaccept" not in response.text
    assert "lpstat" not in response.text and "Out of toner" not in response.text
    if form.get("printer") == "paused":
        assert "an administrator can run: cupsenable paused" in caplog.text
    spanish = client.post("/drug/gamma/print?ui=es", data=data, headers={"origin": STATION}).text
    if form.get("printer") == "paused":
        assert "La impresora paused está en pausa" in spanish


def test_an_oversized_print_form_is_refused_unread(printing_site: tuple[TestClient, Cups]) -> None:
    client, cups = printing_site
    before = queued_jobs(cups)
    data = {"printer": cups.printer, "copies": "1", "padding": "x" * 100_000}
    response = client.post("/drug/gamma/print", data=data, headers={"origin": STATION})
    assert response.status_code == 413
    assert queued_jobs(cups) == before


def test_a_long_unknown_slug_is_shortened_on_the_404_page(client: TestClient) -> None:
    response = client.get("/drug/" + "x" * 5000)
    assert response.status_code == 404
    assert "x" * 80 + "…" in response.text
    assert "x" * 81 not in response.text


def test_many_pages_at_once_share_one_printer_lookup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from medpdf import printing

    calls: list[float] = []

    def slow_destinations() -> printing.Destinations:
        calls.append(time.monotonic())
        time.sleep(0.3)
        return printing.Destinations((printing.Printer("Front-Desk"),), "Front-Desk")

    monkeypatch.setattr(printing, "destinations", slow_destinations)
    content = make_content(tmp_path / "content")
    # However slowly the twelve requests arrive, the answer is still fresh for all of them.
    station = app.create_app(settings_for(tmp_path, content, printers_ttl=PATIENCE))
    with (
        TestClient(station, base_url=STATION) as client,
        concurrent.futures.ThreadPoolExecutor(12) as pool,
    ):
        pages = list(pool.map(lambda _: client.get("/drug/gamma").text, range(12)))
    assert len(calls) == 1
    assert all('<option value="Front-Desk" selected>Front-Desk</option>' in p for p in pages)


def test_the_listening_socket_is_tcp_so_responses_are_not_delayed() -> None:
    # asyncio turns on TCP_NODELAY for accepted connections only when the
    # listening socket was made with IPPROTO_TCP (else ~40 ms per keep-alive answer).
    sock = serve.listen("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert serve.url_of(sock).startswith("http://127.0.0.1:")
    finally:
        sock.close()


def test_a_station_without_cups_says_so_and_still_offers_the_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = tmp_path / "no-cupsd.sock"
    monkeypatch.setenv("CUPS_SERVER", str(socket_path))
    content = make_content(tmp_path / "content")
    with TestClient(app.create_app(settings_for(tmp_path, content)), base_url=STATION) as client:
        page = client.get("/drug/gamma").text
        posted = client.post("/drug/gamma/print", data={"copies": "1"}, headers={"origin": STATION})
    # Staff read what to do; why (CUPS is not running) is for the log and /health.
    assert "Direct printing is not available right now." in page
    assert 'id="print"' not in page
    assert 'id="open-pdf"' in page
    assert posted.status_code == 502
    assert "Direct printing is not available right now." in posted.text
    for text in (page, posted.text):
        assert "CUPS" not in text and "service cups" not in text
    with TestClient(app.create_app(settings_for(tmp_path, content)), base_url=STATION) as client:
        client.get("/drug/gamma")
        assert "not running" in client.get("/health").json()["printing"]


# --------------------------------------------------------------------------- bounds


class FakePool:
    """Stands in for the worker pool: renders finish when the test says so."""

    def __init__(self, jobs: int, shelf: renderer.PdfShelf) -> None:
        self.limits = Limits(jobs=jobs)
        self.shelf = shelf
        self.started: list[concurrent.futures.Future[object]] = []

    def submit(self, function: object, job: object, seconds: float | None = None) -> object:
        future: concurrent.futures.Future[object] = concurrent.futures.Future()
        self.started.append(future)
        target = job.target  # type: ignore[attr-defined]
        future.add_done_callback(lambda _: target.write_bytes(b"%PDF-fake"))
        return future

    def failure(self, exc: BaseException, seconds: float | None = None) -> Failure:
        return Failure(str(exc))


def fake_renderer(
    tmp_path: Path, jobs: int, queue: int
) -> tuple[renderer.Renderer, FakePool, RunContext, list[Any]]:
    """A renderer on a fake pool, its run context and the fixture sources to render."""
    from medpdf.content import sources

    content = make_content(tmp_path / "content")
    cfg = config.make(content_dir=content, output_dir=tmp_path / "output")
    context = RunContext.of(cfg, Limits(jobs=jobs))
    texts = [sources.read(p) for p in sorted(content.glob("*.md"))]
    shelf = renderer.PdfShelf(tmp_path / "shelf", 1 << 20)
    pool = FakePool(jobs, shelf)
    return renderer.Renderer(pool, shelf, queue), pool, context, texts  # type: ignore[arg-type]


async def settled(check: Callable[[], bool], seconds: float = PATIENCE) -> None:
    """Let the event loop run until ``check()`` holds (fail after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


def test_renders_are_bounded_and_extra_requests_are_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        shop, pool, context, texts = fake_renderer(tmp_path, jobs=1, queue=2)
        tasks = [asyncio.create_task(shop.handout(s, context)) for s in texts[:3]]
        twin = asyncio.create_task(shop.handout(texts[0], context))
        await settled(lambda: shop.running == 1 and shop.waiting == 2)
        assert (shop.running, shop.waiting) == (1, 2)
        assert len(pool.started) == 1  # one worker: one render at a time
        with pytest.raises(renderer.Busy):
            await shop.handout(texts[3], context)
        for number in range(3):
            await settled(lambda n=number: len(pool.started) == n + 1)
            assert shop.running == 1
            pool.started[number].set_result(object())
        results = await asyncio.gather(*tasks, twin)
        assert results == [b"%PDF-fake"] * 4
        assert len(pool.started) == 3  # the twin shared the first render
        assert (shop.running, shop.waiting, shop.rendered) == (0, 0, 3)

    asyncio.run(scenario())


def test_a_free_worker_takes_a_render_even_with_no_queue(tmp_path: Path) -> None:
    async def scenario() -> None:
        shop, pool, context, texts = fake_renderer(tmp_path, jobs=2, queue=0)
        first = asyncio.create_task(shop.handout(texts[0], context))
        second = asyncio.create_task(shop.handout(texts[1], context))
        await settled(lambda: len(pool.started) == 2)
        assert (shop.running, shop.waiting) == (2, 0)
        with pytest.raises(renderer.Busy):
            await shop.handout(texts[2], context)
        for future in pool.started:
            future.set_result(object())
        assert await asyncio.gather(first, second) == [b"%PDF-fake"] * 2

    asyncio.run(scenario())


def test_a_full_queue_is_a_503_page_with_retry_after(
    site: tuple[TestClient, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = site

    async def full(
        self: renderer.Renderer, source: object, context: object, review: object = None
    ) -> bytes:
        raise renderer.Busy

    monkeypatch.setattr(renderer.Renderer, "handout", full)
    response = client.get("/drug/gamma.pdf?paper=letter&large_print=1")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "busy rendering other handouts. Try again in a few seconds." in response.text
    assert "<h1>Busy</h1>" in response.text


def test_the_shelf_evicts_the_least_recently_used(tmp_path: Path) -> None:
    shelf = renderer.PdfShelf(tmp_path, max_bytes=2500)
    for number, key in enumerate(["a", "b", "c"]):
        shelf.path(key).write_bytes(b"x" * 1000)
        os.utime(shelf.path(key), (1000 + number, 1000 + number))
        if key == "b":
            assert shelf.read("a") is not None  # "a" is now the most recently used
        shelf.added(key)
    assert sorted(p.stem for p in tmp_path.glob("*.pdf")) == ["a", "c"]


# --------------------------------------------------------------------------- the command


SERVE = [sys.executable, "-m", "medpdf", "serve"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("stop", "status"),
    # Ctrl+C is a normal end; after SIGTERM uvicorn re-raises the signal, as services do.
    [(signal.SIGINT, 0), (signal.SIGTERM, -signal.SIGTERM)],
)
def test_serve_command_reports_its_url_and_stops_with_its_workers(
    tmp_path: Path, stop: signal.Signals, status: int
) -> None:
    import httpx

    content = make_content(tmp_path / "content")
    (content / "broken.md").write_text("no front matter\n")
    output = str(tmp_path / "output")
    process = subprocess.Popen(
        [*SERVE, "--content", str(content), "--port", "0", "--output", output, "-j", "2"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"serving (http://127\.0\.0\.1:\d+/)", line)
        assert match, line
        url = match.group(1)
        ready = "medpdf: ready: 4 monographs; 1 left out for errors (see medpdf check)\n"
        assert process.stderr.readline() == ready
        assert _answers(httpx, url + "health")
        pdf = httpx.get(url + "drug/gamma.pdf", timeout=PATIENCE)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 2  # the render workers
        process.send_signal(stop)
        assert process.wait(timeout=PATIENCE) == status
        assert "Traceback" not in process.stderr.read()
        _, alive = psutil.wait_procs(children, timeout=PATIENCE)
        assert not alive, f"workers left running: {alive}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _answers(httpx: object, url: str) -> bool:
    try:
        return httpx.get(url, timeout=PATIENCE).status_code == 200  # type: ignore[attr-defined,no-any-return]
    except Exception:
        return False


def test_serve_on_a_busy_port_is_one_line(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*SERVE, "--content", str(content), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"medpdf: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


def test_serve_without_content_folder_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SERVE, "--content", str(tmp_path / "none"), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"medpdf: error: content folder '{tmp_path / 'none'}' does not exist"
    )


def test_a_busy_build_cache_is_neither_deleted_nor_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from medpdf.run.cache import Cache

    content = make_content(tmp_path / "content")
    cache_folder = tmp_path / "output" / ".cache"
    Cache(cache_folder).close()
    database = cache_folder / "medpdf.sqlite3"
    assert database.exists()

    def busy(self: Cache) -> sqlite3.Connection:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(Cache, "_connect", busy)
    found = listing.scan(content, cache_folder)  # parses everything itself
    assert [e.slug for e in found.entries] == [
        "alpha-blocker",
        "beta-cafe",
        "gamma",
        "zeta-alpha",
    ]
    assert database.exists(), "a busy cache must not be taken for a damaged one"


def test_a_print_lp_did_not_confirm_is_kept_in_the_record_and_staff_are_told_to_look(
    printing_site: tuple[TestClient, Cups],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from medpdf.errors import PrintUnconfirmed
    from medpdf.station import routes

    client, cups = printing_site

    def lost_answer(*args: object) -> object:
        raise PrintUnconfirmed(f"lp did not finish within 60 s; printer '{cups.printer}' may ...")

    monkeypatch.setattr(routes, "send", lost_answer)
    data = {"printer": cups.printer, "copies": "1"}
    answer = client.post("/drug/gamma/print", data=data, headers={"origin": STATION})
    assert answer.status_code == 502
    assert f"The printer {cups.printer} may not have received the job" in answer.text
    assert "lp did not finish" in caplog.text and "lp did not finish" not in answer.text
    page = client.get("/printed").text
    assert re.search(rf"<strong>Printed on {cups.printer}</strong>,\s*not confirmed by CUPS", page)
