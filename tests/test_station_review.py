"""Approvals at the printing station (in-process app, real worker pool).

With ``[station] approved_only``: an unapproved edition is refused with
"Awaiting review — ask the pharmacist" and why, printed once ``medpdf approve``
approved it (with "Reviewed by" in its footer), refused again after an edit.
The review role's pages and Approve button: same Origin, session and rate
rules as printing, and every approval in the record. Text that is not a
leaflet is unavailable and cannot be approved.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from conftest import MINIMAL, REPO, normalise, write_monograph
from starlette.testclient import TestClient
from test_server import settings_for

from medpdf import accounts
from medpdf.content import approvals, sources
from medpdf.record import approvals as recorded
from medpdf.station import app
from medpdf.station.sessions import Access
from medpdf.station.state import Station
from medpdf.station.throttle import RateLimit

STATION = "http://127.0.0.1:8000"
ORIGIN = {"origin": STATION}
PASSWORDS = {"rita": "rita reviews things", "paul": "paul prints things", "vera": "vera views"}
ROLES = {"rita": "review", "paul": "print", "vera": "view"}
NOT_A_LEAFLET = MINIMAL.format(title="Melavinus").replace(
    "Melavinus treats an imaginary condition.", "I cannot provide information on Melavinus."
)


def make_content(folder: Path) -> Path:
    for title in ("Zentorex", "Quorvalin", "Lorvane"):
        write_monograph(folder, title.lower(), MINIMAL.format(title=title))
    write_monograph(folder, "melavinus", NOT_A_LEAFLET)
    return folder


def pdf_text(data: bytes) -> str:
    return normalise(
        " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    )


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Station]]:
    """A station with approved_only and no accounts (loopback)."""
    tmp = tmp_path_factory.mktemp("desk")
    content = make_content(tmp / "content")
    settings = settings_for(tmp, content)
    settings = settings.__class__(
        settings.context.with_options(approved_only=True), access=settings.access
    )
    with TestClient(app.create_app(settings), base_url=STATION) as client:
        yield client, client.app.state.station  # type: ignore[attr-defined]


def test_an_unapproved_edition_is_refused_then_printed_once_approved_then_refused_after_an_edit(
    desk: tuple[TestClient, Station],
):
    client, station = desk
    content = station.config.content_dir
    refused = client.get("/drug/zentorex.pdf")
    assert refused.status_code == 409
    assert "Awaiting review — ask the pharmacist." in refused.text
    version = sources.read(content / "zentorex.md").digest[:12]
    assert f"This edition (version {version}) has not been approved yet." in refused.text
    page = client.get("/drug/zentorex")
    assert page.status_code == 200
    assert 'id="awaiting"' in page.text and 'id="open-pdf"' not in page.text
    assert 'id="preview"' not in page.text

    # `medpdf approve` in a process of its own, as a pharmacist would run it beside the station.
    approve = [sys.executable, "-m", "medpdf", "approve", "zentorex", "--by", "A. Pharmacist"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(approve, cwd=content.parent, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    approved = client.get("/drug/zentorex.pdf")
    assert approved.status_code == 200
    assert approved.headers["content-type"] == "application/pdf"
    text = pdf_text(approved.content)
    day = approvals.load(content).by_slug["zentorex"].review.on.isoformat()
    assert f"Reviewed by A. Pharmacist, {day}" in text
    assert 'id="open-pdf"' in client.get("/drug/zentorex").text

    path = content / "zentorex.md"
    path.write_text(path.read_text().replace("One tablet daily.", "Two tablets daily."))
    again = client.get("/drug/zentorex.pdf")
    assert again.status_code == 409
    now = sources.read(path).digest[:12]
    assert (
        f"This edition (version {now}) changed after A. Pharmacist approved version {version} "
        f"on {day}."
    ) in again.text


def test_a_pack_with_an_unapproved_medicine_is_refused(desk: tuple[TestClient, Station]):
    client, _ = desk
    response = client.get("/pack.pdf?m=quorvalin&m=lorvane")
    assert response.status_code == 409
    assert "Awaiting review — ask the pharmacist." in response.text


def test_what_is_not_a_leaflet_is_unavailable_and_listed_as_such(
    desk: tuple[TestClient, Station],
):
    client, _ = desk
    response = client.get("/drug/melavinus")
    assert response.status_code == 422
    assert "not a leaflet [assistant-refusal]" in response.text  # folded away for editors
    listing = client.get("/review")
    assert "Cannot be approved: not a leaflet" in listing.text
    assert re.search(r"melavinus\.md:\d+: error: not a leaflet \[assistant-refusal\]", listing.text)


def test_without_accounts_the_review_pages_show_but_approving_needs_an_account(
    desk: tuple[TestClient, Station],
):
    client, station = desk
    listing = client.get("/review")
    assert listing.status_code == 200
    assert '<a href="/review/quorvalin">Quorvalin</a>' in listing.text
    page = client.get("/review/quorvalin")
    assert 'id="approve"' not in page.text
    assert "needs an account with the review role" in page.text
    edition = sources.read(station.config.content_dir / "quorvalin.md").digest
    refused = client.post("/review/quorvalin/approve", data={"edition": edition}, headers=ORIGIN)
    assert refused.status_code == 403
    assert "quorvalin" not in approvals.load(station.config.content_dir).by_slug


# --------------------------------------------------------------------------- the review role


@pytest.fixture(scope="module")
def staffed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Station]]:
    tmp = tmp_path_factory.mktemp("staffed")
    content = make_content(tmp / "content")
    users = tmp / "users.json"
    accounts.save(
        users,
        {
            name: accounts.Account(name, ROLES[name], accounts.hash_password(password))
            for name, password in PASSWORDS.items()
        },
    )
    settings = settings_for(tmp, content, access=Access(users_file=users))
    settings = settings.__class__(
        settings.context.with_options(approved_only=True), access=settings.access
    )
    with TestClient(app.create_app(settings), base_url=STATION) as client:
        yield client, client.app.state.station  # type: ignore[attr-defined]


@pytest.fixture
def team(staffed: tuple[TestClient, Station], monkeypatch: pytest.MonkeyPatch):
    client, station = staffed
    client.cookies.clear()
    monkeypatch.setattr(station.review, "rate", RateLimit(3))
    return client, station


def log_in(client: TestClient, name: str) -> None:
    client.cookies.clear()
    done = client.post(
        "/login",
        data={"name": name, "password": PASSWORDS[name]},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert done.status_code == 303


def edition_of(station: Station, slug: str) -> str:
    return sources.read(station.config.content_dir / f"{slug}.md").digest


def test_only_the_review_role_sees_the_review_pages(team: tuple[TestClient, Station]):
    client, _ = team
    for name in ("paul", "vera"):
        log_in(client, name)
        assert client.get("/review").status_code == 403
        assert client.get("/review/lorvane").status_code == 403
        assert 'href="/review"' not in client.get("/").text
    log_in(client, "rita")
    assert 'href="/review"' in client.get("/").text
    assert "rita (reviews and prints)" in client.get("/").text
    listing = client.get("/review")
    assert listing.status_code == 200
    assert "Never approved" in listing.text


def test_the_reviewer_sees_the_diff_and_approves_and_the_record_keeps_it(
    team: tuple[TestClient, Station],
):
    client, station = team
    content = station.config.content_dir
    approvals.approve(content, [(sources.read(content / "lorvane.md"), "Lorvane")], "A. Pharmacist")
    path = content / "lorvane.md"
    path.write_text(path.read_text().replace("Avoid alcohol.", "Avoid alcohol and driving."))
    log_in(client, "rita")
    page = client.get("/review/lorvane")
    assert page.status_code == 200
    assert "<del>alcohol.</del>" in page.text
    assert "<ins>alcohol and driving.</ins>" in page.text
    edition = edition_of(station, "lorvane")
    assert f'name="edition" value="{edition}"' in page.text
    done = client.post(
        "/review/lorvane/approve",
        data={"edition": edition},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/review/lorvane"
    approval = approvals.load(content).by_slug["lorvane"]
    assert (approval.edition, approval.by) == (edition, "rita")
    data = tomllib.loads((content / "approvals.toml").read_text())
    assert data["lorvane"]["edition"] == edition
    [last] = [a for a in recorded.history(station.record) if a.slug == "lorvane"]
    assert (last.edition, last.by, last.via, last.user) == (edition, "rita", "station", "rita")
    assert "is approved: reviewed by rita" in client.get("/review/lorvane").text
    # A desk account prints it now, with the reviewer's name in the footer.
    log_in(client, "paul")
    pdf = client.get("/drug/lorvane.pdf")
    assert pdf.status_code == 200
    assert "Reviewed by rita, " in pdf_text(pdf.content)


@pytest.mark.parametrize(
    ("who", "headers", "status"),
    [
        ("rita", {}, 403),  # no Origin: not from the station's own page
        ("rita", {"origin": "http://evil.example"}, 403),
        ("rita", {**ORIGIN, "sec-fetch-site": "cross-site"}, 403),
        ("paul", ORIGIN, 403),  # may print, may not approve
        ("vera", ORIGIN, 403),
    ],
)
def test_approve_follows_the_origin_and_role_rules_of_printing(
    team: tuple[TestClient, Station], who: str, headers: dict[str, str], status: int
):
    client, station = team
    log_in(client, who)
    response = client.post(
        "/review/quorvalin/approve",
        data={"edition": edition_of(station, "quorvalin")},
        headers=headers,
    )
    assert response.status_code == status
    assert "quorvalin" not in approvals.load(station.config.content_dir).by_slug


def test_approve_needs_a_session(team: tuple[TestClient, Station]):
    client, station = team
    response = client.post(
        "/review/quorvalin/approve",
        data={"edition": edition_of(station, "quorvalin")},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "quorvalin" not in approvals.load(station.config.content_dir).by_slug


def test_an_edition_changed_since_the_page_was_opened_is_not_approved(
    team: tuple[TestClient, Station],
):
    client, station = team
    log_in(client, "rita")
    seen = edition_of(station, "quorvalin")
    path = station.config.content_dir / "quorvalin.md"
    path.write_text(path.read_text().replace("Drowsiness.", "Dizziness."))
    response = client.post("/review/quorvalin/approve", data={"edition": seen}, headers=ORIGIN)
    assert response.status_code == 409
    assert "changed since you opened it, so nothing was approved" in response.text
    assert "quorvalin" not in approvals.load(station.config.content_dir).by_slug


def test_approvals_are_rate_limited_per_account(team: tuple[TestClient, Station]):
    client, _ = team
    log_in(client, "rita")
    codes = [
        client.post(
            "/review/zentorex/approve", data={"edition": "0" * 64}, headers=ORIGIN
        ).status_code
        for _ in range(4)
    ]
    assert codes == [409, 409, 409, 429]


def test_a_big_or_foreign_approve_form_is_refused_unread(team: tuple[TestClient, Station]):
    client, _ = team
    log_in(client, "rita")
    big = client.post("/review/zentorex/approve", data={"edition": "x" * 600}, headers=ORIGIN)
    assert big.status_code == 413
    json_post = client.post("/review/zentorex/approve", json={"edition": "x"}, headers=ORIGIN)
    assert json_post.status_code == 415
