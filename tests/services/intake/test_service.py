"""Recording uploads on PostgreSQL: one submission per hospital and round, however it is re-sent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from services.intake.service import SubmissionConflict, Upload, record
from shared.blobstore import BlobStore
from shared.db import session_scope
from shared.models import Submission
from shared.tensors import file_sha256
from tests.support import perturbed_update


def _upload(hospital: str, data: bytes) -> Upload:
    return Upload(hospital_id=hospital, task="heart-mlp", round=1, chunks=[data])


def _count(hospital: str) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Submission)
                                  .where(Submission.hospital_id == hospital)) or 0)


def test_the_same_update_recorded_again_returns_the_first_submission(new_hospital):
    hospital, data = new_hospital().id, perturbed_update(seed=11)

    first, created = record(_upload(hospital, data))
    again, created_again = record(_upload(hospital, data))

    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert _count(hospital) == 1


def test_a_different_update_for_the_same_round_is_a_conflict_and_stores_no_blob(new_hospital):
    hospital = new_hospital().id
    first, _ = record(_upload(hospital, perturbed_update(seed=12)))
    other = perturbed_update(seed=13)

    with pytest.raises(SubmissionConflict, match=first.id):
        record(_upload(hospital, other))

    assert not BlobStore().path(file_sha256(other)).exists()
    assert _count(hospital) == 1


def test_concurrent_copies_of_one_upload_make_one_submission(new_hospital):
    hospital, data = new_hospital().id, perturbed_update(seed=14)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: record(_upload(hospital, data)), range(8)))

    assert sum(created for _, created in results) == 1
    assert len({submission.id for submission, _ in results}) == 1
    assert _count(hospital) == 1
