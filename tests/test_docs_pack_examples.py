"""The medication pack examples of the docs work as written.

Every command of the pack page, docs/running/packs.md (``$ medpdf …`` in its shell
blocks, and each ``medpdf pack …`` quoted in its text) is run in a project whose ``content/``
holds the real monographs it names, the invented translations of the language
tests, and for ``--fhir list.json`` the FHIR tests' list and the leaflets it
names; what the page shows it printing is what it prints (the page count
aside, which follows the leaflets). Skipped without the real collection.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from conftest import REPO, invoke_cli, normalise

pytestmark = pytest.mark.corpus

LANGUAGES = Path(__file__).parent / "fixtures" / "languages"
FHIR = Path(__file__).parent / "fixtures" / "fhir"


PAGE = REPO / "docs" / "running" / "packs.md"


def pack_section() -> str:
    return PAGE.read_text(encoding="utf-8")


def examples() -> list[tuple[str, list[str]]]:
    """(command, the lines the page shows it printing), from shell blocks and quoted text."""
    section = pack_section()
    found: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL):
        lines = block.replace("\\\n", " ").splitlines()
        for index, line in enumerate(lines):
            if line.startswith("$ medpdf "):
                shown = []
                for after in lines[index + 1 :]:
                    if after.startswith("$ "):
                        break
                    shown.append(after)
                found.append((line.removeprefix("$ medpdf "), shown))
    prose = re.sub(r"```.*?```", "", section, flags=re.DOTALL)
    for quoted in re.findall(r"`medpdf (pack [^`…]+)`", prose):
        found.append((" ".join(quoted.split()), []))
    return found


def test_the_section_has_examples_to_run() -> None:
    commands = [command for command, _ in examples()]
    assert any("--lang es" in c for c in commands)
    assert any("--dose" in c for c in commands)
    assert "pack ibuprofen.es metformin" in commands


@pytest.mark.parametrize(("command", "shown"), examples(), ids=lambda v: str(v)[:50])
def test_a_pack_example_of_the_docs_works_as_written(
    corpus_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    shown: list[str],
) -> None:
    args = shlex.split(command)
    content = tmp_path / "content"
    content.mkdir()
    for word in args:
        if (LANGUAGES / f"{word}.md").is_file() and "." in word:  # a translation
            shutil.copy(LANGUAGES / f"{word}.md", content)
        for path in corpus_dir.glob(f"*/{word.split('.')[0]}.md"):
            shutil.copy(path, content)
    if "--lang" in args:  # what --lang may pick: the language tests' translations
        for path in LANGUAGES.glob("*.*.md"):
            shutil.copy(path, content)
    if "--fhir" in args:  # a record's list: the FHIR tests' list and the leaflets it names
        shutil.copy(FHIR / "five-medicines.json", tmp_path / args[args.index("--fhir") + 1])
        for path in (FHIR / "collection").glob("*.md"):
            shutil.copy(path, content)
    monkeypatch.chdir(tmp_path)
    result = invoke_cli(*args)
    assert result.exit_code == 0, result.output
    pages = re.compile(r"\d+ pages\)")
    for line in shown:
        printed = result.stdout if line.startswith("wrote ") else result.stderr
        assert pages.sub("N pages)", line) in pages.sub("N pages)", normalise(printed)), printed
