"""JupyterLab and headless Chromium for tests/test_browser.py.

:class:`JupyterLab` runs the venv's ``jupyter lab`` on a free localhost port with a token,
with its config, settings and workspaces in a throw-away folder, so that nothing a
developer set by hand (theme, open tabs) changes what the test sees, and so that the
browser never saves executed outputs into ``course/*.ipynb`` (autosave is off).

:class:`NotebookPage` does in a Playwright page what a student does: open a notebook, pick
**Run > Run All Cells** in the menu, look at the widgets, move a slider, and it reads what
the page shows. The assertions live in the test.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page

CHROMIUM = Path("/usr/bin/chromium")  # Debian's `chromium` package

# As root Chromium needs --no-sandbox; the machines have no GPU and a small /dev/shm; the
# network is closed, so background fetches (updates, sync, safe browsing) only add noise.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# User settings of the throw-away JupyterLab (JUPYTERLAB_SETTINGS_DIR).
LAB_SETTINGS = {
    # Never write the executed notebook back to course/ (outputs stay stripped).
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    # Keep every cell in the DOM, so that the checks and the screenshot see all of them.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # No "would you like to receive news?" toast over the screenshot, no network calls.
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(
    condition: Callable[[], Any], *, timeout: float, interval: float = 0.25, what: str
) -> Any:
    """Poll ``condition`` until it returns something truthy; raise ``TimeoutError`` if not."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class JupyterLab:
    """``jupyter lab`` in its own process group, serving ``root_dir``.

    A context manager: entering waits until ``/api/status`` answers; leaving shuts every
    kernel down through the REST API (kernels run in process groups of their own), then
    ends the server's whole process group.
    """

    def __init__(self, root_dir: Path, work_dir: Path, *, env: dict[str, str] | None = None):
        self.root_dir = root_dir
        self.work_dir = work_dir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = work_dir / "jupyterlab.log"
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None

    def api(self, path: str, *, method: str = "GET") -> Any:
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_state(self, path: str) -> str | None:
        """``idle``, ``busy``, ``starting``... of the kernel of the notebook at ``path``."""
        for session in self.api("sessions"):
            if session["path"] == path and session.get("kernel"):
                return session["kernel"]["execution_state"]
        return None

    def shutdown_kernels(self) -> None:
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")

    def saved(self, path: str) -> bool:
        """Whether the server wrote the file at ``path`` (its log says so at INFO level)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        lines = text.splitlines()
        return any(
            ("Saving file at" in line or "Uploading file to" in line) and path in line
            for line in lines
        )

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> JupyterLab:
        settings_dir = self.work_dir / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            target = settings_dir / f"{name}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        env = (
            os.environ
            | self.extra_env
            | {
                "JUPYTER_CONFIG_DIR": str(self.work_dir / "config"),
                "JUPYTER_DATA_DIR": str(self.work_dir / "data"),  # kernels, extensions: the venv's
                "IPYTHONDIR": str(self.work_dir / "ipython"),  # no startup scripts of a developer
                "JUPYTER_RUNTIME_DIR": str(self.work_dir / "runtime"),
                "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
                "JUPYTERLAB_WORKSPACES_DIR": str(self.work_dir / "workspaces"),
            }
        )
        command = [
            str(Path(sys.executable).with_name("jupyter")),
            "lab",
            "--no-browser",
            f"--port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.news_url=",  # offline: no news feed
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            # window.jupyterapp: the test reads the notebook model (execution counts, error
            # outputs) through it; everything it does, it does through the menus and keys.
            "--LabApp.expose_app_in_browser=True",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=self.root_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own, ended as a whole
        )
        try:
            wait_until(self._ready, timeout=120, interval=0.5, what="JupyterLab to start")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {self.process.returncode}:\n{self.log_tail()}"
            )
        try:
            self.api("status")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
        return True

    def __exit__(self, *exc_info: object) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                self.shutdown_kernels()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log.close()
        self.process = None


# -- in-page JavaScript: JupyterLab 4 and ipywidgets 8 ---------------------------------------

# Per cell of the notebook model: type, execution count, and each output's type, error
# name/value and MIME types (a widget output has WIDGET_VIEW among them).
JS_MODEL = """(path) => {
    const panel = [...window.jupyterapp.shell.widgets('main')]
        .find(w => w.context && w.context.path === path);
    const cells = panel.content.model.cells;
    const result = [];
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        const code = cell.type === 'code';
        result.push({
            type: cell.type,
            count: code ? cell.executionCount : null,
            source: cell.sharedModel.getSource().slice(0, 60),
            outputs: code ? cell.outputs.toJSON().map(o => ({
                type: o.output_type, ename: o.ename ?? null, evalue: o.evalue ?? null,
                mimes: Object.keys(o.data ?? {}),
            })) : [],
        });
    }
    return result;
}"""

# The prompts of the code cells as shown: "[3]:", "[*]:" (running or queued), "[ ]:".
JS_PROMPTS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')]
    .map(cell => (cell.querySelector('.jp-InputArea-prompt')?.textContent ?? '').trim())"""

