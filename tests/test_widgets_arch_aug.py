"""cnnkit.widgets.augmentation_viewer and architecture_comparer, without a browser."""

from __future__ import annotations

import statistics

import pytest
import torch
from torchvision.transforms import v2

from cnnkit.widgets.augmentation_viewer import (
    augment_samples,
    augmentation_viewer,
    build_augmentation,
    downscale,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def photo():
    g = torch.Generator().manual_seed(0)
    return torch.rand(3, 24, 32, generator=g)


EVERYTHING = {"crop_scale": 0.5, "flip_p": 0.5, "degrees": 30, "brightness": 0.4,
              "contrast": 0.4, "saturation": 0.4, "hue": 0.1}  # fmt: skip


def test_same_seed_same_samples(photo):
    a = augment_samples(photo, n=6, seed=3, **EVERYTHING)
    b = augment_samples(photo, n=6, seed=3, **EVERYTHING)
    assert a.shape == (6, 3, 24, 32)
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_different_seeds_differ(photo):
    a = augment_samples(photo, n=4, seed=0, **EVERYTHING)
    b = augment_samples(photo, n=4, seed=1, **EVERYTHING)
    assert not torch.equal(a, b)
    assert not torch.equal(a[0], a[1]), "the samples of one draw should differ"


def test_global_random_state_is_untouched(photo):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    augment_samples(photo, n=3, seed=9, **EVERYTHING)
    torch.testing.assert_close(torch.rand(3), expected)


def test_no_settings_is_the_identity(photo):
    assert [type(t) for t in build_augmentation().transforms] == [v2.Identity]
    X = augment_samples(photo, n=2)
    torch.testing.assert_close(X, photo.expand(2, -1, -1, -1))


def test_flip_with_p_1_equals_torch_flip(photo):
    X = augment_samples(photo, n=3, seed=0, flip_p=1.0)
    torch.testing.assert_close(X, torch.flip(photo, dims=[-1]).expand(3, -1, -1, -1))


def test_flip_with_p_half_flips_some(photo):
    X = augment_samples(photo, n=32, seed=0, flip_p=0.5)
    flipped = [torch.equal(x, torch.flip(photo, dims=[-1])) for x in X]
    kept = [torch.equal(x, photo) for x in X]
    assert all(f != k for f, k in zip(flipped, kept, strict=True)), "flipped or not, nothing else"
    assert 4 < sum(flipped) < 28


def test_rotation_matches_torchvision_rotate(photo):
    X = augment_samples(photo, n=2, seed=5, degrees=40)
    torch.manual_seed(5)  # the same draw of the angle as inside augment_samples
    angle = float(torch.empty(1).uniform_(-40, 40))
    torch.testing.assert_close(X[0], v2.functional.rotate(photo, angle))


def test_crop_and_jitter_keep_shape_and_range(photo):
    X = augment_samples(photo, n=8, seed=1, **EVERYTHING)
    assert X.shape == (8, *photo.shape)
    assert X.min() >= 0 and X.max() <= 1


def test_brightness_only_scales_the_image(photo):
    dim = photo / 2  # values in [0, 0.5]: even the brightest factor 1.5 does not clip
    X = augment_samples(dim, n=4, seed=2, brightness=0.5)
    factors = []
    for x in X:
        factor = (x.sum() / dim.sum()).item()
        assert 0.5 - 1e-4 <= factor <= 1.5 + 1e-4
        torch.testing.assert_close(x, dim * factor)
        factors.append(factor)
    assert len(set(factors)) == 4, "every sample draws its own factor"


def test_pipeline_lists_only_active_transforms():
    kinds = [type(t).__name__ for t in build_augmentation(**EVERYTHING, size=(8, 8)).transforms]
    assert kinds == ["RandomResizedCrop", "RandomHorizontalFlip", "RandomRotation", "ColorJitter"]
    with pytest.raises(ValueError, match="size"):
        build_augmentation(crop_scale=0.5)
    with pytest.raises(ValueError, match="crop_scale"):
        build_augmentation(crop_scale=0)


def test_downscale_keeps_aspect_ratio():
    X = torch.rand(3, 427, 640)
    assert downscale(X, height=96).shape == (3, 96, 144)
    assert downscale(X, height=1000) is X


def test_viewer_controls_change_state(photo):
    w = augmentation_viewer(photo, n=4)
    assert set(w.controls) == {"crop_scale", "flip_p", "degrees", "brightness", "contrast",
                               "saturation", "hue", "seed", "resample"}  # fmt: skip
    assert w.state["sample_shape"] == tuple(photo.shape) and w.state["n"] == 4
    image = w.children[3].children[1]  # (the last child is the hidden aria script)
    before = image.value
    w.controls["resample"].click()
    assert w.state["seed"] == 1 and image.value != before
    w.controls["seed"].value = 0
    assert image.value == before, "the same seed draws the same samples"
    w.controls["crop_scale"].value = 1.0
    for name in ("degrees", "brightness", "contrast", "saturation"):
        w.controls[name].value = w.controls[name].min
    w.controls["flip_p"].value = 0.0
    assert w.state["transforms"] == []
    w.controls["flip_p"].value = 1.0
    assert w.state["transforms"] == ["RandomHorizontalFlip"]
    assert w.state["params"]["flip_p"] == 1.0


def test_viewer_sliders_do_not_update_while_dragging():
    w = augmentation_viewer(torch.rand(3, 20, 20))
    for control in w.controls.values():
        assert getattr(control, "continuous_update", False) is False


def test_viewer_default_photo_redraws_fast():
    w = augmentation_viewer()
    assert w.state["sample_shape"] == (3, 96, 144)
    times = []
    for _ in range(5):
        w.controls["resample"].click()
        times.append(w.last_render_s)
    assert statistics.median(times) < 0.5, times


# ------------------------------------------------------------------ architecture comparer


def _numel(builder) -> int:
    with torch.device("meta"):  # counts only: no memory for VGG's 133 M parameters
        return sum(p.numel() for p in builder().parameters())


@pytest.fixture(scope="module")
def comparer():
    from cnnkit.widgets.architecture_comparer import architecture_comparer

    return architecture_comparer()


def test_comparer_table_counts_the_builders_parameters(comparer):
    from cnnkit.models import ARCHITECTURES

    w = comparer
    w.controls["variant"].value = "small"
    w.controls["names"].value = tuple(ARCHITECTURES)
    table = w.children[1].value
    assert w.state["names"] and not w.state["missing"]
    for row in w.state["rows"]:
        expected = _numel(ARCHITECTURES[row["name"]].small)
        assert row["params"] == expected, row["name"]
        assert f">{expected:,}</td>" in table
        assert row["output_shape"] == (10,)


def test_comparer_imagenet_variant_and_missing_lenet(comparer):
    from cnnkit.models import ARCHITECTURES

    w = comparer
    w.controls["names"].value = ("LeNet-5", "AlexNet", "ResNet-18")
    chart = w.children[2].value
    w.controls["variant"].value = "imagenet"
    assert w.children[2].value != chart, "the chart should show the ImageNet numbers"
    assert w.state["missing"] == ["LeNet-5"] and "LeNet-5" in w.children[1].value
    by_name = {r["name"]: r for r in w.state["rows"]}
    assert by_name["ResNet-18"]["params"] == _numel(ARCHITECTURES["ResNet-18"].full) == 11_689_512
    assert by_name["AlexNet"]["output_shape"] == (1000,)
    assert by_name["AlexNet"]["macs"] > 5e8  # AlexNet: about 0.7 G multiply-adds per image


def test_comparer_sorts_and_reports_state(comparer):
    w = comparer
    w.controls["variant"].value = "small"
    w.controls["names"].value = ("VGG-11", "LeNet-5", "ResNet-18")
    for key, column in (("parameters", "params"), ("MACs", "macs"), ("year", "year")):
        w.controls["sort"].value = key
        values = [r[column] for r in w.state["rows"]]
        assert values == sorted(values) and w.state["sort"] == key
    assert w.state["names"] == ["LeNet-5", "VGG-11", "ResNet-18"]  # 1998, 2014, 2015


def test_comparer_handles_an_empty_choice(comparer):
    w = comparer
    image = w.children[2]
    w.controls["names"].value = ()
    assert w.state["rows"] == [] and image.value  # an empty chart, not an error


def test_comparer_rejects_unknown_variant():
    from cnnkit.widgets.architecture_comparer import architecture_comparer

    with pytest.raises(ValueError, match="variant"):
        architecture_comparer(variant="cifar")


def test_human_readable_counts():
    from cnnkit.widgets.architecture_comparer import human

    assert [human(n) for n in (512, 61_706, 100_000, 61_100_840, 7_609_090_048)] == [
        "512", "61.7 k", "100 k", "61.1 M", "7.61 G"]


def test_comparer_input_size_slider_shows_which_networks_take_any_size(comparer):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from cnnkit.models import ARCHITECTURES

    w = comparer
    w.controls["variant"].value = "small"
    w.controls["names"].value = ("LeNet-5", "ResNet-18", "EfficientNet-B0")
    w.controls["scale"].value = 150
    assert w.state["size"] == 42
    rows = {r["name"]: r for r in w.state["rows"]}
    # LeNet-5 flattens 16x5x5 features into a Linear(400, ...): no other size fits.
    assert rows["LeNet-5"]["macs"] is None and "Linear" in rows["LeNet-5"]["error"]
    assert "does not take this input size" in w.children[1].value
    # Global average pooling takes any size; MACs grow with the pixels (oracle: PyTorch).
    for name in ("ResNet-18", "EfficientNet-B0"):
        model = ARCHITECTURES[name].small().eval()
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(torch.zeros(1, 1, 42, 42))
        assert rows[name]["macs"] == counter.get_total_flops() // 2, name
        assert rows[name]["output_shape"] == (10,)
    w.controls["scale"].value = 100
    assert all(r["macs"] is not None for r in w.state["rows"])
