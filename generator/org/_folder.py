"""The org's descriptors written into a folder — an org repository (``backlot org sync``) or
the build's cache (an org catalog source) — writing only files whose bytes changed and
deleting only files an earlier sync wrote, behind a guard: a sync that finds far fewer
groups or users than the last one (a broken filter, a revoked permission) refuses to
delete them unless forced."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..files import write_atomic
from ._render import GROUPS_DIR, USERS_DIR

__all__ = ["MANIFEST", "FolderSync", "last_sync", "sync_folder"]

MANIFEST = ".backlot-org.json"


@dataclass
class FolderSync:
    """What one sync did to a folder, or why it refused to."""

    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    groups: int = 0
    users: int = 0
    refused: str = ""  # the guard's reason; nothing was written

    def summary(self) -> str:
        if self.refused:
            return f"refused: {self.refused}"
        return (
            f"{self.groups} groups, {self.users} users: {len(self.written)} files written, "
            f"{self.unchanged} unchanged, {len(self.removed)} removed"
        )


def last_sync(folder: Path) -> dict[str, object]:
    """The manifest of the last sync into ``folder`` ({} when there was none)."""
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def sync_folder(
    folder: Path,
    files: dict[str, bytes],
    source: str,
    *,
    max_shrink: float,
    force: bool = False,
    now: datetime | None = None,
) -> FolderSync:
    """Make ``folder`` hold exactly ``files`` of this sync (other files are left alone)."""
    groups = sum(1 for p in files if p.startswith(GROUPS_DIR))
    users = sum(1 for p in files if p.startswith(USERS_DIR))
    before = last_sync(folder)
    result = FolderSync(groups=groups, users=users)
    if not force:
        for what, now_count in (("groups", groups), ("users", users)):
            then = before.get(what)
            if isinstance(then, int) and then and now_count < then * (1 - max_shrink):
                result.refused = (
                    f"{source} gave {now_count} {what}, the last sync {then}: more than "
                    f"{max_shrink:.0%} fewer looks like a broken filter or a revoked "
                    "permission, so nothing was deleted (force the sync if it is right)"
                )
                return result
    folder.mkdir(parents=True, exist_ok=True)
    for relpath, data in sorted(files.items()):
        path = folder / relpath
        try:
            if path.read_bytes() == data:
                result.unchanged += 1
                continue
        except OSError:
            pass
        write_atomic(path, data)
        result.written.append(relpath)
    ours = before.get("files")
    for relpath in ours if isinstance(ours, list) else []:
        if not isinstance(relpath, str) or relpath in files:
            continue
        path = folder / relpath
        # Only files a sync wrote, and only inside the folder.
        if ".." in relpath.split("/") or relpath.startswith("/") or path.is_symlink():
            continue
        if path.is_file():
            path.unlink()
            result.removed.append(relpath)
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    manifest = {
        "version": 1,
        "source": source,
        "syncedAt": stamp,
        "groups": groups,
        "users": users,
        "files": sorted(files),
    }
    write_atomic(folder / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    return result
