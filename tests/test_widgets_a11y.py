"""Text alternatives and names of every widget, without a browser (issue 15).

Each widget says in words what its pictures show (``describe_*``, pure functions of its
state). These tests set controls as a student would and check that the words follow the
pictures and agree with independent oracles (``nn.Conv2d``'s gradient, PyTorch's pooling,
``F.conv2d``, the model's argmax); ``tests/test_accessibility.py`` checks the same in the
browser with axe-core and the keyboard.
"""

from __future__ import annotations

import html
import re

import ipywidgets as widgets
import matplotlib
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.data import TensorDataset

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cnnkit.models import lenet5  # noqa: E402
from cnnkit.plot import describe_history, figure_bundle, show  # noqa: E402
from cnnkit.train import History  # noqa: E402
from cnnkit.widgets import (  # noqa: E402
    activation_viewer,
    architecture_comparer,
    augmentation_viewer,
    channel_mixer,
    conv_explorer,
    kernel_playground,
    pooling_explorer,
)
from cnnkit.widgets._a11y import ARIA_SCRIPT, EXPLORER_CLASS, AltImage, span  # noqa: E402
from cnnkit.widgets.augmentation_viewer import describe_augmentation  # noqa: E402
from cnnkit.widgets.conv_explorer import conv_state, describe_conv  # noqa: E402
from cnnkit.widgets.kernel_playground import apply_kernel  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py


def leaves(widget: widgets.Widget) -> list[widgets.Widget]:
    children = getattr(widget, "children", ())
    return [widget] if not children else [x for c in children for x in leaves(c)]


def pictures(widget: widgets.Widget) -> list[AltImage]:
    return [w for w in leaves(widget) if isinstance(w, widgets.Image)]


def shown_text(widget: widgets.Widget) -> str:
    """Every HTML widget's text, tags removed, as a reader sees it."""
    return " ".join(
        html.unescape(re.sub(r"<[^>]+>", " ", w.value))
        for w in leaves(widget)
        if isinstance(w, widgets.HTML)
    )


# --- what every widget shares ---------------------------------------------------------


def test_alt_image_keeps_its_text_in_the_tooltip_and_syncs_an_empty_description():
    image = AltImage(alt="a 3×3 grid")
    assert image.alt == image.tooltip == "a 3×3 grid"
    # ipywidgets 8.1.9's view reads description.length before it sets the title
    assert image.description == "" and "description" in image.keys
    image.alt = ""
    assert image.tooltip is None and image.alt == ""


def test_span_writes_runs_and_lists():
    assert span([4, 2, 3]) == "2–4" and span([1, 3, 5]) == "1, 3, 5" and span([0, 1]) == "0, 1"


@pytest.fixture(scope="module")
def small_dataset():
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.rand(4, 1, 28, 28, generator=g), torch.tensor([0, 1, 2, 3]))


@pytest.fixture(scope="module")
def all_widgets(small_dataset):
    torch.manual_seed(0)
    return {
        "conv_explorer": conv_explorer(),
        "kernel_playground": kernel_playground(),
        "channel_mixer": channel_mixer(),
        "pooling_explorer": pooling_explorer(),
        "activation_viewer": activation_viewer(lenet5(), small_dataset),
        "architecture_comparer": architecture_comparer(),
        "augmentation_viewer": augmentation_viewer(n=4),
    }


WIDGETS = ["conv_explorer", "kernel_playground", "channel_mixer", "pooling_explorer",
           "activation_viewer", "architecture_comparer", "augmentation_viewer"]  # fmt: skip


@pytest.mark.parametrize("name", WIDGETS)
def test_every_picture_has_words_and_every_control_a_name(all_widgets, name):
    w = all_widgets[name]
    assert EXPLORER_CLASS in w._dom_classes
    script = w.children[-1]
    assert isinstance(script, widgets.Output) and script.layout.display == "none"
    assert script.outputs[0]["data"] == {"application/javascript": ARIA_SCRIPT}
    images = pictures(w)
    assert images and all(isinstance(im, AltImage) and len(im.alt) > 20 for im in images), [
        (type(im).__name__, getattr(im, "alt", None)) for im in images
    ]
    for key, control in w.controls.items():
        named = getattr(control, "description", "") or getattr(control, "tooltip", "")
        assert named, f"{name}: control {key!r} has no name a screen reader could read"
    assert w.state["description"] and w.state["description"] in shown_text(w) or (
        name == "architecture_comparer"  # its text is the table; the chart's alt holds all
    )


# --- conv_explorer: the words against the gradient of nn.Conv2d -------------------------


