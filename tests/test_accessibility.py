"""The station's pages for staff who use screen readers and keyboards: axe-core, and keys only.

axe-core (the npm package, pinned in package-lock.json, installed into
node_modules/ by ``make setup``) is injected by Playwright into Debian's Chromium
and audits every kind of page — login, home and search, drug page (before and
after printing), My medicines, Printed, error pages — in English, Spanish and
Arabic (right to left) against the WCAG 2.0, 2.1 and 2.2 A and AA rules: no
serious or critical violation may remain. A second test uses the station with
the keyboard only (Tab, Shift+Tab, Enter, Space and typing): log in, find a
drug, set an option, print, and the focus is visible at every step.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from conftest import MINIMAL, REPO, write_monograph
from private_cups import Cups
from test_browser import CHROMIUM_ARGS, TIMEOUT_MS, Server, stop, sync_api, wait_for_url

from medpdf import accounts

pytestmark = pytest.mark.browser

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
if not AXE.is_file():
    pytest.skip(f"{AXE} not found; `make setup` installs it (npm ci)", allow_module_level=True)

Page = sync_api.Page
expect = sync_api.expect

PASSWORD = "front desk password"
#: The rule sets audited: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
#: What must never be found.
BLOCKING = {"serious", "critical"}
LANGUAGES = ("en", "es", "ar")
SCREEN = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory, cups: Cups) -> Iterator[Server]:
    """A station with accounts, the private CUPS printer, and one broken monograph."""
    root = tmp_path_factory.mktemp("serve-a11y")
    content = root / "content"
    for title in ("Ibuprofen", "Ibandronate", "Zolpidem"):
        write_monograph(content, title.lower(), MINIMAL.format(title=title))
    (content / "metoprolol.md").write_text("---\ntitle: [unclosed\n---\n# Metoprolol\n")
    users = root / "users.json"
    accounts.save(
        users, {"anna": accounts.Account("anna", "print", accounts.hash_password(PASSWORD))}
    )
    env = {k: v for k, v in cups.env.items() if k not in {"LPDEST", "PRINTER"}}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["XDG_CONFIG_HOME"] = str(root / "config")
    argv = [sys.executable, "-m", "medpdf", "serve", "--content", str(content)]
    argv += ["--output", str(root / "output"), "--port", "0", "-j", "1"]
    argv += ["--users-file", str(users)]
    log = root / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, cwd=root, env=env, stdout=sink, stderr=sink)
    try:
        yield Server(wait_for_url(process, log), process, log)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=TIMEOUT_MS,
        )
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(browser: sync_api.Browser, station: Server) -> tuple[sync_api.BrowserContext, Page]:
    # The station's pages allow only their own scripts: the audit's script is let in here.
    context = browser.new_context(base_url=station.url, viewport=SCREEN, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def log_in(page: Page) -> None:
    page.goto("/login")
    page.locator("#name").fill("anna")
    page.locator("#password").fill(PASSWORD)
    page.locator("#login button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


def audit(page: Page) -> list[str]:
    """The serious and critical WCAG violations axe-core finds on the page, one line each."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
        "['violations']})",
        WCAG_TAGS,
    )
    found = []
    for violation in results["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [json.dumps(node["target"]) for node in violation["nodes"]][:5]
            found.append(
                f"{violation['impact']} {violation['id']}: {violation['help']} at "
                f"{', '.join(targets)}"
            )
    return found


@pytest.mark.parametrize("ui", LANGUAGES)
def test_every_page_has_no_serious_or_critical_wcag_violation(
    browser: sync_api.Browser, station: Server, cups: Cups, ui: str
) -> None:
    context, page = new_page(browser, station)
    problems: dict[str, list[str]] = {}
    try:
        page.goto(f"/login?ui={ui}")
        problems["login"] = audit(page)
        page.locator("#name").fill("anna")
        page.locator("#password").fill("not the password at all")
        page.locator("#login button[type=submit]").click()
        expect(page.locator("#login-message")).to_be_visible()
        problems["login, failed"] = audit(page)
        log_in(page)
        page.goto("/")
        problems["home"] = audit(page)
        page.goto("/?q=metoprolol")  # finds the broken monograph, marked unavailable
        problems["search"] = audit(page)
        page.goto("/")
        page.locator("#search").press_sequentially("ib")
        expect(page.locator("#results li")).to_have_count(2)
        page.locator("#search").press("ArrowDown")
        problems["search as you type"] = audit(page)
        page.goto("/drug/ibuprofen")
        problems["drug"] = audit(page)
        page.locator("#print select#printer").select_option(cups.printer)
        page.locator("#print button[type=submit]").click()
        page.wait_for_url(re.compile(r"sent="))
        problems["drug, printed"] = audit(page)
        page.locator("#add-to-pack").click()
        page.goto("/drug/zolpidem")
        page.locator("#add-to-pack").click()
        page.goto("/pack")
        expect(page.locator("#pack-list li")).to_have_count(2)
        problems["my medicines"] = audit(page)
        page.goto("/printed")
        problems["printed"] = audit(page)
        page.goto("/printed?action=printed&drug=ibu")
        problems["printed, filtered"] = audit(page)
        page.goto("/drug/no-such-drug")
        problems["error 404"] = audit(page)
        page.goto("/drug/metoprolol")
        problems["error 422"] = audit(page)
        page.goto("/drug/ibuprofen?paper=a3")
        problems["error 400"] = audit(page)
    finally:
        context.close()
    found = {name: lines for name, lines in problems.items() if lines}
    assert found == {}, "\n".join(f"{name}: {line}" for name, ls in found.items() for line in ls)
    assert len(problems) == 13


FOCUS_VISIBLE = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return "nothing focused";
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  const ringed = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  const inView = box.bottom > 0 && box.top < innerHeight && box.width > 0 && box.height > 0;
  const name = element.id || element.getAttribute("name") || element.textContent.slice(0, 30);
  return ringed && inView ? "" : `${element.tagName} ${name}: ring ${ringed}, in view ${inView}`;
}"""


def tab_to(page: Page, selector: str, most: int = 40, back: bool = False) -> int:
    """Press Tab (or Shift+Tab) until ``selector`` has the focus, checking each stop's ring."""
    target = page.locator(selector)
    for presses in range(1, most + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        problem = page.evaluate(FOCUS_VISIBLE)
        assert problem == "", f"focus not visible on the way to {selector}: {problem}"
        if target.evaluate("e => e === document.activeElement"):
            return presses
    raise AssertionError(f"{selector} not reached in {most} presses of Tab")


def test_log_in_find_a_drug_set_options_and_print_with_the_keyboard_only(
    browser: sync_api.Browser, station: Server, cups: Cups
) -> None:
    context, page = new_page(browser, station)
    try:
        page.goto("/")
        page.wait_for_url(re.compile(r"/login\?next="))
        # The name field has the focus on arrival; the rest is Tab, typing and Enter.
        assert page.evaluate("document.activeElement.id") == "name"
        page.keyboard.type("anna")
        tab_to(page, "#password")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/$"))
        assert page.evaluate("document.activeElement.id") == "search"
        # The first Tab on a page reaches the skip link, which is then on screen.
        page.keyboard.press("Shift+Tab")
        tab_to(page, "a.skip", back=True)
        page.keyboard.press("Enter")
        tab_to(page, "#search")
        page.keyboard.type("ibuprofen")
        expect(page.locator("#results li")).to_have_count(1)
        page.keyboard.press("Enter")  # the only match opens
        page.wait_for_url(re.compile(r"/drug/ibuprofen$"))
        tab_to(page, "#options input[name=large_print]")
        page.keyboard.press("Space")
        expect(page.locator("#options input[name=large_print]")).to_be_checked()
        tab_to(page, "#print select#printer")
        expect(page.locator("#print select#printer")).to_have_value(cups.printer)
        tab_to(page, "#print button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"sent="))
        # The confirmation has the focus, visibly, and the option chosen reached the print.
        assert page.evaluate("document.activeElement.id") == "sent"
        assert page.evaluate(FOCUS_VISIBLE) == ""
        notice = page.locator("#sent")
        expect(notice).to_contain_text(f"Sent 1 copy to {cups.printer}")
        job = re.search(r"\(job (\S+)\)", notice.inner_text())
        assert job, notice.inner_text()
        assert "large_print=1" in page.url
        pdf, _ = cups.wait_for_pdf(job.group(1))
        assert pdf.read_bytes().startswith(b"%PDF-")
        # Log out, by keyboard too.
        tab_to(page, "form.account button", back=True)
        page.keyboard.press("Space")
        page.wait_for_url(re.compile(r"/login$"))
    finally:
        context.close()
