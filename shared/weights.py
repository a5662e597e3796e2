"""Model weights by reference: submissions' and global models' tensors read from the blob store."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.blobstore import BlobStore
from shared.models import GlobalModel, Submission
from shared.modeltask.registry import get_task
from shared.settings import get_settings
from shared.tensors import dump_arrays, file_sha256, load_arrays, parse_header, tensor_sha256

Weights = dict[str, NDArray[np.float32]]


@lru_cache(maxsize=256)
def _load_blob(root: Path, digest: str) -> Weights:
    # Blobs are immutable and named by their hash, so caching by digest can never go stale.
    data = BlobStore(root).get(digest)
    return load_arrays(data, parse_header(data, max_header_bytes=get_settings().max_header_bytes))


def load_weights(digest: str, store: BlobStore | None = None) -> Weights:
    """The tensors of the stored safetensors file with this file SHA-256."""
    store = store or BlobStore()
    return _load_blob(store.root, digest)


def flatten(weights: Weights) -> NDArray[np.float64]:
    """All tensors as one float64 vector, in sorted-name order (the geometry's coordinate system)."""
    return np.concatenate([np.asarray(weights[k], dtype=np.float64).ravel() for k in sorted(weights)])


def global_model(session: Session, task: str, round_: int) -> GlobalModel | None:
    """The registered global model that `round_` of `task` starts from."""
    return session.scalar(select(GlobalModel).where(GlobalModel.task == task, GlobalModel.round == round_))


def register_global(
    session: Session, task: str, round_: int, weights: Weights, store: BlobStore | None = None
) -> GlobalModel:
    """Record `weights` as the global model of `round_` (idempotent for identical tensors)."""
    store = store or BlobStore()
    data = dump_arrays(weights)
    digest = store.put(data)
    existing = global_model(session, task, round_)
    if existing is not None:
        if existing.tensor_sha256 != tensor_sha256(weights):
            raise ValueError(f"round {round_} of {task} already has a different global model")
        return existing
    row = GlobalModel(task=task, round=round_, file_sha256=digest, tensor_sha256=tensor_sha256(weights))
    assert digest == file_sha256(data)
    session.add(row)
    session.flush()
    return row


def ensure_first_round(session: Session, task: str, store: BlobStore | None = None) -> GlobalModel:
    """Round 1's global model is the task's fixed-seed initialisation; register it if missing."""
    return global_model(session, task, 1) or register_global(session, task, 1, get_task(task).initial_weights(), store)


def earlier_peers(session: Session, submission: Submission) -> list[Submission]:
    """The other submissions of the same task and round that arrived before this one."""
    return list(
        session.scalars(
            select(Submission)
            .where(
                Submission.task == submission.task,
                Submission.round == submission.round,
                Submission.id != submission.id,
                Submission.created_at < submission.created_at,
            )
            .order_by(Submission.created_at)
        )
    )
