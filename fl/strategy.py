"""AuraStrategy: any Flower strategy, aggregating only the updates AURA accepted.

A drop-in wrapper: `AuraStrategy(FedAvg(...), client=..., task=..., accounts=...)` runs wherever
the inner strategy runs (`vetter=` in place of `client=` vets with another Vetter, e.g. AURA's
stages in this process, fl/inprocess_vetting.py). Each round it registers the global model with
AURA, submits every reply's arrays with the sending hospital's key, waits for the verdicts and
hands copies of the accepted replies (weights capped at the registered partition sizes) to the
inner strategy. It fails closed: an error, a refusal, a timeout or an unknown sender keeps that
update out, and when no update is accepted the global model stays as it was.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
from flwr.serverapp import Grid
from flwr.serverapp.strategy import Strategy

from fl.identity import HospitalAccount, NodeDirectory, UnknownNode, capped_examples
from fl.records import NUM_EXAMPLES, claimed_hospital, from_record, num_examples, reply_arrays, to_record
from fl.sdk import AuraClient
from fl.vetting import Candidate, GatewayVetter, HospitalVerdict, Vetter, VettingUnavailable
from shared.tensors import dump_arrays

log = logging.getLogger(__name__)


@dataclass
class RoundReport:
    """What happened to one Flower round's updates in AURA."""

    server_round: int
    aura_round: int | None
    verdicts: list[HospitalVerdict] = field(default_factory=list)
    aggregated: bool = False
    plain_arrays: ArrayRecord | None = None  # the inner strategy's aggregate of every reply (shadow)
    seconds: float = 0.0

    @property
    def accepted(self) -> list[str]:
        """Hospitals whose update entered the aggregate."""
        return [v.hospital for v in self.verdicts if v.accepted]


def copy_reply(message: Message, weight: int) -> Message:
    """A deep copy of a reply whose num-examples is `weight`: inner strategies may empty what they get."""
    content = message.content
    records: dict[str, ArrayRecord | MetricRecord | ConfigRecord] = {}
    for key, arrays in content.array_records.items():
        records[key] = to_record(from_record(arrays))
    for key, metrics in content.metric_records.items():
        records[key] = MetricRecord({**dict(metrics.items()), NUM_EXAMPLES: int(weight)})
    for key, config in content.config_records.items():
        records[key] = ConfigRecord(dict(config.items()))
    clone = copy.deepcopy(message)
    clone.content = RecordDict(records)
    return clone


