"""The languages medpdf speaks: message catalogs, dates and writing direction.

Every fixed word a handout, the booklet or the station prints comes from a
gettext catalog under ``locale/<catalog>/LC_MESSAGES/medpdf.po``, managed with
Babel (``make messages`` extracts, ``make catalogs-update`` merges,
``make catalogs`` compiles the ``.mo`` files, which set-up does and git
ignores; a wheel's build hook, ``hatch_build.py``, compiles them into the
wheel). A monograph's BCP 47 tag picks the catalog: its language, and for
Chinese the script (Simplified: ``zh``, ``zh-CN``, ``zh-Hans``). A language
medpdf ships no catalog for gets English words around its own text; the
monograph text itself is never translated by medpdf. A shipped catalog whose
compiled ``.mo`` is missing is an installation fault: :class:`MissingCatalog`,
one line naming the language and the file looked for, never English instead.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from medpdf.errors import MedpdfError

#: The gettext domain of every catalog.
DOMAIN = "medpdf"
#: Catalogs shipped in ``locale/``; each must translate every message.
SHIPPED: tuple[str, ...] = ("en", "es", "fr", "pt", "zh_Hans", "ar")
#: The catalog of a tag Babel does not know or medpdf does not ship.
FALLBACK = "en"


@functools.cache
def babel_locale(tag: str) -> Locale | None:
    """Babel's locale for a BCP 47 tag (``pt-BR``, ``zh-Hans``); None if it knows none."""
    try:
        return Locale.parse(tag.replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        try:  # a region or variant Babel lacks (es-419x): the language alone
            return Locale.parse(tag.split("-")[0])
        except (UnknownLocaleError, ValueError, TypeError):
            return None


def catalog_for(tag: str) -> str:
    """The shipped catalog that speaks ``tag``'s language, else English."""
    locale = babel_locale(tag)
    if locale is None:
        return FALLBACK
    if locale.language == "zh":
        # Simplified is shipped; Traditional (zh-TW, zh-Hant) falls back rather than
        # print Simplified characters to a reader of Traditional ones.
        return "zh_Hans" if locale.script in (None, "Hans") else FALLBACK
    return locale.language if locale.language in SHIPPED else FALLBACK


def is_rtl(tag: str) -> bool:
    """True for languages written right to left (Arabic, Hebrew, Persian, Urdu...)."""
    locale = babel_locale(tag)
    return locale is not None and locale.text_direction == "rtl"


def direction(tag: str) -> str:
    """The HTML ``dir`` value of a language."""
    return "rtl" if is_rtl(tag) else "ltr"


def long_date(date: dt.date, tag: str) -> str:
    """A date as the language writes it ("1 de diciembre de 2026", "2026年12月1日")."""
    locale = babel_locale(tag)
    if locale is None:
        return date.isoformat()
    return str(format_date(date, format="long", locale=locale))


def number(value: int, tag: str) -> str:
    """A count with the language's digit grouping ("6,238", "6.238", "6 238")."""
    locale = babel_locale(tag)
    return f"{value:,}" if locale is None else str(format_decimal(value, locale=locale))


def list_of(items: Iterable[str], tag: str) -> str:
    """Words joined as the language lists them ("a, b and c", "a, b y c", "a、b和c")."""
    words = [str(item) for item in items]
    locale = babel_locale(tag)
    if locale is None or not words:
        return ", ".join(words)
    return str(format_list(words, locale=locale))


def language_name(tag: str, in_tag: str | None = None) -> str:
    """The name of ``tag``'s language, in that language (or in ``in_tag``'s): "español"."""
    locale = babel_locale(tag)
    if locale is None:
        return tag
    shown_in = babel_locale(in_tag) if in_tag else locale
    return str(locale.get_display_name(shown_in or locale) or tag)


def N_(message: str) -> str:
    """Mark a message for the catalogs where it is written; it is translated when shown."""
    return message


class MissingCatalog(MedpdfError):
    """A shipped language's compiled catalog is not where medpdf looked for it."""


def catalog_file(locale_dir: Path, catalog: str) -> Path:
    """Where the compiled catalog ``catalog`` is read from."""
    return locale_dir / catalog / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _missing(locale_dir: Path, catalog: str) -> MissingCatalog:
    name = language_name(catalog.replace("_", "-"), "en")
    return MissingCatalog(
        f"no compiled message catalog for {name} ({catalog}): looked for "
        f"{catalog_file(locale_dir, catalog)}; in a checkout run `make catalogs`, "
        "else reinstall medpdf"
    )


def require_catalogs(locale_dir: Path, catalogs: Iterable[str]) -> None:
    """Raise :class:`MissingCatalog` for the first of ``catalogs`` without a compiled file.

    Called before a run starts rendering, so a broken installation is one line
    at once rather than one failure per document from the render workers.
    """
    for catalog in sorted(set(catalogs)):
        if not catalog_file(locale_dir, catalog).is_file():
            raise _missing(locale_dir, catalog)


@functools.cache
def translations(locale_dir: Path, catalog: str) -> NullTranslations:
    """The compiled catalog ``catalog`` (one of :data:`SHIPPED`).

    A missing ``.mo`` means set-up did not compile the catalogs (``make
    catalogs``) or the installation lacks them: :class:`MissingCatalog`, never
    a silent fallback to the English message ids.
    """
    found = Translations.load(str(locale_dir), [catalog], domain=DOMAIN)
    if not isinstance(found, Translations):
        raise _missing(locale_dir, catalog)
    return found
