"""Publishing: a folder and a bucket, nothing else."""

from ._s3 import SyncResult, list_keys, sync_folder

__all__ = ["SyncResult", "list_keys", "sync_folder"]
