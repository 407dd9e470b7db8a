"""The pharmacist's review in Debian's Chromium: awaiting review, the diff, Approve, then the PDF.

A ``medpdf serve`` subprocess with accounts and ``[station] approved_only = true``
(medpdf.toml in its working folder), as in ``test_browser_accounts``. A desk
account meets a changed edition as "Awaiting review"; the reviewer finds it
under Review, reads what changed word by word, approves it; the desk then gets
the PDF, whose footer names the reviewer. Every wait is on a URL or an element.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pdfplumber
import pytest
from conftest import MINIMAL, REPO, normalise, write_monograph
from test_browser import CHROMIUM_ARGS, TIMEOUT_MS, Server, expect, stop, sync_api, wait_for_url

from medpdf import accounts
from medpdf.content import approvals

pytestmark = pytest.mark.browser

PASSWORDS = {"rita": "rita reviews editions", "desk": "front desk password"}
ROLES = {"rita": "review", "desk": "print"}


@pytest.fixture(scope="module")
def review_station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve-review")
    content = root / "content"
    for title in ("Lorvane", "Zentorex"):
        write_monograph(content, title.lower(), MINIMAL.format(title=title))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env["XDG_CONFIG_HOME"] = str(root / "config")
    # Lorvane was approved, then an editor changed its dosage: it awaits review again.
    approve = [sys.executable, "-m", "medpdf", "approve", "lorvane", "--by", "A. Pharmacist"]
    subprocess.run(approve, cwd=root, env=env, check=True, capture_output=True)
    path = content / "lorvane.md"
    path.write_text(path.read_text().replace("One tablet daily.", "Two tablets daily."))
    (root / "medpdf.toml").write_text("[station]\napproved_only = true\n", encoding="utf-8")
    users = root / "users.json"
    accounts.save(
        users,
        {
            name: accounts.Account(name, ROLES[name], accounts.hash_password(password))
            for name, password in PASSWORDS.items()
        },
    )
    argv = [sys.executable, "-m", "medpdf", "-v", "serve", "--content", str(content)]
    argv += ["--output", str(root / "output"), "--port", "0", "-j", "1", "--users-file", str(users)]
    log = root / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, cwd=root, env=env, stdout=sink, stderr=sink)
    try:
        yield Server(wait_for_url(process, log), process, log)
    finally:
        stop(process)


def log_in(page: object, name: str) -> None:
    page.goto("/login")  # type: ignore[attr-defined]
    page.locator("#name").fill(name)  # type: ignore[attr-defined]
    page.locator("#password").fill(PASSWORDS[name])  # type: ignore[attr-defined]
    page.locator("#login button[type=submit]").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r"/$"))  # type: ignore[attr-defined]


def test_the_reviewer_sees_what_changed_approves_it_and_the_desk_can_print_it(
    review_station: Server, tmp_path
) -> None:
    content = review_station.log.parent / "content"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=TIMEOUT_MS,
        )
        try:
            context = browser.new_context(base_url=review_station.url)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()

            # The desk meets the changed edition: no PDF, no print, ask the pharmacist.
            log_in(page, "desk")
            expect(page.locator("nav a[href='/review']")).to_have_count(0)
            page.goto("/drug/lorvane")
            expect(page.locator("#awaiting")).to_contain_text(
                "Awaiting review — ask the pharmacist"
            )
            expect(page.locator("#awaiting")).to_contain_text(
                "changed after A. Pharmacist approved"
            )
            expect(page.locator("#open-pdf")).to_have_count(0)
            page.get_by_role("button", name="Log out").click()
            page.wait_for_url(re.compile(r"/login$"))

            # The reviewer: Review in the bar, the list, the diff, Approve.
            log_in(page, "rita")
            expect(page.locator(".account")).to_contain_text("rita (reviews and prints)")
            page.locator("nav a[href='/review']").click()
            page.wait_for_url(re.compile(r"/review$"))
            expect(page.locator("#count")).to_have_text("2 editions await review")
            rows = page.locator("#waiting tbody tr")
            expect(rows.filter(has_text="Zentorex")).to_contain_text("Never approved")
            expect(rows.filter(has_text="Lorvane")).to_contain_text("Changed since A. Pharmacist")
            page.get_by_role("link", name="Lorvane", exact=True).click()
            page.wait_for_url(re.compile(r"/review/lorvane$"))
            expect(page.locator("#diff del")).to_have_text(["One tablet"])
            expect(page.locator("#diff ins")).to_have_text(["Two tablets"])
            expect(page.frame_locator("#preview").locator("h1")).to_have_text("Lorvane")
            page.locator("#approve button[type=submit]").click()
            expect(page.locator("#standing")).to_contain_text("is approved: reviewed by rita")
            expect(page.locator("#approve")).to_have_count(0)
            page.locator("nav a[href='/review']").click()
            expect(page.locator("#count")).to_have_text("1 edition awaits review")

            # The desk prints it now; the footer names the reviewer.
            page.get_by_role("button", name="Log out").click()
            page.wait_for_url(re.compile(r"/login$"))
            log_in(page, "desk")
            page.goto("/drug/lorvane")
            link = page.locator("#open-pdf")
            expect(link).to_be_visible()
            pdf = page.request.get(link.get_attribute("href") or "")
            assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
            target = tmp_path / "lorvane.pdf"
            target.write_bytes(pdf.body())
            with pdfplumber.open(target) as doc:
                first = normalise(doc.pages[0].extract_text() or "")
            day = approvals.load(content).by_slug["lorvane"].review.on.isoformat()
            assert f"Reviewed by rita, {day}" in first
            context.close()
        finally:
            browser.close()
    log = review_station.log.read_text()
    assert re.search(r"approved lorvane version [0-9a-f]{12} by rita", log)
