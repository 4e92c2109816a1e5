"""bench/plates_special.py runs end to end on a few renders per format and prints its
per-format lines. Accuracy is not asserted: the renders are ours, the figures only an
indication (see the bench's docstring)."""

from __future__ import annotations

import pytest

from analytics import modelpack
from analytics.plates import PlateReader
from bench.plates_special import BANNER, main, samples
from core.errors import ModelError
from vigil.synth.plates import SYNTH_FORMATS

pytestmark = pytest.mark.slow  # renders and reads every special format (not in `make check`)


def test_samples_are_seeded_and_sized() -> None:
    fmt = SYNTH_FORMATS[0]
    first, again = list(samples(fmt, 4, 36)), list(samples(fmt, 4, 36))
    assert [s.text for s in first] == [s.text for s in again]
    assert all((a.crop == b.crop).all() for a, b in zip(first, again, strict=True))
    assert [s.width for s in first] == [90, 120, 160, 200]
    for sample in first:
        width = sample.crop.shape[1]
        assert round(sample.width * 1.1) <= width <= round(sample.width * 1.14)
        x1, y1, x2, y2 = sample.box
        assert 0 <= x1 < x2 <= sample.scene.shape[1] and 0 <= y1 < y2 <= sample.scene.shape[0]


def test_bench_prints_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        PlateReader.load(modelpack.default_model_dir())
    except ModelError as exc:
        pytest.skip(f"plate models not installed ({exc}): run `make models`")
    assert main(["--n", "2", "--all-cores"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(BANNER) and out.rstrip().endswith(BANNER)
    for fmt in SYNTH_FORMATS:
        assert f"\n{fmt.name}" in out
    assert out.count("  crop  n=2 ") == len(SYNTH_FORMATS)
    assert out.count("  scene n=2 ") == len(SYNTH_FORMATS)
    assert out.count("confusions:") == 2 * len(SYNTH_FORMATS)
    assert "by plate width" in out
