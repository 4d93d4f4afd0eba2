"""What a crawl keeps between runs, by content: blobs by their git id, tree listings by
theirs, docs folders by the git id of their tree, and each source's artifact (what was
found where, and at which commit). Content-addressed, so nothing is fetched twice and an
unchanged docs folder is neither fetched nor rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from ..files import write_atomic
from ._repository import is_git_path

__all__ = ["CrawlStore", "git_tree_oid"]

MAX_FOLDER_BYTES = 1024 * 1024 * 1024
MAX_FOLDER_FILES = 20_000


class CrawlStore:
    def __init__(self, root: Path) -> None:
        # Absolute: the paths handed out (docs folders) are read from other working
        # directories (mkdocs resolves its docs_dir against the config's folder).
        self.root = root.absolute()

    # ------------------------------------------------------------------ blobs

    def _blob_path(self, oid: str) -> Path:
        return self.root / "blobs" / oid[:2] / oid

    def has_blob(self, oid: str) -> bool:
        return self._blob_path(oid).is_file()

    def blob(self, oid: str) -> bytes | None:
        try:
            return self._blob_path(oid).read_bytes()
        except OSError:
            return None

    def put_blob(self, oid: str, data: bytes) -> None:
        write_atomic(self._blob_path(oid), data)

    # ------------------------------------------------------------------ trees

    def tree(self, oid: str) -> list[dict[str, Any]] | None:
        try:
            data = json.loads((self.root / "trees" / f"{oid}.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, list) else None

    def put_tree(self, oid: str, entries: list[dict[str, Any]]) -> None:
        write_atomic(self.root / "trees" / f"{oid}.json", json.dumps(entries).encode())

    # ------------------------------------------------------------------ folders

    def folder(self, oid: str) -> Path | None:
        path = self.root / "folders" / oid
        return path if path.is_dir() else None

    def put_folder_from_tarball(self, tarball: Path, folder: str) -> tuple[str, Path]:
        """Extract ``folder`` of a repository tarball (GitHub's: one top directory); keep it
        by the git id of its tree. Only regular files and folders are extracted: no link,
        device or path that leaves the folder, nothing in ``.git``."""
        scratch = Path(tempfile.mkdtemp(prefix="folder-", dir=self._scratch()))
        try:
            target = scratch / "tree"
            target.mkdir()
            _extract(tarball, folder, target)
            oid = git_tree_oid(target)
            final = self.root / "folders" / oid
            if not final.is_dir():
                final.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(OSError):  # another process put the same tree
                    os.replace(target, final)
            return oid, final
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _scratch(self) -> Path:
        path = self.root / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def scratch_file(self, suffix: str) -> Path:
        fd, name = tempfile.mkstemp(suffix=suffix, dir=self._scratch())
        os.close(fd)
        return Path(name)

    def folder_ids(self, repository: str, commit: str) -> dict[str, str]:
        """The folders of ``repository`` at ``commit`` already fetched: folder → tree id."""
        data = self.artifact(f"folder-ids/{_key(repository, commit)}")
        return {k: v for k, v in data.items() if isinstance(v, str)}

    def put_folder_ids(self, repository: str, commit: str, folders: dict[str, str]) -> None:
        self.put_artifact(f"folder-ids/{_key(repository, commit)}", folders)

    # ------------------------------------------------------------------ history

    def history(self, repository: str) -> dict[str, tuple[str, str]]:
        """When files of ``repository`` last changed, as learnt before: path → (the blob
        id it had then, the committer date, or "" when it could not be known). Valid while
        the file still has that blob id."""
        data = self.artifact(f"history/{hashlib.sha1(repository.encode()).hexdigest()}")
        entries = data.get("files") if data.get("repository") == repository else None
        return {
            str(path): (str(entry[0]), str(entry[1] or ""))
            for path, entry in (entries or {}).items()
            if isinstance(entry, list) and len(entry) == 2 and entry[0]
        }

    def put_history(self, repository: str, files: dict[str, tuple[str, str]]) -> None:
        self.put_artifact(
            f"history/{hashlib.sha1(repository.encode()).hexdigest()}",
            {"repository": repository, "files": {p: list(e) for p, e in sorted(files.items())}},
        )

    # ------------------------------------------------------------------ artifacts

    def artifact(self, name: str) -> dict[str, Any]:
        try:
            data = json.loads((self.root / f"{name}.json").read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def put_artifact(self, name: str, data: dict[str, Any]) -> None:
        write_atomic(
            self.root / f"{name}.json", json.dumps(data, indent=1, sort_keys=True).encode()
        )


def _key(repository: str, commit: str) -> str:
    return hashlib.sha1(f"{repository}@{commit}".encode()).hexdigest()


def _extract(tarball: Path, folder: str, target: Path) -> None:
    prefix = "" if folder in ("", ".") else folder.strip("/") + "/"
    files = 0
    total = 0
    with tarfile.open(tarball, "r:*") as archive:
        for member in archive:
            parts = member.name.split("/", 1)
            if len(parts) < 2:
                continue  # the top directory itself
            inner = parts[1]
            if not inner.startswith(prefix) or inner == prefix.rstrip("/"):
                continue
            relative = inner[len(prefix) :].rstrip("/")
            path = PurePosixPath(relative)
            if not relative or path.is_absolute() or ".." in path.parts or is_git_path(relative):
                continue
            if member.isdir():
                (target / relative).mkdir(parents=True, exist_ok=True)
                continue
            if not member.isreg():
                continue  # links and devices: never materialised
            files += 1
            total += member.size
            if files > MAX_FOLDER_FILES or total > MAX_FOLDER_BYTES:
                raise OSError("the docs folder is too large to fetch")
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            if source is None:
                continue
            with source, destination.open("wb") as handle:
                shutil.copyfileobj(source, handle)
            if member.mode & 0o111:
                destination.chmod(0o755)


def git_tree_oid(folder: Path) -> str:
    """The git id of the tree ``folder`` holds (regular files and folders, as git hashes
    them), so a folder fetched once is recognised by the id GitHub reports for it."""
    entries: list[tuple[str, bytes, bytes]] = []
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            mode = b"40000"
            oid = git_tree_oid(Path(entry.path))
            sort_name = entry.name + "/"
        elif entry.is_file(follow_symlinks=False):
            executable = os.stat(entry.path).st_mode & stat.S_IXUSR
            mode = b"100755" if executable else b"100644"
            data = Path(entry.path).read_bytes()
            oid = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            sort_name = entry.name
        else:
            continue
        entries.append((sort_name, mode + b" " + entry.name.encode() + b"\0", bytes.fromhex(oid)))
    body = b"".join(head + raw for _, head, raw in sorted(entries))
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()
