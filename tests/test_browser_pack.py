"""“My medicines” in a real browser: add two drugs, set a time, open and print the pack.

Uses the station, Chromium and private CUPS fixtures of test_browser.py (it
skips the same way when Chromium or Playwright is missing).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import normalised_page_texts
from docs_screenshots import screenshot
from private_cups import Cups
from test_browser import (  # noqa: F401 - fixtures used by name
    TIMEOUT_MS,
    Page,
    browser,
    expect,
    printing_server,
    station_page,
)

pytestmark = pytest.mark.browser


def test_add_two_drugs_set_a_time_open_and_print_the_pack(
    station_page: Page,  # noqa: F811 - the fixture imported above
    cups: Cups,
) -> None:
    page = station_page
    for slug, title in (("ibuprofen", "Ibuprofen"), ("alendronate", "Alendronate")):
        page.goto(f"/drug/{slug}")
        add = page.locator("#add-to-pack")
        expect(add).to_have_text("Add to My medicines")
        add.click()
        expect(add).to_have_text("In My medicines ✓")
        expect(page.locator("#pack-count")).to_contain_text("(")
        assert title in page.locator("h1").inner_text()
    # Without accounts the list is the station's one (loopback) user's.
    stored = json.loads(page.evaluate("localStorage.getItem('medpdf.my-medicines:')"))
    assert [m["slug"] for m in stored["list"]] == ["ibuprofen", "alendronate"]

    page.goto("/pack")
    rows = page.locator("#pack-list li")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Ibuprofen")
    rows.nth(0).locator('input[data-time="morning"]').check()
    rows.nth(0).locator('input[data-time="bedtime"]').check()
    rows.nth(1).locator(".pack-note").fill("after food")
    # The preview is page 1 of the pack, with the note just typed.
    preview = page.frame_locator("#pack-preview")
    expect(preview.locator("body")).to_contain_text("after food")
    screenshot(page, "pack")

    page.reload()  # the list, times and notes are kept in the browser
    expect(rows.nth(0).locator('input[data-time="bedtime"]')).to_be_checked()
    expect(rows.nth(1).locator(".pack-note")).to_have_value("after food")

    with page.context.expect_event(
        "request", lambda r: "/pack.pdf" in r.url, timeout=TIMEOUT_MS
    ) as asked:
        page.locator("#open-pack").click()
    url = asked.value.url
    query = parse_qs(urlsplit(url).query)
    assert query["m"] == ["ibuprofen", "alendronate"]
    assert query["take"] == ["ibuprofen=morning,bedtime"]
    response = page.request.get(url, timeout=TIMEOUT_MS)
    assert response.status == 200, response.text()[:500]
    pages = normalised_page_texts(response.body())
    assert "My medicines" in pages[0] and "after food" in pages[0]
    assert "Ibuprofen treats an imaginary condition." in " ".join(pages[1:])
    assert "Alendronate treats an imaginary condition." in " ".join(pages[1:])

    page.locator("#pack-print select#printer").select_option(cups.printer)
    page.locator("#pack-print button[type=submit]").click()
    page.wait_for_url(re.compile(r"/pack\?sent="))
    notice = page.locator("#sent")
    expect(notice).to_contain_text(f"Sent 1 copy of the pack to {cups.printer}")
    job = re.search(r"\(job (\S+)\)", notice.inner_text())
    assert job, notice.inner_text()
    pdf, _ = cups.wait_for_pdf(job.group(1))
    printed = normalised_page_texts(pdf)
    assert "My medicines" in printed[0] and "after food" in printed[0]
    assert len(printed) == len(pages)
