"""Publishing: a folder and a bucket, nothing else."""

from ._cdn import cloudfront_client, collapse_paths
from ._docs import publish_docs_sites
from ._portal import (
    Guards,
    PortalTarget,
    PublishPlan,
    PublishRefused,
    PublishResult,
    plan_publish,
    publish_portal,
)
from ._s3 import PublishError, SyncResult, list_keys, s3_client, sync_folder

__all__ = [
    "Guards",
    "PortalTarget",
    "PublishError",
    "PublishPlan",
    "PublishRefused",
    "PublishResult",
    "SyncResult",
    "cloudfront_client",
    "collapse_paths",
    "list_keys",
    "plan_publish",
    "publish_docs_sites",
    "publish_portal",
    "s3_client",
    "sync_folder",
]
