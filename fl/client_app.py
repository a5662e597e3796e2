"""The hospitals' ClientApp: train the task model on the hospital's own rows (or attack).

Which hospital a node is comes from its node config: `hospital="cleveland"` on a deployed
SuperNode, `partition-id` (an index into the federation's hospitals) in the simulation engine.
"""

from __future__ import annotations

from flwr.app import ArrayRecord, Context, Message
from flwr.clientapp import ClientApp

from fl import task as fl_task
from fl.attacks import RoundView, Schedule
from fl.config import RUN_CONFIG_KEY, FederationConfig
from fl.records import (
    ARRAYS,
    BENIGN_PREFIX,
    CONFIG,
    CRAFT_ACTION,
    GLOBAL,
    OWN,
    from_record,
    train_reply_content,
)
from shared.modeltask.data import Split
from shared.modeltask.registry import get_task


def federation_of(context: Context, fixed: FederationConfig | None) -> FederationConfig:
    """The run's federation config: the one given to the app, else the run config's JSON."""
    if fixed is not None:
        return fixed
    return FederationConfig.from_json(str(context.run_config.get(RUN_CONFIG_KEY, "{}")))


def hospital_of(context: Context, config: FederationConfig) -> fl_task.Hospital:
    """The hospital this node is."""
    if "hospital" in context.node_config:
        return fl_task.find_hospital(config.task, config.split, str(context.node_config["hospital"]))
    index = int(context.node_config["partition-id"])
    return config.hospitals[index]


def train(message: Message, context: Context, config: FederationConfig) -> Message:
    """One round of local training from the global model, honest or as the configured attack."""
    hospital = hospital_of(context, config)
    settings = message.content.config_records[CONFIG]
    server_round = int(settings["server-round"])  # type: ignore[arg-type]
    global_weights = from_record(message.content.array_records[ARRAYS])
    schedule = Schedule(steps=int(settings.get("local-steps", config.local_steps)),  # type: ignore[arg-type]
                        batch_size=int(settings.get("batch-size", config.batch_size)),  # type: ignore[arg-type]
                        lr=float(settings.get("lr", config.lr)))  # type: ignore[arg-type]
    rng = fl_task.rng_for(config.seed, server_round, hospital.name)
    attack = config.attack_of(hospital.name)
    x, y = hospital.train.x, hospital.train.y
    if attack is not None:
        schedule = attack.schedule(schedule)
        x, y = attack.poison(get_task(config.task), x, y, rng)
    trained, loss = fl_task.train_local(config.task, global_weights, Split(x, y), steps=schedule.steps,
                                        batch_size=schedule.batch_size, lr=schedule.lr, rng=rng)
    if attack is not None:
        trained = attack.tamper(global_weights, trained, config.federation, rng)
    return Message(train_reply_content(trained, len(y), loss, hospital.name), reply_to=message)


def craft(message: Message, context: Context, config: FederationConfig) -> Message:
    """An omniscient attacker's second answer, crafted from the round's benign updates."""
    hospital = hospital_of(context, config)
    attack = config.attack_of(hospital.name)
    if attack is None or not attack.omniscient:
        raise ValueError(f"{hospital.name} runs no omniscient attack and has nothing to craft")
    content = message.content
    benign = [from_record(r) for k, r in sorted(content.array_records.items()) if k.startswith(BENIGN_PREFIX)]
    server_round = int(content.config_records[CONFIG]["server-round"])  # type: ignore[arg-type]
    view = RoundView(global_weights=from_record(content.array_records[GLOBAL]), benign=benign,
                     federation=config.federation)
    own: ArrayRecord = content.array_records[OWN]
    # A generator of its own (round, hospital) stream offset by one, so crafting never replays
    # the draws local training used.
    rng = fl_task.rng_for(config.seed + 1, server_round, hospital.name)
    crafted = attack.craft(view, from_record(own), rng)
    return Message(train_reply_content(crafted, len(hospital.train), 0.0, hospital.name), reply_to=message)


def make_client_app(config: FederationConfig | None = None) -> ClientApp:
    """A ClientApp bound to `config`, or reading it from each run's run config when None."""
    app = ClientApp()

    @app.train()
    def _train(message: Message, context: Context) -> Message:
        return train(message, context, federation_of(context, config))

    @app.train(CRAFT_ACTION)
    def _craft(message: Message, context: Context) -> Message:
        return craft(message, context, federation_of(context, config))

    return app


app = make_client_app()  # what a deployed SuperNode loads (fl/app/pyproject.toml)
