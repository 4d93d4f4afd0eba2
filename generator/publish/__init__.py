"""Publishing: a folder and a bucket, nothing else."""

from ._docs import publish_docs_sites, s3_client
from ._s3 import SyncResult, list_keys, sync_folder

__all__ = ["SyncResult", "list_keys", "publish_docs_sites", "s3_client", "sync_folder"]
