"""The main job (`make demo`) and the documented set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnnkit import demo

ROOT = Path(__file__).resolve().parents[1]


def test_demo_prints_summary_and_final_accuracy(capsys):
    assert demo.main(["--epochs", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "LeNet-5 (relu + max pooling) on mnist-5k: 4,000 training / 1,000 test images" in out
    assert "total params: 61,706" in out and "MACs: 416,520" in out
    assert "epoch 2:" in out
    accuracy = float(re.search(r"final test accuracy: ([\d.]+)%", out).group(1))
    assert 80.0 <= accuracy <= 100.0  # two epochs of Adam already learn the digits


def test_demo_shows_a_progress_bar(capsys):
    assert demo.main(["--epochs", "1", "--subset", "256"]) == 0
    captured = capsys.readouterr()
    assert "epoch 1/1" in captured.err and "4/4" in captured.err
    assert "256 training / 1,000 test images" in captured.out


def test_demo_explains_why_lenet_does_not_fit_8x8_digits(capsys):
    assert demo.main(["--dataset", "digits", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "LeNet-5 does not fit digits's (1, 8, 8) images" in err
    assert "resize the images to 28x28" in err


def test_demo_rejects_unknown_options(capsys):
    with pytest.raises(SystemExit):
        demo.main(["--dataset", "cifar"])
    assert "invalid choice" in capsys.readouterr().err


def test_readme_names_the_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)
    makefile = (ROOT / "Makefile").read_text()
    # Each checks its system packages first (tests/test_makefile.py), then sets up .venv.
    for goal in ("test", "demo"):
        recipe = re.search(rf"^{goal}: system-packages-{goal}\n((?:\t.*\n)+)", makefile,
                           flags=re.MULTILINE)
        assert recipe and "$(MAKE) --no-print-directory $(STAMP)" in recipe.group(1), goal
