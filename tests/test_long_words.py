"""A long unbroken string (a URL, a chemical name) breaks instead of running off the page."""

from __future__ import annotations

from pathlib import Path

import pdfplumber
from conftest import MINIMAL, invoke_cli, write_monograph

LONG = "Polyoxyethylene" * 20  # 300 letters, no space or hyphen to break at


def test_a_long_word_stays_inside_the_page(tmp_path: Path) -> None:
    text = MINIMAL.format(title="Longword").replace("Avoid alcohol.", f"Avoid {LONG} here.")
    write_monograph(tmp_path / "content", "longword", text)
    out = tmp_path / "longword.pdf"
    result = invoke_cli(
        "handout", "longword", "--content", str(tmp_path / "content"), "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    with pdfplumber.open(out) as doc:
        pieces = []
        for page in doc.pages:
            for word in page.extract_words():
                assert word["x0"] >= 0 and word["x1"] <= page.width, word["text"][:40]
                if "Polyoxyethylene" in word["text"]:
                    pieces.append(word["text"])
    joined = "".join(pieces)
    assert LONG in joined.replace("Avoid", "").replace("here.", "")
    assert len(pieces) > 1  # it was broken over several lines
