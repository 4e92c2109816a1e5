"""bench/capacity.py's arithmetic on real inputs: Prometheus text as prometheus_client (the
library behind ``/metrics``) writes it, the bench's own generated scene, sightings in the
JSON form ``vigil replay --json`` prints. A whole capacity run needs minutes of both cores,
so the run itself is left to the bench; these check that its figures are computed right.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from bench.capacity import parse_args
from bench.capacity_clip import GOP, LOOP_S, WATCHED, camera_clips, passes, shifted
from bench.capacity_node import TreeSample, write_config
from bench.capacity_probe import parsed_alert
from bench.capacity_report import (
    Alerted,
    Reference,
    Scrape,
    Seen,
    WirePass,
    counter_rates,
    lag_growth,
    parse_metrics,
    percentile,
    reference,
    tally,
    wire_passes,
)
from bench.capacity_summary import RunData, _gated_rates, summarise
from core.config import load_config
from core.messages import Sighting
from vigil.replay import as_json
from vigil.validate import validate_all


def exposition(frames: dict[str, float], backlog: dict[str, float]) -> str:
    registry = CollectorRegistry()
    counter = Counter("vigil_analysis_frames", "frames", ["camera"], registry=registry)
    gauge = Gauge("vigil_analysis_backlog_seconds", "backlog", ["camera"], registry=registry)
    for cam, value in frames.items():
        counter.labels(cam).inc(value)
    for cam, value in backlog.items():
        gauge.labels(cam).set(value)
    return generate_latest(registry).decode()


def test_metrics_text_is_parsed_with_labels_and_escapes() -> None:
    text = exposition({"cam00": 12, 'odd"cam\\1': 3}, {"cam00": 0.25})
    parsed = Scrape(0.0, parse_metrics(text))
    assert parsed.by_camera("vigil_analysis_frames_total") == {"cam00": 12.0, 'odd"cam\\1': 3.0}
    assert parsed.by_camera("vigil_analysis_backlog_seconds") == {"cam00": 0.25}
    assert parsed.by_camera("vigil_not_there") == {}


def test_a_truncated_scrape_is_an_error_not_zeros() -> None:
    with pytest.raises(ValueError, match="not a Prometheus sample"):
        parse_metrics('vigil_ingest_fps{camera="cam00"} 5.0\nvigil_ingest_fps{camera="ca')


def calls_exposition(frames: float, detect: float) -> str:
    registry = CollectorRegistry()
    Counter("vigil_analysis_frames", "frames", ["camera"], registry=registry
            ).labels("cam00").inc(frames)
    Counter("vigil_analysis_stage_calls", "calls", ["camera", "stage"], registry=registry
            ).labels("cam00", "detect").inc(detect)
    return generate_latest(registry).decode()


def test_counter_rates() -> None:
    scrapes = [Scrape(t, parse_metrics(exposition({"cam00": f, "cam01": g}, {})))
               for t, f, g in [(100.0, 0, 0), (101.0, 6, 2), (102.0, 12, 4), (103.0, 14, 10)]]
    rates = counter_rates(scrapes, "vigil_analysis_frames_total")
    assert rates == pytest.approx({"cam00": 14 / 3, "cam01": 10 / 3})


def test_moving_and_idle_rates_come_from_the_frames_the_detector_ran_in() -> None:
    """60 s window; cars on the wire 3 s in each 6 s, the first and last cut by the window
    (29 s in view): 150 detector frames over 29 s moving, the other 30 frames over 31 s."""
    scrapes = [Scrape(0.0, parse_metrics(calls_exposition(1000, 400))),
               Scrape(60.0, parse_metrics(calls_exposition(1180, 550)))]
    def car(enter: float, leave: float) -> WirePass:
        return WirePass("cam00", WATCHED, enter + 0.5, leave - 0.5, enter, leave)

    cars = [car(-1.0, 1.0)] + [car(6.0 * k + 1.0, 6.0 * k + 4.0) for k in range(1, 10)]
    cars.append(car(59.0, 62.0))  # 1 s of the first and of the last inside the window
    run = RunData(1, {}, (0.0, 60.0), scrapes, [], [], [], [], {"cam00": cars},
                  Reference(frozenset(), True))
    moving, idle = _gated_rates(run, "cam00")
    assert moving == pytest.approx(150 / 29) and idle == pytest.approx(30 / 31)


def test_the_scene_and_its_rotations_keep_every_pass() -> None:
    loop = passes()
    assert len(loop) == 6 and sum(p.plate == WATCHED for p in loop) == 1
    assert all(p.enter < p.start < p.end < p.leave < LOOP_S for p in loop)
    rotated = shifted(loop, 20.0)
    by_plate = {p.plate: p for p in loop}
    for p in rotated:
        original = by_plate[p.plate]
        assert (p.start - (original.start - 20.0)) % LOOP_S == pytest.approx(0.0, abs=1e-9)
        assert p.end - p.start == pytest.approx(original.end - original.start)


def test_wire_passes_follow_loops_and_a_reconnect_cuts_a_loop() -> None:
    loop = passes()
    starts = [(100.0, True), (140.0, False), (180.0, False)]
    assert len(wire_passes("cam00", loop, starts, (100.0, 220.0))) == 18
    assert len(wire_passes("cam00", loop, starts, (105.0, 220.0))) == 17
    # a reconnect at 150 s restarts the file: the second loop's passes after it never aired
    cut = wire_passes("cam00", loop, [*starts[:2], (150.0, True)], (100.0, 200.0))
    second = [p for p in cut if 140.0 <= p.enter < 150.0]
    assert [p.plate for p in second] == [p.plate for p in loop if p.leave <= 10.0]


def test_tally_matches_sightings_and_alerts_to_passes() -> None:
    loop = passes()
    wire = wire_passes("cam00", loop, [(1000.0, True), (1040.0, False)], (1000.0, 1080.0))
    watched = [p for p in wire if p.plate == WATCHED]
    other = next(p for p in wire if p.plate != WATCHED)
    seen = [Seen("a", "cam00", WATCHED, watched[0].start + 0.2, watched[0].start + 1.0),
            Seen("b", "cam00", other.plate, other.start + 0.5, other.end),
            Seen("c", "cam00", other.plate, other.end + 1.0, other.end + 1.5),   # split
            Seen("d", "cam00", "宁B7K53I", watched[1].start, watched[1].end)]  # misread
    alerts = [Alerted("x", "cam00", WATCHED, "a", watched[0].start + 0.2,
                      watched[0].start + 0.2, watched[0].start + 0.4),
              Alerted("y", "cam00", WATCHED, "d", watched[1].start, watched[1].start,
                      watched[1].start + 0.1)]
    t = tally(wire, seen, alerts)
    assert (t.present, t.sighted, t.split) == (12, 2, 1)
    assert (t.watched, t.watched_sighted, t.watched_alerted) == (2, 1, 2)
    assert sorted(round(lag, 3) for _at, lag in t.lags) == [0.2, 0.5]


def test_reference_from_replay_json_lines() -> None:
    start = 1_767_578_400.0
    loop = passes()
    lines = [json.loads(as_json(Sighting(f"s{k}", "cam00", p.plate, p.plate, "ordinary_7",
                                         "blue", 0.99, start + p.start + 0.1,
                                         start + p.end)))
             for k, p in enumerate(loop) if k % 2 == 0]
    ref = reference(lines, loop, start)
    assert ref.read == frozenset(p.plate for k, p in enumerate(loop) if k % 2 == 0)
    assert not ref.watched_alerted
    assert reference([*lines, {"type": "alert"}], loop, start).watched_alerted \
        == (WATCHED in ref.read)


def test_percentile_and_lag_growth() -> None:
    assert percentile([], 0.5) is None
    assert percentile([0.1, 0.2, 0.3, 0.4], 0.5) == 0.2
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
    steady = [(float(t), 0.3) for t in range(9)]
    rising = [(float(t), 0.3 + t * 0.5) for t in range(9)]
    assert lag_growth(steady) == 0.0
    assert lag_growth(rising) == pytest.approx(3.0)
    assert lag_growth(steady[:5]) is None


def test_a_live_alert_envelope_is_read_and_replays_are_not() -> None:
    data = {"alert_id": "a1", "camera_id": "cam03", "subject": WATCHED,
            "observation": {"type": "sighting", "sighting_id": "s1", "first_seen": 10.0,
                            "last_seen": 10.5}}
    alert = parsed_alert({"kind": "alert", "id": 4, "data": data, "replay": False}, 10.7)
    assert alert == Alerted("a1", "cam03", WATCHED, "s1", 10.0, 10.5, 10.7)
    assert parsed_alert({"kind": "alert", "id": 4, "data": data, "replay": True}, 11) is None
    assert parsed_alert({"kind": "camera", "id": 5, "data": data, "replay": False}, 11) is None


def test_a_run_without_analysis_metrics_or_alerts_does_not_hold() -> None:
    loop = passes()
    wire = {"cam00": wire_passes("cam00", loop, [(0.0, True), (40.0, False)], (0.0, 80.0))}
    text = 'vigil_ingest_fps{camera="cam00"} 6.0\n'
    scrapes = [Scrape(float(t), parse_metrics(text)) for t in range(0, 81, 10)]
    tree = [TreeSample(0.0, 10.0, 300 << 20, 3), TreeSample(80.0, 30.0, 310 << 20, 3)]
    run = RunData(1, {"max_fps": 6.0, "analytics": ["plates"]}, (0.0, 80.0), scrapes, tree,
                  tree, [], [], wire, Reference(frozenset(p.plate for p in loop), True))
    s = summarise(run)
    assert s["cores"] == pytest.approx(0.25) and s["pss_mib"] == pytest.approx(310.0)
    assert s["per_camera"][0]["analysed_fps"] is None
    assert s["per_camera"][0]["analysed_fps_estimate"] == pytest.approx(6.0)
    assert (s["passes"], s["read"], s["recall_vs_full"]) == (12, 0, 0.0)
    assert not s["holds"]
    assert any("moving fps n/a" in f for f in s["failed"])
    assert any("latency p50 n/a" in f for f in s["failed"])


def test_bench_config_sets_workers_and_validates(tmp_path: Path) -> None:
    folder = write_config(tmp_path / "config", ["rtsp://127.0.0.1:1/cam0"], ["plates"], 6.0,
                          3.0, workers=4)
    loaded = load_config(folder)
    assert loaded.service.workers == 4
    assert [c.detect_fps for c in loaded.cameras] == [3.0]
    assert validate_all(folder) == []


def test_sub_stream_clips_keep_the_loop_and_the_2_s_gop(tmp_path: Path) -> None:
    """``--stream-fps 5 --kbps 500``: every 5th picture, 200 of them over the same 40 s, a
    keyframe every 2 s, about 500 kbit/s, and a rotated copy that starts on a keyframe (the
    bench's sub-stream runs)."""
    clips = camera_clips(tmp_path, 2, every=5, bit_rate=500_000)
    assert [off for _path, off in clips] == [0.0, 20.0]
    assert clips[0][0].name == "capacity-v1-s5-b500k.mp4"
    assert 0.7 < clips[0][0].stat().st_size * 8 / LOOP_S / 500_000 < 1.3
    for path, _off in clips:
        with av.open(str(path)) as inp:
            stream = inp.streams.video[0]
            packets = [p for p in inp.demux(stream) if p.size > 0]
            assert stream.average_rate == 5
        assert len(packets) == LOOP_S * 5
        keys = [n for n, p in enumerate(packets) if p.is_keyframe]
        assert keys == list(range(0, LOOP_S * 5, GOP // 5))
        last = packets[-1]
        assert last.pts is not None and last.time_base is not None
        assert float(last.pts * last.time_base) == pytest.approx(LOOP_S - 0.2)


def test_stream_fps_must_divide_the_gop(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_args(["--stream-fps", "12.5"]).stream_every == 2
    assert parse_args([]).stream_every == 1
    assert parse_args(["--kbps", "768"]).kbps == 768
    for bad in ("7", "0", "30"):
        with pytest.raises(SystemExit):
            parse_args(["--stream-fps", bad])
    with pytest.raises(SystemExit):
        parse_args(["--kbps", "10"])
    assert "must be 25/k" in capsys.readouterr().err
