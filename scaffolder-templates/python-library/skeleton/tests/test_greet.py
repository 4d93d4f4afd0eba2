import pytest

import ${{ values.packageName }}
from ${{ values.packageName }} import greet


def test_greet() -> None:
    assert greet() == "Hello, world!"
    assert greet("Ada") == "Hello, Ada!"


def test_greet_refuses_a_blank_name() -> None:
    with pytest.raises(ValueError):
        greet("  ")


def test_version() -> None:
    assert ${{ values.packageName }}.__version__ == "0.1.0"
