"""Plate consensus on scripted read sequences: the vote, early and final emission, bounds.

Pure: every read is hand-made, times are plain numbers, sighting ids come from a counter.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from analytics.consensus import (
    ConsensusOptions,
    Emission,
    PlateConsensus,
    WeightedRead,
    vote,
)
from core.messages import PlateRead


def plate(text: str, conf: float | Sequence[float] = 0.9, width: float = 150.0,
          track: int = 1, color: str = "blue") -> PlateRead:
    confs = tuple(conf) if isinstance(conf, Sequence) else (conf,) * len(text)
    return PlateRead(track, text, min(confs), confs, color, 0, (100.0, 400.0,
                                                                100.0 + width, 448.0))


def consensus(**overrides: object) -> PlateConsensus:
    counter = itertools.count(1)
    options = ConsensusOptions(new_id=lambda: f"s{next(counter)}", **overrides)  # type: ignore[arg-type]
    return PlateConsensus("cam-1", options)


def feed(engine: PlateConsensus, reads: Sequence[tuple[float, PlateRead]]) -> list[Emission]:
    out: list[Emission] = []
    for at, read in reads:
        out += engine.add(read, at)
    return out


@dataclass(frozen=True)
class VoteCase:
    name: str
    reads: list[PlateRead]
    expected: str
    color: str = "blue"


VOTE_CASES = [
    VoteCase("unanimous", [plate("京A12345")] * 5, "京A12345"),
    VoteCase("province misread at the edge", [
        plate("皖A12345", 0.91, width=90), plate("京A12345"), plate("京A12345"),
        plate("京A12845", 0.6), plate("京A12345")], "京A12345"),
    VoteCase("one big misread loses to many agreeing reads", [
        plate("京A12346", 0.95, width=200), *[plate("京A12345", 0.9, width=120)] * 3],
        "京A12345"),
    VoteCase("invalid texts do not vote", [
        plate("京AAD12345", 0.99), plate("D12345", 0.99), plate("京A12345", 0.7)], "京A12345"),
    VoteCase("8-char green beats a dropped-D 7-char read", [
        *[plate("京AD12345", 0.95, color="green")] * 3, *[plate("京A12345", 0.9)] * 2],
        "京AD12345", "green"),
    VoteCase("7-char majority beats a lone small 8-char read", [
        *[plate("京A12345", 0.9)] * 4, plate("京AD12345", 0.95, width=80, color="green")],
        "京A12345"),
    VoteCase("same-length formats pool their evidence", [
        plate("京A1234警", (0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.4), color="white"),
        plate("京A12345"), plate("京A12345")], "京A12345"),
    VoteCase("per-position mix of two 8-char formats falls back to the heavier format", [
        plate("京AD12345", (1, 1, 1, 1, 1, 0.1, 0.1, 0.1), color="green"),
        plate("京A12345D", (0.1, 0.1, 0.1, 0.1, 0.1, 1, 1, 1), color="green")],
        "京AD12345", "green"),
]


@pytest.mark.parametrize("case", VOTE_CASES, ids=lambda c: c.name)
def test_vote(case: VoteCase) -> None:
    result = vote([WeightedRead(r, float(i)) for i, r in enumerate(case.reads)])
    assert result is not None
    assert result.text == case.expected
    assert result.valid
    assert result.color == case.color
    assert result.best.read.text == case.expected


def test_vote_confidence_single_read_is_min_char_confidence() -> None:
    read = plate("京A12345", (0.99, 0.8, 0.97, 0.99, 0.99, 0.99, 0.99))
    result = vote([WeightedRead(read, 0.0)])
    assert result is not None
    assert result.confidence == pytest.approx(0.8)


def test_unknown_province_never_outvotes_a_seen_one() -> None:
    unsure = plate("?A12345", (0.45, *[0.95] * 6))
    seen = plate("京A12345", (0.7, *[0.95] * 6), width=90.0)  # one smaller, later read
    result = vote([WeightedRead(unsure, 0.0)] * 3 + [WeightedRead(seen, 1.0)])
    assert result is not None and result.text == "京A12345" and result.valid
    only_unsure = vote([WeightedRead(unsure, 0.0)] * 3)
    assert only_unsure is not None and only_unsure.text == "?A12345" and only_unsure.valid
    assert only_unsure.confidence == pytest.approx(0.95)  # "?" is certainly unknown


def test_vote_conflict_lowers_confidence() -> None:
    agreed = vote([WeightedRead(plate("京A12345"), 0.0)] * 4)
    split = vote([WeightedRead(plate("京A12345"), 0.0)] * 2
                 + [WeightedRead(plate("京AD12345", color="green"), 0.0)] * 2)
    assert agreed is not None and split is not None
    assert split.confidence < 0.6 * agreed.confidence


def test_vote_nothing_valid() -> None:
    assert vote([WeightedRead(plate("ABC"), 0.0)]) is None
    assert vote([]) is None


@dataclass(frozen=True)
class EarlyCase:
    name: str
    reads: list[tuple[float, PlateRead]]
    early_at: float | None
    plate: str = "京A12345"


EARLY_CASES = [
    EarlyCase("three agreeing reads", [(0.0, plate("京A12345")), (0.15, plate("京A12345")),
                                       (0.3, plate("京A12345"))], 0.3),
    EarlyCase("one strong read is enough", [(0.0, plate("京A12345", 0.97))], 0.0),
    EarlyCase("a contradicted strong read waits for support", [
        (0.0, plate("皖A12345", 0.9)), (0.15, plate("京A12345", 0.97)),
        (0.3, plate("京A12345", 0.9)), (0.45, plate("京A12345", 0.9))], 0.3),
    EarlyCase("a misread in between", [
        (0.0, plate("京A12345")), (0.15, plate("皖A12345")), (0.3, plate("京A12345")),
        (0.45, plate("京A12345"))], 0.45),
    EarlyCase("two agreeing reads after early_after seconds", [
        (0.0, plate("京A12345")), (0.3, plate("京A12345")), (0.7, plate("京A12345"))],
        0.7),
    EarlyCase("sparse reads at 5 fps", [(0.0, plate("京A12345")), (0.6, plate("京A12345"))],
              0.6),
    EarlyCase("unsure reads never go early", [(t / 10, plate("京A12345", 0.45))
                                              for t in range(10)], None),
    EarlyCase("green plate, 7-char misreads mixed in", [
        (0.0, plate("京AD12345", 0.93, color="green")), (0.1, plate("京A12345", 0.8)),
        (0.2, plate("京AD12345", 0.93, color="green")),
        (0.3, plate("京AD12345", 0.93, color="green"))], 0.3, "京AD12345"),
]


@pytest.mark.parametrize("case", EARLY_CASES, ids=lambda c: c.name)
def test_early_emission(case: EarlyCase) -> None:
    engine = consensus()
    out: list[tuple[float, Emission]] = []
    for at, read in case.reads:
        out += [(at, e) for e in engine.add(read, at)]
    if case.early_at is None:
        assert out == []
        return
    assert len(out) == 1
    at, emission = out[0]
    assert at == case.early_at
    assert emission.sighting.final is False
    assert emission.sighting.plate == case.plate
    assert emission.sighting.first_seen == case.reads[0][0]
    assert at - case.reads[0][0] <= 1.0


def test_early_within_one_second_at_10_fps_with_misreads() -> None:
    """Every frame read at 10 fps, one read in three wrong: still early within 1 s."""
    engine = consensus()
    reads = [(i / 10, plate("京A1Z345" if i % 3 == 1 else "京A12345", 0.9))
             for i in range(10)]
    out = [(at, e) for at, r in reads for e in engine.add(r, at)]
    assert len(out) == 1
    assert out[0][1].sighting.plate == "京A12345"
    assert out[0][0] <= 1.0


def test_final_on_track_end_reuses_the_early_id() -> None:
    engine = consensus()
    early = feed(engine, [(t, plate("京A12345")) for t in (10.0, 10.2, 10.4, 10.6)])
    final = engine.end(1, 11.5)
    assert [e.sighting.final for e in early] == [False]
    assert len(final) == 1
    assert final[0].sighting.final is True
    assert final[0].sighting.sighting_id == early[0].sighting.sighting_id == "s1"
    assert final[0].sighting.first_seen == 10.0
    assert final[0].sighting.last_seen == 11.5
    assert final[0].sighting.plate_type == "ordinary_7"
    assert final[0].sighting.camera_id == "cam-1"
    assert engine.active_count == 0


def test_final_corrects_an_early_misread() -> None:
    engine = consensus()
    early = feed(engine, [(0.0, plate("皖A12345", 0.97))])
    later = feed(engine, [(0.1 * i, plate("京A12345", 0.96)) for i in range(1, 6)])
    final = engine.end(1, 1.0)
    assert early[0].sighting.plate == "皖A12345"
    assert later == []
    assert final[0].sighting.plate == "京A12345"
    assert final[0].sighting.sighting_id == early[0].sighting.sighting_id


def test_never_two_early_sightings_per_track() -> None:
    engine = consensus()
    out = feed(engine, [(i * 0.1, plate("京A12345" if i % 3 else "京B54321", 0.97))
                        for i in range(40)])
    assert [e.sighting.final for e in out] == [False]
    assert len(engine.end(1, 5.0)) == 1
    # the track is closed: reads after its end start nothing
    assert feed(engine, [(6.0, plate("京A12345", 0.99))] * 5) == []
    assert engine.end(1, 7.0) == []
    assert engine.ignored == 5


@pytest.mark.parametrize(("reads", "expected"), [
    ([plate("京A12345", 0.8)], "京A12345"),
    ([plate("京A12345", 0.3)], None),
    ([plate("ABC12", 0.99)], None),
], ids=["one-good-read", "too-unsure", "invalid"])
def test_final_without_early(reads: list[PlateRead], expected: str | None) -> None:
    engine = consensus()
    assert feed(engine, [(0.0, r) for r in reads]) == []
    final = engine.end(1, 2.0)
    assert [e.sighting.plate for e in final] == ([expected] if expected else [])
    assert all(e.sighting.final for e in final)


def test_unknown_track_end_emits_nothing() -> None:
    assert consensus().end(99, 1.0) == []


def test_max_duration_and_idle_finalise() -> None:
    engine = consensus(max_duration=10.0, idle_after=3.0)
    feed(engine, [(0.0, plate("京A12345", track=1))])
    feed(engine, [(t, plate("京B54321", 0.97, track=2)) for t in range(0, 12)])
    assert engine.expire(2.0) == []
    idle = engine.expire(3.0)
    assert [(e.track_id, e.sighting.plate) for e in idle] == [(1, "京A12345")]
    long = engine.expire(11.0)
    assert [(e.track_id, e.sighting.final) for e in long] == [(2, True)]
    assert engine.stage(2) == "closed"
    assert feed(engine, [(12.0, plate("京B54321", 0.97, track=2))]) == []


def test_bounded_tracks_evict_the_least_recent() -> None:
    engine = consensus(max_tracks=2)
    feed(engine, [(0.0, plate("京A11111", 0.8, track=1)), (0.1, plate("京A22222", 0.8, track=2)),
                  (0.2, plate("京A11111", 0.8, track=1))])
    out = feed(engine, [(0.3, plate("京A33333", 0.8, track=3))])
    assert [(e.track_id, e.sighting.plate, e.sighting.final) for e in out] == [
        (2, "京A22222", True)]
    assert engine.active_count == 2


def test_bounded_reads_keep_the_heaviest() -> None:
    engine = consensus(max_reads=3, early_reads=99, strong_confidence=1.1, early_after=99.0)
    big = [(float(i), plate("京A12345", 0.9, width=200)) for i in range(3)]
    small = [(float(i), plate("京A12346", 0.9, width=50)) for i in range(3, 8)]
    assert feed(engine, big + small) == []
    final = engine.end(1, 9.0)
    assert final[0].sighting.plate == "京A12345"


@pytest.mark.parametrize("stage_reads", [0, 1, 4])
def test_stage_progression(stage_reads: int) -> None:
    engine = consensus()
    feed(engine, [(i * 0.1, plate("京A12345")) for i in range(stage_reads)])
    expected = {0: "new", 1: "reading", 4: "early"}[stage_reads]
    assert engine.stage(1) == expected


def test_flush_finalises_everything() -> None:
    engine = consensus()
    feed(engine, [(0.0, plate("京A12345", 0.97, track=1)),
                  (0.0, plate("京B54321", 0.8, track=2))])
    out = engine.flush(5.0)
    assert sorted((e.track_id, e.sighting.final) for e in out) == [(1, True), (2, True)]
    assert engine.active_count == 0


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="max_reads"):
        ConsensusOptions(max_reads=0)


def test_a_split_track_joins_its_pass_and_the_pass_ends_with_its_last_track() -> None:
    """At a low frame rate the tracker may lose a plate and start a new track for it:
    the new track's reads join the open pass with the same vote, one sighting id."""
    engine = consensus(strong_confidence=1.1)
    out = feed(engine, [(0.0, plate("京A12345", track=1)), (0.2, plate("京A12345", track=1)),
                        (0.4, plate("京A12345", track=2))])
    assert [(e.sighting.final, e.track_id) for e in out] == [(False, 1)]
    assert engine.pass_of(2) == 1 and engine.stage(2) == "early"
    assert engine.end(1, 0.4) == []  # track 2 still runs the pass
    assert engine.active_count == 1
    final = engine.end(2, 1.0)
    assert [(e.sighting.final, e.sighting.sighting_id) for e in final] == [(True, "s1")]
    assert final[0].sighting.last_seen == 1.0
    assert engine.stage(1) == engine.stage(2) == "closed"


def test_a_split_track_with_no_early_sighting_merges_before_its_first_sighting() -> None:
    engine = consensus(strong_confidence=1.1, early_reads=3, early_after=99.0)
    out = feed(engine, [(0.0, plate("京A12345", track=1)), (0.2, plate("京A12345", track=2)),
                        (0.4, plate("京A12345", track=3))])
    assert [e.sighting.sighting_id for e in out] == ["s1"]
    assert {engine.pass_of(t) for t in (1, 2, 3)} == {1}


def test_the_same_plate_after_link_within_or_another_plate_is_another_pass() -> None:
    engine = consensus(link_within=2.0)
    feed(engine, [(0.0, plate("京A12345", 0.99, track=1)),
                  (0.5, plate("京B12345", 0.99, track=2)),
                  (3.0, plate("京A12345", 0.99, track=3))])
    assert [engine.pass_of(t) for t in (1, 2, 3)] == [1, 2, 3]
    assert engine.active_count == 3
