"""A clinic's side of one round: fetch nothing but the task, train on local rows, submit, wait for the verdict.

    python train_and_submit.py --clinic clinic-a --key "$KEY" --round 1 [--url http://127.0.0.1:8000] [--scale 1]

`--scale 25` sends the update blown up 25x: what a model-replacement attacker does.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from fl.sdk import AuraClient
from shared.modeltask.registry import get_task
from shared.tensors import dump_arrays


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clinic", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()

    task = get_task("wine-mlp")
    start = task.initial_weights()  # round 1 starts from the task's seed-0 initialisation
    model = task.model_from(start).train()
    data = task.dataset.centre(args.clinic).train
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
    rng = np.random.default_rng(0)
    for _ in range(50):
        rows = torch.from_numpy(rng.integers(0, len(data), 8))
        optimiser.zero_grad()
        task.objective.loss(model(torch.from_numpy(data.x)[rows]), torch.from_numpy(data.y)[rows]).backward()
        optimiser.step()
    trained = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    sent = {k: (start[k] + args.scale * (v - start[k])).astype(np.float32) for k, v in trained.items()}

    client = AuraClient(args.url, args.key)
    submission = client.submit(dump_arrays(sent), task="wine-mlp", round=args.round, num_examples=len(data))
    verdict = client.wait([submission["id"]], timeout=120)[submission["id"]]
    reasons = "; ".join(r["text"] for r in verdict["decision"]["reasons"][:2])
    print(f"{args.clinic}: {verdict['verdict']} ({reasons})")


if __name__ == "__main__":
    main()
