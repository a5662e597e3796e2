"""Write-once files: blobs, the ledger's checkpoint folder (a stand-in for write-once storage) and its key file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_once(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Create `path` holding `data` unless it exists (then it is left as it is); durable before it appears."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        # link() never replaces an existing file, so two writers cannot both win, and a reader
        # never sees a half-written file.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
