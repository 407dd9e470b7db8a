"""What one option is: its kind of value, default, place in ``medpdf.toml``, flag, reach.

An :class:`Option` is declared once, in the table of :mod:`.options`; the
flags, the TOML reader, ``Config``, the station's query parsing and the cache
keys are derived from its fields. The command groups here name where a flag
appears.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from medpdf.settings.kinds import Kind

T = TypeVar("T")


class Invalidates(enum.Enum):
    """What a change to an option makes stale (Sphinx's ``rebuild`` of a config value)."""

    #: It changes the PDFs: it joins the render fingerprint, every PDF is laid out again.
    OUTPUT = "every PDF"
    #: It changes how or where work runs, never what a PDF holds.
    NOTHING = "nothing built"


#: Command groups, so that each option lists where its flag appears.
HANDOUT_COMMANDS = frozenset({"handout", "handouts", "build", "print"})
LOOK_COMMANDS = HANDOUT_COMMANDS | {"booklet", "pack"}
RENDER_COMMANDS = LOOK_COMMANDS | {"serve"}
BATCH_COMMANDS = frozenset({"handouts", "booklet", "build", "serve"})


@dataclass(frozen=True)
class Option(Generic[T]):
    """One setting: its rule, default, TOML place, flag, and what a change invalidates."""

    name: str
    kind: Kind[Any]
    default: T
    help: str
    #: ``(table, key)`` in medpdf.toml; key None means the whole table is the value.
    toml: tuple[str, str | None] | None = None
    #: The long flag (``--paper``); booleans also get ``--no-...``.
    flag: str | None = None
    #: Commands whose command line takes the flag.
    commands: frozenset[str] = frozenset()
    #: The station may set it per request (query string and print form).
    station: bool = False
    invalidates: Invalidates = Invalidates.NOTHING

    @property
    def changes_output(self) -> bool:
        """True when the option is part of every PDF's cache key."""
        return self.invalidates is Invalidates.OUTPUT

    @property
    def toml_name(self) -> str | None:
        """``output.paper`` / ``clinic``: how messages and the docs name it."""
        if self.toml is None:
            return None
        table, key = self.toml
        return table if key is None else f"{table}.{key}"
