"""The attack suite: each attack a hospital behaviour, selectable by name with its parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from fl.attacks.base import Attack, Federation, RoundView, Schedule
from fl.attacks.data_poisoning import Backdoor, LabelFlip, attack_success_rate
from fl.attacks.model_poisoning import GaussianNoise, Scaling, SignFlip
from fl.attacks.omniscient import ALIE, IPM, MinMax

ATTACKS: dict[str, type[Attack]] = {
    cls.name: cls for cls in (LabelFlip, SignFlip, GaussianNoise, Scaling, ALIE, IPM, MinMax, Backdoor)
}
ALIASES = {"model-replacement": "scaling", "minmax": "min-max", "gaussian": "gaussian-noise"}


def make_attack(name: str, params: Mapping[str, Any] | None = None) -> Attack:
    """The attack called `name` with these parameters (unknown names or parameters raise ValueError)."""
    cls = ATTACKS.get(ALIASES.get(name, name))
    if cls is None:
        raise ValueError(f"unknown attack {name!r}; known: {', '.join(sorted(ATTACKS))}")
    allowed = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = set(params or {}) - allowed
    if unknown:
        raise ValueError(f"attack {cls.name} has no parameter {', '.join(sorted(unknown))}; "
                         f"it takes {', '.join(sorted(allowed)) or 'none'}")
    return cls(**dict(params or {}))


__all__ = ["ATTACKS", "Attack", "Federation", "RoundView", "Schedule", "attack_success_rate", "make_attack"]
