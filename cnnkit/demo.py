"""The main job of ``make demo``: train LeNet on the offline MNIST digits.

Run ``python -m cnnkit.demo --help`` for the options. It prints the layer-by-layer
shape summary, trains with a progress bar, and prints the final test accuracy.
"""

from __future__ import annotations

import argparse
import sys

from cnnkit.data import DATASETS, dataloaders
from cnnkit.models import lenet5
from cnnkit.summarize import ShapeMismatchError, summary
from cnnkit.train import device_name, fit, set_seed, try_gpu


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cnnkit.demo",
        description="Train LeNet-5 on offline data and report its test accuracy.",
    )
    parser.add_argument("--dataset", default="mnist-5k", choices=DATASETS,
                        help="dataset to train on (default: %(default)s, ships offline)")
    parser.add_argument("--activation", default="relu", choices=("relu", "sigmoid"),
                        help="LeNet activation (default: %(default)s)")
    parser.add_argument("--pool", default="max", choices=("max", "avg"),
                        help="LeNet pooling (default: %(default)s)")
    parser.add_argument("--optimizer", default="adam", choices=("adam", "sgd", "adamw"),
                        help="optimizer (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=2e-3,
                        help="learning rate (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=64,
                        help="batch size (default: %(default)s)")
    parser.add_argument("--subset", type=int, default=None,
                        help="train on this many images only (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    set_seed(args.seed)
    train_loader, test_loader = dataloaders(args.dataset, args.batch_size, seed=args.seed,
                                            subset=args.subset)
    image_shape = tuple(train_loader.dataset[0][0].shape)  # (C, H, W) of one example
    model = lenet5(activation=args.activation, pool=args.pool, in_channels=image_shape[0])
    print(f"LeNet-5 ({args.activation} + {args.pool} pooling) on {args.dataset}: "
          f"{len(train_loader.dataset):,} training / {len(test_loader.dataset):,} test images")
    try:
        print(summary(model, image_shape))
    except ShapeMismatchError as error:
        print(f"LeNet-5 does not fit {args.dataset}'s {image_shape} images:\n{error}",
              file=sys.stderr)
        return 2
    device = try_gpu()
    print(f"training for {args.epochs} epochs on {device_name(device)} "
          f"({args.optimizer}, lr {args.lr}, batch size {args.batch_size})")
    history = fit(model, train_loader, test_loader, num_epochs=args.epochs, lr=args.lr,
                  optimizer=args.optimizer, device=device, progress=not args.no_progress)
    for epoch in range(history.num_epochs):
        print(f"  epoch {epoch + 1}: train loss {history.train_loss[epoch]:.4f}, "
              f"train acc {history.train_acc[epoch]:.4f}, test acc {history.test_acc[epoch]:.4f}, "
              f"{history.examples_per_sec[epoch]:,.0f} examples/s")
    print(f"final test accuracy: {history.test_acc[-1]:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
