"""Content rules: text a clinic must never hand out as it is, found by phrase.

The collection is AI-assisted, and some monographs carry the assistant's own
voice ("I cannot provide information on a combination of ...") or call their
product hypothetical; others say the medicine is no longer made. The phrases
live in one data file per language (``medpdf/data/content_rules/<lang>.toml``,
read with tomllib) so that an editor can tune them without touching code; this
module applies them (the matching itself is :mod:`medpdf.content.rule_engine`).
Two kinds:

* *not a leaflet* (an error): builds leave the monograph out, the station
  shows it as unavailable, and ``medpdf approve`` refuses it;
* *discontinued* (a warning): the handout carries a banner on page 1 and the
  booklet entry a note.

``check`` (through :mod:`medpdf.content.collection`) runs the rules over each
source's text after its front matter, so every hit has a line; the render
path asks :func:`says_discontinued` of the parsed monograph, over the same
text reassembled from its parts (tests check on the corpus that the two agree).
A monograph in a language without a rules file is checked by none.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from medpdf.content.model import Monograph, components_of
from medpdf.content.rule_engine import DRUG as DRUG
from medpdf.content.rule_engine import Hit as Hit
from medpdf.content.rule_engine import Kind as Kind
from medpdf.content.rule_engine import Rule as Rule
from medpdf.content.rule_engine import RuleSet as RuleSet
from medpdf.content.rule_engine import Subject as Subject
from medpdf.content.rule_engine import expand
from medpdf.content.rule_engine import find as find
from medpdf.content.rule_patterns import required_words as required_words
from medpdf.content.sources import Source
from medpdf.errors import Diagnostic

#: The rules files, one per language: ``<primary language subtag>.toml``.
RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "content_rules"


class RulesError(ValueError):
    """A rules file that cannot be used: bad TOML, an unknown kind, a pattern that fails."""


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RulesError(f"{where}: must be a list of strings")
    return tuple(value)


def parse(text: str, lang: str, path: Path) -> RuleSet:
    """A rules file's text as a :class:`RuleSet`; every pattern is compiled once to check it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: invalid TOML: {exc}") from None
    table = data.get("subject", {})
    after = table.get("after", "")
    if not isinstance(after, str):
        raise RulesError(f"{path}: subject.after: must be a string")
    subject = Subject(_strings(table.get("words", []), f"{path}: subject.words"), after)
    rules: list[Rule] = []
    for number, raw in enumerate(data.get("rule", []), 1):
        where = f"{path}: rule {number}"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise RulesError(f"{where}: needs a name")
        where = f"{path}: rule '{raw['name']}'"
        try:
            kind = Kind(raw.get("kind"))
        except ValueError:
            choices = " or ".join(f'"{k.value}"' for k in Kind)
            raise RulesError(f"{where}: kind must be {choices}") from None
        rule = Rule(
            raw["name"],
            kind,
            str(raw.get("message", raw["name"])),
            _strings(raw.get("patterns", []), f"{where}: patterns"),
            _strings(raw.get("unless", []), f"{where}: unless"),
        )
        for pattern in (*rule.patterns, *rule.unless):
            try:
                re.compile(expand(pattern, subject))
            except re.error as exc:
                raise RulesError(f"{where}: pattern {pattern!r}: {exc}") from None
        rules.append(rule)
    return RuleSet(lang, path, tuple(rules), subject)


def rules_for(lang: str) -> RuleSet | None:
    """The rules of a language (its primary subtag: ``en-GB`` reads ``en.toml``); None if none."""
    primary = lang.split("-")[0].split("_")[0].lower()
    return _rules_file(primary) if primary.isalpha() else None


@functools.cache
def _rules_file(primary: str) -> RuleSet | None:
    """A language's rules file, read and checked once per process."""
    path = RULES_DIR / f"{primary}.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return parse(text, primary, path)


def languages() -> tuple[str, ...]:
    """The languages that have a rules file."""
    return tuple(sorted(p.stem for p in RULES_DIR.glob("*.toml")))


def names_of(monograph: Monograph) -> tuple[str, ...]:
    """The names that stand for a monograph's medicine: its title, generic name, components."""
    found = [monograph.title, *components_of(monograph.title)]
    if generic := monograph.generic_name:  # parsed from Markdown at each call: once
        found.append(generic)
    # "Lanoteplase (Recombinant)" is also "lanoteplase" in its own text.
    bare = [_PARENTHESES.sub(" ", name) for name in found]
    return tuple(dict.fromkeys(n for n in (*found, *bare) if n.strip()))


_PARENTHESES = re.compile(r"\s*\([^()]*\)")


#: The line that opens and closes front matter (as python-frontmatter's YAML handler sees it).
_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)


def _body(text: str) -> tuple[str, int]:
    """The text after the front matter of a file that parsed, and the line it starts on."""
    found = _BOUNDARY.finditer(text)
    first, second = next(found, None), next(found, None)
    if first is None or second is None:
        return text, 1
    return text[second.end() :], text.count("\n", 0, second.end()) + 1


def check(source: Source, monograph: Monograph, lang: str) -> list[Diagnostic]:
    """``check``'s lines for one monograph: one per rule that matched."""
    return diagnostics(source.display_path, source_hits(source.text, monograph, lang))


def source_hits(text: str, monograph: Monograph, lang: str) -> tuple[Hit, ...]:
    """Every hit in a monograph file's text after its front matter, with the file's lines."""
    body, first_line = _body(text)
    return find(body, names_of(monograph), rules_for(lang), first_line)


