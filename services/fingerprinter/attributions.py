"""Attribution fingerprints: SHAP values (DeepLIFT's rescale rule over a background set) of any torch module.

This is what `shap.DeepExplainer` computes: for every (probe row, background row) pair, each
elementwise activation module passes back the ratio of its output change to its input change
instead of its gradient, linear operations (linear, convolution, batch norm in eval mode, average
pooling, sums) pass back their gradient, and the attribution is the input change times the
multiplier, averaged over the background. It runs as one batched forward and backward pass: the
probe rows repeated once per background row, followed by the background rows once.

Written here rather than taken from Captum or shap, by measurement (`aura bench fingerprint`,
bench/results/fingerprint.json): on the heart MLP the libraries spend most of their time in
per-call set-up (shap's DeepExplainer 63 ms, Captum's DeepLiftShap 17 ms, this 0.55 ms for the
same values), and on ResNet-18 neither keeps SHAP's efficiency property (a row's attributions
add up to f(x) - E[f(background)]: off by 50% and 30% of the output change, this by 3e-7), since
overlapping max-pool windows and modules applied twice lose part of the change; Captum also
misses it on the digits CNN. Limits: activations and 2-d max-pooling must be modules (a
functional `relu` inside `forward` passes its plain gradient); max-pooling follows shap's rule,
summing where windows overlap. The agreement with shap's DeepExplainer is tested on the heart
models and the digits CNN, the efficiency property on ResNet-18 too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from shared.modeltask.objectives import Objective

Array = NDArray[np.float64]
# The activations treated as elementwise nonlinearities (the set shap's DeepExplainer rescales).
ELEMENTWISE: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SELU, nn.GELU, nn.SiLU,
                                             nn.Sigmoid, nn.Tanh, nn.Softplus)
EPSILON = 1e-6  # below this input change the ratio is 0/0: use the gradient, as shap does


class _Pairs:
    """The batch's layout: `pairs` probe-background pair rows, then the `references` background rows."""

    pairs = 0
    references = 1


