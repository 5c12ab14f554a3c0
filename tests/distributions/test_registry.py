"""The family registry: `names`, `get` and lazy attribute access."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import natgrad.distributions as nd
from natgrad.distributions import Distribution
from natgrad.distributions.normal import Normal


def test_names_lists_unique_registry_names() -> None:
    names = nd.names()
    assert isinstance(names, list)
    assert "normal" in names
    assert len(names) == len(set(names))
    assert all(isinstance(n, str) and n == n.lower() for n in names)
    names.append("mutated")  # a copy: callers cannot change the registry
    assert "mutated" not in nd.names()


def test_get_by_name_returns_the_family_class() -> None:
    family = nd.get("normal")
    assert family is Normal
    assert issubclass(family, Distribution)
    assert family.name == "normal"


def test_get_passes_a_class_through() -> None:
    assert nd.get(Normal) is Normal

    class Custom(Normal):
        pass

    assert nd.get(Custom) is Custom  # unregistered subclasses too


@pytest.mark.parametrize("bad", ["gaussian", "Normal", "", "normal ", 3, None, Normal(0.0, 1.0)])
def test_get_unknown_name_names_the_argument_and_the_choices(bad) -> None:
    with pytest.raises(ValueError, match="'distribution'") as info:
        nd.get(bad)
    message = str(info.value)
    assert "'normal'" in message  # the valid choices are listed
    assert repr(bad) in message  # and what was given


def test_get_rejects_non_distribution_classes() -> None:
    with pytest.raises(ValueError, match="'distribution'"):
        nd.get(int)


def test_lazy_attribute_access() -> None:
    assert nd.Normal is Normal
    assert "Normal" in nd.__all__
    assert "get" in nd.__all__ and "names" in nd.__all__


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Gaussian'"):
        nd.Gaussian  # noqa: B018
    assert not hasattr(nd, "not_a_family")
    assert getattr(nd, "Gaussian", None) is None  # the default of getattr still works


def test_registry_names_match_class_names_and_modules() -> None:
    # Static consistency of the table itself: needs no family module to exist.
    for name, (module, cls) in nd._FAMILIES.items():
        assert module == name
        assert cls in nd.__all__
        assert cls[0].isupper()


def test_importing_the_package_loads_no_family_module() -> None:
    code = (
        "import sys, natgrad.distributions as nd; "
        "loaded = [m for m in sys.modules if m.startswith('natgrad.distributions.') "
        "and not m.split('.')[-1].startswith('_')]; print(loaded)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_get_returns_the_same_class_as_a_direct_import() -> None:
    module = importlib.import_module("natgrad.distributions.normal")
    assert nd.get("normal") is module.Normal is nd.Normal
