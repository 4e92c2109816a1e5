"""A cluster worker's own ``/metrics`` (``vigil run --role worker --bind HOST:PORT``).

A worker has no console, yet it is where ingest and analysis happen: its cameras' fps,
drops, load shedding, stage times and publisher queues exist only in its process tree (the
hubs see camera statuses, not the worker's queues). So a worker serves the same ingest
families the console exports (:func:`console.metrics.ingest_registry`, one definition for
both) from its own camera statuses, plus what only a worker knows: how many cameras it
holds leases for and the capacity it announced. prometheus-client's threaded HTTP server
answers scrapes outside the event loop, so a slow scrape never delays a lease renewal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from console.metrics import ingest_registry
from console.registry import CameraRegistry
from core.errors import ConfigError
from vigil.run import parse_bind

log = logging.getLogger(__name__)
DEFAULT_BIND = "127.0.0.1:9180"
"""Where a worker serves /metrics without ``--bind`` (a hub's console default is 8080)."""


class LeaseCollector(Collector):
    """Cameras this worker holds now, and the capacity it announces (0 = no limit)."""

    def __init__(self, held: Callable[[], int], capacity: float) -> None:
        self._held, self._capacity = held, capacity

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("vigil_cluster_cameras_held",
                                "Cameras this worker holds a lease for", value=self._held())
        yield GaugeMetricFamily("vigil_cluster_capacity", "Cost units this worker announces "
                                "(a camera costs 1, 3 with analytics; 0 = no limit)",
                                value=self._capacity)


@dataclass
class MetricsServer:
    server: WSGIServer
    host: str

    @property
    def address(self) -> str:
        """HOST:PORT as bound (the port the system chose for port 0)."""
        return f"{self.host}:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_metrics(bind: str, cameras: CameraRegistry, held: Callable[[], int],
                  capacity: float) -> MetricsServer:
    """Serve the worker's metrics on ``bind`` (HOST:PORT; port 0 picks a free one). A
    taken address stops the worker before it starts anything, naming the flag to change,
    as the console's bind does."""
    host, port = parse_bind(bind)
    registry = ingest_registry(cameras)
    registry.register(LeaseCollector(held, capacity))
    try:
        server, _ = start_http_server(port, host, registry)
    except OSError as exc:
        raise ConfigError([f"worker metrics: {host}:{port} cannot be used ({exc.strerror}); "
                           "is another worker on this machine? choose one with "
                           "--bind HOST:PORT"]) from exc
    served = MetricsServer(server, host)
    log.info("worker metrics on http://%s/metrics", served.address)
    return served
