"""Backstage's own verdicts on catalog files, from its npm packages (`oracle.js`).

The packages pinned in `package.json` are installed once, outside the repository,
into `$BACKLOT_NODE_CACHE` or `~/.cache/backlot/node/<sha256 of package.json>`, and
`oracle.js` runs against them through NODE_PATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_JSON = HERE / "package.json"
ORACLE_JS = HERE / "oracle.js"
NPM_INSTALL_TIMEOUT = 900
ORACLE_TIMEOUT = 600


@dataclass(frozen=True)
class Verdict:
    """Backstage's verdict on one non-empty YAML document."""

    accepted: bool
    reason: str
    entity_ref: str | None
    line: int | None = None
    end_line: int | None = None


@dataclass(frozen=True)
class FileVerdicts:
    """Backstage's verdicts on one file: one per non-empty document, in order."""

    verdicts: tuple[Verdict, ...]
    file_error: str | None

    @property
    def accepted(self) -> list[bool]:
        """Per-document verdicts; a file that could not be read counts as one rejection."""
        if self.file_error is not None:
            return [False]
        return [verdict.accepted for verdict in self.verdicts]


class BackstageOracle:
    """Runs `oracle.js` with Backstage's packages. Call it with `{id: path}`."""

    def __init__(self, node: str, node_modules: Path) -> None:
        self.node = node
        self.node_modules = node_modules

    def judge(self, files: Mapping[str, Path]) -> dict[str, FileVerdicts]:
        """Full verdicts (with Backstage's reasons) for every file, in one node run."""
        if not files:
            return {}
        items = [
            {"id": file_id, "path": str(Path(path).resolve())} for file_id, path in files.items()
        ]
        with tempfile.TemporaryDirectory(prefix="backlot-oracle-") as scratch:
            request = Path(scratch) / "files.json"
            request.write_text(json.dumps(items), encoding="utf-8")
            env = {**os.environ, "NODE_PATH": str(self.node_modules)}
            proc = subprocess.run(
                [self.node, str(ORACLE_JS), str(request)],
                capture_output=True,
                text=True,
                env=env,
                timeout=ORACLE_TIMEOUT,
                check=False,
            )
        if proc.returncode != 0:
            pytest.fail(
                f"oracle.js exited with {proc.returncode} (node_modules: {self.node_modules}; "
                f"delete that folder to reinstall):\n{proc.stderr.strip()}",
                pytrace=False,
            )
        try:
            raw = json.loads(proc.stdout)
        except json.JSONDecodeError as exc:
            pytest.fail(f"oracle.js printed no JSON ({exc}):\n{proc.stdout[:2000]}", pytrace=False)
        missing = sorted(set(files) - set(raw))
        if missing:
            pytest.fail(f"oracle.js gave no verdict for {missing}", pytrace=False)
        return {
            file_id: FileVerdicts(
                verdicts=tuple(
                    Verdict(
                        accepted=bool(v["accepted"]),
                        reason=str(v.get("reason") or ""),
                        entity_ref=v.get("entityRef"),
                        line=v.get("line"),
                        end_line=v.get("endLine"),
                    )
                    for v in raw[file_id]["verdicts"]
                ),
                file_error=raw[file_id]["fileError"],
            )
            for file_id in files
        }

    def __call__(self, files: Mapping[str, Path]) -> dict[str, list[bool]]:
        """`{id: [accepted, ...]}`: one entry per non-empty YAML document of each file."""
        return {file_id: result.accepted for file_id, result in self.judge(files).items()}
