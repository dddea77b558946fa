"""The lectures in a real browser, used by keyboard and read by axe-core (issue 15).

For every ``course/*.ipynb`` this starts JupyterLab, opens the notebook in headless
Chromium (as ``tests/test_browser.py`` does), picks **Run > Run All Cells**, and then:

* runs axe-core (``axe-playwright-python``) on the notebook's output areas, where our
  figures and widgets live: no serious or critical violation may remain, and every
  picture must have a non-empty text alternative (axe accepts ``alt=""`` as decorative).
  JupyterLab's own chrome (menus, toolbars, cell editors) is not WCAG 2.1 AA and is not
  ours to fix: axe's findings there are printed and saved to
  ``test-artifacts/accessibility/<notebook>.json`` (git-ignored), never failed on;
* for every cnnkit widget (an element with the ``cnnkit-explorer`` class): focuses the
  page just before it and presses Tab, which must land on the widget's first control;
  keeps pressing Tab, which must reach every control of the widget, in document order
  (the order the layout shows them in); then, back on the first control, changes it by
  keyboard alone (arrow keys; Tab + Enter for toggle buttons) and checks that the widget
  redrew (its pictures or text) AND that the text alternatives of its pictures changed.

Skipped only with ``CNNKIT_SKIP_BROWSER=1``, as ``tests/test_browser.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_helpers import NotebookPage, wait_until

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "course").glob("*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts" / "accessibility"
RUN_TIMEOUT_S = 300  # one notebook, quick profile (CNNKIT_QUICK=1)
REDRAW_TIMEOUT_S = 60
OUTPUTS = ".jp-Notebook .jp-OutputArea-output"
FAILING_IMPACTS = ("serious", "critical")
# Every lecture but getting started (a plain slider in an accessible box) must show at
# least one cnnkit explorer widget; all that are shown are checked by keyboard.
WITHOUT_EXPLORER = {"00_getting_started"}

# axe.run on the given elements (or the whole page without them, for JupyterLab's chrome).
JS_AXE = """async ([selector, inside]) => {
    const nodes = [...document.querySelectorAll(selector)];
    const context = inside ? {include: nodes} : {exclude: nodes};
    if (inside && !nodes.length) return {violations: []};
    const result = await axe.run(context, {resultTypes: ['violations']});
    return {violations: result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 300)})),
    }))};
}"""

# The controls of a widget root a keyboard user can reach, in document order, each marked
# with data-a11y-control="<index>": slider handles, selects, inputs and buttons that are
# shown and enabled (slider readouts are editable too, but optional stops).
JS_CONTROLS = """(root) => {
    const shown = (e) => e.getClientRects().length > 0 && !e.closest('[disabled]');
    const controls = [...root.querySelectorAll(
        '.noUi-handle, select, input, textarea, button')].filter(shown);
    controls.forEach((e, i) => e.setAttribute('data-a11y-control', String(i)));
    return controls.map(e => {
        const kind = e.classList.contains('noUi-handle') ? 'slider'
            : e.tagName === 'SELECT' ? (e.multiple ? 'select multiple' : 'dropdown')
            : e.tagName === 'BUTTON' ? (e.closest('.widget-toggle-buttons') ? 'toggle' : 'button')
            : 'input';
        return {kind, name: e.getAttribute('aria-label') || e.getAttribute('title')
                || e.closest('.widget-inline-hbox')?.querySelector('.widget-label')
                    ?.textContent.trim() || e.textContent.trim()};
    });
}"""

# Which control has the keyboard focus: its data-a11y-control index, -1 outside the root.
JS_FOCUSED = """(root) => {
    const e = document.activeElement;
    return e && root.contains(e) ? Number(e.getAttribute('data-a11y-control') ?? -2) : -1;
}"""

# The text alternatives of a widget's pictures and its description text.
JS_ALTS = """(root) => [...root.querySelectorAll('img')].map(
    img => img.getAttribute('alt') || img.getAttribute('title') || '')"""


# The fixtures lab, browser and page are in conftest.py (shared with test_browser.py).


def _report(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}; {len(v['nodes'])} element(s), e.g. "
        f"{v['nodes'][0]['html']}"
        for v in violations
    )


def _run(nb: NotebookPage) -> None:
    nb.open()
    nb.run_all(timeout=RUN_TIMEOUT_S)
    errors = [
        f"cell {i}: {out['ename']}: {out['evalue']}"
        for i, cell in enumerate(nb.cells())
        for out in cell["outputs"]
        if out["type"] == "error"
    ]
    assert not errors, "cells raised errors:\n" + "\n".join(errors)
    nb.page.get_by_text("Loading widget...").first.wait_for(state="detached", timeout=30_000)
    nb.page.evaluate(Axe().axe_script)  # axe-core, injected into the page


def _named_sliders(nb: NotebookPage) -> bool:
    """Whether every slider handle in the outputs has its accessible name yet (the widgets'
    script adds aria-labelledby once the view is attached)."""
    return nb.page.evaluate(
        """(selector) => [...document.querySelectorAll(selector + ' .noUi-handle')]
            .every(h => h.hasAttribute('aria-labelledby'))""",
        OUTPUTS,
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_lecture_is_accessible_by_axe_and_keyboard(notebook, lab, page):
    path = notebook.relative_to(ROOT).as_posix()
    nb = NotebookPage(page, lab, path)
    start = time.monotonic()
    _run(nb)
    print(f"{path}: ran in {time.monotonic() - start:.0f} s")
    try:
        wait_until(lambda: _named_sliders(nb), timeout=20, what="slider handles to be named")
    except TimeoutError:
        pass  # axe reports the unnamed ones below

    # 1. axe-core: no serious or critical violation inside the output areas.
    inside = page.evaluate(JS_AXE, [OUTPUTS, True])["violations"]
    chrome = page.evaluate(JS_AXE, [OUTPUTS, False])["violations"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{notebook.stem}.json").write_text(
        json.dumps({"outputs": inside, "jupyterlab_chrome": chrome}, indent=1)
    )
    print(f"JupyterLab's own chrome (not failed on): {len(chrome)} axe rule(s) violated")
    print(_report(chrome))
    failing = [v for v in inside if v["impact"] in FAILING_IMPACTS]
    print(f"outputs: {len(inside)} axe rule(s) violated, {len(failing)} serious or critical")
    assert not failing, f"{path}: axe finds in the notebook's outputs:\n{_report(failing)}"
    # axe accepts alt="" (a decorative image): every picture here carries meaning.
    unnamed = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector + ' img')]
            .filter(img => !(img.getAttribute('alt') || img.getAttribute('title') || '').trim())
            .map(img => img.outerHTML.slice(0, 120))""",
        OUTPUTS,
    )
    assert not unnamed, f"{path}: pictures without a text alternative: {unnamed}"

    # 2. Every cnnkit widget by keyboard alone.
    roots = page.locator(f"{OUTPUTS} .cnnkit-explorer")
    if notebook.stem not in WITHOUT_EXPLORER:
        assert roots.count() > 0, f"{path} shows no cnnkit widget"
    for k in range(roots.count()):
        _check_keyboard(nb, roots.nth(k), f"{path} widget {k}")


