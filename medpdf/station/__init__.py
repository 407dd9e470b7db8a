"""The clinic printing station: a small local web app over the products.

Staff search the collection, preview a handout with the options they need and
open its PDF for printing. The design follows from where it runs, a shared
clinic computer:

- no render happens in the server process: PDFs are made by the same bounded
  worker pool as batch builds, at most one per worker at a time, and requests
  beyond a short queue are turned away (503) instead of piling up in memory
  (``jobs``);
- identical requests in flight share one render, and finished PDFs are kept in
  a size-bounded folder under ``output/``, keyed by everything that shapes them;
- every drug request re-reads its monograph, so an editor's change shows on the
  next request; a file watcher refreshes the list when files come and go
  (``app``, with search in ``listing``);
- no file is ever found by joining a request path: drugs are looked up by slug
  in the scanned collection, static files in a list made at start-up;
- the options a request may set are the table's station options
  (:mod:`medpdf.settings.options`), parsed by the same rules as flags and ``medpdf.toml``.

- who may use it: without accounts only this computer (loopback); beyond it,
  accounts (``medpdf.accounts``), a login gate and sessions (``auth``,
  ``sessions``), a login slowdown and a print rate (``throttle``), Host and
  cross-site checks and common headers (``guards``), and a request deadline and
  connection cap in the HTTP protocol itself (``connections``).

``serve`` checks the access settings, binds the socket and runs uvicorn (with TLS
when given a certificate, ``tls``: plain http on that port is redirected).
"""

__all__ = ["app", "listing", "serve"]