def cells_read_by_gradient(n_hw, k, p, s, d, i, j):
    padded = torch.zeros(1, 1, n_hw[0] + 2 * p, n_hw[1] + 2 * p, requires_grad=True)
    conv = torch.nn.Conv2d(1, 1, k, stride=s, dilation=d, bias=False)
    torch.nn.init.ones_(conv.weight)
    conv(padded)[0, 0, i, j].backward()
    return [tuple(x) for x in padded.grad[0, 0].nonzero().tolist()]


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(n_h=st.integers(1, 10), n_w=st.integers(1, 10), k=st.integers(1, 7),
       p=st.integers(0, 4), s=st.integers(1, 4), d=st.integers(1, 3), data=st.data())  # fmt: skip
def test_describe_conv_says_what_nn_conv2d_reads(n_h, n_w, k, p, s, d, data):
    P_h, P_w = n_h + 2 * p, n_w + 2 * p
    fits = d * (k - 1) < min(P_h, P_w)
    i, j = data.draw(st.integers(0, 9)), data.draw(st.integers(0, 9))
    state = conv_state((n_h, n_w), k, p, s, d, (i, j))
    words = describe_conv(state)
    assert f"{P_h}×{P_w}" in words["input"] and f"{n_h}×{n_w} input" in words["input"]
    if not fits:
        assert words["output"].startswith("No output") and "does not fit" in words["input"]
        return
    i, j = state["cell"]
    read = cells_read_by_gradient((n_h, n_w), k, p, s, d, i, j)
    inside = [(r - p, c - p) for r, c in read if p <= r < n_h + p and p <= c < n_w + p]
    zeros = len(read) - len(inside)
    for text in (words["input"], words["text"]):
        assert f"output cell ({i}, {j})" in text.lower()
        assert f"reads {len(read)} cells" in text
        assert f"{zeros} padding zero" in text
        if inside:
            rows, cols = span([r for r, _ in inside]), span([c for _, c in inside])
            assert f"input rows {rows}, columns {cols}" in text
        else:
            assert "no input cell" in text
    h_out, w_out = state["output_shape"]
    assert f"Output grid, {h_out}×{w_out}" in words["output"]
    assert f"sum of {len(read)} products" in words["output"]


def test_conv_explorer_pictures_follow_the_controls(all_widgets):
    w = all_widgets["conv_explorer"]
    c = w.controls
    padded_input, output = pictures(w)
    c["n_h"].value, c["padding"].value, c["kernel_size"].value = 6, 1, 3
    c["row"].value, c["col"].value = 2, 3
    assert padded_input.alt == describe_conv(w.state)["input"]
    assert "output cell (2, 3)" in padded_input.alt
    assert "output cell (2, 3)" in w.state["description"].lower()
    before = (padded_input.alt, output.alt, shown_text(w))
    c["stride"].value = 2
    assert (padded_input.alt, output.alt, shown_text(w)) != before
    c["kernel_size"].value, c["padding"].value = 7, 0  # does not fit a 6-row input
    assert output.alt.startswith("No output") and "kernel_size 7" in output.alt
    assert "no output" in shown_text(w)
    c["kernel_size"].value, c["stride"].value = 3, 1


# --- the other widgets: the words carry the numbers the pictures show -------------------


def test_pooling_words_carry_the_window_and_the_pooled_value(all_widgets):
    w = all_widgets["pooling_explorer"]
    c = w.controls
    c["mode"].value, c["window"].value, c["stride"].value, c["padding"].value = "max", 3, 2, 0
    c["row"].value, c["col"].value = 1, 1
    grid = torch.tensor(w.state["grid"], dtype=torch.float32)
    window = grid[2:5, 2:5]  # output (1, 1), stride 2: rows and columns 2-4
    expected = F.max_pool2d(grid[None, None], 3, 2)[0, 0, 1, 1]
    assert float(expected) == window.max()
    grid_in, grid_out = pictures(w)[:2]
    digits = ", ".join(str(int(v)) for v in sorted(window.flatten().tolist()))
    assert f"it holds {digits}" in grid_in.alt
    assert f"holds {int(expected)}" in grid_out.alt
    assert f"= max of {digits} = {int(expected)}." in w.state["description"]
    c["mode"].value = "avg"
    assert f"= avg of {digits} = {float(window.mean()):.1f}." in w.state["description"]
    assert "avg pooled grid" in grid_out.alt
    c["mode"].value = "max"


def test_kernel_playground_words_carry_the_kernel_and_the_filtered_range(all_widgets):
    w = all_widgets["kernel_playground"]
    w.controls["preset"].value = "Laplacian"
    before, after = pictures(w)
    assert "0 1 0; 1 -4 1; 0 1 0" in after.alt and "Laplacian" in after.alt
    assert before.alt.startswith("Photo of a flower")
    assert f"from {w.state['out_min']:.2f} to {w.state['out_max']:.2f}" in after.alt
    K = torch.tensor(w.state["kernel"])
    assert w.state["out_min"] == pytest.approx(float(apply_kernel(_photo(w), K).min()), abs=1e-5)
    assert all(w.controls[f"k{r}{q}"].description == f"K[{r},{q}]"
               for r in range(3) for q in range(3))  # fmt: skip


