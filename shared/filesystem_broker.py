"""The embedded broker: kombu's filesystem transport, with each message written whole before it can be read.

kombu's own `_put` creates the message file and only then writes it, and its `_get` takes any
file of the queue's name at once, so a worker can read a file still empty: the message is lost
and the worker dies of the JSON error (seen: 42 of 3,000 messages with a producer and a consumer
at once, tests/shared/test_filesystem_broker.py; and a worker crash under `aura up` fuzzing).
Here a message is written to a hidden temporary name that `_get` never matches, then renamed
into place; a rename within a folder is atomic, so a reader sees all of a message or none.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    """kombu's filesystem channel with atomic message writes."""

    # kombu's filesystem channel and its abstract base name the second parameter differently.
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        hidden = os.path.join(self.data_folder_out, f".{name}.tmp")  # `_get` matches "<stamp>.<queue>.msg" only
        try:
            with open(hidden, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(hidden, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    """The filesystem transport, with `Channel` above."""

    Channel = Channel


# `filesystem://` URLs resolve to this transport in every process that imports the Celery app.
TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
