"""The run stage: what every render is given and gives back, where it runs, what it keeps.

=============  ==============================================================
module         what it holds
=============  ==============================================================
``contract``   the render contract: ``RunContext`` in, ``Pdf`` out
``workers``    worker processes, each render bounded in time and memory
``cache``      what earlier builds did (SQLite), the presentation fingerprint
``store``      ``Store``: write atomically and record in one step
=============  ==============================================================

Other packages import from here, not from the modules.
"""

from medpdf.atomic import sweep_stale_temps, write_atomic, write_atomic_with
from medpdf.run.cache import Cache, presentation_fingerprint
from medpdf.run.contract import Pdf, Rendered, RunContext, refusal_warnings, warm_up
from medpdf.run.store import Content, Store, locked_output
from medpdf.run.workers import (
    Failure,
    Limits,
    Outcome,
    RenderPool,
    Runner,
    Runners,
    died_message,
    guarded,
    init_render_process,
    memory_message,
    overtime_message,
    run_here,
    stop_helpers,
)

__all__ = [
    "Cache",
    "Content",
    "Failure",
    "Limits",
    "Outcome",
    "Pdf",
    "RenderPool",
    "Rendered",
    "RunContext",
    "Runner",
    "Runners",
    "Store",
    "died_message",
    "guarded",
    "init_render_process",
    "locked_output",
    "memory_message",
    "overtime_message",
    "presentation_fingerprint",
    "refusal_warnings",
    "run_here",
    "stop_helpers",
    "sweep_stale_temps",
    "warm_up",
    "write_atomic",
    "write_atomic_with",
]
