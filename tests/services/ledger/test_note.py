"""Tests for signed notes and checkpoints: Go and C2SP known answers, then properties."""

from __future__ import annotations

import base64
import contextlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from services.ledger.merkle import leaf_hash
from services.ledger.note import (
    Checkpoint,
    NoteError,
    key_id,
    parse_checkpoint,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    signer_key,
    verifier_key,
    verify_note,
)

# Known answers copied from golang/mod, sumdb/note/note_test.go (TestNewVerifier, TestNewSigner,
# TestSign, TestOpen).
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = b"If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
).encode()
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
).encode()

# Known answer copied from golang/mod, sumdb/tlog/note_test.go (TestFormatTree): a tree head
# whose hash is RecordHash("hello world"), i.e. the RFC 9162 leaf hash of "hello world".
GO_TREE = b"go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
# The example checkpoint body from C2SP/C2SP, tlog-checkpoint.md.
C2SP_CHECKPOINT = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
C2SP_SIG = (
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Z"
    "hcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
).encode()


def corrupt(sig_line: bytes) -> bytes:
    # Go's TestOpen inserts "ABCD" at byte 60 of a signature line (the em dash is three bytes).
    return sig_line[:60] + b"ABCD" + sig_line[60:]


def test_sign_note_matches_go_vector_byte_for_byte() -> None:
    name, private_key = parse_signer_key(PETER_SKEY)
    assert sign_note(TEXT, name, private_key) == TEXT + b"\n" + PETER_SIG


def test_key_ids_match_go_vectors() -> None:
    for vkey, expected in [(PETER_VKEY, "c74f20a3"), (ENOCH_VKEY, "af0cfe78")]:
        name, public_key = parse_verifier_key(vkey)
        assert key_id(name, public_key).hex() == expected


def test_key_texts_round_trip_go_vectors() -> None:
    name, private_key = parse_signer_key(PETER_SKEY)
    public_key = parse_verifier_key(PETER_VKEY)[1]
    assert signer_key(name, private_key) == PETER_SKEY
    assert verifier_key(name, public_key) == PETER_VKEY
    assert private_key.public_key().public_bytes_raw() == public_key


def test_verify_note_returns_text_signed_by_each_known_key() -> None:
    note = TEXT + b"\n" + PETER_SIG + ENOCH_SIG
    assert verify_note(note, *parse_verifier_key(PETER_VKEY)) == TEXT
    assert verify_note(note, *parse_verifier_key(ENOCH_VKEY)) == TEXT


def test_verify_note_ignores_other_keys_even_when_their_signature_is_corrupt() -> None:
    note = TEXT + b"\n" + PETER_SIG * 2 + ENOCH_SIG * 2 + corrupt(ENOCH_SIG)
    assert verify_note(note, *parse_verifier_key(PETER_VKEY)) == TEXT


def test_verify_note_rejects_note_signed_only_by_other_key() -> None:
    with pytest.raises(NoteError, match="no signature by PeterNeumann"):
        verify_note(TEXT + b"\n" + ENOCH_SIG, *parse_verifier_key(PETER_VKEY))


def test_verify_note_rejects_corrupt_signature_from_known_key() -> None:
    with pytest.raises(NoteError, match="invalid signature"):
        verify_note(TEXT + b"\n" + corrupt(PETER_SIG), *parse_verifier_key(PETER_VKEY))


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + b"\n",
        TEXT + b"\n" + PETER_SIG[:-1],
        b"\x01" + TEXT + b"\n" + PETER_SIG,
        b"\xff" + TEXT + b"\n" + PETER_SIG,
        TEXT + b"\n" + PETER_SIG.replace(b"PeterNeumann", b"Bad Name")[:-1],
        TEXT + b"\n" + PETER_SIG + b"Unexpected line.\n",
        TEXT + b"\n" + PETER_SIG * 101,
        TEXT + b"\n" + "\u2014 PeterNeumann AAAA\n".encode() + PETER_SIG,
    ],
    ids=[
        "no-sigs",
        "blank-only",
        "no-final-newline",
        "control",
        "not-utf8",
        "bad-name",
        "junk",
        "101",
        "short-sig",
    ],
)
def test_verify_note_rejects_malformed_notes_from_go_tests(note: bytes) -> None:
    with pytest.raises(NoteError):
        verify_note(note, *parse_verifier_key(PETER_VKEY))


@pytest.mark.parametrize(("old", "new"), [(b"PeterNeumann", b"CarmenSandiego"), (b"x08g", b"xxxx")], ids=["name", "id"])
def test_verify_note_rejects_signature_under_other_name_or_key_id(old: bytes, new: bytes) -> None:
    with pytest.raises(NoteError, match="no signature"):
        verify_note(TEXT + b"\n" + PETER_SIG.replace(old, new), *parse_verifier_key(PETER_VKEY))


def manglings(key_text: str) -> list[str]:
    """Every proper substring and every one-byte increment, as Go's key tests try."""
    b = key_text.encode()
    subs = [b[i:j] for i in range(len(b) + 1) for j in range(i + 1, len(b) + 1)]
    bumped = [b[:i] + bytes([b[i] + 1]) + b[i + 1 :] for i in range(len(b))]
    return [m.decode() for m in subs + bumped if m != b]


def test_parse_verifier_key_rejects_every_mangling_from_go_tests() -> None:
    bad = [
        *manglings(PETER_VKEY),
        # Wrong key length and unknown algorithm, each with an adjusted key hash (Go's vectors).
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ]
    for vkey in bad:
        with pytest.raises(NoteError):
            parse_verifier_key(vkey)


def test_parse_signer_key_rejects_every_mangling_from_go_tests() -> None:
    for skey in manglings(PETER_SKEY):
        with pytest.raises(NoteError):
            parse_signer_key(skey)


