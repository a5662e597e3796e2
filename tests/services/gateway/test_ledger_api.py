"""The ledger API over HTTP: checkpoint, key, proofs, entries, stats, verify and receipts.

A gateway process of its own on a scratch database, so the log's exact shape is known: 21
entries (hospital A owns them) with signed checkpoints at 8 and 16.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from aura.processes import gateway_cmd
from services.gateway.auth import add_hospital, ensure_key
from services.ledger.keys import LogConfig
from services.ledger.merkle import verify_consistency, verify_inclusion
from services.ledger.note import signer_key
from services.ledger.verify_offline import decode_hashes, trusted_checkpoint, verify_receipt
from shared.db import create_database, drop_database, migrate
from shared.models import Role
from tests.services.ledger.rows import add_verdicts, append_all

ROOT = Path(__file__).resolve().parents[3]
OPERATOR = "aura_test_ledger_api_operator"


@dataclass(frozen=True)
class LedgerGateway:
    """The gateway's URL, the log it serves, and who may call it."""

    url: str
    log: LogConfig
    ids: list[str]
    owner: dict[str, str]
    stranger: dict[str, str]
    operator: dict[str, str]

    def get(self, path: str, headers: dict[str, str] | None = None, **params: object) -> httpx.Response:
        """GET an API path as the operator (or with `headers`)."""
        return httpx.get(f"{self.url}{path}", headers=headers or self.operator, params=params, timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def api(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerGateway]:
    """A gateway on a scratch database holding a 21-entry log."""
    url = create_database(database, "aura_ledger")
    migrate(url)
    data_dir = tmp_path_factory.mktemp("ledger-api")
    log = LogConfig(origin="api.test/ledger", key_name="api.test/ledger", private_key=Ed25519PrivateKey.generate(),
                    checkpoint_dir=data_dir / "checkpoints", every_entries=8)
    (data_dir / "ledger.key").write_text(signer_key(log.key_name, log.private_key))
    engine = sa.create_engine(url)
    with Session(engine) as session, session.begin():
        owner, stranger = add_hospital(session, "h-owner", "A"), add_hospital(session, "h-stranger", "B")
        ensure_key(session, OPERATOR, Role.OPERATOR)
    ids = add_verdicts(engine, 21, hospital="h-owner")
    append_all(engine, ids, log)
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "AURA_DATABASE_URL": url, "AURA_DATA_DIR": str(data_dir), "AURA_LEDGER_ORIGIN": log.origin}
    proc = subprocess.Popen(gateway_cmd("127.0.0.1", port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield LedgerGateway(base, log, ids, {"X-API-Key": owner}, {"X-API-Key": stranger}, {"X-API-Key": OPERATOR})
    finally:
        proc.terminate()
        proc.wait(15)
        drop_database(database, url)


def _root(note: str, log: LogConfig) -> tuple[int, bytes]:
    checkpoint = trusted_checkpoint(note.encode(), log.vkey, log.origin)
    return checkpoint.size, checkpoint.root


def test_key_serves_the_origin_and_the_verifier_key(api):
    assert api.get("/api/v1/ledger/key").json() == {"origin": "api.test/ledger", "key_name": "api.test/ledger",
                                                    "vkey": api.log.vkey}


def test_checkpoint_is_the_latest_signed_one(api):
    body = api.get("/api/v1/ledger/checkpoint").json()

    size, root = _root(body["note"], api.log)
    assert body["size"] == size >= 16
    assert base64.b64decode(body["root_hash"]) == root


def test_inclusion_proof_verifies_against_the_checkpoint_of_its_size(api):
    body = api.get("/api/v1/ledger/proofs/inclusion", index=5, size=16).json()

    size, root = _root(body["checkpoint"], api.log)
    assert size == body["tree_size"] == 16
    assert verify_inclusion(5, size, base64.b64decode(body["leaf_hash"]), decode_hashes(body["proof"]), root)


def test_inclusion_proof_defaults_to_the_latest_checkpoint(api):
    body = api.get("/api/v1/ledger/proofs/inclusion", index=2).json()

    assert body["tree_size"] == _root(body["checkpoint"], api.log)[0]


@pytest.mark.parametrize(("params", "status", "says"), [
    ({"index": 16, "size": 16}, 400, "not in a tree of size 16"),
    ({"index": 3, "size": 22}, 404, "beyond the log, which has 21 entries"),
    ({"index": -1, "size": 8}, 422, ""),
    ({"index": 0, "size": 0}, 422, ""),
])
def test_out_of_range_inclusion_requests_are_refused_clearly(api, params, status, says):
    answer = api.get("/api/v1/ledger/proofs/inclusion", **params)

    assert answer.status_code == status
    assert says in answer.text


def test_consistency_proof_links_two_signed_checkpoints(api):
    old = api.get("/api/v1/ledger/proofs/inclusion", index=0, size=8).json()["checkpoint"]
    new = api.get("/api/v1/ledger/proofs/inclusion", index=0, size=16).json()["checkpoint"]

    body = api.get("/api/v1/ledger/proofs/consistency", **{"from": 8, "to": 16}).json()

    (old_size, old_root), (new_size, new_root) = _root(old, api.log), _root(new, api.log)
    assert (body["old_size"], body["new_size"]) == (8, 16)
    assert verify_consistency(old_size, new_size, old_root, new_root, decode_hashes(body["proof"]))


@pytest.mark.parametrize(("params", "status", "says"), [
    ({"from": 9, "to": 8}, 400, "must not exceed"),
    ({"from": 1, "to": 30}, 404, "beyond the log"),
    ({"from": -1, "to": 8}, 422, ""),
])
def test_out_of_range_consistency_requests_are_refused_clearly(api, params, status, says):
    answer = api.get("/api/v1/ledger/proofs/consistency", **params)

    assert answer.status_code == status
    assert says in answer.text


def test_entry_is_served_by_index_and_a_missing_one_is_404(api):
    assert api.get("/api/v1/ledger/entries/7").json()["submission_id"] == api.ids[7]
    assert api.get("/api/v1/ledger/entries/21").status_code == 404


def test_stats_count_entries_nodes_and_uncovered_entries(api):
    body = api.get("/api/v1/ledger/stats").json()

    assert (body["size"], body["nodes"]) == (21, 21 + 10 + 5 + 2 + 1)
    assert body["uncovered"] == 21 - body["checkpoint_size"]


def test_verify_recomputes_the_log_against_its_checkpoints(api):
    body = httpx.post(f"{api.url}/api/v1/ledger/verify", headers=api.operator, timeout=30).json()

    assert body["ok"] and body["size"] == 21 and body["checkpoint_size"] >= 16


def test_hospital_fetches_its_own_receipt_and_it_verifies(api):
    body = api.get(f"/api/v1/submissions/{api.ids[20]}/receipt", headers=api.owner).json()

    check = verify_receipt(body, api.log.vkey, origin=api.log.origin)
    assert (check.index, check.tree_size) == (20, 21)  # no checkpoint covered entry 20: one was published


def test_another_hospitals_receipt_is_404(api):
    assert api.get(f"/api/v1/submissions/{api.ids[3]}/receipt", headers=api.stranger).status_code == 404
    assert api.get(f"/api/v1/submissions/{uuid.uuid4()}/receipt", headers=api.owner).status_code == 404
    assert api.get("/api/v1/submissions/no-such-id/receipt", headers=api.owner).status_code == 422  # not an id


def test_a_hospital_reads_its_own_entries_and_only_the_hashes_of_another_hospitals(api):
    mine = api.get("/api/v1/ledger/entries", headers=api.owner, limit=500).json()["items"]
    theirs = api.get("/api/v1/ledger/entries", headers=api.stranger, limit=500).json()["items"]
    everything = api.get("/api/v1/ledger/entries", limit=500).json()["items"]

    assert len(mine) == len(theirs) == len(everything) == 21  # every index and hash, to verify the log
    assert all(e["entry"] and e["submission_id"] for e in mine + everything)
    assert all(e["entry"] is None and e["submission_id"] is None for e in theirs)
    assert [(e["leaf_hash"], e["chain_hash"]) for e in theirs] == [(e["leaf_hash"], e["chain_hash"]) for e in mine]
    one = api.get("/api/v1/ledger/entries/3", headers=api.stranger).json()
    assert one["entry"] is None and one["leaf_hash"] == everything[-4]["leaf_hash"]
    proof = api.get("/api/v1/ledger/proofs/inclusion", headers=api.stranger, index=3)
    assert proof.status_code == 200  # what a verifier needs stays readable
