"""The ablation replays verdicts with families of signals switched off."""

from __future__ import annotations

from bench.grid.ablation import FAMILIES, ablation
from services.detector.scoring import RULES


def test_every_signal_the_detector_can_give_has_a_family():
    assert {rule.signal for rule in RULES} | {"isolation_forest"} == set(FAMILIES)
    assert FAMILIES["own_rows_slope"] == {"golden"}
    assert FAMILIES["against_the_data"] == {"golden", "geometry"}


def _update(malicious: bool, **signals: float) -> dict[str, object]:
    return {"malicious": malicious, "signals": signals}


def test_switching_a_family_off_drops_only_its_signals():
    runs = [{"status": "ok", "updates": [
        _update(True, own_rows_slope=0.8),  # caught by the golden set only
        _update(True, update_scale=0.9, own_rows_slope=0.1),  # caught by geometry only
        _update(True, against_the_data=0.7),  # needs both families
        _update(False, own_rows_slope=0.6),  # an honest update the golden rule rejects
        _update(False, update_norm=0.2),
    ]}]

    result = ablation(runs)

    assert (result["all signals (AURA)"]["tp"], result["all signals (AURA)"]["fp"]) == (3, 1)
    assert (result["without golden"]["tp"], result["without golden"]["fp"]) == (1, 0)
    assert (result["golden only"]["tp"], result["golden only"]["fp"]) == (1, 1)
    assert (result["without geometry"]["tp"], result["without geometry"]["fp"]) == (1, 1)
    assert result["geometry only"]["tp"] == 1
