"""Submission signatures as bytes: the signed message, the header, the keys (no services needed)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.signing import (
    SignatureFormatError,
    Signed,
    key_id,
    parse_header,
    parse_public_key,
    public_text,
    sign,
    stored,
    verifies,
)

# RFC 8032, section 7.1, TEST 1: the secret key and the public key it derives.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
SIGNED = Signed(hospital="h-1", federation="heart", task=None, run=2, round=3, sha256="ab" * 32,
                signed_at=1_764_790_000, nonce="n0nce-n0nce-n0nce")


def test_the_signed_message_is_canonical_json_of_every_field():
    assert SIGNED.message() == (
        b'{"federation":"heart","hospital":"h-1","nonce":"n0nce-n0nce-n0nce","purpose":"aura-submission",'
        b'"round":3,"run":2,"sha256":"' + b"ab" * 32 + b'","signed_at":1764790000,"task":null,"v":1}')


def test_a_key_id_is_sha256_of_the_raw_public_key_and_both_forms_of_the_key_parse():
    key = Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()

    assert key_id(key.public_key()) == hashlib.sha256(RFC8032_PUBLIC).hexdigest()[:16]
    assert public_text(key.public_key()) == base64.b64encode(RFC8032_PUBLIC).decode()
    for text in (base64.b64encode(RFC8032_PUBLIC).decode(), pem):
        assert key_id(parse_public_key(text)) == key_id(key.public_key())


@pytest.mark.parametrize(("text", "says"), [
    ("not base64!", "not base64 and not PEM"),
    (base64.b64encode(bytes(31)).decode(), "32 bytes; this is 31"),
    (generate_private_key(65537, 2048).public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
     .decode(), "RSA key, not Ed25519"),
])
def test_a_public_key_that_is_not_ed25519_is_refused_saying_why(text, says):
    with pytest.raises(SignatureFormatError, match=says):
        parse_public_key(text)


def test_a_header_round_trips_and_verifies_only_what_was_signed():
    key = Ed25519PrivateKey.generate()
    header = parse_header(sign(key, SIGNED))

    assert (header.key_id, header.signed_at, header.nonce) == (key_id(key.public_key()), SIGNED.signed_at, SIGNED.nonce)
    assert verifies(key.public_key(), header.signature, SIGNED)
    for changed in ({"round": 4}, {"sha256": "cd" * 32}, {"run": None}, {"hospital": "h-2"}, {"task": "heart-mlp"}):
        assert not verifies(key.public_key(), header.signature, Signed(**{**SIGNED.__dict__, **changed}))
    assert not verifies(Ed25519PrivateKey.generate().public_key(), header.signature, SIGNED)


@pytest.mark.parametrize(("value", "says"), [
    ("key=0123456789abcdef; created=1; nonce=abcdefghijklmnop", "missing sig"),
    ("key=XYZ; created=1; nonce=abcdefghijklmnop; sig=AAAA", "16 lowercase hex"),
    ("key=0123456789abcdef; created=soon; nonce=abcdefghijklmnop; sig=AAAA", "Unix seconds"),
    ("key=0123456789abcdef, created=1; nonce=abcdefghijklmnop; sig=AAAA", "expected key="),
    ("key=0123456789abcdef; created=1; nonce=short; sig=AAAA", "16-64 characters"),
    ("key=0123456789abcdef; created=1; nonce=abcdefghijklmnop; sig=AAAA", "64 bytes; this is 3"),
    ("key=0123456789abcdef; key=0123456789abcdef; created=1; nonce=abcdefghijklmnop; sig=AAAA", "given twice"),
])
def test_a_malformed_header_is_refused_saying_what_is_wrong(value, says):
    with pytest.raises(SignatureFormatError, match=says):
        parse_header(value)


def test_a_stored_column_reads_as_a_record_and_an_old_unchecked_string_never_as_verified():
    assert stored(None) is None
    assert stored('{"alg":"ed25519","verified":true}') == {"alg": "ed25519", "verified": True}
    assert stored("sig-from-2025") == {"claimed": "sig-from-2025", "verified": False}
