"""What the console app talks to: the optional collaborators ``vigil`` hands ``create_app``.

Everything is optional so a console without a store (camera pages only) still starts, and
a route that needs a missing piece answers 503 (:class:`console.context.Context`) instead of
failing at import or start. Its own module, below ``context``: the users logic needs the
store, clock and settings but nothing of a request, and importing them from ``context``
made a circle (``context`` → ``auth`` → ``users`` → ``context``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from console.settings import ConsoleSettings
from core.clock import Clock, SystemClock
from core.ports import ConsoleStore, DispatchPort, WatchlistPort


@dataclass(frozen=True, slots=True)
class ConsoleDeps:
    """The optional collaborators of the console app (``vigil`` builds them)."""

    store: ConsoleStore | None = None
    watchlists: WatchlistPort | None = None
    dispatch: DispatchPort | None = None
    clock: Clock = field(default_factory=SystemClock)
    settings: ConsoleSettings = field(default_factory=ConsoleSettings)
