"""The wallet card's panels: every name whole, in as many bank-card panels as it takes."""

from __future__ import annotations

import math

import pytest

from medpdf.products.pack import wallet_card
from medpdf.products.pack.wallet_card import LARGE, STANDARD, Panel


def test_a_short_name_takes_one_line_and_a_long_one_wraps_at_spaces() -> None:
    assert wallet_card.lines_needed("Aspirin", STANDARD.name_width, 8) == 1
    long = "Carboxymethylcellulose + Sorbitol + Potassium Chloride + Sodium Chloride"
    assert wallet_card.lines_needed(long, STANDARD.name_width, 8) == 3
    assert wallet_card.lines_needed(long, LARGE.name_width, 12) > 3


def test_a_word_wider_than_the_column_breaks_where_it_reaches_the_edge() -> None:
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2
    width_mm = sum(wallet_card.char_width(c) for c in word) * 8 * 25.4 / 72
    assert wallet_card.lines_needed(word, 20, 8) == math.ceil(width_mm / 20)


def test_wide_letters_and_ideographs_measure_wider_than_narrow_ones() -> None:
    assert wallet_card.char_width("m") > wallet_card.char_width("i")
    assert wallet_card.char_width("布") == 1.0
    assert wallet_card.lines_needed("布洛芬" * 12, 30, 8) == 4  # 36 ideographs of 2.8 mm


def test_a_short_list_is_one_panel_with_rows_left_blank() -> None:
    (panel,) = wallet_card.panels(["Aspirin", "Metformin"])
    assert (panel.rows, panel.first, panel.last) == ((0, 1), True, True)
    assert 1 <= panel.blanks <= wallet_card.MOST_BLANKS


@pytest.mark.parametrize("size", [STANDARD, LARGE])
def test_a_long_list_folds_into_panels_in_order_each_filled_to_what_a_card_holds(
    size: wallet_card.CardSize,
) -> None:
    names = [f"Medicine number {n} + Another ingredient" for n in range(20)]
    found = wallet_card.panels(names, size)
    assert len(found) > 1
    assert [i for panel in found for i in panel.rows] == list(range(20))
    assert found[0].first and not any(p.first for p in found[1:])
    assert found[-1].last and not any(p.last for p in found[:-1])
    for panel in found:
        used = sum(size.row_height(names[i]) for i in panel.rows) + size.header
        used += size.top if panel.first else 0
        used += size.bottom if panel.last else 0
        assert used <= size.room


def test_the_closing_lines_get_a_panel_of_their_own_when_the_last_one_is_full() -> None:
    fits = 0
    while len(wallet_card.panels(["Aspirin"] * (fits + 1))) == 1:
        fits += 1
    *_, full, closing = wallet_card.panels(["Aspirin"] * (fits + 1))
    assert not full.last and closing == Panel((), first=False, last=True, blanks=closing.blanks)
