"""The booklet's words outside its laid-out pages: its title, the stamp, the outline, link names.

They are marked ``N_`` here, so ``make messages`` finds them (``babel.cfg``),
and come from the pages' catalogs in the booklet's language when shown.
"""

from __future__ import annotations

from collections.abc import Callable

from medpdf import i18n
from medpdf.i18n import N_
from medpdf.settings.config import Config
from medpdf.settings.options import LANG

BOOKLET_TITLE = N_("Drug reference booklet")
PAGE_OF = N_("Page %(page)s of %(pages)s")
PRINTED = N_("Printed %(date)s")
CONTENTS = N_("Contents")
INGREDIENT_INDEX = N_("Ingredient index")
#: What a screen reader says for a contents link.
PAGE_LINK = N_("%(title)s, page %(page)s")
VOLUME_OF = N_("Volume %(volume)s of %(volumes)s")


def translated(config: Config) -> Callable[[str], str]:
    """The booklet language's translation of a message (its catalog, else English)."""
    catalog = i18n.translations(config.resources.locale, i18n.catalog_for(config[LANG]))
    return catalog.gettext
