"""The Datasets view: the golden set and each hospital's partition as summary statistics, never rows.

Values are the standardised features the models see (each centre z-scored with the statistics of
its own training rows), so a centre's train partition has mean 0 and std 1 by construction; its
test rows and its share of the golden set show how far they sit from that.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, HTTPException, status
from numpy.typing import NDArray

from services.gateway.auth import require
from services.gateway.limits import IdPath
from services.gateway.schemas.operations import DatasetSummary, FeatureStats, PartitionStats
from shared.models import Role
from shared.modeltask.registry import tasks

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"], dependencies=[require(Role.OPERATOR, Role.ADMIN)])


def partition_stats(name: str, role: str, x: NDArray[np.float32], y: NDArray[np.float32],
                    features: tuple[str, ...]) -> PartitionStats:
    """Summary statistics of one partition's rows (the rows themselves are not returned)."""
    rows = len(y)
    stats = []
    x = x.reshape(rows, -1)  # one column per input element, whatever the input's shape
    if rows:
        q = np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0], axis=0)
        mean, std = x.mean(axis=0), x.std(axis=0)
        stats = [FeatureStats(name=f, mean=float(mean[i]), std=float(std[i]), min=float(q[0, i]), q25=float(q[1, i]),
                              median=float(q[2, i]), q75=float(q[3, i]), max=float(q[4, i]))
                 for i, f in enumerate(features)]
    positives = int((y > 0.5).sum())  # a binary task's positive rows (any non-zero class otherwise)
    return PartitionStats(name=name, role=role, rows=rows, positives=positives,
                          positive_rate=positives / rows if rows else None, features=stats)


@router.get("", response_model=list[str])
def list_datasets() -> list[str]:
    """The tasks whose data can be summarised."""
    return sorted(tasks())


@router.get("/{task}", response_model=DatasetSummary)
def dataset_summary(task: IdPath) -> DatasetSummary:
    """The golden set and every centre's partitions of `task`'s data."""
    if task not in tasks():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown task {task!r}; known: {', '.join(sorted(tasks()))}")
    model_task = tasks()[task]
    data = model_task.dataset
    names = model_task.input_names
    partitions = []
    for centre in data.centres:
        partitions.append(partition_stats(centre.name, "train", centre.train.x, centre.train.y, names))
        partitions.append(partition_stats(centre.name, "test", centre.test.x, centre.test.y, names))
    by_centre: dict[str, int] = {}
    for name in data.golden_centre:
        by_centre[str(name)] = by_centre.get(str(name), 0) + 1
    return DatasetSummary(
        task=task, feature_space="standardised per centre (z-scores of that centre's training rows)",
        golden=partition_stats("golden", "golden", data.golden.x, data.golden.y, names),
        golden_by_centre=by_centre, partitions=partitions,
    )
