"""The `backstage_oracle` fixture: Backstage's own verdicts, from its npm packages.

The packages pinned in `package.json` are installed once, outside the repository,
into `$BACKLOT_NODE_CACHE` or `~/.cache/backlot/node/<sha256 of package.json>`
(see `backstage.py`). Without `node` the tests skip.
"""

from __future__ import annotations

import shutil

import pytest

from ..npm import install_npm_packages
from .backstage import PACKAGE_JSON, BackstageOracle


@pytest.fixture(scope="session")
def backstage_oracle() -> BackstageOracle:
    """Backstage's verdicts per YAML document: `oracle({id: path}) -> {id: [bool, ...]}`."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: Backstage's verdicts come from its npm packages")
    node_modules = install_npm_packages(PACKAGE_JSON)
    return BackstageOracle(node, node_modules)
