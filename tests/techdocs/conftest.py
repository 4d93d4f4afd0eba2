"""The `techdocs_reference` fixture: Backstage's own TechDocs generator (see reference.py).

`@techdocs/cli` (npm) and a venv with `mkdocs-techdocs-core` (PyPI) are installed once,
outside the repository, under `$BACKLOT_CACHE_DIR` or `~/.cache/backlot`. Without `node`
the tests that need them skip.
"""

from __future__ import annotations

import pytest

from .reference import TechdocsReference, install_techdocs_reference


@pytest.fixture(scope="session")
def techdocs_reference() -> TechdocsReference:
    """`generate(source_dir, output_dir, site_name=None, etag=None) -> output_dir`."""
    return install_techdocs_reference()
