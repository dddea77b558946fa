"""alice: correct answers, written differently from the instructor's solution."""

# %% conv_output_shape
def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    def two(v):
        return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))

    sizes = zip(two(input_hw), two(kernel_size), two(padding), two(stride), two(dilation))
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, p, s, d in sizes)

# %% pool_output_shape
def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    def two(v):
        return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))

    stride = kernel_size if stride is None else stride
    out = []
    for n, k, s, p in zip(two(input_hw), two(kernel_size), two(stride), two(padding)):
        span = n + 2 * p - k
        size = (span + s - 1) // s + 1 if ceil_mode else span // s + 1
        if ceil_mode and (size - 1) * s >= n + p:
            size -= 1
        out.append(size)
    return tuple(out)

# %% same_padding
def same_padding(kernel_size):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return ((k_h - 1) // 2, k_h // 2, (k_w - 1) // 2, k_w // 2)

# %% conv_params_macs
def conv_params(c_i, c_o, kernel_size, bias=True):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return c_i * c_o * k_h * k_w + (c_o if bias else 0)


def conv_macs(c_i, c_o, input_hw, kernel_size, padding=0, stride=1):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    h, w = conv_output_shape(input_hw, kernel_size, padding, stride)
    return c_i * c_o * k_h * k_w * h * w

# %% lenet_shapes
def lenet_shapes(input_hw=(28, 28)):
    h, w = conv_output_shape(input_hw, 5, padding=2)
    shapes = [(6, h, w)]
    h, w = pool_output_shape((h, w), 2, 2)
    shapes.append((6, h, w))
    h, w = conv_output_shape((h, w), 5)
    shapes.append((16, h, w))
    h, w = pool_output_shape((h, w), 2, 2)
    shapes.append((16, h, w))
    return shapes

# %% written_border_pixels
With no padding a 5x5 layer takes 4 pixels off each side length, so after a few layers
nothing is left, and the edge pixels are seen by far fewer windows than the middle ones.
Zero padding keeps the size, but the kernel then sees a black frame that is not in the
picture; reflection padding avoids that by mirroring the image at its border.

# %% written_convolution_commutes
Put $c = i - a$, $d = j - b$. The map $a \mapsto i - a$ is a bijection of the integers,
so the double sum runs over the same terms:
$(f * g)(i, j) = \sum_c \sum_d f(i - c, j - d) g(c, d) = (g * f)(i, j)$.
Cross-correlation is different: swapping $f$ and $g$ gives the output mirrored,
$(g \star f)(i, j) = (f \star g)(-i, -j)$, so it does not commute.
