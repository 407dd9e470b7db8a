"""medpdf: print-ready patient handouts and a reference booklet from drug monographs."""

__version__ = "0.1.0"
