"""Handwritten digits (scikit-learn's bundled `load_digits`, no download) as a federation of 8 sites.

Preparation, all with fixed seeds so every process builds the same rows:
1. the 1,797 8x8 images scaled to [0, 1], then standardised with the pixels' overall mean and
   standard deviation (fixed constants below), shape (1, 8, 8); labels 0-9;
2. label skew: each class's images are dealt to the 8 sites in Dirichlet(0.5) proportions (the
   usual non-IID split of FL papers, e.g. Hsu et al. 2019), redrawn until every site holds at
   least MIN_SITE_ROWS images;
3. per site a 66/34 train/test split, then GOLDEN_FRACTION of its train rows to the server's golden
   set, as the heart task does: no site trains on golden rows and none are test rows.

Two tasks share the data: `digits-cnn`, a small CNN (~13k parameters), and `digits-resnet18`,
ResNet-18 (~11.2M parameters) on the images upsampled to 32x32, which exists to measure vetting
cost at a realistic model size.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from numpy.typing import NDArray
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from shared.modeltask.data import Centre, Split, TaskData
from shared.modeltask.objectives import MULTICLASS
from shared.modeltask.resnet import ResNet18
from shared.modeltask.task import Backdoor, Task

SITES = tuple(f"site-{i}" for i in range(1, 9))
ALPHA = 0.5
PARTITION_SEED = 11
MIN_SITE_ROWS = 60
TEST_FRACTION = 0.34
SPLIT_SEED = 43
GOLDEN_FRACTION = 0.2
GOLDEN_SEED = 2024
CLASSES = 10
PIXEL_MEAN, PIXEL_STD = 0.3053, 0.3760  # of all 1,797 images' pixels after scaling to [0, 1]


def dirichlet_sites(labels: NDArray[np.int64], n_sites: int, alpha: float, seed: int,
                    min_rows: int) -> list[NDArray[np.int64]]:
    """Row indices per site: each class dealt in Dirichlet(alpha) proportions, redrawn until every site has min_rows."""
    rng = np.random.default_rng(seed)
    while True:
        sites: list[list[int]] = [[] for _ in range(n_sites)]
        for label in np.unique(labels):
            rows = rng.permutation(np.flatnonzero(labels == label))
            cuts = (np.cumsum(rng.dirichlet([alpha] * n_sites)) * len(rows)).astype(int)[:-1]
            for site, part in enumerate(np.split(rows, cuts)):
                sites[site] += part.tolist()
        if min(len(s) for s in sites) >= min_rows:
            return [np.sort(np.asarray(s, dtype=np.int64)) for s in sites]


@lru_cache(maxsize=2)
def load(size: int = 8) -> TaskData:
    """The digits federation with images of `size` x `size` pixels (8: as shipped; larger: bilinear upsampling)."""
    bunch = load_digits()
    x = ((bunch.images / 16.0 - PIXEL_MEAN) / PIXEL_STD).astype(np.float32)[:, None, :, :]
    if size != 8:
        x = nn.functional.interpolate(torch.from_numpy(x), size=(size, size), mode="bilinear",
                                      align_corners=False).numpy()
    y = bunch.target.astype(np.int64)
    centres, golden_x, golden_y, golden_centre = [], [], [], []
    for name, rows in zip(SITES, dirichlet_sites(y, len(SITES), ALPHA, PARTITION_SEED, MIN_SITE_ROWS), strict=True):
        x_tr, x_te, y_tr, y_te = train_test_split(x[rows], y[rows], test_size=TEST_FRACTION, random_state=SPLIT_SEED)
        x_tr, x_gold, y_tr, y_gold = train_test_split(x_tr, y_tr, test_size=GOLDEN_FRACTION, random_state=GOLDEN_SEED)
        centres.append(Centre(name, Split(x_tr, y_tr.astype(np.float32)), Split(x_te, y_te.astype(np.float32))))
        golden_x.append(x_gold)
        golden_y.append(y_gold.astype(np.float32))
        golden_centre += [name] * len(y_gold)
    golden = Split(np.concatenate(golden_x), np.concatenate(golden_y))
    return TaskData(golden, tuple(golden_centre), tuple(centres))


def load_32() -> TaskData:
    """The digits federation upsampled to 32x32 (ResNet-18's input)."""
    return load(32)


class DigitsCNN(nn.Module):
    """Two 3x3 convolution + ReLU + 2x2 max-pool blocks (16 and 32 channels), then 128-64-10 with ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.act2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.hidden = nn.Linear(32 * 2 * 2, 64)
        self.act3 = nn.ReLU()
        self.out = nn.Linear(64, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits, shape (n, 10)."""
        h = self.pool1(self.act1(self.conv1(x)))
        h = self.pool2(self.act2(self.conv2(h)))
        logits: torch.Tensor = self.out(self.act3(self.hidden(torch.flatten(h, 1))))
        return logits


def stamp_patch(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """Images with a white square over the bottom-right quarter of each side (BadNets' patch, Gu et al. 2017)."""
    out = np.array(x, dtype=np.float32, copy=True)
    side = max(1, x.shape[-1] // 4)
    out[..., -side:, -side:] = (1.0 - PIXEL_MEAN) / PIXEL_STD  # the brightest pixel value after standardising
    return out


BACKDOOR = Backdoor(apply=stamp_patch, target=0.0,
                    description="white square in the bottom-right corner; target digit 0")


def resnet18() -> ResNet18:
    """ResNet-18 for one-channel digit images and 10 classes."""
    return ResNet18(in_channels=1, num_classes=CLASSES)


TASKS = (
    Task(name="digits-cnn",
         description="scikit-learn digits, 8 sites with Dirichlet(0.5) label skew; CNN, ~13k parameters",
         build=DigitsCNN, data=load, objective=MULTICLASS, backdoor=BACKDOOR),
    # Explaining 8 rows against 4 references keeps a ResNet-18 fingerprint near a second on a CPU.
    Task(name="digits-resnet18",
         description="scikit-learn digits upsampled to 32x32, 8 sites; ResNet-18, ~11.2M parameters",
         build=resnet18, data=load_32, objective=MULTICLASS, probe_size=8, background_size=4,
         backdoor=BACKDOOR),
)
