"""Vetting one round's updates through AURA's gateway: submit each, then wait for the verdicts."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fl.identity import HospitalAccount
from fl.records import Weights
from fl.sdk import AuraClient, AuraError, VerdictTimeout
from shared.tensors import dump_arrays

ACCEPTED = "accepted"


@dataclass(frozen=True)
class Candidate:
    """An update waiting for its verdict."""

    account: HospitalAccount
    node_id: int
    weights: Weights
    num_examples: int  # after the cap


@dataclass(frozen=True)
class HospitalVerdict:
    """What AURA (or the strategy, when AURA could not answer) decided about one hospital's update."""

    hospital: str
    node_id: int | None
    verdict: str  # accepted | rejected | error | timeout | refused | excluded
    reason: str
    submission_id: str | None = None
    score: float | None = None

    @property
    def accepted(self) -> bool:
        """Only an `accepted` verdict lets an update in: everything else fails closed."""
        return self.verdict == ACCEPTED


def top_reason(body: dict[str, Any]) -> str:
    """The first-ranked reason of a finished submission, or what went wrong with it."""
    decision = body.get("decision") or {}
    reasons = decision.get("reasons") or []
    if reasons:
        return str(reasons[0].get("text", ""))
    return str(body.get("last_error") or f"status {body.get('status')}, no reasons")


def vet(client: AuraClient, task: str, aura_round: int, candidates: Sequence[Candidate], *, timeout: float,
        idempotency_prefix: str, on_verdict: Callable[[HospitalVerdict], None] | None = None,
        sequential: bool = True, federation: str | None = None, run: int | None = None) -> list[HospitalVerdict]:
    """Submit every candidate (in the given order) with its hospital's key and collect the verdicts.

    AURA judges an update against the round's earlier submissions and its accepted history. With
    `sequential` (the default) the next update is submitted only once the previous one has its
    verdict, so every earlier update is fully decided first and the same updates always get the
    same verdicts; `sequential=False` submits them all, then waits (faster with many workers).
    `timeout` bounds the whole round. With a federation (and its run) the updates go there; else
    to the task's default federation.
    """
    verdicts: list[HospitalVerdict] = []
    deadline = time.monotonic() + timeout

    def done(verdict: HospitalVerdict) -> None:
        verdicts.append(verdict)
        if on_verdict is not None:
            on_verdict(verdict)

    def submit(c: Candidate) -> str | None:
        try:
            body = client.for_key(c.account.key).submit(
                dump_arrays(c.weights), task=task, round=aura_round, num_examples=c.num_examples,
                idempotency_key=f"{idempotency_prefix}:{c.account.name}", federation=federation, run=run)
        except (AuraError, OSError) as exc:
            done(HospitalVerdict(c.account.name, c.node_id, "refused", str(exc)))
            return None
        return str(body["id"])

    def collect(submitted: dict[str, Candidate]) -> None:
        def finished(submission_id: str, body: dict[str, Any]) -> None:
            c = submitted[submission_id]
            score = (body.get("decision") or {}).get("score")
            done(HospitalVerdict(c.account.name, c.node_id, str(body.get("verdict") or "error"), top_reason(body),
                                 submission_id, float(score) if score is not None else None))

        try:
            client.wait(submitted, timeout=max(0.0, deadline - time.monotonic()), on_finished=finished)
        except VerdictTimeout as exc:
            for submission_id in exc.pending:
                c = submitted[submission_id]
                done(HospitalVerdict(c.account.name, c.node_id, "timeout",
                                     f"no verdict within {timeout:.0f} s; kept out", submission_id))
        except (AuraError, OSError) as exc:
            seen = {v.submission_id for v in verdicts}
            for submission_id, c in submitted.items():
                if submission_id not in seen:
                    done(HospitalVerdict(c.account.name, c.node_id, "error", f"could not read the verdict: {exc}",
                                         submission_id))

    if sequential:
        for c in candidates:
            submission_id = submit(c)
            if submission_id is not None:
                collect({submission_id: c})
    else:
        ids = {submission_id: c for c in candidates if (submission_id := submit(c)) is not None}
        collect(ids)
    return verdicts


class VettingUnavailable(Exception):
    """AURA could not open a round, so the round's updates are kept out."""


class Vetter(Protocol):
    """Where AuraStrategy has a round's updates vetted: AURA's gateway, or AURA's stages in this process."""

    @property
    def where(self) -> str:
        """A short description for logs (the gateway URL, or "in-process")."""

    def open_round(self, task: str, global_model: bytes) -> int:
        """Register the round's global model (safetensors bytes) as a fresh AURA round; its number."""

    def vet(self, task: str, aura_round: int, candidates: Sequence[Candidate], *, timeout: float,
            idempotency_prefix: str, on_verdict: Callable[[HospitalVerdict], None] | None = None
            ) -> list[HospitalVerdict]:
        """Every candidate's verdict, submitted in the given order."""

    def close(self) -> None:
        """Release connections."""


OPEN_ROUND_ATTEMPTS = 5  # another run may take the round we picked; try the next one


class GatewayVetter:
    """Vets through AURA's gateway with an AuraClient (operator key; hospital keys per candidate).

    With a federation, the Flower run is an AURA run of that federation: its newest run if that
    has no round yet, else a new one; Flower's rounds open its rounds 1, 2, ... in order, so its
    history is its own. Without one, rounds go to the task's default federation.
    """

    def __init__(self, client: AuraClient, federation: str | None = None) -> None:
        self.client = client
        self.federation = federation
        self.run: int | None = None
        self._opened = 0

    @property
    def where(self) -> str:
        """The gateway's URL."""
        return self.client.url

    def _open_federation_round(self, global_model: bytes) -> int:
        assert self.federation is not None
        try:
            if self.run is None:
                newest = self.client.federation(self.federation)["runs"][-1]
                self.run = newest["run"] if not newest["rounds"] else self.client.start_run(self.federation)
            self.client.open_federation_round(self.federation, self.run, self._opened + 1, global_model)
        except AuraError as exc:
            raise VettingUnavailable(str(exc)) from exc
        except OSError as exc:
            raise VettingUnavailable(f"gateway unreachable: {exc}") from exc
        self._opened += 1
        return self._opened

    def open_round(self, task: str, global_model: bytes) -> int:
        """Open the run's next round (or the next free round of the task's default federation); its number."""
        if self.federation is not None:
            return self._open_federation_round(global_model)
        problem = "no round was opened"
        for _ in range(OPEN_ROUND_ATTEMPTS):
            try:
                candidate = max(self.client.open_rounds(task), default=0) + 1
                self.client.open_round(task, candidate, global_model)
            except AuraError as exc:
                problem = str(exc)
                if exc.status == 409:  # another run registered that round first: take the next
                    continue
                break
            except OSError as exc:
                problem = f"gateway unreachable: {exc}"
                break
            return candidate
        raise VettingUnavailable(problem)

    def vet(self, task: str, aura_round: int, candidates: Sequence[Candidate], *, timeout: float,
            idempotency_prefix: str, on_verdict: Callable[[HospitalVerdict], None] | None = None
            ) -> list[HospitalVerdict]:
        """Submit through the gateway and poll for the verdicts (see `vet`)."""
        return vet(self.client, task, aura_round, candidates, timeout=timeout,
                   idempotency_prefix=idempotency_prefix, on_verdict=on_verdict, federation=self.federation,
                   run=self.run)

    def close(self) -> None:
        """Close the client's connection pool."""
        self.client.close()
