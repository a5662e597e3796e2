"""InProcessVetter: AURA's vetting stages called in this process, in place of the gateway and workers.

Each update takes the path the gateway gives it, minus HTTP and the broker: `record(Upload)`
(validation, blob store, the submission row), then the stages of shared/pipeline.py that the
workers run, the same functions in the same order, each in a transaction of its own, on the
database the settings name. Rounds are opened as the gateway opens them (validate, `register_global`). The
detection benchmark uses it to run thousands of vetted federations; tests/fl/test_inprocess_vetting.py
shows that its verdicts equal the full pipeline's (gateway, Redis, worker) on the same updates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fl.task import Hospital as FederationHospital
from fl.vetting import Candidate, HospitalVerdict, VettingUnavailable
from services.intake.service import SubmissionConflict, Upload, record, upload_cap
from services.intake.validation import UploadRejected, validate_update
from shared.db import session_scope
from shared.federations import Scope, next_round
from shared.models import Decision, Hospital
from shared.modeltask.registry import tasks
from shared.pipeline import PIPELINE
from shared.settings import get_settings
from shared.stage import run_stage
from shared.tensors import dump_arrays
from shared.weights import register_global


def run_stages(submission_id: str) -> None:
    """Run the pipeline's stages (shared/pipeline.py, as the workers do) on one recorded submission, in order."""
    for stage in PIPELINE:
        run_stage(stage, submission_id)


def _verdict(submission_id: str) -> tuple[str, str, float | None]:
    """(verdict, first-ranked reason, score) as the gateway would report them."""
    with session_scope() as session:
        decision = session.get(Decision, submission_id)
        if decision is None:
            return "error", "no decision was written", None
        reasons: list[dict[str, Any]] = decision.reasons or []
        reason = str(reasons[0].get("text", "")) if reasons else "no reasons"
        return decision.verdict, reason, float(decision.score)


class InProcessVetter:
    """Vets updates with AURA's own stage functions on the settings' database, synchronously."""

    def __init__(self, hospitals: Iterable[FederationHospital] = ()) -> None:
        self.register(hospitals)

    @property
    def where(self) -> str:
        """Where the verdicts come from."""
        return f"in-process ({get_settings().resolved_database_url})"

    @staticmethod
    def register(hospitals: Iterable[FederationHospital]) -> None:
        """Make sure these hospitals exist, with their centres (submissions name their hospital)."""
        with session_scope() as session:
            for hospital in hospitals:
                if session.get(Hospital, hospital.name) is None:
                    session.add(Hospital(id=hospital.name, name=hospital.name, centre=hospital.centre))

    def open_round(self, task: str, global_model: bytes) -> int:
        """Register the global model as the task's next round, as the gateway's open-round endpoint does."""
        settings = get_settings()
        if task not in tasks():
            raise VettingUnavailable(f"unknown task {task!r}")
        try:
            update = validate_update(global_model, tasks()[task].schema, max_header_bytes=settings.max_header_bytes,
                                     max_upload_bytes=upload_cap(tasks()[task], settings))
        except UploadRejected as exc:
            raise VettingUnavailable(exc.message) from exc
        with session_scope() as session:
            round_ = next_round(session, Scope(task, 1))
            register_global(session, task, round_, update.arrays)
        return round_

    def vet(self, task: str, aura_round: int, candidates: Sequence[Candidate], *, timeout: float,
            idempotency_prefix: str, on_verdict: Callable[[HospitalVerdict], None] | None = None
            ) -> list[HospitalVerdict]:
        """Record and vet each candidate in the given order; `timeout` is moot (every call is synchronous)."""
        verdicts: list[HospitalVerdict] = []
        for c in candidates:
            upload = Upload(hospital_id=c.account.name, task=task, round=aura_round,
                            chunks=[dump_arrays(c.weights)], num_examples=c.num_examples,
                            idempotency_key=f"{idempotency_prefix}:{c.account.name}")
            try:
                submission, _ = record(upload)
            except (UploadRejected, SubmissionConflict) as exc:
                verdict = HospitalVerdict(c.account.name, c.node_id, "refused", str(exc))
            else:
                try:
                    run_stages(submission.id)
                    name, reason, score = _verdict(submission.id)
                except Exception as exc:  # a failing stage gives `error`, as the sweeper would in the end
                    name, reason, score = "error", f"{type(exc).__name__}: {exc}", None
                verdict = HospitalVerdict(c.account.name, c.node_id, name, reason, submission.id, score)
            verdicts.append(verdict)
            if on_verdict is not None:
                on_verdict(verdict)
        return verdicts

    def close(self) -> None:
        """Nothing to release: sessions are per call."""
