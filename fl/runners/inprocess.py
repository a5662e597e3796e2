"""The in-process runner: a Flower Grid that delivers messages to ClientApps in this process.

The same ServerApp, strategies, ClientApp and Messages as the simulation engine, minus Ray: each
message is deep-copied (as a transport would) and handled by the ClientApp right away. It gives
the same numbers as the simulation engine (tests/fl/test_runners.py), in a fraction of the time,
which is what benchmarks and fast tests need.
"""

from __future__ import annotations

import copy
import traceback
import uuid
from collections.abc import Iterable

from flwr.app import Context, Error, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.common.constant import SUPERLINK_NODE_ID, ErrorCode
from flwr.serverapp import Grid, ServerApp
from flwr.supercore.run import Run
from flwr.supercore.task_identity import TaskIdentity

from fl.client_app import make_client_app
from fl.config import RUN_CONFIG_KEY, FederationConfig
from fl.federation import AuraLink, FederationResult, Observer
from fl.server_app import make_server_app
from fl.vetting import Vetter

_FIRST_NODE_ID = 1001  # fixed ids: a run's node ids never change its numbers, but fixed ones ease reading logs
_RUN_ID = 1


class InProcessGrid(Grid):
    """Delivers each message to the ClientApp of its destination node, synchronously."""

    def __init__(self, client_app: ClientApp, node_configs: list[dict[str, int | str]],
                 run_config: dict[str, str]) -> None:
        self._client_app = client_app
        self._contexts = {
            _FIRST_NODE_ID + i: Context(run_id=_RUN_ID, node_id=_FIRST_NODE_ID + i, node_config=dict(cfg),
                                        state=RecordDict(), run_config=dict(run_config))
            for i, cfg in enumerate(node_configs)
        }
        self._replies: dict[str, Message] = {}
        self._run = Run.create_empty(_RUN_ID)
        # Message() reads the sender's identity from TaskIdentity, as in a ServerApp process.
        TaskIdentity.run_id = _RUN_ID
        TaskIdentity.task_id = 1
        TaskIdentity.node_id = SUPERLINK_NODE_ID

    def set_run(self, run: Run) -> None:
        """Keep the run."""
        self._run = run

    @property
    def run(self) -> Run:
        """The run."""
        return self._run

    def create_message(self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str,
                       ttl: float | None = None) -> Message:
        """A message to a node (Flower deprecates this in favour of the Message constructor)."""
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> Iterable[int]:
        """The nodes, all connected from the start."""
        return list(self._contexts)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        """Handle every message now; its reply waits to be pulled."""
        ids = []
        for message in messages:
            message_id = uuid.uuid4().hex
            message.metadata.__dict__["_message_id"] = message_id
            delivered = copy.deepcopy(message)
            try:
                reply = self._client_app(delivered, self._contexts[message.metadata.dst_node_id])
            except Exception as exc:  # as the simulation engine does: a failing client answers with an error
                reason = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
                reply = Message(Error(code=ErrorCode.CLIENT_APP_RAISED_EXCEPTION, reason=reason), reply_to=delivered)
            reply.metadata.__dict__["_message_id"] = uuid.uuid4().hex
            self._replies[message_id] = reply
            ids.append(message_id)
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        """The replies to these messages (each handed out once)."""
        return [self._replies.pop(i) for i in message_ids if i in self._replies]

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        """Push, then pull every reply (all are ready: delivery is synchronous)."""
        return self.pull_messages(list(self.push_messages(messages)))


def run_in_process(config: FederationConfig, *, aura: AuraLink | None = None,
                   observer: Observer | None = None, vetter: Vetter | None = None) -> FederationResult:
    """Run the federation's real ServerApp and ClientApps in this process (vetted via `aura` or `vetter`)."""
    results: list[FederationResult] = []
    server: ServerApp = make_server_app(config, aura=aura, observer=observer, on_result=results.append,
                                        vetter=vetter)
    node_configs: list[dict[str, int | str]] = [{"partition-id": i, "num-partitions": len(config.hospitals)}
                                                for i in range(len(config.hospitals))]
    grid = InProcessGrid(make_client_app(config), node_configs, {RUN_CONFIG_KEY: config.to_json()})
    server(grid, Context(run_id=_RUN_ID, node_id=SUPERLINK_NODE_ID, node_config={}, state=RecordDict(),
                         run_config={RUN_CONFIG_KEY: config.to_json()}))
    return results[0]
