"""A build killed at any moment, and two builds at once, never damage ``output/``."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MINIMAL, write_monograph
from pypdf import PdfReader

NAMES = [f"{prefix}{suffix}" for prefix in ("Alva", "Brio", "Cento") for suffix in "nrs"]
FILLER = "Extra text so that this handout takes a little time to lay out. " * 40


def write_collection(content: Path, version: str) -> None:
    for name in NAMES:
        text = MINIMAL.format(title=name).replace(
            "### Dosage\n", f"### Dosage\nEdition {version}.\n\n{FILLER}\n\n{FILLER}\n\n"
        )
        write_monograph(content, name.lower(), text)


def medpdf(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "medpdf", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def pdf_texts(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(path, strict=True).pages]


def every_pdf(output: Path) -> list[Path]:
    return sorted(p for p in output.rglob("*.pdf"))


def edition(path: Path) -> str:
    text = "\n".join(pdf_texts(path))
    found = {v for v in ("v1", "v2") if f"Edition {v}." in text}
    assert len(found) == 1, (path, found)
    return found.pop()


def test_sigkill_at_a_random_moment_leaves_only_complete_pdfs(tmp_path: Path):
    content = tmp_path / "content"
    write_collection(content, "v1")
    started = time.monotonic()
    first = medpdf(tmp_path, "build", "--jobs", "2")
    assert first.wait(timeout=600) == 0, first.stderr.read() if first.stderr else ""
    full_build = time.monotonic() - started
    before = {p: p.read_bytes() for p in every_pdf(tmp_path / "output")}
    assert len([p for p in before if p.parent.name == "handouts"]) == len(NAMES)

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    for attempt in range(2):
        write_collection(content, "v2" if attempt == 0 else "v1")
        victim = medpdf(tmp_path, "build", "--jobs", "2")
        moment = rng.uniform(0.3, max(0.6, full_build * 0.9))
        time.sleep(moment)
        victim.kill()
        victim.wait()
        time.sleep(0.5)  # workers follow their parent (PR_SET_PDEATHSIG)

        context = f"seed {seed}, attempt {attempt}, killed after {moment:.2f} s"
        for path in every_pdf(tmp_path / "output"):
            assert PdfReader(path, strict=True).pages, context  # complete and readable
        for path in before:
            if path.parent.name == "handouts":
                assert edition(path) in {"v1", "v2"}, context
        leftovers = [
            p
            for p in (tmp_path / "output").rglob("*")
            if p.is_file() and p.suffix != ".pdf" and not p.name.endswith(".medpdf-tmp")
        ]
        # Only the cache database, its journal and the lock file besides PDFs and temps.
        assert {p.name for p in leftovers} <= {
            "medpdf.sqlite3",
            "medpdf.sqlite3-wal",
            "medpdf.sqlite3-shm",
            ".medpdf.lock",
        }, context

    # The next build finishes the job from whatever the cache says, and matches a clean build.
    after = medpdf(tmp_path, "build", "--jobs", "2")
    assert after.wait(timeout=600) == 0, after.stderr.read() if after.stderr else ""
    assert not list((tmp_path / "output").rglob("*.medpdf-tmp"))
    clean_root = tmp_path / "clean"
    clean_root.mkdir()
    (clean_root / "content").symlink_to(content)
    clean = medpdf(clean_root, "build", "--jobs", "2")
    assert clean.wait(timeout=600) == 0
    for name in NAMES:
        relative = Path("output/handouts") / f"{name.lower()}.pdf"
        assert edition(tmp_path / relative) == "v1"
        assert pdf_texts(tmp_path / relative) == pdf_texts(clean_root / relative)
    assert pdf_texts(tmp_path / "output/booklet.pdf") == pdf_texts(
        clean_root / "output/booklet.pdf"
    )


def test_two_builds_at_once_one_is_refused(tmp_path: Path):
    write_collection(tmp_path / "content", "v1")
    one = medpdf(tmp_path, "build", "--jobs", "1")
    deadline = time.monotonic() + 60
    while not (tmp_path / "output" / ".cache" / "medpdf.sqlite3").exists():  # lock is held
        assert time.monotonic() < deadline and one.poll() is None
        time.sleep(0.05)
    two = medpdf(tmp_path, "build", "--jobs", "1")
    out_two = two.communicate(timeout=600)
    out_one = one.communicate(timeout=600)
    assert one.returncode == 0, out_one[1]
    assert two.returncode == 1
    assert out_two[1].strip() == (
        "medpdf: error: another medpdf build is writing to output; try again when it has finished"
    )
    for path in every_pdf(tmp_path / "output"):
        assert PdfReader(path, strict=True).pages


@pytest.mark.parametrize("command", ["handouts", "booklet"])
def test_lock_is_released_after_a_build(tmp_path: Path, command: str):
    write_monograph(tmp_path / "content", "alvan", MINIMAL.format(title="Alvan"))
    for _ in range(2):
        run = medpdf(tmp_path, command, "--jobs", "1")
        assert run.wait(timeout=300) == 0, run.stderr.read() if run.stderr else ""
