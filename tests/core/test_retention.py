"""Evidence retention on real files and the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analytics.evidence import EvidenceWriter, Overlay
from core.clock import FakeClock
from core.config import load_config
from core.config.models import Retention
from core.errors import ConfigError
from core.evidence_files import key_of
from core.lifecycle import Action, transition
from core.messages import Alert, Evidence, Frame, SceneEvent, SceneKind, Sighting
from core.retention import DAY, GB, Kind, Purger, RetentionStats
from core.store import Store
from vigil.analysis import clip_path

pytest_plugins = ["tests.core.store_fixtures"]
NOW = 1_700_000_000.0


def put(root: Path, rel: str, size: int, age: float) -> str:
    """A real file of ``size`` bytes last written ``age`` seconds before NOW."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (NOW - age, NOW - age))
    return rel


def seen(store: Store, root: Path, key: str, age: float, size: int = 100) -> Sighting:
    """A stored sighting ``age`` seconds old with its scene, plate and clip files."""
    folder = f"cam-1/{key[:4]}"
    evidence = Evidence(snapshot=put(root, f"{folder}/{key}_final_scene.jpg", size, age),
                        plate_crop=put(root, f"{folder}/{key}_final_plate.jpg", size, age),
                        clip=put(root, f"{folder}/{key}_clip.mp4", size, age))
    sighting = Sighting(key, "cam-1", "京A12345", "京A12345", "small", "blue", 0.9,
                        NOW - age, NOW - age + 2, evidence)
    store.add_sighting(sighting)
    return sighting


def raise_alert(store: Store, observation: Sighting | SceneEvent, at: float,
                dismissed_at: float | None = None) -> None:
    """An alert on ``observation``; dismissed (a closed case) at ``dismissed_at`` if given."""
    alert = Alert(str(uuid.uuid4()), "watchlist", 1, "stolen", observation, at)
    record = store.insert_alert(alert)
    if dismissed_at is not None:
        step = transition(record.case, Action.DISMISS, "zhang", dismissed_at, "误报")
        store.append_transition(step, record.case)


def purger(store: Store, root: Path, clock: FakeClock, **policy: float) -> Purger:
    return Purger(Retention(**policy), store, root, clock, RetentionStats())


def exists(root: Path, sighting: Sighting) -> list[bool]:
    ev = sighting.evidence
    return [(root / p).exists() for p in (ev.snapshot, ev.plate_crop, ev.clip) if p]


def test_the_layout_parsed_here_is_the_one_the_writers_use(tmp_path: Path) -> None:
    writer = EvidenceWriter(tmp_path)
    frame = Frame("cam-1", 1, NOW, np.full((120, 160, 3), 90, np.uint8))
    early = Sighting("ab12cd", "cam-1", "京A12345", "京A12345", "small", "blue", 0.9, NOW,
                     NOW + 1, final=False)
    names = []
    for s in (early, replace(early, final=True)):
        ev = writer.sighting(frame, s, (10.0, 10.0, 60.0, 30.0))
        names += [ev.snapshot, ev.plate_crop, clip_path(ev, s.sighting_id, "cam-1")]
    event = SceneEvent("ef34", "cam-1", SceneKind.INTRUSION, "z", (1,), NOW)
    ev = writer.event(frame, event, Overlay())
    names += [ev.snapshot, clip_path(ev, event.event_id, "cam-1"),
              clip_path(Evidence(), event.event_id, "cam-1")]
    keys = [key_of(Path(str(n)).name) for n in names]
    assert keys == [("ab12cd", False)] * 6 + [("ef34", False)] * 3
    assert key_of(".ab12cd_scene.jpg.k3j2") == (None, True)
    assert key_of("ab12cd_clip.mp4.part") == (None, True)
    assert key_of("notes.txt") == (None, False)


