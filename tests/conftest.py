"""Shared test helpers.

Tests that need the real collection use the ``corpus_dir`` fixture, which skips
cleanly when ``../shared/corpus`` is absent (a user's fresh clone).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MEDPDF_CORPUS", REPO.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS.is_dir() and any(CORPUS.glob("*/*.md"))):
        pytest.skip(f"real corpus not found at {CORPUS}")
    return CORPUS


def write_monograph(folder: Path, slug: str, text: str) -> Path:
    """Write a fixture monograph and return its path."""
    path = folder / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """---
layout: minimal-medicine
title: {title}
---

# {title}
### Generic Name
{title}

### Usage
{title} treats an imaginary condition.

### Dosage
One tablet daily.

### Side Effects
Drowsiness.

### How it Works
It binds to a receptor.

### Precautions
Avoid alcohol.

### FAQs
**Q: Is this real?**

A: No, it is a test fixture.

**Disclaimer:** Fixture disclaimer for {title}.
"""
