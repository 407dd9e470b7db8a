"""The record of what was handed out: history, reprint, the archive, crashes, damage.

Most tests write through the public API (``Record.keep``, what packs call) with
small PDFs made by pikepdf, and read back through ``medpdf history`` and
``medpdf reprint``. ``medpdf print`` goes through the fake ``lp`` of
test_printing (and, in test_record_station.py, the private CUPS); a kill
during a print uses an ``lp`` that hangs until the test kills it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import pytest
from conftest import MINIMAL, invoke_cli, normalised_text, write_monograph
from test_printing import DRUG, SENTENCE, FakeCups, fake_cups, project  # noqa: F401
from waiting import PATIENCE, wait_until

from medpdf import record
from medpdf.errors import RecordError, UsageError
from medpdf.record.archive import Archive
from medpdf.record.store import Record
from medpdf.settings import config

ZEN = record.Drug("zentorex", "Zentorex", "0123456789ab")
OTHER = record.Drug("alphablockin", "Alphablockin", "ba9876543210")
CHOSEN = (("paper", "a4"), ("large_print", "0"), ("patient_fields", "0"), ("lang", "en"))
TODAY = dt.date(2026, 12, 1)


def small_pdf(label: str, pages: int = 1) -> bytes:
    """A valid PDF whose bytes differ per label (and per call)."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    pdf.docinfo["/Title"] = label
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)  # a random /ID: call once per PDF wanted
    return out.getvalue()


def kept_files(folder: Path) -> list[Path]:
    return sorted((folder / "pdf").glob("*/*"))


def assert_consistent(folder: Path) -> None:
    """Every record has its PDF, intact; every kept file belongs to a record."""
    kept = Record(folder)
    entries = kept.entries()
    for entry in entries:
        assert hashlib.sha256(kept.pdf_of(entry)).hexdigest() == entry.pdf
    wanted = {kept.pdf_path(entry.pdf) for entry in entries}
    assert set(kept_files(folder)) == wanted


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "record"


# --------------------------------------------------------------------------- archive


def test_many_hand_outs_of_one_pdf_keep_one_file(folder: Path):
    kept = Record.open(folder)
    data = small_pdf("one edition")
    numbers = [
        kept.keep(data, [ZEN], CHOSEN, action=record.OPENED, via="station", day=TODAY).id
        for _ in range(250)
    ]
    assert numbers == list(range(1, 251))
    files = kept_files(folder)
    assert [f.name for f in files] == [f"{hashlib.sha256(data).hexdigest()}.pdf"]
    assert files[0].read_bytes() == data
    assert len(kept.entries(name="zentorex")) == 250
    assert kept.entries(name="alpha") == []


