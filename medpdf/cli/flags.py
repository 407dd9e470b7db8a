"""Command-line flags derived from the option table, and the one error printer.

Each command gets the options that list it, with the option's own parsing
rule, so a flag, a ``medpdf.toml`` key and a station query reject the same
values the same way. :func:`friendly_errors` is the one place that turns
problems into text for a terminal.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from medpdf.errors import (
    DiagnosedError,
    Diagnostic,
    ListedUsageError,
    MedpdfError,
    UsageError,
)
from medpdf.settings import config, options
from medpdf.settings.kinds import Boolean
from medpdf.settings.option import RENDER_COMMANDS, Option

F = TypeVar("F", bound=Callable[..., Any])


# -- flags from the option table -------------------------------------------------


class _OptionType(click.ParamType):  # type: ignore[type-arg]
    """A click type that parses with the option's own rule."""

    def __init__(self, option: Option[Any]) -> None:
        self.option = option
        self.name = option.kind.metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        return self.option.kind.from_text(value, lambda message: self.fail(message, param, ctx))


def _help(option: Option[Any]) -> str:
    where = f", or [{option.toml[0]}] {option.toml[1]}" if option.toml and option.toml[1] else ""
    default = option.default
    shown = "none" if default is None else option.kind.to_text(default)
    if isinstance(option.kind, Boolean):
        shown = "yes" if default else "no"
    return f"{option.help} [default: {shown}{where}]"


def _click_option(option: Option[Any]) -> Callable[[F], F]:
    assert option.flag is not None
    if isinstance(option.kind, Boolean):
        negative = "--no-" + option.flag.removeprefix("--")
        return click.option(
            f"{option.flag}/{negative}", option.name, default=None, help=_help(option)
        )
    short = ["-j"] if option.name == "jobs" else []
    return click.option(
        *short, option.flag, option.name, type=_OptionType(option), default=None, help=_help(option)
    )


def table_options(command: str, table: Iterable[Option[Any]] | None = None) -> Callable[[F], F]:
    """Add the flag of every option that lists ``command``."""

    def decorate(func: F) -> F:
        for option in reversed(options.for_command(command, table)):
            func = _click_option(option)(func)
        return func

    return decorate


def _flags(command: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The table options among a command's keyword arguments (None: not given)."""
    names = {o.name for o in options.for_command(command)}
    return {name: value for name, value in given.items() if name in names}


content_option = click.option(
    "--content",
    "content_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("content"),
    show_default=True,
    help="Folder of monographs (searched recursively).",
)

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Settings file [default: ./medpdf.toml if present].",
)


copies_option = click.option(
    "--copies",
    type=click.IntRange(min=1, max=100),
    default=1,
    show_default=True,
    help="Copies to print.",
)


def output_option(default: str) -> Callable[[F], F]:
    """``-o/--output`` for the commands that write one PDF."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=f"Where to write the PDF [default: {default}].",
    )


# -- one place that prints problems -------------------------------------------------


def friendly_errors(func: F) -> F:
    """Turn medpdf's own errors into one line and the right exit status; leave no process."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from medpdf.run import stop_helpers

        try:
            return func(*args, **kwargs)
        except ListedUsageError as exc:  # several `check` lines (unknown formulary names)
            for diagnostic in exc.diagnostics:
                click.echo(diagnostic.format(), err=True)
            sys.exit(2)
        except DiagnosedError as exc:  # already a `check` line: path:line: error: ...
            click.echo(exc.diagnostic.format(), err=True)
            sys.exit(2 if isinstance(exc, UsageError) else 1)
        except MedpdfError as exc:
            click.echo(f"medpdf: error: {exc.message}", err=True)
            sys.exit(2 if isinstance(exc, UsageError) else 1)
        except BrokenPipeError:
            raise  # the reader of the output went away: the command group ends quietly
        except OSError as exc:
            click.echo(f"medpdf: error: {exc}", err=True)
            sys.exit(1)
        except Exception as exc:  # a bug in medpdf: still one line, unless debugging
            if os.environ.get("MEDPDF_DEBUG"):
                raise
            click.echo(
                f"medpdf: internal error: {exc!r} (set MEDPDF_DEBUG=1 for a traceback)", err=True
            )
            sys.exit(1)
        finally:
            stop_helpers()

    return wrapper  # type: ignore[return-value]


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(format="medpdf: %(levelname)s: %(message)s", stream=sys.stderr)
    logging.getLogger("medpdf").setLevel(logging.INFO if verbose else logging.WARNING)
    # WeasyPrint reports every refused URL and unsupported CSS; medpdf reports what matters.
    logging.getLogger("weasyprint").setLevel(logging.WARNING if verbose else logging.ERROR)


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        click.echo(diagnostic.format())


@contextlib.contextmanager
def progress(label: str, length: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; silent when output goes to a file or a pipe."""
    stream = sys.stderr if sys.stderr.isatty() else io.StringIO()
    with click.progressbar(length=length, label=label, file=stream) as bar:
        yield bar.update


def load_settings(
    command: str,
    config_file: Path | None,
    content_dir: Path,
    given: Mapping[str, Any],
    output_dir: Path | None = None,
) -> config.Config:
    """medpdf.toml (or --config) with the command's flags on top.

    A command that renders first checks that every shipped language's compiled
    catalog is installed: one line at once, not English words or a failure per
    document later.
    """
    settings = config.load(
        config_file, content_dir=content_dir, output_dir=output_dir, flags=_flags(command, given)
    )
    if command in RENDER_COMMANDS:
        from medpdf import i18n  # Babel: only commands that render need it

        i18n.require_catalogs(settings.resources.locale, i18n.SHIPPED)
    return settings
