"""What deploy/ needs built from this portal's settings: the Lambda@Edge sign-in bundle."""

from ._edge_auth import EdgeAuthConfig, edge_auth_files, write_edge_auth_bundle

__all__ = ["EdgeAuthConfig", "edge_auth_files", "write_edge_auth_bundle"]