def _tab_from_before(page, root) -> None:
    """Put the keyboard focus just before ``root`` (on the root itself, made focusable by
    script but not a tab stop) and press Tab once."""
    root.evaluate("r => { r.tabIndex = -1; r.focus(); }")
    page.keyboard.press("Tab")


def _check_keyboard(nb: NotebookPage, root, what: str) -> None:
    page = nb.page
    root.scroll_into_view_if_needed()
    controls = root.evaluate(JS_CONTROLS)
    assert controls, f"{what}: no control a keyboard can reach"

    # Tab lands on the first control, and Tab after Tab reaches every control in order.
    _tab_from_before(page, root)
    visited = []
    for _ in range(3 * len(controls) + 5):
        focused = root.evaluate(JS_FOCUSED)
        if focused == -1:
            break
        if focused >= 0 and (not visited or visited[-1] != focused):
            visited.append(focused)
        page.keyboard.press("Tab")
    assert visited[:1] == [0], (
        f"{what}: Tab from just before the widget should reach its first control "
        f"{controls[0]}, reached {[controls[i] for i in visited[:1]]}"
    )
    assert visited == sorted(visited) and set(visited) == set(range(len(controls))), (
        f"{what}: Tab should reach every control once, in document order; reached "
        f"{visited} of {len(controls)}: {controls}"
    )

    # The first control, changed by keyboard alone, changes the pictures and their words.
    first = controls[0]
    before, alts_before = nb.shows(root), root.evaluate(JS_ALTS)
    _tab_from_before(page, root)
    control = root.locator('[data-a11y-control="0"]')
    if first["kind"] == "slider":
        at_max = control.evaluate(
            "h => Number(h.getAttribute('aria-valuenow'))"
            " >= Number(h.getAttribute('aria-valuemax'))"
        )
        page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
    elif first["kind"] in ("dropdown", "select multiple"):
        page.keyboard.press("ArrowDown")
    elif first["kind"] == "toggle":  # each button is a tab stop: the next one, then Enter
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
    else:
        pytest.fail(f"{what}: first control {first} is neither a slider, a list nor toggles")
    after = nb.wait_for_redraw(root, before, timeout=REDRAW_TIMEOUT_S)
    alts_after = root.evaluate(JS_ALTS)
    moved = f"{what}: changed {first['kind']} {first['name']!r} by keyboard"
    print(moved)
    assert after != before, f"{moved}, but the widget still shows the same"
    assert all(alts_after), f"{moved}: a picture lost its text alternative: {alts_after}"
    if alts_before:  # (a widget without pictures is its text: `after != before` covers it)
        assert alts_after != alts_before, (
            f"{moved}: the pictures changed but their text alternatives did not: {alts_after}"
        )
