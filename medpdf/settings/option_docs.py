"""Reference text made from the option table, so the docs cannot drift from the code.

The docs' list of the options a variant may set (``docs/running/cluster.md``) sits
between two marker
comments, ``<!-- begin variant-options ... -->`` and ``<!-- end variant-options -->``.
:func:`variant_options_table` makes that list from :data:`medpdf.settings.options.OPTIONS`
(the options that change a PDF, as :func:`medpdf.settings.variants.variant_options` picks
them); ``python -m medpdf.settings.option_docs docs/running/cluster.md`` (``make option-docs``)
rewrites the section, ``--check`` only reports a difference, and
``tests/test_option_docs.py`` fails while the page's copy differs. (The Reference pages
of the docs site are made on every build instead: :mod:`medpdf.cli.reference`.)
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from medpdf.errors import MedpdfError
from medpdf.settings.kinds import show
from medpdf.settings.option import Option
from medpdf.settings.variants import variant_options

#: The docs section holding the variant options.
VARIANT_OPTIONS = "variant-options"
#: How the opening marker tells an editor where the text comes from.
_SOURCE_NOTE = (
    "generated from medpdf/settings/options.py by `make option-docs`; edit the table there"
)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def variant_options_table(table: Iterable[Option[Any]] | None = None) -> str:
    """The options a variant may set, one table row each, in the option table's order."""
    rows = [
        "| option | default | in `medpdf.toml` | flag | what it sets |",
        "|---|---|---|---|---|",
    ]
    for option in variant_options(table).values():
        default = "none" if option.default is None else f"`{show(option.default)}`"
        toml = f"`{option.toml_name}`" if option.toml_name else "no"
        flag = f"`{option.flag}`" if option.flag else "no"
        rows.append(f"| `{option.name}` | {default} | {toml} | {flag} | {_cell(option.help)} |")
    return "\n".join(rows) + "\n"


def _markers(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- begin {re.escape(name)}\b[^\n]*-->\n)(.*?)(<!-- end {re.escape(name)} -->)",
        re.DOTALL,
    )


def with_section(text: str, name: str, body: str) -> str:
    """``text`` with the section ``name`` holding ``body``; one error line if it has none."""
    pattern = _markers(name)
    found = pattern.findall(text)
    if len(found) != 1:
        raise MedpdfError(
            f"expected one `<!-- begin {name} -->` ... `<!-- end {name} -->` section, "
            f"found {len(found)}"
        )
    opening = f"<!-- begin {name} ({_SOURCE_NOTE}) -->\n"
    return pattern.sub(lambda m: f"{opening}\n{body}\n{m.group(3)}", text)


def regenerated(readme: str) -> str:
    """The page's text with every generated section made again from the code."""
    return with_section(readme, VARIANT_OPTIONS, variant_options_table())


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or with ``--check``, only compare) the generated sections of a page."""
    parser = argparse.ArgumentParser(
        prog="python -m medpdf.settings.option_docs", description=__doc__
    )
    parser.add_argument("page", type=Path, help="the Markdown page to update")
    parser.add_argument("--check", action="store_true", help="exit 1 if it is out of date")
    args = parser.parse_args(argv)
    path: Path = args.page
    try:
        text = path.read_text(encoding="utf-8")
        wanted = regenerated(text)
    except (OSError, MedpdfError) as exc:
        print(f"{path}: error: {exc}", file=sys.stderr)
        return 2
    if wanted == text:
        return 0
    if args.check:
        print(f"{path}: generated sections are out of date: run make option-docs", file=sys.stderr)
        return 1
    path.write_text(wanted, encoding="utf-8")
    print(f"{path}: generated sections rewritten", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
