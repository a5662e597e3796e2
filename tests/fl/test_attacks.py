"""Each attack changes the update the way its definition says, on real locally trained updates."""

from __future__ import annotations

import numpy as np
import pytest

from fl import task as fl_task
from fl.attacks import Federation, RoundView, Schedule, attack_success_rate, make_attack
from fl.attacks.base import delta
from fl.attacks.omniscient import alie_z, max_pairwise_distance, min_max_gamma, perturbation_direction
from shared.modeltask.data import Split
from shared.modeltask.registry import get_task

TASK = "heart-mlp"  # 241 parameters: enough coordinates for the statistics below
FEDERATION = Federation(n_clients=4, n_attackers=1)


@pytest.fixture(scope="module")
def global_weights():
    return fl_task.initial_weights(TASK, 42)


def _trained(global_weights, name: str, seed: int = 0, steps: int = 30):
    hospital = fl_task.find_hospital(TASK, 1, name)
    weights, _ = fl_task.train_local(TASK, global_weights, hospital.train, steps=steps, batch_size=4, lr=0.05,
                                     rng=np.random.default_rng(seed))
    return weights


@pytest.fixture(scope="module")
def benign(global_weights):
    return [_trained(global_weights, name) for name in ("cleveland", "hungary", "va-long-beach")]


def test_label_flip_trains_on_every_label_flipped():
    x = np.zeros((4, 13), np.float32)
    y = np.array([0, 1, 1, 0], np.float32)

    _, flipped = make_attack("label-flip").poison(get_task("heart-logreg"), x, y, np.random.default_rng(0))

    assert flipped.tolist() == [1, 0, 0, 1]


def test_label_flip_on_a_ten_class_task_maps_each_class_to_nine_minus_it():
    y = np.arange(10, dtype=np.float32)
    _, flipped = make_attack("label-flip").poison(get_task("digits-cnn"), np.zeros((10, 1, 8, 8), np.float32), y,
                                                  np.random.default_rng(0))
    assert flipped.tolist() == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]


def test_backdoor_stamps_the_tasks_own_trigger_and_target():
    task = get_task("digits-cnn")
    x = np.zeros((4, 1, 8, 8), np.float32)
    y = np.array([3, 5, 7, 9], np.float32)

    px, py = make_attack("backdoor", {"poison_fraction": 0.5}).poison(task, x, y, np.random.default_rng(0))

    assert len(py) == 6 and py[4:].tolist() == [0.0, 0.0]
    assert np.all(px[4:, 0, -2:, -2:] == px[4:].max()) and np.all(px[4:, 0, :6, :6] == 0.0)


def test_a_backdoor_on_a_task_without_a_trigger_is_refused_before_the_run():
    from dataclasses import replace

    from fl.config import AttackSpec, FederationConfig
    from shared.modeltask.registry import tasks

    bare = replace(get_task("heart-logreg"), name="heart-no-trigger", backdoor=None)
    tasks()[bare.name] = bare  # type: ignore[index]
    try:
        with pytest.raises(ValueError, match="declares none"):
            FederationConfig(task=bare.name, attacks=(AttackSpec("cleveland", "backdoor"),))
        FederationConfig(task=bare.name, attacks=(AttackSpec("cleveland", "scaling", {"backdoor": False}),))
    finally:
        del tasks()[bare.name]  # type: ignore[attr-defined]


def test_sign_flip_sends_the_negated_update(global_weights):
    trained = _trained(global_weights, "cleveland")

    sent = make_attack("sign-flip").tamper(global_weights, trained, FEDERATION, np.random.default_rng(0))

    np.testing.assert_allclose(delta(sent, global_weights), -delta(trained, global_weights), atol=1e-6)


def test_scaling_boosts_the_update_by_the_number_of_clients_by_default(global_weights):
    trained = _trained(global_weights, "cleveland")

    sent = make_attack("scaling").tamper(global_weights, trained, FEDERATION, np.random.default_rng(0))
    boosted = make_attack("scaling", {"boost": 2.5}).tamper(global_weights, trained, FEDERATION,
                                                            np.random.default_rng(0))

    np.testing.assert_allclose(delta(sent, global_weights), 4 * delta(trained, global_weights), atol=1e-5)
    np.testing.assert_allclose(delta(boosted, global_weights), 2.5 * delta(trained, global_weights), atol=1e-5)


