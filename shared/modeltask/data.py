"""What a task's data looks like to AURA: labelled rows, the centres they come from, the golden set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float32]


@dataclass(frozen=True)
class Split:
    """Inputs (n, ...) float32, one row per example in any shape the model takes, and labels (n,) float32.

    Labels are 0/1 for a binary task and class indices for a multi-class one (float32 either way:
    the task's objective turns them into what its loss needs).
    """

    x: Array
    y: Array

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Centre:
    """One data source (a hospital's data): what it trains on and what accuracy is reported on."""

    name: str
    train: Split
    test: Split


@dataclass(frozen=True)
class TaskData:
    """A task's data: the centres a simulated federation trains on and the server-held golden set.

    `golden_centre` names, per golden row, the centre it was carved from (None for rows of no
    centre); a hospital registered with a centre is checked on that centre's golden rows too.
    A task served to real hospitals may ship no centres at all: only the golden set is required.
    """

    golden: Split
    golden_centre: tuple[str | None, ...]
    centres: tuple[Centre, ...] = ()

    def centre(self, name: str) -> Centre:
        """The centre with that name."""
        for c in self.centres:
            if c.name == name:
                return c
        raise KeyError(f"no centre {name!r}; known: {', '.join(c.name for c in self.centres)}")

    @property
    def pooled_test(self) -> Split:
        """All centres' test rows together (FLamby's pooled test set)."""
        return Split(np.concatenate([c.test.x for c in self.centres]), np.concatenate([c.test.y for c in self.centres]))
