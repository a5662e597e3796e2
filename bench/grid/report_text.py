"""The report's fixed prose: the setup, how the detector decides, and the JSON layout."""

SETUP = """### Setup

- **Data and protocol** (FLamby's Fed-Heart-Disease, `shared/modeltask/data/PROVENANCE.md`): the four
  UCI centres as hospitals (Cleveland, Hungary, Switzerland, VA Long Beach), 15 rounds of 100 local
  SGD steps, batch 4, learning rate 1e-3, seeds 42-46; the MLP (13-16-1) and the logistic regression.
  AURA's golden set is 20% of each centre's training rows, held by the server, disjoint from every
  test set.
- **Attackers**: each centre in turn attacks alone among 4 hospitals; then every centre is split in
  two (8 hospitals) and each centre in turn attacks with both halves (two attackers). Every defence
  sees the same data, seeds and attackers.
- **Attacks** (fl/attacks, default parameters): label-flip, sign-flip (scale 1), gaussian-noise
  (sigma 0.3 per weight), scaling (model replacement: backdoor training boosted by n), ALIE
  (z from the paper's formula: 0 for 1 of 4, 0.32 for 2 of 8), IPM (epsilon 0.5), Min-Max (unit
  perturbation), backdoor (trigger on blood pressure, cholesterol and fasting sugar, lr 0.01, 200
  steps). ALIE, IPM and Min-Max are omniscient: they see the round's benign updates.
- **Defences**: FedAvg; AURA (AuraStrategy over FedAvg, every update vetted by AURA's own stage
  functions in process, shown equal to the full pipeline by tests/fl/test_inprocess_vetting.py);
  Flower 1.42's Krum, MultiKrum (selects n - f), Bulyan, FedMedian, FedTrimmedAvg (beta 0.2) with
  f = the true number of attackers (an advantage AURA does not get); server-side fixed clipping
  (Flower's DifferentialPrivacyServerSideFixedClipping without noise, clipping norm 0.04 = the
  median honest update norm of no-attack runs) over FedAvg.
- **Backdoor ASR**: share of diseased pooled-test rows that the trigger turns into "no disease".
  The clean models already have a non-zero rate (see the FedAvg no-attack column): the trigger's
  values move an under-trained model's logit too."""