# Controls, whose own readouts change when they move; everything else in a widget is
# something it displays.
_CONTROLS = (
    ".widget-slider, .widget-dropdown, .widget-toggle-buttons, .widget-checkbox, "
    ".widget-text, .widget-button, .widget-play, .widget-radio, .widget-select, "
    ".widget-colorpicker, .widget-datepicker, .widget-toggle-button"
)

# What a widget root displays besides its controls: a SHA-256 of every image's bytes
# (an Image widget's blob: URL, a plot's data: URL) and the text of labels, HTML and
# Output widgets. Equal digests mean that the widget shows the same thing.
JS_WIDGET_SHOWS = """async (root) => {
    const clone = root.cloneNode(true);
    clone.querySelectorAll('CONTROLS').forEach(e => e.remove());
    const hex = (buffer) => [...new Uint8Array(buffer)]
        .map(b => b.toString(16).padStart(2, '0')).join('');
    const images = [];
    for (const img of clone.querySelectorAll('img')) {
        try {
            const bytes = await (await fetch(img.getAttribute('src'))).arrayBuffer();
            images.push(hex(await crypto.subtle.digest('SHA-256', bytes)));
        } catch (error) {  // a blob: URL revoked by a redraw in progress
            images.push(null);
        }
    }
    return {images, text: clone.textContent.replace(/\\s+/g, ' ').trim()};
}""".replace("CONTROLS", _CONTROLS)

# The control of a widget root that a test moves, marked with data-test-control so that a
# locator finds it: the first enabled slider with a range, else the first dropdown, else
# the first toggle buttons; none when the widget displays nothing besides its controls.
JS_MARK_CONTROL = """(root, mark) => {
    const clone = root.cloneNode(true);
    clone.querySelectorAll('CONTROLS').forEach(e => e.remove());
    if (!clone.querySelector('img, .widget-label, .widget-html, .widget-htmlmath, .widget-output'))
        return null;
    const slider = [...root.querySelectorAll('.widget-slider .noUi-handle')].find(h =>
        !h.closest('[disabled]')
        && Number(h.getAttribute('aria-valuemin')) < Number(h.getAttribute('aria-valuemax')));
    const select = [...root.querySelectorAll('.widget-dropdown select:not([disabled])')]
        .find(s => s.options.length > 1);
    const toggle = [...root.querySelectorAll('.widget-toggle-buttons')]
        .find(t => t.querySelector('button:not(.mod-active):not([disabled])'));
    const [kind, control] = slider ? ['slider', slider] : select ? ['dropdown', select]
        : toggle ? ['toggle buttons', toggle] : [null, null];
    if (!control) return null;
    if (mark) control.setAttribute('data-test-control', '');
    const owner = control.closest('.widget-inline-hbox, .widget-toggle-buttons');
    return {kind, name: owner?.querySelector('.widget-label')?.textContent.trim() ?? ''};
}""".replace("CONTROLS", _CONTROLS)

# A cell's top-level output that an ipywidgets view renders into.
WIDGET_ROOTS = (
    ".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output > .jupyter-widgets"
)