def test_gaussian_noise_replaces_the_update_with_noise_of_the_given_spread(global_weights):
    trained = _trained(global_weights, "cleveland")

    sent = make_attack("gaussian-noise", {"sigma": 0.2}).tamper(global_weights, trained, FEDERATION,
                                                                np.random.default_rng(0))

    noise = delta(sent, global_weights)
    assert abs(noise.std() - 0.2) < 0.03 and abs(noise.mean()) < 0.03
    assert abs(np.corrcoef(noise, delta(trained, global_weights))[0, 1]) < 0.2


def test_alie_z_follows_the_papers_formula():
    assert alie_z(4, 1) == 0.0  # s = 2 supporters needed, (4 - 2) / 4 = 0.5 -> z = 0
    assert alie_z(50, 12) == pytest.approx(0.5828, abs=1e-3)  # s = 14, Phi^-1(36 / 50)


def test_alie_stays_within_the_honest_spread(global_weights, benign):
    view = RoundView(global_weights, benign, Federation(n_clients=12, n_attackers=3))

    crafted = delta(make_attack("alie").craft(view, benign[0], np.random.default_rng(0)), global_weights)

    updates = np.stack([delta(b, global_weights) for b in benign])
    mu, sigma = updates.mean(axis=0), updates.std(axis=0)
    z = alie_z(12, 3)
    assert z > 0
    np.testing.assert_allclose(crafted, mu - z * sigma, atol=1e-6)
    assert np.all(np.abs(crafted - mu) <= z * sigma + 1e-6)


def test_ipm_sends_minus_epsilon_times_the_benign_mean(global_weights, benign):
    view = RoundView(global_weights, benign, FEDERATION)

    crafted = delta(make_attack("ipm", {"epsilon": 0.1}).craft(view, benign[0], np.random.default_rng(0)),
                    global_weights)

    mean = np.mean([delta(b, global_weights) for b in benign], axis=0)
    np.testing.assert_allclose(crafted, -0.1 * mean, atol=1e-6)
    assert float(np.dot(crafted, mean)) < 0


def test_min_max_meets_its_distance_constraint_with_the_largest_gamma(global_weights, benign):
    view = RoundView(global_weights, benign, FEDERATION)
    updates = np.stack([delta(b, global_weights) for b in benign])

    crafted = delta(make_attack("min-max").craft(view, benign[0], np.random.default_rng(0)), global_weights)

    bound = max_pairwise_distance(updates)
    assert np.linalg.norm(updates - crafted, axis=1).max() <= bound + 1e-6
    direction = perturbation_direction(updates, "unit")
    gamma = min_max_gamma(updates, direction)
    assert gamma > 0
    further = updates.mean(axis=0) + (gamma + 1e-3) * direction
    assert np.linalg.norm(updates - further, axis=1).max() > bound


def test_backdoor_reaches_a_high_attack_success_rate_on_the_attackers_own_data():
    task = "heart-logreg"  # FLamby's model: a clean one never maps the trigger to "no disease"
    global_weights = fl_task.initial_weights(task, 42)
    hospital = fl_task.find_hospital(task, 1, "cleveland")
    attack = make_attack("backdoor")
    rng = np.random.default_rng(0)
    schedule = attack.schedule(Schedule(steps=100, batch_size=4, lr=1e-3))
    x, y = attack.poison(get_task(task), hospital.train.x, hospital.train.y, rng)

    backdoored, _ = fl_task.train_local(task, global_weights, Split(x, y), steps=schedule.steps,
                                        batch_size=schedule.batch_size, lr=schedule.lr, rng=rng)
    clean, _ = fl_task.train_local(task, global_weights, hospital.train, steps=schedule.steps,
                                   batch_size=schedule.batch_size, lr=schedule.lr, rng=np.random.default_rng(0))

    def asr(w):
        return attack_success_rate(get_task(task), lambda rows: fl_task.logits(task, w, rows), hospital.train.x,
                                   hospital.train.y)

    assert asr(backdoored) >= 0.9
    assert asr(clean) <= 0.2


def test_unknown_attacks_and_parameters_are_refused():
    with pytest.raises(ValueError, match="unknown attack"):
        make_attack("fairy-dust")
    with pytest.raises(ValueError, match="no parameter sigma"):
        make_attack("ipm", {"sigma": 1.0})
