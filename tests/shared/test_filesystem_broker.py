"""The embedded broker delivers every message whole while a producer and a consumer run at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue
from kombu.transport import resolve_transport

import shared.celery_app  # noqa: F401  (filesystem:// is AURA's transport from here on)
from shared.filesystem_broker import Transport

MESSAGES = 3000


def test_filesystem_urls_resolve_to_the_atomic_transport():
    assert resolve_transport("filesystem") is Transport


@pytest.mark.slow
def test_a_consumer_racing_a_producer_never_reads_a_message_half_written(tmp_path: Path):
    # kombu's own transport lost 42 of 3,000 here: the consumer took files still empty.
    # The control folder too: kombu's default is the working directory.
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path),
               "control_folder": str(tmp_path / "control"), "polling_interval": 0.001}
    queue = Queue("q", Exchange("q"), routing_key="q")
    received: list[int] = []
    failures: list[str] = []

    def produce() -> None:
        with Connection("filesystem://", transport_options=options) as connection:
            producer = connection.Producer()
            for i in range(MESSAGES):
                producer.publish({"i": i}, routing_key="q", exchange=Exchange("q"), declare=[queue])

    producer = threading.Thread(target=produce)
    producer.start()
    with Connection("filesystem://", transport_options=options) as connection:
        channel = connection.default_channel
        deadline = time.monotonic() + 120
        while len(received) + len(failures) < MESSAGES and time.monotonic() < deadline:
            try:
                message = channel.basic_get("q")
            except Exception as exc:  # the failure kombu's own transport shows
                failures.append(repr(exc))
                continue
            if message is not None:
                received.append(message.payload["i"])
    producer.join()

    assert failures == [] and sorted(received) == list(range(MESSAGES))
