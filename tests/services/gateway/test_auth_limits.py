"""Failed authentication is limited per client address (behind a trusted proxy, from X-Forwarded-For) and recorded
bounded: repeats add to one row a minute, and the Security view counts every refusal."""

from __future__ import annotations

import random
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import RefusedUpload
from tests.conftest import running_gateway

pytestmark = pytest.mark.integration
LIMIT = 5


@pytest.fixture(scope="module")
def proxied(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway behind a trusted proxy at 127.0.0.1, allowing LIMIT failures a minute per client."""
    env = {"AURA_TRUSTED_PROXIES": "127.0.0.1/32", "AURA_AUTH_FAIL_LIMIT": str(LIMIT), "AURA_AUTH_FAIL_WINDOW_S": "60"}
    with running_gateway(env, tmp_path_factory.mktemp("auth") / "gateway.log") as url:
        yield url


def _address() -> str:
    return f"198.51.100.{random.randint(1, 254)}"  # TEST-NET-2 (RFC 5737): no real client


def test_a_client_past_the_limit_gets_429_with_retry_after_and_others_are_not_affected(proxied, operator_headers):
    client, other = _address(), _address()
    forwarded = {"X-Forwarded-For": f"{client}, 127.0.0.1"}  # the proxy's own hop is skipped

    codes = [httpx.get(f"{proxied}/api/v1/me", headers=forwarded | {"X-API-Key": "aura_wrong"}).status_code
             for _ in range(LIMIT + 2)]

    assert codes == [401] * (LIMIT - 1) + [429] * 3
    blocked = httpx.get(f"{proxied}/api/v1/me", headers=forwarded | operator_headers)
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 60
    fine = httpx.get(f"{proxied}/api/v1/me", headers={"X-Forwarded-For": other} | operator_headers)
    assert fine.status_code == 200


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(database, gateway, operator_headers):
    # The session's gateway trusts no proxy: X-Forwarded-For cannot pick the address counted.
    response = httpx.get(f"{gateway}/api/v1/me", headers={"X-Forwarded-For": "203.0.113.9", "X-API-Key": "aura_no"})
    assert response.status_code == 401
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(RefusedUpload.client == "203.0.113.9")) == 0


def test_repeats_add_to_one_row_and_the_security_view_counts_every_refusal(proxied, operator_headers):
    client = _address()
    for _ in range(2):  # under the limit: 401s, repeats within the minute
        httpx.get(f"{proxied}/api/v1/me", headers={"X-Forwarded-For": client, "X-API-Key": "aura_wrong"})
        httpx.get(f"{proxied}/api/v1/me", headers={"X-Forwarded-For": client})  # no key at all

    with session_scope() as session:
        rows = session.scalars(select(RefusedUpload).where(RefusedUpload.client == client)).all()
    assert sorted((r.code, r.count) for r in rows) == [("bad_key", 2), ("missing_key", 2)]
    summary = httpx.get(f"{proxied}/api/v1/security/summary", headers=operator_headers, params={"recent": 500}).json()
    mine = [r for r in summary["recent"] if r["client"] == client]
    assert sum(r["count"] for r in mine) == 4
