"""Checking a submission's signature at intake: a registered key, a fresh timestamp, an unused nonce.

A federation that requires signatures refuses an unsigned update; a signature sent anyway is
checked wherever it goes, so a wrong one is never ignored. Every refusal is 403 with a code that
says which check failed; a header that cannot be read is 422. The nonce is stored in the same
transaction as the submission: an upload refused for another reason leaves it unused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.intake.validation import UploadRejected
from shared.evidence import canonical_json
from shared.models import Hospital, SignatureNonce, SigningKey, utcnow
from shared.signing import SignatureHeader, Signed, key_id, parse_public_key, public_text, record, verifies


class SigningKeyError(ValueError):
    """A signing key that cannot be registered or revoked; `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def register_key(session: Session, hospital_id: str, public_key: str) -> SigningKey:
    """Register a hospital's Ed25519 public key (SignatureFormatError if it is not one)."""
    if session.get(Hospital, hospital_id) is None:
        raise SigningKeyError("unknown_hospital", f"no hospital {hospital_id!r}")
    public = parse_public_key(public_key)
    existing = session.scalar(select(SigningKey).where(SigningKey.key_id == key_id(public)))
    if existing is not None:
        revoked = " (revoked: a revoked key is never registered again)" if existing.revoked_at else ""
        raise SigningKeyError("exists", f"key {existing.key_id} is already registered for hospital "
                              f"{existing.hospital_id!r}{revoked}")
    row = SigningKey(hospital_id=hospital_id, key_id=key_id(public), public_key=public_text(public))
    session.add(row)
    session.flush()
    return row


def revoke_key(session: Session, hospital_id: str, key: str) -> SigningKey:
    """Revoke a hospital's signing key: its signatures are refused from now on. Revoking twice keeps the first time."""
    row = session.scalar(select(SigningKey).where(SigningKey.key_id == key, SigningKey.hospital_id == hospital_id))
    if row is None:
        raise SigningKeyError("unknown_signing_key", f"hospital {hospital_id!r} has no signing key {key}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def check(session: Session, header: SignatureHeader | None, signed: Signed | None, *, required: bool,
          federation: str, max_skew_s: int, now: datetime) -> str | None:
    """The verified signature record to store (canonical JSON), None for an unsigned update it may take.

    `signed` is what the header's signature must cover (None exactly when there is no header).
    """
    if header is None or signed is None:
        if required:
            raise UploadRejected("signature_required", f"federation {federation!r} requires every update to be "
                                 "signed with the hospital's registered Ed25519 key (the Aura-Signature header)")
        return None
    key = session.scalar(select(SigningKey).where(SigningKey.key_id == header.key_id))
    if key is None or key.hospital_id != signed.hospital:
        raise UploadRejected("unknown_signing_key", f"key {header.key_id} is not a signing key registered for "
                             f"hospital {signed.hospital!r}")
    if key.revoked_at is not None:
        raise UploadRejected("revoked_signing_key", f"key {header.key_id} was revoked at {key.revoked_at.isoformat()}")
    skew = abs(now.timestamp() - header.signed_at)
    if skew > max_skew_s:
        raise UploadRejected("stale_signature", f"signed at {header.signed_at} (Unix seconds), {skew:.0f} s from the "
                             f"gateway's clock ({now.timestamp():.0f}); at most {max_skew_s} s is accepted: sign "
                             "again with a synchronised clock")
    if not verifies(parse_public_key(key.public_key), header.signature, signed):
        raise UploadRejected("bad_signature", "the signature does not verify for this file, hospital, federation, "
                             "task, run, round, time and nonce under key " + header.key_id)
    _use_nonce(session, signed, max_skew_s, now)
    return canonical_json(record(header, signed)).decode()


def _use_nonce(session: Session, signed: Signed, max_skew_s: int, now: datetime) -> None:
    # Nonces past the skew window can go: a signature that old is refused as stale before this.
    session.execute(delete(SignatureNonce).where(SignatureNonce.hospital_id == signed.hospital,
                                                 SignatureNonce.signed_at < now - timedelta(seconds=2 * max_skew_s)))
    try:
        with session.begin_nested():  # a savepoint: the replay is refused, the transaction lives on
            session.add(SignatureNonce(hospital_id=signed.hospital, nonce=signed.nonce,
                                       signed_at=datetime.fromtimestamp(signed.signed_at, UTC)))
    except IntegrityError as exc:
        raise UploadRejected("replayed_signature", f"nonce {signed.nonce} was already used by hospital "
                             f"{signed.hospital!r}: a signed request is accepted once; sign again") from exc

