"""The record through the printing station and a real CUPS.

The station runs in-process with its real worker pool (as in test_server); the
command line runs as its own process, so the two write the record at once as
they would at a clinic. Printing goes through the private CUPS scheduler of
private_cups.py with its cups-pdf printer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import normalised_text
from private_cups import Cups
from starlette.testclient import TestClient
from test_record import assert_consistent
from test_server import STATION, make_content, settings_for
from waiting import PATIENCE

from medpdf.record.store import Record
from medpdf.station import app

GAMMA_SENTENCE = "Gammazol treats an imaginary condition."


@pytest.fixture
def station(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    content = make_content(tmp_path / "content")
    with TestClient(app.create_app(settings_for(tmp_path, content)), base_url=STATION) as client:
        yield client, tmp_path / "output" / "record"


def test_every_pdf_the_station_hands_out_is_on_the_printed_page(
    station: tuple[TestClient, Path],
) -> None:
    client, folder = station
    assert "Nothing handed out yet today." in client.get("/printed").text
    pdf = client.get("/drug/gamma.pdf", params={"paper": "letter", "large_print": "1"})
    assert pdf.status_code == 200
    kept = Record(folder)
    (entry,) = kept.entries()
    assert kept.pdf_of(entry) == pdf.content
    assert (entry.action, entry.via, entry.user) == ("opened", "station", None)
    assert entry.drugs[0].slug == "gamma"
    edition = normalised_text(pdf.content).split("Version ", 1)[1].split()[0]
    assert entry.drugs[0].edition == edition

    page = client.get("/printed").text
    assert "Printed today" in page
    assert f'Gammazol <span class="edition">version {edition}</span>' in page
    assert "Letter, Large print" in page and "Opened in a browser" in page
    assert '<a href="/printed/1.pdf"' in page

    again = client.get("/printed/1.pdf")
    assert again.status_code == 200 and again.content == pdf.content
    assert again.headers["content-type"] == "application/pdf"
    found = client.get("/printed", params={"drug": "GAMM"}).text
    assert "Handed out: “GAMM”" in found and "(reprint of 1)" in found
    assert found.count('<a href="/printed/') == 2
    assert "Nothing handed out for “beta”." in client.get("/printed?drug=beta").text
    for number in ("99", "0", "9223372036854775808", "99999999999999999999"):
        missing = client.get(f"/printed/{number}.pdf")
        assert missing.status_code == 404, number
        assert f"There is no record {number}." in missing.text
    assert '<a href="/printed">Printed</a>' in client.get("/").text
    assert len(kept.entries()) == 2
    assert_consistent(folder)


CLI_WRITER = """
import sys
from medpdf.cli import cli
print("started", flush=True)
for n in range(int(sys.argv[1])):
    cli.main(["reprint", "1", "-o", f"copy-{n}.pdf"], prog_name="medpdf", standalone_mode=False)
