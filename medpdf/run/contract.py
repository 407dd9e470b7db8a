"""The render contract: what every task is given (a run) and gives back (a PDF).

A :class:`RunContext` is made once per run (or once per station request's
options) and travels with every task: the config and the presentation
fingerprint, computed once instead of once per product and per request. A
task (each product has its own: :mod:`medpdf.products`) returns a
:class:`Pdf`, bytes rather than a file, so it can run on a machine without the
output folder; the one process that owns ``output/`` keeps it
(:class:`medpdf.run.store.Store`). A task that writes its own target (the
station's shelf, a pack's file) returns what it wrote, :class:`Rendered`.
:func:`medpdf.run.workers.guarded` turns whatever a task raises into a failure
value, the same for every product.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from medpdf.digests import digest_of
from medpdf.errors import Diagnostic, Level
from medpdf.run.cache import presentation_fingerprint
from medpdf.run.workers import Limits
from medpdf.settings.config import Config
from medpdf.settings.options import output_values

#: Set to ``1`` by a benchmark to build the booklet without tags (see :attr:`RunContext.tagged`).
UNTAGGED_VARIABLE = "MEDPDF_BENCHMARK_UNTAGGED"


@dataclass(frozen=True)
class RunContext:
    """One run's settings and the fingerprint of everything besides content that shapes a PDF."""

    config: Config
    #: The presentation fingerprint when the caller has it (a station request reuses
    #: its run's); otherwise it is computed on first use, once.
    known_presentation: str | None = None
    limits: Limits = field(default_factory=Limits)
    #: Booklet parts carry a structure tree. Only a benchmark turns it off (the issue's
    #: "tagged within 5 % of untagged" needs both builds), through the environment
    #: variable :data:`UNTAGGED_VARIABLE`: it is no option, as nobody should ship an
    #: untagged booklet. It is part of the fingerprint, so neither build reuses the
    #: other's parts.
    tagged: bool = True

    @classmethod
    def of(cls, config: Config, limits: Limits | None = None) -> RunContext:
        """The run's context; its limits from the options."""
        tagged = os.environ.get(UNTAGGED_VARIABLE, "") != "1"
        return cls(config, None, limits or Limits.of(config), tagged)

    @cached_property
    def presentation(self) -> str:
        """Code, libraries, templates, styles and fonts, hashed once per run.

        On first use, not at start: a handout written outside the cache (``-o``)
        never needs it, and hashing costs 15-20 ms of a 0.5 s one-shot command.
        """
        return self.known_presentation or presentation_fingerprint(self.config.resources)

    def __getstate__(self) -> dict[str, Any]:
        """A context sent to a worker carries its fingerprint: no worker hashes the files again."""
        return {**self.__dict__, "known_presentation": self.presentation}

    @cached_property
    def fingerprint(self) -> str:
        """Presentation plus the options that change a PDF (an allowlist from the option table)."""
        fingerprint = digest_of(self.presentation, output_values(self.config.settings))
        return fingerprint if self.tagged else digest_of(fingerprint, "untagged")

    def with_options(self, *, printed: dt.date | None = None, **changes: Any) -> RunContext:
        """The same run with some options changed, dated ``printed`` (a station request's run).

        The fingerprint of the presentation files is the run's: it is not hashed again.
        """
        config = self.config.replace(**changes)
        if printed is not None:
            config = dataclasses.replace(config, printed=printed)
        return RunContext(config, self.presentation, self.limits, self.tagged)


@dataclass(frozen=True)
class Rendered:
    """A PDF a task wrote at its target itself: its pages and what was refused on the way."""

    page_counts: tuple[int, ...]
    refused_urls: tuple[str, ...]

    @property
    def pages(self) -> int:
        """Pages in all."""
        return sum(self.page_counts)


@dataclass(frozen=True)
class Pdf:
    """A PDF a task made, on its way back to the one process that writes ``output/``.

    Tasks return bytes rather than write files, so a task can run on a machine
    that has no access to the output folder (a Dask worker) and the client
    still writes every file atomically itself (:meth:`medpdf.run.store.Store.keep`).
    """

    data: bytes
    page_counts: tuple[int, ...]
    refused_urls: tuple[str, ...]
    #: Booklet chunks: each entry's ingredients, for the index (read from the model).
    ingredients: tuple[tuple[str, ...], ...] = ()

    @property
    def pages(self) -> int:
        """Pages in all."""
        return sum(self.page_counts)


def refusal_warnings(path: str, urls: Iterable[str]) -> list[Diagnostic]:
    """One warning per URL the PDF stage refused, in the ``check`` format."""
    return [Diagnostic(path, None, Level.WARNING, f"refused to fetch {url}") for url in urls]


def warm_up(_: object) -> None:
    """Worker side: import the PDF stage so the first real task does not pay for it."""
    from medpdf.pdf import typeset  # noqa: F401
