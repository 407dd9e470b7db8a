"""The printing station in a real browser: search, open a drug, pick options, get the PDF.

A ``medpdf serve --port 0`` subprocess serves a temporary collection of small
fixture monographs; Playwright drives Debian's Chromium (``/usr/bin/chromium``,
headless) against it. The module skips only when Chromium or the ``playwright``
package is missing; ``make test`` installs both.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pdfplumber
import pypdf
import pytest
from conftest import MINIMAL, REPO, write_monograph
from docs_screenshots import SCREEN, screenshot
from private_cups import Cups
from waiting import PATIENCE, PATIENCE_MS, wait_until

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "`make test` installs it (Debian package chromium, Python package playwright)"

if not CHROMIUM.is_file():
    pytest.skip(f"{CHROMIUM} not found; {INSTALL_HINT}", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason=f"the playwright package is not installed; {INSTALL_HINT}"
)
Browser = sync_api.Browser
BrowserContext = sync_api.BrowserContext
Locator = sync_api.Locator
Page = sync_api.Page
expect = sync_api.expect
# Assertions wait as long as any other step: their default (5 s) is not enough beside a build.
expect.set_options(timeout=PATIENCE_MS)

#: Headless flags for a machine without a GPU, running as root, on a closed network
#: (without the background-networking ones Chromium keeps calling Google services).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TITLES = ["Alefacept", "Alendronate", "Ibuprofen", "Zolpidem"]
LETTER = (612.0, 792.0)
SERVING = re.compile(r"serving (http://\S+?/)")
#: Printed once the collection is scanned and requests are answered.
READY = re.compile(r"^medpdf: ready: ", re.MULTILINE)
#: What Playwright waits for a page, a request or a selector before it gives up: a cold
#: render of one handout takes about a second, but much longer beside a busy build.
TIMEOUT_MS = PATIENCE_MS


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def at(self, path: str) -> str:
        return self.url.rstrip("/") + path


def wait_for_url(process: subprocess.Popen[bytes], log: Path) -> str:
    """The station's URL, once it has scanned its collection and answers ``/health``.

    ``serving http://HOST:PORT/`` comes as soon as the socket listens, but the scan of
    the collection comes after it (the whole corpus takes a while): a page asked for
    before ``ready`` waits for all of it.
    """

    def said() -> str:
        return log.read_text(encoding="utf-8", errors="replace")

    def ready() -> str | None:
        text = said()
        if process.poll() is not None:
            raise AssertionError(f"medpdf serve exited ({process.poll()}): {text}")
        found = SERVING.search(text)
        return found.group(1) if found and READY.search(text) else None

    url = wait_until(ready, "medpdf serve reported its URL and readiness", gave_up=said)
    wait_until(lambda: answers_health(url), f"{url}health answered", gave_up=said)
    return url


def answers_health(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "health", timeout=PATIENCE) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError):
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def station_on(content: Path, root: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``medpdf serve`` on ``content`` with one worker, output and log under ``root``."""
    log = root / "serve.log"
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    argv = [sys.executable, "-m", "medpdf", "serve", "--content", str(content)]
    argv += ["--output", str(root / "output"), "--host", "127.0.0.1", "--port", "0", "-j", "1"]
    with log.open("wb") as sink:
        # cwd without a medpdf.toml, so the server runs on defaults.
        process = subprocess.Popen(argv, cwd=root, env=env, stdout=sink, stderr=sink)
    try:
        yield Server(wait_for_url(process, log), process, log)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    content = root / "content"
    for title in TITLES:
        write_monograph(content / title[0].lower(), title.lower(), MINIMAL.format(title=title))
    with station_on(content, root) as station:
        yield station


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as playwright:
        # Playwright gives every launch a fresh --user-data-dir under /tmp.
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=server.url, viewport=SCREEN)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def result(page: Page, title: str) -> Locator:
    """The ``<li>`` of the results list that is exactly ``title``.

    With the script it is an option of the search box's listbox; without, it holds a link.
    """
    return page.locator("#results li").filter(has_text=re.compile(rf"^\s*{re.escape(title)}\s*$"))


