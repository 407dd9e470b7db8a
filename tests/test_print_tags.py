"""Tags of what is printed: header cells scoped, the bilingual page not a data table.

A screen reader reads a table's cells through their headers: each header cell
says whether it heads its column or its row (``/Scope``). The bilingual handout
looks like a table but holds no data; it must not be announced as one. The pdfua
checker (a second opinion, 16 of PDF/UA-1's rules) finds nothing on either.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
from conftest import assert_pdfua_clean, invoke_cli
from pikepdf import Name

FIXTURES = Path(__file__).parent / "fixtures"


def elements(root: Any) -> Iterator[Any]:
    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, pikepdf.Array):
            stack.extend(reversed(list(item)))
        elif isinstance(item, pikepdf.Dictionary):
            if "/S" in item:
                yield item
            kids = item.get("/K")
            if kids is not None:
                stack.append(kids)


def test_pack_header_cells_head_their_columns_and_rows(tmp_path: Path) -> None:
    for flags in ((), ("--large-print",)):
        target = tmp_path / f"pack{len(flags)}.pdf"
        result = invoke_cli(
            "pack", "--content", str(FIXTURES / "pack"), "zorvatin", "klemorex",
            "--take", "zorvatin=morning,bedtime", *flags, "-o", str(target),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        with pikepdf.open(target) as pdf:
            scopes: Counter[str] = Counter()
            for element in elements(pdf.Root.StructTreeRoot):
                if Name.TH == element.S:
                    scopes[str(element.A.get("/Scope"))] += 1
        # The schedule's and the card's column headers; each schedule row's medicine.
        assert set(scopes) == {"/Column", "/Row"}, scopes
        assert scopes["/Row"] == 2
        assert_pdfua_clean(target)


def test_bilingual_handout_is_laid_out_not_tabulated(tmp_path: Path) -> None:
    for other in ("es", "ar"):
        target = tmp_path / f"both-{other}.pdf"
        result = invoke_cli(
            "handout", "ibuprofen", "--also", other,
            "--content", str(FIXTURES / "languages"), "-o", str(target),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        with pikepdf.open(target) as pdf:
            types = Counter(str(e.S) for e in elements(pdf.Root.StructTreeRoot))
        assert not {"/Table", "/TR", "/TH", "/TD"} & set(types), types
        assert types["/H2"] >= 8  # both languages' sections, in reading order
        assert_pdfua_clean(target)
