"""A shipped language without its compiled catalog is one error line, never English words.

The end-to-end case (an installed wheel whose Spanish ``.mo`` is deleted) is in
test_wheel.py; here the rule itself, and the wheel's catalog compiler refusing
a broken translation.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from conftest import REPO

from medpdf import i18n

LOCALE = REPO / "locale"


def build_hook() -> ModuleType:
    """hatch_build.py, the wheel's build hook (it imports hatchling)."""
    pytest.importorskip("hatchling", reason="hatchling is not installed")
    spec = importlib.util.spec_from_file_location("hatch_build", REPO / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def locale_without_spanish(tmp_path: Path) -> Path:
    copy = tmp_path / "locale"
    shutil.copytree(LOCALE, copy)
    (copy / "es" / "LC_MESSAGES" / "medpdf.mo").unlink()
    return copy


def test_a_missing_compiled_catalog_names_the_language_and_the_file(
    locale_without_spanish: Path,
) -> None:
    wanted = locale_without_spanish / "es" / "LC_MESSAGES" / "medpdf.mo"
    with pytest.raises(i18n.MissingCatalog) as raised:
        i18n.translations(locale_without_spanish, "es")
    message = str(raised.value)
    assert message == (
        f"no compiled message catalog for Spanish (es): looked for {wanted}; "
        "in a checkout run `make catalogs`, else reinstall medpdf"
    )
    assert "\n" not in message


def test_requiring_the_shipped_catalogs_finds_the_one_missing(locale_without_spanish: Path) -> None:
    i18n.require_catalogs(LOCALE, i18n.SHIPPED)  # the checkout's are compiled
    i18n.require_catalogs(locale_without_spanish, ["fr", "zh_Hans"])
    with pytest.raises(i18n.MissingCatalog, match=r"Spanish \(es\)"):
        i18n.require_catalogs(locale_without_spanish, i18n.SHIPPED)


def test_the_other_catalogs_still_load(locale_without_spanish: Path) -> None:
    french = i18n.translations(locale_without_spanish, "fr")
    assert french.gettext("Patient information") != "Patient information"


def test_the_wheel_build_hook_refuses_a_translation_with_a_wrong_placeholder(
    tmp_path: Path,
) -> None:
    hook = build_hook()
    broken = tmp_path / "medpdf.po"
    text = (LOCALE / "es" / "LC_MESSAGES" / "medpdf.po").read_text(encoding="utf-8")
    broken.write_text(
        text.replace('msgstr "Página %(page)s de %(pages)s"', 'msgstr "Página %(pagina)s"'),
        encoding="utf-8",
    )
    with pytest.raises(hook.CatalogError, match=r"medpdf\.po:\d+: "):
        hook.compile_catalog(broken, tmp_path / "medpdf.mo", "es")
    assert not (tmp_path / "medpdf.mo").exists()


def test_the_wheel_build_hook_compiles_what_medpdf_reads(tmp_path: Path) -> None:
    hook = build_hook()
    for catalog in i18n.SHIPPED:
        po = LOCALE / catalog / "LC_MESSAGES" / "medpdf.po"
        hook.compile_catalog(po, i18n.catalog_file(tmp_path, catalog), catalog)
    i18n.require_catalogs(tmp_path, i18n.SHIPPED)
    spanish = i18n.translations(tmp_path, "es")
    assert spanish.gettext("Patient information") == "Información para el paciente"
