"""Federations and their runs: who trains which task, and the scope every round belongs to.

A round is named by (federation, run, round). Rounds of a run start at 1 and only move forward:
round r opens after round r - 1 of the same run. History (earlier peers, the previous round, the
Isolation Forest's accepted updates) never crosses runs. Every task has a default federation of
the same name, whose run 1 is what callers that name only a task use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.models import Federation, FederationRun, GlobalModel
from shared.modeltask.registry import get_task

FEDERATION_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class FederationError(ValueError):
    """A federation, run or round that cannot be used as asked; `code` is stable for API clients."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Scope:
    """Where a round lives: a federation's run."""

    federation: str
    run: int

    def __str__(self) -> str:
        return f"{self.federation} run {self.run}"


def ensure_federation(session: Session, federation_id: str, task: str, *, name: str | None = None,
                      recipe: dict[str, Any] | None = None, calibration_rounds: int = 0,
                      require_signatures: bool = False) -> Federation:
    """The federation with this id, created (with its run 1) if missing; FederationError if it trains another task.

    `name`, `recipe`, `require_signatures` and run 1's `calibration_rounds` apply when it is created.
    """
    get_task(task)  # KeyError naming the installed tasks
    existing = session.get(Federation, federation_id)
    if existing is not None:
        if existing.task != task:
            raise FederationError("task_mismatch", f"federation {federation_id!r} trains {existing.task}, not {task}")
        return existing
    if not FEDERATION_ID.match(federation_id):
        raise FederationError("bad_federation_id", f"federation id {federation_id!r} must be 1-64 characters of "
                                                   "a-z, 0-9, '.', '_' or '-', starting with a letter or digit")
    federation = Federation(id=federation_id, task=task, name=name or federation_id, recipe=recipe or {},
                            require_signatures=require_signatures)
    session.add(federation)
    session.add(FederationRun(federation_id=federation_id, run=1, calibration_rounds=calibration_rounds))
    session.flush()
    return federation


def get_federation(session: Session, federation_id: str) -> Federation:
    """The federation with this id; FederationError naming the problem otherwise."""
    federation = session.get(Federation, federation_id)
    if federation is None:
        raise FederationError("unknown_federation", f"no federation {federation_id!r}")
    return federation


def latest_run(session: Session, federation_id: str) -> int:
    """The federation's newest run."""
    run = session.scalar(select(func.max(FederationRun.run)).where(FederationRun.federation_id == federation_id))
    if run is None:
        raise FederationError("unknown_federation", f"no federation {federation_id!r}")
    return int(run)


def new_run(session: Session, federation_id: str, calibration_rounds: int = 0) -> int:
    """Start the federation's next run (its rounds start at 1, its history is its own).

    Its first `calibration_rounds` rounds are calibration rounds: their updates are vouched for.
    """
    run = latest_run(session, federation_id) + 1
    session.add(FederationRun(federation_id=federation_id, run=run, calibration_rounds=calibration_rounds))
    session.flush()
    return run


# By (database, federation, run): a run's calibration rounds are fixed when it starts.
_calibration_rounds: dict[tuple[str, str, int], int] = {}


def calibration_rounds(session: Session, scope: Scope) -> int:
    """How many first rounds of the run are calibration rounds (0: none)."""
    key = (str(session.get_bind().engine.url), scope.federation, scope.run)
    if key not in _calibration_rounds:
        row = session.get(FederationRun, (scope.federation, scope.run))
        if len(_calibration_rounds) > 65536:
            _calibration_rounds.clear()
        _calibration_rounds[key] = row.calibration_rounds if row is not None else 0
    return _calibration_rounds[key]


@dataclass(frozen=True)
class Resolved:
    """What an upload's federation, task and run name, and whether that federation requires signatures."""

    task: str
    scope: Scope
    require_signatures: bool


def resolve(session: Session, *, task: str | None, federation: str | None, run: int | None) -> Resolved:
    """The task and scope an upload names: a federation (its newest run unless one is given), or a task's default.

    FederationError when the federation is unknown, trains another task, or has no such run.
    """
    if federation is None:
        if task is None:
            raise FederationError("missing_scope", "name a federation (or a task, for its default federation)")
        federation = task
    # One round trip on every upload: the federation's task, signature rule and newest run together.
    row = session.execute(select(Federation.task, Federation.require_signatures, func.max(FederationRun.run))
                          .join(FederationRun, FederationRun.federation_id == Federation.id)
                          .where(Federation.id == federation)
                          .group_by(Federation.task, Federation.require_signatures)).first()
    found: tuple[str, bool, int] | None = (str(row[0]), bool(row[1]), int(row[2])) if row is not None else None
    if found is None and task is not None and federation == task:  # a task's default federation, first used
        ensure_federation(session, federation, task)
        found = (task, False, 1)
    if found is None:
        raise FederationError("unknown_federation", f"no federation {federation!r}")
    trains, required, newest = found
    if task is not None and task != trains:
        raise FederationError("task_mismatch", f"federation {federation!r} trains {trains}, not {task}")
    if run is None:
        run = newest
    elif not 1 <= run <= newest:
        raise FederationError("unknown_run", f"federation {federation!r} has runs 1-{newest}, not {run}")
    return Resolved(trains, Scope(federation, run), required)


def rounds_of(session: Session, scope: Scope) -> list[int]:
    """The open rounds of a run, ascending."""
    return list(session.scalars(select(GlobalModel.round).where(
        GlobalModel.federation == scope.federation, GlobalModel.run == scope.run).order_by(GlobalModel.round)))


def next_round(session: Session, scope: Scope) -> int:
    """The round the run opens next (1 for a run with none open)."""
    last = session.scalar(select(func.max(GlobalModel.round)).where(GlobalModel.federation == scope.federation,
                                                                     GlobalModel.run == scope.run))
    return (last or 0) + 1


def check_next_round(session: Session, scope: Scope, round_: int) -> None:
    """Refuse a round that is not the run's next one (an already open round passes: re-registering is idempotent)."""
    opened = rounds_of(session, scope)
    if round_ in opened:
        return
    expected = (opened[-1] + 1) if opened else 1
    if round_ != expected:
        raise FederationError("bad_round", f"round {round_} cannot open in {scope}: rounds start at 1 and move "
                                           f"forward one at a time; the next round is {expected}")
