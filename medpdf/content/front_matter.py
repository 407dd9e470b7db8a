"""Front matter: the YAML between ``---`` lines, read safely, with line numbers.

A monograph's title, review date, language and drug codes come from here. Impossible
values are reported as ``path:line`` problems rather than exceptions, so one
bad file never stops the others.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from medpdf.content import codes
from medpdf.content.codes import Code
from medpdf.content.sources import Source
from medpdf.errors import Diagnostic, Level, SourceError
from medpdf.settings.kinds import check_lang

try:  # the libyaml loader python-frontmatter uses too: same speed, same messages
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _FrontMatterLoader(_SafeLoader):
    """Safe loader that keeps an impossible date (``2024-13-45``) as text.

    PyYAML raises a bare ValueError for those; as text, ``reviewed:`` can report
    it as a warning like any other bad value.
    """


def _timestamp_or_text(loader: _SafeLoader, node: yaml.ScalarNode) -> object:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def split_front_matter(source: Source) -> tuple[dict[str, Any], str, int]:
    """Return ``(metadata, body, first_body_line)`` or raise :class:`SourceError`."""
    handler = YAMLHandler()
    text = source.text.lstrip("\ufeff")
    stripped = text.lstrip()
    lead = len(text) - len(stripped)
    start_line = text.count("\n", 0, lead) + 1
    if not handler.detect(stripped):
        raise SourceError(source.display_path, 1, "missing front matter (expected '---' block)")
    try:
        raw_meta, body = handler.split(stripped)
    except ValueError:
        raise SourceError(
            source.display_path, start_line, "front matter is not closed with '---'"
        ) from None
    try:
        metadata = handler.load(raw_meta, Loader=_FrontMatterLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # YAML counts lines from the start of the block it was given; find that block's line.
        meta_line = text.count("\n", 0, lead + stripped.find(raw_meta)) + 1
        line = meta_line + mark.line if mark is not None else start_line
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise SourceError(source.display_path, line, f"broken front matter: {problem}") from None
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise SourceError(
            source.display_path, start_line, "front matter must be a mapping of keys to values"
        )
    body_start = lead + len(stripped) - len(body)
    return metadata, body, text.count("\n", 0, body_start) + 1


def title_of(metadata: Mapping[str, Any], path: str) -> str:
    value = metadata.get("title")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise SourceError(path, 1, "front matter has no 'title'")
    # YAML can also make sets and bytes (!!set, !!binary); their repr is no title.
    if not isinstance(value, str | int | float | dt.date):
        raise SourceError(path, 1, "front matter 'title' must be text")
    return " ".join(str(value).split())


def line_of(text: str, key: str) -> int | None:
    """Line of a top-level front matter key, for pointing a warning at it."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:", re.IGNORECASE)
    for number, line in enumerate(text.split("\n"), 1):
        if pattern.match(line):
            return number
        if number > 1 and line.strip() == "---":
            break
    return None


def reviewed_of(
    metadata: Mapping[str, Any], source: Source
) -> tuple[dt.date | None, list[Diagnostic]]:
    """The ``reviewed:`` date (YAML date or ``YYYY-MM-DD`` text); a bad one is a warning.

    Printed handouts show it, so staff can tell a stale printout; a wrong value is
    reported rather than printed.
    """
    value = metadata.get("reviewed")
    if value is None:
        return None, []
    if isinstance(value, dt.datetime):
        return value.date(), []
    if isinstance(value, dt.date):
        return value, []
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()), []
        except ValueError:
            pass
    shown = " ".join(str(value).split())[:60]
    warning = Diagnostic(
        source.display_path,
        line_of(source.text, "reviewed"),
        Level.WARNING,
        f"front matter 'reviewed' is not a date (YYYY-MM-DD): '{shown}'; not printed",
    )
    return None, [warning]


#: A purpose fits two lines of the pack's "What it is for" column.
MAX_PURPOSE = 90