class AuraStrategy(Strategy):
    """Wraps a Flower strategy so only AURA-accepted updates are aggregated."""

    def __init__(self, inner: Strategy, *, client: AuraClient | None = None, task: str,
                 accounts: Mapping[str, HospitalAccount],
                 verdict_timeout: float = 180.0, shadow_plain: bool = False,
                 pinned_nodes: Mapping[int, str] | None = None,
                 on_verdict: Callable[[int, HospitalVerdict], None] | None = None,
                 on_round: Callable[[RoundReport], None] | None = None, vetter: Vetter | None = None,
                 federation: str | None = None) -> None:
        if vetter is None:
            if client is None:
                raise TypeError("AuraStrategy needs a client (AURA's gateway) or a vetter")
            vetter = GatewayVetter(client, federation)
        self.inner = inner
        self.client = client
        self.vetter = vetter
        self.task = task
        self.accounts = dict(accounts)
        self.verdict_timeout = verdict_timeout
        self.shadow_plain = shadow_plain
        self.directory = NodeDirectory(self.accounts, pinned_nodes)
        self.on_verdict = on_verdict
        self.on_round = on_round
        self.reports: dict[int, RoundReport] = {}
        self.aura_rounds: dict[int, int] = {}  # Flower round -> AURA round
        self._round_problem: dict[int, str] = {}
        self._run_tag = uuid.uuid4().hex[:12]  # makes idempotency keys unique per run

    # --- rounds -----------------------------------------------------------------------------

    def _open_round(self, server_round: int, arrays: ArrayRecord) -> None:
        """Register this round's global model as an AURA round (the run's next, or the task's next free one)."""
        try:
            self.aura_rounds[server_round] = self.vetter.open_round(self.task, dump_arrays(from_record(arrays)))
            return
        except VettingUnavailable as exc:
            problem = str(exc)
        self._round_problem[server_round] = problem
        log.error("AURA round for Flower round %d not opened: %s; its updates will be kept out", server_round, problem)

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        """Open the AURA round for this global model, then let the inner strategy configure training."""
        self._open_round(server_round, arrays)
        return self.inner.configure_train(server_round, arrays, config, grid)

    # --- aggregation ------------------------------------------------------------------------

    def _candidates(self, server_round: int, replies: list[Message], report: RoundReport
                    ) -> list[tuple[Candidate, Message]]:
        out: list[tuple[Candidate, Message]] = []
        for reply in replies:
            node = reply.metadata.src_node_id
            claim = claimed_hospital(reply)
            if reply.has_error():
                report.verdicts.append(HospitalVerdict(claim or f"node {node}", node, "excluded",
                                                       f"the client failed: {reply.error.reason}"))
                continue
            try:
                account = self.directory.resolve(node, claim)
                weight = capped_examples(num_examples(reply), account)
                if weight < 1:
                    raise UnknownNode(f"{account.name} claims to have trained on no examples")
                weights = from_record(reply_arrays(reply))
            except (UnknownNode, ValueError) as exc:
                report.verdicts.append(HospitalVerdict(claim or f"node {node}", node, "excluded", str(exc)))
                continue
            out.append((Candidate(account, node, weights, weight), reply))
        return sorted(out, key=lambda pair: pair[0].account.name)

    def aggregate_train(self, server_round: int, replies: Iterable[Message]
                        ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Vet every reply through AURA; aggregate the accepted ones with the inner strategy."""
        started = time.monotonic()
        report = RoundReport(server_round, self.aura_rounds.get(server_round))
        self.reports[server_round] = report
        candidates = self._candidates(server_round, list(replies), report)
        if report.aura_round is None:
            problem = self._round_problem.get(server_round, "round not opened")
            report.verdicts += [HospitalVerdict(c.account.name, c.node_id, "error",
                                                f"AURA round not opened ({problem}); kept out") for c, _ in candidates]
        else:
            def announce(verdict: HospitalVerdict) -> None:
                if self.on_verdict is not None:
                    self.on_verdict(server_round, verdict)

            report.verdicts += self.vetter.vet(self.task, report.aura_round, [c for c, _ in candidates],
                                               timeout=self.verdict_timeout,
                                               idempotency_prefix=f"{self._run_tag}:{server_round}",
                                               on_verdict=announce)
        accepted = set(report.accepted)
        chosen = [copy_reply(reply, c.num_examples) for c, reply in candidates if c.account.name in accepted]
        arrays, metrics = self.inner.aggregate_train(server_round, chosen) if chosen else (None, None)
        report.aggregated = arrays is not None
        if self.shadow_plain and candidates:
            everyone = [copy_reply(reply, c.num_examples) for c, reply in candidates]
            report.plain_arrays, _ = self.inner.aggregate_train(server_round, everyone)
        report.seconds = time.monotonic() - started
        if self.on_round is not None:
            self.on_round(report)
        return arrays, metrics

    # --- everything else is the inner strategy's ----------------------------------------------

    def configure_evaluate(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                           grid: Grid) -> Iterable[Message]:
        """The inner strategy's federated evaluation."""
        return self.inner.configure_evaluate(server_round, arrays, config, grid)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        """The inner strategy's evaluation aggregate."""
        return self.inner.aggregate_evaluate(server_round, replies)

    def summary(self) -> None:
        """Log the inner strategy's summary and AURA's part."""
        self.inner.summary()
        log.info("AuraStrategy: vetting through %s for task %s, %d hospitals, verdict timeout %.0f s",
                 self.vetter.where, self.task, len(self.accounts), self.verdict_timeout)
