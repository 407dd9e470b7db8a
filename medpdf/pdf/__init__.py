"""The PDF stage: laying out HTML, and assembling finished PDFs.

=============  ==============================================================
module         what it holds
=============  ==============================================================
``typeset``    HTML to PDF: the only module that imports WeasyPrint
``archival``   handouts that are PDF/A-2a and PDF/UA-1 at once
``libraries``  finding the system libraries WeasyPrint loads, quickly
``assemble``   the booklet written part by part from laid-out parts
``survey``     what must be known of a part before the booklet is written
``segment``    one part as written into the booklet (kept for the next build)
``copier``     a part's objects copied into the booklet, renumbered
``outline``    the booklet's bookmarks
``fontmerge``  one embedded font file per typeface in the merged booklet
``overlay``    the stamp overlaid on the booklet's pages, file by file
``stamp``      the page numbers and date drawn on every booklet page
``slices``     pages cut out of a laid-out PDF
``structure``  the structure tree of a part (for ``assemble`` and ``slices``)
``tagmerge``   merging the parts' structure trees into the booklet's
``update``     a PDF body in object streams, a whole file or an update
=============  ==============================================================

Every operation on PDF objects lives here. The face imports nothing: the
modules in ``__all__`` are imported when used, as WeasyPrint (0.4 s) and
pikepdf are not cheap and ``medpdf check`` needs neither.
"""

#: Links between the separately laid-out parts of the booklet: kept as URIs by
#: :mod:`.typeset`, turned into in-document destinations after the merge by
#: :mod:`.assemble`. Content cannot make them: the sanitizer keeps only http(s)
#: and mailto links.
CROSS_DOCUMENT_SCHEME = "x-dest:"

__all__ = [
    "CROSS_DOCUMENT_SCHEME",
    "archival",
    "assemble",
    "libraries",
    "slices",
    "stamp",
    "typeset",
]
