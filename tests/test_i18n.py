"""The message catalogs: every word medpdf prints is translated in every shipped language.

The messages the templates use are extracted with Babel exactly as
``make messages`` does (``babel.cfg``); each catalog must hold every one of
them, translated, not fuzzy, with the same placeholders, and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from medpdf import i18n

REPO = Path(__file__).resolve().parent.parent
LOCALE = REPO / "locale"


def used_messages(root: Path) -> set[str]:
    """Message ids the templates under ``root`` use, by the rules of babel.cfg."""
    with (REPO / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = extract_from_dir(str(root), method_map, options_map)
    return {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}


def singular(message_id: str | tuple[str, ...]) -> str:
    """A message's id as the templates use it: a plural message by its singular."""
    return message_id if isinstance(message_id, str) else message_id[0]


def catalog_problems(catalog_path: Path, used: set[str]) -> list[str]:
    """Why a .po file is not complete for ``used``: missing, untranslated, fuzzy, unused."""
    with catalog_path.open("rb") as handle:
        catalog = read_po(handle)
    problems = []
    held = {singular(m.id) for m in catalog if m.id}
    problems += [f"missing: {m!r}" for m in sorted(used - held)]
    problems += [f"not used by any template: {m!r}" for m in sorted(held - used)]
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(form and str(form).strip() for form in forms):  # every plural form too
            problems.append(f"untranslated: {message.id!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
    for message, errors in catalog.check():  # placeholders that differ from the msgid
        problems += [f"{message.id!r}: {error}" for error in errors]
    return problems


@pytest.fixture(scope="module")
def used() -> set[str]:
    return used_messages(REPO)


def test_templates_use_messages(used):
    assert "Page %(page)s of %(pages)s" in used
    assert "%(num)d medicine" in used  # a plural (ngettext), by its singular
    assert len(used) >= 30


@pytest.mark.parametrize("catalog", i18n.SHIPPED)
def test_every_catalog_translates_every_message_used(catalog, used):
    po = LOCALE / catalog / "LC_MESSAGES" / "medpdf.po"
    assert po.is_file(), f"no catalog {po}"
    assert catalog_problems(po, used) == []


def test_the_template_file_lists_what_the_templates_use(used):
    with (LOCALE / "medpdf.pot").open("rb") as handle:
        held = {singular(m.id) for m in read_po(handle) if m.id}
    assert held == used, "run `make catalogs-update` after changing templates"


def test_a_new_message_without_translations_fails_the_check(tmp_path, used):
    """The check above can fail: a template with one more message is caught."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.html.j2").write_text(
        '{{ _("Keep out of reach of children") }}', encoding="utf-8"
    )
    more = used | used_messages(tmp_path)
    problems = catalog_problems(LOCALE / "es" / "LC_MESSAGES" / "medpdf.po", more)
    assert problems == ["missing: 'Keep out of reach of children'"]


@pytest.mark.parametrize("catalog", [c for c in i18n.SHIPPED if c != "en"])
def test_compiled_catalogs_are_installed_and_used(catalog):
    mo = LOCALE / catalog / "LC_MESSAGES" / "medpdf.mo"
    assert mo.is_file(), "run `make catalogs` (set-up compiles them)"
    translated = i18n.translations(LOCALE, catalog).gettext("Patient information")
    assert translated != "Patient information"


@pytest.mark.parametrize(
    ("tag", "catalog"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("es-MX", "es"),
        ("pt-BR", "pt"),
        ("fr-CA", "fr"),
        ("zh", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh-TW", "en"),  # Traditional characters are not shipped: not Simplified instead
        ("ar-EG", "ar"),
        ("de", "en"),
        ("tlh", "en"),
    ],
)
def test_a_language_tag_picks_its_catalog(tag, catalog):
    assert i18n.catalog_for(tag) == catalog


def test_writing_direction_and_dates_follow_the_language():
    assert [i18n.direction(t) for t in ("ar", "he", "fa", "ur", "en", "zh-Hans")] == [
        "rtl",
        "rtl",
        "rtl",
        "rtl",
        "ltr",
        "ltr",
    ]
    import datetime as dt

    day = dt.date(2026, 12, 1)
    assert i18n.long_date(day, "es") == "1 de diciembre de 2026"
    assert i18n.long_date(day, "zh-Hans") == "2026年12月1日"
    assert i18n.long_date(day, "en") == "December 1, 2026"
