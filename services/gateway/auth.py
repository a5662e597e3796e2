"""API keys: issued once, stored as SHA-256, presented as `Authorization: Bearer` or `X-API-Key`."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake.refusals import failures_since, record_refusal
from shared.db import read_scope
from shared.models import ApiKey, Hospital, Role
from shared.modeltask.registry import known_centres
from shared.settings import get_settings

KEY_PREFIX = "aura_"


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(session: Session, role: Role, hospital_id: str | None = None, purpose: str | None = None) -> str:
    """Create a key for `role` (and hospital), store its hash, and return the key itself once."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(key_sha256=hash_key(key), prefix=key[:12], role=role, hospital_id=hospital_id,
                       purpose=purpose))
    return key


class UnknownCentre(ValueError):
    """A hospital named a centre no task's golden set holds rows of."""


def add_hospital(session: Session, hospital_id: str, name: str, centre: str | None = None,
                 purpose: str | None = None) -> str:
    """Register a hospital (with the data centre its rows come from, if known) and return its first API key."""
    if session.get(Hospital, hospital_id) is not None:
        raise ValueError(f"hospital {hospital_id!r} already exists")
    if centre is not None and centre not in known_centres():
        raise UnknownCentre(f"unknown centre {centre!r}; known: {', '.join(known_centres())}")
    session.add(Hospital(id=hospital_id, name=name, centre=centre))
    session.flush()
    return issue_key(session, Role.HOSPITAL, hospital_id, purpose=purpose)


def ensure_key(session: Session, key: str, role: Role) -> None:
    """Install a known key (the bootstrap operator key) if it is not there yet."""
    if session.scalar(select(ApiKey).where(ApiKey.key_sha256 == hash_key(key))) is None:
        session.add(ApiKey(key_sha256=hash_key(key), prefix=key[:12], role=role))


@dataclass(frozen=True)
class Principal:
    """Who is calling."""

    role: Role
    hospital_id: str | None

    @property
    def reads_all(self) -> bool:
        """Operators and admins read every hospital's data."""
        return self.role in (Role.OPERATOR, Role.ADMIN)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


# Client addresses over the failed-authentication limit -> when (monotonic) they may try again. Each
# gateway process learns it from the shared count at the client's next failure, and then refuses
# the client without a database read.
_blocked: dict[str, float] = {}


def _too_many(client: str, until: float) -> HTTPException:
    wait = max(1, math.ceil(until - time.monotonic()))
    record_refusal(None, "rate_limited", "too many failed authentications from this address", client)
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, f"too many failed authentications from {client}; "
                         f"retry in {wait} s", headers={"Retry-After": str(wait)})


def _refuse(client: str, code: str, message: str) -> HTTPException:
    """Record a failed authentication; 429 once the client is over the limit, else 401."""
    settings = get_settings()
    record_refusal(None, code, message, client)
    if failures_since(client, settings.auth_fail_window_s) >= settings.auth_fail_limit:
        _blocked[client] = time.monotonic() + settings.auth_fail_window_s
        if len(_blocked) > 100_000:  # bounded: forget the ones whose time is up
            now = time.monotonic()
            for stale in [c for c, t in _blocked.items() if t <= now]:
                del _blocked[stale]
        return _too_many(client, _blocked[client])
    return _unauthorized(message if code == "bad_key" else
                         "missing API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`")


def principal(
    request: Request,
    authorization: Annotated[str | None, Header(max_length=512)] = None,
    x_api_key: Annotated[str | None, Header(max_length=512)] = None,
) -> Principal:
    """Resolve the caller from its API key; 401 when missing, unknown or revoked, 429 after too many failures."""
    # The peer, or behind a proxy named in AURA_TRUSTED_PROXIES the address it forwarded (app.py).
    client = (request.client.host if request.client else "unknown")[:64]
    until = _blocked.get(client)
    if until is not None and until > time.monotonic():
        raise _too_many(client, until)
    key = x_api_key or (authorization[7:].strip() if authorization and authorization.lower().startswith("bearer ")
                        else None)
    if not key:
        raise _refuse(client, "missing_key", "request without an API key")
    # Outside any transaction: the request's handler (intake) opens transactions of its own, and
    # on SQLite a transaction would hold the write lock.
    with read_scope() as connection:
        row = connection.execute(select(ApiKey.role, ApiKey.hospital_id, ApiKey.revoked_at)
                                 .where(ApiKey.key_sha256 == hash_key(key))).first()
    if row is None or row.revoked_at is not None:
        raise _refuse(client, "bad_key", "unknown or revoked API key")
    return Principal(Role(row.role), row.hospital_id)


PrincipalDep = Annotated[Principal, Depends(principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency that admits only the given roles (403 otherwise)."""

    def check(who: PrincipalDep) -> Principal:
        if who.role not in roles:
            wanted = " or ".join(r.value for r in roles)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs a key with role {wanted}; yours is {who.role}")
        return who

    return Depends(check)
