"""The command line: `check`, `handout`, `build`, `--help` and `--version`.

Every test runs in its own temporary working folder, so the paths medpdf prints
are the short relative ones (``content/a/x.md``) a person would see.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from conftest import MINIMAL, invoke_cli
from waiting import PATIENCE

from medpdf import __version__
from medpdf.atomic import sweep_stale_temps
from medpdf.content.sources import MAX_SOURCE_BYTES

#: A monograph that parses but earns a "missing standard sections" warning.
INCOMPLETE = """---
layout: minimal-medicine
title: Pellorin
---

# Pellorin
### Usage
Pellorin is an invented eye drop.
"""

DIAGNOSTIC = re.compile(
    r"^(?P<path>[^\s:]+\.md)(?::(?P<line>[1-9]\d*))?: (?P<level>error|warning): (?P<message>\S.*)$"
)
SUMMARY = re.compile(r"^checked (\d+) monographs: (\d+) errors, (\d+) warnings$")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def put(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def clean(title: str) -> str:
    return MINIMAL.format(title=title)


def lines(text: str) -> list[str]:
    return text.splitlines()


def assert_diagnostic_lines(text: str) -> list[re.Match[str]]:
    found = []
    for line in lines(text):
        match = DIAGNOSTIC.match(line)
        assert match, f"not a 'path:line: level: message' line: {line!r}"
        found.append(match)
    return found


def summary_of(result: Result) -> tuple[int, int, int]:
    last = lines(result.stderr)[-1]
    match = SUMMARY.match(last)
    assert match, last
    files, errors, warnings = (int(g) for g in match.groups())
    return files, errors, warnings


def temp_leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if "medpdf-tmp" in p.name]


# --------------------------------------------------------------------------- check: errors

NOT_UTF8 = b"---\ntitle: Pellorin\n---\n\n# Pellorin\n### Usage\nCaf\xe9 au lait.\n"
BAD_BYTE = NOT_UTF8.index(b"\xe9")

BROKEN_INPUTS = [
    pytest.param(
        NOT_UTF8,
        f"content/bad.md:7: error: not valid UTF-8 (byte {BAD_BYTE})",
        id="not-utf8",
    ),
    pytest.param(
        b"\xff\xfe-\x00-\x00-\x00\n\x00",
        "content/bad.md: error: binary file (contains NUL bytes), not a monograph",
        id="binary-nul",
    ),
    pytest.param(
        "---\nlayout: minimal-medicine\ntitle: Zentorex: XR\n---\n\n# Zentorex\nText.\n",
        "content/bad.md:3: error: broken front matter: mapping values are not allowed "
        "in this context",
        id="broken-yaml",
    ),
    pytest.param(
        "# Zentorex\n### Usage\nText.\n",
        "content/bad.md:1: error: missing front matter (expected '---' block)",
        id="no-front-matter",
    ),
    pytest.param(
        "---\ntitle: Zentorex\n\n# Zentorex\n### Usage\nText.\n",
        "content/bad.md:1: error: front matter is not closed with '---'",
        id="unclosed-front-matter",
    ),
    pytest.param(
        "---\nlayout: minimal-medicine\n---\n\n# Zentorex\nText.\n",
        "content/bad.md:1: error: front matter has no 'title'",
        id="no-title",
    ),
    pytest.param(
        "---\ntitle: [Zentorex, Pellorin]\n---\n\n# Zentorex\nText.\n",
        "content/bad.md:1: error: front matter 'title' must be text",
        id="title-list",
    ),
    pytest.param(
        "---\nlayout: minimal-medicine\ntitle: Zentorex\n---\n\n\n\n",
        None,  # the line is checked separately below
        id="empty-body",
    ),
]


@pytest.mark.parametrize(("data", "expected"), BROKEN_INPUTS)
def test_check_reports_one_broken_file(workdir: Path, data: str | bytes, expected: str | None):
    put(workdir / "content" / "good.md", clean("Quorvalin"))
    put(workdir / "content" / "bad.md", data)
    result = invoke_cli("check")
    assert result.exit_code == 1
    [match] = assert_diagnostic_lines(result.stdout)
    assert match["path"] == "content/bad.md"
    assert match["level"] == "error"
    if expected is None:
        assert match["message"] == "monograph has no body text"
        assert match["line"] is not None and int(match["line"]) > 3
    else:
        assert result.stdout == expected + "\n"
    assert lines(result.stderr) == ["checked 2 monographs: 1 errors, 0 warnings"]


def test_check_reports_every_problem_sorted(workdir: Path):
    content = workdir / "content"
    put(content / "a" / "x.md", clean("Xyloquin"))
    put(content / "b" / "x.md", clean("Xyloquin Forte"))
    put(content / "a" / "zentorex.md", clean("Zentorex"))
    put(content / "b" / "zentorex-copy.md", clean("ZENTOREX"))
    put(content / "a" / "not-utf8.md", NOT_UTF8)
    put(content / "a" / "binary.md", b"\x00\x01\x02")
    put(content / "a" / "no-front-matter.md", "# Zentorex\nText.\n")
    put(content / "a" / "no-title.md", "---\nlayout: minimal-medicine\n---\n# T\nText.\n")
    put(content / "a" / "empty.md", "---\ntitle: Empty\n---\n")
    put(content / "a" / "warned.md", INCOMPLETE)
    result = invoke_cli("check", "--content", "content")
    assert result.exit_code == 1
    assert_diagnostic_lines(result.stdout)
    out = lines(result.stdout)
    assert [line for line in out if "content/a/empty.md" not in line] == [
        "content/a/binary.md: error: binary file (contains NUL bytes), not a monograph",
        "content/a/no-front-matter.md:1: error: missing front matter (expected '---' block)",
        "content/a/no-title.md:1: error: front matter has no 'title'",
        f"content/a/not-utf8.md:7: error: not valid UTF-8 (byte {BAD_BYTE})",
        "content/a/warned.md: warning: missing standard sections: Generic Name, Dosage, "
        "Side Effects, How it Works, Precautions, FAQs",
        "content/b/x.md: error: duplicate slug 'x' (also content/a/x.md)",
        "content/b/zentorex-copy.md: error: duplicate title 'ZENTOREX' "
        "(also content/a/zentorex.md)",
    ]
    [empty] = [line for line in out if "content/a/empty.md" in line]
    assert empty.endswith(": error: monograph has no body text")
    assert out.index(empty) == 1  # sorted by path: a/binary.md, then a/empty.md
    assert lines(result.stderr) == ["checked 10 monographs: 7 errors, 1 warnings"]
    assert summary_of(result) == (10, 7, 1)


def test_check_is_not_stopped_by_deeply_nested_content(workdir: Path):
    hostile = clean("Zentorex").replace(
        "Drowsiness.", ">" * 5000 + " deep\n\n" + "[" * 5000 + "\n\n" + "](" * 5000
    )
    put(workdir / "content" / "zentorex.md", hostile)
    result = invoke_cli("check")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert re.fullmatch(
        r"content/zentorex\.md:\d+: warning: Markdown nested more than .*", lines[0]
    )
    assert summary_of(result) == (1, 0, 1)


def test_check_refuses_oversized_files(workdir: Path):
    big = clean("Zentorex") + "x" * (MAX_SOURCE_BYTES + 1)
    put(workdir / "content" / "big.md", big)
    result = invoke_cli("check")
    assert result.exit_code == 1
    size = len(big.encode())
    assert result.stdout == (
        f"content/big.md: error: file is {size} bytes; the limit is {MAX_SOURCE_BYTES} bytes\n"
    )


# --------------------------------------------------------------------------- check: warnings


def test_warnings_only_exit_zero(workdir: Path):
    put(workdir / "content" / "pellorin.md", INCOMPLETE)
    put(
        workdir / "content" / "zentorex.md",
        clean("Zentorex").replace("### Precautions", "### Storage"),
    )
    result = invoke_cli("check")
    assert result.exit_code == 0
    # Sorted by path, then line; a warning without a line comes first.
    assert lines(result.stdout) == [
        "content/pellorin.md: warning: missing standard sections: Generic Name, Dosage, "
        "Side Effects, How it Works, Precautions, FAQs",
        "content/zentorex.md: warning: missing standard sections: Precautions",
        "content/zentorex.md:22: warning: unknown heading 'Storage'",
    ]
    assert_diagnostic_lines(result.stdout)
    assert lines(result.stderr) == ["checked 2 monographs: 0 errors, 3 warnings"]


def test_strict_turns_warnings_into_failure(workdir: Path):
    put(workdir / "content" / "pellorin.md", INCOMPLETE)
    result = invoke_cli("check", "--strict")
    assert result.exit_code == 1
    assert len(assert_diagnostic_lines(result.stdout)) == 1
    assert summary_of(result) == (1, 0, 1)


def test_strict_on_clean_folder_passes(workdir: Path):
    put(workdir / "content" / "zentorex.md", clean("Zentorex"))
    assert invoke_cli("check", "--strict").exit_code == 0


def test_clean_folder(workdir: Path):
    put(workdir / "content" / "zentorex.md", clean("Zentorex"))
    put(workdir / "content" / "q" / "quorvalin.md", clean("Quorvalin"))
    result = invoke_cli("check")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "checked 2 monographs: 0 errors, 0 warnings\n"


def test_notes_hidden_and_underscore_files_are_not_monographs(workdir: Path):
    content = workdir / "content"
    put(content / "zentorex.md", clean("Zentorex"))
    put(content / "README.md", "# Notes about this collection\n")
    put(content / "_drafts" / "draft.md", "not a monograph")
    put(content / ".hidden" / "secret.md", "not a monograph")
    put(content / ".dotfile.md", "not a monograph")
    put(content / "notes.txt", "not markdown")
    result = invoke_cli("check")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert summary_of(result) == (1, 0, 0)


def test_empty_content_folder(workdir: Path):
    (workdir / "content").mkdir()
    result = invoke_cli("check")
    assert result.exit_code == 0
    assert summary_of(result) == (0, 0, 0)


@pytest.mark.parametrize(
    ("args", "folder"),
    [(("check",), "content"), (("check", "--content", "nowhere"), "nowhere")],
)
def test_missing_content_folder(workdir: Path, args: tuple[str, ...], folder: str):
    result = invoke_cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"medpdf: error: content folder '{folder}' does not exist\n"


# --------------------------------------------------------------------------- check: reading grade

#: Patient text far above grade 8: the same in every section, so no other warning.
HARD = (
    "Concomitant administration with cytochrome P450 3A4 inhibitors necessitates "
    "individualized therapeutic monitoring, particularly in hepatically compromised "
    "populations exhibiting diminished metabolic clearance."
)
GRADE_LINE = re.compile(
    r"^reading grade: (?P<above>\d+) of (?P<total>\d+) monographs are above grade 8 "
    r"\(Flesch-Kincaid, median \d+\.\d\); --max-grade N or \[check\] max_grade warns for "
    r"each, --report shows the distribution$"
)
PER_FILE = re.compile(
    r"^content/(?P<slug>[a-z]+)\.md: warning: reading grade (?P<grade>\d+\.\d) is above 6 "
    r"\(Flesch-Kincaid\)$"
)


def hard(title: str) -> str:
    text = clean(title)
    for sentence in (
        f"{title} treats an imaginary condition.",
        "One tablet daily.",
        "Drowsiness.",
        "It binds to a receptor.",
        "Avoid alcohol.",
        "No, it is a test fixture.",
    ):
        assert sentence in text
        text = text.replace(sentence, HARD)
    return text


@pytest.fixture
def graded(workdir: Path) -> Path:
    """Two monographs far above grade 8 and a plain one between 6 and 8 (MINIMAL: 6.8)."""
    put(workdir / "content" / "hardazepam.md", hard("Hardazepam"))
    put(workdir / "content" / "knottamine.md", hard("Knottamine"))
    put(workdir / "content" / "zentorex.md", clean("Zentorex"))
    return workdir


def test_check_without_a_ceiling_prints_one_grade_summary(graded: Path):
    result = invoke_cli("check")
    assert result.exit_code == 0
    assert result.stdout == ""  # no per-file grade warning
    summary, counts = lines(result.stderr)
    match = GRADE_LINE.match(summary)
    assert match, summary
    assert (match["above"], match["total"]) == ("2", "3")
    assert counts == "checked 3 monographs: 0 errors, 0 warnings"


def test_check_summary_is_absent_when_nothing_is_above_grade_8(workdir: Path):
    put(workdir / "content" / "zentorex.md", clean("Zentorex"))
    result = invoke_cli("check")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "checked 1 monographs: 0 errors, 0 warnings\n"


def assert_warned_per_file(result: Result) -> None:
    assert result.exit_code == 0, result.output
    found = [PER_FILE.match(line) for line in lines(result.stdout)]
    assert all(found), result.stdout
    grades = {m["slug"]: float(m["grade"]) for m in found if m}
    assert list(grades) == ["hardazepam", "knottamine", "zentorex"]
    assert grades["hardazepam"] > 16 and grades["knottamine"] > 16
    assert 6 < grades["zentorex"] < 8  # not counted by the default summary, warned at 6
    assert lines(result.stderr) == ["checked 3 monographs: 0 errors, 3 warnings"]


def test_check_max_grade_flag_warns_per_file(graded: Path):
    assert_warned_per_file(invoke_cli("check", "--max-grade", "6"))


def test_check_max_grade_in_medpdf_toml_warns_per_file(graded: Path):
    put(graded / "medpdf.toml", "[check]\nmax_grade = 6\n")
    assert_warned_per_file(invoke_cli("check"))
    # The flag wins over the file.
    result = invoke_cli("check", "--max-grade", "20")
    assert result.exit_code == 0
    assert [line.split(": ")[0] for line in lines(result.stdout)] == [
        "content/hardazepam.md",
        "content/knottamine.md",
    ]
    assert all(line.endswith(" is above 20 (Flesch-Kincaid)") for line in lines(result.stdout))


def test_check_max_grade_warnings_count_for_strict(graded: Path):
    assert invoke_cli("check", "--strict").exit_code == 0  # the summary is not a warning
    assert invoke_cli("check", "--strict", "--max-grade", "6").exit_code == 1


@pytest.mark.parametrize(
    ("flag", "toml", "reason"),
    [
        ("0", "0", "must be a number from 1 to 20, not 0"),
        ("20.5", "20.5", "must be a number from 1 to 20, not 20.5"),
        ("six", '"six"', 'must be a number, not "six"'),
    ],
)
def test_max_grade_flag_and_file_share_one_rule(graded: Path, flag: str, toml: str, reason: str):
    result = invoke_cli("check", "--max-grade", flag)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert lines(result.stderr)[-1] == f"Error: Invalid value for '--max-grade': {reason}"
    put(graded / "medpdf.toml", f"[check]\nmax_grade = {toml}\n")
    result = invoke_cli("check")
    assert result.exit_code == 2
    assert result.stderr == f"medpdf: error: medpdf.toml:2: check.max_grade: {reason}\n"


# --------------------------------------------------------------------------- handout

SIMILAR = ["zentorex", "zentorax", "zentorix", "zentorox", "zentorux"]


@pytest.fixture
def similar_collection(workdir: Path) -> Path:
    for slug in [*SIMILAR, "pellorin"]:
        put(workdir / "content" / f"{slug}.md", clean(slug.capitalize()))
    return workdir


def test_handout_unknown_name_suggests_up_to_three(similar_collection: Path):
    result = invoke_cli("handout", "zentorrex")
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = lines(result.stderr)
    prefix = "medpdf: error: no monograph named 'zentorrex' in content; did you mean: "
    assert line.startswith(prefix)
    assert line.endswith("?")
    suggested = line[len(prefix) : -1].split(", ")
    assert 1 <= len(suggested) <= 3
    assert suggested[0] == "zentorex"
    assert set(suggested) <= set(SIMILAR)
    assert len(set(suggested)) == len(suggested)
    assert not (similar_collection / "output").exists()


def test_handout_unknown_name_without_lookalikes(similar_collection: Path):
    result = invoke_cli("handout", "qqqwwwzzz")
    assert result.exit_code == 2
    assert result.stderr == "medpdf: error: no monograph named 'qqqwwwzzz' in content\n"


def test_handout_of_broken_monograph_is_one_check_line(workdir: Path):
    put(workdir / "content" / "zentorex.md", "# Zentorex\nNo front matter.\n")
    result = invoke_cli("handout", "zentorex")
    assert result.exit_code == 1
    assert result.stderr == (
        "content/zentorex.md:1: error: missing front matter (expected '---' block)\n"
    )
    assert not (workdir / "output").exists()


def test_handout_missing_content_folder(workdir: Path):
    result = invoke_cli("handout", "zentorex", "--content", "nowhere")
    assert result.exit_code == 2
    assert result.stderr == "medpdf: error: content folder 'nowhere' does not exist\n"


def test_handout_by_title_writes_pdf(workdir: Path):
    put(workdir / "content" / "zentorex-xr.md", clean("Zentorex XR"))
    result = invoke_cli("handout", "zentorex xr", "-o", "out/zx.pdf")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"wrote out/zx\.pdf \([1-9]\d* pages\)\n", result.stdout), result.stdout
    pdf = workdir / "out" / "zx.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert temp_leftovers(workdir) == []
    # -o writes the PDF there only: nothing, not even the build cache, goes to output/.
    assert not (workdir / "output").exists()
    again = invoke_cli("handout", "zentorex xr", "-o", "out/zx.pdf")
    assert again.exit_code == 0, again.output
    assert re.fullmatch(r"wrote out/zx\.pdf \([1-9]\d* pages\)\n", again.stdout), again.stdout
    assert not (workdir / "output").exists()


# --------------------------------------------------------------------------- build


def test_build_renders_good_and_reports_broken(workdir: Path):
    content = workdir / "content"
    put(content / "zentorex.md", clean("Zentorex"))
    put(content / "broken.md", "# Broken\nNo front matter here.\n")
    handouts = workdir / "output" / "handouts"
    # A temp file left behind by a killed writer (its PID cannot exist).
    stale = put(handouts / ".4999999.abc123.medpdf-tmp", b"half a pdf")

    checked = invoke_cli("check")
    result = invoke_cli("build")

    assert result.exit_code == 1
    expected = "content/broken.md:1: error: missing front matter (expected '---' block)"
    assert result.stdout == expected + "\n"
    # `check` and `build` report the same errors in the same shape.
    assert [line for line in lines(checked.stdout) if ": error: " in line] == [expected]
    summary = next(line for line in lines(result.stderr) if line.startswith("handouts:"))
    assert re.fullmatch(
        r"handouts: 1 built, 0 unchanged, 0 removed \(1 pages\) in output/handouts "
        r"in \d+\.\d s; 1 monographs failed",
        summary,
    ), summary

    assert sorted(p.name for p in handouts.iterdir()) == ["zentorex.pdf"]
    pdf = (handouts / "zentorex.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert b"%%EOF" in pdf[-32:]
    assert not stale.exists()
    assert temp_leftovers(workdir) == []


def test_build_missing_content_folder(workdir: Path):
    result = invoke_cli("build", "--content", "nowhere")
    assert result.exit_code == 2
    assert result.stderr == "medpdf: error: content folder 'nowhere' does not exist\n"
    assert not (workdir / "output").exists()


def test_sweep_keeps_temps_of_live_writers(tmp_path: Path):
    live = put(tmp_path / f".{os.getpid()}.xyz.medpdf-tmp", b"in progress")
    dead = put(tmp_path / ".4999999.xyz.medpdf-tmp", b"abandoned")
    other = put(tmp_path / "c.pdf", b"%PDF-")
    assert sweep_stale_temps(tmp_path) == 1
    assert live.exists()
    assert not dead.exists()
    assert other.exists()


# --------------------------------------------------------------------------- help and version


@pytest.mark.parametrize("command", [[], ["check"], ["handout"], ["build"]])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(command: list[str], flag: str):
    result = invoke_cli(*command, flag)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: ")
    assert result.stderr == ""
    if command:
        assert f" {command[0]} " in result.stdout.splitlines()[0]
    else:
        for name in ("check", "handout", "build"):
            assert name in result.stdout


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["check"], ["--content", "--strict", "--report", "--max-grade X"]),
        (
            ["handout"],
            ["NAME", "--content", "--output", "--paper", "--patient-fields / --no-patient-fields"],
        ),
        (["build"], ["--content", "--large-print / --no-large-print", "--jobs N"]),
    ],
)
def test_help_lists_options(command: list[str], words: list[str]):
    out = invoke_cli(*command, "--help").stdout
    for word in words:
        assert word in out


def test_version():
    result = invoke_cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"medpdf, version {__version__}\n"


def test_version_subprocess(tmp_path: Path):
    completed = subprocess.run(
        [sys.executable, "-m", "medpdf", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"medpdf, version {__version__}"
    assert "Traceback" not in completed.stderr


def test_unknown_command_is_a_usage_error(workdir: Path):
    result = invoke_cli("frobnicate")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_handout_with_a_250_character_slug_is_written(workdir: Path):
    slug = "-".join(["zentorex"] * 27)[:250]
    put(workdir / "content" / f"{slug}.md", clean("Longname"))
    result = invoke_cli("handout", "Longname")
    assert result.exit_code == 0, result.output
    target = workdir / "output" / "handouts" / f"{slug}.pdf"
    assert target.read_bytes().startswith(b"%PDF-")
    assert temp_leftovers(workdir) == []
