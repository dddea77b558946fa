"""Widgets of course/02 and course/03: channel_mixer and pooling_explorer, without a browser.

Each test sets control values and checks ``state`` and the drawn images against
independent oracles: ``F.conv2d`` with a 1x1 kernel, and ``nn.MaxPool2d`` /
``nn.AvgPool2d`` applied in the test to the numbers the widget shows.
"""

from __future__ import annotations

import ipywidgets as widgets
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnnkit.data import sample_image
from cnnkit.widgets.channel_mixer import PRESETS, channel_mixer, mix_channels
from cnnkit.widgets.pooling_explorer import MODES, pool, pooling_explorer

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True, database=None)


def images(widget: widgets.Widget) -> list[bytes]:
    """The PNG bytes of every ``Image`` inside ``widget``, in layout order."""
    if isinstance(widget, widgets.Image):
        return [bytes(widget.value)]
    return [png for child in getattr(widget, "children", ()) for png in images(child)]


def photo(width: int) -> torch.Tensor:
    """The widgets' input photo, shrunk independently: (3, h, width)."""
    X = sample_image("flower")
    height = round(X.shape[1] * width / X.shape[2])
    return F.interpolate(X[None], size=(height, width), mode="area")[0]


# --- channel_mixer ------------------------------------------------------------------------


