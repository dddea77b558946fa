"""lenet_shapes pads the second convolution too (16x14x14 instead of 16x10x10)."""
# kind: wrong
# fails: test_lenet_shapes_28 test_lenet_shapes_vs_torch

# %% lenet_shapes
def lenet_shapes(input_hw=(28, 28)):
    c1 = conv_output_shape(input_hw, 5, padding=2)
    p1 = pool_output_shape(c1, 2, stride=2)
    c2 = conv_output_shape(p1, 5, padding=2)
    p2 = pool_output_shape(c2, 2, stride=2)
    return [(6, *c1), (6, *p1), (16, *c2), (16, *p2)]
