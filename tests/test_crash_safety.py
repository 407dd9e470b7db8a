"""A build killed at any moment, and two builds at once, never damage ``output/``."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MINIMAL, normalised_page_texts, write_monograph
from pypdf import PdfReader
from waiting import PATIENCE, wait_until

pytestmark = pytest.mark.slow

NAMES = [f"{prefix}{suffix}" for prefix in ("Alva", "Brio", "Cento") for suffix in "nrs"]
FILLER = "Extra text so that this handout takes a little time to lay out. " * 40


def write_collection(content: Path, version: str) -> None:
    for name in NAMES:
        text = MINIMAL.format(title=name).replace(
            "### Dosage\n", f"### Dosage\nEdition {version}.\n\n{FILLER}\n\n{FILLER}\n\n"
        )
        write_monograph(content, name.lower(), text)


def medpdf(cwd: Path, *args: str) -> subprocess.Popen[str]:
    """``medpdf ARGS`` in its own session, so its process group is its own and its workers'."""
    return subprocess.Popen(
        [sys.executable, "-m", "medpdf", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def group_members(pgid: int) -> list[str]:
    """``pid state command`` of every process left in the group, zombies included."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        state, _, group = rest.split()[:3]
        if int(group) == pgid:
            found.append(f"{stat.parent.name} {state} {name}")
    return found


def live_members(pgid: int) -> list[str]:
    """The group's processes that still run (a zombie no longer writes anything)."""
    return [m for m in group_members(pgid) if m.split()[1] != "Z"]


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def every_pdf(output: Path) -> list[Path]:
    return sorted(p for p in output.rglob("*.pdf"))


def edition(path: Path) -> str:
    text = " ".join(normalised_page_texts(path))
    found = {v for v in ("v1", "v2") if f"Edition {v}." in text}
    assert len(found) == 1, (path, found)
    return found.pop()


def test_sigkill_at_a_random_moment_leaves_only_complete_pdfs(tmp_path: Path):
    content = tmp_path / "content"
    write_collection(content, "v1")
    started = time.monotonic()
    first = medpdf(tmp_path, "build", "--jobs", "2")
    assert first.wait(timeout=PATIENCE) == 0, first.stderr.read() if first.stderr else ""
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

        context = f"seed {seed}, attempt {attempt}, killed after {moment:.2f} s"
        # Workers follow their parent (PR_SET_PDEATHSIG) before anything is looked at.
        wait_until(
            lambda pgid=victim.pid: not live_members(pgid),
            f"the killed build's workers have exited ({context})",
            gave_up=lambda pgid=victim.pid: str(live_members(pgid)),
        )
        for path in every_pdf(tmp_path / "output"):
            assert PdfReader(path, strict=True).pages, context  # complete and readable
        for path in before:
            if path.parent.name == "handouts":
                assert edition(path) in {"v1", "v2"}, context
        # The booklet writer's kept surveys, fonts and segments are whole files too.
        kept = {".json", ".ttf", ".segment"}
        for path in (tmp_path / "output").rglob("*.json"):
            json.loads(path.read_bytes())
        leftovers = [
            p
            for p in (tmp_path / "output").rglob("*")
            if p.is_file()
            and p.suffix != ".pdf"
            and not p.name.endswith(".medpdf-tmp")
            and not (p.parent.name == "blobs" and p.suffix in kept)
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
    assert after.wait(timeout=PATIENCE) == 0, after.stderr.read() if after.stderr else ""
    assert not list((tmp_path / "output").rglob("*.medpdf-tmp"))
    clean_root = tmp_path / "clean"
    clean_root.mkdir()
    (clean_root / "content").symlink_to(content)
    clean = medpdf(clean_root, "build", "--jobs", "2")
    assert clean.wait(timeout=PATIENCE) == 0
    for name in NAMES:
        relative = Path("output/handouts") / f"{name.lower()}.pdf"
        assert edition(tmp_path / relative) == "v1"
        assert normalised_page_texts(tmp_path / relative) == normalised_page_texts(
            clean_root / relative
        )
    assert normalised_page_texts(tmp_path / "output/booklet.pdf") == normalised_page_texts(
        clean_root / "output/booklet.pdf"
    )


def test_two_builds_at_once_one_is_refused(tmp_path: Path):
    write_collection(tmp_path / "content", "v1")
    one = medpdf(tmp_path, "build", "--jobs", "1")

    def holds_the_lock() -> bool:
        assert one.poll() is None, one.communicate()
        return (tmp_path / "output" / ".cache" / "medpdf.sqlite3").exists()

    wait_until(holds_the_lock, "the first build holds the output folder")
    two = medpdf(tmp_path, "build", "--jobs", "1")
    out_two = two.communicate(timeout=PATIENCE)
    out_one = one.communicate(timeout=PATIENCE)
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
        assert run.wait(timeout=PATIENCE) == 0, run.stderr.read() if run.stderr else ""


@pytest.mark.parametrize(
    "command", [("handout", "alvan"), ("handouts", "--jobs", "2")], ids=lambda c: c[0]
)
def test_one_shot_commands_leave_no_process_behind(tmp_path: Path, command: tuple[str, ...]):
    """Once the command has exited nothing of its process group is left, so a
    supervisor waiting on the group (systemd, a CI runner) returns at once."""
    for name in ("Alvan", "Brion"):
        write_monograph(tmp_path / "content", name.lower(), MINIMAL.format(title=name))
    outputs = []
    for _ in range(2):  # a fresh render, then today's output reused
        run = medpdf(tmp_path, *command)
        out, err = run.communicate(timeout=PATIENCE)
        assert run.returncode == 0, err
        assert "Traceback" not in err
        outputs.append(out)
        pgid = run.pid  # its own session: the command leads its own process group
        wait_until(
            lambda pgid=pgid: group_gone(pgid),
            f"nothing left behind by {' '.join(command)}",
            gave_up=lambda pgid=pgid: str(group_members(pgid)),
        )
    assert (tmp_path / "output" / "handouts" / "alvan.pdf").is_file()
    if command[0] == "handout":
        target = Path("output/handouts/alvan.pdf")
        assert re.fullmatch(rf"wrote {re.escape(str(target))} \(\d+ pages\)\n", outputs[0])
        assert re.fullmatch(
            rf"wrote {re.escape(str(target))} \(\d+ pages, unchanged\)\n", outputs[1]
        )
