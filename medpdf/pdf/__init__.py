"""The PDF stage: laying out HTML, and assembling finished PDFs.

``render`` lays out HTML and is the only module that imports WeasyPrint;
``assemble`` merges finished PDFs, links and outlines them; ``stamp`` draws
page numbers and dates on top. Every operation on PDF objects lives here.
"""