@PROPERTY
@given(
    c_i=st.integers(1, 4),
    c_o=st.integers(1, 4),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_mix_channels_is_a_1x1_conv2d(c_i, c_o, h, w, seed):
    gen = torch.Generator().manual_seed(seed)
    X, K = torch.randn(c_i, h, w, generator=gen), torch.randn(c_o, c_i, generator=gen)
    Y, diff = mix_channels(X, K)
    conv = nn.Conv2d(c_i, c_o, 1, bias=False)
    with torch.no_grad():
        conv.weight[:] = K[:, :, None, None]
        torch.testing.assert_close(Y, conv(X[None])[0])
    assert diff < 1e-5


@pytest.fixture(scope="module")
def mixer():
    return channel_mixer(width=64)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_each_preset_sets_the_matrix_and_matches_conv2d(mixer, preset):
    before = images(mixer)
    mixer.controls["preset"].value = preset
    state = mixer.state
    assert state["preset"] == preset and state["max_abs_diff_vs_conv2d"] < 1e-5
    K = torch.tensor(PRESETS[preset], dtype=torch.float32)
    torch.testing.assert_close(torch.tensor(state["K"]), K)
    X = photo(64)
    Y = F.conv2d(X[None], K[:, :, None, None])[0]  # (3, h, w)
    assert state["output_shape"] == tuple(Y.shape) == (3, 43, 64)
    torch.testing.assert_close(torch.tensor(state["out_min"]), Y.amin((1, 2)))
    torch.testing.assert_close(torch.tensor(state["out_max"]), Y.amax((1, 2)))
    assert images(mixer)[:4] == before[:4], "the input photo and channels never change"
    if preset != "identity":  # the default
        assert images(mixer)[4] != before[4], "the recombined output is redrawn"


def test_identity_and_swap_give_back_the_channels(mixer):
    X = photo(64)
    mixer.controls["preset"].value = "swap R/B"
    torch.testing.assert_close(torch.tensor(mixer.state["out_max"]), X.flip(0).amax((1, 2)))
    mixer.controls["preset"].value = "identity"
    torch.testing.assert_close(torch.tensor(mixer.state["out_max"]), X.amax((1, 2)))
    assert mixer.state["clipped_fraction"] == 0


def test_moving_a_slider_switches_to_custom(mixer):
    mixer.controls["preset"].value = "identity"
    before = images(mixer)
    mixer.controls["k02"].value = 0.5  # out 0 = R + 0.5 B
    assert mixer.state["preset"] == "custom" and mixer.state["K"][0] == [1.0, 0.0, 0.5]
    assert images(mixer)[4] != before[4] and images(mixer)[5] != before[5]
    mixer.controls["preset"].value = "identity"
    assert mixer.state["K"][0] == [1.0, 0.0, 0.0]


def test_one_output_channel_is_a_grey_image():
    w = channel_mixer(width=64, c_o=1)
    w.controls["preset"].value = "greyscale (luminance)"
    assert w.state["output_shape"] == (1, 43, 64) and len(w.state["K"]) == 1
    assert sorted(w.controls) == ["k00", "k01", "k02", "preset"]
    with pytest.raises(ValueError, match="c_o must be 1, 2 or 3"):
        channel_mixer(c_o=4)


# --- pooling_explorer ---------------------------------------------------------------------


def torch_layer_pool(X: torch.Tensor, mode: str, k: int, s: int, p: int) -> torch.Tensor:
    """Oracle: PyTorch's pooling layers on (C, H, W); min pooling as -max(-X)."""
    if mode == "avg":
        return nn.AvgPool2d(k, s, p)(X)
    sign = -1 if mode == "min" else 1
    return sign * nn.MaxPool2d(k, s, p)(sign * X)


@PROPERTY
@given(
    mode=st.sampled_from(MODES),
    c=st.integers(1, 3),
    n_h=st.integers(1, 8),
    n_w=st.integers(1, 8),
    k=st.integers(1, 4),
    s=st.integers(1, 4),
    data=st.data(),
    seed=st.integers(0, 2**16),
)
def test_pool_matches_torch_layers(mode, c, n_h, n_w, k, s, data, seed):
    p = data.draw(st.integers(0, k // 2))
    if k > min(n_h, n_w) + 2 * p:
        with pytest.raises(ValueError, match="larger than the padded input"):
            pool(torch.zeros(c, n_h, n_w), mode, k, s, p)
        return
    X = torch.randn(c, n_h, n_w, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(pool(X, mode, k, s, p), torch_layer_pool(X, mode, k, s, p))


@pytest.fixture(scope="module")
def pooler():
    return pooling_explorer(width=48)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("k", "s", "p"), [(2, 2, 0), (3, 1, 1), (3, 2, 0), (4, 3, 2), (1, 1, 0)])
def test_pooled_grid_matches_torch_layers(pooler, mode, k, s, p):
    c = pooler.controls
    c["padding"].value = 0  # so that every intermediate combination is valid
    c["mode"].value, c["window"].value, c["stride"].value, c["padding"].value = mode, k, s, p
    state = pooler.state
    assert state["error"] is None and state["max_abs_diff_vs_torch"] < 1e-5
    grid = torch.tensor(state["grid"], dtype=torch.float32)[None]  # (1, 6, 6)
    expected = torch_layer_pool(grid, mode, k, s, p)[0]
    torch.testing.assert_close(torch.tensor(state["output"]), expected)
    assert state["output_shape"] == tuple(expected.shape)
    expected_photo = torch_layer_pool(photo(48), mode, k, s, p)
    assert state["photo_output_shape"] == tuple(expected_photo.shape)
    assert expected_photo.shape[0] == 3, "pooling keeps the channels"
    default = images(pooling_explorer(width=48))  # max, window 2, stride 2, padding 0
    changed = [new != old for new, old in zip(images(pooler), default, strict=True)]
    # input grid (new padding or window), pooled grid, photo (never), pooled photo
    assert changed == [p > 0 or k != 2, True, False, True] or (mode, k, s, p) == ("max", 2, 2, 0)


@pytest.mark.parametrize("mode", MODES)
def test_chosen_cell_is_its_window_pooled(pooler, mode):
    c = pooler.controls
    c["padding"].value = 0
    c["mode"].value, c["window"].value, c["stride"].value, c["padding"].value = mode, 3, 2, 1
    c["row"].value, c["col"].value = 2, 1
    state = pooler.state
    assert state["cell"] == (2, 1) and state["output_shape"] == (3, 3)
    window = [state["grid"][r][q] for r, q in state["window_cells"]]
    assert sorted(state["window_cells"]) == [(r, q) for r in range(3, 6) for q in range(1, 4)]
    expected = {"max": max(window), "min": min(window), "avg": sum(window) / 9}[mode]
    assert state["cell_value"] == pytest.approx(expected)


def test_cell_in_the_padding_corner_counts_zeros_in_the_average(pooler):
    c = pooler.controls
    c["padding"].value = 0
    c["mode"].value, c["window"].value, c["stride"].value, c["padding"].value = "avg", 2, 2, 1
    c["row"].value, c["col"].value = 0, 0
    assert pooler.state["window_cells"] == [(0, 0)]
    assert pooler.state["cell_value"] == pytest.approx(pooler.state["grid"][0][0] / 4)


def test_too_much_padding_shows_a_message_and_recovers(pooler):
    c = pooler.controls
    c["window"].value, c["stride"].value, c["padding"].value = 2, 2, 1
    drawn = images(pooler)
    c["padding"].value = 2  # PyTorch allows at most window // 2 = 1: no exception here
    assert "padding 2 is more than half of kernel_size 2" in pooler.state["error"]
    assert pooler.state["output"] is None and "Cannot pool" in pooler.children[3].value
    assert images(pooler)[1] != drawn[1] and c["row"].disabled
    with pytest.raises(RuntimeError):
        nn.MaxPool2d(2, 2, 2)(torch.zeros(1, 6, 6))  # the rule the message explains
    c["window"].value = 4
    assert pooler.state["error"] is None and not c["row"].disabled


def test_a_smaller_output_clamps_the_chosen_cell(pooler):
    c = pooler.controls
    c["padding"].value = 0
    c["window"].value, c["stride"].value = 1, 1  # 6x6 output
    c["row"].value, c["col"].value = 5, 4
    c["window"].value, c["stride"].value = 3, 3  # 2x2 output
    assert pooler.state["cell"] == (1, 1) == (c["row"].max, c["col"].max)
