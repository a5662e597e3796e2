"""The one settings object: every knob AURA has, read from ``AURA_*`` environment variables.

With no environment at all, AURA runs embedded: SQLite, a local blob folder and kombu's
``filesystem://`` broker under ``data_dir``. Set ``AURA_DATABASE_URL`` and ``AURA_BROKER_URL``
to run the same code on PostgreSQL and Redis.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """AURA configuration; the embedded defaults live here and nowhere else."""

    model_config = SettingsConfigDict(env_prefix="AURA_", extra="ignore")

    environment: str = Field("development", description="development | production")
    data_dir: Path = Field(Path(".aura"), description="root of embedded state (db, blobs, broker)")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in data_dir")
    broker_url: str = Field("", description="Celery broker URL; empty means filesystem:// in data_dir")
    blob_dir: Path | None = Field(None, description="content-addressed blob store; default data_dir/blobs")

    # Task plugins beyond the installed `aura.tasks` entry points: comma-separated module paths,
    # each `package.module` (its TASKS attribute) or `package.module:attribute`.
    task_modules: str = ""

    # Upload limits: these caps stop a client from filling the disk or making the parser allocate
    # on a hostile header. A task whose float32 update is larger gets exactly that much more room.
    max_upload_bytes: int = 8 * 1024 * 1024
    max_header_bytes: int = 64 * 1024

    # Reliability: a submission not decided within stuck_after_s is re-queued by the sweeper.
    # It gets an `error` verdict after max_attempts failed stage executions, or after max_resends
    # re-sends that all came to nothing (a worker killed by the update every time leaves no
    # error to count): about an hour at the defaults, far past any broker outage worth riding out.
    stuck_after_s: float = 120.0
    # Redis only: a message a worker took but never acked (the worker died) is handed out again
    # after this long. It must exceed the longest task time limit (150 s), or a slow task would
    # run twice at once; the sweeper covers anything the broker itself loses.
    broker_visibility_timeout_s: float = 3600.0
    max_attempts: int = 3
    # Each worker writes a heartbeat row this often; one silent for 3 beats is shown as gone.
    heartbeat_interval_s: float = Field(10.0, gt=0)
    max_resends: int = 30
    sweep_interval_s: float = 10.0

    # Torch threads in each worker child: one, since the worker already runs a child per core.
    worker_torch_threads: int = Field(1, ge=1)

    # Detection: the anomaly score above which an update is rejected, and how much accepted
    # history the Isolation Forest needs before it is trusted.
    detector_threshold: float = 0.5
    forest_min_history: int = 16

    # Bootstrap: an admin key read once at start-up (`aura up` sets one for the demo). Empty
    # means no admin key is created; keys are then issued with `aura hospitals add`.
    bootstrap_operator_key: str = ""

    # Failed authentication: a client address with auth_fail_limit failures within auth_fail_window_s
    # gets 429 until the window has passed. Behind a reverse proxy, name it in trusted_proxies
    # (comma-separated addresses or networks) so the address comes from its X-Forwarded-For.
    # Signed submissions: a signature's timestamp may be this far from the gateway's clock, either
    # way. Its nonce is remembered this long too; an older signature is refused as stale anyway.
    signature_max_skew_s: int = Field(300, ge=1)
    auth_fail_limit: int = Field(20, ge=1)
    auth_fail_window_s: float = Field(60.0, gt=0)
    trusted_proxies: str = ""
    # Federated runs started through the API train on the gateway's machine: at most this many at once.
    max_active_runs: int = Field(1, ge=1)
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    # Where hospitals and run workers reach the gateway. Keys the gateway mints for a run travel
    # only to this address, never to one taken from a request's Host header (which a caller picks).
    public_url: str = Field("", description="the gateway's public base URL; empty: http://gateway_host:gateway_port")
    frontend_dist: Path = Field(Path("frontend/dist"), description="built dashboard served at /")

    # Ledger: the log's name in its checkpoints and its Ed25519 signing key. The key is the
    # Go-style `PRIVATE+KEY+...` text, or else read from ledger_key_file (created on first use).
    # Every process that signs must use the same key: share the file or set the text.
    ledger_origin: str = "aura.local/ledger"
    ledger_signing_key: SecretStr = Field(SecretStr(""), description="PRIVATE+KEY+... text; empty: key file")
    ledger_key_file: Path | None = Field(None, description="signing key file; default data_dir/ledger.key")
    # A signed checkpoint is published once this many entries are uncovered, or this long after
    # the first uncovered entry, whichever comes first; receipts publish one on demand.
    checkpoint_every_entries: int = Field(100, ge=1)
    checkpoint_every_s: float = Field(60.0, gt=0)
    checkpoint_dir: Path | None = Field(None, description="write-once checkpoint copies; default data_dir/checkpoints")

    @model_validator(mode="after")
    def _refuse_embedded_in_production(self) -> Settings:
        if self.environment == "production" and (not self.database_url or not self.broker_url):
            raise ValueError("production needs AURA_DATABASE_URL and AURA_BROKER_URL set")
        return self

    @property
    def task_module_paths(self) -> list[str]:
        """The module paths named in task_modules."""
        return [p.strip() for p in self.task_modules.split(",") if p.strip()]

    @property
    def resolved_public_url(self) -> str:
        """The gateway's base URL for hospitals and run workers (no trailing slash)."""
        return (self.public_url or f"http://{self.gateway_host}:{self.gateway_port}").rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force (SQLite in data_dir when none is set)."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'aura.db').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        """The broker URL in force (kombu filesystem transport when none is set)."""
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        """Where the filesystem broker keeps its messages."""
        return (self.data_dir / "broker").resolve()

    @property
    def resolved_ledger_key_file(self) -> Path:
        """The ledger signing key file in force."""
        return (self.ledger_key_file or self.data_dir / "ledger.key").resolve()

    @property
    def resolved_checkpoint_dir(self) -> Path:
        """The folder checkpoints are also written to."""
        return (self.checkpoint_dir or self.data_dir / "checkpoints").resolve()

    @cached_property  # every load of an update's weights asks; resolving the path each time costs syscalls
    def resolved_blob_dir(self) -> Path:
        """The blob store folder in force."""
        return (self.blob_dir or self.data_dir / "blobs").resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
