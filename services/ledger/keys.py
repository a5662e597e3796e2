"""The log's identity: its origin, its Ed25519 signing key, and when checkpoints are due.

The key comes from ``AURA_LEDGER_SIGNING_KEY`` (Go ``PRIVATE+KEY+...`` text) or from the key
file, which is created on first use. The private key is never logged or served; only the
verifier key (``vkey``) is.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.ledger.note import parse_signer_key, signer_key, verifier_key
from shared.files import write_once
from shared.settings import Settings, get_settings


@dataclass(frozen=True)
class LogConfig:
    """Everything that signs and publishes checkpoints for one log."""

    origin: str
    key_name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    checkpoint_dir: Path
    every_entries: int = 100
    every_s: float = 60.0

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def vkey(self) -> str:
        """The verifier key text hospitals pin (Go note format)."""
        return verifier_key(self.key_name, self.public_key)


def load_or_create_key_file(path: Path, name: str) -> str:
    """Return the signer key text stored at `path`, creating a fresh key there if none exists."""
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    # Processes starting together may each generate a key: the first file written wins and
    # every process then uses that one.
    fresh = signer_key(name, Ed25519PrivateKey.generate()) + "\n"
    write_once(path, fresh.encode(), mode=0o600)
    return path.read_text().strip()  # another process's key, if it wrote first


def config_from_settings(settings: Settings) -> LogConfig:
    """The log configuration the settings describe (creating the key file if needed)."""
    text = settings.ledger_signing_key.get_secret_value() or load_or_create_key_file(
        settings.resolved_ledger_key_file, settings.ledger_origin)
    name, private_key = parse_signer_key(text)
    return LogConfig(origin=settings.ledger_origin, key_name=name, private_key=private_key,
                     checkpoint_dir=settings.resolved_checkpoint_dir,
                     every_entries=settings.checkpoint_every_entries, every_s=settings.checkpoint_every_s)


@lru_cache(maxsize=1)
def log_config() -> LogConfig:
    """The process's log configuration, read once."""
    return config_from_settings(get_settings())
