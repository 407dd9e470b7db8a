"""Where a build's renders run: worker processes here, or a Dask cluster.

=============  ==============================================================
module         what it does
=============  ==============================================================
``trust``      refuse plain TCP to another machine unless told (no traffic)
``probe``      tell at once why an address is no usable scheduler
``client``     the build side: connect, submit, gather, map faults to lines
``remote``     the worker side: check versions, hand the render to its child
``child``      the render child of a worker thread (``subprocess``), limits
=============  ==============================================================

Dask is imported only when a task is sent to a scheduler (``pip install
'medpdf[cluster]'`` is needed only to use one). Either way a build gets a
:data:`~medpdf.run.workers.Runners` and submits through it; PDFs come back as
bytes and the build process writes them, so workers need no access to
``output/`` and the content folder.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from medpdf.cluster import trust
from medpdf.run import RenderPool, Runners, presentation_fingerprint
from medpdf.settings.config import Config
from medpdf.settings.options import SCHEDULER, SCHEDULER_INSECURE

__all__ = ["child", "client", "probe", "remote", "runners_for", "trust"]


@contextlib.contextmanager
def runners_for(config: Config) -> Iterator[Runners]:
    """The local pool, or one connection to ``config``'s scheduler for the whole run.

    The connection opens with the first render (an unchanged rebuild needs
    none); a scheduler this run may not use is refused before anything else.
    """
    address = config[SCHEDULER]
    if address is None:
        yield RenderPool
        return
    trust.check(address, config[SCHEDULER_INSECURE])  # before any import or traffic
    from medpdf.cluster import client  # Dask itself is imported with the first task

    with client.connect(address, presentation_fingerprint(config.resources)) as cluster:
        yield cluster.runner
