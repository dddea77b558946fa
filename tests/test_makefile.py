"""The README's first commands on a fresh machine: system packages before the long install.

`make demo` and `make test` check their system packages first (Makefile,
``system_packages``). Here ``dpkg-query``, ``apt-get`` and ``id`` are stand-ins on PATH,
so the test can play a fresh machine without bubblewrap, as root and as a user, without
touching this machine's packages: the stand-in ``apt-get`` only records what it was asked.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

STANDINS = {
    # Every package is installed except those in $MISSING.
    "dpkg-query": """#!/bin/sh
for last; do :; done
case " $MISSING " in *" $last "*) exit 1;; esac
printf 'install ok installed'
""",
    "apt-get": """#!/bin/sh
echo "$@" >> "$APT_LOG"
""",
    "id": """#!/bin/sh
echo "$FAKE_UID"
""",
}


@pytest.fixture
def fresh(tmp_path):
    """A copy of the Makefile and pyproject.toml (no .venv) and the stand-ins on PATH."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / "standins"
    bin_dir.mkdir()
    for name, text in STANDINS.items():
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)

    def make(*args: str, uid: int, missing: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               "MISSING": missing, "FAKE_UID": str(uid), "APT_LOG": str(tmp_path / "apt.log")}
        env.pop("MAKEFLAGS", None)
        env.pop("CNNKIT_SKIP_BROWSER", None)
        return subprocess.run(["make", "--no-print-directory", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    return tmp_path, make


@pytest.mark.parametrize("goal", ["demo", "test"])
def test_a_user_without_bubblewrap_is_stopped_at_once_with_the_command(fresh, goal):
    folder, make = fresh
    start = time.monotonic()
    result = make(goal, uid=1000, missing="bubblewrap")
    seconds = time.monotonic() - start
    assert result.returncode != 0
    assert "missing system packages: bubblewrap" in result.stderr
    assert "sudo apt-get install -y bubblewrap" in result.stderr
    assert f"then make {goal} again" in result.stderr
    # Stopped before the install: no virtual environment was even created.
    assert not (folder / ".venv").exists()
    assert seconds < 30, seconds
    assert not (folder / "apt.log").exists()


def test_root_installs_what_is_missing_with_apt_get(fresh):
    folder, make = fresh
    result = make("system-packages-test", uid=0, missing="bubblewrap chromium")
    assert result.returncode == 0, result.stderr
    calls = (folder / "apt.log").read_text().splitlines()
    assert calls[0] == "update -qq"
    assert calls[1].split() == ["install", "-y", "-qq", "--no-install-recommends",
                                "bubblewrap", "chromium"]


def test_nothing_is_installed_when_nothing_is_missing(fresh):
    folder, make = fresh
    for goal in ("system-packages-demo", "system-packages-test"):
        result = make(goal, uid=1000, missing="")
        assert result.returncode == 0, result.stderr
    assert not (folder / "apt.log").exists()


def test_the_demo_needs_only_the_sandbox(fresh):
    """`make demo` asks for bubblewrap only: no browser or database for the main job."""
    folder, make = fresh
    result = make("system-packages-demo", uid=0, missing="chromium postgresql fonts-liberation")
    assert result.returncode == 0, result.stderr
    assert not (folder / "apt.log").exists()


def test_ci_runs_the_readme_command():
    """.ci/run installs nothing itself: `make test` does, so a fresh machine and CI agree."""
    script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in script
    assert "apt-get install" not in script
