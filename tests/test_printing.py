"""`medpdf print`: render a handout and hand it to CUPS.

Two kinds of test:

- fake ``lp``/``lpstat`` scripts first on PATH answer as CUPS 2.4 does, so every
  error path (and the exact ``lp`` command line) is checked without a printer;
- a private CUPS scheduler (its own config folder, spool, logs and Unix socket in a
  temporary folder, run in the foreground as a child of the test session) with a
  cups-pdf virtual printer, so a handout really goes through CUPS and comes out as
  a PDF that is read back. The system's own CUPS is never touched.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pdfplumber
import pytest
from click.testing import Result
from conftest import MINIMAL, invoke_cli, write_monograph
from private_cups import Cups, which_tool
from waiting import PATIENCE

from medpdf import printing
from medpdf.products import handouts
from medpdf.run.contract import RunContext
from medpdf.settings import config, options

DRUG = "Zentorex"
SENTENCE = "Zentorex treats an imaginary condition."
TITLE = "Zentorex \u2013 patient handout"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with one fixture monograph; no CUPS settings leak in from outside."""
    work = tmp_path / "work"
    write_monograph(work / "content", DRUG.lower(), MINIMAL.format(title=DRUG))
    monkeypatch.chdir(work)
    for name in ("CUPS_SERVER", "LPDEST", "PRINTER"):
        monkeypatch.delenv(name, raising=False)
    return work