def test_history_lines_start_with_the_id_and_filter_by_name_and_date(
    folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    kept = Record.open(folder)
    kept.keep(small_pdf("a"), [ZEN], CHOSEN, action=record.OPENED, via="station", day=TODAY)
    kept.keep(
        small_pdf("b", pages=2),
        [OTHER, ZEN],
        (("paper", "letter"), ("large_print", "1")),
        action=record.PRINTED,
        via="cli",
        day=TODAY + dt.timedelta(days=2),
        printer="Front-Desk",
        job="Front-Desk-12",
        copies=2,
    )
    (tmp_path / "medpdf.toml").write_text(f'[record]\nfolder = "{folder}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    every = invoke_cli("history")
    assert every.exit_code == 0, every.output
    lines = every.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2"]
    assert "opened  Zentorex [0123456789ab]  A4  opened in a browser  via station" in lines[0]
    assert (
        "printed  Alphablockin [ba9876543210] + Zentorex [0123456789ab]  Letter, large print  "
        "Front-Desk job Front-Desk-12, 2 copies  via cli" in lines[1]
    )
    assert invoke_cli("history", "ALPHA").stdout.splitlines() == [lines[1]]
    assert invoke_cli("history", "--since", "2026-12-02").stdout.splitlines() == [lines[1]]
    assert invoke_cli("history", "nothing-like-it").stdout == ""

    objects = [json.loads(line) for line in invoke_cli("history", "--json").stdout.splitlines()]
    assert [o["id"] for o in objects] == [1, 2]
    second = objects[1]
    assert second["drugs"] == [
        {"slug": "alphablockin", "title": "Alphablockin", "edition": "ba9876543210"},
        {"slug": "zentorex", "title": "Zentorex", "edition": "0123456789ab"},
    ]
    assert (second["printer"], second["job"], second["copies"]) == (
        "Front-Desk",
        "Front-Desk-12",
        2,
    )
    assert second["options"] == {"large_print": "1", "paper": "letter"}
    assert second["day"] == "2026-12-03" and second["pages"] == 2 and second["user"] is None

    bad = invoke_cli("history", "--since", "yesterday")
    assert bad.exit_code == 2
    assert bad.stderr == "medpdf: error: --since must be a date like 2026-12-01, not 'yesterday'\n"


def test_history_of_a_clinic_that_never_printed_is_empty_and_creates_nothing(
    project: Path,  # noqa: F811
):
    result = invoke_cli("history")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert not (project / "output").exists()


@pytest.mark.parametrize("number", ["1", "9223372036854775808", "99999999999999999999"])
def test_reprint_of_a_record_that_is_not_there_is_one_line_and_creates_nothing(
    project: Path,  # noqa: F811
    number: str,
):
    result = invoke_cli("reprint", number, "-o", "x.pdf")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"medpdf: error: no record {number} in ")
    assert result.stderr.count("\n") == 1
    assert not (project / "output").exists() and not (project / "x.pdf").exists()


def test_an_id_beyond_64_bits_is_no_record_in_an_existing_record(folder: Path):
    kept = Record.open(folder)
    kept.keep(small_pdf("one"), [ZEN], CHOSEN, action=record.OPENED, via="x", day=TODAY)
    for number in (0, -1, 2**63, 10**20):
        with pytest.raises(UsageError, match=f"no record {number} in "):
            kept.entry(number)
    assert kept.entry(1).id == 1


def test_pruning_never_removes_an_edition_a_kept_record_points_to(folder: Path):
    kept = Record.open(folder)
    shared, alone = small_pdf("shared edition"), small_pdf("old edition only")
    old_day, new_day = TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(days=2)
    keep = {"action": record.OPENED, "via": "station"}
    kept.keep(shared, [ZEN], CHOSEN, day=old_day, **keep)  # 1: old, same PDF as 3
    kept.keep(alone, [OTHER], CHOSEN, day=old_day, **keep)  # 2: old, its own PDF
    kept.keep(shared, [ZEN], CHOSEN, day=new_day, **keep)  # 3: kept

    again = Record.open(folder, keep_days=30, today=TODAY)
    assert [e.id for e in again.entries()] == [3]
    assert again.pdf_of(again.entry(3)) == shared
    assert kept_files(folder) == [again.pdf_path(hashlib.sha256(shared).hexdigest())]
    assert_consistent(folder)


def test_keep_days_comes_from_medpdf_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "medpdf.toml").write_text("[record]\nkeep_days = 0\n", encoding="utf-8")
    bad = invoke_cli("history")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("medpdf: error: medpdf.toml:2: record.keep_days: ")
    (tmp_path / "medpdf.toml").write_text("[record]\nkeep_days = 30\n", encoding="utf-8")
    settings = config.load()
    old = TODAY - dt.timedelta(days=31)
    Record.open(record.folder_of(settings)).keep(
        small_pdf("x"), [ZEN], CHOSEN, action=record.OPENED, via="station", day=old
    )
    assert record.folder_of(settings) == Path("output/record")
    kept = record.open_for(dataclasses.replace(settings, printed=TODAY))
    assert kept.entries() == []
    assert kept_files(kept.folder) == []


# --------------------------------------------------------------------------- print and reprint


def footer_version(data: bytes) -> str:
    text = normalised_text(data)
    return text.split("Version ", 1)[1].split()[0]


