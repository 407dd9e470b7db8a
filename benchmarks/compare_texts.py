"""Compare two JSON files written by ``page_texts.py`` page by page.

Prints how many handouts, handout pages, booklet pages and pack pages are identical, then a
unified diff of the first few pages that differ (one line per sentence-ish chunk,
so the diff is readable). Exit status 0 when everything is identical, 1 otherwise.

Usage::

    python compare_texts.py before.json after.json [--show 5]
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Where to break a page's text into lines for the diff.
SPLIT = re.compile(r"(?<=[.:;!?])\s+")


def load(path: Path) -> dict[str, Any]:
    """One ``page_texts.py`` JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        sys.exit(f"compare_texts: cannot read {path}: {exc}")
    if not isinstance(data, dict) or "handouts" not in data or "booklet" not in data:
        sys.exit(f"compare_texts: {path} is not a page_texts.py file")
    return data


def page_lines(text: str) -> list[str]:
    """A page's text as diffable lines."""
    return SPLIT.split(text) if text else []


def pages_of(old: list[str], new: list[str], label: str) -> list[tuple[str, str, str]]:
    """``(label page N, old text, new text)`` for every page that differs (missing = "")."""
    return [
        (f"{label} page {index + 1}", a, b)
        for index, (a, b) in enumerate(itertools.zip_longest(old, new, fillvalue=""))
        if a != b
    ]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Compare two page_texts.py JSON files.")
    parser.add_argument("old", type=Path, help="the reference (e.g. before)")
    parser.add_argument("new", type=Path, help="the candidate (e.g. after)")
    parser.add_argument(
        "--show", type=int, default=5, help="differing pages to diff in full (default 5)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the comparison; 0 when identical, 1 when anything differs."""
    args = parse_args(argv)
    old, new = load(args.old), load(args.new)
    differing: list[tuple[str, str, str]] = []

    old_h: dict[str, list[str]] = old["handouts"]
    new_h: dict[str, list[str]] = new["handouts"]
    only_old = sorted(set(old_h) - set(new_h))
    only_new = sorted(set(new_h) - set(old_h))
    common = sorted(set(old_h) & set(new_h))
    same_handouts = sum(old_h[slug] == new_h[slug] for slug in common)
    old_pages = sum(len(old_h[slug]) for slug in common)
    same_pages = 0
    for slug in common:
        same_pages += sum(a == b for a, b in zip(old_h[slug], new_h[slug], strict=False))
        differing += pages_of(old_h[slug], new_h[slug], f"handout {slug}")
    print(
        f"handouts: {same_handouts}/{len(common)} identical in both; "
        f"pages {same_pages}/{old_pages} identical (old page count)"
    )
    for slug in common:
        if len(old_h[slug]) != len(new_h[slug]):
            print(f"  {slug}: {len(old_h[slug])} -> {len(new_h[slug])} pages")
    if only_old:
        print(f"  only in {args.old}: {', '.join(only_old)}")
    if only_new:
        print(f"  only in {args.new}: {', '.join(only_new)}")

    old_b: list[str] = old["booklet"]
    new_b: list[str] = new["booklet"]
    same_booklet = sum(a == b for a, b in zip(old_b, new_b, strict=False))
    print(
        f"booklet: {same_booklet}/{len(old_b)} pages identical"
        + (f" ({len(old_b)} -> {len(new_b)} pages)" if len(old_b) != len(new_b) else "")
    )
    differing += pages_of(old_b, new_b, "booklet")

    # Packs: files written before packs were measured have none.
    old_p: dict[str, list[str]] = old.get("packs", {})
    new_p: dict[str, list[str]] = new.get("packs", {})
    if old_p or new_p:
        names = sorted(set(old_p) | set(new_p))
        same_packs = sum(old_p.get(name) == new_p.get(name) for name in names)
        pack_pages = sum(len(old_p.get(name, [])) for name in names)
        same_pack_pages = sum(
            a == b
            for name in names
            for a, b in zip(old_p.get(name, []), new_p.get(name, []), strict=False)
        )
        print(
            f"packs: {same_packs}/{len(names)} identical; "
            f"pages {same_pack_pages}/{pack_pages} identical (old page count)"
        )
        for name in names:
            differing += pages_of(old_p.get(name, []), new_p.get(name, []), f"pack {name}")

    for label, a, b in differing[: args.show]:
        print(f"\n--- {label}")
        sys.stdout.writelines(
            line + "\n"
            for line in difflib.unified_diff(
                page_lines(a), page_lines(b), str(args.old), str(args.new), lineterm="", n=1
            )
        )
    if len(differing) > args.show:
        print(f"\n... and {len(differing) - args.show} more differing pages")

    identical = not differing and not only_old and not only_new
    print("IDENTICAL" if identical else f"DIFFERENT ({len(differing)} pages)")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
