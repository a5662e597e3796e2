"""Safetensors I/O and hashing for model updates, never unpickled.

The header is checked here by hand, before the safetensors library sees a byte of it: intake must
judge a file from its header as soon as that arrives (sizes, dtypes, shapes, offsets), with caps
that bound what a hostile header can make AURA allocate. The library then decodes and encodes.

The safetensors layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the
data section. The JSON maps tensor names to ``{"dtype", "shape", "data_offsets": [begin, end]}``
(offsets relative to the data section) plus an optional ``"__metadata__"`` str -> str map.

Every check runs on the header before any tensor memory is touched, so a hostile header can never
make AURA allocate more than the bytes the file really holds.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Bytes per element of each safetensors dtype.
DTYPE_SIZES: Mapping[str, int] = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}

# The numpy dtypes a file may be written from (safetensors has no complex, object or string tensors).
_WRITE_DTYPES = frozenset(np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.float16, np.int32,
                                                 np.uint32, np.float32, np.float64, np.int64, np.uint64))

METADATA_KEY = "__metadata__"
_ENTRY_KEYS = frozenset({"dtype", "shape", "data_offsets"})
# numpy 1.x supports at most 32 dimensions; a deeper shape would crash reshape later. No model
# tensor comes near this.
_MAX_NDIM = 32
# Longest tensor name quoted in an error message, so a hostile header cannot flood the logs.
_MAX_SHOWN_NAME = 80

# Prefixes that only pickle streams start with: protocol 2+ (PROTO opcode and version byte),
# protocol 0/1 dicts and lists, and a GLOBAL opcode naming a module (``cos\nsystem``,
# ``c__builtin__\n...``, ``ccopy_reg\n...``), which is how pickles reach arbitrary code.
_PICKLE_PREFIX = re.compile(
    rb"\A(?:\x80[\x01-\x05]|\((?:dp|lp|tp|c[A-Za-z_]|i[A-Za-z_]|I\d|S'|V|N)|[}\]](?:q|r|\()"
    rb"|c[A-Za-z_][A-Za-z0-9_.]*\n[A-Za-z_])"
)
# Local file header, empty archive and spanned archive: torch.save writes a ZIP since torch 1.6.
_ZIP_PREFIXES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

_TENSOR_HASH_TAG = b"AURA-TENSORS-V1\n"


class TensorFormatError(ValueError):
    """A file is not a well-formed safetensors file; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class TensorInfo:
    """One tensor's entry in a validated header; offsets are relative to the data section."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(frozen=True)
class Header:
    """A validated safetensors header: tensors by name, metadata, where the data section starts."""

    tensors: Mapping[str, TensorInfo]
    metadata: Mapping[str, str]
    data_start: int


def quote_name(name: str) -> str:
    """A tensor name quoted for an error message, shortened if a hostile header made it huge."""
    if len(name) > _MAX_SHOWN_NAME:
        name = name[:_MAX_SHOWN_NAME] + "..."
    return repr(name)


def _as_bytes_view(data: bytes | memoryview) -> memoryview:
    view = memoryview(data)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def _looks_like_safetensors(view: memoryview) -> bool:
    """True when the prefix is a header length that fits the file and the header opens a JSON object.

    Some pickle/ZIP signatures are also valid header lengths (0x80 is 128); this keeps such a real
    safetensors file from being refused by the magic-byte sniff.
    """
    (n,) = struct.unpack("<Q", view[:8])
    return 8 + n <= len(view) and n >= 2 and view[8] == ord("{")


def refuse_foreign_formats(data: bytes | memoryview) -> None:
    """Raise ``pickle_refused`` / ``zip_refused`` if the bytes are a pickle or ZIP (torch.save) file."""
    view = _as_bytes_view(data)
    head = bytes(view[:64])
    if len(view) >= 8 and _looks_like_safetensors(view):
        return
    if head.startswith(_ZIP_PREFIXES):
        raise TensorFormatError(
            "zip_refused",
            "this is a ZIP archive (what torch.save writes); AURA accepts safetensors only and never "
            "opens pickle-based files. Save the weights with safetensors (save_file).",
        )
    if _PICKLE_PREFIX.match(head):
        raise TensorFormatError(
            "pickle_refused",
            "this is a Python pickle; AURA accepts safetensors only and never opens pickle files, "
            "because loading one can run arbitrary code. Save the weights with safetensors (save_file).",
        )


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would keep the last of two equal keys silently; another reader might keep the
    # first, so a duplicate could make AURA vet different weights than a client later loads.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise TensorFormatError("duplicate_key", f"header JSON repeats the key {quote_name(key)}")
        out[key] = value
    return out


def _is_int(value: object) -> bool:
    # bool is an int subclass in Python, but JSON true/false is never a valid size or offset.
    return isinstance(value, int) and not isinstance(value, bool)


def _nbytes_up_to(shape: tuple[int, ...], itemsize: int, cap: int) -> int | None:
    """Bytes a tensor of this shape needs, or None if more than ``cap``.

    Stops multiplying once past the cap so a header of huge dimensions cannot make us spend time
    on enormous integers.
    """
    if 0 in shape:
        return 0
    n = itemsize
    for dim in shape:
        n *= dim
        if n > cap:
            return None
    return n


def _parse_entry(name: str, entry: object) -> TensorInfo:
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        raise TensorFormatError(
            "bad_entry",
            f"tensor {quote_name(name)}: entry must be an object with exactly the keys dtype, shape, data_offsets",
        )
    dtype = entry["dtype"]
    if not isinstance(dtype, str) or dtype not in DTYPE_SIZES:
        raise TensorFormatError(
            "bad_dtype",
            f"tensor {quote_name(name)}: unknown dtype {dtype!r:.40}; expected one of {', '.join(DTYPE_SIZES)}",
        )
    raw_shape = entry["shape"]
    if not isinstance(raw_shape, list) or not all(_is_int(d) and d >= 0 for d in raw_shape):
        raise TensorFormatError(
            "bad_shape",
            f"tensor {quote_name(name)}: shape must be a list of non-negative integers",
        )
    if len(raw_shape) > _MAX_NDIM:
        raise TensorFormatError(
            "bad_shape", f"tensor {quote_name(name)}: {len(raw_shape)} dimensions; at most {_MAX_NDIM} allowed"
        )
    shape = tuple(raw_shape)
    offsets = entry["data_offsets"]
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_int(o) and o >= 0 for o in offsets)
        or offsets[0] > offsets[1]
    ):
        raise TensorFormatError(
            "bad_offsets",
            f"tensor {quote_name(name)}: data_offsets must be [begin, end] with 0 <= begin <= end",
        )
    begin, end = offsets
    held = end - begin
    # Any cap above `held` decides the check; 2**64 keeps the exact need in the message for
    # every shape a real file could have.
    cap = max(held, 1 << 64)
    needed = _nbytes_up_to(shape, DTYPE_SIZES[dtype], cap)
    if needed != held:
        need_text = f"{needed} bytes" if needed is not None else f"more than {cap} bytes"
        raise TensorFormatError(
            "size_mismatch",
            f"tensor {quote_name(name)}: data_offsets [{begin}, {end}] hold {held} bytes "
            f"but {dtype} shape {list(shape)} needs {need_text}",
        )
    return TensorInfo(name=name, dtype=dtype, shape=shape, begin=begin, end=end)


def _check_layout(tensors: list[TensorInfo], data_len: int) -> None:
    """Tensors must tile the data section exactly: no overlap, no gap, nothing past the end or after."""
    ordered = sorted(tensors, key=lambda t: (t.begin, t.end))
    gap: tuple[TensorInfo, int] | None = None
    expected = 0
    for i, t in enumerate(ordered):
        if t.begin < expected:
            prev = ordered[i - 1]
            raise TensorFormatError(
                "overlapping_offsets",
                f"tensors {quote_name(prev.name)} [{prev.begin}, {prev.end}] and "
                f"{quote_name(t.name)} [{t.begin}, {t.end}] overlap",
            )
        if t.begin > expected and gap is None:
            gap = (t, expected)
        expected = t.end
    extent = expected
    if extent > data_len:
        if gap is None:
            # A well-packed layout that simply ends beyond the file: the upload was cut short.
            raise TensorFormatError(
                "truncated",
                f"the header describes {extent} bytes of tensor data but only {data_len} follow it; "
                "the file is truncated",
            )
        last = ordered[-1]
        raise TensorFormatError(
            "offsets_past_end",
            f"tensor {quote_name(last.name)}: data_offsets [{last.begin}, {last.end}] run past the end "
            f"of the {data_len}-byte data section",
        )
    if gap is not None:
        t, prev_end = gap
        raise TensorFormatError(
            "offsets_gap",
            f"tensor {quote_name(t.name)} starts at {t.begin} but the previous tensor ends at "
            f"{prev_end}; safetensors requires tensors to be packed without gaps",
        )
    if extent < data_len:
        raise TensorFormatError(
            "trailing_bytes",
            f"{data_len - extent} bytes after the last tensor's data; the file must end there",
        )


def parse_header(data: bytes | memoryview, *, max_header_bytes: int) -> Header:
    """Validate a safetensors file's header and layout without decoding any tensor data."""
    view = _as_bytes_view(data)
    if len(view) == 0:
        raise TensorFormatError("empty_file", "the file is empty")
    if len(view) < 8:
        raise TensorFormatError(
            "truncated",
            f"the file is {len(view)} bytes; a safetensors file starts with an 8-byte header length",
        )
    refuse_foreign_formats(view)
    (header_len,) = struct.unpack("<Q", view[:8])
    if header_len > max_header_bytes:
        raise TensorFormatError("header_too_large", f"header is {header_len} bytes; the limit is {max_header_bytes}")
    data_start = 8 + header_len
    if data_start > len(view):
        raise TensorFormatError(
            "header_past_end",
            f"header length {header_len} runs past the end of the {len(view)}-byte file",
        )
    try:
        parsed = json.loads(bytes(view[8:data_start]).decode("utf-8"), object_pairs_hook=_reject_duplicate_keys)
    except TensorFormatError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers longer than Python's digit limit;
        # RecursionError a deeply nested hostile header.
        raise TensorFormatError("header_not_json", f"header is not valid UTF-8 JSON ({type(exc).__name__})") from None
    if not isinstance(parsed, dict):
        raise TensorFormatError("header_not_object", f"header JSON is a {type(parsed).__name__}, not an object")
    metadata = parsed.pop(METADATA_KEY, {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise TensorFormatError("bad_metadata", f"{METADATA_KEY} must map strings to strings")
    tensors = [_parse_entry(name, entry) for name, entry in parsed.items()]
    _check_layout(tensors, len(view) - data_start)
    return Header(tensors={t.name: t for t in tensors}, metadata=dict(metadata), data_start=data_start)


def load_arrays(data: bytes | memoryview, header: Header) -> dict[str, NDArray[Any]]:
    """Decode every tensor of a file `parse_header` accepted: F32/F16/BF16 to float32, other dtypes to numpy's.

    The safetensors library decodes (through torch, which has BF16); the header was checked first,
    so it only ever sees a layout already known to be sound.
    """
    import safetensors.torch
    import torch

    loaded = safetensors.torch.load(bytes(data))
    arrays: dict[str, NDArray[Any]] = {}
    for name, t in header.tensors.items():
        tensor = loaded[name]
        if t.dtype in ("F32", "F16", "BF16"):
            arrays[name] = tensor.to(torch.float32).numpy()
        elif t.dtype == "BOOL":  # any non-zero byte is true; torch's bool of another byte is undefined
            arrays[name] = tensor.view(torch.uint8).numpy() != 0
        else:
            arrays[name] = tensor.numpy()
    return arrays


def dump_arrays(arrays: Mapping[str, NDArray[Any]], metadata: dict[str, str] | None = None) -> bytes:
    """Serialise arrays to safetensors bytes with the safetensors library (its reference layout)."""
    import safetensors.numpy

    little: dict[str, NDArray[Any]] = {}
    for name, value in arrays.items():
        arr = np.asarray(value)
        if name == METADATA_KEY:
            raise ValueError(f"{METADATA_KEY} is reserved and cannot name a tensor")
        if arr.dtype.newbyteorder("=") not in _WRITE_DTYPES:  # the library would write others too
            raise ValueError(f"tensor {name!r}: numpy dtype {arr.dtype} has no safetensors equivalent")
        little[name] = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return bytes(safetensors.numpy.save(little, metadata=metadata))


def file_sha256(data: bytes | memoryview) -> str:
    """SHA-256 (hex) of the exact file bytes: what a hospital signs."""
    return hashlib.sha256(data).hexdigest()


def tensor_sha256(arrays: Mapping[str, NDArray[Any]]) -> str:
    """SHA-256 (hex) of AURA's canonical tensor encoding (v1), used to deduplicate updates.

    Values are first widened to float32: F16 and BF16 (already decoded to float32 by
    ``load_arrays``) convert exactly, so the same weights sent as F16, BF16 or F32 hash the same.
    Any dtype that does not fit float32 exactly (F64, integers, bool) raises ``ValueError`` rather
    than being narrowed, so two different inputs can never share a hash through rounding.

    The hashed byte string (all integers are unsigned 64-bit little-endian, ``u64``):

        b"AURA-TENSORS-V1\\n"
        u64(number of tensors)
        then for each tensor, in ascending order of the UTF-8 bytes of its name:
            u64(len(name_utf8)) name_utf8
            u64(len(b"F32")) b"F32"
            u64(ndim) u64(dim_0) ... u64(dim_{ndim-1})
            u64(len(data)) data   -- float32 little-endian values in C (row-major) order

    Every variable-length field is length-prefixed, so the encoding is injective: no two
    different inputs produce the same byte string. NaN payloads and -0.0 are hashed as raw bits.
    """
    encoded: list[tuple[bytes, NDArray[np.float32]]] = []
    for name, value in arrays.items():
        arr = np.asarray(value)
        if arr.dtype.kind != "f" or arr.dtype.itemsize > 4:
            raise ValueError(f"tensor {name!r}: dtype {arr.dtype} is not exactly representable as float32")
        encoded.append((name.encode("utf-8"), np.ascontiguousarray(arr, dtype="<f4")))
    encoded.sort(key=lambda item: item[0])
    h = hashlib.sha256(_TENSOR_HASH_TAG)
    h.update(struct.pack("<Q", len(encoded)))
    for name_bytes, arr in encoded:
        h.update(struct.pack("<Q", len(name_bytes)) + name_bytes)
        h.update(struct.pack("<Q", 3) + b"F32")
        h.update(struct.pack(f"<{1 + arr.ndim}Q", arr.ndim, *arr.shape))
        h.update(struct.pack("<Q", arr.nbytes))
        h.update(arr.data)
    return h.hexdigest()
