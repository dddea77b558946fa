"""``from cnnkit.widgets import <factory>`` gives the factory, whatever was imported first."""

import importlib
import subprocess
import sys

import cnnkit.widgets

FACTORIES = cnnkit.widgets.__all__


def test_seven_widgets_each_a_callable_factory():
    assert len(FACTORIES) == 7
    for name in FACTORIES:
        factory = getattr(cnnkit.widgets, name)
        assert callable(factory) and factory.__name__ == name
        assert importlib.import_module(f"cnnkit.widgets.{name}").__dict__[name] is factory


def test_importing_a_submodule_first_does_not_shadow_the_factory():
    code = (
        "import importlib\n"
        "m = importlib.import_module('cnnkit.widgets.conv_explorer')\n"
        "from cnnkit.widgets import conv_explorer\n"
        "assert conv_explorer is m.conv_explorer, conv_explorer\n"
        "w = conv_explorer()\n"
        "assert w.state['output_shape'] == w.state['torch_shape']\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
