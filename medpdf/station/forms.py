"""The station's own forms (print, approve), read only as its pages send them.

A form is small and urlencoded; anything bigger, or sent another way, did not
come from the station's pages and is refused before it is read.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request

from medpdf.i18n import N_
from medpdf.station.language import Told

#: The print form is a handful of short fields; anything bigger is not from its page.
MAX_FORM_BYTES = 4096
#: How the station's print form is sent; anything else did not come from it.
FORM_TYPE = "application/x-www-form-urlencoded"


async def print_form(
    request: Request, max_fields: int, max_bytes: int = MAX_FORM_BYTES
) -> FormData | None:
    """The print form, small and urlencoded as the station's own pages send it.

    None when the browser went away before the form arrived.
    """
    size = request.headers.get("content-length", "")
    if not size.isdigit() or int(size) > max_bytes:
        raise Told(413, N_("The print form was too large."))
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM_TYPE:
        raise Told(415, N_("Printing can only be started from the station's own pages."))
    try:
        return await request.form(max_files=0, max_fields=max_fields)
    except ClientDisconnect:
        return None
