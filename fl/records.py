"""The records AURA's Flower apps exchange, and conversions between them and named weights."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
from numpy.typing import NDArray

Weights = dict[str, NDArray[np.float32]]

ARRAYS = "arrays"  # FedAvg's default arrayrecord_key
CONFIG = "config"  # FedAvg's default configrecord_key
METRICS = "metrics"
HOSPITAL = "hospital"  # ConfigRecord naming the hospital that claims to have sent a reply
NUM_EXAMPLES = "num-examples"  # FedAvg's default weighted_by_key
CRAFT_ACTION = "craft"  # "train.craft": the second message an omniscient attacker receives
GLOBAL = "global"
OWN = "own"
BENIGN_PREFIX = "benign-"


def to_record(weights: Mapping[str, NDArray[np.float32]]) -> ArrayRecord:
    """Named arrays as an ArrayRecord (float32, keys in the given order)."""
    return ArrayRecord({k: Array(np.ascontiguousarray(v, dtype=np.float32)) for k, v in weights.items()})


def from_record(record: ArrayRecord) -> Weights:
    """An ArrayRecord as named float32 arrays (fresh copies the caller owns)."""
    return {k: np.array(v.numpy(), dtype=np.float32, copy=True) for k, v in record.items()}


def train_reply_content(weights: Weights, num_examples: int, loss: float, hospital: str) -> RecordDict:
    """What a hospital answers to a train message."""
    return RecordDict({
        ARRAYS: to_record(weights),
        METRICS: MetricRecord({NUM_EXAMPLES: int(num_examples), "train-loss": float(loss)}),
        HOSPITAL: ConfigRecord({"name": hospital}),
    })


def claimed_hospital(message: Message) -> str | None:
    """The hospital a reply says it comes from (a claim, not a proof), or None."""
    if message.has_error() or HOSPITAL not in message.content.config_records:
        return None
    name = message.content.config_records[HOSPITAL].get("name")
    return name if isinstance(name, str) else None


def reply_arrays(message: Message) -> ArrayRecord:
    """The one ArrayRecord of a train reply."""
    records = message.content.array_records
    if len(records) != 1:
        raise ValueError(f"a train reply carries exactly one ArrayRecord, this one {len(records)}")
    return next(iter(records.values()))


def num_examples(message: Message) -> int | None:
    """The number of examples a reply claims to have trained on."""
    for record in message.content.metric_records.values():
        value = record.get(NUM_EXAMPLES)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    return None