def error_line(result: Result) -> str:
    """The command's stderr, which must be exactly one line."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("medpdf: error: "), lines[0]
    return lines[0]


# --------------------------------------------------------------------------- fake CUPS

FAKE_LPSTAT = """#!/bin/sh
# Answers from files the test wrote: answers/lpstat<option>.{out,err,rc,sleep}.
d="$(dirname "$0")/answers"
echo "lpstat $*" >> "$d/calls"
a="$d/lpstat$1"
[ -f "$a.sleep" ] && exec sleep "$(cat "$a.sleep")"
[ -f "$a.out" ] && cat "$a.out"
[ -f "$a.err" ] && cat "$a.err" >&2
exit "$(cat "$a.rc" 2>/dev/null || echo 0)"
"""

FAKE_LP = """#!/bin/sh
# Records its arguments one per line and keeps a copy of the file it was given.
d="$(dirname "$0")/answers"
for arg in "$@"; do printf '%s\\n' "$arg"; done > "$d/lp.args"
for last in "$@"; do :; done
cp "$last" "$d/submitted.pdf"
# Uploaded, then no answer: lp.sleep holds it (exec: a kill stops the sleep itself).
[ -f "$d/lp.sleep" ] && exec sleep "$(cat "$d/lp.sleep")"
[ -f "$d/lp.out" ] && cat "$d/lp.out"
[ -f "$d/lp.err" ] && cat "$d/lp.err" >&2
exit "$(cat "$d/lp.rc" 2>/dev/null || echo 0)"
"""

# What CUPS 2.4's lpstat prints under LC_ALL=C (copied from a real scheduler's answers).
IDLE = "printer {name} is idle.  enabled since Thu Nov 26 00:06:03 2026\n"
STOPPED = "printer {name} disabled since Thu Nov 26 00:06:03 2026 -\n\t{reason}\n"
ACCEPTING = "{name} accepting requests since Thu Nov 26 00:06:03 2026\n"
REJECTING = "{name} not accepting requests since Thu Nov 26 00:06:03 2026 -\n\t{reason}\n"


@dataclass
class FakeCups:
    """Fake ``lp``/``lpstat`` on PATH and the answers they give."""

    bin: Path

    @property
    def answers(self) -> Path:
        return self.bin / "answers"

    def answer(self, tool: str, out: str = "", err: str = "", rc: int = 0) -> None:
        (self.answers / f"{tool}.out").write_text(out, encoding="utf-8")
        (self.answers / f"{tool}.err").write_text(err, encoding="utf-8")
        (self.answers / f"{tool}.rc").write_text(str(rc), encoding="utf-8")

    def printers(self, *lines: str, default: str | None) -> None:
        """``lpstat -p`` and ``-a`` for printers given as (state line, accept line) text."""
        self.answer("lpstat-p", "".join(line for line in lines if line.startswith("printer ")))
        self.answer("lpstat-a", "".join(line for line in lines if not line.startswith("printer ")))
        self.answer(
            "lpstat-d",
            f"system default destination: {default}\n"
            if default
            else "no system default destination\n",
        )

    @property
    def lp_args(self) -> list[str] | None:
        path = self.answers / "lp.args"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else None


@pytest.fixture
def fake_cups(tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCups:
    fake = FakeCups(tmp_path / "fakebin")
    fake.answers.mkdir(parents=True)
    for name, script in (("lpstat", FAKE_LPSTAT), ("lp", FAKE_LP)):
        path = fake.bin / name
        path.write_text(script, encoding="utf-8")
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.bin}{os.pathsep}{os.environ['PATH']}")
    fake.answer("lpstat-r", "scheduler is running\n")
    fake.answer("lpstat-H", "localhost:631\n")
    fake.printers(
        IDLE.format(name="Office"),
        ACCEPTING.format(name="Office"),
        IDLE.format(name="Lab"),
        ACCEPTING.format(name="Lab"),
        default="Office",
    )
    fake.answer("lp", "request id is Office-7 (1 file(s))\n")
    return fake


def pdf_text_and_size(path: Path) -> tuple[str, tuple[float, float], int]:
    with pdfplumber.open(io.BytesIO(path.read_bytes())) as doc:
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
        first = doc.pages[0]
        return text, (round(first.width), round(first.height)), len(doc.pages)


def test_handout_goes_to_the_cups_default_with_title_copies_and_media(fake_cups: FakeCups):
    result = invoke_cli("print", DRUG.lower(), "--copies", "3", "--paper", "letter")
    assert result.exit_code == 0, result.output
    pages = re.fullmatch(
        r"sent zentorex handout \((\d+) pages, 3 copies\) to Office as job Office-7\n",
        result.stdout,
    )
    assert pages, result.stdout
    args = fake_cups.lp_args
    assert args is not None
    assert args[:-1] == ["-d", "Office", "-t", TITLE, "-n", "3", "-o", "media=Letter"]
    pdf = Path(args[-1])
    # Rendered into a temporary folder outside output/, and removed once lp has it.
    assert not pdf.exists()
    assert not pdf.is_relative_to(Path.cwd())
    # The only thing printing leaves in output/ is the record of it.
    assert [p.name for p in (Path.cwd() / "output").iterdir()] == ["record"]
    text, size, page_count = pdf_text_and_size(fake_cups.answers / "submitted.pdf")
    assert DRUG in text and SENTENCE in text
    assert size == (612, 792)  # US Letter, as --paper asked
    assert page_count == int(pages.group(1))


def test_no_cups_client(fake_cups: FakeCups, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = invoke_cli("print", DRUG.lower())
    assert result.exit_code == 1
    line = error_line(result)
    assert "'lp' was not found" in line
    assert "install the Debian package cups-client" in line


def test_lp_missing_but_lpstat_present_fails_before_rendering(
    fake_cups: FakeCups, monkeypatch: pytest.MonkeyPatch
):
    (fake_cups.bin / "lp").unlink()
    lonely = fake_cups.bin.parent / "only-lpstat"
    lonely.mkdir()
    (fake_cups.bin / "lpstat").rename(lonely / "lpstat")
    monkeypatch.setenv("PATH", str(lonely))
    rendered: list[object] = []
    monkeypatch.setattr(handouts, "render_one", lambda *args, **kw: rendered.append(args))
    result = invoke_cli("print", DRUG.lower())
    assert result.exit_code == 1
    assert "'lp' was not found" in error_line(result)
    assert rendered == []  # nothing was rendered


def test_scheduler_not_running_names_the_server(fake_cups: FakeCups):
    fake_cups.answer("lpstat-r", "scheduler is not running\n")
    fake_cups.answer("lpstat-H", "/run/cups/cups.sock")
    result = invoke_cli("print", DRUG.lower(), "--printer", "Office")
    assert result.exit_code == 1
    line = error_line(result)
    assert "CUPS scheduler at /run/cups/cups.sock is not running" in line
    assert fake_cups.lp_args is None


def test_a_hung_scheduler_is_a_one_line_timeout(
    fake_cups: FakeCups, monkeypatch: pytest.MonkeyPatch
):
    # lpstat hangs for longer than any wait of the suite: only medpdf's own time-out ends it.
    (fake_cups.answers / "lpstat-r.sleep").write_text(f"{PATIENCE:g}", encoding="utf-8")
    monkeypatch.setattr(printing, "LPSTAT_TIMEOUT", 0.5)
    started = time.monotonic()
    result = invoke_cli("print", DRUG.lower())
    assert time.monotonic() - started < PATIENCE
    assert result.exit_code == 1
    assert "lpstat got no answer from the CUPS scheduler at localhost:631 within 0.5 s" in (
        error_line(result)
    )


def test_unknown_printer_lists_the_printers(fake_cups: FakeCups):
    result = invoke_cli("print", DRUG.lower(), "--printer", "Ofice")
    assert result.exit_code == 2
    assert error_line(result) == (
        "medpdf: error: no printer named 'Ofice'; printers: Lab, Office (default)"
    )
    assert fake_cups.lp_args is None


def test_no_default_and_no_printer_given(fake_cups: FakeCups):
    fake_cups.printers(IDLE.format(name="Office"), ACCEPTING.format(name="Office"), default=None)
    result = invoke_cli("print", DRUG.lower())
    assert result.exit_code == 2
    line = error_line(result)
    assert "no printer given and CUPS has no default printer" in line
    assert "--printer NAME" in line
    assert line.endswith("(printers: Office)")


def test_a_scheduler_without_printers_says_so(fake_cups: FakeCups):
    fake_cups.answer("lpstat-p", err="lpstat: No destinations added.\n", rc=1)
    fake_cups.answer("lpstat-a", err="lpstat: No destinations added.\n", rc=1)
    fake_cups.answer("lpstat-d", "no system default destination\n")
    result = invoke_cli("print", DRUG.lower(), "--printer", "Office")
    assert result.exit_code == 2
    assert error_line(result) == (
        "medpdf: error: no printer named 'Office'; CUPS has no printers yet "
        "(an administrator adds them with lpadmin)"
    )


def test_stopped_printer(fake_cups: FakeCups):
    fake_cups.printers(
        IDLE.format(name="Office"),
        ACCEPTING.format(name="Office"),
        STOPPED.format(name="Lab", reason="Paused for maintenance"),
        ACCEPTING.format(name="Lab"),
        default="Office",
    )
    result = invoke_cli("print", DRUG.lower(), "--printer", "Lab")
    assert result.exit_code == 1
    assert error_line(result) == (
        "medpdf: error: printer 'Lab' is stopped (Paused for maintenance); jobs would wait "
        "in the queue; an administrator can run: cupsenable Lab"
    )
    assert fake_cups.lp_args is None


def test_printer_not_accepting_jobs(fake_cups: FakeCups):
    fake_cups.printers(
        IDLE.format(name="Office") + "\tOut of toner\n",
        REJECTING.format(name="Office", reason="Out of toner"),
        default="Office",
    )
    result = invoke_cli("print", DRUG.lower())
    assert result.exit_code == 1
    assert error_line(result) == (
        "medpdf: error: printer 'Office' is not accepting jobs (Out of toner); "
        "an administrator can run: cupsaccept Office"
    )


def test_lp_refusing_the_job_shows_its_message_on_one_line(fake_cups: FakeCups):
    fake_cups.answer("lp", err="lp: Error - the job was refused.\nlp: second line\n", rc=1)
    result = invoke_cli("print", DRUG.lower(), "--printer", "Lab")
    assert result.exit_code == 1
    assert error_line(result) == (
        "medpdf: error: printer 'Lab' refused the job: lp: Error - the job was refused. "
        "lp: second line"
    )
    assert fake_cups.lp_args is not None and fake_cups.lp_args[:2] == ["-d", "Lab"]


def test_unknown_drug_is_checked_before_cups(fake_cups: FakeCups):
    result = invoke_cli("print", "zentorx")
    assert result.exit_code == 2
    assert "did you mean: zentorex?" in error_line(result)
    assert not (fake_cups.answers / "calls").exists()


# --------------------------------------------------------------------------- [print] printer


def test_config_printer_is_used_and_the_flag_wins(fake_cups: FakeCups, project: Path):
    (project / "medpdf.toml").write_text('[print]\nprinter = "Ghost"\n', encoding="utf-8")
    result = invoke_cli("print", DRUG.lower())
    assert result.exit_code == 2
    assert "no printer named 'Ghost';" in error_line(result)
    result = invoke_cli("print", DRUG.lower(), "--printer", "lab/duplex")  # CUPS spelling is used
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("to Lab/duplex as job Office-7\n")
    assert fake_cups.lp_args is not None and fake_cups.lp_args[:2] == ["-d", "Lab/duplex"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[print]\nprinter = "Front desk"\n',
            "medpdf.toml:2: print.printer: a CUPS printer name has no spaces or '#', "
            'not "Front desk"',
        ),
        ("[print]\nprinter = 3\n", "medpdf.toml:2: print.printer: must be a string, not 3"),
        (
            '[print]\nprinter = "-d"\n',
            'medpdf.toml:2: print.printer: must be a CUPS printer name, not "-d"',
        ),
        (
            '[output]\npaper = "a4"\n[print]\nprintr = "Office"\n',
            "medpdf.toml:4: print.printr: unknown key (known: printer)",
        ),
    ],
)
def test_bad_print_settings_are_one_line(fake_cups: FakeCups, project: Path, toml: str, message):
    (project / "medpdf.toml").write_text(toml, encoding="utf-8")
    result = invoke_cli("print", DRUG.lower())
    assert result.exit_code == 2
    assert error_line(result) == f"medpdf: error: {message}"
    assert not (fake_cups.answers / "calls").exists()


def test_the_printer_setting_does_not_invalidate_built_handouts():
    def fingerprint(**values: object) -> str:
        return RunContext.of(config.make(**values)).fingerprint

    assert not options.PRINTER.changes_output
    assert fingerprint(printer="Office") == fingerprint(printer="Lab") == fingerprint()
    # The fingerprint does see the options that change a PDF.
    assert fingerprint(printer="Office", paper="letter") != fingerprint(printer="Office")


def test_job_title_is_one_bounded_line():
    assert printing.job_title("Alefacept") == "Alefacept \u2013 patient handout"
    title = printing.job_title("Evil\nname\x1b[2J" + "\u00e9" * 500)
    assert title.startswith("Evil name [2J\u00e9")
    assert title.endswith("\u00e9\u2026 \u2013 patient handout")
    assert title.isprintable()
    assert len(title.encode()) <= 255  # an IPP name


# --------------------------------------------------------------------------- a real CUPS


def medpdf(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medpdf", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )


def test_a_handout_comes_out_of_a_real_cups_pdf_printer(cups: Cups, project: Path):
    done = medpdf(
        project, cups.env, "print", DRUG.lower(), "--printer", cups.printer, "--copies", "2"
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    sent = re.fullmatch(
        rf"sent zentorex handout \((\d+) pages, 2 copies\) to {cups.printer} "
        rf"as job ({cups.printer}-\d+)\n",
        done.stdout,
    )
    assert sent, done.stdout
    pages, job_id = int(sent.group(1)), sent.group(2)
    pdf, accounting = cups.wait_for_pdf(job_id)
    text, size, page_count = pdf_text_and_size(pdf)
    assert DRUG in text and SENTENCE in text
    assert "Fixture disclaimer for Zentorex." in text
    assert size == (595, 842)  # A4
    assert page_count == pages  # cups-pdf writes one copy; CUPS counts both:
    number = job_id.rsplit("-", 1)[1]
    assert accounting == f"{number} total {2 * pages} copies=2 media=A4 title={TITLE}"


def test_config_printer_and_letter_paper_through_real_cups(cups: Cups, project: Path):
    (project / "medpdf.toml").write_text(
        f'[output]\npaper = "letter"\n\n[print]\nprinter = "{cups.printer}"\n', encoding="utf-8"
    )
    done = medpdf(project, cups.env, "print", DRUG)
    assert done.returncode == 0, done.stderr
    sent = re.fullmatch(
        rf"sent zentorex handout \((\d+) pages\) to {cups.printer} as job (\S+)\n", done.stdout
    )
    assert sent, done.stdout
    pdf, accounting = cups.wait_for_pdf(sent.group(2))
    text, size, _ = pdf_text_and_size(pdf)
    assert SENTENCE in text
    assert size == (612, 792)  # Letter
    assert " copies=1 media=Letter " in accounting


@pytest.fixture
def real_cups_env(cups: Cups, project: Path, monkeypatch: pytest.MonkeyPatch) -> Cups:
    monkeypatch.setenv("CUPS_SERVER", str(cups.socket))
    return cups


def test_real_cups_unknown_printer_lists_its_printers(real_cups_env: Cups):
    result = invoke_cli("print", DRUG.lower(), "--printer", "nosuch")
    assert result.exit_code == 2
    assert error_line(result) == (
        f"medpdf: error: no printer named 'nosuch'; printers: full, {real_cups_env.printer}, paused"
    )


def test_real_cups_without_default_printer(real_cups_env: Cups):
    result = invoke_cli("print", DRUG.lower())
    assert result.exit_code == 2
    assert "no printer given and CUPS has no default printer" in error_line(result)


def test_real_cups_stopped_and_rejecting_printers(real_cups_env: Cups):
    result = invoke_cli("print", DRUG.lower(), "--printer", "paused")
    assert result.exit_code == 1
    assert "printer 'paused' is stopped (Paused for maintenance)" in error_line(result)
    result = invoke_cli("print", DRUG.lower(), "--printer", "FULL")  # CUPS names ignore case
    assert result.exit_code == 1
    assert "printer 'full' is not accepting jobs (Out of toner)" in error_line(result)


def test_real_lp_refusal_is_shown(real_cups_env: Cups):
    # The private scheduler allows at most 5 copies (MaxCopies 5), so lp itself refuses.
    result = invoke_cli("print", DRUG.lower(), "--printer", real_cups_env.printer, "--copies", "9")
    assert result.exit_code == 1
    assert error_line(result) == (
        f"medpdf: error: printer '{real_cups_env.printer}' refused the job: lp: Bad copies value 9."
    )


def test_real_scheduler_not_running(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if not (which_tool("lp") and which_tool("lpstat")):
        pytest.skip("needs the Debian package cups-client (`make test` installs it)")
    socket = tmp_path / "no-cupsd.sock"
    monkeypatch.setenv("CUPS_SERVER", str(socket))
    result = invoke_cli("print", DRUG.lower(), "--printer", "Office")
    assert result.exit_code == 1
    assert f"the CUPS scheduler at {socket} is not running or cannot be reached" in error_line(
        result
    )
