"""The reference pages of the documentation, made from the code so they cannot drift.

:func:`commands_page` walks the click command tree (every command and sub-command,
with the usage line, help and options that ``--help`` shows); :func:`options_page`
lists the option table (:data:`medpdf.settings.options.OPTIONS`): each option's
flag, ``medpdf.toml`` key, default, commands, station reach and what a change to
it invalidates. The documentation site's build hook (``docs/hooks/reference.py``)
calls both on every ``mkdocs build``, and ``tests/test_docs.py`` checks that every
command, flag and option appears, so a new one is documented by declaring it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator
from typing import Any

import click

from medpdf.settings.kinds import Boolean, show
from medpdf.settings.option import Option
from medpdf.settings.options import table_or_all

__all__ = ["commands_page", "options_page", "walk"]

_PROG = "medpdf"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code, even for text holding a backtick."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def walk(
    command: click.Command, ctx: click.Context | None = None
) -> Iterator[tuple[click.Context, click.Command]]:
    """Every command under ``command`` (itself first), each with its click context."""
    ctx = ctx or click.Context(command, info_name=_PROG)
    yield ctx, command
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))


def _anchor(ctx: click.Context) -> str:
    return ctx.command_path.replace(" ", "-")


def _options_table(ctx: click.Context, command: click.Command) -> list[str]:
    rows = ["| option | what it does |", "|---|---|"]
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        flags, help_text = record
        rows.append(f"| {_code(flags)} | {_cell(help_text)} |")
    return rows if len(rows) > 2 else []


def commands_page(root: click.Command) -> str:
    """Markdown for every command of ``root``: usage, help, options, sub-commands."""
    lines = [
        "# Commands",
        "",
        "<!-- Generated from the click commands (medpdf/cli/) on every docs build;"
        " edit the code, not this page. -->",
        "",
        "Every command and option, as `medpdf COMMAND --help` prints them. Options that",
        "are also `medpdf.toml` keys name their key in brackets; each is described once",
        "in [the option table](options.md).",
        "",
    ]
    for ctx, command in walk(root):
        depth = ctx.command_path.count(" ")
        heading = "#" * min(depth + 1, 4) if depth else "##"
        lines += [f"{heading} `{ctx.command_path}` {{#{_anchor(ctx)}}}", ""]
        lines += ["```text", ctx.get_usage(), "```", ""]
        text = command.help or command.short_help or ""
        if text:
            lines += [click.unstyle(text).strip(), ""]
        table = _options_table(ctx, command)
        if table:
            lines += [*table, ""]
        if isinstance(command, click.Group):
            subs = [
                (name, sub)
                for name in command.list_commands(ctx)
                if (sub := command.get_command(ctx, name)) is not None and not sub.hidden
            ]
            if subs:
                lines += ["| command | what it does |", "|---|---|"]
                for name, sub in subs:
                    path = f"{ctx.command_path} {name}"
                    summary = _cell(sub.get_short_help_str(limit=200))
                    lines.append(f"| [`{path}`](#{path.replace(' ', '-')}) | {summary} |")
                lines.append("")
    return "\n".join(lines)


def _default(option: Option[Any]) -> str:
    """The default as it is written in ``medpdf.toml`` (``120``, not ``120.0``)."""
    value = option.default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return show(value)


def _flags(option: Option[Any]) -> str:
    if option.flag is None:
        return "no"
    if isinstance(option.kind, Boolean):
        return f"`{option.flag}` / `--no-{option.flag[2:]}`"
    return f"`{option.flag} {option.kind.metavar}`"


def _toml_skeleton(options: Iterable[Option[Any]]) -> list[str]:
    """Every ``medpdf.toml`` key, table by table, commented out at its default."""
    tables: dict[str, list[Option[Any]]] = {}
    for option in options:
        if option.toml is not None:
            tables.setdefault(option.toml[0], []).append(option)
    lines = ["```toml"]
    for name, members in tables.items():
        lines += [f"[{name}]"]
        for option in members:
            lines += textwrap.wrap(option.help, 86, initial_indent="# ", subsequent_indent="# ")
            key = option.toml[1] if option.toml else None
            if key is None:
                lines.append(f"# (the whole [{name}] table: see `{option.name}` below)")
            elif option.default is None:
                lines.append(f"# {key} = ...   (no default)")
            else:
                lines.append(f"# {key} = {_default(option)}")
        lines.append("")
    lines[-1] = "```"
    return lines


def options_page(table: Iterable[Option[Any]] | None = None) -> str:
    """Markdown for every option of the option table, one section each, in table order."""
    options = table_or_all(table)
    lines = [
        "# Options",
        "",
        "<!-- Generated from medpdf/settings/options.py on every docs build;"
        " edit the table, not this page. -->",
        "",
        "Every setting medpdf has is declared once, in `medpdf/settings/options.py`; the",
        "flags, the `medpdf.toml` keys, the station's query parameters and the cache keys",
        "are made from it, and so is this page. A flag wins over `medpdf.toml`, which wins",
        "over the default.",
        "",
        "| option | flag | in `medpdf.toml` | default | what it sets |",
        "|---|---|---|---|---|",
    ]
    for option in options:
        toml = f"`{option.toml_name}`" if option.toml_name else "no"
        default = "none" if option.default is None else _code(_default(option))
        lines.append(
            f"| [`{option.name}`](#{option.name}) | {_flags(option)} | {toml} | {default} "
            f"| {_cell(option.help)} |"
        )
    lines += [
        "",
        "## Every key of `medpdf.toml`",
        "",
        "A settings file may hold any of these keys, each optional; shown here at its default.",
        "",
        *_toml_skeleton(options),
        "",
    ]
    for option in options:
        commands = ", ".join(f"`{name}`" for name in sorted(option.commands)) or "none"
        lines += [
            f"## `{option.name}` {{#{option.name}}}",
            "",
            _cell(option.help),
            "",
            f"- **Flag:** {_flags(option)}",
            f"- **In `medpdf.toml`:** {f'`{option.toml_name}`' if option.toml_name else 'no'}",
            f"- **Default:** {'none' if option.default is None else _code(_default(option))}",
            f"- **Commands:** {commands}",
            f"- **Set per request at the station:** {'yes' if option.station else 'no'}",
            f"- **A change to it rebuilds:** {option.invalidates.value}",
            "",
        ]
    return "\n".join(lines)
