"""Variants files: each variant a set of options or a matrix, built into its own folder."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest
from conftest import MINIMAL, invoke_cli, normalised_text, write_monograph

from medpdf.errors import ConfigError
from medpdf.settings import config, options, variants
from medpdf.settings.table_kinds import ClinicInfo

pytestmark = pytest.mark.slow


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "variants.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_named_variants_and_a_matrix_expand_in_file_order(tmp_path: Path):
    path = write(
        tmp_path,
        """
[riverside]
clinic = { name = "Riverside Family Clinic" }

[print]
lang = "pt-BR"
matrix.paper = ["a4", "letter"]
matrix.large_print = [false, true]
""",
    )
    found = variants.load(path)
    assert [v.name for v in found] == [
        "riverside",
        "print-a4",
        "print-a4-large-print",
        "print-letter",
        "print-letter-large-print",
    ]
    assert dict(found[0].values) == {"clinic": ClinicInfo(name="Riverside Family Clinic")}
    assert dict(found[4].values) == {"lang": "pt-BR", "paper": "letter", "large_print": True}
    base = config.make(output_dir=tmp_path / "out", paper="a4", patient_fields=True)
    applied = found[4].apply(base)
    assert applied.output_dir == tmp_path / "out" / "print-letter-large-print"
    assert applied.handouts_dir == tmp_path / "out" / "print-letter-large-print" / "handouts"
    # The variant's values win; what it does not set comes from the run's settings.
    assert applied.settings["paper"] == "letter"
    assert applied.settings["patient_fields"] is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[a4]\npaper = "a5"\n', ':2: a4.paper: must be "a4" or "letter", not "a5"'),
        ('[a4]\npapr = "a4"\n', ":2: a4.papr: unknown option (variant options: paper, "),
        ("[a4]\njobs = 2\n", ":2: a4.jobs: not a variant option: it does not change a PDF"),
        (
            '[set]\nmatrix.large_print = [true, "no"]\n',
            ':2: set.matrix.large_print: must be true or false, not "no"',
        ),
        (
            '[set.matrix]\npaper = "a4"\n',
            ':2: set.matrix.paper: must be a non-empty array of values, not "a4"',
        ),
        ('[c]\nclinic = { nme = "x" }\n', ":2: c.clinic.nme: unknown key (known: address, "),
        ('[c.clinic]\nname = "x"\nnme = "y"\n', ":3: c.clinic.nme: unknown key (known: "),
        ('paper = "a4"\n', ':1: paper: a variant must be a table [paper] of options, not "a4"'),
        ("[handouts]\n", ":1: handouts: a variant name is its output folder"),
        ('["a b"]\n', ":1: a b: a variant name is its output folder"),
        ("[a]\nmatrix.large_print = [true]\n[a-large-print]\n", ":3: a-large-print: two variants"),
        ('[a]\npaper = "a4"\nmatrix.paper = ["letter"]\n', ":3: a.matrix.paper: set both alone"),
        ("[a]\npaper = \n", ":2: invalid TOML"),
        ("", ": no variants"),
    ],
)
def test_a_bad_variants_file_is_one_line_naming_file_line_and_key(
    tmp_path: Path, text: str, expected: str
):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        variants.load(path)
    message = caught.value.message
    assert message.startswith(f"{path}{expected}"), message
    assert "\n" not in message


def test_build_with_variants_writes_each_into_its_own_cached_folder(tmp_path: Path):
    content = tmp_path / "content"
    for title in ("Abrelin", "Brantix"):
        write_monograph(content, title.lower(), MINIMAL.format(title=title))
    path = write(tmp_path, '[a4]\npaper = "a4"\n\n[letter]\npaper = "letter"\nlarge_print = true\n')
    args = ["build", "--content", str(content), "--variants", str(path), "-j", "2"]
    first = invoke_cli(*args, "--config", str(write_empty(tmp_path)))
    assert first.exit_code == 0, first.output
    assert "a4: handouts: 2 built" in first.stderr
    assert "letter: handouts: 2 built" in first.stderr
    for name, width in (("a4", 595), ("letter", 612)):
        folder = tmp_path / "output" / name
        for slug in ("abrelin", "brantix"):
            page = pypdf.PdfReader(folder / "handouts" / f"{slug}.pdf").pages[0]
            assert round(float(page.mediabox.width)) == width
        assert "Abrelin" in normalised_text(folder / "booklet.pdf")
        assert (folder / ".cache").is_dir()
    again = invoke_cli(*args, "--config", str(write_empty(tmp_path)))
    assert "a4: handouts: 0 built, 2 unchanged" in again.stderr
    assert "letter: booklet: 2 monographs" in again.stderr
    assert not (tmp_path / "output" / "handouts").exists()  # only the variants' folders


def write_empty(tmp_path: Path) -> Path:
    path = tmp_path / "medpdf.toml"
    path.write_text("", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- [build] scheduler


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"tcp://render-1:8786"', "tcp://render-1:8786"),
        ('"10.0.0.5:8786"', "tcp://10.0.0.5:8786"),
        ('"tls://render-1:8786"', "tls://render-1:8786"),
    ],
)
def test_build_scheduler_is_a_dask_address(tmp_path: Path, value: str, expected: str):
    path = tmp_path / "medpdf.toml"
    path.write_text(f"[build]\nscheduler = {value}\n", encoding="utf-8")
    assert config.load(path)[options.SCHEDULER] == expected


@pytest.mark.parametrize("value", ['"render-1"', '"http://render-1:8786"', '"tcp://:8786"'])
def test_a_bad_scheduler_address_is_one_line_with_its_key(tmp_path: Path, value: str):
    path = tmp_path / "medpdf.toml"
    path.write_text(f"[build]\nscheduler = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert caught.value.message.startswith(
        f"{path}:2: build.scheduler: must be a scheduler address such as tcp://HOST:8786"
    )


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
