"""docker/Dockerfile and docker/compose.yaml stay honest without a Docker engine.

No Docker here, so these files cannot be built or run in CI. Instead every thing they name
is checked against the repository: files copied into images and lock files installed,
build stages, the Python names the clip stage imports, Debian packages (``apt-cache``),
every ``vigil`` command line (parsed by the real CLI parser), the camera's flags (read from
``tests/ingest/rtsp_server.py``), host paths of volumes, the config folder the containers
mount (validated by ``vigil validate-config``'s code with the compose environment), every
``${VAR}`` it uses, and the host names in its URLs against the compose services.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from vigil.cli import _parser
from vigil.validate import validate_all

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
VIGIL_SERVICES = ("hub", "worker-1", "worker-2")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages() -> dict[str, list[tuple[str, str]]]:
    """Stage name → its instructions (FROM included)."""
    out: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for word, rest in instructions():
        if word == "FROM":
            current = []
            out[rest.split()[-1] if " AS " in rest.upper() else str(len(out))] = current
        current.append((word, rest))
    return out


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    return data


def json_args(rest: str) -> list[str]:
    args: list[str] = yaml.safe_load(rest)
    return args


def test_every_copied_path_and_stage_exists() -> None:
    known = stages()
    seen: list[str] = []
    for name, body in known.items():
        for word, rest in body:
            if word == "COPY":
                parts = [p for p in rest.split() if not p.startswith("--chown")]
                if parts[0].startswith("--from="):
                    assert parts[0].removeprefix("--from=") in seen, (name, rest)
                    continue
                for source in parts[:-1]:
                    assert (ROOT / source).exists(), f"stage {name}: COPY {source}: no such path"
            if word == "RUN":
                for lock in re.findall(r"-r (\S+)", rest):
                    assert (ROOT / lock).is_file(), f"stage {name}: pip -r {lock}: no such file"
        seen.append(name)
    assert {"build", "runtime", "clip", "camera"} <= set(known)


def test_the_runtime_runs_as_a_user_and_its_command_parses() -> None:
    runtime = dict(stages()["runtime"])
    assert runtime["USER"] == "vigil"
    assert json_args(runtime["ENTRYPOINT"]) == ["vigil"]
    args = _parser().parse_args(json_args(runtime["CMD"]))
    assert args.command == "run" and args.role == "all"


def test_the_clip_stage_imports_what_exists() -> None:
    runs = " ".join(rest for word, rest in stages()["clip"] if word == "RUN")
    imports = re.findall(r"from ([\w.]+) import (\w+)", runs)
    assert ("vigil.demo", "ensure_demo_video") in imports
    for module, name in imports:
        assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


def test_the_camera_command_uses_flags_the_server_has() -> None:
    camera = dict(stages()["camera"])
    entry = json_args(camera["ENTRYPOINT"])
    assert entry[1] == "/camera/rtsp_server.py"
    assert f"tests/ingest/rtsp_server.py {entry[1]}" in " ".join(
        rest for word, rest in stages()["camera"] if word == "COPY")
    server = (ROOT / "tests/ingest/rtsp_server.py").read_text(encoding="utf-8")
    flags = set(re.findall(r'add_argument\("(--[a-z-]+)"', server))
    for command in (json_args(camera["CMD"]), compose()["services"]["camera"]["command"]):
        used = {a for a in command if a.startswith("--")}
        assert used <= flags, used - flags


@pytest.mark.skipif(shutil.which("apt-cache") is None, reason="apt-cache: not a Debian machine")
def test_every_debian_package_exists() -> None:
    packages: set[str] = set()
    for word, rest in instructions():
        if word == "RUN" and "apt-get install" in rest:
            tail = rest.split("apt-get install", 1)[1].split("&&")[0]
            packages |= {p for p in tail.split() if not p.startswith("-")}
    assert "fonts-wqy-microhei" in packages and "gir1.2-gst-rtsp-server-1.0" in packages
    done = subprocess.run(["apt-cache", "show", *sorted(packages)], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_compose_builds_stages_that_exist_and_mounts_paths_that_exist() -> None:
    services = compose()["services"]
    assert {"redis", "postgres", "hub", "worker-1", "worker-2", "camera"} <= set(services)
    for name, service in services.items():
        build = service.get("build")
        if build:
            assert (DOCKER / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
            assert build["target"] in stages(), (name, build["target"])
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), f"{name}: volume {source}: no such path"
            else:
                assert source in compose()["volumes"], f"{name}: volume {source} not declared"
        for other in service.get("depends_on", {}):
            assert other in services


def test_every_vigil_command_parses_with_its_role() -> None:
    services = compose()["services"]
    for name in VIGIL_SERVICES:
        args = _parser().parse_args(services[name]["command"])
        assert args.role == ("hub" if name == "hub" else "worker"), name
        targets = {v.split(":")[1] for v in services[name]["volumes"]}
        assert str(args.config) in targets, f"{name}: --config {args.config} is not mounted"


def test_the_mounted_config_is_valid_and_its_variables_are_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose()["services"]
    config = DOCKER / "configs"
    used = set()
    for path in config.rglob("*.yaml"):
        used |= set(re.findall(r"\$\{(\w+)", path.read_text(encoding="utf-8")))
    assert used, "the compose config takes its secrets from the environment"
    for name in VIGIL_SERVICES:
        assert used <= set(services[name]["environment"]), (name, used)
    for var in used:
        monkeypatch.setenv(var, "placeholder")
    assert validate_all(config) == []
    service = yaml.safe_load((config / "service.yaml").read_text(encoding="utf-8"))
    for url in (service["bus"], service["store"]):
        assert re.sub(r".*@|.*//", "", url).split(":")[0] in services, url
    camera = yaml.safe_load((config / "cameras" / "test-camera.yaml").read_text("utf-8"))
    host_port = camera["cameras"][0]["url"].split("/")[2]
    assert host_port == f"camera:{services['camera']['command'][3]}"


def test_every_vigil_variable_compose_sets_is_read_somewhere() -> None:
    services = compose()["services"]
    config_text = "".join(p.read_text(encoding="utf-8")
                          for p in (DOCKER / "configs").rglob("*.yaml"))
    code = "".join(p.read_text(encoding="utf-8") for pkg in ("core", "console", "vigil")
                   for p in (ROOT / pkg).rglob("*.py"))
    for name in VIGIL_SERVICES:
        for var in services[name]["environment"]:
            assert f"${{{var}}}" in config_text or f'"{var}"' in code, var
