"""Where a build's renders run: worker processes here, or a Dask cluster.

=============  ==============================================================
module         what it does
=============  ==============================================================
``client``     the build side: connect, submit, gather, map faults to lines
``remote``     the worker side: check versions, render under the limits
=============  ==============================================================

Without a scheduler nothing here imports Dask (``pip install
'medpdf[cluster]'`` is needed only to use one). Either way a build gets a
:data:`~medpdf.run.workers.Runners` and submits through it; PDFs come back as
bytes and the build process writes them, so workers need no access to
``output/`` and the content folder.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from medpdf.errors import ClusterError
from medpdf.run import RenderPool, Runners, presentation_fingerprint
from medpdf.settings.config import Config
from medpdf.settings.options import SCHEDULER

__all__ = ["client", "remote", "runners_for"]


@contextlib.contextmanager
def runners_for(config: Config) -> Iterator[Runners]:
    """The local pool, or one connection to ``config``'s scheduler for the whole run."""
    address = config[SCHEDULER]
    if address is None:
        yield RenderPool
        return
    try:
        from medpdf.cluster import client
    except ImportError as exc:
        raise ClusterError(
            f"--scheduler needs Dask distributed ({exc.name} is not installed): "
            "pip install 'medpdf[cluster]'"
        ) from None
    with client.connect(address, presentation_fingerprint(config.resources)) as cluster:
        yield cluster.runner