def test_a_print_is_recorded_and_reprinted_exactly_after_the_monograph_changed(
    fake_cups: FakeCups,  # noqa: F811
    project: Path,  # noqa: F811
):
    printed = invoke_cli("print", DRUG.lower(), "--copies", "3", "--paper", "letter")
    assert printed.exit_code == 0, printed.output
    submitted = (fake_cups.answers / "submitted.pdf").read_bytes()
    source = project / "content" / "zentorex.md"
    edition = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    assert footer_version(submitted) == edition

    (entry,) = [json.loads(line) for line in invoke_cli("history", "--json").stdout.splitlines()]
    assert entry["drugs"] == [{"slug": "zentorex", "title": DRUG, "edition": edition}]
    assert (entry["action"], entry["via"], entry["printer"], entry["job"], entry["copies"]) == (
        "printed",
        "cli",
        "Office",
        "Office-7",
        3,
    )
    assert entry["options"]["paper"] == "letter" and entry["options"]["patient_fields"] == "0"
    assert entry["pdf_sha256"] == hashlib.sha256(submitted).hexdigest()

    # The monograph changes; the record still gives the edition the patient got.
    source.write_text(MINIMAL.format(title=DRUG).replace(SENTENCE, "A new text."), "utf-8")
    again = invoke_cli("reprint", "1", "-o", "again.pdf")
    assert again.exit_code == 0, again.output
    pages = entry["pages"]
    assert again.stdout == f"wrote again.pdf ({pages} pages) from record 1\nrecorded as 2\n"
    assert (project / "again.pdf").read_bytes() == submitted
    assert SENTENCE in normalised_text(submitted)

    fake_cups.answer("lp", "request id is Lab-9 (1 file(s))\n")
    sent = invoke_cli("reprint", "1", "--printer", "Lab", "--copies", "2")
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.splitlines()[0].endswith("to Lab as job Lab-9")
    assert (fake_cups.answers / "submitted.pdf").read_bytes() == submitted
    assert fake_cups.lp_args is not None and "media=Letter" in fake_cups.lp_args
    lines = invoke_cli("history").stdout.splitlines()
    assert len(lines) == 3
    assert "written to a file (reprint of 1)" in lines[1]
    assert "Lab job Lab-9, 2 copies (reprint of 1)" in lines[2]
    assert len(kept_files(project / "output" / "record")) == 1

    missing = invoke_cli("reprint", "99", "-o", "x.pdf")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("medpdf: error: no record 99 in ")


def test_a_job_cups_refuses_leaves_no_record(
    fake_cups: FakeCups,  # noqa: F811
    project: Path,  # noqa: F811
):
    fake_cups.answer("lp", err="lp: Bad copies value 9.\n", rc=1)
    result = invoke_cli("print", DRUG.lower())
    assert result.exit_code == 1
    assert invoke_cli("history").stdout == ""
    assert kept_files(project / "output" / "record") == []


@pytest.mark.parametrize(
    ("out", "rc", "sleep", "said"),
    [
        # lp queued the job, then failed (a lost answer from the scheduler).
        (
            "request id is Office-7 (1 file(s))\n",
            1,
            None,
            "lp failed after printer 'Office' queued the job as Office-7",
        ),
        # lp said nothing of a job id, yet exited 0.
        ("", 0, None, "lp gave no job id for printer 'Office'"),
        # lp uploaded the PDF and then got no answer in time.
        ("", 0, "60", "lp did not finish within 0.5 s; printer 'Office' may have queued"),
    ],
)
def test_a_print_lp_did_not_confirm_keeps_its_record_marked_not_confirmed(
    fake_cups: FakeCups,  # noqa: F811
    project: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    out: str,
    rc: int,
    sleep: str | None,
    said: str,
):
    from medpdf import printing

    monkeypatch.setattr(printing, "LP_TIMEOUT", 0.5)
    fake_cups.answer("lp", out, "lp: Broken pipe\n" if rc else "", rc)
    if sleep is not None:
        (fake_cups.answers / "lp.sleep").write_text(sleep)
    result = invoke_cli("print", DRUG.lower())
    assert result.exit_code == 1
    assert result.stderr.startswith(f"medpdf: error: {said}")
    assert "check the queue (lpstat -o Office) before printing again" in result.stderr
    (line,) = invoke_cli("history").stdout.splitlines()
    assert " printed " in line and "Office job unknown (not confirmed by CUPS)" in line
    (entry,) = [json.loads(text) for text in invoke_cli("history", "--json").stdout.splitlines()]
    assert entry["job"] is None and entry["printer"] == "Office"
    assert len(kept_files(project / "output" / "record")) == 1


# --------------------------------------------------------------------------- crashes


