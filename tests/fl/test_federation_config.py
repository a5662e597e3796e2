"""Hospitals, federation configs and node identities: the pure parts of a run's set-up."""

from __future__ import annotations

import numpy as np
import pytest

from fl.config import AttackSpec, FederationConfig
from fl.identity import HospitalAccount, NodeDirectory, UnknownNode, capped_examples
from fl.task import hospitals
from shared.modeltask.registry import get_task


@pytest.mark.parametrize("split", [2, 3])
def test_splitting_the_centres_gives_disjoint_hospitals_covering_every_training_row(split):
    centres = get_task("heart-logreg").dataset.centres

    parts = hospitals("heart-logreg", split)

    assert len(parts) == 4 * split
    for centre in centres:
        mine = [h for h in parts if h.centre == centre.name]
        assert [h.name.rsplit("-", 1)[-1] for h in mine] == [str(i) for i in range(1, split + 1)]
        rows = np.concatenate([h.train.x for h in mine])
        assert len(rows) == len(centre.train)
        assert len(np.unique(rows, axis=0)) == len(np.unique(centre.train.x, axis=0))


def test_a_centre_splits_into_at_most_six_hospitals():
    assert len(hospitals("heart-logreg", 6)) == 24
    with pytest.raises(ValueError, match="hospitals per centre"):
        hospitals("heart-logreg", 7)


def test_a_config_survives_its_json_form():
    config = FederationConfig(rounds=3, split=2, strategy="fedmedian",
                              attacks=(AttackSpec("hungary-2", "ipm", {"epsilon": 0.1}),
                                       AttackSpec("switzerland-1", "alie")))

    assert FederationConfig.from_json(config.to_json()) == config
    assert config.federation.n_clients == 8 and config.federation.n_attackers == 2


@pytest.mark.parametrize(("attack", "message"), [
    (AttackSpec("atlantis", "sign-flip"), "not a hospital"),
    (AttackSpec("hungary", "sign-flip", {"sigma": 1}), "no parameter sigma"),
    (AttackSpec("hungary", "telepathy"), "unknown attack"),
])
def test_a_config_naming_an_unknown_attacker_attack_or_parameter_is_refused(attack, message):
    with pytest.raises(ValueError, match=message):
        FederationConfig(attacks=(attack,))


def test_a_node_keeps_the_hospital_it_first_claimed_and_nobody_else_can_claim_it():
    accounts = {name: HospitalAccount(name, "key", 10) for name in ("cleveland", "hungary")}
    directory = NodeDirectory(accounts)

    assert directory.resolve(7, "cleveland").name == "cleveland"
    assert directory.resolve(7, None).name == "cleveland"
    with pytest.raises(UnknownNode, match="already node 7"):
        directory.resolve(8, "cleveland")
    with pytest.raises(UnknownNode, match="now claims"):
        directory.resolve(7, "hungary")
    with pytest.raises(UnknownNode, match="no AURA account"):
        directory.resolve(9, "atlantis")


def test_claimed_examples_are_capped_at_the_registered_partition_size():
    account = HospitalAccount("cleveland", "key", 160)

    assert capped_examples(10_000, account) == 160
    assert capped_examples(50, account) == 50
    assert capped_examples(None, account) == 160
    assert capped_examples(-3, account) == 0
