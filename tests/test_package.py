"""The package's lazy public namespace: every advertised name resolves and is documented."""
import importlib

import pytest

import remlib


@pytest.mark.parametrize("name", remlib.__all__)
def test_public_name_resolves_to_a_documented_object(name):
    obj = getattr(remlib, name)
    module = importlib.import_module(f"remlib.{remlib._PUBLIC[name]}")
    assert getattr(module, name) is obj
    assert (obj.__doc__ or "").strip(), f"remlib.{name} has no docstring"


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_function'"):
        remlib.not_a_function
