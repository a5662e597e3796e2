"""Model architectures. Code lives here, never in an upload: an update only carries weights."""

from __future__ import annotations

import torch
from torch import nn


class HeartLogReg(nn.Module):
    """FLamby's Fed-Heart-Disease baseline: Linear(13, 1) producing a logit."""

    def __init__(self, n_features: int = 13) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of the disease probability, shape (n,)."""
        logit: torch.Tensor = self.linear(x)
        return logit.squeeze(-1)


class HeartMLP(nn.Module):
    """A small MLP; ReLU as a module so SHAP's DeepExplainer can find the nonlinearity."""

    def __init__(self, n_features: int = 13, hidden: int = 16) -> None:
        super().__init__()
        self.hidden = nn.Linear(n_features, hidden)
        self.act = nn.ReLU()
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit of the disease probability, shape (n,)."""
        logit: torch.Tensor = self.out(self.act(self.hidden(x)))
        return logit.squeeze(-1)
