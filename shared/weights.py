"""Model weights by reference: submissions' and global models' tensors read from the blob store."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.blobstore import BlobStore
from shared.federations import Scope, check_next_round, ensure_federation
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


def scope_of(submission: Submission) -> Scope:
    """The federation run a submission belongs to."""
    return Scope(submission.federation, submission.run)


@dataclass(frozen=True)
class GlobalRef:
    """A round's registered global model: which blob it is (fixed once registered)."""

    task: str
    round: int
    file_sha256: str
    tensor_sha256: str


# By (database, federation, run, round). A round's global model never changes once registered
# (register_global refuses a different one) and is never deleted, so every stage of every update
# of the round can skip the query. Only committed rows are cached: a session that registers a
# model bypasses it.
_global_refs: dict[tuple[str, str, int, int], GlobalRef] = {}
_REGISTERING = "aura_registers_global_model"


def _global_row(session: Session, scope: Scope, round_: int) -> GlobalModel | None:
    return session.scalar(select(GlobalModel).where(GlobalModel.federation == scope.federation,
                                                    GlobalModel.run == scope.run, GlobalModel.round == round_))


def global_model(session: Session, scope: Scope, round_: int) -> GlobalRef | None:
    """The registered global model that `round_` of a federation run starts from."""
    key = (str(session.get_bind().engine.url), scope.federation, scope.run, round_)
    if (ref := _global_refs.get(key)) is not None:
        return ref
    row = _global_row(session, scope, round_)
    if row is None:
        return None
    ref = GlobalRef(row.task, row.round, row.file_sha256, row.tensor_sha256)
    if not session.info.get(_REGISTERING):
        if len(_global_refs) >= 65536:
            _global_refs.clear()
        _global_refs[key] = ref
    return ref


def round_model(session: Session, submission: Submission) -> GlobalRef:
    """The global model a submission's round starts from; LookupError if the round has none (nothing to vet against)."""
    reference = global_model(session, scope_of(submission), submission.round)
    if reference is None:
        raise LookupError(f"no global model for round {submission.round} of {scope_of(submission)}")
    return reference


def register_global(
    session: Session, task: str, round_: int, weights: Weights, store: BlobStore | None = None,
    scope: Scope | None = None,
) -> GlobalModel:
    """Record `weights` as the global model of `round_` of a run (idempotent for identical tensors).

    Without a scope, the round belongs to run 1 of the task's default federation. Rounds open in
    order: FederationError for one that is not the run's next.
    """
    scope = scope or Scope(task, 1)
    if scope == Scope(task, 1):
        ensure_federation(session, task, task)
    check_next_round(session, scope, round_)
    store = store or BlobStore()
    data = dump_arrays(weights)
    existing = _global_row(session, scope, round_)
    if existing is not None:
        if existing.tensor_sha256 != tensor_sha256(weights):
            raise ValueError(f"round {round_} of {scope} already has a different global model")
        return existing
    digest = store.put(data)
    session.info[_REGISTERING] = True  # this transaction may still roll back: keep its rows out of the cache
    row = GlobalModel(task=task, federation=scope.federation, run=scope.run, round=round_, file_sha256=digest,
                      tensor_sha256=tensor_sha256(weights))
    assert digest == file_sha256(data)
    session.add(row)
    session.flush()
    return row


def ensure_first_round(session: Session, task: str, store: BlobStore | None = None) -> GlobalRef:
    """Round 1 of the task's default federation starts from its fixed-seed initialisation; register it if missing."""
    if (ref := global_model(session, Scope(task, 1), 1)) is not None:
        return ref
    row = register_global(session, task, 1, get_task(task).initial_weights(), store)
    return GlobalRef(row.task, row.round, row.file_sha256, row.tensor_sha256)


@dataclass(frozen=True)
class Peer:
    """An earlier update of the same round: whose, and which blob."""

    hospital_id: str
    file_sha256: str


def earlier_peers(session: Session, submission: Submission) -> list[Peer]:
    """The other submissions of the same run and round that arrived before this one, oldest first."""
    rows = session.execute(
        select(Submission.hospital_id, Submission.file_sha256)
        .where(
            Submission.federation == submission.federation,
            Submission.run == submission.run,
            Submission.round == submission.round,
            Submission.id != submission.id,
            Submission.created_at < submission.created_at,
        )
        .order_by(Submission.created_at)
    )
    return [Peer(hospital_id, file_sha256) for hospital_id, file_sha256 in rows]
