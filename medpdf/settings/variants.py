"""Variants: one collection built several ways in one run (``medpdf build --variants FILE``).

A variants file is TOML. Each top-level table is a named variant, and its
keys are the names of the options that change a PDF (:func:`variant_options`;
the docs' list of them, in docs/running/cluster.md, is made from it by
:mod:`medpdf.settings.option_docs`), read
by each option's own kind, exactly as ``medpdf.toml`` reads them. A
``matrix`` table inside a variant lists several values per option and
stands for every combination::

    [riverside]
    clinic = { name = "Riverside Family Clinic" }

    [print]
    lang = "en"
    matrix.paper = ["a4", "letter"]
    matrix.large_print = [false, true]

``print`` becomes ``print-a4``, ``print-a4-large-print``, ``print-letter``
and ``print-letter-large-print``. Each variant is built into
``output/<variant>/`` with its own cache and lock, on top of the run's
settings (``medpdf.toml`` and flags; the variant's own values win). A
problem is one :class:`~medpdf.errors.ConfigError` line naming the file,
the line and the key, as for ``medpdf.toml``.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medpdf.errors import ConfigError
from medpdf.settings import options
from medpdf.settings.config import Config, key_line, read_toml
from medpdf.settings.kinds import Boolean, show
from medpdf.settings.option import Option
from medpdf.settings.table_kinds import ClinicInfo, KeyedFail

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
#: Names that would land on the plain build's own outputs in ``output/``.
_RESERVED = frozenset({"handouts"})
MATRIX = "matrix"


@dataclass(frozen=True)
class Variant:
    """One way of building the collection: a name (its folder) and the options it sets."""

    name: str
    values: tuple[tuple[str, Any], ...]

    def apply(self, base: Config) -> Config:
        """``base`` with this variant's options, writing into ``<output>/<name>/``."""
        changed = base.replace(**dict(self.values)) if self.values else base
        return dataclasses.replace(changed, output_dir=base.output_dir / self.name)


def variant_options(table: Iterable[Option[Any]] | None = None) -> dict[str, Option[Any]]:
    """The options a variant may set: those that change a PDF, by name."""
    return {o.name: o for o in options.table_or_all(table) if o.changes_output}


def _part(option: Option[Any], value: Any) -> str:
    """How one matrix value shows in a variant's name."""
    if isinstance(option.kind, Boolean):  # only true ones are named: large-print
        text = option.name
    elif isinstance(value, ClinicInfo):
        text = value.name or "clinic"
    else:
        text = option.kind.to_text(value)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


class _Reader:
    """Checks one parsed variants file, reporting as the ``medpdf.toml`` reader does."""

    def __init__(self, path: Path, text: str, table: Iterable[Option[Any]] | None) -> None:
        self.path = path
        self.text = text
        self.known = variant_options(table)
        self.folder = path.resolve().parent

    def fail(self, where: tuple[tuple[str, str | None], ...], message: str) -> ConfigError:
        """An error at the first of ``where`` (table, key) found in the text."""
        line = next((n for t, k in where if (n := key_line(self.text, t, k)) is not None), None)
        table, key = where[0]
        name = ".".join(part for part in (table, key) if part)
        return ConfigError(str(self.path), line, f"{name}: {message}")

    def value(
        self, option: Option[Any], raw: object, where: tuple[tuple[str, str | None], ...]
    ) -> Any:
        """``raw`` read by the option's own kind."""
        try:
            return option.kind.from_toml(raw, lambda m: self.fail(where, m), self.folder)
        except KeyedFail as exc:  # a key inside a table-valued option (clinic.logo)
            table, key = where[0]
            inner = tuple((f"{t}.{k}" if k else t, exc.key) for t, k in where)
            # The key's own line when it is a [table]; the option's line when inline.
            raise self.fail(((table, f"{key}.{exc.key}"), *inner, *where), exc.message) from None

    def option(self, variant: str, key: str, at: tuple[tuple[str, str | None], ...]) -> Option[Any]:
        option = self.known.get(key)
        if option is not None:
            return option
        listed = ", ".join(self.known)
        if any(o.name == key for o in options.table_or_all(None)):
            message = f"not a variant option: it does not change a PDF (variant options: {listed})"
        else:
            message = f"unknown option (variant options: {listed})"
        raise self.fail(at, message)

    def variants(self, data: dict[str, Any]) -> list[Variant]:
        if not data:
            raise ConfigError(str(self.path), None, "no variants: add a [name] table per variant")
        found: list[Variant] = []
        for name, body in data.items():
            if not isinstance(body, dict):
                message = f"a variant must be a table [{name}] of options, not {show(body)}"
                raise self.fail((("", name),), message)
            if not _NAME.match(name) or name.lower() in _RESERVED:
                raise self.fail(
                    ((name, None), (f'"{name}"', None), (f"'{name}'", None)),
                    "a variant name is its output folder: letters, digits, - and _, "
                    "at most 64, not 'handouts'",
                )
            found += self.variant(name, body)
        seen: dict[str, str] = {}
        for variant in found:
            clash = seen.get(variant.name.lower())
            if clash is not None:
                raise self.fail(((variant.name, None),), f"two variants named '{clash}'")
            seen[variant.name.lower()] = variant.name
        return found

    def variant(self, name: str, body: dict[str, Any]) -> list[Variant]:
        fixed: dict[str, Any] = {}
        for key, raw in body.items():
            if key == MATRIX:
                continue
            option = self.option(name, key, ((name, key),))
            fixed[option.name] = self.value(option, raw, ((name, key),))
        matrix = body.get(MATRIX)
        if matrix is None:
            return [Variant(name, tuple(fixed.items()))]
        if not isinstance(matrix, dict) or not matrix:
            at: tuple[tuple[str, str | None], ...] = ((name, MATRIX), (f"{name}.{MATRIX}", None))
            raise self.fail(at, "must be a table of option = [values, ...]")
        axes: list[list[tuple[Option[Any], Any]]] = []
        for key, raw in matrix.items():
            at = ((name, f"{MATRIX}.{key}"), (f"{name}.{MATRIX}", key))
            option = self.option(name, key, at)
            if option.name in fixed:
                raise self.fail(at, "set both alone and in the matrix")
            if not isinstance(raw, list) or not raw:
                raise self.fail(at, f"must be a non-empty array of values, not {show(raw)}")
            axes.append([(option, self.value(option, item, at)) for item in raw])
        made = []
        for combination in itertools.product(*axes):
            parts = [_part(option, value) for option, value in combination if value is not False]
            values = {**fixed, **{option.name: value for option, value in combination}}
            made.append(Variant("-".join([name, *parts]), tuple(values.items())))
        return made


def load(path: Path, table: Iterable[Option[Any]] | None = None) -> list[Variant]:
    """The variants a file declares, matrices expanded, in file order."""
    text, data = read_toml(path)
    return _Reader(path, text, table).variants(data)