"""


def test_the_station_and_the_command_line_writing_at_once_lose_nothing(
    station: tuple[TestClient, Path], tmp_path: Path
) -> None:
    client, folder = station
    first = client.get("/drug/alpha-blocker.pdf")
    assert first.status_code == 200
    work = tmp_path / "cli"
    work.mkdir()
    (work / "medpdf.toml").write_text(f'[record]\nfolder = "{folder}"\n', encoding="utf-8")
    runs, requests = 40, 40
    writer = subprocess.Popen(
        [sys.executable, "-c", CLI_WRITER, str(runs)],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline() == "started\n"
    slugs = ["alpha-blocker", "gamma", "beta-cafe", "zeta-alpha"]
    for n in range(requests):
        assert client.get(f"/drug/{slugs[n % 4]}.pdf").status_code == 200
    out, err = writer.communicate(timeout=PATIENCE)
    assert writer.returncode == 0, err
    assert out.count("recorded as ") == runs

    entries = Record(folder).entries()
    assert [e.id for e in entries] == list(range(1, 2 + runs + requests))
    by_via = [e.via for e in entries]
    assert by_via.count("station") == 1 + requests and by_via.count("cli") == runs
    copies = {
        hashlib.sha256((work / f"copy-{n}.pdf").read_bytes()).hexdigest() for n in range(runs)
    }
    assert copies == {entries[0].pdf}
    assert_consistent(folder)


def test_station_prints_and_cli_reprints_through_a_real_cups_are_recorded(
    tmp_path: Path, cups: Cups, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUPS_SERVER", str(cups.socket))
    for name in ("LPDEST", "PRINTER"):
        monkeypatch.delenv(name, raising=False)
    content = make_content(tmp_path / "content")
    with TestClient(app.create_app(settings_for(tmp_path, content)), base_url=STATION) as client:
        form = {"printer": cups.printer, "copies": "2", "paper": "a4"}
        sent = client.post(
            "/drug/gamma/print", data=form, headers={"origin": STATION}, follow_redirects=False
        )
        assert sent.status_code == 303, sent.text
        assert re.search(r"sent=[^&]+", sent.headers["location"])  # a token, not the job id
        page = client.get("/printed").text
        job = re.search(
            rf"<strong>Printed on {cups.printer}</strong>,\s*job ({cups.printer}-\d+), 2 copies",
            page,
        )
        assert job is not None, page
    first, _ = cups.wait_for_pdf(job.group(1))
    assert GAMMA_SENTENCE in normalised_text(first)

    (entry,) = Record(tmp_path / "output" / "record").entries()
    assert (entry.printer, entry.job, entry.copies) == (cups.printer, job.group(1), 2)
    reprinted = subprocess.run(
        [sys.executable, "-m", "medpdf", "reprint", str(entry.id), "--printer", cups.printer],
        cwd=tmp_path,
        env=cups.env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    assert reprinted.returncode == 0, reprinted.stderr
    again = re.match(
        rf"sent record 1 \(\d+ pages\) to {cups.printer} as job (\S+)\n", reprinted.stdout
    )
    assert again, reprinted.stdout
    second, accounting = cups.wait_for_pdf(again.group(1))
    assert normalised_text(second) == normalised_text(first)
    assert accounting.endswith("media=A4 title=Gammazol \u2013 patient handout")
    history = subprocess.run(
        [sys.executable, "-m", "medpdf", "history", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=True,
    )
    records = [json.loads(line) for line in history.stdout.splitlines()]
    assert [(r["id"], r["job"], r["reprint_of"]) for r in records] == [
        (1, job.group(1), None),
        (2, again.group(1), 1),
    ]


def test_the_printed_page_shows_prints_first_filters_by_action_and_keeps_dates_whole(
    station: tuple[TestClient, Path],
) -> None:
    client, folder = station
    assert client.get("/drug/gamma.pdf").status_code == 200  # opened: record 1
    kept = Record(folder)
    data = kept.pdf_of(kept.entries()[0])
    drugs = kept.entries()[0].drugs
    day = dt.date.fromisoformat(kept.entries()[0].day)
    kept.keep(data, drugs, (), action="printed", via="station", day=day, printer="Lab", job="Lab-3")
    assert client.get("/drug/gamma.pdf").status_code == 200  # opened again: record 3
    page = client.get("/printed").text
    rows = re.findall(r'<tr class="(\w+)">\s*<td>(\d+)</td>', page)
    assert rows == [("printed", "2"), ("opened", "3"), ("opened", "1")]  # prints first
    assert '<td class="when"><span class="day">' in page
    only = client.get("/printed", params={"action": "printed"}).text
    assert re.findall(r'<tr class="(\w+)">\s*<td>(\d+)</td>', only) == [("printed", "2")]
    assert '<option value="printed" selected>' in only
    opened = client.get("/printed", params={"action": "opened", "drug": "gamm"}).text
    assert re.findall(r'<tr class="(\w+)">', opened) == ["opened", "opened"]
    # The page has the station's menu and (with accounts) Log out, like every other page.
    assert '<nav aria-label="Station">' in page
