"""The objectives' metrics and losses on hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared.modeltask.objectives import MULTICLASS, binary_metrics


def test_perfect_separation_gives_accuracy_and_auc_of_one():
    m = binary_metrics(np.array([-3.0, -2.0, 2.0, 3.0]), np.array([0.0, 0.0, 1.0, 1.0]))
    assert (m["accuracy"], m["balanced_accuracy"], m["auc"]) == (1.0, 1.0, 1.0)


def test_loss_is_binary_cross_entropy_of_the_logits():
    m = binary_metrics(np.array([0.0, 0.0]), np.array([0.0, 1.0]))
    assert m["loss"] == pytest.approx(math.log(2))


def test_huge_logits_do_not_overflow_the_loss():
    m = binary_metrics(np.array([1e6, -1e6]), np.array([0.0, 1.0]))
    assert m["loss"] == pytest.approx(1e6)


def test_balanced_accuracy_weights_both_classes_equally():
    # Predicts "disease" for everyone: 3 of 4 right, but only half of the classes.
    m = binary_metrics(np.array([1.0, 1.0, 1.0, 1.0]), np.array([0.0, 1.0, 1.0, 1.0]))
    assert m["accuracy"] == 0.75
    assert m["balanced_accuracy"] == 0.5


def test_auc_is_none_when_only_one_class_is_present():
    assert binary_metrics(np.array([0.3, -0.2]), np.array([1.0, 1.0]))["auc"] is None


def test_auc_equals_sklearns_roc_auc_including_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200).astype(float)
    logits = np.round(rng.standard_normal(200) + labels, 1)  # rounding makes ties
    assert binary_metrics(logits, labels)["auc"] == pytest.approx(roc_auc_score(labels, logits))


def test_average_ranks_equal_scipys_rankdata_with_ties():
    from scipy.stats import rankdata

    from shared.modeltask.objectives import _average_ranks

    values = np.random.default_rng(2).integers(0, 6, size=200).astype(np.float64)
    assert np.array_equal(_average_ranks(values), rankdata(values))


def test_multiclass_metrics_equal_torch_cross_entropy_and_argmax_accuracy():
    import torch

    logits = np.array([[2.0, 0.0, -1.0], [0.1, 0.2, 0.3], [5.0, -5.0, 0.0], [0.0, 1.0, 0.0]])
    labels = np.array([0.0, 2.0, 1.0, 1.0])

    m = MULTICLASS.metrics(logits, labels)

    expected = float(torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels).long()))
    assert m["loss"] == pytest.approx(expected)
    assert m["accuracy"] == 0.75
    assert m["balanced_accuracy"] == pytest.approx((1.0 + 0.5 + 1.0) / 3)
    assert m["auc"] is None


def test_multiclass_explains_the_logit_of_each_rows_label():
    import torch

    logits = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert MULTICLASS.explained(logits, torch.tensor([2.0, 0.0])).tolist() == [3.0, 4.0]
