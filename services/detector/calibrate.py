"""Fitting a federation's calibration from its vouched honest rounds, and finding the one in force."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.detector.calibration import Calibration, default_calibration, fit, from_stored
from shared.federations import FederationError, Scope, get_federation, rounds_of
from shared.models import Calibration as CalibrationRow
from shared.models import Decision, Submission

# Parsed calibrations by (database, federation, version): a version never changes once stored.
_parsed: dict[tuple[str, str, int], Calibration] = {}


def calibrate(session: Session, federation_id: str, run: int, rounds: Sequence[int], note: str = "") -> CalibrationRow:
    """Fit and store the federation's next calibration from every decided update of these rounds of a run.

    The operator vouches that those updates are honest (shadow rounds, or a run's first rounds);
    rejected ones count too, since rejecting honest updates is what calibration corrects.
    FederationError when the rounds are not open or hold no decided update.
    """
    federation = get_federation(session, federation_id)
    scope = Scope(federation_id, run)
    missing = sorted(set(rounds) - set(rounds_of(session, scope)))
    if not rounds or missing:
        raise FederationError("unknown_round", f"rounds {missing or 'none'} of {scope} are not open")
    features = list(session.scalars(
        select(Decision.features).join(Submission, Submission.id == Decision.submission_id)
        .where(Submission.federation == federation_id, Submission.run == run, Submission.round.in_(rounds),
               Decision.verdict != "error")))
    if not features:
        raise FederationError("no_updates", f"rounds {list(rounds)} of {scope} hold no decided update to calibrate on")
    version = (session.scalar(select(func.max(CalibrationRow.version))
                              .where(CalibrationRow.federation_id == federation_id)) or 0) + 1
    row = CalibrationRow(federation_id=federation_id, version=version, fitted=fit(features),
                         source={"task": federation.task, "run": run, "rounds": sorted(rounds),
                                 "updates": len(features), "note": note})
    session.add(row)
    session.flush()
    return row


def calibration_for(session: Session, federation_id: str, task: str) -> Calibration:
    """The federation's newest calibration, or AURA's defaults when it has none.

    Asked on every verdict (one indexed read), so a new calibration is in force for the next update
    any worker decides; the parsed bounds are cached by version.
    """
    newest = session.scalar(select(func.max(CalibrationRow.version))
                            .where(CalibrationRow.federation_id == federation_id))
    if newest is None:
        return default_calibration(task)
    key = (str(session.get_bind().engine.url), federation_id, int(newest))
    if key not in _parsed:
        row = session.scalar(select(CalibrationRow).where(CalibrationRow.federation_id == federation_id,
                                                          CalibrationRow.version == newest))
        assert row is not None
        if len(_parsed) > 4096:
            _parsed.clear()
        _parsed[key] = from_stored(row.name, row.fitted)
    return _parsed[key]
