"""lenet_shapes returns (C, W, H): right for square inputs only."""
# kind: wrong
# fails: test_lenet_shapes_vs_torch

# %% lenet_shapes
def lenet_shapes(input_hw=(28, 28)):
    shapes = []
    h, w = _pair(input_hw)
    for channels, layer in ((6, "conv1"), (6, "pool"), (16, "conv2"), (16, "pool")):
        if layer == "conv1":
            h, w = conv_output_shape((h, w), 5, padding=2)
        elif layer == "conv2":
            h, w = conv_output_shape((h, w), 5)
        else:
            h, w = pool_output_shape((h, w), 2, stride=2)
        shapes.append((channels, w, h))
    return shapes
