"""The request context: what a route handler reaches through ``Ctx``.

:class:`Context` bundles the app's collaborators (:class:`console.deps.ConsoleDeps`, with
its :class:`console.settings.ConsoleSettings`), the camera registry, the fixed tokens and
the WebSocket hub; it sits above all of them, so it imports them and none imports it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from console.deps import ConsoleDeps
from console.hub import Hub
from console.registry import CameraRegistry
from console.settings import ConsoleSettings
from console.tokens import TokenBook
from core.bus import Bus
from core.clock import Clock
from core.ports import ConsoleStore, DispatchPort, WatchlistPort


@dataclass(slots=True)
class Context:
    """Everything a request handler may need, kept on ``app.state.console``."""

    cameras: CameraRegistry
    tokens: TokenBook
    bus: Bus | None
    deps: ConsoleDeps
    hub: Hub | None = None

    @property
    def settings(self) -> ConsoleSettings:
        return self.deps.settings

    @property
    def clock(self) -> Clock:
        return self.deps.clock

    def store(self) -> ConsoleStore:
        """The store, or 503 when this console runs without one."""
        if self.deps.store is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no store configured")
        return self.deps.store

    def watchlists(self) -> WatchlistPort:
        if self.deps.watchlists is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "watchlists not configured")
        return self.deps.watchlists

    def dispatch(self) -> DispatchPort:
        if self.deps.dispatch is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "dispatch not configured")
        return self.deps.dispatch


def context(request: Request) -> Context:
    ctx: Context = request.app.state.console
    return ctx


Ctx = Annotated[Context, Depends(context)]
