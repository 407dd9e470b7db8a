"""A private CUPS scheduler with a cups-pdf virtual printer, for the printing tests.

Its own config folder, spool, logs and Unix socket live in a temporary folder;
cupsd runs in the foreground as a child of the test session, so the system's own
CUPS is never touched and every pytest-xdist worker gets its own scheduler.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from waiting import PATIENCE

CUPSD = Path("/usr/sbin/cupsd")
CUPS_PDF_BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
CUPS_PDF_PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd")
#: cups-pdf reads /etc/cups/cups-pdf-NAME.conf for device URI cups-pdf:/NAME (compiled-in path).
CUPS_PDF_CONF_DIR = Path("/etc/cups")
#: A job goes through filters and Ghostscript: seconds when idle, far longer beside a build.
JOB_WAIT = PATIENCE


def _missing_cups() -> list[str]:
    wanted = [CUPSD, CUPS_PDF_BACKEND, CUPS_PDF_PPD]
    missing = [str(p) for p in wanted if not p.exists()]
    missing += [
        t for t in ("lp", "lpstat", "lpadmin", "cupsdisable", "cupsreject") if not which_tool(t)
    ]
    return missing


def which_tool(tool: str) -> str | None:
    return shutil.which(tool, path=f"{os.environ.get('PATH', '')}{os.pathsep}/usr/sbin")


@dataclass(frozen=True)
class Cups:
    """A private CUPS scheduler and the cups-pdf printer on it."""

    root: Path
    printer: str
    process: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.root / "cups.sock"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def env(self) -> dict[str, str]:
        """The environment of a CUPS client talking to this scheduler and no other."""
        env = {k: v for k, v in os.environ.items() if k not in {"LPDEST", "PRINTER"}}
        return {**env, "CUPS_SERVER": str(self.socket)}

    def tool(self, *args: str) -> subprocess.CompletedProcess[str]:
        tool = which_tool(args[0])
        assert tool is not None
        return subprocess.run(
            [tool, *args[1:]],
            env={**self.env, "LC_ALL": "C"},
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )

    def logs(self) -> str:
        parts = []
        for path in sorted((self.root / "log").iterdir()):
            text = path.read_text(encoding="utf-8", errors="replace")
            parts.append(f"--- {path.name} (last 40 lines)\n" + "\n".join(text.splitlines()[-40:]))
        return "\n".join(parts)

    def page_log(self, job: int) -> str | None:
        path = self.root / "log" / "page_log"
        if not path.exists():
            return None
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(f"{job} total "):
                return line
        return None

    def wait_for_pdf(self, job_id: str) -> tuple[Path, str]:
        """The PDF cups-pdf wrote for ``job_id`` and the job's page_log line, once complete."""
        number = int(job_id.rsplit("-", 1)[1])
        deadline = time.monotonic() + JOB_WAIT
        while time.monotonic() < deadline:
            done = self.tool("lpstat", "-W", "completed", "-o", self.printer).stdout
            line = self.page_log(number)
            found = [*self.out.glob(f"*-job_{number}.pdf"), *self.out.glob(f"job_{number}-*.pdf")]
            if job_id in done.split() and line is not None and found:
                return found[0], line
            state = self.tool("lpstat", "-p", self.printer).stdout
            if "disabled" in state:  # the backend failed and CUPS stopped the queue
                break
            time.sleep(0.2)
        pytest.fail(
            f"job {job_id} did not come out of cups-pdf within {JOB_WAIT:g} s:\n"
            f"{self.tool('lpstat', '-l', '-p', '-W', 'all', '-o').stdout}\n{self.logs()}"
        )


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _die_with_this_session() -> None:
    """In the child before exec: Linux sends cupsd SIGTERM if pytest dies without teardown."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _sweep_stale_cups_pdf_confs() -> None:
    """Remove the cups-pdf configs of earlier sessions that were killed before teardown."""
    for conf in CUPS_PDF_CONF_DIR.glob("cups-pdf-medpdftest*.conf"):
        match = re.fullmatch(r"cups-pdf-medpdftest(\d+)x[0-9a-f]+\.conf", conf.name)
        if match is None:
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            conf.unlink(missing_ok=True)
        except PermissionError:
            pass


def _start_cupsd(root: Path) -> subprocess.Popen[bytes]:
    for name in ("etc", "spool/tmp", "cache", "state", "log", "out", "cups-pdf-spool", "gstmp"):
        (root / name).mkdir(parents=True)
    _write(
        root / "etc" / "cups-files.conf",
        f"ServerRoot {root}/etc\nRequestRoot {root}/spool\nTempDir {root}/spool/tmp\n"
        f"CacheDir {root}/cache\nStateDir {root}/state\nAccessLog {root}/log/access_log\n"
        f"ErrorLog {root}/log/error_log\nPageLog {root}/log/page_log\n",
    )
    _write(
        root / "etc" / "cupsd.conf",
        # Only a Unix socket: no port to collide with the system's CUPS or another worker.
        f"Listen {root}/cups.sock\nLogLevel debug\nBrowsing No\nWebInterface No\n"
        "MaxCopies 5\n"
        "PageLogFormat %j %P %C copies=%{copies} media=%{media} title=%{job-name}\n"
        "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n",
    )
    with (root / "log" / "cupsd-output").open("wb") as output:
        return subprocess.Popen(
            [
                str(CUPSD),
                "-f",  # foreground: a child of this session, stopped at teardown
                "-c",
                str(root / "etc" / "cupsd.conf"),
                "-s",
                str(root / "etc" / "cups-files.conf"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_this_session,
        )


def _config_check(root: Path) -> str:
    """``cupsd -t``: a config error that stops cupsd -f goes only to syslog, this prints it."""
    etc = root / "etc"
    check = subprocess.run(
        [str(CUPSD), "-t", "-c", str(etc / "cupsd.conf"), "-s", str(etc / "cups-files.conf")],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    return check.stdout + check.stderr


@pytest.fixture(scope="session")
def cups() -> Iterator[Cups]:
    """A private cupsd with a cups-pdf printer writing into a temporary folder.

    One per pytest process, so ``pytest -n 2`` workers each get their own.
    """
    if missing := _missing_cups():
        pytest.skip(
            "needs the Debian packages cups, cups-client and printer-driver-cups-pdf "
            f"(`make test` installs them); missing: {', '.join(missing)}"
        )
    if os.geteuid() != 0:
        pytest.fail(
            "the real CUPS test must run as root: the cups-pdf backend refuses to run "
            f"otherwise, and its per-printer config lives in {CUPS_PDF_CONF_DIR}"
        )
    root = Path(tempfile.mkdtemp(prefix="medpdf-cups-"))
    # cupsd runs filters as user lp; they read job files inside this folder.
    root.chmod(0o711)
    if len(str(root / "cups.sock")) > 100:
        pytest.fail(f"temporary folder {root} is too long for a Unix socket path")
    _sweep_stale_cups_pdf_confs()
    # The session's PID in the name lets a later session clean up after a killed one.
    printer = f"medpdftest{os.getpid()}x{uuid.uuid4().hex[:6]}"
    cups_pdf_conf = CUPS_PDF_CONF_DIR / f"cups-pdf-{printer}.conf"
    process = _start_cupsd(root)
    server = Cups(root, printer, process)
    try:
        deadline = time.monotonic() + PATIENCE
        while server.tool("lpstat", "-r").stdout.strip() != "scheduler is running":
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"private cupsd did not start (exit {process.poll()}):\n{server.logs()}\n"
                    f"--- cupsd -t (config check)\n{_config_check(root)}"
                )
            time.sleep(0.1)
        _write(
            cups_pdf_conf,
            f"Out {root}/out\nAnonDirName {root}/out\nSpool {root}/cups-pdf-spool\n"
            f"GSTmp {root}/gstmp\nLog {root}/log\nLogType 7\nLabel 2\nGrp root\n"
            "UserUMask 0022\n",
        )
        setup = [
            # pdftocairo keeps the text extractable through CUPS's PDF -> PostScript step
            # (Debian's own postinst creates its PDF queue the same way).
            (
                "lpadmin", "-p", printer, "-E", "-v", f"cups-pdf:/{printer}",
                "-P", str(CUPS_PDF_PPD), "-o", "pdftops-renderer-default=pdftocairo",
            ),
            ("lpadmin", "-p", "paused", "-E", "-v", "file:///dev/null", "-P", str(CUPS_PDF_PPD)),
            ("cupsdisable", "-r", "Paused for maintenance", "paused"),
            ("lpadmin", "-p", "full", "-E", "-v", "file:///dev/null", "-P", str(CUPS_PDF_PPD)),
            ("cupsreject", "-r", "Out of toner", "full"),
        ]  # fmt: skip
        for command in setup:
            done = server.tool(*command)
            if done.returncode != 0:
                pytest.fail(f"{' '.join(command)} failed: {done.stderr}\n{server.logs()}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        with contextlib.suppress(FileNotFoundError):
            cups_pdf_conf.unlink()
        shutil.rmtree(root, ignore_errors=True)