DESIGN = """## How AURA decides (services/detector)

Every verdict is computed when the update arrives, from evidence fixed at that moment, so the same
order of arrival gives the same verdicts on any worker (tested against the full pipeline):

- **golden set** (the evaluator's metrics of the updated model on the server's golden rows):
  loss ratio to the global model (fine up to 1.03x), accuracy change (fine down to -0.12), and the
  golden loss gained per unit of update norm (fine up to +0.25);
- **geometry** against *the other hospitals'* updates AURA accepted in the federation's previous
  round (the hospital's own earlier update is never its reference, so an attacker that slipped
  through once cannot vouch for itself): norm ratio to their median (fine up to 3x; in a first
  round, to the median of the round's earlier updates); cosine with their FedAvg step (fine down to
  -0.9); the share of the update outside the plane of their mean and per-weight spread (ALIE, IPM
  and Min-Max build their update in that plane; fine from 15%; in a federation's first round, where
  no earlier round exists, the plane of the round's earlier updates once there are two); a copy of
  an earlier update of the round (colluding attackers send the same crafted update; fine from 5%);
  the update's norm relative
  to the global model's, against the task's calibrated honest maximum (the only reference a
  federation's very first update has; fine up to 2x);
- **golden set and geometry together** ("against the data"): a step against the others' step
  (suspicious from cosine -0.1) that also climbs the golden loss (suspicious from +0.10 per unit
  norm); the severity is the smaller of the two. Each half alone is normal for Switzerland and VA,
  whose data differ from the rest;
- **attribution fingerprint** (DeepLIFT/SHAP on the golden probe rows): cosine of the update's
  attribution shift with the other hospitals' last round (fine down to -0.92), naming the feature
  that departs most;
- **Isolation Forest** over the federation's accepted history (the feature vectors of all earlier
  rounds), speaking only when the update's anomaly score exceeds the history's 90th percentile by
  more than any honest update did in calibration (0.11).

Each signal is a severity in [0, 1] between its `fine` and `bad` values; the score is the largest
severity; an update is rejected at 0.5 (`AURA_DETECTOR_THRESHOLD`). Reasons are stored ranked, each
with its value, reference and a sentence with the numbers.

**Calibration, from honest data only.** Every `fine` end lies beyond the most extreme value the
feature took over all honest updates of 40 no-attack federations (both models, 4 and 8 hospitals,
seeds 0-9, never the benchmark's 42-46), with a margin; the forest's margin and the task's honest
update scale (services/detector/calibration.py) come from the same federations. Replayed over
those 3,600 honest updates the detector rejects none; the closest calls are "against the data"
(severity 0.46, an honest Switzerland MLP update) and the forest (0.43).

| feature | honest range, logistic regression | honest range, MLP | rule's `fine` |
|---|---|---|---|
| golden loss ratio | 0.960 - 1.013 | 0.987 - 1.016 | 1.03 |
| golden loss per unit norm | -0.480 - +0.131 | -0.274 - +0.175 | +0.25 |
| golden accuracy change | -0.082 - +0.082 | -0.092 - +0.112 | -0.12 |
| norm / others' median | 0.62 - 2.23 | 0.36 - 3.44 (first-round peers) | 3 |
| norm / global model's norm | 0.038 - 0.168 | 0.007 - 0.038 | 2x the calibrated max |
| cosine with the others' step | -0.42 - +0.94 | -0.54 - +0.94 | -0.9 (alone) |
| -cosine + 3 x slope | up to 1.03 | up to 1.03 | 1.15 |
| share outside the others' plane | 0.51 - 1.00 | 0.23 - 0.95 | 0.15 |
| ... outside the round's earlier updates' plane (first round) | 0.42 - 0.97 | 0.23 - 0.88 | 0.15 |
| distance to an earlier update | 0.29 - 1.58 | 0.31 - 1.35 | 0.05 |
| attribution cosine | -0.82 - +0.95 | -0.77 - +0.99 | -0.92 | No threshold was
fitted to the benchmark's labels. The shape of the rules was chosen knowing the published attack
families (a crafted update is a function of the others' mean and spread; a flipped one descends
against the data), which is the point of a detector; their numbers come from honest behaviour.

**What the fingerprint adds for the logistic regression.** For a linear model DeepLIFT's
attribution of feature j is w_j (x_j - mean of the background's x_j), so the fingerprint shift is
the weight change rescaled per feature by a fixed factor (the bias drops out). Its cosine with the
others' is a reweighted weight-space cosine: it can only agree with the geometry, never see what
the weights do not (the ablation's "fingerprint only" rows measure how much of the geometry's
detection it recovers). For the MLP it is a genuinely different, nonlinear view."""

JSON_LAYOUT = """## Layout of detection.json

```
{
  "meta": {"generated", "runs", "ok", "not_applicable", "seeds", "tasks", "attacks", "defences",
           "run_seconds_total", "wall_seconds_first_to_last_run", "wall_seconds_this_invocation",
           "workers", "json"},
  "tasks": {
    "<task>": {
      "defences": {"<defence>": {
          "runs", "not_applicable",
          "no_attack": {"pooled_accuracy", "mean_centre_accuracy", "pooled_balanced_accuracy",
                        "pooled_auc", "backdoor_asr", "centres": {"<centre>": accuracy}},
          "mean_accuracy_under_attack", "mean_centre_accuracy_under_attack",
          "accuracy_by_attack": {"<attack>": accuracy},
          "worst_case": {"accuracy", "attack", "attackers"},      # lowest attack/attackers cell
          "worst_attack": {"accuracy", "attack"},                 # lowest attack (mean over attackers)
          "cells": [{"attack", "attackers", "accuracy"}],
          "backdoor_asr": {"mean", "max"}}},                      # backdoor and scaling runs
      "detection": {"overall": {"tp", "fp", "tn", "fn", "tpr", "fpr", "auroc",
                                "best_tpr_at_fpr_0.02", "threshold_for_it"},
                    "excluding_round_1", "no_attack", "by_attack", "by_cell", "honest_by_hospital",
                    "unexplained_rejections", "rejections", "top_signal_of_rejections"},
      "fedavg_without_attack_by_split": {"1": accuracy, "2": accuracy},
      "ablation": {"<variant>": {"tp", "fp", "tn", "fn", "tpr", "fpr", "auroc"}},
      "goals": [{"goal", "value", "met"}]}},
  "runs": [                                  # one record per defence x attack x attackers x seed
    {"key", "task", "split", "hospitals", "attackers", "attack", "defence", "seed",
     "status": "ok" | "not_applicable", "note",             # note: why a defence cannot run
     "final": {"pooled_accuracy", "mean_centre_accuracy", "pooled_balanced_accuracy", "pooled_auc",
               "pooled_loss", "backdoor_asr", "centres": {"<centre>": accuracy}},
     "seconds", "finished_at",
     "detection": {"tp", "fp", "tn", "fn", "tpr", "fpr", "auroc", "unexplained_rejections"},  # AURA
     "updates": [[round, hospital, malicious 0/1, score, rejected 0/1], ...]}]              # AURA
}
```
Rates are fractions (the report prints %). Accuracy and rates of a summary are means over seeds
(and attackers where the row says so)."""

