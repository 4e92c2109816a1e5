"""The store's ports (core/ports.py): ``Store`` satisfies each one, method for method.

mypy checks the assignments below (``Store`` is structurally every protocol); the test
checks that each protocol method exists on ``Store`` with the same parameters, names and
defaults included, so a keyword call through a protocol means what it means on ``Store``.
"""

from __future__ import annotations

import inspect

import pytest

from core import ports
from core.clock import SystemClock
from core.store import Store

STORE_PORTS: list[type] = [
    ports.OutboxStore, ports.ParkingStore, ports.AlertServiceStore, ports.DispatcherStore,
    ports.CallbackStore, ports.WatchlistStore, ports.AlertingStore, ports.PurgeStore,
    ports.EventFeedStore, ports.ConsoleUsersStore, ports.ConsoleStore,
]


def typed_as_every_port(store: Store) -> None:
    """Never called: mypy proves ``Store`` satisfies each port."""
    alerting: ports.AlertingStore = store
    purge: ports.PurgeStore = store
    callback: ports.CallbackStore = store
    console: ports.ConsoleStore = store
    del alerting, purge, callback, console


def port_methods(port: type) -> list[str]:
    return sorted(name for klass in port.__mro__ if klass not in (object,)
                  for name, value in vars(klass).items()
                  if not name.startswith("_") and callable(value))


@pytest.mark.parametrize("port", STORE_PORTS, ids=lambda p: p.__name__)
def test_store_has_every_port_method_with_its_signature(port: type) -> None:
    methods = port_methods(port)
    assert methods
    for name in methods:
        wanted = inspect.signature(getattr(port, name))
        have = inspect.signature(getattr(Store, name))
        assert list(wanted.parameters) == list(have.parameters), f"{port.__name__}.{name}"
        assert ([p.default for p in wanted.parameters.values()]
                == [p.default for p in have.parameters.values()]), f"{port.__name__}.{name}"


def test_store_instance_has_the_clock_the_users_port_reads() -> None:
    store = Store("sqlite://", SystemClock())
    try:
        assert isinstance(store.clock, SystemClock)
    finally:
        store.close()
