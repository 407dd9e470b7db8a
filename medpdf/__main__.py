"""``python -m medpdf``."""

from medpdf.cli import main

main()
