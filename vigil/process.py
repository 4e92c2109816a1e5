"""Process-wide runtime settings of a ``vigil`` process, in one place.

A library module that changes interpreter-wide state (the garbage collector here) changes
it for every test and bench that imports it, and a reader looking for why the process
behaves as it does has to find it. So such settings live here, in the command layer, and
are applied by the wiring that starts the process: :func:`settle_heap` by
:func:`vigil.console_wiring.build_app`, through the console app's ``started`` hook, so it
runs once the app is up and before it serves (the moment it ran at when the console app
did it itself). Logging is configured by ``vigil.cli.main``.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 1000
"""Middle-generation collections between two full ones (CPython's default is 10)."""


def settle_heap() -> None:
    """Hide everything built at start-up from the cycle collector (``gc.freeze``).

    The app, SQLAlchemy, pydantic and the routes are hundreds of thousands of objects that
    live as long as the process; a full collection walks them all while every socket
    waits. bench/console.py measured single full collections of over 100 ms at 200
    clients, a stall that lands on every push in flight and dominated the p99. Frozen
    objects are still freed by reference counting; only cycles that were alive at start-up
    and die later are kept (collected first, so there are few).

    Full collections are also made rarer (after 1,000 collections of the middle generation
    instead of 10, i.e. about every 7 million net allocations): with the start-up heap
    frozen, the default rule still ran full collections under load, 20–50 ms each, and
    at 200 clients × 500 alerts/s those pauses pushed the p99 past 50 ms (bench/console.py
    on 2 cores: p99 53–82 ms in three runs with the default, 43–54 ms in five with this).
    Cycles still get collected, only later; the long-lived heap of a running node is
    bounded (bus log, caches), so a full collection costs about the same whenever it runs.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
