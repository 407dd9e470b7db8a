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
        users,
        {
            name: accounts.Account(name, "print", accounts.hash_password(PASSWORD))
            for name in ("anna", "paula")
        },
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
            page.get_by_role("option", name="Ibuprofen", exact=True).click()
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


def stored_packs(page: sync_api.Page) -> dict[str, str]:
    """Every "My medicines" entry in the browser's storage, by key."""
    found: dict[str, str] = page.evaluate(
        "Object.fromEntries(Object.keys(localStorage)"
        ".filter((k) => k.startsWith('medpdf.my-medicines'))"
        ".map((k) => [k, localStorage.getItem(k)]))"
    )
    return found


def log_in_as(page: sync_api.Page, name: str) -> None:
    page.goto("/login")
    page.locator("#name").fill(name)
    page.locator("#password").fill(PASSWORD)
    page.locator("#login button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


def add_with_note(page: sync_api.Page, note: str) -> None:
    page.goto("/drug/zolpidem")
    page.locator("#add-to-pack").click()
    expect(page.locator("#add-to-pack")).to_have_text("In My medicines ✓")
    page.goto("/pack")
    page.locator("#pack-list li .pack-note").fill(note)
    expect(page.locator("#pack-list li")).to_have_count(1)


def test_my_medicines_is_kept_per_user_and_gone_at_logout_or_the_next_users_login(
    staff_station: Server,
) -> None:
    note = "for depression"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(base_url=staff_station.url)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            log_in_as(page, "anna")
            add_with_note(page, note)
            kept = stored_packs(page)
            assert (
                list(kept) == ["medpdf.my-medicines:anna"]
                and note in kept["medpdf.my-medicines:anna"]
            )
            page.reload()  # kept while anna works
            expect(page.locator("#pack-list li .pack-note")).to_have_value(note)

            # Logout forgets it.
            page.get_by_role("button", name="Log out").click()
            page.wait_for_url(re.compile(r"/login$"))
            assert stored_packs(page) == {}
            log_in_as(page, "anna")
            page.goto("/pack")
            expect(page.locator("#pack-empty")).to_be_visible()

            # anna leaves without logging out; her session ends; paula logs in.
            add_with_note(page, note)
            context.clear_cookies()
            log_in_as(page, "paula")
            assert stored_packs(page) == {}
            page.goto("/pack")
            expect(page.locator("#pack-list li")).to_have_count(0)
            assert note not in page.locator("body").inner_text()

            # A list planted under another name is not shown, and is removed.
            page.evaluate(
                "localStorage.setItem('medpdf.my-medicines:anna', JSON.stringify("
                "{saved: Date.now(), list: [{slug: 'zolpidem', title: 'Zolpidem', times: [],"
                f" note: '{note}'}}]}}))"
            )
            page.reload()
            expect(page.locator("#pack-list li")).to_have_count(0)
            assert stored_packs(page) == {}

            # paula's own list expires once unused longer than a session may idle (30 min).
            add_with_note(page, "with food")
            page.evaluate(
                "(() => { const k = 'medpdf.my-medicines:paula';"
                " const v = JSON.parse(localStorage.getItem(k));"
                " v.saved -= 31 * 60 * 1000; localStorage.setItem(k, JSON.stringify(v)); })()"
            )
            page.reload()
            expect(page.locator("#pack-list li")).to_have_count(0)
            assert stored_packs(page) == {}
            context.close()
        finally:
            browser.close()
