"""A federation's configuration: task, protocol, strategy and attackers, as one JSON-able value.

The same value reaches every part of a run: captured by the apps in the in-process and simulation
runners, and as the run config key `federation` (a JSON string) in a Flower deployment, where
the ServerApp and each ClientApp read it from `context.run_config`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from fl import task as fl_task
from fl.attacks import Attack, Federation, make_attack
from shared.modeltask.registry import get_task

STRATEGIES = ("fedavg", "fedmedian", "fedtrimmedavg", "krum", "multikrum", "bulyan", "clipping")
# Server-side fixed clipping's bound on each update's L2 norm: the median norm of honest updates
# in no-attack FLamby-protocol runs of both heart tasks (0.038-0.041, seed 42; bench/results/detection.md).
CLIPPING_NORM = 0.04
RUN_CONFIG_KEY = "federation"


@dataclass(frozen=True)
class AttackSpec:
    """One attacking hospital: which attack, with which parameters."""

    hospital: str
    attack: str
    params: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Attack:
        """The attack object."""
        return make_attack(self.attack, self.params)


@dataclass(frozen=True)
class FederationConfig:
    """Everything that decides a run's numbers (same config and seed -> same final model)."""

    task: str = "heart-logreg"
    rounds: int = fl_task.ROUNDS
    local_steps: int = fl_task.LOCAL_STEPS
    batch_size: int = fl_task.BATCH_SIZE
    lr: float = fl_task.LEARNING_RATE
    seed: int = fl_task.SEED
    split: int = 1
    strategy: str = "fedavg"
    attacks: tuple[AttackSpec, ...] = ()
    clipping_norm: float = CLIPPING_NORM  # used by the "clipping" strategy only

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; known: {', '.join(STRATEGIES)}")
        names = [h.name for h in self.hospitals]
        for spec in self.attacks:
            if spec.hospital not in names:
                raise ValueError(f"attacker {spec.hospital!r} is not a hospital of this federation: {', '.join(names)}")
            attack = spec.build()  # unknown attack names or parameters fail here, before any run starts
            if attack.needs_trigger and get_task(self.task).backdoor is None:
                raise ValueError(f"attack {spec.attack} needs a backdoor trigger, and task {self.task} declares none")
        if len({s.hospital for s in self.attacks}) != len(self.attacks):
            raise ValueError("a hospital can run one attack at a time")

    @property
    def hospitals(self) -> tuple[fl_task.Hospital, ...]:
        """The federation's hospitals."""
        return fl_task.hospitals(self.task, self.split)

    @property
    def federation(self) -> Federation:
        """What every hospital knows: how many clients, how many of them attack."""
        return Federation(n_clients=len(self.hospitals), n_attackers=len(self.attacks))

    def attack_of(self, hospital: str) -> Attack | None:
        """The attack this hospital runs, or None when it is honest."""
        for spec in self.attacks:
            if spec.hospital == hospital:
                return spec.build()
        return None

    def without_attacks(self) -> FederationConfig:
        """The same federation with every hospital honest."""
        return replace(self, attacks=())

    def to_json(self) -> str:
        """Canonical JSON (sorted keys)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FederationConfig:
        """Parse a dict as written by `to_json` (missing keys take their defaults)."""
        data = dict(data)
        data["attacks"] = tuple(AttackSpec(**a) for a in data.get("attacks", ()))
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> FederationConfig:
        """Parse `to_json`'s output."""
        return cls.from_dict(json.loads(text) if text.strip() else {})
