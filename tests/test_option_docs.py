"""The docs' list of variant options is made from the option table and cannot drift."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from conftest import REPO

from medpdf.errors import MedpdfError
from medpdf.settings import option_docs, options, variants
from medpdf.settings.kinds import Boolean

PAGE = REPO / "docs" / "running" / "cluster.md"


def listed_options(text: str) -> list[str]:
    """The option names in the first column of the page's generated table."""
    section = re.search(r"<!-- begin variant-options.*?<!-- end variant-options -->", text, re.S)
    assert section is not None
    return re.findall(r"^\| `([a-z_]+)` \|", section.group(0), re.M)


def test_the_docs_section_is_what_the_option_table_makes() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert option_docs.regenerated(text) == text, "run `make option-docs` and commit the page"


def test_the_docs_list_every_option_a_variants_file_accepts() -> None:
    listed = listed_options(PAGE.read_text(encoding="utf-8"))
    assert listed == list(variants.variant_options())
    # The three it once left out.
    assert {"content_lang", "also", "duplex"} <= set(listed)


def test_every_listed_option_is_read_from_a_variants_file(tmp_path: Path) -> None:
    values = {
        "paper": '"letter"',
        "large_print": "true",
        "lang": '"es"',
        "content_lang": '"es"',
        "also": '"fr"',
        "patient_fields": "true",
        "qr_url": '"https://example.org/{slug}"',
        "clinic": '{ name = "Riverside" }',
        "duplex": "true",
        "compact": "true",
    }
    listed = listed_options(PAGE.read_text(encoding="utf-8"))
    assert sorted(values) == sorted(listed)  # a new option needs a value here too
    path = tmp_path / "variants.toml"
    path.write_text("[all]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()), "utf-8")
    (variant,) = variants.load(path)
    assert sorted(dict(variant.values)) == sorted(listed)


def test_a_new_option_that_changes_a_pdf_appears_in_the_table() -> None:
    new = options.Option(
        "ink_saver",
        Boolean(),
        False,
        "Print | light.",
        toml=("output", "ink_saver"),
        invalidates=options.Invalidates.OUTPUT,
    )
    table = option_docs.variant_options_table((*options.OPTIONS, new))
    assert "| `ink_saver` | `false` | `output.ink_saver` | no | Print \\| light. |" in table
    unchanged = dataclasses.replace(new, invalidates=options.Invalidates.NOTHING)
    assert "ink_saver" not in option_docs.variant_options_table((*options.OPTIONS, unchanged))


def test_a_readme_without_the_markers_is_one_error_line() -> None:
    with pytest.raises(MedpdfError, match=r"^expected one `<!-- begin variant-options -->`"):
        option_docs.regenerated("# A README\n")


def test_the_script_checks_and_rewrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(
        "Before.\n\n<!-- begin variant-options -->\n| old |\n"
        "<!-- end variant-options -->\n\nAfter.\n",
        encoding="utf-8",
    )
    assert option_docs.main(["--check", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert option_docs.main([str(stale)]) == 0
    text = stale.read_text(encoding="utf-8")
    assert text.startswith("Before.\n\n<!-- begin variant-options (generated from")
    assert text.endswith("<!-- end variant-options -->\n\nAfter.\n")
    assert listed_options(text) == list(variants.variant_options())
    assert option_docs.main(["--check", str(stale)]) == 0
    assert option_docs.main([str(tmp_path / "absent.md")]) == 2
