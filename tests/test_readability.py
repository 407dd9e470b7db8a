"""Reading grade (Flesch-Kincaid) in `medpdf check`: computation, warnings, report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import write_monograph

from medpdf.cli import cli
from medpdf.content import readability
from medpdf.content.model import Monograph, build
from medpdf.content.sources import Source

SIMPLE = (
    "Take one tablet each day with a glass of water. "
    "Do not drive if this medicine makes you feel sleepy."
)
COMPLEX = (
    "Concomitant administration with cytochrome P450 3A4 inhibitors necessitates "
    "individualized therapeutic monitoring, particularly in hepatically compromised "
    "populations exhibiting diminished metabolic clearance."
)


def monograph_text(title: str, body: str, disclaimer: str = "Fixture disclaimer.") -> str:
    return (
        f"---\ntitle: {title}\nlayout: {COMPLEX}\n---\n\n# {title}\n\n{body}\n\n"
        f"### Generic Name\n{title}\n\n### Usage\n{body}\n\n### Dosage\n{body}\n\n"
        f"### Side Effects\n- {body}\n- Headache\n\n### How it Works\n{body}\n\n"
        f"### Precautions\n{body}\n\n### FAQs\n{body}\n\n"
        f"**Disclaimer:** {disclaimer}\n"
    )


def monograph(text: str) -> Monograph:
    return build(Source(Path("x.md"), "content/x.md", "x", text, "0" * 64))


def test_simple_text_grades_low_and_complex_text_high():
    assert 1 < readability.grade_text(SIMPLE) < 5
    assert readability.grade_text(COMPLEX) > 16
    assert readability.grade_text("") == 0.0
    assert readability.grade_text("  ... !!") == 0.0


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("take", 1),
        ("tablet", 2),
        ("water", 2),
        ("medicine", 3),
        ("used", 1),
        ("reduced", 2),
        ("tablets", 2),
        ("simple", 2),
        ("administration", 5),
        ("therapeutic", 4),
        ("hepatically", 5),
    ],
)
def test_syllables(word: str, expected: int):
    assert readability.syllables(word) == expected


def test_grade_is_the_flesch_kincaid_formula():
    # By hand: 2 sentences, 20 words, 25 syllables; the vowel-group count says 26
    # ("makes" gets two). 0.39 * 20 / 2 + 11.8 * 26 / 20 - 15.59 = 3.65
    counts = readability.count(SIMPLE)
    assert (counts.sentences, counts.words) == (2, 20)
    assert abs(counts.syllables - 25) <= 1
    assert readability.grade_text(SIMPLE) == pytest.approx(
        0.39 * counts.words / counts.sentences + 11.8 * counts.syllables / counts.words - 15.59
    )
    assert readability.grade_text(SIMPLE) == pytest.approx(3.65, abs=0.01)


def test_counts_follow_textstat_conventions():
    counts = readability.count("Dosage. Beta-blockers lower the heart rate. Q: Why?")
    assert counts.words == 8  # "beta-blockers" is one word
    assert counts.sentences == 1  # "Dosage." and "Q: Why?" are too short to count
    assert counts.syllables >= counts.words


def test_patient_text_leaves_out_front_matter_title_headings_and_disclaimer():
    mono = monograph(monograph_text("Zentorex", SIMPLE, disclaimer="Legalese herein."))
    text = readability.patient_text(mono)
    assert text.count(SIMPLE) == 7  # intro, five sections, the list item
    assert "Headache." in text  # a list item becomes a sentence of its own
    assert text.count("Zentorex") == 1  # the Generic Name body, not the title
    for absent in ("Usage", "Side Effects", "Legalese", "Disclaimer", "Concomitant"):
        assert absent not in text


def test_grade_of_a_monograph_uses_only_patient_text():
    # The complex front matter and disclaimer do not raise the grade of simple text.
    mono = monograph(monograph_text("Zentorex", SIMPLE, disclaimer=COMPLEX))
    graded = readability.grade(mono)
    assert graded is not None
    assert graded.grade == pytest.approx(readability.grade_text(readability.patient_text(mono)))
    assert graded.grade < 5
    assert graded.path == "content/x.md"


def test_warnings_respect_the_threshold():
    graded = [
        readability.Grade("a.md", "A", 7.96, 100),
        readability.Grade("b.md", "B", 8.04, 100),
        readability.Grade("c.md", "C", 12.34, 100),
    ]
    messages = [(d.path, d.message) for d in readability.warnings(graded, 8)]
    assert messages == [("c.md", "reading grade 12.3 is above 8 (Flesch-Kincaid)")]
    assert [d.path for d in readability.warnings(graded, 7.5)] == ["a.md", "b.md", "c.md"]
    assert readability.warnings(graded, 13) == []


def test_summary_counts_those_above_the_ceiling():
    graded = [
        readability.Grade("a.md", "A", 7.96, 100),
        readability.Grade("b.md", "B", 8.04, 100),
        readability.Grade("c.md", "C", 12.34, 100),
    ]
    assert readability.summary(graded, 8) == (
        "reading grade: 1 of 3 monographs are above grade 8 (Flesch-Kincaid, median 8.0); "
        "--max-grade N or [check] max_grade warns for each, --report shows the distribution"
    )
    all_above = readability.summary(graded, 7.5)
    assert all_above is not None
    assert all_above.startswith("reading grade: 3 of 3 monographs are above grade 7.5 ")
    assert readability.summary(graded, 13) is None
    assert readability.summary([], 8) is None


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "content"
    write_monograph(folder, "easy", monograph_text("Easyzol", SIMPLE))
    write_monograph(folder, "hard", monograph_text("Hardazepam", COMPLEX))
    return folder


def check(*args: str) -> Result:
    return CliRunner().invoke(cli, ["check", *args])


GRADE_WARNING = re.compile(
    r"^content/hard\.md: warning: reading grade (\d+\.\d) is above 8 \(Flesch-Kincaid\)$"
)
GRADE_SUMMARY = re.compile(
    r"^reading grade: 1 of 2 monographs are above grade 8 \(Flesch-Kincaid, median \d+\.\d\); "
    r"--max-grade N or \[check\] max_grade warns for each, --report shows the distribution$"
)


def test_check_summarises_above_the_default_grade(content: Path):
    # Without a ceiling of its own, check prints one summary line, not a warning per file.
    result = check()
    assert result.exit_code == 0
    assert result.stdout == ""
    summary, counts = result.stderr.splitlines()
    assert GRADE_SUMMARY.match(summary), summary
    assert counts == "checked 2 monographs: 0 errors, 0 warnings"
    # The summary line is not a warning, so --strict does not fail on it.
    assert check("--strict").exit_code == 0


def test_check_warns_above_an_explicit_grade(content: Path):
    # Asking for the default ceiling explicitly still warns for each file, as before.
    result = check("--max-grade", "8")
    assert result.exit_code == 0
    [line] = result.stdout.splitlines()
    match = GRADE_WARNING.match(line)
    assert match, line
    assert float(match.group(1)) > 16
    assert result.stderr == "checked 2 monographs: 0 errors, 1 warnings\n"
    assert check("--max-grade", "8", "--strict").exit_code == 1


def test_max_grade_moves_the_threshold(content: Path):
    def warned(ceiling: str) -> list[str]:
        out = check("--max-grade", ceiling).stdout.splitlines()
        assert all(line.endswith(f"is above {ceiling} (Flesch-Kincaid)") for line in out), out
        return [line.split(":")[0] for line in out]

    # The easy monograph grades 3.9, the hard one far above 20.
    assert warned("20") == ["content/hard.md"]
    assert warned("4") == ["content/hard.md"]
    assert warned("3.5") == ["content/easy.md", "content/hard.md"]
    assert warned("1") == ["content/easy.md", "content/hard.md"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "must be a number from 1 to 20, not -1"),
        ("0.5", "must be a number from 1 to 20, not 0.5"),
        ("21", "must be a number from 1 to 20, not 21"),
        ("eight", 'must be a number, not "eight"'),
        ("nan", 'must be a finite number, not "nan"'),
    ],
)
def test_max_grade_must_be_a_number_from_1_to_20(content: Path, value: str, reason: str):
    result = check("--max-grade", value)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"Error: Invalid value for '--max-grade': {reason}"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-1", "must be a number from 1 to 20, not -1"),
        ("0.5", "must be a number from 1 to 20, not 0.5"),
        ("21", "must be a number from 1 to 20, not 21"),
        ('"eight"', 'must be a number, not "eight"'),
    ],
)
def test_check_max_grade_in_medpdf_toml_follows_the_same_rule(
    content: Path, value: str, reason: str
):
    (content.parent / "medpdf.toml").write_text(f"[check]\nmax_grade = {value}\n", "utf-8")
    result = check()
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"medpdf: error: medpdf.toml:2: check.max_grade: {reason}\n"


def test_report_prints_histogram_median_and_worst(content: Path):
    for index in range(11):  # more than ten, so "worst 10" is cut
        write_monograph(content, f"mid{index:02}", monograph_text(f"Mid{index:02}", SIMPLE))
    result = check("--report")
    assert result.exit_code == 0
    out = result.stdout.splitlines()
    # No per-file warning without an explicit ceiling: the summary goes to stderr.
    assert out[0] == ""
    summary, counts = result.stderr.splitlines()
    assert summary.startswith("reading grade: 1 of 13 monographs are above grade 8 "), summary
    assert counts == "checked 13 monographs: 0 errors, 0 warnings"
    header = re.fullmatch(
        r"reading grade \(Flesch-Kincaid\) of 13 monographs: median (\d+\.\d), 1 above 8",
        out[1],
    )
    assert header, out[1]
    bands = out[2:9]
    assert [line.split("|")[0].strip() for line in bands] == [
        "< 6", "6-8", "8-10", "10-12", "12-14", "14-16", ">= 16"
    ]  # fmt: skip
    counts = [int(line.rsplit(" ", 1)[1]) for line in bands]
    assert sum(counts) == 13
    assert counts[0] == 12  # the twelve easy ones, drawn as the widest bar
    assert bands[0].count("#") == 40
    assert out[9] == "worst 10:"
    worst = out[10:20]
    assert out[20:22] == ["", "ingredient names that look like near-duplicates: 0"]
    assert re.fullmatch(r"\s+\d+\.\d  content/hard\.md  \(Hardazepam\)", worst[0])
    grades = [float(line.split()[0]) for line in worst]
    assert grades == sorted(grades, reverse=True)
    # The median is one of the twelve easy monographs (all but the hard one).
    assert min(grades[1:]) - 0.05 <= float(header.group(1)) <= max(grades[1:]) + 0.05


def test_report_of_an_empty_collection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "content").mkdir()
    result = check("--report")
    assert result.stdout == (
        "\nreading grade (Flesch-Kincaid): no monographs with text\n"
        "\ningredient names that look like near-duplicates: 0\n"
        "\ncontent rules (en.toml, es.toml, fr.toml in medpdf/data/content_rules): 0 monographs\n"
        "  not a leaflet: 0 monographs (left out of every build and the station)\n"
        "  discontinued: 0 monographs (a banner on the handout's page 1)\n"
        "\ndrug classes of the medication pack's prompts: no monographs\n"
        '\n"What it is for" on the medication pack\'s page 1: no monographs\n'
    )