def test_age_keeps_open_alerts_however_old_and_deletes_unalerted_sightings(
        store: Store, clock: FakeClock, tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    old_plain = seen(store, root, "old-plain", 8 * DAY)
    new_plain = seen(store, root, "new-plain", 2 * DAY)
    open_old = seen(store, root, "open-old", 400 * DAY)
    raise_alert(store, open_old, NOW - 400 * DAY)
    closed_long_ago = seen(store, root, "closed-old", 300 * DAY)
    raise_alert(store, closed_long_ago, NOW - 300 * DAY, dismissed_at=NOW - 200 * DAY)
    closed_lately = seen(store, root, "closed-new", 30 * DAY)
    raise_alert(store, closed_lately, NOW - 30 * DAY, dismissed_at=NOW - 10 * DAY)
    orphan = put(root, "cam-1/ev/ev-old_scene.jpg", 100, 8 * DAY)
    event_scene = put(root, "cam-1/ev/ev-new_scene.jpg", 100, 2 * DAY)
    event_clip = put(root, "cam-1/ev/ev-new_clip.mp4", 100, 2 * DAY)
    early = put(root, "cam-1/old-/old-plain_scene.jpg", 100, 8 * DAY)  # early emission
    partial = put(root, "cam-1/ev/.ev-x_scene.jpg.tmp1", 10, 2 * 3600)
    mine = put(root, "cam-1/README.txt", 10, 900 * DAY)

    report = purger(store, root, clock).run()

    assert exists(root, old_plain) == [False] * 3
    assert exists(root, new_plain) == [True, True, False]  # no alert: the clip went after 1 h
    assert store.trajectory("京A12345", 0, NOW)[-1].evidence.clip is None
    assert exists(root, open_old) == [True] * 3
    assert exists(root, closed_long_ago) == [False] * 3
    assert exists(root, closed_lately) == [True] * 3
    assert [(root / p).exists() for p in (orphan, event_scene, event_clip, early, partial, mine)
            ] == [False, True, False, False, False, True]
    ids = [s.sighting_id for s in store.trajectory("京A12345", 0, NOW)]
    assert ids == ["open-old", "closed-new", "new-plain"]  # closed-old's row went with it
    assert report.deleted[Kind.SIGHTING_ROWS] == 2
    assert report.deleted[Kind.CLIPS] == 2
    assert purger(store, root, clock).run().deleted == {}  # nothing left to do


def test_dry_run_reports_the_same_and_deletes_nothing(
        store: Store, clock: FakeClock, tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    old = seen(store, root, "old-plain", 8 * DAY)
    put(root, "cam-1/ev/ev-old_scene.jpg", 100, 8 * DAY)
    before = sorted(p for p in root.rglob("*"))
    dry = purger(store, root, clock).run(dry_run=True)
    assert sorted(p for p in root.rglob("*")) == before
    assert [s.sighting_id for s in store.trajectory("京A12345", 0, NOW)] == ["old-plain"]
    assert f"sighting_files {old.evidence.snapshot} 100" in dry.lines
    real = purger(store, root, clock).run()
    assert dry.deleted == real.deleted and dry.freed_bytes == real.freed_bytes == 400


def test_quota_deletes_oldest_first_unalerted_before_closed_alerts(
        store: Store, clock: FakeClock, tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    size = 10**6
    closed = seen(store, root, "closed", 5 * DAY, size)  # older, but an alert's evidence
    raise_alert(store, closed, NOW - 5 * DAY, dismissed_at=NOW - 4 * DAY)
    plain = [seen(store, root, f"plain-{n}", (4 - n) * DAY, size) for n in range(3)]
    # 12 files of 1 MB; the clips of plain sightings go by age (3 files), leaving 9 MB
    report = purger(store, root, clock, max_evidence_gb=7.5e-3).run()
    assert exists(root, plain[0]) == [False] * 3
    assert exists(root, plain[1]) == exists(root, plain[2]) == [True, True, False]
    assert exists(root, closed) == [True] * 3
    assert report.evidence_bytes == 7 * size and not report.quota_unmet
    report = purger(store, root, clock, max_evidence_gb=4.5e-3).run()
    assert exists(root, plain[1]) == exists(root, plain[2]) == [False] * 3
    assert exists(root, closed) == [True] * 3  # unalerted ones go first, however young
    assert report.deleted[Kind.SIGHTING_ROWS] == 2 and report.evidence_bytes == 3 * size
    report = purger(store, root, clock, max_evidence_gb=2.5e-3).run()
    assert exists(root, closed) == [False] * 3 and report.evidence_bytes == 0
    assert report.deleted[Kind.SIGHTING_ROWS] == 1 and not report.quota_unmet
    assert store.trajectory("京A12345", 0, NOW) == []


def test_quota_stops_at_open_alerts_with_a_warning(
        store: Store, clock: FakeClock, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "evidence"
    held = seen(store, root, "held", 30 * DAY, 10**6)
    raise_alert(store, held, NOW - 30 * DAY)
    young = put(root, "cam-1/ev/ev-young_scene.jpg", 10**6, 60)  # younger than 10 min
    plain = seen(store, root, "plain", 3600 * 0.5, 10**6)
    stats = RetentionStats()
    run = Purger(Retention(max_evidence_gb=10**6 / GB), store, root, clock, stats)
    with caplog.at_level(logging.WARNING, logger="core.retention"):
        report = run.run()
    assert exists(root, held) == [True] * 3 and (root / young).exists()
    assert exists(root, plain) == [False] * 3
    assert report.quota_unmet and stats.quota_unmet == 1
    assert stats.evidence_bytes == 4 * 10**6 and stats.evidence_files == 4
    assert stats.purged[Kind.QUOTA_FILES] == 3 and stats.purged[Kind.SIGHTING_ROWS] == 1
    assert "quota 0.0 GB not met" in caplog.text
    assert "1 observations (0.00 GB) belong to alerts not yet closed" in caplog.text


def test_retention_settings_are_checked_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "service.yaml").write_text(
        "bus: memory://\nretention:\n  sightings_days: 0\n  max_evidnce_gb: 5\n",
        encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    problems = "\n".join(caught.value.problems)
    assert "service.yaml:3: retention.sightings_days: Input should be greater than 0" in problems
    assert "service.yaml:4: retention.max_evidnce_gb: Extra inputs are not permitted" in problems
    (tmp_path / "service.yaml").write_text("retention: {closed_alert_days: 30}\n",
                                           encoding="utf-8")
    policy = load_config(tmp_path).service.retention
    assert (policy.closed_alert_days, policy.sightings_days, policy.max_evidence_gb,
            policy.interval) == (30, 7, 50, 3600)
