"""Upload validation: is this file a well-formed update for the task's model, and nothing else?

Checks run cheapest and safest first: the size cap, then the magic bytes (pickle and ZIP are
refused unopened), then the header against the task schema, and only then is tensor data decoded
and scanned for NaN/Inf. Nothing is allocated from a header value before it has been checked
against the bytes actually received.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shared.modeltask.schema import ACCEPTED_DTYPES, TensorSchema
from shared.tensors import (
    Header,
    TensorFormatError,
    file_sha256,
    load_arrays,
    parse_header,
    quote_name,
    tensor_sha256,
)


class UploadRejected(Exception):
    """An upload AURA refuses; ``code`` is stable for machines, ``message`` explains it to people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ValidatedUpdate:
    """An update that passed every check: its float32 tensors, both hashes and header metadata."""

    arrays: dict[str, NDArray[np.float32]]
    file_sha256: str
    tensor_sha256: str
    metadata: dict[str, str]


_MAX_NAMES_SHOWN = 10  # a hostile header can list thousands of names; the message stays short


def _names(names: set[str]) -> str:
    ordered = sorted(names)
    shown = ", ".join(quote_name(n) for n in ordered[:_MAX_NAMES_SHOWN])
    more = len(ordered) - _MAX_NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _check_against_schema(header: Header, schema: TensorSchema) -> None:
    """Refuse unexpected or missing tensors, refused dtypes and wrong shapes, from the header alone."""
    expected = schema.by_name()
    extra = set(header.tensors) - set(expected)
    if extra:
        raise UploadRejected("unexpected_tensor", f"tensor(s) not in the task's model: {_names(extra)}")
    missing = set(expected) - set(header.tensors)
    if missing:
        raise UploadRejected("missing_tensor", f"missing tensor(s): {_names(missing)}")
    for name in sorted(expected):
        info = header.tensors[name]
        if info.dtype not in ACCEPTED_DTYPES:
            raise UploadRejected(
                "dtype_not_accepted",
                f"tensor {name!r} is {info.dtype}; accepted dtypes are {', '.join(sorted(ACCEPTED_DTYPES))}",
            )
        if info.shape != expected[name].shape:
            raise UploadRejected(
                "shape_mismatch",
                f"tensor {name!r} has shape {list(info.shape)}; the task expects {list(expected[name].shape)}",
            )


def _check_finite(arrays: dict[str, NDArray[np.float32]]) -> None:
    for name in sorted(arrays):
        arr = arrays[name]
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        if n_nan or n_inf:
            raise UploadRejected(
                "non_finite",
                f"tensor {name!r} has {n_nan} NaN and {n_inf} infinite value(s) out of {arr.size}",
            )


def validate_update(
    data: bytes, schema: TensorSchema, *, max_header_bytes: int, max_upload_bytes: int
) -> ValidatedUpdate:
    """Check an uploaded safetensors file against a task schema; raise UploadRejected if unfit."""
    if len(data) > max_upload_bytes:
        raise UploadRejected("too_large", f"the upload is {len(data)} bytes; the limit is {max_upload_bytes}")
    try:
        # parse_header sniffs pickle/ZIP magic bytes before it reads the header.
        header = parse_header(data, max_header_bytes=max_header_bytes)
    except TensorFormatError as exc:
        raise UploadRejected(exc.code, exc.message) from exc
    _check_against_schema(header, schema)
    # Every dtype is now F32/F16/BF16, which load_arrays decodes to float32.
    arrays: dict[str, NDArray[np.float32]] = load_arrays(data, header)
    _check_finite(arrays)
    return ValidatedUpdate(
        arrays=arrays,
        file_sha256=file_sha256(data),
        tensor_sha256=tensor_sha256(arrays),
        metadata=dict(header.metadata),
    )
