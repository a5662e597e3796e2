"""The attack lab's Grid: omniscient attackers get the round's benign updates, replies a fixed order.

ALIE, IPM and Min-Max craft their update from the benign updates of the round (the papers'
omniscient attacker). In a real federation that knowledge would come from colluding or
eavesdropping; here the experiment provides it with Flower messages, so it works the same in
every runner: after the train replies arrive, each omniscient attacker receives a second message
(`train.craft`) carrying the global model, its own honest update and the benign updates, and its
answer replaces its first reply. The strategy (AuraStrategy or a plain one) sees one reply per
hospital and cannot tell. Replies are also sorted by hospital so that floating-point
aggregation does not depend on which node answered first.
"""

from __future__ import annotations

from collections.abc import Iterable

from flwr.app import ConfigRecord, Message, MessageType, RecordDict
from flwr.serverapp import Grid
from flwr.supercore.run import Run

from fl.config import FederationConfig
from fl.records import (
    ARRAYS,
    BENIGN_PREFIX,
    CONFIG,
    CRAFT_ACTION,
    GLOBAL,
    OWN,
    claimed_hospital,
    from_record,
    reply_arrays,
    to_record,
)


def reply_order(message: Message) -> tuple[str, int]:
    """Sort key of a reply: the hospital it claims, then its node id (errors last)."""
    return (claimed_hospital(message) or "\uffff", message.metadata.src_node_id)


class AttackLabGrid(Grid):
    """A Grid that delegates to the runner's Grid and plays the omniscient attackers' second step."""

    def __init__(self, grid: Grid, config: FederationConfig) -> None:
        self._grid = grid
        self._config = config
        self._attackers = {s.hospital for s in config.attacks}
        self._omniscient = {s.hospital for s in config.attacks if s.build().omniscient}

    def set_run(self, run: Run) -> None:
        """Delegate."""
        self._grid.set_run(run)

    @property
    def run(self) -> Run:
        """Delegate."""
        return self._grid.run

    def create_message(self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str,
                       ttl: float | None = None) -> Message:
        """Delegate."""
        return self._grid.create_message(content, message_type, dst_node_id, group_id, ttl)

    def get_node_ids(self) -> Iterable[int]:
        """Delegate."""
        return self._grid.get_node_ids()

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        """Delegate."""
        return self._grid.push_messages(messages)

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        """Delegate."""
        return self._grid.pull_messages(message_ids)

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        """Send, collect the replies in hospital order, and let omniscient attackers craft theirs."""
        sent = list(messages)
        replies = sorted(self._grid.send_and_receive(sent, timeout=timeout), key=reply_order)
        if sent and sent[0].metadata.message_type == MessageType.TRAIN and self._omniscient:
            replies = self._craft(sent[0], replies, timeout)
        return replies

    def _craft(self, instruction: Message, replies: list[Message], timeout: float | None) -> list[Message]:
        benign = [r for r in replies if not r.has_error() and claimed_hospital(r) not in self._attackers]
        attackers = [r for r in replies if not r.has_error() and claimed_hospital(r) in self._omniscient]
        if not attackers:
            return replies
        server_round = instruction.content.config_records[CONFIG]["server-round"]
        global_record = instruction.content.array_records[ARRAYS]
        requests = []
        for reply in attackers:
            content = RecordDict({
                GLOBAL: to_record(from_record(global_record)),
                OWN: to_record(from_record(reply_arrays(reply))),
                CONFIG: ConfigRecord({"server-round": server_round}),
                **{f"{BENIGN_PREFIX}{i:03d}": to_record(from_record(reply_arrays(b))) for i, b in enumerate(benign)},
            })
            requests.append(Message(content, reply.metadata.src_node_id, f"{MessageType.TRAIN}.{CRAFT_ACTION}"))
        crafted = {m.metadata.src_node_id: m for m in self._grid.send_and_receive(requests, timeout=timeout)}
        attacker_replies = {id(r) for r in attackers}
        out = []
        for reply in replies:
            if id(reply) in attacker_replies:
                # An attacker that does not answer its second message sends nothing this round.
                if reply.metadata.src_node_id in crafted:
                    out.append(crafted[reply.metadata.src_node_id])
                continue
            out.append(reply)
        return sorted(out, key=reply_order)
