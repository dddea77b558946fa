"""lenet_shapes pools with ceil_mode=True: right for 28x28, wrong for odd sizes."""
# kind: wrong
# fails: test_lenet_shapes_vs_torch

# %% lenet_shapes
def lenet_shapes(input_hw=(28, 28)):
    c1 = conv_output_shape(input_hw, 5, padding=2)
    p1 = pool_output_shape(c1, 2, stride=2, ceil_mode=True)
    c2 = conv_output_shape(p1, 5)
    p2 = pool_output_shape(c2, 2, stride=2, ceil_mode=True)
    return [(6, *c1), (6, *p1), (16, *c2), (16, *p2)]
