"""Every setting medpdf has, declared once, and where things live.

=================  ==========================================================
module             what it holds
=================  ==========================================================
``options``        the option table: every option, its rule, default, flag
``option``         what one option is (``Option``), the command groups
``kinds``          the kinds of value and their parsing rules
``table_kinds``    values that are whole ``medpdf.toml`` tables (clinic, ...)
``config``         ``Config``, ``medpdf.toml``, where resources live, today
``variants``       one collection built several ways (``--variants``)
``option_docs``    reference text made from the table (``make option-docs``)
=================  ==========================================================

Each module is public: other packages import from any of them.
"""

__all__ = ["config", "kinds", "option", "option_docs", "options", "table_kinds", "variants"]