def test_what_a_killed_writer_leaves_is_cleaned_by_the_next_run(folder: Path):
    kept = Record.open(folder)
    data = small_pdf("good")
    good = kept.keep(data, [ZEN], CHOSEN, action=record.OPENED, via="x", day=TODAY)
    # Killed after the rename, before the commit: a PDF no record points to.
    orphan = kept.pdf_path(hashlib.sha256(b"orphan").hexdigest())
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(small_pdf("orphan"))
    # Killed while writing: a temporary file of a process that is gone.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    temp = orphan.parent / f".{dead.stdout.strip()}.abcd1234.medpdf-tmp"
    temp.write_bytes(b"%PDF-1.7 half")
    # A live writer's temporary file is left alone.
    live = orphan.parent / f".{os.getpid()}.efgh5678.medpdf-tmp"
    live.write_bytes(b"%PDF-1.7 still writing")

    # Without a sign of a killed writer, opening the record does not walk the archive.
    walked: list[int] = []
    original = Archive.keep_only
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Archive, "keep_only", lambda self, w: walked.append(1) or original(self, w))
        Record.open(folder)
        assert walked == [] and orphan.exists()
        # A killed writer leaves its marker: the next open sweeps, once.
        marker = folder / "pdf" / f".writing.{dead.stdout.strip()}.0a1b2c3d"
        marker.touch()
        Record.open(folder)
        assert walked == [1] and not marker.exists()
        Record.open(folder)
        assert walked == [1]
    assert not orphan.exists() and not temp.exists() and live.exists()
    assert Record(folder).pdf_of(good) == data
    live.unlink()
    assert_consistent(folder)


WRITER = """
import sys, io, os, datetime as dt, pikepdf
from pathlib import Path
from medpdf import record
from medpdf.record.store import Record
kept = Record.open(Path(sys.argv[1]))
for n in range(10**6):
    pdf = pikepdf.new(); pdf.add_blank_page(); pdf.docinfo["/Title"] = f"{sys.argv[2]}-{n}"
    pdf.Root["/Padding"] = pdf.make_stream(os.urandom(400_000))
    out = io.BytesIO(); pdf.save(out)
    kept.keep(out.getvalue(), [record.Drug("zentorex", "Zentorex", "0123456789ab")], (),
              action=record.WRITTEN, via="pack", day=dt.date(2026, 12, 1))
    print(n, flush=True)
"""


def test_sigkill_in_the_middle_of_writing_leaves_record_and_archive_consistent(folder: Path):
    Record.open(folder)
    for round_number, after in enumerate((2, 5, 9)):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), str(round_number)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        for _ in range(after):  # wait until it has committed a few, then kill it mid-stride
            assert writer.stdout.readline(), "the writer stopped by itself"
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        # Straight after the kill: no record lacks its PDF (extra files may wait for a sweep).
        kept = Record(folder)
        for entry in kept.entries():
            assert hashlib.sha256(kept.pdf_of(entry)).hexdigest() == entry.pdf
        Record.open(folder)  # the next run
        assert_consistent(folder)
        assert not list((folder / "pdf").glob("*/.*"))
    assert len(Record(folder).entries()) >= 2 + 5 + 9


HANGING_LP = """#!/bin/sh
echo $$ > "$(dirname "$0")/answers/lp.pid"
exec sleep 3600
"""


