"""Model builders in torchvision's style: one keyword-only builder per variant."""

from cnnkit.models.lenet import lenet5

__all__ = ["lenet5"]