def monograph_hits(monograph: Monograph, lang: str) -> tuple[Hit, ...]:
    """Every hit in a parsed monograph (title, intro, sections, disclaimer), for the render path."""
    text = monograph_text(
        monograph.title,
        monograph.intro,
        ((s.heading, s.body) for s in monograph.sections),
        monograph.disclaimer,
    )
    return find(text, names_of(monograph), rules_for(lang))


def says_discontinued(monograph: Monograph, lang: str) -> bool:
    """True when the monograph says its medicine is no longer made (the handout's banner)."""
    return any(h.kind is Kind.DISCONTINUED for h in monograph_hits(monograph, lang))


# -- what check and the render path ask ------------------------------------------------


def diagnostics(path: str, hits: Iterable[Hit]) -> list[Diagnostic]:
    """One ``check`` line per rule that matched: its first line, the words, the other lines.

    One line per rule rather than per hit: Alefacept says it is no longer made
    eight times, and eight lines would bury the files that need a look.
    ``check --report`` lists every hit.
    """
    by_rule: dict[str, list[Hit]] = {}
    for hit in hits:
        by_rule.setdefault(hit.rule.name, []).append(hit)
    found = []
    for rule_hits in by_rule.values():
        first = rule_hits[0]
        rule = first.rule
        others = sorted({h.line for h in rule_hits[1:]} - {first.line})
        also = f"; also line{'s' if len(others) > 1 else ''} " if others else ""
        also += ", ".join(str(n) for n in others[:10]) + (" ..." if len(others) > 10 else "")
        consequence = (
            "; left out of every build and the station"
            if rule.kind is Kind.NOT_A_LEAFLET
            else "; its handout says so on page 1"
        )
        message = (
            f"{rule.kind.label} [{rule.name}]: {rule.message} "
            f"(“{first.excerpt}”){also}{consequence}"
        )
        found.append(Diagnostic(path, first.line, rule.kind.level, message))
    return found


def monograph_text(
    title: str,
    intro: str,
    sections: Iterable[tuple[str, str]],
    disclaimer: str | None,
) -> str:
    """A parsed monograph's words in the order of its file, for :func:`says_discontinued`."""
    parts = [f"# {title}", intro]
    for heading, body in sections:
        parts += [f"### {heading}", body]
    if disclaimer:
        parts.append(disclaimer)
    return "\n\n".join(parts)


def kinds_in(hits: Iterable[Hit]) -> frozenset[Kind]:
    """The kinds among some hits."""
    return frozenset(hit.kind for hit in hits)


# -- check --report ---------------------------------------------------------------------

#: A content-rule line of ``check`` (what :func:`diagnostics` writes), read back for the report.
_LINE = re.compile(
    r"^(?P<kind>not a leaflet|discontinued) \[(?P<rule>[^\]]+)\]: .*?\(“(?P<excerpt>.*)”\)"
    r"(?:; also lines? (?P<also>[0-9, .]+))?;"
)


@dataclass(frozen=True)
class Finding:
    """One content-rule line of ``check``, read back: file, first line, rule, the other lines."""

    path: str
    line: int | None
    kind: Kind
    rule: str
    excerpt: str
    also: str


def findings(found: Iterable[Diagnostic]) -> list[Finding]:
    """The content-rule lines among ``check``'s diagnostics (the parse cache keeps only text)."""
    kinds = {kind.label: kind for kind in Kind}
    result = []
    for diagnostic in found:
        match = _LINE.match(diagnostic.message)
        if match is not None:
            result.append(
                Finding(
                    diagnostic.path,
                    diagnostic.line,
                    kinds[match.group("kind")],
                    match.group("rule"),
                    match.group("excerpt"),
                    (match.group("also") or "").strip(" ."),
                )
            )
    return result


def report(found: Iterable[Diagnostic]) -> str:
    """The ``check --report`` section: monographs per kind and rule, then every one of them."""
    listed = findings(found)
    lines = [
        "content rules ("
        + ", ".join(f"{lang}.toml" for lang in languages())
        + f" in {RULES_DIR.parent.parent.name}/{RULES_DIR.parent.name}/{RULES_DIR.name}): "
        f"{len({f.path for f in listed})} monographs"
    ]
    for kind in Kind:
        of_kind = [f for f in listed if f.kind is kind]
        consequence = (
            "left out of every build and the station"
            if kind is Kind.NOT_A_LEAFLET
            else "a banner on the handout's page 1"
        )
        lines.append(f"  {kind.label}: {len({f.path for f in of_kind})} monographs ({consequence})")
        per_rule: dict[str, set[str]] = {}
        for finding in of_kind:
            per_rule.setdefault(finding.rule, set()).add(finding.path)
        lines.extend(f"    {rule:<28} {len(paths)}" for rule, paths in sorted(per_rule.items()))
    for kind in Kind:
        of_kind = [f for f in listed if f.kind is kind]
        if of_kind:
            lines.append(f"{kind.label}:")
        for f in sorted(of_kind, key=lambda f: (f.path, f.line or 0)):
            where = f.path if f.line is None else f"{f.path}:{f.line}"
            also = f" (also {f.also})" if f.also else ""
            lines.append(f"  {where}  {f.rule}  “{f.excerpt}”{also}")
    return "\n".join(lines) + "\n"