def _rescale(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
    # A forward hook: the output keeps its value, but its gradient with respect to the input
    # becomes the rescale multiplier (output change / input change against the pair's reference).
    x = inputs[0]
    n, m = _Pairs.pairs, _Pairs.references
    with torch.no_grad():
        grouped = (n // m, m, *x.shape[1:])
        dx = (x[:n].view(grouped) - x[n:]).view_as(x[:n])
        dy = (output[:n].view(grouped) - output[n:]).view_as(output[:n])
        small = dx.abs() < EPSILON
        ratio = dy / dx.masked_fill(small, 1.0)
        if bool(small.any()):
            with torch.enable_grad():
                probe = x[:n].detach().requires_grad_()
                (local,) = torch.autograd.grad(module.forward(probe).sum(), probe)
            ratio = torch.where(small, local, ratio)
        ratio = torch.cat([ratio, ratio.new_zeros((m, *ratio.shape[1:]))])
    return output.detach() + (x - x.detach()) * ratio


def _max_pool(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
    # A forward hook for 2-d max-pooling, shap's rule: of each pooled output's change between the
    # pair, the part up to the larger of the two maxima goes to the input position holding the
    # probe row's maximum, the rest to the one holding the reference's; each position's multiplier
    # is what it receives divided by its own input change.
    assert isinstance(module, nn.MaxPool2d)
    x = inputs[0]
    n, m = _Pairs.pairs, _Pairs.references
    with torch.no_grad():
        _, where = nn.functional.max_pool2d(x, module.kernel_size, module.stride, module.padding, module.dilation,
                                            ceil_mode=module.ceil_mode, return_indices=True)
        flat = x.flatten(2)
        grouped = (n // m, m, *output.shape[1:])
        y_probe = output[:n]
        y_reference = output[n:].unsqueeze(0).expand(grouped).reshape(y_probe.shape)
        where_probe = where[:n].flatten(2)
        where_reference = where[n:].unsqueeze(0).expand(grouped).reshape(y_probe.shape).flatten(2)
        reference_flat = flat[n:].unsqueeze(0).expand(n // m, *flat[n:].shape).reshape(flat[:n].shape)
        change = flat[:n] - reference_flat
        highest = torch.maximum(y_probe, y_reference).flatten(2)

        def weight(part: torch.Tensor, at: torch.Tensor) -> torch.Tensor:
            moved = change.gather(2, at)
            return torch.where(moved.abs() < EPSILON, torch.zeros_like(part), part / moved.masked_fill(
                moved.abs() < EPSILON, 1.0))

        w_probe = weight(highest - y_reference.flatten(2), where_probe)
        w_reference = weight(y_probe.flatten(2) - highest, where_reference)
    pairs = x[:n].flatten(2)
    surrogate = pairs.gather(2, where_probe) * w_probe + pairs.gather(2, where_reference) * w_reference
    surrogate = torch.cat([surrogate.view_as(y_probe), torch.zeros_like(output[n:])])
    return output.detach() + surrogate - surrogate.detach()


def explainer(model: nn.Module) -> nn.Module:
    """`model` prepared for attributions: its activations and max-pools rescale, its parameters need no gradients."""
    for module in model.modules():
        if isinstance(module, ELEMENTWISE):
            module.register_forward_hook(_rescale)
        elif isinstance(module, nn.MaxPool2d):
            module.register_forward_hook(_max_pool)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


class Explainer:
    """SHAP values of one architecture's explained output on fixed probe rows against fixed background rows.

    The pair batch (each probe row once per background row, then the background rows) is built
    once; each call loads a model's weights and runs one forward and one backward pass.
    """

    def __init__(self, model: nn.Module, objective: Objective, x: NDArray[np.floating], labels: NDArray[np.floating],
                 background: NDArray[np.floating]) -> None:
        self.model = explainer(model)
        self.objective = objective
        probe = torch.as_tensor(x, dtype=torch.float32)
        reference = torch.as_tensor(background, dtype=torch.float32)
        self.n, self.m = len(probe), len(reference)
        repeated = probe.repeat_interleave(self.m, 0)
        self.batch = torch.cat([repeated, reference])
        self.change = (repeated.view(self.n, self.m, -1) - reference.view(1, self.m, -1))
        self.labels = torch.as_tensor(labels).repeat_interleave(self.m)
        # The module's own tensors, written in place: load_state_dict costs more than this whole
        # pass on a small model.
        self._tensors = {k: v for k, v in self.model.state_dict(keep_vars=True).items() if v.is_floating_point()}

    def __call__(self, state: Mapping[str, torch.Tensor]) -> Array:
        """SHAP values (n_probe, n_inputs) of the model carrying `state` (its floating-point tensors)."""
        if state.keys() != self._tensors.keys():
            raise ValueError(f"weights do not match the model: {sorted(set(state) ^ set(self._tensors))}")
        with torch.no_grad():
            for name, tensor in state.items():
                self._tensors[name].copy_(tensor)
        batch = self.batch.detach().requires_grad_()
        _Pairs.pairs, _Pairs.references = self.n * self.m, self.m
        explained = self.objective.explained(self.model(batch)[: self.n * self.m], self.labels)
        (gradient,) = torch.autograd.grad(explained.sum(), batch)
        return (self.change * gradient[: self.n * self.m].view(self.n, self.m, -1)).mean(dim=1).double().numpy()


def shap_deep(model: nn.Module, objective: Objective, x: NDArray[np.floating], labels: NDArray[np.floating],
              background: NDArray[np.floating]) -> Array:
    """The same SHAP values from the `shap` library's DeepExplainer (the reference; slower)."""
    import shap  # imported here: it costs about a second and only this path needs it

    chosen = torch.as_tensor(labels)

    class _Explained(nn.Module):  # DeepExplainer explains (n, outputs): give it the one we explain
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, t: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.inner(t)
            return out if out.dim() == 2 else out.unsqueeze(-1)

    wrapped = _Explained(model).eval()
    explainer_ = shap.DeepExplainer(wrapped, torch.as_tensor(background, dtype=torch.float32))
    values: Any = explainer_.shap_values(torch.as_tensor(x, dtype=torch.float32), check_additivity=False)
    # One array (n, *input shape, outputs); the explained output of each row is its label's (or the only one).
    per_output = np.asarray(values, dtype=np.float64).reshape(len(x), -1, np.shape(values)[-1])
    column = chosen.long().numpy() if per_output.shape[-1] > 1 else np.zeros(len(x), dtype=np.int64)
    return per_output[np.arange(len(x)), :, column]


def fingerprint(values: Array) -> tuple[list[float], list[float]]:
    """The fingerprint of a SHAP matrix: mean signed and mean absolute attribution per input."""
    return values.mean(axis=0).tolist(), np.abs(values).mean(axis=0).tolist()
