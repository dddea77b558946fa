"""See what a trained LeNet computes: its feature maps for a test image (``07_lenet``).

The pure part runs the layers of an ``nn.Sequential`` one after the other and keeps every
intermediate output (:func:`layer_outputs`), names the layers whose outputs are images
(:func:`feature_map_layers`) and tiles a layer's maps into one picture
(:func:`feature_map_grid`). The widget runs the model ONCE per chosen image and caches
the result: switching layers or the normalization only redraws.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any, Literal

import ipywidgets as widgets
import torch
from torch import nn
from torch.utils.data import Dataset, Subset, TensorDataset

from cnnkit.lazy_layers import has_lazy, materialize
from cnnkit.widgets._a11y import AltImage
from cnnkit.widgets._base import Explorer, array_png

__all__ = [
    "activation_viewer",
    "describe_activations",
    "feature_map_grid",
    "feature_map_layers",
    "layer_outputs",
    "predict",
]

# Layers that keep an image an image: elementwise activations, pooling, normalization.
_SPATIAL = (
    nn.Sigmoid, nn.ReLU, nn.Tanh, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.ELU,
    nn.modules.pooling._AvgPoolNd, nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd,
    nn.modules.batchnorm._BatchNorm, nn.Dropout2d,
)  # fmt: skip
_KINDS = {nn.Conv2d: "conv", nn.AvgPool2d: "avgpool", nn.MaxPool2d: "maxpool",
          nn.BatchNorm2d: "batchnorm"}  # fmt: skip


def _check_sequential(model: nn.Module) -> nn.Sequential:
    if not isinstance(model, nn.Sequential):
        raise TypeError(
            f"the activation viewer runs the layers of an nn.Sequential one by one (such as "
            f"cnnkit.models.lenet5()), got {type(model).__name__}"
        )
    return model


def feature_map_layers(model: nn.Sequential) -> list[str]:
    """Names of the layers whose outputs are feature maps ``(C, H, W)``, in order.

    A layer is named by its kind and the convolution it belongs to: LeNet-5 gives
    ``["conv1", "sigmoid1", "avgpool1", "conv2", "sigmoid2", "avgpool2"]``. The list
    stops at the first layer that is not a convolution, activation or pooling (LeNet's
    ``Flatten``). A lazy layer is named as what it becomes (``nn.LazyConv2d``: ``conv``).
    """
    names, stage = [], 0
    for layer in _check_sequential(model):
        if isinstance(layer, nn.modules.conv._ConvNd):
            stage += 1
        elif not isinstance(layer, _SPATIAL):
            break
        kind = getattr(layer, "cls_to_become", None) or type(layer)  # LazyConv2d -> Conv2d
        names.append(f"{_KINDS.get(kind, kind.__name__.lower())}{stage}")
    return names




@torch.no_grad()
def layer_outputs(model: nn.Sequential, X: torch.Tensor) -> list[torch.Tensor]:
    """Run ``X`` through the layers of ``model`` one by one, in ``eval()`` mode.

    Args:
        model: an ``nn.Sequential`` (its training mode is restored afterwards).
        X: a batch ``(N, C, H, W)`` on any device; moved to the model's device.

    Returns:
        ``outputs[i]`` is the output of layer ``i`` on the CPU; ``outputs[-1]`` is what
        ``model(X)`` returns (the logits ``(N, num_classes)`` of a classifier).
    """
    param = next(_check_sequential(model).parameters(), None)
    Y = X.to(param.device) if param is not None else X
    if has_lazy(model):  # initialized by one pass that explains a wrong shape
        materialize(model, Y)
    was_training = model.training
    model.eval()
    outputs = []
    try:
        for layer in model:
            Y = layer(Y)
            outputs.append(Y.detach().cpu())
    finally:
        model.train(was_training)
    return outputs


def predict(logits: torch.Tensor) -> tuple[int, float]:
    """Class and softmax probability of the most likely class, for logits ``(num_classes,)``."""
    probs = torch.softmax(logits.float(), dim=-1)
    p, y_hat = probs.max(dim=-1)
    return int(y_hat), float(p)


def feature_map_grid(
    maps: torch.Tensor,
    *,
    normalize: Literal["each", "layer"] = "each",
    columns: int = 8,
    size: int = 84,
    gap: int = 3,
) -> torch.Tensor:
    """Tile feature maps ``(C, H, W)`` into one grey picture, each map enlarged to ~``size``.

    Args:
        maps: the ``C`` maps of one example.
        normalize: ``"each"`` stretches every map to ``[0, 1]`` on its own (shows patterns);
            ``"layer"`` uses the min and max of the whole layer (shows which maps are strong).
        columns: maps per row.
        size: maps are enlarged by an integer factor (nearest neighbour) to about this many
            pixels.
        gap: white pixels between maps.

    Returns:
        A float tensor ``(rows * (H * f + gap) + gap, cols * (W * f + gap) + gap)`` in ``[0, 1]``.
    """
    C, H, W = maps.shape
    maps = maps.float()
    if normalize == "each":
        lo = maps.amin(dim=(1, 2), keepdim=True)  # (C, 1, 1)
        hi = maps.amax(dim=(1, 2), keepdim=True)
    elif normalize == "layer":
        lo, hi = maps.min(), maps.max()
    else:
        raise ValueError(f"normalize must be 'each' or 'layer', got {normalize!r}")
    maps = torch.where(hi > lo, (maps - lo) / (hi - lo).clamp_min(1e-12), torch.zeros_like(maps))
    f = max(1, size // max(H, W))
    maps = maps.repeat_interleave(f, dim=1).repeat_interleave(f, dim=2)  # (C, H*f, W*f)
    cols = min(columns, C)
    rows = -(-C // cols)
    h, w = H * f + gap, W * f + gap
    grid = torch.ones(rows * h + gap, cols * w + gap)
    for c in range(C):
        r, k = divmod(c, cols)
        grid[gap + r * h : (r + 1) * h, gap + k * w : (k + 1) * w] = maps[c]
    return grid


def _class_names(dataset: Dataset) -> list[str] | None:
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    classes = getattr(dataset, "classes", None)
    return list(classes) if classes else None


def _labels(dataset: Dataset) -> torch.Tensor | None:
    """All labels ``(N,)`` without decoding images, where the dataset keeps them apart."""
    if isinstance(dataset, Subset):
        labels = _labels(dataset.dataset)
        return None if labels is None else labels[torch.as_tensor(dataset.indices)]
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[1]
    targets = getattr(dataset, "targets", None)
    return None if targets is None else torch.as_tensor(targets)


def _one_per_class(dataset: Dataset, limit: int = 500) -> list[int]:
    """Index of the first example of each class (among the first ``limit`` if labels are hidden)."""
    labels = _labels(dataset)
    if labels is None:
        labels = torch.tensor([int(dataset[i][1]) for i in range(min(limit, len(dataset)))])
    first: dict[int, int] = {}
    for i, y in enumerate(labels.tolist()):
        first.setdefault(int(y), i)
    return [first[c] for c in sorted(first)]


def describe_activations(state: dict[str, Any], *, columns: int = 8) -> dict[str, str]:
    """What the activation viewer's two pictures show, in words, from its state.

    Returns:
        ``image`` and ``maps``: text alternatives of the test image and of the tiled
        feature maps; ``text``: one paragraph shown beside them.
    """
    C, H, W = state["shape"]
    verdict = "correct" if state["correct"] else "wrong"
    means = state["map_means"]
    strongest = sorted(range(C), key=lambda c: -means[c])[: min(3, C)]
    scale = ("each map stretched to its own range" if state["normalize"] == "each"
             else "one brightness scale for the whole layer")  # fmt: skip
    maps = (f"{C} feature maps of layer {state['layer']}, each {H}×{W}, tiled "
            f"{min(columns, C)} per row, left to right and top to bottom, grey ({scale}; "
            f"bright = large). Largest mean value: map{'s' if len(strongest) > 1 else ''} "
            f"{', '.join(map(str, strongest))}.")  # fmt: skip
    return {
        "image": f"Test image #{state['index']}, labelled {state['label_name']}.",
        "maps": maps,
        "text": (f"Test image #{state['index']}, true class {state['label_name']}, predicted "
                 f"{state['prediction_name']} ({state['probability']:.1%}): {verdict}. "
                 f"{maps}"),
    }


def activation_viewer(
    model: nn.Module,
    dataset: Dataset,
    *,
    indices: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
) -> Explorer:
    """Feature maps of a trained ``nn.Sequential`` CNN for chosen images (``07_lenet``).

    Args:
        model: e.g. a trained ``cnnkit.models.lenet5()``; it is run in ``eval()`` mode.
        dataset: yields ``(X, y)`` with ``X`` of shape ``(C, H, W)``, e.g. the test set.
        indices: the examples to offer; default: the first example of each class.
        class_names: ``class_names[y]`` names label ``y``; default: the dataset's
            ``classes`` if it has them, else the label number.

    Returns:
        An :class:`Explorer` with controls ``"index"`` (the example), ``"layer"`` (a name
        from :func:`feature_map_layers`) and ``"normalize"`` (``"each"``/``"layer"``), and
        state keys ``index``, ``label``, ``label_name``, ``prediction``,
        ``prediction_name``, ``probability``, ``correct``, ``layer``, ``shape`` (the
        layer's ``(C, H, W)``), ``forward_passes`` (images run through the model),
        ``normalize``, ``map_means`` (each map's mean) and ``description``.
    """
    layers = feature_map_layers(_check_sequential(model))
    if not layers:
        raise ValueError("the model has no convolution layers to show")
    indices = list(indices) if indices is not None else _one_per_class(dataset)
    if not indices:
        raise ValueError("indices is empty: choose at least one example")
    if has_lazy(model):  # lazy layers: initialized with the first chosen image
        materialize(model, dataset[indices[0]][0].unsqueeze(0))
    names = list(class_names) if class_names is not None else _class_names(dataset)

    def name(y: int) -> str:
        return names[y] if names is not None and 0 <= y < len(names) else str(y)

    cache: dict[int, tuple[torch.Tensor, int, list[torch.Tensor]]] = {}  # i -> (X, y, outputs)

    def run(i: int) -> tuple[torch.Tensor, int, list[torch.Tensor]]:
        if i not in cache:  # the only place the model runs: once per image
            X, y = dataset[i]
            cache[i] = (X, int(y), [Y[0] for Y in layer_outputs(model, X.unsqueeze(0))])
        return cache[i]

    # A slider through the chosen images; the model runs once per image (see `run`), and
    # only when the slider is released.
    index = widgets.SelectionSlider(options=[(f"#{i}", i) for i in indices], value=indices[0],
                                    description="test image", continuous_update=False)  # fmt: skip
    layer = widgets.Dropdown(options=layers, value=layers[0], description="layer")
    normalize = widgets.ToggleButtons(options=[("each map", "each"), ("whole layer", "layer")],
                                      value="each", description="scale")  # fmt: skip
    image = AltImage()
    caption = widgets.HTML()
    maps_image = AltImage()
    maps_caption, described = widgets.HTML(), widgets.HTML()

    def render() -> dict[str, Any]:
        i = index.value
        X, y, outputs = run(i)
        y_hat, p = predict(outputs[-1])
        maps = outputs[layers.index(layer.value)]  # (C, H, W)
        image.value = array_png(X[0] if X.shape[0] == 1 else X, scale=max(1, 112 // X.shape[-1]))
        maps_image.value = array_png(feature_map_grid(maps, normalize=normalize.value))
        # Okabe-Ito blue / vermillion, and the verdict in words: not colour alone.
        color, verdict = ("#0072B2", "✓ correct") if y_hat == y else ("#D55E00", "✗ wrong")
        caption.value = (f"true: <b>{name(y)}</b><br>predicted: "
                         f"<b style='color:{color}'>{name(y_hat)}</b> ({p:.1%}): "
                         f"<b style='color:{color}'>{verdict}</b>")  # fmt: skip
        C, H, W = maps.shape
        maps_caption.value = (f"<b>{layer.value}</b>: {C} feature maps of {H}&times;{W} "
                              f"(bright = large value)")  # fmt: skip
        state = {"index": i, "label": y, "label_name": name(y), "prediction": y_hat,
                 "prediction_name": name(y_hat), "probability": p, "correct": y_hat == y,
                 "layer": layer.value, "shape": (C, H, W), "forward_passes": len(cache),
                 "normalize": normalize.value,
                 "map_means": maps.float().mean(dim=(1, 2)).tolist()}  # fmt: skip
        words = describe_activations(state)
        image.alt, maps_image.alt = words["image"], words["maps"]
        described.value = f"<p>{html.escape(words['text'])}</p>"
        return {**state, "description": words["text"]}

    controls = {"index": index, "layer": layer, "normalize": normalize}
    return Explorer(
        controls,
        [widgets.HBox([index, layer]), normalize,
         widgets.HBox([widgets.VBox([image, caption]), widgets.VBox([maps_caption, maps_image])]),
         described],
        render,
    )  # fmt: skip
