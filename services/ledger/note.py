"""Ed25519 signed notes (c2sp.org/signed-note) and tlog checkpoints (c2sp.org/tlog-checkpoint).

Pure functions, no I/O. Key text formats follow Go's golang.org/x/mod/sumdb/note, which is how
the log's public key is published and handed to the offline verifier.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.ledger.merkle import HASH_SIZE

ED25519_TYPE = b"\x01"  # signature type byte assigned to Ed25519 by signed-note
_SIG_PREFIX = "\u2014 "  # em dash, space
_MAX_SIGNATURES = 100  # the spec asks for at least 16; Go's note package allows 100
_MAX_TREE_SIZE = 2**63 - 1  # sizes are stored as signed 64-bit integers
_SIZE_LINE = re.compile(r"0|[1-9][0-9]*")  # no leading zeroes, ASCII digits only
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # control characters other than newline
_SIGNER_PREFIX = "PRIVATE+KEY+"


class NoteError(ValueError):
    """A note, checkpoint or key text is malformed or carries no valid signature."""


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin line, tree size and root hash, plus optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse values that would not round-trip through `body` and `parse_checkpoint`."""
        for line in (self.origin, *self.extensions):
            if not line or "\n" in line or _CONTROL.search(line):
                raise NoteError(f"checkpoint line {line!r} is empty or has control characters")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise NoteError(f"tree size {self.size} is out of range")
        if len(self.root) != HASH_SIZE:
            raise NoteError(f"root hash is {len(self.root)} bytes, not {HASH_SIZE}")

    def body(self) -> bytes:
        """Return the checkpoint note text."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines).encode()


def _text(data: bytes) -> str:
    """Decode note bytes, refusing invalid UTF-8 and control characters other than newline."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError("note is not valid UTF-8") from exc
    if _CONTROL.search(text):
        raise NoteError("note contains control characters")
    return text


def _b64decode(s: str) -> bytes:
    """Decode standard padded base64 (RFC 4648 section 4), refusing other alphabets and junk."""
    try:
        return base64.b64decode(s.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise NoteError(f"invalid base64 {s!r}") from exc


def parse_checkpoint(body: bytes, *, origin: str | None = None) -> Checkpoint:
    """Parse checkpoint note text strictly; if `origin` is given, require that origin."""
    text = _text(body)
    if not text.endswith("\n"):
        raise NoteError("checkpoint does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise NoteError("checkpoint needs at least three lines, none of them empty")
    if origin is not None and lines[0] != origin:
        raise NoteError(f"checkpoint origin {lines[0]!r} is not {origin!r}")
    if not _SIZE_LINE.fullmatch(lines[1]):
        raise NoteError(f"invalid tree size {lines[1]!r}")
    root = _b64decode(lines[2])
    # Only the canonical encoding is accepted, so one tree head has exactly one text.
    if base64.b64encode(root).decode() != lines[2]:
        raise NoteError(f"non-canonical base64 root {lines[2]!r}")
    return Checkpoint(lines[0], int(lines[1]), root, tuple(lines[3:]))


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"key name {name!r} is empty or contains a space or '+'")


def _checked(public_key: bytes) -> bytes:
    if len(public_key) != 32:
        raise NoteError("an Ed25519 public key is 32 bytes")
    return public_key


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte key ID SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    _check_name(name)
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + _checked(public_key)).digest()[:4]


def sign_note(body: bytes, name: str, private_key: Ed25519PrivateKey) -> bytes:
    """Return `body` as a signed note carrying one Ed25519 signature by key `name`."""
    text = _text(body)
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    signature = key_id(name, _raw(private_key.public_key())) + private_key.sign(body)
    line = f"{_SIG_PREFIX}{name} {base64.b64encode(signature).decode()}\n"
    return body + b"\n" + line.encode()


def verify_note(note: bytes, name: str, public_key: bytes) -> bytes:
    """Return the text of `note` if this key validly signed it; otherwise raise NoteError."""
    text = _text(note)
    # The text ends with a newline and is separated from the signatures by the last blank line.
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        raise NoteError("note has no signature block")
    body, sig_lines = text[: split + 1], text[split + 2 : -1].split("\n")
    if len(sig_lines) > _MAX_SIGNATURES:
        raise NoteError("note has too many signatures")
    wanted_id = key_id(name, public_key)
    try:
        verifier = Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError as exc:
        raise NoteError("public key is not a valid Ed25519 key") from exc
    verified = False
    for line in sig_lines:
        if not line.startswith(_SIG_PREFIX) or line.count(" ") != 2:
            raise NoteError(f"malformed signature line {line!r}")
        signer, encoded = line[len(_SIG_PREFIX) :].split(" ")
        _check_name(signer)
        signature = _b64decode(encoded)
        if len(signature) < 5:
            raise NoteError(f"signature by {signer!r} is too short")
        # Signatures by other keys are ignored, as the spec requires; one from this key that
        # fails rejects the whole note, as it recommends.
        if signer != name or signature[:4] != wanted_id:
            continue
        try:
            verifier.verify(signature[4:], body.encode())
        except InvalidSignature as exc:
            raise NoteError(f"invalid signature by {verifier_key(name, public_key)}") from exc
        verified = True
    if not verified:
        raise NoteError(f"note has no signature by {verifier_key(name, public_key)}")
    return body.encode()


def verifier_key(name: str, public_key: bytes) -> str:
    """Return the Go vkey text "<name>+<hex key ID>+<base64(0x01 || public key)>"."""
    encoded = base64.b64encode(ED25519_TYPE + _checked(public_key)).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> tuple[str, bytes]:
    """Parse Go vkey text into (name, 32-byte Ed25519 public key), checking its key ID."""
    return _parse_key_text(vkey)


def signer_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Return the Go skey text "PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>"."""
    encoded = base64.b64encode(ED25519_TYPE + private_key.private_bytes_raw()).decode()
    return f"{_SIGNER_PREFIX}{name}+{key_id(name, _raw(private_key.public_key())).hex()}+{encoded}"


def parse_signer_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse Go skey text into (name, Ed25519 private key), checking its key ID."""
    if not skey.startswith(_SIGNER_PREFIX):
        raise NoteError("signer key does not start with PRIVATE+KEY+")
    name, seed = _parse_key_text(skey[len(_SIGNER_PREFIX) :], seed=True)
    return name, Ed25519PrivateKey.from_private_bytes(seed)


def _parse_key_text(text: str, *, seed: bool = False) -> tuple[str, bytes]:
    """Parse "<name>+<hex key ID>+<base64 key>", returning the name and the 32 key bytes."""
    parts = text.split("+", 2)  # the base64 key may itself contain "+"
    if len(parts) != 3:
        raise NoteError("key text is not <name>+<key ID>+<key>")
    name, hex_id, encoded = parts
    _check_name(name)
    key = _b64decode(encoded)
    if len(key) != 33 or key[:1] != ED25519_TYPE:
        raise NoteError("key is not a 32-byte Ed25519 key")
    public = _raw(Ed25519PrivateKey.from_private_bytes(key[1:]).public_key()) if seed else key[1:]
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id) or bytes.fromhex(hex_id) != key_id(name, public):
        raise NoteError(f"key ID {hex_id!r} does not match the key")
    return name, key[1:]
