"""A parent process for tests/ingest/test_ingest_orphan.py: runs one camera in one ingest
worker process with the probe consumer, prints the worker's pid, then waits to be killed.

    python -m tests.ingest.orphan_parent PROBE_JSON VIDEO STOP_DELAY
"""

from __future__ import annotations

import sys
import time

from ingest.consumer import ConsumerSpec
from ingest.node import IngestNode
from tests.ingest import consumer_probe
from tests.ingest.ingest_helpers import camera


def main(argv: list[str]) -> None:
    probe, video, delay = argv[0], argv[1], float(argv[2])
    spec = ConsumerSpec(consumer_probe.make, {"path": probe, "stop_delay": delay})
    node = IngestNode(lambda status: None, workers=1, consumer=spec)
    node.apply([camera("file-a", video)])
    print(node.pids()[0], flush=True)
    while True:
        time.sleep(1.0)


if __name__ == "__main__":
    main(sys.argv[1:])
