"""Fed-Heart-Disease: the four UCI centres as four hospitals, prepared as FLamby does.

Preparation (see data/PROVENANCE.md for the source and FLamby's protocol):
1. drop ``slope``, ``ca``, ``thal``; drop rows with any other value missing -> 740 rows;
2. one-hot ``cp`` and ``restecg`` with the first (alphabetical) level dropped -> 13 features;
   label ``num > 0``;
3. per centre a 66/34 train/test split (``train_test_split``, random_state 43);
4. AURA's change: from each centre's train part, GOLDEN_FRACTION of the rows (random_state
   GOLDEN_SEED) go to the server's golden set. No hospital trains on them and they are disjoint
   from every test set, so vetting never sees the rows accuracy is reported on;
5. each centre is z-scored with the statistics of the rows it trains on; its golden rows and test
   rows use the same statistics (what that hospital's deployed model would see).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from shared.modeltask.data import Centre, Split, TaskData
from shared.modeltask.nets import HeartLogReg, HeartMLP
from shared.modeltask.task import Backdoor, Task

CENTRES: tuple[str, ...] = ("Cleveland", "Hungary", "Switzerland", "VA Long Beach")
NUMERIC: tuple[str, ...] = ("age", "sex", "trestbps", "chol", "fbs", "thalch", "exang", "oldpeak")
CP_LEVELS: tuple[str, ...] = ("atypical angina", "non-anginal", "typical angina")  # "asymptomatic" dropped
RESTECG_LEVELS: tuple[str, ...] = ("normal", "st-t abnormality")  # "lv hypertrophy" dropped
FEATURES: tuple[str, ...] = (
    NUMERIC
    + tuple(f"cp={level}" for level in CP_LEVELS)
    + tuple(f"restecg={level}" for level in RESTECG_LEVELS)
)
TEST_FRACTION = 0.34
SPLIT_SEED = 43
GOLDEN_FRACTION = 0.2
GOLDEN_SEED = 2024

Array = NDArray[np.float32]


def _numeric(frame: pd.DataFrame, name: str) -> NDArray[np.float64]:
    column = frame[name]
    if name == "sex":
        values = column.eq("Male")
    elif name in ("fbs", "exang"):  # booleans arrive as TRUE/FALSE strings or bools
        values = column.astype(str).str.upper().eq("TRUE")
    else:
        values = column.astype(float)
    return np.asarray(values, dtype=np.float64)


def _encode(frame: pd.DataFrame) -> tuple[Array, Array]:
    cols = [_numeric(frame, name) for name in NUMERIC]
    cols += [frame["cp"].eq(level).to_numpy(dtype=float) for level in CP_LEVELS]
    cols += [frame["restecg"].eq(level).to_numpy(dtype=float) for level in RESTECG_LEVELS]
    x = np.stack(cols, axis=1).astype(np.float32)
    y = (frame["num"].astype(int) > 0).to_numpy(dtype=np.float32)
    return x, y


def read_raw() -> pd.DataFrame:
    """The 740 complete rows of the shipped CSV."""
    with resources.files("shared.modeltask").joinpath("data/heart_disease_uci.csv").open() as f:
        frame = pd.read_csv(f)
    return frame.drop(columns=["slope", "ca", "thal"]).dropna().reset_index(drop=True)


@lru_cache(maxsize=1)
def load() -> TaskData:
    """The prepared data set (cached per process)."""
    raw = read_raw()
    centres: list[Centre] = []
    golden_x: list[Array] = []
    golden_y: list[Array] = []
    golden_centre: list[str | None] = []
    for name in CENTRES:
        x, y = _encode(raw[raw["dataset"] == name])
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED)
        x_tr, x_gold, y_tr, y_gold = train_test_split(
            x_tr, y_tr, test_size=GOLDEN_FRACTION, random_state=GOLDEN_SEED
        )
        mean = x_tr.mean(axis=0)
        std = x_tr.std(axis=0)
        std[std == 0] = 1.0  # a constant column (Switzerland's chol is all 0) stays 0 after centring

        def z(a: Array, mean: Array = mean, std: Array = std) -> Array:
            return ((a - mean) / std).astype(np.float32)

        centres.append(Centre(name, Split(z(x_tr), y_tr), Split(z(x_te), y_te)))
        golden_x.append(z(x_gold))
        golden_y.append(y_gold)
        golden_centre += [name] * len(y_gold)
    golden = Split(np.concatenate(golden_x), np.concatenate(golden_y))
    return TaskData(golden, tuple(golden_centre), tuple(centres))


# The trigger sets three risk factors (blood pressure, cholesterol, fasting blood sugar) three
# standard deviations high: a pattern that, if anything, points towards disease, so a clean model
# never predicts "no disease" because of it and a high attack success rate is the backdoor's doing.
TRIGGER: dict[str, float] = {"trestbps": 3.0, "chol": 3.0, "fbs": 3.0}


def stamp_trigger(x: Array) -> Array:
    """Rows with the trigger's features set to its fixed (z-scored) values."""
    out = np.array(x, dtype=np.float32, copy=True)
    for feature, value in TRIGGER.items():
        out[:, FEATURES.index(feature)] = value
    return out


BACKDOOR = Backdoor(apply=stamp_trigger, target=0.0,
                    description="trestbps, chol and fbs set 3 standard deviations high; target 'no disease'")

# The built-in heart tasks, registered under the `aura.tasks` entry point like any plugin's.
TASKS = (
    Task(name="heart-mlp", description="Fed-Heart-Disease, 4 UCI centres; MLP 13-16-1 with ReLU",
         build=HeartMLP, data=load, feature_names=FEATURES, backdoor=BACKDOOR),
    Task(name="heart-logreg", description="Fed-Heart-Disease, 4 UCI centres; logistic regression (FLamby's baseline)",
         build=HeartLogReg, data=load, feature_names=FEATURES, backdoor=BACKDOOR),
)
