"""Content-addressed blob store: an update's bytes live at blobs/ab/cdef... named by SHA-256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from shared.files import write_once
from shared.settings import get_settings


class BlobStore:
    """Write-once files named by the SHA-256 of their bytes."""

    def __init__(self, root: Path | None = None) -> None:
        # No mkdir here: a store is made for every read, and `put` creates the folders it writes to.
        self.root = root or get_settings().resolved_blob_dir

    def path(self, digest: str) -> Path:
        """Where the blob with this hex digest lives."""
        return self.root / digest[:2] / digest[2:]

    def put(self, data: bytes) -> str:
        """Store `data` (a no-op if present) and return its hex SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        # A reader never sees half a blob, and a crash mid-write leaves no file under the final name.
        write_once(target, data)
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`; FileNotFoundError if absent."""
        return self.path(digest).read_bytes()