def test_sigkill_during_a_print_keeps_its_record_and_pdf(
    fake_cups: FakeCups,  # noqa: F811
    project: Path,  # noqa: F811
):
    (fake_cups.bin / "lp").write_text(HANGING_LP, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    printing = subprocess.Popen(
        [sys.executable, "-m", "medpdf", "print", DRUG.lower()], cwd=project, env=env
    )
    pid_file = fake_cups.answers / "lp.pid"
    try:

        def lp_called() -> bool:
            assert printing.poll() is None, "medpdf print ended before lp was called"
            return pid_file.exists() and bool(pid_file.read_text().strip())

        wait_until(lp_called, "medpdf print called lp")
        printing.send_signal(signal.SIGKILL)  # while lp has the job
        printing.wait()
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    lines = invoke_cli("history").stdout.splitlines()
    assert len(lines) == 1
    assert "printed  Zentorex [" in lines[0]
    assert "Office job unknown (not confirmed by CUPS)" in lines[0]
    assert invoke_cli("reprint", "1", "-o", "kept.pdf").exit_code == 0
    assert SENTENCE in normalised_text(project / "kept.pdf")
    Record.open(project / "output" / "record")
    assert_consistent(project / "output" / "record")


# --------------------------------------------------------------------------- damage


def damaged_pages(folder: Path) -> Path:
    """A real record whose file SQLite finds malformed (a table page overwritten)."""
    kept = Record.open(folder)
    for _ in range(60):
        kept.keep(small_pdf("d"), [ZEN], CHOSEN, action=record.OPENED, via="x", day=TODAY)
    database = kept.database
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = db.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(database.read_bytes())
    data[2 * page : 3 * page] = b"\xa5" * page
    database.write_bytes(bytes(data))
    return database


@pytest.mark.parametrize("damage", ["not a database", "malformed pages"])
def test_a_damaged_database_is_reported_in_one_line_and_left_alone(
    fake_cups: FakeCups,  # noqa: F811
    project: Path,  # noqa: F811
    damage: str,
):
    folder = project / "output" / "record"
    if damage == "not a database":
        folder.mkdir(parents=True)
        database = folder / "record.sqlite"
        database.write_bytes(b"these are not the records you are looking for\n" * 200)
    else:
        database = damaged_pages(folder)
    before = database.read_bytes()

    for args in (["history"], ["print", DRUG.lower()], ["reprint", "1", "-o", "x.pdf"]):
        result = invoke_cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        shown = database.relative_to(project)
        assert lines[0].startswith(f"medpdf: error: the record database {shown} is damaged (")
        assert lines[0].endswith(
            "it was left as it is: restore it from a backup, or move it aside to start a new record"
        )
    assert fake_cups.lp_args is None  # nothing was printed without its record
    served = invoke_cli("serve", "--port", "0")
    assert served.exit_code == 1 and "is damaged" in served.stderr
    assert database.read_bytes() == before


def test_the_api_refuses_what_is_not_a_pdf(folder: Path):
    kept = Record.open(folder)
    with pytest.raises(ValueError, match="not a PDF"):
        kept.keep(b"hello", [ZEN], CHOSEN, action=record.OPENED, via="x", day=TODAY)
    with pytest.raises(RecordError, match="missing"):
        entry = kept.keep(small_pdf("z"), [ZEN], CHOSEN, action=record.OPENED, via="x", day=TODAY)
        kept.pdf_path(entry.pdf).unlink()
        kept.pdf_of(entry)


# --------------------------------------------------------------------------- archival PDFs


def test_handouts_are_archival_pdf_a_2a_and_accessible_pdf_ua_1(
    project: Path,  # noqa: F811
):
    for name in ("one.pdf", "two.pdf"):
        made = invoke_cli("handout", DRUG.lower(), "-o", name)
        assert made.exit_code == 0, made.output
    data = (project / "one.pdf").read_bytes()
    # Deterministic, so that a day's hand-outs of one edition share one kept file.
    assert (project / "two.pdf").read_bytes() == data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.pdf_version == "1.7"
        meta = pdf.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("2", "A")
        assert meta.get("pdfuaid:part") == "1"
        assert meta.get("dc:title") == f"{DRUG} \u2013 patient information"
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1"
        assert str(intent.OutputConditionIdentifier).endswith("sRGB")
        assert intent.DestOutputProfile.N == 3  # an RGB ICC profile is embedded
        assert "/StructTreeRoot" in pdf.Root and bool(pdf.Root.MarkInfo.Marked)
        assert str(pdf.Root.Lang) == "en"
        assert len(pdf.trailer.ID) == 2
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})


# --------------------------------------------------------------------------- reading


def many_records(folder: Path, count: int) -> None:
    """``count`` records of one kept PDF, copied in SQL (a year of a busy clinic, fast)."""
    kept = Record.open(folder)
    kept.keep(small_pdf("many"), [ZEN], CHOSEN, action=record.OPENED, via="x", day=TODAY)
    db = sqlite3.connect(folder / "record.sqlite", isolation_level=None)
    try:
        while db.execute("SELECT count(*) FROM records").fetchone()[0] < count:
            db.execute(
                "INSERT INTO records (at, day, action, via, options, pdf, pages) "
                "SELECT at, day, action, via, options, pdf, pages FROM records"
            )
        db.execute(
            "INSERT INTO record_drugs SELECT id, 0, 'zentorex', 'Zentorex', '0123456789ab' "
            "FROM records WHERE id > 1"
        )
    finally:
        db.close()


