"""Model builders in torchvision's style: one keyword-only builder per variant.

LeNet-5 (``course/07_lenet.ipynb``), and the modern CNNs of
``course/10_modern_cnns.ipynb``: each family has a full builder with torchvision's
layers for ``(3, 224, 224)`` images and a ``_small`` builder for ``(1, 28, 28)`` images,
plus its building blocks. :data:`ARCHITECTURES` and :func:`compare` put them side by side.
"""

from cnnkit.models.alexnet_vgg import alexnet, alexnet_small, vgg11, vgg11_small, vgg_block
from cnnkit.models.efficientnet import (
    MBConv,
    SqueezeExcitation,
    efficientnet_b0,
    efficientnet_b0_small,
    efficientnet_scaled,
)
from cnnkit.models.lenet import lenet5
from cnnkit.models.nin_googlenet import (
    Inception,
    googlenet,
    googlenet_small,
    nin,
    nin_block,
    nin_small,
)
from cnnkit.models.resnet_densenet import (
    DenseBlock,
    Residual,
    densenet121,
    densenet121_small,
    resnet18,
    resnet18_small,
    transition_block,
)
from cnnkit.models.zoo import ARCHITECTURES, Architecture, compare

__all__ = [
    # builders, in the order of the lectures
    "lenet5",
    "alexnet",
    "alexnet_small",
    "vgg11",
    "vgg11_small",
    "nin",
    "nin_small",
    "googlenet",
    "googlenet_small",
    "resnet18",
    "resnet18_small",
    "densenet121",
    "densenet121_small",
    "efficientnet_b0",
    "efficientnet_b0_small",
    "efficientnet_scaled",
    # building blocks
    "vgg_block",
    "nin_block",
    "Inception",
    "Residual",
    "DenseBlock",
    "transition_block",
    "MBConv",
    "SqueezeExcitation",
    # side by side
    "ARCHITECTURES",
    "Architecture",
    "compare",
]
