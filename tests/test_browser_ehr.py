"""Load a medication list in a real browser: the FHIR file fills My medicines and its pack.

Uses the Chromium fixtures of test_browser.py (it skips the same way when Chromium
or Playwright is missing), with the invented collection of tests/fixtures/fhir.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import normalised_page_texts
from test_browser import (  # noqa: F401 - fixtures used by name
    TIMEOUT_MS,
    Browser,
    Page,
    Server,
    browser,
    expect,
    station_on,
)

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures" / "fhir"


@pytest.fixture(scope="module")
def ehr_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve-ehr")
    shutil.copytree(FIXTURES / "collection", root / "content")
    with station_on(root / "content", root) as station:
        yield station


@pytest.fixture
def ehr_page(browser: Browser, ehr_server: Server) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(base_url=ehr_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_loaded_list_fills_my_medicines_and_opens_its_pack(ehr_page: Page) -> None:
    page = ehr_page
    page.goto("/pack")
    page.locator("#fhir-file").set_input_files(str(FIXTURES / "unknown-code.json"))
    page.locator("#load-list button[type=submit]").click()
    rows = page.locator("#pack-list li")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Zorvatin")
    expect(rows.nth(0).locator('input[data-time="morning"]')).to_be_checked()
    expect(rows.nth(1)).to_contain_text("Dapagliflozin 10 mg")
    expect(rows.nth(1).locator(".pack-details")).to_contain_text("1 tablet")
    expect(rows.nth(1).locator(".pack-details")).to_contain_text("No leaflet in this collection")
    expect(page.locator("#load-status")).to_contain_text("Loaded 2 medicines from the list.")
    # Without accounts the list is the station's one (loopback) user's.
    stored = json.loads(page.evaluate("localStorage.getItem('medpdf.my-medicines:')"))
    assert [(m["slug"], m["nl"]) for m in stored["list"]] == [("zorvatin", False), ("", True)]
    preview = page.frame_locator("#pack-preview")
    expect(preview.locator("body")).to_contain_text("No leaflet for Dapagliflozin 10 mg")

    with page.context.expect_event(
        "request", lambda r: "/pack.pdf" in r.url, timeout=TIMEOUT_MS
    ) as asked:
        page.locator("#open-pack").click()
    query = parse_qs(urlsplit(asked.value.url).query)
    assert query["m"] == ["zorvatin"] and query["nl"] == ["Dapagliflozin 10 mg"]
    response = page.request.get(asked.value.url, timeout=TIMEOUT_MS)
    assert response.status == 200, response.text()[:500]
    first = normalised_page_texts(response.body())[0]
    assert "No leaflet for Dapagliflozin 10 mg" in first and "Zorvatin" in first


def test_an_unsure_medicine_is_chosen_on_the_page(ehr_page: Page, tmp_path: Path) -> None:
    weak = tmp_path / "weak.json"
    weak.write_text(
        json.dumps(
            {
                "resourceType": "MedicationRequest", "id": "p", "status": "active",
                "intent": "order", "subject": {"reference": "Patient/x"},
                "medicationCodeableConcept": {"text": "Pallidone 5 mg"},
                "dosageInstruction": [{"timing": {"repeat": {"when": ["NOON"]}}}],
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    page = ehr_page
    page.goto("/pack")
    page.locator("#fhir-file").set_input_files(str(weak))
    page.locator("#load-list button[type=submit]").click()
    choices = page.locator("#load-choices")
    expect(choices).to_be_visible()
    choice = page.locator("#load-unsure select")
    expect(choice).to_have_value("pallidone-quessar")
    page.locator("#load-again").click()
    expect(choices).to_be_hidden()
    rows = page.locator("#pack-list li")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Pallidone + Quessar")
    expect(rows.nth(0).locator('input[data-time="noon"]')).to_be_checked()
