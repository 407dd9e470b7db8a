"""Medication packs: a patient's medicines in one PDF, "My medicines" first.

=============  ==========================================================
module         what it holds
=============  ==========================================================
``packlist``   what a pack is asked for: names, times, notes (flags, TOML)
``medicines``  each medicine's purpose, and where one names another
``pages``      the pack's own pages as HTML (page 1, the shared disclaimer)
``make``       a settled :class:`Pack`, its render task, ``medpdf pack``
=============  ==========================================================

The command line (``medpdf pack``, ``medpdf print``) and the station's "My
medicines" are front doors to these modules: they read the request in their
own way and hand it here.
"""

from medpdf.products.pack import drug_classes, purposes
from medpdf.products.pack.make import (
    Pack,
    PackJob,
    PackMade,
    make_pack,
    pack_task,
    packs_dir,
    resolve,
)
from medpdf.products.pack.medicines import TIMES, fold
from medpdf.products.pack.packlist import (
    MAX_MEDICINES,
    MAX_NOTE,
    PackRequest,
    Patient,
    Taking,
    Wanted,
    from_flags,
    read_file,
)
from medpdf.products.pack.product_names import (
    BRACKETS,
    FORM_WORDS,
    SALT_WORDS,
    UNIT_WORDS,
    name_key,
    without_salt,
)
from medpdf.products.pack.purposes import purpose

__all__ = [
    "BRACKETS",
    "FORM_WORDS",
    "MAX_MEDICINES",
    "MAX_NOTE",
    "SALT_WORDS",
    "TIMES",
    "UNIT_WORDS",
    "Pack",
    "PackJob",
    "PackMade",
    "PackRequest",
    "Patient",
    "Taking",
    "Wanted",
    "drug_classes",
    "fold",
    "from_flags",
    "make_pack",
    "name_key",
    "pack_task",
    "packs_dir",
    "purpose",
    "purposes",
    "read_file",
    "resolve",
    "without_salt",
]
