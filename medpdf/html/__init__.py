"""The HTML stage: monographs and the products' own pages through the Jinja2 templates.

``templating`` makes every page (handouts, booklet entries, the station's
pages); ``booklet_pages`` the booklet's cover, contents and index;
``bilingual`` a handout with its translation beside it.
The words and the look are in ``templates/`` and ``styles/``, not here.
"""

__all__ = ["bilingual", "booklet_pages", "templating"]
