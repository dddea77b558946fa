"""environment.yml (conda, for students) and pyproject.toml must install the same set."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for line in requirements:
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", (
            f"{line!r}: pin every dependency exactly (name==version) so that conda and pip "
            "users get the same set"
        )
        pins[req.name.lower()] = specs[0].version
    return pins


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_pip_list() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml needs exactly one `pip:` list"
    return pip_lists[0]


def test_environment_yml_names_the_same_packages_and_versions():
    assert _pins(_conda_pip_list()) == _pins(_pyproject()["project"]["dependencies"])


def test_environment_yml_uses_python_3_11():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    assert _pyproject()["project"]["requires-python"] == ">=3.11,<3.12"


@pytest.mark.parametrize("name", ["torch", "torchvision"])
def test_torch_pins_are_the_cuda_builds_the_course_needs(name):
    pins = _pins(_pyproject()["project"]["dependencies"])
    assert pins == pins | {"torch": "2.14.1", "torchvision": "0.29.1"}
    # The installed build is the pinned release (a CUDA build, e.g. 2.14.1+cu130).
    assert version(name).split("+")[0] == pins[name]


def test_installed_versions_match_the_pins():
    pins = _pins(_pyproject()["project"]["dependencies"])
    installed = {name: version(name).split("+")[0] for name in pins}
    assert installed == pins
