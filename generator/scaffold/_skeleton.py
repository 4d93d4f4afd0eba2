"""``fetch:template``, ``fetch:template:file`` and ``fetch:plain``: a skeleton folder
rendered into the workspace as Backstage's handlers render it
(``templateActionHandler.cjs.js`` in plugin-scaffolder-backend 4.3.0).

A skeleton is untrusted: nothing is ever written outside the target folder, a symbolic
link in a skeleton is refused (never followed, never read), and files larger than
``MAX_FILE_BYTES`` are refused. ``inside`` is the one check every action that names a
path in the workspace goes through.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import re
import shutil
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ._errors import OutsideWorkspace, RenderError
from ._expressions import render_text

__all__ = [
    "MAX_FILE_BYTES",
    "copy_plain",
    "inside",
    "is_binary",
    "render_file",
    "render_skeleton",
]

MAX_FILE_BYTES: Final = 10 * 1024 * 1024

# isbinaryfile 5.0.7 reads this much of a file to decide.
_SNIFF_BYTES: Final = 512
_UTF8_RESERVE: Final = 3


def inside(workspace: Path, relative: str) -> Path:
    """``relative`` within ``workspace`` as an absolute path, or OutsideWorkspace when it
    is absolute, climbs out with ``..``, or reaches outside through a symbolic link.

    The path returned names the entry itself (a symbolic link inside the workspace is
    not replaced by its target), so renaming or deleting acts on what was named."""
    if "\0" in relative:
        raise OutsideWorkspace(f"{relative!r}: a path cannot contain a NUL character")
    if posixpath.isabs(relative):
        raise OutsideWorkspace(f"{relative!r} is absolute; paths are relative to the workspace")
    normal = posixpath.normpath(relative) if relative else "."
    if normal == ".." or normal.startswith("../"):
        raise OutsideWorkspace(f"{relative!r} leaves the workspace")
    root = workspace.resolve()
    candidate = root if normal == "." else root / normal
    if not _within(candidate.resolve(), root):
        raise OutsideWorkspace(f"{relative!r} leads outside the workspace through a symbolic link")
    return candidate


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


# ---------------------------------------------------------------------------------------
# isbinaryfile, so the same files are copied rather than rendered


def is_binary(path: Path) -> bool:
    """isbinaryfile's verdict on a file, from its first 512 bytes."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES + _UTF8_RESERVE)
    return _binary_check(head)


_TEXT_BOMS: Final = (
    b"\xef\xbb\xbf",
    b"\x00\x00\xfe\xff",
    b"\xff\xfe\x00\x00",
    b"\x84\x31\x95\x33",
)


def _binary_check(head: bytes) -> bool:
    if not head:
        return False
    if head.startswith(_TEXT_BOMS):
        return False
    if head.startswith(b"%PDF-"):
        return True
    if head.startswith((b"\xfe\xff", b"\xff\xfe")):
        return False
    scan = min(len(head), _SNIFF_BYTES)
    suspicious = _suspicious_bytes(head, scan)
    if suspicious is None or suspicious * 100 / scan > 10:
        return True
    return suspicious > 1 and _looks_like_protobuf(head, scan)


def _suspicious_bytes(head: bytes, scan: int) -> int | None:
    """How many bytes are neither ASCII text nor part of a UTF-8 sequence; None as soon
    as the file is clearly binary (a NUL, or too many after the first 32 bytes)."""
    total = len(head)
    suspicious = 0
    i = 0
    while i < scan:
        byte = head[i]
        if byte == 0:
            return None
        if (byte < 7 or byte > 14) and (byte < 32 or byte > 127):
            i, valid = _utf8_sequence(head, i, total)
            if not valid:
                suspicious += 1
                if i >= 32 and suspicious * 100 / scan > 10:
                    return None
        i += 1
    return suspicious


def _continuation(head: bytes, *positions: int) -> bool:
    return all(p < len(head) and 0x80 <= head[p] <= 0xBF for p in positions)


def _utf8_sequence(head: bytes, i: int, total: int) -> tuple[int, bool]:
    """isbinaryfile's UTF-8 step from byte ``i``: the index it stops at, and whether
    the bytes it consumed were a whole sequence (it consumes one byte even when not)."""
    byte = head[i]
    if 0xC0 <= byte <= 0xDF and i + 1 < total:
        return i + 1, _continuation(head, i + 1)
    if 0xE0 <= byte <= 0xEF and i + 2 < total:
        valid = _continuation(head, i + 1, i + 2)
        return (i + 2 if valid else i + 1), valid
    if 0xF0 <= byte <= 0xF7 and i + 3 < total:
        valid = _continuation(head, i + 1, i + 2, i + 3)
        return (i + 3 if valid else i + 1), valid
    return i, False


