"""Widgets of course/01: conv_explorer and kernel_playground, driven without a browser.

Each test sets control values (ipywidgets runs the observers synchronously) and checks the
widget's ``state`` and drawn images against independent oracles: a real ``nn.Conv2d``,
the gradient of one output cell (which input cells it reads), and ``cnnkit.ops``' loops.
"""

from __future__ import annotations

import ipywidgets as widgets
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from cnnkit.data import sample_image
from cnnkit.ops import conv2d_naive
from cnnkit.widgets.conv_explorer import (
    conv_explorer,
    formula_text,
    receptive_cells,
    torch_output_shape,
)
from cnnkit.widgets.kernel_playground import (
    LUMA,
    PRESETS,
    apply_kernel,
    display_mode,
    downscale,
    kernel_playground,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def images(widget: widgets.Widget) -> list[bytes]:
    """The PNG bytes of every ``Image`` inside ``widget``, in layout order."""
    if isinstance(widget, widgets.Image):
        return [bytes(widget.value)]
    return [png for child in getattr(widget, "children", ()) for png in images(child)]


def cells_read_by_gradient(n_hw, k, p, s, d, i, j) -> list[tuple[int, int]]:
    """Oracle: the padded-input cells whose value output (i, j) of nn.Conv2d depends on.

    With an all-ones kernel, the gradient of Y[i, j] is 1 exactly on the cells it reads.
    """
    padded = torch.zeros(1, 1, n_hw[0] + 2 * p, n_hw[1] + 2 * p, requires_grad=True)
    conv = nn.Conv2d(1, 1, k, stride=s, dilation=d, bias=False)  # padding built in above
    nn.init.ones_(conv.weight)
    conv(padded)[0, 0, i, j].backward()
    return sorted(map(tuple, padded.grad[0, 0].nonzero().tolist()))


# --- conv_explorer: pure functions ------------------------------------------------------


def test_receptive_cells_of_the_textbook_example():
    # 3x3 input, 2x2 kernel: output (1, 0) reads rows 1-2, columns 0-1.
    assert receptive_cells(1, 0, 2) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert receptive_cells(1, 1, 3, stride=2, dilation=2)[:3] == [(2, 2), (2, 4), (2, 6)]


@PROPERTY
@given(
    n=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    k=st.integers(1, 5),
    p=st.integers(0, 3),
    s=st.integers(1, 3),
    d=st.integers(1, 3),
    data=st.data(),
)
def test_receptive_cells_match_the_gradient_of_nn_conv2d(n, k, p, s, d, data):
    if d * (k - 1) + 1 > min(n) + 2 * p:
        with pytest.raises(RuntimeError):
            torch_output_shape(n, k, p, s, d)
        return
    h_out, w_out = torch_output_shape(n, k, p, s, d)
    i, j = data.draw(st.integers(0, h_out - 1)), data.draw(st.integers(0, w_out - 1))
    assert sorted(receptive_cells(i, j, k, s, d)) == cells_read_by_gradient(n, k, p, s, d, i, j)


def test_formula_text_shows_the_numbers():
    assert formula_text(6, 3, 1, 2, 1).endswith("= ⌊5 / 2⌋ + 1 = 3")
    assert formula_text(2, 5, 0, 1, 1).endswith("= ⌊-3 / 1⌋ + 1")  # no size: does not fit


# --- conv_explorer: the widget ------------------------------------------------------------


@pytest.fixture(scope="module")
def explorer():
    return conv_explorer()


def test_conv_explorer_starts_with_a_valid_drawing(explorer):
    state = explorer.state
    assert state["output_shape"] == state["torch_shape"] == (6, 6)
    assert state["error"] is None and state["padded_shape"] == (8, 8)
    assert state["cell"] == (0, 0) and state["padding_cells_read"] == 5
    assert all(png.startswith(b"\x89PNG") for png in images(explorer))


@PROPERTY
@given(
    n_h=st.integers(1, 10),
    n_w=st.integers(1, 10),
    k=st.integers(1, 7),
    p=st.integers(0, 4),
    s=st.integers(1, 4),
    d=st.integers(1, 3),
    data=st.data(),
)
def test_conv_explorer_state_matches_nn_conv2d(explorer, n_h, n_w, k, p, s, d, data):
    c = explorer.controls
    for name, value in [
        ("n_h", n_h),
        ("n_w", n_w),
        ("kernel_size", k),
        ("padding", p),
        ("stride", s),
        ("dilation", d),
    ]:
        c[name].value = value
    state = explorer.state
    if d * (k - 1) + 1 > min(n_h, n_w) + 2 * p:  # the kernel does not fit: a message
        assert state["output_shape"] is None and state["torch_shape"] is None
        assert "larger than the padded input" in state["error"]
        assert c["row"].disabled and c["play"].disabled
        return
    h_out, w_out = torch_output_shape((n_h, n_w), k, p, s, d)
    assert state["output_shape"] == state["torch_shape"] == (h_out, w_out)
    assert (c["row"].max, c["col"].max, c["play"].max) == (h_out - 1, w_out - 1, h_out * w_out - 1)
    c["row"].value = data.draw(st.integers(0, h_out - 1))
    c["col"].value = data.draw(st.integers(0, w_out - 1))
    i, j = explorer.state["cell"]
    assert (i, j) == (c["row"].value, c["col"].value)
    assert c["play"].value == i * w_out + j
    oracle = cells_read_by_gradient((n_h, n_w), k, p, s, d, i, j)
    assert sorted(explorer.state["receptive_cells"]) == oracle
    inside = [(r - p, q - p) for r, q in oracle if p <= r < n_h + p and p <= q < n_w + p]
    assert sorted(explorer.state["input_cells"]) == inside


def test_play_walks_the_output_cells_row_by_row():
    w = conv_explorer(input_size=(5, 7), kernel_size=3, padding=0)  # output 3x5
    assert w.controls["play"].max == 14
    w.controls["play"].value = 7
    assert w.state["cell"] == (1, 2) and (w.controls["row"].value, w.controls["col"].value) == (
        1,
        2,
    )
    before = images(w)
    w.controls["play"].value = 8
    assert w.state["cell"] == (1, 3)
    assert images(w)[1] != before[1] and images(w)[0] != before[0]


def test_a_smaller_output_clamps_the_chosen_cell():
    w = conv_explorer(input_size=8, kernel_size=3, padding=1)
    w.controls["row"].value, w.controls["col"].value = 7, 6
    w.controls["stride"].value = 3  # output 3x3
    assert w.state["output_shape"] == (3, 3) and w.state["cell"] == (2, 2)
    assert w.controls["play"].value == 8


def test_a_kernel_too_large_shows_a_message_and_recovers():
    w = conv_explorer(input_size=3, kernel_size=3, padding=0)
    drawn = images(w)
    w.controls["kernel_size"].value = 5  # larger than the 3x3 input: no exception
    assert "kernel_size 5" in w.state["error"] and "Cannot convolve" in w.children[3].value
    assert "can't be greater" in w.state["torch_error"]  # PyTorch refuses too
    assert images(w)[1] != drawn[1]
    w.controls["padding"].value = 1
    assert w.state["error"] is None and w.state["output_shape"] == (1, 1)


def test_conv_explorer_rejects_starting_values_outside_the_sliders():
    with pytest.raises(ValueError, match="kernel_size must be an int in 1..7"):
        conv_explorer(kernel_size=9)


# --- kernel_playground --------------------------------------------------------------------


@pytest.mark.parametrize("grey", [True, False])
@pytest.mark.parametrize("preset", ["Sobel x", "emboss", "box blur"])
def test_apply_kernel_matches_the_reference_loops(preset, grey):
    X = torch.rand(3, 7, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    K = torch.tensor(PRESETS[preset], dtype=torch.float64)
    channels = torch.tensordot(torch.tensor(LUMA, dtype=X.dtype), X, dims=1)[None] if grey else X
    expected = torch.stack([conv2d_naive(x, K, padding=1) for x in channels])
    torch.testing.assert_close(apply_kernel(X, K, grey=grey), expected)


def test_display_mode_auto_shows_edges_as_magnitudes():
    assert display_mode(torch.tensor(PRESETS["Laplacian"])) == "abs"
    assert display_mode(torch.tensor(PRESETS["Gaussian blur"])) == "clip"
    assert display_mode(torch.tensor(PRESETS["Laplacian"]), "stretch") == "stretch"


@pytest.fixture(scope="module")
def playground():
    return kernel_playground(width=80)


def grey_photo(width: int) -> torch.Tensor:
    """The playground's input, computed independently: (1, 1, h, w) luminance."""
    X = F.interpolate(sample_image("flower")[None], size=(53, width), mode="area")
    return (X * torch.tensor(LUMA)[None, :, None, None]).sum(1, keepdim=True)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_each_preset_fills_the_grid_and_matches_nn_conv2d(playground, preset):
    before = images(playground)[1]
    playground.controls["preset"].value = preset
    state = playground.state
    assert state["preset"] == preset
    torch.testing.assert_close(torch.tensor(state["kernel"]), torch.tensor(PRESETS[preset]).float())
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight[:] = torch.tensor(PRESETS[preset])
        Y = conv(grey_photo(80))  # (1, 1, 53, 80)
    assert state["output_shape"] == (1, 53, 80) == tuple(Y.shape[1:])
    for key, value in [("out_min", Y.min()), ("out_max", Y.max()), ("out_mean", Y.mean())]:
        assert state[key] == pytest.approx(float(value), abs=1e-5), key
    assert images(playground)[0] == images(kernel_playground(width=80))[0]  # photo unchanged
    if preset != "Sobel x":  # the default: nothing to change
        assert images(playground)[1] != before


def test_editing_a_cell_switches_to_custom_and_a_preset_refills(playground):
    playground.controls["preset"].value = "identity"
    playground.controls["k11"].value = 2.0
    assert playground.state["preset"] == "custom"
    assert playground.state["kernel"][1][1] == 2.0 and playground.state["kernel_sum"] == 2.0
    playground.controls["preset"].value = "sharpen"
    assert playground.state["kernel"] == [[float(v) for v in row] for row in PRESETS["sharpen"]]
    assert playground.controls["preset"].value == "sharpen"


def test_per_channel_filtering_keeps_the_colour_channels(playground):
    playground.controls["preset"].value = "identity"
    playground.controls["grey"].value = False
    try:
        assert playground.state["output_shape"] == (3, 53, 80)
        X = downscale(sample_image("flower"), 80)
        assert playground.state["out_max"] == pytest.approx(float(X.max()))
    finally:
        playground.controls["grey"].value = True
