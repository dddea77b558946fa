"""Interactive widgets of the lecture notebooks (ipywidgets 8, JupyterLab 4).

One module per widget. Each module holds the pure computation the widget shows and a
factory that builds and returns the widget (it never calls ``display``), so a test can set
the controls and read the state without a browser::

    from cnnkit.widgets import conv_explorer
    w = conv_explorer()      # the last expression of a cell displays it
    w.controls["stride"].value = 2
    w.state["output_shape"]

Each factory has the name of its module; ``__all__`` lists the factories.
``accessible_box(children)`` wraps plain ipywidgets the way every widget here is wrapped for
keyboard and screen-reader use (see ``cnnkit/widgets/_a11y.py``).

The factories are imported here, eagerly: once Python has imported a submodule it binds the
module to the package under that name, so a lazy lookup would hand out the module instead
of the factory.
"""

from cnnkit.widgets._a11y import accessible_box as accessible_box  # not a factory (course/00)
from cnnkit.widgets.activation_viewer import activation_viewer  # course/07_lenet.ipynb
from cnnkit.widgets.architecture_comparer import architecture_comparer  # course/05
from cnnkit.widgets.augmentation_viewer import augmentation_viewer  # course/06
from cnnkit.widgets.channel_mixer import channel_mixer  # course/04_channels.ipynb
from cnnkit.widgets.conv_explorer import conv_explorer  # course/01
from cnnkit.widgets.kernel_playground import kernel_playground  # course/01
from cnnkit.widgets.pooling_explorer import pooling_explorer  # course/05_pooling.ipynb

__all__ = [
    "conv_explorer",
    "kernel_playground",
    "channel_mixer",
    "pooling_explorer",
    "activation_viewer",
    "architecture_comparer",
    "augmentation_viewer",
]
