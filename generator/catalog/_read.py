"""One descriptor file → its YAML documents, or one clear error about the file."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..sources import FileTooLarge, RepositoryError
from ._yaml import YamlDocument, load_yaml_stream

__all__ = [
    "FileProblem",
    "ReadFile",
    "parse_descriptor_bytes",
    "unreadable_file",
]

_UTF16_32_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


@dataclass(frozen=True)
class FileProblem:
    rule: str
    message: str
    line: int = 1
    column: int = 1
    severity: str = "error"


@dataclass
class ReadFile:
    text: str = ""
    documents: list[YamlDocument] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        """The file could not be read as YAML at all, or one of its documents not."""
        return any(p.severity == "error" for p in self.problems) or any(
            d.error is not None for d in self.documents
        )


def unreadable_file(exc: RepositoryError) -> ReadFile:
    """A file the repository would not give: the one problem that says why."""
    rule = "file/too-large" if isinstance(exc, FileTooLarge) else "file/unreadable"
    return ReadFile(problems=[FileProblem(rule, str(exc))])


def parse_descriptor_bytes(data: bytes) -> ReadFile:
    result = ReadFile()
    text = _decode(data, result)
    if text is None:
        return result
    result.text = text
    result.documents = load_yaml_stream(text)
    return result


def _decode(data: bytes, result: ReadFile) -> str | None:
    for bom, encoding in _UTF16_32_BOMS.items():
        if data.startswith(bom):
            result.problems.append(
                FileProblem(
                    "file/encoding",
                    f"the file is {encoding}; descriptors must be UTF-8, "
                    "which is how Backstage reads them",
                )
            )
            return None
    nul = data.find(b"\x00", 0, 8192)
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        result.problems.append(
            FileProblem(
                "file/binary",
                "this is a binary file (it contains NUL bytes), not a YAML descriptor",
                line=line,
            )
        )
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        # Backstage decodes with replacement characters and goes on; so do we, but say so.
        result.problems.append(
            FileProblem(
                "file/encoding",
                f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); "
                "invalid bytes were read as U+FFFD, as Backstage does — save the file as UTF-8",
                line=line,
                column=column,
                severity="warning",
            )
        )
        text = data.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff")