def purpose_of(metadata: Mapping[str, Any], source: Source) -> str | None:
    """``purpose:``, what the medicine is for in plain words, or a one-line error.

    The medication pack prints it as written in its "What it is for" column,
    where it has room for about two lines, so it is refused rather than cut.
    """
    value = metadata.get("purpose")
    if value is None:
        return None

    def bad(message: str) -> SourceError:
        return SourceError(source.display_path, line_of(source.text, "purpose"), message)

    if not isinstance(value, str):
        raise bad("front matter 'purpose' must be text such as \"To treat high blood pressure\"")
    text = " ".join(value.split())
    if not text:
        raise bad("front matter 'purpose' is empty; leave it out to let medpdf find the use")
    if len(text) > MAX_PURPOSE:
        raise bad(f"front matter 'purpose' is at most {MAX_PURPOSE} characters, not {len(text)}")
    return text


def language_of(metadata: Mapping[str, Any], source: Source) -> tuple[str | None, str | None]:
    """``lang:`` (a BCP 47 tag) and ``translation_of:`` (a slug), or a one-line error.

    Both decide what is printed (headings, fonts, which drug it is), so a bad
    value stops the file rather than print the wrong language.
    """
    path = source.display_path
    lang = metadata.get("lang")
    if lang is not None:
        shown = " ".join(str(lang).split())[:40]

        def bad(message: str) -> SourceError:
            line = line_of(source.text, "lang")
            return SourceError(path, line, f"front matter 'lang' {message}")

        if not isinstance(lang, str):
            raise bad(f"must be a language tag such as es or zh-Hans, not '{shown}'")
        lang = check_lang(lang.strip(), bad)
    original = metadata.get("translation_of")
    if original is not None:
        if not isinstance(original, str) or not original.strip():
            line = line_of(source.text, "translation_of")
            raise SourceError(path, line, "front matter 'translation_of' must be a slug")
        original = original.strip().lower()
    return lang, original


#: A monograph names its drug by at most this many codes; more is a pasted list, not a drug.
MAX_CODES = 50


def codes_of(
    metadata: Mapping[str, Any], source: Source
) -> tuple[tuple[Code, ...], list[Diagnostic]]:
    """``codes:``: the drug's codes (RxNorm, SNOMED CT, ATC, NDC or a clinic's own).

    Each item is ``SYSTEM|CODE`` or a mapping ``{system: ..., code: ...}``. They let
    an EHR's medication list and Infobutton find this monograph by code. A bad item
    is a warning and is left out: the monograph still prints, and is still found by name.
    """
    value = metadata.get("codes")
    if value is None:
        return (), []
    line = line_of(source.text, "codes")

    def warning(message: str) -> Diagnostic:
        return Diagnostic(
            source.display_path, line, Level.WARNING, f"front matter 'codes' {message}"
        )

    if not isinstance(value, list):
        return (), [warning("must be a list of SYSTEM|CODE items, e.g. - rxnorm|6809; ignored")]
    found: list[Code] = []
    problems: list[Diagnostic] = []
    for number, item in enumerate(value[:MAX_CODES], start=1):
        if isinstance(item, str):
            system, sep, code = item.partition("|")
            why = codes.check(system, code) if sep else "is not SYSTEM|CODE"
        elif isinstance(item, dict) and set(item) == {"system", "code"}:
            system, code = item["system"], item["code"]
            why = codes.check(system, code)
        else:
            why = "must be SYSTEM|CODE or a mapping of system and code"
        if why is not None:
            shown = " ".join(str(item).split())[:60]
            problems.append(warning(f"item {number} ('{shown}'): {why}; ignored"))
            continue
        entry = codes.Code.of(str(system), str(code))
        if entry not in found:
            found.append(entry)
    if len(value) > MAX_CODES:
        problems.append(warning(f"has {len(value)} items; only the first {MAX_CODES} are used"))
    return tuple(found), problems