def _photo(w):
    from cnnkit.data import sample_image
    from cnnkit.widgets.kernel_playground import downscale

    return downscale(sample_image("flower"), w.state["input_shape"][-1])


def test_channel_mixer_words_give_each_output_channels_formula(all_widgets):
    w = all_widgets["channel_mixer"]
    w.controls["preset"].value = "swap R/B"
    alts = [im.alt for im in pictures(w)]
    assert alts[0].startswith("Photo of a flower") and "much red" in alts[1]
    assert "Output channel 0 = 0·R + 0·G + 1·B" in alts[5]
    assert "out 2 = 1·R + 0·G + 0·B" in w.state["description"]


def test_activation_viewer_says_right_or_wrong_in_words_not_colour_alone(all_widgets):
    w = all_widgets["activation_viewer"]
    model_says = w.state["prediction"] == w.state["label"]
    verdict = "✓ correct" if model_says else "✗ wrong"
    assert verdict in shown_text(w)
    image, maps = pictures(w)
    assert f"#{w.state['index']}" in image.alt
    C, H, W = w.state["shape"]
    assert f"{C} feature maps of layer {w.state['layer']}, each {H}×{W}" in maps.alt
    strongest = max(range(C), key=lambda c: w.state["map_means"][c])
    assert f"Largest mean value: maps {strongest}," in maps.alt
    before = maps.alt
    w.controls["layer"].value = "avgpool2"
    assert maps.alt != before and "16 feature maps" in maps.alt


def test_architecture_comparer_chart_words_list_every_bar(all_widgets):
    from cnnkit.widgets.architecture_comparer import human

    w = all_widgets["architecture_comparer"]
    (chart,) = pictures(w)
    for row in w.state["rows"]:
        assert f"{row['name']}: {human(row['params'])} parameters" in chart.alt
    w.controls["names"].value = ()
    assert chart.alt == "Empty bar chart: no network chosen."
    w.controls["names"].value = ("AlexNet",)
    assert "AlexNet" in chart.alt and "VGG" not in chart.alt


def test_augmentation_words_name_each_setting(all_widgets):
    w = all_widgets["augmentation_viewer"]
    w.controls["seed"].value = 3
    original, samples = pictures(w)
    assert "seed 3" in samples.alt and "rotation by up to ±15°" in samples.alt
    off = {"seed": 0, "n": 4, "sample_shape": (3, 96, 144), "transforms": [],
           "params": {"crop_scale": 1.0, "flip_p": 0.0, "degrees": 0, "brightness": 0.0,
                      "contrast": 0.0, "saturation": 0.0, "hue": 0.0}}  # fmt: skip
    assert "no augmentation" in describe_augmentation(off, (3, 96, 144))["samples"]


# --- figures of the lectures ---------------------------------------------------------


def test_figure_bundle_puts_the_alt_text_on_the_img_and_beside_it():
    bundle = figure_bundle(b"\x89PNG...", 'accuracy "rises" <fast>')
    assert 'alt="accuracy &quot;rises&quot; &lt;fast&gt;"' in bundle["text/html"]
    assert bundle["text/plain"] == 'accuracy "rises" <fast>' and bundle["image/png"]
    with pytest.raises(ValueError, match="alt must say in words"):
        figure_bundle(b"\x89PNG", "  ")


def test_show_displays_once_and_closes_the_pyplot_figure(capsys):
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    show(fig, alt="a line rising from 1 to 3")
    assert fig.number not in plt.get_fignums()  # the inline backend will not show it again
    assert "a line rising from 1 to 3" in capsys.readouterr().out  # text/plain outside Jupyter


def test_describe_history_gives_each_curves_first_and_last_value():
    history = History(train_loss=[2.0, 0.5], train_acc=[0.3, 0.8], test_loss=[1.0, 0.6],
                      test_acc=[0.4, 0.75], examples_per_sec=[10.0, 10.0])  # fmt: skip
    text = describe_history(history)
    assert "over 2 epochs" in text and "train loss from 2.000 to 0.500" in text
    assert "test accuracy from 0.400 to 0.750" in text
    no_test = History(train_loss=[1.0], train_acc=[0.5], test_loss=[float("nan")],
                      test_acc=[float("nan")], examples_per_sec=[1.0])  # fmt: skip
    assert "test accuracy" not in describe_history(no_test)
