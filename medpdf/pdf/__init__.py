"""The PDF stage: laying out HTML, and assembling finished PDFs.

``typeset`` lays out HTML and is the only module that imports WeasyPrint;
``assemble`` merges finished PDFs, links and outlines them; ``stamp`` draws
page numbers and dates on top. Every operation on PDF objects lives here.
"""

#: Links between the separately laid-out parts of the booklet: kept as URIs by
#: :mod:`.typeset`, turned into in-document destinations after the merge by
#: :mod:`.assemble`. Content cannot make them: the sanitizer keeps only http(s)
#: and mailto links.
CROSS_DOCUMENT_SCHEME = "x-dest:"
