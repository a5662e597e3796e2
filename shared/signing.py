"""Submission signatures: a hospital's Ed25519 signature over what it submits.

An API key says who may call; a signature says who made the update. With a federation that
requires signatures, a stolen API key alone cannot submit, and every ledger entry names the key
that signed its update so an auditor can check the signature again.

The signed message is the canonical JSON (`shared.evidence.canonical_json`) of

    {"v": 1, "purpose": "aura-submission", "hospital": ..., "federation": ..., "task": ...,
     "run": ..., "round": ..., "sha256": ..., "signed_at": ..., "nonce": ...}

with federation, task and run as the request names them (null where it leaves them out),
`sha256` the hex SHA-256 of the uploaded file, `signed_at` Unix seconds and `nonce` 16-64
characters of [A-Za-z0-9_-], used once. It travels in one header:

    Aura-Signature: key=<key id>; created=<signed_at>; nonce=<nonce>; sig=<base64url signature>

A key id is the first 16 hex digits of the SHA-256 of the raw 32-byte public key. This module is
shared by the gateway, which checks, and the SDK, which signs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from shared.evidence import canonical_json

HEADER = "Aura-Signature"
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_FIELD = re.compile(r"^\s*(key|created|nonce|sig)=([A-Za-z0-9_=-]+)\s*$")


class SignatureFormatError(ValueError):
    """A key or header that cannot be read (says what is wrong with it)."""


@dataclass(frozen=True)
class Signed:
    """What a signature covers: the request's scope as sent, the file's digest, when and a nonce."""

    hospital: str
    federation: str | None
    task: str | None
    run: int | None
    round: int
    sha256: str
    signed_at: int
    nonce: str

    def message(self) -> bytes:
        """The exact bytes signed."""
        return canonical_json({"v": 1, "purpose": "aura-submission", **asdict(self)})


@dataclass(frozen=True)
class SignatureHeader:
    """The parsed `Aura-Signature` header."""

    key_id: str
    signed_at: int
    nonce: str
    signature: bytes


def key_id(public: Ed25519PublicKey) -> str:
    """The key's id: 16 hex digits of SHA-256 over its raw bytes."""
    return hashlib.sha256(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    """The raw public key in standard base64 (44 characters), as registered."""
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key from its base64 raw form or a PEM SubjectPublicKeyInfo (`openssl pkey -pubout`)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = load_pem_public_key(text.encode())
        except ValueError as exc:
            raise SignatureFormatError(f"not a PEM public key: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise SignatureFormatError(f"a {type(key).__name__.removesuffix('PublicKey') or 'non'} key, not Ed25519")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise SignatureFormatError("not base64 and not PEM") from exc
    if len(raw) != 32:
        raise SignatureFormatError(f"an Ed25519 public key is 32 bytes; this is {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def new_private_key() -> Ed25519PrivateKey:
    """A fresh signing key."""
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    """The private key as unencrypted PKCS#8 PEM (what `openssl genpkey -algorithm ed25519` writes)."""
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """A signing key from a PKCS#8 PEM file."""
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SignatureFormatError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureFormatError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def new_nonce() -> str:
    """24 random URL-safe characters."""
    return secrets.token_urlsafe(18)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    """Bytes from unpadded base64url, as `sig=` and the ledger's records carry them (binascii.Error if not)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: Ed25519PrivateKey, signed: Signed) -> str:
    """The `Aura-Signature` header value for `signed`."""
    return (f"key={key_id(key.public_key())}; created={signed.signed_at}; nonce={signed.nonce}; "
            f"sig={_b64url(key.sign(signed.message()))}")


def parse_header(value: str) -> SignatureHeader:
    """The header's fields; SignatureFormatError says what is missing or wrong."""
    fields: dict[str, str] = {}
    for part in value.split(";"):
        match = _FIELD.match(part)
        if match is None:
            raise SignatureFormatError(f"expected key=...; created=...; nonce=...; sig=..., not {part.strip()[:40]!r}")
        if match[1] in fields:
            raise SignatureFormatError(f"{match[1]} is given twice")
        fields[match[1]] = match[2]
    missing = [name for name in ("key", "created", "nonce", "sig") if name not in fields]
    if missing:
        raise SignatureFormatError(f"missing {', '.join(missing)}")
    if not re.fullmatch(r"[0-9a-f]{16}", fields["key"]):
        raise SignatureFormatError("key must be a key id: 16 lowercase hex digits")
    if not re.fullmatch(r"[0-9]{1,12}", fields["created"]):
        raise SignatureFormatError("created must be Unix seconds")
    if not NONCE.match(fields["nonce"]):
        raise SignatureFormatError("nonce must be 16-64 characters of A-Z, a-z, 0-9, _ and -")
    try:
        signature = b64url_decode(fields["sig"])
    except (binascii.Error, ValueError) as exc:
        raise SignatureFormatError("sig must be base64url") from exc
    if len(signature) != 64:
        raise SignatureFormatError(f"an Ed25519 signature is 64 bytes; this is {len(signature)}")
    return SignatureHeader(fields["key"], int(fields["created"]), fields["nonce"], signature)


def verifies(public: Ed25519PublicKey, signature: bytes, signed: Signed) -> bool:
    """Whether `signature` is `public`'s signature of `signed`."""
    try:
        public.verify(signature, signed.message())
    except InvalidSignature:
        return False
    return True


def record(header: SignatureHeader, signed: Signed) -> dict[str, Any]:
    """What the submission and its ledger entry keep of a verified signature: enough to check it again."""
    return {"alg": "ed25519", "key": header.key_id, "signed": asdict(signed), "sig": _b64url(header.signature),
            "verified": True}


def stored(text: str | None) -> dict[str, Any] | None:
    """A submission's stored signature column as a record: None when unsigned.

    Migration 0017 wrapped the strings clients sent before signatures were checked as
    {"claimed": ..., "verified": false}; a bare string found anyway reads the same way.
    """
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"claimed": text, "verified": False}
