"""Evidence retention: keep the evidence folder and the sightings table from filling the disk.

Every sighting writes pictures and a clip (about 5 GB per camera per day with the demo
camera), so :class:`Purger` runs on a timer in ``vigil run`` and as ``vigil purge``. One
round, in order (policy: ``service.yaml`` ``retention:``, :class:`core.config.models.Retention`):

1. **Rows.** Sightings older than ``sightings_days`` that no alert holds are deleted with
   their files (pictures and clip), batch by batch; files go only after their rows' commit.
2. **Files, by age.** A clip no alert refers to goes after ``unalerted_clip_hours`` (clips
   are most of the bytes and only an alert needs one; the row keeps its pictures and
   forgets the clip). Any other file older than ``sightings_days`` goes when nothing holds
   its id: a scene event no one alerted on, the early emission of a purged sighting.
   Evidence of a closed or dismissed alert goes ``closed_alert_days`` after it ended.
3. **Quota.** If the folder is still above ``max_evidence_gb``, whole observations go
   oldest first: first those no alert refers to, then those of closed/dismissed alerts.

Evidence of an alert that is not closed or dismissed is never deleted, however old, not
even for the quota: a quota that cannot be met without it is logged at WARNING and counted
(``vigil_evidence_quota_unmet_total``). Files younger than :data:`QUOTA_MIN_AGE` are not
quota candidates either (their sighting may still be raising an alert).

The numbers are process-wide (:data:`RETENTION`) like :data:`core.supervise.STATS`: the
console renders them on ``/metrics`` and in ``/api/stats``.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.clock import Clock
from core.config.models import Retention
from core.evidence_files import EvidenceFile, prune_empty, remove, scan
from core.ports import PurgeStore
from core.store.retention import BATCH, Hold, Holding

log = logging.getLogger(__name__)
DAY, HOUR, GB = 86400.0, 3600.0, 10**9
QUOTA_MIN_AGE = 600.0
"""Seconds: the quota never deletes a file younger than this."""
PARTIAL_AGE = HOUR
"""A write in progress older than this was left by a crash."""


class Kind(enum.StrEnum):
    """Why something was deleted: the ``kind`` label of ``vigil_purged_total``."""

    SIGHTING_ROWS = "sighting_rows"
    SIGHTING_FILES = "sighting_files"
    CLIPS = "clips"
    ORPHAN_FILES = "orphan_files"
    ALERT_FILES = "alert_files"
    QUOTA_FILES = "quota_files"


@dataclass
class RetentionStats:
    """Disk use after the last round and what was deleted since start (only increased)."""

    evidence_bytes: int = 0
    evidence_files: int = 0
    quota_bytes: int = 0
    measured_at: float | None = None
    purged: Counter[str] = field(default_factory=Counter)
    quota_unmet: int = 0
    rounds: int = 0


RETENTION = RetentionStats()


@dataclass
class PurgeReport:
    """One round: what went (or, in a dry run, would go) and what is left."""

    dry_run: bool
    deleted: Counter[str] = field(default_factory=Counter)
    freed_bytes: int = 0
    lines: list[str] = field(default_factory=list)
    """Dry runs only: ``kind path-or-id bytes`` per deletion (``vigil purge --dry-run``)."""
    gone: set[str] = field(default_factory=set)
    evidence_bytes: int = 0
    evidence_files: int = 0
    quota_unmet: bool = False

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.deleted.items())) or "nothing"
        return (f"{verb} {kinds} ({self.freed_bytes / GB:.3f} GB); evidence "
                f"{self.evidence_bytes / GB:.3f} GB in {self.evidence_files} files")


@dataclass(frozen=True, slots=True)
class Cutoffs:
    sightings: float
    clips: float
    alerts: float

    @classmethod
    def at(cls, now: float, policy: Retention) -> Cutoffs:
        return cls(now - policy.sightings_days * DAY, now - policy.unalerted_clip_hours * HOUR,
                   now - policy.closed_alert_days * DAY)


class Purger:
    """One retention round per :meth:`run` (synchronous: store and file I/O; async code
    calls it through ``asyncio.to_thread``)."""

    def __init__(self, policy: Retention, store: PurgeStore, evidence_dir: Path, clock: Clock,
                 stats: RetentionStats = RETENTION) -> None:
        self.policy, self.store, self.root, self.clock = policy, store, evidence_dir, clock
        self.stats = stats
        self.quota = int(policy.max_evidence_gb * GB)
        stats.quota_bytes = self.quota

    def run(self, dry_run: bool = False) -> PurgeReport:
        report = PurgeReport(dry_run)
        now = self.clock.now()
        cut = Cutoffs.at(now, self.policy)
        self._expire_rows(cut, report)
        files = [f for f in scan(self.root) if f.path not in report.gone]
        files = self._sweep(files, now, cut, report)
        if self.quota and sum(f.size for f in files) > self.quota:
            files = self._enforce_quota(files, now, report)
        report.evidence_bytes = sum(f.size for f in files)
        report.evidence_files = len(files)
        if not dry_run:
            prune_empty(self.root, now - HOUR)
            self._record(report, now)
        return report

    def _record(self, report: PurgeReport, now: float) -> None:
        st = self.stats
        st.evidence_bytes, st.evidence_files = report.evidence_bytes, report.evidence_files
        st.measured_at, st.rounds = now, st.rounds + 1
        st.purged.update(report.deleted)
        st.quota_unmet += report.quota_unmet

    def _delete(self, report: PurgeReport, kind: Kind, path: str, size: int | None) -> None:
        """Delete one file (a dry run only notes it); ``size`` when already known."""
        if path in report.gone:
            return
        freed = (size or 0) if report.dry_run else remove(self.root, path)
        report.gone.add(path)
        report.deleted[kind] += 1
        report.freed_bytes += freed
        if report.dry_run:  # a real purge of a long backlog would pile up millions
            report.lines.append(f"{kind} {path} {freed}")

    def _expire_rows(self, cut: Cutoffs, report: PurgeReport) -> None:
        batches = self.store.expire_sightings(cut.sightings, cut.alerts, report.dry_run)
        for batch in batches:
            for row in batch:
                report.deleted[Kind.SIGHTING_ROWS] += 1
                if report.dry_run:
                    report.lines.append(f"{Kind.SIGHTING_ROWS} {row.sighting_id} 0")
                for path in row.paths:
                    self._delete(report, Kind.SIGHTING_FILES, path, _size(self.root, path))

    def _sweep(self, files: list[EvidenceFile], now: float, cut: Cutoffs,
               report: PurgeReport) -> list[EvidenceFile]:
        """Step 2: files past their age whose id nothing holds any more; the files left."""
        due = [f for f in files if (f.partial and f.mtime < now - PARTIAL_AGE) or (
            f.key is not None and f.mtime < (cut.clips if f.clip else cut.sightings))]
        holds = self._holdings(f.key for f in due if f.key is not None)
        verdicts = [(f, kind) for f in due
                    if (kind := _age_verdict(f, holds.get(f.key or ""), cut)) is not None]
        forget = [f.key for f, kind in verdicts if kind is Kind.CLIPS and f.key is not None
                  and holds[f.key].hold is Hold.SIGHTING]
        for start in range(0, 0 if report.dry_run else len(forget), BATCH):
            self.store.drop_clips(forget[start:start + BATCH])  # the reference first
        for f, kind in verdicts:
            self._delete(report, kind, f.path, f.size)
        return [f for f in files if f.path not in report.gone]

    def _holdings(self, keys: Iterable[str]) -> dict[str, Holding]:
        unique = list(dict.fromkeys(keys))
        out: dict[str, Holding] = {}
        for start in range(0, len(unique), BATCH):
            out.update(self.store.holdings(unique[start:start + BATCH]))
        return out

    def _enforce_quota(self, files: list[EvidenceFile], now: float,
                       report: PurgeReport) -> list[EvidenceFile]:
        """Step 3: whole observations, oldest first, until the folder fits the quota."""
        excess = sum(f.size for f in files) - self.quota
        groups = _observations(files, now - QUOTA_MIN_AGE)
        for tier in ((Hold.NONE, Hold.SIGHTING), (Hold.CLOSED,)):
            excess = self._quota_tier(groups, tier, excess, report)
            if excess <= 0:
                break
        left = [f for f in files if f.path not in report.gone]
        if excess > 0:
            self._quota_unmet(left, excess, report)
        return left

    def _quota_tier(self, groups: list[list[EvidenceFile]], tier: tuple[Hold, ...],
                    excess: int, report: PurgeReport) -> int:
        for start in range(0, len(groups), BATCH):
            chunk = [g for g in groups[start:start + BATCH] if g[0].path not in report.gone]
            holds = self.store.holdings([g[0].key or "" for g in chunk])
            chosen: list[list[EvidenceFile]] = []
            need = excess
            for group in (g for g in chunk if holds[g[0].key or ""].hold in tier):
                if need <= 0:
                    break
                chosen.append(group)
                need -= sum(f.size for f in group)
            for group in self._rows_first(chosen, holds, report):
                for f in group:
                    self._delete(report, Kind.QUOTA_FILES, f.path, f.size)
                    excess -= f.size
            if excess <= 0:
                return excess
        return excess

    def _rows_first(self, groups: list[list[EvidenceFile]], holds: dict[str, Holding],
                    report: PurgeReport) -> list[list[EvidenceFile]]:
        """The groups whose files may go: their sighting rows deleted first, in one
        transaction that re-checks that no alert took them meanwhile."""
        keys = [g[0].key or "" for g in groups if holds[g[0].key or ""].hold is not Hold.NONE]
        if report.dry_run or not keys:
            return groups
        closed = any(holds[k].hold is Hold.CLOSED for k in keys)
        deleted = set(self.store.delete_sightings(keys, closed_too=closed))
        report.deleted[Kind.SIGHTING_ROWS] += len(deleted)
        refused = {k for k in keys if holds[k].hold is Hold.SIGHTING} - deleted
        return [g for g in groups if g[0].key not in refused]

    def _quota_unmet(self, left: list[EvidenceFile], excess: int, report: PurgeReport) -> None:
        """Say why the quota is not met: evidence of open alerts, or files too young."""
        report.quota_unmet = True
        groups = _observations(left, float("inf"))
        holds = self._holdings(g[0].key or "" for g in groups)
        held = [g for g in groups if holds[g[0].key or ""].hold is Hold.OPEN]
        log.warning("evidence quota %.1f GB not met: still %.2f GB over after deleting "
                    "everything allowed; %d observations (%.2f GB) belong to alerts not yet "
                    "closed or dismissed and are never deleted; files younger than %.0f s "
                    "are kept too (%s)", self.quota / GB, excess / GB, len(held),
                    sum(f.size for g in held for f in g) / GB, QUOTA_MIN_AGE, self.root)


def _age_verdict(f: EvidenceFile, holding: Holding | None, cut: Cutoffs) -> Kind | None:
    """Why ``f`` goes in step 2, or ``None`` when it stays."""
    if f.partial:
        return Kind.ORPHAN_FILES
    hold = holding.hold if holding is not None else Hold.NONE
    if hold is Hold.OPEN:
        return None
    if hold is Hold.CLOSED:
        ended = holding.ended_at if holding is not None else None
        old = ended is not None and ended < cut.alerts and f.mtime < cut.sightings
        return Kind.ALERT_FILES if old else None
    if f.clip and f.mtime < cut.clips:
        return Kind.CLIPS
    if hold is Hold.NONE and f.mtime < cut.sightings:
        return Kind.ORPHAN_FILES
    return None


def _observations(files: list[EvidenceFile], before: float) -> list[list[EvidenceFile]]:
    """Files grouped by id, oldest group first; groups with a file newer than ``before``
    (or without an id) are left out."""
    groups: dict[str, list[EvidenceFile]] = {}
    for f in files:
        if f.key is not None:
            groups.setdefault(f.key, []).append(f)
    kept = [g for g in groups.values() if max(f.mtime for f in g) < before]
    return sorted(kept, key=lambda g: (min(f.mtime for f in g), g[0].key or ""))


def _size(root: Path, path: str) -> int | None:
    try:
        return (root / path).stat().st_size
    except (OSError, ValueError):
        return None
