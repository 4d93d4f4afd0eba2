"""The publish manifest: one object in the bucket that says what the portal's publish
wrote there (key → sha256, size, type, cache), so the next publish reads it with one GET
instead of listing and trusting ETags, which are not content hashes for multipart or KMS
uploads.

It is also the publish's claim of ownership: only keys it lists (in ``files`` or
``pending``) are ever deleted, so objects others put in the bucket, the TechDocs that
repositories publish in external mode above all, are never touched. ``pending`` holds the
keys a publish was about to write or delete when it wrote the manifest: a publish killed
halfway leaves them there, and the next one re-uploads those it wants and deletes the rest.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._s3 import PublishError

__all__ = ["MANIFEST_KEY", "ManifestError", "PublishManifest", "PublishedFile"]

MANIFEST_KEY = "_backlot/publish.json"  # below the portal's prefix


class ManifestError(PublishError):
    """The bucket's manifest exists but cannot be read as one."""


class PublishedFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    sha256: str
    size: int
    type: str
    cache: str


class PublishManifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    schema_version: Literal[1] = Field(default=1, alias="schemaVersion")
    generator: str = ""
    entities: int | None = None  # the catalog's size at the last publish (the guard's)
    files: dict[str, PublishedFile] = Field(default_factory=dict)
    pending: tuple[str, ...] = ()
    # CDN paths a publish changed but could not invalidate yet (limits, a refusal).
    cdn_pending: tuple[str, ...] = ()

    def owned(self) -> set[str]:
        return set(self.files) | set(self.pending)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True, indent=1).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> PublishManifest:
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise ManifestError(
                f"{where} is not a Backlot publish manifest ({exc.error_count()} problems, "
                f"first: {exc.errors()[0]['msg']}); move it aside, or publish elsewhere"
            ) from None

    @classmethod
    def read(cls, client: Any, bucket: str, key: str) -> PublishManifest | None:
        """The published manifest, or None when nothing was published here yet."""
        try:
            answer = client.get_object(Bucket=bucket, Key=key)
        except client.exceptions.NoSuchKey:
            return None
        return cls.from_bytes(answer["Body"].read(), f"s3://{bucket}/{key}")

    def write(self, client: Any, bucket: str, key: str) -> None:
        client.put_object(
            Bucket=bucket,
            Key=key,
            Body=self.to_bytes(),
            ContentType="application/json; charset=utf-8",
            CacheControl="no-store",
        )