def pdf_title_and_pages(data: bytes) -> tuple[str, list[tuple[float, float]], str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    title = str(reader.metadata.title if reader.metadata else "")
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    return title, sizes, reader.pages[0].extract_text()


def test_search_keyboard_options_and_pdf(page: Page, server: Server):
    page.goto("/")
    for title in TITLES:
        expect(result(page, title)).to_be_visible()

    page.locator("#search").press_sequentially("alen")
    expect(result(page, "Alendronate")).to_be_visible()
    for gone in ("Alefacept", "Ibuprofen", "Zolpidem"):
        expect(result(page, gone)).to_be_hidden()

    page.locator("#search").press("ArrowDown")
    active = page.locator("#results .active")
    expect(active).to_have_count(1)
    expect(active).to_contain_text("Alendronate")
    expect(page.locator('#results [aria-selected="true"]')).to_contain_text("Alendronate")
    # Screen readers follow the highlight through the search box's active descendant.
    chosen = page.locator("#search").get_attribute("aria-activedescendant")
    expect(page.locator(f"#{chosen}")).to_contain_text("Alendronate")
    screenshot(page, "search")
    page.locator("#search").press("Enter")
    page.wait_for_url(re.compile(r"/drug/alendronate$"))
    expect(page.locator("h1")).to_have_text("Alendronate")
    expect(page.locator("iframe#preview")).to_be_attached()

    link = page.locator("a#open-pdf")
    # The page's own link carries every station option, each at the station's default.
    defaults = "paper=a4&large_print=0&patient_fields=0"
    expect(link).to_have_attribute("href", f"/drug/alendronate.pdf?{defaults}")
    page.locator('#options select[name="paper"]').select_option("letter")
    page.locator('#options input[name="large_print"]').check()
    expect(link).to_have_attribute("href", re.compile(r"large_print=1"))
    href = link.get_attribute("href") or ""
    parts = urlsplit(href)
    assert parts.path == "/drug/alendronate.pdf"
    assert parse_qs(parts.query) == {"paper": ["letter"], "large_print": ["1"]}

    response = page.request.get(server.at(href), timeout=TIMEOUT_MS)
    assert response.status == 200, response.text()[:500]
    assert response.headers["content-type"].startswith("application/pdf")
    data = response.body()
    assert data.startswith(b"%PDF-")
    title, sizes, first_page = pdf_title_and_pages(data)
    assert "Alendronate" in title
    assert "Alendronate" in first_page
    assert sizes and all(size == LETTER for size in sizes)
    with pdfplumber.open(io.BytesIO(data)) as doc:
        words = doc.pages[0].extract_words(extra_attrs=["size"])
    body = [w["size"] for w in words if w["text"] == "imaginary"]
    assert body and min(body) >= 16 - 0.01  # large print


def test_click_a_result_opens_the_drug(page: Page):
    page.goto("/")
    page.locator("#search").fill("zol")
    expect(result(page, "Ibuprofen")).to_be_hidden()
    option = page.get_by_role("option", name="Zolpidem", exact=True)
    expect(option).to_have_attribute("aria-selected", "false")
    option.click()
    page.wait_for_url(re.compile(r"/drug/zolpidem$"))
    expect(page.locator("h1")).to_have_text("Zolpidem")
    expect(page.locator("a#open-pdf")).to_have_attribute(
        "href", "/drug/zolpidem.pdf?paper=a4&large_print=0&patient_fields=0"
    )


def test_typing_before_the_list_arrives_keeps_the_servers_list(page: Page):
    held: list[sync_api.Route] = []
    page.route("**/drugs.json", lambda route: held.append(route))  # the list is late
    page.goto("/")
    page.locator("#search").press_sequentially("zol")
    assert held, "the page did not ask for the list"
    expect(page.locator("#results li")).to_have_count(len(TITLES))  # not emptied
    assert page.locator("#search").get_attribute("role") is None  # not a combobox yet
    held[0].continue_()
    expect(page.locator("#results li[role=option]")).to_have_count(1)
    expect(result(page, "Zolpidem")).to_be_visible()
    expect(page.locator("#count")).to_contain_text("1 of 4 drugs match “zol”")


def test_search_without_javascript_filters_on_the_server(browser: Browser, server: Server):
    ctx = browser.new_context(base_url=server.url, java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto("/")
        page.locator("#search").fill("ibu")
        page.locator("#search").press("Enter")
        page.wait_for_url(re.compile(r"/\?q=ibu$"))
        expect(page.locator("#results li")).to_have_count(1)
        expect(result(page, "Ibuprofen")).to_be_visible()
    finally:
        ctx.close()


def test_unknown_drug_shows_the_404_page(page: Page):
    response = page.goto("/drug/no-such-drug")
    assert response is not None
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.locator("body")).to_contain_text(re.compile(r"not found|404", re.IGNORECASE))


# --------------------------------------------------------------------------- printing, live edits


@pytest.fixture(scope="module")
def printing_server(
    tmp_path_factory: pytest.TempPathFactory, cups: Cups
) -> Iterator[tuple[Server, Path]]:
    """A station whose CUPS is the private scheduler with the cups-pdf printer."""
    root = tmp_path_factory.mktemp("serve-print")
    content = root / "content"
    for title in TITLES:
        write_monograph(content, title.lower(), MINIMAL.format(title=title))
    env = {k: v for k, v in cups.env.items() if k not in {"LPDEST", "PRINTER"}}
    with station_on(content, root, env) as station:
        yield station, content


@pytest.fixture
def station_page(browser: Browser, printing_server: tuple[Server, Path]) -> Iterator[Page]:
    """A page in a fresh browser context on the station that can print."""
    ctx = browser.new_context(base_url=printing_server[0].url, viewport=SCREEN)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


def test_print_button_sends_the_handout_to_a_real_cups_printer(station_page: Page, cups: Cups):
    page = station_page
    page.goto("/drug/ibuprofen")
    page.locator('#options select[name="paper"]').select_option("letter")
    page.locator('#options input[name="patient_fields"]').check()
    page.locator("#print select#printer").select_option(cups.printer)
    page.locator("#print input#copies").fill("2")
    expect(page.frame_locator("iframe#preview").locator("body")).to_contain_text("Patient name")
    screenshot(page, "drug")
    page.locator("#print button[type=submit]").click()
    page.wait_for_url(re.compile(r"sent="))
    notice = page.locator("#sent")
    expect(notice).to_contain_text(f"Sent 2 copies to {cups.printer} (job {cups.printer}-")
    job = re.search(r"\(job (\S+)\)", notice.inner_text())
    assert job, notice.inner_text()
    pdf, accounting = cups.wait_for_pdf(job.group(1))
    with pdfplumber.open(pdf) as doc:
        text = "\n".join(p.extract_text() or "" for p in doc.pages)
        size = (round(doc.pages[0].width), round(doc.pages[0].height))
    assert "Ibuprofen treats an imaginary condition." in text
    assert "Patient name" in text  # the option chosen on the page reached the print
    assert size == (612, 792)
    assert " copies=2 media=Letter " in accounting

    # The Printed page lists it, with the printer and the edition that went out.
    page.get_by_role("link", name="Printed", exact=True).click()
    page.wait_for_url(re.compile(r"/printed$"))
    row = page.locator("tbody tr").filter(has_text=job.group(1))
    expect(row).to_contain_text("Ibuprofen")
    expect(row).to_contain_text(f"Printed on {cups.printer}")
    screenshot(page, "printed")


def bottom_of(page: Page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["y"] + box["height"])


def test_print_is_in_view_and_its_confirmation_is_on_top_focused_and_announced(
    browser: Browser, printing_server: tuple[Server, Path], cups: Cups
):
    ctx = browser.new_context(base_url=printing_server[0].url, viewport=SCREEN)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        page.goto("/drug/alendronate")
        # The Print button is visible without scrolling.
        assert bottom_of(page, "#print button[type=submit]") <= SCREEN["height"]
        page.locator("#print select#printer").select_option(cups.printer)
        page.locator("#print button[type=submit]").click()
        page.wait_for_url(re.compile(r"sent="))
        notice = page.locator("#sent")
        expect(notice).to_contain_text(f"Sent 1 copy to {cups.printer}")
        # Where the eye is: in the top third of the screen, focused, and a status region
        # that screen readers announce.
        assert bottom_of(page, "#sent") <= SCREEN["height"] / 3
        assert page.evaluate("document.activeElement.id") == "sent"
        assert notice.get_attribute("role") == "status"
        assert notice.get_attribute("aria-live") == "polite"
        assert page.evaluate("window.scrollY") == 0
        # Print is still in view under the notice.
        assert bottom_of(page, "#print button[type=submit]") <= SCREEN["height"]
    finally:
        ctx.close()


def test_an_edit_on_disk_refreshes_the_open_preview(
    station_page: Page, printing_server: tuple[Server, Path]
):
    station, content = printing_server
    page = station_page
    page.goto("/drug/zolpidem")
    preview = page.frame_locator("iframe#preview")
    expect(preview.locator("body")).to_contain_text("One tablet daily.")
    path = content / "zolpidem.md"
    path.write_text(path.read_text().replace("One tablet daily.", "Half a tablet at bedtime."))
    expect(page.locator("#changed")).to_be_visible()
    expect(preview.locator("body")).to_contain_text("Half a tablet at bedtime.")
    version = page.locator("#version").inner_text()
    assert version == page.request.get(station.at("/drug/zolpidem.json")).json()["version"]


def test_a_misspelling_gets_suggestions_and_enter_searches_without_a_choice(page: Page):
    page.goto("/")
    page.locator("#search").press_sequentially("ibuprofn")
    expect(page.locator("#count")).to_contain_text("0 of 4 drugs match")
    suggestion = page.locator("#suggest")
    expect(suggestion).to_be_visible()
    expect(suggestion).to_contain_text("Did you mean Ibuprofen?")
    # Enter with nothing chosen asks the server, which says the same.
    page.locator("#search").press("Enter")
    page.wait_for_url(re.compile(r"/\?q=ibuprofn$"))
    expect(page.locator("#suggest")).to_contain_text("Did you mean Ibuprofen?")
    # Two matches and none chosen: Enter lists them instead of opening the first.
    page.locator("#search").fill("")
    page.locator("#search").press_sequentially("ale")
    expect(page.locator("#results li")).to_have_count(2)
    page.locator("#search").press("Enter")
    page.wait_for_url(re.compile(r"/\?q=ale$"))
    expect(page.locator("h1")).to_have_count(0)
    expect(page.locator("#results li")).to_have_count(2)


def test_an_open_page_warns_when_an_editor_breaks_the_monograph(
    station_page: Page, printing_server: tuple[Server, Path]
):
    _, content = printing_server
    page = station_page
    path = content / "alefacept.md"
    good = path.read_text()
    page.goto("/drug/alefacept")
    # The preview frame is sandboxed (no script, forms, pop-ups or navigation of the
    # page; its own origin kept so its stylesheets load) and styled.
    assert page.locator("iframe#preview").get_attribute("sandbox") == "allow-same-origin"
    body = page.frame_locator("iframe#preview").locator("body")
    expect(body).to_contain_text("Alefacept treats an imaginary condition.")
    assert "DejaVu Sans" in body.evaluate("e => getComputedStyle(e).fontFamily")
    try:
        path.write_text("---\ntitle: [unclosed\n---\n# Alefacept\n")
        stale = page.locator("#stale")
        expect(stale).to_be_visible()
        expect(stale).to_contain_text("temporarily unavailable")
        expect(stale).to_contain_text("The preview below is out of date")
        # Once the watcher has rescanned, a new visit says why instead of "no such drug".
        response = page.goto("/drug/alefacept")
        assert response is not None and response.status == 422
        expect(page.locator("h1")).to_have_text("Temporarily unavailable")
        expect(page.locator("details.editors")).to_contain_text("alefacept.md")
    finally:
        path.write_text(good)


# --------------------------------------------------------------------------- the whole collection


@pytest.mark.corpus
def test_search_as_you_type_over_the_whole_collection(
    browser: Browser, corpus_dir: Path, tmp_path: Path
):
    """The script filters ~6,300 names as the server does; the keyboard still works."""
    with station_on(corpus_dir, tmp_path) as station:
        ctx = browser.new_context(base_url=station.url)
        ctx.set_default_timeout(TIMEOUT_MS)
        try:
            page = ctx.new_page()
            page.goto("/")
            count = page.locator("#count").inner_text()
            assert int(re.fullmatch(r"(\d+) drugs", count).group(1)) > 6000
            page.locator("#search").press_sequentially("insulin")
            expect(page.locator("#count")).to_contain_text("match “insulin”")
            options = page.locator("#results li[role=option]").all()
            shown = [option.get_attribute("data-href") for option in options]
            server_side = page.request.get(station.at("/?q=insulin")).text()
            found = r'id="result-\d+"(?: class="unavailable")?><a href="([^"]+)">'
            expected = re.findall(found, server_side)
            assert shown == expected and len(shown) > 5
            page.locator("#search").press("ArrowDown")
            page.locator("#search").press("Enter")
            page.wait_for_url(re.compile(re.escape(str(expected[0])) + "$"))
            expect(page.locator("h1")).to_contain_text(re.compile("insulin", re.IGNORECASE))
        finally:
            ctx.close()
