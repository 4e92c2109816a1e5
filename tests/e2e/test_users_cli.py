"""``vigil users add|list`` as an operator runs it, against the store service.yaml names;
the user it adds can log in to the console over the same store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from console.users import verify_password
from core.clock import SystemClock
from core.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def vigil(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vigil.cli", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_add_list_and_refusals(tmp_path: Path) -> None:
    db = tmp_path / "vigil.db"
    config = tmp_path / "config"
    config.mkdir()
    (config / "service.yaml").write_text(f"store: sqlite:///{db}\n", encoding="utf-8")
    added = vigil("users", "add", "--config", str(config), "--username", "zhang",
                  "--role", "monitor", "--display-name", "张三", "--password-stdin",
                  stdin="correct horse battery\n")
    assert added.returncode == 0, added.stderr
    assert "user zhang added (monitor)" in added.stdout
    assert "correct horse" not in added.stdout + added.stderr

    again = vigil("users", "add", "--config", str(config), "--username", "zhang",
                  "--role", "admin", "--password-stdin", stdin="another password\n")
    assert again.returncode == 2 and "'zhang' already exists" in again.stderr
    short = vigil("users", "add", "--config", str(config), "--username", "li",
                  "--role", "admin", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "password: 8 to" in short.stderr
    bad_role = vigil("users", "add", "--config", str(config), "--username", "li",
                     "--role", "boss", "--password-stdin", stdin="long enough pw\n")
    assert bad_role.returncode == 2 and "invalid choice: 'boss'" in bad_role.stderr

    listed = vigil("users", "list", "--config", str(config))
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["zhang\tmonitor\t张三\tactive"]

    store = open_store(f"sqlite:///{db}", SystemClock())
    try:
        (user,) = store.list_users()
        assert verify_password("correct horse battery", user.password_hash)
    finally:
        store.close()