@dataclass
class _ProtoReader:
    data: bytes
    size: int
    offset: int = 0
    error: bool = False

    def next_byte(self) -> int:
        if self.offset == self.size or self.error:
            self.error = True
            return 0xFF
        byte = self.data[self.offset]
        self.offset += 1
        return byte

    def skip(self, count: int) -> None:
        for _ in range(count):
            if self.error:
                return
            self.next_byte()

    def varint(self) -> int:
        # JavaScript's 32-bit bitwise operators, shift counts taken modulo 32.
        value, index = 0, 0
        while not self.error:
            byte = self.next_byte()
            value = (value | ((byte & 0x7F) << ((7 * index) % 32))) & 0xFFFFFFFF
            if byte & 0x80 == 0:
                break
            if index >= 10:
                self.error = True
                break
            index += 1
        return value - 2**32 if value >= 2**31 else value


def _proto_message(reader: _ProtoReader) -> bool:
    wire_type = reader.varint() & 0x7
    if wire_type == 0:
        reader.varint()
    elif wire_type == 1:
        reader.skip(8)
    elif wire_type == 2:
        reader.skip(reader.varint())
    elif wire_type == 5:
        reader.skip(4)
    else:
        return False
    return True


def _looks_like_protobuf(head: bytes, scan: int) -> bool:
    reader = _ProtoReader(head, scan)
    messages = 0
    while True:
        if not _proto_message(reader) and not reader.error:
            return False
        if reader.error:
            return messages > 0
        messages += 1


# ---------------------------------------------------------------------------------------
# globby patterns (copyWithoutTemplating)


def _expand_braces(pattern: str) -> list[str]:
    depth, start = 0, -1
    commas: list[int] = []
    for index, char in enumerate(pattern):
        if char == "{":
            if depth == 0:
                start, commas = index, []
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
            if depth == 0 and commas:
                head, tail = pattern[:start], pattern[index + 1 :]
                bounds = [start, *commas, index]
                options = [pattern[a + 1 : b] for a, b in itertools.pairwise(bounds)]
                return [x for option in options for x in _expand_braces(head + option + tail)]
        elif char == "," and depth == 1:
            commas.append(index)
    return [pattern]


