"""Overview, Analytics and hospital-history numbers read back from a real recorded round."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import Submission


def _get(gateway, path, headers, **params):
    response = httpx.get(f"{gateway}{path}", headers=headers, params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _on_one_day(gateway, path, headers, **params):
    """The answer and the UTC day the gateway answered on (asked again if midnight passed during the call)."""
    while True:
        before = datetime.now(UTC).date()
        body = _get(gateway, path, headers, **params)
        if datetime.now(UTC).date() == before:
            return body, before


def _submitted_on(day: date) -> int:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    with session_scope() as session:
        return int(session.scalar(select(func.count()).where(Submission.created_at >= start,
                                                             Submission.created_at < start + timedelta(days=1))))


def test_summary_counts_the_rejection_under_its_top_signal(gateway, scenario, operator_headers):
    # "Today" is the gateway's UTC day: the count is checked against the rows of that day, so the
    # test holds on either side of midnight.
    body, day = _on_one_day(gateway, "/api/v1/stats/summary", operator_headers)

    assert body["submissions_today"] == _submitted_on(day)
    assert body["rejected"] >= 1 and body["accepted"] >= 2
    assert scenario.attacker_signal in {s["signal"] for s in body["rejections_by_signal"]}
    assert 0 < body["time_to_verdict_p50_s"] <= body["time_to_verdict_p95_s"]
    assert 0 < body["acceptance_rate"] < 1
    assert body["ledger_size"] >= 3


def test_summary_names_the_latest_signed_checkpoint(gateway, scenario, operator_headers):
    from services.ledger.checkpoints import publish_checkpoint
    from shared.db import session_scope

    with session_scope() as session:
        published = publish_checkpoint(session)
        assert published is not None
        size, root = published.size, published.root_hash.hex()

    body = _get(gateway, "/api/v1/stats/summary", operator_headers)

    assert body["checkpoint_size"] >= size and body["checkpoint_size"] <= body["ledger_size"]
    assert len(body["checkpoint_root"]) == 64 and (body["checkpoint_size"] > size or body["checkpoint_root"] == root)


def test_summary_for_a_hospital_key_counts_only_its_own(gateway, scenario):
    body = _get(gateway, "/api/v1/stats/summary", scenario.attacker.headers)

    assert body["submissions_total"] == 1 and body["rejected"] == 1 and body["accepted"] == 0
    assert body["acceptance_rate"] == 0


def test_daily_has_one_point_per_day_ending_today(gateway, scenario, operator_headers):
    body, day = _on_one_day(gateway, "/api/v1/analytics/daily", operator_headers, days=7)

    assert len(body) == 7
    assert [point["day"] for point in body] == [(day - timedelta(days=6 - i)).isoformat() for i in range(7)]
    assert [point["submitted"] for point in body[-2:]] == [_submitted_on(day - timedelta(days=1)), _submitted_on(day)]
    assert sum(point["rejected"] for point in body) >= 1


def test_attacks_name_the_attacker_and_its_signal(gateway, scenario, operator_headers):
    body = _get(gateway, "/api/v1/analytics/attacks", operator_headers)

    attacker = next(h for h in body["by_hospital"] if h["hospital_id"] == scenario.attacker.id)
    assert attacker["rejected"] == 1 and attacker["signals"].get(scenario.attacker_signal) == 1
    assert all(h["hospital_id"] != scenario.honest[0].id for h in body["by_hospital"])
    assert body["daily"][-1]["signals"][scenario.attacker_signal] >= 1


def test_score_distribution_bins_honest_and_rejected_scores(gateway, scenario, operator_headers):
    body = _get(gateway, "/api/v1/analytics/scores", operator_headers, task="heart-mlp")

    assert len(body["bin_edges"]) == len(body["accepted"]) + 1 == 21
    assert sum(body["accepted"]) >= 2 and sum(body["rejected"]) >= 1
    assert body["accepted_p50"] < body["threshold"]


def test_history_shows_the_round_with_verdict_score_and_drift(gateway, scenario, operator_headers):
    body = _get(gateway, f"/api/v1/hospitals/{scenario.attacker.id}/history", operator_headers)

    assert body["submissions"] == 1 and body["acceptance_rate"] == 0
    point = body["rounds"][0]
    assert point["round"] == scenario.round and point["verdict"] == "rejected"
    assert point["top_signal"] == scenario.attacker_signal
    assert point["score"] >= point["threshold"]
    assert point["drift_from_global"] > 0 and point["drift_from_previous"] is None


def test_history_of_another_hospital_is_hidden_from_a_hospital_key(gateway, scenario):
    response = httpx.get(f"{gateway}/api/v1/hospitals/{scenario.attacker.id}/history",
                         headers=scenario.honest[0].headers)

    assert response.status_code == 404
