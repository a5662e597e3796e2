"""The vetting pipeline, defined once: its stages in order, what each reads and writes, and how it runs.

Two executors run this definition and nothing else: Celery (`shared.celery_app.vetting_chain`
sends the stages as one chain; `shared.stage.register_stage` makes each stage's function its
task) and the in-process runner (`fl.inprocess_vetting.run_stages`, used by the benchmarks). A
test runs one federation through both and compares the verdicts byte for byte
(tests/fl/test_inprocess_vetting.py).

Stage functions are named by import path and loaded on first use, so the gateway, which only
sends chains, never imports torch or the detector.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session

from shared.models import Status

StageFn = Callable[[Session, str], None]


class Queue(enum.StrEnum):
    """One queue per stage, so each stage scales on its own (`--scale fingerprinter=3`)."""

    EVALUATE = "evaluate"
    FINGERPRINT = "fingerprint"
    DETECT = "detect"
    LEDGER = "ledger"


@dataclass(frozen=True)
class Stage:
    """One stage: its queue and task name, its function, what it reads and writes, its limits."""

    queue: Queue
    task: str  # the Celery task's name: intake sends chains by name, without importing stage code
    function: str  # "module:attribute" of a (session, submission_id) -> None function
    reads: str
    writes: str
    result: Status  # the submission status its result moves a submission to
    # False lets PostgreSQL acknowledge the commit before its WAL reaches disk (shared.db.get_engine):
    # only for rows that can be recomputed; the ledger's entries may already be under a signed checkpoint.
    durable: bool
    soft_time_limit: int  # raises inside the stage: a hung lock or a pathological update
    time_limit: int  # kills the worker child

    def load(self) -> StageFn:
        """The stage's function."""
        return _load(self.function)


@cache
def _load(path: str) -> StageFn:
    module, _, attribute = path.partition(":")
    function: StageFn = getattr(importlib.import_module(module), attribute)
    return function


PIPELINE: tuple[Stage, ...] = (
    # Scoring ~100 golden rows takes milliseconds; 60 s only trips on a hung database.
    Stage(Queue.EVALUATE, "aura.evaluate", "services.evaluator.service:evaluate",
          reads="the update, the round's global model, the golden set", writes="evaluations",
          result=Status.EVALUATED, durable=False, soft_time_limit=60, time_limit=90),
    # Attributions of the largest tasks take seconds on a CPU; twice the evaluator's room.
    Stage(Queue.FINGERPRINT, "aura.fingerprint", "services.fingerprinter.service:fingerprint_submission",
          reads="the update, the global model, the task's probe set", writes="fingerprints",
          result=Status.FINGERPRINTED, durable=False, soft_time_limit=120, time_limit=150),
    Stage(Queue.DETECT, "aura.detect", "services.detector.service:detect",
          reads="evaluation, fingerprint, the round's peers, the federation's history and calibration",
          writes="decisions (verdict, score, reasons, evidence digest)",
          result=Status.DECIDED, durable=False, soft_time_limit=60, time_limit=90),
    # An append waits for the advisory lock behind other writers; 60 s means the log is stuck.
    Stage(Queue.LEDGER, "aura.ledger", "services.ledger.tasks:record_verdict",
          reads="the submission and its decision", writes="ledger_entries, ledger_nodes (and checkpoints)",
          result=Status.RECORDED, durable=True, soft_time_limit=60, time_limit=90),
)


def stage(queue: Queue) -> Stage:
    """The stage that consumes `queue`."""
    return next(s for s in PIPELINE if s.queue == queue)


def before(queue: Queue) -> tuple[Stage, ...]:
    """The stages that run before the one consuming `queue`, in order."""
    return PIPELINE[: [s.queue for s in PIPELINE].index(queue)]
