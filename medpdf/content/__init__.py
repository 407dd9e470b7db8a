"""The monographs: files, front matter, the model, and the scan of a whole collection.

=================  ==========================================================
module             what it holds
=================  ==========================================================
``sources``        finding and reading monograph files (``Source``)
``front_matter``   the YAML front matter and its rules
``section_names``  the section headings of every language
``markdown``       the Markdown a monograph is written in, sanitised
``model``          ``Monograph``: a source parsed and checked
``collection``     the collection scan: every monograph, or why it is left out
``content_rules``  text a clinic must never hand out as it is (rules per language)
``approvals``      which edition of each monograph a pharmacist approved
``translations``   how monographs of one drug in several languages are linked
``formulary``      the monographs a clinic's formulary names
``codes``          drug code systems (RxNorm, SNOMED CT, ATC, NDC) it names
``ingredients``    the ingredients a monograph names; near-duplicate names
``synonyms``       one name per active ingredient (synonyms, salts, co- names)
``collation``      alphabetical order and letters, per language (ICU)
``readability``    reading grades, for ``check``
``glyphs``         whether the fonts can draw every character
=================  ==========================================================

The modules in ``__all__`` are the stage's public face; ``front_matter`` and
``section_names`` serve :mod:`.model` only.
"""

__all__ = [
    "approvals",
    "codes",
    "collation",
    "collection",
    "content_rules",
    "formulary",
    "glyphs",
    "ingredients",
    "markdown",
    "model",
    "readability",
    "sources",
    "synonyms",
    "translations",
]