TRIED = """## What was tried, and what stands in the way

- **References.** The first detector compared an update with the round's *earlier* updates. The
  vetting order is alphabetical, so Cleveland (or both Cleveland halves) always arrives first and
  its attack became the reference for everyone after it (honest hospitals rejected). References
  now come from the federation's previous, closed round. Including the hospital's own previous
  update in that reference let an attacker that slipped through round 1 vouch for itself (MLP,
  Cleveland label flip: 0 of 15 caught, pooled accuracy 0.44); it is now always left out.
  Leaving out any other update nearly parallel to the hospital's (to stop the two colluding halves
  of a centre vouching for each other) also left out honest same-centre siblings and rejected
  0.33% of honest calibration updates: reverted. The colluding halves of Cleveland running a
  label flip therefore remain the logistic regression's weakest cell.
- **Direction.** A cosine rule on its own (fine down to -0.5) rejected honest Switzerland and VA
  as soon as an accepted attacker dominated the others' step: it now acts alone only at -0.9, and
  otherwise together with the golden-set slope ("against the data").
- **Isolation Forest.** Measured against the most anomalous accepted update it never spoke
  (isolation scores saturate); against the history's 90th percentile with the honest-calibrated
  margin it speaks rarely and adds no detection the rules miss (see the ablation).
- **First round.** Verdicts are given when an update arrives; in a federation's first round there is
  no earlier round, so only the golden set, the calibrated scale, copies and (from the third
  update of the round on) the crafted-update check against the round's earlier updates apply.
  That check was added after the first quick run: the honest first-round residuals of the 40
  calibration federations are 0.23 - 0.88 (MLP) and 0.42 - 0.97 (logistic regression), above the
  rule's 15%, and it catches the first-round ALIE, IPM and Min-Max update of the hospital vetted
  last (VA), which is built from exactly the updates vetted before it. The first update or two of a
  round (Cleveland, Hungary) have no reference at all: their round-1 crafted and flipped updates
  are accepted.
- **What the pooled golden set cannot tell apart.** Switzerland's and VA's honest updates are nearly
  orthogonal to (or against) the others' and already climb the pooled golden loss (98% / 74%
  positives), so their label-flipped or sign-flipped updates look like honest hospitals with the
  opposite prevalence: in the quick run (MLP, seed 42) honest Switzerland climbs the pooled golden
  loss by +0.085 to +0.096 per unit norm at cosine about -0.2 with the others' step, its flipped
  updates descend it (-0.050 to -0.001) at cosine about +0.1. No threshold set on honest data
  separates these on the pooled rows; before the own-centre rule below they were the cells with 0%
  detection (their effect on accuracy is small, small centres, or even positive).
- **What separates them: the golden rows of the hospital's own centre** (now the rule
  `own_rows_slope`). The golden set is 20% of each centre's training rows and the server knows each
  row's centre; a hospital registered with its centre is also scored on those rows. Measured first
  offline (`python -m bench.grid.own_rows`, bench/results/quick/own-rows-heart-mlp.json): on its own
  centre's rows every honest update of the quick run descends the loss (-0.69 to -0.14 per unit
  norm, all 1,500), and every label- or sign-flipped update climbs it (Switzerland +0.65 to +0.70,
  VA +0.21 to +0.32, Cleveland and Hungary +0.10 to +0.30); a replay that also rejected every
  climb took the quick run's TPR from 83.3% to 99.0% (MLP) and from 85.8% to 99.4% (logistic
  regression, own-rows-heart-logreg.json) with no honest update rejected. Over the calibration's 40
  no-attack federations (bench/results/own-rows-calibration.json) no honest update climbs its own
  rows: the largest changes are -0.022 (MLP) and -0.071 (logistic regression) per unit norm, of
  1,800 each. The rule is fine up to -0.02 and reaches the rejection point at 0 (a climb at all,
  from first principles, not fitted to attacks); the MLP's honest margin to it is thin, so a full
  run over more seeds should recheck it. The five-seed run did, and the margin did not hold in
  one place: on seed 46 the MLP's honest `cleveland-2` (one half of Cleveland in the 8-hospital
  split) climbs Cleveland's golden rows by up to +0.007 per unit norm, and 171 of its 375 honest
  updates (every attack, no attack included) are rejected by this rule; on seed 45 the same half
  comes within -0.005. A half-centre trains on about 100 rows, and a step that is honest on them can
  be flat on the centre's other rows. These make up 171 of the MLP's 178 false positives (the
  other 7: honest Switzerland in round 1 under Min-Max, where the attacker's tiny crafted update
  drags down the median norm of the round's earlier updates). Moving the rule's numbers after
  seeing these would be tuning to the benchmark, so the honest margin was rechecked on other honest
  data instead: 40 more no-attack MLP federations, seeds 10-29, 3,600 honest updates
  (`python -m bench.grid.own_rows --honest 10 19 ...`, bench/results/own-rows-honest-seeds10-19.json
  and -seeds20-29.json): none climbs its own centre's rows (largest -0.043 per unit norm, among the
  8-hospital halves; -0.090 with 4 hospitals). Over 5,400 honest calibration updates no honest
  step has climbed, so the rule's numbers stand, and seed 46's `cleveland-2` is a split whose half
  of Cleveland is unlike the centre's golden rows, which no threshold set on honest data foresees.
- **A tighter golden-slope rule.** Moving the golden-slope rule's rejection point from +0.325 (fine
  +0.25, bad +0.40) down to the largest honest value of calibration (+0.175) would catch Hungary's
  sign flip (+0.20 to +0.25) and the round-1 flips of Cleveland and Hungary: 13 more updates in
  the quick run, none honest. But honest updates of seed 42 reach +0.172 there, so that rule
  would have no margin on unseen seeds; it was measured (a replay) and not adopted.
- **Rules at the honest extreme.** Putting every rule's rejection point at the most extreme honest
  value of calibration (a replay on the quick run) rejected 10% of honest updates: the rules that
  compare with other hospitals (direction above all) move once an attacker was accepted, so
  their honest calibration does not bound their honest values under attack. Not adopted.
- **Accuracy goals.** Rejecting an attacker also removes its centre's real data: without Cleveland
  (41% of the training rows) the logistic regression loses several points against FedAvg without
  attack, whoever aggregates. The MLP under FLamby's protocol (learning rate 1e-3) barely trains
  (pooled loss about 0.70 after 15 rounds), so its accuracy moves by several points with which
  centre's label balance dominates; Krum without attack even beats FedAvg there. In the quick run
  (MLP, seed 42), where AURA rejects an attacker from round 2 on its accuracy is that of FedAvg over
  the other three centres: 54.3% without Cleveland, 51.2 - 51.6% without Hungary, 65.4 - 66.5%
  without Switzerland or VA, against 59.8% for FedAvg over all four without attack. So the
  "within 1 point" goal cannot be met when Cleveland or Hungary attack, however well AURA
  detects, and even perfect detection would put AURA's worst case (51.2%) only 2.0 points above
  Krum's (49.2%), short of the 3 points asked.
- **Backdoor success.** The clean models already turn 4% (logistic regression) and 23% (MLP) of
  diseased rows to "no disease" under the trigger, so the 2% bound is below the clean rate."""