def test_history_piped_into_head_ends_quietly(project: Path):  # noqa: F811
    many_records(project / "output" / "record", 4096)  # far more than a pipe holds
    history = subprocess.Popen(
        [sys.executable, "-m", "medpdf", "history"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert history.stdout is not None and history.stderr is not None
    first = history.stdout.readline()
    history.stdout.close()  # as `head -1` does once it has its line
    assert history.wait(timeout=PATIENCE) == 0
    assert first.startswith(b"1  ")
    assert history.stderr.read() == b""


def namespace_run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``script`` (sh) in a private mount namespace: its mounts vanish with it."""
    unshare = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "-r", "--mount"]
    probe = subprocess.run([*unshare, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [*unshare, "sh", "-ec", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        env=env,
        check=False,
    )


def test_history_reads_a_read_only_copy_of_the_record(tmp_path: Path):
    folder = tmp_path / "record"
    many_records(folder, 3)
    # A copy taken while a writer still had commits in the WAL, not yet in the database.
    holder = sqlite3.connect(folder / "record.sqlite")
    holder.execute("SELECT count(*) FROM records").fetchone()  # holds the database open
    Record(folder).keep(
        small_pdf("late"), [OTHER], CHOSEN, action=record.OPENED, via="x", day=TODAY
    )
    with_wal = tmp_path / "with-wal"
    with_wal.mkdir()
    for name in ("record.sqlite", "record.sqlite-wal"):
        (with_wal / name).write_bytes((folder / name).read_bytes())
    holder.close()
    assert not (folder / "record.sqlite-wal").exists()  # a clean copy has no WAL left
    python = sys.executable
    script = f"""
for copy in {folder} {with_wal}; do
  mount --bind "$copy" "$copy"; mount -o remount,bind,ro "$copy" "$copy"
  printf '[record]\\nfolder = "%s"\\n' "$copy" > "$copy.toml"
  {python} -m medpdf history --config "$copy.toml" > "$copy.txt"
done
"""
    done = namespace_run(script, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    records = len(Record(folder).entries())
    clean = (tmp_path / "record.txt").read_text().splitlines()
    assert len(clean) == records and "Alphablockin" in clean[-1]
    late = (tmp_path / "with-wal.txt").read_text().splitlines()
    assert late == clean
    # Reading created nothing, in either copy.
    assert sorted(p.name for p in with_wal.iterdir()) == ["record.sqlite", "record.sqlite-wal"]


WRITE_ONE = """
import datetime as dt, sys
from pathlib import Path
from medpdf import record
from medpdf.errors import RecordError
from medpdf.record.store import Record
try:
    Record.open(Path("output/record")).keep(
        Path(sys.argv[1]).read_bytes(), [record.Drug("zentorex", "Zentorex", "0123456789ab")],
        (), action="written", via="x", day=dt.date(2026, 12, 1))
except RecordError as exc:
    sys.exit(exc.message)
"""


def test_a_full_disk_says_disk_full_and_where(tmp_path: Path):
    work = tmp_path / "work"
    write_monograph(work / "content", DRUG.lower(), MINIMAL.format(title=DRUG))
    output = work / "output"
    output.mkdir()
    (work / "write_one.py").write_text(WRITE_ONE)
    (work / "small.pdf").write_bytes(small_pdf("small"))
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.Root["/Padding"] = pdf.make_stream(os.urandom(600_000))
    pdf.save(work / "big.pdf")
    python = sys.executable
    script = f"""
mount -t tmpfs -o size=512k tmpfs {output}
{python} write_one.py small.pdf
{python} write_one.py big.pdf 2> big.err || echo "exit $?" >> big.err
dd if=/dev/zero of={output}/filler bs=4k 2> /dev/null || true
{python} -m medpdf reprint 1 -o again.pdf 2> full.err || echo "exit $?" >> full.err
"""
    done = namespace_run(script, work)
    assert done.returncode == 0, done.stderr
    record_folder = output / "record"
    for name in ("big.err", "full.err"):
        said = (work / name).read_text()
        assert f"disk full: the record in {record_folder} cannot be written" in said, said
        assert "Errno" not in said and "disk I/O error" not in said and "Traceback" not in said
        assert said.splitlines()[-1] == "exit 1"
    assert not (work / "again.pdf").exists()  # nothing handed out without its record


def test_with_source_date_epoch_the_record_day_and_the_history_line_agree(
    fake_cups: FakeCups,  # noqa: F811
    project: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1577880000")  # 2020-01-01 12:00 UTC
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert invoke_cli("print", DRUG.lower()).exit_code == 0
        (entry,) = [json.loads(t) for t in invoke_cli("history", "--json").stdout.splitlines()]
        assert entry["day"] == "2020-01-01" and entry["at"] == "2020-01-01T12:00:00Z"
        (line,) = invoke_cli("history").stdout.splitlines()
        assert line.startswith("1  2020-01-01 12:00  printed  ")
        assert invoke_cli("history", "--since", "2020-01-01").stdout.splitlines() == [line]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
