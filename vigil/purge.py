"""Evidence retention from the command line (``vigil purge``) and on a timer (``vigil run``).

The policy and the round itself are :mod:`core.retention`; this module only wires them to
the config folder, the store and the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TextIO

from core.clock import Clock, SystemClock
from core.config import load_config
from core.config.models import Service
from core.errors import ConfigError
from core.ports import PurgeStore
from core.retention import GB, Purger, PurgeReport
from core.store import open_store
from core.supervise import every, pause, start_supervised

log = logging.getLogger(__name__)
TASK = "evidence.retention"
FIRST_ROUND_AFTER = 60.0
"""Seconds after start-up before the first round (start-up is busy enough), at most."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               default_config: Path) -> None:
    purge = sub.add_parser("purge", help="apply the evidence retention of service.yaml once")
    purge.add_argument("--config", type=Path, default=default_config,
                       help="folder with service.yaml (default: configs)")
    purge.add_argument("--dry-run", action="store_true",
                       help="print what would be deleted and delete nothing")


def purger_for(service: Service, store: PurgeStore, clock: Clock) -> Purger:
    return Purger(service.retention, store, Path(service.evidence_dir), clock)


def print_report(report: PurgeReport, out: TextIO) -> None:
    """One line per deletion in a dry run (``would delete KIND PATH-OR-ID BYTES``), then
    the summary; a real run prints only the summary."""
    if report.dry_run:
        for line in report.lines:
            print(f"would delete {line}", file=out)
    print(report.summary(), file=out)
    if report.quota_unmet:
        print("quota not met: the rest belongs to alerts not yet closed (never deleted)",
              file=out)


def purge_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    try:
        service = load_config(args.config).service
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return 2
    clock = SystemClock()
    store = open_store(service.store, clock)
    try:
        report = purger_for(service, store, clock).run(dry_run=args.dry_run)
    finally:
        store.close()
    print_report(report, out or sys.stdout)
    return 0


async def purge_round(purger: Purger) -> PurgeReport:
    """One round off the event loop; logged at INFO when it deleted something."""
    report = await asyncio.to_thread(purger.run)
    level = logging.INFO if report.deleted else logging.DEBUG
    log.log(level, "retention: %s (quota %s)", report.summary(),
            f"{purger.quota / GB:g} GB" if purger.quota else "none")
    return report


async def retention_loop(purger: Purger, interval: float) -> None:
    """A first round soon after start-up, then one every ``interval`` seconds; each round is
    guarded (core/supervise.py), so a failing round is logged, counted and retried at the
    next interval, never the end of the loop."""
    await pause(min(FIRST_ROUND_AFTER, interval))
    await every(TASK, interval, lambda: purge_round(purger))


def start_retention(service: Service, store: PurgeStore,
                    clock: Clock) -> asyncio.Task[None] | None:
    """The supervised retention task of ``vigil run``; ``None`` when turned off."""
    if not service.retention.enabled:
        log.warning("retention.enabled is false: evidence and sightings are never purged")
        return None
    purger = purger_for(service, store, clock)
    return start_supervised(TASK, lambda: retention_loop(purger, service.retention.interval))