class NotebookPage:
    """A notebook of ``lab`` opened in ``page``, driven through JupyterLab's own UI."""

    def __init__(self, page: Page, lab: JupyterLab, path: str):
        self.page = page
        self.lab = lab
        self.path = path  # relative to the server's root_dir, with forward slashes
        self.console: list[str] = []  # browser console errors and uncaught exceptions
        page.on("console", lambda m: m.type == "error" and self.console.append(m.text))
        page.on("pageerror", lambda e: self.console.append(f"uncaught: {e}"))

    # -- opening and running --------------------------------------------------------------
    def open(self, *, timeout: float = 120) -> None:
        """Open the notebook in a fresh workspace and wait until its kernel is idle."""
        workspace = re.sub(r"\W", "-", self.path)
        self.page.goto(
            f"{self.lab.url}/lab/workspaces/{workspace}/tree/{self.path}?token={self.lab.token}"
        )
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout * 1000)

        def kernel_idle() -> bool:
            dialog = self.page.locator(".jp-Dialog")
            if dialog.count():  # e.g. "Select Kernel": the notebook names a missing kernel
                raise AssertionError(f"JupyterLab shows a dialog: {dialog.first.inner_text()!r}")
            return self.lab.kernel_state(self.path) == "idle"

        wait_until(kernel_idle, timeout=timeout, interval=0.5, what=f"{self.path}'s kernel")
        # Close the file browser, as a reader would, to give the notebook the full width.
        left = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if left.count():
            left.first.click()

    def menu(self, *labels: str) -> None:
        """Click through the menu bar, e.g. ``menu("Run", "Run All Cells")``."""
        top, *items = labels
        self.page.locator(
            ".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")
        ).click()
        for label in items:
            self.page.locator(
                ".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")
            ).click()

    def run_all(self, *, timeout: float) -> None:
        """Run > Run All Cells, then wait until no cell shows [*] and the kernel is idle."""
        self.menu("Run", "Run All Cells")
        self.wait_idle(timeout=timeout, what=f"{self.path} to run")

    def wait_idle(self, *, timeout: float, what: str) -> None:
        """Wait until no cell shows [*] and the kernel is idle, twice in a row (between two
        cells, or before a widget's message arrives, the kernel is idle for a moment)."""

        def finished() -> bool:
            busy = any("*" in p for p in self.page.evaluate(JS_PROMPTS))
            return not busy and self.lab.kernel_state(self.path) == "idle"

        for _ in range(2):
            time.sleep(1)
            wait_until(finished, timeout=timeout, interval=0.5, what=what)

    def cells(self) -> list[dict]:
        return self.page.evaluate(JS_MODEL, self.path)

    def notebook_text(self) -> str:
        return self.page.locator(".jp-Notebook").inner_text()

    # -- widgets --------------------------------------------------------------------------
    def widget_roots(self) -> Locator:
        return self.page.locator(WIDGET_ROOTS)

    def renders_widgets(self) -> bool:
        """Whether JupyterLab has a renderer for widget outputs (jupyterlab_widgets)."""
        return self.page.evaluate(
            """([path, mime]) => [...window.jupyterapp.shell.widgets('main')]
                .find(w => w.context && w.context.path === path)
                .content.rendermime.mimeTypes.includes(mime)""",
            [self.path, WIDGET_VIEW],
        )

    def rendered_widget_count(self) -> int:
        """Top-level widget views that rendered with a size (not an error placeholder)."""
        return self.page.evaluate(
            """(selector) => [...document.querySelectorAll(selector)].filter(root => {
                const box = root.getBoundingClientRect();
                return box.width > 0 && box.height > 0;
            }).length""",
            WIDGET_ROOTS,
        )

    def first_interactive_widget(self) -> tuple[Locator, dict] | None:
        """The first widget that displays something and has a control to move.

        Returns the widget's root and ``{"kind": "slider" | "dropdown" | "toggle buttons",
        "name": its description}``, and marks the control for :meth:`move_control`.
        Sliders come first: a widget without one is used only when no widget has one.
        """
        roots = self.widget_roots()
        found = []
        for i in range(roots.count()):
            control = roots.nth(i).evaluate(JS_MARK_CONTROL, False)
            if control:
                found.append((control["kind"] != "slider", i))
        if not found:
            return None
        i = min(found)[1]
        return roots.nth(i), roots.nth(i).evaluate(JS_MARK_CONTROL, True)

    def shows(self, root: Locator) -> dict:
        """What the widget displays now (see JS_WIDGET_SHOWS), read once no redraw is
        replacing its images."""
        for _ in range(20):
            shown = root.evaluate(JS_WIDGET_SHOWS)
            if None not in shown["images"]:
                break
            time.sleep(0.25)
        return shown

    def move_control(self, root: Locator, kind: str) -> tuple[str, str]:
        """Move the marked control as a person would; returns its (old, new) value.

        A slider's handle is dragged a quarter of the track (back, when it is in the last
        quarter), a dropdown gets its next option, toggle buttons get the next button.
        """
        control = root.locator("[data-test-control]").first
        control.scroll_into_view_if_needed()
        buttons = control.locator("button")

        def value() -> str:
            if kind == "slider":
                return control.get_attribute("aria-valuetext")
            if kind == "dropdown":
                return control.evaluate("s => s.options[s.selectedIndex]?.text ?? ''")
            return control.evaluate("t => t.querySelector('button.mod-active')?.textContent ?? ''")

        old = value()
        if kind == "slider":
            track = root.locator(".noUi-target:has([data-test-control])").first.bounding_box()
            handle = control.bounding_box()
            x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
            dx = track["width"] / 4 * (1 if x < track["x"] + track["width"] * 3 / 4 else -1)
            self.page.mouse.move(x, y)
            self.page.mouse.down()
            self.page.mouse.move(x + dx, y, steps=5)
            self.page.mouse.up()
            try:
                wait_until(lambda: value() != old, timeout=3, what="the slider to move")
            except TimeoutError:  # a slider with few steps snapped back: use the keyboard
                control.press("ArrowRight" if dx > 0 else "ArrowLeft")
        elif kind == "dropdown":
            index = control.evaluate("s => (s.selectedIndex + 1) % s.options.length")
            control.select_option(index=index)
        else:
            active = [b.evaluate("b => b.classList.contains('mod-active')") for b in buttons.all()]
            buttons.nth((active.index(True) + 1) % len(active) if True in active else 0).click()
        wait_until(lambda: value() != old, timeout=10, what=f"the {kind} to change")
        return old, value()

    def wait_for_redraw(self, root: Locator, before: dict, *, timeout: float) -> dict:
        """What ``root`` shows once it differs from ``before`` and the kernel is idle again
        (or ``before`` itself after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        logged = self.log_entries()
        while self.shows(root) == before and time.monotonic() < deadline:
            if self.log_entries() > logged:  # a callback raised: no redraw is coming
                break
            time.sleep(0.5)
        self.wait_idle(timeout=max(deadline - time.monotonic(), 5), what="the widget to redraw")
        self.page.wait_for_timeout(500)  # the last update's message reaches the page
        return self.shows(root)

    # -- log console ----------------------------------------------------------------------
    def log_entries(self) -> int:
        """Entries in the notebook's log console (where uncaught callback errors go)."""
        item = self.page.locator(".jp-LogConsoleStatusItem [title]")
        if not item.count():
            return 0
        match = re.search(r"(\d+) log entr", item.first.get_attribute("title") or "")
        return int(match.group(1)) if match else 0

    def log_text(self) -> str:
        """Open the log console (click its status bar item) and read it."""
        self.page.locator(".jp-LogConsoleStatusItem [title]").first.click()
        panel = self.page.locator(".jp-LogConsolePanel")
        panel.wait_for(timeout=10_000)
        return panel.inner_text()

    # -- screenshot -----------------------------------------------------------------------
    def screenshot(self, path: Path, *, max_height: int = 16_000) -> None:
        """Save the whole notebook, top to bottom, as one PNG.

        JupyterLab scrolls inside the notebook, not the page, so the viewport is made as
        tall as the notebook's cells first.
        """
        height = self.page.evaluate(
            """() => {
                const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')
                    ?? document.querySelector('.jp-Notebook');
                const cells = scroller.querySelectorAll('.jp-Cell');
                const last = cells[cells.length - 1];
                const top = scroller.getBoundingClientRect().top;
                const bottom = last ? last.getBoundingClientRect().bottom - top + scroller.scrollTop
                                    : scroller.scrollHeight;
                return Math.ceil(top + bottom + 60);
            }"""
        )
        width = self.page.viewport_size["width"]
        self.page.set_viewport_size({"width": width, "height": min(max(height, 600), max_height)})
        self.page.evaluate(
            """() => document.querySelectorAll('.jp-NotebookPanel .jp-WindowedPanel-outer')
                .forEach(e => { e.scrollTop = 0; })"""
        )
        self.page.mouse.move(0, 0)  # no hover effects where the pointer was
        self.page.wait_for_timeout(300)  # let JupyterLab lay out the new size
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
