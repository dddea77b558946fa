"""Shared test set-up: a non-interactive matplotlib backend, a hypothesis profile, and the
lecture notebooks' JupyterLab (started once for the session) and Chromium for the browser
tests (test_browser.py, test_accessibility.py)."""

import os
from pathlib import Path

import matplotlib
import pytest
import torch
from hypothesis import settings

matplotlib.use("Agg")

# Loops in cnnkit.ops are slow by design (they teach); keep property tests bounded.
settings.register_profile("default", deadline=None, max_examples=50)
settings.load_profile("default")

# Notebooks run by nbmake inherit this: the quick profile (see cnnkit/profile.py).
os.environ.setdefault("CNNKIT_QUICK", "1")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module's tests on one torch thread and restore the count afterwards.

    Oracle tests run thousands of convolutions on a few pixels each; waking a thread pool
    costs far more than the work, and on a busy 2-core machine OpenMP threads that wait
    for a core make each call 10-50x slower.
    """
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """JupyterLab serving the repository, its kernels in the quick profile (one for the
    session: the browser and accessibility tests share it)."""
    from browser_helpers import CHROMIUM, JupyterLab

    if os.environ.get("CNNKIT_SKIP_BROWSER") == "1":
        pytest.skip("CNNKIT_SKIP_BROWSER=1: the browser tests were switched off explicitly")
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser and accessibility tests need Debian's "
            "Chromium. Run `apt-get install chromium` (as root, `make test` does it), or set "
            "CNNKIT_SKIP_BROWSER=1 to skip them explicitly.",
            pytrace=False,
        )
    root = Path(__file__).resolve().parents[1]
    with JupyterLab(root, tmp_path_factory.mktemp("jupyterlab"), env={"CNNKIT_QUICK": "1"}) \
            as server:
        yield server


@pytest.fixture(scope="module")
def browser(lab):
    """Debian's Chromium driven by Playwright (its own browser download is not reachable).

    Per module, not per session: Playwright's sync API allows one running instance per
    thread, and other modules (test_feedback.py, test_nbgrader_path.py) start their own.
    """
    from browser_helpers import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, lab):
    """A fresh browser context per notebook; its kernels are shut down afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()
    lab.shutdown_kernels()
