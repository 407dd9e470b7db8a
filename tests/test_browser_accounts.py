"""A member of staff with an account, in Debian's Chromium: log in, search, print, log out.

Same set-up as ``test_browser`` (a ``medpdf serve`` subprocess, Playwright on
``/usr/bin/chromium``, the private CUPS), with a users file, so every page
needs a login. After logout, the back button must show nothing private.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pdfplumber
import pytest
from conftest import MINIMAL, REPO, write_monograph
from docs_screenshots import SCREEN, screenshot
from private_cups import Cups
from test_browser import CHROMIUM_ARGS, TIMEOUT_MS, Server, expect, stop, sync_api, wait_for_url

from medpdf import accounts

pytestmark = pytest.mark.browser

PASSWORD = "front desk password"


@pytest.fixture(scope="module")
def staff_station(tmp_path_factory: pytest.TempPathFactory, cups: Cups) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve-accounts")
    content = root / "content"
    for title in ("Ibuprofen", "Ibandronate", "Zolpidem"):
        write_monograph(content, title.lower(), MINIMAL.format(title=title))
    users = root / "users.json"
    accounts.save(
        users, {"anna": accounts.Account("anna", "print", accounts.hash_password(PASSWORD))}
    )
    env = {k: v for k, v in cups.env.items() if k not in {"LPDEST", "PRINTER"}}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["XDG_CONFIG_HOME"] = str(root / "config")
    argv = [sys.executable, "-m", "medpdf", "-v", "serve", "--content", str(content)]
    argv += ["--output", str(root / "output"), "--port", "0", "-j", "1"]
    argv += ["--users-file", str(users)]
    log = root / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, cwd=root, env=env, stdout=sink, stderr=sink)
    try:
        yield Server(wait_for_url(process, log), process, log)
    finally:
        stop(process)


def test_log_in_search_print_log_out_and_back_shows_nothing(
    staff_station: Server, cups: Cups
) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=TIMEOUT_MS,
        )
        try:
            context = browser.new_context(base_url=staff_station.url, viewport=SCREEN)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            page.goto("/")
            page.wait_for_url(re.compile(r"/login\?next=%2F$"))
            page.locator("#name").fill("anna")
            screenshot(page, "login")
            page.locator("#password").fill("not it at all")
            page.locator("#login button[type=submit]").click()
            expect(page.locator("#login-message")).to_contain_text("Wrong name or password")
            page.locator("#password").fill(PASSWORD)
            page.locator("#login button[type=submit]").click()
            page.wait_for_url(re.compile(r"/$"))
            expect(page.locator(".account")).to_contain_text("anna (may print)")

            page.locator("#search").press_sequentially("ibu")
            page.get_by_role("link", name="Ibuprofen", exact=True).click()
            page.wait_for_url(re.compile(r"/drug/ibuprofen$"))
            page.locator("#print select#printer").select_option(cups.printer)
            page.locator("#print button[type=submit]").click()
            page.wait_for_url(re.compile(r"sent="))
            notice = page.locator("#sent")
            expect(notice).to_contain_text(f"Sent 1 copy to {cups.printer}")
            job = re.search(r"\(job (\S+)\)", notice.inner_text())
            assert job, notice.inner_text()
            pdf, _ = cups.wait_for_pdf(job.group(1))
            with pdfplumber.open(pdf) as doc:
                assert "Ibuprofen" in (doc.pages[0].extract_text() or "")

            page.get_by_role("button", name="Log out").click()
            page.wait_for_url(re.compile(r"/login$"))
            page.go_back()
            expect(page.locator("h1")).to_have_text("Log in")
            body = page.locator("body").inner_text()
            assert "Ibuprofen" not in body and "anna" not in body
            context.close()
        finally:
            browser.close()
    # Every print names its user (in the log, until there is a print record).
    log = staff_station.log.read_text()
    assert re.search(rf"printed ibuprofen: 1 copies on {cups.printer} as job \S+ by anna", log)