def _segment_regex(segment: str) -> str:
    out, i = [], 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := segment.find("]", i + 2)) != -1:
            body = segment[i + 1 : end]
            negate = body[:1] in {"!", "^"}
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end
        elif char == "\\" and i + 1 < len(segment):
            i += 1
            out.append(re.escape(segment[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    segments = pattern.split("/")
    parts = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            parts.append(".*" if last else "(?:[^/]+/)*")
        else:
            parts.append(_segment_regex(segment) + ("" if last else "/"))
    return re.compile("".join(parts) + r"\Z")


@dataclass(frozen=True)
class _Glob:
    negative: bool
    regexes: tuple[re.Pattern[str], ...]
    literal: bool  # no magic: names a path, and so everything below it (dir-glob)

    def matches(self, path: str, *, with_ancestors: bool) -> bool:
        candidates = [path]
        if with_ancestors:
            parts = path.split("/")
            candidates += ["/".join(parts[:n]) for n in range(1, len(parts))]
        return any(regex.match(c) for regex in self.regexes for c in candidates)


def _compile_glob(pattern: str) -> _Glob:
    negative = pattern.startswith("!")
    body = pattern[1:] if negative else pattern
    body = body.removeprefix("./").rstrip("/")
    return _Glob(
        negative,
        tuple(_glob_regex(p) for p in _expand_braces(body)),
        not re.search(r"[*?[\]{}!]", body),
    )


def _not_templated(entries: Sequence[_Entry], patterns: Sequence[str]) -> set[str]:
    """globby(patterns, {dot: true}) over the skeleton: an entry is matched when a
    positive pattern matches it and no negative pattern after that one does. A negative
    pattern that matches a folder excludes what is inside; so does a positive pattern
    naming a folder literally (globby's expandDirectories)."""
    globs = [_compile_glob(p) for p in patterns]
    matched = set()
    for entry in entries:
        for index, glob in enumerate(globs):
            if glob.negative or not glob.matches(entry.path, with_ancestors=glob.literal):
                continue
            later = globs[index + 1 :]
            if not any(g.negative and g.matches(entry.path, with_ancestors=True) for g in later):
                matched.add(entry.path)
                break
    return matched


# ---------------------------------------------------------------------------------------
# Walking a skeleton


@dataclass(frozen=True)
class _Entry:
    path: str  # POSIX, relative to the skeleton, without a trailing slash
    is_dir: bool
    source: Path


def _walk(root: Path) -> list[_Entry]:
    """Every entry below ``root``, dotfiles included, folders before what they hold;
    refuses symbolic links, special files and files over the size limit."""
    return list(_walk_folder(root, ""))


def _walk_folder(folder: Path, prefix: str) -> Iterator[_Entry]:
    with os.scandir(folder) as listing:
        children = sorted(listing, key=lambda child: child.name)
    for child in children:
        relative = prefix + child.name
        info = child.stat(follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            raise OutsideWorkspace(
                f"skeleton entry {relative!r} is a symbolic link; links are not followed or "
                "copied (replace it with the file it points to)"
            )
        if stat.S_ISDIR(info.st_mode):
            yield _Entry(relative, True, Path(child.path))
            yield from _walk_folder(Path(child.path), relative + "/")
        elif stat.S_ISREG(info.st_mode):
            _check_size(relative, info.st_size)
            yield _Entry(relative, False, Path(child.path))
        else:
            raise RenderError(f"skeleton entry {relative!r} is not a regular file or folder")


def _check_size(relative: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise RenderError(
            f"skeleton file {relative!r} is {size} bytes; files over {MAX_FILE_BYTES} bytes "
            "are refused"
        )


def _check_source_folder(source: Path) -> None:
    if source.is_symlink():
        raise OutsideWorkspace(f"skeleton {source} is a symbolic link")
    if not source.is_dir():
        raise RenderError(f"skeleton {source} is not a folder")


def _check_target(target: Path, source: Path | None = None) -> Path:
    if target.is_symlink():
        raise OutsideWorkspace(f"target {target} is a symbolic link; it is not written through")
    resolved = target.resolve()
    if source is not None and _within(resolved, source.resolve()):
        raise RenderError(f"target {target} must not be within the skeleton {source}")
    return resolved


# ---------------------------------------------------------------------------------------
# Writing


def _skipped(rendered: str) -> bool:
    """Backstage leaves out an entry whose name renders empty, absolute or with ``//``
    (how ``{% if values.x %}name{% endif %}`` drops a file or a whole folder)."""
    return rendered == "" or rendered.startswith("/") or "//" in rendered


def _output_path(target: Path, entry: _Entry, rendered: str) -> Path:
    try:
        return inside(target, rendered)
    except OutsideWorkspace as error:
        raise OutsideWorkspace(
            f"skeleton entry {entry.path!r} renders to {rendered!r}, outside the target folder"
        ) from error


def _write_text(path: Path, text: str, mode: int | None) -> None:
    """As Node's fs.writeFile: the mode (less the umask) applies to a file it creates."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o666 if mode is None else mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(text.encode("utf-8"))


def _copy_bytes(source: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        raise OutsideWorkspace(f"{path} is a symbolic link; it is not written through")
    shutil.copyfile(source, path, follow_symlinks=False)
    os.chmod(path, stat.S_IMODE(source.stat().st_mode))


def _read_text(source: Path) -> str:
    # Node reads 'utf-8' with replacement characters where bytes are not UTF-8.
    return source.read_bytes().decode("utf-8", errors="replace")


def _template_extension(setting: bool | str) -> str | None:
    if setting is False or setting == "":
        return None
    extension = ".njk" if setting is True else str(setting)
    return extension if extension.startswith(".") else "." + extension


@dataclass(frozen=True)
class _Skeleton:
    context: Mapping[str, Any]
    cookiecutter: bool
    trim_blocks: bool
    lstrip_blocks: bool

    def render(self, text: str, where: str) -> str:
        return render_text(
            text,
            self.context,
            cookiecutter=self.cookiecutter,
            trim_blocks=self.trim_blocks,
            lstrip_blocks=self.lstrip_blocks,
            where=where,
        )


def render_skeleton(
    source: Path,
    target: Path,
    values: Mapping[str, Any],
    *,
    copy_without_templating: Sequence[str] = (),
    template_file_extension: bool | str = False,
    cookiecutter_compat: bool = False,
    replace: bool = False,
    trim_blocks: bool = False,
    lstrip_blocks: bool = False,
) -> list[str]:
    """Render the skeleton folder ``source`` into ``target`` as ``fetch:template`` does.
    Returns the files written, as sorted POSIX paths relative to ``target``.

    Names are always rendered; contents are rendered unless the file is binary, matches
    ``copy_without_templating``, or (with ``template_file_extension``) lacks that
    extension. Files that already exist are kept unless ``replace``. Links, special files
    and oversized files are looked for before anything is written, so such a skeleton
    writes nothing; a render error stops the render where it happens, as in Backstage."""
    if isinstance(copy_without_templating, str):
        raise RenderError("copyWithoutTemplating must be an array of glob patterns")
    extension = _template_extension(template_file_extension)
    if extension and (copy_without_templating or cookiecutter_compat):
        raise RenderError(
            "templateFileExtension cannot be combined with copyWithoutTemplating or "
            "cookiecutterCompat"
        )
    _check_source_folder(source)
    root = _check_target(target, source)
    entries = _walk(source)
    plain = _not_templated(entries, copy_without_templating)
    key = "cookiecutter" if cookiecutter_compat else "values"
    skeleton = _Skeleton({key: values}, cookiecutter_compat, trim_blocks, lstrip_blocks)
    written = set()
    for entry in entries:
        templated = entry.path not in plain
        output = _render_entry(skeleton, root, entry, extension, templated, replace)
        if output is not None:
            written.add(output.relative_to(root).as_posix())
    return sorted(written)


def _entry_name(skeleton: _Skeleton, entry: _Entry, extension: str | None) -> tuple[str, bool]:
    """The rendered name of an entry (folders end with ``/``, as globby marks them), and
    whether the extension asks for its contents to be rendered."""
    name = entry.path + ("/" if entry.is_dir else "")
    has_extension = False
    if extension is not None:
        has_extension = not entry.is_dir and posixpath.splitext(entry.path)[1] == extension
        if has_extension:
            name = name[: -len(extension)]
    return skeleton.render(name, f"the name of {entry.path!r}"), has_extension


def _render_entry(
    skeleton: _Skeleton,
    root: Path,
    entry: _Entry,
    extension: str | None,
    templated: bool,
    replace: bool,
) -> Path | None:
    """Write one entry; the file written, or None (a folder, or an entry left out)."""
    rendered, has_extension = _entry_name(skeleton, entry, extension)
    if _skipped(rendered):
        return None
    output = _output_path(root, entry, rendered)
    if output.exists() and not replace:
        return None
    try:
        if entry.is_dir:
            output.mkdir(parents=True, exist_ok=True)
            return None
        _refuse_link(output)
        if is_binary(entry.source):
            _copy_bytes(entry.source, output)
            return output
        text = _read_text(entry.source)
        render_contents = has_extension if extension is not None else templated
        if render_contents:
            text = skeleton.render(text, f"skeleton file {entry.path!r}")
        _write_text(output, text, stat.S_IMODE(entry.source.stat().st_mode))
    except OSError as error:
        raise RenderError(
            f"skeleton entry {entry.path!r}: cannot write {rendered!r}: {error}"
        ) from error
    return output


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise OutsideWorkspace(f"{path} is a symbolic link; it is not written through")


def _check_source_file(source: Path) -> None:
    if source.is_symlink():
        raise OutsideWorkspace(f"template file {source} is a symbolic link")
    if not source.is_file():
        raise RenderError(f"template file {source} is not a regular file")
    _check_size(source.name, source.stat().st_size)


def render_file(
    source: Path,
    target: Path,
    values: Mapping[str, Any],
    *,
    cookiecutter_compat: bool = False,
    replace: bool = False,
    trim_blocks: bool = False,
    lstrip_blocks: bool = False,
) -> bool:
    """``fetch:template:file``: render the one file ``source`` to the file ``target``.
    False when ``target`` exists and ``replace`` is not set (it is kept). Like Backstage,
    the file is rendered whatever its bytes, and written with the default mode."""
    _refuse_link(target)
    if target.exists() and not replace:
        return False
    _check_source_file(source)
    key = "cookiecutter" if cookiecutter_compat else "values"
    skeleton = _Skeleton({key: values}, cookiecutter_compat, trim_blocks, lstrip_blocks)
    text = skeleton.render(_read_text(source), f"template file {source.name!r}")
    try:
        _write_text(target, text, None)
    except OSError as error:
        raise RenderError(
            f"template file {source.name!r}: cannot write {target}: {error}"
        ) from error
    return True


def copy_plain(source: Path, target: Path, *, replace: bool = False) -> list[str]:
    """``fetch:plain``: copy the folder ``source`` into ``target`` byte for byte, modes
    kept. Returns the files written, sorted, relative to ``target``; files that exist
    are kept unless ``replace`` (Backstage's fetch:plain always replaces them)."""
    _check_source_folder(source)
    root = _check_target(target, source)
    written = []
    for entry in _walk(source):
        output = inside(root, entry.path)
        try:
            if entry.is_dir:
                output.mkdir(parents=True, exist_ok=True)
            elif replace or not output.exists():
                _refuse_link(output)
                _copy_bytes(entry.source, output)
                written.append(entry.path)
        except OSError as error:
            raise RenderError(f"{entry.path!r}: cannot copy: {error}") from error
    return sorted(written)