@pytest.mark.parametrize(("body", "name"), [(b"abc", "PeterNeumann"), (TEXT, "a+b"), (TEXT, "a b"), (TEXT, "")])
def test_sign_note_refuses_unterminated_text_or_invalid_name(body: bytes, name: str) -> None:
    with pytest.raises(NoteError):
        sign_note(body, name, parse_signer_key(PETER_SKEY)[1])


def test_checkpoint_body_matches_go_tree_vector() -> None:
    checkpoint = Checkpoint("go.sum database tree", 123456789012, leaf_hash(b"hello world"))
    assert checkpoint.body() == GO_TREE
    assert parse_checkpoint(GO_TREE, origin="go.sum database tree") == checkpoint


def test_parse_checkpoint_reads_c2sp_example() -> None:
    checkpoint = parse_checkpoint(C2SP_CHECKPOINT)
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == (
        "example.com/behind-the-sofa",
        20852163,
        (),
    )
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.body() == C2SP_CHECKPOINT


def test_c2sp_example_note_parses_but_has_no_signature_by_our_key() -> None:
    with pytest.raises(NoteError, match="no signature"):
        verify_note(C2SP_CHECKPOINT + b"\n" + C2SP_SIG, *parse_verifier_key(PETER_VKEY))


def test_checkpoint_extension_lines_round_trip() -> None:
    checkpoint = Checkpoint("aura.example/ledger", 7, b"\x07" * 32, ("ext one", "ext two"))
    assert parse_checkpoint(checkpoint.body()) == checkpoint


ROOT_B64 = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


@pytest.mark.parametrize(
    "body",
    [
        b"not-" + GO_TREE,  # with origin="go.sum database tree"
        GO_TREE.replace(b"123456789012", b"0xabcdef"),  # Go's bad size
        GO_TREE.replace(b"Bb0=", b"BTOOBIG="),  # Go's bad hash
        GO_TREE.replace(b"123456789012", b"0123456789012"),
        GO_TREE.replace(b"123456789012", b"+123456789012"),
        GO_TREE.replace(b"123456789012", b"-1"),
        GO_TREE.replace(b"123456789012", "١٢".encode()),  # non-ASCII digits
        GO_TREE.replace(b"123456789012", b"9223372036854775808"),  # 2**63
        GO_TREE.replace(b"Bb0=", b"Bb1="),  # non-canonical trailing bits
        GO_TREE.replace(b"+", b"-"),  # URL-safe alphabet
        GO_TREE.replace(b"=\n", b"\n"),  # missing padding
        GO_TREE[:-1],
        GO_TREE + b"\n",
        GO_TREE + b"extension without newline",
        b"go.sum database tree\n123456789012\n",
        b"\ngo.sum database tree\n123456789012\n" + ROOT_B64.encode() + b"\n",
        GO_TREE.replace(b"go.sum", b"go\x01sum"),
        b"\xff" + GO_TREE,
    ],
)
def test_parse_checkpoint_is_strict(body: bytes) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body, origin="go.sum database tree" if body.startswith(b"not-") else None)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": ""},
        {"origin": "a\nb"},
        {"size": -1},
        {"size": 2**63},
        {"root": b"\x00" * 31},
        {"extensions": ("",)},
        {"extensions": ("a\nb",)},
    ],
)
def test_checkpoint_refuses_values_that_cannot_round_trip(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"origin": "o", "size": 1, "root": b"\x00" * 32, **kwargs}
    with pytest.raises(NoteError):
        Checkpoint(**fields)  # type: ignore[arg-type]


def test_verify_note_rejects_public_key_of_wrong_length() -> None:
    with pytest.raises(NoteError, match="32 bytes"):
        verify_note(TEXT + b"\n" + PETER_SIG, "PeterNeumann", b"\x00" * 31)


# Properties over random checkpoints and keys.

names = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="+"),
    min_size=1,
    max_size=30,
)
lines = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF), min_size=1, max_size=40)
checkpoints = st.builds(
    Checkpoint,
    origin=lines,
    size=st.integers(0, 2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(lines, max_size=3).map(tuple),
)
private_keys = st.binary(min_size=32, max_size=32).map(Ed25519PrivateKey.from_private_bytes)


@given(checkpoints)
def test_checkpoint_body_round_trips(checkpoint: Checkpoint) -> None:
    assert parse_checkpoint(checkpoint.body()) == checkpoint


@given(checkpoints, names, private_keys)
def test_signed_checkpoint_verifies_with_its_key_only(
    checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey
) -> None:
    note = sign_note(checkpoint.body(), name, private_key)
    public_key = private_key.public_key().public_bytes_raw()
    assert parse_checkpoint(verify_note(note, name, public_key)) == checkpoint
    assert parse_verifier_key(verifier_key(name, public_key)) == (name, public_key)
    other = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key().public_bytes_raw()
    if other != public_key:
        with pytest.raises(NoteError, match="no signature"):
            verify_note(note, name, other)


@given(checkpoints, private_keys, st.data())
def test_tampered_note_never_yields_a_different_text(
    checkpoint: Checkpoint, private_key: Ed25519PrivateKey, data: st.DataObject
) -> None:
    body = checkpoint.body()
    note = bytearray(sign_note(body, "aura.example/ledger", private_key))
    position = data.draw(st.integers(0, len(note) - 1))
    note[position] = data.draw(st.integers(0, 255).filter(lambda b: b != note[position]))
    public_key = private_key.public_key().public_bytes_raw()
    # A flip inside base64 padding bits can leave the signature bytes unchanged, so the only
    # acceptable outcomes are an error or the original, untampered text.
    with contextlib.suppress(NoteError):
        assert verify_note(bytes(note), "aura.example/ledger", public_key) == body
